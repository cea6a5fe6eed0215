"""Tests for finding letter files and reading their text (imr_assist.parse.loaders)."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_assist.errors import LetterError
from imr_assist.parse.loaders import SourceFile, expand_paths, read_letter_text

try:  # run as a package (tests/__init__.py or rootdir on sys.path) ...
    from tests.pdfs import make_image_only_pdf, make_pdf
except ImportError:  # ... or with pytest's default "prepend" import of tests/
    from pdfs import make_image_only_pdf, make_pdf  # type: ignore[no-redef]

SAMPLES = Path(__file__).resolve().parent.parent / "imr_assist" / "data" / "samples"
SAMPLE = SAMPLES / "000_1f8f4c257f6088b3.txt"

needs_symlinks = pytest.mark.skipif(
    sys.platform == "win32", reason="symbolic links need privileges on Windows"
)


def squash(text: str) -> str:
    """Collapse all whitespace runs, to compare text modulo layout."""
    return re.sub(r"\s+", " ", text).strip()


def no_errors(err: LetterError) -> None:
    """``on_error`` for inputs that must all be fine."""
    raise AssertionError(f"unexpected error: {err}")


def assert_one_line_error(err: LetterError, display: str, problem_start: str) -> None:
    """The shape every per-file error must have: "DISPLAY: problem", one line."""
    message = str(err)
    assert message.startswith(f"{display}: "), message
    assert "\n" not in message and "\r" not in message, message
    assert err.source == display
    assert err.problem.startswith(problem_start), err.problem


# --------------------------------------------------------------------------- text


def test_sample_letter_is_returned_exactly() -> None:
    expected = SAMPLE.read_bytes().decode("utf-8")
    assert read_letter_text(SAMPLE) == expected


def test_line_endings_are_kept_and_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\xef\xbb\xbfLine one\r\nLine two\rLine three\n\fPage two\r\n")
    assert read_letter_text(path) == "Line one\r\nLine two\rLine three\n\fPage two\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            "\ufeffNorco “10/325mg” – Upheld\r\n".encode("utf-16-le"),
            "Norco “10/325mg” – Upheld\r\n",
            id="utf16-le-bom",
        ),
        pytest.param(
            "\ufeffNorco “10/325mg” – Upheld\n".encode("utf-16-be"),
            "Norco “10/325mg” – Upheld\n",
            id="utf16-be-bom",
        ),
        pytest.param(
            "\ufeffRésumé of the case\n".encode("utf-32-le"),
            "Résumé of the case\n",
            id="utf32-le-bom",
        ),
        pytest.param(
            b"The reviewer\x92s \x93medical necessity\x94 finding \x96 caf\xe9\r\n",
            "The reviewer’s “medical necessity” finding – café\r\n",
            id="cp1252-smart-quotes",
        ),
        pytest.param(
            "Señora Müller, São Paulo, naïve, ½ dose\n".encode("latin-1"),
            "Señora Müller, São Paulo, naïve, ½ dose\n",
            id="latin1",
        ),
        pytest.param(
            b"odd byte \x81 undefined in cp1252 \x93quoted\x94\n",
            "odd byte \x81 undefined in cp1252 “quoted”\n",
            id="cp1252-undefined-byte",
        ),
        pytest.param(
            "Plain UTF-8: café “quoted”\n".encode(),
            "Plain UTF-8: café “quoted”\n",
            id="utf8",
        ),
    ],
)
def test_text_decoding(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "letter.txt"
    path.write_bytes(data)
    assert read_letter_text(path) == expected


def test_html_is_returned_as_text(tmp_path: Path) -> None:
    # Rejecting it is the parser's job ("not an IMR determination").
    path = tmp_path / "page.html"
    path.write_text("<html><body>Not a letter</body></html>\n", encoding="utf-8")
    assert read_letter_text(path).startswith("<html>")


def test_display_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(LetterError) as info:
        read_letter_text(path, "letters/empty.txt")
    assert str(info.value) == "letters/empty.txt: file is empty"
    with pytest.raises(LetterError) as info:
        read_letter_text(path)
    assert str(info.value) == f"{path}: file is empty"


# ---------------------------------------------------------------------------- PDF


def test_pdf_round_trip(tmp_path: Path) -> None:
    letter = SAMPLE.read_text(encoding="utf-8")
    pdf = make_pdf(tmp_path / "letter.pdf", letter, lines_per_page=45)
    text = read_letter_text(pdf)
    flat = squash(text)
    for phrase in ("IMR ISSUES, DECISIONS AND RATIONALES", "Norco 10/325mg #60", "Upheld"):
        assert squash(phrase) in flat
    assert "Page 1 of" in text
    # Pages are joined with a form feed on its own line, one fewer than footers.
    pages = len(re.findall(r"Page \d+ of \d+", text))
    assert pages >= 2
    assert text.count("\n\f\n") == pages - 1
    assert flat.count("Norco") == letter.count("Norco")


def test_pdf_footer_and_page_count_options(tmp_path: Path) -> None:
    body = "\n".join(f"Line number {n}" for n in range(1, 11))
    pdf = make_pdf(tmp_path / "short.pdf", body, lines_per_page=4, footer=False)
    text = read_letter_text(pdf)
    assert "Page " not in text
    assert text.count("\f") == 2  # 10 lines at 4 per page: 3 pages
    assert (
        text.split("\n\f\n")[1].split()
        == "Line number 5 Line number 6 Line number 7 Line number 8".split()
    )


def test_long_lines_wrap_and_keep_their_words(tmp_path: Path) -> None:
    long_line = " ".join(f"word{n}" for n in range(200))
    pdf = make_pdf(tmp_path / "long.pdf", long_line)
    assert squash(read_letter_text(pdf)).startswith(long_line)


def test_pdf_characters_outside_the_core_font(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "quotes.pdf", "The reviewer’s “opinion” – café")
    assert 'The reviewer\'s "opinion" - café' in read_letter_text(pdf)


def test_pdf_with_only_an_owner_password_opens(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "owner.pdf", "Norco 10/325mg #60: Upheld", encrypt_password="")
    assert "Norco 10/325mg #60: Upheld" in read_letter_text(pdf)


def test_pdf_suffix_is_case_insensitive_and_content_is_sniffed(tmp_path: Path) -> None:
    upper = make_pdf(tmp_path / "LETTER.PDF", "Upheld")
    assert "Upheld" in read_letter_text(upper)
    misnamed = tmp_path / "letter.txt"
    misnamed.write_bytes(upper.read_bytes())
    assert "Upheld" in read_letter_text(misnamed)


def test_damaged_pdf_makes_no_log_noise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    good = make_pdf(tmp_path / "good.pdf", "Some text\n" * 80).read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(good[:1500] + b"\x00garbage" * 80 + good[2140:])
    level_before = logging.getLogger("pypdf").level
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LetterError):
        read_letter_text(bad)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert capfd.readouterr().err == ""
    assert logging.getLogger("pypdf").level == level_before


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by the property tests (hypothesis reruns one test many times)."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def good_pdf(scratch: Path) -> bytes:
    return make_pdf(scratch / "base.pdf", SAMPLE.read_text(encoding="utf-8")).read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".txt", ".pdf", ".html"]))
def test_any_bytes_give_text_or_letter_error(scratch: Path, data: bytes, suffix: str) -> None:
    path = scratch / f"random{suffix}"
    path.write_bytes(data)
    try:
        text = read_letter_text(path, "random")
    except LetterError as err:
        assert_one_line_error(err, "random", "")
    else:
        assert text.strip()
        assert not text.startswith("\ufeff")


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\ufeff"),
        max_size=200,
    ).filter(str.strip)
)
def test_utf8_text_round_trips_exactly(scratch: Path, text: str) -> None:
    path = scratch / "utf8.txt"
    path.write_bytes(text.encode("utf-8"))
    assert read_letter_text(path) == text


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(
        st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=16)), min_size=1, max_size=4
    )
)
def test_mangled_pdf_gives_text_or_letter_error(
    scratch: Path, good_pdf: bytes, cuts: list[tuple[float, bytes]]
) -> None:
    data = bytearray(good_pdf)
    for where, junk in cuts:
        at = int(where * (len(data) - 1))
        data[at : at + len(junk)] = junk
    path = scratch / "mangled.pdf"
    path.write_bytes(bytes(data))
    try:
        read_letter_text(path, "mangled.pdf")
    except LetterError as err:
        assert_one_line_error(err, "mangled.pdf", "")


# -------------------------------------------------------------------------- errors


def _zip_bytes(tmp_path: Path) -> bytes:
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return archive.read_bytes()


def _write(name: str, data: bytes | Callable[[Path], bytes]) -> Callable[[Path], Path]:
    def setup(tmp_path: Path) -> Path:
        path = tmp_path / name
        path.write_bytes(data(tmp_path) if callable(data) else data)
        return path

    return setup


def _pdf_bytes(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "source.pdf", "Norco 10/325mg #60: Upheld\n" * 100).read_bytes()


def _corrupt_first_stream(pdf: bytes) -> bytes:
    """Overwrite bytes inside the first (compressed) content stream, same length."""
    start = pdf.index(b"stream\n") + len(b"stream\n")
    return pdf[: start + 10] + b"\xff" * 30 + pdf[start + 40 :]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "a folder"
    folder.mkdir()
    return folder


ERROR_CASES = [
    pytest.param(lambda t: t / "missing.txt", "no such file or directory", id="missing"),
    pytest.param(_folder, "is a folder, not a file", id="directory"),
    pytest.param(_write("empty.txt", b""), "file is empty", id="empty"),
    pytest.param(_write("blank.txt", b"  \r\n\t\n \f\n"), "file has no text", id="whitespace"),
    pytest.param(_write("bom.txt", b"\xef\xbb\xbf\n"), "file has no text", id="bom-only"),
    pytest.param(
        _write("nul.txt", b"Letter text\x00\x01\x02 with NUL bytes"),
        "file is binary, not text",
        id="binary-txt",
    ),
    pytest.param(
        _write("report.docx", _zip_bytes),
        "file is binary, not text (looks like a ZIP archive)",
        id="docx-given-explicitly",
    ),
    pytest.param(
        _write("bad16.txt", b"\xff\xfe\x00\xd8A\x00"),
        "file is not valid UTF-16 text",
        id="broken-utf16",
    ),
    pytest.param(
        _write("renamed.pdf", _zip_bytes),
        "not a PDF file (looks like a ZIP archive)",
        id="zip-renamed-pdf",
    ),
    pytest.param(
        _write("notes.pdf", b"These are just notes.\n"),
        "not a PDF file (looks like plain text)",
        id="text-renamed-pdf",
    ),
    pytest.param(
        _write("scan.pdf", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        "not a PDF file (looks like a PNG image)",
        id="png-renamed-pdf",
    ),
    pytest.param(
        _write("noise.pdf", bytes(range(128, 256)) * 4),
        "not a PDF file",
        id="unknown-renamed-pdf",
    ),
    pytest.param(
        lambda t: make_pdf(t / "locked.pdf", "Secret letter", encrypt_password="s3cret"),
        "PDF is encrypted",
        id="encrypted-pdf",
    ),
    pytest.param(
        lambda t: make_image_only_pdf(t / "scanned.pdf"),
        "PDF has no text layer (scanned image?); run OCR first",
        id="scanned-pdf",
    ),
    pytest.param(
        _write("truncated.pdf", lambda t: _pdf_bytes(t)[:1200]),
        "PDF is damaged: ",
        id="truncated-pdf",
    ),
    pytest.param(
        _write("garbage.pdf", b"%PDF-1.7\n" + b"garbage " * 50 + b"\n%%EOF\n"),
        "PDF is damaged: ",
        id="garbage-pdf",
    ),
    pytest.param(
        _write("bad-page.pdf", lambda t: _corrupt_first_stream(_pdf_bytes(t))),
        "PDF is damaged: page 1: ",
        id="undecodable-page-stream",
    ),
    pytest.param(
        _write(
            "corrupt.pdf",
            lambda t: (lambda d: d[:1500] + b"\x00bad" * 160 + d[2140:])(_pdf_bytes(t)),
        ),
        "PDF is damaged: ",
        id="corrupt-stream-pdf",
    ),
]


@pytest.mark.parametrize(("setup", "problem"), ERROR_CASES)
def test_read_errors(tmp_path: Path, setup: Callable[[Path], Path], problem: str) -> None:
    path = setup(tmp_path)
    display = f"in box/{path.name}"
    with pytest.raises(LetterError) as info:
        read_letter_text(path, display)
    assert_one_line_error(info.value, display, problem)


def test_exact_messages_for_fixed_problems(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", "x", encrypt_password="pw")
    with pytest.raises(LetterError) as info:
        read_letter_text(path, "locked.pdf")
    assert str(info.value) == (
        "locked.pdf: PDF is encrypted with a password (it does not open with an empty one); "
        "save an unprotected copy"
    )


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(60_000_000)  # sparse: instant, and never read
    with pytest.raises(LetterError) as info:
        read_letter_text(path, "huge.txt")
    assert str(info.value) == "huge.txt: file is too large (60 MB; limit 50 MB)"

    small = tmp_path / "small.txt"
    small.write_text("x" * 2_000, encoding="ascii")
    with pytest.raises(LetterError) as info:
        read_letter_text(small, "small.txt", max_bytes=1_000)
    assert_one_line_error(info.value, "small.txt", "file is too large (2 KB; limit 1 KB)")
    assert read_letter_text(small, max_bytes=2_000) == "x" * 2_000


def test_permission_denied_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated, so it also runs as root (root can read a chmod 000 file).
    path = tmp_path / "locked.txt"
    path.write_text("text", encoding="utf-8")
    real_open = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(LetterError) as info:
        read_letter_text(path, "locked.txt")
    assert str(info.value) == "locked.txt: cannot read file (permission denied)"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions only")
def test_unreadable_file_really_denied(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = tmp_path / "secret.txt"
    path.write_text("text", encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("file is still readable (filesystem ignores modes)")
        with pytest.raises(LetterError) as info:
            read_letter_text(path, "secret.txt")
        assert str(info.value) == "secret.txt: cannot read file (permission denied)"
    finally:
        path.chmod(0o600)


# --------------------------------------------------------------------------- paths


class Errors(list[LetterError]):
    """Collects errors from ``expand_paths``; ``.messages`` for assertions."""

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self]


def touch(path: Path, text: str = "letter\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of letters with noise; the cwd is its parent, for relative inputs."""
    root = tmp_path / "letters"
    touch(root / "b.txt")
    touch(root / "a.PDF")
    touch(root / "notes.docx")
    touch(root / "README.md")
    touch(root / ".hidden.txt")
    touch(root / "2015" / "c.txt")
    touch(root / "2015" / "q3" / "d.pdf")
    touch(root / "2015" / ".git" / "ignored.txt")
    touch(root / "empty" / "nothing.csv")
    monkeypatch.chdir(tmp_path)
    return root


