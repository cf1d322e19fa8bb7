"""Clinical tasks (identified space): the patient record summary and the discharge letter draft.

The service gathers the documents (through the documents service, which checks the perimeter
and audits each read); here they become numbered sources ``[doc N]`` in the prompt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from hopia.assistant import grounding
from hopia.assistant.grounding import SourceText
from hopia.assistant.tasks.base import Task


class PatientSummaryInputs(BaseModel):
    person_id: int


class DischargeLetterInputs(BaseModel):
    visit_id: int


def documents_block(sources: Sequence[SourceText]) -> str:
    if not sources:
        return "(aucun document)"
    return "\n\n".join(
        f"[doc {i}] {s.title or s.id}\n{s.text.strip()}" for i, s in enumerate(sources, 1)
    )


def structured_facts(nlp: Any, sources: Sequence[SourceText]) -> list[dict[str, Any]]:
    """Conditions and drugs (with their dose) the NLP found affirmed in the sources, once each:
    what the discharge letter lists beside the documents."""
    from hopia.data.nlp import extract

    seen: set[frozenset[str]] = set()
    out: list[dict[str, Any]] = []
    texts = [s.text for s in sources]
    for source, entities in zip(sources, extract(texts, nlp=nlp, batch_size=16), strict=True):
        for fact in grounding.facts(entities):
            if fact.negated or fact.kind == "lab" or fact.keys in seen:
                continue
            seen.add(fact.keys)
            code = next((k for k in sorted(fact.keys) if k.startswith(("cim10:", "atc:"))), None)
            out.append(
                {
                    "kind": fact.kind,
                    "text": fact.text,
                    "code": code,
                    "dose": None
                    if fact.value is None
                    else f"{fact.value:g} {fact.unit or ''}".strip(),
                    "source": source.id,
                }
            )
    return out


def facts_block(facts: list[dict[str, Any]]) -> str:
    if not facts:
        return "(aucun fait extrait)"
    kinds = {"condition": "pathologie", "drug": "médicament"}
    lines = []
    for f in facts:
        extra = ", ".join(x for x in (f.get("code"), f.get("dose") and f"dose {f['dose']}") if x)
        lines.append(
            f"- {kinds.get(f['kind'], f['kind'])} : {f['text']}" + (f" ({extra})" if extra else "")
        )
    return "\n".join(lines)


def _summary_variables(
    inputs: PatientSummaryInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    return {
        "patient": data.get("patient", f"dossier n° {inputs.person_id}"),
        "documents": documents_block(sources),
    }


def _letter_variables(
    inputs: DischargeLetterInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    return {
        "stay": data.get("stay", f"séjour n° {inputs.visit_id}"),
        "documents": documents_block(sources),
        "facts": facts_block(data.get("facts", [])),
    }


PATIENT_SUMMARY = Task(
    name="patient_summary",
    title="Synthèse du dossier patient",
    action="task.patient_summary",
    inputs=PatientSummaryInputs,
    variables=_summary_variables,
    needs="patient",
)

DISCHARGE_LETTER = Task(
    name="discharge_letter",
    title="Brouillon de lettre de liaison",
    action="task.discharge_letter",
    inputs=DischargeLetterInputs,
    variables=_letter_variables,
    max_tokens=900,
    needs="visit",
)
