"""Benchmark: imr-assist against the naive baseline, measured side by side in one run.

::

    python -m evals.bench --sizes 200 2000 --seed 7 --questions 100 [--out evals/results] [--keep DIR]

For each size a synthetic corpus is generated (``imr_synth.generate``) and both
pipelines run over it:

1. ingest, each pipeline in a fresh child process, so that the peak RSS
   (``ru_maxrss``) belongs to that pipeline alone (the naive one first, then
   imr-assist, then step 2, so that what is compared runs close together in time);
2. the raw embedding model, in a child process, on exactly the texts imr-assist
   embedded (``chunks.embed_text`` in the catalog), in the same letter batches and
   with the same batch size: the ceiling for ingest throughput;
3. a re-ingest of the unchanged corpus (child process);
4. the questions of ``questions.jsonl`` against both pipelines in one warm child
   process: per-question time (search + extractive answer) and recall@5 against the
   gold items, scored with ``imr_assist.evaluate.metrics``.

Timings on a small shared machine are noisy, so what the report stresses are the
ratios between the two pipelines measured in the same run. Results go to
``<out>/bench-<size>.json`` and ``<out>/bench.md`` (every ``bench-*.json`` in ``<out>``).

A child process is this module run with ``--child TASK SPEC``; it prints one JSON
object as the last line of its stdout. A child that fails or runs past its time limit
is reported with the tail of its stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from imr_assist.errors import ImrError

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "evals" / "results"
SCHEMA = 1

#: Every naive input is padded to this many tokens, as Chroma's default embedder does.
NAIVE_PAD_TO = 256
#: Depth at which both pipelines' retrieval is scored.
RECALL_K = 5
#: Warm-up question asked of each pipeline before timing starts.
WARM_UP_QUESTION = "Why are Norco requests upheld?"

# Targets, checked in ``targets``.
TARGET_INGEST_VS_NAIVE = 2.0
TARGET_SHARE_OF_RAW = 0.90
TARGET_P50_MS = 50.0
TARGET_P95_MS = 150.0
TARGET_REINGEST_SHARE = 0.05
TARGET_RSS_MIB = 1.5 * 1024
#: The query-time targets are set for a corpus of this many letters.
QUERY_TARGET_SIZE = 2000
#: ``corpus.kind`` of a corpus of real letters copied with varied identifiers.
REAL_LIKE = "real-like"
REAL_QUESTIONS = ROOT / "evals" / "real" / "questions.jsonl"


class BenchError(ImrError):
    """A benchmark step failed; the message names the step and what went wrong."""


# --------------------------------------------------------------------------- child side


def _peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system, every thread).

    Less sensitive than wall time to other work on the machine, though an ONNX
    thread waiting for a busy core still spins and counts."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(index_dir: str) -> Any:
    from imr_assist.settings import Settings

    # Built directly, not with Settings.load(): IMR_ASSIST_* variables must not change
    # which embedder or index a benchmark measures.
    return Settings(index_dir=Path(index_dir), llm_enabled=False)


def child_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """imr-assist's ingest of the corpus letters into ``spec["index"]``."""
    from imr_assist.index.ingest import ingest

    cpu = _cpu_seconds()
    report = ingest([spec["letters"]], _settings(spec["index"]))
    cpu = _cpu_seconds() - cpu
    return {
        "letters_seen": report.letters_seen,
        "letters_indexed": report.letters_indexed,
        "letters_unchanged": report.letters_unchanged,
        "failed": report.failed,
        "items": report.items,
        "chunks": report.chunks_embedded,
        "seconds": report.seconds,
        "embed_seconds": report.embed_seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": _peak_rss_mib(),
    }


def child_naive_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """The naive pipeline's ingest into its own Chroma store at ``spec["root"]``."""
    from imr_assist.evaluate.naive import NaivePipeline

    naive = NaivePipeline(Path(spec["root"]), pad_to=NAIVE_PAD_TO)
    cpu = _cpu_seconds()
    report = naive.ingest([spec["letters"]])
    cpu = _cpu_seconds() - cpu
    return {
        "letters_indexed": report.letters,
        "failed": len(report.failures),
        "chunks": report.chunks,
        "seconds": report.seconds,
        "embed_seconds": report.embed_seconds,
        "cpu_seconds": cpu,
        "settings": naive.settings(),
        "peak_rss_mib": _peak_rss_mib(),
    }


