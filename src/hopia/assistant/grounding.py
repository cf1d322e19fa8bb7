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

Paraphrases meet their sources (docs/assistant/tasks.md, "Paraphrases"): a drug by every ATC
code of its name and ingredient (brand and INN, an ingredient and its combination), a dose by
its amount or its total a day (1 g x3/j is 3 g/j), a condition no source names by a source value
that shows it (grounding_rules.yaml: "anémie" from an Hb of 8 g/dL; ``value`` when the value
says otherwise), "apyrétique" as fever negated, and a test's result written as a word
("Quantiféron négatif") against the sources' result of the same test.

Dates, durations, scores and procedures are not checked: the NLP reads them, but a summary
rephrases them too freely for an exact comparison to be useful.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

import yaml

from hopia.data.nlp.drug_names import atc_codes, combination_codes

if TYPE_CHECKING:
    from hopia.data.nlp import Entity

FactKind = Literal["condition", "drug", "lab"]
# flags raised by the tasks' own checks too: a number not in the tables, a quiz passage not
# found in the protocol
FlagKind = Literal["condition", "drug", "lab", "number", "passage"]
Reason = Literal["absent", "negation", "dose", "value", "number", "passage"]
Dose = tuple[float, str | None]  # a dose or a lab value, and its unit


@dataclass(frozen=True)
class Intake:
    """One dose of a drug as written (``dose``), the amount it gives in a comparable unit
    (``amount``: mg for masses, the strength times the count for "2 cp de 500 mg") and how many
    times a day (``per_day``, from the posology's frequency; None when not written)."""

    dose: Dose
    amount: Dose
    per_day: float | None = None

    @property
    def daily(self) -> Dose | None:
        if self.per_day is None:
            return None
        return (self.amount[0] * self.per_day, self.amount[1])


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
    #: a drug's doses as the posology reads them: amount per intake and intakes per day
    intakes: tuple[Intake, ...] = ()
    #: the condition a word of absence negates ("apyrétique": "fièvre"), for the messages
    absence_of: str | None = None
    #: a test's result written as a word ("Quantiféron négatif"): the words naming the test
    test: frozenset[str] | None = None

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
        # time words the statistical NER sometimes reads as a disorder
        "semaine",
        "semaines",
        "jour",
        "jours",
        "mois",
    )
)
_ABBREVIATIONS = {k: fold(v) for k, v in _ABBREVIATIONS_TEXT.items()}
# first words of a drug's text that do not name it: "acide clavulanique" is not "acide folique"
_NOT_A_NAME = frozenset(fold(w) for w in ("acide", "sel", "sels", "chlorure", "sulfate"))


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
    if e.category == _DRUG_CATEGORY and e.pipe in ("clinical_ner", "terms"):
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
    attributes = e.attributes or {}
    # a name eds.drugs lists under several ATC codes (aspirine: B01AC06 antiplatelet, N02BA01
    # analgesic) meets a brand listed under any of them (Kardégic, Aspégic)
    for code in attributes.get("atc_candidates") or ():
        keys.add("atc:" + str(code).upper())
    if kind == "drug":
        # the dictionary's codes of the name by its ingredient: "tiotropium" meets Spiriva
        # (listed as "tiotropium bromure"), "budésonide" meets Symbicort (its combination)
        keys |= {"atc:" + code for code in atc_codes(e.text)}
        keys |= {_IN_COMBINATION + code for code in combination_codes(e.text)}
    if e.pipe == "terms":
        # hopia.terms: the concept code (every synonym and abbreviation of a concept shares
        # it: "IRC", "maladie rénale chronique"), its CIM-10 code, or a drug's ATC code
        # ("amoxicilline-acide clavulanique" is J01CR02, as "Augmentin")
        if attributes.get("cim10"):
            keys.add("cim10:" + str(attributes["cim10"]).replace(".", "").upper())
        code = attributes.get("code")
        if code and attributes.get("vocabulary") == "ATC":
            keys.add("atc:" + str(code).upper())
        elif code and attributes.get("vocabulary") == "HOPIA":
            keys.add(f"concept:{code}")
        elif code and attributes.get("vocabulary") == "CIM10":
            keys.add("cim10:" + str(code).replace(".", "").upper())
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
        if kind == "drug" and text and text.split()[0] not in _NOT_A_NAME:
            keys.add("drug:" + text.split()[0])  # the name: "tiotropium inhalé" is tiotropium
        if text in _ABBREVIATIONS:
            keys.add(f"{kind}:{_ABBREVIATIONS[text]}")
    return keys


