"""Chat: follow-up questions edit the previous question's plan.

"and Soma?" keeps the decision and aggregate of the last question and swaps the
treatment; "which of those were overturned?" keeps the treatment and sets a decision;
"how many were there?" and "why?" change the aggregate. A question that names its own
treatment and decision starts afresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from imr_assist.answer.service import Assistant
from imr_assist.constants import OVERTURNED, UPHELD
from imr_assist.models import Answer
from imr_assist.retrieve.hybrid import matching_items, resolve_doc_refs
from imr_assist.retrieve.plan import QueryPlan, treatment_filters
from imr_assist.retrieve.query import QueryFilters, bare_specialty
from imr_assist.settings import Settings

# "what had UR already approved there?" (not "how many were there?")
_THERE = (
    r"\b(?:in\s+there|(?:approved|requested|decided|denied|certified|authori[sz]ed|asked\s+for|else|"
    r"ordered|upheld|overturned)\s+there)\s*[?.!]*\s*$"
)
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|what\s+about|how\s+about|same\s+for|and\s+for|so|then|ok(?:ay)?|also|now)\b|"
    r"\b(?:those|them|these|that\s+one|their|they|theirs|th[ae]t\s+(?:letter|case|request))\b|"
    r"\bthe\s+(?:\w+\s+)?ones?\b|"
    r"\b(?:before|after|about|for|of|in)\s+(?:that|it|this)\s*[?.!]*\s*$|"
    r"^\s*(?:were|was|are|is|did)\s+(?:any|none|all)\b|^\s*any\b|^\s*(?:and\s+)?why\s+not\b|"
    r"^\s*(?:and\s+)?which\s+(?:one|ones)\b|^\s*(?:and\s+)?(?:who|when)\s+\w+\s+(?:it|them)\b|"
    + _THERE,
    re.IGNORECASE,
)
# "how many PT requests were there in total?": whatever the decision.
_ANY_DECISION = re.compile(
    r"\b(?:in\s+total|altogether|overall|in\s+all|all\s+together|regardless|whatever\s+the\s+"
    r"(?:decision|outcome)|either\s+way)\b",
    re.IGNORECASE,
)
# Words that point back at the last answer's letters or requests.
_POINTS_BACK = re.compile(
    r"\b(?:they|them|their|those|these|that\s+(?:letter|case|one|request)|this\s+(?:letter|case)|"
    r"the\s+same\s+(?:letter|case))\b|"
    # "who reviewed it?", "when was it decided?"
    r"\b(?:reviewed|decided|denied|approved|handled|wrote|signed|upheld|overturned)\s+it\b|"
    r"\b(?:was|is)\s+it\s+(?:decided|reviewed|denied|approved|upheld|overturned)\b",
    re.IGNORECASE,
)
# A clause of what the asker already knows: "... if the surgery was approved?"
_ASIDE = re.compile(
    r"[,\s]+(?:if|when|since|although|though|even\s+though|given\s+that|while|whereas)\s+"
    r"(?:the|that|this|it)\b[^?]*\b(?:was|were|got|had\s+been)\s+(?:\w+\s+)?"
    r"(?:approved|upheld|overturned|denied|certified|authori[sz]ed)\b[^?]*\??\s*$",
    re.IGNORECASE,
)
# The worker of the last answer, by a pronoun.
_WORKER = re.compile(r"\b(?:he|she|him|her|his|hers)\b", re.IGNORECASE)
_THAT_LETTER = re.compile(
    r"\b(?:in|of|from)\s+(?:that|this|the\s+same)\s+(?:letter|case)\b|" + _THERE,
    re.IGNORECASE,
)
# A letter named by what it decided, as one already shown: "the arthroscopy case",
# "the knee MRI letter", "the worker in the Bankart repair case".
_THE_CASE = re.compile(
    r"\bthe\s+(?!same\b|other\b)(?:[\w/'-]+\s+){1,4}?(?:case|letter|worker|patient|claimant)\b",
    re.IGNORECASE,
)
# A verb of one request: "why was the compound cream denied?", not "why were ...".
_ONE_REQUEST_VERB = re.compile(r"\b(?:was|is|has|did)\b", re.IGNORECASE)


def _the_request(question: str, f: QueryFilters) -> bool:
    """ "Why was the compound cream denied?": one request named with "the", as one the
    last answer showed; not "the Norco requests" or "why were the creams denied?"."""
    if not _ONE_REQUEST_VERB.search(question):
        return False
    return any(
        re.search(
            rf"\bthe\s+(?:[\w-]+\s+){{0,2}}?{re.escape(m)}(?![\w-]|\s+(?:requests|decisions|ones|"
            r"items|letters|cases)\b)",
            question,
            re.IGNORECASE,
        )
        for m in f.mentions
        if not m.lower().endswith("s")
    )


_ELSE = re.compile(
    r"\b(?:what|anything|something|which)\s+else\b|\bother\s+(?:requests?|items?|treatments?)\b|"
    r"\bbesides\s+(?:that|it|this)\b",
    re.IGNORECASE,
)
_DECISIONS_WORD = re.compile(r"\b(?:decisions?|requests?|items?|treatments?)\b", re.IGNORECASE)


# A follow-up that changes only what is asked for, not what it is about.
_ASK_AGAIN = re.compile(
    r"^\s*(?:and\s+)?(?:how\s+many|why|which\s+ones|list\s+them|what\s+share|"
    r"what\s+percent\w*|the\s+(?:overturned|upheld|denied|approved)\s+ones|"
    r"(?:and\s+)?(?:the\s+)?(?:overturned|upheld|denied|approved)(?:\s+ones)?)\b",
    re.IGNORECASE,
)


class ChatSession:
    """A conversation: each question is read into a plan, and a follow-up edits the last.

    A follow-up ("and Soma?", "what about those under ODG?", "and the overturned ones?",
    "how many were there?", "why?") keeps the last plan and replaces what it names: a
    treatment, a decision, letters, a specialty, a guideline, a restriction; a question
    word ("how many", "why", "which") changes the aggregate. A question that names its
    own treatment and decision, or that is no follow-up, starts afresh.
    """

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.assistant = assistant or Assistant(settings)
        self.plan: QueryPlan | None = None
        self._notice: str | None = None  # whose reading the last question's plan is
        self._base: QueryPlan | None = None  # the plan of the chain's first question
        self._last_letters: list[str] = []  # the letters the last answer cited

    def reset(self) -> None:
        self.plan = None
        self._base = None
        self._last_letters = []

    @property
    def filters(self) -> QueryFilters | None:
        return self.plan.filters if self.plan else None

    def filters_dict(self) -> dict[str, object]:
        return self.plan.filters.as_dict() if self.plan else {}

    def plan_dict(self) -> dict[str, object]:
        return self.plan.as_dict() if self.plan else {}

    def _shown_case(self, question: str, new: QueryPlan) -> QueryPlan | None:
        """ "how old was the worker in the arthroscopy case?" after an answer that showed
        an arthroscopy letter: the question's own plan, about the letters shown that
        decided that treatment, not every arthroscopy letter (None if it is not that)."""
        nf = new.filters
        if (
            self.plan is None
            or not self._last_letters
            or not nf.has_treatment
            or nf.doc_ids
            or nf.case_number
            or not (_THE_CASE.search(question) or _the_request(question, nf))
        ):
            return None
        shown = list(dict.fromkeys(self._last_letters))
        rows = matching_items(self.assistant.index, replace(nf, decision=None, doc_ids=shown))
        picked = sorted({r.doc_id for r in rows})
        if not picked:
            return None
        return replace(new, filters=replace(nf, doc_ids=picked))

    def resolve(self, question: str) -> QueryPlan:
        """The plan to answer: the question's own, or the last one edited by it."""
        prev = self.plan
        if prev is not None and (asked := _BARE_FACT.match(question)):
            # "date?", "and the DOI?", "age?" after an answer: that fact of the letters
            # it cited
            fact = next(name for name, word in _BARE_FACTS if re.fullmatch(word, asked["w"], re.I))
            question = f"what was the {fact} of {'that letter' if len(set(self._last_letters)) == 1 else 'those letters'}?"
        new, self._notice = self.assistant.read(question)
        aside = _ASIDE.search(question)
        if prev is not None and aside:
            # "why were those turned down if the surgery was approved?", "why was the
            # Percocet denied if the surgery was approved": the clause is what the asker
            # knows, the question is about "those", or the Percocet shown
            head = question[: aside.start()].rstrip() + "?"
            if _POINTS_BACK.search(head):
                new, self._notice = self.assistant.read(head)
            else:
                bare, notice = self.assistant.read(head)
                if _the_request(head, bare.filters):
                    new, self._notice, question = bare, notice, head
        nf = new.filters
        shown_case = self._shown_case(question, new)
        if shown_case is not None:
            return shown_case
        follow = bool(
            (_WORKER.search(question) and len(set(self._last_letters)) == 1)
            or _FOLLOW_UP.search(question)
            or _ASK_AGAIN.search(question)
            or _says_nothing(new)
            or (new.kind == "fact" and _POINTS_BACK.search(question))
        )
        if prev is None or not follow:
            return new
        pointed = bool(_POINTS_BACK.search(question))
        if nf.has_treatment and nf.decision and not pointed:
            return new  # names its own treatment and decision: a fresh question
        resolve_doc_refs(self.assistant.index, question, nf)  # "what about letter 004?"
        f = replace(prev.filters)
        # "what equipment did he ask for?" after an answer about one worker's letter
        worker = bool(_WORKER.search(question)) and len(set(self._last_letters)) == 1
        that_letter = bool(_THAT_LETTER.search(question)) or worker
        if that_letter and not nf.has_treatment:
            # "so how many in that letter were overturned?": the letter, every request
            f = replace(
                f, canonicals=[], generics=[], classes=[], names_without_generic=[], mentions=[]
            )
        pinned: dict[str, object] = {}
        if (
            # "in that case ...", "who reviewed that one?"
            (that_letter or (new.kind == "fact" and pointed))
            and not (nf.doc_ids or nf.case_number or f.doc_ids or f.case_number)
            and (len(set(self._last_letters)) == 1 or (new.kind == "fact" and self._last_letters))
        ):
            # "what happened to the post-op stuff in that case?" after an answer about one
            # letter: that letter, whatever narrowed the last question to it
            f = replace(f, doc_ids=list(dict.fromkeys(self._last_letters)))
            pinned = {"regions": (), "letter_regions": (), "reasons": (), "topic": ()}
        if nf.has_treatment:
            # "and the post-op meds in that one?" after the shoulder surgery: the region
            # was the last treatment's, not the new one's
            pinned = {**pinned, "regions": ()}
            f = replace(
                f,
                canonicals=nf.canonicals,
                generics=nf.generics,
                classes=nf.classes,
                names_without_generic=nf.names_without_generic,
                mentions=nf.mentions,
            )
        if re.match(r"^\s*(?:and\s+)?why\s+not\b", question, re.IGNORECASE) and f.decision:
            # "were any approved?" ... "why not?": why the other way
            f = replace(f, decision=UPHELD if f.decision == OVERTURNED else OVERTURNED)
        elif nf.decision:
            f = replace(f, decision=nf.decision)
        elif _ANY_DECISION.search(question):
            f = replace(f, decision=None)
        if nf.doc_ids or nf.case_number or nf.names_letter or nf.letter_refs_unmatched:
            # A follow-up that names letters replaces the letters of the last question.
            f = replace(
                f,
                doc_ids=nf.doc_ids,
                case_number=nf.case_number,
                specialty=nf.specialty,
                patient_ages=nf.patient_ages,
                patient_sex=nf.patient_sex,
                injury_date=nf.injury_date,
                letter_refs_unmatched=nf.letter_refs_unmatched,
            )
        elif nf.specialty or (prev.filters.specialty and (named := bare_specialty(question))):
            # "what about Internal Medicine?" after a question about reviewers of one
            # specialty: the new specialty replaces the last
            f = replace(f, specialty=nf.specialty or named, doc_ids=nf.doc_ids)
        if nf.guideline:
            f = replace(f, guideline=nf.guideline)
        kind = prev.kind
        if new.kind in (
            "why",
            "count",
            "share",
            "list",
            "group",
            "fact",
            "summary",
            "compare",
            "decision",
        ):
            kind = new.kind
        elif re.match(r"^\s*(?:and\s+)?which\b", question, re.IGNORECASE):
            kind = "list"
        elif new.partial and not prev.partial:
            kind = "list"  # "what had UR authorized before that?": the partial details
        # the misspellings read are this question's own, not the last one's again
        edits: dict[str, object] = {"corrections": new.corrections, **pinned}
        if (
            _ELSE.search(question)
            and not nf.has_treatment
            and prev.filters.has_treatment
            and (f.doc_ids or f.case_number)
            and not (prev.topic_phrase and prev.topic)
        ):
            # "in that letter, what else was asked for?": its other requests
            said = " and ".join(dict.fromkeys(prev.filters.mentions))
            excluded = treatment_filters(said) if said else None
            if excluded is not None and excluded.has_treatment:
                edits["excluded"] = excluded
        elif _ELSE.search(question) and (prev.named_by or prev.topic_phrase) and prev.topic:
            # ... after "a Bankart repair", searched by its name: the requests not so named
            edits["excluded_words"] = tuple(prev.topic)
            edits["excluded_said"] = " ".join(prev.topic)
        for name in ("regions", "letter_regions", "reasons", "topic", "corrections"):
            if getattr(new, name):
                edits[name] = getattr(new, name)
        for name in (
            "sex",
            "age_min",
            "age_max",
            "licensed_in",
            "licensed_states_min",
            "decided_in",
            "decided_not_in",
            "all_decided",
            "group_by",
            "fact",
        ):
            if getattr(new, name) is not None:
                edits[name] = getattr(new, name)
        if new.licensed_in:  # "and those licensed outside California?"
            edits["licensed_not"] = new.licensed_not
            edits["licensed_only"] = new.licensed_only
        if new.partial:
            edits["partial"] = True
        if new.fact:  # "what were their decision dates?": the fact of the letters picked
            edits["fact_decisions"] = True
        if new.unit == "letters":
            edits["unit"] = "letters"
        elif _DECISIONS_WORD.search(question):
            edits["unit"] = "decisions"  # "which of their decisions were overturned?"
        # The first question of the chain, with this one beside it: what the search and
        # an LLM read ("Why are Norco requests upheld? (and Soma?)").
        base = self._base or prev
        return replace(
            prev,
            question=f"{base.question} ({question})",
            corrected=f"{base.corrected} ({new.corrected})",
            filters=f,
            kind=kind,
            terms=(),
            **edits,  # type: ignore[arg-type]
        )

    def ask(self, question: str, on_delta: Callable[[str], None] | None = None) -> Answer:
        # One snapshot for reading the question (its letter references) and answering
        # it; letters ingested or changed since the last question are seen here.
        with self.assistant.snapshot():
            plan = self.resolve(question)
            answer, _ = self.assistant.ask_plan(plan, on_delta=on_delta)
            # the plan as carried out: a treatment no letter decided became a topic
            planner = self.assistant.planner
            carried = planner.follow_plan or planner.last_plan
            if answer.answered and carried is not None:
                plan = carried
        if plan.question == question:  # a fresh question starts a chain
            self._base = plan
        self.plan = plan
        self._last_letters = list(dict.fromkeys(c.doc_id for c in answer.citations))
        notices = [self._notice, *answer.notices] if self._notice else answer.notices
        return answer.model_copy(update={"question": question, "notices": notices})


# A follow-up that names only a letter fact: "date?", "and the DOI?", "age?"
_BARE_FACTS = (
    ("decision date", r"(?:the\s+)?(?:decision\s+)?dates?|when|what\s+date|decided\s+when"),
    ("date of injury", r"(?:the\s+)?(?:DOI|date\s+of\s+injury|injury\s+date)"),
    ("UR denial date", r"(?:the\s+)?(?:UR\s+(?:denial\s+)?date|UR\s+denied\s+when)"),
    ("age of the worker", r"(?:the\s+)?(?:age|ages|how\s+old)"),
    ("reviewer's credentials", r"(?:the\s+)?(?:reviewer|specialty|credentials)"),
)
_BARE_FACT = re.compile(
    r"^\s*(?:and\s+|ok\s+|so\s+)?(?P<w>" + "|".join(w for _, w in _BARE_FACTS) + r")\s*\??\s*$",
    re.IGNORECASE,
)


def _says_nothing(plan: QueryPlan) -> bool:
    """A question with nothing of its own to be about ("what did IMR decide?")."""
    return not (
        plan.filters.restricted
        or plan.letter_restricted
        or plan.topic
        or plan.terms
        or plan.group_by
        or plan.absent
    )