def child_raw_model(spec: dict[str, Any]) -> dict[str, Any]:
    """The bare embedder on the texts imr-assist embedded, grouped as ingest groups them."""
    import sqlite3

    from imr_assist.index.embed import default_embedder
    from imr_assist.index.index import CATALOG_FILE
    from imr_assist.index.ingest import BATCH_LETTERS

    db = sqlite3.connect(f"file:{Path(spec['index']) / CATALOG_FILE}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT c.doc_id, c.embed_text FROM chunks c JOIN letters l ON l.doc_id = c.doc_id "
        "ORDER BY l.rowid, c.rowid"
    ).fetchall()
    db.close()
    # Ingest embeds BATCH_LETTERS letters per call, in the order it committed them.
    groups: list[list[str]] = []
    letters_in_group = 0
    last_doc: str | None = None
    for doc_id, text in rows:
        if doc_id != last_doc:
            if not groups or letters_in_group == BATCH_LETTERS:
                groups.append([])
                letters_in_group = 0
            letters_in_group += 1
            last_doc = doc_id
        groups[-1].append(text)
    embedder = default_embedder()
    embedder.embed(["warm up"])  # loads the ONNX session outside the timed part
    cpu = _cpu_seconds()
    t0 = time.perf_counter()
    for texts in groups:
        embedder.embed(texts)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu
    return {
        "texts": len(rows),
        # Ingest may embed a repeated text once; the model here sees every one.
        "distinct_texts": len({text for _, text in rows}),
        "calls": len(groups),
        "batch_size": embedder.batch_size,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mib": _peak_rss_mib(),
    }


def child_query(spec: dict[str, Any]) -> dict[str, Any]:
    """Both pipelines answer the questions in one warm process: times and recall@5."""
    from imr_assist.answer.service import Assistant
    from imr_assist.evaluate.corpus import load_corpus
    from imr_assist.evaluate.metrics import Passage, percentile, score_retrieval
    from imr_assist.evaluate.naive import NaivePipeline
    from imr_assist.evaluate.runner import ItemKeys, gold_targets
    from imr_assist.index.index import Index

    corpus = load_corpus(Path(spec["corpus"]))
    questions = corpus.questions[: spec["questions"]]
    settings = _settings(spec["index"])
    index = Index.open(settings)
    assistant = Assistant(settings, index=index)
    naive = NaivePipeline(Path(spec["naive_root"]), pad_to=NAIVE_PAD_TO)

    # Hits are tied to gold items by letter text (sha256), as the evaluation does.
    keys = ItemKeys(corpus, index.catalog)
    predicted = {}
    for doc_id in corpus.gold:
        f = keys.gold_file.get(doc_id)
        owner = index.catalog.sha_owner(f.sha256) if f else None
        predicted[doc_id] = index.catalog.letter(owner or doc_id)
    targets = gold_targets(corpus, keys, predicted)
    # The naive pipeline names a letter by its file stem; its letter table lives only
    # in the process that ingested, so the stems are resolved from the corpus files.
    stem_sha = {f.stem: f.sha256 for f in corpus.letters}

    def imr_key(doc_id: str) -> str:
        return keys.of(index.catalog.doc_sha(doc_id), doc_id)

    def naive_key(doc_id: str) -> str:
        return keys.of(stem_sha.get(doc_id), doc_id)

    def run_imr(question: str) -> list[Passage]:
        result = assistant.search(question)
        assistant.answer(result)
        return [
            Passage(imr_key(h.chunk.doc_id), h.chunk.start, h.chunk.end, h.chunk.item_index)
            for h in result.hits[:RECALL_K]
        ]

    def run_naive(question: str) -> list[Passage]:
        hits = naive.search(question, naive.top_k)
        naive.compose(question, hits)
        return [Passage(naive_key(h.doc_id), h.start, h.end) for h in hits[:RECALL_K]]

    runners: dict[str, Callable[[str], list[Passage]]] = {
        "imr_assist": run_imr,
        "naive": run_naive,
    }
    for run in runners.values():
        run(WARM_UP_QUESTION)
    times: dict[str, list[float]] = {name: [] for name in runners}
    rankings: dict[str, list[tuple[list[Passage], list[Any]]]] = {name: [] for name in runners}
    for n, q in enumerate(questions):
        gold = [targets[r.key] for r in q.items if r.key in targets]
        # Alternate which pipeline goes first, so neither always runs on a warmer cache.
        order = list(runners) if n % 2 == 0 else list(reversed(runners))
        for name in order:
            t0 = time.perf_counter()
            passages = runners[name](q.question)
            times[name].append(time.perf_counter() - t0)
            if q.answerable and gold:
                rankings[name].append((passages, gold))

    out: dict[str, Any] = {
        "questions": len(questions),
        "peak_rss_mib": _peak_rss_mib(),
        "imr_chunks": index.catalog.chunk_count(),
        "naive_chunks": naive.collection.count(),
    }
    for name in runners:
        retrieval, scored = score_retrieval(rankings[name])
        ms = [t * 1000 for t in times[name]]
        out[name] = {
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "mean_ms": sum(ms) / len(ms) if ms else None,
            "recall_at_5": retrieval["recall@5"],
            "scored_questions": scored,
        }
    index.close()
    return out


