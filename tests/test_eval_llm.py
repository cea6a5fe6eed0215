"""``imr-assist eval --llm MODEL``: both writers side by side, through the local server.

The figures for a real model are a benchmark (evals/results/llm-*.json); here the
server plays a rule-following model and a refusing one, so the report's arithmetic
and the never-worse rule are checked end to end (real parser, Chroma, embedder,
openai client over HTTP).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_assist.cli import _register, app
from imr_assist.evaluate.llm_eval import report_from_rows, to_markdown
from tests.openai_server import OpenAITestServer, Reply, follow_facts, refuse

_register()

#: One question of each of these kinds from the sample eval.
KINDS = ("why_upheld", "count", "list", "unanswerable")


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [json.loads(line) for line in Path("evals/questions.jsonl").read_text().splitlines()]
    picked = [next(r for r in rows if r["kind"] == kind) for kind in KINDS]
    path = tmp_path_factory.mktemp("llm-eval") / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in picked))
    return path


def run_eval(server: OpenAITestServer, questions: Path, out: Path) -> dict:  # type: ignore[type-arg]
    args = ["eval", "--llm", "test-model", "--questions", str(questions)]
    args += ["--json", str(out / "r.json"), "--markdown", str(out / "r.md")]
    result = CliRunner().invoke(app, args, env=server.env())
    assert result.exit_code == 0, result.output
    assert "answers right" in result.stdout
    return json.loads((out / "r.json").read_text())


def test_rule_following_model_is_shown_and_never_worse(
    openai_server: OpenAITestServer, questions: Path, tmp_path: Path
) -> None:
    openai_server.script([Reply(behaviour=follow_facts)] * 8)
    report = run_eval(openai_server, questions, tmp_path)
    llm, ex = report["metrics"]["llm"], report["metrics"]["extractive"]
    assert llm["questions"] == ex["questions"] == len(KINDS)
    assert llm["answers_right"] >= ex["answers_right"]
    assert llm["asked"] == len(openai_server.chat_requests) >= 3
    assert llm["verified_rate"] == 1.0 and llm["fallback_rate"] == 0.0
    assert llm["prompt_tokens_total"] > 0 and llm["latency_p50_s"] is not None
    md = (tmp_path / "r.md").read_text()
    assert "| answers right |" in md and "test-model" in md


def test_refusing_model_never_replaces_a_right_answer(
    openai_server: OpenAITestServer, questions: Path, tmp_path: Path
) -> None:
    openai_server.script([Reply(behaviour=refuse)] * 8)
    report = run_eval(openai_server, questions, tmp_path)
    llm, ex = report["metrics"]["llm"], report["metrics"]["extractive"]
    assert llm["answers_right"] == ex["answers_right"]
    assert llm["right_replaced_by_refusal"] == 0
    assert llm["refusals"] == llm["asked"] >= 3
    assert report["fallback_reasons"].get("refusal", 0) >= 2


def test_rows_are_written_as_asked_round_robin_and_reported_in_file_order(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    # Two questions of each of two kinds, grouped by kind as the eval file is.
    rows = [json.loads(line) for line in Path("evals/questions.jsonl").read_text().splitlines()]
    picked = [r for r in rows if r["kind"] == "count"][:2]
    picked += [r for r in rows if r["kind"] == "unanswerable"][:2]
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in picked))
    openai_server.script([Reply(behaviour=follow_facts)] * 8)
    report = run_eval(openai_server, questions, tmp_path)
    asked = [
        json.loads(line)["id"] for line in (tmp_path / "r.rows.jsonl").read_text().splitlines()
    ]
    ids = [r["id"] for r in picked]
    assert asked == [ids[0], ids[2], ids[1], ids[3]]
    assert [q["id"] for q in report["questions"]] == ids
    # A run stopped after two questions: both writers scored on those two only.
    first = [json.loads(line) for line in (tmp_path / "r.rows.jsonl").read_text().splitlines()][:2]
    partial = report_from_rows(
        first, model="m", endpoint="e", corpus=report["corpus"], seconds=1.0
    ).to_json()
    assert (
        partial["metrics"]["llm"]["questions"] == partial["metrics"]["extractive"]["questions"] == 2
    )
    assert (partial["corpus"]["questions"], partial["corpus"]["questions_asked"]) == (4, 2)
    assert "2 questions of 4" in to_markdown(
        report_from_rows(first, model="m", endpoint="e", corpus=report["corpus"], seconds=1.0)
    )
