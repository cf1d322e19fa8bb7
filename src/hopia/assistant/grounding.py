"""Grounding check: is every clinical fact of a generated text backed by its sources?

Hopia's NLP (:func:`hopia.data.nlp.extract`, the function behind ``hopia nlp extract``) runs on
the output and on each source. Overlapping entities of one text are merged into one *fact*
(a condition, a drug, a lab value) that carries every key the pipes gave it: a CIM-10 category,
an ATC code, a LOINC code, a comorbidity pipe, and the folded text as a last resort. A fact of
the output is flagged when:

- no source fact shares one of its keys (``absent``);
- the sources only state it with the opposite polarity (``negation``: negated there and
  affirmed here, or the reverse);
- it is a drug or a lab value with a dose/value that differs from every value the sources
  give for it — every dose of every mention of that drug, a drug given at two doses ("75 µg/j
  puis 100 µg/j", or one dose per document) backing both —, or the sources give none
  (``dose`` / ``value``).

Dates, durations, scores and procedures are not checked: the NLP reads them, but a summary
rephrases them too freely for an exact comparison to be useful.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from hopia.data.nlp import Entity

FactKind = Literal["condition", "drug", "lab"]
# flags raised by the tasks' own checks too: a number not in the tables, a quiz passage not
# found in the protocol
FlagKind = Literal["condition", "drug", "lab", "number", "passage"]
Reason = Literal["absent", "negation", "dose", "value", "number", "passage"]
Dose = tuple[float, str | None]  # a dose or a lab value, and its unit

# Pipes whose entities are facts, and what kind. Comorbidity pipes (diabetes, ...) are DISO.
_DRUG_PIPES = frozenset({"drug"})
_LAB_PIPES = frozenset({"labs"})
_SKIPPED_PIPES = frozenset(
    {"dates", "durations", "quantities", "tnm", "adicap", "sections", "measurements"}
)
_CONDITION_CATEGORY = "DISO"
_DRUG_CATEGORY = "CHEM"
_STEM = 6
_STOPWORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l",
        "la",
        "le",
        "les",
        "un",
        "une",
        "sous",
        "type",
        "avec",
        "par",
        "pour",
        "sur",
    ]
)


@dataclass(frozen=True)
class SourceText:
    """One text the output must be grounded in (a document, a protocol, a table rendered)."""

    id: str
    text: str
    title: str | None = None


@dataclass(frozen=True)
class Fact:
    """A clinical fact of one text: merged overlapping entities."""

    kind: FactKind
    start: int
    end: int
    text: str
    keys: frozenset[str]
    negated: bool
    value: float | None = None
    unit: str | None = None
    #: every dose (value) of the fact, the first one (``value``, ``unit``) included
    doses: tuple[Dose, ...] = ()

    def __post_init__(self) -> None:
        if self.value is not None and not self.doses:
            object.__setattr__(self, "doses", ((self.value, self.unit),))


@dataclass(frozen=True)
class Flag:
    """A fact of the output that the sources do not back, with where and why (in French)."""

    start: int
    end: int
    text: str
    kind: FlagKind
    reason: Reason
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True)
class GroundingReport:
    facts_checked: int
    flags: tuple[Flag, ...] = field(default_factory=tuple)

    @property
    def grounded(self) -> bool:
        return not self.flags


# Common French clinical abbreviations, folded: "BPCO" meets "bronchopneumopathie chronique
# obstructive" even where no pipe codes either.
_ABBREVIATIONS_TEXT = {
    "bpco": "bronchopneumopathie chronique obstructive",
    "hta": "hypertension arterielle",
    "avc": "accident vasculaire cerebral",
    "idm": "infarctus du myocarde",
    "fa": "fibrillation auriculaire",
    "acfa": "fibrillation auriculaire",
    "irc": "insuffisance renale chronique",
    "tvp": "thrombose veineuse profonde",
    "ep": "embolie pulmonaire",
    "sep": "sclerose en plaques",
    "dt2": "diabete de type 2",
    "dt1": "diabete de type 1",
}


def fold(text: str) -> str:
    """Lower case, no accents, no small words, each word cut to its first 6 letters: a
    lemma-ish key ("diabétique" and "diabète" meet, so do plurals)."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in nfkd if not unicodedata.combining(c))
    words = [w for w in re.findall(r"[a-z0-9]+", plain) if w not in _STOPWORDS]
    return " ".join(w[:_STEM] for w in words)