def child_query_latency(spec: dict[str, Any]) -> dict[str, Any]:
    """Both pipelines answer ``spec["questions"]`` (texts) in one warm process: times only.

    For the real-like corpus, whose copies share their originals' gold, recall is not
    scored."""
    from imr_assist.answer.service import Assistant
    from imr_assist.evaluate.metrics import percentile
    from imr_assist.evaluate.naive import NaivePipeline
    from imr_assist.index.index import Index

    settings = _settings(spec["index"])
    index = Index.open(settings)
    assistant = Assistant(settings, index=index)
    naive = NaivePipeline(Path(spec["naive_root"]), pad_to=NAIVE_PAD_TO)

    def run_imr(question: str) -> None:
        assistant.answer(assistant.search(question))

    def run_naive(question: str) -> None:
        naive.compose(question, naive.search(question, naive.top_k))

    runners: dict[str, Callable[[str], None]] = {"imr_assist": run_imr, "naive": run_naive}
    for run in runners.values():
        run(WARM_UP_QUESTION)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for n, q in enumerate(spec["questions"]):
        order = list(runners) if n % 2 == 0 else list(reversed(runners))
        for name in order:
            t0 = time.perf_counter()
            runners[name](q)
            times[name].append(time.perf_counter() - t0)
    out: dict[str, Any] = {
        "questions": len(spec["questions"]),
        "peak_rss_mib": _peak_rss_mib(),
        "imr_chunks": index.catalog.chunk_count(),
        "naive_chunks": naive.collection.count(),
    }
    for name in runners:
        ms = [t * 1000 for t in times[name]]
        out[name] = {
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "mean_ms": sum(ms) / len(ms) if ms else None,
            "recall_at_5": None,
            "scored_questions": 0,
        }
    index.close()
    return out


CHILD_TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "query-latency": child_query_latency,
    "ingest": child_ingest,
    "naive-ingest": child_naive_ingest,
    "raw-model": child_raw_model,
    "query": child_query,
}


def run_child_task(task: str, spec_json: str) -> int:
    """Run one child task; its result is the last line of stdout, everything else goes to
    stderr so that libraries printing to stdout cannot corrupt it."""
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        result = CHILD_TASKS[task](json.loads(spec_json))
    finally:
        sys.stdout = real_stdout
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    return 0


# --------------------------------------------------------------------------- parent side


