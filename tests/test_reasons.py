"""Reason categories: sentences that must and must not be labelled, per category.

The sentences are written in the way reviewers phrase MTUS and ODG reasoning; the
"must not" ones state the opposite fact, negate the concept, recite the rule as a
condition, or talk about a neighbouring category.
"""

from __future__ import annotations

import pytest

from imr_assist.constants import OVERTURNED, OVERTURNED_REASONS, UPHELD, UPHELD_REASONS
from imr_assist.parse import parse_text
from imr_assist.parse.reasons import RULES, label_reasons, sentences
from imr_assist.text import normalize
from imr_synth import FORMATS, synth_letter


def categories(text: str, decision: str) -> set[str]:
    nt = normalize(text)
    return {r.category for r in label_reasons(nt, 0, len(nt.flat), decision)}


def decision_of(category: str) -> str:
    return OVERTURNED if category in OVERTURNED_REASONS else UPHELD


def case(category: str, sentence: str, name: str) -> object:
    return pytest.param(category, sentence, id=f"{category}-{name}")


SIGNALS = [
    # --- no_functional_improvement
    case(
        "no_functional_improvement",
        "The medical records fail to document any objective functional improvement with the "
        "use of Norco.",
        "fail-to-document",
    ),
    case(
        "no_functional_improvement",
        "There is no indication that the injured worker has returned to work.",
        "no-return-to-work",
    ),
    case(
        "no_functional_improvement",
        "The treating physician does not describe improvement in activities of daily living.",
        "adl",
    ),
    case(
        "no_functional_improvement",
        "Ongoing opioid management requires review of the 4 A's, which was not performed.",
        "four-as-not-performed",
    ),
    case(
        "no_functional_improvement",
        "Objective evidence of functional benefit from the prior six sessions of physical "
        "therapy was not provided.",
        "benefit-not-provided",
    ),
    case(
        "no_functional_improvement",
        "Despite months of treatment, the patient's function has not improved.",
        "function-not-improved",
    ),
    case(
        "no_functional_improvement",
        "The progress notes are silent as to any reduction in work restrictions.",
        "silent-as-to",
    ),
    # --- no_aberrant_behavior_monitoring
    case(
        "no_aberrant_behavior_monitoring",
        "There is no evidence of a recent urine drug screen.",
        "no-recent-uds",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "The file contains no signed opioid treatment agreement.",
        "no-agreement",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "A CURES report was not reviewed by the prescriber.",
        "cures-not-reviewed",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "The prescriber has not documented screening for aberrant drug-taking behavior.",
        "screening-not-documented",
    ),
    # --- exceeds_med_ceiling
    case(
        "exceeds_med_ceiling",
        "The combined morphine equivalent dose is 180 mg per day, which is above the "
        "recommended maximum of 120 mg.",
        "above-maximum",
    ),
    case(
        "exceeds_med_ceiling",
        "With the addition of OxyContin the daily MED would be well over the 120 mg limit.",
        "over-limit",
    ),
    # --- long_term_use_not_recommended
    case(
        "long_term_use_not_recommended",
        "Benzodiazepines are not recommended for use beyond 4 weeks.",
        "beyond-weeks",
    ),
    case(
        "long_term_use_not_recommended",
        "Chronic use of muscle relaxants is not supported by the guidelines.",
        "chronic-use",
    ),
    case(
        "long_term_use_not_recommended",
        "Soma has been prescribed since 2012, and guidelines limit its use to two to three weeks.",
        "limit-its-use",
    ),
    case(
        "long_term_use_not_recommended",
        "Zolpidem is indicated only for short-term treatment of insomnia, usually two to six "
        "weeks.",
        "short-term-only",
    ),
    # --- not_first_line
    case(
        "not_first_line",
        "Opioids are not a first-line treatment for chronic non-malignant pain.",
        "not-first-line",
    ),
    case(
        "not_first_line",
        "Lidoderm is indicated only after a trial of first-line therapy such as gabapentin has "
        "failed.",
        "only-after-failure",
    ),
    case(
        "not_first_line",
        "There is no documentation that the patient tried a tricyclic antidepressant or an "
        "anticonvulsant before this topical agent was requested.",
        "no-trial-before",
    ),
    case(
        "not_first_line",
        "Surgery is not indicated without a failed course of conservative care.",
        "conservative-care",
    ),
    # --- lowest_dose_shortest_period
    case(
        "lowest_dose_shortest_period",
        "NSAIDs should be used at the lowest effective dose for the shortest duration.",
        "lowest-effective",
    ),
    case(
        "lowest_dose_shortest_period",
        "The MTUS recommends the lowest dose for the shortest period in patients with moderate "
        "to severe pain.",
        "mtus-wording",
    ),
    # --- worsening_or_no_efficacy
    case("worsening_or_no_efficacy", "Pain has worsened despite the medication.", "worsened"),
    case(
        "worsening_or_no_efficacy",
        "The injured worker states that the medication is not helping.",
        "not-helping",
    ),
    case(
        "worsening_or_no_efficacy",
        "Her pain scores have increased from 5/10 to 8/10 over the last three visits.",
        "scores-increased",
    ),
    case(
        "worsening_or_no_efficacy",
        "Prior epidural injections provided only minimal and short-lived relief.",
        "minimal-relief",
    ),
    case(
        "worsening_or_no_efficacy",
        "The trigger point injections did not relieve the pain.",
        "did-not-relieve",
    ),
    # --- no_documented_indication
    case(
        "no_documented_indication",
        "The examination documents no muscle spasm.",
        "no-spasm",
    ),
    case(
        "no_documented_indication",
        "Radiculopathy has not been documented on physical examination.",
        "radiculopathy-not-documented",
    ),
    case(
        "no_documented_indication",
        "The records do not indicate that the patient suffers from insomnia.",
        "insomnia",
    ),
    case(
        "no_documented_indication",
        "There are no objective findings of nerve root compromise.",
        "no-findings",
    ),
    case(
        "no_documented_indication",
        "The injured worker has no gastrointestinal risk factors.",
        "no-risk-factors",
    ),
    case(
        "no_documented_indication",
        "The provider does not mention plantar fasciitis or any other foot condition.",
        "diagnosis-by-suffix",
    ),
    # --- exceeds_guideline_quantity
    case(
        "exceeds_guideline_quantity",
        "The request for 12 sessions exceeds the guideline recommendation of 6 visits.",
        "sessions",
    ),
    case(
        "exceeds_guideline_quantity",
        "The MTUS allows up to 10 visits; 24 visits would be in excess of that number.",
        "in-excess",
    ),
    case(
        "exceeds_guideline_quantity",
        "Ninety tablets is far more than the guidelines support for a short course.",
        "tablets",
    ),
    # --- not_a_weaning_request
    case(
        "not_a_weaning_request",
        "The request is for continuation of the current dose, not a taper.",
        "not-a-taper",
    ),
    case(
        "not_a_weaning_request",
        "No weaning plan has been proposed, and the request is for the same quantity as before.",
        "no-weaning-plan",
    ),
    case(
        "not_a_weaning_request",
        "Abrupt discontinuation is not advised, but the request maintains the full dose instead "
        "of tapering it.",
        "instead-of-tapering",
    ),
    # --- depends_on_denied_procedure
    case(
        "depends_on_denied_procedure",
        "Because the proposed operation has been deemed not medically necessary, the assistant "
        "surgeon is not needed either.",
        "operation-deemed",
    ),
    case(
        "depends_on_denied_procedure",
        "Given that the surgery was non-certified, the post-operative sling is not necessary.",
        "non-certified",
    ),
    # --- insufficient_documentation
    case(
        "insufficient_documentation",
        "The medical records submitted for review are incomplete.",
        "incomplete",
    ),
    case(
        "insufficient_documentation",
        "The request for authorization was not included in the records.",
        "rfa-missing",
    ),
    case(
        "insufficient_documentation",
        "There is insufficient information to determine medical necessity.",
        "insufficient-information",
    ),
    case(
        "insufficient_documentation",
        "The frequency and duration of the requested therapy were not specified.",
        "frequency-not-specified",
    ),
    case(
        "insufficient_documentation",
        "The records provided do not include the operative report.",
        "records-provided-do-not-include",
    ),
    # --- repeat_study: a study of the kind already done, as real rationales say it
    case(
        "repeat_study",
        "However it is not clear what the clinical indication is for repeat lumbar x-ray at "
        "this point.",
        "indication-for-repeat",
    ),
    case(
        "repeat_study",
        "It is unclear why the patient would require an additional electrodiagnostic study.",
        "require-additional",
    ),
    case(
        "repeat_study",
        "The patient received a lumbar x-ray previously, so the request is not established.",
        "received-previously",
    ),
    # --- request_unspecified: the request itself left out what was asked for
    case(
        "request_unspecified",
        "The request as submitted also failed to specify a body part for treatment.",
        "failed-to-specify-body-part",
    ),
    case(
        "request_unspecified",
        "The requested service did not specify the amount of gloves that are being recommended.",
        "did-not-specify-amount",
    ),
    # --- no_surgical_plan: imaging with no surgery it would guide
    case(
        "no_surgical_plan",
        "There was a lack of documentation indicating that the patient was a candidate for surgery.",
        "not-a-candidate",
    ),
    case("no_surgical_plan", "There was no plan for surgery.", "no-plan-for-surgery"),
    # --- documented_improvement
    case(
        "documented_improvement",
        "The records show that pain decreased from 8/10 to 4/10 with the medication.",
        "pain-decreased",
    ),
    case(
        "documented_improvement",
        "The injured worker has returned to full duty work.",
        "returned-to-work",
    ),
    case(
        "documented_improvement",
        "With Norco she is able to walk her dog and do housework.",
        "able-to",
    ),
    case(
        "documented_improvement",
        "Function has improved significantly with the current regimen.",
        "function-improved",
    ),
    # --- guideline_criteria_met
    case(
        "guideline_criteria_met",
        "All of the MTUS criteria for a functional restoration program have been met.",
        "criteria-met",
    ),
    case(
        "guideline_criteria_met",
        "The injured worker meets the ODG criteria for a repeat epidural injection.",
        "meets-criteria",
    ),
    case(
        "guideline_criteria_met",
        "This request is consistent with MTUS recommendations.",
        "consistent-with",
    ),
    case(
        "guideline_criteria_met",
        "The patient has failed six months of conservative care, and the MRI shows a "
        "herniation that matches the examination.",
        "failed-conservative",
    ),
    # --- neuropathic_indication
    case(
        "neuropathic_indication",
        "Gabapentin is indicated for neuropathic pain.",
        "indicated-for",
    ),
    case(
        "neuropathic_indication",
        "The patient has lancinating, paroxysmal neuropathic pain from radiculopathy.",
        "lancinating",
    ),
]