_PRIORITY: dict[FactKind, int] = {"lab": 0, "drug": 1, "condition": 2}
_CODED = ("cim10:", "atc:", "loinc:", "concept:")


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
        intakes = _intakes(members) if kind == "drug" else ()
        fact = Fact(kind, start, stop, text, frozenset(keys), negated, value, unit, doses, intakes)
        out.append(_read_absence(fact))
    return out


def _value(e: Entity) -> tuple[float | None, str | None]:
    """An entity's number: a lab value, a drug's first dose (the posology reads chemicals
    that only hopia.terms or the statistical NER name, "Entresto", into their attributes)."""
    if e.pipe == "cim10":
        return None, None
    if isinstance(e.value, (int, float)):
        return float(e.value), e.unit
    dose = (e.attributes or {}).get("dose") if e.pipe in ("terms", "clinical_ner") else None
    if isinstance(dose, (int, float)):
        return float(dose), (e.attributes or {}).get("dose_unit")
    return None, None


def _doses(members: list[Entity]) -> tuple[Dose, ...]:
    """Every number the merged entities give, in order: each one's value, then the further
    doses the posology read after it (``attributes["doses"]``)."""
    found: list[Dose] = []
    for e in members:
        value, unit = _value(e)
        if value is None:
            continue
        found.append((value, unit))
        for extra in (e.attributes or {}).get("doses") or ():
            number, unit = extra
            if isinstance(number, (int, float)):
                found.append((float(number), unit))
    return tuple(dict.fromkeys(found))  # order kept, repeats dropped


# Masses in mg, so that "1 g" meets "1000 mg" and "500 µg" meets "0,5 mg".
_MASS_IN_MG = {"g": 1000.0, "mg": 1.0, "µg": 0.001}


def _amount(dose: Dose, strength: Any) -> Dose:
    """``dose`` in a comparable unit: masses in mg; a count of a form with its strength
    ("2 cp" of 500 mg) as the mass it gives."""
    value, unit = dose
    if (
        isinstance(strength, (list, tuple))
        and len(strength) == 2
        and isinstance(strength[0], (int, float))
        and strength[1] in _MASS_IN_MG
        and unit not in _MASS_IN_MG
        and unit not in (None, "UI", "mL", "AUC")
        and "/" not in (unit or "")
    ):
        value, unit = value * float(strength[0]), str(strength[1])
    if unit in _MASS_IN_MG:
        return (value * _MASS_IN_MG[unit], "mg")
    return (value, unit)


def _intakes(members: list[Entity]) -> tuple[Intake, ...]:
    """The doses of the drug pipe's entities as :class:`Intake` (posology's ``per_day``
    and ``strength``; one frequency for all the doses of one mention)."""
    found: list[Intake] = []
    for e in members:
        value, unit = _value(e)
        if value is None:
            continue
        attributes = e.attributes or {}
        per_day = attributes.get("per_day")
        per_day = float(per_day) if isinstance(per_day, (int, float)) and per_day > 0 else None
        written = [(value, unit)]
        for number, unit in attributes.get("doses") or ():
            if isinstance(number, (int, float)):
                written.append((float(number), unit))
        for dose in dict.fromkeys(written):
            found.append(Intake(dose, _amount(dose, attributes.get("strength")), per_day))
    return tuple(dict.fromkeys(found))


# A test's result written as a word: "Quantiféron négatif", "hémocultures positives",
# "ECBU stérile".
_RESULT = re.compile(
    r"\b(?:(?P<pos>positi(?:f|ve)s?)|(?P<neg>n[ée]gati(?:f|ve)s?|st[ée]riles?))\b", re.I
)
# Where the name of the test before it starts: a punctuation mark or a coordinator.
_CLAUSE = re.compile(r"[.;:,()\[\]\n]|\b(?:et|ou|mais|avec|sans)\b", re.I)
# Words around a test's name that do not name it.
_TEST_WORDS = frozenset(
    [
        "serologie",
        "test",
        "recherche",
        "depistage",
        "dosage",
        "examen",
        "resultat",
        "revenu",
        "revenue",
        "est",
        "etait",
        "sont",
        "etaient",
        "reste",
        "restent",
        "restee",
        "bien",
        "franchement",
        "faiblement",
        "fortement",
        "strictement",
        "toujours",
        "egalement",
        "aussi",
        "actuellement",
        "initialement",
    ]
)
_MAX_TEST_WORDS = 4


