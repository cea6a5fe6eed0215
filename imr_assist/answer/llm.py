"""The LLM answer writer: the model writes, the letters decide what may be shown.

The model gets numbered excerpts (``imr_assist.answer.evidence``: deduplicated, in a
token budget) and the extractive answer's lines as facts, inside an ``<evidence>``
block, then the question, the rules and a neutral example. It is asked for JSON
(``response_format`` with a JSON schema where the server takes one): sentences,
each with the excerpt numbers it rests on and, optionally, the number of an excerpt
to quote. Quotes are copied by code from the excerpt, never retyped by the model, and
the ``[n]`` markers are written by code. A reply in prose is read too: ``[n]``
markers, heading lines, sentences.

Every sentence is checked before anything is shown (``check_sentence``): the excerpts
it cites exist; its quoted words are in them; its decision words match their
decisions; its content words and numbers are backed by them (``support``). A
sentence without excerpt numbers is attributed to the one excerpt that backs it, if
any does. Failing sentences are named in one re-ask; those still failing are left
out, with a notice. Nothing verified: the extractive answer, with a notice.

Never worse than extractive: a refusal is accepted only when the extractive writer
found nothing either, and a verified answer that cites fewer of the extractive
answer's items or reasons is not preferred to it (see ``LLMWriter.write``).

Letters are untrusted text. The prompt templates replace angle brackets in them
with look-alikes (``‹`` ``›``), so a letter cannot close the evidence block and
speak as the user; ``from_prompt`` maps them back before quotes are checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imr_assist.answer.citations import LetterTexts
from imr_assist.answer.evidence import EvidenceSet, build_evidence
from imr_assist.answer.llm_client import LLMClient, LLMReply, LLMRequestError
from imr_assist.answer.support import Support, fold, quote_in, stem, support, words
from imr_assist.constants import CANNOT_ANSWER, LLM_FALLBACK_NOTICE, OVERTURNED, UPHELD
from imr_assist.errors import LLMError
from imr_assist.models import Answer, Citation
from imr_assist.prompts import render
from imr_assist.retrieve.hybrid import SearchResult

#: Shown when the model said the letters do not answer but the extractive writer did.
LLM_REFUSAL_NOTICE = (
    "The language model said the letters do not answer this question, but the "
    "extractive answer found cited evidence; showing the extractive answer."
)
#: Shown when a verified LLM answer covers less than the extractive answer.
LLM_COVERAGE_NOTICE = (
    "The language model's answer covered fewer of the cited decisions or reasons than "
    "the extractive answer; showing the extractive answer"
)
#: Shown when the question asks for a figure and the LLM answer does not state it.
LLM_FIGURE_NOTICE = (
    "The language model's answer did not state the figure the records give; "
    "showing the extractive answer"
)
#: Shown when a decision question's LLM answer does not say which way it was decided.
LLM_DECISION_NOTICE = (
    "The language model's answer did not state the decision; showing the extractive answer"
)
#: Question kinds whose prompt also holds the letters' header facts.
HEADER_KINDS = ("summary", "fact")

_MARK = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# Decision words, unless negated ("was not overturned" says nothing checkable).
# "Not medically necessary" and "denied" say upheld; "medically necessary" (not
# negated) and "approved" say overturned, as the prompt defines them.
_UPHELD_WORDS = re.compile(
    r"(?<!\bnot )(?<!\bnever )(?<!n't )(?<!\bnot been )\bupheld\b"
    r"|\bnot medically necessary\b|\bnot (?:be )?(?:found )?medically necessary\b"
    r"|(?<!\bnot )\bdenied\b",
    re.IGNORECASE,
)
_OVERTURNED_WORDS = re.compile(
    r"(?<!\bnot )(?<!\bnever )(?<!n't )(?<!\bnot been )\boverturned\b"
    r"|(?<!\bnot )(?<!\bnot be )(?<!\bnot found )(?<!\bnot been )(?<!\bnot deemed )"
    r"\bmedically necessary\b"
    r"|(?<!\bnot )(?<!\bnot been )\bapproved\b",
    re.IGNORECASE,
)
_PROMPT_LOOKALIKES = str.maketrans({"\u2039": "<", "\u203a": ">"})
_QUOTE = re.compile(r"[\"\u201c]([^\"\u201d]{12,})[\"\u201d]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\-*\d\"\u201c])")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+.*|\*\*[^*]+\*\*:?|[^.!?]{2,80}:)\s*$")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def from_prompt(text: str) -> str:
    """Undo the prompt templates' angle-bracket look-alikes in the model's text."""
    return text.translate(_PROMPT_LOOKALIKES)


# --- reading the reply --------------------------------------------------------------


@dataclass
class DraftSentence:
    """One sentence as the model wrote it, with the excerpts it names."""

    text: str
    excerpts: list[int] = field(default_factory=list)
    quote: int | None = None
    heading: bool = False
    line: int = 0  # prose: the line it stood on; JSON: its position


@dataclass
class Draft:
    """The model's reply, read: its sentences, or a refusal."""

    sentences: list[DraftSentence]
    refused: bool = False
    form: str = "prose"  # 'json' or 'prose'


