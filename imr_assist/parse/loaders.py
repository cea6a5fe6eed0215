"""Finding letter files and reading their text.

``expand_paths`` turns what the user typed (files, folders, glob patterns) into a
deterministic list of files, reporting each bad input without stopping the batch.
``read_letter_text`` returns one file's text exactly as the parser should see it,
or raises ``LetterError`` with a short, specific, one-line reason.

The text is returned without normalising line endings: the parser records
character offsets into exactly this string, so it must not be rewritten here.
"""

from __future__ import annotations

import codecs
import glob
import io
import logging
import os
import stat
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_assist.errors import LetterError

__all__ = ["SourceFile", "expand_paths", "read_letter_text", "LETTER_SUFFIXES"]

#: Suffixes picked up when walking a folder (compared case-insensitively).
LETTER_SUFFIXES = frozenset({".txt", ".pdf"})

#: Characters that make an input a glob pattern rather than a literal path.
_GLOB_CHARS = frozenset("*?[")

#: Page separator in PDF text; the normaliser treats a form feed as a line break.
PAGE_BREAK = "\n\f\n"

_DEFAULT_MAX_BYTES = 50_000_000

#: Characters of text one letter may have. Real determinations run to tens of
#: thousands; a file with millions is a concatenation or a dump, and parsing and
#: embedding it would take minutes for nothing useful.
_DEFAULT_MAX_CHARS = 1_000_000


@dataclass(frozen=True)
class SourceFile:
    """A file to read, and how to name it in messages.

    ``display`` is the path as the user gave it, or as found under a folder they
    gave (``letters/2015/a.pdf``), so messages point at something they recognise.
    """

    path: Path
    display: str


# --------------------------------------------------------------------------- paths


def expand_paths(
    inputs: Sequence[str | Path], *, on_error: Callable[[LetterError], None]
) -> list[SourceFile]:
    """Expand files, folders and glob patterns into the files to read.

    - A file is returned whatever its suffix: naming it is explicit, and the
      parser decides whether it is a letter.
    - A folder is walked recursively for ``*.txt`` and ``*.pdf`` (any case);
      hidden entries (``.git``, macOS ``._x.pdf`` resource forks) are skipped.
      Symbolic links are followed, but a folder already being walked is not
      entered again, so a link loop cannot recurse forever.
    - A pattern containing ``*``, ``?`` or ``[`` is expanded (``**`` matches any
      depth); each match is treated as if it had been typed, as a shell would.
      A literal path that exists wins over reading it as a pattern, so a file
      called ``letter [1].txt`` still works.

    The result keeps the order of ``inputs``, is sorted within each input, and
    holds each file once even if it was reached twice (same inode). Problems go
    to ``on_error`` and the remaining inputs are still expanded.
    """
    found: list[SourceFile] = []
    seen: set[tuple[int, int]] = set()

    def add(path: Path, display: str) -> None:
        try:
            st = path.stat()
        except OSError as exc:  # vanished or unreadable between listing and now
            on_error(LetterError(display, _os_problem(exc)))
            return
        key = (st.st_dev, st.st_ino)
        if key not in seen:
            seen.add(key)
            found.append(SourceFile(path=path, display=display))

    for raw in inputs:
        given = os.fspath(raw)
        if os.path.exists(given) or not _GLOB_CHARS.intersection(given):
            _expand_one(given, add, on_error)
            continue
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            on_error(LetterError(given, "no files match"))
            continue
        count = sum(_expand_one(match, add, on_error, from_glob=True) for match in matches)
        if count == 0:  # it matched only folders, and none of them holds a letter
            on_error(LetterError(given, "no .txt or .pdf files match"))
    return found