def result_facts(text: str) -> list[Fact]:
    """The tests whose result the text writes as a word ("Quantiféron négatif", "PCR SARS-CoV-2
    positive"): a fact of kind ``lab`` whose ``test`` is the words naming the test (the few
    words before the result, in its clause) and whose polarity is the result's (négatif:
    negated). No pipe reads these; they are only compared with the sources' results."""
    found = []
    for m in _RESULT.finditer(text):
        clause_start = 0
        for c in _CLAUSE.finditer(text, 0, m.start()):
            clause_start = c.end()
        spans = list(re.finditer(r"[^\W_]+", text[clause_start : m.start()]))[-_MAX_TEST_WORDS:]
        named = [
            (w, clause_start + sp.start())
            for sp in spans
            if (w := _words(sp.group())) and w not in _TEST_WORDS and w not in _STOPWORDS
        ]
        if not named:
            continue
        start = named[0][1]
        words = frozenset(w for w, _ in named)
        keys = frozenset(f"test:{w}" for w in words)
        negated = m.group("neg") is not None
        found.append(Fact("lab", start, m.end(), text[start : m.end()], keys, negated, test=words))
    return found


def facts(entities: Iterable[Entity], text: str | None = None) -> list[Fact]:
    """The facts of one text: entities of a checked kind, overlapping ones of the same kind
    merged. An uncoded fact inside a fact of a stronger kind is the NER's noise ("µmol" read
    as a disorder inside "créatinine à 95 µmol/L") and is dropped, so is a chemical inside a
    lab value ("albumine 27 g/L", even when the drug dictionary names it), and so is an uncoded fact
    on the same words as a coded fact of another kind (the statistical NER's "microcytose"
    read as a chemical where the lexicon codes the sign)."""
    typed = sorted(
        ((e, k) for e in entities if (k := _kind(e)) is not None), key=lambda p: p[0].start
    )
    found = [f for kind in _PRIORITY for f in _merged(typed, kind)]
    kept = []
    for f in found:
        in_lab = f.kind == "drug" and any(
            g.kind == "lab" and g.start <= f.start and f.end <= g.end for g in found
        )
        if in_lab:
            continue  # "albumine 27 g/L" is a result, whatever the NER makes of its name
        if any(k.startswith(_CODED) for k in f.keys):
            kept.append(f)
            continue
        inside = any(
            _PRIORITY[g.kind] < _PRIORITY[f.kind] and g.start <= f.start and f.end <= g.end
            for g in found
        )
        same_words = any(
            g.kind != f.kind
            and (g.start, g.end) == (f.start, f.end)
            and any(k.startswith(_CODED) for k in g.keys)
            for g in found
        )
        if not (inside or same_words):
            kept.append(f)
    if text is not None:
        # a test's result: the uncoded facts on its words are the NER's reading of the test's
        # name ("Quantiféron négatif" as a chemical)
        tests = result_facts(text)
        kept = [
            f
            for f in kept
            if any(k.startswith(_CODED) for k in f.keys)
            or not any(t.start < f.end and f.start < t.end for t in tests)
        ]
        kept += tests
    return sorted(kept, key=lambda f: (f.start, _PRIORITY[f.kind]))


# --- the equivalences of grounding_rules.yaml -------------------------------------------


@dataclass(frozen=True)
class Conclusion:
    """A condition a value backs (see grounding_rules.yaml)."""

    condition: str
    lab: str
    unit: str
    op: Literal["below", "at_least", "above"]
    threshold: float
    cim10: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    #: the words of a condition this value explains ("anémie", not "ferriprive")
    words: frozenset[str] = frozenset()
    #: generic words it explains too, but that do not name it ("état", "syndrome")
    also: frozenset[str] = frozenset()
    source: str = ""

    def names(self, keys: frozenset[str], words: frozenset[str]) -> bool:
        """Whether a fact with ``keys`` and ``words`` states this condition."""
        codes = [k[6:] for k in keys if k.startswith("cim10:")]
        if any(c.startswith(p) for c in codes for p in self.cim10):
            return True
        return any(f"concept:{c}" in keys for c in self.concepts) or bool(words & self.words)

    def holds(self, value: float) -> bool:
        if self.op == "below":
            return value < self.threshold
        if self.op == "at_least":
            return value >= self.threshold
        return value > self.threshold

    def threshold_text(self) -> str:
        sign = {"below": "<", "at_least": "≥", "above": ">"}[self.op]
        return f"{self.condition} si {sign} {_show((self.threshold, self.unit))}"


