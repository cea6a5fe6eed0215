"""Stage 2: parse, chunk, embed and store letters, idempotently.

Each letter is keyed by the sha256 of its text: an unchanged letter embeds
nothing, a changed one replaces its old chunks, the same letter under two names
is indexed once. Letters are embedded in batches across letters (the model runs
fastest on many length-sorted texts at once) and committed to the catalog only
after their vectors are stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imr_assist.errors import LetterError
from imr_assist.index.chunking import chunk_letter
from imr_assist.index.index import Index
from imr_assist.models import Chunk, Letter
from imr_assist.parse import parse_file
from imr_assist.parse.loaders import expand_paths
from imr_assist.settings import Settings

#: Letters embedded and committed together; bounds memory and lost work on a crash.
BATCH_LETTERS = 64


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


ProgressFn = Callable[[int, int, str], None]  # (done, total, current source)


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
    idx = index or Index.open(settings, create=True)
    if reset:
        idx.reset()
    idx.ensure_embedder_matches()
    idx.cleanup_orphans()

    sources = expand_paths(inputs, on_error=report.failures.append)
    total = len(sources)
    batch: list[tuple[Letter, bool]] = []
    seen_sha: dict[str, str] = {}
    for n, src in enumerate(sources, 1):
        report.letters_seen += 1
        try:
            letter = parse_file(src.path, src.display)
        except LetterError as err:
            report.failures.append(err)
            if progress:
                progress(n, total, src.display)
            continue
        owner = seen_sha.get(letter.sha256) or idx.catalog.sha_owner(letter.sha256)
        if owner is not None:
            if owner == letter.doc_id:
                report.letters_unchanged += 1
            else:
                report.duplicates.append((src.display, owner))
        else:
            seen_sha[letter.sha256] = letter.doc_id
            replacing = idx.catalog.doc_sha(letter.doc_id) is not None
            batch.append((letter, replacing))
        if len(batch) >= BATCH_LETTERS:
            _flush(idx, batch, report)
            batch = []
        if progress:
            progress(n, total, src.display)
    if batch:
        _flush(idx, batch, report)
    if report.letters_indexed:
        idx.rebuild_lexical()
    report.seconds = time.perf_counter() - t0
    return report


def _flush(idx: Index, batch: list[tuple[Letter, bool]], report: IngestReport) -> None:
    """Chunk, embed and store a batch of letters, then commit them to the catalog."""
    embedder = idx.embedder
    chunked: list[tuple[Letter, list[Chunk]]] = []
    for letter, _ in batch:
        chunked.append((letter, chunk_letter(letter, embedder.count_tokens, embedder.max_tokens)))
    all_chunks = [c for _, cs in chunked for c in cs]
    te = time.perf_counter()
    vectors = embedder.embed([c.metadata["embed_text"] for c in all_chunks])
    report.embed_seconds += time.perf_counter() - te
    ids = [c.id for c in all_chunks]
    old_ids = [
        i for letter, replacing in batch if replacing for i in idx.catalog.chunk_ids(letter.doc_id)
    ]
    # Record the ids first: if the process dies before the commit below, the next
    # ingest removes these vectors again.
    idx.catalog.add_pending(ids)
    idx.store.upsert(
        ids,
        vectors,
        [c.text for c in all_chunks],
        [{k: v for k, v in c.metadata.items() if k != "embed_text"} for c in all_chunks],
    )
    idx.catalog.commit_letters(chunked)
    stale = [i for i in old_ids if i not in set(ids)]
    idx.store.delete(stale)
    idx.catalog.clear_pending()
    for letter, replacing in batch:
        report.letters_indexed += 1
        report.letters_replaced += int(replacing)
        report.items += len(letter.items)
    report.chunks_embedded += len(all_chunks)
