"""The one builder of the tests' hand-made OMOP warehouses.

Hand-made warehouses are for tests where the planted values ARE the point: a quality check must
catch one planted violation, an anonymity class holds exactly ten people, a predictive signal is
planted. Tests that only need data use the sample warehouse (``tests/sample.py``).

>>> rows = Rows()
>>> rows.person(1, "F", date(1950, 6, 1))
>>> stay = rows.visit(1, date(2024, 1, 1), date(2024, 1, 5))
>>> rows.write(wh)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table

from hopia.platform.warehouse import Warehouse, schema

MALE, FEMALE, EHR, NLP = 8507, 8532, 32817, 32858
INPATIENT = 9201


def _table(name: str) -> Table:
    return schema.patient if name == "patient" else schema.CDM[name]


class Rows:
    """Rows per table (a CDM table, or ``patient`` for the identified space), written in one
    transaction. A table's missing single-column key gets the next free id of that table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, defaults: dict[str, Any] | None = None, /, **values: Any) -> dict:
        """A row of ``table``: ``defaults`` overridden by ``values``."""
        row = (defaults or {}) | values
        rows = self.tables.setdefault(table, [])
        keys = list(_table(table).primary_key.columns)
        if len(keys) == 1 and keys[0].name not in row:
            row[keys[0].name] = max((r[keys[0].name] for r in rows), default=0) + 1
        rows.append(row)
        return row

    def concept(
        self,
        cid: int,
        code: str,
        vocabulary: str,
        name: str = "",
        domain: str = "Condition",
        standard: str | None = None,
        klass: str | None = None,
    ) -> int:
        self.add(
            "concept",
            concept_id=cid,
            concept_name=name or code,
            domain_id=domain,
            vocabulary_id=vocabulary,
            concept_class_id=klass or vocabulary,
            standard_concept=standard,
            concept_code=code,
            valid_start_date=date(1970, 1, 1),
            valid_end_date=date(2099, 12, 31),
        )
        return cid

    def person(self, pid: int, sex: str, born: date | int | None, **extra: Any) -> int:
        """``born``: a date, a year (month and day unknown), or None."""
        full = isinstance(born, date)
        values = {
            "person_id": pid,
            "gender_concept_id": MALE if sex == "M" else FEMALE,
            "year_of_birth": born.year if full else born,
            **({"month_of_birth": born.month, "day_of_birth": born.day} if full else {}),
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
        }
        return self.add("person", values, **extra)["person_id"]

    def patient(self, person: int, ipp: str, **extra: Any) -> int:
        """An identity of the identified space (``hopia_id.patient``)."""
        values = {"person_id": person, "ipp": ipp, "updated_at": datetime(2024, 1, 1)}
        return self.add("patient", values, **extra)["patient_id"]

    def visit(
        self,
        person: int,
        start: date,
        end: date | None = None,
        concept: int = INPATIENT,
        **extra: Any,
    ) -> int:
        values = {
            "person_id": person,
            "visit_concept_id": concept,
            "visit_start_date": start,
            "visit_end_date": end or start,
            "visit_type_concept_id": EHR,
        }
        return self.add("visit_occurrence", values, **extra)["visit_occurrence_id"]

    def condition(self, person: int, concept: int, day: date, kind: int = EHR, **extra: Any) -> int:
        values = {
            "person_id": person,
            "condition_concept_id": concept,
            "condition_start_date": day,
            "condition_type_concept_id": kind,
        }
        return self.add("condition_occurrence", values, **extra)["condition_occurrence_id"]

    def drug(self, person: int, concept: int, day: date, kind: int = EHR, **extra: Any) -> int:
        values = {
            "person_id": person,
            "drug_concept_id": concept,
            "drug_exposure_start_date": day,
            "drug_exposure_end_date": day,
            "drug_type_concept_id": kind,
        }
        return self.add("drug_exposure", values, **extra)["drug_exposure_id"]

    def measurement(
        self,
        person: int,
        concept: int,
        day: date,
        value: float | None,
        kind: int = EHR,
        **extra: Any,
    ) -> int:
        values = {
            "person_id": person,
            "measurement_concept_id": concept,
            "measurement_date": day,
            "measurement_type_concept_id": kind,
            "value_as_number": value,
        }
        return self.add("measurement", values, **extra)["measurement_id"]

    def note(self, person: int, day: date, text: str = "(pseudonymisé)", **extra: Any) -> int:
        values = {
            "person_id": person,
            "note_date": day,
            "note_type_concept_id": EHR,
            "note_class_concept_id": 0,
            "note_text": text,
            "encoding_concept_id": 0,
            "language_concept_id": 0,
        }
        return self.add("note", values, **extra)["note_id"]

    def mention(self, note: int, concept: int, day: date, variant: str, **extra: Any) -> int:
        values = {
            "note_id": note,
            "section_concept_id": 0,
            "snippet": variant,
            "lexical_variant": variant,
            "note_nlp_concept_id": concept,
            "note_nlp_source_concept_id": concept,
            "nlp_system": "test",
            "nlp_date": day,
            "term_exists": "Y",
        }
        return self.add("note_nlp", values, **extra)["note_nlp_id"]

    def write(self, wh: Warehouse) -> Warehouse:
        """Every row into ``wh``, parents first, in one transaction."""
        order = [t for t in schema.metadata.sorted_tables if t.schema != schema.META]
        with wh.begin() as conn:
            for name, rows in sorted(self.tables.items(), key=lambda t: order.index(_table(t[0]))):
                # The same columns in every row: the DuckDB bulk insert reads them off the first.
                columns = {c for row in rows for c in row}
                wh.insert_rows(conn, _table(name), [dict.fromkeys(columns) | r for r in rows])
        return wh

    def duckdb(self, path: Path) -> Warehouse:
        """A new DuckDB warehouse at ``path`` holding these rows."""
        return self.write(Warehouse(f"duckdb:///{path}"))
