"""Shared fixtures: sample letters, an isolated environment, a built sample index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imr_assist.samples import sample_paths
from tests.openai_server import openai_server  # noqa: F401  (fixture)

SAMPLES = sample_paths()


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep tests away from the user's environment, home and keys."""
    for var in list(os.environ):
        if var.startswith(("IMR_ASSIST_", "OPENAI_")):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def sample_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in SAMPLES}


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the five sample letters, built once per test session."""
    from imr_assist.index.ingest import ingest
    from imr_assist.samples import samples_dir
    from imr_assist.settings import Settings

    root = tmp_path_factory.mktemp("sample-index")
    report = ingest([str(samples_dir())], Settings(index_dir=root))
    assert report.failed == 0 and report.letters_indexed == 5
    return root
