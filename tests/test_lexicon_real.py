"""The lexicon on the treatments of the 65 real DWC letters (``../shared/real-letters``).

``EXPECTED`` was written by hand from the letters: for every treatment string in
``gold.json``, the entry a reader would file it under and that entry's class. A gold
treatment missing from the table fails the test, so new gold items get a row here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imr_assist.parse.lexicon import Lexicon, get_lexicon

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-letters"
GOLD = REAL / "gold.json"

needs_real = pytest.mark.skipif(
    not GOLD.is_file(), reason=f"real letters not found: {GOLD} (see issue 11)"
)

IMG, PM, DME, EDX, DX = (
    "imaging",
    "physical medicine",
    "durable medical equipment",
    "electrodiagnostics",
    "diagnostic test",
)
EM, SURG, INJ = "evaluation and management", "surgery", "injection"
SUSP = "compounded oral suspension"

# treatment as written -> (canonical, class)
EXPECTED: dict[str, tuple[str, str]] = {
    # imaging
    "MRI of the right shoulder without contrast": ("MRI", IMG),
    "MRI of the cervical spine without contrast": ("MRI", IMG),
    "Cervical spine MRI without contrast": ("MRI", IMG),
    "MRI of neck and right hand without contrast": ("MRI", IMG),
    "MRI of the left shoulder": ("MRI", IMG),
    "MRI cervical spine without contrast": ("MRI", IMG),
    "MRI of the lumbar without contrast": ("MRI", IMG),
    "MRI of the left hip": ("MRI", IMG),
    "MRI of lumbar spine without contrast": ("MRI", IMG),
    "MRI of the lumbar spine without contrast": ("MRI", IMG),
    "MRI of the cervical spine": ("MRI", IMG),
    "MRI of the lumbar spine": ("MRI", IMG),
    "MRI of the left wrist": ("MRI", IMG),
    "MRI for the cervical spine": ("MRI", IMG),
    "MRI of the neck without contrast": ("MRI", IMG),
    "MRI (magnetic resonance imaging) of the lumbar spine": ("MRI", IMG),
    "MRI (magnetic resonance imaging) of the cervical spine": ("MRI", IMG),
    "Open MRI of the lumbosacral spine": ("MRI", IMG),
    "Magnetic resonance imaging (MRI) of the right shoulder": ("MRI", IMG),
    "MRI of the thoracic spine without contrast, #1": ("MRI", IMG),
    "MRI Lumbosacral Spine without Contrast": ("MRI", IMG),
    "MRI of the right knee without contrast": ("MRI", IMG),
    "MRI of the right foot": ("MRI", IMG),
    "X-ray of the pelvis": ("X-ray", IMG),
    "X-rays of the lumbar spine": ("X-ray", IMG),
    "X-rays of the left shoulder": ("X-ray", IMG),
    "X-Ray of the lumbar spine": ("X-ray", IMG),
    "Cervical spine x-rays": ("X-ray", IMG),
    "Lumbar spine x-rays": ("X-ray", IMG),
    "Associated surgical service: Chest x-ray": ("X-ray", IMG),
    "Cervical CT scan": ("CT scan", IMG),
    "CT scan of the thoracic spine": ("CT scan", IMG),
    "Retrospective CT scan of the cervical spine (DOS 11/18/16)": ("CT scan", IMG),
    "CT scan of the cervical spine": ("CT scan", IMG),
    # electrodiagnostics and other tests
    "EMG/NCV of the bilateral upper extremities": ("EMG/NCV", EDX),
    "EMG/NCV of the bilateral lower extremities": ("EMG/NCV", EDX),
    "EMG/NCS of the bilateral upper extremities": ("EMG/NCV", EDX),
    "NCV/EMG of the bilateral upper extremity": ("EMG/NCV", EDX),
    "EMG of the right upper extremity": ("EMG", EDX),
    "Functional capacity evaluation": ("Functional capacity evaluation", DX),
    "Trigger points impedance imaging (TPII)": ("Trigger point impedance imaging", DX),
    "Associated surgical service: EKG": ("Electrocardiogram", DX),
    "Associated surgical service: Labs - CBC": ("Laboratory tests", DX),
    "Associated surgical service: Labs - PT/PTT": ("Laboratory tests", DX),
    "Associated surgical service: Labs - Chem panel": ("Laboratory tests", DX),
    "Associated surgical service: UA": ("Urinalysis", DX),
    # therapy
    "Acupuncture 3 times a week for 2 weeks, neck, right hand and head": ("Acupuncture", PM),
    "Six sessions of acupuncture one time a week for six weeks": ("Acupuncture", PM),
    "Twelve infrared acupuncture visits, 2 times weekly for 6 weeks": ("Acupuncture", PM),
    "Twelve manual acupuncture visits (15 mins), 2 times weekly for 6 weeks": ("Acupuncture", PM),
    "Twelve elect acupuncture visits (15 mins), 2 times weekly for 6 weeks": ("Acupuncture", PM),
    "Twelve acupuncture visits with Capsaicin patch, 2 times weekly for 6 weeks": (
        "Acupuncture",
        PM,
    ),
    "Initial acupuncture, 1 to 2 times per week for 4 weeks, for the neck": ("Acupuncture", PM),
    "Acupuncture of the lumbar and cervical for two sessions": ("Acupuncture", PM),
    "Spinal manipulation 1 times 8": ("Chiropractic manipulation", PM),
    "Chiropractic therapy sessions for the cervical spine, #2": ("Chiropractic manipulation", PM),
    "Chiropractic treatment for cervical and lumbar spine, left wrist/hand, 3 times a week "
    "for 4 weeks": ("Chiropractic manipulation", PM),
    "Chiro with modalities 2 times a week for 6 weeks for neck, back": (
        "Chiropractic manipulation",
        PM,
    ),
    "Electrical stimulation 1 times 8": ("Electrical stimulation", PM),
    "Four sessions of electrical stimulation two times a week times 2 weeks": (
        "Electrical stimulation",
        PM,
    ),
    "Retrospective E-stim (DOS 12/29/16)": ("Electrical stimulation", PM),
    # A chiropractor's modality, cited under "Ultrasound, therapeutic".
    "Ultrasound 1 times 8": ("Therapeutic ultrasound", PM),
    "Four sessions of infrared therapy two times a week times 2 weeks": ("Infrared therapy", PM),
    "Four sessions of manual therapy two times a week times 2 weeks": ("Manual therapy", PM),
    "Four sessions of therapeutic exercise two times a week times 2 weeks": (
        "Therapeutic exercise",
        PM,
    ),
    "Four sessions of biofeedback two times a week times 2 weeks": (
        "Biofeedback",
        "behavioral health",
    ),
    "Extracorporeal shockwave therapy (ESWT)": ("Extracorporeal shockwave therapy", PM),
    "Localized intense neurostimulation therapy [following TPII]": (
        "Localized intense neurostimulation therapy",
        PM,
    ),
    "Physical therapy 2-3 times a week for 6 weeks": ("Physical therapy", PM),
    "Four sessions of physical therapy two times a week times 2 weeks": ("Physical therapy", PM),
    "Three sessions of physical therapy of the right knee": ("Physical therapy", PM),
    "Additional physical therapy lumbar spine two times a week for three weeks": (
        "Physical therapy",
        PM,
    ),
    "Associated surgical service: Physical therapy, times 12": ("Physical therapy", PM),
    "two physical therapy sessions for the lumbar spine, left shoulder and left knee and eight "
    "physical therapy sessions for the left wrist": ("Physical therapy", PM),
    "Physical therapy 6 sessions 2 times a week for 3 weeks to the lumbar and cervical spine": (
        "Physical therapy",
        PM,
    ),
    "Physical therapy 6 sessions": ("Physical therapy", PM),
    "Twelve physical therapy sessions, three times weekly, for the right elbow": (
        "Physical therapy",
        PM,
    ),
    "Physical therapy three times a week for two weeks for the cervical, thoracic, and lumbar": (
        "Physical therapy",
        PM,
    ),
    "Additional physical therapy, 1 to 2 times per week for 3 weeks, for the neck": (
        "Physical therapy",
        PM,
    ),
    "Twelve sessions of physical therapy for the right shoulder, right wrist and right hand, "
    "three times a week for four weeks": ("Physical therapy", PM),
    "Additional physical therapy three times a week over two weeks": ("Physical therapy", PM),
    "Post-op physical therapy 12-18 sessions": ("Physical therapy", PM),
    "Physical therapy 2 times a week for 6 weeks bilateral shoulder, elbow and wrist": (
        "Physical therapy",
        PM,
    ),
    "Physical therapy, 2 times a week for 4 weeks, right knee": ("Physical therapy", PM),
    "Physical therapy 3 times a week for 4 weeks for the lumbar spine and left shoulder": (
        "Physical therapy",
        PM,
    ),
    "Six physical therapy sessions two times a week for three weeks for the neck, left "
    "trapezius and low back": ("Physical therapy", PM),
    "Six physical therapy visits for the lumbar": ("Physical therapy", PM),
    "Occupational therapy for six sessions": ("Occupational therapy", PM),
    "two occupational therapy sessions for the left wrist and eight occupational therapy "
    "sessions for the lumbar spine, left shoulder and left knee": ("Occupational therapy", PM),
    "PT/OT 18 sessions left hand, right lower leg": ("Physical and occupational therapy", PM),
    # exams, visits, consultations, programs
    "Physical exam 2 times 8": ("Physical examination", EM),
    "Initial exam": ("Physical examination", EM),
    "Associated surgical service: Medical clearance": ("Preoperative clearance", EM),
    "Pre-op Clearance": ("Preoperative clearance", EM),
    "TOC to ortho spine surgeon eval and treatment": ("Transfer of care", "consultation"),
    "Spine surgery evaluation for the lumbar": ("Surgical consultation", "consultation"),
    "Partial Hospitalization day treatment": (
        "Partial hospitalization program",
        "behavioral health",
    ),
    # injections and surgery
    "1 platelet rich plasma injection to left foot": ("Platelet-rich plasma injection", INJ),
    "Right L4 transforaminal epidural steroid injection under fluoroscopic guidance": (
        "Epidural steroid injection",
        INJ,
    ),
    "Right L5 transforaminal epidural steroid injection under fluoroscopic guidance": (
        "Epidural steroid injection",
        INJ,
    ),
    "Left shoulder arthroscopy with Bankart repair, possible biceps tenodesis": (
        "Arthroscopy",
        SURG,
    ),
    "Operative arthroscopy, superior labral anterior posterior repair, right shoulder": (
        "Arthroscopy",
        SURG,
    ),
    "Arthroscopy of the left knee": ("Arthroscopy", SURG),
    # an assistant at surgery is a service of the operation, not an operation
    "Assistant surgeon": ("Assistant surgeon", "perioperative service"),
    # durable medical equipment and supplies
    "TENS unit": ("TENS unit", DME),
    "TENS unit, daily trial, cervical and thoracic spine, #30": ("TENS unit", DME),
    "Retrospective TENS unit, purchase, lumbar spine, left hip, lower leg, and knee "
    "(DOS 12/29/16)": ("TENS unit", DME),
    "Associated surgical service: EMS/TENS unit": ("TENS unit", DME),
    "Associated surgical service: Cold therapy for one week": ("Cold therapy unit", DME),
    "Associated surgical service: Vascutherm unit, 14 days rental": ("Cold therapy unit", DME),
    "Associated surgical service: Hip pad": ("Therapy wrap", DME),
    "Associated surgical service: 2 leg wraps": ("Therapy wrap", DME),
    "Associated surgical service: Slingshot sling": ("Sling", DME),
    "Associated surgical service: Ultrasling": ("Sling", DME),
    "Lumbar support": ("Brace", DME),
    "Wrist braces #2": ("Brace", DME),
    "Elbow braces #2": ("Brace", DME),
    "Cervical pillow": ("Orthopedic pillow", DME),
    "Wedge pillow": ("Orthopedic pillow", DME),
    "standard wheelchair for a 2 month rental": ("Wheelchair", DME),
    "purchase of a bedside 3 in 1 commode": ("Bathroom safety equipment", DME),
    "purchase of a bath/shower chair": ("Bathroom safety equipment", DME),
    "1 knee scooter": ("Knee scooter", DME),
    "Sit-stand workstation": ("Ergonomic equipment", DME),
    # The reviewer weighed gloves and wipes under the ODG's durable medical equipment.
    "Large gloves": ("Medical supplies", DME),
    "Hygiene wipes": ("Medical supplies", DME),
    # drugs
    "Norflex 100mg #60": ("Norflex", "muscle relaxant"),
    "Orphenadrine Citrate ER 100mg tabs #30": ("Orphenadrine", "muscle relaxant"),
    "Cyclobenzaprine 7.5mg #60": ("Cyclobenzaprine", "muscle relaxant"),
    "Retrospective Cyclobenzaprine 5mg tab #30 DOS: 11/14/16": (
        "Cyclobenzaprine",
        "muscle relaxant",
    ),
    "Retrospective Cyclobenzaprine 7.5mg #18, per 12/07/2016 order": (
        "Cyclobenzaprine",
        "muscle relaxant",
    ),
    "Pepcid 20mg": ("Pepcid", "H2 blocker"),
    "Retrospective Famotidine 20mg #60, per 12/07/2016 order": ("Famotidine", "H2 blocker"),
    "Pantoprazole 40mg, one by mouth, twice a day #60 with one refill": (
        "Pantoprazole",
        "proton pump inhibitor",
    ),
    "Norco 10/325mg #35": ("Norco", "opioid"),
    "Norco 5/325mg oral tablet, one tablet twice daily 14 days #40": ("Norco", "opioid"),
    "Post-op Percocet 5/325mg": ("Percocet", "opioid"),
    "one month supply of Trezix capsule 30.5/30/16mg": ("Trezix", "opioid"),
    "Post-op Zofran": ("Zofran", "antiemetic"),
    "Motrin 600mg #40": ("Motrin", "NSAID"),
    "Celecoxib 200mg #90": ("Celecoxib", "NSAID"),
    "Lidocaine 5% patch #1": ("Lidocaine patch", "topical analgesic"),
    "Lidocaine ointment 5% #1": ("Lidocaine", "topical analgesic"),
    # Diclofenac sodium 3% is the topical gel (Solaraze), not oral diclofenac.
    "Diclofenac sodium 3% 300mg/g #1": ("Diclofenac gel", "topical analgesic"),
    "Retrospective Lidopro 4%-27.5%-0.0325% 121gm #1, per 12/07/2016 order": (
        "LidoPro",
        "compounded topical",
    ),
    "One container of Flurbiprofen 10%, Cyclobenzaprine 3%, Gabapentin 6%, Lidocaine "
    "5%/Dextromethorphan": ("Compounded topical", "compounded topical"),
    "Fanatrex 25mg/ml oral suspension 420ml": ("Fanatrex", SUSP),
    "Dicopanol 5mg/ml oral suspension, 150ml": ("Dicopanol", SUSP),
    "Deprizine 15mg/ml oral suspension, 250ml": ("Deprizine", SUSP),
    "Tabradol 1mg/ml oral suspension, 250ml": ("Tabradol", SUSP),
}

# Generics the compounded oral suspensions and Trezix must carry (a question about the
# drug finds the kit).
GENERICS = {
    "Fanatrex": "gabapentin",
    "Dicopanol": "diphenhydramine",
    "Deprizine": "ranitidine",
    "Tabradol": "cyclobenzaprine",
    "Trezix": "acetaminophen/caffeine/dihydrocodeine",
    "Diclofenac gel": "diclofenac gel",
}


def _gold_treatments() -> list[str]:
    letters = json.loads(GOLD.read_text(encoding="utf-8"))
    return [it["treatment"] for lt in letters for it in lt["items"]]


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return get_lexicon()


@needs_real
def test_every_gold_treatment_has_an_expected_row() -> None:
    treatments = _gold_treatments()
    assert len(treatments) == 158
    assert sorted(set(treatments) - set(EXPECTED)) == []


@needs_real
def test_every_gold_treatment_resolves(lex: Lexicon) -> None:
    wrong = []
    for text in _gold_treatments():
        m = lex.find(text)
        got = (m.entry.canonical, m.entry.drug_class) if m else None
        if got != EXPECTED.get(text):
            wrong.append((text, got, EXPECTED.get(text)))
        elif m is not None:
            assert not m.fuzzy, text
            assert text[m.start : m.end] == m.surface
            if m.entry.canonical in GENERICS:
                assert m.entry.generic == GENERICS[m.entry.canonical], text
    assert wrong == []


@pytest.mark.parametrize(
    "text, canonical",
    [pytest.param(t, c, id=t[:60]) for t, (c, _) in EXPECTED.items()],
)
def test_expected_rows_resolve_without_the_gold_file(
    lex: Lexicon, text: str, canonical: str
) -> None:
    # The same table runs where the real letters are absent.
    m = lex.find(text)
    assert m is not None and m.entry.canonical == canonical


def test_compound_by_ingredient(lex: Lexicon) -> None:
    text = (
        "One container of Flurbiprofen 10%, Cyclobenzaprine 3%, Gabapentin 6%, "
        "Lidocaine 5%/Dextromethorphan"
    )
    m = lex.find(text)
    assert m is not None
    assert (m.entry.canonical, m.entry.drug_class) == ("Compounded topical", "compounded topical")
    assert m.surface == text[len("One container of ") :]
    assert m.ingredients == (
        "flurbiprofen",
        "cyclobenzaprine",
        "gabapentin",
        "lidocaine",
        "dextromethorphan",
    )