def displays(files: list[SourceFile]) -> list[str]:
    return [f.display.replace(os.sep, "/") for f in files]


def test_folder_is_walked_recursively_and_sorted(tree: Path) -> None:
    errors = Errors()
    files = expand_paths(["letters"], on_error=errors.append)
    assert displays(files) == [
        "letters/2015/c.txt",
        "letters/2015/q3/d.pdf",
        "letters/a.PDF",
        "letters/b.txt",
    ]
    assert errors == []
    assert all(f.path.is_file() for f in files)
    assert files[0].path == Path("letters/2015/c.txt")


def test_absolute_folder_keeps_absolute_display(tree: Path) -> None:
    files = expand_paths([tree / "2015"], on_error=no_errors)
    assert [f.display for f in files] == [
        os.path.join(str(tree / "2015"), "c.txt"),
        os.path.join(str(tree / "2015"), "q3", "d.pdf"),
    ]


def test_explicit_file_with_any_suffix_is_returned(tree: Path) -> None:
    files = expand_paths(["letters/notes.docx", Path("letters/README.md")], on_error=no_errors)
    assert displays(files) == ["letters/notes.docx", "letters/README.md"]


def test_empty_folder_is_reported(tree: Path) -> None:
    errors = Errors()
    files = expand_paths(["letters/empty", "letters/b.txt"], on_error=errors.append)
    assert errors.messages == ["letters/empty: no .txt or .pdf files in this folder"]
    assert displays(files) == ["letters/b.txt"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("letters/*.txt", ["letters/b.txt"], id="star"),
        pytest.param("letters/?.PDF", ["letters/a.PDF"], id="question-mark"),
        pytest.param("letters/[ab].*", ["letters/a.PDF", "letters/b.txt"], id="brackets"),
        pytest.param(
            "letters/**/*.pdf", ["letters/2015/q3/d.pdf"], id="double-star-case-sensitive"
        ),
        pytest.param(
            "letters/**/*.txt", ["letters/2015/c.txt", "letters/b.txt"], id="double-star-txt"
        ),
        pytest.param(
            "letters/20*",
            ["letters/2015/c.txt", "letters/2015/q3/d.pdf"],
            id="glob-matches-folder",
        ),
    ],
)
def test_glob_patterns(tree: Path, pattern: str, expected: list[str]) -> None:
    assert displays(expand_paths([pattern], on_error=no_errors)) == expected


