"""The bundled sample letters (five real, redacted IMR determinations)."""

from __future__ import annotations

from pathlib import Path


def samples_dir() -> Path:
    return Path(__file__).resolve().parent / "data" / "samples"


def sample_paths() -> list[Path]:
    return sorted(samples_dir().glob("*.txt"))