NOT_SIGNALS = [
    # --- no_functional_improvement: improvement is documented, or the negation is about
    # something else in the sentence.
    case(
        "no_functional_improvement",
        "There IS documentation of functional improvement with the current regimen.",
        "there-is-documentation",
    ),
    case(
        "no_functional_improvement",
        "The injured worker reports functional improvement with the medication, but there is "
        "no urine drug screen on file.",
        "negation-after-concept",
    ),
    case(
        "no_functional_improvement",
        "The patient has no side effects and her function has improved with Norco.",
        "no-side-effects",
    ),
    case(
        "no_functional_improvement",
        "She has returned to work without restrictions.",
        "without-after",
    ),
    # --- no_aberrant_behavior_monitoring: monitoring done, or only mentioned.
    case(
        "no_aberrant_behavior_monitoring",
        "Urine drug screens have been consistent with the prescribed medications.",
        "consistent-uds",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "There is no evidence of aberrant behavior on the urine drug screens.",
        "no-aberrant-on-uds",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "The request is for a urine drug screen.",
        "request-is-a-uds",
    ),
    case(
        "no_aberrant_behavior_monitoring",
        "Medical necessity of the requested random urine drug screen has not been established.",
        "conclusion-about-request",
    ),
    # --- exceeds_med_ceiling
    case(
        "exceeds_med_ceiling",
        "The morphine equivalent dose is 60 mg, well below the 120 mg ceiling.",
        "below",
    ),
    case(
        "exceeds_med_ceiling",
        "The total MED does not exceed 120 mg per day.",
        "does-not-exceed",
    ),
    case(
        "exceeds_med_ceiling",
        "The total MED is 90 mg per day.",
        "total-only",
    ),
    # --- long_term_use_not_recommended
    case(
        "long_term_use_not_recommended",
        "A short course of a muscle relaxant is reasonable for an acute flare.",
        "short-course-reasonable",
    ),
    case(
        "long_term_use_not_recommended",
        "A supply of 90 tablets would last well beyond the 4 weeks the guidelines allow.",
        "supply-is-quantity",
    ),
    # --- not_first_line
    case(
        "not_first_line",
        "Gabapentin is a first-line option for neuropathic pain.",
        "is-first-line",
    ),
    case(
        "not_first_line",
        "The patient has tried physical therapy with good results.",
        "tried-pt",
    ),
    case(
        "not_first_line",
        "The records do not show that the completed cognitive behavioral therapy reduced work "
        "restrictions.",
        "behavioral-is-not-oral",
    ),
    # --- lowest_dose_shortest_period
    case(
        "lowest_dose_shortest_period",
        "She takes the lowest available dose of Relafen.",
        "lowest-alone",
    ),
    # --- worsening_or_no_efficacy
    case("worsening_or_no_efficacy", "There was no increase in pain.", "no-increase"),
    case("worsening_or_no_efficacy", "The pain has not worsened.", "not-worsened"),
    case(
        "worsening_or_no_efficacy",
        "She reports significant relief with the medication.",
        "relief",
    ),
    case(
        "worsening_or_no_efficacy",
        "The program notes show no measurable improvement in physical capacity or function.",
        "improvement-in-function-is-nfi",
    ),
    # --- no_documented_indication
    case(
        "no_documented_indication",
        "Muscle spasm is documented on examination.",
        "spasm-documented",
    ),
    case(
        "no_documented_indication",
        "There is documentation of radicular pain in an L5 distribution.",
        "radicular-documented",
    ),
    case(
        "no_documented_indication",
        "The injured worker reports no side effects from the medication.",
        "side-effects",
    ),
    case(
        "no_documented_indication",
        "There are no contraindications to the requested injection.",
        "contraindications",
    ),
    case(
        "no_documented_indication",
        "No CURES report or signed opioid agreement is documented.",
        "signed-is-not-signs",
    ),
    case(
        "no_documented_indication",
        "The injured worker reports no change in her neuropathic symptoms on Lyrica.",
        "no-change-on-drug",
    ),
    case(
        "no_documented_indication",
        "The most recent report does not describe the current condition.",
        "current-condition-is-a-record",
    ),
    # --- exceeds_guideline_quantity
    case(
        "exceeds_guideline_quantity",
        "The requested 6 sessions are within the guideline recommendation.",
        "within",
    ),
    case(
        "exceeds_guideline_quantity",
        "The number of visits requested does not exceed the guideline limit.",
        "does-not-exceed",
    ),
    case(
        "exceeds_guideline_quantity",
        "The addition of Norco exceeds the recommended ceiling of morphine equivalent dosage.",
        "med-ceiling",
    ),
    # --- depends_on_denied_procedure
    case(
        "depends_on_denied_procedure",
        "The surgery is not medically necessary because conservative care has not been tried.",
        "the-surgery-itself",
    ),
    case(
        "depends_on_denied_procedure",
        "As the requested surgical intervention is medically necessary, the post-operative "
        "physical therapy is also medically necessary.",
        "surgery-approved",
    ),
    # --- not_a_weaning_request
    case(
        "not_a_weaning_request",
        "A weaning schedule was proposed by the treating physician.",
        "weaning-proposed",
    ),
    case(
        "not_a_weaning_request",
        "The treating physician has started to taper Norco, and the request reflects the "
        "reduced dose.",
        "taper-started",
    ),
    # --- insufficient_documentation
    case(
        "insufficient_documentation",
        "The records provided for review include detailed progress notes.",
        "records-complete",
    ),
    case(
        "insufficient_documentation",
        "The documentation clearly states the rationale for the request.",
        "rationale-stated",
    ),
    case(
        "insufficient_documentation",
        "In the absence of such documentation, the request is not medically necessary.",
        "conclusion",
    ),
    case(
        "insufficient_documentation",
        "The medical records provided do not document muscle spasm.",
        "missing-finding-is-indication",
    ),
    # --- documented_improvement: required, conditional or negated.
    case(
        "documented_improvement",
        "Continued use requires documentation of functional improvement.",
        "requires",
    ),
    case(
        "documented_improvement",
        "There is no documentation of improved function with Norco.",
        "negated",
    ),
    case(
        "documented_improvement",
        "Opioids should be discontinued if there is no overall improvement in function.",
        "conditional",
    ),
    case(
        "documented_improvement",
        "Opioids may be continued if the patient has returned to work.",
        "if-returned",
    ),
    # --- guideline_criteria_met
    case(
        "guideline_criteria_met",
        "The criteria for a functional restoration program have not been met.",
        "not-met",
    ),
    case(
        "guideline_criteria_met",
        "Treatment may be supported if the criteria are met.",
        "conditional",
    ),
    case(
        "guideline_criteria_met",
        "The request is not supported by the guidelines.",
        "not-supported",
    ),
    # --- neuropathic_indication
    case(
        "neuropathic_indication",
        "There is no evidence of neuropathic pain.",
        "no-evidence",
    ),
    case(
        "neuropathic_indication",
        "Antidepressants are a possibility for non-neuropathic pain.",
        "non-neuropathic",
    ),
    # --- repeat_study: a guideline on repeats, or a repeat not done, is no finding
    case(
        "repeat_study",
        "These Guidelines also encourage that repeat advanced imaging should be limited to "
        "those with newly worsened or changed signs and symptoms.",
        "guideline-on-repeats",
    ),
    case("repeat_study", "Repeat x-rays were not performed.", "repeat-not-done"),
    # --- request_unspecified: the records, not the request, lacked something
    case(
        "request_unspecified",
        "The documentation submitted for review failed to provide evidence of red flag findings.",
        "records-failed-to-provide",
    ),
    # --- no_surgical_plan: the guideline's criterion quoted, not applied
    case(
        "no_surgical_plan",
        "Imaging is warranted in patients who do not respond to treatment and would consider "
        "surgery an option.",
        "criterion-quoted",
    ),
]


