"""Crashes and concurrent use of one embedded index, with real ``imr-assist`` processes.

- ``ingest`` kills itself with SIGKILL at named points (``IMR_ASSIST_TEST_KILL_AT``,
  see ``imr_assist.index.crashpoints``), never after a timer, so the same moments
  are hit however loaded the machine is; after each kill the index is still
  consistent (every catalogued letter has all its vectors, stray vectors are only
  those recorded as pending, search sees whole letters only; killed before anything
  was written, it is empty), and the next ``ingest`` completes and leaves store and
  catalog identical. Ctrl-C (SIGINT at a named point) says what was kept.
- One ``ingest`` writes while four ``ask`` processes read: no errors, no hangs,
  and answers that always describe whole letters.
- The locks that make that safe: a second ingest is refused, a reader waits a
  bounded time for a stuck writer and then says what to do.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from imr_assist.errors import IndexStateError
from imr_assist.index.crashpoints import ENV_POINT, ENV_SIGNAL
from imr_assist.index.index import CATALOG_FILE, LOCK_FILE, WRITER_FILE, Index
from imr_assist.index.ingest import BATCH_LETTERS
from imr_assist.parse.loaders import read_letter_text
from imr_assist.retrieve.hybrid import search
from imr_assist.samples import samples_dir
from imr_assist.settings import Settings
from tests.test_reliability_input import IMR, case_number, clean_env, letter_variant

pytestmark = pytest.mark.slow

QUESTIONS = ["Why are Norco requests upheld?", "How many Norco requests were overturned?"]


def write_corpus(folder: Path, numbers: range, *, series: int = 50) -> dict[str, Path]:
    """Distinct letters built from the samples; doc id (case number) -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for n in numbers:
        case = case_number(series, n)
        path = folder / f"letter_{n:03d}.txt"
        path.write_text(letter_variant(n, case, noise=n % 4 == 0), encoding="utf-8")
        out[case] = path
    return out


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IMR, *args], env=env, capture_output=True, text=True, timeout=timeout)


