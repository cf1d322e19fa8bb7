"""The ingest on Spark (local[1]) against the local ingest, row for row, on the same synthetic
documents: every table both write (notes, mentions, facts, provenance, visits, persons, the
identified patients, documents and PHI spans) holds the same rows, ids apart (the Spark rows
carry natural keys; docs/spark.md, "Output"), read through the published runs' manifests; then
rerun semantics and the atomic publication. Skipped, saying why, where pyspark or Java is
absent."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark absent: pip install 'hopia[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java absent: Spark needs a JVM (Java 17)", allow_module_level=True)

from hopia.data.ingest.spark.components import JobConfig  # noqa: E402
from hopia.data.ingest.spark.job import (  # noqa: E402
    Store,
    current_documents,
    ingest,
    read_published,
)
from hopia.data.ingest.spark.rows import PENDING_CONCEPT  # noqa: E402
from hopia.data.omop.mapping import ID_COLUMN  # noqa: E402
from hopia.data.omop.research_ids import pseudonymous_id  # noqa: E402
from hopia.data.synth import generate, write_corpus  # noqa: E402
from hopia.platform.config import get_settings  # noqa: E402
from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services.ingest import build_pipeline  # noqa: E402
from tests.conftest import TEST_SECRET_KEY, use_in_process_models  # noqa: E402

pytestmark = pytest.mark.slow
N_SYNTH = 6
N_DOCS = N_SYNTH + 2  # and HDR-1, HDR-2
N_ERRORS = 3  # HDR-3, BAD-1, BAD-2
FACTS = ("condition_occurrence", "drug_exposure", "measurement", "observation")


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A few synthetic documents (JSONL) and their patients; documents whose patient only their
    header states (matched by name and birth date, a new IPP, an IPP whose birth date
    disagrees); refused ones; a duplicate. The models in this process."""
    use_in_process_models(monkeypatch)
    out = tmp_path / "corpus"
    write_corpus(generate(2, seed=16), out, formats=False)
    lines = (out / "documents.jsonl").read_text("utf-8").splitlines()[:N_SYNTH]
    patient = json.loads((out / "patients.jsonl").read_text("utf-8").splitlines()[0])
    born = date.fromisoformat(patient["birth_date"]).strftime("%d/%m/%Y")
    name = f"{patient['family_name']} {patient['given_name']}"
    extra = [
        {  # no IPP: matched in the registry by name and birth date; a per-day visit
            "id": "HDR-1",
            "date": "2022-03-12",
            "type": "consultation",
            "text": f"Patient : Mme {name}, née le {born}\nConsultation de suivi. Diabète de "
            "type 2 équilibré sous metformine 1000 mg matin et soir.",
        },
        {  # an IPP the registry does not know: a new patient, from the header
            "id": "HDR-2",
            "date": "2022-04-02",
            "type": "courrier",
            "text": "IPP : 77123456\nPatient : M. MARTIN Paul, né le 02/02/1960\nHypertension "
            "artérielle traitée par amlodipine 5 mg.",
        },
        {  # the registry's IPP with another birth date: refused
            "id": "HDR-3",
            "text": f"IPP : {patient['ipp']}\nPatient : Mme {name}, née le 01/01/1950\nToux.",
        },
        {"id": "BAD-1", "text": "   ", "patient_id": "X1"},  # empty
        {"id": "BAD-2", "text": "Compte rendu sans patient."},  # no patient at all
    ]
    lines += [json.dumps(e, ensure_ascii=False) for e in extra]
    lines.append(lines[0])  # a duplicate
    docs = tmp_path / "documents.jsonl"
    docs.write_text("\n".join(lines) + "\n", "utf-8")
    return docs, out / "patients.jsonl"


def _config() -> JobConfig:
    return JobConfig.from_settings(get_settings(), TEST_SECRET_KEY.encode(), date.today())


