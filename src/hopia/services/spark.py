"""The batch ingest on Spark, for every front end (``hopia spark ingest``).

The rules of the local ingest (:mod:`hopia.services.ingest`): the access policy first
(``ingest.run``), the secret from ``hopia init`` (never created here), one audit entry per job
with counts only, never a name or a text. The job itself is
:func:`hopia.data.ingest.spark.job.ingest` (docs/spark.md); pyspark is the ``spark`` extra.
"""

from __future__ import annotations

import os
import sys
from datetime import date

from pydantic import BaseModel, Field

from hopia.platform import audit
from hopia.services.context import Context, Request


class SparkIngestRequest(Request):
    documents: str = Field(min_length=1)
    """Parquet file or folder of the documents (the JSONL contract's columns), or a Spark table
    name with ``table``."""
    output: str = Field(min_length=1)
    """Output folder (any path Spark writes to)."""
    patients: str | None = None
    """Parquet of the patient registry (``ipp`` and the identity columns), joined by IPP."""
    table: bool = False
    """Read ``documents`` as a Spark table name."""
    master: str | None = None
    """Spark master (``local[2]``, ``yarn``, ``spark://…``); None: the session's default."""
    partitions: int | None = Field(default=None, ge=1, le=1_000_000)
    """Repartition the documents first."""


class SparkIngestResult(BaseModel):
    rows: dict[str, int]
    """Rows written per table."""
    added: int
    errors: int
    duplicates: int
    run: str
    """The run published (``OUT/_manifests/<run>.json``)."""


def ingest(ctx: Context, request: SparkIngestRequest) -> SparkIngestResult:
    """Run the Spark ingest of ``request``; its counts. The audit entry goes to the context's
    warehouse (counts and the output path only)."""
    ctx.authorize("ingest.run", "warehouse")
    secret = ctx.secret()  # never created here: hopia init (KeysMissingError)
    from pyspark.sql import SparkSession

    from hopia.data.ingest.spark.components import JobConfig
    from hopia.data.ingest.spark.job import ingest as run_job

    builder = SparkSession.builder.appName("hopia-ingest")
    if request.master:
        builder = builder.master(request.master)
    if (request.master or "local").startswith("local"):
        # Local mode: the Python workers must be this interpreter (Hopia and its models are
        # installed here), not whatever `python3` the PATH finds first; PySpark reads the
        # variable when the context starts. On a cluster the executors' Python is the
        # installation's choice (PYSPARK_PYTHON, docs/spark.md).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    documents = (
        spark.read.table(request.documents)
        if request.table
        else spark.read.parquet(request.documents)
    )
    patients = spark.read.parquet(request.patients) if request.patients else None
    config = JobConfig.from_settings(ctx.settings, secret, date.today())
    report = run_job(
        spark,
        documents,
        request.output,
        config,
        source=request.documents,
        patients=patients,
        partitions=request.partitions,
    )
    result = SparkIngestResult(
        rows=report.rows,
        added=report.added,
        errors=report.errors,
        duplicates=report.duplicates,
        run=report.run,
    )
    details = {"added": result.added, "errors": result.errors, "duplicates": result.duplicates}
    with ctx.warehouse().begin() as conn:
        audit.record(conn, ctx.actor, "ingest.spark", f"parquet:{request.output}", None, details)
    return result