def fresh_index(root: Path) -> Index:
    """A reader's view of the index as it is on disk now.

    Chroma keeps one client per folder in a process; forgetting it makes the
    next open read what other processes wrote since.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return Index.open(Settings(index_dir=root))


@dataclass
class State:
    catalog_ids: set[str]
    store_ids: set[str]
    pending: set[str]


def state(idx: Index) -> State:
    catalog_ids = {r[0] for r in idx.catalog.all_chunks()}
    pending = {r[0] for r in idx.catalog.db.execute("SELECT id FROM pending")}
    return State(catalog_ids, set(idx.store.ids()), pending)


def assert_whole_letters(idx: Index) -> None:
    """What a reader may see: every catalogued letter whole, stray vectors invisible."""
    s = state(idx)
    missing = s.catalog_ids - s.store_ids
    assert not missing, f"{len(missing)} catalogued chunks have no vector"
    stray = s.store_ids - s.catalog_ids
    assert stray <= s.pending, f"{len(stray - s.pending)} vectors nobody will clean up"
    by_doc: dict[str, set[int]] = {}
    for doc, item in idx.catalog.db.execute("SELECT doc_id, item_index FROM chunks"):
        if item is not None:
            by_doc.setdefault(doc, set()).add(item)
    for doc_id in idx.catalog.doc_ids():
        letter = idx.catalog.letter(doc_id)
        assert letter is not None
        assert by_doc.get(doc_id) == {it.index for it in letter.items}, doc_id
    for question in QUESTIONS:
        result = search(idx, question, k=50)
        for hit in result.hits:
            assert hit.chunk.id in s.catalog_ids
            assert hit.chunk.doc_id in by_doc


def assert_complete(idx: Index, corpus: dict[str, Path]) -> None:
    """After a completed ingest: exactly the corpus, each chunk once in each store."""
    s = state(idx)
    assert s.store_ids == s.catalog_ids
    assert not s.pending
    assert idx.store.count() == idx.catalog.chunk_count() == len(s.catalog_ids)
    want = {doc: read_letter_text(path) for doc, path in corpus.items()}
    got = {doc: idx.catalog.letter(doc) for doc in idx.catalog.doc_ids()}
    assert set(got) == set(want)
    for doc, text in want.items():
        letter = got[doc]
        assert letter is not None and letter.text == text, doc
    shas = [r[0] for r in idx.catalog.db.execute("SELECT sha256 FROM letters")]
    assert len(shas) == len(set(shas))
    assert idx.lexical_is_current()
    assert_whole_letters(idx)
    assert_vectors_kept(idx)


def assert_vectors_kept(idx: Index) -> None:
    """The catalog's copy of every vector is the store's (rows a killed ingest left in
    the vector file are named by no chunk), and each item's recorded run of rows is its
    chunks' rows."""
    ids = sorted(idx.catalog.all_chunk_ids())
    got = idx.catalog.vectors(ids)
    assert got is not None and got[0] == ids
    stored = idx.store.collection.get(ids=ids, include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    for cid, row in zip(got[0], got[1], strict=True):
        assert np.allclose(row, by_id[cid], atol=1e-6), cid
    named = dict(idx.catalog.db.execute("SELECT id, row FROM vector_rows"))
    runs = 0
    for item in idx.catalog.items():
        rows = item.chunk_rows()
        if rows is not None:
            runs += 1
            assert all(named[c] == r for c, r in rows.items()), item
    assert runs == len(idx.catalog.items())  # every item's chunks in one run


def run_until(
    point: str, corpus_dir: Path, root: Path, env: dict[str, str], signal_name: str = "KILL"
) -> subprocess.CompletedProcess[str]:
    """Run ``ingest`` until it reaches the named point, where it signals itself."""
    return run_cli(
        "ingest",
        str(corpus_dir),
        "--index",
        str(root),
        env={**env, ENV_POINT: point, ENV_SIGNAL: signal_name},
    )


#: Where each round's ingest is killed, in order, and whether a complete ingest follows.
#: The first three hit the first ingest of 40 letters (batches of 16, 16 and 8); later
#: rounds change three letters and add two before their kill.
KILLS = [
    ("locked", False),  # before anything is written: an empty index
    ("opened", False),  # the catalog created, no letter yet
    ("commit@2", False),  # two batches committed, the third not begun
    ("pending", True),  # the resumed run's batch recorded as pending, nothing stored
    ("upsert", True),  # its vectors stored, not yet committed
    ("filed", True),  # their copies appended to the vector file, the catalog not committed
    ("commit", True),  # its letters committed, the replaced vectors not yet deleted
    ("lexical-saved", True),  # a new BM25 index written, the old one still current
    ("lexical-switched", True),  # the BM25 pointer switched, old folders not yet removed
]


def test_sigkill_at_each_point_never_corrupts_the_index(tmp_path: Path) -> None:
    rng = random.Random(20150828)
    env = clean_env(tmp_path / "home")
    root = tmp_path / "ix"
    corpus_dir = tmp_path / "corpus"
    corpus = write_corpus(corpus_dir, range(40))
    next_new = 40
    completed = False
    for point, complete in KILLS:
        if completed:
            # Change some letters (their old chunks must go) and add new ones.
            for doc in rng.sample(sorted(corpus), 3):
                path = corpus[doc]
                text = path.read_text(encoding="utf-8")
                flipped = re.sub(r"(?m)(:\s*)(Upheld|Overturned)", _flip, text, count=1)
                assert flipped != text
                path.write_text(flipped, encoding="utf-8")
            corpus.update(write_corpus(corpus_dir, range(next_new, next_new + 2)))
            next_new += 2
        before = _catalog_ids(root)

        died = run_until(point, corpus_dir, root, env)
        assert died.returncode == -signal.SIGKILL, (point, died.stderr[-2000:])
        idx = fresh_index(root)  # never "no index": an ingest that wrote nothing is empty
        try:
            assert_whole_letters(idx)
            s = state(idx)
            if point in ("locked", "opened"):
                assert idx.catalog.count_letters() == 0 and not s.store_ids
            elif point == "commit@2":
                assert idx.catalog.count_letters() == 2 * BATCH_LETTERS
            elif point in ("pending", "upsert", "filed"):
                assert s.catalog_ids == before  # nothing of the batch is visible
            elif point == "commit":
                # The replaced chunks lost their rows but not yet their vectors.
                assert (s.store_ids - s.catalog_ids) & before
            elif point == "lexical-saved":
                assert not idx.lexical_is_current()  # the old BM25 index still serves
        finally:
            idx.close()
        if not complete:
            continue

        done = run_cli("ingest", str(corpus_dir), "--index", str(root), "--json", env=env)
        assert done.returncode == 0, (point, done.stderr[-3000:])
        assert json.loads(done.stdout)["failed"] == []
        completed = True
        idx = fresh_index(root)
        try:
            assert_complete(idx, corpus)
        finally:
            idx.close()


def _catalog_ids(root: Path) -> set[str]:
    if not (root / CATALOG_FILE).exists():
        return set()
    idx = fresh_index(root)
    try:
        return state(idx).catalog_ids
    finally:
        idx.close()


def _flip(m: re.Match[str]) -> str:
    return m[1] + ("Overturned" if m[2] == "Upheld" else "Upheld")


def test_ctrl_c_says_what_was_kept_and_how_to_resume(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home")
    root = tmp_path / "ix"
    corpus_dir = tmp_path / "corpus"
    corpus = write_corpus(corpus_dir, range(BATCH_LETTERS + 4), series=70)

    stopped = run_until("commit@1", corpus_dir, root, env, signal_name="INT")
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert stopped.stderr.splitlines() == [
        f"interrupted: {BATCH_LETTERS} letter(s) of this run were committed to {root} and "
        f"are kept; the index now holds {BATCH_LETTERS} letter(s); run the same ingest "
        "again to index the rest (letters already indexed are skipped)"
    ]
    idx = fresh_index(root)
    try:
        assert_whole_letters(idx)
        assert idx.catalog.count_letters() == BATCH_LETTERS
    finally:
        idx.close()

    again = run_cli("ingest", str(corpus_dir), "--index", str(root), "--json", env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    report = json.loads(again.stdout)
    assert (report["letters_unchanged"], report["letters_indexed"]) == (BATCH_LETTERS, 4)
    idx = fresh_index(root)
    try:
        assert_complete(idx, corpus)
    finally:
        idx.close()


def test_ctrl_c_before_anything_is_written(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home")
    root = tmp_path / "ix"
    write_corpus(tmp_path / "corpus", range(2), series=71)
    stopped = run_until("locked", tmp_path / "corpus", root, env, signal_name="INT")
    assert stopped.returncode == 130
    assert stopped.stderr.splitlines() == [
        f"interrupted: 0 letter(s) of this run were committed to {root} and are kept; "
        "run the same ingest again to index the rest (letters already indexed are skipped)"
    ]
    idx = fresh_index(root)
    try:
        assert idx.catalog.count_letters() == 0 and idx.store.count() == 0
    finally:
        idx.close()


# -- concurrent readers -------------------------------------------------------------


def norco_totals(corpus: dict[str, Path], base: int) -> set[int]:
    """Norco decision counts a reader may see: the base letters plus whole batches."""
    from imr_assist.index.ingest import BATCH_LETTERS
    from imr_assist.parse import parse_file

    per_letter = [
        sum(it.canonical == "Norco" for it in parse_file(corpus[doc]).items)
        for doc in sorted(corpus, key=lambda d: corpus[d].name)
    ]
    totals = {base}
    for end in range(BATCH_LETTERS, len(per_letter) + BATCH_LETTERS, BATCH_LETTERS):
        totals.add(base + sum(per_letter[:end]))
    return totals


def test_one_writer_four_readers(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home")
    root = tmp_path / "ix"
    seeded = run_cli("ingest", str(samples_dir()), "--index", str(root), "--json", env=env)
    assert seeded.returncode == 0, seeded.stderr
    corpus = write_corpus(tmp_path / "corpus", range(32), series=60)
    totals = norco_totals(corpus, base=5)

    answers: list[tuple[int, str, int, str, str]] = []
    writing = threading.Event()
    writing.set()

    def reader(n: int) -> None:
        asked = 0
        while writing.is_set() or asked < 2:
            question = QUESTIONS[(n + asked) % 2]
            try:
                res = run_cli(
                    "ask",
                    question,
                    "--index",
                    str(root),
                    "--llm",
                    "none",
                    "--json",
                    env=env,
                    timeout=180,
                )
                answers.append((n, question, res.returncode, res.stdout, res.stderr))
            except subprocess.TimeoutExpired:
                answers.append((n, question, -1, "", "timed out"))
            asked += 1

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        writer = run_cli(
            "ingest",
            str(tmp_path / "corpus"),
            "--index",
            str(root),
            "--json",
            env=env,
            timeout=600,
        )
    finally:
        writing.clear()
        for t in threads:
            t.join(timeout=400)
    assert writer.returncode == 0, writer.stderr[-3000:]
    assert json.loads(writer.stdout)["letters_indexed"] == 32
    assert len(answers) >= 8
    seen_totals = set()
    for n, question, code, out, err in answers:
        assert code == 0, (n, question, err[-2000:])
        data = json.loads(out)
        assert data["answered"] is True
        assert data["citations"], data
        if question.startswith("How many"):
            m = re.match(r"(\d+) of (\d+) Norco decisions", data["answer"])
            assert m, data["answer"]
            seen_totals.add(int(m[2]))
    assert seen_totals <= totals, (seen_totals, totals)

    idx = fresh_index(root)
    try:
        s = state(idx)
        assert s.store_ids == s.catalog_ids and not s.pending
        assert idx.catalog.count_letters() == 37
    finally:
        idx.close()


# -- the locks themselves -----------------------------------------------------------


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
# as the writer lock does: a shorter pid must not leave a longer one's digits behind
os.ftruncate(fd, 0)
os.pwrite(fd, str(os.getpid()).encode(), 0)
print("held", flush=True)
time.sleep(600)
"""


Holder = Callable[[Path], "subprocess.Popen[str]"]


@pytest.fixture
def holder() -> Iterator[Holder]:
    """Hold a lock file exclusively from another process, as a stuck writer would."""
    procs: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_second_ingest_is_refused(sample_index: Path, holder: Holder, tmp_path: Path) -> None:
    proc = holder(sample_index / WRITER_FILE)
    res = run_cli(
        "ingest", str(samples_dir()), "--index", str(sample_index), env=clean_env(tmp_path)
    )
    assert res.returncode == 1
    assert res.stderr.strip() == (
        f"error: another ingest (process {proc.pid}) is writing to the index at "
        f"{sample_index}; wait for it to finish, then run this one again"
    )
    # The kernel drops the lock of a killed process: the next ingest runs.
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    res = run_cli(
        "ingest", str(samples_dir()), "--index", str(sample_index), env=clean_env(tmp_path)
    )
    assert res.returncode == 0, res.stderr


def test_reader_waits_a_bounded_time_for_a_stuck_writer(sample_index: Path, holder: Holder) -> None:
    # every search reads the vector store
    idx = Index.open(Settings(index_dir=sample_index, exact_chunks=0))
    try:
        assert search(idx, "Norco", k=3).hits  # warm: the store is open, BM25 loaded
        idx.lock.timeout = 0.5
        proc = holder(sample_index / LOCK_FILE)
        with pytest.raises(IndexStateError) as caught:
            search(idx, "Norco", k=3)
        message = str(caught.value)
        assert message.startswith(f"index at {sample_index} is busy: an ingest held it")
        assert "--chroma-url" in message and "\n" not in message
        proc.kill()
        proc.wait()
        assert search(idx, "Norco", k=3).hits
    finally:
        idx.close()


def test_a_filtered_search_needs_no_store_lock(sample_index: Path, holder: Holder) -> None:
    """A question whose filters leave few chunks is scored from the catalog's copy of
    their vectors (SQLite, safe beside a writer): it answers while an ingest holds the
    store, where a store query would wait and fail."""
    idx = Index.open(Settings(index_dir=sample_index))
    try:
        assert search(idx, "Norco", k=3).hits  # BM25 loaded
        idx.lock.timeout = 0.5
        proc = holder(sample_index / LOCK_FILE)
        hits = list(search(idx, "Why are Norco requests upheld?", k=3).hits)
        assert hits and all(
            h.chunk.metadata.get("generic") == "hydrocodone/acetaminophen"
            and h.chunk.metadata.get("decision") == "upheld"
            for h in hits
        )
        assert all(h.dense is not None for h in hits)
        assert "store" not in idx.__dict__  # the vector store was never opened
        with pytest.raises(IndexStateError):
            idx.store  # noqa: B018 - opening it now waits for the writer, and gives up
        proc.kill()
        proc.wait()
    finally:
        idx.close()


def test_writer_is_not_starved_by_readers(sample_index: Path) -> None:
    """Readers arriving while a writer waits queue behind it (the gate file)."""
    idx = Index.open(Settings(index_dir=sample_index))
    errors: list[BaseException] = []

    # Other processes' shared holds, overlapping so the lock is never free.
    script = (
        "import sys\n"
        "from imr_assist.index.index import IndexLock\n"
        "from pathlib import Path\n"
        "import time\n"
        "lock = IndexLock(Path(sys.argv[1]), timeout=30)\n"
        "with lock.shared():\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(0.2)\n"
        "while True:\n"
        "    with lock.shared():\n"
        "        time.sleep(0.2)\n"
    )
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(sample_index)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    try:
        for r in readers:  # every reader holds the lock at least once before the writer asks
            assert r.stdout is not None and r.stdout.readline().strip() == "holding"
        idx.lock.timeout = 15
        with idx.lock.exclusive():
            pass  # got it, despite readers that never all let go at once
    except BaseException as err:  # noqa: BLE001
        errors.append(err)
    finally:
        for r in readers:
            r.kill()
            r.wait()
        idx.close()
    assert not errors, errors