_UNIT = re.compile(r"[µμumnkcd]?(?:mol|g|l|ui|UI|L)(?:/[a-zA-Z]+)?", re.IGNORECASE)
_GENERIC = frozenset(
    fold(w)
    for w in (
        "médicament",
        "médicaments",
        "traitement",
        "traitements",
        "symptôme",
        "symptômes",
        "pathologie",
        "pathologies",
        "maladie",
        "maladies",
        "antécédents",
    )
)
_ABBREVIATIONS = {k: fold(v) for k, v in _ABBREVIATIONS_TEXT.items()}


def _kind(e: Entity) -> FactKind | None:
    if e.pipe in _SKIPPED_PIPES or _UNIT.fullmatch(e.text.strip()):
        return None  # the NER sometimes reads a unit ("µmol") as a disorder
    if len(re.findall(r"[^\W\d_]", e.text)) < 2 or fold(e.text) in _GENERIC:
        return None  # markdown "*" read as a chemical; "médicament", "symptômes": no fact
    if e.pipe in _LAB_PIPES:
        return "lab"
    if e.pipe in _DRUG_PIPES:
        return "drug"
    if e.category == _CONDITION_CATEGORY:
        return "condition"
    if e.category == _DRUG_CATEGORY and e.pipe == "clinical_ner":
        return "drug"
    return None


def _keys(e: Entity, kind: FactKind) -> set[str]:
    keys: set[str] = set()
    if "cim10" in e.codes:
        # the full code; _match lets "I50" meet "I50.9" (one a prefix of the other), while
        # D69.6 (thrombopenia) and D69.2 (purpura) stay apart
        keys.add("cim10:" + e.codes["cim10"].replace(".", "").upper())
    if "atc" in e.codes:
        keys.add("atc:" + e.codes["atc"].upper())
    if "loinc" in e.codes:
        keys.add("loinc:" + e.codes["loinc"])
    if kind == "lab":
        keys.add("lab:" + e.label)
    # No key from the comorbidity pipes (diabetes, congestive_heart_failure...): they are
    # Charlson categories, too broad (atrial fibrillation lands in heart failure).
    if kind != "lab":
        text = fold(e.text)
        if text:
            keys.add(f"{kind}:{text}")
        if kind == "drug" and text:
            keys.add("drug:" + text.split()[0])  # the name: "tiotropium inhalé" is tiotropium
        if text in _ABBREVIATIONS:
            keys.add(f"{kind}:{_ABBREVIATIONS[text]}")
    return keys


_PRIORITY: dict[FactKind, int] = {"lab": 0, "drug": 1, "condition": 2}
_CODED = ("cim10:", "atc:", "loinc:")


def _merged(typed: list[tuple[Entity, FactKind]], kind: FactKind) -> list[Fact]:
    """Facts of one kind: overlapping entities of that kind merged."""
    groups: list[list[Entity]] = []
    end = -1
    for e, k in typed:
        if k != kind:
            continue
        if groups and e.start < end:
            groups[-1].append(e)
            end = max(end, e.end)
        else:
            groups.append([e])
            end = e.end
    out = []
    for members in groups:
        keys: set[str] = set()
        for e in members:
            keys |= _keys(e, kind)
        # the values: the doses of the drug pipe (all of them), the value of the lab pipe
        # (numbers only)
        doses = _doses(members)
        value, unit = doses[0] if doses else (None, None)
        start = min(e.start for e in members)
        stop = max(e.end for e in members)
        text = next(e.text for e in members if e.start == start)
        negated = any(e.negation for e in members)
        out.append(Fact(kind, start, stop, text, frozenset(keys), negated, value, unit, doses))
    return out


def _doses(members: list[Entity]) -> tuple[Dose, ...]:
    """Every number the merged entities give, in order: each one's value, then the further
    doses the posology read after it (``attributes["doses"]``)."""
    found: list[Dose] = []
    for e in members:
        if not isinstance(e.value, (int, float)) or e.pipe == "cim10":
            continue
        found.append((float(e.value), e.unit))
        for extra in (e.attributes or {}).get("doses") or ():
            number, unit = extra
            if isinstance(number, (int, float)):
                found.append((float(number), unit))
    return tuple(dict.fromkeys(found))  # order kept, repeats dropped


