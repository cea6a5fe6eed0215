"""The index as one object: catalog, vector store, lexical index and embedder.

Several processes may use one index folder: one ``ingest`` writing while
``ask``, ``search`` and ``chat`` read. The embedded Chroma store is not safe for
that on its own: with one process writing and others opening and querying it,
readers crash (SIGSEGV) and the store can be left unreadable. ``IndexLock``
makes it safe: readers hold a shared lock while they open or query the store or
load the lexical index, the writer an exclusive one while it writes, and a
second ``ingest`` is refused. A Chroma server (``--chroma-url``) serves many
processes by itself; the locks then only guard the files in the index folder.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from imr_assist.errors import IndexStateError
from imr_assist.index.catalog import SCHEMA_VERSION, Catalog
from imr_assist.index.crashpoints import reached
from imr_assist.index.store import VectorStore
from imr_assist.settings import Settings
from imr_assist.urls import redact_urls_in

if TYPE_CHECKING:  # numpy loads with the first vector or lexical query, not with the catalog
    import numpy as np

    from imr_assist.index.embed import Embedder
    from imr_assist.index.lexical import LexicalIndex

CATALOG_FILE = "catalog.sqlite"
CHROMA_DIR = "chroma"
BM25_DIR = "bm25"
#: Names the current BM25 folder; replaced atomically, so a crash mid-rebuild leaves
#: either the old lexical index or the new one, never none.
BM25_POINTER = "bm25.current"
LOCK_FILE = "index.lock"  # shared: reading the store; exclusive: writing it
GATE_FILE = "index.gate"  # held by a writer waiting for readers, so they cannot starve it
WRITER_FILE = "ingest.lock"  # one ingest at a time
#: Longest wait, in seconds, for another process to finish with the index.
LOCK_WAIT = 60.0


@dataclass
class _Held:
    """This process's hold on one index's lock: flock locks are per open file, so
    nested and repeated requests in one process must share a single descriptor."""

    fd: int | None  # None: a read-only index folder, read without locking
    exclusive: bool
    depth: int


_held: dict[str, _Held] = {}
_held_guard = threading.RLock()


class IndexLock:
    """Advisory ``fcntl.flock`` locks on files in the index folder.

    ``shared()`` for reading the vector store, ``exclusive()`` for writing it; both
    wait at most ``timeout`` seconds, then raise ``IndexStateError``. A writer
    first takes the gate file, so readers arriving after it queue behind it
    instead of keeping the shared lock busy forever. Within one process the locks
    nest (an exclusive hold covers shared requests). The kernel drops a process's
    locks when it dies, so a killed ingest never leaves the index locked.
    """

    def __init__(self, root: Path, timeout: float = LOCK_WAIT) -> None:
        self.root = root
        self.timeout = timeout

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._hold(exclusive=False):
            yield

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._hold(exclusive=True):
            yield

    @contextmanager
    def _hold(self, *, exclusive: bool) -> Iterator[None]:
        path = self._path(LOCK_FILE)
        key = os.path.realpath(path)
        with _held_guard:
            held = _held.get(key)
            if held is None:
                held = _held[key] = self._acquire(path, exclusive)
            elif exclusive and not held.exclusive:
                raise RuntimeError("cannot upgrade a shared index lock to an exclusive one")
            else:
                held.depth += 1
        try:
            yield
        finally:
            with _held_guard:
                held.depth -= 1
                if held.depth == 0:
                    del _held[key]
                    if held.fd is not None:
                        os.close(held.fd)  # closing the only descriptor releases the lock

    def _acquire(self, path: Path, exclusive: bool) -> _Held:
        deadline = time.monotonic() + self.timeout
        mode, holder = (fcntl.LOCK_EX, "a reader") if exclusive else (fcntl.LOCK_SH, "an ingest")
        try:
            gate = os.open(self._path(GATE_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            if exclusive or err.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            # A folder we may not write to (a shared, read-only copy): nobody can
            # ingest into it through us, so reading needs no lock.
            return _Held(fd=None, exclusive=False, depth=1)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except BaseException:
            os.close(gate)
            raise
        try:
            self._wait(gate, mode, deadline, holder)
            self._wait(fd, mode, deadline, holder)
        except BaseException:
            os.close(fd)
            raise
        finally:
            os.close(gate)  # through the gate: others may queue at it again
        return _Held(fd=fd, exclusive=exclusive, depth=1)

    def _wait(self, fd: int, mode: int, deadline: float, holder: str) -> None:
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise IndexStateError(
                    f"index at {self.root} is busy: {holder} held it for more than "
                    f"{self.timeout:g}s; try again later, or serve the index with `chroma run` "
                    "and pass --chroma-url for heavy concurrent use"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    @contextmanager
    def writer(self) -> Iterator[None]:
        """The right to ingest: refused at once if another ingest holds it."""
        fd = os.open(self._path(WRITER_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                who = f" (process {pid})" if pid.isdigit() else ""
                raise IndexStateError(
                    f"another ingest{who} is writing to the index at {self.root}; "
                    "wait for it to finish, then run this one again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)

    def _path(self, name: str) -> Path:
        return self.root / name


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name, from the registry in ``index/embed.py``."""
    from imr_assist.index.embed import EMBEDDERS, make_embedder

    kind = EMBEDDERS.get(settings.embedder)
    return make_embedder(
        settings.embedder,
        model_path=settings.embed_model_path,
        model=settings.embed_api_model,
        base_url=settings.embed_base_url or settings.openai_base_url,
        api_key=settings.api_key(),
        # texts per request: an endpoint's setting, not the local model's batch
        batch_size=settings.embed_batch_size if kind is not None and kind.endpoint else None,
        concurrency=settings.embed_concurrency,
    )