def answer_schema(n_excerpts: int) -> dict[str, Any]:
    """JSON schema of an answer; excerpt numbers limited to those that exist.

    Bounds rather than an ``enum`` of numbers, and no ``maxItems``: llama.cpp turns
    both into large grammars, and under them the 1.5B model wrote 0.4 tokens a second
    instead of 15 on the benchmark machine (``max_tokens`` bounds the length anyway).
    """
    numbers = {"type": "integer", "minimum": 1, "maximum": n_excerpts}
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "excerpts": {"type": "array", "items": numbers, "minItems": 1},
                        "quote": numbers,
                    },
                    "required": ["text", "excerpts"],
                },
            }
        },
        "required": ["sentences"],
    }


def _is_refusal(text: str) -> bool:
    body = _MARK.sub("", fold(text)).strip().strip('"').strip()
    return body.rstrip(".").lower() == CANNOT_ANSWER.rstrip(".").lower()


def _numbers(value: Any) -> list[int]:
    """Excerpt numbers from what a model put there: 2, "2", "[2]", [1, "3"], "1, 2"."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        return [int(x) for x in re.findall(r"\d+", value)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _json_object(text: str) -> Any:
    """The JSON value in ``text``: whole, inside a code fence, or between outer braces."""
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    a, b = text.find("{"), text.rfind("}")
    if 0 <= a < b:
        candidates.append(text[a : b + 1])
    for c in candidates:
        for attempt in (c, re.sub(r",\s*([}\]])", r"\1", c)):  # trailing commas
            try:
                return json.loads(attempt)
            except ValueError:
                continue
    return None


def _marks(text: str) -> tuple[str, list[int]]:
    """``text`` without ``[n]`` markers, and the numbers they named."""
    found = [int(n) for m in _MARK.findall(text) for n in re.findall(r"\d+", m)]
    return re.sub(r"\s+([.!?;:,])", r"\1", _MARK.sub("", text)).strip(), found


def read_reply(raw: str) -> Draft:
    """The model's reply as sentences: JSON if it is JSON, else prose with ``[n]``."""
    text = from_prompt(raw).strip()
    data = _json_object(text) if ("{" in text or "[" in text) else None
    if isinstance(data, dict):
        items = data.get("sentences", data.get("answer", data.get("claims")))
        if isinstance(items, str):
            return _read_prose(items)
        if isinstance(items, list):
            return _read_json(items)
    if isinstance(data, list) and all(isinstance(x, dict | str) for x in data):
        return _read_json(data)
    return _read_prose(text)


def _read_json(items: list[Any]) -> Draft:
    out: list[DraftSentence] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            body, nums = _marks(from_prompt(item))
            out.append(DraftSentence(body, nums, line=i))
            continue
        if not isinstance(item, dict):
            continue
        raw = item.get("text", item.get("sentence", item.get("claim", "")))
        if not isinstance(raw, str):
            continue
        body, in_text = _marks(from_prompt(raw))
        nums = _numbers(item.get("excerpts", item.get("citations", item.get("sources", []))))
        quote = _numbers(item.get("quote", item.get("quote_id")))
        out.append(DraftSentence(body, nums or in_text, quote[0] if quote else None, line=i))
    refused = not out or all(_is_refusal(s.text) for s in out if s.text)
    return Draft([s for s in out if s.text], refused=refused, form="json")


def _read_prose(text: str) -> Draft:
    if _is_refusal(text):
        return Draft([], refused=True)
    out: list[DraftSentence] = []
    for n, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        if _HEADING.match(line) and not _MARK.search(line):
            out.append(DraftSentence(line.strip(), heading=True, line=n))
            continue
        for part in _sentences(line):
            body, nums = _marks(part)
            if body:
                out.append(DraftSentence(body, nums, line=n))
    return Draft(out, refused=bool(out) and all(_is_refusal(s.text) for s in out))


