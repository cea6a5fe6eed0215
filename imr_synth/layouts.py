"""The four letter formats of DOMAIN.md, written from a ``LetterPlan``.

- ``standard``: the sample letters' sections (``HOW THE IMR FINAL DETERMINATION WAS
  MADE``, ``CLINICAL CASE SUMMARY``, ``IMR ISSUES, DECISIONS AND RATIONALES``), or
  the later headings (``DOCUMENTS REVIEWED``, ``IMR DECISION(S) AND RATIONALE(S)``);
- ``standard_cover``: the same under a cover block of case fields;
- ``notice_2013``: the 2013 notice with numbered decision sentences;
- ``professional_review``: the "MEDICAL PROFESSIONAL REVIEW" layout.

Each writer fills a ``Doc`` and marks every gold value with a key such as
``items.0.rationale``, ``reviewer.licensure.1`` or ``patient.age``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import date, timedelta

from imr_assist.constants import FORMAT_2013, FORMAT_COVER, FORMAT_PROFESSIONAL, UPHELD
from imr_synth import vocab
from imr_synth.doc import Doc, Frag, Mark, Slot, fill, join, mark, plain, with_offsets
from imr_synth.plan import ItemPlan, LetterPlan, WrittenDate, any_style, write_date
from imr_synth.treatments import Citation

COVER_LABELS = (
    ("case_number", "Case Number"),
    ("date_assigned", "Date Assigned"),
    ("date_of_injury", "Date of Injury"),
    ("decision_date", "Decision Date"),
    ("ur_denial_date", "UR Denial Date"),
    ("priority", "Priority"),
    ("application_received", "Application Received"),
)


def render(plan: LetterPlan, rng: random.Random) -> Doc:
    doc = Doc()
    if plan.format == FORMAT_2013:
        _notice_2013(plan, doc, rng)
    elif plan.format == FORMAT_PROFESSIONAL:
        _professional(plan, doc, rng)
    else:
        _standard(plan, doc, rng)
    return doc


# --- shared pieces -----------------------------------------------------------------------


def _value(v: WrittenDate | str) -> str:
    return v.text if isinstance(v, WrittenDate) else v


def _cover(plan: LetterPlan, doc: Doc, rng: random.Random) -> None:
    pairs = rng.random() < 0.4  # PDF tables put two fields on one line
    fields = [(key, label) for key, label in COVER_LABELS if key in plan.cover]
    line: list[Slot] = []
    for key, label in fields:
        line.append(
            fill("{label}: {value}", {"label": label, "value": mark(key, _value(plan.cover[key]))})
        )
        if not pairs or len(line) == 2:
            doc.line(join(line, "    "))
            line = []
    if line:
        doc.line(join(line, "    "))
    doc.line()


def _states(states: list[str]) -> Frag:
    marked = [mark(f"reviewer.licensure.{i}", s) for i, s in enumerate(states)]
    if len(marked) == 1:
        return marked[0]
    return join([join(marked[:-1], ", "), marked[-1]], " and ")


def _reviewer_prose(plan: LetterPlan, subject: str) -> Frag:
    r = plan.reviewer
    specs: Frag = mark("reviewer.specialties.0", r.specialties[0])
    if len(r.specialties) > 1:
        specs = fill(
            "{a}, has a subspecialty in {b}",
            {"a": specs, "b": mark("reviewer.specialties.1", r.specialties[1])},
        )
    return fill(
        "{subject} is Board Certified in {specs} and is licensed to practice in {states}.",
        {"subject": subject, "specs": specs, "states": _states(r.licensure)},
    )


def _reviewer_lines(plan: LetterPlan, doc: Doc) -> None:
    r = plan.reviewer
    doc.line(
        fill(
            "State(s) of Licensure: {v}",
            {
                "v": join(
                    [mark(f"reviewer.licensure.{i}", s) for i, s in enumerate(r.licensure)], ", "
                )
            },
        )
    )
    doc.line(
        fill(
            "Certification(s)/Specialty: {v}",
            {
                "v": join(
                    [mark(f"reviewer.specialties.{i}", s) for i, s in enumerate(r.specialties)],
                    ", ",
                )
            },
        )
    )


def _and_list(parts: Sequence[Slot], oxford: bool = True) -> Frag:
    if len(parts) == 1:
        return join(parts, "")
    if len(parts) == 2:
        return join(parts, " and ")
    head = join(parts[:-1], ", ")
    return join([head, parts[-1]], ", and " if oxford else " and ")


def _summary(plan: LetterPlan, rng: random.Random, *, patient_word: str = "injured worker") -> Frag:
    """The clinical case summary: patient, injury, diagnoses, recent visit, request."""
    p = plan.pronouns
    doi_key = "date_of_injury" if "date_of_injury" not in plan.cover else "summary_injury"
    slots: dict[str, Slot] = {
        "age": mark("patient.age", str(plan.age)),
        "sex": mark("patient.sex", plan.sex_word),
        "doi": mark(doi_key, plan.injury.text),
        "region": plan.region,
        "occupation": rng.choice(vocab.OCCUPATIONS),
        "mechanism": rng.choice(vocab.MECHANISMS),
        "worker": patient_word,
        **p,
    }
    openings = [
        "The {worker} is a {age} year old {sex} who sustained a work related injury {doi}.",
        "The {worker} is a {age}-year-old {sex}, who sustained an industrial injury on {doi}.",
        "This is a {age} year old {sex} injured worker with date of injury {doi} with related {region} pain.",
        "The {worker} is a {age} year old {sex} who suffered a work related injury on {doi}.",
        "This {age}-year-old {sex} {occupation} was injured on {doi} while {mechanism}.",
    ]
    opening = rng.choice(openings)
    sentences: list[Slot] = [fill(opening, slots)]
    if "{mechanism}" not in opening and rng.random() < 0.5:
        sentences.append(fill("{He} reported injuring {his} {region} while {mechanism}.", slots))

    dx = [mark(f"diagnoses.{i}", d) for i, d in enumerate(plan.diagnoses)]
    style = rng.random()
    if style < 0.35:
        sentences.append(
            fill(
                "The {worker} is currently diagnosed as having {dx}.",
                {**slots, "dx": _and_list(dx, rng.random() < 0.5)},
            )
        )
    elif style < 0.6:
        sentences.append(
            fill(
                "{He} was diagnosed with {dx}.", {**slots, "dx": _and_list(dx, rng.random() < 0.5)}
            )
        )
    elif style < 0.8:
        sentences.append(fill("Diagnoses: {dx}.", {"dx": join(dx, ", ")}))
    else:
        sentences.append(fill("Impression: {dx}.", {"dx": join(dx, "; ")}))

    if rng.random() < 0.6:
        done = rng.sample(vocab.TREATMENTS_TO_DATE, rng.randint(1, 4))
        sentences.append("Treatment to date has included " + _plain_list(done) + ".")
    visit = write_date(_before(plan, rng, 30, 90), any_style(rng))
    if rng.random() < 0.85:
        sentences.append(
            f"In a progress note dated {visit.text}, the {patient_word} presented with complaints of "
            f"{plan.region} pain."
        )
    if rng.random() < 0.5:
        with_meds = rng.randint(3, 7)
        sentences.append(
            f"{p['He']} rates {p['his']} pain {with_meds}/10 with medications and "
            f"{min(10, with_meds + rng.randint(2, 4))}/10 without medications."
        )
    if rng.random() < 0.5:
        sentences.append(f"Objective findings include {rng.choice(vocab.FINDINGS)}.")
    # As in sample 004, the summary may word a request differently from the decision
    # block ("#30 with 3 refills" against "#30 3 refills"); the decision block is gold.
    items = [_as_requested(it.written.text, rng) for it in plan.items]
    request = rng.choice(
        (
            "The treating physician requested authorization for {items}.",
            "The treatment plan included {items}.",
            "At issue is a request for {items}.",
        )
    )
    sentences.append(fill(request, {"items": _and_list(list(items), False)}))
    ur = plan.summary_ur
    if ur is not None:
        ur_key = "ur_denial_date" if "ur_denial_date" not in plan.cover else "summary_ur"
        what = "requests" if len(plan.items) > 1 else "request"
        form = rng.choice(
            (
                "On {ur}, the Claims Administrator non-certified the {what}.",
                "On {ur}, the Claims Administrator non-certified the {what}.",
                "The date of UR decision was {ur}.",
                "On {ur}, the Claims Administrator denied the {what}.",
                "Utilization review dated {ur} denied the {what}.",
            )
        )
        sentences.append(fill(form, {"ur": mark(ur_key, ur.text), "what": what}))
    if len(sentences) > 4 and rng.random() < 0.3:
        cut = rng.randint(2, len(sentences) - 1)
        return join([join(sentences[:cut], " "), join(sentences[cut:], " ")], "\n")
    return join(sentences, " ")


def _plain_list(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _as_requested(treatment: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        if m := re.search(r" with (\d+ refills?)$", treatment):
            return treatment[: m.start()] + " " + m[1]
        if m := re.search(r"(?<! with) (\d+ refills?)$", treatment):
            return treatment[: m.start()] + " with " + m[1]
    return treatment


def _before(plan: LetterPlan, rng: random.Random, lo: int, hi: int) -> date:
    return plan.decision_date - timedelta(days=rng.randint(lo, hi))


def _treatment(i: int, it: ItemPlan) -> Frag:
    w = it.written
    return mark(f"items.{i}.treatment", with_offsets(w.text, w.ranges, prefix=f"items.{i}."))


def _rationale(i: int, it: ItemPlan) -> Frag:
    parts: list[Slot] = []
    j = 0
    for s in it.sentences:
        if s.category is None:
            parts.append(s.text)
        else:
            parts.append(mark(f"items.{i}.reasons.{j}", s.text))
            j += 1
    return mark(f"items.{i}.rationale", join(parts, " "))


def _pages(i: int | None, pages: str) -> Slot:
    return mark(f"items.{i}.pages", pages) if i is not None else pages


def _standard_title(title: str) -> str:
    """Standard letters write "MTUS Chronic Pain Treatment Guidelines Opioids"."""
    return title.replace(
        "Chronic Pain Medical Treatment Guidelines, ", "Chronic Pain Treatment Guidelines "
    )


def _cite_standard(i: int | None, c: Citation, pages: str | None, rng: random.Random) -> Frag:
    if c.source in ("MTUS", "ACOEM"):
        title = _standard_title(c.title)
        if c.source == "MTUS" and title.startswith("Chronic Pain") and rng.random() < 0.15:
            title = "Chronic Pain Treatment Guidelines 8 C.C.R. 9792.20 - 9792.26 MTUS (Effective July 18, 2009)"
            if pages and " of " not in pages:
                pages = f"{pages} of 127"
        head = f"Decision based on MTUS {title}"
        if pages:
            sep = rng.choice((" Page(s): ", ", Page(s): ", " Page(s): "))
            return fill(
                "{head}{sep}{pages}.", {"head": head, "sep": sep, "pages": _pages(i, pages)}
            )
        return [head + "."]
    if c.source == "ODG":
        return [
            f"Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), {c.title}."
        ]
    return [f"Decision based on {c.title}."]


def _ca_standard(it: ItemPlan, rng: random.Random) -> str:
    c = it.ca_citation
    if c is None:
        return "The Claims Administrator did not cite any medical evidence for its decision."
    if c.source == "ODG" and rng.random() < 0.4:
        return (
            "The Claims Administrator did not base their decision on the MTUS. Decision based on "
            f"Non-MTUS Citation Official Disability Guidelines (ODG), {c.title}."
        )
    return plain(_cite_standard(None, c, it.ca_pages, rng))


# --- standard and standard_cover ----------------------------------------------------------


def _standard(plan: LetterPlan, doc: Doc, rng: random.Random) -> None:
    if plan.format == FORMAT_COVER:
        _cover(plan, doc, rng)
    pad = rng.choice(("", " "))
    doc.line(f"{pad}HOW THE IMR FINAL DETERMINATION WAS MADE{pad}")
    doc.line()
    if plan.reviewer.prose:
        doc.line(
            join(
                [
                    vocab.BOILERPLATE_1,
                    _reviewer_prose(plan, "The expert reviewer"),
                    vocab.BOILERPLATE_2,
                ],
                " ",
            )
        )
    else:
        doc.line(vocab.BOILERPLATE_1 + " " + vocab.BOILERPLATE_2)
    doc.line()
    if not plan.reviewer.prose:
        doc.line("The Expert Reviewer has the following credentials:")
        _reviewer_lines(plan, doc)
        doc.line()
    docs_first = rng.random() < 0.7
    if plan.later_headings and docs_first:
        _documents(doc, rng)
    doc.line("CLINICAL CASE SUMMARY")
    doc.line(vocab.SUMMARY_INTRO)
    doc.line()
    doc.line(mark("summary", _summary(plan, rng)))
    doc.line()
    if plan.later_headings and not docs_first:
        _documents(doc, rng)
    if plan.later_headings:
        doc.line("IMR DECISION(S) AND RATIONALE(S)")
    else:
        doc.line("IMR ISSUES, DECISIONS AND RATIONALES")
    doc.line(vocab.SET_FORTH)
    doc.line()
    for i, it in enumerate(plan.items):
        word = "Upheld" if it.decision == UPHELD else "Overturned"
        sp = rng.choice((" ", "  ", "  "))
        doc.add(Mark(f"items.{i}.span", True))
        doc.line(
            fill(
                "{t}:{sp}{d}",
                {"t": _treatment(i, it), "sp": sp, "d": mark(f"items.{i}.decision", word)},
            )
        )
        doc.line()
        doc.line(
            fill(
                "Claims Administrator guideline: {v}",
                {"v": mark(f"items.{i}.claims_administrator_guideline", _ca_standard(it, rng))},
            )
        )
        doc.line()
        mx = _cite_standard(i, it.citation, it.pages, rng)
        if it.second is not None:
            mx = join([mx, _cite_standard(None, it.second, None, rng)], " ")
        doc.line(fill("MAXIMUS guideline: {v}", {"v": mark(f"items.{i}.reviewer_guideline", mx)}))
        doc.line()
        doc.add(fill("Decision rationale: {v}", {"v": _rationale(i, it)}))
        doc.add(Mark(f"items.{i}.span", False))
        doc.line()
        doc.line()


def _documents(doc: Doc, rng: random.Random) -> None:
    doc.line("DOCUMENTS REVIEWED")
    for d in rng.sample(vocab.DOCUMENTS, rng.randint(2, 5)):
        doc.line(d)
    doc.line()


# --- notice_2013 --------------------------------------------------------------------------


def _cite_2013(i: int | None, c: Citation, pages: str | None, rng: random.Random) -> Frag:
    subject = rng.choice(
        ("The Expert Reviewer based his/her decision on", "The Expert Reviewer relied on")
    )
    if c.source in ("MTUS", "ACOEM"):
        if pages:
            pages = pages.split(" of ")[0]
            word = "page" if pages.isdigit() else "pages"
            return fill(
                "{s} the MTUS {t}, {w} {p}.",
                {"s": subject, "t": c.title, "w": word, "p": _pages(i, pages)},
            )
        return [f"{subject} the MTUS {c.title}."]
    if c.source == "ODG":
        tail = ", which is not part of the MTUS" if rng.random() < 0.15 else ""
        return [f"{subject} the Official Disability Guidelines (ODG), {c.title}{tail}."]
    return [f"{subject} {c.title.replace('Non-MTUS Citation ', '')}."]


def _ca_2013(it: ItemPlan) -> str:
    c = it.ca_citation
    if c is None:
        return "The Claims Administrator did not cite any evidence-based guidelines."
    if c.source in ("MTUS", "ACOEM"):
        return f"The Claims Administrator based its decision on the MTUS {c.title}."
    if c.source == "ODG":
        return f"The Claims Administrator based its decision on the Official Disability Guidelines (ODG), {c.title}."
    return f"The Claims Administrator based its decision on {c.title.replace('Non-MTUS Citation ', '')}."


def _notice_2013(plan: LetterPlan, doc: Doc, rng: random.Random) -> None:
    doc.line("MAXIMUS FEDERAL SERVICES, INC.")
    doc.line("Notice of Independent Medical Review Determination")
    doc.line()
    doc.line(fill("Dated: {d}", {"d": mark("decision_date", _value(plan.cover["decision_date"]))}))
    doc.line()
    doc.line(fill("IMR Case Number: {v}", {"v": mark("case_number", plan.case_number or "")}))
    if "date_of_injury" in plan.cover:
        doc.line(
            fill(
                "Date of Injury: {v}",
                {"v": mark("date_of_injury", _value(plan.cover["date_of_injury"]))},
            )
        )
    if "ur_denial_date" in plan.cover:
        doc.line(
            fill(
                "Date of UR Decision: {v}",
                {"v": mark("ur_denial_date", _value(plan.cover["ur_denial_date"]))},
            )
        )
    if "application_received" in plan.cover:
        doc.line(
            fill(
                "IMR Application Received: {v}",
                {"v": mark("application_received", _value(plan.cover["application_received"]))},
            )
        )
    doc.line()
    for i, it in enumerate(plan.items):
        verdict = (
            "is not medically necessary and appropriate"
            if it.decision == UPHELD
            else "is medically necessary and appropriate"
        )
        text = it.written.text
        article = ""
        if text[0].isdigit() or (text[0].islower() and rng.random() < 0.7):
            article = "a "
        elif rng.random() < 0.1:
            article = "the "
        doc.line(
            fill(
                "{n}) MAXIMUS Federal Services, Inc. has determined the request for {a}{t} {v}.",
                {
                    "n": str(i + 1),
                    "a": article,
                    "t": _treatment(i, it),
                    "v": mark(f"items.{i}.decision", verdict),
                },
            )
        )
    doc.line()
    doc.line("INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE")
    doc.line("Medical Qualifications of the Expert Reviewer:")
    if plan.reviewer.prose:
        doc.line(
            _reviewer_prose(
                plan,
                rng.choice(
                    ("The physician reviewer", "The expert reviewer who reviewed this case")
                ),
            )
        )
    else:
        _reviewer_lines(plan, doc)
    doc.line("Case Summary:")
    if rng.random() < 0.4:
        doc.line(vocab.SUMMARY_INTRO)
    summary = _summary(plan, rng, patient_word=rng.choice(("injured worker", "patient")))
    if rng.random() < 0.3:
        summary = join(
            [
                "The case summary below was taken from the utilization review determination and the records provided.",
                summary,
            ],
            " ",
        )
    doc.line(mark("summary", summary))
    doc.line()
    for i, it in enumerate(plan.items):
        doc.add(Mark(f"items.{i}.span", True))
        doc.line(f"{i + 1}) Regarding the request for {it.written.text}:")
        doc.line("Medical Treatment Guideline(s) Relied Upon by the Claims Administrator:")
        doc.line(mark(f"items.{i}.claims_administrator_guideline", _ca_2013(it)))
        doc.line("Medical Treatment Guideline(s) Relied Upon by the Expert Reviewer:")
        mx = _cite_2013(i, it.citation, it.pages, rng)
        if it.second is not None:
            mx = join([mx, _cite_2013(None, it.second, None, rng)], " ")
        doc.line(mark(f"items.{i}.reviewer_guideline", mx))
        doc.line("Rationale for the Decision:")
        doc.add(_rationale(i, it))
        doc.add(Mark(f"items.{i}.span", False))
        doc.line()
        doc.line()


# --- professional_review ------------------------------------------------------------------


def _cite_professional(i: int | None, c: Citation, pages: str | None, rng: random.Random) -> Frag:
    if c.source in ("MTUS", "ACOEM"):
        if pages:
            return fill("MTUS {t}. Page(s): {p}.", {"t": c.title, "p": _pages(i, pages)})
        return [f"MTUS {c.title}."]
    if c.source == "ODG":
        return [f"ODG {c.title}."]
    return [c.title.replace("Non-MTUS Citation ", "") + "."]


def _professional(plan: LetterPlan, doc: Doc, rng: random.Random) -> None:
    doc.line("MEDICAL PROFESSIONAL REVIEW")
    doc.line()
    if plan.cover:
        _cover(plan, doc, rng)
    numbered = len(plan.items) > 1 or rng.random() < 0.5
    doc.line("ISSUE AT DISPUTE:")
    for i, it in enumerate(plan.items):
        if it.decision == UPHELD:
            verdict = rng.choice(
                (
                    "is not medically necessary and appropriate",
                    "is not medically necessary and appropriate",
                    "was not medically necessary",
                    "is not medically necessary",
                )
            )
        else:
            verdict = rng.choice(
                (
                    "is medically necessary and appropriate",
                    "was medically necessary",
                    "is medically necessary",
                )
            )
        number = f"{i + 1}. " if numbered else ""
        doc.line(
            fill(
                "{n}{t} {v}.",
                {"n": number, "t": _treatment(i, it), "v": mark(f"items.{i}.decision", verdict)},
            )
        )
    doc.line()
    doc.line("CASE SUMMARY:")
    doc.line(mark("summary", _summary(plan, rng)))
    doc.line()
    for i, it in enumerate(plan.items):
        doc.add(Mark(f"items.{i}.span", True))
        if numbered:
            doc.line(f"{i + 1}. {it.written.text}")
        doc.line("MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:")
        mx = _cite_professional(i, it.citation, it.pages, rng)
        if it.second is not None:
            mx = join([mx, _cite_professional(None, it.second, None, rng)], " ")
        elif it.citation.source == "ODG" and rng.random() < 0.3:
            mx = join([mx, "The MTUS does not address this request, so the ODG was applied."], " ")
        doc.line(mark(f"items.{i}.reviewer_guideline", mx))
        neg = "NOT " if it.decision == UPHELD else ""
        doc.line(
            f"RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS {neg}MEDICALLY NECESSARY:"
        )
        doc.add(_rationale(i, it))
        doc.add(Mark(f"items.{i}.span", False))
        doc.line()
        doc.line()
    doc.line("MEDICAL REVIEWER QUALIFICATIONS:")
    if plan.reviewer.prose:
        doc.line(_reviewer_prose(plan, "The physician reviewer"))
    else:
        _reviewer_lines(plan, doc)
