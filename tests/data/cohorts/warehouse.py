"""A small warehouse written row by row, the way ingest would have: eight patients around
heart failure ("insuffisance cardiaque"), with the qualifiers NLP puts on mentions.

Who is who (index = first affirmed, current mention of "insuffisance cardiaque"):

====  ===  ====  =================================================  ==========================
id    sex  born  mentions (note date)                               drug (ATC) / BNP / other
====  ===  ====  =================================================  ==========================
1     M    1950  affirmed 2024-01-10                                 C03CA01 01-15 / 800 01-11
2     F    1960  negated 2024-02-01                                  C03CA01 / 900
3     F    1980  affirmed 2024-03-01                                 none / 500
4     M    2010  affirmed 2024-01-05                                 C03CA01 / 600 (a child)
5     M    1945  family 2024-01-01, history 2024-01-02               C03CA01 / 700
6     F    1955  affirmed 2024-04-01                                 C03CA01 in 2022 / 450
7     M    1970  affirmed 2024-05-01                                 C03CA01 05-03 / 300
8     F    1940  affirmed 2024-06-01 and 2024-07-01, hypothetical    C03CA01 / 1200, E11.9
====  ===  ====  =================================================  ==========================
"""

from __future__ import annotations

import json
from datetime import date

from hopia.platform.warehouse import Warehouse
from tests.data.rows import NLP, Rows

HF = "insuffisance cardiaque"
I509, E119, FUROSEMIDE, BNP = 2_000_000_001, 2_000_000_002, 2_000_000_003, 2_000_000_004
CARDIO_SITE = 1

PERSONS = {
    1: ("M", 1950),
    2: ("F", 1960),
    3: ("F", 1980),
    4: ("M", 2010),
    5: ("M", 1945),
    6: ("F", 1955),
    7: ("M", 1970),
    8: ("F", 1940),
}

# person, note date, qualifiers
MENTIONS = [
    (1, date(2024, 1, 10), {}),
    (2, date(2024, 2, 1), {"negation": True}),
    (3, date(2024, 3, 1), {}),
    (4, date(2024, 1, 5), {}),
    (5, date(2024, 1, 1), {"family": True}),
    (5, date(2024, 1, 2), {"history": True}),
    (6, date(2024, 4, 1), {}),
    (7, date(2024, 5, 1), {}),
    (8, date(2024, 6, 1), {}),
    (8, date(2024, 7, 1), {}),
    (8, date(2024, 6, 1), {"hypothesis": True}),
]
DRUGS = {
    1: date(2024, 1, 15),
    2: date(2024, 2, 3),
    4: date(2024, 1, 6),
    5: date(2024, 1, 3),
    6: date(2022, 1, 1),
    7: date(2024, 5, 3),
    8: date(2024, 6, 2),
}
BNP_VALUES = {
    1: (800, date(2024, 1, 11)),
    2: (900, date(2024, 2, 1)),
    3: (500, date(2024, 3, 2)),
    4: (600, date(2024, 1, 5)),
    5: (700, date(2024, 1, 2)),
    6: (450, date(2024, 4, 1)),
    7: (300, date(2024, 5, 1)),
    8: (1200, date(2024, 6, 1)),
}


def modifiers(**flags: bool) -> str:
    values = {
        "label": "congestive_heart_failure",
        "negation": False,
        "hypothesis": False,
        "family": False,
        "history": False,
    } | flags
    return json.dumps(values, ensure_ascii=False)


def fill(wh: Warehouse, identities: bool = True) -> None:
    """Write the eight patients (and, with ``identities``, their identified records)."""
    rows = Rows()
    rows.concept(I509, "I50.9", "CIM10", "Insuffisance cardiaque, sans précision")
    rows.concept(E119, "E11.9", "CIM10", "Diabète sucré de type 2")
    rows.concept(FUROSEMIDE, "C03CA01", "ATC", "furosémide", "Drug")
    rows.concept(BNP, "42637-9", "LOINC", "Natriuretic peptide B", "Measurement")
    rows.add(
        "care_site",
        care_site_id=CARDIO_SITE,
        care_site_name="Cardiologie",
        care_site_source_value="CARDIO",
    )
    for pid, (sex, year) in PERSONS.items():
        rows.person(pid, sex, year, month_of_birth=6)  # day unknown
        if identities:
            rows.patient(
                pid,
                f"IPP{pid:04d}",
                patient_id=pid,
                family_name=f"NOM{pid}",
                given_name="Prénom",
                sex=sex,
                birth_date=date(year, 6, 1),
            )
    # Inpatient stays in cardiology for 1 and 3; an outpatient visit for 2; a stay admitted
    # through the emergency department (OMOP 262) for 5.
    for pid, concept, site, day in [
        (1, 9201, CARDIO_SITE, date(2024, 1, 10)),
        (3, 9201, CARDIO_SITE, date(2024, 3, 1)),
        (2, 9202, None, date(2024, 2, 1)),
        (5, 262, None, date(2024, 6, 1)),
    ]:
        rows.visit(pid, day, day, concept, care_site_id=site, visit_source_value="CRH")
    for pid, concept, day, status in [
        (1, I509, date(2024, 1, 10), None),
        (8, E119, date(2020, 1, 1), "antecedent"),
    ]:
        rows.condition(
            pid,
            concept,
            day,
            NLP,
            condition_source_concept_id=concept,
            condition_source_value="texte",
            condition_status_source_value=status,
        )
    for pid, day in DRUGS.items():
        rows.drug(
            pid,
            FUROSEMIDE,
            day,
            NLP,
            drug_source_concept_id=FUROSEMIDE,
            drug_source_value="furosémide",
        )
    for pid, (value, day) in BNP_VALUES.items():
        rows.measurement(
            pid,
            BNP,
            day,
            float(value),
            measurement_source_value="42637-9",
            unit_source_value="pg/mL",
        )
    for n, (pid, day, flags) in enumerate(MENTIONS, 1):
        fact = not (flags.get("negation") or flags.get("hypothesis") or flags.get("family"))
        variant = "Insuffisance cardiaque" if n % 2 else "insuffisance cardiaque congestive"
        rows.mention(
            rows.note(pid, day),
            I509,
            day,
            variant,
            term_exists="Y" if fact else "N",
            term_temporal="history" if flags.get("history") else "present",
            term_modifiers=modifiers(**flags),
        )
    rows.write(wh)