def _sentences(line: str) -> list[str]:
    """Sentences of a line; a split inside a quotation ("e.g. CURES") is undone."""
    out: list[str] = []
    buf = ""
    for part in _SENTENCE.split(line):
        buf = f"{buf} {part}" if buf else part
        if buf.count('"') % 2 or buf.count("\u201c") > buf.count("\u201d"):
            continue  # still inside a quotation: its end is in a later part
        out.append(buf)
        buf = ""
    if buf:
        out.append(buf)
    return out


# --- checking -----------------------------------------------------------------------


def stated_decisions(text: str) -> set[str]:
    """The decisions a sentence asserts, in the prompt's terms."""
    out = set()
    if _UPHELD_WORDS.search(text):
        out.add(UPHELD)
    if _OVERTURNED_WORDS.search(text):
        out.add(OVERTURNED)
    return out


@dataclass
class Checked:
    """A draft sentence after checking: its excerpts, its problem if any."""

    draft: DraftSentence
    excerpts: list[int]
    problem: str | None = None
    quote: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _sources(n: list[int], ev: EvidenceSet) -> list[str]:
    """What a sentence citing ``n`` may draw on: those excerpts, their treatments, and
    the facts (the extractive answer's lines, computed from the records) citing them."""
    by_n = ev.by_n()
    out = [by_n[i].quote for i in n if i in by_n]
    out += [by_n[i].treatment or "" for i in n if i in by_n]
    marks = {f"[{i}]" for i in n}
    out += [f for f in ev.facts if any(m in f for m in marks)]
    return out


def check_sentence(s: DraftSentence, ev: EvidenceSet, texts: LetterTexts) -> Checked:
    """Is this sentence grounded in the excerpts it cites? See the module docstring."""
    by_n = ev.by_n()
    if s.heading:
        return Checked(s, [])
    short = s.text if len(s.text) <= 90 else s.text[:87] + "..."
    missing = [n for n in s.excerpts if n not in by_n]
    if missing:
        return Checked(
            s, [], f"sentence {short!r} cites excerpt [{missing[0]}], which does not exist"
        )
    nums = list(dict.fromkeys(s.excerpts))
    if s.quote is not None and s.quote in by_n and s.quote not in nums:
        nums.append(s.quote)
    if not nums:
        nums = _attribute(s.text, ev)
        if not nums:
            return Checked(
                s, [], f"sentence {short!r} has no excerpt number and no excerpt backs it"
            )
    cited = [by_n[n] for n in nums]
    for q in _QUOTE.findall(s.text):
        if not any(quote_in(q, c.quote) or texts.locate(c.doc_id, q) for c in cited):
            return Checked(
                s,
                nums,
                f"sentence {short!r} quotes words not in excerpt(s) {_list(nums)}: {q[:60]!r}",
            )
    decided = {c.decision for c in cited if c.decision}
    for word in sorted(stated_decisions(s.text)):
        if word not in decided:
            return Checked(s, nums, f"sentence {short!r} says {word} but cites no {word} decision")
    sup = support(_QUOTE.sub(" ", s.text), _sources(nums, ev))
    if not sup.ok:
        extra = _backing(nums, sup, ev)
        if extra:
            nums = [*nums, *extra]
            sup = support(_QUOTE.sub(" ", s.text), _sources(nums, ev))
    if not sup.ok:
        gap = sup.missing_numbers or sup.missing
        return Checked(
            s,
            nums,
            f"sentence {short!r} is not backed by excerpt(s) {_list(nums)}: "
            f"{', '.join(repr(w) for w in gap[:5])} not in them",
        )
    quote = None
    if s.quote is not None and s.quote in by_n:
        quote = best_sentence(s.text, by_n[s.quote].quote)
    return Checked(s, nums, quote=quote)


