"""Scale simulation: an index holding many more letters than one benchmark ingest makes.

::

    python -m evals.bench_scale --letters 100000 --pool DIR [--pool-size 500] [--out evals/results]

Embedding 100,000 letters on a 2-core machine would take days, so the index is
*simulated*: ``--pool-size`` letters from ``--pool`` (a corpus folder written by
``imr-assist synth``, with ``letters/`` and ``questions.jsonl``) are parsed and chunked
once, then cloned under new case numbers until the catalog holds ``--letters`` letters.
Catalog rows and chunk texts are real (clones of real parses); **the vectors are
synthetic**: random unit vectors, seeded, one per chunk, so the vector store has the
right size and shape but its nearest neighbours mean nothing. Query times and memory are
real for an index of that size; retrieval quality is not measured here.

Steps, each in its own child process (peak RSS per step):

1. ``build``: the catalog and the Chroma store filled in batches (rates reported);
2. ``plans``: ``EXPLAIN QUERY PLAN`` of the catalog's filter queries;
3. ``bm25``: the lexical index built whole, updated after 1,000 more letters (only
   their chunks tokenized), checked against a whole rebuild;
4. ``bm25s`` (only if asked for): the whole rebuild as bm25s did it before, to compare;
5. ``query``: the questions through ``Assistant`` (plan, catalog, search when the
   answer ranks passages, extractive answer), warm, p50/p95, peak RSS.

Not a test; results go to ``<out>/scale-<letters>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "evals" / "results"
BATCH = 500  # letters per catalog commit and Chroma upsert while building
ADDED = 1000  # letters added before the second BM25 rebuild


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _settings(index: Path, chroma_url: str | None = None) -> Any:
    from imr_assist.settings import Settings

    return Settings(index_dir=index, llm_enabled=False, chroma_url=chroma_url)


def _pool(spec: dict[str, Any]) -> list[tuple[Any, list[Any]]]:
    """The pool letters, parsed and chunked once."""
    from imr_assist.index.chunking import chunk_letter
    from imr_assist.index.embed import default_embedder
    from imr_assist.parse import parse_file

    emb = default_embedder()
    folder = Path(spec["pool"])
    if (folder / "letters").is_dir():  # a corpus written by ``imr-assist synth``
        folder = folder / "letters"
    files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".pdf"))
    files = files[: spec["pool_size"]]
    out = []
    for f in files:
        letter = parse_file(f)
        out.append((letter, chunk_letter(letter, emb.count_tokens, emb.max_tokens)))
    return out


def _clone(letter: Any, chunks: list[Any], k: int) -> tuple[Any, list[Any]]:
    """Clone ``k`` of a pool letter: its own case number, doc id, sha256 and chunk ids."""
    import hashlib

    case = f"SIM-{k:07d}"
    sha = hashlib.sha256(f"{letter.sha256}:{k}".encode()).hexdigest()
    new = letter.model_copy(
        update={"doc_id": case, "case_number": case, "sha256": sha, "source": f"sim/{case}.txt"}
    )
    moved = []
    for c in chunks:
        _, rest = c.id.split(":", 1)
        meta = {**c.metadata, "doc_id": case, "case_number": case, "source": new.source}
        moved.append(
            c.model_copy(update={"id": f"{sha[:16]}:{rest}", "doc_id": case, "metadata": meta})
        )
    return new, moved


def _fill(idx: Any, pool: list[tuple[Any, list[Any]]], start: int, stop: int, seed: int) -> dict:
    """Clones ``start``..``stop`` into the catalog and, with synthetic vectors, the store."""
    import numpy as np

    rng = np.random.default_rng(seed + start)
    t_cat = t_vec = 0.0
    chunks_n = 0
    for lo in range(start, stop, BATCH):
        batch = [_clone(*pool[k % len(pool)], k) for k in range(lo, min(stop, lo + BATCH))]
        chunks = [c for _, cs in batch for c in cs]
        vectors = rng.standard_normal((len(chunks), 384), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        t0 = time.perf_counter()
        idx.store.upsert(
            [c.id for c in chunks],
            vectors,
            [c.text for c in chunks],
            [{k: v for k, v in c.metadata.items() if k != "embed_text"} for c in chunks],
        )
        t1 = time.perf_counter()
        idx.catalog.commit_letters(batch, vectors)  # the catalog keeps its copy, as ingest does
        t_cat += time.perf_counter() - t1
        t_vec += t1 - t0
        chunks_n += len(chunks)
        done = min(stop, lo + BATCH)
        if (done - start) % (20 * BATCH) == 0 or done == stop:
            print(
                f"  {done} letters, {chunks_n} chunks added, catalog {t_cat:.0f} s, "
                f"vectors {t_vec:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return {"chunks": chunks_n, "catalog_seconds": t_cat, "vector_seconds": t_vec}


def phase_build(spec: dict[str, Any]) -> dict[str, Any]:
    from imr_assist.index.index import Index

    t0 = time.perf_counter()
    pool = _pool(spec)
    pool_seconds = time.perf_counter() - t0
    idx = Index.open(_settings(Path(spec["index"])), create=True)
    idx.ensure_embedder_matches()
    filled = _fill(idx, pool, 0, spec["letters"], spec["seed"])
    out = {
        "pool_letters": len(pool),
        "pool_chunks": sum(len(cs) for _, cs in pool),
        "pool_seconds": pool_seconds,
        "letters": idx.catalog.count_letters(),
        "chunks": filled["chunks"],
        "catalog_seconds": filled["catalog_seconds"],
        "vector_seconds": filled["vector_seconds"],
        "vector_count": idx.store.count(),
        "peak_rss_mib": _rss_mib(),
    }
    idx.close()
    return out


def _questions(spec: dict[str, Any]) -> list[str]:
    return [
        json.loads(line)["question"]
        for line in Path(spec["questions_file"]).read_text().splitlines()
        if line.strip()
    ][: spec["questions"]]


def phase_bm25(spec: dict[str, Any]) -> dict[str, Any]:
    """The lexical index built whole, then updated after ``ADDED`` more letters, then
    built whole again: the update must equal the rebuild (same chunks, same top 200)."""
    from imr_assist.index.index import Index

    idx = Index.open(_settings(Path(spec["index"])))
    t0 = time.perf_counter()
    idx.rebuild_lexical()
    first = time.perf_counter() - t0
    rss_first = _rss_mib()
    pool = _pool({**spec, "pool_size": min(spec["pool_size"], 200)})
    n = idx.catalog.count_letters()
    _fill(idx, pool, n, n + ADDED, spec["seed"])
    t0 = time.perf_counter()
    idx.update_lexical()
    update = time.perf_counter() - t0
    updated = idx._load_lexical()
    t0 = time.perf_counter()
    idx.rebuild_lexical()
    second = time.perf_counter() - t0
    rebuilt = idx._load_lexical()
    assert updated is not None and rebuilt is not None
    queries = _questions(spec)[:20]
    equal = sorted(updated.ids) == sorted(rebuilt.ids) and all(
        updated.top(q, 200) == rebuilt.top(q, 200) for q in queries
    )
    out = {
        "rebuild_seconds": first,
        "rebuild_peak_rss_mib": rss_first,
        "added_letters": ADDED,
        "update_seconds": update,
        "update_equals_rebuild": equal,
        "rebuild_after_adding_seconds": second,
        "letters_after": idx.catalog.count_letters(),
        "chunks_after": idx.catalog.chunk_count(),
        "postings": int(len(rebuilt.post_doc)),
        "terms": len(rebuilt.terms),
        "peak_rss_mib": _rss_mib(),
    }
    idx.close()
    return out


def phase_bm25s(spec: dict[str, Any]) -> dict[str, Any]:
    """For comparison: the whole rebuild with bm25s, as the lexical index was built
    before (tokenize and index every chunk; not saved)."""
    import bm25s

    from imr_assist.index.catalog import Catalog
    from imr_assist.index.index import CATALOG_FILE

    catalog = Catalog(Path(spec["index"]) / CATALOG_FILE)
    t0 = time.perf_counter()
    texts = [t for _, t in catalog.all_chunks()]
    read = time.perf_counter() - t0
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    return {
        "chunks": len(texts),
        "read_seconds": read,
        "rebuild_seconds": time.perf_counter() - t0,
        "peak_rss_mib": _rss_mib(),
    }


def phase_query(spec: dict[str, Any]) -> dict[str, Any]:
    """Questions through ``Assistant`` (plan, catalog, search if the answer ranks
    passages, extractive answer), warm; the times of answers that ranked passages
    (dense and BM25 search) are also given apart from those the catalog gave alone."""
    from imr_assist.answer.service import Assistant
    from imr_assist.evaluate.metrics import percentile
    from imr_assist.index.index import Index
    from imr_assist.retrieve.hybrid import RankedHits

    questions = _questions(spec)
    settings = _settings(Path(spec["index"]), spec.get("chroma_url"))
    t0 = time.perf_counter()
    index = Index.open(settings)
    assistant = Assistant(settings, index=index)
    _, first = assistant.ask("Why are Norco requests upheld?")
    len(first.hits)  # ranks: loads the model, the store and BM25
    warm = time.perf_counter() - t0
    rss_warm = _rss_mib()
    # How the dense step answered: from the catalog's copy of the candidates' vectors
    # (the filters left few enough), or through the vector store.
    paths = {"catalog": 0, "store": 0}
    kept = index.nearest_kept

    def counted(*args: Any, **kwargs: Any) -> Any:
        got = kept(*args, **kwargs)
        paths["catalog" if got is not None else "store"] += 1
        return got

    index.nearest_kept = counted  # type: ignore[method-assign]
    ms, searched, slowest = [], [], []
    limit = spec.get("question_limit", 120)

    def too_long(signum: int, frame: Any) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, too_long)
    for n, q in enumerate(questions, 1):
        t = time.perf_counter()
        signal.alarm(limit)
        try:
            _, result = assistant.ask(q)
            hits = result.hits
            ranked = not isinstance(hits, RankedHits) or hits.ranked
        except TimeoutError:  # counted at the limit: a lower bound for the percentiles
            ranked = None
        finally:
            signal.alarm(0)
        ms.append((time.perf_counter() - t) * 1000)
        if ranked:
            searched.append(ms[-1])
        slowest.append((ms[-1], q, ranked is None))
        print(f"  {n} {ms[-1]:.0f} ms {q}", file=sys.stderr, flush=True)
    index.close()
    slowest.sort(reverse=True)
    return {
        "question_limit_s": limit,
        "timed_out": sum(1 for _, _, out in slowest if out),
        "slowest": [{"ms": t, "question": q, "timed_out": out} for t, q, out in slowest[:10]],
        "chroma_url": spec.get("chroma_url"),
        "questions": len(ms),
        "first_question_seconds": warm,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms),
        "searched": len(searched),
        "dense_from_catalog": paths["catalog"],
        "searched_p50_ms": percentile(searched, 50) if searched else None,
        "searched_p95_ms": percentile(searched, 95) if searched else None,
        "rss_after_first_mib": rss_warm,
        "peak_rss_mib": _rss_mib(),
    }


#: The catalog's filter queries as the code runs them (``Catalog.items``,
#: ``Catalog.letter_facts``, ``Catalog.chunk_metadata`` and the lookups by key), with a
#: value to bind. The letter facts' sex is matched with an age only (a sex word names a
#: patient beside an age), so it has no index of its own.
PLANS = {
    "items by generic": ("SELECT * FROM items WHERE generic IN (?)", ["hydrocodone"]),
    "items by class": ("SELECT * FROM items WHERE drug_class IN (?)", ["opioid"]),
    "items by canonical": ("SELECT * FROM items WHERE canonical IN (?)", ["Norco"]),
    "items by decision": ("SELECT * FROM items WHERE decision = ?", ["upheld"]),
    "items by letter": ("SELECT * FROM items WHERE doc_id IN (?)", ["SIM-0000001"]),
    "chunks of a letter": ("SELECT id FROM chunks WHERE doc_id = ?", ["SIM-0000001"]),
    "chunk metadata by id": ("SELECT id, meta FROM chunks WHERE id IN (?)", ["x"]),
    "letter by sha256": ("SELECT doc_id FROM letters WHERE sha256 = ?", ["0" * 64]),
    "facts by age (and sex)": (
        "SELECT * FROM letter_facts WHERE age IN (?) AND (sex IS NULL OR sex = '' OR sex = ?)",
        [47, "female"],
    ),
    "facts by date of injury (prefix)": (
        "SELECT * FROM letter_facts WHERE date_of_injury GLOB ?",
        ["2015-01*"],
    ),
}


def phase_plans(spec: dict[str, Any]) -> dict[str, Any]:
    import sqlite3

    from imr_assist.index.index import CATALOG_FILE

    db = sqlite3.connect(f"file:{Path(spec['index']) / CATALOG_FILE}?mode=ro", uri=True)
    out = {}
    for name, (sql, args) in PLANS.items():
        plan = " / ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, args))
        t0 = time.perf_counter()
        n = len(db.execute(sql, args).fetchall())
        out[name] = {
            "sql": sql,
            "plan": plan,
            "uses_index": "USING" in plan,
            "rows": n,
            "ms": (time.perf_counter() - t0) * 1000,
        }
    db.close()
    return out


PHASES = {
    "build": phase_build,
    "bm25": phase_bm25,
    "bm25s": phase_bm25s,
    "query": phase_query,
    "plans": phase_plans,
}


def child(phase: str, spec: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "evals.bench_scale", "--phase", phase, json.dumps(spec)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} failed with exit code {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - t0
    result["load_average"] = os.getloadavg()[0]
    return result


def markdown(r: dict[str, Any]) -> str:
    b, m, q = r["build"], r["bm25"], r["query"]
    lines = [
        f"# Scale simulation: {b['letters']:,} letters",
        "",
        f"{r['date']}; {os.cpu_count()} cores. **Synthetic vectors**: catalog rows and "
        f"chunk texts are clones of {b['pool_letters']} parsed letters from `{r['pool']}` "
        "under new case numbers; every vector is a random unit vector, so query times "
        "and memory are those of an index this size, and retrieval quality is not measured.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| letters / chunks | {b['letters']:,} / {b['chunks']:,} |",
        f"| catalog writes | {b['catalog_seconds']:.0f} s |",
        f"| Chroma upserts (synthetic vectors) | {b['vector_seconds']:.0f} s "
        f"({b['chunks'] / b['vector_seconds']:.0f} vectors/s) |",
        f"| peak RSS, building | {b['peak_rss_mib']:.0f} MiB |",
        f"| BM25 built whole, all chunks | {m['rebuild_seconds']:.1f} s "
        f"(peak RSS {m['rebuild_peak_rss_mib']:.0f} MiB; {m['postings']:,} postings, "
        f"{m['terms']:,} terms) |",
        f"| BM25 update after adding {m['added_letters']:,} letters "
        f"({m['chunks_after']:,} chunks) | {m['update_seconds']:.1f} s "
        f"(equals the rebuild: {'yes' if m['update_equals_rebuild'] else 'NO'}) |",
        f"| BM25 built whole again after adding | {m['rebuild_after_adding_seconds']:.1f} s |",
    ]
    if "bm25s" in r:
        lines.append(
            f"| for comparison: bm25s, built whole (as before) | "
            f"{r['bm25s']['rebuild_seconds']:.1f} s (peak RSS {r['bm25s']['peak_rss_mib']:.0f} MiB) |"
        )
    searched = (
        f"{q['searched_p50_ms']:.0f} / {q['searched_p95_ms']:.0f} ms" if q["searched"] else "-"
    )
    lines += [
        f"| first question (opens catalog, store, model, BM25) | "
        f"{q['first_question_seconds']:.1f} s |",
        f"| query p50 / p95 / max, in-process, {q['questions']} questions | "
        f"{q['p50_ms']:.0f} / {q['p95_ms']:.0f} / {q['max_ms']:.0f} ms |",
        f"| of which {q['searched']} ranked passages (dense + BM25): p50 / p95 | {searched} |",
        f"| dense steps scored from the catalog's copy of the vectors (filters left at most "
        f"`retrieval.exact_chunks` chunks) | {q.get('dense_from_catalog', '-')} |",
        f"| peak RSS, querying | {q['peak_rss_mib']:.0f} MiB |",
        f"| questions stopped at the {q['question_limit_s']} s limit | {q['timed_out']} |",
        f"| load average (1 min) at build / BM25 / query | {b['load_average']:.1f} / "
        f"{m['load_average']:.1f} / {q['load_average']:.1f} |",
    ]
    if "query_server" in r:
        qs = r["query_server"]
        lines += [
            f"| the same questions through a Chroma server ({qs['chroma_url']}): p50 / p95 | "
            f"{qs['p50_ms']:.0f} / {qs['p95_ms']:.0f} ms (client peak RSS "
            f"{qs['peak_rss_mib']:.0f} MiB; {qs['timed_out']} stopped at the limit) |",
        ]
    lines += [
        "",
        "Catalog filter queries (`EXPLAIN QUERY PLAN`):",
        "",
        "| filter | plan | rows | ms |",
        "|---|---|---:|---:|",
    ]
    for name, p in r["plans"].items():
        if not isinstance(p, dict):  # process_seconds, load_average
            continue
        lines.append(f"| {name} | `{p['plan']}` | {p['rows']} | {p['ms']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--letters", type=int, default=100_000)
    p.add_argument(
        "--pool",
        type=Path,
        help="Letters to clone: a synth corpus folder (letters/, questions.jsonl) "
        "or a folder of .txt/.pdf letters",
    )
    p.add_argument("--pool-size", type=int, default=500)
    p.add_argument("--questions", type=int, default=100)
    p.add_argument(
        "--questions-file",
        type=Path,
        default=None,
        help="JSON lines with a 'question' each (default: the pool's questions.jsonl)",
    )
    p.add_argument(
        "--phases",
        default="build,plans,bm25,query",
        help="Comma-separated phases; without build, --index names an index built before",
    )
    p.add_argument(
        "--question-limit",
        type=int,
        default=120,
        help="Seconds one question may take; a longer one is stopped and counted at the limit",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--index", type=Path, default=None, help="Where to build (default: a temp dir)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument(
        "--chroma-url",
        default=None,
        help="Query through a Chroma server serving the built store "
        "(`chroma run --path INDEX/chroma`); results under query_server",
    )
    p.add_argument("--phase", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        result = PHASES[args.phase[0]](json.loads(args.phase[1]))
        print(json.dumps(result))
        return 0
    if args.pool is None:
        p.error("--pool is required")
    import tempfile

    phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if "build" not in phases and args.index is None:
        p.error("--index is required without the build phase")
    index = args.index or Path(tempfile.mkdtemp(prefix="imr-scale-")) / "index"
    questions_file = args.questions_file or args.pool / "questions.jsonl"
    spec = {
        "pool": str(args.pool.resolve()),
        "pool_size": args.pool_size,
        "letters": args.letters,
        "questions": args.questions,
        "question_limit": args.question_limit,
        "questions_file": str(questions_file.resolve()),
        "seed": args.seed,
        "index": str(index),
        "chroma_url": args.chroma_url,
    }
    report: dict[str, Any] = {
        "schema": 1,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pool": str(args.pool),
        "vectors": "synthetic (random unit vectors)",
        "index": str(index),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"scale-{args.letters}"
    if "build" not in phases and stem.with_suffix(".json").exists():
        # the later phases of a run whose index was built before: add to its report
        report = {**json.loads(stem.with_suffix(".json").read_text()), **report}
    for phase in phases:
        print(f"[{phase}] {dt.datetime.now(dt.UTC):%H:%M:%S}", file=sys.stderr, flush=True)
        key = "query_server" if phase == "query" and args.chroma_url else phase
        report[key] = child(phase, spec)
        print(json.dumps(report[key])[:400], file=sys.stderr, flush=True)
        stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    if all(k in report for k in ("build", "bm25", "query", "plans")):
        stem.with_suffix(".md").write_text(markdown(report))
    print(f"wrote {stem}.json and {stem}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
