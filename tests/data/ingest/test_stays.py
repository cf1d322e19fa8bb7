"""Stays in the ingest: the documents of one stay number (NDA) make one visit_occurrence.

The pipeline runs with the rule-based pseudonymiser and no NLP (what is tested is the visits),
against DuckDB and, when one answers, PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import String, Text, func, or_, select

from hopia.data.ingest.pipeline import IngestPipeline
from hopia.data.omop import concepts as c
from hopia.data.omop.mapping import Mention
from hopia.data.omop.research_ids import pseudonymous_stay_id
from hopia.data.pseudo import Pseudonymiser
from hopia.platform.warehouse import Warehouse, schema

SECRET = b"stays-test-secret-0123456789abcdef"
NDA = "24001234"
IPP, OTHER_IPP = "8000123456", "8000654321"


def _no_mentions(
    texts: Sequence[str], _ner: Sequence[list[tuple[int, int, str]] | None]
) -> list[list[Mention]]:
    return [[] for _ in texts]


def _pipeline(wh: Warehouse, batch_size: int) -> IngestPipeline:
    return IngestPipeline(
        warehouse=wh,
        pseudonymiser=Pseudonymiser(SECRET, use_model=False),
        extract=_no_mentions,
        system="test-stays",
        secret=SECRET,
        batch_size=batch_size,
    )


def _write(folder: Path, name: str, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    return path


# One stay: admitted through the ER on 2 March, a lab report on the 5th, discharged on the 8th.
STAY = [
    {
        "id": "er",
        "patient_id": IPP,
        "date": "2024-03-02",
        "type": "urgences",
        "text": "Passage aux urgences pour dyspnée. Hospitalisation en cardiologie.",
        "visit_id": NDA,
        "visit_start": "2024-03-02",
        "service": "Urgences",
    },
    {
        "id": "bio",
        "patient_id": IPP,
        "date": "2024-03-05",
        "type": "biologie",
        "text": "Créatinine 180 µmol/L. Hémoglobine 9,8 g/dL.",
        "visit_id": NDA,
        "service": "Cardiologie",
    },
    {
        "id": "crh",
        "patient_id": IPP,
        "date": "2024-03-08",
        "type": "CRH",
        "text": "Compte rendu d'hospitalisation : décompensation cardiaque, sortie ce jour.",
        "visit_id": NDA,
        "visit_start": "2024-03-02",
        "visit_end": "2024-03-08",
        "service": "Cardiologie",
    },
    {  # no stay number: one visit for the day and type, as before
        "id": "cs",
        "patient_id": OTHER_IPP,
        "date": "2024-03-04",
        "type": "consultation",
        "text": "Consultation de suivi, pas de fièvre.",
    },
]


def _visits(wh: Warehouse) -> list[dict]:
    v = schema.CDM["visit_occurrence"]
    with wh.engine.connect() as conn:
        rows = conn.execute(select(v).order_by(v.c.visit_occurrence_id)).mappings().all()
    return [dict(r) for r in rows]


def _notes(wh: Warehouse) -> dict[str, dict]:
    """Notes by the document's external id."""
    n, d = schema.CDM["note"], schema.document
    with wh.engine.connect() as conn:
        rows = conn.execute(
            select(d.c.external_id, n.c.note_date, n.c.visit_occurrence_id).join(
                n, n.c.note_id == d.c.note_id
            )
        ).all()
    return {r.external_id: {"date": r.note_date, "visit": r.visit_occurrence_id} for r in rows}


def _omop_text_hits(wh: Warehouse, needle: str) -> list[str]:
    """Every text column of every research table holding ``needle``."""
    hits: list[str] = []
    with wh.engine.connect() as conn:
        for table in schema.CDM.values():
            columns = [col for col in table.columns if isinstance(col.type, String | Text)]
            if not columns:
                continue
            query = select(func.count()).select_from(table)
            found = conn.execute(query.where(or_(*(c.contains(needle) for c in columns)))).scalar()
            if found:
                hits.append(table.name)
    return hits


