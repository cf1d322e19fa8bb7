"""Clinical scenarios: patient profiles per service and the episodes that bring them to hospital.

Free-text fragments here (story, findings, evolution, procedure) never name a diagnosis or a drug:
those are always written through the annotated vocabulary so that the gold is complete.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Which chronic conditions a patient followed in ``service`` tends to have."""

    service: str
    weight: float
    age: tuple[int, int]
    chronic: tuple[tuple[str, float], ...]
    cancers: tuple[str, ...] = ()  # one is drawn (sex-compatible) when not empty


@dataclass(frozen=True)
class Episode:
    """Why a patient comes: main diagnosis, context and what the team finds and does."""

    key: str  # DIAGNOSES key of the main diagnosis
    service: str
    kind: str  # hospitalisation | consultation | chirurgie | urgences
    symptoms: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    differential: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    exams: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    evolution: tuple[str, ...] = ()
    procedure: str | None = None
    requires: tuple[str, ...] = ()  # chronic conditions the patient must have


# fmt: off
PROFILES: tuple[Profile, ...] = (
    Profile("cardiologie", 18, (48, 92), (("hta", .8), ("dyslip", .5), ("fa", .35), ("ic", .3),
            ("cardio_isch", .35), ("dt2", .25), ("aomi", .1), ("ra", .1), ("irc", .12))),
    Profile("pneumologie", 14, (35, 88), (("bpco", .5), ("asthme", .15), ("saos", .2), ("hta", .4),
            ("irc_resp", .1), ("fibrose", .05), ("dyslip", .2)), cancers=("k_poumon",) * 1),
    Profile("nephrologie", 10, (40, 90), (("irc", .85), ("irct", .15), ("hta", .8), ("dt2", .4),
            ("nas", .3), ("pkr", .1), ("goutte", .15), ("anemie", .3))),
    Profile("endocrinologie", 12, (20, 85), (("dt2", .65), ("dt1", .2), ("obesite", .45),
            ("hypothyr", .2), ("basedow", .08), ("nodule_thyr", .1), ("dyslip", .4), ("hta", .4),
            ("retino", .1), ("neuro_diab", .1))),
    Profile("oncologie", 14, (38, 88), (("hta", .3), ("dt2", .15), ("dyslip", .2), ("rgo", .1),
            ("depression", .1)),
            cancers=("k_poumon", "k_sein", "k_colon", "k_rectum", "k_prostate", "k_pancreas",
                     "k_estomac", "k_vessie", "chc", "lymphome")),
    Profile("geriatrie", 14, (78, 99), (("hta", .7), ("alzheimer", .3), ("demence", .2),
            ("osteoporose", .4), ("fa", .3), ("ic", .2), ("parkinson", .1), ("denutrition", .3),
            ("irc", .2), ("depression", .2), ("gonarthrose", .3), ("hbp", .15), ("dt2", .2))),
    Profile("chirurgie_digestive", 10, (22, 86), (("hta", .3), ("obesite", .2), ("rgo", .2),
            ("dt2", .15), ("cirrhose", .05), ("dyslip", .2))),
    Profile("urgences", 8, (18, 70), (("asthme", .1), ("hta", .15), ("depression", .05),
            ("rgo", .1))),
)
# fmt: on

# Which service follows a chronic condition (for visits outside the main profile).
CONDITION_SERVICE: dict[str, str] = {
    "hta": "cardiologie", "fa": "cardiologie", "ic": "cardiologie", "cardio_isch": "cardiologie",
    "dt2": "endocrinologie", "dt1": "endocrinologie", "hypothyr": "endocrinologie",
    "obesite": "endocrinologie", "irc": "nephrologie", "irct": "nephrologie",
    "bpco": "pneumologie", "asthme": "pneumologie", "saos": "pneumologie",
    "alzheimer": "geriatrie", "demence": "geriatrie", "osteoporose": "geriatrie",
}  # fmt: skip

SURGICAL_HISTORY: tuple[str, ...] = (
    "appendicectomie",
    "cholécystectomie par cœlioscopie",
    "prothèse totale de hanche droite",
    "prothèse totale de genou gauche",
    "herniorraphie ombilicale",
    "amygdalectomie",
    "chirurgie de la cataracte bilatérale",
    "canal carpien droit opéré",
    "méniscectomie gauche",
    "hystérectomie",
    "résection transurétrale de prostate",
)
ALLERGIES: tuple[str, ...] = (
    "Allergie aux produits de contraste iodés.",
    "Allergie au latex.",
    "Allergie aux pollens (rhinite saisonnière).",
    "Intolérance digestive aux sulfamides.",
)