@pytest.mark.parametrize(("category", "sentence"), SIGNALS)
def test_sentence_signals_its_category(category: str, sentence: str) -> None:
    assert category in categories(sentence, decision_of(category))


@pytest.mark.parametrize(("category", "sentence"), NOT_SIGNALS)
def test_sentence_does_not_signal_the_category(category: str, sentence: str) -> None:
    assert category not in categories(sentence, decision_of(category))


def test_every_category_has_cases_both_ways() -> None:
    for table in (SIGNALS, NOT_SIGNALS):
        covered = {p.values[0] for p in table}  # type: ignore[attr-defined]
        assert covered == set(RULES)


def test_only_the_decisions_own_categories_are_tried() -> None:
    text = "There is no documentation of functional improvement on Norco."
    assert "no_functional_improvement" in categories(text, UPHELD)
    assert categories(text, OVERTURNED) == set()
    assert categories("Function has improved with Norco.", UPHELD) <= set(UPHELD_REASONS)


def test_a_rule_stated_as_a_condition_is_not_a_finding() -> None:
    # Guideline wording that an uphold rationale recites before its own findings.
    rule = "Opioids are discontinued if there is no documentation of functional improvement."
    assert "no_functional_improvement" not in categories(rule, UPHELD)
    finding = "There is no documentation of functional improvement, so opioids are discontinued."
    assert "no_functional_improvement" in categories(finding, UPHELD)


