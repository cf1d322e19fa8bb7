"""Row builders shared by the tests' hand-made OMOP warehouses."""

from __future__ import annotations

from datetime import date


def concept_row(cid: int, code: str, vocabulary: str, name: str, domain: str) -> dict:
    """An OMOP ``concept`` row (non-standard, valid 1970-2099)."""
    return {
        "concept_id": cid,
        "concept_name": name,
        "domain_id": domain,
        "vocabulary_id": vocabulary,
        "concept_class_id": vocabulary,
        "standard_concept": None,
        "concept_code": code,
        "valid_start_date": date(1970, 1, 1),
        "valid_end_date": date(2099, 12, 31),
        "invalid_reason": None,
    }