def call_child(
    task: str, spec: dict[str, Any], timeout: float, tree: Path = ROOT
) -> dict[str, Any]:
    """Run ``task`` in a fresh interpreter and return its JSON result.

    ``tree``: the checkout whose code (``evals.bench`` and ``imr_assist``) the child
    runs, e.g. a worktree of an earlier commit to measure it beside this one."""
    cmd = [sys.executable, "-m", "evals.bench", "--child", task, json.dumps(spec)]
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise BenchError(
            f"step {task!r} ran past its limit of {timeout:.0f} s (raise it with --timeout)"
            f"{_tail(_text(err.stderr))}"
        ) from None
    if proc.returncode != 0:
        raise BenchError(
            f"step {task!r} failed with exit code {proc.returncode}{_tail(proc.stderr)}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise BenchError(f"step {task!r} printed no JSON result{_tail(proc.stderr)}") from None
    if not isinstance(result, dict):
        raise BenchError(f"step {task!r} printed {type(result).__name__}, not a JSON object")
    result["process_seconds"] = time.perf_counter() - t0
    # Other work on the machine slows a step down; the load shows how much there was.
    result["load_average"] = os.getloadavg()[0]
    return result


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def _tail(stderr: str, lines: int = 15) -> str:
    kept = [line for line in stderr.splitlines() if line.strip()][-lines:]
    return ("; stderr:\n" + "\n".join(kept)) if kept else "; no stderr"


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": version("onnxruntime"),
        "chromadb": version("chromadb"),
        "platform": platform.platform(),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _rate(count: float, seconds: float) -> float | None:
    return count / seconds if seconds > 0 else None


def ingest_figures(raw: dict[str, Any], index_bytes: int) -> dict[str, Any]:
    seconds = raw["seconds"]
    return {
        "letters": raw["letters_indexed"],
        "chunks": raw["chunks"],
        "failed": raw["failed"],
        "seconds": seconds,
        "embed_seconds": raw["embed_seconds"],
        "cpu_seconds": raw["cpu_seconds"],
        "embed_share": _ratio(raw["embed_seconds"], seconds),
        "letters_per_s": _rate(raw["letters_indexed"], seconds),
        "chunks_per_s": _rate(raw["chunks"], seconds),
        "peak_rss_mib": raw["peak_rss_mib"],
        "index_bytes": index_bytes,
        "process_seconds": raw["process_seconds"],
        "load_average": raw["load_average"],
    }


@dataclass
class Target:
    name: str
    goal: str
    value: float | None
    met: bool
    applies: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "value": self.value,
            "met": self.met,
            "applies": self.applies,
        }


def targets(result: dict[str, Any]) -> list[Target]:
    """Each target with its measured value and whether it is met."""
    imr, naive, ratios = result["imr_assist"], result["naive"], result["ratios"]
    r_imr, r_naive = imr["query"]["recall_at_5"], naive["query"]["recall_at_5"]
    vs_naive = ratios["letters_per_s"]
    recall_ok = r_imr is not None and r_naive is not None and r_imr >= r_naive
    if result["corpus"].get("kind") == REAL_LIKE:  # copies of gold letters: not scored
        recall_ok = True
    share = ratios["share_of_raw_model"]
    p50, p95 = imr["query"]["p50_ms"], imr["query"]["p95_ms"]
    reingest = ratios["reingest_share"]
    rss = max(imr["ingest"]["peak_rss_mib"], imr["reingest"]["peak_rss_mib"])
    at_size = result["size"] >= QUERY_TARGET_SIZE
    return [
        Target(
            "ingest vs naive",
            f">= {TARGET_INGEST_VS_NAIVE:g}x naive letters/s, recall@5 >= naive",
            vs_naive,
            vs_naive is not None and vs_naive >= TARGET_INGEST_VS_NAIVE and recall_ok,
        ),
        Target(
            "share of raw model throughput",
            f">= {TARGET_SHARE_OF_RAW:.0%}",
            share,
            share is not None and share >= TARGET_SHARE_OF_RAW,
        ),
        Target(
            "query p50",
            f"< {TARGET_P50_MS:g} ms at {QUERY_TARGET_SIZE:,} letters",
            p50,
            p50 is not None and p50 < TARGET_P50_MS,
            at_size,
        ),
        Target(
            "query p95",
            f"< {TARGET_P95_MS:g} ms at {QUERY_TARGET_SIZE:,} letters",
            p95,
            p95 is not None and p95 < TARGET_P95_MS,
            at_size,
        ),
        Target(
            "re-ingest",
            f"< {TARGET_REINGEST_SHARE:.0%} of the first ingest",
            reingest,
            reingest is not None and reingest < TARGET_REINGEST_SHARE,
        ),
        Target(
            "peak RSS (imr-assist ingest)",
            f"< {TARGET_RSS_MIB / 1024:g} GiB",
            rss,
            rss < TARGET_RSS_MIB,
        ),
    ]


Progress = Callable[[str], None]


