"""``hopia warehouse load-parquet`` without Spark: a small output tree written with pyarrow in the
documented format (docs/spark.md, "Output": tables, natural keys, manifests), loaded on both
engines: ids allocated after the warehouse's own, keys resolved, reruns add nothing, a malformed
or foreign file is refused naming it, with nothing written."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from hopia.data.omop.load_parquet import load_parquet
from hopia.platform.exceptions import OmopLoadError
from hopia.platform.warehouse import Warehouse
from tests.conftest import ENGINES
from tests.platform.pg import engine_warehouse

RUN1 = "20261207T210000000000Z-00000001"
RUN2 = "20261207T220000000000Z-00000002"
RUN3 = "20261207T230000000000Z-00000003"
NOW = datetime(2026, 12, 7, 21, 0)


def _write(out: Path, run: str, tables: dict[str, list[dict]]) -> None:
    """Each table's rows as one Parquet file of ``run``, then its manifest (published)."""
    files: dict[str, list[str]] = {}
    for key, rows in tables.items():
        relative = f"{key}/month=2026-01/part-{run}-00000.parquet"
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), path)
        files[key] = [relative]
    (out / "_manifests").mkdir(parents=True, exist_ok=True)
    manifest = {"format": 1, "run": run, "system": "hopia-nlp test", "files": files}
    (out / "_manifests" / f"{run}.json").write_text(json.dumps(manifest), "utf-8")


def _run1() -> dict[str, list[dict]]:
    note = {
        "note_id": None,
        "person_id": None,
        "note_date": date(2026, 1, 5),
        "note_type_concept_id": 32817,
        "note_class_concept_id": 0,
        "note_title": "CRH",
        "note_text": "Patient [NOM] : diabète de type 2, metformine.",
        "encoding_concept_id": 0,
        "language_concept_id": 0,
        "visit_occurrence_id": None,
        "note_source_value": "doc:00000000000000a1",
        "person_source_value": "P0000000000000a1",
        "visit_source_value": "V0000000000000a1",
        "visit_key": "stay:V0000000000000a1",
    }
    mention = {
        "note_nlp_id": None,
        "note_id": None,
        "lexical_variant": "diabète de type 2",
        "nlp_date": date(2026, 12, 7),
        "nlp_system": "hopia-nlp test",
        "term_exists": "Y",
        "term_modifiers": json.dumps({"label": "diagnostic"}),
        "note_source_value": "doc:00000000000000a1",
        "person_source_value": "P0000000000000a1",
    }
    mentions = [
        mention
        | {
            "note_nlp_concept_id": -1,
            "mention_index": 0,
            "concept_vocabulary": "CIM10",
            "concept_code": "E11",
        },
        mention
        | {
            "lexical_variant": "metformine",
            "note_nlp_concept_id": 0,
            "mention_index": 1,
            "concept_vocabulary": None,
            "concept_code": None,
        },
    ]
    condition = {
        "condition_occurrence_id": None,
        "person_id": None,
        "condition_concept_id": -1,
        "condition_start_date": date(2026, 1, 5),
        "condition_type_concept_id": 32858,
        "condition_status_concept_id": 0,
        "visit_occurrence_id": None,
        "condition_source_value": "E11",
        "note_source_value": "doc:00000000000000a1",
        "person_source_value": "P0000000000000a1",
        "mention_index": 0,
        "concept_vocabulary": "CIM10",
        "concept_code": "E11",
        "visit_source_value": "V0000000000000a1",
        "visit_key": "stay:V0000000000000a1",
    }
    provenance = {
        "table_name": "condition_occurrence",
        "row_id": None,
        "note_id": None,
        "note_nlp_id": None,
        "run_id": None,
        "system": "hopia-nlp test",
        "note_source_value": "doc:00000000000000a1",
        "mention_index": 0,
    }
    visit = {
        "visit_occurrence_id": None,
        "person_id": None,
        "visit_concept_id": 9201,
        "visit_start_date": date(2026, 1, 3),
        "visit_end_date": date(2026, 1, 9),
        "visit_type_concept_id": 32817,
        "visit_source_value": "V0000000000000a1",
        "care_site_id": None,
        "person_source_value": "P0000000000000a1",
        "visit_key": "stay:V0000000000000a1",
        "care_site_source_value": "Diabétologie",
        "care_site_name": "Diabétologie",
    }
    person = {
        "person_id": None,
        "gender_concept_id": 8532,
        "year_of_birth": 1950,
        "month_of_birth": 3,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
        "person_source_value": "P0000000000000a1",
        "gender_source_value": "F",
    }
    patient = {
        "patient_id": None,
        "ipp": "IPP-A1",
        "person_id": None,
        "family_name": "Martin",
        "birth_date": date(1950, 3, 1),
        "sex": "F",
        "updated_at": NOW,
        "person_source_value": "P0000000000000a1",
    }
    document = {
        "document_id": None,
        "content_hash": "00000000000000a1" + "0" * 48,
        "source_path": "docs.parquet",
        "source_ref": "docs.parquet#A1",
        "format": "parquet",
        "status": "done",
        "ipp": "IPP-A1",
        "doc_date": date(2026, 1, 2),
        "doc_type": "CRH",
        "text": "Patient Martin : diabète de type 2, metformine.",
        "note_id": None,
        "run_id": None,
        "ingested_at": NOW,
        "note_source_value": "doc:00000000000000a1",
    }
    error = {
        "document_id": None,
        "content_hash": "e" * 64,
        "source_path": "docs.parquet",
        "source_ref": "docs.parquet#B2",
        "format": "parquet",
        "status": "error",
        "error": "document vide",
        "run_id": None,
        "ingested_at": NOW,
        "note_source_value": None,
    }
    span = {
        "content_hash": document["content_hash"],
        "document_id": None,
        "start_char": 8,
        "end_char": 14,
        "label": "NOM",
        "source": "rules",
        "surrogate": "[NOM]",
    }
    return {
        "omop/note": [note],
        "omop/note_nlp": mentions,
        "omop/condition_occurrence": [condition],
        "omop/hopia_provenance": [provenance],
        "omop/visit_occurrence": [visit],
        "omop/person": [person],
        "hopia_id/patient": [patient],
        "hopia_id/document": [document, error],
        "hopia_id/phi_span": [span],
    }


