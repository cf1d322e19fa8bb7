"""``hopia.labs``: lab results and vital signs as (analyte, value, unit, range flag), LOINC-coded.

EDS-NLP's ``eds.quantities`` labels a value by its unit, not by what was measured: "troponine
0,5 ng/mL" comes out as a "hemoglobin"-like mass concentration, "150/90 mmHg" as a fraction,
"3,2 G/L" as grams and "20 PA" (pack-years) as pascals. This pipe starts from the analyte name
("CRP", "plaquettes", "TA"…), then reads the value that follows on the same line, its unit
(before or after the value), a comparator and the lab's own reference range, converts to the
canonical unit of the analyte and flags the value against the reference range.

A few vital signs are also read without a name when the unit says what they are: "150/90 mmHg",
"98 bpm", "38,5 °C", "94 % en AA", "1m75".

Each reading is one span in ``doc.spans["labs"]`` (blood pressure gives two: systolic and
diastolic) labelled with the analyte key, ``kb_id_`` the LOINC code, ``span._.category`` "LAB" and
``span._.attributes`` the structured reading.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.

import re
from dataclasses import dataclass
from typing import Any

from edsnlp.core import PipelineProtocol
from edsnlp.pipes.base import BaseComponent
from spacy.tokens import Doc, Span

from hopia.data.nlp.numbers import parse_digits
from hopia.data.nlp.pipes.labs.analytes import Analyte, load_analytes
from hopia.data.nlp.pipes.labs.patterns import (
    BP_KEY,
    BP_VALUE_RE,
    DOC_REF_RE,
    HEIGHT_RE,
    TIMES_NORMAL_RE,
    UNANCHORED_BP_RE,
    UNANCHORED_CUES,
    UNANCHORED_HEIGHT_RE,
    UNANCHORED_RE,
    VALUE_RE,
    analyte_matcher,
    fold_keep_case,
    lower_same_length,
    unit_candidates,
)

CATEGORY = "LAB"
_COMPARATORS = {"<=": "<=", ">=": ">=", "≤": "<=", "≥": ">=", "<": "<", ">": ">"}


def parse_number(text: str) -> float | None:
    """French number: decimal comma, thousands separated by spaces; None when it is no finite
    value (a run of digits too long to be a result)."""
    return parse_digits(text)


def _comparator(text: str | None) -> str | None:
    if not text:
        return None
    t = text.lower()
    if t in _COMPARATORS:
        return _COMPARATORS[t]
    return "<" if t.startswith(("inf", "moins")) else ">"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one analyte, with where it lies in the text."""

    analyte: Analyte
    start: int
    end: int
    value: float
    unit_source: str | None
    value_source: str
    comparator: str | None = None
    value_high: float | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    ref_source: str = "table"

    def flag(self) -> str | None:
        lo, hi, v = self.ref_low, self.ref_high, self.value
        if lo is None and hi is None:
            return None
        if self.comparator in ("<", "<="):  # "< 5": only known to be normal if 5 is
            return "normal" if (hi is None or v <= hi) and (lo is None or v > lo) else None
        if self.comparator in (">", ">="):
            return "high" if hi is not None and v >= hi else None
        if lo is not None and v < lo:
            return "low"
        if hi is not None and v > hi:
            return "high"
        return "normal"

    def attributes(self) -> dict[str, Any]:
        a = self.analyte
        out: dict[str, Any] = {
            "loinc": a.loinc,
            "loinc_name": a.loinc_name,
            "analyte": a.display,
            "value": self.value,
            "unit": a.unit or None,
            "value_source": self.value_source,
            "unit_source": self.unit_source,
            "ref_low": self.ref_low,
            "ref_high": self.ref_high,
            "ref_source": self.ref_source,
            "flag": self.flag(),
            "comparator": self.comparator,
        }
        if self.value_high is not None:
            out["value_high"] = self.value_high
        return out


def _convert(analyte: Analyte, value: float | None, unit_raw: str | None) -> float | None:
    """The value in the analyte's canonical unit, or None when the unit does not fit it or the
    result is implausible (or unreadable)."""
    if value is None:
        return None
    if unit_raw:
        units = [u for u in unit_candidates(unit_raw) if u in analyte.conversions]
    else:
        units = list(analyte.bare_units)
    for unit in units:
        converted = round(value * analyte.conversions[unit], 6)
        if analyte.plausible(converted):
            return converted
    return None