def _backing(nums: list[int], sup: Support, ev: EvidenceSet) -> list[int]:
    """Uncited excerpts that hold the words a sentence lacks backing for, at most two.

    Only excerpts the cited ones vouch for are candidates: the header (cover line,
    credentials) of a cited letter, and the other excerpts of a cited decision (same
    letter, same request). The real 1.5B model cited the decision excerpt and not the
    cover line for "the 65-year-old woman injured in 1993" (sample letter 000), and an
    item's decision line and not its rationale for "showed functional improvement".
    The excerpts added are cited in what is shown, so every word still has its source.
    """
    by_n = ev.by_n()
    cited = [by_n[n] for n in nums if n in by_n]
    letters = {c.doc_id for c in cited}
    items = {(c.doc_id, c.treatment) for c in cited if c.treatment}
    candidates = [
        c
        for c in ev.excerpts
        if c.n not in nums
        and c.doc_id in letters
        and (ev.kinds.get(c.n) == "header" or (c.doc_id, c.treatment) in items)
    ]
    gap = {stem(w) for w in [*sup.missing, *sup.missing_numbers]}
    out: list[int] = []
    while gap and candidates and len(out) < 2:
        held = {c.n: gap & {stem(w) for w in words(c.quote)} for c in candidates}
        best = max(candidates, key=lambda c: (len(held[c.n]), -c.n))
        if not held[best.n]:
            break
        out.append(best.n)
        gap -= held[best.n]
        candidates.remove(best)
    return out


def _list(nums: list[int]) -> str:
    return "".join(f"[{n}]" for n in nums)


def _attribute(text: str, ev: EvidenceSet) -> list[int]:
    """The one excerpt that backs an uncited sentence best, if one backs it at all.

    Small models often write a right sentence and forget its ``[n]``. The marker is
    written by code anyway; the same support check decides, so a sentence attributed
    here is held to the standard of one the model cited.
    """
    by_n = ev.by_n()
    for fact in ev.facts:
        # A sentence restating a fact cites what the fact cites.
        nums = [int(n) for n in re.findall(r"\[(\d+)\]", fact)]
        if nums and all(n in by_n for n in nums):
            decided = {by_n[n].decision for n in nums if by_n[n].decision}
            sup = support(_QUOTE.sub(" ", text), [_MARK.sub(" ", fact)])
            if sup.ok and sup.share >= 0.9 and stated_decisions(text) <= decided:
                return list(dict.fromkeys(nums))
    best: tuple[float, int] | None = None
    for c in ev.excerpts:
        sup = support(_QUOTE.sub(" ", text), _sources([c.n], ev))
        if sup.ok and stated_decisions(text) <= ({c.decision} if c.decision else set()):
            if best is None or sup.share > best[0]:
                best = (sup.share, c.n)
    return [best[1]] if best else []


def best_sentence(claim: str, excerpt: str) -> str:
    """The excerpt's sentence sharing most words with ``claim``: the quote shown."""
    want = set(words(claim))
    parts = _sentences(excerpt) or [excerpt]
    return max(parts, key=lambda p: (len(want & set(words(p))), -len(p))).strip()


def check_answer(text: str, excerpts: list[Citation], texts: LetterTexts) -> Check:
    """Problems with a prose answer citing ``excerpts``; empty means every claim is
    grounded. Kept for callers that check text: the writer uses ``check_sentence``."""
    ev = EvidenceSet(excerpts, [])
    res = Check()
    draft = read_reply(text)
    if not text.strip():
        res.problems.append("the answer is empty")
        return res
    if draft.refused:
        return res
    for s in draft.sentences:
        if s.heading or not re.search(r"[A-Za-z]{3}", s.text):
            continue
        c = check_sentence(s, ev, texts)
        if c.problem:
            res.problems.append(c.problem)
        res.used += [n for n in c.excerpts if n not in res.used]
    if not res.used and not res.problems:
        res.problems.append("the answer cites no excerpt")
    if not _looks_english(text):
        res.problems.append("the answer is not in English")
    return res


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    used: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# Function words: the English ones fill any English sentence (a quarter to a half
# of the words in the sample rationales); the others are common in Spanish,
# French, German, Italian and Portuguese and, unlike "a", "per", "non" or "die",
# hardly ever appear in an English answer.
_ENGLISH_WORDS = frozenset(
    "the of and to in is was were are be been for that this with on as by not no "
    "or from at it its an which there their has have had because when who than "
    "but these those they he she his her all any each did does do".split()
)
_FOREIGN_WORDS = frozenset(
    "de la el los las que y en del se por con una es son fue le les des et est une "
    "pour du au dans sur der das und ist nicht mit für von zu wurde il di che della "
    "sono não em uma foi para".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _looks_english(body: str) -> bool:
    """These letters are in English, so must the answer be.

    Not English: mostly non-ASCII letters (Chinese, Russian), or more function
    words of other languages than of English (Spanish, French, German), quotations
    aside since those are the letters' own words. A terse list of drug names and
    reasons has neither kind and passes.
    """
    letters = sum(ch.isalpha() for ch in body)
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in body)
    if letters and ascii_letters / letters < 0.8:
        return False
    words_ = [w.lower() for w in _WORD.findall(_QUOTE.sub(" ", body))]
    foreign = sum(w in _FOREIGN_WORDS for w in words_)
    english = sum(w in _ENGLISH_WORDS for w in words_)
    return foreign < 2 or foreign <= english


