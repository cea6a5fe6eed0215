"""``imr-assist eval`` end to end: real parser, real Chroma, the bundled model.

Two eval runs for the whole module: a small corpus built from three sample letters
(their hand-checked gold and questions written here) into an index folder, judged
through the real openai client by the local test server; then the default corpus
(all five samples, ``evals/``) reusing that index, compared to the first report and
gated.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from imr_assist.cli import _register, app, main
from imr_assist.evaluate import METRICS, NaivePipeline
from imr_assist.evaluate.corpus import sample_gold_dir
from imr_assist.evaluate.report import flatten
from imr_assist.index.embed import default_embedder
from imr_assist.samples import sample_paths
from imr_assist.text import clean
from tests.openai_server import OpenAITestServer

_register()

LETTERS = ["000_1f8f4c257f6088b3", "002_e328b17b076ffef4", "004_c3a84b1ea5686096"]
L0, L2, L4 = LETTERS
NORCO_UPHELD = [(L0, 0), (L4, 0)]
NORCO_ALL = [(L0, 0), (L2, 0), (L4, 0)]
OVERTURNED = [(L2, 0), (L4, 1), (L4, 2), (L4, 3)]


def _q(qid: str, text: str, kind: str, items: list[tuple[str, int]], **gold: object) -> dict:
    return {
        "id": qid,
        "question": text,
        "kind": kind,
        "answerable": kind != "unanswerable",
        "items": [{"doc_id": d, "index": i} for d, i in items],
        "decision": None,
        "count": None,
        "share": None,
        "reasons": [],
        **gold,
    }


QUESTIONS = [
    _q(
        "t01",
        "Why are Norco requests upheld?",
        "why_upheld",
        NORCO_UPHELD,
        reasons=[
            "worsening_or_no_efficacy",
            "not_a_weaning_request",
            "long_term_use_not_recommended",
            "exceeds_med_ceiling",
        ],
    ),
    _q(
        "t02",
        "Why was Butrans overturned?",
        "why_overturned",
        [(L4, 3)],
        reasons=["documented_improvement", "guideline_criteria_met"],
    ),
    _q("t03", "What was decided on Xanax?", "decision", [(L2, 1)], decision="upheld"),
    _q("t04", "How many Norco requests were upheld?", "count", NORCO_UPHELD, count=2),
    _q(
        "t05",
        "What share of Norco requests were overturned?",
        "share",
        NORCO_ALL,
        share=0.3333,
    ),
    _q("t06", "Which requests were overturned?", "list", OVERTURNED),
    _q("t07", "How do Norco and Butrans decisions differ?", "compare", [*NORCO_ALL, (L4, 3)]),
    _q("t08", "Summarise the Xanax case", "summary", [(L2, 0), (L2, 1)]),
    _q("t09", "Was Lyrica approved?", "unanswerable", []),
    _q("t10", "What is the expert reviewer's name?", "unanswerable", []),
]
ANSWERABLE_SHARE = 0.8  # 8 of the 10 questions


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    report: dict


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    corpus = root / "corpus"
    (corpus / "letters").mkdir(parents=True)
    (corpus / "gold").mkdir()
    by_stem = {p.stem: p for p in sample_paths()}
    for stem in LETTERS:
        shutil.copy(by_stem[stem], corpus / "letters" / f"{stem}.txt")
        gold = (sample_gold_dir() / f"{stem}.json").read_text(encoding="utf-8")
        (corpus / "gold" / f"{stem}.json").write_text(gold, encoding="utf-8")
    (corpus / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return root


def _clean_env(**values: str) -> dict[str, str | None]:
    """Unset the user's own settings for a run (module fixtures run outside _isolated_env)."""
    env: dict[str, str | None] = {
        var: None for var in os.environ if var.startswith(("IMR_ASSIST_", "OPENAI_"))
    }
    env.update(values)
    return env


