"""The pseudonymisation stage: detect (rules + known identity), merge, replace."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal, get_args

from hopia.data.ingest._base import PatientIdentity
from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.identity import IdentityMatcher
from hopia.data.pseudo.rules import PhiSpan, detect_rules
from hopia.data.pseudo.surrogates import Surrogates
from hopia.platform.exceptions import PseudonymisationError

Policy = Literal["surrogate", "tag", "mask"]
POLICIES: tuple[str, ...] = get_args(Policy)
MASK = "***"

_SOURCE_RANK = {"identity": 0, "staff": 1, "rule": 2}
# On a tie in length and source: the most identifying, least ambiguous label wins.
LABEL_PRIORITY: tuple[str, ...] = (
    "SECU", "MAIL", "TEL", "IPP", "NDA", "DATE_NAISSANCE", "DATE", "ADRESSE", "HOPITAL",
    "ZIP", "VILLE", "NOM", "PRENOM",
)  # fmt: skip
_LABEL_RANK = {label: i for i, label in enumerate(LABEL_PRIORITY)}
_ZIP_CITY_GAP = re.compile(r"[\s,\-–]{0,4}")


@dataclass(frozen=True)
class PseudoResult:
    """A pseudonymised text and what was replaced."""

    pseudo_text: str
    spans: list[PhiSpan] = field(default_factory=list)  # offsets into the ORIGINAL text
    surrogates: list[str] = field(default_factory=list)  # parallel to spans

    def pseudo_spans(self) -> list[PhiSpan]:
        """The replacements as spans of ``pseudo_text`` (text = surrogate)."""
        out, shift = [], 0
        for s, new in zip(self.spans, self.surrogates, strict=True):
            start = s.start + shift
            out.append(PhiSpan(start, start + len(new), s.label, new, s.source, s.detail))
            shift += len(new) - (s.end - s.start)
        return out


def _priority(s: PhiSpan) -> tuple[int, int, int, int]:
    return (
        -(s.end - s.start),
        _SOURCE_RANK.get(s.source, 9),
        _LABEL_RANK.get(s.label, 99),
        s.start,
    )


def merge_spans(candidates: Iterable[PhiSpan]) -> list[PhiSpan]:
    """Non-overlapping spans sorted by offset: the longest wins, then identity > staff > rule,
    then :data:`LABEL_PRIORITY`. Greedy over an occupancy map, so the cost stays linear in the
    covered length even when thousands of candidates overlap in a chain."""
    spans = sorted({s for s in candidates if s.end > s.start}, key=_priority)
    if not spans:
        return []
    taken = bytearray(max(s.end for s in spans))
    kept = []
    for s in spans:
        if taken.find(1, s.start, s.end) == -1:
            taken[s.start : s.end] = b"\x01" * (s.end - s.start)
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


@lru_cache(maxsize=512)
def _matcher(identity: PatientIdentity | None, staff: tuple[str, ...]) -> IdentityMatcher:
    return IdentityMatcher(identity, staff)


class Pseudonymiser:
    """Rule-based, deterministic pseudonymiser.

    Parameters
    ----------
    secret
        Key of the HMAC behind every surrogate and date offset (``Settings.resolved_secret()``).
    policy
        ``"surrogate"``: consistent fake values in the original format; ``"tag"``: ``<LABEL>``;
        ``"mask"``: ``***``.
    """

    def __init__(self, secret: bytes, policy: Policy = "surrogate") -> None:
        if not isinstance(secret, bytes) or not secret:
            raise PseudonymisationError("secret de pseudonymisation vide ou invalide")
        if policy not in POLICIES:
            raise PseudonymisationError(
                f"politique inconnue : {policy!r} (attendu : {', '.join(POLICIES)})"
            )
        self.policy: Policy = policy
        self._surrogates = Surrogates(secret)

    def detect(
        self, text: str, identity: PatientIdentity | None = None, staff: Sequence[str] = ()
    ) -> list[PhiSpan]:
        """Identifying spans of ``text``: sorted, non-overlapping, offsets into ``text``."""
        if not isinstance(text, str):
            raise PseudonymisationError(f"texte attendu, reçu {type(text).__name__}")
        if not text:
            return []
        folded = P.fold(text)
        candidates = detect_rules(text, folded)
        if identity is not None or staff:
            matcher = _matcher(identity, tuple(s for s in staff if s and s.strip()))
            candidates += matcher.find(text, folded)
        return merge_spans(candidates)

    def pseudonymise(
        self,
        text: str,
        identity: PatientIdentity | None = None,
        patient_key: str | None = None,
        staff: Sequence[str] = (),
    ) -> PseudoResult:
        """Replace every identifying span of ``text`` according to the policy.

        ``patient_key`` (e.g. the IPP) makes surrogates and date shifts consistent across a
        patient's documents; without it a key is derived from the text itself.
        """
        spans = self.detect(text, identity, staff)
        if not spans:
            return PseudoResult(text, [], [])
        key = patient_key if patient_key is not None else _document_key(text)
        surrogates: list[str] = []
        pieces: list[str] = []
        pos = 0
        for i, s in enumerate(spans):
            if self.policy == "tag":
                new = f"<{s.label}>"
            elif self.policy == "mask":
                new = MASK
            else:
                city = None
                nxt = spans[i + 1] if i + 1 < len(spans) else None
                if (
                    s.label == "ZIP"
                    and nxt is not None
                    and nxt.label == "VILLE"
                    and _ZIP_CITY_GAP.fullmatch(text, s.end, nxt.start)
                ):
                    city = nxt.text  # the fake postcode must belong to the fake commune
                new = self._surrogates.make(s.label, s.text, key, city)
            surrogates.append(new)
            pieces += (text[pos : s.start], new)
            pos = s.end
        pieces.append(text[pos:])
        return PseudoResult("".join(pieces), spans, surrogates)

    def date_offset_days(self, patient_key: str) -> int:
        """Secret per-patient date shift in days: nonzero, within [-365, 365]."""
        return self._surrogates.date_offset_days(patient_key)

    def shift_date(self, d: date, patient_key: str) -> date:
        """``d`` moved by the patient's secret offset (structured dates use the same shift)."""
        return self._surrogates.shift_date(d, patient_key)


def _document_key(text: str) -> str:
    return "doc:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