def test_double_star_alone_finds_every_letter_once(tree: Path) -> None:
    errors = Errors()
    files = expand_paths(["letters/**"], on_error=errors.append)
    found = displays(files)
    assert len(found) == len(set(f.path.resolve() for f in files))
    letters = {"2015/c.txt", "2015/q3/d.pdf", "a.PDF", "b.txt"}
    assert {d.split("letters/", 1)[1] for d in found} >= letters
    assert errors == []


def test_glob_without_matches_is_reported(tree: Path) -> None:
    errors = Errors()
    files = expand_paths(["letters/*.rtf", "letters/b.txt"], on_error=errors.append)
    assert errors.messages == ["letters/*.rtf: no files match"]
    assert displays(files) == ["letters/b.txt"]


def test_glob_matching_only_empty_folders_is_reported(tree: Path) -> None:
    errors = Errors()
    assert expand_paths(["letters/emp*"], on_error=errors.append) == []
    assert errors.messages == ["letters/emp*: no .txt or .pdf files match"]


def test_literal_path_with_glob_characters(tmp_path: Path) -> None:
    path = touch(tmp_path / "letter [1].txt")
    files = expand_paths([str(path)], on_error=no_errors)
    assert files == [SourceFile(path=path, display=str(path))]


def test_missing_path_is_reported_and_others_still_returned(tree: Path) -> None:
    errors = Errors()
    files = expand_paths(
        ["letters/b.txt", "nope/missing.pdf", "letters/2015"], on_error=errors.append
    )
    assert errors.messages == ["nope/missing.pdf: no such file or directory"]
    assert all(isinstance(e, LetterError) for e in errors)
    assert displays(files) == ["letters/b.txt", "letters/2015/c.txt", "letters/2015/q3/d.pdf"]


