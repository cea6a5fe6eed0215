"""Bad input through the real ``imr-assist ingest``: each bad file fails alone, in one line.

One module fixture builds a tree with every kind of bad and awkward input beside
good letters, plus a folder of 1,000 files of which 10 are bad, and runs the
installed ``imr-assist`` twice on it (the second run must re-embed nothing).
The parametrized tests then check, kind by kind, the one-line error on stderr
(naming the file and the problem), that every good letter was ingested and can
be asked about, and that no bad one reached the index.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imr_assist.answer.service import Assistant
from imr_assist.index.index import Index
from imr_assist.samples import sample_paths
from imr_assist.settings import Settings
from tests.letters import add_noise
from tests.pdfs import make_image_only_pdf, make_pdf

IMR = str(Path(sys.executable).with_name("imr-assist"))
SAMPLES = {p.stem: p.read_text(encoding="utf-8") for p in sample_paths()}
SAMPLE_KEYS = sorted(SAMPLES)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

pytestmark = pytest.mark.slow


# -- letters built from the samples ---------------------------------------------------


def case_number(series: int, n: int) -> str:
    return f"CM15-{series:02d}{n:05d}"


def letter_variant(n: int, case: str, *, noise: bool = False) -> str:
    """Sample ``n % 5`` under a cover block with its own case number (its doc id)."""
    text = (
        f"Case Number: {case}\nDate Assigned: 07/20/2015\nDate of Injury: 03/12/2002\n"
        f"Decision Date: 08/28/2015\nUR Denial Date: 07/09/2015\nPriority: Standard\n\n"
        + SAMPLES[SAMPLE_KEYS[n % 5]]
    )
    return add_noise(text, random.Random(n)) if noise else text


def clean_env(home: Path) -> dict[str, str]:
    """The environment for a CLI subprocess: none of the user's settings or keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMR_ASSIST_", "OPENAI_"))}
    env.update({"HOME": str(home), "ANONYMIZED_TELEMETRY": "False", "COLUMNS": "200"})
    return env


# -- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    display: str  # the path as the CLI shows it
    problem: str  # words the one-line problem must contain
    case: str | None = None  # the case number inside, for letters that must stay out


@dataclass(frozen=True)
class Good:
    display: str
    doc_id: str
    contains: str | None = None  # text the stored letter must hold (decoded correctly)


