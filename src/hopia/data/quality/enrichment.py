"""NLP enrichment: what the warehouse knows only from text, next to its structured sources.

A row is "from text" when its type concept is ``NLP`` (32858, what Hopia's NLP writes, see
:mod:`hopia.data.omop.concepts`); every other type concept (EHR, claims…) is a structured
source. A condition is "known only from text" when the same patient has no structured row with
the same ``condition_concept_id``. Until local CIM-10 concepts are mapped to standard ones
(``source_to_concept_map``), a condition coded in SNOMED by a structured source and in CIM-10 by
the NLP counts as text-only: the figures are an upper bound. Counts only, never a row's values.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Connection, and_, case, distinct, exists, func, literal, select

from hopia.data.omop.concepts import ER_VISIT, INPATIENT_VISIT, NLP, OUTPATIENT_VISIT
from hopia.platform.warehouse import Warehouse, schema

T = schema.CDM
# Clinical tables with a type concept: (table, type column).
DOMAINS = tuple(
    (table, f"{schema.event_domain(table)}_type_concept_id")
    for table in schema.CLINICAL_EVENT_TABLES
)
VISIT_LABELS = {
    INPATIENT_VISIT: "Hospitalisation",
    OUTPATIENT_VISIT: "Consultation externe",
    ER_VISIT: "Urgences",
    262: "Urgences puis hospitalisation",
}
NO_VISIT = "Sans séjour"


class DomainEnrichment(BaseModel):
    table: str
    structured_rows: int
    text_rows: int
    persons_structured: int
    persons_text: int
    persons_text_only: int  # persons with text rows and no structured row in this table


class ServiceEnrichment(BaseModel):
    service: str
    persons: int
    structured_rows: int
    text_rows: int
    text_only_rows: int
    persons_text_only: int  # persons with at least one condition known only from text here

    @property
    def text_share(self) -> float:
        total = self.structured_rows + self.text_rows
        return 100.0 * self.text_rows / total if total else 0.0


class EnrichmentReport(BaseModel):
    nlp_type_concept_id: int = NLP
    persons: int
    notes: int
    notes_with_mentions: int
    mentions: int
    mentions_affirmed: int
    condition_pairs_structured: int  # distinct (person, condition concept)
    condition_pairs_text: int
    condition_pairs_text_only: int
    persons_condition_text_only: int  # persons whose conditions all come from text
    domains: list[DomainEnrichment]
    services: list[ServiceEnrichment]  # conditions, by service (care site, else visit type)


def _scalar(conn: Connection, query) -> int:  # noqa: ANN001 - any SELECT of one value
    return int(conn.execute(query).scalar() or 0)


def _domain(conn: Connection, table_name: str, type_column: str) -> DomainEnrichment:
    t = T[table_name]
    is_text = t.c[type_column] == NLP
    structured = select(t.c.person_id).where(~is_text).distinct()
    texts = select(t.c.person_id).where(is_text).distinct()
    counts = conn.execute(
        select(
            func.count(case((~is_text, 1))),
            func.count(case((is_text, 1))),
            func.count(distinct(case((~is_text, t.c.person_id)))),
            func.count(distinct(case((is_text, t.c.person_id)))),
        )
    ).one()
    text_only = select(func.count()).select_from(texts.except_(structured).subquery())
    return DomainEnrichment(
        table=table_name,
        structured_rows=int(counts[0]),
        text_rows=int(counts[1]),
        persons_structured=int(counts[2]),
        persons_text=int(counts[3]),
        persons_text_only=_scalar(conn, text_only),
    )


def _condition_rows():  # noqa: ANN202 - a SQLAlchemy subquery
    """One line per condition row: person, service keys, text flag, text-only flag."""
    co = T["condition_occurrence"]
    same = co.alias("s")
    vo = T["visit_occurrence"].alias("vo")
    cs = T["care_site"].alias("cs")
    is_text = co.c.condition_type_concept_id == NLP
    structured_same = exists().where(
        same.c.person_id == co.c.person_id,
        same.c.condition_concept_id == co.c.condition_concept_id,
        same.c.condition_type_concept_id != NLP,
    )
    return (
        select(
            co.c.person_id,
            case((is_text, 1), else_=0).label("is_text"),
            case((and_(is_text, ~structured_same), 1), else_=0).label("text_only"),
            cs.c.care_site_name,
            vo.c.visit_concept_id,
            case((vo.c.visit_occurrence_id.is_(None), 1), else_=0).label("no_visit"),
        )
        .select_from(
            co.outerjoin(vo, vo.c.visit_occurrence_id == co.c.visit_occurrence_id).outerjoin(
                cs, cs.c.care_site_id == vo.c.care_site_id
            )
        )
        .subquery("rows")
    )


def _service_label(care_site: str | None, visit_concept: int | None, no_visit: int) -> str:
    if no_visit:
        return NO_VISIT
    if care_site:
        return care_site
    if visit_concept in VISIT_LABELS:
        return VISIT_LABELS[visit_concept]
    return f"Séjour (concept {visit_concept})"


def _services(conn: Connection) -> list[ServiceEnrichment]:
    rows = _condition_rows()
    text_only_person = case((rows.c.text_only == 1, rows.c.person_id))
    grouped = conn.execute(
        select(
            rows.c.care_site_name,
            rows.c.visit_concept_id,
            rows.c.no_visit,
            func.count(distinct(rows.c.person_id)),
            func.count(case((rows.c.is_text == 0, 1))),
            func.count(case((rows.c.is_text == 1, 1))),
            func.count(case((rows.c.text_only == 1, 1))),
            func.count(distinct(text_only_person)),
        ).group_by(rows.c.care_site_name, rows.c.visit_concept_id, rows.c.no_visit)
    ).all()
    # Several keys can share a label (two unnamed care sites of the same visit type): merge.
    merged: dict[str, list[int]] = {}
    for care_site, visit_concept, no_visit, *counts in grouped:
        label = _service_label(care_site, visit_concept, no_visit)
        totals = merged.setdefault(label, [0] * len(counts))
        merged[label] = [a + int(b) for a, b in zip(totals, counts, strict=True)]
    services = [
        ServiceEnrichment(
            service=label,
            persons=c[0],  # summed over merged keys: a patient seen in two counts twice
            structured_rows=c[1],
            text_rows=c[2],
            text_only_rows=c[3],
            persons_text_only=c[4],
        )
        for label, c in merged.items()
    ]
    return sorted(services, key=lambda s: (-s.text_only_rows, s.service))


def enrichment_report(wh: Warehouse) -> EnrichmentReport:
    """Text-derived vs structured facts in ``wh``; read-only."""
    co, note, nlp = T["condition_occurrence"], T["note"], T["note_nlp"]
    is_text = co.c.condition_type_concept_id == NLP
    pair = (co.c.person_id, co.c.condition_concept_id)
    structured_pairs = select(*pair).where(~is_text).distinct()
    text_pairs = select(*pair).where(is_text).distinct()
    with wh.engine.connect() as conn:
        domains = [_domain(conn, t, c) for t, c in DOMAINS]
        report = EnrichmentReport(
            persons=_scalar(conn, select(func.count()).select_from(T["person"])),
            notes=_scalar(conn, select(func.count()).select_from(note)),
            notes_with_mentions=_scalar(conn, select(func.count(distinct(nlp.c.note_id)))),
            mentions=_scalar(conn, select(func.count()).select_from(nlp)),
            mentions_affirmed=_scalar(
                conn, select(func.count()).select_from(nlp).where(nlp.c.term_exists == literal("Y"))
            ),
            condition_pairs_structured=_scalar(
                conn, select(func.count()).select_from(structured_pairs.subquery())
            ),
            condition_pairs_text=_scalar(
                conn, select(func.count()).select_from(text_pairs.subquery())
            ),
            condition_pairs_text_only=_scalar(
                conn,
                select(func.count()).select_from(text_pairs.except_(structured_pairs).subquery()),
            ),
            persons_condition_text_only=domains[0].persons_text_only,
            domains=domains,
            services=_services(conn),
        )
        conn.rollback()
    return report
