"""The README's eval table is the one ``scripts/readme-figures`` writes from the
committed results file (``evals/results/eval-samples.json``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "readme-figures"


def _check(readme: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--readme", str(readme), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_readme_table_matches_the_committed_results() -> None:
    done = _check(ROOT / "README.md")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_stale_figure_fails_the_check_and_a_rewrite_fixes_it(tmp_path: Path) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("| answers correct |"))
    stale = tmp_path / "README.md"
    stale.write_text(text.replace(line, "| answers correct | 0.123 | 0.208 |"), encoding="utf-8")
    done = _check(stale)
    assert done.returncode == 1 and "0.123" in done.stdout and line in done.stdout
    subprocess.run([sys.executable, str(SCRIPT), "--readme", str(stale)], check=True, timeout=60)
    assert stale.read_text(encoding="utf-8") == text