def test_spark_ingest_equals_local_ingest(spark, corpus, tmp_path: Path, monkeypatch) -> None:
    docs, patients = corpus
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build_pipeline(get_settings(), wh) as pipeline:
        report = pipeline.run([docs], patients=patients)
    assert (report.added, len(report.errors), report.duplicates) == (N_DOCS, N_ERRORS, 1)
    local = _local_tables(wh)
    _vault_fills_from_rows(wh)
    wh.close()

    (tmp_path / "in").mkdir()
    _frame(docs).to_parquet(tmp_path / "in" / "docs.parquet")
    _frame(patients).to_parquet(tmp_path / "in" / "pat.parquet")
    out = tmp_path / "out"
    documents = spark.read.parquet(str(tmp_path / "in" / "docs.parquet"))
    registry = spark.read.parquet(str(tmp_path / "in" / "pat.parquet"))
    got = ingest(spark, documents, out, _config(), patients=registry)
    remote = _published(out)
    reasons = remote["document"].loc[remote["document"]["status"] == "error", "error"].tolist()
    assert (got.added, got.errors, got.duplicates) == (N_DOCS, N_ERRORS, 1), reasons
    assert not (out / "_staging").exists()

    mention = ["note_source_value", "mention_index"]
    _same(local["note"], remote["note"], ["note_source_value"])
    _same(local["note_nlp"], remote["note_nlp"], mention)
    for table in FACTS:
        _same(local[table], remote[table], mention)
    _same(local["hopia_provenance"], remote["hopia_provenance"], [*mention, "table_name"])
    visit = ["person_source_value", "visit_source_value", "visit_start_date"]
    _same(local["visit_occurrence"], remote["visit_occurrence"], visit)
    _same(local["person"], remote["person"], ["person_source_value"])
    _same(local["patient"], remote["patient"], ["ipp"])
    done = remote["document"][remote["document"]["status"] == "done"]
    _same(local["document"], done, ["content_hash"])
    _same(local["phi_span"], remote["phi_span"], ["content_hash", "start_char"])
    # the note's visit is the visit of its key
    keys = remote["visit_occurrence"].set_index(["person_source_value", "visit_key"])
    for n in remote["note"].itertuples():
        assert (n.person_source_value, n.visit_key) in keys.index
    errors = remote["document"][remote["document"]["status"] == "error"]
    # the same reasons, less the line number a JSONL file has and a table row has not
    expected = [re.sub(r"^ligne \d+ : ", "", reason) for _, reason in report.errors]
    assert sorted(errors["error"]) == sorted(expected)

    # A run that crashes before its manifest: nothing of it is visible, and the next run
    # removes its files. That next run adds nothing (not even the same error rows again) but
    # the document fixed since, which replaces its error row.
    fixed = _frame(docs)
    fixed.loc[fixed["id"] == "BAD-1", "text"] = "Consultation : asthme."
    fixed.to_parquet(tmp_path / "in" / "fixed.parquet")
    fixed_docs = spark.read.parquet(str(tmp_path / "in" / "fixed.parquet"))

    def crash(*_: object) -> None:
        raise OSError("panne simulée")

    with monkeypatch.context() as m, pytest.raises(OSError, match="panne simulée"):
        m.setattr(Store, "write_manifest", crash)
        ingest(spark, fixed_docs, out, _config(), patients=registry)
    assert len(list((out / "_manifests").glob("*.json"))) == 1
    assert {k: len(v) for k, v in _published(out).items()} == {k: len(v) for k, v in remote.items()}
    before = {p for p in out.rglob("part-*") if "_staging" not in p.parts}

    again = ingest(spark, fixed_docs, out, _config(), patients=registry)
    assert (again.added, again.errors, again.duplicates) == (1, N_ERRORS - 1, N_DOCS + 1)
    manifests = sorted((out / "_manifests").glob("*.json"))
    assert len(manifests) == 2  # the crashed run never published
    latest = json.loads(manifests[-1].read_text())
    written = {k: len(v) for k, v in latest["files"].items() if v}
    # only the fixed document's rows, and its new patient (an IPP alone: no person row)
    assert set(written) <= {
        "omop/note",
        "omop/note_nlp",
        "omop/hopia_provenance",
        "omop/visit_occurrence",
        "hopia_id/document",
        "hopia_id/patient",
        "omop/condition_occurrence",
    }, written
    assert latest["rows"]["note"] == 1 and latest["rows"]["document"] == 1
    assert latest["rows"]["patient"] == 1 and latest["rows"]["person"] == 0
    after = {p for p in out.rglob("part-*") if "_staging" not in p.parts}
    listed = {
        out / f for m in manifests for fs in json.loads(m.read_text())["files"].values() for f in fs
    }
    assert after == listed
    assert before - after  # the crashed run's files, gone
    current = current_documents(
        read_published(spark, str(out), "document", Store(spark, str(out)).manifests())
    ).toPandas()
    assert sorted(current.loc[current["status"] == "error", "source_ref"]) == [
        "parquet#BAD-2",
        "parquet#HDR-3",
    ]
    assert len(current[current["status"] == "done"]) == N_DOCS + 1


