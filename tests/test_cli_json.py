"""``--json`` on every command, Markdown for terminals and raw when piped, and the
partial-certification wording of digests."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from imr_assist.cli import _register, app
from imr_assist.cli import reports as reports_cli
from imr_assist.samples import sample_paths

_register()
runner = CliRunner()
SAMPLE = str(sample_paths()[2])  # 002_e328b17b076ffef4: an underscore Markdown escapes
REAL_PARTIAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters" / "CM16-0234202.pdf"


def _run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["extract", SAMPLE], id="extract"),
        pytest.param(["digest", SAMPLE], id="digest"),
    ],
)
def test_json_flag_is_format_json(command: list[str]) -> None:
    flag = json.loads(_run(*command, "--json"))
    assert flag == json.loads(_run(*command, "--format", "json"))


def test_chat_json_answers_one_line_per_question_with_follow_ups(sample_index: Path) -> None:
    questions = "How many Norco requests were upheld?\nand Soma?\n/reset\nWhy was Xanax upheld?\n"
    lines = _run("chat", "--json", "--llm", "none", "--index", str(sample_index), stdin=questions)
    answers = [json.loads(line) for line in lines.splitlines()]
    assert [a["question"] for a in answers] == [
        "How many Norco requests were upheld?",
        "and Soma?",
        "Why was Xanax upheld?",
    ]
    asked = _run("ask", "How many Norco requests were upheld?", "--json", "--llm", "none",
                 "--index", str(sample_index))  # fmt: skip
    assert set(answers[0]) == set(json.loads(asked))
    # The follow-up kept the question and its decision, and swapped the treatment.
    assert answers[1]["filters"]["treatment"] == ["Soma"]
    assert answers[1]["filters"]["decision"] == "upheld"
    assert answers[2]["filters"]["treatment"] == ["Xanax"]


def test_markdown_is_raw_when_piped_and_rendered_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    piped = _run("digest", SAMPLE)  # CliRunner's stdout is not a terminal
    assert "002\\_e328b17b076ffef4" in piped
    screen = io.StringIO()
    monkeypatch.setattr(reports_cli, "out", Console(file=screen, force_terminal=True, width=120))
    reports_cli._show(piped, "md")
    shown = screen.getvalue()
    assert "002_e328b17b076ffef4" in shown
    assert "\\_" not in shown and "\\&" not in shown and "| Field |" not in shown


@pytest.mark.skipif(not REAL_PARTIAL.is_file(), reason=f"{REAL_PARTIAL} not found")
def test_digest_says_partial_certification() -> None:
    wording = (
        "Partial certification: the part IMR decided; Norco 10/325mg #60 was the original "
        "request; Norco 10/325mg #25 already authorized."
    )
    md = _run("digest", str(REAL_PARTIAL))
    assert wording.replace("#", "\\#") in md or wording in md
    item = json.loads(_run("digest", str(REAL_PARTIAL), "--json"))["items"][0]
    assert (item["original_request"], item["authorized_portion"], item["partial_note"]) == (
        "Norco 10/325mg #60",
        "Norco 10/325mg #25",
        wording,
    )
    whole = json.loads(_run("digest", SAMPLE, "--json"))["items"]
    assert all(i["partial_note"] is None for i in whole)