# --- writing the verified answer ------------------------------------------------------


def compose(checked: list[Checked], form: str) -> tuple[str, list[int]]:
    """The answer text with code-written ``[n]`` markers, and the excerpts in first-use
    order. Markers use the prompt's numbers; ``renumber`` maps them to 1..n."""
    used: list[int] = []
    lines: dict[int, list[str]] = {}
    for c in checked:
        if c.draft.heading:
            lines.setdefault(c.draft.line, []).append(c.draft.text)
            continue
        used += [n for n in c.excerpts if n not in used]
        body = c.draft.text.strip()
        end = body[-1] if body and body[-1] in ".!?" else "."
        body = body.rstrip(".!? ")
        if c.quote:
            body = f'{body}: "{c.quote.rstrip()}"'
        lines.setdefault(c.draft.line, []).append(f"{body} {_list(c.excerpts)}{end}")
    sep = "\n" if form == "prose" else " "
    text = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    if form == "json":
        joined = [" ".join(parts) for _, parts in sorted(lines.items())]
        listy = any(p.startswith(("-", "*", "•")) for p in joined)
        text = "\n".join(joined) if listy else sep.join(joined)
    return text, used


def asked_figure(answer: str, kind: str | None) -> str | None:
    """The number a count or share question asks for, from the extractive answer's
    first line ("4 of 5 Norco decisions ... were upheld (80%)": 4, or 80 for a share).

    The real 1.5B model answered "What share of the medications ... were approved?"
    with "The medications ... were approved", every word backed and no share (q042).
    """
    if kind not in ("count", "share"):
        return None
    head = _MARK.sub(" ", answer.splitlines()[0] if answer else "")
    if kind == "share":
        pct = re.search(r"(\d+(?:\.\d+)?)\s*%", head)
        if pct:
            return pct[1]
    first = re.match(r"\s*(\d+)\b", head)
    return first[1] if first else None


_SAYS_DECISION = {
    "upheld": re.compile(
        r"\b(?:upheld|uphold\w*|denied|deny|denial\s+(?:stands|stood|was\s+upheld)|"
        r"not\s+(?:found\s+)?medically\s+necessary|non-?certified|not\s+approved)\b",
        re.IGNORECASE,
    ),
    "overturned": re.compile(
        r"\b(?:overturned|overturn\w*|reversed|approved|certified)\b|"
        r"(?<!not )(?<!not found )\bmedically\s+necessary\b",
        re.IGNORECASE,
    ),
}


def states_decisions(text: str, citations: list[Citation]) -> bool:
    """Whether ``text`` says each way the cited decisions went (upheld, overturned)."""
    wanted = {c.decision.lower() for c in citations if c.decision}
    return all(_SAYS_DECISION[d].search(text) for d in wanted if d in _SAYS_DECISION)


def states(text: str, number: str) -> bool:
    """Whether ``text`` states ``number`` on its own: not inside a doc id ("1f8f4c"),
    a dose ("10/325") or a quantity ("#4")."""
    return re.search(rf"(?<![\w#/.]){re.escape(number)}(?![\w/]|\.\d)", text) is not None


def renumber(text: str, used: list[int], excerpts: list[Citation]) -> tuple[str, list[Citation]]:
    """Keep only cited excerpts, numbered 1..n in order of first use."""
    mapping = {old: new for new, old in enumerate(used, 1)}
    by_n = {c.n: c for c in excerpts}
    cites = [by_n[old].model_copy(update={"n": new}) for old, new in mapping.items()]
    return re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m[1]), int(m[1]))}]", text), cites


