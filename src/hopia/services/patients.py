"""Patients service: one patient's identity, stays and timeline, in the identified space.

For a clinician of the patient's services (perimeter: the care sites of the patient's stays),
or outside it by breaking the glass (a reason, a role allowed by the installation, the audit
entry flagged). The research space stores dates shifted by a secret per-patient offset; this
view moves them back (the offset is derived from the pseudonymisation secret and the IPP, as
the ingest derived it), so the clinician reads real dates. The read and its audit entry
(``patient.view``) commit together, in one transaction with the perimeter check.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Float, Integer, String, cast, literal, null, select, union_all

from hopia.platform import audit
from hopia.platform.access import Purpose
from hopia.platform.exceptions import NotFoundError
from hopia.platform.identity.roles import BREAK_GLASS
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request

ACTION = "patient.identified"


class PatientRequest(Request):
    person_id: int
    break_glass_reason: str | None = None


class Identity(BaseModel):
    ipp: str
    family_name: str | None
    given_name: str | None
    birth_date: date | None
    sex: str | None


class Stay(BaseModel):
    visit_occurrence_id: int
    start: date | None
    end: date | None
    care_site_id: int | None
    care_site: str | None


EventKind = Literal["document", "condition", "drug", "measurement"]


class TimelineEvent(BaseModel):
    kind: EventKind
    date: date | None
    label: str
    concept_id: int | None = None
    concept_name: str | None = None
    """The vocabulary's name of the concept, when the warehouse holds it (lab values)."""
    note_id: int | None = None
    value: float | None = None
    unit: str | None = None
    range_low: float | None = None
    range_high: float | None = None


class PatientView(BaseModel):
    person_id: int
    identity: Identity
    stays: list[Stay]
    timeline: list[TimelineEvent]
    break_glass: bool = False
    audit_id: int


def _unshift(shifted: date | None, offset: int) -> date | None:
    """A research-space date moved back (inverse of the ingest's shift_date)."""
    if shifted is None:
        return None
    try:
        return shifted - timedelta(days=offset)
    except OverflowError:  # the ingest shifted the other way at year 1 or 9999
        return shifted + timedelta(days=offset)


def view_patient(ctx: Context, request: PatientRequest) -> PatientView:
    """Identity, stays and timeline (documents, conditions, drugs, lab values) of a patient.

    One transaction: the patient is looked up, the policy judges the perimeter on it (the
    patient's stays as this transaction sees them), the record is read and its audit entry
    appended; nothing is returned unless they all commit."""
    resource = f"person:{request.person_id}"
    patient = schema.patient
    from hopia.data.pseudo.surrogates import Surrogates  # axis 1, loaded when used

    surrogates = Surrogates(ctx.secret())
    glass, reason = False, None
    with ctx.warehouse().begin(reads_first=True) as conn:
        known = conn.execute(
            select(patient.c.person_id).where(patient.c.person_id == request.person_id)
        ).first()
        if known is None:  # person ids are sequential: an unknown one says nothing
            raise NotFoundError(f"patient {request.person_id} introuvable", fields=("person_id",))
        if request.break_glass_reason is not None:
            action = ACTION + BREAK_GLASS
            reason = ctx.check_reason(
                request.break_glass_reason, Purpose.BREAK_GLASS, action, resource, conn=conn
            )
            ctx.authorize(action, resource, conn=conn)
            glass = True
        else:
            ctx.authorize(ACTION, resource, conn=conn)
        who = conn.execute(select(patient).where(patient.c.person_id == request.person_id)).one()
        offset = surrogates.date_offset_days(who.ipp)
        stays = _stays(conn, request.person_id, offset)
        timeline = _timeline(conn, request.person_id, offset)
        entry = audit.record(
            conn,
            ctx.actor,
            "patient.view",
            resource,
            reason,
            {
                "person_id": request.person_id,
                "break_glass": glass,
                "stays": len(stays),
                "events": len(timeline),
            },
        )
    identity = Identity(
        ipp=who.ipp,
        family_name=who.family_name,
        given_name=who.given_name,
        birth_date=who.birth_date,
        sex=who.sex,
    )
    return PatientView(
        person_id=request.person_id,
        identity=identity,
        stays=stays,
        timeline=timeline,
        break_glass=glass,
        audit_id=entry.audit_id,
    )