@pytest.mark.parametrize("batch_size", [1, 16], ids=["one-per-batch", "one-batch"])
def test_documents_of_a_stay_make_one_visit(wh: Warehouse, tmp_path: Path, batch_size: int) -> None:
    """One batch per document exercises the update of a stay written by an earlier batch."""
    folder = tmp_path / "in"
    _write(folder, "notes.jsonl", STAY)
    with _pipeline(wh, batch_size) as pipeline:
        report = pipeline.run([folder])
        shift = pipeline.pseudonymiser.shift_date
    assert (report.added, report.errors) == (4, [])
    stay_source = pseudonymous_stay_id(SECRET, NDA)

    visits = _visits(wh)
    assert len(visits) == 2
    stay = next(v for v in visits if v["visit_source_value"] == stay_source)
    other = next(v for v in visits if v is not stay)
    # The stay spans admission to discharge, shifted by the patient's offset like the notes.
    assert stay["visit_start_date"] == shift(date(2024, 3, 2), IPP)
    assert stay["visit_end_date"] == shift(date(2024, 3, 8), IPP)
    assert shift(date(2024, 3, 2), IPP) != date(2024, 3, 2)
    assert stay["visit_concept_id"] == c.ER_AND_INPATIENT_VISIT  # admitted through the ER
    notes = _notes(wh)
    assert {notes[k]["visit"] for k in ("er", "bio", "crh")} == {stay["visit_occurrence_id"]}
    assert notes["bio"]["date"] == shift(date(2024, 3, 5), IPP)
    # The service of the inpatient documents is the stay's care site.
    cs = schema.CDM["care_site"]
    with wh.engine.connect() as conn:
        sites = dict(conn.execute(select(cs.c.care_site_id, cs.c.care_site_name)).all())
    assert sites[stay["care_site_id"]] == "Cardiologie"
    # Without a stay number: one visit for the day and document type, as before.
    assert other["visit_source_value"] == "consultation"
    assert other["visit_start_date"] == other["visit_end_date"] == notes["cs"]["date"]
    assert other["visit_concept_id"] == c.OUTPATIENT_VISIT and other["care_site_id"] is None
    # The NDA is an identifier: no research table holds it.
    assert stay_source.startswith("V") and NDA not in stay_source
    assert _omop_text_hits(wh, NDA) == []


def test_rerun_is_idempotent_and_a_later_document_extends_the_stay(
    wh: Warehouse, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _write(folder, "notes.jsonl", STAY)
    with _pipeline(wh, 2) as pipeline:
        pipeline.run([folder])
        before = _visits(wh)
        again = pipeline.run([folder])
        assert (again.added, again.duplicates) == (0, 4)
        assert _visits(wh) == before
        # A letter written after discharge of the same stay, in a later run: same visit, and
        # its date (there is no visit_end on it) extends the stay.
        late = {
            "id": "late",
            "patient_id": IPP,
            "date": "2024-03-11",
            "type": "courrier",
            "text": "Courrier de sortie adressé au médecin traitant.",
            "visit_id": NDA,
        }
        _write(folder, "late.jsonl", [late])
        assert pipeline.run([folder]).added == 1
        shift = pipeline.pseudonymiser.shift_date
    after = _visits(wh)
    assert len(after) == len(before) == 2
    stay = next(v for v in after if v["visit_source_value"].startswith("V"))
    assert stay["visit_start_date"] == shift(date(2024, 3, 2), IPP)
    assert stay["visit_end_date"] == shift(date(2024, 3, 11), IPP)
    assert _notes(wh)["late"]["visit"] == stay["visit_occurrence_id"]


def test_same_stay_number_of_two_patients_is_two_stays(wh: Warehouse, tmp_path: Path) -> None:
    records = [
        {"id": "a", "patient_id": IPP, "date": "2024-03-02", "type": "CRH", "text": "Sortie.",
         "visit_id": NDA},
        {"id": "b", "patient_id": OTHER_IPP, "date": "2024-03-02", "type": "CRH",
         "text": "Sortie ce jour.", "visit_id": NDA},
    ]  # fmt: skip
    _write(tmp_path / "in", "notes.jsonl", records)
    with _pipeline(wh, 16) as pipeline:
        assert pipeline.run([tmp_path / "in"]).added == 2
    visits = _visits(wh)
    assert len(visits) == 2 and len({v["person_id"] for v in visits}) == 2
    assert len({v["visit_source_value"] for v in visits}) == 1  # the same keyed hash