def _invoke(args: list[str], json_path: Path, **env: str) -> Run:
    result = CliRunner().invoke(app, args, env=_clean_env(**env))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    report = json.loads(json_path.read_text()) if json_path.exists() else {}
    return Run(result.exit_code, result.stdout, result.stderr, report)


@pytest.fixture(scope="module")
def judge_server() -> Iterator[OpenAITestServer]:
    """A local OpenAI-compatible server whose judge says every citation supports its sentence."""
    server = OpenAITestServer(default_content="yes").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def first(workdir: Path, judge_server: OpenAITestServer) -> Run:
    """The small corpus into an index folder: passing gates, JSON, Markdown and the judge."""
    return _invoke(
        [
            "eval",
            "--corpus",
            str(workdir / "corpus"),
            "--index",
            str(workdir / "index"),
            "--json",
            str(workdir / "first.json"),
            "--markdown",
            str(workdir / "first.md"),
            "--fail-under",
            "citations.validity=1.0",
            "--fail-under",
            f"naive.answers.answered_precision={ANSWERABLE_SHARE}",
            "--judge",
            "judge-model",
        ],
        workdir / "first.json",
        OPENAI_BASE_URL=judge_server.base_url,
        OPENAI_API_KEY=judge_server.api_key,
    )


@pytest.fixture(scope="module")
def second(workdir: Path, first: Run) -> Run:
    """The default corpus (five samples, evals/) reusing the index, compared and gated."""
    return _invoke(
        [
            "eval",
            "--index",
            str(workdir / "index"),
            "--json",
            str(workdir / "second.json"),
            "--compare",
            str(workdir / "first.json"),
            "--fail-under",
            "citations.validity=1",
            "--fail-under",
            "naive.answers.abstention_accuracy=0.999",
        ],
        workdir / "second.json",
    )


def test_json_has_every_metric_for_both_pipelines(first: Run) -> None:
    assert first.exit_code == 0, first.stdout + first.stderr
    report = first.report
    assert report["corpus"]["letters"] == 3 and report["corpus"]["questions"] == len(QUESTIONS)
    imr = flatten(report["pipelines"]["imr_assist"])
    naive = flatten(report["pipelines"]["naive"])
    assert set(METRICS) <= set(imr) and set(METRICS) <= set(naive)
    assert set(METRICS) <= set(report["delta"])
    assert all(imr[m] is not None for m in METRICS), [m for m in METRICS if imr[m] is None]
    # the baseline extracts nothing; everything else is scored for it too
    assert all(v is None for m, v in naive.items() if m.startswith("extraction."))
    assert all(naive[m] is not None for m in METRICS if not m.startswith("extraction."))
    # The samples' parse matches the hand-checked gold.
    assert imr["extraction.item_f1"] == 1.0 and imr["extraction.decision_accuracy"] == 1.0
    # Both pipelines' citations are verbatim; the baseline never declines to answer.
    assert imr["citations.validity"] == 1.0 and naive["citations.validity"] == 1.0
    assert naive["answers.answered_precision"] == ANSWERABLE_SHARE
    assert naive["answers.abstention_accuracy"] == ANSWERABLE_SHARE
    assert naive["answers.by_kind.unanswerable"] == 0.0
    assert report["delta"]["answers.correct"] == pytest.approx(
        imr["answers.correct"] - naive["answers.correct"], abs=1e-6
    )
    rows = {q["id"]: q for q in report["questions"]}
    assert list(rows) == [q["id"] for q in QUESTIONS]
    for row in rows.values():
        for p in ("imr_assist", "naive"):
            assert {"answered", "correct", "answer", "retrieved", "retrieve_ms"} <= set(row[p])
        assert row["naive"]["answered"] is True
        assert len(row["naive"]["retrieved"]) == 10
    assert rows["t09"]["naive"]["correct"] is False  # answering the unanswerable is wrong