def _vault_fills_from_rows(wh: Warehouse) -> None:
    """The loader fills the vault from the identified rows (docs/spark.md): on the local
    ingest's warehouse, that adds nothing to what the ingest stored, and conflicts with
    nothing."""
    from hopia.data.pseudo.surrogates import Surrogates
    from hopia.data.pseudo.vault import Vault
    from hopia.platform.keys import load_vault_key

    vault = Vault(wh, load_vault_key(get_settings()))
    offset = Surrogates(TEST_SECRET_KEY.encode()).date_offset_days
    with wh.begin() as conn:
        again = vault.store_documents(conn, offset)
    assert again.existing > 0
    assert (again.patients, again.entries, again.conflicts) == (0, 0, 0)


def _published(out: Path) -> dict[str, pd.DataFrame]:
    """Every published run's rows, by table, read as a loader reads them: the files the
    manifests list (and nothing else)."""
    files: dict[str, list[Path]] = {}
    for manifest in sorted((out / "_manifests").glob("*.json")):
        for key, names in json.loads(manifest.read_text())["files"].items():
            files.setdefault(key.split("/")[1], []).extend(out / n for n in names)
    return {
        name: pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
        for name, paths in files.items()
        if paths
    }


def test_bad_registry_or_a_busy_output_publishes_nothing(spark, tmp_path: Path) -> None:
    """A registry line that does not read refuses the job, naming it, as the local ingest
    refuses such a file; a second job on an output folder in use is refused. Neither
    publishes anything."""
    from hopia.platform.exceptions import ConflictError, SourceError

    docs = spark.createDataFrame(
        pd.DataFrame([{"id": "A", "text": "Toux.", "patient_id": "1"}], dtype=object)
    )
    registry = spark.createDataFrame(
        pd.DataFrame([{"ipp": "1", "birth_date": "1950-13-45"}], dtype=object)
    )
    out = tmp_path / "out"
    with pytest.raises(SourceError, match="date de naissance invalide") as caught:
        ingest(spark, docs, out, _config(), patients=registry)
    assert caught.value.path == "registre des patients#1"
    assert not list(out.glob("_manifests/*.json")) and not (out / "_lock").exists()
    (out / "_lock").write_text("20261207T000000000000Z-0badc0de")
    with pytest.raises(ConflictError, match="déjà pris"):
        ingest(spark, docs, out, _config())
    assert (out / "_lock").read_text() == "20261207T000000000000Z-0badc0de"
    assert not list(out.glob("_manifests/*.json"))


def test_components_are_built_once_per_worker(spark, corpus) -> None:
    """Three partitions through one Python worker (local[1]): the components are built once
    there, not once per partition or per row."""
    docs, _ = corpus
    config = _config()

    def builds(frames):
        from hopia.data.ingest.spark import components as module

        for _ in frames:
            module.components(config)
            yield pd.DataFrame({"builds": [module.builds]})

    frame = _frame(docs)[["id"]]
    counts = spark.createDataFrame(frame).repartition(3).mapInPandas(builds, "builds int")
    assert set(counts.toPandas()["builds"]) == {1}


