"""How synthetic letters write treatments, and which guidelines reviewers cite for them.

Every lexicon entry (``imr_assist/data/lexicon.json``) can be written: drugs as
name, strength, quantity and refills in the shapes DOMAIN.md lists ("Norco
10/325mg #60", "Xanax 1mg quantity 30", "Baclofen 10mg #270 1 refill"), services from
templates ("Physical therapy 2 x 6 for the lumbar spine", "acupuncture x 6
sessions"). Lexicon classes are grouped into families that share guideline
citations and reason wording (see ``vocab``).

Quantity rule of the gold records: "#60", "quantity 120", "Qty: 30", "x 6 sessions"
and "8 visits" are quantities; "2 x 6" is a frequency (twice a week for six weeks)
and gives no quantity, though the rationale may speak of its twelve visits.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

from imr_assist.parse.lexicon import LexiconEntry, get_lexicon

# --- families -------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """A guideline a reviewer cites: its family, its title, and pages to choose from."""

    source: str  # "MTUS", "ACOEM", "ODG" or "OTHER" (a non-guideline reference)
    title: str
    pages: tuple[str, ...] = ()

    @property
    def families(self) -> list[str]:
        """Guideline families the citation names, in the order MTUS, ACOEM, ODG."""
        return {"MTUS": ["MTUS"], "ACOEM": ["MTUS", "ACOEM"], "ODG": ["ODG"]}.get(self.source, [])


def _mtus(title: str, *pages: str) -> Citation:
    return Citation("MTUS", title, pages)


def _acoem(title: str, *pages: str) -> Citation:
    return Citation("ACOEM", title, pages)


def _odg(title: str) -> Citation:
    return Citation("ODG", title)


def _other(title: str) -> Citation:
    return Citation("OTHER", title)


CP = "Chronic Pain Medical Treatment Guidelines"


@dataclass(frozen=True)
class Family:
    """Lexicon classes that share citations and reason wording."""

    key: str
    noun: str  # plural noun used in rationales: "opioids", "muscle relaxants"
    overturn_rate: float
    citations: tuple[Citation, ...]


FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family(
            "opioid",
            "opioids",
            0.08,
            (
                _mtus(f"{CP}, Opioids", "74-95", "76-80", "78", "74-96", "80-82, 91", "74-95, 124"),
                _mtus(f"{CP}, Criteria for use of opioids", "76-79", "78-80", "88-89"),
                _odg("Pain (Chronic), Opioids for chronic pain"),
            ),
        ),
        Family(
            "relaxant",
            "muscle relaxants",
            0.07,
            (
                _mtus(f"{CP}, Muscle relaxants (for pain)", "63-66", "63-64", "65-66"),
                _odg("Pain (Chronic), Muscle relaxants (for pain)"),
            ),
        ),
        Family(
            "nsaid",
            "NSAIDs",
            0.09,
            (
                _mtus(
                    f"{CP}, NSAIDs (non-steroidal anti-inflammatory drugs)",
                    "67-73",
                    "67-68",
                    "70-73",
                    "22, 67-68",
                ),
                _odg("Pain (Chronic), NSAIDs (non-steroidal anti-inflammatory drugs)"),
            ),
        ),
        Family(
            "anticonvulsant",
            "antiepilepsy drugs",
            0.16,
            (
                _mtus(f"{CP}, Antiepilepsy drugs (AEDs)", "16-22", "18-19", "19-20", "16-17"),
                _odg("Pain (Chronic), Anti-epilepsy drugs (AEDs) for pain"),
            ),
        ),
        Family(
            "antidepressant",
            "antidepressants",
            0.15,
            (
                _mtus(f"{CP}, Antidepressants for chronic pain", "13-16", "13-14", "15-16"),
                _odg("Mental Illness & Stress, Antidepressants for treatment of MDD"),
            ),
        ),
        Family(
            "benzodiazepine",
            "benzodiazepines",
            0.04,
            (
                _mtus(f"{CP}, Benzodiazepines", "24", "24 of 127"),
                _odg("Pain (Chronic), Benzodiazepines"),
            ),
        ),
        Family(
            "sleep",
            "sleep medications",
            0.06,
            (
                _odg("Pain (Chronic), Insomnia treatment"),
                _odg("Mental Illness & Stress, Zolpidem (Ambien)"),
            ),
        ),
        Family(
            "topical",
            "topical analgesics",
            0.05,
            (
                _mtus(f"{CP}, Topical Analgesics", "111-113", "111-112", "112-113"),
                _odg("Pain (Chronic), Topical analgesics"),
            ),
        ),
        Family(
            "gastro",
            "proton pump inhibitors",
            0.12,
            (
                _mtus(f"{CP}, NSAIDs, GI symptoms & cardiovascular risk", "68-69"),
                _odg("Pain (Chronic), Proton pump inhibitors (PPIs)"),
            ),
        ),
        Family(
            "adjuvant",
            "these medications",
            0.08,
            (_odg("Pain (Chronic), Medications for chronic pain"),),
        ),
        Family(
            "therapy",
            "therapy visits",
            0.10,
            (
                _mtus(f"{CP}, Physical Medicine", "98-99"),
                _odg("Low Back, Physical therapy (PT)"),
            ),
        ),
        Family(
            "restoration",
            "functional restoration programs",
            0.20,
            (
                _mtus(
                    f"{CP}, Chronic pain programs (functional restoration programs)",
                    "30-34",
                    "30-32, 49",
                    "49",
                ),
                _odg("Pain (Chronic), Functional restoration programs (FRPs)"),
            ),
        ),
        Family(
            "diagnostic",
            "diagnostic studies",
            0.12,
            (
                _acoem(
                    "ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints",
                    "303-304",
                    "303",
                ),
                _odg("Low Back, MRIs (magnetic resonance imaging)"),
            ),
        ),
        Family(
            "injection",
            "injections",
            0.10,
            (
                _mtus(f"{CP}, Epidural steroid injections (ESIs)", "46"),
                _odg("Low Back, Epidural steroid injections (ESIs), therapeutic"),
            ),
        ),
        Family(
            "surgery",
            "surgical procedures",
            0.12,
            (
                _acoem(
                    "ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints, Surgical Considerations",
                    "305-307",
                ),
                _odg("Low Back, Fusion (spinal)"),
            ),
        ),
        Family(
            "consult",
            "consultations",
            0.26,
            (
                _acoem(
                    "ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 7 Independent Medical Examinations and Consultations",
                    "127",
                ),
                _odg("Pain (Chronic), Office visits"),
            ),
        ),
        Family(
            "behavioral",
            "psychological treatments",
            0.22,
            (
                _mtus(f"{CP}, Behavioral interventions", "23"),
                _mtus(f"{CP}, Psychological treatment", "101-102"),
                _odg("Mental Illness & Stress, Cognitive therapy for depression"),
            ),
        ),
        Family(
            "equipment",
            "durable medical equipment",
            0.06,
            (
                _odg("Knee & Leg, Durable medical equipment (DME)"),
                _mtus(f"{CP}, Transcutaneous electrotherapy", "114-116"),
            ),
        ),
        Family(
            "care",
            "these services",
            0.10,
            (_mtus(f"{CP}, Home health services", "51"),),
        ),
    )
}

CLASS_FAMILY: dict[str, str] = {
    "opioid": "opioid",
    "muscle relaxant": "relaxant",
    "antispasticity agent": "relaxant",
    "NSAID": "nsaid",
    "anticonvulsant": "anticonvulsant",
    "antidepressant": "antidepressant",
    "benzodiazepine": "benzodiazepine",
    "sleep aid": "sleep",
    "topical analgesic": "topical",
    "compounded topical": "topical",
    "compounded oral suspension": "adjuvant",
    "proton pump inhibitor": "gastro",
    "H2 blocker": "gastro",
    "antiemetic": "adjuvant",
    "barbiturate-containing analgesic": "adjuvant",
    "laxative": "adjuvant",
    "non-opioid analgesic": "adjuvant",
    "wakefulness agent": "adjuvant",
    "erectile dysfunction agent": "adjuvant",
    "triptan": "adjuvant",
    "corticosteroid": "adjuvant",
    "antihistamine": "adjuvant",
    "medical food": "adjuvant",
    "supplement": "adjuvant",
    "anticoagulant": "adjuvant",
    "antibiotic": "adjuvant",
    "opioid antagonist": "adjuvant",
    "physical medicine": "therapy",
    "functional restoration": "restoration",
    "imaging": "diagnostic",
    "electrodiagnostics": "diagnostic",
    "diagnostic test": "diagnostic",
    "injection": "injection",
    "interventional procedure": "injection",
    "surgery": "surgery",
    "perioperative service": "surgery",
    "inpatient care": "care",
    "consultation": "consult",
    "evaluation and management": "consult",
    "behavioral health": "behavioral",
    "durable medical equipment": "equipment",
    "home health": "care",
    "weight loss": "care",
    "transportation": "care",
}

# Share of items per lexicon class (relative weights). Drugs are about 60% of the
# decisions and opioids the largest single class, as in the published IMR figures.
CLASS_WEIGHT: dict[str, float] = {
    "opioid": 18,
    "muscle relaxant": 6,
    "antispasticity agent": 2,
    "NSAID": 6,
    "anticonvulsant": 5,
    "antidepressant": 4,
    "benzodiazepine": 3,
    "sleep aid": 3,
    "topical analgesic": 5,
    "proton pump inhibitor": 4,
    "H2 blocker": 0.8,
    "antiemetic": 1.5,
    "laxative": 1,
    "medical food": 1,
    "supplement": 0.5,
    "non-opioid analgesic": 0.5,
    "barbiturate-containing analgesic": 0.5,
    "wakefulness agent": 0.5,
    "erectile dysfunction agent": 0.5,
    "triptan": 0.5,
    "corticosteroid": 0.5,
    "antihistamine": 0.5,
    "anticoagulant": 0.3,
    "antibiotic": 0.3,
    "opioid antagonist": 0.3,
    "physical medicine": 9,
    "functional restoration": 2,
    "imaging": 5,
    "electrodiagnostics": 2.5,
    "diagnostic test": 3,
    "injection": 5,
    "interventional procedure": 1.5,
    "surgery": 4,
    "perioperative service": 0.5,
    "inpatient care": 0.5,
    "consultation": 2,
    "evaluation and management": 1,
    "behavioral health": 2.5,
    "durable medical equipment": 4,
    "home health": 0.7,
    "weight loss": 0.3,
    "transportation": 0.3,
}

# Entries requested far more often than the rest of their class.
POPULAR: dict[str, float] = {
    "Norco": 12, "Percocet": 4, "OxyContin": 3, "Tramadol": 4, "Ultram": 3, "Butrans": 3,
    "Nucynta": 2, "Oxycodone": 3, "Tylenol #3": 1.5, "Soma": 4, "Flexeril": 3,
    "Cyclobenzaprine": 4, "Tizanidine": 3, "Zanaflex": 2, "Baclofen": 2, "Relafen": 2,
    "Naproxen": 4, "Anaprox": 2, "Mobic": 2, "Celebrex": 2, "Motrin": 1.5, "Lyrica": 4,
    "Neurontin": 3, "Gabapentin": 4, "Topamax": 1.5, "Elavil": 1.5, "Amitriptyline": 2,
    "Cymbalta": 3, "Xanax": 3, "Valium": 2, "Ativan": 1.5, "Klonopin": 1.5, "Ambien": 4,
    "Lunesta": 1.5, "Lidoderm": 4, "Terocin": 3, "Flector": 1.5, "Voltaren gel": 1.5,
    "Compounded topical": 3, "Flurbiprofen cream": 2, "Prilosec": 4, "Omeprazole": 3,
    "Protonix": 2, "Zofran": 2, "Ondansetron": 1.5, "Theramine": 2, "Physical therapy": 8,
    "Chiropractic manipulation": 3, "Acupuncture": 4, "Aquatic therapy": 2, "MRI": 6,
    "EMG/NCV": 4, "Urine drug screen": 3, "Epidural steroid injection": 5,
    "Facet injection": 2, "Medial branch block": 2, "Trigger point injection": 2,
    "TENS unit": 3, "Functional restoration program": 4, "Psychotherapy": 2,
    "Cognitive behavioral therapy": 2, "Spinal fusion": 2, "Arthroscopy": 2,
    "Pain management consultation": 2,
}  # fmt: skip

# --- citations by entry ------------------------------------------------------------------

# Keyed by generic (drugs) or canonical (services); these replace the family's list.
CITATIONS: dict[str, tuple[Citation, ...]] = {
    "buprenorphine patch": (_mtus(f"{CP}, Buprenorphine", "26-27"), _mtus(f"{CP}, Opioids", "74-96")),
    "buprenorphine": (_mtus(f"{CP}, Buprenorphine", "26-27"),),
    "buprenorphine/naloxone": (_mtus(f"{CP}, Buprenorphine", "26-27"),),
    "tramadol": (_mtus(f"{CP}, Tramadol (Ultram)", "113"), _mtus(f"{CP}, Opioids", "74-95")),
    "tramadol ER": (_mtus(f"{CP}, Tramadol (Ultram)", "113"),),
    "methadone": (_mtus(f"{CP}, Methadone", "61-62"),),
    "fentanyl patch": (_mtus(f"{CP}, Duragesic (fentanyl transdermal system)", "44, 47"),),
    "tapentadol": (_odg("Pain (Chronic), Tapentadol (Nucynta)"), _mtus(f"{CP}, Opioids", "74-95")),
    "butalbital/acetaminophen/caffeine": (_mtus(f"{CP}, Barbiturate-containing analgesic agents (BCAs)", "23"),),
    "carisoprodol": (_mtus(f"{CP}, Carisoprodol (Soma)", "29"), _mtus(f"{CP}, Muscle relaxants (for pain)", "63-65")),
    "cyclobenzaprine": (_mtus(f"{CP}, Cyclobenzaprine (Flexeril)", "41-42"), _mtus(f"{CP}, Muscle relaxants (for pain)", "63-64")),
    "tizanidine": (_mtus(f"{CP}, Antispasticity/Antispasmodic drugs", "66"),),
    "baclofen": (_mtus(f"{CP}, Muscle relaxants (for pain)", "63-66", "64"),),
    "ketorolac": (_mtus(f"{CP}, NSAIDs, specific drug list & adverse effects", "72"),),
    "pregabalin": (_mtus(f"{CP}, Pregabalin (Lyrica)", "19-20"), _mtus(f"{CP}, Antiepilepsy drugs (AEDs)", "16-20")),
    "gabapentin": (_mtus(f"{CP}, Gabapentin (Neurontin)", "18-19"), _mtus(f"{CP}, Antiepilepsy drugs (AEDs)", "16-19")),
    "topiramate": (_mtus(f"{CP}, Topiramate (Topamax)", "21"),),
    "duloxetine": (_mtus(f"{CP}, Duloxetine (Cymbalta)", "15-16", "43-44"),),
    "sertraline": (_mtus(f"{CP}, SSRIs (selective serotonin reuptake inhibitors)", "107"),),
    "fluoxetine": (_mtus(f"{CP}, SSRIs (selective serotonin reuptake inhibitors)", "107"),),
    "escitalopram": (_mtus(f"{CP}, SSRIs (selective serotonin reuptake inhibitors)", "107"),),
    "citalopram": (_mtus(f"{CP}, SSRIs (selective serotonin reuptake inhibitors)", "107"),),
    "paroxetine": (_mtus(f"{CP}, SSRIs (selective serotonin reuptake inhibitors)", "107"),),
    "trazodone": (_odg("Mental Illness & Stress, Trazodone (Desyrel)"), _odg("Pain (Chronic), Insomnia treatment")),
    "mirtazapine": (_odg("Mental Illness & Stress, Mirtazapine (Remeron)"),),
    "bupropion": (_mtus(f"{CP}, Bupropion (Wellbutrin)", "16"),),
    "lidocaine patch": (_mtus(f"{CP}, Lidoderm (lidocaine patch)", "56-57"), _mtus(f"{CP}, Topical Analgesics", "111-113")),
    "capsaicin": (_mtus(f"{CP}, Capsaicin, topical", "28-29"),),
    "methyl salicylate/menthol": (_mtus(f"{CP}, Salicylate topicals", "105"),),
    "acetaminophen": (_mtus(f"{CP}, Acetaminophen (APAP)", "11-12"),),
    "ondansetron": (_odg("Pain (Chronic), Antiemetics (for opioid nausea)"),),
    "promethazine": (_odg("Pain (Chronic), Promethazine (Phenergan)"),),
    "docusate": (_mtus(f"{CP}, Opioids, initiating therapy", "77"),),
    "senna": (_mtus(f"{CP}, Opioids, initiating therapy", "77"),),
    "lubiprostone": (_odg("Pain (Chronic), Opioid-induced constipation treatment"),),
    "naloxegol": (_odg("Pain (Chronic), Opioid-induced constipation treatment"),),
    "methylnaltrexone": (_odg("Pain (Chronic), Opioid-induced constipation treatment"),),
    "armodafinil": (_odg("Pain (Chronic), Armodafinil (Nuvigil)"),),
    "modafinil": (_odg("Pain (Chronic), Modafinil (Provigil)"),),
    "tadalafil": (_other("Non-MTUS Citation MedlinePlus, Tadalafil"),),
    "sildenafil": (_other("Non-MTUS Citation MedlinePlus, Sildenafil"),),
    "sumatriptan": (_odg("Head, Triptans"),),
    "rizatriptan": (_odg("Head, Triptans"),),
    "methylprednisolone": (_odg("Low Back, Oral corticosteroids"),),
    "prednisone": (_odg("Low Back, Oral corticosteroids"),),
    "hydroxyzine": (_odg("Mental Illness & Stress, Anxiety medications in chronic pain"),),
    "glucosamine": (_mtus(f"{CP}, Glucosamine (and Chondroitin Sulfate)", "50"),),
    "vitamin D": (_odg("Pain (Chronic), Vitamin D (cholecalciferol)"),),
    "enoxaparin": (_odg("Knee & Leg, Venous thrombosis"),),
    "rivaroxaban": (_odg("Knee & Leg, Venous thrombosis"),),
    "cephalexin": (_other("Non-MTUS Citation Infectious Diseases Society of America, Skin and soft tissue infections"),),
    "naloxone": (_odg("Pain (Chronic), Naloxone (Narcan)"),),
    "zolpidem": (_odg("Mental Illness & Stress, Zolpidem (Ambien)"), _odg("Pain (Chronic), Insomnia treatment")),
    "eszopiclone": (_odg("Mental Illness & Stress, Eszopicolone (Lunesta)"),),
    "melatonin": (_odg("Mental Illness & Stress, Melatonin"),),
    # services
    "Occupational therapy": (_mtus(f"{CP}, Physical Medicine", "98-99"),),
    "Aquatic therapy": (_mtus(f"{CP}, Aquatic therapy", "22"),),
    "Chiropractic manipulation": (_mtus(f"{CP}, Manual therapy & manipulation", "58-60"),),
    "Acupuncture": (_mtus("Acupuncture Medical Treatment Guidelines", "8-9", "8"), _mtus("Acupuncture Medical Treatment Guidelines")),
    "Massage therapy": (_mtus(f"{CP}, Massage therapy", "60"),),
    "Extracorporeal shockwave therapy": (_odg("Shoulder, Extracorporeal shock wave therapy (ESWT)"),),
    "Gym membership": (_odg("Low Back, Gym memberships"),),
    "Work conditioning": (_mtus(f"{CP}, Work conditioning, work hardening", "125-126"),),
    "Functional restoration program evaluation": (_mtus(f"{CP}, Chronic pain programs (functional restoration programs)", "30-32"),),
    "EMG/NCV": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "303"), _odg("Low Back, EMGs (electromyography)")),
    "EMG": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8 Neck and Upper Back Complaints", "178"),),
    "NCV": (_odg("Low Back, Nerve conduction studies (NCS)"),),
    "Urine drug screen": (_mtus(f"{CP}, Drug testing", "43"), _mtus(f"{CP}, Opioids, steps to avoid misuse/addiction", "94-95"), _odg("Pain (Chronic), Urine drug testing (UDT)")),
    "Functional capacity evaluation": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 7 Independent Medical Examinations and Consultations", "137-138"), _odg("Fitness For Duty, Functional capacity evaluation (FCE)")),
    "Laboratory tests": (_mtus(f"{CP}, NSAIDs, specific drug list & adverse effects", "70"),),
    "Genetic testing": (_odg("Pain (Chronic), Genetic testing for potential opioid abuse"),),
    "Sleep study": (_odg("Pain (Chronic), Polysomnography"),),
    "Range of motion testing": (_odg("Low Back, Flexibility"),),
    "Discogram": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "304"),),
    "Electrocardiogram": (_odg("Low Back, Preoperative electrocardiogram (ECG)"),),
    "Facet injection": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "300"), _odg("Low Back, Facet joint intra-articular injections (therapeutic blocks)")),
    "Medial branch block": (_odg("Low Back, Facet joint diagnostic blocks (injections)"),),
    "Trigger point injection": (_mtus(f"{CP}, Trigger point injections", "122"),),
    "Sacroiliac joint injection": (_odg("Hip & Pelvis, Sacroiliac joint blocks"),),
    "Hyaluronic acid injection": (_odg("Knee & Leg, Hyaluronic acid injections"),),
    "Corticosteroid injection": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 9 Shoulder Complaints", "204, 213"),),
    "Platelet-rich plasma injection": (_odg("Elbow, Platelet-rich plasma (PRP)"),),
    "Sympathetic nerve block": (_mtus(f"{CP}, Regional sympathetic blocks", "39-40, 103-104"),),
    "Occipital nerve block": (_odg("Head, Greater occipital nerve block (GONB)"),),
    "Nerve block": (_odg("Knee & Leg, Genicular nerve block"),),
    "Botulinum toxin injection": (_mtus(f"{CP}, Botulinum toxin (Botox)", "25-26"),),
    "Prolotherapy": (_mtus(f"{CP}, Prolotherapy", "99"),),
    "Radiofrequency ablation": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "300-301"), _odg("Low Back, Facet joint radiofrequency neurotomy")),
    "Spinal cord stimulator": (_mtus(f"{CP}, Spinal cord stimulators (SCS)", "105-107"),),
    "Intrathecal pump": (_mtus(f"{CP}, Implantable drug-delivery systems (IDDSs)", "52-54"),),
    "Anterior cervical discectomy and fusion": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8 Neck and Upper Back Complaints", "180-181"), _odg("Neck and Upper Back, Fusion, anterior cervical")),
    "Artificial disc replacement": (_odg("Neck and Upper Back, Disc prosthesis"),),
    "Kyphoplasty": (_odg("Low Back, Kyphoplasty"),),
    "Arthroscopy": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 13 Knee Complaints", "344-345"), _odg("Knee & Leg, Diagnostic arthroscopy")),
    "Subacromial decompression": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 9 Shoulder Complaints", "209-211"), _odg("Shoulder, Surgery for impingement syndrome")),
    "Rotator cuff repair": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 9 Shoulder Complaints", "209-211"), _odg("Shoulder, Surgery for rotator cuff repair")),
    "Meniscectomy": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 13 Knee Complaints", "344-345"), _odg("Knee & Leg, Meniscectomy")),
    "ACL reconstruction": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 13 Knee Complaints", "344-345"),),
    "Total knee arthroplasty": (_odg("Knee & Leg, Knee joint replacement"),),
    "Total hip arthroplasty": (_odg("Hip & Pelvis, Arthroplasty"),),
    "Shoulder arthroplasty": (_odg("Shoulder, Arthroplasty (shoulder)"),),
    "Carpal tunnel release": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11 Forearm, Wrist, and Hand Complaints", "270"),),
    "Cubital tunnel release": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 10 Elbow Disorders", "37-38"),),
    "Trigger finger release": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11 Forearm, Wrist, and Hand Complaints", "271"),),
    "De Quervain's release": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 11 Forearm, Wrist, and Hand Complaints", "271"),),
    "Hardware removal": (_odg("Ankle & Foot, Hardware implant removal (fracture fixation)"),),
    "Manipulation under anesthesia": (_odg("Low Back, Manipulation under anesthesia (MUA)"),),
    "Hernia repair": (_odg("Hernia, Surgery"),),
    "Bariatric surgery": (_other("Non-MTUS Citation National Institutes of Health, Bariatric surgery for severe obesity"),),
    "Assistant surgeon": (_other("Non-MTUS Citation American College of Surgeons, Physicians as assistants at surgery"),),
    "Inpatient stay": (_odg("Low Back, Hospital length of stay (LOS)"),),
    "Skilled nursing facility": (_odg("Knee & Leg, Skilled nursing facility (SNF) care"),),
    "Office visit": (_odg("Pain (Chronic), Office visits"),),
    "Preoperative clearance": (_odg("Low Back, Preoperative testing, general"),),
    "Biofeedback": (_mtus(f"{CP}, Biofeedback", "24-25"),),
    "Psychological evaluation": (_mtus(f"{CP}, Psychological evaluations", "100-101"),),
    "Psychiatric consultation": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 15 Stress Related Conditions", "398"),),
    "Hypnotherapy": (_odg("Mental Illness & Stress, Hypnosis"),),
    "Detoxification": (_mtus(f"{CP}, Detoxification", "42"),),
    "TENS unit": (_mtus(f"{CP}, Transcutaneous electrotherapy", "114-116"), _mtus(f"{CP}, TENS, chronic pain (transcutaneous electrical nerve stimulation)", "114-116")),
    "H-wave unit": (_mtus(f"{CP}, H-wave stimulation (HWT)", "117-118"),),
    "Interferential unit": (_mtus(f"{CP}, Interferential Current Stimulation (ICS)", "118-120"),),
    "Neuromuscular electrical stimulation": (_mtus(f"{CP}, Neuromuscular electrical stimulation (NMES devices)", "121"),),
    "Cold therapy unit": (_odg("Knee & Leg, Continuous-flow cryotherapy"),),
    "Heat therapy": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "300"),),
    "Brace": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "301"), _odg("Knee & Leg, Knee brace")),
    "Orthotics": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 14 Ankle and Foot Complaints", "371"),),
    "Cane": (_odg("Knee & Leg, Walking aids (canes, crutches, braces, orthoses, & walkers)"),),
    "Walker": (_odg("Knee & Leg, Walking aids (canes, crutches, braces, orthoses, & walkers)"),),
    "Wheelchair": (_odg("Knee & Leg, Power mobility devices (PMDs)"),),
    "Orthopedic mattress": (_odg("Low Back, Mattress selection"),),
    "Continuous passive motion device": (_odg("Knee & Leg, Continuous passive motion (CPM)"),),
    "Bone growth stimulator": (_odg("Low Back, Bone growth stimulators (BGS)"),),
    "Traction unit": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8 Neck and Upper Back Complaints", "173"),),
    "Pneumatic compression device": (_odg("Knee & Leg, Venous thrombosis"),),
    "Home exercise kit": (_odg("Low Back, Exercise"),),
    "Weight loss program": (_other("Non-MTUS Citation Annals of Internal Medicine, Clinical guidelines on the management of obesity"),),
    "Transportation": (_odg("Knee & Leg, Transportation (to & from appointments)"),),
    "Pain management consultation": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 7 Independent Medical Examinations and Consultations", "127"),),
    "MRI": (
        _acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "303-304"),
        _acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 8 Neck and Upper Back Complaints", "177-179"),
        _odg("Low Back, MRIs (magnetic resonance imaging)"),
    ),
    "X-ray": (_acoem("ACOEM Practice Guidelines, 2nd Edition (2004), Chapter 12 Low Back Complaints", "303-305"),),
    "CT scan": (_odg("Low Back, CT (computed tomography)"),),
}  # fmt: skip


def citations_for(entry: LexiconEntry) -> tuple[Citation, ...]:
    key = entry.generic if entry.kind == "drug" else entry.canonical
    if key and key in CITATIONS:
        return CITATIONS[key]
    return family_of(entry).citations


def family_of(entry: LexiconEntry) -> Family:
    return FAMILIES[CLASS_FAMILY[entry.drug_class or ""]]


# --- writing drugs -----------------------------------------------------------------------

STRENGTHS: dict[str, tuple[str, ...]] = {
    "hydrocodone/acetaminophen": ("10/325mg", "10/325 mg", "7.5/325mg", "5/325mg"),
    "hydrocodone ER": ("20mg", "30mg", "40mg"),
    "oxycodone/acetaminophen": ("10/325mg", "7.5/325mg", "5/325mg"),
    "oxycodone ER": ("10mg", "20mg", "40mg", "80mg"),
    "oxycodone": ("5mg", "10mg", "15mg", "30mg"),
    "tramadol": ("50mg",),
    "tramadol ER": ("100mg", "150mg", "200mg"),
    "tramadol/acetaminophen": ("37.5/325mg",),
    "tapentadol": ("50mg", "75mg", "100mg"),
    "tapentadol ER": ("50mg", "100mg", "150mg"),
    "buprenorphine patch": ("5mcg/hr", "10mcg/hr", "15mcg/hr", "20mcg/hr"),
    "buprenorphine": ("2mg", "8mg"),
    "buprenorphine/naloxone": ("8/2mg", "2/0.5mg"),
    "fentanyl patch": ("12mcg/hr", "25mcg/hr", "50mcg/hr", "75mcg/hr"),
    "fentanyl": ("200mcg", "400mcg"),
    "morphine ER": ("15mg", "30mg", "60mg"),
    "morphine": ("15mg", "30mg"),
    "hydromorphone": ("2mg", "4mg", "8mg"),
    "hydromorphone ER": ("8mg", "12mg", "16mg"),
    "oxymorphone": ("5mg", "10mg"),
    "oxymorphone ER": ("10mg", "20mg"),
    "acetaminophen/codeine": ("300/30mg",),
    "methadone": ("5mg", "10mg"),
    "meperidine": ("50mg",),
    "naloxone": ("4mg",),
    "carisoprodol": ("350mg", "350 mg"),
    "cyclobenzaprine": ("5mg", "7.5mg", "10mg"),
    "methocarbamol": ("500mg", "750mg"),
    "metaxalone": ("800mg",),
    "orphenadrine": ("100mg",),
    "chlorzoxazone": ("500mg", "375mg"),
    "tizanidine": ("2mg", "4mg", "4 mg"),
    "baclofen": ("10mg", "20mg"),
    "nabumetone": ("500mg", "750mg"),
    "naproxen": ("275mg", "500mg", "550mg"),
    "naproxen/esomeprazole": ("500/20mg",),
    "meloxicam": ("7.5mg", "15mg"),
    "celecoxib": ("100mg", "200mg"),
    "ibuprofen": ("600mg", "800mg"),
    "ibuprofen/famotidine": ("800/26.6mg",),
    "diclofenac": ("50mg", "75mg", "100mg"),
    "diclofenac/misoprostol": ("75mg",),
    "ketorolac": ("10mg",),
    "etodolac": ("400mg", "500mg"),
    "oxaprozin": ("600mg",),
    "piroxicam": ("20mg",),
    "indomethacin": ("25mg", "50mg"),
    "fenoprofen": ("400mg", "600mg"),
    "ketoprofen": ("75mg",),
    "flurbiprofen": ("100mg",),
    "aspirin": ("81mg", "325mg"),
    "pregabalin": ("50mg", "75mg", "150mg"),
    "gabapentin": ("300mg", "600mg", "800mg"),
    "gabapentin enacarbil": ("600mg",),
    "topiramate": ("25mg", "50mg"),
    "carbamazepine": ("200mg",),
    "oxcarbazepine": ("300mg",),
    "lamotrigine": ("25mg", "100mg"),
    "amitriptyline": ("10mg", "25mg", "50mg"),
    "nortriptyline": ("10mg", "25mg"),
    "duloxetine": ("30mg", "60mg"),
    "venlafaxine": ("37.5mg", "75mg", "150mg"),
    "sertraline": ("50mg", "100mg"),
    "trazodone": ("50mg", "100mg"),
    "bupropion": ("150mg", "300mg"),
    "fluoxetine": ("20mg",),
    "escitalopram": ("10mg", "20mg"),
    "citalopram": ("20mg",),
    "paroxetine": ("20mg",),
    "mirtazapine": ("15mg", "30mg"),
    "milnacipran": ("50mg",),
    "alprazolam": ("0.5mg", "1mg"),
    "diazepam": ("5mg", "10mg"),
    "lorazepam": ("1mg", "2mg"),
    "clonazepam": ("0.5mg", "1mg"),
    "temazepam": ("15mg", "30mg"),
    "zolpidem": ("5mg", "10mg"),
    "eszopiclone": ("2mg", "3mg"),
    "zaleplon": ("10mg",),
    "suvorexant": ("10mg", "20mg"),
    "melatonin": ("3mg", "5mg"),
    "acetaminophen": ("500mg", "325mg"),
    "armodafinil": ("150mg", "250mg"),
    "modafinil": ("100mg", "200mg"),
    "tadalafil": ("5mg", "20mg"),
    "sildenafil": ("50mg", "100mg"),
    "omeprazole": ("20mg", "40mg"),
    "pantoprazole": ("20mg", "40mg"),
    "esomeprazole": ("20mg", "40mg"),
    "lansoprazole": ("15mg", "30mg"),
    "dexlansoprazole": ("30mg", "60mg"),
    "ranitidine": ("150mg",),
    "famotidine": ("20mg",),
    "ondansetron": ("4mg", "8mg"),
    "promethazine": ("25mg",),
    "docusate": ("100mg",),
    "senna": ("8.6mg",),
    "lubiprostone": ("24mcg",),
    "naloxegol": ("12.5mg", "25mg"),
    "methylnaltrexone": ("150mg",),
    "sumatriptan": ("50mg", "100mg"),
    "rizatriptan": ("10mg",),
    "methylprednisolone": ("4mg",),
    "prednisone": ("10mg", "20mg"),
    "hydroxyzine": ("25mg", "50mg"),
    "glucosamine": ("1500mg",),
    "vitamin D": ("2000 units", "50000 units"),
    "enoxaparin": ("40mg",),
    "rivaroxaban": ("10mg",),
    "cephalexin": ("500mg",),
    "lidocaine": ("5%",),
    "diclofenac topical solution": ("1.5%", "2%"),
    "capsaicin": ("0.025%", "0.075%"),
}

# Drugs written with their own pattern: "{name}" is the lexicon surface, "{s}" the
# strength, "{q}" the quantity phrase, "{r}" the refills phrase (may be empty).
DRUG_PATTERNS: dict[str, tuple[str, ...]] = {
    "Butrans": (
        "{name} {s} {q}{r}",
        "{name} {s} transdermal film {q}{r}",
        "{name} {s} patch {q}{r}",
    ),
    "Buprenorphine patch": ("{name} {s} {q}{r}",),
    "Duragesic": ("{name} {s} {q}{r}", "{name} {s} patch {q}{r}"),
    "Fentanyl patch": ("{name} {s} {q}{r}",),
    "Tylenol #3": ("{name} {q}{r}",),
    "Tylenol #4": ("{name} {q}{r}",),
    "Lidoderm": ("{name} 5% patch {q}{r}", "{name} patches {q}{r}", "{name} 5% {q}{r}"),
    "Lidocaine patch": ("Lidocaine 5% patch {q}{r}", "{name} 5% {q}{r}", "{name}es {q}{r}"),
    "Lidocaine": ("{name} {s} ointment {q}{r}", "{name} {s} cream 30gm{r}"),
    "Terocin": ("{name} patch {q}{r}", "{name} patches {q}{r}", "{name} lotion 120ml{r}"),
    "LidoPro": ("{name} ointment 121gm{r}", "{name} cream 120gm{r}"),
    "Flector": ("{name} 1.3% patch {q}{r}", "{name} patch {q}{r}"),
    "Diclofenac patch": ("{name} 1.3% {q}{r}",),
    "Voltaren gel": ("Voltaren 1% gel 100gm{r}", "{name} 1% 100gm{r}", "{name} 100gm{r}"),
    "Diclofenac gel": ("Diclofenac 1% gel 100gm{r}", "{name} 1% 100gm{r}"),
    "Pennsaid": ("{name} {s} topical solution 112gm{r}",),
    "Menthoderm": ("{name} gel 120ml{r}", "{name} gel 240gm{r}"),
    "Keratek": ("{name} gel 4oz{r}",),
    "Methyl salicylate/menthol": ("{name} cream 120gm{r}",),
    "Medrox": ("{name} patches {q}{r}", "{name} ointment 120gm{r}"),
    "Dendracin": ("{name} lotion 120ml{r}",),
    "Biofreeze": ("{name} gel 4oz{r}",),
    "Menthol": ("{name} gel 120gm{r}",),
    "Capsaicin": ("{name} {s} cream {q}{r}", "{name} {s} cream 60gm{r}"),
    "Flurbiprofen cream": (
        "Flurbiprofen 20% cream 120gm{r}",
        "{name} 180gm{r}",
        "Flurbiprofen 25% cream {q}{r}",
    ),
    "Ketoprofen cream": ("Ketoprofen 20% cream 120gm{r}", "{name} 240gm{r}"),
    "Fluriflex": ("{name} 180gm{r}", "{name} cream 240gm{r}"),
    "TGHot": ("{name} 180gm{r}", "{name} cream 240gm{r}"),
    "Compounded topical": (
        "{name} 240gm{r}",
        "Compounded cream (flurbiprofen, cyclobenzaprine, lidocaine) 180gm{r}",
        "Compound cream with ketoprofen, gabapentin and lidocaine 240gm{r}",
    ),
    "Medrol": ("{name} dose pack {q}", "{name} {s} dose pack {q}"),
    "Narcan": ("{name} nasal spray {s} {q}",),
    "Naloxone": ("{name} nasal spray {s} {q}",),
    "Evzio": ("{name} auto-injector {q}",),
    "Toradol": ("{name} {s} {q}{r}", "{name} 60mg intramuscular injection"),
    "Ketorolac": ("{name} {s} {q}{r}", "{name} 60mg intramuscular injection"),
    "Theramine": ("{name} {q}{r}",),
    "Sentradine": ("{name} {q}{r}",),
    "Trepadone": ("{name} {q}{r}",),
    "Gabadone": ("{name} {q}{r}",),
    "Fioricet": ("{name} {q}{r}",),
    "Esgic": ("{name} {q}{r}",),
}

_LITERAL_STRENGTH = re.compile(r"\b\d+(?:\.\d+)?(?:mg|mcg|%)(?![A-Za-z])")

DEFAULT_PATTERNS = ("{name} {s} {q}{r}", "{name} {s} {q}{r}", "{name} {s}, {q}{r}")
NO_STRENGTH_PATTERN = "{name} {q}{r}"

# Quantities a prescription of each family usually asks for.
QUANTITIES: dict[str, tuple[int, ...]] = {
    "opioid": (30, 60, 90, 120, 120, 180, 240),
    "relaxant": (30, 60, 90, 120),
    "nsaid": (30, 60, 90, 120, 180),
    "anticonvulsant": (30, 60, 90, 120, 180),
    "antidepressant": (30, 60, 90),
    "benzodiazepine": (30, 60, 90),
    "sleep": (30, 60, 90),
    "topical": (2, 10, 30, 60, 90),
    "gastro": (30, 60, 90, 120),
    "adjuvant": (10, 20, 30, 60, 90, 120),
}
PATCH_QUANTITIES: dict[str, tuple[int, ...]] = {
    "buprenorphine patch": (4, 8),
    "fentanyl patch": (10, 15),
    "naloxone": (1, 2),
    "methylprednisolone": (1,),
}


@dataclass
class Written:
    """A treatment as it appears in the letter, and the gold facts it carries."""

    entry: LexiconEntry
    text: str
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # offsets into text
    strength: str | None = None
    quantity: int | None = None
    refills: int | None = None
    units: int | None = None  # sessions or tablets the rationale may speak of

    @property
    def name(self) -> str:
        a, b = self.ranges["name"]
        return self.text[a:b]


def _quantity_phrase(rng: random.Random, n: int, family: str) -> tuple[str, int, int]:
    """A quantity phrase and the offsets of its number inside it."""
    forms = ["#{n}", "#{n}", "#{n}", "quantity {n}", "Qty: {n}", "Qty {n}"]
    if family in ("opioid", "relaxant", "nsaid", "anticonvulsant", "antidepressant", "gastro"):
        forms.append("{n} tablets")
    form = rng.choice(forms)
    text = form.format(n=n)
    at = text.index(str(n))
    return text, at, at + len(str(n))


def write_drug(entry: LexiconEntry, rng: random.Random) -> Written:
    family = family_of(entry).key
    generic = entry.generic or ""
    strengths = STRENGTHS.get(generic, ())
    patterns = DRUG_PATTERNS.get(entry.canonical)
    if patterns is None:
        patterns = DEFAULT_PATTERNS if strengths else (NO_STRENGTH_PATTERN,)
    pattern = rng.choice(patterns)
    qty_choices = PATCH_QUANTITIES.get(generic) or QUANTITIES.get(family, (30, 60, 90))
    n = rng.choice(qty_choices)
    q_text, q_a, q_b = _quantity_phrase(rng, n, family)
    refills = rng.choice((1, 1, 2, 3, 5)) if "{r}" in pattern and rng.random() < 0.15 else None
    r_text = ""
    if refills is not None:
        word = "refill" if refills == 1 else "refills"
        r_text = rng.choice((f" {refills} {word}", f" with {refills} {word}"))
    s_text = rng.choice(strengths) if strengths else ""

    ranges: dict[str, tuple[int, int]] = {}
    out = ""
    for literal, fieldname, _spec, _conv in string_parse(pattern):
        out += literal
        if fieldname == "name":
            out += entry.canonical
        elif fieldname == "s":
            ranges["strength"] = (len(out), len(out) + len(s_text))
            out += s_text
        elif fieldname == "q":
            ranges["quantity"] = (len(out) + q_a, len(out) + q_b)
            out += q_text
        elif fieldname == "r":
            if refills is not None:
                digits = str(refills)
                at = r_text.index(digits)
                ranges["refills"] = (len(out) + at, len(out) + at + len(digits))
            out += r_text
    w = Written(entry, out, ranges)
    if "strength" in ranges and s_text:
        w.strength = s_text
    else:
        ranges.pop("strength", None)
        # A strength written into the pattern itself ("Lidocaine 5% patch").
        if m := _LITERAL_STRENGTH.search(out):
            ranges["strength"] = (m.start(), m.end())
            w.strength = m.group(0)
    if "quantity" in ranges:
        w.quantity = n
        w.units = n
    w.refills = refills
    return w


_FORMATTER = string.Formatter()


def string_parse(pattern: str) -> list[tuple[str, str | None, str | None, str | None]]:
    return list(_FORMATTER.parse(pattern))


# --- writing services ------------------------------------------------------------------

REGIONS = (
    "lumbar spine",
    "cervical spine",
    "low back",
    "right shoulder",
    "left shoulder",
    "right knee",
    "left knee",
    "bilateral wrists",
    "neck",
)
FREQUENCIES = ((2, 6), (3, 4), (2, 4), (1, 6), (3, 6), (2, 3))

# "{N}" is the service name as written ("{n}" its lower-case form), "{q}" a quantity
# (a gold quantity), "{f}" a frequency ("2 x 6", no gold quantity), "{region}" a body part.
SERVICE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Physical therapy": (
        "{N} {f} for the {region}",
        "{N} x {q} sessions",
        "{N} {q} visits for the {region}",
        "Additional {n} x {q}",
        "{N} {f}",
        "Post-operative {n} {q} sessions for the {region}",
    ),
    "Occupational therapy": ("{N} {f} for the right hand", "{N} x {q} sessions"),
    "Aquatic therapy": ("{N} x {q} sessions", "{N} {f} for the {region}"),
    "Chiropractic manipulation": ("{N} {q} visits for the {region}", "{N} x {q}", "{N} {f}"),
    "Acupuncture": ("{n} x {q} sessions", "{N} {f} for the {region}", "Additional {n} {q} visits", "{N} x {q}"),
    "Massage therapy": ("{N} x {q} sessions", "{N} {q} visits"),
    "Extracorporeal shockwave therapy": ("{N} x {q} sessions for the left shoulder", "{N} for the right elbow"),
    "Gym membership": ("{N} for 6 months", "{N} for one year"),
    "Functional restoration program": (
        "28 day {n}",
        "{N} x {q} sessions",
        "{N} for 2 weeks",
        "{N} 160 hours",
    ),
    "Functional restoration program evaluation": ("{N}",),
    "Work conditioning": ("{N} x {q} visits", "{N} {q} sessions"),
    "MRI": (
        "{N} of the lumbar spine without contrast",
        "{N} of the right knee",
        "Repeat {n} of the cervical spine",
        "{N} of the left shoulder",
        "{N} lumbar spine",
    ),
    "CT scan": ("{N} of the lumbar spine", "{N} of the cervical spine without contrast"),
    "X-ray": ("{N} of the lumbar spine", "{N} of the right shoulder, three views", "{N}s of the cervical spine"),
    "Bone scan": ("{N}", "Triple phase {n} of the right foot"),
    "Ultrasound": ("Diagnostic {n} of the left shoulder", "{N} of the right knee"),
    "Myelogram": ("CT myelogram of the lumbar spine", "{N} of the cervical spine"),
    "Bone density scan": ("{N}", "DEXA scan"),
    "EMG/NCV": ("{N} of the bilateral lower extremities", "{N} of the bilateral upper extremities", "EMG/NCS of the upper extremities"),
    "EMG": ("{N} of the left upper extremity", "{N} of the right lower extremity"),
    "NCV": ("{N} of the bilateral upper extremities", "{N} of the left lower extremity"),
    "Urine drug screen": ("{N}", "Random {n}", "{N} x {q} per year", "Urine toxicology screen"),
    "Functional capacity evaluation": ("{N}",),
    "Laboratory tests": ("{N} including complete blood count and hepatic panel", "{N}"),
    "Genetic testing": ("{N} for opioid metabolism", "{N}"),
    "Sleep study": ("{N}", "Overnight {n}"),
    "Range of motion testing": ("Computerized {n}", "{N} of the lumbar spine"),
    "Discogram": ("Lumbar {n} L4-L5", "Provocative {n} at L3-L4 and L4-L5"),
    "Electrocardiogram": ("{N}", "Preoperative {n}"),
    "Epidural steroid injection": (
        "Lumbar {n} L4-L5",
        "Lumbar {n} at L5-S1",
        "Cervical {n} C5-C6",
        "Transforaminal epidural steroid injection at right L5-S1",
        "Bilateral L4-L5 and L5-S1 transforaminal epidural steroid injections",
        "Repeat lumbar {n} at L4-L5",
    ),
    "Facet injection": ("Bilateral L4-L5 facet injections", "{N} at L5-S1", "Cervical facet injections C4-C5 and C5-C6"),
    "Medial branch block": ("Bilateral {n} at L4-L5 and L5-S1", "Right {n} L3-L4 and L4-L5", "Cervical {n} C5-C6"),
    "Trigger point injection": ("{N}s x {q}", "{N} to the trapezius", "{N}s to the lumbar paraspinal muscles"),
    "Sacroiliac joint injection": ("Right {n}", "Left {n} under fluoroscopy", "Bilateral {n}s"),
    "Hyaluronic acid injection": ("{N} x {q} to the left knee", "Synvisc injection to the right knee", "Series of {n}s for the right knee"),
    "Corticosteroid injection": ("{N} to the right shoulder", "Cortisone injection to the left knee"),
    "Platelet-rich plasma injection": ("{N} to the right elbow", "{N} to the left knee"),
    "Sympathetic nerve block": ("Lumbar sympathetic block x {q}", "Stellate ganglion block", "{N} of the right upper extremity"),
    "Occipital nerve block": ("Greater occipital nerve block", "Bilateral {n}s"),
    "Nerve block": ("Genicular nerve block of the left knee", "{N} of the right suprascapular nerve"),
    "Botulinum toxin injection": ("Botox injection for chronic migraine", "{N} to the cervical paraspinal muscles"),
    "Prolotherapy": ("{N} injections x {q}", "{N} for the low back"),
    "Radiofrequency ablation": ("{N} at L3-L4 and L4-L5 bilaterally", "Right L4-L5 {n}", "{N} of the cervical facets"),
    "Spinal cord stimulator": ("Spinal cord stimulator trial", "{N} implantation", "{N}"),
    "Intrathecal pump": ("Intrathecal pump trial", "{N} implantation"),
    "Spinal fusion": ("Lumbar fusion at L4-L5", "Posterior spinal fusion L4-S1", "Anterior lumbar interbody fusion at L5-S1"),
    "Anterior cervical discectomy and fusion": ("{N} at C5-C6", "ACDF C5-C7"),
    "Discectomy": ("L5-S1 microdiscectomy", "Lumbar discectomy at L4-L5"),
    "Laminectomy": ("L4-L5 laminectomy", "Lumbar laminectomy and foraminotomy at L4-L5"),
    "Artificial disc replacement": ("Cervical disc replacement at C5-C6", "{N} at C6-C7"),
    "Kyphoplasty": ("{N} at T12", "{N} at L1"),
    "Arthroscopy": ("Right knee arthroscopy", "Left shoulder arthroscopy with debridement", "Diagnostic arthroscopy of the right wrist"),
    "Subacromial decompression": ("Arthroscopic subacromial decompression of the right shoulder", "Left shoulder {n}"),
    "Rotator cuff repair": ("Right shoulder {n}", "Arthroscopic rotator cuff repair of the left shoulder"),
    "Meniscectomy": ("Left knee partial meniscectomy", "Right knee arthroscopic partial meniscectomy"),
    "ACL reconstruction": ("{N} of the right knee", "Left knee {n}"),
    "Total knee arthroplasty": ("Right {n}", "Left {n}"),
    "Total hip arthroplasty": ("Left {n}", "Right {n}"),
    "Shoulder arthroplasty": ("Right total shoulder arthroplasty", "Reverse shoulder arthroplasty, left"),
    "Carpal tunnel release": ("Right {n}", "Left endoscopic carpal tunnel release", "Bilateral {n}"),
    "Cubital tunnel release": ("Left {n}", "Right {n}"),
    "Trigger finger release": ("Right middle {n}", "Left ring {n}"),
    "De Quervain's release": ("Left {N}", "Right {N}"),
    "Hardware removal": ("{N} from the right ankle", "{N} from the lumbar spine"),
    "Manipulation under anesthesia": ("{N} of the lumbar spine", "{N} of the left shoulder"),
    "Hernia repair": ("Right inguinal hernia repair", "Umbilical {n}"),
    "Bariatric surgery": ("Laparoscopic sleeve gastrectomy", "{N}"),
    "Assistant surgeon": ("{N}", "{N} for lumbar fusion"),
    "Inpatient stay": ("{N} x {q} days", "Two day {n}", "{N} 3 days"),
    "Skilled nursing facility": ("{N} x {q} days", "{N} stay for two weeks"),
    "Pain management consultation": ("{N}", "Referral to pain management"),
    "Surgical consultation": ("Orthopedic consultation", "Spine {n}", "{N} for the right shoulder"),
    "Neurology consultation": ("{N}", "{N} for headaches"),
    "Internal medicine consultation": ("{N}", "{N} for hypertension"),
    "Consultation": ("{N} with a spine surgeon", "{N} with a hand surgeon"),
    "Office visit": ("Follow-up visit x {q}", "{N} with the treating physician", "Monthly {n}s x {q}"),
    "Preoperative clearance": ("Preoperative medical clearance", "{N}"),
    "Psychotherapy": ("{N} x {q} sessions", "Individual psychotherapy {q} sessions", "{N} {q} visits"),
    "Cognitive behavioral therapy": ("{N} x {q} sessions", "{N} {q} visits"),
    "Biofeedback": ("{N} {q} sessions", "{N} x {q}"),
    "Psychological evaluation": ("{N}", "{N} prior to spinal cord stimulator trial"),
    "Psychiatric consultation": ("{N}", "{N} for depression"),
    "Hypnotherapy": ("{N} x {q} sessions", "{N} {q} sessions"),
    "Detoxification": ("Outpatient detoxification program", "Opioid detoxification"),
    "TENS unit": ("{N} 30 day trial", "{N} purchase", "{N} and supplies", "{N} rental"),
    "H-wave unit": ("Home H-wave device purchase", "{N} 30 day trial"),
    "Interferential unit": ("{N} rental", "{N} purchase"),
    "Neuromuscular electrical stimulation": ("NMES unit", "{N} unit rental"),
    "Cold therapy unit": ("{N} 7 day rental", "Post-operative cold therapy unit 14 day rental", "{N} purchase"),
    "Heat therapy": ("{N} wrap", "Heating pad"),
    "Brace": ("Lumbar brace", "Hinged knee brace, left", "Back brace"),
    "Orthotics": ("Custom orthotics", "Custom foot orthotics"),
    "Cane": ("{N}", "Quad cane"),
    "Walker": ("Front-wheeled walker", "Four-wheeled walker"),
    "Wheelchair": ("Power wheelchair", "Manual wheelchair"),
    "Hospital bed": ("{N}", "Adjustable hospital bed"),
    "Orthopedic mattress": ("{N}", "Memory foam mattress"),
    "Continuous passive motion device": ("{N} x {q} days", "CPM machine rental for 21 days"),
    "Bone growth stimulator": ("{N}", "External bone stimulator"),
    "Traction unit": ("Home cervical traction unit", "{N}"),
    "Pneumatic compression device": ("{N} x {q} days", "Sequential compression device"),
    "Bathroom safety equipment": ("Shower chair", "Raised toilet seat"),
    "Home exercise kit": ("{N}", "{N} for the lumbar spine"),
    "Home health care": ("{N} 4 hours per day for 6 weeks", "Home health aide 20 hours per week", "{N}"),
    "Weight loss program": ("{N}", "Medically supervised weight loss program"),
    "Transportation": ("{N} to and from medical appointments", "Medical transportation to appointments"),
}  # fmt: skip

SERVICE_QUANTITIES: dict[str, tuple[int, ...]] = {
    "therapy": (6, 8, 12, 12, 18, 24),
    "restoration": (10, 12, 20),
    "behavioral": (4, 6, 6, 8, 12),
    "injection": (2, 3, 4),
    "diagnostic": (2, 4),
    "consult": (3, 4, 6),
    "care": (3, 5, 14),
    "equipment": (7, 14, 21),
}


def write_service(entry: LexiconEntry, rng: random.Random) -> Written:
    family = family_of(entry).key
    templates = SERVICE_TEMPLATES.get(entry.canonical, ("{N}",))
    template = rng.choice(templates)
    canonical = entry.canonical
    lower = canonical if canonical[:2].isupper() else canonical[0].lower() + canonical[1:]
    ranges: dict[str, tuple[int, int]] = {}
    units: int | None = None
    quantity: int | None = None
    out = ""
    for literal, fieldname, _spec, _conv in string_parse(template):
        out += literal
        if fieldname == "N":
            out += canonical
        elif fieldname == "n":
            out += lower
        elif fieldname == "q":
            quantity = rng.choice(SERVICE_QUANTITIES.get(family, (2, 3, 4, 6)))
            units = quantity
            ranges["quantity"] = (len(out), len(out) + len(str(quantity)))
            out += str(quantity)
        elif fieldname == "f":
            a, b = rng.choice(FREQUENCIES)
            units = a * b
            out += f"{a} x {b}"
        elif fieldname == "region":
            out += rng.choice(REGIONS)
    return Written(entry, out, ranges, quantity=quantity, units=units)


def write_treatment(entry: LexiconEntry, rng: random.Random) -> Written:
    """The entry written as a letter would write it; the name range comes from the
    lexicon, which defines where a treatment's name begins and ends."""
    lex = get_lexicon()
    for _ in range(8):
        w = write_drug(entry, rng) if entry.kind == "drug" else write_service(entry, rng)
        found = lex.find(w.text)
        if found is not None and found.entry == entry and not found.fuzzy:
            w.ranges["name"] = (found.start, found.end)
            return w
    raise ValueError(f"no way to write {entry.canonical!r} that the lexicon reads back")
