"""What an evaluation reads: letters, their gold records, and questions with gold answers.

A corpus folder holds ``letters/`` (the letter files), ``gold/`` (one
``Letter.public_dict()`` JSON record per letter, the schema of
``imr-assist extract --format json``) and ``questions.jsonl``. Without a folder the
bundled sample letters are used with their hand-checked gold, which ships in the
package (``imr_assist/data/eval/``, built from the project's ``evals/gold/`` and
``evals/questions.jsonl``) and is read with ``importlib.resources``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imr_assist.constants import OVERTURNED, REASON_LABELS, UPHELD
from imr_assist.errors import ImrError, LetterError
from imr_assist.models import Item, Letter
from imr_assist.parse.loaders import expand_paths, read_letter_text

QuestionKind = Literal[
    "why_upheld",
    "why_overturned",
    "decision",
    "count",
    "share",
    "list",
    "summary",
    "compare",
    "unanswerable",
]
QUESTION_KINDS: tuple[str, ...] = QuestionKind.__args__  # type: ignore[attr-defined]

#: Questions whose answer is judged by the items it cites, as a set.
ITEM_SET_KINDS = ("list", "summary", "compare")
WHY_KINDS = ("why_upheld", "why_overturned")


class CorpusError(ImrError):
    """A corpus file is missing or malformed; the message names the file (and line)."""

    exit_code = 2


class ItemRef(BaseModel):
    """A gold item: the letter's doc_id and the item's 0-based index in it."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    index: int = Field(ge=0)

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.index)


class EvalQuestion(BaseModel):
    """One question and its gold answer (one line of ``questions.jsonl``)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str = Field(min_length=1)
    kind: QuestionKind
    answerable: bool = True
    items: list[ItemRef] = Field(
        default_factory=list, description="Gold items that answer it (retrieval/citation gold)"
    )
    decision: Literal["upheld", "overturned"] | None = None
    count: int | None = Field(default=None, ge=0)
    share: float | None = Field(default=None, ge=0.0, le=1.0)
    reasons: list[str] = Field(default_factory=list, description="Expected reason categories")

    @property
    def item_keys(self) -> set[tuple[str, int]]:
        return {i.key for i in self.items}

    @property
    def reason_side(self) -> str:
        """Which decision's reason categories the answer's quotes are labelled with."""
        return OVERTURNED if self.kind == "why_overturned" else UPHELD

    def problems(self) -> list[str]:
        """What is inconsistent in this question's gold, in words."""
        out = []
        if self.kind == "unanswerable" and (self.answerable or self.items):
            out.append("an unanswerable question must have answerable false and no items")
        if self.kind != "unanswerable" and not self.answerable:
            out.append(f"kind {self.kind!r} must be answerable")
        needs = {"decision": self.decision, "count": self.count, "share": self.share}
        if self.kind in needs and needs[self.kind] is None:
            out.append(f"a {self.kind} question needs its {self.kind!r} value")
        unknown = [r for r in self.reasons if r not in REASON_LABELS]
        if unknown:
            out.append(f"unknown reason categories {unknown}")
        return out


