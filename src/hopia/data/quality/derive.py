"""Derive Hopia's DQD catalogue files from the OHDSI Data Quality Dashboard threshold CSVs.

The shipped ``catalogue/dqd_*.csv`` files are the output of this module (DQD is Apache-2.0, see
``catalogue/SOURCES.md``): rerun it when a new DQD release is adopted, then review the diff.

    python -m hopia.data.quality.derive /path/to/dqd [catalogue folder]

Checks that our own schema (``cdm54_fields.csv``) already states — cdmTable, cdmField,
cdmDatatype, isRequired, isPrimaryKey, isForeignKey, measureValueCompleteness — are not copied:
the catalogue generates them from the schema (see :mod:`hopia.data.quality.catalogue`).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from pathlib import Path

TABLE_FILE = "OMOP_CDMv5.4_Table_Level.csv"
FIELD_FILE = "OMOP_CDMv5.4_Field_Level.csv"
CONCEPT_FILE = "OMOP_CDMv5.4_Concept_Level.csv"

TABLE_CHECKS = (
    "measurePersonCompleteness",
    "measureConditionEraCompleteness",
    "measureObservationPeriodOverlap",
)

# Field-level checks taken from DQD (the other field-level checks come from our schema).
FIELD_CHECKS = (
    "fkDomain",
    "fkClass",
    "isStandardValidConcept",
    "standardConceptRecordCompleteness",
    "sourceConceptRecordCompleteness",
    "sourceValueCompleteness",
    "plausibleValueLow",
    "plausibleValueHigh",
    "plausibleTemporalAfter",
    "plausibleDuringLife",
    "withinVisitDates",
    "plausibleAfterBirth",
    "plausibleBeforeDeath",
    "plausibleStartBeforeEnd",
)

CONCEPT_CHECKS: dict[str, str] = {
    "plausibleGender": "plausibleGender",
    "plausibleGenderUseDescendants": "plausibleGenderUseDescendants",
    "plausibleValueLow": "plausibleValueLow",
    "plausibleValueHigh": "plausibleValueHigh",
    "plausibleUnitConceptIds": "plausibleUnitConceptIds",
}

FIELD_COLUMNS = ["check", "table", "field", "threshold", "argument"]
TABLE_COLUMNS = ["check", "table", "threshold"]
CONCEPT_COLUMNS = [
    "check",
    "table",
    "field",
    "concept_ids",
    "concept_name",
    "unit_concept_id",
    "unit_name",
    "threshold",
    "argument",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _is_set(value: str) -> bool:
    return value not in {"", "No", "NA"}


def _value(raw: str) -> str:
    """DQD's SQL Server expressions as Hopia tokens: ISO dates, ``today+N``, ``year+N``."""
    raw = raw.strip()
    if raw.startswith("'") and raw.endswith("'"):
        digits = raw.strip("'")
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    compact = raw.replace(" ", "").upper()
    if compact == "DATEADD(DD,1,GETDATE())":
        return "today+1"
    if compact == "YEAR(GETDATE())+1":
        return "year+1"
    float(raw)  # a plain number, or a format this module does not know yet: fail loudly
    return raw


def _threshold(raw: str) -> str:
    return raw if raw else "0"


def _ids(raw: str) -> str:
    return ";".join(part.strip() for part in raw.split(",") if part.strip())


def derive_table_level(dqd: Path) -> list[dict[str, str]]:
    out = []
    for row in _rows(dqd / TABLE_FILE):
        for check in TABLE_CHECKS:
            if row.get(check) == "Yes":
                out.append(
                    {
                        "check": check,
                        "table": row["cdmTableName"].lower(),
                        "threshold": _threshold(row.get(f"{check}Threshold", "")),
                    }
                )
    return out


def derive_field_level(dqd: Path) -> list[dict[str, str]]:
    out = []
    for row in _rows(dqd / FIELD_FILE):
        table, field = row["cdmTableName"].lower(), row["cdmFieldName"].lower()
        for check in FIELD_CHECKS:
            flag = row.get(check, "")
            if _is_set(flag):
                argument = _field_argument(check, flag, row)
                out.append(
                    {
                        "check": check,
                        "table": table,
                        "field": field,
                        "threshold": _threshold(row.get(f"{check}Threshold", "")),
                        "argument": argument,
                    }
                )
    return out


def _field_argument(check: str, flag: str, row: dict[str, str]) -> str:
    """The one parameter a field-level check takes, in Hopia's notation."""
    if check in {"fkDomain", "fkClass"}:
        return flag  # the expected domain or class
    if check in {"plausibleValueLow", "plausibleValueHigh"}:
        return _value(flag)
    if check == "sourceValueCompleteness":
        return row["standardConceptFieldName"].lower()
    if check == "plausibleStartBeforeEnd":
        return row["plausibleStartBeforeEndFieldName"].lower()
    if check == "plausibleTemporalAfter":
        other = row["plausibleTemporalAfterTableName"].lower()
        return f"{other}.{row['plausibleTemporalAfterFieldName'].lower()}"
    return ""


def derive_concept_level(dqd: Path) -> list[dict[str, str]]:
    out = []
    for row in _rows(dqd / CONCEPT_FILE):
        for check, column in CONCEPT_CHECKS.items():
            value = row.get(column, "")
            if not _is_set(value):
                continue
            argument = _ids(value) if check == "plausibleUnitConceptIds" else value
            if check in {"plausibleValueLow", "plausibleValueHigh"}:
                argument = _value(value)
            out.append(
                {
                    "check": check,
                    "table": row["cdmTableName"].lower(),
                    "field": row["cdmFieldName"].lower(),
                    "concept_ids": _ids(row["conceptId"]),
                    "concept_name": row["conceptName"],
                    "unit_concept_id": row.get("unitConceptId", ""),
                    "unit_name": row.get("unitConceptName", ""),
                    "threshold": _threshold(row.get(f"{check}Threshold", "")),
                    "argument": argument,
                }
            )
    return out


def _csv_text(rows: list[dict[str, str]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def derive(dqd: Path) -> dict[str, str]:
    """File name -> CSV text of the three derived catalogue files."""
    dqd = Path(dqd)
    for name in (TABLE_FILE, FIELD_FILE, CONCEPT_FILE):
        if not (dqd / name).is_file():
            raise FileNotFoundError(f"{dqd / name} : fichier DQD absent")
    return {
        "dqd_table_level.csv": _csv_text(derive_table_level(dqd), TABLE_COLUMNS),
        "dqd_field_level.csv": _csv_text(derive_field_level(dqd), FIELD_COLUMNS),
        "dqd_concept_level.csv": _csv_text(derive_concept_level(dqd), CONCEPT_COLUMNS),
    }


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "catalogue"
    for name, text in derive(Path(argv[0])).items():
        (target / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"{target / name}: {text.count(chr(10)) - 1} rows\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