def test_judge_checks_cited_sentences(first: Run, judge_server: OpenAITestServer) -> None:
    report = first.report
    assert report["settings"]["judge"] == "judge-model"
    judged = [
        v for q in report["questions"] for p in ("imr_assist", "naive") for v in q[p]["judge"]
    ]
    assert judged and all(v["supported"] and v["reply"] == "yes" for v in judged)
    assert report["pipelines"]["imr_assist"]["citations"]["supported"] == 1.0
    assert report["support"]["naive"]["citations.supported"] > 0
    requests = judge_server.chat_requests
    assert requests and {r.body["model"] for r in requests} == {"judge-model"}
    # one request per distinct (sentence, cited quotes); each names its passages
    assert len(requests) <= len(judged)
    assert all("<passage n=" in r.messages[-1]["content"] for r in requests)


def test_table_and_markdown(first: Run, workdir: Path) -> None:
    assert "imr-assist" in first.stdout and "naive" in first.stdout
    assert "answers.correct" in first.stdout and "retrieval.mrr@10" in first.stdout
    md = (workdir / "first.md").read_text()
    assert "| metric | imr-assist | naive | delta |" in md
    imr = flatten(first.report["pipelines"]["imr_assist"])
    assert f"| citations.validity | {imr['citations.validity']:.3f} | 1.000 |" in md


def test_default_corpus_compares_and_fails_the_gate_it_should(second: Run, first: Run) -> None:
    assert second.report["corpus"]["name"] == "samples"
    assert second.report["corpus"]["letters"] == 5
    # the baseline answers every question, so it cannot abstain correctly on all of them
    assert second.exit_code == 1
    assert "naive.answers.abstention_accuracy" in second.stderr
    assert "is under 0.999" in second.stderr
    assert "citations.validity" not in second.stderr  # that gate passed
    assert "change against" in second.stdout
    before = flatten(first.report["pipelines"]["imr_assist"])["answers.correct"]
    now = flatten(second.report["pipelines"]["imr_assist"])["answers.correct"]
    line = next(
        x for x in second.stdout.splitlines() if "answers.correct" in x and "imr-assist" in x
    )
    assert f"{before:.3f}" in line and f"{now:.3f}" in line and f"{now - before:+.3f}" in line


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        pytest.param(
            "answers.corect=0.9",
            "unknown metric 'answers.corect'; did you mean answers.correct?",
            id="unknown",
        ),
        pytest.param("answers.correct=most", "'most' is not a number", id="value"),
    ],
)
def test_bad_fail_under_is_a_one_line_error(
    flag: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["imr-assist", "eval", "--fail-under", flag])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_missing_questions_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "letters").mkdir()
    shutil.copytree(str(sample_gold_dir()), tmp_path / "gold")
    monkeypatch.setattr(sys, "argv", ["imr-assist", "eval", "--corpus", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "questions.jsonl: questions file not found" in err


def test_naive_pipeline_cites_verbatim_and_padding_keeps_vectors(tmp_path: Path) -> None:
    paths = [p for p in sample_paths() if p.stem in (L0, L2)]
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    with NaivePipeline(tmp_path / "plain") as plain:
        report = plain.ingest(paths)
        assert report.letters == 2 and report.chunks >= 4
        assert plain.ingest(paths).duplicates == 2  # the same texts again: skipped
        answer = plain.answer("Why was Xanax denied?")
        assert answer.answered and len(answer.citations) == 5
        for c in answer.citations:
            raw = texts[c.doc_id][c.start : c.end]
            assert len(raw) <= 1000 and clean(raw).strip() == c.quote
            assert f"{c.quote} [{c.n}]" in answer.answer
        top = [(h.doc_id, h.start) for h in plain.search("Xanax alprazolam benzodiazepine", 3)]
    sample = [texts[L2][:1000], "Norco 10/325mg #60: Upheld"]
    padded = NaivePipeline(tmp_path / "padded", pad_to=256)
    try:
        vectors = padded.embed(sample)
        assert np.allclose(vectors, default_embedder().embed(sample), atol=1e-3)
        padded.ingest(paths)
        assert [
            (h.doc_id, h.start) for h in padded.search("Xanax alprazolam benzodiazepine", 3)
        ] == top
    finally:
        padded.close()