def bench_size(
    size: int,
    seed: int,
    questions: int,
    work: Path,
    timeout: float,
    say: Progress,
    real: Path | None = None,
    baseline_tree: Path | None = None,
) -> dict[str, Any]:
    """Every measurement for one corpus of ``size`` letters, as a JSON-ready dict.

    ``real``: a folder of real letters, copied with varied identifiers
    (``imr_synth.replicate``) instead of a generated corpus; questions are then
    the real-letter set's, timed but not scored. ``baseline_tree``: a checkout of an
    earlier commit whose ingest also runs, beside this one's, on the same corpus."""
    from imr_synth import generate
    from imr_synth.replicate import replicate

    folder = work / (f"real-{size}" if real else f"size-{size}")
    corpus, index, naive_root = folder / "corpus", folder / "imr-index", folder / "naive-index"
    base_index = folder / "baseline-index"
    letters = str(corpus / "letters")
    for stale in (index, naive_root, base_index):  # a kept work folder may hold a previous run
        shutil.rmtree(stale, ignore_errors=True)

    if real is not None:
        say(f"[{size}] copying the real letters in {real} to {size} letters (seed {seed})")
        shutil.rmtree(corpus, ignore_errors=True)
        copied = replicate(real, size, seed, corpus / "letters")
        real_questions = [
            json.loads(line)["question"]
            for line in REAL_QUESTIONS.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ][:questions]
    else:
        say(f"[{size}] generating {size} letters and {questions} questions (seed {seed})")
        synth = generate(size, seed, corpus, questions=questions, overwrite=True)

    # The naive ingest, imr-assist's ingest and the bare model run back to back, so
    # that imr-assist's figures sit next to both of theirs in time: load from other
    # work on the machine drifts, and the ratios are what the benchmark reports.
    say(f"[{size}] naive ingest (child process)")
    naive_raw = call_child("naive-ingest", {"letters": letters, "root": str(naive_root)}, timeout)
    naive_ingest = ingest_figures(naive_raw, disk_bytes(naive_root))
    say(f"[{size}]   {_f(naive_ingest['letters_per_s'])} letters/s, {naive_raw['seconds']:.1f} s")

    baseline = None
    if baseline_tree is not None:
        say(f"[{size}] baseline ingest ({baseline_tree}, child process)")
        base_raw = call_child(
            "ingest", {"letters": letters, "index": str(base_index)}, timeout, tree=baseline_tree
        )
        baseline = ingest_figures(base_raw, disk_bytes(base_index))
        baseline["tree"] = str(baseline_tree)
        baseline["rev"] = _git_rev(baseline_tree)
        say(f"[{size}]   {_f(baseline['letters_per_s'])} letters/s, {base_raw['seconds']:.1f} s")
        shutil.rmtree(base_index, ignore_errors=True)

    say(f"[{size}] imr-assist ingest (child process)")
    imr_raw = call_child("ingest", {"letters": letters, "index": str(index)}, timeout)
    imr_ingest = ingest_figures(imr_raw, disk_bytes(index))
    say(f"[{size}]   {_f(imr_ingest['letters_per_s'])} letters/s, {imr_raw['seconds']:.1f} s")

    say(f"[{size}] raw embedding model on imr-assist's {imr_ingest['chunks']} texts")
    raw = call_child("raw-model", {"index": str(index)}, timeout)
    raw["texts_per_s"] = _rate(raw["texts"], raw["seconds"])
    say(f"[{size}]   {_f(raw['texts_per_s'])} texts/s")

    say(f"[{size}] imr-assist re-ingest of the unchanged corpus (child process)")
    again = call_child("ingest", {"letters": letters, "index": str(index)}, timeout)
    reingest = {
        "seconds": again["seconds"],
        "letters_unchanged": again["letters_unchanged"],
        "chunks": again["chunks"],
        "peak_rss_mib": again["peak_rss_mib"],
        "process_seconds": again["process_seconds"],
        "load_average": again["load_average"],
    }
    say(f"[{size}]   {again['seconds']:.2f} s")

    say(f"[{size}] {questions} questions to both pipelines (one warm child process)")
    if real is not None:
        spec = {"index": str(index), "naive_root": str(naive_root), "questions": real_questions}
        query = call_child("query-latency", spec, timeout)
    else:
        spec = {
            "corpus": str(corpus),
            "index": str(index),
            "naive_root": str(naive_root),
            "questions": questions,
        }
        query = call_child("query", spec, timeout)
    say(
        f"[{size}]   p50 {_f(query['imr_assist']['p50_ms'], '.1f')} ms vs "
        f"{_f(query['naive']['p50_ms'], '.1f')} ms naive"
    )

    result: dict[str, Any] = {
        "schema": SCHEMA,
        "size": size,
        "seed": seed,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "corpus": {
            "kind": REAL_LIKE if real is not None else "generated",
            "letters": copied.letters if real is not None else synth.counts.letters,
            "items": imr_raw["items"] if real is not None else synth.counts.items,
            "questions": query["questions"],
            "scored_questions": query["imr_assist"]["scored_questions"],
            **({"originals": copied.originals, "source": str(real)} if real is not None else {}),
        },
        "imr_assist": {
            "ingest": imr_ingest,
            "reingest": reingest,
            "query": query["imr_assist"],
        },
        "naive": {
            "ingest": naive_ingest,
            "query": query["naive"],
            "settings": naive_raw["settings"],
        },
        "raw_model": raw,
        "query_process": {
            "peak_rss_mib": query["peak_rss_mib"],
            "imr_chunks": query["imr_chunks"],
            "naive_chunks": query["naive_chunks"],
            "load_average": query["load_average"],
        },
        "ratios": {
            "letters_per_s": _ratio(imr_ingest["letters_per_s"], naive_ingest["letters_per_s"]),
            "chunks_per_s": _ratio(imr_ingest["chunks_per_s"], naive_ingest["chunks_per_s"]),
            "ingest_seconds": _ratio(imr_ingest["seconds"], naive_ingest["seconds"]),
            "ingest_cpu_seconds": _ratio(imr_ingest["cpu_seconds"], naive_ingest["cpu_seconds"]),
            "peak_rss": _ratio(imr_ingest["peak_rss_mib"], naive_ingest["peak_rss_mib"]),
            "index_bytes": _ratio(imr_ingest["index_bytes"], naive_ingest["index_bytes"]),
            "p50_ms": _ratio(query["imr_assist"]["p50_ms"], query["naive"]["p50_ms"]),
            "p95_ms": _ratio(query["imr_assist"]["p95_ms"], query["naive"]["p95_ms"]),
            "share_of_raw_model": _ratio(imr_ingest["chunks_per_s"], raw["texts_per_s"]),
            "reingest_share": _ratio(reingest["seconds"], imr_ingest["seconds"]),
        },
    }
    if baseline is not None:
        result["baseline_ingest"] = baseline
        result["ratios"]["letters_per_s_vs_baseline"] = _ratio(
            imr_ingest["letters_per_s"], baseline["letters_per_s"]
        )
    result["targets"] = [t.as_dict() for t in targets(result)]
    return result


