"""The catalog: parsed records, chunk texts and index facts in one SQLite file.

The catalog is the index's manifest. A letter exists for queries only once its
row is committed here (with a copy of its chunk vectors), after its vectors are in
Chroma; so a crash mid-ingest
leaves at most invisible vectors (listed in ``pending`` and removed on the next
ingest), never half a letter. SQLite in WAL mode lets readers query while one
ingest writes.

Readers that live across ingests (``chat``, an ``Assistant``) rely on two things:
the ``generation`` in ``meta``, bumped in the same transaction as each commit of
letters, tells them that the catalog changed since they last looked; and
``snapshot()`` holds one read transaction, so every catalog read of one answer
sees the same committed state even while an ingest commits batch after batch.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imr_assist.gcpause import paused_gc
from imr_assist.index.crashpoints import reached
from imr_assist.index.vector_file import VECTOR_FILE, VectorFile
from imr_assist.models import Chunk, Letter

if TYPE_CHECKING:  # numpy loads with the first vector read, not with the catalog
    import numpy as np

SCHEMA_VERSION = "1"
#: Parsed letters kept in memory, the most recently read (a letter is about 100 KB).
LETTERS_CACHED = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS letters (
    doc_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    record TEXT NOT NULL,
    text TEXT NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    doc_id TEXT NOT NULL,
    item_index INTEGER NOT NULL,
    treatment TEXT NOT NULL,
    canonical TEXT,
    generic TEXT,
    drug_class TEXT,
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL,
    specialties TEXT NOT NULL,
    guidelines TEXT NOT NULL,
    -- the item's chunks are chunk_key:0 .. chunk_key:(vector_count - 1), their vectors
    -- the rows from vector_first on in the vector file (NULL: look them up)
    chunk_key TEXT,
    vector_first INTEGER,
    vector_count INTEGER,
    PRIMARY KEY (doc_id, item_index)
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    section TEXT NOT NULL,
    item_index INTEGER,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    meta TEXT NOT NULL
);
-- a letter's chunks, and its item chunks read from the index alone (at 500,000 chunks,
-- selecting the item chunks of 6,000 letters: 1 s reading rows, 0.1 s from this index)
CREATE INDEX IF NOT EXISTS chunks_doc_item ON chunks(doc_id, section, item_index, id);
DROP INDEX IF EXISTS chunks_doc;
CREATE INDEX IF NOT EXISTS items_generic ON items(generic);
CREATE INDEX IF NOT EXISTS items_class ON items(drug_class);
CREATE INDEX IF NOT EXISTS items_canonical ON items(canonical);
CREATE INDEX IF NOT EXISTS items_decision_doc ON items(decision, doc_id);
DROP INDEX IF EXISTS items_decision;
CREATE TABLE IF NOT EXISTS letter_facts (
    doc_id TEXT PRIMARY KEY,
    case_number TEXT,
    age INTEGER,
    sex TEXT,
    date_of_injury TEXT,
    specialties TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS letter_facts_age ON letter_facts(age);
-- how many items each letter decided ("letters that decided more than one item")
CREATE TABLE IF NOT EXISTS letter_items (doc_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS letter_items_n ON letter_items(n, doc_id);
CREATE INDEX IF NOT EXISTS letter_facts_injury ON letter_facts(date_of_injury);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);
-- vectors as blobs: catalogs written before the vector file (read, then moved there)
CREATE TABLE IF NOT EXISTS chunk_vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL);
-- each chunk's row in the vector file (vector_file.py)
CREATE TABLE IF NOT EXISTS vector_rows (id TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS letter_cover (
    doc_id TEXT PRIMARY KEY,
    decision_date TEXT,
    ur_denial_date TEXT,
    licensure TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS letter_cover_decided ON letter_cover(decision_date);
CREATE INDEX IF NOT EXISTS letter_cover_ur ON letter_cover(ur_denial_date);
"""


@lru_cache(maxsize=4096)
def _json_list(raw: str) -> tuple[str, ...]:
    """A list column decoded; rows repeat a few lists (reason categories, guidelines,
    specialties), so each is decoded once (9,000 reasons lists took 50 ms)."""
    return tuple(json.loads(raw))