def facts(entities: Iterable[Entity]) -> list[Fact]:
    """The facts of one text: entities of a checked kind, overlapping ones of the same kind
    merged. An uncoded fact inside a fact of a stronger kind is the NER's noise ("µmol" read
    as a disorder inside "créatinine à 95 µmol/L") and is dropped."""
    typed = sorted(
        ((e, k) for e in entities if (k := _kind(e)) is not None), key=lambda p: p[0].start
    )
    found = [f for kind in _PRIORITY for f in _merged(typed, kind)]
    kept = []
    for f in found:
        inside = any(
            _PRIORITY[g.kind] < _PRIORITY[f.kind] and g.start <= f.start and f.end <= g.end
            for g in found
        )
        if inside and not any(k.startswith(_CODED) for k in f.keys):
            continue
        kept.append(f)
    return sorted(kept, key=lambda f: (f.start, _PRIORITY[f.kind]))


def _unit(unit: str | None) -> str:
    return fold(unit or "").replace(" ", "")


def _same_value(a: Dose, b: Dose) -> bool:
    (x, x_unit), (y, y_unit) = a, b
    if x_unit and y_unit and _unit(x_unit) != _unit(y_unit):
        return False
    return abs(x - y) <= 1e-6 * max(1.0, abs(x))


def _show(dose: Dose) -> str:
    value, unit = dose
    number = f"{value:g}".replace(".", ",")
    return f"{number} {unit}".strip() if unit else number


def _match(a: Fact, b: Fact) -> bool:
    if a.keys & b.keys:
        return True
    codes_a = [k for k in a.keys if k.startswith("cim10:")]
    codes_b = [k for k in b.keys if k.startswith("cim10:")]
    return any(x.startswith(y) or y.startswith(x) for x in codes_a for y in codes_b)


def judge(output_facts: Sequence[Fact], source_facts: Sequence[Fact]) -> list[Flag]:
    """The flags of ``output_facts`` against ``source_facts`` (see the module's docstring)."""
    flags: list[Flag] = []
    for f in output_facts:
        matching = [s for s in source_facts if _match(f, s)]
        what = {"condition": "pathologie", "drug": "médicament", "lab": "valeur biologique"}[f.kind]
        if not matching:
            flags.append(
                Flag(f.start, f.end, f.text, f.kind, "absent", f"{what} absent(e) des sources")
            )
            continue
        same_polarity = [s for s in matching if s.negated == f.negated]
        if not same_polarity:
            message = (
                f"{what} affirmé(e) ici mais nié(e) dans les sources"
                if not f.negated
                else f"{what} nié(e) ici mais affirmé(e) dans les sources"
            )
            flags.append(Flag(f.start, f.end, f.text, f.kind, "negation", message))
            continue
        if f.kind in ("drug", "lab") and f.doses:
            # every dose the sources give for it, not the first of each mention only
            backed = [d for s in same_polarity for d in s.doses]
            unbacked = [d for d in f.doses if not any(_same_value(d, b) for b in backed)]
            if not unbacked:
                continue
            reason: Reason = "dose" if f.kind == "drug" else "value"
            given = sorted({_show(d) for d in backed})
            label = "dose" if f.kind == "drug" else "valeur"
            shown = ", ".join(_show(d) for d in unbacked)
            message = (
                f"{label} {shown} différente des sources ({', '.join(given)})"
                if given
                else f"{label} {shown} absente des sources"
            )
            flags.append(Flag(f.start, f.end, f.text, f.kind, reason, message))
    return flags


def check(
    output_text: str, sources: Sequence[SourceText], *, nlp: Any, batch_size: int = 16
) -> GroundingReport:
    """Run the NLP on the output and the sources; flag the output's unbacked facts.

    ``nlp`` is the pipeline of :func:`hopia.data.nlp.get_nlp` (the service passes it, built
    from the installation's cache)."""
    from hopia.data.nlp import extract

    texts = [output_text, *(s.text for s in sources)]
    found = list(extract(texts, nlp=nlp, batch_size=batch_size))
    output_facts = facts(found[0])
    source_facts = [f for entities in found[1:] for f in facts(entities)]
    return GroundingReport(len(output_facts), tuple(judge(output_facts, source_facts)))
