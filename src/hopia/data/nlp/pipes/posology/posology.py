"""``hopia.posology``: dose, route, frequency and duration of each drug mention.

Runs after ``eds.drugs`` (and ``hopia.labs``). For each drug span it reads the text that follows
on the same line and sentence, up to the next drug: "amoxicilline 1 g x3/j per os pendant 7
jours" gives dose 1 g, route orale, frequency 3/j (3 per day), duration 7 days. The reading goes
to ``span._.attributes``. ``dose`` is the first dose; when the drug's text gives more than one
("lévothyroxine 75 µg/j puis 100 µg/j", "furosémide 40 mg IV puis 20 mg per os"),
``doses`` lists them all, in order, as ``[value, unit]`` pairs: a later dose counts only when
the words before it say the dose changes ("puis", "relais", "majorée à"…), never a pack size,
an excipient or a volume written after the dose.

It also repairs two faults of ``eds.drugs``:

- a name that is a lab analyte ("albumine 28 g/L", "potassium 4,1 mmol/L") is dropped when a
  lab span covers it or a lab unit follows it;
- a name listed under several ATC codes (brands such as "Gaviscon", molecules such as
  "potassium") comes out as several spans at the same place whose ``kb_id_`` differ, while
  ``span._.drug`` (stored per offsets) keeps whichever was set last. They are merged into one
  span whose code is chosen by a fixed rule (the most specific code, then the smallest), written
  to both ``kb_id_`` and ``span._.drug``; all candidates are listed in
  ``attributes["atc_candidates"]``.
"""

# No `from __future__ import annotations`: confit validates the factory from live hints.

import re
from functools import cache
from typing import Any

from edsnlp.core import PipelineProtocol
from edsnlp.pipes.base import BaseComponent
from spacy.tokens import Doc, Span

from hopia.data.nlp.numbers import as_int, parse_number
from hopia.data.nlp.pipes.labs.patterns import fold_keep_case, lower_same_length
from hopia.data.nlp.pipes.posology.patterns import (
    COUNTED_FORMS,
    DOSE_RE,
    DURATION_RE,
    FORM_ROUTE,
    FREQUENCY_PATTERNS,
    LAB_AFTER_RE,
    ROUTE_NAMES,
    ROUTE_RE,
    SCHEDULE_RE,
    STRENGTH_RE,
    STRENGTH_UNITS,
    UNIT_NAMES,
    WEEK_SCHEDULE_RE,
)

CATEGORY = "CHEM"
MAX_WINDOW = 160  # characters read after a drug name
MAX_LEAD = 60  # the posology must start this close to the name


@cache
def _atc_sizes() -> dict[str, int]:
    """How many names eds.drugs lists under each ATC code."""
    from edsnlp.pipes.ner.drugs.patterns import get_patterns

    return {code: len(names) for code, names in get_patterns().items()}


def choose_atc(codes: list[str]) -> str:
    """The code kept for a name listed under several.

    The code listing the fewest names is the one specific to this name ("potassium" is
    A12BA05 potassium gluconate, not V03AX, a class of 56 products; "bicarbonate de sodium" is
    B05XA02, not the B05BB01 electrolyte solutions); ties go to the longest (most specific
    level), then the smallest code, so the choice never depends on matching order.
    """
    sizes = _atc_sizes()
    return min(codes, key=lambda c: (sizes.get(c, 10**6), -len(c), c))


# A new item of a list: a coordinator then a word that starts no posology ("oxazépam dégressif
# et thiamine 500 mg/j": the 500 mg is the thiamine's, even when thiamine is no known drug).
_NEXT_ITEM = re.compile(r"(?:,|;|\bet\b|\bpuis\b|\bavec\b|\bplus\b)\s+([a-z][a-z'-]*)")
# Words that go on with the same drug's posology after a coordinator ("matin et soir", "1 g
# puis 500 mg", "et pendant 5 jours", "IV puis per os").
_POSOLOGY_WORDS = frozenset(
    re.findall(
        r"\S+",
        "le la les l un une des du de d au aux a en par pendant jusqu jusque si selon sans "
        "matin midi soir nuit coucher repas jeun toutes tous tout chaque per iv ivd ivl sc im "
        "sl po voie orale intraveineuse sous x fois demi demie deux trois quatre cinq six sept "
        "huit neuf dix quinze vingt cent cents mille dose doses relais puis dosage max maximum "
        "maximale ensuite durant j jours semaine semaines mois heure heures h min mn "
        # a change of the same drug's dose: "sertraline 50 mg/j, majorée à 100 mg/j"
        "majore majoree augmente augmentee diminue diminuee reduit reduite porte portee "
        "passe passee relaye relayee decroissance",
    )
)