class ItemRow:
    """One item as the catalog lists it. The JSON list columns are decoded on first use,
    so scanning thousands of rows for counts stays cheap."""

    __slots__ = (
        "doc_id",
        "item_index",
        "treatment",
        "canonical",
        "generic",
        "drug_class",
        "decision",
        "chunk_key",
        "vector_first",
        "vector_count",
        "_raw",
        "_lists",
    )

    def __init__(self, row: tuple[object, ...]) -> None:
        (
            self.doc_id,
            self.item_index,
            self.treatment,
            self.canonical,
            self.generic,
            self.drug_class,
            self.decision,
        ) = row[:7]  # type: ignore[assignment]
        self._raw = row[7:10]
        run = row[10:13] if len(row) >= 13 else (None, None, None)  # rows built by hand
        self.chunk_key, self.vector_first, self.vector_count = run  # type: ignore[assignment]
        self._lists: list[list[str] | None] | None = None

    doc_id: str
    item_index: int
    treatment: str
    canonical: str | None
    generic: str | None
    drug_class: str | None
    decision: str
    chunk_key: str | None
    vector_first: int | None
    vector_count: int | None

    def chunk_rows(self) -> dict[str, int] | None:
        """Chunk id -> vector file row of the item's chunks, when the catalog holds them
        in one run of rows (else None: look them up)."""
        if self.chunk_key is None or self.vector_first is None or not self.vector_count:
            return None
        first = self.vector_first
        return {f"{self.chunk_key}:{k}": first + k for k in range(self.vector_count)}

    def _decoded(self, n: int) -> list[str]:
        """The ``n``th list column, decoded once, when first read (a "why" over 6,000
        decisions reads their reasons only)."""
        if self._lists is None:
            self._lists = [None, None, None]
        got = self._lists[n]
        if got is None:
            got = self._lists[n] = list(_json_list(str(self._raw[n])))
        return got

    @property
    def reasons(self) -> list[str]:
        """Reason categories of the item."""
        return self._decoded(0)

    @property
    def specialties(self) -> list[str]:
        """The reviewer's specialties (the letter's)."""
        return self._decoded(1)

    @property
    def guidelines(self) -> list[str]:
        return self._decoded(2)

    def __repr__(self) -> str:
        return f"ItemRow({self.doc_id!r}, {self.item_index}, {self.treatment!r}, {self.decision!r})"


@dataclass(frozen=True)
class LetterFacts:
    doc_id: str
    case_number: str | None
    age: int | None
    sex: str | None
    date_of_injury: str | None
    specialties: list[str]


@dataclass(frozen=True)
class ItemDetail:
    """Fields of an item that only its letter's record holds, read without parsing it."""

    name: str | None
    original_request: str | None
    authorized_portion: str | None
    claims_administrator_guideline: str | None
    decision_date: str | None  # the letter's, ISO (YYYY-MM-DD) when the parser read one


def _cover(letter: Letter) -> tuple[object, ...]:
    return (
        letter.doc_id,
        letter.decision_date,
        letter.ur_denial_date,
        json.dumps(sorted({s.lower() for s in letter.reviewer.licensure})),
    )


def _facts(letter: Letter) -> tuple[object, ...]:
    return (
        letter.doc_id,
        letter.case_number,
        letter.patient.age,
        letter.patient.sex,
        letter.date_of_injury,
        json.dumps(letter.reviewer.specialties),
    )


_ITEM_COLUMNS = (
    "doc_id, item_index, treatment, canonical, generic, drug_class, decision, reasons, "
    "specialties, guidelines, chunk_key, vector_first, vector_count"
)
_ITEM_VECTOR_COLUMNS = (
    ("chunk_key", "TEXT"),
    ("vector_first", "INTEGER"),
    ("vector_count", "INTEGER"),
)


def _item_runs(chunks: list[Chunk], rows: list[int]) -> dict[int, tuple[str, int, int]]:
    """Item index -> (chunk key, first vector row, count) for each item whose chunks
    are key:0, key:1, ... in one run of rows."""
    parts: dict[int, list[tuple[str, int]]] = {}
    for c, row in zip(chunks, rows, strict=True):
        if c.section == "item" and c.item_index is not None:
            parts.setdefault(c.item_index, []).append((c.id, row))
    return {i: run for i, got in parts.items() if (run := _run(got)) is not None}


def _run(parts: list[tuple[str, int]]) -> tuple[str, int, int] | None:
    """(key, first row, count) when ``parts`` (chunk id, row) are key:0 .. key:n-1 at
    rows first .. first+n-1, in any order; else None."""
    parts = sorted(parts, key=lambda p: p[1])
    key = parts[0][0].rsplit(":", 1)[0]
    first = parts[0][1]
    for k, (cid, row) in enumerate(parts):
        if cid != f"{key}:{k}" or row != first + k:
            return None
    return key, first, len(parts)


@dataclass(frozen=True)
class NameFilter:
    """A test of an item's treatment name (a body region it must name, words it must
    not), with a key that says which test it is (rows are cached by it)."""

    key: str
    test: Callable[[str], bool]