def coverage(citations: list[Citation], texts: LetterTexts) -> tuple[set[Any], set[Any]]:
    """The decided items and the reason categories these citations quote."""
    items: set[Any] = set()
    reasons: set[Any] = set()
    for c in citations:
        letter = texts.letter(c.doc_id)
        if letter is None:
            continue
        for it in letter.items:
            if it.span.start <= c.start and c.end <= it.span.end:
                items.add((c.doc_id, it.index))
                for r in it.reasons:
                    if c.start <= r.start and r.end <= c.end:
                        reasons.add((c.doc_id, it.index, r.category))
    return items, reasons


@dataclass
class Run:
    """What asking the model produced, after checking: text, or why there is none."""

    text: str = ""
    used: list[int] = field(default_factory=list)
    refused: bool = False
    error: str | None = None  # the request failed
    problem: str | None = None  # no sentence could be verified: the first problem
    usage: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What one round of asking produced."""

    checked: list[Checked]
    draft: Draft
    reply: LLMReply


class LLMWriter:
    """Writes an answer with a language model, verified against the letters."""

    mode = "llm"

    def __init__(
        self,
        client: LLMClient,
        texts: LetterTexts,
        *,
        evidence_tokens: int = 1500,
        max_tokens: int = 700,
    ) -> None:
        self.client = client
        self.texts = texts
        self.evidence_tokens = evidence_tokens
        self.max_tokens = max_tokens
        # Structured output the server accepts, learnt on first refusal: the OpenAI
        # form, then llama.cpp's older json_object-with-schema form, then none.
        self._formats = ["json_schema", "json_object", None]

    def write(
        self,
        result: SearchResult,
        extractive: Answer,
        on_delta: Callable[[str], None] | None = None,
        kind: str | None = None,
    ) -> Answer:
        """The verified LLM answer, or ``extractive`` with a notice saying why not.

        ``on_delta`` is called once with the verified text: drafts are checked before
        anything is shown, so nothing unverified is streamed.
        """
        ev = build_evidence(
            result,
            extractive,
            self.texts,
            self.evidence_tokens,
            headers=kind in HEADER_KINDS or bool(result.filters.doc_ids),
        )
        if not ev.excerpts:
            return extractive.model_copy(update={"mode": "extractive"})
        messages = [
            {"role": "system", "content": render("answer_system.j2", cannot_answer=CANNOT_ANSWER)},
            {
                "role": "user",
                "content": render(
                    "answer_user.j2",
                    question=result.question,
                    facts=ev.facts,
                    excerpts=ev.excerpts,
                    cannot_answer=CANNOT_ANSWER,
                ),
            },
        ]
        run = self.run(messages, ev)
        usage, notes = run.usage, run.notes

        def fallback(notice: str) -> Answer:
            return extractive.model_copy(
                update={"notices": [*extractive.notices, *notes, notice], "usage": usage or None}
            )

        if run.error is not None:
            return fallback(f"{LLM_FALLBACK_NOTICE} ({run.error})")
        if run.refused:
            if extractive.answered:
                return fallback(LLM_REFUSAL_NOTICE)
            return Answer(
                question=result.question,
                answer=CANNOT_ANSWER,
                answered=False,
                mode=self.mode,
                filters=extractive.filters,
                evidence=extractive.evidence,
                notices=notes,
                usage=usage,
            )
        if run.problem is not None:
            return fallback(f"{LLM_FALLBACK_NOTICE} ({run.problem})")
        text, cites = renumber(run.text, run.used, ev.excerpts)
        if extractive.answered:
            want_items, want_reasons = coverage(extractive.citations, self.texts)
            got_items, got_reasons = coverage(cites, self.texts)
            if not (want_items <= got_items and want_reasons <= got_reasons):
                return fallback(
                    f"{LLM_COVERAGE_NOTICE} ({len(want_items & got_items)} of "
                    f"{len(want_items)} decisions, {len(want_reasons & got_reasons)} of "
                    f"{len(want_reasons)} reasons)."
                )
            figure = asked_figure(extractive.answer, kind)
            if figure is not None and not states(_MARK.sub(" ", text), figure):
                return fallback(f"{LLM_FIGURE_NOTICE} ({figure}).")
            if kind == "decision" and not states_decisions(text, extractive.citations):
                # "Was baclofen denied ...?" answered with the rationale's words alone (q025)
                return fallback(LLM_DECISION_NOTICE)
        if on_delta is not None:
            on_delta(text)
        return Answer(
            question=result.question,
            answer=text,
            answered=True,
            mode=self.mode,
            filters=extractive.filters,
            citations=cites,
            notices=notes,
            usage=usage,
        )

    def run(self, messages: list[dict[str, str]], ev: EvidenceSet) -> Run:
        """Ask, check every sentence, re-ask once naming the failures, keep what holds.

        The result's text uses the prompt's excerpt numbers. ``problem`` is set when no
        sentence could be verified; sentences left out are said in ``notes``.
        """
        run = Run()
        try:
            first = self._ask(messages, ev, run.usage, run.notes)
        except LLMError as err:
            run.error = str(err)
            return run
        if first.draft.refused:
            run.refused = True
            return run
        outcome = first
        problems = _problems(first)
        if problems:
            messages = [
                *messages,
                {"role": "assistant", "content": first.reply.text},
                {
                    "role": "user",
                    "content": render(
                        "answer_retry.j2", problems=problems[:6], n_excerpts=len(ev.excerpts)
                    ),
                },
            ]
            try:
                second = self._ask(messages, ev, run.usage, run.notes, temperature=0.3)
            except LLMError as err:
                second = None
                run.notes.append(f"The re-ask failed ({err}).")
            if second is not None and not second.draft.refused:
                if _score(second) >= _score(first):
                    outcome = second
        good = [c for c in outcome.checked if c.ok]
        if not any(not c.draft.heading for c in good):
            run.problem = unquoted((_problems(outcome) or ["the answer cites no excerpt"])[0])
            return run
        dropped = [c for c in outcome.checked if not c.ok]
        if dropped:
            run.notes.append(
                f"{len(dropped)} sentence(s) of the language model's answer could not be "
                f"verified against the letters and were left out "
                f"({unquoted(dropped[0].problem or '')})."
            )
        run.text, run.used = compose(good, outcome.draft.form)
        return run

    def _ask(
        self,
        messages: list[dict[str, str]],
        ev: EvidenceSet,
        usage: dict[str, int],
        notes: list[str],
        *,
        temperature: float | None = None,
    ) -> Outcome:
        reply = self.request(messages, answer_schema(len(ev.excerpts)), temperature=temperature)
        _add_usage(usage, reply)
        notes += transport_notes(reply)
        draft = read_reply(reply.text)
        checked = [check_sentence(s, ev, self.texts) for s in draft.sentences]
        if not draft.refused and not _looks_english(" ".join(s.text for s in draft.sentences)):
            checked = [
                Checked(c.draft, c.excerpts, "the answer is not in English") for c in checked
            ]
        return Outcome(checked, draft, reply)

    def request(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        temperature: float | None = None,
    ) -> LLMReply:
        """One completion, in the most structured form the server accepts."""
        while True:
            fmt = self._formats[0]
            try:
                return self.client.complete(
                    messages,
                    response_format=_response_format(fmt, schema),
                    max_tokens=self.max_tokens,
                    temperature=temperature,
                )
            except LLMRequestError as err:
                # A server that does not know the format answers 400 or 422 (and
                # llama-cpp-python's 500 on its own validation error names the field);
                # the next form is tried, and remembered for the next question.
                known = err.kind == "bad_request" or "response_format" in str(err)
                if fmt is None or not known:
                    raise
                self._formats.pop(0)


def _response_format(fmt: str | None, schema: dict[str, Any]) -> dict[str, Any] | None:
    if fmt == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    if fmt == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def transport_notes(reply: LLMReply) -> list[str]:
    """Notices for requests that had to be sent again, and for cut-off replies."""
    notes = []
    if reply.resent:
        notes.append(
            f"The language model request was sent {reply.attempts} times "
            f"({'; '.join(reply.resent)})."
        )
    if reply.finish_reason == "length":
        notes.append("The language model's reply was cut off at its max_tokens limit.")
    return notes


_NAMED_SENTENCE = re.compile(r"""^sentence (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") """)


def unquoted(problem: str) -> str:
    """A problem without the sentence it names: the re-ask names it to the model, but
    an unverified sentence is never shown to the user, not even in a notice."""
    return _NAMED_SENTENCE.sub("a sentence ", problem)


def _problems(outcome: Outcome) -> list[str]:
    return [c.problem for c in outcome.checked if c.problem]


def _score(outcome: Outcome) -> tuple[int, int]:
    ok = [c for c in outcome.checked if c.ok and not c.draft.heading]
    return len(ok), -len(_problems(outcome))


def _add_usage(total: dict[str, int], reply: LLMReply) -> None:
    for k, v in (reply.usage or {}).items():
        total[k] = total.get(k, 0) + int(v)