class LabsMatcher(BaseComponent):
    """Finds lab results and vital signs; see the module docstring.

    Parameters
    ----------
    nlp : the pipeline
    name : the component name
    span_setter : the span groups the readings go to (``{"labs": True}``)
    unanchored : also read vitals named by their unit only ("150/90 mmHg", "98 bpm"…)
    """

    def __init__(
        self,
        nlp: PipelineProtocol | None = None,
        name: str = "labs",
        *,
        span_setter: dict[str, Any] = {"labs": True},  # noqa: B006  (edsnlp's convention)
        unanchored: bool = True,
    ) -> None:
        super().__init__(nlp=nlp, name=name)
        self.groups = tuple(span_setter)
        self.unanchored = unanchored

    # The tables and regexes are module-level caches, so a pickled pipeline holds only the
    # configuration and picks up an edited analytes.csv in the next process.
    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "groups": self.groups, "unanchored": self.unanchored}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.set_extensions()

    def set_extensions(self) -> None:
        super().set_extensions()
        import hopia.data.nlp.pipes  # noqa: F401  (declares category / attributes)

    def __call__(self, doc: Doc) -> Doc:
        spans: list[Span] = []
        for r in find_readings(doc.text, unanchored=self.unanchored):
            span = doc.char_span(
                r.start, r.end, label=r.analyte.key, kb_id=r.analyte.loinc, alignment_mode="expand"
            )
            if span is None:  # pragma: no cover - "expand" always finds tokens
                continue
            span._.category = CATEGORY
            span._.attributes = r.attributes()
            spans.append(span)
        for group in self.groups:
            doc.spans[group] = spans
        return doc


def find_readings(text: str, *, unanchored: bool = True) -> list[Reading]:
    """Every reading in ``text``, sorted by position."""
    folded = fold_keep_case(text)
    pattern, index = analyte_matcher()
    analytes = load_analytes()
    lowered = lower_same_length(folded)
    out: list[Reading] = []
    pos = 0
    while (m := pattern.search(lowered, pos)) is not None:
        start = m.start()
        if start and (lowered[start - 1].isalnum() or lowered[start - 1] in "_/"):
            pos = start + 1  # inside a word: "urée" in "mesurée"
            continue
        pos = m.end()
        key = index.resolve(folded[start : m.end()])
        if key is None:  # "pas", "ta": an abbreviation written in the wrong case
            continue
        if key == BP_KEY:
            out.extend(_blood_pressure(folded, start, m.end(), analytes, anchored=True))
        else:
            reading = _anchored(folded, start, m.end(), analytes[key])
            if reading is not None:
                out.append(reading)
                pos = max(pos, reading.end)
    if unanchored:
        out.extend(_unanchored(folded, analytes, taken=[(r.start, r.end) for r in out]))
    out.sort(key=lambda r: (r.start, r.end))
    return out


def _anchored(folded: str, start: int, end: int, analyte: Analyte) -> Reading | None:
    if analyte.unit == "cm":
        h = HEIGHT_RE.match(folded, end)
        if h:
            cm = int(h.group("m")) * 100 + int(h.group("cm"))
            if analyte.plausible(cm):
                text = f"{h.group('m')}m{h.group('cm')}"
                return Reading(analyte, start, h.end(), float(cm), "m", text)
    m = VALUE_RE.match(folded, end)
    if m is None:
        return None
    after_value = m.end("value2") if m.group("value2") else m.end("value")
    if not m.group("unit") and TIMES_NORMAL_RE.match(folded, after_value):
        return None  # "ASAT 3N": times the upper limit, not UI/L
    unit_raw = m.group("unit") or m.group("pre_unit") or m.group("pre_unit2")
    raw_value = parse_number(m.group("value"))
    value = _convert(analyte, raw_value, unit_raw)
    if value is None:
        return None
    value_high = None
    if m.group("value2"):
        high = _convert(analyte, parse_number(m.group("value2")), unit_raw)
        if high is not None and high > value:
            value_high = high
    span_end = m.end()
    if not m.group("unit") and value_high is None and m.group("value2"):
        span_end = m.end("value")
    ref_low, ref_high, ref_source = analyte.ref_low, analyte.ref_high, "table"
    ref = DOC_REF_RE.match(folded, span_end)
    if ref:
        ref_low, ref_high = _doc_range(analyte, ref, unit_raw, ref_low, ref_high)
        ref_source = "document"
    return Reading(
        analyte=analyte,
        start=start,
        end=span_end,
        value=value,
        unit_source=unit_raw.strip() if unit_raw else None,
        value_source=m.group("value"),
        comparator=_comparator(m.group("cmp")),
        value_high=value_high,
        ref_low=ref_low,
        ref_high=ref_high,
        ref_source=ref_source,
    )


