"""The words synthetic letters are made of: reasons, rationale filler, summaries, reviewers.

Reason sentences are written per category of the taxonomy in DOMAIN.md ("Why
reviewers decide as they do"), in the reviewer's voice, from what the MTUS and
ODG ask of each kind of treatment. Each category has general phrasings and
phrasings for the families where the clinical meaning is specific (a muscle
relaxant lacks documented spasm; a proton pump inhibitor lacks GI risk factors).
Which categories fit which treatment is decided here too: a morphine-equivalent
ceiling applies to opioids only, the lowest-dose rule to NSAIDs, urine drug
screens and CURES to opioids.

Neutral sentences (what the drug is, what the guideline covers, the visit
history, the closing decision) carry no reason; they surround the reason
sentences as they do in real rationales.

Sentences are templates over a context of fields (``{name}``, ``{He}``,
``{units}``...); each one is a single sentence with no abbreviation periods, so its
boundaries are unambiguous.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from imr_assist.parse.lexicon import LexiconEntry

Weights = tuple[tuple[str, float], ...]

# --- which categories fit which treatment ------------------------------------------------

UPHELD_WEIGHTS: dict[str, Weights] = {
    "opioid": (
        ("no_functional_improvement", 5), ("no_aberrant_behavior_monitoring", 3),
        ("exceeds_med_ceiling", 1.5), ("long_term_use_not_recommended", 2),
        ("not_first_line", 1.5), ("worsening_or_no_efficacy", 1.5),
        ("not_a_weaning_request", 2), ("insufficient_documentation", 1.5),
    ),
    "relaxant": (
        ("long_term_use_not_recommended", 5), ("not_first_line", 3),
        ("no_documented_indication", 3), ("no_functional_improvement", 1.5),
        ("worsening_or_no_efficacy", 1), ("not_a_weaning_request", 1),
        ("insufficient_documentation", 1),
    ),
    "nsaid": (
        ("lowest_dose_shortest_period", 4), ("long_term_use_not_recommended", 2),
        ("no_documented_indication", 2), ("no_functional_improvement", 2),
        ("worsening_or_no_efficacy", 1), ("insufficient_documentation", 1),
    ),
    "anticonvulsant": (
        ("no_documented_indication", 3), ("no_functional_improvement", 3),
        ("worsening_or_no_efficacy", 3), ("insufficient_documentation", 1.5),
    ),
    "antidepressant": (
        ("no_functional_improvement", 2), ("worsening_or_no_efficacy", 2),
        ("no_documented_indication", 2), ("not_first_line", 2),
        ("insufficient_documentation", 1.5),
    ),
    "benzodiazepine": (
        ("long_term_use_not_recommended", 5), ("not_a_weaning_request", 3),
        ("no_documented_indication", 1.5), ("exceeds_guideline_quantity", 2),
        ("not_first_line", 1.5), ("insufficient_documentation", 1),
    ),
    "sleep": (
        ("long_term_use_not_recommended", 4), ("no_documented_indication", 3),
        ("exceeds_guideline_quantity", 2), ("worsening_or_no_efficacy", 1),
        ("insufficient_documentation", 1),
    ),
    "topical": (
        ("not_first_line", 4), ("no_documented_indication", 3),
        ("no_functional_improvement", 2), ("worsening_or_no_efficacy", 1),
        ("insufficient_documentation", 1.5),
    ),
    "gastro": (
        ("no_documented_indication", 5), ("long_term_use_not_recommended", 1.5),
        ("insufficient_documentation", 1.5),
    ),
    "adjuvant": (
        ("no_documented_indication", 5), ("insufficient_documentation", 2),
        ("worsening_or_no_efficacy", 1), ("long_term_use_not_recommended", 1.5),
        ("not_a_weaning_request", 1),
    ),
    "therapy": (
        ("exceeds_guideline_quantity", 4), ("no_functional_improvement", 4),
        ("worsening_or_no_efficacy", 1.5), ("no_documented_indication", 1.5),
        ("insufficient_documentation", 2),
    ),
    "restoration": (
        ("exceeds_guideline_quantity", 2), ("no_functional_improvement", 3),
        ("no_documented_indication", 2), ("insufficient_documentation", 2),
    ),
    "diagnostic": (
        ("no_documented_indication", 6), ("exceeds_guideline_quantity", 1),
        ("insufficient_documentation", 2),
    ),
    "injection": (
        ("no_documented_indication", 3), ("no_functional_improvement", 2),
        ("worsening_or_no_efficacy", 1.5), ("not_first_line", 2),
        ("exceeds_guideline_quantity", 1), ("insufficient_documentation", 1.5),
    ),
    "surgery": (
        ("no_documented_indication", 3), ("not_first_line", 3),
        ("insufficient_documentation", 2),
    ),
    "consult": (
        ("no_documented_indication", 3), ("insufficient_documentation", 3),
        ("exceeds_guideline_quantity", 1),
    ),
    "behavioral": (
        ("exceeds_guideline_quantity", 3), ("no_functional_improvement", 3),
        ("no_documented_indication", 1.5), ("worsening_or_no_efficacy", 1),
        ("insufficient_documentation", 2),
    ),
    "equipment": (
        ("no_documented_indication", 3), ("exceeds_guideline_quantity", 2),
        ("not_first_line", 2), ("no_functional_improvement", 2),
        ("worsening_or_no_efficacy", 1), ("insufficient_documentation", 1.5),
    ),
    "care": (
        ("no_documented_indication", 4), ("exceeds_guideline_quantity", 2),
        ("insufficient_documentation", 2),
    ),
}  # fmt: skip

OVERTURNED_WEIGHTS: dict[str, Weights] = {
    "opioid": (("documented_improvement", 5), ("guideline_criteria_met", 2)),
    "relaxant": (("guideline_criteria_met", 3), ("documented_improvement", 2), ("neuropathic_indication", 2)),
    "nsaid": (("guideline_criteria_met", 3), ("documented_improvement", 3)),
    "anticonvulsant": (("neuropathic_indication", 5), ("documented_improvement", 3), ("guideline_criteria_met", 2)),
    "antidepressant": (("neuropathic_indication", 4), ("guideline_criteria_met", 3), ("documented_improvement", 3)),
    "benzodiazepine": (("guideline_criteria_met", 1),),
    "sleep": (("guideline_criteria_met", 2), ("documented_improvement", 1)),
    "topical": (("neuropathic_indication", 3), ("guideline_criteria_met", 3), ("documented_improvement", 2)),
    "gastro": (("guideline_criteria_met", 1),),
    "adjuvant": (("guideline_criteria_met", 2), ("documented_improvement", 0.5)),
    "therapy": (("documented_improvement", 3), ("guideline_criteria_met", 3)),
    "restoration": (("guideline_criteria_met", 3), ("documented_improvement", 1)),
    "diagnostic": (("guideline_criteria_met", 1),),
    "injection": (("guideline_criteria_met", 3), ("documented_improvement", 2)),
    "surgery": (("guideline_criteria_met", 1),),
    "consult": (("guideline_criteria_met", 1),),
    "behavioral": (("guideline_criteria_met", 3), ("documented_improvement", 2)),
    "equipment": (("guideline_criteria_met", 2), ("documented_improvement", 1)),
    "care": (("guideline_criteria_met", 1),),
}  # fmt: skip

# Categories that fit only some drugs, by lexicon class or generic.
ONLY_CLASSES: dict[str, frozenset[str]] = {
    "exceeds_med_ceiling": frozenset({"opioid"}),
    "no_aberrant_behavior_monitoring": frozenset({"opioid"}),
    "lowest_dose_shortest_period": frozenset({"NSAID"}),
    "long_term_use_not_recommended": frozenset(
        {
            "opioid", "muscle relaxant", "antispasticity agent", "NSAID", "benzodiazepine",
            "sleep aid", "proton pump inhibitor", "H2 blocker", "corticosteroid",
            "barbiturate-containing analgesic",
        }
    ),
    "not_a_weaning_request": frozenset(
        {"opioid", "benzodiazepine", "barbiturate-containing analgesic", "muscle relaxant", "antispasticity agent"}
    ),
}  # fmt: skip
ONLY_GENERICS: dict[str, dict[str, frozenset[str]]] = {
    # relaxants: only those with a withdrawal syndrome call for a taper
    "not_a_weaning_request": {
        "muscle relaxant": frozenset({"carisoprodol"}),
        "antispasticity agent": frozenset({"baclofen", "tizanidine"}),
    },
    "neuropathic_indication": {
        "antidepressant": frozenset({"amitriptyline", "nortriptyline", "duloxetine", "venlafaxine", "milnacipran"}),
        "antispasticity agent": frozenset({"baclofen"}),
        "muscle relaxant": frozenset(),
        "topical analgesic": frozenset({"lidocaine patch", "lidocaine", "capsaicin"}),
    },
    # tricyclics and SNRIs are the first-line antidepressants for pain
    "not_first_line": {
        "antidepressant": frozenset({"sertraline", "fluoxetine", "escitalopram", "citalopram", "paroxetine", "bupropion", "trazodone", "mirtazapine"}),
    },
    "worsening_or_no_efficacy": {
        "antiemetic": frozenset(), "laxative": frozenset(), "anticoagulant": frozenset(),
        "antibiotic": frozenset(), "opioid antagonist": frozenset(), "medical food": frozenset(),
        "antihistamine": frozenset(),
        "erectile dysfunction agent": frozenset(), "wakefulness agent": frozenset(),
    },
}  # fmt: skip
# Services: the canonicals each restricted category fits.
ONLY_SERVICES: dict[str, frozenset[str]] = {
    "exceeds_guideline_quantity": frozenset(
        {
            "Physical therapy", "Occupational therapy", "Aquatic therapy", "Chiropractic manipulation",
            "Acupuncture", "Massage therapy", "Extracorporeal shockwave therapy",
            "Functional restoration program", "Work conditioning", "Urine drug screen",
            "Trigger point injection", "Hyaluronic acid injection", "Sympathetic nerve block",
            "Prolotherapy", "Epidural steroid injection", "Office visit", "Inpatient stay",
            "Skilled nursing facility", "Home health care", "Psychotherapy",
            "Cognitive behavioral therapy", "Biofeedback", "Hypnotherapy", "TENS unit",
            "Cold therapy unit", "Continuous passive motion device", "Pneumatic compression device",
        }
    ),
    "no_functional_improvement": frozenset(
        {
            "Physical therapy", "Occupational therapy", "Aquatic therapy", "Chiropractic manipulation",
            "Acupuncture", "Massage therapy", "Functional restoration program", "Work conditioning",
            "Psychotherapy", "Cognitive behavioral therapy", "Biofeedback", "Hypnotherapy",
            "Epidural steroid injection", "Facet injection", "Trigger point injection",
            "Radiofrequency ablation", "Hyaluronic acid injection", "Sympathetic nerve block",
            "Occipital nerve block", "Botulinum toxin injection", "TENS unit", "H-wave unit",
            "Interferential unit",
        }
    ),
    "documented_improvement": frozenset(
        {
            "Physical therapy", "Occupational therapy", "Aquatic therapy", "Chiropractic manipulation",
            "Acupuncture", "Massage therapy", "Functional restoration program", "Work conditioning",
            "Psychotherapy", "Cognitive behavioral therapy", "Biofeedback", "Hypnotherapy",
            "Epidural steroid injection", "Facet injection", "Trigger point injection",
            "Radiofrequency ablation", "Hyaluronic acid injection", "Sympathetic nerve block",
            "Occipital nerve block", "Botulinum toxin injection", "TENS unit", "H-wave unit",
            "Interferential unit",
        }
    ),
    "worsening_or_no_efficacy": frozenset(
        {
            "Physical therapy", "Occupational therapy", "Aquatic therapy", "Chiropractic manipulation",
            "Acupuncture", "Massage therapy", "Psychotherapy", "Cognitive behavioral therapy",
            "Biofeedback", "Epidural steroid injection", "Facet injection", "Trigger point injection",
            "Radiofrequency ablation", "Hyaluronic acid injection", "Sympathetic nerve block",
            "Occipital nerve block", "Botulinum toxin injection", "TENS unit",
        }
    ),
    "not_first_line": frozenset(
        {
            "H-wave unit", "Interferential unit", "Spinal cord stimulator", "Intrathecal pump",
            "Radiofrequency ablation", "Epidural steroid injection", "Facet injection",
            "Medial branch block", "Sacroiliac joint injection", "Hyaluronic acid injection",
            "Platelet-rich plasma injection", "Botulinum toxin injection", "Prolotherapy",
            "Corticosteroid injection", "Spinal fusion", "Anterior cervical discectomy and fusion",
            "Discectomy", "Laminectomy", "Artificial disc replacement", "Kyphoplasty", "Arthroscopy",
            "Subacromial decompression", "Rotator cuff repair", "Meniscectomy", "ACL reconstruction",
            "Total knee arthroplasty", "Total hip arthroplasty", "Shoulder arthroplasty",
            "Carpal tunnel release", "Cubital tunnel release", "Trigger finger release",
            "De Quervain's release", "Manipulation under anesthesia", "Bariatric surgery",
        }
    ),
}  # fmt: skip

# Quantity reasons that need a number to talk about.
NEEDS_UNITS = frozenset({"exceeds_guideline_quantity"})


def fits(category: str, entry: LexiconEntry, units: int | None) -> bool:
    """Whether a reason category makes clinical sense for this treatment."""
    cls = entry.drug_class or ""
    if entry.kind == "service":
        allowed = ONLY_SERVICES.get(category)
        if allowed is not None and entry.canonical not in allowed:
            return False
        if category in ONLY_CLASSES:
            return False
    else:
        if category in ONLY_CLASSES and cls not in ONLY_CLASSES[category]:
            return False
        by_generic = ONLY_GENERICS.get(category, {})
        if cls in by_generic and (entry.generic or "") not in by_generic[cls]:
            return False
    if category in NEEDS_UNITS and entry.kind == "drug" and units is None:
        return False
    return True


# --- reason sentences --------------------------------------------------------------------

# Keyed by (category, generic), (category, lexicon class) or (category, family); the
# "drug" and "service" wording is used when nothing more specific exists, and "any"
# wording fits every treatment.
REASONS: dict[tuple[str, str], tuple[str, ...]] = {
    # no_functional_improvement
    ("no_functional_improvement", "drug"): (
        "There is no documentation of objective functional improvement with {name}, such as a greater ability to perform activities of daily living or a reduction in work restrictions.",
        "The records do not quantify the benefit of {name} or describe specific functional gains attributable to it.",
        "Despite continued use of {name}, the progress reports describe no measurable improvement in function.",
        "The injured worker remains off work, and the notes do not show that {name} has improved {his} ability to carry out daily activities.",
        "No specific functional benefit from {name} has been recorded in the recent progress reports.",
    ),
    ("no_functional_improvement", "opioid"): (
        "The progress reports do not address the 4 A's of ongoing opioid management, namely analgesia, activities of daily living, adverse side effects and aberrant drug-taking behaviors.",
        "There is no documentation of pain relief with {name} measured against a baseline, and no description of improved function.",
        "The records do not show that the injured worker has returned to work or gained the ability to perform more activities while taking {name}.",
        "Ongoing opioid therapy requires documented improvement in pain and function, and neither is shown for {name} in the submitted records.",
        "The notes repeat the same pain complaints at each visit without any objective measure of how {name} has changed the injured worker's function.",
    ),
    ("no_functional_improvement", "service"): (
        "The prior {service} sessions have not produced documented objective functional improvement.",
        "The records do not show that the completed {service} reduced work restrictions or the need for ongoing medical care.",
        "There is no evidence of a return to work or of greater tolerance for activity after the previous course of {service}.",
        "Functional gains from the treatment already given are not documented, so continuing {service} is not supported.",
    ),
    ("no_functional_improvement", "injection"): (
        "There is no documentation of at least 50% pain relief lasting six to eight weeks after the previous injection, with a matching reduction in medication use.",
        "The records do not show objective functional improvement or reduced medication use after the prior {service}.",
        "After the last injection the injured worker's function and medication use were unchanged, according to the progress notes.",
    ),
    ("no_functional_improvement", "restoration"): (
        "The reports from the first two weeks of the program do not show objective functional gains.",
        "The program notes describe attendance but no measurable improvement in physical capacity or function.",
        "There is no documentation that the injured worker made functional progress during the sessions already completed.",
    ),
    # no_aberrant_behavior_monitoring
    ("no_aberrant_behavior_monitoring", "opioid"): (
        "There is no urine drug screen in the records to confirm compliance with the prescribed regimen.",
        "No CURES report or signed opioid agreement is documented.",
        "The records contain no evidence of monitoring for aberrant drug-related behavior, such as a recent urine drug test or a pain contract.",
        "Compliance monitoring has not been documented, and the file holds neither a urine toxicology result nor a check of the state prescription database.",
        "Efforts to rule out aberrant behavior, including urine drug testing and review of the CURES database, are not documented.",
    ),
    # exceeds_med_ceiling
    ("exceeds_med_ceiling", "opioid"): (
        "The current opioid regimen totals approximately {med} mg of morphine equivalents per day, which is above the 120 mg daily ceiling recommended by the MTUS.",
        "With {name} added to the existing regimen, the daily morphine equivalent dose would reach {med}, exceeding the recommended limit of 120.",
        "The cumulative morphine equivalent dosage of {med} per day exceeds the 120 MED threshold set out in the guidelines.",
        "The guidelines recommend that the total daily dose not exceed 120 mg of oral morphine equivalents, and this regimen reaches {med} mg.",
    ),
    # long_term_use_not_recommended
    ("long_term_use_not_recommended", "drug"): (
        "{Name} is intended for short-term use, and the records show it has been taken for {months} months.",
        "Long-term use of {noun} is not supported by the guidelines.",
        "{Name} has been prescribed continuously for {months} months, well beyond the period the guidelines support.",
    ),
    ("long_term_use_not_recommended", "opioid"): (
        "The guidelines do not support the long-term use of opioids because of the development of tolerance and habituation.",
        "The injured worker has taken {name} for more than {years} years, and long-term opioid therapy for chronic non-malignant pain is not recommended.",
        "Chronic opioid use carries a risk of dependence and hyperalgesia that grows with the length of treatment, and this regimen has continued for years.",
    ),
    ("long_term_use_not_recommended", "relaxant"): (
        "Muscle relaxants are intended for short courses of two to three weeks, yet {name} has been prescribed for {months} months.",
        "The efficacy of muscle relaxants diminishes over time, and prolonged use may lead to dependence.",
        "{Name} has been taken daily for {months} months, whereas the guidelines support only brief courses.",
        "Long-term use of {name} is not recommended, and the medication has been in use well beyond a short course.",
    ),
    ("long_term_use_not_recommended", "benzodiazepine"): (
        "Benzodiazepines are not recommended for long-term use because efficacy is unproven and dependence is likely, and most guidelines limit use to 4 weeks.",
        "The injured worker has used {name} for {months} months, far longer than the 4 week limit in the guidelines.",
        "Tolerance to the anxiolytic effect of benzodiazepines develops within months, and long-term use is not supported.",
    ),
    ("long_term_use_not_recommended", "sleep"): (
        "{Name} is approved for the short-term treatment of insomnia, generally two to six weeks, and chronic nightly use is not recommended.",
        "The injured worker has taken {name} nightly for {months} months, although sleep medications are recommended only for short-term use.",
        "Hypnotics can be habit-forming, and their use beyond a few weeks is not supported by the guidelines.",
    ),
    ("long_term_use_not_recommended", "nsaid"): (
        "Long-term NSAID use raises the risk of gastrointestinal, renal and cardiovascular adverse effects, and continued daily use for {months} months is not supported.",
        "The guidelines do not recommend NSAIDs for long-term use in chronic back pain.",
        "{Name} has been taken for {months} months, and prolonged NSAID therapy is not recommended.",
    ),
    ("long_term_use_not_recommended", "gastro"): (
        "Proton pump inhibitor therapy continued beyond a year is associated with an increased risk of hip fracture, and the injured worker has taken {name} for {months} months.",
        "Long-term use of {name} is not recommended without a reassessment of the need for it.",
    ),
    ("long_term_use_not_recommended", "adjuvant"): (
        "{Name} is meant for short courses, and the records show continuous use for {months} months.",
        "Prolonged use of {name} is not supported because of the risk of dependence and rebound symptoms.",
    ),
    # not_first_line
    ("not_first_line", "drug"): (
        "{Name} is not a first-line treatment for this condition.",
        "The guidelines reserve {name} for patients who have failed first-line options, and no such trial is documented.",
    ),
    ("not_first_line", "opioid"): (
        "Opioids are not a first-line treatment for chronic non-malignant pain, and there is no documentation that non-opioid analgesics were tried first.",
        "{Name} is not recommended as a first-line oral analgesic.",
        "The records do not show a trial of first-line medications such as acetaminophen, NSAIDs or antidepressants before {name} was started.",
    ),
    ("not_first_line", "relaxant"): (
        "The guidelines recommend non-sedating muscle relaxants with caution only as a second-line option for acute exacerbations of chronic low back pain.",
        "Muscle relaxants are a second-line option, and the records do not show that first-line measures were tried.",
        "{Name} is recommended only as a second-line agent, after NSAIDs and active therapy.",
    ),
    ("not_first_line", "topical"): (
        "Topical analgesics are largely experimental and are recommended for neuropathic pain only after trials of antidepressants and anticonvulsants have failed, which is not documented here.",
        "There is no evidence that first-line oral medications were tried and failed before {name} was requested.",
    ),
    ("not_first_line", "lidocaine patch"): (
        "Topical lidocaine is considered only after a trial of first-line therapy with a tricyclic, an SNRI or an antiepilepsy drug, and no such trial is recorded.",
        "{Name} is a second-line option for localized neuropathic pain, and the records show no trial of first-line medications.",
    ),
    ("not_first_line", "antidepressant"): (
        "{Name} is not a first-line antidepressant for chronic pain, and there is no record of a trial of a tricyclic.",
        "Tricyclic antidepressants remain the first-line choice for chronic pain, and {name} is recommended only when they have failed or are not tolerated.",
    ),
    ("not_first_line", "benzodiazepine"): (
        "For anxiety in the setting of chronic pain, an antidepressant is the preferred treatment rather than a benzodiazepine.",
        "A benzodiazepine is not the first choice for this anxiety disorder, and no trial of an antidepressant is documented.",
    ),
    ("not_first_line", "equipment"): (
        "{Name} is considered only after a documented failure of conservative care, including a TENS unit, physical therapy and medications, and no such failure is documented.",
        "{Name} is not recommended as an isolated intervention and is considered only when other treatments have not controlled the pain.",
    ),
    ("not_first_line", "injection"): (
        "{Service} is reserved for pain that has not responded to conservative treatment such as exercise, physical methods and medications, and such a trial is not documented.",
        "The records do not show that a course of conservative care was completed before {service} was requested.",
        "{Service} is considered only after less invasive treatment has failed, which has not been shown here.",
    ),
    ("not_first_line", "surgery"): (
        "Surgical treatment is considered only after failure of an adequate course of conservative care, which is not documented.",
        "The records do not describe a trial of physical therapy, injections or activity modification before surgery was requested.",
        "There is no evidence that non-operative treatment has been exhausted before the request for {service}.",
    ),
    # lowest_dose_shortest_period
    ("lowest_dose_shortest_period", "nsaid"): (
        "NSAIDs are recommended at the lowest dose for the shortest period in patients with moderate to severe pain.",
        "There is no evidence that the lowest effective dose of {name} is being used.",
        "The guidelines call for the lowest effective NSAID dose for the shortest possible period, and this request continues a full daily dose with no end date.",
        "The requested quantity of {name} is not consistent with use at the lowest dose for the shortest time.",
    ),
    # worsening_or_no_efficacy
    ("worsening_or_no_efficacy", "drug"): (
        "The injured worker reports that {his} pain has increased despite taking {name}.",
        "Pain scores have remained at {pain}/10 on {name}, with no measurable benefit.",
        "According to the latest report, {name} has not been effective and the pain is worse than at the previous visit.",
        "The treating physician notes that {name} provides little or no relief.",
        "Although the injured worker previously reported benefit, {he} has recently experienced an increase in pain while using {name}.",
    ),
    ("worsening_or_no_efficacy", "anticonvulsant"): (
        "There is no documentation of a 30% reduction in pain since {name} was started, which is the response the guidelines use to judge efficacy.",
        "The injured worker reports no change in {his} neuropathic symptoms on {name}.",
        "Pain has remained at {pain}/10 despite an adequate trial of {name}.",
    ),
    ("worsening_or_no_efficacy", "service"): (
        "The injured worker reported no benefit from the prior {service}.",
        "Pain increased after the previous {service}, according to the progress notes.",
        "The earlier course of {service} gave no lasting relief, and the pain remains at {pain}/10.",
    ),
    ("worsening_or_no_efficacy", "injection"): (
        "The prior injection provided no lasting relief according to the injured worker.",
        "The injured worker reported that {his} pain returned to its previous level within days of the last injection.",
        "The previous {service} did not reduce the pain, which is still rated {pain}/10.",
    ),
    # no_documented_indication
    ("no_documented_indication", "any"): (
        "The medical records do not document {indication}.",
        "There is no documentation of {indication} in the records provided for review.",
        "The progress reports make no mention of {indication}.",
        "The submitted notes do not establish {indication}.",
    ),
    ("no_documented_indication", "relaxant"): (
        "There is no evidence of muscle spasm on the recent examinations.",
        "The injured worker was prescribed {name} for a long time without clear evidence of spasm or an acute exacerbation of lumbar pain.",
        "The examination findings do not include spasm, and no acute flare of back pain is described.",
    ),
    ("no_documented_indication", "gastro"): (
        "The injured worker is under 65, has no history of peptic ulcer or gastrointestinal bleeding, and takes no anticoagulant or corticosteroid.",
        "No gastrointestinal complaints are recorded, and the injured worker does not have the risk factors that would justify prophylaxis.",
    ),
    ("no_documented_indication", "imaging"): (
        "There are no red flags on examination and no new neurological deficit that would call for this study.",
        "The request is not supported by any change in symptoms or examination findings since the last imaging.",
    ),
    ("no_documented_indication", "electrodiagnostics"): (
        "The examination shows no focal weakness, sensory loss or reflex change that electrodiagnostic testing would clarify.",
        "The radicular findings are already clear on examination and imaging, so electrodiagnostic testing would not change the treatment.",
    ),
    # exceeds_guideline_quantity
    ("exceeds_guideline_quantity", "service"): (
        "The guidelines support {limit} visits for this condition, and the request for {units} sessions exceeds that number.",
        "Together with the {prior} sessions already completed, the request would exceed the guideline recommendation of {limit} visits.",
        "The guidelines allow an initial trial of {limit} visits, and the {units} sessions requested exceed that trial.",
        "The number of sessions requested, added to those already completed, exceeds the course the guidelines recommend.",
    ),
    ("exceeds_guideline_quantity", "restoration"): (
        "Treatment in a functional restoration program is not suggested for longer than two weeks without evidence of demonstrated efficacy, and the request exceeds that duration.",
        "The total program length requested exceeds the 20 full-day sessions that the guidelines allow.",
    ),
    ("exceeds_guideline_quantity", "behavioral"): (
        "The guidelines recommend an initial trial of 3 to 4 psychotherapy visits over two weeks, and {units} sessions exceed that trial.",
        "The request for {units} sessions goes beyond the initial trial of {limit} visits that the guidelines allow before progress is reviewed.",
        "Together with the {prior} sessions already completed, the request would exceed the maximum of 10 visits the guidelines support.",
        "The number of sessions requested exceeds the initial trial the guidelines recommend before progress is reviewed.",
    ),
    ("exceeds_guideline_quantity", "injection"): (
        "The number of injections requested exceeds what the guidelines recommend for a single treatment episode.",
        "The guidelines do not support a series of injections without a reassessment after each one, and this request covers {units} at once.",
    ),
    ("exceeds_guideline_quantity", "diagnostic"): (
        "For a patient at low risk of addiction, testing within six months of starting treatment and once a year thereafter is recommended, and the requested frequency exceeds this.",
        "The injured worker was tested recently with consistent results, and another test this soon exceeds the recommended frequency.",
    ),
    ("exceeds_guideline_quantity", "consult"): (
        "The number of follow-up visits requested exceeds what the clinical course would require.",
        "Office visits are guided by the clinical course, and a standing series of visits is not supported for a stable condition.",
    ),
    ("exceeds_guideline_quantity", "care"): (
        "The amount of care requested exceeds what the guidelines allow.",
        "The requested duration exceeds the length recommended by the guidelines for this condition.",
    ),
    ("exceeds_guideline_quantity", "equipment"): (
        "The requested rental period exceeds the duration of use the guidelines support.",
        "A one-month home trial is the recommended first step, and the request goes beyond it.",
    ),
    ("exceeds_guideline_quantity", "benzodiazepine"): (
        "The quantity requested amounts to more than 4 weeks of treatment, exceeding the guideline limit.",
        "A supply of {units} tablets would extend use well past the 4 weeks to which most guidelines limit benzodiazepines.",
    ),
    ("exceeds_guideline_quantity", "sleep"): (
        "The quantity of {units} tablets exceeds the short course recommended for insomnia medications.",
        "A supply of {units} doses would cover far more than the brief period for which hypnotics are recommended.",
        "The quantity requested covers far more than the brief course recommended for hypnotics.",
    ),
    # not_a_weaning_request
    ("not_a_weaning_request", "drug"): (
        "Abrupt discontinuation of {name} is not advised, but this request is to continue treatment rather than to taper it.",
        "Weaning of {name} would be appropriate, but Independent Medical Review cannot modify the request to allow a taper.",
        "The request is for continued use at the same quantity and does not represent a weaning schedule.",
        "Although tapering is recommended to avoid withdrawal, there is no provision to modify this request into a weaning regimen.",
        "This request however is not for a weaning treatment, but to continue treatment.",
    ),
    # insufficient_documentation
    ("insufficient_documentation", "any"): (
        "The most recent progress report available for review is from {old_date}, several months before the request, and does not describe the current condition.",
        "No progress notes from the requesting physician were included in the records provided for review.",
        "The submitted documentation consists of a single handwritten note that is largely illegible.",
        "The file does not contain the report in which this request was made.",
        "The records available for review do not contain enough clinical information to evaluate this request.",
    ),
    ("insufficient_documentation", "drug"): (
        "The records do not state how long the injured worker has taken {name} or at what dose.",
        "There is no rationale in the records for continuing {name}.",
    ),
    ("insufficient_documentation", "therapy"): (
        "The number of {service} sessions already completed, and their results, are not documented.",
        "The request does not state the body part, frequency or goals of the proposed {service}.",
    ),
    ("insufficient_documentation", "behavioral"): (
        "The number of sessions already completed, and their results, are not documented.",
        "The request does not state the goals or frequency of the proposed treatment.",
    ),
    ("insufficient_documentation", "service"): (
        "The records do not explain why {service} is being requested at this time.",
    ),
    # documented_improvement
    ("documented_improvement", "drug"): (
        "The progress reports document a reduction in pain from {p1}/10 to {p2}/10 with {name} and specific functional gains, including the ability to {activity}.",
        "With {name}, the injured worker continues to work full duty, and the treating physician documents improved function.",
        "The treating physician documents objective functional improvement on {name}, including better walking tolerance and the ability to {activity}.",
        "Efficacy is noted with the current medication regimen, and the requested medication is supported.",
        "Within the documentation available for review, the medication is shown to improve the injured worker's function and pain, with specific examples of functional improvement.",
    ),
    ("documented_improvement", "opioid"): (
        "The records document pain reduced from {p1}/10 to {p2}/10 with {name}, improved function, no intolerable side effects and no aberrant use.",
        "A review of the medical records notes significant improvement with {name}, and there is no evidence of drug abuse or diversion.",
        "The injured worker is able to {activity} while taking {name}, which the treating physician records at each visit along with the pain scores.",
    ),
    ("documented_improvement", "service"): (
        "The previous {service} sessions produced documented gains in range of motion and strength, and the injured worker returned to modified work.",
        "The therapy notes record objective improvement with the sessions completed so far, including the ability to {activity}.",
        "The injured worker's function improved measurably with the prior {service}, and further gains are expected.",
    ),
    ("documented_improvement", "injection"): (
        "The prior injection gave more than 50% relief for about three months, with a documented reduction in medication use.",
        "After the previous {service} the injured worker reported lasting pain relief and was able to {activity}.",
    ),
    # guideline_criteria_met
    ("guideline_criteria_met", "any"): (
        "The guideline criteria for {name} are met in this case.",
        "The request is consistent with the guideline recommendations for this condition.",
        "The documentation supports each of the criteria the guidelines set for {name}.",
    ),
    ("guideline_criteria_met", "drug"): (
        "{Name} is a first-line option for this condition, and its use here is consistent with the guidelines.",
        "The request is for a short course of {name}, which is what the guidelines recommend.",
    ),
    ("guideline_criteria_met", "opioid"): (
        "The records document ongoing review of the 4 A's, a consistent urine drug screen and a signed opioid agreement, so the criteria for continued opioid therapy are met.",
        "The current morphine equivalent dosage is within the ceiling recommended by the MTUS, and the monitoring the guidelines require is in place.",
    ),
    ("guideline_criteria_met", "gastro"): (
        "The injured worker is over 65 and takes an NSAID, which places {him} at intermediate risk for gastrointestinal events, so a proton pump inhibitor is supported.",
        "The records document a history of gastrointestinal bleeding on NSAIDs, which supports gastroprotection.",
    ),
    ("guideline_criteria_met", "imaging"): (
        "The injured worker has a progressive neurological deficit, which is an indication for this study under the guidelines.",
        "The examination shows new focal findings, and the study is needed to guide further treatment.",
    ),
    ("guideline_criteria_met", "electrodiagnostics"): (
        "The injured worker has equivocal radicular findings that electrodiagnostic testing can clarify, which the guidelines support.",
    ),
    ("guideline_criteria_met", "surgery"): (
        "Imaging shows a lesion that correlates with the examination findings, and an adequate course of conservative care has failed, so the surgical criteria are met.",
        "The injured worker has completed more than six months of conservative treatment without relief, and the clinical findings match the imaging.",
    ),
    ("guideline_criteria_met", "restoration"): (
        "The injured worker meets the criteria for a functional restoration program, including an adequate baseline evaluation, failure of previous treatment and motivation to change.",
        "Previous methods of treating chronic pain have been unsuccessful, and there are no other options likely to produce significant improvement.",
    ),
    ("guideline_criteria_met", "injection"): (
        "Radiculopathy is documented on examination and corroborated by imaging, and conservative treatment has failed, so the criteria for {service} are met.",
        "The criteria for {service} are documented, including the required examination findings and the failure of conservative care.",
    ),
    ("guideline_criteria_met", "behavioral"): (
        "The injured worker has psychological symptoms that interfere with recovery, and an initial trial of {service} is recommended for such patients.",
        "Psychological treatment is recommended for appropriately identified patients with chronic pain, and the injured worker is such a patient.",
    ),
    # neuropathic_indication
    ("neuropathic_indication", "drug"): (
        "{Name} is recommended as a first-line option for neuropathic pain, and the injured worker has documented radicular symptoms.",
        "The injured worker has neuropathic pain from lumbar radiculopathy, for which {noun} are indicated.",
        "The records describe burning, radiating pain with numbness in a dermatomal pattern, which is neuropathic pain for which {name} is recommended.",
    ),
    ("neuropathic_indication", "relaxant"): (
        "Baclofen has been noted to benefit lancinating, paroxysmal neuropathic pain, which is documented in this case.",
        "In the setting of neuropathic pain, the request for {name} is supported.",
    ),
    ("neuropathic_indication", "topical"): (
        "The injured worker has localized neuropathic pain after an adequate trial of first-line agents, for which {name} is recommended.",
    ),
    ("neuropathic_indication", "lidocaine patch"): (
        "Topical lidocaine is indicated for localized peripheral neuropathic pain, and the records describe a localized area of neuropathic pain.",
    ),
    ("neuropathic_indication", "antidepressant"): (
        "Tricyclic antidepressants and SNRIs are a first-line option for neuropathic pain, and the injured worker has documented neuropathic symptoms.",
        "The injured worker is diagnosed with chronic neuropathic pain, for which {name} is recommended.",
    ),
}  # fmt: skip


_NUMERIC = ("{units}", "{limit}", "{prior}")


def reason_sentence(
    category: str,
    entry: LexiconEntry,
    family: str,
    ctx: Mapping[str, str],
    rng: random.Random,
    *,
    numbers: bool = True,
    avoid: frozenset[str] = frozenset(),
) -> str:
    """One sentence in the reviewer's voice that gives ``category`` as the reason.

    ``numbers=False`` leaves out phrasings that quote the requested and allowed
    counts (the request has no count, or does not exceed the limit); ``avoid`` holds
    sentences already used in the same rationale.
    """
    kind = entry.kind or "drug"
    pool: list[str] = []
    for key in (
        (category, entry.generic or ""),
        (category, entry.drug_class or ""),
        (category, family),
    ):
        pool.extend(REASONS.get(key, ()))
    if not pool:  # no wording specific to this treatment: the general drug or service wording
        pool.extend(REASONS.get((category, kind), ()))
    pool.extend(REASONS.get((category, "any"), ()))
    if not numbers:
        pool = [t for t in pool if not any(n in t for n in _NUMERIC)]
    if not pool:
        raise KeyError(f"no wording for {category} ({entry.canonical})")
    texts = [t.format_map(ctx) for t in pool]
    fresh = [t for t in texts if t not in avoid]
    return rng.choice(fresh or texts)


# What a request must document before it is necessary; used by no_documented_indication.
INDICATIONS: dict[str, tuple[str, ...]] = {
    # families and classes
    "relaxant": ("muscle spasm on examination", "an acute exacerbation of low back pain"),
    "nsaid": ("an inflammatory condition or an acute flare of pain", "osteoarthritis or another condition for which an anti-inflammatory is indicated"),
    "anticonvulsant": ("neuropathic pain", "radicular symptoms or other neuropathic findings"),
    "antidepressant": ("depression or neuropathic pain", "a depressive disorder or a neuropathic component of the pain"),
    "benzodiazepine": ("an anxiety disorder", "a diagnosis for which a benzodiazepine is indicated"),
    "sleep": ("an evaluation of the sleep disturbance", "a sleep history or a trial of sleep hygiene measures"),
    "topical": ("localized neuropathic pain", "a localized area of neuropathic pain"),
    "gastro": ("gastrointestinal risk factors such as age over 65, a history of peptic ulcer or bleeding, or concurrent use of anticoagulants or corticosteroids", "dyspepsia or another gastrointestinal complaint"),
    "antiemetic": ("nausea from chemotherapy, radiation or surgery", "nausea of a kind the medication is approved to treat"),
    "laxative": ("constipation", "opioid-induced constipation or current opioid therapy"),
    "non-opioid analgesic": ("a pain condition that the current regimen leaves untreated",),
    "wakefulness agent": ("narcolepsy, obstructive sleep apnea or shift work sleep disorder",),
    "erectile dysfunction agent": ("erectile dysfunction related to the industrial injury",),
    "triptan": ("migraine headaches",),
    "corticosteroid": ("acute radicular pain",),
    "antihistamine": ("anxiety or pruritus",),
    "medical food": ("a distinct nutritional requirement that a medical food would address",),
    "supplement": ("a deficiency or osteoarthritis of the knee",),
    "anticoagulant": ("a risk of venous thromboembolism after surgery",),
    "antibiotic": ("an infection",),
    "opioid antagonist": ("risk factors for opioid overdose, such as a high daily opioid dose",),
    "barbiturate-containing analgesic": ("tension headaches",),
    "physical medicine": ("a new injury or flare-up that would call for more therapy",),
    "functional restoration": ("an adequate and thorough baseline evaluation", "a significant loss of the ability to function independently because of chronic pain"),
    "imaging": ("red flags, a progressive neurological deficit or a significant change in symptoms", "neurological findings on examination"),
    "electrodiagnostics": ("radicular symptoms or focal neurological deficits", "findings suggesting nerve entrapment or radiculopathy"),
    "diagnostic test": ("signs or symptoms that would call for this test",),
    "injection": ("a diagnosis that the injection would confirm or treat",),
    "interventional procedure": ("a positive response to diagnostic blocks",),
    "surgery": ("imaging findings that correlate with the examination", "a lesion that would benefit from surgical repair", "objective findings consistent with the requested procedure"),
    "consultation": ("a question that the consultant is expected to answer", "a diagnosis that is uncertain or complex"),
    "evaluation and management": ("a change in condition that requires more frequent visits",),
    "behavioral health": ("psychological symptoms that interfere with recovery",),
    "durable medical equipment": ("a functional deficit that the equipment would address",),
    "home health": ("that the injured worker is homebound or needs medical treatment at home",),
    "inpatient care": ("a planned procedure that requires admission",),
    "weight loss": ("prior failed attempts at supervised diet and exercise",),
    "transportation": ("that the injured worker cannot drive or use public transportation",),
    # canonicals
    "Aquatic therapy": ("a need for reduced weight bearing, such as extreme obesity",),
    "Gym membership": ("a need for equipment that a home exercise program cannot provide",),
    "Massage therapy": ("that massage will be used as an adjunct to active exercise",),
    "Extracorporeal shockwave therapy": ("calcifying tendinitis of the shoulder",),
    "Urine drug screen": ("issues of abuse, addiction or poor pain control",),
    "Functional capacity evaluation": ("prior unsuccessful return-to-work attempts or that the injured worker is close to maximum medical improvement",),
    "Genetic testing": ("evidence that genetic testing would change treatment",),
    "Sleep study": ("insomnia lasting at least six months despite behavioral and medication treatment",),
    "Discogram": ("that surgery is planned and that discography would change the plan",),
    "Electrocardiogram": ("a planned surgery or cardiac symptoms",),
    "Epidural steroid injection": ("radiculopathy corroborated by imaging or electrodiagnostic testing", "radicular findings on physical examination"),
    "Facet injection": ("non-radicular facet-mediated pain",),
    "Medial branch block": ("non-radicular facet-mediated pain",),
    "Radiofrequency ablation": ("a positive response to diagnostic medial branch blocks",),
    "Trigger point injection": ("circumscribed trigger points with a twitch response and referred pain",),
    "Sacroiliac joint injection": ("at least three positive provocative tests for sacroiliac dysfunction",),
    "Hyaluronic acid injection": ("severe osteoarthritis of the knee",),
    "Sympathetic nerve block": ("complex regional pain syndrome",),
    "Occipital nerve block": ("occipital neuralgia",),
    "Botulinum toxin injection": ("chronic migraine or cervical dystonia",),
    "Spinal cord stimulator": ("failed back surgery syndrome or complex regional pain syndrome",),
    "Intrathecal pump": ("a successful intrathecal trial",),
    "Preoperative clearance": ("a scheduled surgery",),
    "Psychiatric consultation": ("a psychiatric condition beyond the scope of the treating physician",),
    "Detoxification": ("aberrant behavior or failure of a supervised taper",),
    "TENS unit": ("neuropathic pain, complex regional pain syndrome, phantom limb pain or spasticity",),
    "Neuromuscular electrical stimulation": ("a stroke-related need for muscle stimulation",),
    "Cold therapy unit": ("a recent or planned surgery",),
    "Cane": ("a gait disturbance or fall risk",),
    "Walker": ("a gait disturbance or fall risk",),
    "Wheelchair": ("an inability to walk even with a cane or walker",),
    "Hospital bed": ("a medical condition that requires special positioning",),
    "Orthopedic mattress": ("a medical condition that requires special positioning",),
    "Brace": ("spinal instability or a fracture",),
    "Continuous passive motion device": ("a recent knee arthroplasty",),
    "Bone growth stimulator": ("risk factors for a failed fusion",),
    "Traction unit": ("radicular symptoms of the neck",),
    "Pneumatic compression device": ("a high risk of deep vein thrombosis",),
    "Bathroom safety equipment": ("that the injured worker is unable to bathe or toilet safely",),
    "Orthotics": ("plantar fasciitis or metatarsalgia",),
    "Skilled nursing facility": ("a need for skilled care that cannot be given at home",),
}  # fmt: skip


def indication(entry: LexiconEntry, family: str, rng: random.Random) -> str:
    for key in (entry.canonical, entry.generic or "", entry.drug_class or "", family):
        if key in INDICATIONS:
            return rng.choice(INDICATIONS[key])
    return "the clinical findings that would support this request"


# --- neutral sentences -------------------------------------------------------------------

DESCRIBE: dict[str, tuple[str, ...]] = {
    "opioid": ("{Name} is an opioid analgesic.", "{Name} is an opioid used for moderate to severe pain."),
    "relaxant": ("{Name} is a centrally acting skeletal muscle relaxant.", "{Name} is prescribed for musculoskeletal pain and spasticity."),
    "nsaid": ("{Name} is a nonsteroidal anti-inflammatory drug.",),
    "anticonvulsant": ("{Name} is an antiepilepsy drug that is also used for chronic pain.",),
    "antidepressant": ("{Name} is an antidepressant.", "{Name} is an antidepressant that is also prescribed for chronic pain."),
    "benzodiazepine": ("{Name} is a benzodiazepine with anxiolytic and muscle relaxant effects.",),
    "sleep": ("{Name} is a prescription medication for insomnia.",),
    "topical": ("{Name} is a topical product applied to the painful area.",),
    "gastro": ("{Name} reduces the production of stomach acid.",),
    "adjuvant": ("{Name} is a prescription medication.",),
    "service": ("The request is for {treatment}.", "The treating physician requested {treatment}."),
}  # fmt: skip

GUIDE: dict[str, tuple[str, ...]] = {
    "opioid": ("The MTUS Chronic Pain Medical Treatment Guidelines address the use of opioids for chronic pain in detail.", "The guidelines set out criteria for starting, continuing and stopping opioid therapy."),
    "relaxant": ("The guidelines discuss several kinds of muscle relaxants, including antispasmodics and antispasticity drugs.",),
    "nsaid": ("The guidelines discuss the use of NSAIDs for osteoarthritis and for back pain.",),
    "anticonvulsant": ("The guidelines discuss antiepilepsy drugs for chronic pain.",),
    "antidepressant": ("The guidelines discuss antidepressants for chronic pain in several sections.",),
    "benzodiazepine": ("The guidelines address benzodiazepines in the chronic pain section.",),
    "sleep": ("The Official Disability Guidelines address the treatment of insomnia.",),
    "topical": ("The guidelines address topical analgesics in a separate section.",),
    "gastro": ("The guidelines address gastrointestinal risk in patients who take NSAIDs.",),
    "therapy": ("The MTUS Physical Medicine guidelines address active and passive therapy for chronic pain.",),
    "restoration": ("The guidelines describe the components of a functional restoration program.",),
    "injection": ("The guidelines set out criteria for the use of injections in the spine and joints.",),
    "surgery": ("The guidelines describe when surgical referral is appropriate.",),
    "behavioral": ("The guidelines discuss psychological treatment for chronic pain.",),
    "any": (
        "The MTUS is the primary standard for medical necessity in California workers' compensation cases.",
        "The reviewer applied the MTUS first and considered other evidence where it does not address the request.",
        "The Medical Treatment Utilization Schedule applies to this request.",
    ),
}  # fmt: skip

HISTORY: tuple[str, ...] = (
    "The injured worker was last seen by the treating physician on {date}.",
    "The request was submitted with a progress report dated {date}.",
    "The injured worker continues to report {region} pain.",
    "{He} was seen for a follow-up evaluation on {date}.",
    "The treating physician's report of {date} lists the current medications.",
    "The injured worker has a long history of chronic {region} pain.",
)

CLOSING_UPHELD: tuple[str, ...] = (
    "Therefore, the request for {treatment} is not medically necessary.",
    "As such, the request is not medically necessary.",
    "The request for {treatment} is determined to not be medically necessary.",
    "In the absence of such documentation, the requested {treatment} is not medically necessary.",
    "The request for {treatment} is not medically necessary and appropriate.",
    "Medical necessity of the requested {treatment} has not been established.",
)
CLOSING_OVERTURNED: tuple[str, ...] = (
    "Therefore, the request for {treatment} is medically necessary.",
    "The request for {treatment} is medically necessary and appropriate.",
    "In light of the above, the requested {treatment} is medically necessary.",
    "The request is medically necessary.",
)

ACTIVITIES = (
    "walk for 30 minutes",
    "perform household chores",
    "sit through a full work shift",
    "lift groceries",
    "care for {his} children",
    "drive to appointments",
)

# --- letters: patients, summaries, reviewers -----------------------------------------------

REGIONS_PAIN = (
    "low back",
    "neck",
    "right shoulder",
    "left shoulder",
    "right knee",
    "left knee",
    "bilateral wrist",
    "mid back",
)
# Gerunds: "was injured on 6/9/15 while lifting a heavy box".
MECHANISMS = (
    "lifting a heavy box",
    "moving furniture",
    "stepping off a ladder",
    "pulling a pallet jack",
    "typing at a keyboard for long hours",
    "driving a delivery van",
    "restraining a patient",
    "unloading a truck",
    "carrying a heavy tray",
)
FINDINGS = (
    "tenderness to palpation of the paraspinal muscles",
    "decreased range of motion",
    "a positive straight leg raise on the left",
    "a positive Spurling's test",
    "diminished sensation in the L5 dermatome",
    "guarding with movement",
    "an antalgic gait",
)
OCCUPATIONS = (
    "warehouse worker",
    "truck driver",
    "nurse",
    "cashier",
    "correctional officer",
    "machine operator",
    "custodian",
    "office worker",
    "carpenter",
)
DIAGNOSES: dict[str, tuple[str, ...]] = {
    "low back": ("lumbar radiculopathy", "lumbar disc protrusion at L4-L5", "lumbar degenerative disc disease", "lumbar facet arthropathy", "lumbago", "lumbar sprain/strain", "failed back surgery syndrome", "spondylolisthesis at L5-S1"),
    "neck": ("cervical radiculopathy", "cervical sprain/strain", "cervical disc herniation at C5-C6", "cervicalgia", "cervical spondylosis"),
    "right shoulder": ("right shoulder impingement syndrome", "right rotator cuff tendinosis", "status post right shoulder arthroscopy"),
    "left shoulder": ("left shoulder impingement syndrome", "adhesive capsulitis of the left shoulder", "left rotator cuff tear"),
    "right knee": ("internal derangement of the right knee", "right knee osteoarthritis", "right medial meniscus tear"),
    "left knee": ("left knee osteoarthritis", "chondromalacia patella of the left knee", "left lateral meniscus tear"),
    "bilateral wrist": ("bilateral carpal tunnel syndrome", "right wrist tenosynovitis", "bilateral wrist sprain/strain"),
    "mid back": ("thoracic sprain/strain", "thoracic myofascial pain"),
    "other": ("chronic pain syndrome", "myofascial pain syndrome", "depressive disorder", "anxiety disorder", "insomnia", "headaches", "hypertension", "gastritis", "obesity"),
}  # fmt: skip
TREATMENTS_TO_DATE = (
    "medications",
    "physical therapy",
    "chiropractic care",
    "acupuncture",
    "injections",
    "a home exercise program",
    "activity modification",
    "a TENS unit",
    "psychotherapy",
    "surgery",
)

SPECIALTIES = (
    "Internal Medicine", "Family Practice", "Preventive Medicine", "Occupational Medicine",
    "Physical Medicine & Rehabilitation", "Pain Management", "Anesthesiology", "Orthopaedic Surgery",
    "Neurology", "Psychiatry", "Emergency Medicine", "Rheumatology", "Sports Medicine",
    "Neurological Surgery", "Chiropractic Medicine", "Psychology", "Acupuncture",
)  # fmt: skip
SUBSPECIALTIES = (
    "Pain Medicine",
    "Acupuncture & Pain Medicine",
    "Spine Surgery",
    "Sports Medicine",
    "Addiction Medicine",
    "Neuromuscular Medicine",
)
STATES = (
    "California",
    "California",
    "California",
    "Texas",
    "Arizona",
    "Nevada",
    "Oregon",
    "Washington",
    "New York",
    "New Jersey",
    "Michigan",
    "Illinois",
    "Florida",
    "Colorado",
    "Pennsylvania",
    "Maryland",
    "Georgia",
    "Ohio",
)

DOCUMENTS = (
    "Application for Independent Medical Review",
    "Utilization Review Determination",
    "Medical records from the treating physician",
    "Progress reports from the pain management physician",
    "Physical therapy notes",
    "Diagnostic imaging reports",
    "Agreed medical evaluation report",
)

BOILERPLATE_1 = (
    "MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no "
    "affiliation with the employer, employee, providers or the claims administrator."
)
BOILERPLATE_2 = (
    "He/she has been in active clinical practice for more than five years and is currently "
    "working at least 24 hours a week in active practice. The expert reviewer was selected "
    "based on his/her clinical experience, education, background, and expertise in the same or "
    "similar specialties that evaluate and/or treat the medical condition and disputed "
    "items/Service. He/she is familiar with governing laws and regulations, including the "
    "strength of evidence hierarchy that applies to Independent Medical Review determinations."
)
SUMMARY_INTRO = (
    "The expert reviewer developed the following clinical case summary based on a review of "
    "the case file, including all medical records:"
)
SET_FORTH = "The Final Determination was based on decisions for the disputed items/services set forth below:"