def _git_rev(tree: Path) -> str:
    proc = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


# --------------------------------------------------------------------------- rendering


def _f(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _mib(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f}"


def comparison_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, imr-assist, naive, imr-assist / naive or note) for one size."""
    imr, naive, ratios, raw = r["imr_assist"], r["naive"], r["ratios"], r["raw_model"]
    ii, ni = imr["ingest"], naive["ingest"]
    iq, nq = imr["query"], naive["query"]
    return [
        (
            "letters/s",
            _f(ii["letters_per_s"]),
            _f(ni["letters_per_s"]),
            _f(ratios["letters_per_s"], ".2f", "x"),
        ),
        (
            "chunks/s",
            _f(ii["chunks_per_s"]),
            _f(ni["chunks_per_s"]),
            _f(ratios["chunks_per_s"], ".2f", "x"),
        ),
        ("chunks embedded", str(ii["chunks"]), str(ni["chunks"]), ""),
        (
            "ingest seconds",
            _f(ii["seconds"], ".1f"),
            _f(ni["seconds"], ".1f"),
            _f(ratios["ingest_seconds"], ".2f", "x"),
        ),
        (
            "ingest CPU seconds",
            _f(ii.get("cpu_seconds"), ".1f"),
            _f(ni.get("cpu_seconds"), ".1f"),
            _f(ratios.get("ingest_cpu_seconds"), ".2f", "x"),
        ),
        (
            "share of ingest time embedding",
            _f(ii["embed_share"], ".0%"),
            _f(ni["embed_share"], ".0%"),
            "",
        ),
        (
            "peak RSS, ingest (MiB)",
            _f(ii["peak_rss_mib"], ".0f"),
            _f(ni["peak_rss_mib"], ".0f"),
            _f(ratios["peak_rss"], ".2f", "x"),
        ),
        (
            "index on disk (MiB)",
            _mib(ii["index_bytes"]),
            _mib(ni["index_bytes"]),
            _f(ratios["index_bytes"], ".2f", "x"),
        ),
        (
            "query p50 (ms)",
            _f(iq["p50_ms"], ".1f"),
            _f(nq["p50_ms"], ".1f"),
            _f(ratios["p50_ms"], ".2f", "x"),
        ),
        (
            "query p95 (ms)",
            _f(iq["p95_ms"], ".1f"),
            _f(nq["p95_ms"], ".1f"),
            _f(ratios["p95_ms"], ".2f", "x"),
        ),
        (
            f"recall@{RECALL_K}",
            _f(iq["recall_at_5"], ".3f"),
            _f(nq["recall_at_5"], ".3f"),
            f"{iq['scored_questions']} questions with gold items",
        ),
        (
            f"raw model texts/s (the same {raw['texts']} texts, "
            f"{raw.get('distinct_texts', '?')} distinct)",
            _f(raw["texts_per_s"]),
            "",
            f"ingest at {_f(ratios['share_of_raw_model'], '.0%')} of it",
        ),
        (
            "re-ingest seconds (unchanged)",
            _f(imr["reingest"]["seconds"], ".2f"),
            "",
            f"{_f(ratios['reingest_share'], '.1%')} of the first ingest",
        ),
    ] + _baseline_rows(r)


def _baseline_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    base = r.get("baseline_ingest")
    if base is None:
        return []
    return [
        (
            f"baseline ingest letters/s (`{base['rev']}`, same corpus)",
            _f(base["letters_per_s"]),
            "",
            f"imr-assist at {_f(r['ratios']['letters_per_s_vs_baseline'], '.2f', 'x')} of it; "
            f"baseline CPU {_f(base['cpu_seconds'], '.1f')} s",
        )
    ]


def _target_value(t: dict[str, Any]) -> str:
    v = t["value"]
    if v is None:
        return "-"
    if t["name"] in ("share of raw model throughput", "re-ingest"):
        return f"{v:.1%}"
    if t["name"] == "ingest vs naive":
        return f"{v:.2f}x"
    if t["name"].startswith("query"):
        return f"{v:.1f} ms"
    return f"{v:.0f} MiB"


def _status(t: dict[str, Any]) -> str:
    s = "met" if t["met"] else "not met"
    return s if t["applies"] else f"{s} (target is for {QUERY_TARGET_SIZE:,} letters)"


def load_line(r: dict[str, Any]) -> str:
    """The machine's 1-minute load average at the end of each step, when recorded."""
    steps = [
        ("imr-assist ingest", r["imr_assist"]["ingest"]),
        ("naive ingest", r["naive"]["ingest"]),
        ("raw model", r["raw_model"]),
        ("re-ingest", r["imr_assist"]["reingest"]),
        ("questions", r["query_process"]),
    ]
    parts = [f"{name} {step['load_average']:.1f}" for name, step in steps if "load_average" in step]
    if not parts:
        return ""
    cores = r["machine"].get("cores")
    return f"Load average (1 min) at the end of each step, on {cores} cores: {', '.join(parts)}."