def _stays(conn: Any, person_id: int, offset: int) -> list[Stay]:
    v, cs = schema.CDM["visit_occurrence"], schema.CDM["care_site"]
    rows = conn.execute(
        select(
            v.c.visit_occurrence_id,
            v.c.visit_start_date,
            v.c.visit_end_date,
            v.c.care_site_id,
            cs.c.care_site_name,
        )
        .join(cs, cs.c.care_site_id == v.c.care_site_id, isouter=True)
        .where(v.c.person_id == person_id)
        .order_by(v.c.visit_start_date, v.c.visit_occurrence_id)
    ).all()
    return [
        Stay(
            visit_occurrence_id=r.visit_occurrence_id,
            start=_unshift(r.visit_start_date, offset),
            end=_unshift(r.visit_end_date, offset),
            care_site_id=r.care_site_id,
            care_site=r.care_site_name,
        )
        for r in rows
    ]


def _timeline(conn: Any, person_id: int, offset: int) -> list[TimelineEvent]:
    """Documents, conditions, drugs and lab values of the patient: one statement (a UNION ALL
    of the four tables, the columns a kind lacks left NULL): each statement costs a round of
    parsing and planning, most of a small read's time on DuckDB."""
    cdm = schema.CDM
    note, cond, drug, meas, concept = (
        cdm["note"],
        cdm["condition_occurrence"],
        cdm["drug_exposure"],
        cdm["measurement"],
        cdm["concept"],
    )

    def row(kind: str, when: Any, label: Any, concept_id: Any = None, **more: Any) -> Any:
        none = {
            "note_id": Integer,
            "value": Float,
            "unit": String,
            "range_low": Float,
            "range_high": Float,
            "concept_name": String,
        }
        columns = [
            literal(kind, String).label("kind"),
            when.label("date"),
            label.label("label"),
            (concept_id if concept_id is not None else cast(null(), Integer)).label("concept_id"),
        ]
        columns += [
            (more[name] if name in more else cast(null(), type_)).label(name)
            for name, type_ in none.items()
        ]
        return select(*columns)

    parts = [
        row("document", note.c.note_date, note.c.note_title, note_id=note.c.note_id).where(
            note.c.person_id == person_id
        ),
        # Conditions and drugs: the same three columns (start date, source value, concept).
        row(
            "condition",
            cond.c.condition_start_date,
            cond.c.condition_source_value,
            cond.c.condition_concept_id,
        ).where(cond.c.person_id == person_id),
        row(
            "drug",
            drug.c.drug_exposure_start_date,
            drug.c.drug_source_value,
            drug.c.drug_concept_id,
        ).where(drug.c.person_id == person_id),
        row(
            "measurement",
            meas.c.measurement_date,
            meas.c.measurement_source_value,
            meas.c.measurement_concept_id,
            value=meas.c.value_as_number,
            unit=meas.c.unit_source_value,
            range_low=meas.c.range_low,
            range_high=meas.c.range_high,
            concept_name=concept.c.concept_name,
        )
        .select_from(meas)
        .join(concept, concept.c.concept_id == meas.c.measurement_concept_id, isouter=True)
        .where(meas.c.person_id == person_id),
    ]
    events: list[TimelineEvent] = []
    for r in conn.execute(union_all(*parts)).all():
        if r.kind == "document":
            events.append(
                TimelineEvent(
                    kind="document",
                    date=_unshift(r.date, offset),
                    label=r.label or "document",
                    note_id=r.note_id,
                )
            )
        else:
            events.append(
                TimelineEvent(
                    kind=r.kind,
                    date=_unshift(r.date, offset),
                    label=r.label or "",
                    concept_id=r.concept_id or None,
                    concept_name=r.concept_name,
                    value=r.value,
                    unit=r.unit,
                    range_low=r.range_low,
                    range_high=r.range_high,
                )
            )
    events.sort(key=lambda e: (e.date or date.min, e.kind, e.label))
    return events
