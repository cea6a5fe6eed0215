"""Stage 2: parse, chunk, embed and store letters, idempotently.

Each letter is keyed by the sha256 of its text: an unchanged letter embeds
nothing, a changed one replaces its old chunks, the same letter under two names
is indexed once. Letters are embedded in batches across letters (the model runs
fastest on many length-sorted texts at once) and committed to the catalog only
after their vectors are stored.

Crash safety: before a batch's vectors are written, their ids and the ids of
the chunks they replace are recorded as pending. Whatever the moment an ingest
dies, the next one deletes every pending vector that has no committed catalog
row, and rebuilds the lexical index if it does not match the catalog; so the
store and the catalog end up holding the same chunks, each once. Only one
ingest may write to an index at a time (``IndexLock.writer``).
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imr_assist.errors import ImrError, LetterError
from imr_assist.index.catalog import Catalog
from imr_assist.index.chunking import chunk_letter
from imr_assist.index.crashpoints import reached
from imr_assist.index.embed import Embedder
from imr_assist.index.index import Index, IndexLock
from imr_assist.models import Chunk, Letter
from imr_assist.parse import parse_text
from imr_assist.parse.loaders import SourceFile, expand_paths, read_letter_text
from imr_assist.settings import DEFAULTS, Settings

# Letters per batch, and batches between two stages: settings.IndexSettings (the values
# and why). This is the default batch size.
BATCH_LETTERS = DEFAULTS.index.batch_letters


@dataclass
class IngestReport:
    letters_seen: int = 0
    letters_indexed: int = 0
    letters_replaced: int = 0
    letters_unchanged: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, same as doc_id)
    items: int = 0
    chunks_embedded: int = 0
    failures: list[LetterError] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict[str, object]:
        return {
            "letters_seen": self.letters_seen,
            "letters_indexed": self.letters_indexed,
            "letters_replaced": self.letters_replaced,
            "letters_unchanged": self.letters_unchanged,
            "duplicates": [{"source": s, "same_as": d} for s, d in self.duplicates],
            "items": self.items,
            "chunks_embedded": self.chunks_embedded,
            "failed": [{"source": e.source, "problem": e.problem} for e in self.failures],
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
        }


_HTML = re.compile(r"\ufeff?\s*<(?:!doctype\s+html|html)\b", re.IGNORECASE)

ProgressFn = Callable[[int, int, str], None]  # (done, total, current source)


class IngestInterrupted(ImrError):
    """Ctrl-C during an ingest: what was committed is kept, the rest is not indexed.

    ``report`` holds what this run committed before the interrupt."""

    exit_code = 130

    def __init__(self, report: IngestReport, where: str, total: int | None) -> None:
        self.report = report
        self.total = total
        held = f"; the index now holds {total} letter(s)" if total is not None else ""
        super().__init__(
            f"interrupted: {report.letters_indexed} letter(s) of this run were committed to "
            f"{where} and are kept{held}; run the same ingest again to index the rest "
            "(letters already indexed are skipped)"
        )


def ingest(
    inputs: Sequence[str | Path],
    settings: Settings,
    *,
    reset: bool = False,
    progress: ProgressFn | None = None,
    index: Index | None = None,
) -> IngestReport:
    """Ingest every letter under ``inputs`` into the index named by ``settings``."""
    t0 = time.perf_counter()
    report = IngestReport()
    root = index.root if index is not None else settings.index_dir
    idx = index
    try:
        root.mkdir(parents=True, exist_ok=True)
        # The writer lock comes first, so a folder holding only ``ingest.lock`` is an
        # ingest that wrote nothing yet: readers open it as an empty index.
        with IndexLock(root).writer():
            reached("locked")
            idx = idx or Index.open(settings, create=True)
            if reset:
                idx.reset()
            idx.ensure_embedder_matches()
            idx.record_fingerprint()
            idx.cleanup_orphans()
            reached("opened")
            _ingest_sources(idx, inputs, report, progress)
            idx.keep_missing_vectors()
            if report.letters_indexed or not idx.lexical_is_current():
                idx.update_lexical()
            reached("done")
    except KeyboardInterrupt:
        report.seconds = time.perf_counter() - t0
        raise IngestInterrupted(report, settings.chroma_url or str(root), _held(idx)) from None
    report.seconds = time.perf_counter() - t0
    return report


def _held(idx: Index | None) -> int | None:
    """Letters the catalog holds, for the interrupt message (None if it cannot say)."""
    try:
        return idx.catalog.count_letters() if idx is not None else None
    except Exception:  # noqa: BLE001 - a message detail must not mask the interrupt
        return None


def _ingest_sources(
    idx: Index, inputs: Sequence[str | Path], report: IngestReport, progress: ProgressFn | None
) -> None:
    """Three stages overlap, each on its own thread, joined by bounded queues:

    1. read, hash, parse and chunk letters into batches (pure Python: one thread);
    2. embed each batch (onnxruntime releases the GIL while its ``intra_op`` threads,
       one per core, run the model);
    3. write each batch, in order, on this thread: pending ids, vectors, catalog
       commit, stale vectors (``_write``), exactly as a sequential ingest would.

    So the model is never idle while a batch is parsed or committed, and each batch's
    commit stays one transaction after its vectors are stored. Crash points, Ctrl-C
    and the writer lock all stay on this thread; the workers only read and compute.
    """
    sources = expand_paths(inputs, on_error=report.failures.append)
    embedder = idx.embedder
    stop = threading.Event()
    tuning = idx.settings.index
    parsed: queue.Queue[object] = queue.Queue(tuning.pipeline_depth)
    embedded: queue.Queue[object] = queue.Queue(tuning.pipeline_depth)
    # The parse stage looks letters up in the catalog through its own connection.
    lookup = Catalog(idx.catalog.path)
    cache = _VectorCache()

    def parse_stage() -> None:
        try:
            batches = _batches(
                lookup, sources, report, progress, embedder, stop, tuning.batch_letters
            )
            for batch in batches:
                _put(parsed, batch, stop)
        except BaseException as err:  # noqa: BLE001 - re-raised on the writing thread
            _put(parsed, _Failed(err), stop)
        finally:
            _put(parsed, _END, stop)

    def embed_stage() -> None:
        while (batch := _get(parsed, stop)) is not _END:
            if isinstance(batch, _Failed):
                _put(embedded, batch, stop)
                break
            assert isinstance(batch, _Batch)
            te = time.perf_counter()
            try:
                batch.vectors = cache.embed(
                    embedder, [c.metadata["embed_text"] for c in batch.chunks]
                )
            except BaseException as err:  # noqa: BLE001 - re-raised on the writing thread
                _put(embedded, _Failed(err), stop)
                break
            report.embed_seconds += time.perf_counter() - te
            _put(embedded, batch, stop)
        _put(embedded, _END, stop)

    workers = [
        threading.Thread(target=parse_stage, name="ingest-parse", daemon=True),
        threading.Thread(target=embed_stage, name="ingest-embed", daemon=True),
    ]
    for w in workers:
        w.start()
    try:
        while (item := embedded.get()) is not _END:  # Ctrl-C interrupts the wait
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, _Batch)
            _write(idx, item, report)
    finally:
        stop.set()  # an error or Ctrl-C here: the workers drop what they hold and end
        for q in (parsed, embedded):
            _drain(q)
        for w in workers:
            w.join()
        lookup.close()


@dataclass
class _Batch:
    """Letters committed together, their chunks, and (after stage 2) their vectors."""

    letters: list[tuple[Letter, bool]]  # (letter, replacing an older text of it)
    chunked: list[tuple[Letter, list[Chunk]]]
    vectors: np.ndarray | None = None

    @property
    def chunks(self) -> list[Chunk]:
        return [c for _, cs in self.chunked for c in cs]


@dataclass
class _Failed:
    """An exception raised on a worker thread, carried to the writing thread."""

    error: BaseException


_END = object()


def _put(q: queue.Queue[object], item: object, stop: threading.Event) -> None:
    """Put, unless the pipeline is stopping (then the writer no longer reads)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue[object], stop: threading.Event) -> object:
    """The next item, or ``_END`` once the pipeline is stopping."""
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue
    return _END


