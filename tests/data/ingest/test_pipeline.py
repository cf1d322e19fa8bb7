"""End-to-end ingest with the real pseudonymiser, the real EDS-NLP pipeline and DuckDB."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hopia.platform.config import get_settings
from hopia.platform.warehouse import Warehouse, schema
from tests.data.ingest.conftest import build

pytestmark = pytest.mark.slow

PATIENTS = [
    {
        "ipp": "8000123456",
        "family_name": "Lemaire",
        "given_name": "Odile",
        "birth_date": "1948-05-17",
        "sex": "F",
        "address": "14 rue des Tanneurs",
        "zip": "35000",
        "city": "Rennes",
        "phone": "06 12 34 56 78",
    },
    {
        "ipp": "8000654321",
        "family_name": "Kerbrat",
        "given_name": "Yann",
        "birth_date": "1961-11-02",
        "sex": "M",
        "city": "Brest",
    },
]
NOTES = [
    (
        "n1",
        "8000123456",
        "2024-03-12",
        "CRH",
        "Compte rendu d'hospitalisation de Mme Odile LEMAIRE, née le 17/05/1948.\n"
        "Antécédents :\nHypertension artérielle traitée. Diabète de type 2.\n"
        "Histoire de la maladie :\nDyspnée depuis 3 jours. Pas de pneumopathie. "
        "Suspicion d'embolie pulmonaire.\nMère diabétique.\n"
        "Traitement : bisoprolol 5 mg par jour, metformine 1000 mg x2/j.\n"
        "Poids 72 kg. Créatinine 145 µmol/L.\nDr Paul MARTIN, CHU de Rennes.",
    ),
    (
        "n2",
        "8000123456",
        "2024-03-20",
        "consultation",
        "Consultation de contrôle de Mme LEMAIRE. Insuffisance cardiaque stable. Pas de fièvre.",
    ),
    (
        "n3",
        "8000654321",
        "2024-04-02",
        "urgences",
        "M. Yann KERBRAT, tél 06 98 76 54 32, vient pour douleur thoracique. Infarctus du myocarde "
        "éliminé. Tabagisme actif à 20 PA.",
    ),
    ("n4", "8000654321", "2024-04-03", "biologie", "Hémoglobine 11,2 g/dL. CRP 56 mg/L."),
]


def write_corpus(folder: Path, notes=NOTES) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    patients = folder / "patients.jsonl"
    patients.write_text(
        "\n".join(json.dumps(p, ensure_ascii=False) for p in PATIENTS) + "\n", "utf-8"
    )
    docs = folder / "docs" / "notes.jsonl"
    docs.parent.mkdir(exist_ok=True)
    lines = [
        json.dumps(
            {"id": i, "text": t, "date": d, "type": k} | ({"patient_id": p} if p else {}),
            ensure_ascii=False,
        )
        for i, p, d, k, t in notes
    ]
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return patients, docs.parent


def count(wh: Warehouse, table) -> int:  # noqa: ANN001
    with wh.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_end_to_end_writes_both_spaces(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    pipeline = build(wh)
    assert pipeline.load_patients(patients) == 2
    report = pipeline.run([docs])
    assert (report.added, report.duplicates, report.errors) == (4, 0, [])

    note, nlp = schema.CDM["note"], schema.CDM["note_nlp"]
    with wh.engine.connect() as conn:
        texts = conn.execute(select(note.c.note_text)).scalars().all()
        persons = conn.execute(select(schema.CDM["person"])).mappings().all()
        modifiers = [json.loads(m) for m in conn.execute(select(nlp.c.term_modifiers)).scalars()]
        originals = conn.execute(select(schema.document.c.text)).scalars().all()
    # Research space: pseudonymised text, pseudonymous ids, no name, no phone, no IPP.
    joined = "\n".join(texts)
    for secret in (
        "LEMAIRE",
        "Lemaire",
        "Odile",
        "KERBRAT",
        "06 98 76 54 32",
        "8000123456",
        "17/05/1948",
    ):
        assert secret not in joined
        assert secret not in json.dumps([dict(p) for p in persons], default=str)
    assert any("LEMAIRE" in t for t in originals)  # identified space keeps the original
    assert {p["gender_concept_id"] for p in persons} == {8507, 8532}
    assert all(p["person_source_value"].startswith("P") for p in persons)
    # Mentions keep their qualifiers; negated and hypothetical ones are not facts.
    labels = {m["label"] for m in modifiers}
    assert {"drug", "cim10"} <= labels
    assert any(m["negation"] for m in modifiers) and any(m["hypothesis"] for m in modifiers)
    assert report.facts["condition_occurrence"] > 0 and report.facts["drug_exposure"] >= 2
    assert count(wh, schema.provenance) == sum(report.facts.values())
    assert count(wh, schema.phi_span) > 0


def test_facts_follow_qualifiers(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    pipeline = build(wh)
    pipeline.load_patients(patients)
    pipeline.run([docs])
    co, concept = schema.CDM["condition_occurrence"], schema.CDM["concept"]
    with wh.engine.connect() as conn:
        sources = conn.execute(select(co.c.condition_source_value)).scalars().all()
        codes = (
            conn.execute(
                select(concept.c.concept_code).join(
                    co, co.c.condition_concept_id == concept.c.concept_id
                )
            )
            .scalars()
            .all()
        )
    lowered = " | ".join(sources).lower()
    assert "pneumopathie" not in lowered  # negated
    assert "embolie" not in lowered  # hypothesis
    assert "infarctus" not in lowered  # "éliminé": negated
    # diabetes (type 2: E11, written once), heart failure: affirmed
    assert {"E11", "I50"} <= set(codes) and "E14" not in codes


def test_rerun_is_idempotent(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    pipeline = build(wh)
    pipeline.load_patients(patients)
    pipeline.run([docs])
    before = wh.table_counts()
    again = build(wh)
    again.load_patients(patients)
    report = again.run([docs])
    assert (report.added, report.duplicates) == (0, 4)
    after = wh.table_counts()
    assert {k: v for k, v in after.items() if k != "omop.hopia_run"} == {
        k: v for k, v in before.items() if k != "omop.hopia_run"
    }


def test_bad_files_are_recorded_and_the_batch_goes_on(wh: Warehouse, tmp_path: Path) -> None:
    patients, docs = write_corpus(tmp_path / "in")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
    (docs / "garbage.txt").write_bytes(os.urandom(2048).replace(b"\x00", b"\x01") + b"\x00\x00")
    with (docs / "notes.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "n9", "text": \n')
    pipeline = build(wh)
    pipeline.load_patients(patients)
    report = pipeline.run([docs])
    assert report.added == 4
    failed = {Path(ref).name for ref, _ in report.errors}
    assert failed == {"broken.pdf", "garbage.txt", "notes.jsonl#L5"}
    doc = schema.document
    with wh.engine.connect() as conn:
        errors = conn.execute(
            select(doc.c.source_ref, doc.c.error).where(doc.c.status == "error")
        ).all()
    assert len(errors) == 3 and all(reason for _, reason in errors)
    build(wh).run([docs])  # rerun: still one error row per source
    assert count(wh, doc) == 4 + 3


def test_crash_mid_batch_then_resume_with_exact_counts(tmp_path: Path) -> None:
    """Kill the ingest process inside its second write transaction, then rerun; with the
    models worker, as in production (it must die with its parent)."""
    notes = [
        (
            f"c{i}",
            "8000654321",
            f"2024-05-{i + 1:02d}",
            "consultation",
            f"Consultation numéro {i}. Hypertension artérielle. Pas de fièvre.",
        )
        for i in range(7)
    ]
    patients, docs = write_corpus(tmp_path / "in", notes)
    env = os.environ | {
        "HOPIA_DATA__NLP__BATCH_SIZE": "2",
        "HOPIA_FAULT_KILL_IN_BATCH": "2",
        "HOPIA_DATA__PSEUDO__MODEL_WORKER": "true",
        "HOPIA_DATA__NLP__NER_WORKER": "true",
    }
    cmd = [sys.executable, "-m", "hopia.cli.main", "ingest", "--patients", str(patients), str(docs)]
    crashed = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    from hopia.platform.warehouse import open_warehouse

    wh = open_warehouse(get_settings())
    assert count(wh, schema.document) == 2  # batch 1 committed, batch 2 rolled back whole
    assert count(wh, schema.CDM["note"]) == 2
    with wh.engine.connect() as conn:
        orphans = conn.execute(
            select(func.count())
            .select_from(schema.CDM["note_nlp"])
            .where(schema.CDM["note_nlp"].c.note_id.not_in(select(schema.CDM["note"].c.note_id)))
        ).scalar()
    assert orphans == 0
    with wh.engine.connect() as conn:  # the killed run could not close itself
        assert conn.execute(select(schema.run.c.status)).scalars().all() == ["running"]
    wh.close()

    env.pop("HOPIA_FAULT_KILL_IN_BATCH")
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert re.search(r"Documents ajoutés\W+5\b", resumed.stdout), resumed.stdout
    assert re.search(r"Déjà présents \(ignorés\)\W+2\b", resumed.stdout), resumed.stdout
    wh = open_warehouse(get_settings())
    assert count(wh, schema.document) == 7 and count(wh, schema.CDM["note"]) == 7
    with wh.engine.connect() as conn:  # the rerun marked the dead run failed
        runs = conn.execute(select(schema.run.c.status).order_by(schema.run.c.run_id)).scalars()
        assert runs.all() == ["failed", "done"]


def _ner_mentions(wh: Warehouse) -> set[tuple[int, str, str]]:
    note, nlp = schema.CDM["note"], schema.CDM["note_nlp"]
    with wh.engine.connect() as conn:
        texts = dict(conn.execute(select(note.c.note_id, note.c.note_text)).all())
        rows = conn.execute(select(nlp.c.note_id, nlp.c.offset, nlp.c.term_modifiers)).all()
    out = set()
    for note_id, offset, modifiers in rows:
        if json.loads(modifiers).get("pipe") != "clinical_ner":
            continue
        start, end = map(int, offset.split("-"))
        out.add((note_id, texts[note_id][start:end], json.loads(modifiers)["label"]))
    return out


def test_clinical_ner_in_the_worker_lands_on_the_pseudonymised_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_worker: None
) -> None:
    """The clinical NER runs on the original text, in the worker or in the main process, and
    its spans are moved onto the pseudonymised text: the same mentions whichever process ran
    it (the worker's share follows the machine's load, the output must not)."""
    patients, docs = write_corpus(tmp_path / "in")
    found = {}
    for offload in ("true", "false"):
        monkeypatch.setenv("HOPIA_DATA__NLP__NER_WORKER", offload)
        get_settings.cache_clear()
        wh = Warehouse(f"duckdb:///{tmp_path / f'{offload}.duckdb'}")
        with build(wh) as pipeline:
            assert (pipeline.model_worker is not None) and pipeline.model_worker.clinical_ner == (
                offload == "true"
            )
            pipeline.load_patients(patients)
            assert pipeline.run([docs]).errors == []
        found[offload] = _ner_mentions(wh)
    offloaded, in_process = found["true"], found["false"]
    texts = {t for _, t, _ in offloaded}
    assert {"pneumopathie", "embolie pulmonaire", "Diabète de type 2"} <= texts
    assert offloaded == in_process


def test_the_worker_runs_the_clinical_ner_on_the_share_it_is_given() -> None:
    from hopia.data.ingest.worker import ModelWorker

    texts = ["Suspicion d'embolie pulmonaire.", "Pneumopathie traitée."]
    worker = ModelWorker(phi_model=False, clinical_ner=True)
    try:
        analysis = worker.submit(texts, ner_count=1).result(timeout=300)
    finally:
        worker.close()
    assert analysis.phi is None
    assert analysis.clinical_ner[1] is None
    assert ("embolie pulmonaire", "DISO") in [
        (texts[0][a:b], g) for a, b, g in analysis.clinical_ner[0]
    ]


def test_the_focused_worker_gives_the_rules_and_the_same_spans_as_the_main_process() -> None:
    """With the model's focus, the worker runs the pseudonymisation rules (the focus needs
    them) and hands them back with the model's spans: the main process does not run them again,
    and detects exactly what it would have detected alone."""
    from hopia.data.ingest.worker import ModelWorker
    from hopia.data.pseudo import Pseudonymiser, detect_rules

    texts = [
        "Créatinine : 85 µmol/L\nRevu avec sa fille Nathalie Roussel le 12/03/2024.\n",
        "Pas de fièvre.\nTél 06 12 34 56 78, vu par kerdrevanic.\n",
    ]
    worker = ModelWorker(phi_model=True, focus=True)
    try:
        analysis = worker.submit(texts).result(timeout=300)
    finally:
        worker.close()
    assert analysis.rules == [detect_rules(t) for t in texts]
    assert analysis.phi is not None and len(analysis.phi) == len(texts)
    alone = Pseudonymiser(b"secret-de-test-0123456789", model_focus=True)
    for i, text in enumerate(texts):
        given = alone.detect(text, model_spans=analysis.phi[i], rule_spans=analysis.rules[i])
        assert given == alone.detect(text)


def test_the_worker_counts_the_cpu_of_its_work_not_of_its_loading() -> None:
    """The ingest's CPU figure (and the bench's CPU per document) adds the worker's CPU since
    its models were loaded: loading them costs seconds, which must not count."""
    from hopia.data.ingest.worker import ModelWorker

    worker = ModelWorker(phi_model=False, clinical_ner=True)
    try:
        loaded = worker.cpu_seconds()
        texts = [f"Patient {i} : suspicion d'embolie pulmonaire, pneumopathie." for i in range(200)]
        worker.submit(texts).result(timeout=300)
        worked = worker.cpu_seconds()
    finally:
        worker.close()
    # importing torch and loading the weights alone takes well over half a CPU second
    assert loaded < 0.5
    assert worked > loaded


def test_a_dead_worker_does_not_stop_the_ingest(tmp_path: Path, model_worker: None) -> None:
    """The models' worker killed between batches (the system's OOM killer, say): the run goes
    on with the models in the main process, every document is written and analysed."""
    notes = [
        (f"k{i}", "8000123456", f"2024-05-{i + 1:02d}", "consultation", text)
        for i, text in enumerate(
            [
                "Suspicion d'embolie pulmonaire chez Mme LEMAIRE.",
                "Pneumopathie traitée par amoxicilline.",
                "Insuffisance cardiaque stable, pas de fièvre.",
                "Diabète de type 2 équilibré.",
                "Douleur thoracique, infarctus éliminé.",
                "Embolie pulmonaire confirmée au scanner.",
            ]
        )
    ]
    patients, docs = write_corpus(tmp_path / "in", notes)
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build(wh) as pipeline:
        pipeline.batch_size = 2
        pipeline.load_patients(patients)
        start = pipeline._start
        calls = []

        def kill_after_first(batch, report):  # noqa: ANN001, ANN202
            calls.append(1)
            if len(calls) == 2:
                for process in list(pipeline.model_worker._pool._processes.values()):
                    os.kill(process.pid, signal.SIGKILL)
                    process.join(timeout=30)
            return start(batch, report)

        pipeline._start = kill_after_first
        report = pipeline.run([docs])
        assert pipeline.model_worker is None  # lost, not restarted
    assert (report.added, report.errors) == (6, [])
    notes_with_ner = {n for n, _, _ in _ner_mentions(wh)}
    assert len(notes_with_ner) >= 5  # the NER ran for the batches after the worker died too
    with wh.engine.connect() as conn:
        texts = conn.execute(select(schema.CDM["note"].c.note_text)).scalars().all()
    assert not any("LEMAIRE" in t for t in texts)  # still pseudonymised (model in-process)