def _item_end(text: str, start: int, stop: int) -> int:
    """Where the next item of a list starts in ``text[start:stop]`` (``stop`` when none)."""
    for m in _NEXT_ITEM.finditer(text, start, stop):
        if m.group(1).strip("'-") not in _POSOLOGY_WORDS:
            return m.start()
    return stop


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def read_posology(text: str, start: int, end: int) -> dict[str, Any]:
    """The posology written in ``text[start:end]`` (lower-cased, accent-folded text)."""
    window = text[start:end]
    found: list[tuple[int, int]] = []  # where each element was read, for posology_text
    out: dict[str, Any] = {
        "dose": None,
        "dose_unit": None,
        "route": None,
        "route_source": None,
        "frequency": None,
        "frequency_text": None,
        "per_day": None,
        "duration_days": None,
        "duration_text": None,
        "posology_text": None,
    }
    dose = DOSE_RE.search(window)
    value = None
    if dose and dose.start() <= MAX_LEAD:
        value = parse_number(dose.group("auc_value") if dose.group("auc") else dose.group("value"))
    if dose and value is not None:  # an unreadable number ("99999…9") is no dose
        found.append(dose.span())
        if dose.group("auc"):
            out["dose"], out["dose_unit"] = _plain(value), "AUC"
        else:
            unit = next(UNIT_NAMES[i] for i in range(len(UNIT_NAMES)) if dose.group(f"u{i}"))
            out["dose"], out["dose_unit"] = _plain(value), unit
    else:
        dose = None
    lead_ok = dose is not None
    if dose is not None:
        doses = [[out["dose"], out["dose_unit"]], *_later_doses(window, dose.end())]
        if len(doses) > 1:
            out["doses"] = doses
        strength = STRENGTH_RE.match(window, dose.end())
        if out["dose_unit"] in COUNTED_FORMS and strength:
            amount = parse_number(strength.group("value"))
            if amount is not None:
                # "2 cp de 500 mg": the amount one form gives
                out["strength"] = [_plain(amount), STRENGTH_UNITS[strength.group("unit")]]
                found.append((dose.start(), strength.end()))

    route = ROUTE_RE.search(window)
    if route and (lead_ok or route.start() <= MAX_LEAD):
        found.append(route.span())
        i = next(i for i in range(len(ROUTE_NAMES)) if route.group(f"r{i}"))
        out["route"], out["route_source"] = ROUTE_NAMES[i], "text"
    elif out["dose_unit"] in FORM_ROUTE:
        out["route"], out["route_source"] = FORM_ROUTE[out["dose_unit"]], "form"

    freq = _frequency(window, lead_ok)
    if freq:
        (fs, fe), out["frequency"], out["per_day"] = freq
        out["frequency_text"] = window[fs:fe]
        found.append((fs, fe))

    # "5 jours sur 7" and "tous les 15 jours" are schedules, not durations
    masked = WEEK_SCHEDULE_RE.sub(lambda m: " " * len(m.group()), window)
    if freq:
        masked = masked[:fs] + " " * (fe - fs) + masked[fe:]
    duration = DURATION_RE.search(masked)
    if duration and (lead_ok or duration.start() <= MAX_LEAD):
        days = _duration_days(duration)
        if days is not None or duration.group("until"):
            found.append(duration.span())
            out["duration_days"] = days
            out["duration_text"] = window[duration.start() : duration.end()].strip()
    if found:
        s = min(a for a, _ in found)
        e = max(b for _, b in found)
        out["posology_text"] = (s, e)
    return out


# What says that a later dose is the same drug's new dose: "puis", "relais", "majorée à",
# "→". Without one, a later number is another thing's (a leaflet's "boîte de 30 comprimés à
# 25 µg", an excipient's "contient 20 mg de lactose", "dans 100 ml"): 10 of 10 such extra doses
# on 38 QUAERO EMEA leaflets were of that kind, which made the grounding too lenient.
# The same dose written another way counts too: "1 mg/kg/j soit 20 mg", "60 mg/kg en charge
# (4,5 g)" — a parenthesis that opens on the number, none closed before it ("triméthoprime
# (160 mg) et sulfaméthoxazole (800 mg)": the second is another drug's).
_DOSE_CHANGE = re.compile(
    r"\bpuis\b|\brelai[sy]|\bensuite\b|\bjusqu|→|->|\bsoit\b|^[^()]*\(\s*$|"
    r"\b(?:majore|augmente|diminue|reduit|porte|passe|relaye|ramene|baisse|monte)e?s?\b"
)