@dataclass(frozen=True)
class Absence:
    """A word stating that a condition is absent ("apyrétique": no fever)."""

    concept: str
    condition: str
    cim10: str
    condition_concept: str


@dataclass(frozen=True)
class Rules:
    conclusions: tuple[Conclusion, ...]
    absences: tuple[Absence, ...]


_RULES_FILE = "grounding_rules.yaml"


def _code(text: Any) -> str:
    return str(text).replace(".", "").upper()


@cache
def rules() -> Rules:
    """The table of ``grounding_rules.yaml`` (packaged beside this module)."""
    raw = yaml.safe_load(files("hopia.assistant").joinpath(_RULES_FILE).read_text("utf-8"))
    conclusions = []
    for item in raw.get("conclusions") or ():
        ops = [op for op in ("below", "at_least", "above") if op in item]
        if len(ops) != 1:
            raise ValueError(f"{_RULES_FILE}: {item.get('condition')}: one threshold expected")
        conclusions.append(
            Conclusion(
                condition=str(item["condition"]),
                lab=str(item["lab"]),
                unit=str(item["unit"]),
                op=ops[0],  # type: ignore[arg-type]
                threshold=float(item[ops[0]]),
                cim10=tuple(_code(c) for c in item.get("cim10") or ()),
                concepts=tuple(str(c) for c in item.get("concepts") or ()),
                words=frozenset(_words(str(w)) for w in item.get("words") or ()),
                also=frozenset(_words(str(w)) for w in item.get("also") or ()),
                source=str(item.get("source") or ""),
            )
        )
    absences = tuple(
        Absence(str(a["concept"]), str(a["condition"]), _code(a["cim10"]), a["condition_concept"])
        for a in raw.get("absences") or ()
    )
    return Rules(tuple(conclusions), absences)


def _words(text: str) -> str:
    """``text`` lower-cased, without accents, small words or a plural "s" (one word: one
    string; several: joined by a space)."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in nfkd if not unicodedata.combining(c))
    kept = [w for w in re.findall(r"[a-z0-9]+", plain) if w not in _STOPWORDS and len(w) > 1]
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in kept)


def _read_absence(fact: Fact) -> Fact:
    """A word of absence ("apyrétique") as the condition it negates ("pas de fièvre"):
    the condition's codes, the polarity flipped."""
    if fact.kind != "condition":
        return fact
    for absence in rules().absences:
        if f"concept:{absence.concept}" in fact.keys:
            keys = fact.keys | {f"cim10:{absence.cim10}", f"concept:{absence.condition_concept}"}
            return replace(
                fact, keys=frozenset(keys), negated=not fact.negated, absence_of=absence.condition
            )
    return fact


def _lab_values(source_facts: Sequence[Fact], rule: Conclusion) -> list[Fact]:
    return [
        s
        for s in source_facts
        if s.kind == "lab"
        and f"lab:{rule.lab}" in s.keys
        and not s.negated
        and s.value is not None
        and (s.unit or "") == rule.unit
    ]


# --- judging ------------------------------------------------------------------------------


def _unit(unit: str | None) -> str:
    return fold(unit or "").replace(" ", "")


def _same_value(a: Dose, b: Dose) -> bool:
    (x, x_unit), (y, y_unit) = a, b
    if x_unit and y_unit and _unit(x_unit) != _unit(y_unit):
        return False
    return abs(x - y) <= 1e-6 * max(1.0, abs(x))


def _same_intake(a: Intake, b: Intake) -> bool:
    """The same dose: the same amount per intake (1 g ≡ 1000 mg) with no other number of
    intakes a day, or the same total a day (1 g x3/j ≡ 3 g/j ≡ 1 g matin, midi et soir)."""
    a_daily, b_daily = a.daily, b.daily
    if a_daily is not None and b_daily is not None:
        return _same_value(a_daily, b_daily)
    return _same_value(a.amount, b.amount)


def _show(dose: Dose, *, in_grams: bool = False) -> str:
    value, unit = dose
    if in_grams and unit == "mg" and value >= 1000:
        value, unit = value / 1000, "g"
    number = f"{round(value, 3):g}".replace(".", ",")
    return f"{number} {unit}".strip() if unit else number


