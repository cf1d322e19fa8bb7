"""The identifiers and dates of the research space, computed from the identified ones.

``omop`` never receives an IPP, a stay number (NDA) or a real date: it receives a patient's
pseudonymous id (``person.person_source_value``), a stay's keyed hash
(``visit_occurrence.visit_source_value``) and dates moved by the patient's secret offset. These
are pure functions of the pseudonymisation secret, so that every writer of the research space —
the ingest, dictation, a Spark executor — computes the same values for the same patient without
going through the ingest. They live with the OMOP writer, which is their only consumer; nothing
below ``omop`` needs them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


def pseudonymous_id(secret: bytes, ipp: str) -> str:
    """Stable research identifier of a patient; not reversible without the secret."""
    return "P" + hmac.new(secret, ipp.encode(), hashlib.sha256).hexdigest()[:15]


def pseudonymous_stay_id(secret: bytes, visit_id: str) -> str:
    """Research identifier of a stay (``visit_source_value``): the NDA is an identifier and
    never reaches ``omop``; keyed apart from patient ids."""
    message = f"visit\x1f{visit_id}".encode()
    return "V" + hmac.new(secret, message, hashlib.sha256).hexdigest()[:15]


@dataclass(frozen=True)
class ResearchIds:
    """The research-space view of identified values, for one secret.

    ``shift_date`` moves a date by a patient's secret offset: the pseudonymiser's
    (:meth:`hopia.data.pseudo.Pseudonymiser.shift_date`), so that structured dates and the dates
    in the pseudonymised text move together.
    """

    secret: bytes
    shift_date: Callable[[date, str], date]

    def person(self, ipp: str) -> str:
        return pseudonymous_id(self.secret, ipp)

    def stay(self, visit_id: str) -> str:
        return pseudonymous_stay_id(self.secret, visit_id)

    def shift(self, day: date, patient_key: str) -> date:
        return self.shift_date(day, patient_key)
