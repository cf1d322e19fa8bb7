"""Figures the demo prints, read back from the warehouse after an ingest run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hopia.data.ingest.pipeline import IngestReport
from hopia.platform.warehouse import Warehouse, schema


@dataclass
class DemoSummary:
    documents: int
    errors: int
    docs_per_second: float
    chars_per_second: float
    persons: int
    mentions_total: int
    mentions_by_label: list[tuple[str, int]]
    qualifier_share: dict[str, float]
    top_conditions: list[tuple[str, str, int]]
    example: tuple[str, str] | None


def demo_summary(wh: Warehouse, report: IngestReport, example_chars: int = 900) -> DemoSummary:
    co, concept = schema.CDM["condition_occurrence"], schema.CDM["concept"]
    with wh.engine.connect() as conn:
        top = conn.execute(
            select(
                concept.c.concept_code,
                concept.c.concept_name,
                func.count(co.c.person_id.distinct()),
            )
            .join(concept, concept.c.concept_id == co.c.condition_concept_id)
            .group_by(concept.c.concept_code, concept.c.concept_name)
            .order_by(func.count(co.c.person_id.distinct()).desc(), concept.c.concept_code)
            .limit(10)
        ).all()
        persons = conn.execute(select(func.count()).select_from(schema.CDM["person"])).scalar()
        doc, note = schema.document, schema.CDM["note"]
        row = (
            conn.execute(
                select(doc.c.text, note.c.note_text)
                .join(note, note.c.note_id == doc.c.note_id)
                .where(doc.c.status == "done", doc.c.doc_type == "CRH")
                .order_by(doc.c.document_id)
                .limit(1)
            ).first()
            or conn.execute(
                select(doc.c.text, note.c.note_text)
                .join(note, note.c.note_id == doc.c.note_id)
                .limit(1)
            ).first()
        )
    total = sum(report.qualifiers.values()) or 1
    return DemoSummary(
        documents=report.added,
        errors=len(report.errors),
        docs_per_second=report.docs_per_second,
        chars_per_second=report.characters / report.seconds if report.seconds else 0.0,
        persons=int(persons or 0),
        mentions_total=sum(report.entities.values()),
        mentions_by_label=report.entities.most_common(),
        qualifier_share={k: v / total for k, v in report.qualifiers.items()},
        top_conditions=[(code, name, int(n)) for code, name, n in top],
        example=(row[0][:example_chars], row[1][:example_chars]) if row else None,
    )
