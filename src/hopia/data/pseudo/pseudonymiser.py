"""The pseudonymisation stage: detect (known identity + rules + statistical model), merge,
replace."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.identity import IdentityMatcher
from hopia.data.pseudo.rules import PhiSpan, detect_rules
from hopia.data.pseudo.surrogates import Surrogates
from hopia.data.records import PatientIdentity
from hopia.platform.exceptions import PseudonymisationError

T = TypeVar("T")

if TYPE_CHECKING:
    from hopia.data.pseudo.model import PhiModel

Policy = Literal["surrogate", "tag", "mask"]
BirthDates = Literal["shift", "month", "year"]
BIRTH_DATES: tuple[str, ...] = get_args(BirthDates)
POLICIES: tuple[str, ...] = get_args(Policy)
MASK = "***"

_SOURCE_RANK = {"identity": 0, "staff": 1, "rule": 2, "gazetteer": 3, "model": 4}
# Labels whose extent a model span may widen: names and places, written in too many ways for
# rules to always find their whole length. The structural ones (numbers, dates) are the rules'.
NAME_LIKE: frozenset[str] = frozenset({"NOM", "PRENOM", "HOPITAL", "ADRESSE", "VILLE"})
_EDGE = " \t\r\n\f\v,;:-–—'’\"«»()[]/"
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

    def to_pseudo_offsets(self, spans: Iterable[tuple[int, int, T]]) -> list[tuple[int, int, T]]:
        """``(start, end, x)`` spans of the original text moved onto ``pseudo_text``.

        A span that touches a replaced identifier is dropped: its text is not in the
        pseudonymised document (and a mention made of an identifier is not wanted there)."""
        ends = [s.end for s in self.spans]
        shifts = [0]  # shifts[i]: total length change of the first i replacements
        for s, new in zip(self.spans, self.surrogates, strict=True):
            shifts.append(shifts[-1] + len(new) - (s.end - s.start))
        out = []
        for start, end, x in spans:
            i = bisect_right(ends, start)  # replacements ending at or before ``start``
            if i < len(self.spans) and self.spans[i].start < end:
                continue
            out.append((start + shifts[i], end + shifts[i], x))
        return out

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
    """Non-overlapping spans sorted by offset.

    Spans from identity, staff, rules and gazetteers: the longest wins, then identity > staff >
    rule > gazetteer, then :data:`LABEL_PRIORITY`. Greedy over an occupancy map, so the cost
    stays linear in the covered length even when thousands of candidates overlap in a chain.

    Model spans (``source="model"``) come after and never change a label found otherwise:

    - alone, a model span is kept;
    - over spans of its own name-like label (:data:`NAME_LIKE`) only, it widens them to the
      union of both ("Jean" found by a rule, "Jean-Marie" by the model → "Jean-Marie");
    - a name-like model span over other spans keeps only its uncovered parts (recall), with its
      label; the others win where they are;
    - a model span of a structural label (dates, numbers) over any other span is dropped.
    """
    cands = {s for s in candidates if s.end > s.start}
    kept = _greedy(s for s in cands if s.source != "model")
    model = _greedy(s for s in cands if s.source == "model")
    return _add_model_spans(kept, model) if model else kept


def _greedy(candidates: Iterable[PhiSpan]) -> list[PhiSpan]:
    spans = sorted(candidates, key=_priority)
    if not spans:
        return []
    taken = bytearray(max(s.end for s in spans))
    kept = []
    for s in spans:
        if taken.find(1, s.start, s.end) == -1:
            taken[s.start : s.end] = b"\x01" * (s.end - s.start)
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


def _add_model_spans(kept: list[PhiSpan], model: list[PhiSpan]) -> list[PhiSpan]:
    """Merge the non-overlapping ``model`` spans into the non-overlapping ``kept`` ones (both
    sorted by start); overlaps are found by bisection."""
    starts = [k.start for k in kept]
    groups: list[tuple[set[int], list[PhiSpan]]] = []  # (kept indices, model spans) to fuse
    group_of: dict[int, int] = {}
    added: list[PhiSpan] = []
    for m in model:
        i = max(bisect_right(starts, m.start) - 1, 0)
        hits = []
        while i < len(kept) and kept[i].start < m.end:
            if kept[i].end > m.start:
                hits.append(i)
            i += 1
        if not hits:
            added.append(m)
        elif m.label not in NAME_LIKE:
            continue  # a date or a number: the rules' reading stands
        elif all(kept[h].label == m.label for h in hits):
            # one span over the union; fuse with the groups its hits already belong to
            # ("Jean" and "Pierre" found by rules, "Jean-Pierre" by the model)
            members, spans = set(hits), [m]
            for g in sorted({group_of[h] for h in hits if h in group_of}):
                members |= groups[g][0]
                spans += groups[g][1]
                groups[g] = (set(), [])
            for h in members:
                group_of[h] = len(groups)
            groups.append((members, spans))
        else:
            added += _uncovered(m, [kept[h] for h in hits])
    out = [k for i, k in enumerate(kept) if i not in group_of] + added
    for members, spans in groups:
        if members:
            parts = [kept[h] for h in sorted(members)] + spans
            head = min((kept[h] for h in members), key=lambda k: _priority(k)[1:])
            lo, hi = min(p.start for p in parts), max(p.end for p in parts)
            if len(members) == 1 and (lo, hi) == (head.start, head.end):
                out.append(head)  # the model agrees: nothing to widen
                continue
            detail = f"{head.detail};+model" if head.detail else "+model"
            text = _joined_text(parts, lo, hi)
            out.append(PhiSpan(lo, hi, head.label, text, head.source, detail))
    return sorted(out, key=lambda s: s.start)


def _joined_text(parts: list[PhiSpan], lo: int, hi: int) -> str:
    """The text of ``lo:hi`` rebuilt from overlapping spans that cover it together."""
    chars = [""] * (hi - lo)
    for p in parts:
        chars[p.start - lo : p.end - lo] = p.text
    return "".join(chars)


def _uncovered(m: PhiSpan, hits: list[PhiSpan]) -> list[PhiSpan]:
    """The parts of ``m`` outside ``hits`` (sorted), trimmed of blanks and punctuation; only
    whole words ("CHANT" of "CHANTALVILLE" is not) of two characters or more, with a letter or
    digit."""
    out, pos, t = [], m.start, m.text
    for h in [*hits, PhiSpan(m.end, m.end, "", "", "")]:
        start, end = pos - m.start, min(h.start, m.end) - m.start
        pos = max(pos, h.end)
        if start >= end:
            continue
        while start < end and t[start] in _EDGE:
            start += 1
        while end > start and t[end - 1] in _EDGE:
            end -= 1
        piece = t[start:end]
        whole = (start == 0 or not t[start - 1].isalnum()) and (
            end == len(t) or not t[end].isalnum()
        )
        if whole and len(piece) >= 2 and any(c.isalnum() for c in piece):
            out.append(PhiSpan(m.start + start, m.start + end, m.label, piece, "model", "partiel"))
    return out


@lru_cache(maxsize=512)
def _matcher(identity: PatientIdentity | None, staff: tuple[str, ...]) -> IdentityMatcher:
    return IdentityMatcher(identity, staff)


class Pseudonymiser:
    """Deterministic pseudonymiser: known identity, rules and a statistical model.

    Parameters
    ----------
    secret
        Key of the HMAC behind every surrogate and date offset (``Settings.resolved_secret()``).
    policy
        ``"surrogate"``: consistent fake values in the original format; ``"tag"``: ``<LABEL>``;
        ``"mask"``: ``***``.
    birth_dates
        Surrogate birth dates: ``"shift"`` (shifted like every date of the patient, same
        format), or generalised after the shift to the ``"month"`` ("06/1940") or the
        ``"year"`` ("1940"), for sharing with a wider audience.
    use_model
        Add the spans of the statistical NER (:class:`~hopia.data.pseudo.model.PhiModel`,
        loaded at the first text and once per process); ``False``: rules and identity only, as
        in v1.
    model_path
        Folder of that model (``hopia pseudo train``'s output, the ``data.pseudo.model_path``
        setting); None: the weights shipped in the package.
    model_focus
        Run the model only on the lines that hold a word that is neither a known common word
        nor read by a rule (:func:`hopia.data.pseudo.focus.unexplained_regions`): about half
        the model's CPU on clinical notes, recall unchanged (docs/benchmarks.md); the
        ``data.pseudo.model_focus`` setting.
    """

    def __init__(
        self,
        secret: bytes,
        policy: Policy = "surrogate",
        use_model: bool = True,
        birth_dates: BirthDates = "shift",
        model_path: Path | None = None,
        model_focus: bool = False,
    ) -> None:
        if not isinstance(secret, bytes) or not secret:
            raise PseudonymisationError("secret de pseudonymisation vide ou invalide")
        if birth_dates not in BIRTH_DATES:
            raise PseudonymisationError(
                f"généralisation des dates de naissance inconnue : {birth_dates!r} "
                f"(attendu : {', '.join(BIRTH_DATES)})"
            )
        self.birth_dates: BirthDates = birth_dates
        if policy not in POLICIES:
            raise PseudonymisationError(
                f"politique inconnue : {policy!r} (attendu : {', '.join(POLICIES)})"
            )
        self.policy: Policy = policy
        self.use_model = use_model
        self.model_path = Path(model_path) if model_path is not None else None
        self.model_focus = model_focus
        self._model: PhiModel | None = None
        self._surrogates = Surrogates(secret)

    @property
    def model(self) -> PhiModel:
        """The statistical detector, loaded on first use (shared by every instance)."""
        if self._model is None:
            from hopia.data.pseudo.model import PhiModel

            self._model = PhiModel.load(self.model_path)
        return self._model

    def detect(
        self,
        text: str,
        identity: PatientIdentity | None = None,
        staff: Sequence[str] = (),
        model_spans: Sequence[PhiSpan] | None = None,
        rule_spans: Sequence[PhiSpan] | None = None,
    ) -> list[PhiSpan]:
        """Identifying spans of ``text``: sorted, non-overlapping, offsets into ``text``.

        ``model_spans``: the model's spans when they were computed elsewhere (the ingest runs
        the model in a worker process); otherwise the model runs here when ``use_model``.
        ``rule_spans``: likewise, ``detect_rules(text)`` computed elsewhere (the worker needs
        them to focus the model)."""
        if not isinstance(text, str):
            raise PseudonymisationError(f"texte attendu, reçu {type(text).__name__}")
        if not text:
            return []
        folded = P.fold(text)
        rules = detect_rules(text, folded) if rule_spans is None else list(rule_spans)
        candidates = list(rules)
        if identity is not None or staff:
            matcher = _matcher(identity, tuple(s for s in staff if s and s.strip()))
            candidates += matcher.find(text, folded)
        if model_spans is not None:
            candidates += model_spans
        elif self.use_model:
            # the focus reads the rules' spans only, as in the ingest's worker (no identity
            # there): the same lines go to the model whichever process runs it
            candidates += self.model.predict([text], focus=self.model_focus, rule_spans=[rules])[0]
        return _join_blank_separated(text, _snap_to_numbers(text, merge_spans(candidates)))

    def pseudonymise(
        self,
        text: str,
        identity: PatientIdentity | None = None,
        patient_key: str | None = None,
        staff: Sequence[str] = (),
        model_spans: Sequence[PhiSpan] | None = None,
        rule_spans: Sequence[PhiSpan] | None = None,
    ) -> PseudoResult:
        """Replace every identifying span of ``text`` according to the policy.

        ``patient_key`` (e.g. the IPP) makes surrogates and date shifts consistent across a
        patient's documents; without it a key is derived from the text itself.
        """
        spans = self.detect(text, identity, staff, model_spans, rule_spans)
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
                if s.label == "DATE_NAISSANCE" and self.birth_dates != "shift":
                    new = self._surrogates.birth_date(s.text, key, self.birth_dates)
                else:
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


#: Labels whose pieces, a blank apart, are one identifier: "Ginette" "Antoinette" is one first
#: name, "189" "0937 350743" one NIR. Dates are not: "12/03/2020 13/03/2020" are two dates,
#: each shifted on its own.
JOINABLE = frozenset({"NOM", "PRENOM", "SECU", "TEL", "IPP", "NDA", "ADRESSE", "VILLE", "HOPITAL"})
_BLANK_GAP = re.compile(r"[ \t]{1,2}")
# An address is written in parts: "Résidence Les Tilleuls, bât. D, 17 allée Paul Bert".
_ADDRESS_GAP = re.compile(r"[ \t]{0,2},[ \t]{0,2}|[ \t]{1,2}")


def _join_blank_separated(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Merge neighbours of one :data:`JOINABLE` label with only a blank between them, so that
    one identifier gets one surrogate (two half-surrogates would keep its shape and leave the
    blank as a seam)."""
    out: list[PhiSpan] = []
    for s in spans:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.label == s.label
            and s.label in JOINABLE
            and (_ADDRESS_GAP if s.label == "ADRESSE" else _BLANK_GAP).fullmatch(
                text, prev.end, s.start
            )
        ):
            out[-1] = PhiSpan(
                prev.start, s.end, s.label, text[prev.start : s.end], prev.source, prev.detail
            )
        else:
            out.append(s)
    return out


def _document_key(text: str) -> str:
    return "doc:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _snap_to_numbers(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Never cut a number: a span that starts or ends between two digits ("402 654 803 958 1|2",
    as the model may give) grows to the whole digit run, up to its neighbours."""
    out: list[PhiSpan] = []
    for i, s in enumerate(spans):
        lo = out[-1].end if out else 0
        hi = spans[i + 1].start if i + 1 < len(spans) else len(text)
        start, end = s.start, s.end
        while end < hi and text[end - 1].isdigit() and text[end].isdigit():
            end += 1
        while start > lo and text[start].isdigit() and text[start - 1].isdigit():
            start -= 1
        out.append(
            s
            if (start, end) == (s.start, s.end)
            else replace(s, start=start, end=end, text=text[start:end])
        )
    return out