@dataclass
class Battery:
    root: Path
    index: Path
    bad: dict[str, Bad] = field(default_factory=dict)  # by kind
    good: dict[str, Good] = field(default_factory=dict)  # by kind
    bulk_bad: list[Bad] = field(default_factory=list)
    bulk_good: list[str] = field(default_factory=list)  # doc ids of distinct bulk letters
    duplicates: list[str] = field(default_factory=list)  # displays of same-text copies
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def report(self, run: int = 0) -> dict:  # type: ignore[type-arg]
        return json.loads(self.runs[run].stdout)

    def errors(self, run: int = 0) -> dict[str, str]:
        """display -> problem, from the ``error: DISPLAY: problem`` lines on stderr."""
        found: dict[str, str] = {}
        for line in self.runs[run].stderr.splitlines():
            assert line.startswith("error: "), f"stray stderr line: {line!r}"
            display, problem = self._split(line[len("error: ") :])
            assert display not in found, f"{display} reported twice"
            found[display] = problem
        return found

    def _split(self, message: str) -> tuple[str, str]:
        for bad in [*self.bad.values(), *self.bulk_bad]:
            if message.startswith(bad.display + ": "):
                return bad.display, message[len(bad.display) + 2 :]
        raise AssertionError(f"error for an unexpected input: {message!r}")


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _build(root: Path, b: Battery) -> list[str]:
    """Write the tree under ``root``; return the ingest arguments."""
    letters = root / "letters"
    rng = random.Random(7)

    def good(kind: str, name: str, data: bytes | str, doc_id: str, contains: str | None = None):  # type: ignore[no-untyped-def]
        _write(letters / name, data)
        b.good[kind] = Good(f"letters/{name}", doc_id, contains)

    def bad(kind: str, name: str, data: bytes | str | None, problem: str, case: str | None = None):  # type: ignore[no-untyped-def]
        if data is not None:
            _write(letters / name, data)
        b.bad[kind] = Bad(f"letters/{name}", problem, case)

    for key in SAMPLE_KEYS:
        good(f"sample-{key[:3]}", f"{key}.txt", SAMPLES[key], key)

    # Good letters in awkward shapes.
    latin = _edit(letter_variant(1, case_number(30, 1)), "injured worker", "señora Muñoz")
    good("latin-1", "latin1.txt", latin.encode("latin-1"), case_number(30, 1), "señora Muñoz")
    smart = _edit(
        letter_variant(2, case_number(30, 2)), "injured worker", "\u201cworker\u201d \u2013"
    )
    good(
        "windows-1252",
        "cp1252.txt",
        smart.encode("cp1252"),
        case_number(30, 2),
        "\u201cworker\u201d \u2013",
    )
    wide = letter_variant(3, case_number(30, 3))
    good("utf-16-bom", "utf16.txt", b"\xff\xfe" + wide.encode("utf-16-le"), case_number(30, 3))
    good(
        "spaces-and-accents",
        "IMR 2015 é/lettre ñ 4.txt",
        letter_variant(4, case_number(30, 4)),
        case_number(30, 4),
    )
    good(
        "markup-like-path",
        "a[/b]/[red]letter.txt",
        letter_variant(0, case_number(30, 5)),
        case_number(30, 5),
    )
    good(
        "crlf-and-pdf-noise",
        "noisy.txt",
        letter_variant(5, case_number(30, 6), noise=True),
        case_number(30, 6),
    )
    pdf = make_pdf(root / "made.pdf", letter_variant(1, case_number(30, 7)))
    good("pdf-letter", "letter.pdf", pdf.read_bytes(), case_number(30, 7))

    # The same text as a sample under another name: indexed once, and said so.
    _write(letters / "copy of 000.txt", SAMPLES[SAMPLE_KEYS[0]])
    _write(letters / "a[" / "b]" / "[bold]copy.txt", SAMPLES[SAMPLE_KEYS[1]])
    b.duplicates += ["letters/a[/b]/[bold]copy.txt", "letters/copy of 000.txt"]
    # A symbolic link loop: the walk must end and find each letter once.
    (letters / "loop").mkdir()
    os.symlink("..", letters / "loop" / "back-to-letters", target_is_directory=True)

    # Bad files, each with the words its error must contain.
    bad("empty", "empty.txt", b"", "file is empty")
    bad("whitespace", "whitespace.txt", " \r\n\t\n  \n", "file has no text")
    bad("binary", "binary.txt", bytes(rng.randrange(256) for _ in range(4096)), "binary")
    nul = letter_variant(2, case_number(90, 1))
    bad("nul-bytes", "nul.txt", nul[:900] + "\x00" + nul[900:], "binary", case_number(90, 1))
    bad(
        "broken-utf-16",
        "utf16-broken.txt",
        b"\xff\xfe" + "IMR letter".encode("utf-16-le") + b"\x00\xd8",  # lone surrogate
        "not valid UTF-16",
    )
    big = letters / "huge.txt"
    with big.open("w", encoding="utf-8") as fh:
        one = letter_variant(0, case_number(90, 2))
        for _ in range(30_000_000 // len(one) + 1):
            fh.write(one)
    bad("very-large", "huge.txt", None, "too long for one letter", case_number(90, 2))
    zip_path = root / "made.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("letter.txt", SAMPLES[SAMPLE_KEYS[0]])
    bad("zip-renamed-pdf", "archive.pdf", zip_path.read_bytes(), "not a PDF file (looks like a ZIP")
    locked = make_pdf(
        root / "locked.pdf", letter_variant(3, case_number(90, 3)), encrypt_password="pw"
    )
    bad("encrypted-pdf", "locked.pdf", locked.read_bytes(), "PDF is encrypted", case_number(90, 3))
    scan = make_image_only_pdf(root / "scan.pdf", pages=2)
    bad("scanned-pdf", "scanned.pdf", scan.read_bytes(), "no text layer")
    whole = make_pdf(root / "whole.pdf", letter_variant(4, case_number(90, 4))).read_bytes()
    bad("truncated-pdf", "cut.pdf", whole[: len(whole) // 2], "PDF is damaged", case_number(90, 4))
    cut = letter_variant(0, case_number(90, 5))
    bad(
        "truncated-letter",
        "truncated.txt",
        cut[: cut.index("IMR ISSUES")],
        "no decisions section",
        case_number(90, 5),
    )
    odd = letter_variant(0, case_number(90, 6)).replace(":  Upheld", ": Partially Approved")
    odd = odd.replace(": Upheld", ": Partially Approved")
    bad(
        "unknown-decision-word",
        "partial.txt",
        odd,
        "'Partially Approved', expected Upheld or Overturned",
        case_number(90, 6),
    )
    html = (
        "<!DOCTYPE html>\n<html><head><title>DWC IMR search</title></head>\n"
        "<body><h1>Search results</h1><p>No determinations found.</p></body></html>\n"
    )
    bad("html-saved-as-txt", "saved page.txt", html, "an HTML page, not an IMR letter")
    note = (
        "PROGRESS NOTE\nDate of service: 06/09/2015\n"
        "Subjective: The patient reports low back pain rated 6/10 with medication.\n"
        "Objective: Tenderness over the lumbar paraspinals. Gait antalgic.\n"
        "Assessment: Lumbago. Chronic pain syndrome.\n"
        "Plan: Continue Norco 10/325mg #60 and Baclofen 10mg. Follow up in 4 weeks.\n"
    )
    bad("progress-note", "progress note.txt", note, "not an IMR determination letter")
    bad("markup-in-path", "a[/b]/[bold]note.txt", note, "not an IMR determination letter")
    bad(
        "same-case-number-other-text",
        "same-case.txt",
        letter_variant(3, case_number(30, 4)),  # the case number of "IMR 2015 é/..."
        "same letter id 'CM15-3000004'",
    )
    if not IS_ROOT:
        locked_txt = _write(letters / "unreadable.txt", letter_variant(1, case_number(90, 7)))
        locked_txt.chmod(0)
        bad("unreadable", "unreadable.txt", None, "permission denied", case_number(90, 7))

    # Inputs named on the command line.
    _write(root / "page.html", html)
    b.bad["html-page"] = Bad("page.html", "an HTML page, not an IMR letter")
    os.mkfifo(root / "fifo.txt")
    b.bad["fifo"] = Bad("fifo.txt", "not a regular file")
    os.symlink(root / "gone.txt", root / "dangling.txt")
    b.bad["broken-symlink"] = Bad("dangling.txt", "broken symbolic link")
    b.bad["missing-file"] = Bad("missing.txt", "no such file or directory")
    b.bad["glob-without-match"] = Bad("nothing/*.txt", "no files match")
    (root / "no letters").mkdir()
    _write(root / "no letters" / "notes.docx", b"PK\x03\x04")
    b.bad["folder-without-letters"] = Bad("no letters", "no .txt or .pdf files in this folder")

    # 1,000 files, 10 of them bad: copies of the samples, 30 distinct letters.
    bad_bodies = [
        (b"", "file is empty"),
        (note.encode(), "not an IMR determination letter"),
        (b"\x00\x01\x02" * 50, "binary"),
        (cut[: cut.index("IMR ISSUES")].encode(), "no decisions section"),
        (odd.encode(), "expected Upheld or Overturned"),
    ]
    bad_at = set(random.Random(3).sample(range(1000), 10))
    distinct_at = set([n for n in range(1000) if n not in bad_at][::33])
    distinct = 0
    for n in range(1000):
        name = f"bulk/file_{n:04d}.txt"
        if n in bad_at:
            body, problem = bad_bodies[len(b.bulk_bad) % len(bad_bodies)]
            _write(root / name, body)
            b.bulk_bad.append(Bad(name, problem))
        elif n in distinct_at:
            case = case_number(40, distinct)
            _write(root / name, letter_variant(distinct, case, noise=distinct % 3 == 0))
            b.bulk_good.append(case)
            distinct += 1
        else:
            _write(root / name, SAMPLES[SAMPLE_KEYS[n % 5]])
            b.duplicates.append(name)
    assert len(b.bulk_good) == 30 and len(b.bulk_bad) == 10

    return [
        "letters",
        "bulk",
        "page.html",
        "fifo.txt",
        "dangling.txt",
        "missing.txt",
        "nothing/*.txt",
        "no letters",
    ]


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Battery]:
    root = tmp_path_factory.mktemp("battery")
    b = Battery(root=root, index=root / "ix")
    args = _build(root, b)
    env = clean_env(root / "home")
    for extra in (["--json"], []):  # the second run finds everything already indexed
        b.runs.append(
            subprocess.run(
                [IMR, "ingest", *args, "--index", str(b.index), *extra],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        )
    yield b
    (root / "letters" / "huge.txt").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def index(battery: Battery) -> Iterator[Index]:
    idx = Index.open(Settings(index_dir=battery.index))
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def assistant(battery: Battery, index: Index) -> Assistant:
    return Assistant(Settings(index_dir=battery.index, llm_enabled=False), index=index)


# -- the runs as a whole ------------------------------------------------------------


def test_partial_failure_exit_code_and_summary(battery: Battery) -> None:
    for run in battery.runs:
        assert run.returncode == 1, run.stderr[-2000:]
    first = battery.report(0)
    n_bad = len(battery.bad) + len(battery.bulk_bad)
    n_good = len(battery.good) + len(battery.bulk_good)
    assert len(first["failed"]) == n_bad
    assert first["letters_indexed"] == n_good
    assert first["chunks_embedded"] > 0
    # Re-running embeds nothing, and reports the same failures in the same words.
    summary = battery.runs[1].stdout.splitlines()[0]
    skipped = n_good + len(battery.duplicates)
    assert summary.startswith(
        f"0 letter(s) indexed (0 replaced), 0 item(s), 0 chunk(s) embedded; "
        f"{skipped} skipped as unchanged or duplicate; {n_bad} failed ["
    )
    assert battery.errors(0) == battery.errors(1)


def test_names_are_printed_literally(battery: Battery) -> None:
    """Brackets in paths are not rich markup: no crash, nothing swallowed."""
    assert "letters/a[/b]/[bold]note.txt" in battery.errors(0)
    lines = battery.runs[1].stdout.splitlines()
    for dup in battery.duplicates:
        assert f"  {dup}: same text as " in "\n".join(lines)
    assert (
        "  letters/a[/b]/[bold]copy.txt: same text as 001_da630829cdb6960e; indexed once" in lines
    )


def test_every_error_is_one_line_naming_the_file(battery: Battery) -> None:
    errors = battery.errors(0)  # asserts every stderr line is "error: DISPLAY: problem"
    expected = {b.display for b in [*battery.bad.values(), *battery.bulk_bad]}
    assert set(errors) == expected
    failed = {f["source"]: f["problem"] for f in battery.report(0)["failed"]}
    assert failed == errors


def test_thousand_file_folder(battery: Battery, index: Index) -> None:
    errors = battery.errors(0)
    for bad in battery.bulk_bad:
        assert bad.problem in errors[bad.display]
    docs = set(index.catalog.doc_ids())
    assert set(battery.bulk_good) <= docs
    sources = {
        r[0]
        for r in index.catalog.db.execute(
            "SELECT source FROM letters WHERE source LIKE ?", ("bulk/%",)
        )
    }
    assert len(sources) == 30  # the copies of the samples were not indexed again


def test_duplicates_indexed_once_and_reported(battery: Battery, index: Index) -> None:
    report = battery.report(0)
    dups = {d["source"]: d["same_as"] for d in report["duplicates"]}
    assert set(dups) == set(battery.duplicates)
    assert dups["letters/copy of 000.txt"] == SAMPLE_KEYS[0]
    assert all(same in SAMPLE_KEYS for same in dups.values())
    n_good = len(battery.good) + len(battery.bulk_good)
    assert index.catalog.count_letters() == n_good
    shas = [r[0] for r in index.catalog.db.execute("SELECT sha256 FROM letters")]
    assert len(shas) == len(set(shas))


def test_store_matches_catalog(index: Index) -> None:
    catalog_ids = sorted(r[0] for r in index.catalog.all_chunks())
    assert sorted(index.store.ids()) == catalog_ids
    assert index.lexical_is_current()


def test_cli_ask_finds_letters_with_awkward_names(battery: Battery) -> None:
    env = clean_env(battery.root / "home")
    for kind in ("spaces-and-accents", "latin-1"):
        good = battery.good[kind]
        res = subprocess.run(
            [
                IMR,
                "ask",
                f"What was decided in case {good.doc_id}?",
                "--index",
                str(battery.index),
                "--llm",
                "none",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        data = json.loads(res.stdout)
        assert data["answered"] is True
        assert {c["doc_id"] for c in data["citations"]} == {good.doc_id}
        assert {c["source"] for c in data["citations"]} == {good.display}


# -- kind by kind -----------------------------------------------------------------------

BAD_KINDS = [
    "empty",
    "whitespace",
    "binary",
    "nul-bytes",
    "broken-utf-16",
    "very-large",
    "zip-renamed-pdf",
    "encrypted-pdf",
    "scanned-pdf",
    "truncated-pdf",
    "truncated-letter",
    "unknown-decision-word",
    "html-saved-as-txt",
    "html-page",
    "progress-note",
    "markup-in-path",
    "same-case-number-other-text",
    "unreadable",
    "fifo",
    "broken-symlink",
    "missing-file",
    "glob-without-match",
    "folder-without-letters",
]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_input_fails_alone(kind: str, battery: Battery, assistant: Assistant) -> None:
    if kind == "unreadable" and IS_ROOT:
        pytest.skip("running as root, which can read a chmod 000 file")
    bad = battery.bad[kind]
    problem = battery.errors(0)[bad.display]
    assert bad.problem in problem
    assert "\n" not in problem and "Traceback" not in problem
    index = assistant.index
    sources = {r[0] for r in index.catalog.db.execute("SELECT source FROM letters")}
    assert bad.display not in sources
    if bad.case is not None:  # a letter-like file: its case is not in the index
        assert bad.case not in index.catalog.doc_ids()
        answer, _ = assistant.ask(f"What was decided in case {bad.case}?")
        assert all(c.doc_id != bad.case for c in answer.citations)
        assert bad.case not in answer.answer


GOOD_KINDS = [
    *(f"sample-{k[:3]}" for k in SAMPLE_KEYS),
    "latin-1",
    "windows-1252",
    "utf-16-bom",
    "spaces-and-accents",
    "markup-like-path",
    "crlf-and-pdf-noise",
    "pdf-letter",
]


@pytest.mark.parametrize("kind", GOOD_KINDS)
def test_good_letter_is_ingested_and_answerable(
    kind: str, battery: Battery, assistant: Assistant
) -> None:
    good = battery.good[kind]
    assert good.display not in battery.errors(0)
    letter = assistant.index.catalog.letter(good.doc_id)
    assert letter is not None and letter.source == good.display
    if good.contains:
        assert good.contains in letter.text
    question = (
        f"What was decided in case {good.doc_id}?"
        if good.doc_id.startswith("CM")
        else f"What was decided in letter {good.doc_id}?"
    )
    answer, _ = assistant.ask(question)
    assert answer.answered
    assert {c.doc_id for c in answer.citations} == {good.doc_id}
    decided = {(c.treatment, c.decision) for c in answer.citations}
    assert decided >= {(it.treatment, it.decision) for it in letter.items}


def test_symlink_loop_is_walked_once(battery: Battery) -> None:
    displays = {f["source"] for f in battery.report(0)["failed"]}
    displays |= {d["source"] for d in battery.report(0)["duplicates"]}
    assert not any("back-to-letters" in d for d in displays)


def test_bulk_distinct_letters_are_answerable(battery: Battery, assistant: Assistant) -> None:
    for case in battery.bulk_good[::7]:
        answer, _ = assistant.ask(f"What was decided in case {case}?")
        assert answer.answered and {c.doc_id for c in answer.citations} == {case}