def _drain(q: queue.Queue[object]) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def _batches(
    lookup: Catalog,
    sources: list[SourceFile],
    report: IngestReport,
    progress: ProgressFn | None,
    embedder: Embedder,
    stop: threading.Event,
    size: int = BATCH_LETTERS,
) -> Iterator[_Batch]:
    """Stage 1: new and changed letters, parsed and chunked, ``size`` at a time."""
    total = len(sources)
    batch: list[tuple[Letter, bool]] = []
    batched: dict[str, Letter] = {}  # sha256 -> letter taken in this run
    id_source: dict[str, str] = {}  # doc_id -> the file that gave it in this run
    for n, src in enumerate(sources, 1):
        if stop.is_set():
            return
        report.letters_seen += 1
        try:
            doc_id, letter, owner = _read(lookup, src, batched)
            if owner is None and doc_id in id_source:
                # Two different texts under one id (a case number or a file name):
                # the second would silently replace the first.
                raise LetterError(
                    src.display,
                    f"same letter id {doc_id!r} as {id_source[doc_id]} but a different "
                    "text; not indexed (rename one file, or check the case numbers)",
                )
        except LetterError as err:
            report.failures.append(err)
        else:
            if owner is None or owner == doc_id:  # an id this run indexes or keeps
                id_source.setdefault(doc_id, src.display)
            if owner == doc_id:
                report.letters_unchanged += 1
            elif owner is not None:
                report.duplicates.append((src.display, owner))
            else:
                assert letter is not None
                batched[letter.sha256] = letter
                replacing = lookup.doc_sha(letter.doc_id) is not None
                batch.append((letter, replacing))
                if len(batch) >= size:
                    yield _chunked(batch, embedder)
                    batch = []
        if progress:
            progress(n, total, src.display)
    if batch:
        yield _chunked(batch, embedder)