def _doc_range(
    analyte: Analyte,
    ref: re.Match[str],
    unit_raw: str | None,
    lo: float | None,
    hi: float | None,
) -> tuple[float | None, float | None]:
    def conv(text: str) -> float | None:
        v = parse_number(text)
        if v is None:
            return None
        if unit_raw:
            for u in unit_candidates(unit_raw):
                if u in analyte.conversions:
                    return round(v * analyte.conversions[u], 6)
            return None
        return v

    if ref.group("lo"):
        return conv(ref.group("lo")), conv(ref.group("hi"))
    bound = conv(ref.group("one"))
    return (None, bound) if ref.group("rcmp") in ("<", "≤") else (bound, None)


def _blood_pressure(
    folded: str, start: int, end: int, analytes: dict[str, Analyte], *, anchored: bool
) -> list[Reading]:
    m = BP_VALUE_RE.match(folded, end) if anchored else None
    if m is None:
        return []
    return _bp_readings(
        analytes, start, m.end("sys"), m.end(), m.group("sys"), m.group("dia"), m.group("unit")
    )


def _bp_readings(
    analytes: dict[str, Analyte],
    start: int,
    sys_end: int,
    end: int,
    sys_text: str,
    dia_text: str,
    unit_raw: str | None,
) -> list[Reading]:
    pas, pad = analytes["pas"], analytes["pad"]
    sys_v, dia_v = parse_number(sys_text), parse_number(dia_text)
    if sys_v is None or dia_v is None:
        return []
    if unit_raw:
        unit = unit_candidates(unit_raw)[0] if unit_candidates(unit_raw) else None
    else:  # "TA 15/9" is in cmHg, "TA 150/90" in mmHg
        unit = "cmHg" if sys_v < 30 else "mmHg"
    if unit not in pas.conversions:
        return []
    sys_c, dia_c = sys_v * pas.conversions[unit], dia_v * pad.conversions[unit]
    if not (pas.plausible(sys_c) and pad.plausible(dia_c) and sys_c > dia_c):
        return []
    source = unit_raw.strip() if unit_raw else None

    def reading(a: Analyte, stop: int, v: float, text: str) -> Reading:
        return Reading(a, start, stop, v, source, text, ref_low=a.ref_low, ref_high=a.ref_high)

    return [reading(pas, sys_end, sys_c, sys_text), reading(pad, end, dia_c, dia_text)]


def _unanchored(
    folded: str, analytes: dict[str, Analyte], taken: list[tuple[int, int]]
) -> list[Reading]:
    lowered = lower_same_length(folded)
    out: list[Reading] = []
    if not any(cue in lowered for cue in UNANCHORED_CUES) and "m" not in lowered:
        return out

    def free(s: int, e: int) -> bool:
        before = lowered[s - 1] if s else " "
        if before.isalnum() or before in "/.,":
            return False
        return not any(s < te and ts < e for ts, te in taken)

    if "hg" in lowered:
        for m in UNANCHORED_BP_RE.finditer(lowered):
            if free(m.start(), m.end()):
                sys_text, dia_text = m.group("sys"), m.group("dia")
                out.extend(
                    _bp_readings(
                        analytes, m.start(), m.end("sys"), m.end(), sys_text, dia_text, "mmHg"
                    )
                )
    if any(cue in lowered for cue in UNANCHORED_CUES[1:]):
        for m in UNANCHORED_RE.finditer(lowered):
            if free(m.start(), m.end()):
                reading = _unanchored_vital(m, folded, analytes)
                if reading is not None:
                    out.append(reading)
    for m in UNANCHORED_HEIGHT_RE.finditer(lowered):
        if free(m.start(), m.end()) and not (m.end() < len(lowered) and lowered[m.end()].isalpha()):
            a = analytes["taille"]
            cm = float(int(m.group("h_m")) * 100 + int(m.group("h_cm")))
            if a.plausible(cm):
                out.append(Reading(a, m.start(), m.end(), cm, "m", m.group()))
    return out


def _unanchored_vital(
    m: re.Match[str], folded: str, analytes: dict[str, Analyte]
) -> Reading | None:
    for key, unit_group in (("fc", "fc_unit"), ("temperature", "temp_unit"), ("spo2", "spo2_unit")):
        if m.group(unit_group):
            a = analytes[key]
            unit_raw = folded[m.start(unit_group) : m.end(unit_group)]
            value = _convert(a, parse_number(m.group("num")), unit_raw)
            if value is None:
                return None
            return Reading(
                a,
                m.start(),
                m.end(unit_group),
                value,
                unit_raw,
                m.group("num"),
                ref_low=a.ref_low,
                ref_high=a.ref_high,
            )
    return None  # pragma: no cover - one unit group always matched
