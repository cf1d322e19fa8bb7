"""Concepts: the OMOP standard ids Hopia references, and local concepts for the codes it uses.

Hopia runs offline without the Athena vocabularies, so each CIM-10 or ATC code it writes gets a
local concept (``concept_id`` >= 2,000,000,000, the range OMOP reserves for local use), named
from EDS-NLP's own terminologies. A hospital that loads Athena later maps them with
``source_to_concept_map``.
"""

from __future__ import annotations

import csv
import gzip
import json
from datetime import date
from functools import cache
from importlib.resources import files

from sqlalchemy import Connection, func, select

from hopia.platform.warehouse import Warehouse, schema

# OMOP standard concept ids used by Hopia (with their names, for the concept table).
MALE, FEMALE, UNKNOWN = 8507, 8532, 0
INPATIENT_VISIT, OUTPATIENT_VISIT, ER_VISIT = 9201, 9202, 9203
ER_AND_INPATIENT_VISIT = 262  # a stay admitted through the emergency department
EHR, NLP = 32817, 32858  # type concepts: record from the EHR / derived by NLP
#: Qualitative results of tests (``span._.result`` of ``hopia.qualifier_rules``) -> standard
#: concepts of the "Meas Value" domain, for ``measurement.value_as_concept_id``. Athena ids
#: (SNOMED 260385009, 10828004, 17621005, 263654008); the Synthea27Nj vocabulary subset in
#: ../shared/data/omop has no "Meas Value" concept to check them against, so they are added to
#: the concept table here.
NEGATIVE, POSITIVE, NORMAL, ABNORMAL = 9189, 9191, 4069590, 4135493
RESULT_CONCEPTS: dict[str, int] = {
    "negative": NEGATIVE,
    "positive": POSITIVE,
    "normal": NORMAL,
    "abnormal": ABNORMAL,
}
STANDARD_CONCEPTS: dict[int, tuple[str, str, str, str]] = {
    # concept_id: (name, domain, vocabulary, class)
    MALE: ("MALE", "Gender", "Gender", "Gender"),
    FEMALE: ("FEMALE", "Gender", "Gender", "Gender"),
    INPATIENT_VISIT: ("Inpatient Visit", "Visit", "Visit", "Visit"),
    OUTPATIENT_VISIT: ("Outpatient Visit", "Visit", "Visit", "Visit"),
    ER_VISIT: ("Emergency Room Visit", "Visit", "Visit", "Visit"),
    ER_AND_INPATIENT_VISIT: ("Emergency Room and Inpatient Visit", "Visit", "Visit", "Visit"),
    EHR: ("EHR", "Type Concept", "Type Concept", "Type Concept"),
    NLP: ("NLP", "Type Concept", "Type Concept", "Type Concept"),
    NEGATIVE: ("Negative", "Meas Value", "SNOMED", "Qualifier Value"),
    POSITIVE: ("Positive", "Meas Value", "SNOMED", "Qualifier Value"),
    NORMAL: ("Normal", "Meas Value", "SNOMED", "Qualifier Value"),
    ABNORMAL: ("Abnormal", "Meas Value", "SNOMED", "Qualifier Value"),
}
LOCAL_CONCEPT_START = 2_000_000_001
VOCABULARY_DOMAIN = {
    "CIM10": "Condition",
    "ATC": "Drug",
    "EDS-NLP": "Condition",
    "LOINC": "Measurement",
}


