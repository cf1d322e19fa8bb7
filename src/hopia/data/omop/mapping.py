"""From NLP mentions to OMOP rows.

Every mention goes to ``note_nlp`` with its qualifiers. Mentions that are affirmed, about the
patient and not hypothetical also become clinical facts: conditions (CIM-10 codes, EDS-NLP
comorbidities, COVID), drug exposures (ATC, with their posology), measurements (LOINC-coded
labs and vitals, scores, and tests with a qualitative result: "sérologie VIH négative" is a
measurement whose ``value_as_concept_id`` is Negative) and observations (TNM, ADICAP, alcohol,
tobacco). History mentions are
facts about the patient too: they are kept, with ``condition_status_source_value =
'antecedent'``.

One fact per mention: where several pipes coded the same words, ``hopia.zones`` chose the most
specific mention (a precise code over a Charlson item's code or a sign, then the longest,
then exact CIM-10 over a comorbidity named as what it is over a concept of the term lexicon;
:func:`hopia.data.nlp.pipes.zones.zones.resolve_overlaps`) and marked the others
``same_mention_as``; they stay in ``note_nlp`` only. A ``hopia.terms`` disorder mention is a
fact when it won over a coding pipe's mention (``supersedes``: "hépatite C" is B18.2, not the
B15.9 of the word "hépatite") or names a disease of Hopia's lexicon (:func:`terms_fact`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from hopia.data.omop.concepts import NLP, RESULT_CONCEPTS, cim10_display

# EDS-NLP comorbidity pipes -> a representative CIM-10 code (category level).
COMORBIDITY_CIM10 = {
    "aids": "B24",
    "cerebrovascular_accident": "I64",
    "ckd": "N18",
    "congestive_heart_failure": "I50",
    "connective_tissue_disease": "M35",
    "copd": "J44",
    "dementia": "F03",
    "diabetes": "E14",
    "hemiplegia": "G81",
    "leukemia": "C95",
    "liver_disease": "K76",
    "lymphoma": "C85",
    "myocardial_infarction": "I21",
    "peptic_ulcer_disease": "K27",
    "solid_tumor": "C80",
    "covid": "U07.1",
}
# Pipes whose mentions span several CIM-10 chapters: EDS-NLP's Charlson "peripheral vascular
# disease" gathers hypertension, pulmonary embolism, thrombosis and arteritis. hopia.zones
# gives each mention the code of what it names (attributes["cim10"]: "HTA" is I10); the others
# get a local concept in the "EDS-NLP" vocabulary instead of a misleading CIM-10 code.
COMORBIDITY_LOCAL = {"peripheral_vascular_disease": "Maladie vasculaire (Charlson, EDS-NLP)"}
OBSERVATION_LABELS = {"tnm", "adicap", "alcohol", "tobacco"}
# Alcohol and tobacco use: observations (the alcohol and tobacco pipes), not a lexicon condition.
TERMS_OBSERVATIONS = ("F10", "F17")
# Statuses of chapter Z a clinician codes as the patient's condition when the lexicon names
# them: asymptomatic HIV infection ("séropositif pour le VIH", "VIH +").
TERMS_STATUS_FACTS = ("Z21",)
# Acute myocardial infarction (CIM-10: 4 weeks or less) and a later one; told as history, an
# old infarction.
ACUTE_ONLY = ("I21", "I22")
OLD_INFARCTION = "I252"
NOT_FACTS = {"date", "duration", "sections"}


class Mention(Protocol):
    """What mapping needs from an NLP entity (``hopia.data.nlp.Entity`` satisfies it)."""

    start: int
    end: int
    label: str
    text: str
    negation: bool
    hypothesis: bool
    family: bool
    history: bool
    reported_speech: bool
    codes: dict[str, str]
    pipe: str
    lexical_variant: str
    section: str | None
    value: Any
    unit: str | None
    category: str | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class NoteContext:
    note_id: int
    person_id: int
    visit_occurrence_id: int | None
    note_date: date


def is_fact(m: Mention) -> bool:
    """Affirmed, about the patient, not hypothetical."""
    return not (m.negation or m.hypothesis or m.family)


def coded_concept(m: Mention, note_date: date | None = None) -> tuple[str, str] | None:
    """(vocabulary, code) for a mention, when it has one; ``note_date`` dates the note (an
    infarction of the history dated within the month before it is still acute)."""
    attributes = m.attributes or {}
    if m.label == "cim10" and m.codes.get("cim10"):
        # hopia.zones may have read a narrower code from the words around the label
        return "CIM10", _told_as_past(
            m, note_date, str(attributes.get("cim10") or m.codes["cim10"])
        )
    if m.label in COMORBIDITY_CIM10 or m.label in COMORBIDITY_LOCAL:
        # hopia.zones names the narrower concept a Charlson item's mention stands for ("HTA":
        # I10, "fibrillation auriculaire": I48), else the item's own code
        narrower = attributes.get("cim10")
        if narrower:
            return "CIM10", _told_as_past(m, note_date, str(narrower))
        if m.label in COMORBIDITY_CIM10:
            return "CIM10", _told_as_past(m, note_date, COMORBIDITY_CIM10[m.label])
        return "EDS-NLP", m.label
    if m.pipe == "terms" and m.category == "DISO" and attributes.get("cim10"):
        return "CIM10", _told_as_past(m, note_date, str(attributes["cim10"]))
    if m.codes.get("atc"):
        return "ATC", m.codes["atc"]
    if m.codes.get("loinc"):
        return "LOINC", m.codes["loinc"]
    return None


def _told_as_past(m: Mention, note_date: date | None, code: str) -> str:
    """The CIM-10 code (dotted) of a mention, an infarction told as history made old.

    CIM-10's I21 is an infarction "of 4 weeks or less"; one in the patient's history (the
    history qualifier: an *Antécédents* section, "antécédent de") is an old infarction, I25.2,
    unless the words around it say it is recent (``attributes["acute"]``: "IDM récent") or
    its line dates it within the month before the note (``attributes["when"]``: "en février
    2020" in a note of March 2020).
    """
    compact = code.replace(".", "").upper()
    attributes = m.attributes or {}
    if (
        compact.startswith(ACUTE_ONLY)
        and m.history
        and not attributes.get("acute")
        and not _within_a_month(str(attributes.get("when") or ""), note_date)
    ):
        compact = OLD_INFARCTION
    return cim10_display(compact)


def _within_a_month(when: str, note_date: date | None) -> bool:
    """An event dated ``when`` ("2020-02") is in the note's month or the month before."""
    year, _, month = when.partition("-")
    if note_date is None or not (year.isdigit() and month.isdigit()):
        return False
    months = (note_date.year - int(year)) * 12 + note_date.month - int(month)
    return 0 <= months <= 1


def target_table(m: Mention) -> str | None:
    """The clinical table a fact goes to, or None when it stays in note_nlp only."""
    if not is_fact(m) or m.label in NOT_FACTS:
        return None
    if m.label in COMORBIDITY_CIM10 or m.label in COMORBIDITY_LOCAL or m.label == "cim10":
        # one fact per mention: hopia.zones marks the mention another pipe wrote on the same
        # words ("diabète de type 2": hopia.cim10's E11 is the fact, eds.diabetes' is not)
        attributes = m.attributes or {}
        if attributes.get("same_mention_as") or attributes.get("not_a_condition"):
            return None
        return "condition_occurrence"
    if m.pipe == "terms" and coded_concept(m) is not None:
        return "condition_occurrence" if terms_fact(m.attributes or {}) else None
    if m.codes.get("atc"):
        return "drug_exposure"
    if m.label in OBSERVATION_LABELS:
        return "observation"
    if isinstance(m.value, int | float) and not isinstance(m.value, bool):
        return "measurement"
    if qualitative_result(m) is not None:
        return "measurement"
    return None


def terms_fact(attributes: dict[str, Any]) -> bool:
    """Whether a coded disorder mention of ``hopia.terms`` is a condition fact.

    Never when another pipe's mention of the same words won (``same_mention_as``). Yes when it
    won over a coding pipe's mention (``supersedes``: "hépatite C", B18.2, over "hépatite").
    Alone, only a disease of Hopia's curated lexicon: a CIM-10 code outside chapters R (signs
    and symptoms, which the lexicon lists by the hundred and which stay mentions) and Z
    (encounters and circumstances), nor alcohol or tobacco use (F10, F17: observations of
    their own pipes), and not an ambiguous acronym ("MRC 4/5" is a strength score); a CIM-10
    label is the ``cim10`` pipe's to write.
    """
    if attributes.get("same_mention_as") or attributes.get("not_a_condition"):
        return False
    if attributes.get("supersedes"):
        return True
    code = str(attributes.get("cim10") or "")
    return (
        attributes.get("vocabulary") == "HOPIA"
        and (code[:1] not in ("", "R", "Z") or code.startswith(TERMS_STATUS_FACTS))
        and not code.startswith(TERMS_OBSERVATIONS)
        and not attributes.get("ambiguous")
    )


def qualitative_result(m: Mention) -> int | None:
    """The "Meas Value" concept of a test's written result ("négative" -> 9189), if any."""
    return RESULT_CONCEPTS.get(str((m.attributes or {}).get("result")))


def modifiers(m: Mention) -> str:
    """Qualifiers and attributes as JSON, always valid and within note_nlp's 2,000 characters."""
    values = {
        "label": m.label,
        "pipe": m.pipe,
        "negation": m.negation,
        "hypothesis": m.hypothesis,
        "family": m.family,
        "history": m.history,
        "reported_speech": m.reported_speech,
        "codes": m.codes,
        "section": m.section,
        "value": m.value,
        "unit": m.unit,
        "category": m.category,
        "attributes": m.attributes,
    }
    encoded = json.dumps(values, ensure_ascii=False, default=str)
    if len(encoded) > 2000:  # long free-text attributes go first, the qualifiers stay
        values |= {"section": None, "value": str(m.value)[:200] if m.value is not None else None}
        values["attributes"] = {k: str(v)[:100] for k, v in list(m.attributes.items())[:10]}
        values["codes"] = {k: str(v)[:100] for k, v in list(m.codes.items())[:10]}
        encoded = json.dumps(values, ensure_ascii=False, default=str)
    return encoded


def note_nlp_row(
    m: Mention, ctx: NoteContext, note_nlp_id: int, concept_id: int, system: str, text: str
) -> dict[str, Any]:
    lo, hi = max(0, m.start - 60), min(len(text), m.end + 60)
    return {
        "note_nlp_id": note_nlp_id,
        "note_id": ctx.note_id,
        "section_concept_id": 0,
        "snippet": text[lo:hi].replace("\n", " ")[:250],
        "offset": f"{m.start}-{m.end}",
        "lexical_variant": m.text[:250],
        "note_nlp_concept_id": concept_id,
        "note_nlp_source_concept_id": concept_id,
        "nlp_system": system,
        "nlp_date": date.today(),
        "term_exists": "Y" if is_fact(m) else "N",
        "term_temporal": "history" if m.history else "present",
        "term_modifiers": modifiers(m),
    }


def fact_row(table: str, m: Mention, ctx: NoteContext, row_id: int, concept_id: int) -> dict:
    """The clinical row for a fact; ``concept_id`` is 0 when the mention has no code."""
    base = {"person_id": ctx.person_id, "visit_occurrence_id": ctx.visit_occurrence_id}
    source = m.text[:50]
    if table == "condition_occurrence":
        return base | {
            "condition_occurrence_id": row_id,
            "condition_concept_id": concept_id,
            "condition_start_date": ctx.note_date,
            "condition_type_concept_id": NLP,
            "condition_source_value": source,
            "condition_source_concept_id": concept_id,
            "condition_status_source_value": "antecedent" if m.history else None,
        }
    if table == "drug_exposure":
        return base | _drug_exposure(m, ctx, row_id, concept_id)
    if table == "measurement":
        a = m.attributes or {}
        number = _is_number(m.value)
        return base | {
            "measurement_id": row_id,
            "measurement_concept_id": concept_id,
            "measurement_date": ctx.note_date,
            "measurement_type_concept_id": NLP,
            "value_as_number": float(m.value) if number else None,
            # a test's written result ("négative"): the standard "Meas Value" concept
            "value_as_concept_id": qualitative_result(m),
            # the LOINC code for hopia.labs readings, the EDS-NLP label for scores, the test's
            # words for a qualitative result
            "measurement_source_value": (m.codes.get("loinc") or (m.label if number else source))[
                :50
            ],
            "measurement_source_concept_id": concept_id,
            "unit_source_value": (m.unit or "")[:50] or None,
            "range_low": _float_or_none(a.get("ref_low")),
            "range_high": _float_or_none(a.get("ref_high")),
            "value_source_value": source if number else str(a.get("result"))[:50],
        }
    if table == "observation":
        return base | {
            "observation_id": row_id,
            "observation_concept_id": 0,
            "observation_date": ctx.note_date,
            "observation_type_concept_id": NLP,
            "value_as_string": str(m.codes.get(m.label) or m.value or m.text)[:60],
            "observation_source_value": m.label[:50],
            "value_source_value": source,
        }
    raise ValueError(f"no mapping to {table}")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _float_or_none(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _drug_exposure(m: Mention, ctx: NoteContext, row_id: int, concept_id: int) -> dict:
    """A drug mention with the posology hopia.posology read after it (dose, route, sig…)."""
    a = m.attributes or {}
    days = a.get("duration_days")
    days = int(days) if isinstance(days, int | float) and 1 <= days <= 365 else None
    end = ctx.note_date
    if days:  # OMOP: end = start + days_supply - 1, never after today
        end = max(ctx.note_date, min(ctx.note_date + timedelta(days=days - 1), date.today()))
    return {
        "drug_exposure_id": row_id,
        "drug_concept_id": concept_id,
        "drug_exposure_start_date": ctx.note_date,
        "drug_exposure_end_date": end,
        "drug_type_concept_id": NLP,
        "drug_source_value": m.text[:50],
        "drug_source_concept_id": concept_id,
        "quantity": _float_or_none(a.get("dose")),
        "dose_unit_source_value": (a.get("dose_unit") or "")[:50] or None,
        "route_source_value": (a.get("route") or "")[:50] or None,
        "sig": a.get("posology_text") or None,
        "days_supply": days,
    }


ID_COLUMN = {
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "note_nlp": "note_nlp_id",
}