class Index:
    """Open with ``Index.open(settings)``; everything heavy loads on first use."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self.catalog = catalog
        self.lock = IndexLock(self.root)
        self._bm25: LexicalIndex | None = None
        self._last_query: tuple[str, np.ndarray] | None = None

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Index:
        root = settings.index_dir
        cat = root / CATALOG_FILE
        # ``ingest`` takes its lock before it writes anything: a folder with the lock
        # file and no catalog is an ingest that stopped (or has not yet got) that far,
        # an empty index rather than none.
        started = (root / WRITER_FILE).exists()
        if not create and not started and not cat.exists():
            raise IndexStateError(
                f"no index at {root}; build one with `imr-assist ingest PATH --index {root}`"
            )
        catalog = Catalog(cat)
        schema = catalog.get_meta("schema")
        if schema not in (None, SCHEMA_VERSION):
            raise IndexStateError(
                f"index at {root} has an older layout; rebuild it with `imr-assist ingest --reset`"
            )
        if schema is None:  # only a new index is written to here, not every reader's
            catalog.set_meta("schema", SCHEMA_VERSION)
        index = cls(settings, catalog)
        if not create:  # an ingest checks after its --reset (ensure_embedder_matches)
            index._check_chunker()
        return index

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        if self.settings.chroma_url:  # the server orders concurrent requests itself
            return VectorStore(url=self.settings.chroma_url)
        return VectorStore(path=self.root / CHROMA_DIR, lock=self.lock)

    # --- embedder identity -------------------------------------------------------
    def _check_chunker(self) -> None:
        """Refuse an index chunked under other settings (``Settings.chunker_fingerprint``)."""
        recorded = self.catalog.get_meta("chunker")
        current = self.settings.chunker_fingerprint()
        if recorded is not None and recorded != current:
            raise IndexStateError(
                f"index at {self.root} was built with {recorded}, not {current}; rebuild it "
                f"with `imr-assist ingest PATH --index {self.root} --reset`"
            )

    def ensure_embedder_matches(self) -> None:
        """Record the embedder on first use; refuse to mix vectors from two models, or
        chunks from two chunkers."""
        self._check_chunker()
        recorded = self.catalog.get_meta("embedder")
        name = self.embedder.name
        if recorded is None or (recorded != name and redact_urls_in(recorded) == name):
            # An index from before URLs were redacted may hold a key in the name: rewrite it.
            self.catalog.set_meta("embedder", name)
        elif recorded != name:
            raise IndexStateError(
                f"index at {self.root} was built with embedder {redact_urls_in(recorded)!r}, "
                f"not {name!r}; "
                "use the same embedder settings, or rebuild with `imr-assist ingest PATH --reset`"
            )

    def record_fingerprint(self) -> None:
        """Write what shaped this index (``Settings.index_fingerprint``): ingest does, after
        ``ensure_embedder_matches``; ``chunker`` is what ``open`` checks."""
        for key, value in (
            ("chunker", self.settings.chunker_fingerprint()),
            ("fingerprint", self.settings.index_fingerprint(self.embedder.name)),
        ):
            if self.catalog.get_meta(key) != value:
                self.catalog.set_meta(key, value)

    def keep_missing_vectors(self) -> None:
        """Copy into the catalog the store's vectors of chunks committed before the
        catalog kept them, so filtered questions need not open the store; vectors kept
        as blobs move to the vector file."""
        self.catalog.move_vectors_to_file()
        missing = self.catalog.chunks_without_vectors()
        for i in range(0, len(missing), 2000):
            part = missing[i : i + 2000]
            with self.lock.shared():
                got = self.store.collection.get(ids=part, include=["embeddings"])
            self.catalog.add_vectors(zip(got["ids"], got["embeddings"], strict=True))
        self.catalog.fill_item_runs()

    def nearest_kept(
        self, vector: np.ndarray, ids: Iterable[str], n: int
    ) -> list[tuple[str, float]] | None:
        """(chunk id, cosine similarity) of the ``n`` chunks among ``ids`` nearest
        ``vector``, scored exactly from the catalog's copy of their vectors; None when
        some have no copy there (an index written before it kept them). ``ids`` may map
        each to its row in the vector file (``Catalog.item_chunk_ids``)."""
        import numpy as np

        got = self.catalog.vectors(ids, ids if isinstance(ids, Mapping) else None)
        if got is None:
            return None
        order, matrix = got
        if not order:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        # row norms by einsum: no squared copy of the matrix (linalg.norm's took 10-40 ms
        # at 17,000 rows, einsum 2 ms)
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
        sims = matrix @ query / (norms * np.linalg.norm(query) + 1e-12)
        top = np.argsort(-sims, kind="stable")[:n]  # ``order`` is sorted: ties by id
        return [(order[j], float(sims[j])) for j in top]

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector; the last one is kept, as an answer may rank its
        passages and then compare sentences with the same question."""
        if self._last_query is not None and self._last_query[0] == text:
            return self._last_query[1]
        self.ensure_embedder_matches()
        vector: np.ndarray = self.embedder.embed([text])[0]
        self._last_query = (text, vector)
        return vector

    # --- maintenance -------------------------------------------------------------
    def reset(self) -> None:
        with self.lock.exclusive():
            self.store.reset()
            self.catalog.close()
            for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
                (self.root / name).unlink(missing_ok=True)
            (self.root / BM25_POINTER).unlink(missing_ok=True)
            self.catalog.vector_file.remove()
            for folder in self._bm25_folders():
                shutil.rmtree(folder, ignore_errors=True)
            self.catalog = Catalog(self.root / CATALOG_FILE)
            self.catalog.set_meta("schema", SCHEMA_VERSION)
            self._bm25 = None

    def cleanup_orphans(self) -> None:
        """Remove vectors whose letters never committed (an ingest died mid-batch)."""
        with self.lock.exclusive():
            orphans = self.catalog.pending_orphans()
            if orphans:
                self.store.delete(orphans)
            self.catalog.clear_pending()

    # --- lexical index ------------------------------------------------------------
    def rebuild_lexical(self) -> None:
        """Build BM25 over every committed chunk from scratch and make it current."""
        from imr_assist.index.lexical import LexicalIndex

        self._save_lexical(LexicalIndex.build(self.catalog.all_chunks()))

    def update_lexical(self) -> None:
        """Bring BM25 up to the committed chunks: tokenize the chunks added since the
        current lexical index, drop the removed ones, keep the rest as they are (the
        result equals a rebuild). Rebuilt whole if there is none, or one of an older
        format. Nothing is written when it is current."""
        current = self._load_lexical()
        if current is None:
            self.rebuild_lexical()
            return
        held = set(current.ids)
        committed = self.catalog.all_chunk_ids()
        added = [cid for cid in committed if cid not in held]
        removed = held - set(committed)
        if added or removed:
            rows = self.catalog.chunk_texts(added)
            self._save_lexical(current.updated(rows, remove=removed))

    def _save_lexical(self, lexical: LexicalIndex) -> None:
        """Write ``lexical`` to a fresh folder and make it current in one step.

        The pointer file naming the current folder is replaced atomically, so a reader
        or a crash sees the old lexical index or the new one, never a half-written one.
        """
        name = f"{BM25_DIR}.{os.getpid()}.{time.time_ns()}"
        target = self.root / name
        lexical.save(target)
        pointer = self.root / (BM25_POINTER + ".tmp")
        pointer.write_text(name)
        reached("lexical-saved")
        with self.lock.exclusive():
            os.replace(pointer, self.root / BM25_POINTER)
            reached("lexical-switched")
            for folder in self._bm25_folders():
                if folder.name != name:
                    shutil.rmtree(folder, ignore_errors=True)
        self._bm25 = None

    def _load_lexical(self) -> LexicalIndex | None:
        """The current lexical index, or None (none yet, or an older format)."""
        from imr_assist.index.lexical import LexicalIndex

        with self.lock.shared():
            folder = self._bm25_current()
            if folder is None or not LexicalIndex.is_saved_in(folder):
                return None
            return LexicalIndex.load(folder)

    def lexical_is_current(self) -> bool:
        """Whether the lexical index covers exactly the committed chunks."""
        from imr_assist.index.lexical import LexicalIndex

        folder = self._bm25_current()
        if folder is None or not LexicalIndex.is_saved_in(folder):
            return False
        try:
            ids = json.loads((folder / "ids.json").read_text())
        except (OSError, ValueError):
            return False
        return sorted(ids) == self.catalog.all_chunk_ids()

    def _bm25_current(self) -> Path | None:
        """The current BM25 folder (the pointer's, else the older fixed ``bm25/``)."""
        try:
            name = (self.root / BM25_POINTER).read_text().strip()
        except FileNotFoundError:
            legacy = self.root / BM25_DIR
            return legacy if legacy.is_dir() else None
        folder = self.root / name
        return folder if name.startswith(BM25_DIR) and folder.is_dir() else None

    def _bm25_folders(self) -> list[Path]:
        return [
            p
            for p in self.root.glob(BM25_DIR + "*")
            if p.is_dir() and (p.name == BM25_DIR or p.name.startswith(BM25_DIR + "."))
        ]

    def lexical_scores(self, query: str, top: int | None = None) -> dict[str, float]:
        """BM25 scores of the chunks that match, best first (ties by chunk id); the
        ``top`` best if given."""
        lexical = self._lexical()
        return lexical.top(query, top) if lexical is not None else {}

    def _lexical(self) -> LexicalIndex | None:
        from imr_assist.index.lexical import LexicalIndex

        if self._bm25 is None:
            with self.lock.shared():
                folder = self._bm25_current()
                if folder is None:
                    return None
                if not LexicalIndex.is_saved_in(folder):
                    raise IndexStateError(
                        f"the lexical index at {folder} is in an older format; run "
                        f"`imr-assist ingest PATH --index {self.root}` once to rebuild it "
                        "(unchanged letters are not parsed or embedded again)"
                    )
                self._bm25 = LexicalIndex.load(folder)
        return self._bm25

    # --- long-lived readers (chat, an Assistant) -----------------------------------
    def reader_state(self) -> tuple[int, str | None]:
        """What the copies a reader has loaded depend on: the catalog's generation
        (bumped with each commit of letters) and the current lexical index folder."""
        folder = self._bm25_current()
        return self.catalog.generation(), folder.name if folder else None

    def forget_loaded(self) -> None:
        """Drop the vector store client and the lexical index loaded so far, so the next
        query loads the current ones. The embedded Chroma client keeps its HNSW index
        in memory and never sees vectors another process wrote; a new client does."""
        store = self.__dict__.pop("store", None)
        if store is not None and not self.settings.chroma_url:
            # The last client of a folder in this process releases its loaded index.
            store.client.close()
        self._bm25 = None

    def close(self) -> None:
        self.catalog.close()


def index_path_exists(path: Path) -> bool:
    return (path / CATALOG_FILE).exists()
