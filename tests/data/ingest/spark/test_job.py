"""The ingest on Spark (local[1]) against the local ingest, row for row, on the same synthetic
documents: notes, mentions, facts and the identified documents and PHI spans are the same rows,
ids apart (the Spark rows carry natural keys; see hopia.data.ingest.spark.rows). Skipped, saying
why, where pyspark or Java is absent."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark absent: pip install 'hopia[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java absent: Spark needs a JVM (Java 17)", allow_module_level=True)

from hopia.data.ingest.spark.components import JobConfig  # noqa: E402
from hopia.data.ingest.spark.job import ingest  # noqa: E402
from hopia.data.ingest.spark.rows import PENDING_CONCEPT  # noqa: E402
from hopia.data.omop.mapping import ID_COLUMN  # noqa: E402
from hopia.data.synth import generate, write_corpus  # noqa: E402
from hopia.platform.config import get_settings  # noqa: E402
from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services.ingest import build_pipeline  # noqa: E402
from tests.conftest import TEST_SECRET_KEY, use_in_process_models  # noqa: E402

pytestmark = pytest.mark.slow
N_DOCS = 6
FACTS = ("condition_occurrence", "drug_exposure", "measurement", "observation")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[1]")
        .appName("hopia-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A few synthetic documents (JSONL) and their patients; the models in this process."""
    use_in_process_models(monkeypatch)
    out = tmp_path / "corpus"
    write_corpus(generate(2, seed=16), out, formats=False)
    lines = (out / "documents.jsonl").read_text("utf-8").splitlines()[:N_DOCS]
    lines.append(json.dumps({"id": "BAD-1", "text": "   ", "patient_id": "X1"}))  # empty
    lines.append(json.dumps({"id": "BAD-2", "text": "Compte rendu sans patient."}))
    lines.append(lines[0])  # a duplicate
    docs = tmp_path / "documents.jsonl"
    docs.write_text("\n".join(lines) + "\n", "utf-8")
    return docs, out / "patients.jsonl"


def _config() -> JobConfig:
    return JobConfig.from_settings(get_settings(), TEST_SECRET_KEY.encode(), date.today())


def test_spark_ingest_equals_local_ingest(spark, corpus, tmp_path: Path) -> None:
    docs, patients = corpus
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with build_pipeline(get_settings(), wh) as pipeline:
        report = pipeline.run([docs], patients=patients)
    assert report.added == N_DOCS and len(report.errors) == 2 and report.duplicates == 1
    local = _local_tables(wh)
    wh.close()

    (tmp_path / "in").mkdir()
    _frame(docs).to_parquet(tmp_path / "in" / "docs.parquet")
    _frame(patients).to_parquet(tmp_path / "in" / "pat.parquet")
    out = tmp_path / "out"
    documents = spark.read.parquet(str(tmp_path / "in" / "docs.parquet"))
    registry = spark.read.parquet(str(tmp_path / "in" / "pat.parquet"))
    got = ingest(spark, documents, out, _config(), patients=registry)
    written = pd.read_parquet(out / "hopia_id" / "document")
    reasons = written.loc[written["status"] == "error", "error"].tolist()
    assert (got.added, got.errors, got.duplicates) == (N_DOCS, 2, 1), reasons
    assert not (out / "_staging").exists()

    remote = {
        name: pd.read_parquet(out / space / name)
        for space, names in (("omop", ("note", "note_nlp", *FACTS)), ("hopia_id", ("document",)))
        for name in names
    }
    _same(local["note"], remote["note"], ["note_source_value"])
    _same(local["note_nlp"], remote["note_nlp"], ["note_source_value", "mention_index"])
    for table in FACTS:
        _same(local[table], remote[table], ["note_source_value", "mention_index"])
    done = remote["document"][remote["document"]["status"] == "done"]
    _same(local["document"], done, ["content_hash"])
    errors = remote["document"][remote["document"]["status"] == "error"]
    # the same reasons, less the line number a JSONL file has and a table row has not
    expected = [re.sub(r"^ligne \d+ : ", "", reason) for _, reason in report.errors]
    assert sorted(errors["error"]) == sorted(expected)

    # Idempotent: a second run on the same output adds nothing.
    again = ingest(spark, documents, out, _config(), patients=registry)
    assert again.added == 0 and again.duplicates == N_DOCS + 1
    assert len(pd.read_parquet(out / "omop" / "note")) == N_DOCS


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
        person = read("SELECT person_id, person_source_value FROM omop.person")
        visit = read("SELECT visit_occurrence_id, visit_source_value FROM omop.visit_occurrence")
        facts = {t: read(f"SELECT * FROM omop.{t}") for t in FACTS}
        prov = read("SELECT table_name, row_id, note_nlp_id FROM omop.hopia_provenance")
        document = read("SELECT * FROM hopia_id.document WHERE status = 'done'")
    keys = note[["note_id", "note_source_value"]]
    nlp = nlp.merge(keys, on="note_id")
    nlp["mention_index"] = nlp.groupby("note_id").cumcount()
    note = note.merge(person, on="person_id").merge(visit, on="visit_occurrence_id", how="left")
    out = {"note": note, "note_nlp": nlp}
    mention = nlp[["note_nlp_id", "note_source_value", "mention_index"]]
    for table in FACTS:
        rows = facts[table].merge(
            prov[prov["table_name"] == table].drop(columns="table_name"),
            left_on=ID_COLUMN[table],
            right_on="row_id",
        )
        out[table] = rows.merge(mention, on="note_nlp_id").merge(visit, on="visit_occurrence_id")
    out["document"] = document.merge(note[["note_id", "note_source_value"]], on="note_id")
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
    written = pd.read_parquet(out / "hopia_id" / "document")
    assert sorted(written["status"]) == ["error", "error"]
    wh = Warehouse(f"duckdb:///{tmp_path / 'hopia-home' / 'warehouse.duckdb'}", migrate=False)
    with wh.engine.connect() as conn:
        actions = pd.read_sql("SELECT action, details FROM hopia_meta.audit_log", conn)
    wh.close()
    entry = actions[actions["action"] == "ingest.spark"]
    assert json.loads(entry["details"].iloc[0]) == {"added": 0, "errors": 2, "duplicates": 0}
