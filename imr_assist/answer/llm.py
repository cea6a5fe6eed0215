"""The LLM answer writer: the model writes, the letters decide what may be shown.

The model gets the same evidence as the extractive writer, as numbered excerpts
inside an ``<evidence>`` block, plus the structured counts. Its answer is checked:
every factual sentence cites ``[n]``, every ``[n]`` exists, every quoted phrase
is verbatim in the cited excerpt's letter, and a sentence that calls a request
upheld or overturned cites an excerpt with that decision. On failure it is asked
once more with the problems named; if that fails too, the extractive answer is
shown with a notice.

Letters are untrusted text. The prompt templates replace angle brackets in them
with look-alikes (``‹`` ``›``), so a letter cannot close the evidence block and
speak as the user; ``from_prompt`` maps them back before quotes are checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from imr_assist.answer.citations import LetterTexts
from imr_assist.answer.llm_client import LLMClient, LLMReply
from imr_assist.constants import CANNOT_ANSWER, LLM_FALLBACK_NOTICE
from imr_assist.errors import LLMError
from imr_assist.models import Answer, Citation
from imr_assist.prompts import render
from imr_assist.retrieve.hybrid import SearchResult
from imr_assist.text import clean

_MARK = re.compile(r"\[(\d+)\]")
# A decision word, unless negated ("was not overturned" says nothing checkable).
_DECISION_WORD = re.compile(
    r"(?<!\bnot )(?<!\bnever )(?<!n't )(?<!\bnot been )\b(upheld|overturned)\b", re.IGNORECASE
)
_PROMPT_LOOKALIKES = str.maketrans({"\u2039": "<", "\u203a": ">"})


def from_prompt(text: str) -> str:
    """Undo the prompt templates' angle-bracket look-alikes in the model's text."""
    return text.translate(_PROMPT_LOOKALIKES)


_QUOTE = re.compile(r"[\"\u201c]([^\"\u201d]{12,})[\"\u201d]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\-*\d])")


def _sentences(body: str) -> list[str]:
    """Sentences of each line; a split inside a quotation ("e.g. CURES") is undone."""
    out: list[str] = []
    for line in body.splitlines():
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


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    used: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_answer(text: str, excerpts: list[Citation], texts: LetterTexts) -> Check:
    """Problems with an LLM answer; an empty list means every claim is grounded."""
    res = Check()
    body = from_prompt(text).strip()
    if not body:
        res.problems.append("the answer is empty")
        return res
    if body == CANNOT_ANSWER:
        return res
    by_n = {c.n: c for c in excerpts}
    for sentence in _sentences(body):
        s = sentence.strip()
        if not s or not re.search(r"[A-Za-z]{3}", s) or s.endswith(":"):
            continue
        marks = [int(m) for m in _MARK.findall(s)]
        if not marks:
            res.problems.append(f"sentence without a citation: {s[:80]!r}")
            continue
        for n in marks:
            if n not in by_n:
                res.problems.append(f"citation [{n}] does not exist")
            elif n not in res.used:
                res.used.append(n)
        cited = [by_n[n] for n in marks if n in by_n]
        for q in _QUOTE.findall(s):
            if not any(texts.locate(c.doc_id, q) for c in cited):
                res.problems.append(f"quote not found in the cited letters: {q[:60]!r}")
        if len(cited) == len(marks):
            decided = {c.decision for c in cited}
            for word in sorted({w.lower() for w in _DECISION_WORD.findall(s)}):
                if word not in decided:
                    res.problems.append(f"says {word} but cites no {word} decision: {s[:80]!r}")
    if not res.used and not res.problems:
        res.problems.append("the answer cites no excerpt")
    if not _looks_english(body):
        res.problems.append("the answer is not in English")
    return res


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
    words = [w.lower() for w in _WORD.findall(_QUOTE.sub(" ", body))]
    foreign = sum(w in _FOREIGN_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    return foreign < 2 or foreign <= english


def renumber(text: str, used: list[int], excerpts: list[Citation]) -> tuple[str, list[Citation]]:
    """Keep only cited excerpts, numbered 1..n in order of first use."""
    mapping = {old: new for new, old in enumerate(used, 1)}
    by_n = {c.n: c for c in excerpts}
    cites = [by_n[old].model_copy(update={"n": new}) for old, new in mapping.items()]
    return _MARK.sub(lambda m: f"[{mapping.get(int(m[1]), m[1])}]", text), cites


class LLMWriter:
    """Writes an answer with a language model, verified against the letters."""

    mode = "llm"

    def __init__(self, client: LLMClient, texts: LetterTexts) -> None:
        self.client = client
        self.texts = texts

    def write(
        self,
        result: SearchResult,
        extractive: Answer,
        on_delta: Callable[[str], None] | None = None,
    ) -> Answer:
        excerpts = self._excerpts(result, extractive)
        if not excerpts:
            return extractive.model_copy(update={"mode": "extractive"})
        facts = [line for line in extractive.answer.splitlines() if line.strip()]
        facts = [_MARK.sub("", f).strip() for f in facts]
        messages = [
            {"role": "system", "content": render("answer_system.j2", cannot_answer=CANNOT_ANSWER)},
            {
                "role": "user",
                "content": render(
                    "answer_user.j2", question=result.question, facts=facts, excerpts=excerpts
                ),
            },
        ]
        usage: dict[str, int] = {}
        problems: list[str] = []
        for attempt in range(2):
            try:
                reply = self._call(messages, on_delta if attempt == 0 else None)
            except LLMError as err:
                problems = [str(err)]
                break
            _add_usage(usage, reply)
            check = check_answer(reply.text, excerpts, self.texts)
            if check.ok:
                text = from_prompt(reply.text).strip()
                if text == CANNOT_ANSWER:
                    return Answer(
                        question=result.question,
                        answer=CANNOT_ANSWER,
                        answered=False,
                        mode=self.mode,
                        filters=extractive.filters,
                        usage=usage,
                        evidence=extractive.evidence,
                    )
                text, cites = renumber(text, check.used, excerpts)
                return Answer(
                    question=result.question,
                    answer=text,
                    answered=True,
                    mode=self.mode,
                    filters=extractive.filters,
                    citations=cites,
                    usage=usage,
                )
            problems = check.problems
            messages += [
                {"role": "assistant", "content": reply.text},
                {
                    "role": "user",
                    "content": render(
                        "answer_retry.j2", problems=problems[:8], n_excerpts=len(excerpts)
                    ),
                },
            ]
        notice = LLM_FALLBACK_NOTICE + (f" ({problems[0]})" if problems else "")
        return extractive.model_copy(
            update={"notices": [*extractive.notices, notice], "usage": usage or None}
        )

    def _call(
        self, messages: list[dict[str, str]], on_delta: Callable[[str], None] | None
    ) -> LLMReply:
        if on_delta is None:
            return self.client.complete(messages)
        return self.client.stream(messages, on_delta)

    def _excerpts(self, result: SearchResult, extractive: Answer) -> list[Citation]:
        """The extractive answer's citations, then the top passages, all verified."""
        out: list[Citation] = [c for c in extractive.citations]
        seen = {(c.doc_id, c.start, c.end) for c in out}
        for h in result.hits:
            c = h.chunk
            if (c.doc_id, c.start, c.end) in seen:
                continue
            letter = self.texts.letter(c.doc_id)
            if letter is None:
                continue
            quote = clean(letter.text[c.start : c.end]).strip()
            if quote != c.text:
                continue
            item = letter.items[c.item_index] if c.item_index is not None else None
            out.append(
                Citation(
                    n=len(out) + 1,
                    doc_id=c.doc_id,
                    source=letter.source,
                    treatment=item.treatment if item else None,
                    decision=item.decision if item else None,
                    quote=quote,
                    start=c.start,
                    end=c.end,
                )
            )
            seen.add((c.doc_id, c.start, c.end))
        return out


def _add_usage(total: dict[str, int], reply: LLMReply) -> None:
    for k, v in (reply.usage or {}).items():
        total[k] = total.get(k, 0) + int(v)
