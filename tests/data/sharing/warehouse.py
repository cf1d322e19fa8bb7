"""A 40-patient research warehouse for the sharing tests, written row by row.

Four groups of ten (reference year 2025): women and men born 1971-1975 (ages 50-54) living in
Paris (75013, 75015, 75018), women and men born 1961-1965 (ages 60-64) in the Hauts-de-Seine
(92100, 92130, 92200): no postcode is shared by five people of the same sex and age, their
department is. Main diagnoses alternate between heart failure (I50.9, chapter IX) and type 2
diabetes (E11.9, chapter IV) inside every group.

Rare diagnoses: five patients each hold a different E10.x (E10 held by five: generalised to the
category at k=5); three hold a code nobody else has, in three chapters (Q87.4 Marfan, G71.0,
C47.0): suppressed. Patient 900040 died of Q87.4.

Identities (``hopia_id.patient``), a provider's name, a rare care site and full addresses are
there to check that none of them leaves.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from hopia.platform.warehouse import Warehouse
from tests.data.rows import EHR, NLP, Rows

REFERENCE = date(2025, 6, 30)
FIRST_ID = 900_001
IDS = list(range(FIRST_ID, FIRST_ID + 40))
I509, E119, FUROSEMIDE, BNP, PG_ML = (
    2_000_000_001,
    2_000_000_002,
    2_000_000_003,
    2_000_000_004,
    8845,
)
E10 = {f"E10.{i}": 2_000_000_010 + i for i in range(1, 6)}
RARE = {"Q87.4": 2_000_000_020, "G71.0": 2_000_000_021, "C47.0": 2_000_000_022}
RARE_HOLDERS = {"Q87.4": IDS[39], "G71.0": IDS[25], "C47.0": IDS[12]}
E10_HOLDERS = dict(zip(E10, [IDS[0], IDS[11], IDS[22], IDS[33], IDS[5]], strict=True))
SECRET_STRINGS = [
    "ZORGLUB",
    "Fantasio",
    "1 85 05 75 113 042 17",
    "12 rue des Lilas",
    "Dr Champignac",
    "Centre Marfan Lyon",
    "IPP-4242",
]
PARIS, HAUTS_DE_SEINE = ("75013", "75015", "75018"), ("92100", "92130", "92200")
ZIPS = {0: PARIS, 1: PARIS, 2: HAUTS_DE_SEINE, 3: HAUTS_DE_SEINE}


def person_plan() -> list[tuple[int, str, int, str]]:
    """(person_id, sex, year of birth, zip) of the forty patients."""
    out = []
    for group in range(4):
        sex = "F" if group % 2 == 0 else "M"
        first_year = 1971 if group < 2 else 1961
        for i in range(10):
            pid = IDS[group * 10 + i]
            out.append((pid, sex, first_year + i % 5, ZIPS[group][i % 3]))
    return out


def fill(wh: Warehouse) -> None:
    rows = Rows()
    rows.concept(I509, "I50.9", "CIM10", "Insuffisance cardiaque")
    rows.concept(E119, "E11.9", "CIM10", "Diabète de type 2")
    rows.concept(FUROSEMIDE, "C03CA01", "ATC", "furosémide", "Drug")
    rows.concept(BNP, "42637-9", "LOINC", "Natriuretic peptide B", "Measurement")
    rows.concept(PG_ML, "pg/mL", "UCUM", "picogram per milliliter", "Unit")
    for code, cid in E10.items():
        rows.concept(cid, code, "CIM10", f"Diabète type 1 ({code})")
    for code, cid in RARE.items():
        rows.concept(cid, code, "CIM10", f"Maladie rare {code}")
    codes_of = {cid: code for code, cid in [*E10.items(), *RARE.items()]}
    codes_of |= {I509: "I50.9", E119: "E11.9"}
    rows.add("provider", provider_id=7, provider_name="Dr Champignac", npi="IPP-4242")
    rows.add("care_site", care_site_name="Cardiologie", care_site_source_value="CARDIO")
    rows.add("care_site", care_site_name="Centre Marfan Lyon", care_site_source_value="CML")
    for n, (pid, sex, year, zip_code) in enumerate(person_plan()):
        city = "Paris" if zip_code.startswith("75") else "Boulogne-Billancourt"
        location = rows.add(
            "location",
            address_1="12 rue des Lilas",
            city=city,
            zip=zip_code,
            location_source_value=f"ADR-{pid}",
            latitude=48.8,
            longitude=2.3,
        )
        rows.person(
            pid,
            sex,
            date(year, 3, 14),
            birth_datetime=datetime(year, 3, 14),
            race_concept_id=8527,
            location_id=location["location_id"],
            provider_id=7,
            person_source_value=f"IPP-4242-{pid}",
        )
        rows.patient(
            pid,
            f"IPP-4242-{n}",
            family_name="ZORGLUB",
            given_name="Fantasio",
            birth_date=date(year, 3, 14),
            sex=sex,
            nir="1 85 05 75 113 042 17",
            address="12 rue des Lilas",
            zip=zip_code,
            city="Paris",
            updated_at=datetime(2025, 1, 1),
        )
        day = date(2024, 1 + n % 12, 1 + n % 28)
        rare_site = pid == RARE_HOLDERS["Q87.4"]
        visit = rows.visit(
            pid,
            day,
            care_site_id=2 if rare_site else 1,
            provider_id=7,
            visit_source_value=f"SEJ-{pid}",
        )
        main = I509 if n % 2 == 0 else E119
        codes = [main, main]  # the main diagnosis: two rows
        codes += [E10[c] for c, holder in E10_HOLDERS.items() if holder == pid]
        codes += [RARE[c] for c, holder in RARE_HOLDERS.items() if holder == pid]
        for concept in codes:
            rows.condition(
                pid,
                concept,
                day,
                NLP,
                condition_source_concept_id=concept,
                condition_source_value="Fantasio a une maladie",  # NLP mention text
                condition_status_source_value="antecedent" if n % 3 == 0 else None,
                visit_occurrence_id=visit,
                provider_id=7,
            )
        rows.drug(
            pid,
            FUROSEMIDE,
            day,
            NLP,
            drug_source_concept_id=FUROSEMIDE,
            drug_source_value="Lasilix prescrit par Dr Champignac",
            quantity=40.0,
            dose_unit_source_value="mg",
            sig="40 mg le matin, vu avec Fantasio",
            lot_number="IPP-4242",
            visit_occurrence_id=visit,
        )
        rows.measurement(
            pid,
            BNP,
            day,
            100.0 + n,
            NLP,
            unit_concept_id=PG_ML,
            unit_source_value="pg/mL",
            range_high=100.0,
            measurement_source_value="42637-9",
            measurement_source_concept_id=BNP,
            value_source_value="BNP à 140 chez Fantasio",
            visit_occurrence_id=visit,
        )
        text = "Patiente suivie pour un syndrome de Marfan." if rare_site else "RAS."
        note = rows.note(
            pid,
            day,
            text,
            note_title="CRH",
            visit_occurrence_id=visit,
            note_source_value=f"DOC-{pid}",
        )
        for m, concept in enumerate(codes[1:], 1):
            marfan = concept == RARE["Q87.4"]
            modifiers = {"negation": False, "history": True, "codes": {"cim10": codes_of[concept]}}
            rows.mention(
                note,
                concept,
                day,
                "Marfan" if marfan else "mot",
                note_nlp_id=100 * n + m,
                offset="10-20",
                nlp_system="hopia test",
                snippet="syndrome de Marfan" if marfan else "texte",
                term_modifiers=json.dumps(modifiers),
            )
    rows.add(
        "death",
        person_id=RARE_HOLDERS["Q87.4"],
        death_date=date(2024, 12, 1),
        death_type_concept_id=EHR,
        cause_concept_id=RARE["Q87.4"],
        cause_source_value="Q87.4",
        cause_source_concept_id=RARE["Q87.4"],
    )
    rows.write(wh)