class Catalog:
    """Thin, typed access to the catalog database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        # doc_id -> (sha256, letter): a letter re-ingested with another text is read anew.
        # Bounded: a question over every letter (a topic, a group-by) must not keep them
        # all (at 40,000 letters they held 8 GB).
        self._letters_cache: OrderedDict[str, tuple[str, Letter]] = OrderedDict()
        self._items_cache: dict[tuple[object, ...], list[ItemRow]] = {}
        self.vector_file = VectorFile(path.parent / VECTOR_FILE)
        self._add_columns()
        self._backfill_facts()

    def _add_columns(self) -> None:
        """Columns added to a table after catalogs were written with it."""
        have = {r[1] for r in self.db.execute("PRAGMA table_info(items)")}
        missing = [c for c in _ITEM_VECTOR_COLUMNS if c[0] not in have]
        if missing:
            with self.transaction() as db:
                for name, kind in missing:
                    db.execute(f"ALTER TABLE items ADD COLUMN {name} {kind}")

    def _backfill_facts(self) -> None:
        """Catalogs written before ``letter_facts`` or ``letter_cover`` existed get them
        filled from the records."""
        # Every open comes here: compare the counts first (index-only, a few ms at 40,000
        # letters, where the join below reads every record: 130-220 ms).
        letters, facts, covers, counted = self.db.execute(
            "SELECT (SELECT COUNT(*) FROM letters), (SELECT COUNT(*) FROM letter_facts), "
            "(SELECT COUNT(*) FROM letter_cover), (SELECT COUNT(*) FROM letter_items)"
        ).fetchone()
        if counted < letters:  # from the item rows, in SQL
            with self.transaction() as db:
                db.execute(
                    "INSERT OR REPLACE INTO letter_items SELECT l.doc_id, "
                    "(SELECT COUNT(*) FROM items i WHERE i.doc_id = l.doc_id) FROM letters l"
                )
        for table, have, row, width in (
            ("letter_facts", facts, _facts, 6),
            ("letter_cover", covers, _cover, 4),
        ):
            if have >= letters:
                continue
            missing = self.db.execute(
                f"SELECT l.doc_id, l.record FROM letters l "  # noqa: S608 - fixed names
                f"LEFT JOIN {table} f ON f.doc_id = l.doc_id WHERE f.doc_id IS NULL"
            ).fetchall()
            if not missing:
                continue
            with self.transaction() as db:
                marks = ", ".join("?" * width)
                for _, record in missing:
                    db.execute(
                        f"INSERT OR REPLACE INTO {table} VALUES ({marks})",  # noqa: S608
                        row(Letter.model_validate_json(record)),
                    )

    def close(self) -> None:
        self.vector_file.close()
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[int]:
        """One read transaction: every read inside sees the same committed catalog.

        Yields the snapshot's generation. Nested calls share the outer snapshot. In
        WAL mode a reader blocks no writer; the ingest's commits made meanwhile are
        seen by the next snapshot.
        """
        if self.db.in_transaction:  # an outer snapshot (or a write) already holds one
            yield self.generation()
            return
        self.db.execute("BEGIN DEFERRED")
        try:
            # A deferred transaction reads its snapshot at its first read: now.
            generation = self.generation()
            yield generation
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    def generation(self) -> int:
        """How many commits of letters this catalog has had (0 for a new one)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    # --- meta ------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # --- letters ---------------------------------------------------------------
    def sha_owner(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT doc_id FROM letters WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def doc_sha(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM letters WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]

    def add_pending(self, ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO pending(id) VALUES (?)", [(i,) for i in ids])

    def pending_orphans(self) -> list[str]:
        """Vector ids written by an ingest that never committed its letters."""
        rows = self.db.execute(
            "SELECT p.id FROM pending p LEFT JOIN chunks c ON c.id = p.id WHERE c.id IS NULL"
        )
        return [r[0] for r in rows]

    def clear_pending(self) -> None:
        self.db.execute("DELETE FROM pending")

    def commit_letters(
        self, batch: list[tuple[Letter, list[Chunk]]], vectors: np.ndarray | None = None
    ) -> None:
        """Replace each letter's rows (record, items, chunks) in one transaction, which
        also bumps the catalog's generation.

        ``vectors``, one float32 row per chunk in batch order, are kept beside the chunks
        in the vector file (appended and flushed before the transaction): a filtered
        question scores its few candidates from there exactly, without opening the vector
        store (``vectors``).
        """
        now = time.time()
        rows: Iterator[int] | None = None
        dim = 0
        if vectors is not None and len(vectors):
            first = self.vector_file.append(vectors)
            rows = iter(range(first, first + len(vectors)))
            dim = vectors.shape[1]
            reached("filed")
        with self.transaction() as db:
            if rows is not None:
                self.set_meta("vector_dim", str(dim))
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
                "DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
            )
            for letter, chunks in batch:
                for table in ("chunk_vectors", "vector_rows"):
                    db.execute(
                        f"DELETE FROM {table} "  # noqa: S608 - fixed names
                        "WHERE id IN (SELECT id FROM chunks WHERE doc_id=?)",
                        (letter.doc_id,),
                    )
                db.execute("DELETE FROM chunks WHERE doc_id=?", (letter.doc_id,))
                db.execute("DELETE FROM items WHERE doc_id=?", (letter.doc_id,))
                db.execute("DELETE FROM letters WHERE doc_id=?", (letter.doc_id,))
                db.execute(
                    "INSERT OR REPLACE INTO letter_facts VALUES (?, ?, ?, ?, ?, ?)",
                    _facts(letter),
                )
                db.execute(
                    "INSERT OR REPLACE INTO letter_items VALUES (?, ?)",
                    (letter.doc_id, len(letter.items)),
                )
                db.execute(
                    "INSERT OR REPLACE INTO letter_cover VALUES (?, ?, ?, ?)", _cover(letter)
                )
                db.execute(
                    "INSERT INTO letters VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        letter.doc_id,
                        letter.sha256,
                        letter.source,
                        letter.model_dump_json(),
                        letter.text,
                        now,
                    ),
                )
                chunk_rows = [next(rows) for _ in chunks] if rows is not None else []
                runs = _item_runs(chunks, chunk_rows) if rows is not None else {}
                db.executemany(
                    f"INSERT INTO items ({_ITEM_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                    [
                        (
                            letter.doc_id,
                            it.index,
                            it.treatment,
                            it.canonical,
                            it.generic,
                            it.drug_class,
                            it.decision,
                            json.dumps(it.reason_categories),
                            json.dumps(letter.reviewer.specialties),
                            json.dumps(it.guidelines),
                            *runs.get(it.index, (None, None, None)),
                        )
                        for it in letter.items
                    ],
                )
                db.executemany(
                    "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            c.id,
                            c.doc_id,
                            c.section,
                            c.item_index,
                            c.text,
                            c.metadata.get("embed_text", c.text),
                            c.start,
                            c.end,
                            json.dumps(c.metadata),
                        )
                        for c in chunks
                    ],
                )
                if rows is not None:
                    db.executemany(
                        "INSERT OR REPLACE INTO vector_rows VALUES (?, ?)",
                        [(c.id, row) for c, row in zip(chunks, chunk_rows, strict=True)],
                    )

    def add_vectors(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Keep vectors (from the store) for committed chunks that have none here."""
        import numpy as np

        pairs = list(pairs)
        if not pairs:
            return
        matrix = np.asarray([vec for _, vec in pairs], dtype=np.float32)
        first = self.vector_file.append(matrix)
        with self.transaction() as db:
            self.set_meta("vector_dim", str(matrix.shape[1]))
            db.executemany(
                "INSERT OR REPLACE INTO vector_rows "
                "SELECT ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)",
                [(cid, first + n, cid) for n, (cid, _) in enumerate(pairs)],
            )

    def chunks_without_vectors(self) -> list[str]:
        """Committed chunks whose vector is not kept here (catalogs written before it was)."""
        rows = self.db.execute(
            "SELECT c.id FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM vector_rows r "
            "WHERE r.id = c.id) AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.id = c.id) "
            "ORDER BY c.id"
        )
        return [r[0] for r in rows]

    def move_vectors_to_file(self, batch: int = 20_000) -> int:
        """Move vectors kept as blobs (catalogs written before the vector file) into it,
        a batch per transaction; how many moved. Called by the writer only."""
        import numpy as np

        moved = 0
        while True:
            got = self.db.execute(
                "SELECT id, vector FROM chunk_vectors ORDER BY id LIMIT ?", (batch,)
            ).fetchall()
            if not got:
                return moved
            matrix = np.frombuffer(b"".join(v for _, v in got), dtype=np.float32)
            matrix = matrix.reshape(len(got), -1)
            first = self.vector_file.append(matrix)
            with self.transaction() as db:
                self.set_meta("vector_dim", str(matrix.shape[1]))
                db.executemany(
                    "INSERT OR REPLACE INTO vector_rows VALUES (?, ?)",
                    [(cid, first + n) for n, (cid, _) in enumerate(got)],
                )
                db.executemany("DELETE FROM chunk_vectors WHERE id = ?", [(c,) for c, _ in got])
            moved += len(got)

    def fill_item_runs(self) -> int:
        """Record the vector rows of items that have none recorded (their vectors came
        from blobs or the store) where their chunks' rows form one run; how many."""
        got = self.db.execute(
            "SELECT i.doc_id, i.item_index, c.id, r.row FROM items i "
            "JOIN chunks c ON c.doc_id = i.doc_id AND c.section = 'item' "
            "AND c.item_index = i.item_index JOIN vector_rows r ON r.id = c.id "
            "WHERE i.vector_first IS NULL ORDER BY i.doc_id, i.item_index"
        )
        parts: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for doc_id, item_index, cid, row in got:
            parts.setdefault((doc_id, item_index), []).append((cid, row))
        runs = [(*run, *key) for key, p in parts.items() if (run := _run(p)) is not None]
        if runs:
            with self.transaction() as db:
                db.executemany(
                    "UPDATE items SET chunk_key = ?, vector_first = ?, vector_count = ? "
                    "WHERE doc_id = ? AND item_index = ?",
                    runs,
                )
        return len(runs)

    def vectors(
        self, ids: Iterable[str], rows: Mapping[str, int | None] | None = None
    ) -> tuple[list[str], np.ndarray] | None:
        """(ids, float32 matrix, a row each) for ``ids``, sorted, or None if any has no
        vector kept here (then the vector store has to answer). ``rows``: vector file
        rows of some, already read (``item_chunk_ids``)."""
        import numpy as np

        order = sorted(set(ids))
        if not order:
            return [], np.zeros((0, 0), dtype=np.float32)
        dim_meta = self.get_meta("vector_dim")
        if rows is not None and dim_meta and len(rows) == len(order) and None not in rows.values():
            # every row given (``item_chunk_ids``, an item's run): the file alone answers
            numbers = np.fromiter((rows[i] for i in order), np.int64, len(order))
            whole = self.vector_file.read(numbers, int(dim_meta))
            return None if whole is None else (order, whole)
        where = {i: r for i, r in (rows or {}).items() if r is not None}
        unknown = [i for i in order if i not in where]
        for i in range(0, len(unknown), 500):
            part = unknown[i : i + 500]
            q = ",".join("?" * len(part))
            where.update(
                self.db.execute(f"SELECT id, row FROM vector_rows WHERE id IN ({q})", part)
            )
        blobs: dict[str, bytes] = {}
        rest = [i for i in order if i not in where]
        for i in range(0, len(rest), 500):  # a catalog from before the vector file
            part = rest[i : i + 500]
            q = ",".join("?" * len(part))
            blobs.update(
                self.db.execute(f"SELECT id, vector FROM chunk_vectors WHERE id IN ({q})", part)
            )
        if len(where) + len(blobs) < len(order):
            return None
        if blobs:
            dim = len(next(iter(blobs.values()))) // 4
        elif dim_meta:
            dim = int(dim_meta)
        else:
            return None
        if not where:
            matrix = np.frombuffer(b"".join(blobs[i] for i in order), dtype=np.float32)
            return order, matrix.reshape(len(order), dim)
        filed = [i for i in order if i in where]
        from_file = self.vector_file.read(np.fromiter((where[i] for i in filed), np.int64), dim)
        if from_file is None:
            return None
        if not blobs:
            return order, from_file
        at = {cid: n for n, cid in enumerate(filed)}
        matrix = np.empty((len(order), dim), dtype=np.float32)
        for n, cid in enumerate(order):
            got = blobs.get(cid)
            matrix[n] = np.frombuffer(got, dtype=np.float32) if got else from_file[at[cid]]
        return order, matrix

    def item_chunk_metadata(self, keys: Iterable[tuple[str, int]]) -> dict[str, dict[str, Any]]:
        """Chunk id -> metadata of the item chunks of the (doc id, item index) ``keys``."""
        wanted: dict[str, set[int]] = {}
        for doc_id, item_index in keys:
            wanted.setdefault(doc_id, set()).add(item_index)
        docs = sorted(wanted)
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(docs), 500):
            part = docs[i : i + 500]
            q = ",".join("?" * len(part))
            for cid, doc_id, item_index, meta in self.db.execute(
                f"SELECT id, doc_id, item_index, meta FROM chunks "
                f"WHERE section = 'item' AND doc_id IN ({q})",
                part,
            ):
                if item_index in wanted[doc_id]:
                    out[cid] = json.loads(meta)
        return out

    # --- reads -----------------------------------------------------------------
    def count_letters(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM letters").fetchone()[0])

    def doc_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT doc_id FROM letters ORDER BY doc_id")]

    def doc_ids_like(self, exact: list[str], prefixes: list[str], suffixes: list[str]) -> set[str]:
        """Doc ids equal to one of ``exact``, or starting or ending with one of the
        others, by index lookups on the primary key (no scan of every letter)."""
        out: set[str] = set()
        for d in exact:
            out |= {
                r[0] for r in self.db.execute("SELECT doc_id FROM letters WHERE doc_id = ?", (d,))
            }
        for p in prefixes:  # a range over the key: "004_" up to "004`"
            out |= {
                r[0]
                for r in self.db.execute(
                    "SELECT doc_id FROM letters WHERE doc_id >= ? AND doc_id < ?",
                    (p, p[:-1] + chr(ord(p[-1]) + 1)),
                )
            }
        for s in suffixes:  # rare: a case number written without its "CM" prefix
            out |= {
                r[0]
                for r in self.db.execute(
                    "SELECT doc_id FROM letters WHERE doc_id LIKE ? ESCAPE '\\'",
                    ("%" + s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),),
                )
            }
        return out

    def letter(self, doc_id: str) -> Letter | None:
        """The letter as the catalog holds it now (or in the current snapshot).

        Parsed records are cached by doc id and sha256: the hash is read every time
        (one primary-key lookup), so a letter another process re-ingested with a new
        text is never served from the cache with its old decisions.
        """
        row = self.db.execute("SELECT sha256 FROM letters WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            return None
        cached = self._letters_cache.get(doc_id)
        if cached is not None and cached[0] == row[0]:
            self._letters_cache.move_to_end(doc_id)
            return cached[1]
        row = self.db.execute(
            "SELECT sha256, record, text FROM letters WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:  # deleted between the two reads (outside a snapshot)
            return None
        letter = Letter.model_validate_json(row[1])
        letter.text = row[2]
        self._letters_cache[doc_id] = (row[0], letter)
        self._letters_cache.move_to_end(doc_id)
        if len(self._letters_cache) > LETTERS_CACHED:
            self._letters_cache.popitem(last=False)
        return letter

    def find_letter(self, key: str) -> Letter | None:
        """A letter by doc_id, case number, file stem or source path."""
        if found := self.letter(key):
            return found
        row = self.db.execute(
            "SELECT doc_id FROM letters WHERE upper(doc_id)=upper(?) OR source=? "
            "OR source LIKE ? ORDER BY doc_id LIMIT 1",
            (key, key, f"%/{key}%"),
        ).fetchone()
        return self.letter(row[0]) if row else None

    @staticmethod
    def _item_where(
        generics: Iterable[str],
        classes: Iterable[str],
        canonicals: Iterable[str],
        decision: str | None,
        doc_ids: Iterable[str],
        decided: tuple[int, int | None] | None = None,
    ) -> tuple[str, list[object]]:
        """The WHERE clause (or "") selecting items as ``items`` documents, and its args;
        ``decided`` (least, most or None): only letters that decided so many items."""
        where: list[str] = []
        args: list[object] = []
        treatment: list[str] = []
        for column, values in (
            ("generic", list(generics)),
            ("drug_class", list(classes)),
            ("canonical", list(canonicals)),
        ):
            if values:
                treatment.append(f"{column} IN ({','.join('?' * len(values))})")
                args += values
        if treatment:
            where.append("(" + " OR ".join(treatment) + ")")
        ids = list(doc_ids)
        if decision:
            # With a treatment or letters named, their index is the selective one: "+"
            # keeps SQLite off the decision index, which an ORDER BY doc_id would make it
            # prefer (217,000 upheld rows walked for 6,000 opioid ones at 100,000 letters).
            where.append("+decision = ?" if treatment or ids else "decision = ?")
            args.append(decision)
        if ids:
            where.append(f"doc_id IN ({','.join('?' * len(ids))})")
            args += ids
        if decided is not None:
            lo, hi = decided
            # by the letters' item counts, kept per letter (grouping every item by its
            # letter took 50-120 ms a statement at 100,000 letters)
            bound = "n >= ?" + (" AND n <= ?" if hi is not None else "")
            where.append(f"doc_id IN (SELECT doc_id FROM letter_items WHERE {bound})")
            args += [lo] if hi is None else [lo, hi]
        return (" WHERE " + " AND ".join(where) if where else ""), args

    def items(
        self,
        *,
        generics: Iterable[str] = (),
        classes: Iterable[str] = (),
        canonicals: Iterable[str] = (),
        decision: str | None = None,
        doc_ids: Iterable[str] = (),
        limit: int | None = None,
        names: NameFilter | None = None,
    ) -> list[ItemRow]:
        """Items in (doc_id, index) order. Treatment lists select by generic OR class OR
        canonical name; a decision and doc ids narrow further. No arguments: every item.
        ``limit``: the first so many only. ``names``: only items whose treatment name
        passes its test, applied in SQL (each distinct name tested once), so rows it
        leaves out are never built (46,000 MRI rows for the cervical ones)."""
        where, args = self._item_where(generics, classes, canonicals, decision, doc_ids)
        if names is not None:
            verdicts: dict[str, bool] = {}

            def passes(name: str) -> int:
                got = verdicts.get(name)
                if got is None:
                    got = verdicts[name] = bool(names.test(name))
                return int(got)

            self.db.create_function("imr_name_passes", 1, passes, deterministic=True)
            where += (" AND " if where else " WHERE ") + "imr_name_passes(treatment)"
        sql = f"SELECT {_ITEM_COLUMNS} FROM items{where} ORDER BY doc_id, item_index"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        # One answer often asks for the same rows twice (search, then the plan's own
        # selection): inside a snapshot (one read transaction, so one generation) the
        # last lists are kept. Building 100,000 rows takes about a second.
        key = None
        if self.db.in_transaction:
            key = (self.generation(), sql, tuple(args), names.key if names else None)
            kept = self._items_cache.get(key)
            if kept is not None:
                return list(kept)
        with paused_gc():  # rows hold no cycles
            found = [ItemRow(r) for r in self.db.execute(sql, args)]
        if key is not None:
            self._items_cache[key] = found
            if len(self._items_cache) > 4:
                self._items_cache.pop(next(iter(self._items_cache)))
        return list(found)

    def item_chunk_ids(
        self,
        *,
        generics: Iterable[str] = (),
        classes: Iterable[str] = (),
        canonicals: Iterable[str] = (),
        decision: str | None = None,
        doc_ids: Iterable[str] = (),
        most: int,
    ) -> dict[str, int | None] | None:
        """Chunk id -> its row in the vector file (None if it has none there), in id
        order, of the item chunks of the items selected as in ``items``: one statement,
        no row built. None when there are more than ``most``."""
        where, args = self._item_where(generics, classes, canonicals, decision, doc_ids)
        ids = dict(
            self.db.execute(
                f"SELECT c.id, r.row FROM (SELECT doc_id, item_index FROM items{where}) i "
                "JOIN chunks c ON c.doc_id = i.doc_id AND c.section = 'item' "
                "AND c.item_index = i.item_index LEFT JOIN vector_rows r ON r.id = c.id "
                f"ORDER BY c.id LIMIT {int(most) + 1}",
                args,
            )
        )
        return ids if len(ids) <= most else None

    def item_tally(
        self,
        *,
        generics: Iterable[str] = (),
        classes: Iterable[str] = (),
        canonicals: Iterable[str] = (),
        decision: str | None = None,
        doc_ids: Iterable[str] = (),
        decided: tuple[int, int | None] | None = None,
    ) -> tuple[dict[str, int], int]:
        """Decisions counted in SQL, without building a row each: (items per decision,
        letters they are in); treatments select as in ``items``."""
        where, args = self._item_where(generics, classes, canonicals, decision, doc_ids, decided)
        by = dict(self.db.execute(f"SELECT decision, COUNT(*) FROM items{where} GROUP BY 1", args))
        (letters,) = self.db.execute(
            f"SELECT COUNT(DISTINCT doc_id) FROM items{where}", args
        ).fetchone()
        return by, letters

    def first_letters(
        self,
        n: int,
        *,
        generics: Iterable[str] = (),
        classes: Iterable[str] = (),
        canonicals: Iterable[str] = (),
        decision: str | None = None,
        doc_ids: Iterable[str] = (),
        decided: tuple[int, int | None] | None = None,
    ) -> list[str]:
        """The first ``n`` doc ids, in order, with an item as selected."""
        where, args = self._item_where(generics, classes, canonicals, decision, doc_ids, decided)
        sql = f"SELECT DISTINCT doc_id FROM items{where} ORDER BY doc_id LIMIT {int(n)}"
        return [r[0] for r in self.db.execute(sql, args)]

    def item_counts(self) -> dict[str, int]:
        """Items (decisions) per letter, by doc id."""
        return dict(self.db.execute("SELECT doc_id, n FROM letter_items WHERE n > 0"))

    def item_details(self) -> dict[tuple[str, int], ItemDetail]:
        """Per (doc_id, item index): the fields statistics need beyond the item rows,
        extracted by SQLite from the stored records (no record is parsed)."""
        rows = self.db.execute(
            "SELECT l.doc_id, json_extract(j.value, '$.index'), json_extract(j.value, '$.name'), "
            "json_extract(j.value, '$.original_request'), "
            "json_extract(j.value, '$.authorized_portion'), "
            "json_extract(j.value, '$.claims_administrator_guideline'), "
            "json_extract(l.record, '$.decision_date') "
            "FROM letters l, json_each(l.record, '$.items') j"
        )
        return {(r[0], r[1]): ItemDetail(*r[2:]) for r in rows}

    def letter_facts(
        self,
        *,
        ages: Sequence[int] = (),
        sex: str | None = None,
        injury_prefix: str | None = None,
    ) -> list[LetterFacts]:
        """Per-letter facts that questions name letters by (patient, injury date, reviewer).

        The arguments narrow them in SQL, on indexed columns where they can: a patient
        age in ``ages``, the sex ``sex`` or none recorded, a date of injury starting with
        ``injury_prefix``. (Read whole, 40,000 letters' facts took 0.6-0.85 s.)
        """
        where: list[str] = []
        args: list[object] = []
        if ages:
            where.append(f"age IN ({','.join('?' * len(ages))})")
            args += list(ages)
        if sex:
            where.append("(sex IS NULL OR sex = '' OR sex = ?)")
            args.append(sex)
        if injury_prefix:
            # GLOB, unlike LIKE, is case-sensitive and so searches the index for a prefix;
            # cut at a wildcard (a date holds none) so the match can only be wider.
            literal = re.split(r"[*?\[]", injury_prefix, maxsplit=1)[0]
            where.append("date_of_injury GLOB ?")
            args.append(literal + "*")
        sql = "SELECT * FROM letter_facts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.execute(sql + " ORDER BY doc_id", args)
        return [
            LetterFacts(
                doc_id=r[0],
                case_number=r[1],
                age=r[2],
                sex=r[3],
                date_of_injury=r[4],
                specialties=json.loads(r[5]),
            )
            for r in rows
        ]

    def letters_where(
        self,
        *,
        age_min: int | None = None,
        age_max: int | None = None,
        sex: str | None = None,
        licensed_in: str | None = None,
        licensed_only: bool = False,
        licensed_not: bool = False,
        licensed_except: str | None = None,
        licensed_also: tuple[str, ...] = (),
        licensed_states_min: int | None = None,
        decided_from: str | None = None,
        decided_to: str | None = None,
        decided_in: str | None = None,
        decided_not_in: str | None = None,
        ur_denied_in: str | None = None,
    ) -> set[str]:
        """Doc ids of the letters with these facts, in one SQL query over indexed
        columns: an age range, the patient's sex, the reviewer's licensure (``only``: no
        other state; ``not``: not in that state; ``states_min``: in that many states or more),
        a decision date range or month (``YYYY`` / ``YYYY-MM``), the UR
        denial's month. Dates are ISO; a letter without the fact does not match."""
        where: list[str] = []
        args: list[object] = []
        if age_min is not None:
            where.append("f.age >= ?")
            args.append(age_min)
        if age_max is not None:
            where.append("f.age <= ?")
            args.append(age_max)
        if sex:
            where.append("f.sex = ?")
            args.append(sex)
        if licensed_in:
            negated = "NOT " if licensed_not else ""
            where.append(f"{negated}EXISTS (SELECT 1 FROM json_each(c.licensure) WHERE value = ?)")
            args.append(licensed_in.lower())
        for also in licensed_also:  # "licensed in both Texas and Ohio"
            where.append("EXISTS (SELECT 1 FROM json_each(c.licensure) WHERE value = ?)")
            args.append(also.lower())
        if licensed_except:  # "licensed in Texas but not in California"
            where.append("NOT EXISTS (SELECT 1 FROM json_each(c.licensure) WHERE value = ?)")
            args.append(licensed_except.lower())
        if licensed_only:
            where.append("json_array_length(c.licensure) = 1")
        if licensed_states_min:
            where.append("json_array_length(c.licensure) >= ?")
            args.append(licensed_states_min)
        if decided_from:
            where.append("c.decision_date >= ?")
            args.append(decided_from)
        if decided_to:
            where.append("c.decision_date <= ?")
            args.append(decided_to)
        for column, prefix in (("decision_date", decided_in), ("ur_denial_date", ur_denied_in)):
            if prefix:
                where.append(f"c.{column} GLOB ?")
                args.append(re.split(r"[*?\[]", prefix, maxsplit=1)[0] + "*")
        if decided_not_in:  # a letter without a decision date is not in that month
            where.append("(c.decision_date IS NULL OR c.decision_date NOT GLOB ?)")
            args.append(re.split(r"[*?\[]", decided_not_in, maxsplit=1)[0] + "*")
        sql = "SELECT f.doc_id FROM letter_facts f JOIN letter_cover c ON c.doc_id = f.doc_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return {r[0] for r in self.db.execute(sql, args)}

    def all_chunks(self) -> list[tuple[str, str]]:
        """(chunk id, embedded text) of every committed chunk, in a stable order."""
        return list(self.db.execute("SELECT id, embed_text FROM chunks ORDER BY id"))

    def all_chunk_ids(self) -> list[str]:
        """Every committed chunk's id, in the order of ``all_chunks``."""
        return [r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id")]

    def chunk_texts(self, ids: list[str]) -> list[tuple[str, str]]:
        """(chunk id, embedded text) of the committed chunks among ``ids``, by id."""
        out: list[tuple[str, str]] = []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = ",".join("?" * len(part))
            out += self.db.execute(f"SELECT id, embed_text FROM chunks WHERE id IN ({q})", part)
        return sorted(out)

    def chunk_metadata(
        self, *, ids: list[str] | None = None, doc_ids: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Chunk id -> metadata (what the vector store holds beside each vector) of the
        committed chunks among ``ids``, or of the letters ``doc_ids``."""
        column, keys = ("id", ids) if ids is not None else ("doc_id", doc_ids or [])
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = ",".join("?" * len(part))
            for cid, meta in self.db.execute(
                f"SELECT id, meta FROM chunks WHERE {column} IN ({q})", part
            ):
                out[cid] = json.loads(meta)
        return out

    def chunks_by_id(self, ids: list[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = ",".join("?" * len(part))
            for r in self.db.execute(
                "SELECT id, doc_id, section, item_index, text, start, end, meta "
                f"FROM chunks WHERE id IN ({q})",
                part,
            ):
                out[r[0]] = Chunk(
                    id=r[0],
                    doc_id=r[1],
                    section=r[2],
                    item_index=r[3],
                    text=r[4],
                    start=r[5],
                    end=r[6],
                    metadata=json.loads(r[7]),
                )
        return out

    def letters_with_text(self, patterns: Sequence[str]) -> set[str]:
        """Doc ids of the letters with a committed chunk whose text, or a decided item
        whose treatment name, is ``LIKE`` one of ``patterns`` (case-insensitive for
        ASCII), in one scan of each. A chunk's text need not hold the name of the item
        it is about."""
        if not patterns:
            return set()
        where = " OR ".join("{col} LIKE ?" for _ in patterns)
        rows = self.db.execute(
            f"SELECT doc_id FROM chunks WHERE {where.format(col='text')} UNION "
            f"SELECT doc_id FROM items WHERE {where.format(col='treatment')}",
            [*patterns, *patterns],
        )
        return {r[0] for r in rows}

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