def _counts(wh: Warehouse) -> dict[str, int]:
    return wh.table_counts()


@pytest.mark.parametrize("engine", ENGINES)
def test_load_resolves_keys_allocates_after_existing_rows_and_reruns_add_nothing(
    engine: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _write(out, RUN1, _run1())
    with engine_warehouse(engine, tmp_path) as wh:
        # Rows already there (a local ingest's ids): the load allocates after them.
        with wh.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO omop.note (note_id, person_id, note_date, note_type_concept_id, "
                    "note_class_concept_id, note_text, encoding_concept_id, language_concept_id, "
                    "note_source_value) VALUES (41, 0, '2026-01-01', 0, 0, 'x', 0, 0, 'doc:old')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO hopia_id.patient (patient_id, ipp, person_id, updated_at) "
                    "VALUES (7, 'IPP-OLD', 70, '2026-01-01')"
                )
            )
        report = load_parquet(wh, out)
        assert report.runs == [RUN1] and report.already == []
        with wh.engine.connect() as conn:
            q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
            [(note_id, person_id, visit_id)] = q(
                "SELECT note_id, person_id, visit_occurrence_id FROM omop.note "
                "WHERE note_source_value = 'doc:00000000000000a1'"
            )
            assert note_id == 42
            assert q("SELECT patient_id, person_id FROM hopia_id.patient WHERE ipp = 'IPP-A1'") == [
                (8, person_id)
            ]
            assert person_id == 71  # after the patients' reserved person ids
            assert q("SELECT person_source_value, year_of_birth FROM omop.person") == [
                ("P0000000000000a1", 1950)
            ]
            [(v_person, site)] = q(
                "SELECT person_id, care_site_id FROM omop.visit_occurrence "
                f"WHERE visit_occurrence_id = {visit_id}"
            )
            assert v_person == person_id
            assert q(f"SELECT care_site_name FROM omop.care_site WHERE care_site_id = {site}") == [
                ("Diabétologie",)
            ]
            nlp = q(
                "SELECT n.note_id, c.vocabulary_id, c.concept_code, n.note_nlp_concept_id "
                "FROM omop.note_nlp n LEFT JOIN omop.concept c "
                "ON c.concept_id = n.note_nlp_concept_id ORDER BY n.note_nlp_id"
            )
            assert [r[:3] for r in nlp] == [(42, "CIM10", "E11"), (42, None, None)]
            assert nlp[0][3] >= 2_000_000_001 and nlp[1][3] == 0
            [(cond_id, cond_person, cond_visit, cond_concept)] = q(
                "SELECT condition_occurrence_id, person_id, visit_occurrence_id, "
                "condition_concept_id FROM omop.condition_occurrence"
            )
            assert (cond_person, cond_visit, cond_concept) == (person_id, visit_id, nlp[0][3])
            [(nlp_id,)] = q("SELECT MIN(note_nlp_id) FROM omop.note_nlp")
            assert q(
                "SELECT table_name, row_id, note_id, note_nlp_id, run_id FROM omop.hopia_provenance"
            ) == [("condition_occurrence", cond_id, 42, nlp_id, report.run_id)]
            docs = q("SELECT status, note_id, run_id FROM hopia_id.document ORDER BY document_id")
            assert sorted(docs, key=str) == sorted(
                [("done", 42, report.run_id), ("error", None, report.run_id)], key=str
            )
            assert q("SELECT label, surrogate FROM hopia_id.phi_span") == [("NOM", "[NOM]")]
            assert q(f"SELECT status FROM omop.hopia_run WHERE run_id = {report.run_id}") == [
                ("done",)
            ]
        before = _counts(wh)
        again = load_parquet(wh, out)
        assert again.runs == [] and again.already == [RUN1] and _counts(wh) == before

        # A second run: the same note again (skipped: already loaded), a new mention-less note
        # of the same stay that widens it, and the error source now ingested.
        run2 = _run1()
        new_note = run2["omop/note"][0] | {
            "note_source_value": "doc:00000000000000b2",
            "note_date": date(2026, 1, 12),
        }
        run2["omop/note"].append(new_note)
        run2["omop/visit_occurrence"][0]["visit_end_date"] = date(2026, 1, 12)
        run2["omop/visit_occurrence"][0]["visit_concept_id"] = 9203  # an ER note of the stay
        fixed = run2["hopia_id/document"][0] | {
            "content_hash": "00000000000000b2" + "0" * 48,
            "source_ref": "docs.parquet#B2",
            "note_source_value": "doc:00000000000000b2",
        }
        run2["hopia_id/document"] = [run2["hopia_id/document"][0], fixed]
        _write(out, RUN2, run2)
        second = load_parquet(wh, out)
        assert second.runs == [RUN2] and second.skipped_notes == 1
        with wh.engine.connect() as conn:
            q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
            assert q("SELECT COUNT(*) FROM omop.note") == [(3,)]
            assert q("SELECT COUNT(*) FROM omop.note_nlp") == [(2,)]  # not loaded twice
            # widened, and emergency + inpatient = "ER and inpatient" (as the OMOP writer)
            assert q(
                "SELECT visit_start_date, visit_end_date, visit_concept_id "
                "FROM omop.visit_occurrence"
            ) == [(date(2026, 1, 3), date(2026, 1, 12), 262)]
            assert q("SELECT status, note_id FROM hopia_id.document ORDER BY document_id") == [
                ("done", 42),
                ("done", 43),
            ]  # the error row of B2 resolved
        # A third run whose note's stay it left unchanged (no visit row): the warehouse's.
        third = run2["omop/note"][1] | {"note_source_value": "doc:00000000000000c3"}
        _write(out, RUN3, {"omop/note": [third]})
        assert load_parquet(wh, out).runs == [RUN3]
        with wh.engine.connect() as conn:
            assert conn.execute(
                text(
                    "SELECT n.visit_occurrence_id = v.visit_occurrence_id, n.person_id = "
                    "v.person_id FROM omop.note n, omop.visit_occurrence v "
                    "WHERE n.note_source_value = 'doc:00000000000000c3'"
                )
            ).all() == [(True, True)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("bad", ["garbage", "foreign", "types"])
def test_a_bad_file_is_refused_naming_it_and_nothing_is_written(
    engine: str, bad: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _write(out, RUN1, _run1())
    target = next((out / "omop" / "note_nlp").rglob("*.parquet"))
    if bad == "garbage":
        target.write_bytes(b"PAR1 this is not a Parquet file")
        expected = "illisible"
    elif bad == "foreign":
        pq.write_table(pa.table({"a": [1], "b": ["x"]}), target)
        expected = "étranger"
    else:
        rows = [r | {"mention_index": "zéro"} for r in _run1()["omop/note_nlp"]]
        pq.write_table(pa.Table.from_pylist(rows), target)
        expected = "mention_index"
    with engine_warehouse(engine, tmp_path) as wh:
        before = _counts(wh)
        with pytest.raises(OmopLoadError) as caught:
            load_parquet(wh, out)
        assert str(target) in caught.value.message and expected in caught.value.message
        assert _counts(wh) == before


def test_cli_load_parquet_writes_an_audit_entry(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hopia.cli.main import app
    from hopia.platform.config import get_settings

    out = tmp_path / "out"
    _write(out, RUN1, _run1())
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["warehouse", "load-parquet", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 exécution(s) chargée(s), 0 déjà chargée(s)" in result.output
    again = runner.invoke(app, ["warehouse", "load-parquet", str(out)])
    assert "0 exécution(s) chargée(s), 1 déjà chargée(s)" in again.output
    missing = runner.invoke(app, ["warehouse", "load-parquet", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "introuvable" in missing.output
    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    with wh.engine.connect() as conn:
        entries = conn.execute(
            text("SELECT target, details FROM hopia_meta.audit_log WHERE action = :a"),
            {"a": "warehouse.load_parquet"},
        ).all()
    wh.close()
    assert len(entries) == 1 and entries[0][0] == "parquet:out"
    assert json.loads(entries[0][1])["runs"] == [RUN1]
