"""The real-letter evaluation: letters as the DWC posts them, gold read by hand, outside questions.

A real-letter folder holds the posted letters (PDF or text) and ``gold.json``: one entry
per file with ``file``, ``case_number``, ``specialty`` (as written), ``patient_age``,
``patient_sex``, ``injury_date`` and ``items`` (``treatment`` as written, ``decision``,
and for partial certifications a ``note`` naming the original request and the part the
claims administrator authorized). Questions (``evals/real/questions.jsonl``, written
blind from the letters) name gold items by case number and treatment.

Scored, for imr-assist and the naive baseline side by side:

- **extraction** (imr-assist only): letters whole, items found, decisions right, partial
  certification fields, letter fields, lexicon coverage, files rejected, warnings;
- **answers**, per split (``dev`` is the part tuned on, ``heldout`` is not): right
  (the kind's own test, below), **broadened** (the answer cites a decision or letter
  outside the asked set: an answer to a broader question), refusals right (refused
  exactly where the letters have nothing), citations verbatim.

An answer is right when it answers (or refuses, for a question the letters cannot
answer) and: for a count, the count stands in its first lines; for a share, the
percentage or "n of d"; for a list, filter, partial or topic question, every gold item
(or letter) is cited and nothing outside; for a why question, nothing outside the asked
set is cited; for a fact, every expected value is in the text; for a group-by, every
gold group is named. The test is strict on broadening and lenient on wording.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_assist.answer.citations import LetterTexts, verify
from imr_assist.answer.service import Assistant
from imr_assist.errors import ImrError, LetterError
from imr_assist.evaluate.naive import NaivePipeline
from imr_assist.index.ingest import ingest
from imr_assist.models import Answer, Letter
from imr_assist.parse import parse_file
from imr_assist.parse.fields import iso_date
from imr_assist.settings import Settings

SPLITS = (
    "dev",
    "heldout",
    "fresh",
    "unseen",
    "final",
    "outside",
    "sealed",
    "novel",
    "wild",
    "blind",
    "probe",
    "probe2",
    "probe3",
    "probe4",
    "probe5",
    "probe6",
    "sealed6",
    "probe7",
    "probe8",
    "probe9",
    "probe10",
)
_NOTE = re.compile(
    r"original request '(?P<orig>.+?)'; the Claims Administrator authorized '(?P<auth>.+?)'"
)


class RealCorpusError(ImrError):
    exit_code = 2


@dataclass
class RealCorpus:
    folder: Path
    gold: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    questions_path: Path | None = None

    @property
    def files(self) -> list[Path]:
        return [self.folder / g["file"] for g in self.gold]


def is_real_corpus(folder: Path) -> bool:
    return (folder / "gold.json").is_file() and not (folder / "gold").is_dir()


def default_questions() -> list[Path]:
    """The packaged question files: ``questions.jsonl`` (dev and heldout) and
    ``questions-fresh.jsonl`` (fresh)."""
    from imr_assist.resources import resource

    folder = Path(str(resource("data/eval/real")))
    return sorted(folder.glob("questions*.jsonl"))


def load_real_corpus(folder: Path, questions: Path | None = None) -> RealCorpus:
    gold_path = folder / "gold.json"
    try:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RealCorpusError(f"{gold_path}: cannot read the gold ({err})") from None
    missing = [g["file"] for g in gold if not (folder / g["file"]).is_file()]
    if missing:
        raise RealCorpusError(f"{folder}: gold names files that are not there: {missing[:3]}")
    paths = [questions] if questions else default_questions()
    qs = []
    for qpath in paths:
        try:
            lines = qpath.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise RealCorpusError(f"{qpath}: cannot read questions ({err.strerror})") from None
        for n, line in enumerate(lines, 1):
            if line.strip():
                try:
                    qs.append(json.loads(line))
                except ValueError as err:
                    raise RealCorpusError(f"{qpath}:{n}: not JSON ({err})") from None
    return RealCorpus(folder=folder, gold=gold, questions=qs, questions_path=paths[0])


# --- extraction ---------------------------------------------------------------------------


def score_real_extraction(corpus: RealCorpus) -> dict[str, Any]:
    letters: dict[str, Letter] = {}
    rejected: list[str] = []
    for g in corpus.gold:
        try:
            letters[g["file"]] = parse_file(corpus.folder / g["file"], g["file"])
        except LetterError as err:
            rejected.append(str(err))
    items = found = right = whole = partial_total = partial_right = 0
    fields_total = fields_right = warned = matched = parsed_items = 0
    misses: list[str] = []
    for g in corpus.gold:
        lt = letters.get(g["file"])
        items += len(g["items"])
        if lt is None:
            continue
        warned += bool(lt.warnings)
        parsed_items += len(lt.items)
        matched += sum(1 for it in lt.items if it.canonical)
        got = [(it.treatment, it.decision) for it in lt.items]
        exp = [(i["treatment"], i["decision"]) for i in g["items"]]
        whole += got == exp
        treatments = [t for t, _ in got]
        for k, gi in enumerate(g["items"]):
            if gi["treatment"] in treatments:
                found += 1
                it = lt.items[treatments.index(gi["treatment"])]
                right += it.decision == gi["decision"]
                if "note" in gi and (m := _NOTE.search(gi["note"])):
                    partial_total += 1
                    partial_right += (it.original_request, it.authorized_portion) == (
                        m["orig"],
                        m["auth"],
                    )
            else:
                misses.append(f"{g['file']}: item {k} {gi['treatment'][:50]!r} not found")
        values = {
            "case_number": lt.case_number,
            "specialty": ", ".join(lt.reviewer.specialties),
            "patient_age": lt.patient.age,
            "patient_sex": lt.patient.sex,
            "injury_date": lt.date_of_injury,
        }
        for key, value in values.items():
            fields_total += 1
            fields_right += value == g[key]
            if value != g[key]:
                misses.append(f"{g['file']}: {key} {value!r}, gold {g[key]!r}")
    n = len(corpus.gold)
    return {
        "metrics": {
            "extraction.letters_whole": whole / n if n else None,
            "extraction.items_found": found / items if items else None,
            "extraction.decisions_right": right / items if items else None,
            "extraction.partial_fields": partial_right / partial_total if partial_total else None,
            "extraction.fields": fields_right / fields_total if fields_total else None,
            "extraction.lexicon_coverage": matched / parsed_items if parsed_items else None,
            "extraction.rejected": float(len(rejected)),
        },
        "support": {
            "letters": n,
            "items": items,
            "partial_items": partial_total,
            "letters_with_warnings": warned,
        },
        "rejected": rejected,
        "misses": misses,
        "letters": letters,
    }


# --- answers ------------------------------------------------------------------------------


@dataclass
class Scored:
    right: bool
    broadened: bool
    answered: bool
    citations: int
    valid: int
    detail: dict[str, Any] = field(default_factory=dict)


def score_answer(q: dict[str, Any], ans: Answer, case_of: dict[str, str], valid: int) -> Scored:
    """Score one answer against one question's gold (see the module docstring)."""
    cited = {(case_of.get(c.doc_id, c.doc_id), c.treatment) for c in ans.citations}
    cited_items = {x for x in cited if x[1]}
    cited_letters = {x[0] for x in cited}
    gold_items = {(i["case"], i["treatment"]) for i in q.get("items") or []}
    gold_letters = set(q.get("letters") or [])
    broad = False
    if q.get("answerable", True) and ans.answered:
        if gold_items and q.get("unit") == "decisions":
            broad = bool(cited_items - gold_items)
        elif gold_letters:
            broad = bool(cited_letters - gold_letters)
    base = Scored(False, broad, ans.answered, len(ans.citations), valid)
    if not q.get("answerable", True):
        base.right = not ans.answered
        return base
    if not ans.answered:
        return base
    text, kind, ok = ans.answer, q.get("gold_kind") or q["kind"], True
    if q.get("expected"):
        low = text.lower()
        dates = {
            iso_date(d) for d in re.findall(r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}", text)
        }
        ok = all(str(e).lower() in low or e in dates for e in q["expected"])
    if q.get("count") is not None and kind in ("count", "filter", "partial"):
        if re.search(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b", q["question"], re.I):
            head = " ".join(text.splitlines()[:2])
            ok = ok and q["count"] in {int(x) for x in re.findall(r"\b\d+\b", head)}
    if q.get("share"):
        sh = q["share"]
        pct = round(100 * sh["num"] / sh["den"]) if sh["den"] else 0
        ok = ok and (f"{pct}%" in text or f"{sh['num']} of {sh['den']}" in text)
    lists = kind in ("list", "filter", "partial", "topic")
    if lists and not q.get("expected") and q.get("count") is None and not q.get("share"):
        if q.get("unit") == "decisions" and gold_items:
            ok = ok and gold_items <= cited_items
        elif gold_letters:
            ok = ok and gold_letters <= cited_letters
    if kind == "group" and q.get("groups"):
        ok = ok and all(label.lower() in text.lower() for label in q["groups"])
    base.right = ok and not broad
    return base


def _flat_questions(corpus: RealCorpus, chat: Any) -> list[dict[str, Any]]:
    """Questions, with each chat turn scored as a question of its own in its context
    (kind ``chat``; the turns of one conversation run in order in one session)."""
    out = []
    for q in corpus.questions:
        if q["kind"] != "chat":
            out.append(q)
            continue
        for t, turn in enumerate(q.get("turns") or []):
            out.append(
                {
                    **turn,
                    "id": f"{q['id']}.{t + 1}",
                    "split": q.get("split", "dev"),
                    "kind": "chat",
                    "gold_kind": turn.get("kind"),
                    "_chat": chat,
                    "_turn": t,
                }
            )
    return out


def evaluate_real(
    corpus: RealCorpus,
    settings: Settings | None = None,
    *,
    index_dir: Path | None = None,
    baseline: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """Score extraction and answers on a real-letter corpus; see the module docstring."""
    t0 = time.perf_counter()
    notify = progress or (lambda stage, done, total: None)
    extraction = score_real_extraction(corpus)
    base = settings or Settings.load()
    tmp = tempfile.TemporaryDirectory(prefix="imr-real-eval-") if index_dir is None else None
    root = Path(tmp.name) if tmp else index_dir
    assert root is not None
    s = base.model_copy(update={"index_dir": root, "chroma_url": None, "llm_enabled": False})
    naive: NaivePipeline | None = None
    try:
        ing = ingest(
            [str(p) for p in corpus.files], s, progress=lambda d, t, _: notify("ingest", d, t)
        )
        assistant = Assistant(s)
        case_of: dict[str, str] = {}
        for d in assistant.index.catalog.doc_ids():
            lt = assistant.texts.letter(d)
            case_of[d] = (lt.case_number if lt else None) or d
        if baseline:
            notify("baseline", 0, 1)
            naive = NaivePipeline()
            naive.ingest([str(p) for p in corpus.files])
            notify("baseline", 1, 1)
        from imr_assist.answer.chat import ChatSession

        questions = _flat_questions(corpus, ChatSession(s, assistant=assistant))
        rows = []
        tallies: dict[str, dict[str, list[Scored]]] = {
            "imr_assist": defaultdict(list),
            "naive": defaultdict(list),
        }
        for n, q in enumerate(questions, 1):
            if "_chat" in q:
                # a chat turn: the conversation so far is in the session
                chat = q["_chat"]
                if q["_turn"] == 0:
                    chat.reset()
                ans = chat.ask(q["question"])
            else:
                ans, _ = assistant.ask(q["question"])
            valid = sum(1 for c in ans.citations if verify(assistant.texts, c) is not None)
            mine = score_answer(q, ans, case_of, valid)
            row: dict[str, Any] = {
                "id": q["id"],
                "split": q.get("split", "dev"),
                "kind": q["kind"],
                "question": q["question"],
                "answerable": q.get("answerable", True),
                "imr_assist": {
                    "right": mine.right,
                    "broadened": mine.broadened,
                    "answered": mine.answered,
                    "answer": ans.answer,
                    "plan": ans.plan,
                    "notices": ans.notices,
                },
            }
            for split in (row["split"], "all"):
                tallies["imr_assist"][split].append(mine)
            if naive is not None:
                hits = naive.search(q["question"], naive.top_k)
                nans = naive.compose(q["question"], hits)
                nans = _naive_items(nans, assistant.texts, case_of)
                theirs = score_answer(q, nans, case_of, len(nans.citations))
                row["naive"] = {"right": theirs.right, "broadened": theirs.broadened}
                for split in (row["split"], "all"):
                    tallies["naive"][split].append(theirs)
            rows.append(row)
            notify("questions", n, len(questions))
        metrics: dict[str, dict[str, float | None]] = {}
        for name, by_split in tallies.items():
            m: dict[str, float | None] = {}
            if name == "imr_assist":
                m.update(extraction["metrics"])
            for split in (*SPLITS, "all"):
                scored = by_split.get(split, [])
                if not scored:
                    continue
                answerable = [
                    x
                    for x, q in zip(scored, _split_qs(rows, split), strict=True)
                    if q["answerable"]
                ]
                m[f"answers.{split}.right"] = sum(x.right for x in scored) / len(scored)
                m[f"answers.{split}.broadened"] = sum(x.broadened for x in scored) / len(scored)
                cites = sum(x.citations for x in scored)
                m[f"citations.{split}.verbatim"] = (
                    sum(x.valid for x in scored) / cites if cites else None
                )
                m[f"answers.{split}.refused"] = (
                    sum(not x.answered for x in answerable) / len(answerable)
                    if answerable
                    else None
                )
            for kind in sorted({r["kind"] for r in rows}):
                ks = [x for x, r in zip(by_split["all"], rows, strict=True) if r["kind"] == kind]
                if ks:
                    m[f"answers.by_kind.{kind}"] = sum(x.right for x in ks) / len(ks)
            metrics[name] = m
        return {
            "corpus": {
                "folder": str(corpus.folder),
                "letters": len(corpus.gold),
                "gold_items": extraction["support"]["items"],
                "questions": len(rows),
                "questions_path": str(corpus.questions_path),
                "indexed": ing.letters_indexed + ing.letters_unchanged,
                "splits": {sp: sum(1 for r in rows if r["split"] == sp) for sp in SPLITS},
            },
            "metrics": metrics,
            "support": extraction["support"],
            "extraction_misses": extraction["misses"],
            "rejected": extraction["rejected"],
            "questions": rows,
            "seconds": time.perf_counter() - t0,
        }
    finally:
        if naive is not None:
            naive.close()
        if tmp is not None:
            tmp.cleanup()


def _split_qs(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return [r for r in rows if split == "all" or r["split"] == split]


def _naive_items(ans: Answer, texts: LetterTexts, case_of: dict[str, str]) -> Answer:
    """Name the items the naive passages fall in, so both pipelines are scored alike.

    The baseline's doc ids are file stems; for posted letters these are the case numbers
    the index uses. A passage belongs to the item whose block it overlaps most.
    """
    cites = []
    for c in ans.citations:
        lt = texts.letter(c.doc_id)
        if lt is None:
            cites.append(c)
            continue
        best, overlap = None, 0
        for it in lt.items:
            o = min(c.end, it.span.end) - max(c.start, it.span.start)
            if o > overlap:
                best, overlap = it, o
        cites.append(c.model_copy(update={"treatment": best.treatment if best else None}))
    return ans.model_copy(update={"citations": cites})


def to_markdown(report: dict[str, Any]) -> str:
    """The metrics table, imr-assist beside the naive baseline."""
    mine = report["metrics"].get("imr_assist", {})
    theirs = report["metrics"].get("naive", {})
    lines = ["| metric | imr-assist | naive |", "|---|---:|---:|"]
    for key, value in mine.items():
        other = theirs.get(key)
        lines.append(f"| {key} | {_fmt(value)} | {_fmt(other) if other is not None else '-'} |")
    return "\n".join(lines) + "\n"


def _fmt(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 2 else f"{v:.3f}")
