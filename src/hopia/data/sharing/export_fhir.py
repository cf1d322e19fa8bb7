"""Write a shared dataset as FHIR R4B Bundles of type ``collection``.

One bundle per patient (or per ``per_bundle`` patients): Patient, Encounter, Condition,
MedicationStatement, Observation (measurements and observations) and Procedure. Every resource
is validated by building it with ``fhir.resources.R4B`` (fhir.resources 8.x puts R5 at the top
level; R4B, release 4.3.0, keeps the R4 structure of these resources and is what Hopia's FHIR
reader uses). An invalid resource stops the export with its type and id.

Code systems: CIM-10 as ``http://hl7.org/fhir/sid/icd-10`` (the ATIH CIM-10 extends the WHO
ICD-10 without changing its codes), SNOMED CT, LOINC, ATC (``http://www.whocc.no/atc``), RxNorm,
UCUM for units. References are ``urn:uuid:`` full URLs, resolved inside the bundle.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from hopia.data.sharing.prepare import SharedDataset
from hopia.data.sharing.quasi import FEMALE, MALE
from hopia.platform.exceptions import SharingError
from hopia.platform.warehouse import schema

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SYSTEMS = {
    "CIM10": ICD10,
    "ICD10": ICD10,
    "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "SNOMED": "http://snomed.info/sct",
    "LOINC": "http://loinc.org",
    "ATC": "http://www.whocc.no/atc",
    "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "UCUM": "http://unitsofmeasure.org",
    "CVX": "http://hl7.org/fhir/sid/cvx",
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_CLASS = {9201: "IMP", 9202: "AMB", 9203: "EMER", 262: "EMER", 581476: "HH"}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


class _Builder:
    def __init__(self, dataset: SharedDataset, export_id: str) -> None:
        self.concepts = dataset.concepts
        self.namespace = uuid.UUID(export_id)

    def url(self, resource_type: str, rid: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, f'{resource_type}/{rid}')}"

    def concept(self, *concept_ids: Any) -> dict[str, Any] | None:
        """A CodeableConcept from the first known concept id, None when none is known."""
        for cid in concept_ids:
            if cid is None or pd.isna(cid) or int(cid) == 0 or int(cid) not in self.concepts.index:
                continue
            row = self.concepts.loc[int(cid)]
            system = SYSTEMS.get(row["vocabulary_id"])
            coding = {"code": str(row["concept_code"]), "display": row["concept_name"]}
            if system:
                return {"coding": [{"system": system, **coding}], "text": row["concept_name"]}
            return {"text": f"{row['vocabulary_id']} {row['concept_code']}: {row['concept_name']}"}
        return None


def _iso(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _clean(value: Any) -> Any:
    """Drop None values and empty containers (FHIR forbids empty elements)."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [v for v in (_clean(v) for v in value) if v not in (None, {}, [])]
    return value


def _number(value: Any) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _by_person(frame: pd.DataFrame) -> dict[int, pd.DataFrame]:
    if frame.empty:
        return {}
    return {int(pid): rows for pid, rows in frame.groupby("person_id", sort=False)}


def _patient_resources(b: _Builder, dataset: SharedDataset) -> Iterator[list[dict[str, Any]]]:
    t = dataset.tables
    groups = {
        name: _by_person(t[name])
        for name in schema.CLINICAL_TABLES[1:]  # every table of the person but person
    }
    locations = t["location"].set_index("location_id") if len(t["location"]) else None
    for person in t["person"].itertuples(index=False):
        pid = int(person.person_id)
        patient_id = f"p-{pid}"
        subject = {"reference": b.url("Patient", patient_id)}
        death = groups["death"].get(pid)
        address = None
        if locations is not None and not pd.isna(person.location_id):
            loc = locations.loc[int(person.location_id)]
            address = [
                {
                    "postalCode": loc["zip"],
                    "state": loc["state"],
                    "country": loc["country_source_value"],
                }
            ]
        gender = {MALE: "male", FEMALE: "female"}.get(int(person.gender_concept_id), "unknown")
        resources = [
            {
                "resourceType": "Patient",
                "id": patient_id,
                "gender": gender,
                "birthDate": None if pd.isna(person.year_of_birth) else str(person.year_of_birth),
                "deceasedDateTime": None if death is None else _iso(death.iloc[0]["death_date"]),
                "address": address,
            }
        ]
        encounters = {}
        for v in _rows(groups["visit_occurrence"].get(pid)):
            rid = f"enc-{v['visit_occurrence_id']}"
            encounters[int(v["visit_occurrence_id"])] = {"reference": b.url("Encounter", rid)}
            code = ENCOUNTER_CLASS.get(int(v["visit_concept_id"] or 0), "AMB")
            resources.append(
                {
                    "resourceType": "Encounter",
                    "id": rid,
                    "status": "finished",
                    "class": {"system": ACT_CODE, "code": code},
                    "type": [b.concept(v["visit_concept_id"])],
                    "subject": subject,
                    "period": {
                        "start": _iso(v["visit_start_date"]),
                        "end": _iso(v["visit_end_date"]),
                    },
                }
            )

        def encounter(row: dict[str, Any], known: dict = encounters) -> dict[str, str] | None:
            vid = row.get("visit_occurrence_id")
            return None if vid is None or pd.isna(vid) else known.get(int(vid))

        for c in _rows(groups["condition_occurrence"].get(pid)):
            code = b.concept(c["condition_concept_id"], c["condition_source_concept_id"])
            if code is None and c["condition_source_value"]:  # generalised CIM-10 value
                value = str(c["condition_source_value"])
                code = {"coding": [{"system": ICD10, "code": value}], "text": f"CIM-10 {value}"}
            end = _iso(c["condition_end_date"])
            resources.append(
                {
                    "resourceType": "Condition",
                    "id": f"cond-{c['condition_occurrence_id']}",
                    "clinicalStatus": {
                        "coding": [{"system": CLINICAL, "code": "resolved" if end else "active"}]
                    },
                    "code": code,
                    "subject": subject,
                    "encounter": encounter(c),
                    "onsetDateTime": _iso(c["condition_start_date"]),
                    "abatementDateTime": end,
                }
            )
        for d in _rows(groups["drug_exposure"].get(pid)):
            dose = _number(d["quantity"])
            resources.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": f"med-{d['drug_exposure_id']}",
                    "status": "completed",
                    "medicationCodeableConcept": b.concept(
                        d["drug_concept_id"], d["drug_source_concept_id"]
                    )
                    or {"text": "médicament non codé"},
                    "subject": subject,
                    "context": encounter(d),
                    "effectivePeriod": {
                        "start": _iso(d["drug_exposure_start_date"]),
                        "end": _iso(d["drug_exposure_end_date"]),
                    },
                    "dosage": [
                        {
                            "doseAndRate": [
                                {
                                    "doseQuantity": {
                                        "value": dose,
                                        "unit": d["dose_unit_source_value"],
                                    }
                                }
                            ]
                        }
                    ]
                    if dose is not None
                    else None,
                }
            )
        for kind in ("measurement", "observation"):
            for m in _rows(groups[kind].get(pid)):
                resources.append(_observation(b, kind, m, subject, encounter(m)))
        for p in _rows(groups["procedure_occurrence"].get(pid)):
            resources.append(
                {
                    "resourceType": "Procedure",
                    "id": f"proc-{p['procedure_occurrence_id']}",
                    "status": "completed",
                    "code": b.concept(p["procedure_concept_id"], p["procedure_source_concept_id"]),
                    "subject": subject,
                    "encounter": encounter(p),
                    "performedDateTime": _iso(p["procedure_date"]),
                }
            )
        yield [_clean(r) for r in resources]