@cache
def _cim10_labels() -> dict[str, str]:
    path = files("edsnlp").joinpath("resources/cim10.csv.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as fh:
        return {row["code"]: row["long"] for row in csv.DictReader(fh)}


@cache
def _atc_labels() -> dict[str, str]:
    names = json.loads(files("edsnlp").joinpath("resources/drugs.json").read_text("utf-8"))
    # Each ATC code lists brand names then the molecule (lowercase) last.
    return {code: values[-1] for code, values in names.items() if values}


@cache
def _loinc_labels() -> dict[str, str]:
    # LOINC long names of the analytes hopia.labs reads (its analytes.csv)
    from hopia.data.nlp.pipes.labs.analytes import load_analytes

    return {a.loinc: a.loinc_name for a in load_analytes().values()}


def warm_terminologies() -> None:
    """Load the CIM-10 and ATC label tables (about 0.2 s) ahead of the first batch."""
    _cim10_labels()
    _atc_labels()


def concept_name(vocabulary: str, code: str) -> str:
    compact = code.replace(".", "")
    if vocabulary == "CIM10":
        return _cim10_labels().get(compact, code)[:255]
    if vocabulary == "ATC":
        return _atc_labels().get(code, code)[:255]
    if vocabulary == "LOINC":
        return _loinc_labels().get(code, code)[:255]
    if vocabulary == "EDS-NLP":
        from hopia.data.omop.mapping import COMORBIDITY_LOCAL

        return COMORBIDITY_LOCAL.get(code, code)
    return code


def cim10_display(code: str) -> str:
    """CIM-10 codes are written with a dot after the category (I10, E11.9, U07.1)."""
    compact = code.replace(".", "").upper()
    return compact if len(compact) <= 3 else f"{compact[:3]}.{compact[3:]}"


class ConceptResolver:
    """Finds or creates concept rows within the caller's transaction; caches ids in memory."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self._ids: dict[tuple[str, str], int] = {}

    def ensure_standard(self, conn: Connection) -> None:
        table = schema.CDM["concept"]
        present = set(
            conn.execute(
                select(table.c.concept_id).where(table.c.concept_id.in_(list(STANDARD_CONCEPTS)))
            ).scalars()
        )
        rows = [
            _concept_row(cid, name, domain, vocab, klass, str(cid))
            for cid, (name, domain, vocab, klass) in STANDARD_CONCEPTS.items()
            if cid not in present
        ]
        self.wh.insert_rows(conn, table, rows)

    def resolve(self, conn: Connection, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """concept_id for each (vocabulary, code); creates the missing local concepts."""
        table = schema.CDM["concept"]
        missing = {p for p in pairs if p not in self._ids}
        for vocabulary in {v for v, _ in missing}:
            codes = [c for v, c in missing if v == vocabulary]
            found = conn.execute(
                select(table.c.concept_code, table.c.concept_id).where(
                    table.c.vocabulary_id == vocabulary, table.c.concept_code.in_(codes)
                )
            )
            for code, cid in found:
                self._ids[(vocabulary, code)] = int(cid)
        new = sorted(p for p in missing if p not in self._ids)
        if new:
            top = conn.execute(select(func.max(table.c.concept_id))).scalar() or 0
            next_id = max(int(top) + 1, LOCAL_CONCEPT_START)
            rows = []
            for offset, (vocabulary, code) in enumerate(new):
                cid = next_id + offset
                self._ids[(vocabulary, code)] = cid
                domain = VOCABULARY_DOMAIN.get(vocabulary, "Observation")
                name = concept_name(vocabulary, code)
                rows.append(_concept_row(cid, name, domain, vocabulary, vocabulary, code, None))
            self.wh.insert_rows(conn, table, rows)
        return {p: self._ids[p] for p in pairs}

    def forget(self) -> None:
        """Drop cached ids (after a rolled-back transaction they may not exist)."""
        self._ids.clear()


def _concept_row(
    cid: int, name: str, domain: str, vocab: str, klass: str, code: str, standard: str | None = "S"
) -> dict:
    return {
        "concept_id": cid,
        "concept_name": name,
        "domain_id": domain,
        "vocabulary_id": vocab,
        "concept_class_id": klass,
        "standard_concept": standard,
        "concept_code": code,
        "valid_start_date": date(1970, 1, 1),
        "valid_end_date": date(2099, 12, 31),
        "invalid_reason": None,
    }