def markdown(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        "# imr-assist benchmark",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores",
        f"- Python {machine['python']}, onnxruntime {machine['onnxruntime']}, "
        f"chromadb {machine['chromadb']}",
        f"- Written {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; "
        f"seed {', '.join(str(s) for s in sorted({r['seed'] for r in results}))}",
        "",
        "Each size is one synthetic corpus (`imr-assist synth`), measured for both pipelines "
        "in the same run. Timings on a small machine are noisy; the same-run ratios are what "
        f"to compare. The naive pipeline splits whole letters (RecursiveCharacterTextSplitter "
        f"1000/200), pads every input to {NAIVE_PAD_TO} tokens as Chroma's default embedder "
        "does, and returns the top 5 passages with no filters. Query time is the full "
        "question: search plus the extractive answer.",
    ]
    for r in results:
        c = r["corpus"]
        if c.get("kind") == REAL_LIKE:
            title = f"{r['size']:,} real-like letters"
            about = (
                f"{c['originals']} real letters copied with varied case numbers and ages; "
                f"{c['items']} items, {c['questions']} real-letter questions (timed, not "
                f"scored: copies share their originals' gold), run {r['date']}."
            )
        else:
            title = f"{r['size']:,} letters"
            about = (
                f"{c['items']} items, {c['questions']} questions ({c['scored_questions']} "
                f"with gold items, scored for recall), seed {r['seed']}, run {r['date']}."
            )
        lines += [
            "",
            f"## {title}",
            "",
            about,
            "",
            "| measure | imr-assist | naive | imr-assist / naive |",
            "|---|---:|---:|---|",
        ]
        lines += [f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in comparison_rows(r)]
        loads = load_line(r)
        if loads:
            lines += ["", loads]
        lines += ["", "| target | goal | measured | status |", "|---|---|---:|---|"]
        lines += [
            f"| {t['name']} | {t['goal']} | {_target_value(t)} | {_status(t)} |"
            for t in r["targets"]
        ]
    return "\n".join(lines) + "\n"