def _frame(path: Path) -> pd.DataFrame:
    """A JSONL file as a frame of its values as they are (strings stay strings)."""
    lines = path.read_text("utf-8").splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line.strip()], dtype=object)


def _local_tables(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The local ingest's rows with the Spark rows' natural keys in place of the ids."""
    with wh.engine.connect() as conn:
        read = lambda sql: pd.read_sql(sql, conn)  # noqa: E731
        note = read("SELECT * FROM omop.note")
        nlp = read("SELECT * FROM omop.note_nlp ORDER BY note_id, note_nlp_id")
        concept = read("SELECT concept_id, vocabulary_id, concept_code FROM omop.concept")
        person = read("SELECT * FROM omop.person")
        visit = read("SELECT * FROM omop.visit_occurrence")
        site = read(
            "SELECT care_site_id, care_site_name, care_site_source_value FROM omop.care_site"
        )
        facts = {t: read(f"SELECT * FROM omop.{t}") for t in FACTS}
        prov = read("SELECT * FROM omop.hopia_provenance")
        document = read("SELECT * FROM hopia_id.document WHERE status = 'done'")
        spans = read("SELECT * FROM hopia_id.phi_span")
        patient = read("SELECT * FROM hopia_id.patient")
    keys = note[["note_id", "note_source_value"]]
    nlp = nlp.merge(keys, on="note_id")
    nlp["mention_index"] = nlp.groupby("note_id").cumcount()
    persons = person[["person_id", "person_source_value"]]
    visit = visit.merge(persons, on="person_id").merge(site, on="care_site_id", how="left")
    visit_keys = visit[["visit_occurrence_id", "visit_source_value"]]
    note = note.merge(persons, on="person_id").merge(visit_keys, on="visit_occurrence_id")
    out = {"note": note, "note_nlp": nlp, "person": person, "visit_occurrence": visit}
    mention = nlp[["note_nlp_id", "note_source_value", "mention_index"]]
    for table in FACTS:
        rows = facts[table].merge(
            prov[prov["table_name"] == table][["row_id", "note_nlp_id"]],
            left_on=ID_COLUMN[table],
            right_on="row_id",
        )
        out[table] = rows.merge(mention, on="note_nlp_id").merge(
            visit_keys, on="visit_occurrence_id"
        )
    prov = prov.merge(keys, on="note_id").merge(
        mention.drop(columns="note_source_value"), on="note_nlp_id", how="left"
    )
    out["hopia_provenance"] = prov
    out["document"] = document.merge(keys, on="note_id")
    out["phi_span"] = spans.merge(document[["document_id", "content_hash"]], on="document_id")
    secret = TEST_SECRET_KEY.encode()
    out["patient"] = patient.assign(
        person_source_value=[pseudonymous_id(secret, ipp) for ipp in patient["ipp"]]
    )
    out["concept"] = concept
    # Spark's rows name a coded concept by (vocabulary, code): resolve them the same way.
    out["_concepts"] = concept
    return _with_concepts(out)


def _with_concepts(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    by_id = tables.pop("_concepts").set_index("concept_id")
    for name in ("note_nlp", *FACTS):
        frame = tables[name]
        column = "note_nlp_concept_id" if name == "note_nlp" else _concept_column(name)
        ids = frame[column]
        found = ids.map(lambda i: by_id.loc[i] if i in by_id.index and i != 0 else None)
        frame["concept_vocabulary"] = [None if f is None else f["vocabulary_id"] for f in found]
        frame["concept_code"] = [None if f is None else f["concept_code"] for f in found]
    return tables


def _concept_column(table: str) -> str:
    return {
        "condition_occurrence": "condition_concept_id",
        "drug_exposure": "drug_concept_id",
        "measurement": "measurement_concept_id",
        "observation": "observation_concept_id",
    }[table]


_ALLOCATED = {
    "updated_at",
    "care_site_id",
    "patient_id",
    "note_id",
    "note_nlp_id",
    "person_id",
    "visit_occurrence_id",
    "document_id",
    "run_id",
    "ingested_at",
    "nlp_date",
    "row_id",
    "source_path",
    "source_ref",
    "format",
    *ID_COLUMN.values(),
}


def _same(local: pd.DataFrame, remote: pd.DataFrame, keys: list[str]) -> None:
    """Same rows, column for column, where the local ingest's allocated ids aside; a concept id
    is compared as (vocabulary, code) where Spark left it to the loader."""
    assert len(local) == len(remote), (len(local), len(remote))
    assert len(local) > 0 or keys == ["note_source_value", "mention_index"]
    columns = [c for c in remote.columns if c in local.columns and c not in _ALLOCATED]
    a = local.sort_values(keys).reset_index(drop=True)[columns]
    b = remote.sort_values(keys).reset_index(drop=True)[columns]
    for c in columns:
        left = [None if _missing(v) else _plain(v) for v in a[c].tolist()]
        right = [None if _missing(v) else _plain(v) for v in b[c].tolist()]
        if c.endswith("concept_id"):  # the loader's to resolve: compared as (vocabulary, code)
            right = [x if y == PENDING_CONCEPT else y for x, y in zip(left, right, strict=True)]
        assert left == right, f"column {c} differs"


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _plain(v: object) -> object:
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item"):
        return v.item()
    return v


def test_cli_spark_ingest_writes_error_rows_and_an_audit_entry(spark, tmp_path: Path) -> None:
    """``hopia spark ingest``: the session already open is reused; rows that cannot be ingested
    are error rows and the job succeeds; one audit entry with counts."""
    from typer.testing import CliRunner

    from hopia.cli.main import app

    rows = [{"id": "A", "text": "  ", "patient_id": "1"}, {"id": "B", "text": "Sans patient."}]
    pd.DataFrame(rows, dtype=object).to_parquet(tmp_path / "docs.parquet")
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(app, ["spark", "ingest", str(tmp_path / "docs.parquet"), str(out)])
    assert result.exit_code == 0, result.output
    assert "Documents ajoutés : 0 ; erreurs : 2 ; doublons : 0" in result.output
    (manifest,) = (out / "_manifests").glob("*.json")
    assert f"Lot publié : {manifest.stem}" in result.output
    written = _published(out)["document"]
    assert sorted(written["status"]) == ["error", "error"]
    wh = Warehouse(f"duckdb:///{tmp_path / 'hopia-home' / 'warehouse.duckdb'}", migrate=False)
    with wh.engine.connect() as conn:
        actions = pd.read_sql("SELECT action, details FROM hopia_meta.audit_log", conn)
    wh.close()
    entry = actions[actions["action"] == "ingest.spark"]
    assert json.loads(entry["details"].iloc[0]) == {"added": 0, "errors": 2, "duplicates": 0}


def test_the_command_runs_its_workers_on_its_own_python(tmp_path: Path) -> None:
    """``hopia spark ingest`` as a user types it, in a fresh process without PYSPARK_PYTHON and
    with a PATH whose ``python3`` has no Hopia: the local workers must still be this
    interpreter (a new user's first run failed with "No module named 'hopia'")."""
    import subprocess
    import sys

    rows = [{"id": "A", "text": "  ", "patient_id": "1"}, {"id": "B", "text": "Sans patient."}]
    pd.DataFrame(rows, dtype=object).to_parquet(tmp_path / "docs.parquet")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "SPARK_"))}
    env |= {"PATH": "/usr/bin:/bin", "HOPIA_HOME": str(tmp_path / "home")}
    hopia = [sys.executable, "-m", "hopia.cli.main"]
    subprocess.run([*hopia, "init"], env=env, check=True, capture_output=True, timeout=300)
    done = subprocess.run(
        [*hopia, "spark", "ingest", str(tmp_path / "docs.parquet"), str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Documents ajoutés : 0 ; erreurs : 2 ; doublons : 0" in done.stdout