def test_reason_quotes_the_whole_sentence_and_is_grounded() -> None:
    text = (
        "Norco is an opioid. There is no documentation of a recent urine drug screen. "
        "The request exceeds the guideline number of visits."
    )
    nt = normalize(text)
    reasons = label_reasons(nt, 0, len(nt.flat), UPHELD)
    assert [r.category for r in reasons] == [
        "no_aberrant_behavior_monitoring",
        "exceeds_guideline_quantity",
    ]
    for r in reasons:
        assert text[r.start : r.end] == r.quote
    assert reasons[0].quote == "There is no documentation of a recent urine drug screen."


def test_a_clause_break_stops_the_negation() -> None:
    text = "There is no spasm on examination, but her function has improved with therapy."
    assert "no_functional_improvement" not in categories(text, UPHELD)
    assert "no_documented_indication" in categories(text, UPHELD)


def test_sentences_split_fused_text() -> None:
    nt = normalize("First point.According to the MTUS, e.g. this, applies. Last one")
    assert [nt.flat[a:b] for a, b in sentences(nt, 0, len(nt.flat))] == [
        "First point.",
        "According to the MTUS, e.g. this, applies.",
        "Last one",
    ]


def test_generated_letters_agree_with_their_gold() -> None:
    """Micro precision and recall of the item categories on generated letters."""
    formats = list(FORMATS)
    hits = extra = missed = 0
    for i in range(150):
        made = synth_letter(i, 47_000 + i, formats[i % len(formats)], 0.3)
        got = parse_text(made.gold.text, source=made.name)
        for g, p in zip(made.gold.items, got.items, strict=True):
            want, have = set(g.reason_categories), set(p.reason_categories)
            hits += len(want & have)
            extra += len(have - want)
            missed += len(want - have)
    assert hits / (hits + extra) >= 0.97
    assert hits / (hits + missed) >= 0.95