def _later_doses(window: str, after: int) -> list[list[Any]]:
    """The doses written after the first one in the drug's window that a change of dose
    introduces ("75 µg/j puis 100 µg/j", "majorée à 100 mg") or restates ("1 mg/kg soit 20 mg"),
    as ``[value, unit]``; the words since the previous dose must say so (:data:`_DOSE_CHANGE`)."""
    found = []
    previous_end = after
    for m in DOSE_RE.finditer(window, after):
        between, previous_end = window[previous_end : m.start()], m.end()
        if not _DOSE_CHANGE.search(between):
            continue
        if m.group("auc"):
            value, unit = parse_number(m.group("auc_value")), "AUC"
        else:
            value = parse_number(m.group("value"))
            unit = next(UNIT_NAMES[i] for i in range(len(UNIT_NAMES)) if m.group(f"u{i}"))
        if value is not None:
            found.append([_plain(value), unit])
    return found


def _frequency(window: str, lead_ok: bool) -> tuple[tuple[int, int], str, float | None] | None:
    for pattern, kind in FREQUENCY_PATTERNS:
        if kind != "prn":
            continue
        m = pattern.search(window)
        if m and (lead_ok or m.start() <= MAX_LEAD):
            return m.span(), "si besoin", None
    schedule = SCHEDULE_RE.search(window)
    if schedule and (lead_ok or schedule.start() <= MAX_LEAD):
        parts = [
            float(p.replace(",", ".")) for p in re.findall(r"\d+(?:[.,]\d+)?", schedule.group())
        ]
        n = sum(1 for p in parts if p > 0)
        return schedule.span(), f"{n}/j", float(n)
    for pattern, kind in FREQUENCY_PATTERNS:
        if kind == "prn":
            continue
        m = pattern.search(window)
        if not m or not (lead_ok or m.start() <= MAX_LEAD):
            continue
        text, per_day = _read_frequency(m, kind)
        if text:
            return m.span(), text, per_day
    return None


def _group_number(m: re.Match[str], *names: str) -> float | None:
    for name in names:
        if name in m.re.groupindex and m.group(name):
            return parse_number(m.group(name))
    return None


def _read_frequency(m: re.Match[str], kind: str) -> tuple[str | None, float | None]:
    n = _group_number(m, "n", "n2")
    every = _group_number(m, "every")
    if kind == "n_day" and n:
        return f"{_plain(n)}/j", n
    if kind == "once":
        return "1/j", 1.0
    if kind == "two":
        return "2/j", 2.0
    if kind == "three":
        return "3/j", 3.0
    if kind == "week":
        return "1/sem", round(1 / 7, 4)
    if kind == "n_week" and n:
        return f"{_plain(n)}/sem", round(n / 7, 4)
    if kind == "every_h" and every:
        if 24 % every == 0:
            return f"{int(24 // every)}/j", 24 / every
        return f"1/{_plain(every)}h", round(24 / every, 4)
    if kind == "every_d" and every:
        return f"1/{_plain(every)}j", round(1 / every, 4)
    if kind == "every_w" and every:
        return f"1/{_plain(every)}sem", round(1 / (7 * every), 4)
    if kind == "every_m" and every:
        return f"1/{_plain(every)}mois", round(1 / (30 * every), 4)
    return None, None


def _duration_days(m: re.Match[str]) -> int | None:
    """Days of a duration match; None when its numbers cannot be read (too long to be days)."""
    if m.group("d1"):
        d1, d2 = as_int(parse_number(m.group("d1"))), as_int(parse_number(m.group("d2")))
        return None if d1 is None or d2 is None else d2 - d1 + 1
    if m.group("bare"):
        return as_int(parse_number(m.group("bare")))
    if m.group("n"):
        n = parse_number(m.group("n"))
        if n is None:
            return None
        unit = m.group("unit")
        factor = 30 if unit.startswith("m") else 7 if unit.startswith("s") else 1
        return int(n * factor)
    return None