def test_duplicates_are_dropped(tree: Path) -> None:
    files = expand_paths(
        ["letters/b.txt", "letters", "./letters/b.txt", str(tree / "b.txt"), "letters/*.txt"],
        on_error=no_errors,
    )
    found = displays(files)
    assert found[0] == "letters/b.txt"
    assert len(found) == len({f.path.resolve() for f in files}) == 4


def test_input_order_is_kept(tree: Path) -> None:
    files = expand_paths(["letters/b.txt", "letters/a.PDF"], on_error=no_errors)
    assert displays(files) == ["letters/b.txt", "letters/a.PDF"]


def test_spaces_and_accents_in_names(tmp_path: Path) -> None:
    folder = tmp_path / "IMR letters é 2015"
    letter = touch(folder / "décision finale.txt", "Décision: Upheld\n")
    files = expand_paths([str(folder), str(letter)], on_error=no_errors)
    assert files == [SourceFile(path=letter, display=str(letter))]
    assert read_letter_text(files[0].path, files[0].display) == "Décision: Upheld\n"
    pattern = str(tmp_path / "IMR letters é*" / "*.txt")
    assert expand_paths([pattern], on_error=no_errors)[0].path == letter


@needs_symlinks
def test_symlink_loop_terminates(tmp_path: Path) -> None:
    root = tmp_path / "loopy"
    touch(root / "a.txt")
    touch(root / "sub" / "b.pdf")
    os.symlink(root, root / "sub" / "back-to-root", target_is_directory=True)
    os.symlink(root / "sub", root / "sub" / "self", target_is_directory=True)
    errors = Errors()
    files = expand_paths([root], on_error=errors.append)
    assert sorted(f.path.resolve() for f in files) == sorted(
        [(root / "a.txt").resolve(), (root / "sub" / "b.pdf").resolve()]
    )
    assert len(errors) <= 1  # a loop may be reported once, never repeatedly