def print_tables(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for r in results:
        kind = " real-like" if r["corpus"].get("kind") == REAL_LIKE else ""
        table = Table(title=f"{r['size']:,}{kind} letters (seed {r['seed']})")
        for col in ("measure", "imr-assist", "naive", "imr-assist / naive"):
            table.add_column(
                col, justify="left" if col.startswith(("measure", "imr-assist /")) else "right"
            )
        for row in comparison_rows(r):
            table.add_row(*row)
        console.print(table)
        goals = Table(title="targets")
        for col in ("target", "goal", "measured", "status"):
            goals.add_column(col)
        for t in r["targets"]:
            colour = "green" if t["met"] else "red"
            goals.add_row(
                t["name"], t["goal"], _target_value(t), f"[{colour}]{_status(t)}[/{colour}]"
            )
        console.print(goals)


def load_results(out: Path) -> list[dict[str, Any]]:
    """Every benchmark result in ``out`` with the current layout, by size."""
    results = []
    for path in out.glob("bench-*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            results.append(data)
    return sorted(results, key=lambda r: r["size"])


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m evals.bench",
        description="Benchmark imr-assist against a naive pipeline on synthetic corpora.",
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[200, 2000], help="Corpus sizes")
    p.add_argument("--seed", type=int, default=7, help="Corpus seed")
    p.add_argument("--questions", type=int, default=100, help="Questions per corpus")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Folder for the results")
    p.add_argument(
        "--keep", type=Path, default=None, help="Work in this folder and keep it (corpora, indexes)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="Seconds each child step may take [default: 1800 + 3 per letter]",
    )
    p.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="DIR",
        help="Also benchmark letters like the real ones: the letters in DIR copied with "
        "varied identifiers (see --real-sizes)",
    )
    p.add_argument(
        "--real-sizes", type=int, nargs="+", default=[650], help="Sizes of the real-like corpora"
    )
    p.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        metavar="DIR",
        help="A checkout of an earlier commit (git worktree add DIR REV): its ingest runs "
        "too, on the same corpus in the same run",
    )
    p.add_argument(
        "--skip-generated", action="store_true", help="Only the real-like corpora (--real)"
    )
    p.add_argument("--child", nargs=2, metavar=("TASK", "SPEC"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is None:
        if any(n < 1 for n in args.sizes):
            p.error("--sizes: every size must be at least 1")
        if args.questions < 1:
            p.error("--questions: give at least 1")
    elif args.child[0] not in CHILD_TASKS:
        p.error(f"--child: unknown task {args.child[0]!r}")
    return args


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    started = time.perf_counter()

    def say(message: str) -> None:
        err.print(f"{time.perf_counter() - started:7.1f}s  {message}")

    args.out.mkdir(parents=True, exist_ok=True)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep
    else:
        work = Path(tempfile.mkdtemp(prefix="imr-bench-"))
    results = []
    try:
        runs = [] if args.skip_generated else [(size, None) for size in args.sizes]
        if args.real is not None:
            runs += [(size, args.real.resolve()) for size in args.real_sizes]
        for size, real in runs:
            timeout = args.timeout or 1800 + 3 * size
            result = bench_size(
                size,
                args.seed,
                args.questions,
                work,
                timeout,
                say,
                real=real,
                baseline_tree=args.baseline_tree.resolve() if args.baseline_tree else None,
            )
            path = args.out / (f"bench-real-{size}.json" if real else f"bench-{size}.json")
            path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            say(f"[{size}] wrote {path}")
            results.append(result)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    md = args.out / "bench.md"
    md.write_text(markdown(load_results(args.out), machine_info()), encoding="utf-8")
    say(f"wrote {md}")
    print_tables(results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return run_child_task(*args.child)
    try:
        run(args)
    except ImrError as err:
        print(f"Error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
