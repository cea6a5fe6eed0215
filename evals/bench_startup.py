"""Start-up benchmark: one-shot commands as whole processes, against a baseline tree.

::

    python -m evals.bench_startup --baseline /tmp/base [--runs 5] [--out evals/results]

A user runs ``imr-assist --help``, ``extract`` or ``ask`` once and waits for the whole
process: interpreter, imports, model and store loading, the work, exit. Each command
here runs ``--runs`` times as a fresh process, alternating with the same command from
the baseline tree (a checkout of an earlier commit, e.g. ``git worktree add /tmp/base
REV``) so both see the same machine load. Each tree runs through the same wrapper with
``PYTHONPATH`` set to it and the same interpreter and dependencies (this checkout's
``.venv``): only the project code differs. The figure that matters is the median CPU
seconds of the child (user + system, ``getrusage(RUSAGE_CHILDREN)``), which is less
sensitive to other work on a shared machine than wall time (also reported).

Results go to ``<out>/startup.json`` and ``<out>/startup.md``. Not a test: nothing
here passes or fails on a time, the targets are reported as met or not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "evals" / "results"

#: The console script, for a tree on PYTHONPATH: same entry point as ``imr-assist``.
WRAPPER = (
    "import sys; sys.argv[0] = 'imr-assist'; "
    "import imr_assist.cli as c; "
    "assert c.__file__.startswith(sys.argv.pop(1)), c.__file__; c.main()"
)

WHY = "Why are Norco requests upheld?"
COUNT = "How many Norco requests were upheld?"


def commands(sample: Path) -> list[tuple[str, list[str], float | None]]:
    """(name, arguments after ``imr-assist``, target CPU seconds or None)."""
    return [
        ("--help", ["--help"], 0.3),
        ("extract one letter", ["extract", str(sample), "--format", "json"], 0.5),
        ("ask (why, extractive)", ["ask", WHY, "--index", "{index}", "--llm", "none"], 1.5),
        ("ask (count, extractive)", ["ask", COUNT, "--index", "{index}", "--llm", "none"], 1.5),
        ("search", ["search", "norco upheld", "--index", "{index}"], None),
    ]


def clean_env(tree: Path, home: Path) -> dict[str, str]:
    """The environment a tree runs in: its code first on the path, no user settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IMR_ASSIST_", "OPENAI_")) and k != "PYTHONPATH"
    }
    env.update(PYTHONPATH=str(tree), HOME=str(home), ANONYMIZED_TELEMETRY="False")
    return env


def run_once(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of one whole ``imr-assist ARGS`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(tree), *args],
        env=env,
        cwd=env["HOME"],  # not a checkout: "" on sys.path must not shadow PYTHONPATH
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(
            f"{tree}: imr-assist {' '.join(args)} exited {proc.returncode}:\n"
            + proc.stderr.decode(errors="replace")[-2000:]
        )
    return cpu, wall, proc.returncode


def build_index(tree: Path, index: Path, env: dict[str, str]) -> None:
    """Each tree ingests the bundled samples with its own code (not timed)."""
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(tree), "ingest", "--index", str(index), "--json"],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tree}: ingest failed:\n{proc.stderr.decode(errors='replace')}")


def git_rev(tree: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + ("+uncommitted" if dirty else "")


def summarise(samples: list[tuple[float, float, int]]) -> dict[str, Any]:
    cpus = [c for c, _, _ in samples]
    walls = [w for _, w, _ in samples]
    return {
        "cpu_median_s": round(statistics.median(cpus), 3),
        "cpu_min_s": round(min(cpus), 3),
        "wall_median_s": round(statistics.median(walls), 3),
        "exit_codes": sorted({r for _, _, r in samples}),
        "runs": len(samples),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    trees = {"current": ROOT, "baseline": args.baseline.resolve()}
    sample = sorted((ROOT / "imr_assist" / "data" / "samples").glob("*.txt"))[0]
    work = Path(tempfile.mkdtemp(prefix="imr-startup-"))
    envs = {}
    for name, tree in trees.items():
        (work / name / "home").mkdir(parents=True)
        envs[name] = clean_env(tree, work / name / "home")
        build_index(tree, work / name / "index", envs[name])
    load_before = os.getloadavg()
    results = []
    for label, argv, target in commands(sample):
        samples: dict[str, list[tuple[float, float, int]]] = {n: [] for n in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():  # alternate: both see the same load
                concrete = [a.replace("{index}", str(work / name / "index")) for a in argv]
                samples[name].append(run_once(tree, concrete, envs[name]))
        row = {"command": label, "args": argv, "target_cpu_s": target}
        for name in trees:
            row[name] = summarise(samples[name])
        cur, base = row["current"]["cpu_median_s"], row["baseline"]["cpu_median_s"]
        row["cpu_ratio_baseline_over_current"] = round(base / cur, 2) if cur else None
        row["target_met"] = None if target is None else cur <= target
        results.append(row)
        print(
            f"{label:26} current {cur:6.3f} s CPU  baseline {base:6.3f} s CPU"
            + (
                f"  target <= {target} s: {'met' if cur <= target else 'not met'}" if target else ""
            ),
            flush=True,
        )
    return {
        "schema": 1,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "current": {"tree": str(ROOT), "rev": git_rev(ROOT)},
        "baseline": {"tree": str(trees["baseline"]), "rev": git_rev(trees["baseline"])},
        "runs": args.runs,
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Start-up benchmark",
        "",
        f"{report['when']}; {m['cpus']} CPUs, {m['platform']}, Python {m['python']}; "
        f"load average {m['load_before'][0]} before, {m['load_after'][0]} after. "
        f"Median of {report['runs']} whole-process runs each, current and baseline "
        "alternating. Current "
        f"`{report['current']['rev']}`, baseline `{report['baseline']['rev']}`.",
        "",
        "| command | current CPU s | baseline CPU s | baseline / current | "
        "current wall s | baseline wall s | target (CPU) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in report["results"]:
        t = r["target_cpu_s"]
        status = "" if t is None else f"<= {t} s: {'met' if r['target_met'] else 'not met'}"
        lines.append(
            f"| {r['command']} | {r['current']['cpu_median_s']:.3f} | "
            f"{r['baseline']['cpu_median_s']:.3f} | {r['cpu_ratio_baseline_over_current']} | "
            f"{r['current']['wall_median_s']:.3f} | {r['baseline']['wall_median_s']:.3f} | "
            f"{status} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", type=Path, required=True, help="Checkout of the baseline rev")
    p.add_argument("--runs", type=int, default=5, help="Runs per command and tree")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Folder for the results")
    args = p.parse_args(argv)
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "startup.md").write_text(markdown(report))
    print(f"wrote {args.out / 'startup.json'} and {args.out / 'startup.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