@needs_symlinks
def test_symlinks_to_files_and_folders_are_followed(tmp_path: Path) -> None:
    outside = touch(tmp_path / "elsewhere" / "real.txt")
    other = touch(tmp_path / "shared" / "x.pdf")
    root = tmp_path / "inbox"
    root.mkdir()
    os.symlink(outside, root / "link.txt")
    os.symlink(tmp_path / "shared", root / "shared-link", target_is_directory=True)
    os.symlink(tmp_path / "nowhere.txt", root / "broken.txt")
    errors = Errors()
    files = expand_paths([root, outside], on_error=errors.append)
    assert [f.path.resolve() for f in files] == [outside.resolve(), other.resolve()]
    assert errors == []  # the broken link inside the folder is not a letter

    expand_paths([root / "broken.txt"], on_error=errors.append)
    assert errors.messages == [
        f"{root / 'broken.txt'}: no such file or directory (broken symbolic link)"
    ]


def test_thousand_file_folder_is_fast(tmp_path: Path) -> None:
    root = tmp_path / "bulk"
    for n in range(1000):
        folder = root / f"batch{n % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"letter{n:04d}.txt").write_bytes(b"x")
    start = time.perf_counter()
    files = expand_paths([root], on_error=no_errors)
    elapsed = time.perf_counter() - start
    assert len(files) == 1000
    assert displays(files) == sorted(displays(files))
    assert elapsed < 2.0, f"expand_paths took {elapsed:.2f}s for 1,000 files"


def test_not_a_regular_file_is_reported(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    errors = Errors()
    assert expand_paths([fifo], on_error=errors.append) == []
    assert errors.messages == [f"{fifo}: not a regular file"]
    with pytest.raises(LetterError) as info:
        read_letter_text(fifo, "pipe.txt")
    assert str(info.value) == "pipe.txt: not a regular file"


def test_unreadable_subfolder_is_reported_and_walk_continues(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated, so it also runs as root.
    real_scandir = os.scandir
    blocked = Path("letters") / "2015"

    def scandir(path: os.PathLike[str] | str) -> object:
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors = Errors()
    files = expand_paths(["letters"], on_error=errors.append)
    assert [m.replace(os.sep, "/") for m in errors.messages] == [
        "letters/2015: cannot read folder (permission denied)"
    ]
    assert displays(files) == ["letters/a.PDF", "letters/b.txt"]