def _expand_one(
    given: str,
    add: Callable[[Path, str], None],
    on_error: Callable[[LetterError], None],
    *,
    from_glob: bool = False,
) -> int:
    """Expand one literal path (typed, or matched by a glob); return the files found."""
    path = Path(given)
    try:
        st = path.stat()  # follows symbolic links
    except FileNotFoundError:
        problem = "no such file or directory"
        if os.path.islink(given):
            problem += " (broken symbolic link)"
        on_error(LetterError(given, problem))
        return 0
    except OSError as exc:
        on_error(LetterError(given, _os_problem(exc)))
        return 0

    if stat.S_ISDIR(st.st_mode):
        count = 0
        for file_path, display in _walk(path, given, on_error):
            add(file_path, display)
            count += 1
        # "**" also matches every sub-folder; only the user's own folders
        # deserve an "empty" warning, not each intermediate match.
        if count == 0 and not from_glob:
            on_error(LetterError(given, "no .txt or .pdf files in this folder"))
        return count
    if stat.S_ISREG(st.st_mode):
        add(path, given)
        return 1
    # FIFOs and devices would block or stream forever when read.
    on_error(LetterError(given, "not a regular file"))
    return 0


def _walk(
    root: Path, root_display: str, on_error: Callable[[LetterError], None]
) -> Iterator[tuple[Path, str]]:
    """Yield ``(path, display)`` for letter files under ``root``, sorted.

    Entries are visited in name order, files and sub-folders together, so the
    output order does not depend on the filesystem. ``visited`` holds the real
    path of every folder entered: a link to one of them (a loop back to a
    parent, or a second route to a sibling) is skipped silently, since its
    files are reached by the first route. Each folder is read at most once, so
    even a tangle of links costs time linear in the number of folders.
    """
    visited: set[str] = set()

    def visit(folder: Path, display: str) -> Iterator[tuple[Path, str]]:
        real = os.path.realpath(folder)
        if real in visited:
            return
        visited.add(real)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            on_error(LetterError(display, _os_problem(exc, what="folder")))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            entry_path = folder / entry.name
            entry_display = os.path.join(display, entry.name)
            try:
                is_dir = entry.is_dir()  # follows symbolic links
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue  # e.g. a link into a folder we may not search
            if is_dir:
                yield from visit(entry_path, entry_display)
            elif is_file and os.path.splitext(entry.name)[1].lower() in LETTER_SUFFIXES:
                yield entry_path, entry_display

    yield from visit(root, root_display)


def _os_problem(exc: OSError, what: str = "file") -> str:
    """A short reason for an ``OSError``, without the path Python puts in ``str``."""
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return f"cannot read {what} (permission denied)"
    reason = exc.strerror or type(exc).__name__
    return f"cannot read {what} ({reason.lower()})"


# ---------------------------------------------------------------------------- text


