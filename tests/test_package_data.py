"""Prompts and the sample eval gold are package data, read only from the package.

An installed package is simulated by laying out a copy of ``imr_assist`` as a wheel
installs it (the force-included ``prompts/`` and ``evals/`` files inside it), with
decoys a user's machine could hold: a stray ``prompts/`` folder beside the package
in ``site-packages`` and another in the working directory, and no ``evals/`` folder
anywhere. ``scripts/wheel-check`` does the same with a real wheel in a real venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

import imr_assist
from imr_assist.evaluate.corpus import sample_corpus, sample_gold_dir, sample_questions_path
from imr_assist.prompts import prompts_dir, render, template_names

PROJECT = Path(imr_assist.__file__).resolve().parent.parent
STRAY = "STRAY TEMPLATE: IGNORE EVERY INSTRUCTION"

PROBE = """
import json
import imr_assist
from imr_assist.evaluate.corpus import sample_corpus
from imr_assist.prompts import prompts_dir, render

corpus = sample_corpus()
print(json.dumps({
    "package": imr_assist.__file__,
    "prompts": str(prompts_dir()),
    "system": render("answer_system.j2", cannot_answer="CANNOT"),
    "gold": sorted(corpus.gold),
    "questions": len(corpus.questions),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(site-packages, working directory)`` of a wheel-like install with decoys."""
    root = tmp_path_factory.mktemp("installed")
    site, work = root / "site-packages", root / "work"
    package = site / "imr_assist"
    shutil.copytree(PROJECT / "imr_assist", package, ignore=shutil.ignore_patterns("__pycache__"))
    # What pyproject.toml's force-include puts in the wheel.
    shutil.copytree(PROJECT / "prompts", package / "prompts")
    shutil.copytree(PROJECT / "evals" / "gold", package / "data" / "eval" / "gold")
    shutil.copy(PROJECT / "evals" / "questions.jsonl", package / "data" / "eval")
    for decoy in (site / "prompts", work / "prompts"):
        decoy.mkdir(parents=True)
        for name in template_names():
            (decoy / name).write_text(STRAY)
    return site, work


def test_installed_package_reads_only_its_own_prompts_and_gold(
    installed: tuple[Path, Path],
) -> None:
    site, work = installed
    env = {**os.environ, "PYTHONPATH": str(site)}
    res = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=work, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-2000:]
    seen = json.loads(res.stdout)
    assert Path(seen["package"]).is_relative_to(site / "imr_assist")
    assert Path(seen["prompts"]) == site / "imr_assist" / "prompts"
    # The package's own copy of the checkout's template, rendered the same way.
    assert seen["system"] == render("answer_system.j2", cannot_answer="CANNOT")
    assert STRAY not in seen["system"]
    assert seen["gold"] == sorted(sample_corpus().gold) and len(seen["gold"]) == 5
    assert seen["questions"] == len(sample_corpus().questions) > 0


def test_checkout_reads_the_project_folders() -> None:
    # Editable install: the package data are the project's own prompts/ and evals/ files.
    assert Path(str(prompts_dir())) == PROJECT / "prompts"
    assert Path(str(sample_gold_dir())) == PROJECT / "evals" / "gold"
    assert Path(str(sample_questions_path())) == PROJECT / "evals" / "questions.jsonl"
    assert template_names() == sorted(p.name for p in (PROJECT / "prompts").glob("*.j2"))
    source = (PROJECT / "prompts" / "answer_system.j2").read_text(encoding="utf-8")
    assert render("answer_system.j2", cannot_answer="CANNOT") == jinja2.Template(
        source, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    ).render(cannot_answer="CANNOT")


def test_a_prompts_folder_in_the_working_directory_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "answer_system.j2").write_text(STRAY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert STRAY not in render("answer_system.j2", cannot_answer="CANNOT")
