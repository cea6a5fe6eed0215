"""The treatment lexicon: its data file and its matcher."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imr_assist.parse.lexicon import (
    DEFAULT_PATH,
    Lexicon,
    LexiconMatch,
    alias_key,
    get_lexicon,
)


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return get_lexicon()


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def _found(lex: Lexicon, text: str) -> LexiconMatch:
    m = lex.find(text)
    assert m is not None, f"nothing found in {text!r}"
    return m


# --- treatment strings as letters write them ------------------------------------------

TREATMENTS = [
    pytest.param("Norco 10/325mg #60", "Norco", "opioid", id="norco"),
    pytest.param("Norco 10/325mg quantity 120", "Norco", "opioid", id="norco-quantity"),
    pytest.param(
        "Physical therapy 2 x 6 for the lumbar spine",
        "Physical therapy",
        "physical medicine",
        id="physical-therapy",
    ),
    pytest.param(
        "Lumbar epidural steroid injection L4-L5",
        "Epidural steroid injection",
        "injection",
        id="lumbar-esi",
    ),
    pytest.param(
        "28 day functional restoration program",
        "Functional restoration program",
        "functional restoration",
        id="frp",
    ),
    pytest.param("MRI of the lumbar spine without contrast", "MRI", "imaging", id="mri"),
    pytest.param("Butrans 20mcg/hr transdermal film #4", "Butrans", "opioid", id="butrans"),
    pytest.param("Amitriptyline 10mg #60 3 refills", "Amitriptyline", "antidepressant", id="amitr"),
    pytest.param("Relafen 750mg #60", "Relafen", "NSAID", id="relafen"),
    pytest.param("Soma 350mg #60", "Soma", "muscle relaxant", id="soma"),
    pytest.param("Xanax 1mg quantity 30", "Xanax", "benzodiazepine", id="xanax"),
    pytest.param("Tizanidine 4 mg #30", "Tizanidine", "antispasticity agent", id="tizanidine"),
    pytest.param("Zanaflex 4mg", "Zanaflex", "antispasticity agent", id="zanaflex"),
    pytest.param("Baclofen 10mg #270 1 refill", "Baclofen", "antispasticity agent", id="baclofen"),
    pytest.param("acupuncture x 6 sessions", "Acupuncture", "physical medicine", id="acupuncture"),
    pytest.param("Norco10/325", "Norco", "opioid", id="digit-glued"),
    pytest.param("Ultram ER 150mg #30", "Ultram ER", "opioid", id="ultram-er-longest"),
    pytest.param("Ultram 50mg #60", "Ultram", "opioid", id="ultram"),
    pytest.param("Tylenol #3 #60", "Tylenol #3", "opioid", id="tylenol-3"),
    pytest.param("Tylenol No. 3", "Tylenol #3", "opioid", id="tylenol-no-3"),
    pytest.param("Tylenol 325mg", "Tylenol", "non-opioid analgesic", id="tylenol-325"),
    pytest.param("Lidoderm 5% patch #30", "Lidoderm", "topical analgesic", id="lidoderm"),
    pytest.param(
        "Lidocaine 5% patch #30", "Lidocaine patch", "topical analgesic", id="lidocaine-patch"
    ),
    pytest.param("Lidocaine 3% cream", "Lidocaine", "topical analgesic", id="lidocaine-cream"),
    pytest.param("Voltaren gel 1% 100g", "Voltaren gel", "topical analgesic", id="voltaren-gel"),
    pytest.param("Voltaren XR 100mg", "Voltaren", "NSAID", id="voltaren-oral"),
    pytest.param(
        "Flurbiprofen 20% cream 120gm", "Flurbiprofen cream", "compounded topical", id="flurbi"
    ),
    pytest.param("Hysingla ER 20mg", "Hysingla ER", "opioid", id="hysingla"),
    pytest.param("Oxycodone IR 10mg", "Oxycodone", "opioid", id="oxycodone-ir"),
    pytest.param("Oxycodone ER 20mg", "Oxycodone ER", "opioid", id="oxycodone-er"),
    pytest.param("MS Contin 30mg", "MS Contin", "opioid", id="ms-contin"),
    pytest.param("Fioricet #30", "Fioricet", "barbiturate-containing analgesic", id="fioricet"),
    pytest.param("Nuvigil 150mg", "Nuvigil", "wakefulness agent", id="nuvigil"),
    pytest.param(
        "EMG/NCV of the bilateral lower extremities", "EMG/NCV", "electrodiagnostics", id="emg"
    ),
    pytest.param("EMG of the right arm", "EMG", "electrodiagnostics", id="emg-alone"),
    pytest.param("Urine drug screen", "Urine drug screen", "diagnostic test", id="uds"),
    pytest.param(
        "Right knee arthroscopy with partial meniscectomy", "Arthroscopy", "surgery", id="scope"
    ),
    pytest.param(
        "Synvisc injection to the left knee",
        "Hyaluronic acid injection",
        "injection",
        id="synvisc",
    ),
    pytest.param("Home health care 4 hours a day", "Home health care", "home health", id="hhc"),
    pytest.param(
        "TENS unit 30 day rental", "TENS unit", "durable medical equipment", id="tens-unit"
    ),
    pytest.param("Retrospective request for Norco", "Norco", "opioid", id="later-word"),
]


@pytest.mark.parametrize("text, canonical, drug_class", TREATMENTS)
def test_find_treatment(lex: Lexicon, text: str, canonical: str, drug_class: str) -> None:
    m = _found(lex, text)
    assert m.entry.canonical == canonical
    assert m.entry.drug_class == drug_class
    assert text[m.start : m.end] == m.surface
    assert not m.fuzzy


def test_butrans_facts(lex: Lexicon) -> None:
    e = _found(lex, "Butrans 20mcg/hr transdermal film #4").entry
    assert (e.kind, e.generic, e.drug_class) == ("drug", "buprenorphine patch", "opioid")


def test_relafen_generic(lex: Lexicon) -> None:
    assert _found(lex, "Relafen 750mg #60").entry.generic == "nabumetone"


def test_tizanidine_and_zanaflex_share_a_generic(lex: Lexicon) -> None:
    tiz = _found(lex, "Tizanidine 4 mg #30").entry
    zan = _found(lex, "Zanaflex 4mg").entry
    assert tiz.generic == zan.generic == "tizanidine"
    assert tiz in lex.same_generic(zan)
    # The generic's class belongs to the "muscle relaxants" group.
    assert tiz.drug_class in {c for c, _, _ in lex.classes_for_group_word("muscle relaxants")}


def test_surface_is_the_matched_text(lex: Lexicon) -> None:
    m = _found(lex, "Lumbar epidural steroid injection L4-L5")
    assert (m.start, m.end, m.surface) == (7, 33, "epidural steroid injection")


# --- case, spacing, plurals ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical",
    [
        pytest.param("norco 10/325", "Norco", id="lower"),
        pytest.param("NORCO 10/325", "Norco", id="upper"),
        pytest.param("nOrCo", "Norco", id="mixed"),
        pytest.param("PHYSICAL THERAPY", "Physical therapy", id="upper-service"),
        pytest.param("physical-therapy 2x6", "Physical therapy", id="hyphen"),
        pytest.param("physical\ntherapy", "Physical therapy", id="line-break"),
        pytest.param("physical   \r\n  therapy", "Physical therapy", id="crlf-spaces"),
        pytest.param("physicaltherapy", "Physical therapy", id="fused"),
        pytest.param("epidural-steroid  injection", "Epidural steroid injection", id="esi-mixed"),
        pytest.param("ESI at L5-S1", "Epidural steroid injection", id="esi-abbrev"),
        pytest.param(
            "hydrocodone / acetaminophen 10/325",
            "Hydrocodone/acetaminophen",
            id="slash-spaces",
        ),
        pytest.param(
            "hydrocodone-acetaminophen", "Hydrocodone/acetaminophen", id="slash-as-hyphen"
        ),
        pytest.param("Hydrocodone/APAP 10/325", "Hydrocodone/acetaminophen", id="apap"),
        pytest.param("hydrocodone 10/325", "Hydrocodone/acetaminophen", id="hydrocodone"),
        pytest.param("EMG / NCV", "EMG/NCV", id="emg-ncv-spaces"),
        pytest.param("xray of the wrist", "X-ray", id="xray-fused"),
        pytest.param("MRIs of both knees", "MRI", id="plural-mri"),
        pytest.param("X-rays", "X-ray", id="plural-xray"),
        pytest.param("trigger point injections x 4", "Trigger point injection", id="plural-tpi"),
        pytest.param("six sessions of acupuncture", "Acupuncture", id="sessions-of"),
        pytest.param("physical therapies", "Physical therapy", id="plural-ies"),
        pytest.param("Lidoderm patches", "Lidoderm", id="plural-es"),
        pytest.param("PT 2x6", "Physical therapy", id="pt-exact-case"),
    ],
)
def test_surface_variation(lex: Lexicon, text: str, canonical: str) -> None:
    assert _found(lex, text).entry.canonical == canonical


# --- misspellings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, canonical",
    [
        pytest.param("Norcco 10/325mg #60", "Norco", id="insertion"),
        pytest.param("Tizanadine 4mg #30", "Tizanidine", id="substitution"),
        pytest.param("Gabapentine 600mg", "Gabapentin", id="extra-letter"),
        pytest.param("Gabapentn 600mg", "Gabapentin", id="deletion"),
        pytest.param("Cymblata 60mg", "Cymbalta", id="transposition"),
        pytest.param("Acupunture x 6", "Acupuncture", id="service"),
        pytest.param("vicoden 5/500", "Vicodin", id="listed-misspelling"),
    ],
)
def test_misspellings(lex: Lexicon, text: str, canonical: str) -> None:
    assert _found(lex, text).entry.canonical == canonical


def test_fuzzy_is_flagged_and_grounded(lex: Lexicon) -> None:
    m = _found(lex, "Norcco 10/325mg #60")
    assert m.fuzzy and m.surface == "Norcco" and (m.start, m.end) == (0, 6)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Request for the patient dated 6/9/15: Norcco", id="outside-window"),
        pytest.param("Norc 10/325", id="too-short"),
        pytest.param("Norcoxx 10/325", id="two-edits"),
        pytest.param("Xorco 10/325", id="first-letter-differs"),
    ],
)
def test_no_fuzzy_match(lex: Lexicon, text: str) -> None:
    assert lex.find(text) is None


def test_exact_match_beats_fuzzy(lex: Lexicon) -> None:
    # "Norco" is exact in the first four words; nothing fuzzy is tried.
    m = _found(lex, "Norco or Tizanadine")
    assert m.entry.canonical == "Norco" and not m.fuzzy


def test_find_all_is_never_fuzzy(lex: Lexicon) -> None:
    assert lex.find_all("Why was Norcco denied?") == []


# --- word boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("somatic dysfunction of the lumbar spine", id="soma-in-somatic"),
        pytest.param("the pt was seen", id="pt-lower-case"),
        pytest.param("tens of letters", id="tens-lower-case"),
        pytest.param("Normocephalic, atraumatic", id="norco-prefix"),
        pytest.param("CTS on the right", id="carpal-tunnel-syndrome-not-ct"),
        pytest.param("", id="empty"),
    ],
)
def test_word_boundaries(lex: Lexicon, text: str) -> None:
    assert lex.find(text) is None
    assert lex.find_all(text) == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a morphine equivalent dose of 180 mg", id="med"),
        pytest.param("Morphine equivalents exceed 120", id="med-plural"),
        pytest.param("no trigger points on examination", id="exam-finding"),
        pytest.param("manual muscle testing 5/5", id="muscle-testing"),
    ],
)
def test_phrases_that_name_no_treatment(lex: Lexicon, text: str) -> None:
    assert lex.find(text) is None
    assert lex.find_all(text) == []


def test_stop_phrase_does_not_hide_a_longer_alias(lex: Lexicon) -> None:
    m = _found(lex, "Orthopedic surgery consultation for the knee")
    assert m.entry.canonical == "Surgical consultation"
    assert _found(lex, "Morphine ER 30mg #60").entry.canonical == "Morphine ER"


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("Physical Medicine & Rehabilitation reviewers", id="pmr-ampersand"),
        pytest.param("physical medicine and rehabilitation", id="pmr-and"),
        pytest.param("Board certified in Orthopaedic Surgery", id="ortho-surgery"),
        pytest.param("morphine equivalent dose above 120", id="med"),
    ],
)
def test_specialties_are_not_groups(lex: Lexicon, question: str) -> None:
    assert lex.classes_for_group_word(question) == []


def test_tylenol_3_is_not_read_into_325(lex: Lexicon) -> None:
    assert _found(lex, "Tylenol 325").entry.canonical == "Tylenol"


# --- questions ------------------------------------------------------------------------


def test_find_all_in_order(lex: Lexicon) -> None:
    q = (
        "Why are Norco and Butrans upheld without a urine drug screen, and what about "
        "physical therapy or epidural steroid injections?"
    )
    found = lex.find_all(q)
    assert [m.entry.canonical for m in found] == [
        "Norco",
        "Butrans",
        "Urine drug screen",
        "Physical therapy",
        "Epidural steroid injection",
    ]
    assert all(q[m.start : m.end] == m.surface for m in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


def test_find_all_longest_not_overlapping(lex: Lexicon) -> None:
    found = lex.find_all("Tylenol with codeine and hydrocodone/naloxone")
    assert [m.entry.canonical for m in found] == [
        "Tylenol #3",
        "Hydrocodone/acetaminophen",
        "Naloxone",
    ]


@pytest.mark.parametrize(
    "question, classes",
    [
        pytest.param("How are opioids decided?", ["opioid"], id="opioids"),
        pytest.param("opiates", ["opioid"], id="opiates"),
        pytest.param("Narcotics", ["opioid"], id="narcotics"),
        pytest.param(
            "muscle relaxants", ["muscle relaxant", "antispasticity agent"], id="muscle-relaxants"
        ),
        pytest.param("NSAIDs", ["NSAID"], id="nsaids"),
        pytest.param("anti-inflammatories", ["NSAID"], id="anti-inflammatories"),
        pytest.param("benzos", ["benzodiazepine"], id="benzos"),
        pytest.param("antidepressants", ["antidepressant"], id="antidepressants"),
        pytest.param("antiepileptics", ["anticonvulsant"], id="antiepileptics"),
        pytest.param("sleep aids", ["sleep aid"], id="sleep-aids"),
        pytest.param("compounded creams", ["compounded topical"], id="compounded"),
        pytest.param("PPIs", ["proton pump inhibitor"], id="ppis"),
        pytest.param("injections", ["injection"], id="injections"),
        pytest.param("imaging", ["imaging"], id="imaging"),
        pytest.param("surgery", ["surgery"], id="surgery"),
        pytest.param("DME", ["durable medical equipment"], id="dme"),
        pytest.param("non-opioid analgesics", ["non-opioid analgesic", "NSAID"], id="non-opioid"),
    ],
)
def test_group_words(lex: Lexicon, question: str, classes: list[str]) -> None:
    assert [c for c, _, _ in lex.classes_for_group_word(question)] == classes


def test_group_word_spans(lex: Lexicon) -> None:
    q = "Are opioids or muscle relaxants upheld more often?"
    got = lex.classes_for_group_word(q)
    assert [(c, q[s:e]) for c, s, e in got] == [
        ("opioid", "opioids"),
        ("muscle relaxant", "muscle relaxants"),
        ("antispasticity agent", "muscle relaxants"),
    ]


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("epidural steroid injections", id="inside-esi"),
        pytest.param("spine surgery consultation", id="inside-consult"),
        pytest.param("questions about Norco", id="no-group-word"),
    ],
)
def test_group_word_inside_a_treatment_is_not_a_group(lex: Lexicon, question: str) -> None:
    assert lex.classes_for_group_word(question) == []


def test_therapy_alone_is_not_a_group(lex: Lexicon) -> None:
    # "opioid therapy" means opioids, not physical medicine.
    assert [c for c, _, _ in lex.classes_for_group_word("long-term opioid therapy")] == ["opioid"]


def test_opioid_class_holds_norco_and_butrans(lex: Lexicon) -> None:
    names = {e.canonical for e in lex.entries_for_class("opioid")}
    assert {"Norco", "Butrans", "Percocet", "Hydrocodone/acetaminophen"} <= names
    assert "Soma" not in names
    assert lex.entries_for_class("OPIOID") == lex.entries_for_class("opioid")


def test_same_generic(lex: Lexicon) -> None:
    norco = lex.by_canonical("norco")
    assert norco is not None
    names = [e.canonical for e in lex.same_generic(norco)]
    assert {"Norco", "Vicodin", "Hydrocodone/acetaminophen"} <= set(names)
    assert "Percocet" not in names
    pt = lex.by_canonical("Physical therapy")
    assert pt is not None and lex.same_generic(pt) == [pt]


def test_hydrocodone_question_reaches_norco(lex: Lexicon) -> None:
    (m,) = lex.find_all("how are hydrocodone requests decided")
    assert "Norco" in {e.canonical for e in lex.same_generic(m.entry)}


def test_by_canonical(lex: Lexicon) -> None:
    assert lex.by_canonical("  TIZANIDINE ") is lex.by_canonical("Tizanidine")
    assert lex.by_canonical("Zanaflex") is not None
    assert lex.by_canonical("nothing like this") is None


# --- names from DOMAIN.md ("Names: brand, generic, class"), hard-coded ----------------

DOMAIN_NAMES = [
    # Opioids
    ("Norco", "Norco"),
    ("Vicodin", "Vicodin"),
    ("hydrocodone/acetaminophen", "Hydrocodone/acetaminophen"),
    ("Percocet", "Percocet"),
    ("oxycodone/acetaminophen", "Oxycodone/acetaminophen"),
    ("OxyContin", "OxyContin"),
    ("oxycodone ER", "Oxycodone ER"),
    ("Ultram", "Ultram"),
    ("Ultram ER", "Ultram ER"),
    ("tramadol", "Tramadol"),
    ("Ultracet", "Ultracet"),
    ("tramadol/acetaminophen", "Tramadol/acetaminophen"),
    ("Nucynta", "Nucynta"),
    ("tapentadol", "Tapentadol"),
    ("Butrans", "Butrans"),
    ("buprenorphine patch", "Buprenorphine patch"),
    ("Suboxone", "Suboxone"),
    ("buprenorphine/naloxone", "Buprenorphine/naloxone"),
    ("Duragesic", "Duragesic"),
    ("fentanyl patch", "Fentanyl patch"),
    ("MS Contin", "MS Contin"),
    ("morphine ER", "Morphine ER"),
    ("Dilaudid", "Dilaudid"),
    ("hydromorphone", "Hydromorphone"),
    ("Opana", "Opana"),
    ("oxymorphone", "Oxymorphone"),
    ("Tylenol #3", "Tylenol #3"),
    ("acetaminophen/codeine", "Acetaminophen/codeine"),
    ("methadone", "Methadone"),
    # Muscle relaxants and antispasticity agents
    ("Soma", "Soma"),
    ("carisoprodol", "Carisoprodol"),
    ("Flexeril", "Flexeril"),
    ("Fexmid", "Fexmid"),
    ("cyclobenzaprine", "Cyclobenzaprine"),
    ("Robaxin", "Robaxin"),
    ("methocarbamol", "Methocarbamol"),
    ("Skelaxin", "Skelaxin"),
    ("metaxalone", "Metaxalone"),
    ("Norflex", "Norflex"),
    ("orphenadrine", "Orphenadrine"),
    ("Zanaflex", "Zanaflex"),
    ("tizanidine", "Tizanidine"),
    ("Lioresal", "Lioresal"),
    ("baclofen", "Baclofen"),
    # NSAIDs
    ("Relafen", "Relafen"),
    ("nabumetone", "Nabumetone"),
    ("Naprosyn", "Naprosyn"),
    ("Anaprox", "Anaprox"),
    ("naproxen", "Naproxen"),
    ("Mobic", "Mobic"),
    ("meloxicam", "Meloxicam"),
    ("Celebrex", "Celebrex"),
    ("celecoxib", "Celecoxib"),
    ("Motrin", "Motrin"),
    ("ibuprofen", "Ibuprofen"),
    ("Voltaren", "Voltaren"),
    ("diclofenac", "Diclofenac"),
    ("Toradol", "Toradol"),
    ("ketorolac", "Ketorolac"),
    ("Lodine", "Lodine"),
    ("etodolac", "Etodolac"),
    # Anticonvulsants
    ("Lyrica", "Lyrica"),
    ("pregabalin", "Pregabalin"),
    ("Neurontin", "Neurontin"),
    ("gabapentin", "Gabapentin"),
    ("Topamax", "Topamax"),
    ("topiramate", "Topiramate"),
    # Antidepressants
    ("Elavil", "Elavil"),
    ("amitriptyline", "Amitriptyline"),
    ("Pamelor", "Pamelor"),
    ("nortriptyline", "Nortriptyline"),
    ("Cymbalta", "Cymbalta"),
    ("duloxetine", "Duloxetine"),
    ("Effexor", "Effexor"),
    ("venlafaxine", "Venlafaxine"),
    ("Zoloft", "Zoloft"),
    ("sertraline", "Sertraline"),
    ("trazodone", "Trazodone"),
    # Benzodiazepines and sleep aids
    ("Xanax", "Xanax"),
    ("alprazolam", "Alprazolam"),
    ("Valium", "Valium"),
    ("diazepam", "Diazepam"),
    ("Ativan", "Ativan"),
    ("lorazepam", "Lorazepam"),
    ("Klonopin", "Klonopin"),
    ("clonazepam", "Clonazepam"),
    ("Ambien", "Ambien"),
    ("zolpidem", "Zolpidem"),
    ("Lunesta", "Lunesta"),
    ("eszopiclone", "Eszopiclone"),
    # Topicals
    ("Lidoderm", "Lidoderm"),
    ("lidocaine 5% patch", "Lidocaine patch"),
    ("Terocin", "Terocin"),
    ("lidocaine", "Lidocaine"),
    ("menthol", "Menthol"),
    ("capsaicin", "Capsaicin"),
    ("methyl salicylate", "Methyl salicylate/menthol"),
    ("Flector", "Flector"),
    ("diclofenac patch", "Diclofenac patch"),
    ("compounded creams", "Compounded topical"),
    ("flurbiprofen", "Flurbiprofen"),
    ("ketoprofen", "Ketoprofen"),
    # Stomach protection and others
    ("Prilosec", "Prilosec"),
    ("omeprazole", "Omeprazole"),
    ("Protonix", "Protonix"),
    ("pantoprazole", "Pantoprazole"),
    ("Zofran", "Zofran"),
    ("ondansetron", "Ondansetron"),
    # Services
    ("physical therapy", "Physical therapy"),
    ("aquatic therapy", "Aquatic therapy"),
    ("chiropractic manipulation", "Chiropractic manipulation"),
    ("acupuncture", "Acupuncture"),
    ("massage", "Massage therapy"),
    ("TENS", "TENS unit"),
    ("H-wave", "H-wave unit"),
    ("interferential units", "Interferential unit"),
    ("MRI", "MRI"),
    ("CT", "CT scan"),
    ("X-ray", "X-ray"),
    ("EMG/NCV", "EMG/NCV"),
    ("urine drug screen", "Urine drug screen"),
    ("functional capacity evaluation", "Functional capacity evaluation"),
    ("epidural steroid injection", "Epidural steroid injection"),
    ("facet injection", "Facet injection"),
    ("medial branch block", "Medial branch block"),
    ("radiofrequency ablation", "Radiofrequency ablation"),
    ("trigger point injection", "Trigger point injection"),
    ("sacroiliac joint injection", "Sacroiliac joint injection"),
    ("hyaluronic acid (Synvisc) knee injection", "Hyaluronic acid injection"),
    ("Synvisc", "Hyaluronic acid injection"),
    ("fusion", "Spinal fusion"),
    ("discectomy", "Discectomy"),
    ("laminectomy", "Laminectomy"),
    ("arthroscopy", "Arthroscopy"),
    ("carpal tunnel release", "Carpal tunnel release"),
    ("functional restoration program", "Functional restoration program"),
    ("work conditioning", "Work conditioning"),
    ("psychotherapy", "Psychotherapy"),
    ("psychiatric consultations", "Psychiatric consultation"),
    ("pain-management consultations", "Pain management consultation"),
    ("home health care", "Home health care"),
    ("braces", "Brace"),
    ("cold therapy units", "Cold therapy unit"),
    ("canes", "Cane"),
    ("walkers", "Walker"),
    ("weight-loss programs", "Weight loss program"),
    ("transportation", "Transportation"),
]


@pytest.mark.parametrize("name, canonical", [pytest.param(n, c, id=n) for n, c in DOMAIN_NAMES])
def test_domain_names_are_known(lex: Lexicon, name: str, canonical: str) -> None:
    m = _found(lex, name)
    assert m.entry.canonical == canonical
    assert not m.fuzzy


# --- grown from the real letters (issue 11) -----------------------------------------------


@pytest.mark.parametrize(
    "text, canonical, drug_class",
    [
        pytest.param("Fanatrex 25mg/ml oral suspension", "Fanatrex", "compounded oral suspension"),
        pytest.param("Synapryn 10mg/ml 500ml", "Synapryn", "compounded oral suspension"),
        pytest.param("Tabradol 1mg/ml", "Tabradol", "compounded oral suspension"),
        pytest.param("Deprizine 15mg/ml", "Deprizine", "compounded oral suspension"),
        pytest.param("Dicopanol 5mg/ml", "Dicopanol", "compounded oral suspension"),
        pytest.param("Trezix capsule 320.5/30/16mg", "Trezix", "opioid"),
        pytest.param("Terocin lotion 120ml", "Terocin", "compounded topical"),
        pytest.param("Lidopro ointment 121gm", "LidoPro", "compounded topical"),
        pytest.param("Theramine #90", "Theramine", "medical food"),
        pytest.param("Sentra PM #60", "Sentra PM", "medical food"),
        pytest.param("Gabapentin 10% cream 180gm", "Compounded topical", "compounded topical"),
        pytest.param("Ketamine 10% cream", "Compounded topical", "compounded topical"),
        pytest.param("Ketoprofen 20% 120gm", "Ketoprofen cream", "compounded topical"),
        pytest.param("Diclofenac sodium 3% gel", "Diclofenac gel", "topical analgesic"),
        pytest.param(
            "Flurbiprofen/Cyclobenzaprine/Menthol cream", "Compounded topical", "compounded topical"
        ),
        pytest.param(
            "Capsaicin 0.025%, Menthol 2%, Camphor 2% cream",
            "Compounded topical",
            "compounded topical",
        ),
        pytest.param("Lidocaine 5% ointment", "Lidocaine", "topical analgesic"),
        pytest.param("Ultrasound 2 x 4", "Therapeutic ultrasound", "physical medicine"),
        pytest.param("Six sessions of ultrasound", "Therapeutic ultrasound", "physical medicine"),
        pytest.param("Ultrasound of the right shoulder", "Ultrasound", "imaging"),
        pytest.param("Diagnostic ultrasound of the knee", "Ultrasound", "imaging"),
        pytest.param(
            "Ultrasound guided cortisone injection", "Corticosteroid injection", "injection"
        ),
        pytest.param("E-stim x 6", "Electrical stimulation", "physical medicine"),
        pytest.param("Myofascial release x 6", "Manual therapy", "physical medicine"),
        pytest.param("Cold laser therapy 2x3", "Laser therapy", "physical medicine"),
        pytest.param("Hot/cold packs", "Hot and cold packs", "physical medicine"),
        pytest.param("Post-op physical therapy x 12", "Physical therapy", "physical medicine"),
        pytest.param("Re-examination", "Physical examination", "evaluation and management"),
        pytest.param("TOC to pain management", "Transfer of care", "consultation"),
        pytest.param(
            "Partial hospitalization program",
            "Partial hospitalization program",
            "behavioral health",
        ),
        pytest.param("IOP 3 days a week", "Intensive outpatient program", "behavioral health"),
        pytest.param("Bankart repair", "Labral repair", "surgery"),
        pytest.param("ORIF of the left ankle", "Open reduction internal fixation", "surgery"),
        pytest.param("Right knee surgery", "Surgery", "surgery"),
        pytest.param("Assistant surgeon", "Assistant surgeon", "perioperative service"),
        pytest.param("Shoulder sling", "Sling", "durable medical equipment"),
        pytest.param("CAM walker boot", "Walking boot", "durable medical equipment"),
        pytest.param("Crutches", "Crutches", "durable medical equipment"),
        pytest.param("Knee walker", "Knee scooter", "durable medical equipment"),
        pytest.param("3-in-1 commode", "Bathroom safety equipment", "durable medical equipment"),
        pytest.param("Shower chair", "Bathroom safety equipment", "durable medical equipment"),
        pytest.param(
            "RS-4i sequential stimulator", "Interferential unit", "durable medical equipment"
        ),
        pytest.param("Inferential unit", "Interferential unit", "durable medical equipment"),
        pytest.param("Standing desk", "Ergonomic equipment", "durable medical equipment"),
        pytest.param("Adult diapers", "Medical supplies", "durable medical equipment"),
        pytest.param("SSEP of the lower extremities", "Evoked potentials", "electrodiagnostics"),
        pytest.param("PT/INR", "Laboratory tests", "diagnostic test"),
        pytest.param("Pulmonary function test", "Pulmonary function test", "diagnostic test"),
        pytest.param("PET scan", "PET scan", "imaging"),
        pytest.param("Stem cell injection to the knee", "Stem cell injection", "injection"),
    ],
)
def test_real_letter_treatments(lex: Lexicon, text: str, canonical: str, drug_class: str) -> None:
    m = _found(lex, text)
    assert (m.entry.canonical, m.entry.drug_class) == (canonical, drug_class)
    assert text[m.start : m.end] == m.surface
    assert not m.fuzzy


@pytest.mark.parametrize(
    "text, canonical",
    [
        # An oral list with "mg" is not a compound: the first drug is the request.
        pytest.param("Naproxen 550mg, omeprazole 20mg, Lidoderm 5% patch", "Naproxen", id="oral"),
        pytest.param("Norco 10/325mg and Soma 350mg", "Norco", id="two-oral-drugs"),
        pytest.param("Hydrocodone/APAP 10/325", "Hydrocodone/acetaminophen", id="combination"),
        # One topical with its strengths is itself, not a compound.
        pytest.param("Lidopro 4%-27.5%-0.0325% 121gm", "LidoPro", id="one-topical"),
        pytest.param("Fluriflex 15/10% cream", "Fluriflex", id="branded-compound"),
        # A topical named in a service string does not take it over.
        pytest.param("Twelve acupuncture visits with Capsaicin patch", "Acupuncture", id="acu"),
        pytest.param("Tramadol 50mg #60", "Tramadol", id="tramadol"),
        pytest.param("Ultrasound", "Ultrasound", id="bare-ultrasound-is-imaging"),
    ],
)
def test_not_read_as_a_compound_or_therapy(lex: Lexicon, text: str, canonical: str) -> None:
    m = _found(lex, text)
    assert m.entry.canonical == canonical
    assert m.ingredients == ()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("lumbar spine", id="lumbar-spine"),
        pytest.param("cervical, thoracic, and lumbar", id="spine-regions"),
        pytest.param("neck, right hand and head", id="neck-hand-head"),
        pytest.param("left shoulder, left wrist and left knee", id="joints"),
        pytest.param("bilateral upper extremities", id="extremities"),
        pytest.param("right lower leg", id="leg"),
        pytest.param("SI joint", id="si-joint"),
        pytest.param("sacroiliac joint", id="sacroiliac-joint"),
        pytest.param("facet joint", id="facet-joint"),
        pytest.param("L4-L5 and L5-S1", id="levels"),
        pytest.param("left trapezius and low back", id="trapezius"),
        pytest.param("lumbosacral", id="lumbosacral"),
        pytest.param("the pelvis and left hip", id="pelvis-hip"),
        pytest.param("Somatic dysfunction", id="soma-in-somatic"),
        pytest.param("under fluoroscopic guidance", id="guidance"),
        pytest.param("CT guided", id="ct-guided"),
        pytest.param("pt/ot", id="pt-ot-lower-case"),
        pytest.param("a lint-free cloth", id="lint-lower-case"),
        # Rationales advise one; it is rarely the request ("Which letters discuss ...?").
        pytest.param("continue a home exercise program", id="home-exercise-program"),
        pytest.param("the ua was clean", id="ua-lower-case"),
    ],
)
def test_body_regions_and_other_words_are_not_treatments(lex: Lexicon, text: str) -> None:
    assert lex.find(text) is None
    assert lex.find_all(text) == []


def test_mri_in_a_rationale_sentence_is_found(lex: Lexicon) -> None:
    text = "The MRI of 12/02/2016 showed a focal strain; a repeat MRI is not supported."
    assert [m.entry.canonical for m in lex.find_all(text)] == ["MRI", "MRI"]


def test_medication_requests_mean_every_drug_class(lex: Lexicon) -> None:
    drug_classes = {e.drug_class for e in lex.entries if e.kind == "drug"}
    got = {c for c, _, _ in lex.classes_for_group_word("Why are medication requests denied?")}
    assert got == drug_classes
    assert "imaging" not in got and "compounded oral suspension" in got


@pytest.mark.parametrize(
    "question, classes",
    [
        pytest.param("imaging", {"imaging"}, id="imaging"),
        pytest.param(
            "diagnostics", {"imaging", "electrodiagnostics", "diagnostic test"}, id="diagnostics"
        ),
        pytest.param("topicals", {"topical analgesic", "compounded topical"}, id="topicals"),
        pytest.param("compounded creams", {"compounded topical"}, id="compounded-creams"),
        pytest.param(
            "compounded medications",
            {"compounded topical", "compounded oral suspension"},
            id="compounded-medications",
        ),
        pytest.param("DME", {"durable medical equipment"}, id="dme"),
        pytest.param("medical supplies", {"durable medical equipment"}, id="supplies"),
        pytest.param("injections", {"injection"}, id="injections"),
        pytest.param("surgery", {"surgery"}, id="surgery"),
        pytest.param("therapy modalities", {"physical medicine"}, id="modalities"),
        pytest.param("lumbar spine", set(), id="region-is-no-group"),
        pytest.param("What was decided for the left knee?", set(), id="region-question"),
    ],
)
def test_group_words_from_the_real_letters(lex: Lexicon, question: str, classes: set) -> None:
    assert {c for c, _, _ in lex.classes_for_group_word(question)} == classes


def test_imaging_covers_mri_ct_and_x_ray(lex: Lexicon) -> None:
    names = {e.canonical for e in lex.entries_for_class("imaging")}
    assert {"MRI", "CT scan", "X-ray"} <= names


# --- data integrity -------------------------------------------------------------------


def test_file_shape(raw: dict) -> None:
    assert raw["version"] == 1
    assert isinstance(raw["_comment"], str) and raw["_comment"]
    assert isinstance(raw["entries"], list) and len(raw["entries"]) >= 120
    assert isinstance(raw["groups"], dict) and raw["groups"]


def test_every_entry_is_complete(raw: dict) -> None:
    for e in raw["entries"]:
        assert isinstance(e["canonical"], str) and e["canonical"].strip(), e
        assert e["kind"] in ("drug", "service"), e
        assert isinstance(e["class"], str) and e["class"].strip(), e
        assert isinstance(e["aliases"], list), e
        assert all(isinstance(a, str) and a.strip() for a in e["aliases"]), e
        if e["kind"] == "service":
            assert e["generic"] is None, e
        elif e["class"] != "medical food":  # branded foods have no generic name
            assert isinstance(e["generic"], str) and e["generic"], e


def test_canonical_names_are_unique(raw: dict) -> None:
    names = [e["canonical"].casefold() for e in raw["entries"]]
    assert len(names) == len(set(names))


def test_no_alias_maps_to_two_generics(raw: dict) -> None:
    generics: dict[str, set[str | None]] = defaultdict(set)
    for e in raw["entries"]:
        forms = [e["canonical"], *e["aliases"], *e.get("exact_case_aliases", [])]
        for form in forms:
            generics[alias_key(form)].add(e["generic"])
    clashes = {k: v for k, v in generics.items() if len(v) > 1}
    assert clashes == {}


def test_no_surface_form_in_two_entries(raw: dict) -> None:
    owner: dict[str, str] = {}
    clashes = []
    for e in raw["entries"]:
        forms = [e["canonical"], *e["aliases"], *e.get("exact_case_aliases", [])]
        for key in {alias_key(f) for f in forms}:
            if key in owner:
                clashes.append((key, owner[key], e["canonical"]))
            owner[key] = e["canonical"]
    assert clashes == []


def test_stop_phrases_are_not_aliases(raw: dict) -> None:
    aliases = {
        alias_key(f)
        for e in raw["entries"]
        for f in [e["canonical"], *e["aliases"], *e.get("exact_case_aliases", [])]
    }
    assert [p for p in raw["stop_phrases"] if alias_key(p) in aliases] == []


def test_generic_entries_follow_the_naming_rule(raw: dict) -> None:
    # Generics commonly requested by name have an entry whose canonical is the generic.
    canon = {e["canonical"] for e in raw["entries"]}
    for generic in [
        "tizanidine",
        "baclofen",
        "amitriptyline",
        "gabapentin",
        "cyclobenzaprine",
        "tramadol",
        "methadone",
        "trazodone",
        "omeprazole",
        "naproxen",
    ]:
        assert generic.capitalize() in canon


def test_every_surface_form_finds_its_own_entry(lex: Lexicon) -> None:
    for e in lex.entries:
        for form in e.surface_forms:
            m = lex.find(form)
            assert m is not None and m.entry is e, (form, e.canonical, m)
            assert (m.start, m.end) == (0, len(form)), form


def test_group_classes_exist(lex: Lexicon) -> None:
    classes = set(lex.classes)
    for word, group in lex.groups.items():
        assert group, word
        assert set(group) <= classes, word


def test_every_group_word_is_found(lex: Lexicon) -> None:
    for word, group in lex.groups.items():
        got = lex.classes_for_group_word(word)
        assert [c for c, _, _ in got] == list(group), word


# --- loading and speed ----------------------------------------------------------------


def test_load_is_cached(lex: Lexicon) -> None:
    assert Lexicon.load() is lex
    assert Lexicon.load(DEFAULT_PATH) is lex
    assert get_lexicon() is lex


def test_load_other_file(tmp_path) -> None:
    path = tmp_path / "mini.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "entries": [
                    {
                        "canonical": "Widget",
                        "kind": "drug",
                        "generic": "widgetol",
                        "class": "gadget",
                        "aliases": ["widgetol"],
                    }
                ],
                "groups": {"gadgets": ["gadget"]},
            }
        ),
        encoding="utf-8",
    )
    mini = Lexicon.load(path)
    assert _found(mini, "Widgetol 5mg").entry.canonical == "Widget"
    assert mini.classes_for_group_word("gadgets") == [("gadget", 0, 7)]
    assert mini.find("Norco") is None


_W = {"canonical": "Widget", "kind": "drug", "generic": "widgetol", "class": "gadget"}


def test_kind_groups_expand_to_every_class_of_that_kind() -> None:
    gizmo = {"canonical": "Gizmo", "kind": "service", "generic": None, "class": "gizmos"}
    mini = Lexicon.from_data(
        {"entries": [_W, gizmo], "groups": {"drugs": ["kind:drug"], "all": ["kind:service"]}}
    )
    assert mini.groups == {"drugs": ("gadget",), "all": ("gizmos",)}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"entries": {}}, id="entries-not-list"),
        pytest.param({"entries": [{"kind": "drug"}]}, id="no-canonical"),
        pytest.param({"entries": [{"canonical": "X", "kind": "pill"}]}, id="bad-kind"),
        pytest.param({"entries": [], "groups": []}, id="groups-not-object"),
        pytest.param({"entries": [_W], "groups": {"x": ["nope"]}}, id="group-unknown-class"),
        pytest.param({"entries": [_W], "groups": {"x": ["kind:pill"]}}, id="group-unknown-kind"),
        pytest.param({"entries": [_W], "compounds": {"entry": "Nope"}}, id="compound-no-entry"),
        pytest.param(
            {"entries": [_W], "compounds": {"entry": "Widget", "topical_forms": {"w": "Widget"}}},
            id="topical-form-not-topical",
        ),
        pytest.param(
            {"entries": [_W], "session_readings": {"gizmo": "Widget"}}, id="reading-no-alias"
        ),
        pytest.param(
            {"entries": [_W], "session_readings": {"widget": "Nope"}}, id="reading-no-entry"
        ),
    ],
)
def test_malformed_data(data: dict) -> None:
    with pytest.raises(ValueError, match="lexicon"):
        Lexicon.from_data(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_matches_are_grounded(text: str) -> None:
    lex = get_lexicon()
    m = lex.find(text)
    if m is not None:
        assert text[m.start : m.end] == m.surface
    prev_end = 0
    for m in lex.find_all(text):
        assert text[m.start : m.end] == m.surface
        assert m.start >= prev_end
        prev_end = m.end
    for _, s, e in lex.classes_for_group_word(text):
        assert 0 <= s < e <= len(text)