def _rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [
        {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _observation(
    b: _Builder, kind: str, m: dict[str, Any], subject: dict, encounter: dict | None
) -> dict[str, Any]:
    value = _number(m["value_as_number"])
    quantity = None
    if value is not None:
        unit = b.concept(m["unit_concept_id"])
        coding = (unit or {}).get("coding", [{}])[0]
        quantity = {
            "value": value,
            "unit": coding.get("code") or m["unit_source_value"],
            "system": coding.get("system") if coding.get("system") == SYSTEMS["UCUM"] else None,
            "code": coding.get("code") if coding.get("system") == SYSTEMS["UCUM"] else None,
        }
    resource = {
        "resourceType": "Observation",
        "id": f"{'meas' if kind == 'measurement' else 'obs'}-{m[f'{kind}_id']}",
        "status": "final",
        "category": [
            {"coding": [{"system": CATEGORY, "code": "laboratory"}]}
            if kind == "measurement"
            else None
        ],
        "code": b.concept(m[f"{kind}_concept_id"], m[f"{kind}_source_concept_id"])
        or {"text": "non codé"},
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": _iso(m[f"{kind}_date"]),
        "valueQuantity": quantity,
        "valueCodeableConcept": None if quantity else b.concept(m["value_as_concept_id"]),
    }
    if kind == "measurement" and (m["range_low"] is not None or m["range_high"] is not None):
        resource["referenceRange"] = [
            {"low": {"value": _number(m["range_low"])}, "high": {"value": _number(m["range_high"])}}
        ]
    return resource


def validate(resource: dict[str, Any]) -> Any:
    """The R4B model of ``resource``; a French error naming the resource otherwise."""
    kind = resource.get("resourceType", "?")
    try:
        return get_fhir_model_class(kind).model_validate(resource)
    except (ValidationError, KeyError, ValueError) as exc:
        first = str(exc).splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) if len(first) > 1 else str(exc)
        raise SharingError(
            f"ressource FHIR invalide {kind}/{resource.get('id', '?')} : {detail}"
        ) from exc


def write_fhir(
    dataset: SharedDataset, folder: Path, export_id: str, per_bundle: int = 1
) -> dict[str, int]:
    """Write ``bundle-00001.json``…; returns resources per file name."""
    if per_bundle < 1:
        raise SharingError("au moins 1 patient par Bundle FHIR", fields=("per_bundle",))
    folder.mkdir(parents=True, exist_ok=True)
    b = _Builder(dataset, export_id)
    bundle_model = get_fhir_model_class("Bundle")
    counts: dict[str, int] = {}
    batch: list[Any] = []

    def flush() -> None:
        name = f"bundle-{len(counts) + 1:05d}.json"
        bundle_id = str(uuid.uuid5(b.namespace, name))
        bundle = bundle_model.model_validate(
            {
                "resourceType": "Bundle",
                "id": bundle_id,
                "type": "collection",
                "entry": [
                    {"fullUrl": b.url(r.get_resource_type(), r.id), "resource": r} for r in batch
                ],
            }
        )
        data = json.loads(bundle.model_dump_json(exclude_none=True))
        (folder / name).write_text(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        counts[name] = len(batch)
        batch.clear()

    for patients, resources in enumerate(_patient_resources(b, dataset), 1):
        batch.extend(validate(r) for r in resources)
        if patients % per_bundle == 0:
            flush()
    if batch:
        flush()
    return counts
