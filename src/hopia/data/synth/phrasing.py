"""French phrasing helpers and the annotated pieces (conditions, drugs, measurements, dates)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from . import vocab
from .annotate import Drug, Fact, Phi
from .model import Clinician, SynthPatient, Visit
from .vocab_clinical import DIAGNOSES, FEMININE_HEADS, LABS
from .vocab_drugs import DRUGS

T = TypeVar("T")
_VOWELS = set("aeiouyàâäéèêëîïôöùûüœAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒ")
_H_ASPIRE = ("hernie",)


@dataclass
class Ctx:
    """Everything a template needs to write one document."""

    rng: random.Random
    patient: SynthPatient
    visit: Visit
    staff: dict[str, list[Clinician]]
    when: date
    service: str

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def g(self, masculine: str, feminine: str) -> str:
        """Grammatical agreement with the patient's sex."""
        return feminine if self.patient.female else masculine


def elides(text: str) -> bool:
    word = text.split(" ", 1)[0]
    if word.isupper() and len(word) > 1:
        return word[0] in "AEIOUH"
    if word.lower().startswith(_H_ASPIRE):
        return False
    return word[0] in _VOWELS or word[0] in "hH"


def de(text: str) -> str:
    """ "de " or "d'" before ``text``."""
    return "d'" if elides(text) else "de "


def feminine(text: str) -> bool:
    return text.split(" ", 1)[0].lower() in FEMININE_HEADS


# fmt: off
_PLURAL_HEADS = frozenset({
    "métastases", "localisations", "lésions", "chutes", "douleurs", "œdèmes", "nausées",
    "vomissements", "palpitations", "céphalées", "vertiges", "troubles", "nodules",
})
# fmt: on


def plural(text: str) -> bool:
    return text.split(" ", 1)[0].lower() in _PLURAL_HEADS


def un(text: str) -> str:
    """Indefinite article: "un ", "une " or "des "."""
    if plural(text):
        return "des "
    return "une " if feminine(text) else "un "


def d_un(text: str) -> str:
    """ "de" + indefinite article: "d'un ", "d'une " or "de " (plural)."""
    return "de " if plural(text) else "d'" + un(text)


def the(name: str) -> str:
    """Definite article before an establishment's name: "la Clinique", "l'Hôpital", "le CH"."""
    if name.startswith("Clinique"):
        return "la "
    return "l'" if elides(name) else "le "


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def num(value: float, decimals: int) -> str:
    """French decimal comma: 11.2 -> "11,2"."""
    return f"{value:.{decimals}f}".replace(".", ",")


def date_text(rng: random.Random, d: date) -> str:
    roll = rng.random()
    if roll < 0.7:
        return d.strftime("%d/%m/%Y")
    if roll < 0.93:
        return f"{d.day} {vocab.MONTHS_FR[d.month - 1]} {d.year}"
    return d.strftime("%d.%m.%Y")


def month_year(d: date) -> str:
    return f"{vocab.MONTHS_FR[d.month - 1]} {d.year}"


def when(ctx: Ctx, d: date, label: str = "DATE") -> Phi:
    """A date as written in a document, annotated."""
    return Phi(date_text(ctx.rng, d), label)


def cond(
    ctx: Ctx, key: str, *, capital: bool = False, form: int | None = None, **flags: bool
) -> Fact:
    """A condition mention; the main form is used half the time, variants otherwise."""
    dx = DIAGNOSES[key]
    if form is None:
        form = 0 if (len(dx.forms) == 1 or ctx.chance(0.5)) else ctx.rng.randrange(1, len(dx.forms))
    text = dx.forms[form]
    return Fact(cap(text) if capital else text, "condition", dx.code, **flags)


def drug(ctx: Ctx, key: str, pos: int = 0, *, style: int | None = None) -> Drug:
    """A drug name with its posology (the patient's usual one, index ``pos``)."""
    d = DRUGS[key]
    name = d.names[style % len(d.names)] if style is not None else ctx.pick(d.names)
    p = d.posologies[pos % len(d.posologies)]
    return Drug(name, d.atc, p.text, p.fields())


def drug_name(ctx: Ctx, key: str, *, capital: bool = False) -> Fact:
    """A drug mentioned without posology ("sous metformine")."""
    d = DRUGS[key]
    name = d.names[0]
    return Fact(cap(name) if capital else name, "drug", d.atc)


def measure(ctx: Ctx, key: str, value: float | str, *, style: int | None = None) -> Fact:
    """An analyte or vital sign with its value and unit, e.g. "créatinine à 145 µmol/L"."""
    lab = LABS[key]
    name = ctx.pick(lab.names)
    unit = lab.unit
    if key == "ta":
        shown = str(value)
    elif key == "taille" and ctx.chance(0.5):
        value, unit, shown = round(float(value) * 100), "cm", str(round(float(value) * 100))
    else:
        shown = num(float(value), lab.decimals)
    style = ctx.rng.randrange(4) if style is None else style
    if style == 2:  # "Name : value unit", the lab report layout
        name = cap(name)
    sep = (" ", " à ", " : ", " ")[style]
    if key in ("ta", "fc", "spo2", "temperature", "fr", "poids", "taille", "imc") and style == 1:
        sep = " "
    tail = unit if unit == "/min" else (f" {unit}" if unit else "")
    text = f"{name}{sep}{shown}{tail}"
    stored_value: float | str = value if key == "ta" else float(value)
    return Fact(text, "measurement", key, value=stored_value, unit=unit or None)


def person(ctx: Ctx, who: Clinician, *, title: bool = True, upper: bool = True) -> list:
    """Pieces for "Dr Claire MARTIN" (the given name is sometimes reduced to an initial)."""
    family = who.family.upper() if upper else who.family
    pieces: list = [f"{who.title} "] if title else []
    if ctx.chance(0.12):
        pieces += [Phi(who.given[0] + ".", "PRENOM"), " ", Phi(family, "NOM")]
    elif ctx.chance(0.15):
        pieces += [Phi(family, "NOM"), " ", Phi(who.given, "PRENOM")]
    else:
        pieces += [Phi(who.given, "PRENOM"), " ", Phi(family, "NOM")]
    return pieces


def patient_name(ctx: Ctx, *, civility: bool = True, full: bool = True) -> list:
    """Pieces naming the patient, e.g. "Mme Hélène DURAND née LEFEVRE" or "M. Dupont"."""
    p = ctx.patient
    civ = ("Mme " if p.female else "M. ") if civility else ""
    upper = ctx.rng.random() < 0.75
    birth = p.family_name if upper else p.family_display
    used = p.usage_name if p.usage_name else None
    if not full:
        shown = used or p.family_display
        return [civ, Phi(shown.upper() if upper else shown, "NOM")]
    pieces: list = [civ]
    if ctx.chance(0.2):
        pieces += [Phi((used or birth).upper() if upper else (used or birth), "NOM"), " "]
        pieces += [Phi(p.given_name, "PRENOM")]
    else:
        pieces += [Phi(p.given_name, "PRENOM"), " "]
        pieces += [Phi((used or birth).upper() if upper else (used or birth), "NOM")]
    if used:
        pieces += [" née ", Phi(birth, "NOM")]
    return pieces