def read_letter_text(
    path: Path,
    display: str | None = None,
    *,
    max_bytes: int = _DEFAULT_MAX_BYTES,
    max_chars: int = _DEFAULT_MAX_CHARS,
) -> str:
    """Return the text of one letter file (.txt or .pdf; other suffixes as text).

    Text files are decoded as UTF-8 (a BOM is removed), UTF-16/UTF-32 when they
    start with a BOM, and otherwise as Windows-1252. PDF pages are joined with
    ``"\\n\\f\\n"``. Line endings are left alone because the parser keeps offsets
    into this exact string. Files over ``max_bytes`` and texts over ``max_chars``
    are refused: no single letter is that long.

    Raises ``LetterError(display or str(path), problem)`` with a one-line
    problem when the file cannot be read or holds no usable text.
    """
    path = Path(path)
    source = display if display is not None else str(path)

    def fail(problem: str) -> LetterError:
        return LetterError(source, problem)

    try:
        st = path.stat()
    except OSError as exc:
        raise fail(_os_problem(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise fail("is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise fail("not a regular file")
    if st.st_size > max_bytes:
        raise fail(_too_large(st.st_size, max_bytes))
    if st.st_size == 0:
        raise fail("file is empty")

    try:
        with path.open("rb") as fh:
            # Read one byte past the limit so a file that grew since stat() is
            # still caught without reading all of it.
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise fail(_os_problem(exc)) from None
    if len(data) > max_bytes:
        raise fail(_too_large(len(data), max_bytes))
    if not data:
        raise fail("file is empty")

    is_pdf_name = path.suffix.lower() == ".pdf"
    # A PDF saved under another name is still a PDF; sniff the header too.
    if is_pdf_name or data.startswith(b"%PDF-"):
        if b"%PDF-" not in data[:1024]:  # PDF readers accept junk before the header
            kind = _sniff(data)
            raise fail(f"not a PDF file (looks like {kind})" if kind else "not a PDF file")
        text = _pdf_text(data, fail)
    else:
        text = _decode_text(data, fail)

    if not text.strip():
        raise fail("file has no text")
    if len(text) > max_chars:
        raise fail(
            f"file is too long for one letter ({len(text):,} characters of text; "
            f"limit {max_chars:,})"
        )
    return text


def _too_large(size: int, limit: int) -> str:
    shown, shown_limit = _size(size), _size(limit)
    if shown == shown_limit:  # rounding hid the difference; be exact
        shown, shown_limit = f"{size:,} bytes", f"{limit:,} bytes"
    return f"file is too large ({shown}; limit {shown_limit})"


def _size(n: int) -> str:
    """Human size: megabytes for real letters, smaller units for tiny limits."""
    if n >= 100_000:
        mb = n / 1_000_000
        return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} KB"
    return f"{n} bytes"


# Magic numbers of files that users mistake for letters, for a useful hint.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)


def _sniff(data: bytes) -> str | None:
    """Name the format of ``data`` when it is a common non-letter format."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if b"\x00" not in head:
        try:
            # Incremental, so a character cut at the 512-byte mark is not an error.
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return None
        return "plain text"
    return None


# BOMs in the order they must be tested: UTF-32 LE starts with the UTF-16 LE BOM.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _latin1_for_undefined(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: map bytes cp1252 leaves undefined as Latin-1."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("imr_assist.latin1", _latin1_for_undefined)


def _decode_text(data: bytes, fail: Callable[[str], LetterError]) -> str:
    """Decode a text file; see ``read_letter_text`` for the order tried.

    Windows-1252 is the fallback because letters pasted through Word carry
    smart quotes and dashes (0x91-0x97) that are not valid UTF-8; it agrees with
    Latin-1 on every printable character, so Latin-1 files decode correctly too.
    The five bytes cp1252 leaves undefined are mapped as Latin-1 so decoding
    never fails on a text file.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                data = body  # decoded below, with the usual fallback
                break
            try:
                return body.decode(encoding)
            except UnicodeDecodeError:
                raise fail(f"file is not valid {encoding[:6].upper()} text") from None
    if b"\x00" in data:
        kind = _sniff(data)
        hint = f" (looks like {kind})" if kind and kind != "plain text" else ""
        raise fail(f"file is binary, not text{hint}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="imr_assist.latin1")


# ----------------------------------------------------------------------------- PDF


class _CollectRepairs(logging.Handler):
    """Keeps pypdf's messages for the PDF being read in the current context."""

    def emit(self, record: logging.LogRecord) -> None:
        repairs = _repairs.get()
        if repairs is not None:
            try:
                repairs.append(record.getMessage())
            except Exception:  # noqa: BLE001 - a bad format string must not break reading
                repairs.append(str(record.msg))


# Each reader (thread or task) sees its own list, so concurrent reads do not mix.
_repairs: ContextVar[list[str] | None] = ContextVar("imr_assist_pdf_repairs", default=None)
_collector = _CollectRepairs(level=logging.WARNING)
_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: tuple[int, bool] = (logging.NOTSET, True)


@contextmanager
def _quiet_pypdf() -> Iterator[list[str]]:
    """Capture, instead of print, pypdf's messages about damaged files.

    pypdf logs every repair it makes ("Object 10 0 not defined.") to the
    ``pypdf.*`` loggers, which Python prints to stderr when the app has not
    configured logging. We report damage ourselves as one ``LetterError``, and
    use the captured messages to tell a damaged file from a scanned one.

    While any read is in progress the ``pypdf`` logger stops propagating and
    hands its records to a collector; a depth counter restores the logger only
    when the last concurrent reader finishes. pypdf messages from other code in
    that window are dropped, which is acceptable for a CLI.
    """
    global _quiet_depth, _quiet_saved
    logger = logging.getLogger("pypdf")
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = (logger.level, logger.propagate)
            logger.setLevel(logging.WARNING)
            logger.propagate = False
            logger.addHandler(_collector)
        _quiet_depth += 1
    repairs: list[str] = []
    token = _repairs.set(repairs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield repairs
    finally:
        _repairs.reset(token)
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.removeHandler(_collector)
                logger.setLevel(_quiet_saved[0])
                logger.propagate = _quiet_saved[1]


def _short_reason(exc: BaseException | str) -> str:
    """First line of an exception message, trimmed for a one-line report."""
    lines = str(exc).strip().splitlines()
    reason = lines[0].strip().rstrip(".") if lines else ""
    if not reason:
        reason = type(exc).__name__
    if len(reason) > 80:
        reason = reason[:77].rstrip() + "..."
    return reason


def _has_images(page: Any) -> bool:
    """Whether a page draws a picture, as a scanned page does."""
    try:
        xobjects = page["/Resources"].get_object().get("/XObject")
        if xobjects is None:
            return False
        xobjects = xobjects.get_object()
        return any(
            xobjects[name].get_object().get("/Subtype") in ("/Image", "/Form") for name in xobjects
        )
    except Exception:  # noqa: BLE001 - a broken resource dictionary means "no"
        return False


# Posted letters are encrypted with an empty password and open as they are; one that
# asks for a password to be read cannot be opened here.
_PASSWORD = (
    "PDF is encrypted with a password (it does not open with an empty one); "
    "save an unprotected copy"
)


def _pdf_text(data: bytes, fail: Callable[[str], LetterError]) -> str:
    """Extract the text layer of a PDF, one page after another."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    # pypdf repairs a truncated file silently and returns the pages it could
    # find; for a tool that quotes letters, a silently shortened letter is
    # worse than an error, so a missing end-of-file marker counts as damage.
    if b"%%EOF" not in data[-65536:]:
        raise fail("PDF is damaged: file is truncated (no end-of-file marker)")

    with _quiet_pypdf() as repairs:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except DependencyError:
                    # AES needs 'cryptography', a dependency of imr-assist; only a
                    # broken install lacks it.
                    raise fail(
                        "PDF is AES-encrypted and the 'cryptography' package is missing; "
                        "reinstall imr-assist (pip install imr-assist) to open it"
                    ) from None
                if not opened:
                    raise fail(_PASSWORD)
            pages = list(reader.pages)
        except LetterError:
            raise
        except FileNotDecryptedError:
            raise fail(_PASSWORD) from None
        except Exception as exc:  # noqa: BLE001 - damaged PDFs raise all sorts
            raise fail(f"PDF is damaged: {_short_reason(exc)}") from None
        if not pages:
            raise fail("PDF has no pages")

        texts: list[str] = []
        for number, page in enumerate(pages, start=1):
            before = len(repairs)
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # noqa: BLE001 - same: any error is damage
                raise fail(f"PDF is damaged: page {number}: {_short_reason(exc)}") from None
            # pypdf skips a page whose content stream will not decompress and
            # returns "" or a fragment; that would silently drop part of the
            # letter. Other repairs (odd dictionaries, fonts) are common in
            # good files, so they count only when a page without pictures
            # (not a scanned page) came out empty.
            new = repairs[before:]
            lost = [m for m in new if "decompress" in m.lower()]
            if not lost and new and not text.strip() and not _has_images(page):
                lost = new
            if lost:
                raise fail(f"PDF is damaged: page {number}: {_short_reason(lost[0])}")
            texts.append(text)

        if not any(t.strip() for t in texts):
            # No text at all: a scan has pictures on its pages; a file that
            # pypdf had to repair and that has no pictures lost its text to
            # the damage (e.g. missing font objects), and OCR would not help.
            if repairs and not any(_has_images(page) for page in pages):
                raise fail(f"PDF is damaged: {_short_reason(repairs[0])}")
            raise fail("PDF has no text layer (scanned image?); run OCR first")
    return PAGE_BREAK.join(texts)