class PosologyReader(BaseComponent):
    """Attaches posology to drug spans; see the module docstring.

    Parameters
    ----------
    nlp : the pipeline
    name : the component name
    drug_group : the span group of ``eds.drugs``
    lab_group : the span group of ``hopia.labs`` (drug spans it covers are dropped)
    chem_groups : span groups (``hopia.terms``, ``hopia.clinical_ner``) whose chemicals
        that no drug span overlaps (drugs the drug list lacks: "Entresto", "tiotropium") get
        their posology read too, their groups unchanged
    """

    def __init__(
        self,
        nlp: PipelineProtocol | None = None,
        name: str = "posology",
        *,
        drug_group: str = "drug",
        lab_group: str = "labs",
        chem_groups: list[str] | None = None,
    ) -> None:
        super().__init__(nlp=nlp, name=name)
        self.drug_group = drug_group
        self.lab_group = lab_group
        self.chem_groups = list(chem_groups or [])

    def set_extensions(self) -> None:
        super().set_extensions()
        import hopia.data.nlp.pipes  # noqa: F401  (declares category / attributes)

        if not Span.has_extension("drug"):
            Span.set_extension("drug", default=None)

    def __call__(self, doc: Doc) -> Doc:
        has_drugs = self.drug_group in doc.spans and doc.spans[self.drug_group]
        terms = _chemicals(doc, self.chem_groups)
        if not has_drugs and not terms:
            return doc
        text = doc.text
        lowered = lower_same_length(fold_keep_case(text))
        labs = list(doc.spans[self.lab_group]) if self.lab_group in doc.spans else []
        drugs = [
            s
            for s in _merge_codes(doc.spans[self.drug_group] if has_drugs else ())
            if not _is_lab(s, labs, lowered)
        ]
        # the drugs only hopia.terms or the statistical NER name ("Entresto", "tiotropium"):
        # read too, their span groups unchanged
        extra: list[Span] = []
        for t in terms:  # one reading a place: the first group's span (terms before the NER's)
            if not any(_overlap(t, d) for d in [*drugs, *extra]):
                extra.append(t)
        named = sorted([*drugs, *extra], key=lambda s: (s.start, s.end))
        line_ends = [m.start() for m in re.finditer("\n", text)] + [len(text)]
        extra_ids = {id(t) for t in extra}
        for i, span in enumerate(named):
            # a chemical of the statistical NER may take its dose in ("thiamine 500 mg/"):
            # read from its first digit
            begin = span.end_char
            if id(span) in extra_ids:
                digit = re.search(r"\d", span.text)
                if digit and digit.start() > 0:
                    begin = span.start_char + digit.start()
            stop = min(span.end_char + MAX_WINDOW, len(text))
            if i + 1 < len(named):
                stop = min(stop, max(named[i + 1].start_char, span.end_char))
            stop = min(stop, next(e for e in line_ends if e >= span.end_char))
            if span.sent is not None:
                stop = min(stop, max(span.sent.end_char, span.end_char))
            stop = max(_item_end(lowered, span.end_char, stop), span.end_char)
            reading = read_posology(lowered, begin, stop)
            if reading["posology_text"] is not None:
                s, e = reading["posology_text"]
                reading["posology_text"] = text[begin + s : begin + e]
            if id(span) in extra_ids and reading["posology_text"] is None:
                continue  # a chemical of another pipe with no posology keeps its attributes
            attributes = dict(span._.attributes or {})
            attributes.update(reading)
            span._.attributes = attributes
            span._.category = span._.category or CATEGORY
        if has_drugs:
            doc.spans[self.drug_group] = drugs
        return doc


def _chemicals(doc: Doc, groups: list[str]) -> list[Span]:
    return [s for g in groups if g in doc.spans for s in doc.spans[g] if s._.category == CATEGORY]


def _overlap(a: Span, b: Span) -> bool:
    return a.start_char < b.end_char and b.start_char < a.end_char


def _merge_codes(spans: Any) -> list[Span]:
    """One span per place, its ATC code chosen by :func:`choose_atc`."""
    by_place: dict[tuple[int, int], list[Span]] = {}
    for s in spans:
        by_place.setdefault((s.start, s.end), []).append(s)
    out: list[Span] = []
    for group in by_place.values():
        codes = sorted({s.kb_id_ for s in group if s.kb_id_})
        first = group[0]
        if len(group) == 1 and len(codes) <= 1:
            span = first
        else:  # label and kb_id first: Hopia's span extensions are keyed by them
            code = choose_atc(codes) if codes else ""
            span = Span(first.doc, first.start, first.end, label=first.label_, kb_id=code)
            span._.attributes = dict(first._.attributes or {})
        if codes:
            span._.drug = span.kb_id_  # stored per offsets: the same value for every span here
            attributes = dict(span._.attributes or {})
            attributes["atc_candidates"] = codes
            span._.attributes = attributes
        out.append(span)
    out.sort(key=lambda s: (s.start, s.end))
    return out


def _is_lab(span: Span, labs: list[Span], lowered: str) -> bool:
    if any(lab.start_char <= span.start_char and span.end_char <= lab.end_char for lab in labs):
        return True
    return LAB_AFTER_RE.match(lowered, span.end_char) is not None
