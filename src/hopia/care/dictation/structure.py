"""A dictated text → the sections of a note template and its coded facts, each fact pointing at
the characters and the seconds of audio it came from.

The sections are the ones the clinician said (section commands, :mod:`.conventions`), placed in
the order of the chosen template; text said before any section command goes to the template's
first section; a section the template does not name is kept under its own title, after the
template's. The facts are the coded mentions of Hopia's NLP (conditions with their CIM-10 code,
drugs with their ATC code and posology, lab values with their LOINC code) over the whole text,
with their qualifiers: the dictation structures with the same engine as the ingest, so what the
clinician validates is what the warehouse will hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hopia.care.dictation.conventions import Dictated
from hopia.platform.exceptions import InvalidRequestError


@dataclass(frozen=True)
class Template:
    """A note template: its French title and its sections (label, title), in order."""

    name: str
    title: str
    sections: tuple[tuple[str, str], ...]


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "crh",
            "Compte rendu d'hospitalisation",
            (
                ("motif", "Motif d'hospitalisation"),
                ("antécédents", "Antécédents"),
                ("allergies", "Allergies"),
                ("traitements entrée", "Traitement d'entrée"),
                ("traitement", "Traitement"),
                ("histoire de la maladie", "Histoire de la maladie"),
                ("examens", "Examen clinique"),
                ("examens complémentaires", "Examens complémentaires"),
                ("biologie", "Biologie"),
                ("imagerie", "Imagerie"),
                ("evolution", "Évolution"),
                ("conclusion", "Conclusion"),
                ("traitements sortie", "Traitement de sortie"),
            ),
        ),
        Template(
            "consultation",
            "Compte rendu de consultation",
            (
                ("motif", "Motif de consultation"),
                ("antécédents", "Antécédents"),
                ("traitement", "Traitement"),
                ("histoire de la maladie", "Histoire de la maladie"),
                ("examens", "Examen clinique"),
                ("conclusion", "Conclusion"),
                ("conduite à tenir", "Conduite à tenir"),
            ),
        ),
        Template(
            "operatoire",
            "Compte rendu opératoire",
            (
                ("indication", "Indication"),
                ("installation", "Installation"),
                ("voie d'abord", "Voie d'abord"),
                ("temps opératoire", "Temps opératoire"),
                ("incidents", "Incidents"),
                ("fermeture", "Fermeture"),
                ("suites opératoires", "Suites opératoires"),
            ),
        ),
        Template(
            "ordonnance",
            "Ordonnance",
            (("prescriptions", "Prescriptions"),),
        ),
        Template(
            "lettre_liaison",
            "Lettre de liaison",
            (
                ("motif", "Motif d'hospitalisation"),
                ("antécédents", "Antécédents"),
                ("evolution", "Synthèse du séjour"),
                ("conclusion", "Conclusion"),
                ("traitements sortie", "Traitement de sortie"),
                ("modalites sortie", "Suites à donner"),
            ),
        ),
    )
}


def template(name: str) -> Template:
    """The template called ``name``, or a French error listing the known ones."""
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(TEMPLATES)
        raise InvalidRequestError(
            f"modèle de note inconnu : « {name} » (modèles : {known})", fields=("template",)
        ) from None


#: The coded mentions that are facts: (code system in ``Entity.codes``, kind of fact).
_FACT_CODES = {"cim10": "condition", "atc": "drug", "loinc": "measurement"}
_HEADING = re.compile(r"^(?P<title>[^\n:]{1,60}?) : ", re.M)


@dataclass(frozen=True)
class Fact:
    """A coded fact of the note, ``[start, end)`` in the text, said between ``audio_start``
    and ``audio_end`` seconds (None when typed, not said)."""

    kind: str  # condition, drug, measurement
    label: str
    text: str
    start: int
    end: int
    codes: dict[str, str]
    negation: bool
    hypothesis: bool
    family: bool
    history: bool
    section: str | None
    audio_start: float | None
    audio_end: float | None
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "codes": dict(self.codes),
            "negation": self.negation,
            "hypothesis": self.hypothesis,
            "family": self.family,
            "history": self.history,
            "kind": self.kind,
            "section": self.section,
            "audio_start": self.audio_start,
            "audio_end": self.audio_end,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class StructuredNote:
    template: Template
    text: str
    sections: dict[str, str]  # title → text, in the template's order, then the others
    facts: list[Fact]


def split_sections(text: str, tpl: Template) -> dict[str, str]:
    """The text of each section title, in the template's order; text before any heading goes
    to the template's first section."""
    from hopia.care.dictation.conventions import section_label

    said: dict[str, list[str]] = {}
    titles = dict(tpl.sections)
    marks = list(_HEADING.finditer(text))
    lead = text[: marks[0].start()] if marks else text
    if lead.strip():
        said.setdefault(tpl.sections[0][1], []).append(lead.strip())
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        body = text[m.end() : end].strip()
        spoken = m.group("title").strip()
        label = section_label(spoken)
        title = titles.get(label, spoken[:1].upper() + spoken[1:]) if label else spoken
        if body:
            said.setdefault(title, []).append(body)
    order = [title for _, title in tpl.sections if title in said]
    order += [title for title in said if title not in order]
    return {title: "\n".join(said[title]) for title in order}


def structure(dictated: Dictated, tpl: Template, entities: Iterable[Any]) -> StructuredNote:
    """The note: ``dictated``'s text in ``tpl``'s sections, and the coded facts among
    ``entities`` (Hopia's NLP entities over ``dictated.text``), each with its audio range."""
    facts: list[Fact] = []
    seen: set[tuple[int, int, str]] = set()
    for e in entities:
        for system, kind in _FACT_CODES.items():
            # hopia.terms keeps its disorder's CIM-10 code among its attributes ("HTA": I10)
            code = (e.codes or {}).get(system) or (e.attributes or {}).get(system)
            if not isinstance(code, str) or not code or (e.start, e.end, system) in seen:
                continue
            if any(
                f.codes.get(system) == code and f.start < e.end and e.start < f.end for f in facts
            ):
                continue  # the same concept read twice on one mention (two pipes)
            seen.add((e.start, e.end, system))
            audio = dictated.audio_range(e.start, e.end)
            facts.append(
                Fact(
                    kind=kind,
                    label=e.label,
                    text=e.text,
                    start=e.start,
                    end=e.end,
                    codes={system: code},
                    negation=bool(e.negation),
                    hypothesis=bool(e.hypothesis),
                    family=bool(e.family),
                    history=bool(e.history),
                    section=e.section,
                    audio_start=audio[0] if audio else None,
                    audio_end=audio[1] if audio else None,
                    attributes={
                        k: v
                        for k, v in (e.attributes or {}).items()
                        if k in {"dose", "dose_unit", "frequency", "per_day", "posology_text"}
                    }
                    | ({"value": e.value, "unit": e.unit} if e.value is not None else {}),
                )
            )
    facts.sort(key=lambda f: (f.start, f.end))
    return StructuredNote(
        template=tpl, text=dictated.text, sections=split_sections(dictated.text, tpl), facts=facts
    )