def _show_intake(intake: Intake) -> str:
    dose = _show(intake.dose)
    if intake.per_day is None:
        return dose
    if intake.per_day == 1:
        return f"{dose}/j"
    daily = intake.daily
    assert daily is not None
    return f"{dose} x{_show((intake.per_day, None))}/j, soit {_show(daily, in_grams=True)}/j"


_IN_COMBINATION = "atc-in:"  # an ingredient of the combination of that code


def _match(a: Fact, b: Fact) -> bool:
    if a.test is not None or b.test is not None:
        # the same test: every word naming the output's in the source's ("VIH" in
        # "sérologie VIH")
        return a.test is not None and b.test is not None and a.test <= b.test
    shared = a.keys & b.keys
    if any(not k.startswith(_IN_COMBINATION) for k in shared):
        return True
    # an ingredient meets its combination ("budésonide": Symbicort), never another ingredient
    # of it (isoniazide and rifampicine are both in Rifinah)
    a_in = {"atc:" + k[len(_IN_COMBINATION) :] for k in a.keys if k.startswith(_IN_COMBINATION)}
    b_in = {"atc:" + k[len(_IN_COMBINATION) :] for k in b.keys if k.startswith(_IN_COMBINATION)}
    if a_in & b.keys or b_in & a.keys:
        return True
    codes_a = [k for k in a.keys if k.startswith("cim10:")]
    codes_b = [k for k in b.keys if k.startswith("cim10:")]
    return any(x.startswith(y) or y.startswith(x) for x in codes_a for y in codes_b)


_WHAT: dict[FactKind, str] = {
    "condition": "pathologie",
    "drug": "médicament",
    "lab": "valeur biologique",
}


def _quote(facts_: Sequence[Fact]) -> str:
    shown = list(dict.fromkeys(f"« {f.text} »" for f in facts_))
    return ", ".join(shown[:3])


# Units a condition's mention may take with its value ("anémie à 8,1 g/dL"): no words of it.
_UNIT_WORDS = frozenset(
    ("g", "dl", "l", "ml", "mmol", "umol", "µmol", "mol", "fl", "kg", "m2", "mg", "ui", "min")
    + ("mmhg", "mm3", "c")
)


def _condition_words(f: Fact, output_facts: Sequence[Fact]) -> frozenset[str]:
    """The words of a condition's mention, without the numbers, units and lab values the NER
    took with it ("Insuffisance rénale chronique (DFG 38": no "dfg", no "38")."""
    text = list(f.text)
    for lab in output_facts:
        if lab.kind == "lab" and lab.start < f.end and f.start < lab.end:
            for i in range(max(lab.start, f.start), min(lab.end, f.end)):
                text[i - f.start] = " "
    words = _words("".join(text)).split()
    return frozenset(w for w in words if not any(c.isdigit() for c in w) and w not in _UNIT_WORDS)


def _by_value(
    f: Fact, source_facts: Sequence[Fact], output_facts: Sequence[Fact] = ()
) -> Flag | None | Literal[False]:
    """A condition no source fact names, judged by the values the sources give
    (grounding_rules.yaml): no flag (None) when a value backs it, a flag when the values
    contradict it, False when no rule applies or the sources give no such value."""
    words = _condition_words(f, output_facts)
    applicable = [r for r in rules().conclusions if r.names(f.keys, words)]
    judged = [(r, _lab_values(source_facts, r)) for r in applicable]
    judged = [(r, values) for r, values in judged if values]
    if not judged:
        return False
    what = f.absence_of or f.text
    if not f.negated:
        wrong = [
            (r, values)
            for r, values in judged
            if not any(r.holds(v.value) for v in values if v.value is not None)
        ]
        if wrong:
            r, values = wrong[0]
            message = (
                f"« {what} » non étayé(e) par les sources : {_quote(values)} ({r.threshold_text()})"
            )
            return Flag(f.start, f.end, f.text, f.kind, "value", message)
        # every word of the condition explained by a value: "anémie" by an Hb of 8 g/dL, not
        # "anémie ferriprive", which says more than the Hb
        explained = frozenset().union(*(r.words | r.also for r, _ in judged))
        if words <= explained or (f.absence_of and _words(f.absence_of) in explained):
            return None
        return False
    backing = [
        (r, [v for v in values if v.value is not None and r.holds(v.value)]) for r, values in judged
    ]
    contradicting = [(r, vs) for r, vs in backing if vs]
    if not contradicting:
        return None
    r, values = contradicting[0]
    message = (
        f"{r.condition} niée ici (« {f.text} ») mais les sources donnent {_quote(values)} "
        f"({r.threshold_text()})"
    )
    return Flag(f.start, f.end, f.text, f.kind, "negation", message)