def _chunked(batch: list[tuple[Letter, bool]], embedder: Embedder) -> _Batch:
    return _Batch(
        letters=batch,
        chunked=[
            (letter, chunk_letter(letter, embedder.count_tokens, embedder.max_tokens))
            for letter, _ in batch
        ],
    )


def _read(
    catalog: Catalog, src: SourceFile, batched: dict[str, Letter]
) -> tuple[str, Letter | None, str | None]:
    """``(doc id, letter, owner)`` for one file; ``owner`` is the doc id already holding
    the same text, if any. A text already seen is not parsed again: re-ingesting a
    folder of thousands of letters then costs a read and a hash per letter."""
    text = read_letter_text(src.path, src.display)
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if (same := batched.get(sha)) is not None:
        return _doc_id(same.case_number, src), None, same.doc_id
    row = catalog.db.execute(
        "SELECT doc_id, json_extract(record, '$.case_number') FROM letters WHERE sha256=?",
        (sha,),
    ).fetchone()
    if row is not None:
        return _doc_id(row[1], src), None, row[0]
    # The same steps as ``parse_file``, reusing the text already read.
    try:
        letter = parse_text(text, source=src.display, doc_id=src.path.stem)
    except LetterError as err:
        if _HTML.match(text):
            raise LetterError(
                src.display,
                "an HTML page, not an IMR letter; save the letter itself as PDF or text",
            ) from err
        raise
    if letter.sha256 != sha:  # the parser keys letters some other way: trust it
        taken = batched.get(letter.sha256)
        owner = taken.doc_id if taken is not None else catalog.sha_owner(letter.sha256)
        if owner is not None:
            return letter.doc_id, None, owner
    return letter.doc_id, letter, None


def _doc_id(case_number: str | None, src: SourceFile) -> str:
    """The doc id ``parse_file`` gives a letter: its case number, else the file's stem."""
    return case_number or src.path.stem


def _write(idx: Index, batch: _Batch, report: IngestReport) -> None:
    """Stage 3: store a batch's vectors, then commit its letters to the catalog."""
    all_chunks = batch.chunks
    assert batch.vectors is not None
    ids = [c.id for c in all_chunks]
    new_ids = set(ids)
    stale = [
        i
        for letter, replacing in batch.letters
        if replacing
        for i in idx.catalog.chunk_ids(letter.doc_id)
        if i not in new_ids
    ]
    with idx.lock.exclusive():
        # Record the ids first. If the process dies before the commit, the new
        # vectors have no catalog rows; if it dies after it, the replaced ones have
        # none any more: either way the next ingest deletes exactly those.
        idx.catalog.add_pending(ids + stale)
        reached("pending")
        idx.store.upsert(
            ids,
            batch.vectors,
            [c.text for c in all_chunks],
            [{k: v for k, v in c.metadata.items() if k != "embed_text"} for c in all_chunks],
        )
        reached("upsert")
        idx.catalog.commit_letters(batch.chunked, batch.vectors)
        # Counted as soon as they are committed, so an interrupt reports them as kept.
        for letter, replacing in batch.letters:
            report.letters_indexed += 1
            report.letters_replaced += int(replacing)
            report.items += len(letter.items)
        report.chunks_embedded += len(all_chunks)
        reached("commit")
        idx.store.delete(stale)
        idx.catalog.clear_pending()
    reached("batch")


class _VectorCache:
    """Vectors of texts embedded earlier in this run, so repeats cost no model pass:
    a letter re-sent under a new cover sheet, or a paragraph several letters share."""

    #: About 30 MB of float32 rows at 384 dimensions; later texts are simply not kept.
    LIMIT = 20_000

    def __init__(self) -> None:
        self.rows: dict[str, np.ndarray] = {}

    def embed(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.rows]
        if not texts or (len(todo) == len(texts) and len(self.rows) >= self.LIMIT):
            return embedder.embed(texts)  # nothing repeats and nothing more fits
        fresh = embedder.embed(todo) if todo else None
        found = {t: fresh[n] for n, t in enumerate(todo)} if fresh is not None else {}
        for text, row in found.items():
            if len(self.rows) >= self.LIMIT:
                break
            self.rows[text] = row
        return np.stack([found[t] if t in found else self.rows[t] for t in texts])
