"""Digests and stats over a real index of the bundled samples, through the library and the CLI.

The index is built once per module (real parser, real ONNX embedder, real Chroma);
the LLM summary talks HTTP to the local OpenAI-compatible test server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import imr_assist.samples
from imr_assist.cli import _register, app, main
from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.digest import SUMMARY_UNVERIFIED_NOTE, digest, digest_json, letter_quotes, summarize
from imr_assist.digest.render import md_escape, merge_spans
from imr_assist.index.index import Index
from imr_assist.index.ingest import ingest
from imr_assist.models import Letter
from imr_assist.parse import parse_file, parse_text
from imr_assist.settings import ENV, Settings
from imr_assist.stats import stats, stats_total
from imr_assist.text import clean, collapse_ws
from tests.openai_server import OpenAITestServer, Reply

_register()
runner = CliRunner()

U, OV = UPHELD, OVERTURNED
#: What the five sample letters decide: (letter number, treatment, decision).
#: Twelve decisions, 8 upheld and 4 overturned; expectations below are computed from it.
FACTS: list[tuple[str, str, str]] = [
    ("000", "Norco", U),
    ("001", "Relafen", U),
    ("001", "Soma", U),
    ("001", "Norco", U),
    ("002", "Norco", OV),
    ("002", "Xanax", U),
    ("003", "Norco", U),
    ("003", "Tizanidine", U),
    ("004", "Norco", U),
    ("004", "Amitriptyline", OV),
    ("004", "Baclofen", OV),
    ("004", "Butrans", OV),
]
SAMPLE_004 = "004_c3a84b1ea5686096"


def _clear_env(mp: pytest.MonkeyPatch) -> None:
    # conftest's autouse fixture isolates each test, but module fixtures are built
    # before it runs: keep the user's index, model and API settings out of them too.
    for var in ENV.values():
        mp.delenv(var, raising=False)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("index")
    with pytest.MonkeyPatch.context() as mp:
        _clear_env(mp)
        report = ingest([str(imr_assist.samples.samples_dir())], Settings.load(index_dir=root))
    assert report.failed == 0
    return root


@pytest.fixture(scope="module")
def index(index_dir: Path) -> Iterator[Index]:
    with pytest.MonkeyPatch.context() as mp:
        _clear_env(mp)
        idx = Index.open(Settings.load(index_dir=index_dir))
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def letter_004(index: Index) -> Letter:
    letter = index.catalog.letter(SAMPLE_004)
    assert letter is not None
    return letter


def _expected(key_of: int) -> dict[str, tuple[int, int, int]]:
    """(decisions, upheld, overturned) per key of FACTS (key_of: 0 letter, 1 name, 2 decision)."""
    out: dict[str, tuple[int, int, int]] = {}
    for fact in FACTS:
        n, up, ov = out.get(fact[key_of], (0, 0, 0))
        out[fact[key_of]] = (n + 1, up + (fact[2] == U), ov + (fact[2] == OV))
    return out


def _counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int, int]]:
    return {r["key"]: (int(r["decisions"]), int(r["upheld"]), int(r["overturned"])) for r in rows}


# --- stats ------------------------------------------------------------------------------


def test_stats_by_decision_matches_the_samples(index: Index) -> None:
    rows = stats(index, "decision")
    assert _counts(rows) == _expected(2)
    ups = sum(1 for f in FACTS if f[2] == U)
    assert [r["key"] for r in rows] == [U, OV]  # most decisions first
    assert rows[0]["upheld"] == ups and rows[1]["overturned"] == len(FACTS) - ups
    total = stats_total(index)
    assert (total["decisions"], total["upheld"], total["overturned"]) == (
        len(FACTS),
        ups,
        len(FACTS) - ups,
    )
    assert total["overturn_rate"] == round((len(FACTS) - ups) / len(FACTS), 3)


def test_stats_by_treatment_counts_norco(index: Index) -> None:
    rows = stats(index.catalog, "treatment")
    norco = next(r for r in rows if r["key"] == "Norco")
    assert (norco["decisions"], norco["overturned"], norco["overturn_rate"]) == (5, 1, 0.2)
    assert _counts(rows) == _expected(1)
    assert rows[0]["key"] == "Norco"
    # Ties on decisions are ordered by key.
    singles = [r["key"] for r in rows if r["decisions"] == 1]
    assert singles == sorted(singles, key=str.casefold)


def test_stats_by_letter_and_multivalued_groupings(index: Index) -> None:
    by_letter = {k.split("_")[0]: v for k, v in _counts(stats(index, "letter")).items()}
    assert by_letter == _expected(0)
    # Each reason category counts once per item, so no row can exceed the item count.
    reasons = stats(index, "reason")
    assert all(r["decisions"] <= len(FACTS) for r in reasons)
    assert sum(r["decisions"] for r in reasons) >= len(FACTS)
    # Reviewers cite only the MTUS; the UR decisions under review also the ODG.
    assert {r["key"] for r in stats(index, "guideline")} == {
        "MTUS (IMR reviewer)",
        "MTUS (claims administrator)",
        "ODG (claims administrator)",
    }


def test_stats_rejects_unknown_grouping(index: Index) -> None:
    from imr_assist.errors import ImrError

    with pytest.raises(ImrError, match="cannot group by 'colour'"):
        stats(index, "colour")


@pytest.mark.parametrize("fmt", [pytest.param("csv", id="csv"), pytest.param("json", id="json")])
def test_stats_cli_output_parses_back(index_dir: Path, index: Index, fmt: str) -> None:
    for by in ("decision", "treatment"):
        result = runner.invoke(
            app, ["stats", "--by", by, "--format", fmt, "--index", str(index_dir)]
        )
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(result.stdout)))
        else:
            rows = json.loads(result.stdout)["rows"]
        assert _counts(rows) == _counts(stats(index, by))
        assert [float(r["overturn_rate"]) for r in rows] == [
            r["overturn_rate"] for r in stats(index, by)
        ]


def test_stats_cli_table_shows_percentages_and_total(index_dir: Path) -> None:
    result = runner.invoke(app, ["stats", "--index", str(index_dir)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    norco = next(line for line in result.stdout.splitlines() if "Norco" in line)
    assert "20.0%" in norco
    total = next(line for line in result.stdout.splitlines() if "total" in line)
    assert str(len(FACTS)) in total


# --- digest: Markdown, JSON ---------------------------------------------------------------


def _md_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_digest_md_of_sample_004(letter_004: Letter) -> None:
    md = digest(letter_004, "md")
    table = [_md_unescape(line) for line in md.splitlines() if line.startswith("| ")]
    for name, decision in [(t, d) for n, t, d in FACTS if n == "004"]:
        row = next(line for line in table if name in line)
        assert decision.capitalize() in row
    quotes = [_md_unescape(m) for m in re.findall(r"^\s*> (.*)$", md, re.MULTILINE)]
    assert quotes, "the digest shows no quotes"
    flat = collapse_ws(clean(letter_004.text))
    for q in quotes:
        assert collapse_ws(q) in flat
    # Every reason with a verifiable sentence is shown, under its label.
    assert "Morphine equivalent dose above the 120 MED ceiling" in md
    assert "Family Practice" in md and "2002-03-12" in md


def test_digest_omits_unverifiable_quotes(letter_004: Letter) -> None:
    item = letter_004.items[0]
    bad = item.reasons[0].model_copy(update={"quote": "Norco cures everything, says the reviewer."})
    broken = letter_004.model_copy(
        update={"items": [item.model_copy(update={"reasons": [bad]}), *letter_004.items[1:]]}
    )
    broken.text = letter_004.text
    assert "cures everything" not in digest(broken, "md")
    assert all("cures" not in c.quote for c in letter_quotes(broken).citations)


def test_digest_json_refers_to_verified_citations(letter_004: Letter) -> None:
    data = json.loads(digest(letter_004, "json"))
    assert data == json.loads(json.dumps(digest_json(letter_004)))
    by_n = {c["n"]: c for c in data["citations"]}
    assert sorted(by_n) == list(range(1, len(by_n) + 1))
    assert [it["decision"] for it in data["items"]] == [d for n, _, d in FACTS if n == "004"]
    for it in data["items"]:
        for r in it["reasons"]:
            c = by_n[r["citation"]]
            assert clean(letter_004.text[c["start"] : c["end"]]).strip() == r["quote"]


def test_md_escape_neutralises_markup() -> None:
    assert md_escape("<script>alert(1)</script> | *x*") == (
        r"\<script\>alert(1)\</script\> \| \*x\*"
    )


@pytest.mark.parametrize(
    ("spans", "merged"),
    [
        pytest.param([(5, 9), (0, 3)], [(0, 3), (5, 9)], id="apart"),
        pytest.param([(0, 5), (3, 8)], [(0, 8)], id="overlap"),
        pytest.param([(0, 10), (2, 4), (3, 12)], [(0, 12)], id="nested-then-overlap"),
        pytest.param([(0, 3), (3, 6)], [(0, 3), (3, 6)], id="touching"),
    ],
)
def test_merge_spans(spans: list[tuple[int, int]], merged: list[tuple[int, int]]) -> None:
    assert merge_spans(spans) == merged


# --- digest: HTML ----------------------------------------------------------------------------


class _Marks(HTMLParser):
    """Inner text of each <mark>, and of each quote in the reason lists."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marks: dict[str, str] = {}
        self.quotes: list[str] = []
        self._in: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "mark":
            self._in = ("mark", a["id"] or "")
            self.marks[a["id"] or ""] = ""
        elif tag == "blockquote" and a.get("class") == "quote":
            self._in = ("quote", "")
            self.quotes.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("mark", "blockquote"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[0] == "mark":
            self.marks[self._in[1]] += data
        elif self._in:
            self.quotes[-1] += data


def _script_letter() -> Letter:
    path = imr_assist.samples.samples_dir() / f"{SAMPLE_004}.txt"
    text = path.read_text(encoding="utf-8")
    anchor = "Currently, the injured worker"
    assert text.count(anchor) == 1
    text = text.replace(anchor, "<script>alert(1)</script> " + anchor)
    return parse_text(text, source="script.txt", doc_id="script")


def test_digest_html_escapes_and_marks_quotes() -> None:
    letter = _script_letter()
    html = digest(letter, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parser = _Marks()
    parser.feed(html)
    assert parser.quotes, "no quotes listed"
    mark_texts = {clean(t).strip() for t in parser.marks.values()}
    for q in parser.quotes:
        assert q in mark_texts
    # Each quote list entry links to a mark that exists.
    for target in re.findall(r'class="cite" href="#(q\d+)"', html):
        assert target in parser.marks
    assert len(parser.marks) == len(letter_quotes(letter).citations)


# --- digest: CLI ------------------------------------------------------------------------------


def test_digest_cli_by_case_and_by_file(index_dir: Path, tmp_path: Path) -> None:
    by_id = runner.invoke(app, ["digest", SAMPLE_004, "--index", str(index_dir)])
    assert by_id.exit_code == 0, by_id.output
    assert "Butrans 20mcg/hr transdermal film \\#4" not in by_id.stdout  # '#' is left alone
    assert "Butrans 20mcg/hr transdermal film #4" in by_id.stdout
    sample = imr_assist.samples.samples_dir() / f"{SAMPLE_004}.txt"
    target = tmp_path / "one.html"
    by_file = runner.invoke(app, ["digest", str(sample), "--format", "html", "--out", str(target)])
    assert by_file.exit_code == 0, by_file.output
    assert target.read_text(encoding="utf-8") == digest(parse_file(sample), "html")


def test_digest_cli_all_writes_one_file_per_letter(index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    result = runner.invoke(
        app, ["digest", "--all", "--out", str(out), "--format", "json", "--index", str(index_dir)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 5
    assert all(f.endswith(".json") for f in files)
    doc_ids = {json.loads((out / f).read_text())["doc_id"] for f in files}
    assert {f"{d}.json" for d in doc_ids} == set(files)


def test_digest_unknown_case_is_one_line_error(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["imr-assist", "digest", "CM99-0000000", "--index", str(index_dir)]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CM99-0000000" in err and "imr-assist stats --by letter" in err


# --- LLM summary ------------------------------------------------------------------------------


def _llm_settings(server: OpenAITestServer) -> Settings:
    return Settings.load(
        openai_base_url=server.base_url,
        openai_api_key=server.api_key,
        llm_model="test-model",
        llm_max_retries=0,
        llm_timeout=10,
    )


def test_llm_summary_with_valid_citations_is_shown(
    openai_server: OpenAITestServer,
    letter_004: Letter,
) -> None:
    cites = letter_quotes(letter_004).citations
    norco = next(c for c in cites if c.quote.startswith("Norco"))
    butrans = next(c for c in cites if c.quote.startswith("Butrans"))
    # Plain words, each backed by the cited quote: the summary is checked like an answer.
    text = (
        f"The reviewer upheld the denial of Norco [{norco.n}]. "
        f"Butrans was found medically necessary [{butrans.n}]."
    )
    openai_server.script([text])
    summary = summarize(letter_004, _llm_settings(openai_server))
    assert summary.answered and summary.answer == text
    md = digest(letter_004, "md", summary=summary)
    assert "## Plain-language summary" in md and text in md
    assert SUMMARY_UNVERIFIED_NOTE not in md
    html = digest(letter_004, "html", summary=summary)
    assert f'<a href="#q{norco.n}">[{norco.n}]</a>' in html
    # The model saw the same numbered quotes the digest shows.
    (request,) = openai_server.chat_requests
    prompt = request.messages[-1]["content"]
    assert f'<excerpt n="{norco.n}"' in prompt and norco.quote in prompt


def test_llm_summary_citing_a_missing_excerpt_is_omitted(
    openai_server: OpenAITestServer,
    letter_004: Letter,
    index_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = "The reviewer approved everything the doctor asked for [99]."
    openai_server.script([bad, bad])  # the draft, and the re-ask naming its problem
    summary = summarize(letter_004, _llm_settings(openai_server))
    assert not summary.answered
    md = digest(letter_004, "md", summary=summary)
    assert "approved everything" not in md
    assert "could not be verified" in md
    # The same through the CLI, with the endpoint taken from the environment.
    openai_server.script([bad, bad])
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", openai_server.api_key)
    result = runner.invoke(
        app, ["digest", SAMPLE_004, "--llm", "test-model", "--index", str(index_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "approved everything" not in result.stdout
    assert "could not be verified" in result.stdout
    assert len(openai_server.chat_requests) == 4


def test_llm_summary_with_the_decision_backwards_is_omitted(
    openai_server: OpenAITestServer, letter_004: Letter
) -> None:
    """The 1.5B model's summary said "upheld" of a treatment found medically necessary."""
    butrans = next(c for c in letter_quotes(letter_004).citations if c.quote.startswith("Butrans"))
    bad = {
        "sentences": [{"text": "The reviewer upheld the Butrans denial.", "excerpts": [butrans.n]}]
    }
    openai_server.script([Reply.json(bad)] * 2)
    summary = summarize(letter_004, _llm_settings(openai_server))
    assert not summary.answered and summary.answer == ""
    assert "says upheld but cites no upheld decision" in summary.notices[-1]
    md = digest(letter_004, "md", summary=summary)
    assert "Butrans denial" not in md and SUMMARY_UNVERIFIED_NOTE in md


def test_extractive_case_summary_is_grounded(letter_004: Letter) -> None:
    quotes = letter_quotes(letter_004)
    topics = {line.topic: c for line, c in quotes.summary}
    assert set(topics) >= {"injury", "diagnoses", "treatment", "request", "finding"}
    assert topics["treatment"].quote == "Treatment to date has included medication."
    assert topics["diagnoses"].quote.startswith(
        "The injured worker was diagnosed as having lumbago"
    )
    for _, c in quotes.summary:
        assert clean(letter_004.text[c.start : c.end]).strip() == c.quote
    findings = [line for line, _ in quotes.summary if line.topic == "finding"]
    assert [f.item_index for f in findings] == [it.index for it in letter_004.items]
    md = digest(letter_004, "md")
    assert (
        "## Case summary" in md
        and "- Treatment to date: Treatment to date has included medication." in md
    )
    data = json.loads(digest(letter_004, "json"))
    assert {e["topic"] for e in data["case_summary"]} == set(topics)
