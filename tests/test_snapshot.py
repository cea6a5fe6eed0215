"""Long-lived readers under change: an ``Assistant`` or ``chat`` kept open while
``imr-assist ingest`` runs in another process, as a user would run them.

- After a re-ingest that changed a letter, the next answer gives the letter's new
  decision with a quote from its new text (not the old decision beside a new quote).
- A letter ingested after ``chat`` started is found, in the items and the passages.
- An answer computed while an ingest commits reads one state of the index: the
  ingest is stopped at a named point (``IMR_ASSIST_TEST_KILL_SIGNAL=STOP``) and
  resumed from inside the answer, right after its first catalog read; the answer is
  then exactly the one the earlier state gives, its count matching its list.

Every ingest is a real ``imr-assist ingest`` process; nothing waits on a timer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imr_assist.answer.chat import ChatSession
from imr_assist.answer.service import Assistant
from imr_assist.index.crashpoints import ENV_POINT, ENV_SIGNAL
from imr_assist.models import Answer
from imr_assist.settings import Settings
from tests.test_reliability_input import IMR, clean_env, letter_variant

pytestmark = pytest.mark.slow

A, B, C = "CM15-0100001", "CM15-0100002", "CM15-0100003"
# Sample letters by position: 0 upholds Norco #60; 2 overturns Norco quantity 120
# (and upholds Xanax); 3 upholds Norco #30; 4 upholds Norco #30 and overturns Butrans.
BEFORE = {"a.txt": (0, A), "b.txt": (3, B)}
AFTER = {"a.txt": (2, A), "b.txt": (3, B), "c.txt": (4, C)}  # a changed, c new
COUNT_Q = "How many Norco requests were upheld?"
DECIDED_Q = f"What was decided for Norco in {A}?"


def write_letters(folder: Path, letters: dict[str, tuple[int, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (sample, case) in letters.items():
        (folder / name).write_text(letter_variant(sample, case), encoding="utf-8")


def ingest_cli(folder: Path, root: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [IMR, "ingest", str(folder), "--index", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def listed(answer: Answer) -> list[tuple[str, str]]:
    """(case, decision) of each item line of a count or decision answer."""
    return re.findall(r"\((CM15-\d+)\): (upheld|overturned)", answer.answer)


def assert_self_consistent(answer: Answer, assistant: Assistant) -> None:
    """Each cited decision is the one its letter states now, quoted from its text now."""
    for c in answer.citations:
        letter = assistant.index.catalog.letter(c.doc_id)
        assert letter is not None, c.doc_id
        assert letter.text[c.start : c.end].split() == c.quote.split(), c
        if c.treatment:
            decided = {it.treatment: it.decision for it in letter.items}
            assert decided.get(c.treatment) == c.decision, c


@dataclass
class Scene:
    root: Path
    letters: Path
    env: dict[str, str]

    def settings(self) -> Settings:
        return Settings(index_dir=self.root, llm_enabled=False)


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    """An index of letters a and b, built by another process."""
    s = Scene(tmp_path / "ix", tmp_path / "letters", clean_env(tmp_path / "home"))
    write_letters(s.letters, BEFORE)
    ingest_cli(s.letters, s.root, s.env)
    return s


def test_open_assistant_and_chat_see_changed_and_new_letters(scene: Scene) -> None:
    assistant = Assistant(scene.settings())
    chat = ChatSession(scene.settings(), assistant=assistant)  # as `imr-assist chat` runs
    before = assistant.ask(DECIDED_Q)[0]
    assert listed(before) == [(A, "upheld")]
    assert chat.ask("Why was Butrans overturned?").answered is False  # no Butrans yet
    chat.reset()
    assert chat.ask(COUNT_Q).answer.startswith("2 of 2 Norco decisions")

    write_letters(scene.letters, AFTER)
    ingest_cli(scene.letters, scene.root, scene.env)  # another process, as in real use

    after = assistant.ask(DECIDED_Q)[0]
    assert listed(after) == [(A, "overturned")], after.answer
    quotes = " ".join(c.quote for c in after.citations)
    assert "Norco 10/325mg quantity 120: Overturned" in quotes
    assert "Norco 10/325mg #60" not in quotes
    assert_self_consistent(after, assistant)

    chat.reset()
    count = chat.ask(COUNT_Q)
    assert count.answer.startswith("2 of 3 Norco decisions"), count.answer
    assert sorted(listed(count)) == [(B, "upheld"), (C, "upheld")]
    assert_self_consistent(count, assistant)
    chat.reset()
    butrans = chat.ask("Why was Butrans overturned?")
    assert butrans.answered and {c.doc_id for c in butrans.citations} == {C}, butrans.answer
    # The passages too: the search reads the vectors and BM25 the ingest wrote.
    hits = assistant.search("Butrans transdermal film morphine equivalent dosage")
    assert C in {h.chunk.doc_id for h in hits.hits}


@pytest.fixture
def stopped_ingest(scene: Scene, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """An ingest of the changed letters, stopped (SIGSTOP) once its catalog is open and
    before its batch; the fixture's value resumes it and returns when it has finished."""
    write_letters(scene.letters, AFTER)
    log = (tmp_path / "ingest.log").open("w")
    proc = subprocess.Popen(
        [IMR, "ingest", str(scene.letters), "--index", str(scene.root)],
        env={**scene.env, ENV_POINT: "opened", ENV_SIGNAL: "STOP"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # returns once it has stopped
        assert os.WIFSTOPPED(status), (tmp_path / "ingest.log").read_text()

        def resume() -> None:
            os.kill(proc.pid, signal.SIGCONT)
            assert proc.wait(timeout=300) == 0, (tmp_path / "ingest.log").read_text()

        yield resume
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def ask_cli(question: str, scene: Scene) -> dict[str, Any]:
    done = subprocess.run(
        [IMR, "ask", question, "--json", "--llm", "none", "--index", str(scene.root)],
        env=scene.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_answer_during_an_ingest_reads_one_state(
    scene: Scene, stopped_ingest: Callable[[], None]
) -> None:
    # The state before the ingest commits, as a separate reader process answers it.
    old = ask_cli(COUNT_Q, scene)
    assert old["answer"].startswith("2 of 2 Norco decisions"), old["answer"]

    assistant = Assistant(scene.settings())
    catalog = assistant.index.catalog
    real_letter = catalog.letter
    calls: list[int] = []

    def letter_after_commit(*args: Any, **kwargs: Any) -> Any:
        if not calls:
            # The answer has read its items (a count ranks no passages); its first
            # letter read, for the quotes, comes after the ingest has committed, whole.
            calls.append(1)
            stopped_ingest()
        return real_letter(*args, **kwargs)

    catalog.letter = letter_after_commit  # type: ignore[method-assign]
    during = assistant.ask(COUNT_Q)[0]
    catalog.letter = real_letter  # type: ignore[method-assign]
    assert calls, "the answer never read a letter"
    # Exactly the earlier state's answer: its count, its list, its quotes.
    assert during.answer == old["answer"]
    assert [c.model_dump(mode="json") for c in during.citations] == old["citations"]
    assert listed(during) == [(A, "upheld"), (B, "upheld")]

    new = assistant.ask(COUNT_Q)[0]  # the next question sees the committed ingest
    assert new.answer.startswith("2 of 3 Norco decisions"), new.answer
    assert sorted(listed(new)) == [(B, "upheld"), (C, "upheld")]
    assert_self_consistent(new, assistant)
