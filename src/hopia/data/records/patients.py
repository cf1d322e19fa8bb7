"""Patient registry files (an ADT/identity export): JSONL or CSV with PatientIdentity fields.

Read by the ingest (``hopia ingest --patients``) and by the PHI evaluation of a synthetic corpus:
the file form of a shared record, so it sits with the records, below both.

Fields: ipp (required), family_name, given_name, birth_date (YYYY-MM-DD), sex (M/F), nir,
address, zip, city, phone, email. A bad record stops the load with the line and the reason:
identities are reference data, loading half a registry would be worse than none.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from hopia.data.records import PatientIdentity
from hopia.platform.exceptions import SourceError
from hopia.platform.text import json_problem
from hopia.platform.warehouse.schema import IPP_MAX

FIELDS = tuple(PatientIdentity.__dataclass_fields__)


def patient_identity(record: dict, where: str) -> PatientIdentity:
    """One registry record (a parsed line, a table row) as an identity, checked as a file's
    records are; ``where`` names it in the error.

    Raises
    ------
    SourceError
        No IPP, an IPP too long, a bad birth date or sex.
    """
    return _identity(record, where)


def _identity(record: dict, where: str) -> PatientIdentity:
    if not isinstance(record, dict):
        raise SourceError(where, "enregistrement patient : objet attendu")
    ipp = str(record.get("ipp") or "").strip()
    if not ipp:
        raise SourceError(where, "enregistrement patient sans IPP")
    if len(ipp) > IPP_MAX:
        raise SourceError(where, f"IPP trop long ({len(ipp)} caractères, {IPP_MAX} au plus)")
    values = {
        k: (str(record[k]).strip() or None) if record.get(k) not in (None, "") else None
        for k in FIELDS
    }
    values["ipp"] = ipp
    if values["birth_date"]:
        try:
            values["birth_date"] = date.fromisoformat(values["birth_date"][:10])
        except ValueError as exc:
            raise SourceError(where, "date de naissance invalide (attendu AAAA-MM-JJ)") from exc
    if values["sex"] and values["sex"].upper()[:1] not in {"M", "F"}:
        raise SourceError(where, f"sexe invalide : {values['sex']!r} (M ou F)")
    values["sex"] = values["sex"].upper()[:1] if values["sex"] else None
    return PatientIdentity(**values)


def read_patients(path: Path) -> Iterator[PatientIdentity]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"registre patients illisible ({exc})") from exc
    if path.suffix.lower() == ".csv":
        for lineno, record in enumerate(csv.DictReader(text.splitlines()), start=2):
            yield _identity(record, f"{path}#L{lineno}")
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}#L{lineno}", f"JSON invalide ({json_problem(exc)})") from exc
        except (RecursionError, ValueError):  # nesting too deep, a 5,000-digit integer
            reason = "JSON invalide (imbrication ou nombre hors limites)"
            raise SourceError(f"{path}#L{lineno}", reason) from None
        yield _identity(record, f"{path}#L{lineno}")