@dataclass
class LetterFile:
    """One letter file of the corpus and its text exactly as the parser reads it."""

    path: Path
    display: str
    text: str
    sha256: str

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class Corpus:
    name: str
    letters: list[LetterFile]
    gold: dict[str, Letter]  # doc_id -> gold record
    questions: list[EvalQuestion]
    letters_dir: Path | None = None
    gold_dir: Path | None = None
    questions_path: Path | None = None
    unreadable: list[LetterError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def gold_item(self, ref: ItemRef) -> Item:
        return self.gold[ref.doc_id].items[ref.index]

    def describe(self) -> dict[str, object]:
        kinds: dict[str, int] = {}
        for q in self.questions:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
        return {
            "name": self.name,
            "letters": len(self.letters),
            "gold_letters": len(self.gold),
            "gold_items": sum(len(g.items) for g in self.gold.values()),
            "questions": len(self.questions),
            "question_kinds": kinds,
            "letters_dir": str(self.letters_dir) if self.letters_dir else None,
            "gold_dir": str(self.gold_dir) if self.gold_dir else None,
            "questions_path": str(self.questions_path) if self.questions_path else None,
            "unreadable": [{"source": e.source, "problem": e.problem} for e in self.unreadable],
        }


def text_sha256(text: str) -> str:
    """The hash the parser keys a letter on (see ``parse_text``)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def sample_gold_dir() -> Traversable:
    """The gold records of the bundled sample letters (package data)."""
    from imr_assist.resources import resource

    return resource("data/eval/gold")


def sample_questions_path() -> Traversable:
    """The gold questions over the bundled sample letters (package data)."""
    from imr_assist.resources import resource

    return resource("data/eval/questions.jsonl")


def read_letters(inputs: list[Path]) -> tuple[list[LetterFile], list[LetterError]]:
    """Every letter file under ``inputs`` with its text; unreadable files are listed apart."""
    errors: list[LetterError] = []
    files: list[LetterFile] = []
    for src in expand_paths([str(p) for p in inputs], on_error=errors.append):
        try:
            text = read_letter_text(src.path, src.display)
        except LetterError as err:
            errors.append(err)
            continue
        files.append(LetterFile(src.path, src.display, text, text_sha256(text)))
    return files, errors


def load_gold(folder: Path | Traversable) -> dict[str, Letter]:
    """Gold records by doc_id from ``folder/*.json`` (a folder or package data)."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: gold folder not found (one <doc_id>.json record per letter)")
    gold: dict[str, Letter] = {}
    for path in sorted(
        (p for p in folder.iterdir() if p.name.endswith(".json")), key=lambda p: p.name
    ):
        try:
            letter = Letter.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise CorpusError(f"{path}: not a gold letter record ({_first_line(err)})") from None
        if letter.doc_id in gold:
            raise CorpusError(f"{path}: doc_id {letter.doc_id!r} is already used by another record")
        gold[letter.doc_id] = letter
    if not gold:
        raise CorpusError(f"{folder}: no gold records (*.json) found")
    return gold


def load_questions(path: Path | Traversable, gold: dict[str, Letter]) -> list[EvalQuestion]:
    """Questions from a JSONL file, checked against the gold records."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise CorpusError(f"{path}: cannot read questions ({err.strerror or err})") from None
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            q = EvalQuestion.model_validate(json.loads(line))
        except json.JSONDecodeError as err:
            raise CorpusError(f"{where}: not JSON ({err.msg})") from None
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(x) for x in first["loc"]) or "question"
            raise CorpusError(f"{where}: {loc}: {first['msg']}") from None
        if q.id in seen:
            raise CorpusError(f"{where}: question id {q.id!r} is used twice")
        seen.add(q.id)
        problems = q.problems()
        for ref in q.items:
            letter = gold.get(ref.doc_id)
            if letter is None:
                problems.append(f"item {ref.doc_id}#{ref.index}: no gold record {ref.doc_id!r}")
            elif ref.index >= len(letter.items):
                problems.append(f"item {ref.doc_id}#{ref.index}: the gold letter has no such item")
        if problems:
            raise CorpusError(f"{where} ({q.id}): {'; '.join(problems)}")
        questions.append(q)
    return questions


def load_corpus(root: Path, *, questions: Path | None = None) -> Corpus:
    """A corpus folder: ``letters/``, ``gold/``, ``questions.jsonl``."""
    letters_dir, gold_dir = root / "letters", root / "gold"
    if not letters_dir.is_dir():
        raise CorpusError(
            f"{letters_dir}: letters folder not found (corpus layout: letters/, gold/, questions.jsonl)"
        )
    gold = load_gold(gold_dir)
    files, errors = read_letters([letters_dir])
    qpath = questions or root / "questions.jsonl"
    if not qpath.is_file():
        raise CorpusError(f"{qpath}: questions file not found")
    return Corpus(
        name=root.name or str(root),
        letters=files,
        gold=gold,
        questions=load_questions(qpath, gold),
        letters_dir=letters_dir,
        gold_dir=gold_dir,
        questions_path=qpath,
        unreadable=errors,
    )


def sample_corpus(*, questions: Path | None = None) -> Corpus:
    """The five bundled sample letters with their packaged gold and questions."""
    from imr_assist.samples import samples_dir

    gold_dir = sample_gold_dir()
    gold = load_gold(gold_dir)
    files, errors = read_letters([samples_dir()])
    qpath: Path | Traversable = questions or sample_questions_path()
    if questions is not None and not qpath.is_file():
        raise CorpusError(f"{qpath}: questions file not found")
    return Corpus(
        name="samples",
        letters=files,
        gold=gold,
        questions=load_questions(qpath, gold),
        letters_dir=samples_dir(),
        gold_dir=Path(str(gold_dir)),
        questions_path=Path(str(qpath)),
        unreadable=errors,
    )


def _first_line(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "record"
        return f"{loc}: {first['msg']}"
    return str(err).splitlines()[0] if str(err) else type(err).__name__