def judge(output_facts: Sequence[Fact], source_facts: Sequence[Fact]) -> list[Flag]:
    """The flags of ``output_facts`` against ``source_facts`` (see the module's docstring)."""
    flags: list[Flag] = []
    for f in output_facts:
        matching = [s for s in source_facts if _match(f, s)]
        what = _WHAT[f.kind]
        if f.test is not None:
            # a result is only compared with the sources' results of the same test
            if matching and not any(s.negated == f.negated for s in matching):
                here, there = ("négatif", "positif") if f.negated else ("positif", "négatif")
                message = f"résultat {here} ici mais {there} dans les sources ({_quote(matching)})"
                flags.append(Flag(f.start, f.end, f.text, f.kind, "negation", message))
            continue
        if not matching:
            verdict = _by_value(f, source_facts, output_facts) if f.kind == "condition" else False
            if verdict is False:
                flags.append(
                    Flag(f.start, f.end, f.text, f.kind, "absent", f"{what} absent(e) des sources")
                )
            elif verdict is not None:
                flags.append(verdict)
            continue
        same_polarity = [s for s in matching if s.negated == f.negated]
        if not same_polarity:
            if f.absence_of:
                message = f"{f.absence_of} niée ici (« {f.text} ») mais affirmée dans les sources"
            elif not f.negated:
                message = f"{what} affirmé(e) ici mais nié(e) dans les sources"
            else:
                message = f"{what} nié(e) ici mais affirmé(e) dans les sources"
            message += f" ({_quote(matching)})"
            flags.append(Flag(f.start, f.end, f.text, f.kind, "negation", message))
            continue
        if f.kind == "drug" and f.intakes:
            flag = _judge_doses(f, same_polarity)
            if flag is not None:
                flags.append(flag)
        elif f.kind == "lab" and f.doses:
            # every value the sources give for it, not the first of each mention only
            backed = [d for s in same_polarity for d in s.doses]
            unbacked = [d for d in f.doses if not any(_same_value(d, b) for b in backed)]
            if not unbacked:
                continue
            given = sorted({_show(d) for d in backed})
            shown = ", ".join(_show(d) for d in unbacked)
            message = (
                f"valeur {shown} différente des sources ({', '.join(given)})"
                if given
                else f"valeur {shown} absente des sources"
            )
            flags.append(Flag(f.start, f.end, f.text, f.kind, "value", message))
    return flags


def _judge_doses(f: Fact, same_polarity: Sequence[Fact]) -> Flag | None:
    """A drug's doses against every dose the sources give for it (every dose of every
    mention), per intake or per day."""
    backed = [i for s in same_polarity for i in s.intakes]
    unbacked = [i for i in f.intakes if not any(_same_intake(i, b) for b in backed)]
    if not unbacked:
        return None
    given = list(dict.fromkeys(_show_intake(i) for i in backed))
    shown = ", ".join(_show_intake(i) for i in unbacked)
    message = (
        f"dose {shown} différente des sources ({', '.join(given)})"
        if given
        else f"dose {shown} absente des sources"
    )
    return Flag(f.start, f.end, f.text, f.kind, "dose", message)


def check(
    output_text: str, sources: Sequence[SourceText], *, nlp: Any, batch_size: int = 16
) -> GroundingReport:
    """Run the NLP on the output and the sources; flag the output's unbacked facts.

    ``nlp`` is the pipeline of :func:`hopia.data.nlp.get_nlp` (the service passes it, built
    from the installation's cache)."""
    from hopia.data.nlp import extract

    texts = [output_text, *(s.text for s in sources)]
    found = list(extract(texts, nlp=nlp, batch_size=batch_size))
    output_facts = facts(found[0], output_text)
    source_facts = [
        f for s, entities in zip(sources, found[1:], strict=True) for f in facts(entities, s.text)
    ]
    return GroundingReport(len(output_facts), tuple(judge(output_facts, source_facts)))
