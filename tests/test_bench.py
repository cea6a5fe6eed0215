"""The benchmark command end to end on a tiny corpus: every figure present and consistent.

Benchmarks are not tests of speed; nothing here compares a time with a threshold.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from evals.bench import BenchError, call_child

ROOT = Path(__file__).resolve().parents[1]

INGEST_FIELDS = {
    "letters",
    "chunks",
    "failed",
    "seconds",
    "embed_seconds",
    "cpu_seconds",
    "embed_share",
    "letters_per_s",
    "chunks_per_s",
    "peak_rss_mib",
    "index_bytes",
}
QUERY_FIELDS = {"p50_ms", "p95_ms", "mean_ms", "recall_at_5", "scored_questions"}
TARGETS = {
    "ingest vs naive",
    "share of raw model throughput",
    "query p50",
    "query p95",
    "re-ingest",
    "peak RSS (imr-assist ingest)",
}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9)


@pytest.mark.slow
def test_bench_on_twenty_letters_writes_consistent_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals.bench",
            "--sizes",
            "20",
            "--questions",
            "10",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "20 letters (seed 3)" in proc.stdout
    for step in (
        "imr-assist ingest",
        "naive ingest",
        "raw embedding model",
        "re-ingest",
        "questions to both pipelines",
    ):
        assert step in proc.stderr

    r = json.loads((out / "bench-20.json").read_text(encoding="utf-8"))
    assert r["size"] == 20 and r["seed"] == 3
    assert r["corpus"]["letters"] == 20 and r["corpus"]["questions"] == 10
    assert 0 < r["corpus"]["scored_questions"] <= 10
    assert set(r["machine"]) >= {"cpu", "cores", "python", "onnxruntime", "chromadb"}

    imr, naive = r["imr_assist"], r["naive"]
    for pipeline in (imr, naive):
        ing = pipeline["ingest"]
        assert set(ing) >= INGEST_FIELDS
        assert ing["letters"] == 20 and ing["failed"] == 0 and ing["chunks"] > 0
        assert ing["seconds"] > 0 and ing["peak_rss_mib"] > 0 and ing["index_bytes"] > 0
        assert ing["cpu_seconds"] > 0
        assert 0 < ing["embed_share"] <= 1
        assert close(ing["letters_per_s"], ing["letters"] / ing["seconds"])
        assert close(ing["chunks_per_s"], ing["chunks"] / ing["seconds"])
        assert close(ing["embed_share"], ing["embed_seconds"] / ing["seconds"])
        q = pipeline["query"]
        assert set(q) >= QUERY_FIELDS
        assert 0 < q["p50_ms"] <= q["p95_ms"]
        assert 0.0 <= q["recall_at_5"] <= 1.0
        assert q["scored_questions"] == r["corpus"]["scored_questions"]
    assert naive["settings"]["pad_to"] == 256 and naive["settings"]["chunk_size"] == 1000

    # The raw model ran on exactly the texts imr-assist embedded.
    raw = r["raw_model"]
    assert raw["texts"] == imr["ingest"]["chunks"] and raw["batch_size"] == 32
    assert close(raw["texts_per_s"], raw["texts"] / raw["seconds"])
    # The re-ingest found every letter unchanged and embedded nothing.
    assert imr["reingest"]["letters_unchanged"] == 20 and imr["reingest"]["chunks"] == 0
    # The query process saw both complete stores.
    assert r["query_process"]["imr_chunks"] == imr["ingest"]["chunks"]
    assert r["query_process"]["naive_chunks"] == naive["ingest"]["chunks"]

    ratios = r["ratios"]
    ii, ni = imr["ingest"], naive["ingest"]
    assert close(ratios["letters_per_s"], ii["letters_per_s"] / ni["letters_per_s"])
    assert close(ratios["chunks_per_s"], ii["chunks_per_s"] / ni["chunks_per_s"])
    assert close(ratios["ingest_cpu_seconds"], ii["cpu_seconds"] / ni["cpu_seconds"])
    assert close(ratios["share_of_raw_model"], ii["chunks_per_s"] / raw["texts_per_s"])
    assert close(ratios["reingest_share"], imr["reingest"]["seconds"] / ii["seconds"])
    assert close(ratios["p50_ms"], imr["query"]["p50_ms"] / naive["query"]["p50_ms"])

    targets = {t["name"]: t for t in r["targets"]}
    assert set(targets) == TARGETS
    assert all(isinstance(t["met"], bool) for t in targets.values())
    assert close(targets["ingest vs naive"]["value"], ratios["letters_per_s"])
    assert close(targets["re-ingest"]["value"], ratios["reingest_share"])
    rss = targets["peak RSS (imr-assist ingest)"]
    assert rss["met"] == (rss["value"] < 1536)
    assert not targets["query p50"]["applies"]  # set for 2,000 letters

    md = (out / "bench.md").read_text(encoding="utf-8")
    assert "## 20 letters" in md and " cores" in md
    for label in (
        "letters/s",
        "chunks/s",
        "peak RSS",
        "ingest CPU seconds",
        "index on disk",
        "query p50",
        "query p95",
        "recall@5",
        "raw model texts/s",
        "re-ingest",
        "onnxruntime",
        "chromadb",
        "seed 3",
        "Load average (1 min)",
    ):
        assert label in md
    assert md.count("| not met") + md.count("| met") == len(TARGETS)


def test_a_failing_step_is_reported_with_its_stderr(tmp_path: Path) -> None:
    with pytest.raises(BenchError) as caught:
        call_child("raw-model", {"index": str(tmp_path / "no-index")}, timeout=300)
    message = str(caught.value)
    assert "step 'raw-model' failed" in message
    assert "OperationalError" in message  # the child's own traceback, not a hang


REAL = ROOT.parent / "shared" / "real-letters"


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-letters not present")
def test_bench_real_like_corpus_with_a_baseline_tree(tmp_path: Path) -> None:
    """``--real``: copies of real letters, timed questions, no recall; ``--baseline-tree``:
    another checkout's ingest on the same corpus (here this checkout itself)."""
    out = tmp_path / "results"
    real = tmp_path / "real"
    real.mkdir()
    for pdf in sorted(REAL.glob("*.pdf"))[:3]:
        (real / pdf.name).symlink_to(pdf)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals.bench",
            "--skip-generated",
            "--real",
            str(real),
            "--real-sizes",
            "7",
            "--questions",
            "3",
            "--baseline-tree",
            str(ROOT),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (out / "bench-7.json").exists()  # --skip-generated
    r = json.loads((out / "bench-real-7.json").read_text(encoding="utf-8"))
    c = r["corpus"]
    assert (c["kind"], c["letters"], c["originals"], c["questions"]) == ("real-like", 7, 3, 3)
    assert c["items"] > 0
    imr, base = r["imr_assist"]["ingest"], r["baseline_ingest"]
    assert imr["letters"] == base["letters"] == 7 and base["tree"] == str(ROOT)
    assert close(
        r["ratios"]["letters_per_s_vs_baseline"], imr["letters_per_s"] / base["letters_per_s"]
    )
    for pipeline in ("imr_assist", "naive"):
        q = r[pipeline]["query"]
        assert q["recall_at_5"] is None and q["scored_questions"] == 0
        assert 0 < q["p50_ms"] <= q["p95_ms"]
    md = (out / "bench.md").read_text(encoding="utf-8")
    assert "## 7 real-like letters" in md and "baseline ingest letters/s" in md
