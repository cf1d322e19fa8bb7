"""The batch ingest on Spark: documents from Parquet or a Spark table to Parquet tables.

:func:`ingest` reads documents with the JSONL contract's columns (README, "input lines"),
optionally joins the patient registry onto them, drops the documents already ingested (by
content hash, as the local ingest does), runs the local ingest's pseudonymisation and NLP on
each partition (:func:`hopia.data.ingest.spark.rows.analyse_partition` with ``mapInPandas``,
its components built once per Python worker), and writes, under ``output``:

- ``omop/<table>/month=YYYY-MM/``: the research space (``note``, ``note_nlp``, the facts),
  partitioned by the note's *shifted* month (a real date never reaches it);
- ``hopia_id/<table>/month=YYYY-MM/``: the identified space (``document`` with its error rows,
  ``phi_span``), partitioned by the document's month.

The analysis runs once: its rows are staged under ``output/_staging/<run>`` and split into the
tables from there, then the staging is removed. pyspark is imported inside the functions: the
``spark`` extra (``pip install 'hopia[data,spark]'``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hopia.data.ingest.spark.rows import (
    IDENTIFIED_TABLES,
    INPUT_FIELDS,
    REGISTRY_FIELDS,
    RESEARCH_TABLES,
    analyse_partition,
    content_hashes,
)

#: Columns the Spark rows carry besides the warehouse table's (see :mod:`.rows`).
_KEYS: dict[str, dict[str, str]] = {
    "note": {"person_source_value": "string", "visit_source_value": "string"},
    "note_nlp": {
        "note_source_value": "string",
        "person_source_value": "string",
        "mention_index": "int",
        "concept_vocabulary": "string",
        "concept_code": "string",
    },
    "document": {"note_source_value": "string"},
    "phi_span": {"content_hash": "string"},
}
_FACT_KEYS = _KEYS["note_nlp"] | {"visit_source_value": "string"}


@dataclass
class SparkReport:
    """What a job wrote: rows per table, documents added, error rows, duplicates dropped."""

    rows: dict[str, int]
    added: int
    errors: int
    duplicates: int


def table_schema(name: str) -> str:
    """The Spark DDL schema of an output table: the warehouse table's columns (as
    :mod:`hopia.platform.warehouse.schema` declares them) and the natural keys."""
    from hopia.platform.warehouse import schema

    table = schema.document if name == "document" else None
    if name == "phi_span":
        table = schema.phi_span
    if table is None:
        table = schema.CDM[name]
    columns = {c.name: _spark_type(c.type) for c in table.columns}
    columns |= _KEYS.get(name, _FACT_KEYS if name in RESEARCH_TABLES[2:] else {})
    return ", ".join(f"`{k}` {v}" for k, v in columns.items())


def _spark_type(sql_type: Any) -> str:
    kind = type(sql_type).__name__
    return {
        "BigInteger": "bigint",
        "Integer": "int",
        "SmallInteger": "int",
        "Float": "double",
        "Double": "double",
        "Numeric": "double",
        "Date": "date",
        "DateTime": "timestamp",
        "Boolean": "boolean",
    }.get(kind, "string")


def ingest(
    spark: Any,
    documents: Any,
    output: str | Path,
    config: Any,
    *,
    source: str = "parquet",
    patients: Any = None,
    partitions: int | None = None,
) -> SparkReport:
    """Ingest ``documents`` (a Spark DataFrame with the JSONL contract's columns) into Parquet
    tables under ``output``.

    Parameters
    ----------
    spark:
        The Spark session.
    documents:
        The documents: ``id`` and ``text``, optionally the other fields of the JSONL contract.
    output:
        The output folder (local or any Hadoop file system path Spark writes to).
    config:
        A :class:`~hopia.data.ingest.spark.components.JobConfig`.
    source:
        The input's name, recorded as each document's ``source_path`` (``source#id`` its ref).
    patients:
        The patient registry as a DataFrame (``ipp`` and :class:`PatientIdentity`'s fields),
        joined onto the documents by ``patient_id``: the identities the pseudonymiser looks for.
    partitions:
        Repartition the documents into that many partitions first (None: keep the input's).
    """
    from pyspark.sql import functions as F

    output = str(output).rstrip("/")
    docs = _with_contract_columns(documents)
    if patients is not None:
        registry = patients.select(
            F.col("ipp").alias("_registry_ipp"),
            *[F.col(f).alias(f"registry_{f}") for f in REGISTRY_FIELDS if f in patients.columns],
        ).dropDuplicates(["_registry_ipp"])
        docs = docs.join(
            registry, F.trim(docs["patient_id"]) == registry["_registry_ipp"], "left"
        ).drop("_registry_ipp")
    if partitions:
        docs = docs.repartition(partitions)
    hashed_schema = ", ".join(
        [f"`{f}` {t.simpleString()}" for f, t in ((s.name, s.dataType) for s in docs.schema)]
        + ["content_hash string"]
    )
    hashed = docs.mapInPandas(lambda frames: content_hashes(frames, source, config), hashed_schema)
    total = hashed.count()
    unique = hashed.dropDuplicates(["content_hash"])
    done_path = f"{output}/hopia_id/document"
    if _exists(spark, done_path):
        done = (
            spark.read.schema(table_schema("document"))
            .parquet(done_path)
            .where(F.col("status") == "done")
            .select("content_hash")
        )
        unique = unique.join(done, "content_hash", "left_anti")
    todo = unique.drop("content_hash")
    staging = f"{output}/_staging/{uuid.uuid4().hex}"
    long = todo.mapInPandas(
        lambda frames: analyse_partition(frames, source, config),
        "table string, month string, content_hash string, row string",
    )
    long.write.partitionBy("table").parquet(staging)
    staged = spark.read.parquet(staging)
    rows: dict[str, int] = {}
    for name in (*RESEARCH_TABLES, *IDENTIFIED_TABLES):
        space = "omop" if name in RESEARCH_TABLES else "hopia_id"
        part = staged.where(F.col("table") == name)
        parsed = part.select(
            F.from_json("row", table_schema(name), {"mode": "FAILFAST"}).alias("r"), "month"
        ).select("r.*", "month")
        parsed.write.mode("append").partitionBy("month").parquet(f"{output}/{space}/{name}")
        rows[name] = part.count()
    errors = staged.where(
        (F.col("table") == "document") & F.get_json_object("row", "$.status").eqNullSafe("error")
    ).count()
    _remove(spark, staging)
    added = rows["document"] - errors
    return SparkReport(rows=rows, added=added, errors=errors, duplicates=total - added - errors)


def _with_contract_columns(documents: Any) -> Any:
    """The documents with every column of the contract (missing ones as nulls), dates as ISO
    strings (the contract's form)."""
    from pyspark.sql import functions as F

    out = documents
    for name in INPUT_FIELDS:
        if name not in out.columns:
            out = out.withColumn(name, F.lit(None).cast("string"))
        elif name in ("date", "visit_start", "visit_end"):
            out = out.withColumn(name, F.col(name).cast("string"))
    return out.select(*INPUT_FIELDS)


def _exists(spark: Any, path: str) -> bool:
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath))


def _remove(spark: Any, path: str) -> None:
    """Delete the run's staging folder, and ``_staging`` when it is left empty (on whatever
    file system Spark writes to)."""
    fs, hpath = _fs(spark, path)
    fs.delete(hpath, True)
    parent = hpath.getParent()
    if fs.exists(parent) and not fs.listStatus(parent):
        fs.delete(parent, True)


def _fs(spark: Any, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath
