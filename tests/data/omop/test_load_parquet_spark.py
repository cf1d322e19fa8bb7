"""The Spark job's real output through ``load-parquet``, on DuckDB and PostgreSQL, against the
local ingest of the same documents: the same rows, table by table, ids aside (compared by their
natural keys, :mod:`tests.data.omop.parquet_rows`); a second load adds nothing. Skipped, saying
why, where pyspark or Java is absent."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark absent: pip install 'hopia[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java absent: Spark needs a JVM (Java 17)", allow_module_level=True)

from hopia.data.ingest.spark.components import JobConfig  # noqa: E402
from hopia.data.ingest.spark.job import ingest  # noqa: E402
from hopia.data.omop.load_parquet import load_parquet  # noqa: E402
from hopia.data.synth import generate, write_corpus  # noqa: E402
from hopia.platform.config import get_settings  # noqa: E402
from hopia.platform.warehouse import Warehouse  # noqa: E402
from hopia.services.ingest import build_pipeline  # noqa: E402
from tests.conftest import TEST_SECRET_KEY, use_in_process_models  # noqa: E402
from tests.data.omop.parquet_rows import KEYS, differences, keyed_rows  # noqa: E402
from tests.platform.pg import engine_warehouse  # noqa: E402

pytestmark = pytest.mark.slow
N_DOCS = 6
#: Tables every output of the job has; the others (person, visit_occurrence, patient) are
#: compared when the job writes them (docs/spark.md, "Output").
ALWAYS = (
    "note",
    "note_nlp",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "observation",
    "hopia_provenance",
    "document",
    "phi_span",
)
WHOLE_STATE = {"person": "omop", "visit_occurrence": "omop", "patient": "hopia_id"}


def _frame(path: Path) -> pd.DataFrame:
    lines = path.read_text("utf-8").splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line.strip()], dtype=object)


def test_spark_output_loads_as_the_local_ingest_on_both_engines(
    spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_in_process_models(monkeypatch)
    corpus = tmp_path / "corpus"
    write_corpus(generate(2, seed=16), corpus, formats=False)
    lines = (corpus / "documents.jsonl").read_text("utf-8").splitlines()[:N_DOCS]
    docs = tmp_path / "documents.jsonl"
    docs.write_text("\n".join(lines) + "\n", "utf-8")
    patients = corpus / "patients.jsonl"

    local = Warehouse(f"duckdb:///{tmp_path / 'local.duckdb'}")
    with build_pipeline(get_settings(), local) as pipeline:
        assert pipeline.run([docs], patients=patients).added == N_DOCS
    expected = keyed_rows(local)
    local.close()

    (tmp_path / "in").mkdir()
    _frame(docs).to_parquet(tmp_path / "in" / "docs.parquet")
    _frame(patients).to_parquet(tmp_path / "in" / "pat.parquet")
    out = tmp_path / "out"
    config = JobConfig.from_settings(get_settings(), TEST_SECRET_KEY.encode(), date.today())
    report = ingest(
        spark,
        spark.read.parquet(str(tmp_path / "in" / "docs.parquet")),
        out,
        config,
        patients=spark.read.parquet(str(tmp_path / "in" / "pat.parquet")),
    )
    assert report.added == N_DOCS
    # The same documents, ingested locally already: the load skips them all (content hash).
    local = Warehouse(f"duckdb:///{tmp_path / 'local.duckdb'}")
    before = local.table_counts()
    skipped = load_parquet(local, out)
    after = local.table_counts()
    local.close()
    assert skipped.skipped_notes == N_DOCS and skipped.rows == {}
    assert {k: v for k, v in after.items() if k != "omop.hopia_run"} == {
        k: v for k, v in before.items() if k != "omop.hopia_run"
    }

    tables = [*ALWAYS, *(t for t, space in WHOLE_STATE.items() if (out / space / t).is_dir())]
    # Without the person and visit tables (the job before them), a note's person and visit
    # cannot be compared by their natural keys: the rest of the note is.
    ignore: tuple[str, ...] = ()
    if "person" not in tables:
        ignore += ("person_source_value",)
    if "visit_occurrence" not in tables:
        ignore += ("visit_visit_source_value", "visit_visit_start_date")

    for engine in ("duckdb", "postgres"):
        folder = tmp_path / engine
        folder.mkdir()
        with engine_warehouse(engine, folder) as wh:
            loaded = load_parquet(wh, out)
            assert loaded.rows["omop.note"] == N_DOCS
            got = keyed_rows(wh)
            for table in tables:
                found = differences(expected[table], got[table], KEYS[table], ignore)
                assert found == [], (
                    engine,
                    table,
                )
            counts = wh.table_counts()
            again = load_parquet(wh, out)
            assert again.runs == [] and wh.table_counts() == counts
