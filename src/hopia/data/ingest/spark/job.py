"""The batch ingest on Spark: documents from Parquet or a Spark table to Parquet tables.

:func:`ingest` reads documents with the JSONL contract's columns (README, "input lines"),
resolves each one's patient against the registry (the patients given, over those already
published), drops the documents already ingested (by content hash, as the local ingest does),
runs the local ingest's pseudonymisation and NLP on each partition
(:func:`hopia.data.ingest.spark.rows.analyse_partition` with ``mapInPandas``, its components
built once per Python worker), folds what the documents say about visits and patients
(:mod:`.state`), and publishes one run under ``output`` (docs/spark.md, "Output"):

- ``omop/<table>/``: the research space (``note``, ``note_nlp``, the facts, ``hopia_provenance``
  and ``visit_occurrence`` by *shifted* month; ``person``);
- ``hopia_id/<table>/``: the identified space (``document`` with its error rows and
  ``phi_span`` by the document's month; ``patient``);
- ``_manifests/<run>.json``: the run's files, written last: a run is published all or none.

The analysis runs once: its rows are staged under ``output/_staging/<run>`` and split into the
tables there; the tables' files are then moved into place and the manifest written. pyspark is
imported inside the functions: the ``spark`` extra (``pip install 'hopia[data,spark]'``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from hopia.data.ingest.spark.rows import (
    IDENTIFIED_TABLES,
    IDENTITY_STATEMENT,
    INPUT_FIELDS,
    REGISTRY_FIELDS,
    ROW_TABLES,
    VISIT_STATEMENT,
    analyse_partition,
    content_hashes,
    lookup_keys,
)
from hopia.data.ingest.spark.state import FIELDS as IDENTITY_FIELDS
from hopia.platform.exceptions import ConflictError, SourceError

#: Every output table: (space, name, partitioned by month).
TABLES: tuple[tuple[str, str, bool], ...] = (
    *(("omop", t, True) for t in ROW_TABLES),
    ("omop", "visit_occurrence", True),
    ("omop", "person", False),
    *(("hopia_id", t, True) for t in IDENTIFIED_TABLES),
    ("hopia_id", "patient", False),
)
#: The staged analysis rows (and ``table``, their partition).
_LONG = "month string, content_hash string, row string"
MANIFESTS = "_manifests"
STAGING = "_staging"
LOCK = "_lock"
FORMAT_VERSION = 1
_RUN = r"\d{8}T\d{12}Z-[0-9a-f]{8}"
_RUN_FILE = re.compile(rf"part-({_RUN})-")

#: Columns the Spark rows carry besides the warehouse table's (docs/spark.md, "Output").
_NOTE_KEYS = {
    "note_source_value": "string",
    "person_source_value": "string",
    "mention_index": "int",
    "concept_vocabulary": "string",
    "concept_code": "string",
}
_VISIT_KEYS = {"visit_source_value": "string", "visit_key": "string"}
_KEYS: dict[str, dict[str, str]] = {
    "note": {"person_source_value": "string", **_VISIT_KEYS},
    "note_nlp": _NOTE_KEYS,
    **{t: _NOTE_KEYS | _VISIT_KEYS for t in ROW_TABLES[2:6]},
    "hopia_provenance": {"note_source_value": "string", "mention_index": "int"},
    "visit_occurrence": {
        "person_source_value": "string",
        "visit_key": "string",
        "care_site_source_value": "string",
        "care_site_name": "string",
    },
    "document": {"note_source_value": "string"},
    "phi_span": {"content_hash": "string"},
    "patient": {"person_source_value": "string"},
}


@dataclass
class SparkReport:
    """What a job wrote: rows per table, documents added, error rows, duplicates dropped, and
    the run it published."""

    rows: dict[str, int]
    added: int
    errors: int
    duplicates: int
    run: str = ""
    #: Seconds per step: ``analysis`` (reading, registry, hashing, pseudonymisation and NLP,
    #: staged), ``tables`` (every table, visits and patients too), ``publish``.
    seconds: dict[str, float] = field(default_factory=dict)


def table_schema(name: str) -> str:
    """The Spark DDL schema of an output table: the warehouse table's columns (as
    :mod:`hopia.platform.warehouse.schema` declares them) and the natural keys."""
    return ", ".join(f"`{k}` {v}" for k, v in table_columns(name).items())


def table_columns(name: str) -> dict[str, str]:
    """An output table's columns and their Spark types (see :func:`table_schema`)."""
    from hopia.platform.warehouse import schema

    table = {
        "document": schema.document,
        "phi_span": schema.phi_span,
        "patient": schema.patient,
        "hopia_provenance": schema.provenance,
    }.get(name)
    if table is None:
        table = schema.CDM[name]
    columns = {c.name: _spark_type(c.type) for c in table.columns}
    return columns | _KEYS.get(name, {})


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


def new_run_id(now: datetime | None = None) -> str:
    """A run's id: its UTC start and 8 random hex digits (runs sort in the order they ran)."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S%f')}Z-{uuid.uuid4().hex[:8]}"


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
    tables under ``output``, published as one run.

    Parameters
    ----------
    spark:
        The Spark session.
    documents:
        The documents: ``id`` and ``text``, optionally the other fields of the JSONL contract.
    output:
        The output folder (local or any Hadoop file system path Spark writes to). One job at a
        time per output folder.
    config:
        A :class:`~hopia.data.ingest.spark.components.JobConfig`.
    source:
        The input's name, recorded as each document's ``source_path`` (``source#id`` its ref).
    patients:
        The patient registry as a DataFrame (``ipp`` and :class:`PatientIdentity`'s fields): its
        identities are recorded (``hopia_id/patient``) as the local ingest's ``--patients``
        loads them, and the documents' patients are resolved against it and the published ones.
    partitions:
        Repartition the documents into that many partitions first (None: keep the input's).

    Raises
    ------
    SourceError
        A registry record that does not read (as the local ingest refuses such a registry).
    ConflictError
        Another job holds the output folder.
    """

    output = str(output).rstrip("/")
    store = Store(spark, output)
    started = datetime.now(UTC)
    run = new_run_id(started)
    store.lock(run)
    try:
        return _ingest(spark, documents, store, run, started, config, source, patients, partitions)
    finally:
        store.unlock(run)


def _ingest(
    spark: Any,
    documents: Any,
    store: Store,
    run: str,
    started: datetime,
    config: Any,
    source: str,
    patients: Any,
    partitions: int | None,
) -> SparkReport:
    from pyspark.sql import functions as F

    timings: dict[str, float] = {}  # seconds per step, on record in the manifest
    clock = time.perf_counter()
    store.clean()
    published = store.manifests()

    docs = _with_contract_columns(documents).withColumn("_seq", F.monotonically_increasing_id())
    if partitions:
        docs = docs.repartition(partitions)
    spread = _analysis_partitions(spark, docs, partitions)
    # The registry the documents are resolved against: the patients given over the published.
    given = None
    if patients is not None:
        given, checked = _registry(spark, patients)
        try:
            return _analyse_and_write(
                spark, docs, store, run, started, config, source, given, published, timings, clock,
                spread,
            )  # fmt: skip
        finally:
            checked.unpersist()
    return _analyse_and_write(
        spark, docs, store, run, started, config, source, given, published, timings, clock, spread
    )


def _analysis_partitions(spark: Any, docs: Any, partitions: int | None) -> int:
    """How many tasks the analysis runs in: the partitions asked for, else as many as the
    input has and at least the cluster's default parallelism.

    Said explicitly because the documents reach the analysis through a shuffle (the dedup
    window), and adaptive query execution coalesces a small shuffle's partitions into one: 300
    documents are a few hundred kilobytes, far under its 64 MB target, so the whole NLP ran as
    one task and a second core did nothing (local[2] / local[1] = 1.12, bench/scale_spark.py).
    A ``repartition(n)`` with a number is never coalesced."""
    if partitions:
        return partitions
    default = int(spark.sparkContext.defaultParallelism)
    try:
        return max(default, int(docs.rdd.getNumPartitions()))
    except Exception:  # noqa: BLE001 - a client without the RDD API: the default is enough
        return default


def _analyse_and_write(
    spark: Any,
    docs: Any,
    store: Store,
    run: str,
    started: datetime,
    config: Any,
    source: str,
    given: Any,
    published: dict[str, dict],
    timings: dict[str, float],
    clock: float,
    spread: int,
) -> SparkReport:
    """:func:`ingest` once the output folder is taken and the registry checked."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    output = store.output
    staging = f"{output}/{STAGING}/{run}"
    keyed = docs.mapInPandas(
        lambda frames: lookup_keys(frames, source), _ddl(docs) + ", _ipp string, _birth string"
    )
    prior = _latest(read_published(spark, output, "patient", published), ["ipp"])
    registry = _registry_state(given, prior)
    if registry is not None:
        keyed = keyed.join(
            registry.select(
                F.col("ipp").alias("_registry_ipp"),
                *[F.col(f).alias(f"registry_{f}") for f in REGISTRY_FIELDS],
            ),
            F.col("_ipp") == F.col("_registry_ipp"),
            "left",
        ).drop("_registry_ipp")
        born = (
            registry.where(F.col("birth_date").isNotNull())
            .groupBy(F.col("birth_date").cast("string").alias("_born"))
            .agg(
                F.collect_list(
                    F.struct("ipp", *[F.col(f).cast("string").alias(f) for f in REGISTRY_FIELDS])
                ).alias("registry_candidates")
            )
        )
        keyed = keyed.join(born, F.col("_birth") == F.col("_born"), "left").drop("_born")

    hashed = keyed.mapInPandas(
        lambda frames: content_hashes(frames, source, config),
        _ddl(keyed) + ", content_hash string",
    ).persist()
    try:
        total = hashed.count()
        first = Window.partitionBy("content_hash").orderBy("_seq")
        unique = (
            hashed.withColumn("_rank", F.row_number().over(first))
            .where(F.col("_rank") == 1)
            .drop("_rank")
        )
        documents_now = read_published(spark, output, "document", published)
        if documents_now is not None:
            done = documents_now.where(F.col("status") == "done").select("content_hash")
            unique = unique.join(done, "content_hash", "left_anti")
        long = (
            unique.drop("content_hash")
            .repartition(spread)
            .mapInPandas(
                lambda frames: analyse_partition(frames, source, config),
                "table string, " + _LONG,
            )
        )
        long.write.partitionBy("table").parquet(f"{staging}/_long")
    finally:
        hashed.unpersist()
    staged = spark.read.schema(_LONG + ", `table` string").parquet(f"{staging}/_long")
    status = F.get_json_object("row", "$.status").alias("status")
    counts: dict[str, int] = {}
    errors = 0
    for r in staged.groupBy("table", status).count().collect():
        counts[r["table"]] = counts.get(r["table"], 0) + r["count"]
        if r["table"] == "document" and r["status"] == "error":
            errors = r["count"]
    timings["analysis"] = time.perf_counter() - clock
    clock = time.perf_counter()

    def table(space: str, name: str) -> dict[str, int]:
        frame = _parsed(staged, name)
        n = counts.get(name, 0)
        if name == "document" and documents_now is not None:
            # The same error as the one on record for a source: nothing new to write.
            current = current_documents(documents_now).where(F.col("status") == "error")
            frame = frame.join(
                current.select("content_hash", "error"), ["content_hash", "error"], "left_anti"
            )
            n = frame.count()
        if n:  # an empty table writes no file
            # one file per month (not one per task and month): fewer, larger files to move
            # and to load
            by_month = frame.repartition("month")
            by_month.write.partitionBy("month").parquet(f"{staging}/{space}/{name}")
        return {name: n}

    def visits() -> dict[str, int]:
        return {"visit_occurrence": _write_visits(spark, staged, output, published, staging)}

    def persons() -> dict[str, int]:
        n_patients, n_persons = _write_patients(spark, staged, given, prior, config, staging)
        return {"patient": n_patients, "person": n_persons}

    # The tables are independent: their Spark jobs run side by side (driver threads), so that
    # one job's planning and commit overlap another's tasks.
    steps = [
        partial(table, space, name)
        for space, name, _ in TABLES
        if name in (*ROW_TABLES, *IDENTIFIED_TABLES)
    ]
    rows: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="hopia-spark") as pool:
        for done in [pool.submit(step) for step in [visits, persons, *steps]]:
            rows.update(done.result())
    rows = {name: rows[name] for _, name, _ in TABLES}
    timings["tables"] = time.perf_counter() - clock
    clock = time.perf_counter()

    files = store.publish_files(staging, run)
    timings["publish"] = time.perf_counter() - clock
    added = counts.get("document", 0) - errors
    report = SparkReport(
        rows=rows,
        added=added,
        errors=errors,
        duplicates=total - added - errors,
        run=run,
        seconds={k: round(v, 3) for k, v in timings.items()},
    )
    store.write_manifest(
        run,
        {
            "format": FORMAT_VERSION,
            "run": run,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "system": _system(config),
            "counts": {"added": added, "errors": errors, "duplicates": report.duplicates},
            "rows": rows,
            "seconds": report.seconds,
            "files": files,
        },
    )
    store.remove(staging)
    return report


def _parsed(staged: Any, name: str) -> Any:
    """The staged rows of one table, with its columns and types, and their month."""
    from pyspark.sql import functions as F

    part = staged.where(F.col("table") == name)
    return part.select(
        F.from_json("row", table_schema(name), {"mode": "FAILFAST"}).alias("r"), "month"
    ).select("r.*", "month")


def _write_visits(spark: Any, staged: Any, output: str, published: dict, staging: str) -> int:
    """The visits this run created or changed (:func:`.state.merge_visits`), staged."""
    from pyspark.sql import functions as F

    from hopia.data.ingest.spark.state import PUBLISHED, merge_visits

    statement = (
        "person_source_value string, visit_key string, visit_source_value string, "
        "visit_start_date date, visit_end_date date, visit_concept_id bigint, "
        "visit_type_concept_id bigint, care_site_id string, _seq bigint"
    )
    said = (
        staged.where(F.col("table") == VISIT_STATEMENT)
        .select(F.from_json("row", statement, {"mode": "FAILFAST"}).alias("r"))
        .select("r.*")
        .withColumn("_order", F.lit(1))
    )
    before = _latest(
        read_published(spark, output, "visit_occurrence", published),
        ["person_source_value", "visit_key"],
    )
    if before is not None:
        before = before.select(
            "person_source_value",
            "visit_key",
            "visit_source_value",
            "visit_start_date",
            "visit_end_date",
            "visit_concept_id",
            "visit_type_concept_id",
            F.col("care_site_name").alias("care_site_id"),
            F.lit(0).cast("bigint").alias("_seq"),
            F.lit(PUBLISHED).alias("_order"),
        )
        # only the visits this run speaks of
        keys = said.select("person_source_value", "visit_key").distinct()
        said = said.unionByName(before.join(keys, ["person_source_value", "visit_key"]))

    visit_columns = {**table_columns("visit_occurrence"), "month": "string"}

    def fold(frame: Any) -> Any:
        return _frame(merge_visits(frame), list(visit_columns))

    merged = said.groupBy("person_source_value", "visit_key").applyInPandas(
        fold, ", ".join(f"`{k}` {v}" for k, v in visit_columns.items())
    )
    merged.repartition("month").write.partitionBy("month").parquet(
        f"{staging}/omop/visit_occurrence"
    )
    ddl = table_schema("visit_occurrence") + ", month string"
    return spark.read.schema(ddl).parquet(f"{staging}/omop/visit_occurrence").count()


def _write_patients(
    spark: Any, staged: Any, given: Any, prior: Any, config: Any, staging: str
) -> tuple[int, int]:
    """The patients (and persons) this run created or changed (:func:`.state.merge_patients`),
    staged; their counts."""
    from pyspark.sql import functions as F

    from hopia.data.ingest.spark.state import DOCUMENT, PERSON_COLUMNS, REGISTRY, merge_patients

    fields = [f for f in IDENTITY_FIELDS if f != "ipp"]
    typed = [F.col(f).cast("date" if f == "birth_date" else "string").alias(f) for f in fields]
    statement = ", ".join(
        ["ipp string"]
        + [f"{f} {'date' if f == 'birth_date' else 'string'}" for f in fields]
        + ["_seq bigint"]
    )
    said = (
        staged.where(F.col("table") == IDENTITY_STATEMENT)
        .select(F.from_json("row", statement, {"mode": "FAILFAST"}).alias("r"))
        .select("r.*")
        .withColumn("_order", F.lit(DOCUMENT))
    )
    parts = [said]
    if given is not None:
        parts.append(given.select("ipp", *typed, "_seq").withColumn("_order", F.lit(REGISTRY)))
    if prior is not None:
        mentioned = said.select("ipp")
        if given is not None:
            mentioned = mentioned.unionByName(given.select("ipp"))
        before = prior.join(mentioned.distinct(), "ipp").select(
            "ipp", *typed, F.lit(0).cast("bigint").alias("_seq"), F.lit(0).alias("_order")
        )
        parts.append(before)
    statements = parts[0]
    for part in parts[1:]:
        statements = statements.unionByName(part)

    patient = table_columns("patient")
    person = {k: v for k, v in table_columns("person").items() if k in PERSON_COLUMNS}
    out_columns = {**patient, **person, "_write_person": "boolean"}
    secret = config.secret
    now = datetime.now()

    def fold(frame: Any) -> Any:
        from hopia.data.omop.research_ids import ResearchIds
        from hopia.data.pseudo.surrogates import Surrogates

        research = ResearchIds(secret, Surrogates(secret).shift_date)
        return _frame(merge_patients(frame, research, now), list(out_columns))

    out_ddl = ", ".join(f"`{k}` {v}" for k, v in out_columns.items())
    merged = statements.groupBy("ipp").applyInPandas(fold, out_ddl)
    merged.write.parquet(f"{staging}/_patients")
    merged = spark.read.schema(out_ddl).parquet(f"{staging}/_patients")
    n_patients = merged.count()
    n_persons = merged.where(F.col("_write_person")).count()
    if n_patients:  # an empty write would still leave a file
        merged.select(*patient).write.parquet(f"{staging}/hopia_id/patient")
    if n_persons:
        person_all = table_columns("person")
        persons = merged.where(F.col("_write_person")).select(
            *[
                F.col(k).cast(v).alias(k) if k in person else F.lit(None).cast(v).alias(k)
                for k, v in person_all.items()
                if k != "person_source_value"
            ],
            "person_source_value",
        )
        persons.select(*person_all).write.parquet(f"{staging}/omop/person")
    return n_patients, n_persons


def _registry(spark: Any, patients: Any) -> tuple[Any, Any]:
    """The given registry, checked as a registry file's records are (a record that does not
    read refuses the job, naming it: the local ingest refuses such a registry), one line per
    IPP (the last one, as :meth:`Identities.upsert` keeps it), with ``_seq`` (its rank); and
    the checked lines, persisted, for the caller to unpersist when the job is done."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    fields = [f for f in IDENTITY_FIELDS if f != "ipp"]
    columns = [
        F.col(f).cast("string").alias(f) if f in patients.columns else F.lit(None).cast("string")
        for f in ("ipp", *fields)
    ]
    raw = patients.select(*columns).toDF("ipp", *fields)
    raw = raw.withColumn("_seq", F.monotonically_increasing_id())
    ddl = ", ".join(
        ["ipp string"]
        + [f"{f} {'date' if f == 'birth_date' else 'string'}" for f in fields]
        + ["_seq bigint", "_problem string"]
    )
    checked = raw.mapInPandas(_check_registry, ddl).persist()  # the caller unpersists it
    problem = checked.where(F.col("_problem").isNotNull()).select("_problem").first()
    if problem is not None:
        checked.unpersist()
        where, _, reason = problem["_problem"].partition("\x1f")
        raise SourceError(where, reason)
    last = Window.partitionBy("ipp").orderBy(F.col("_seq").desc())
    return (
        checked.drop("_problem")
        .withColumn("_rank", F.row_number().over(last))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    ), checked


def _check_registry(frames: Any) -> Any:
    """Each registry line as :func:`~hopia.data.records.patients.patient_identity` reads it,
    or the problem it has (``_problem``: where and why, 0x1F apart)."""
    from hopia.data.records.patients import patient_identity

    for frame in frames:
        out = []
        for record in frame.to_dict("records"):
            values = {k: (None if v is None or v != v else v) for k, v in record.items()}
            where = f"registre des patients#{values.get('ipp')}"
            try:
                ident = patient_identity(values, where)
            except SourceError as exc:
                problem = f"{exc.path}\x1f{exc.reason}"
                out.append({"ipp": values.get("ipp"), "_seq": record["_seq"], "_problem": problem})
                continue
            row = {k: getattr(ident, k) for k in IDENTITY_FIELDS}
            out.append(row | {"_seq": record["_seq"], "_problem": None})
        yield _frame(out, [*IDENTITY_FIELDS, "_seq", "_problem"])


def _registry_state(given: Any, prior: Any) -> Any:
    """The registry the documents are resolved against: each IPP's published identity, the
    given registry's line overriding it field by field (as loading a registry file does)."""
    from pyspark.sql import functions as F

    fields = [f for f in IDENTITY_FIELDS if f != "ipp"]
    if given is None and prior is None:
        return None
    if prior is None:
        return given.select("ipp", *fields)
    old = prior.select("ipp", *[F.col(f).alias(f"_old_{f}") for f in fields])
    if given is None:
        return old.select("ipp", *[F.col(f"_old_{f}").alias(f) for f in fields])
    new = given.select("ipp", *fields)
    joined = new.join(old, "ipp", "full_outer")
    return joined.select(
        "ipp", *[F.coalesce(F.col(f), F.col(f"_old_{f}")).alias(f) for f in fields]
    )


def _latest(frame: Any, keys: list[str]) -> Any:
    """Each key's row from the latest run (whole-state tables), or None."""
    if frame is None:
        return None
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    last = Window.partitionBy(*keys).orderBy(F.col("_run").desc())
    return (
        frame.withColumn("_rank", F.row_number().over(last))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )


def current_documents(documents: Any) -> Any:
    """The published ``hopia_id/document`` rows (with ``_run``, from :func:`read_published`)
    as the warehouse holds them once every run is loaded: an error row replaced by a later one
    of the same ``content_hash``, and removed by a ``done`` row of a later run whose
    ``source_ref`` or ``source_path`` is its ``source_ref`` (as ``Runs.resolve_errors``)."""
    from pyspark.sql import functions as F

    done = documents.where(F.col("status") == "done")
    errors = _latest(documents.where(F.col("status") == "error"), ["content_hash"])
    later = done.select(
        F.col("source_ref").alias("_ref"),
        F.col("source_path").alias("_path"),
        F.col("_run").alias("_done_run"),
    )
    cond = ((F.col("source_ref") == F.col("_ref")) | (F.col("source_ref") == F.col("_path"))) & (
        F.col("_done_run") > F.col("_run")
    )
    kept = errors.join(later, cond, "left_anti")
    return done.unionByName(kept)


def read_published(spark: Any, output: str, table: str, manifests: dict[str, dict]) -> Any:
    """The published rows of ``table`` (every run's), with ``_run`` (the run that wrote each
    row); None when no published run wrote any."""
    from pyspark.sql import functions as F

    space, partitioned = next((s, p) for s, n, p in TABLES if n == table)
    key = f"{space}/{table}"
    paths = [f"{output}/{f}" for m in manifests.values() for f in m["files"].get(key, [])]
    if not paths:
        return None
    base = f"{output}/{key}"
    reader = spark.read.option("basePath", base)
    ddl = table_schema(table) + (", month string" if partitioned else "")
    frame = reader.schema(ddl).parquet(*paths)
    return frame.withColumn("_run", F.regexp_extract(F.input_file_name(), _RUN_FILE.pattern, 1))


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


def _frame(rows: Any, columns: list[str]) -> Any:
    """Rows (dicts) as a pandas frame of ``columns``, a missing value None (not NaN)."""
    import pandas as pd

    data = [[row.get(c) for c in columns] for row in rows]
    return pd.DataFrame(data, columns=columns, dtype=object)


def _ddl(frame: Any) -> str:
    return ", ".join(f"`{s.name}` {s.dataType.simpleString()}" for s in frame.schema)


def _system(config: Any) -> str:
    from hopia.data.nlp.pipeline import pipeline_system

    return pipeline_system(
        None if config.clinical_ner_model is None else Path(config.clinical_ner_model)
    )


class Store:
    """The output folder on whatever file system Spark writes to (Hadoop's API): runs,
    manifests, moves."""

    def __init__(self, spark: Any, output: str) -> None:
        self.spark = spark
        self.output = output
        jvm = spark.sparkContext._jvm
        self._jvm = jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.fs = self._path(output).getFileSystem(conf)

    def lock(self, run: str) -> None:
        """Take the output folder for ``run`` (``_lock``, created only if absent): one job at a
        time, since a job removes what an unpublished run left.

        Raises
        ------
        ConflictError
            Another job holds it (or one whose driver died: delete ``_lock`` once sure that
            no job is running)."""
        self.fs.mkdirs(self._path(self.output))
        path = self._path(f"{self.output}/{LOCK}")
        try:
            stream = self.fs.create(path, False)
        except Exception as exc:  # py4j wraps Hadoop's FileAlreadyExistsException
            if not self.fs.exists(path):
                raise
            raise ConflictError(
                f"dossier de sortie déjà pris par une autre intégration Spark ({self.output}/"
                f"{LOCK}) : attendre sa fin, ou supprimer ce fichier si aucune ne tourne"
            ) from exc
        try:
            stream.write(bytearray(run.encode("ascii")))
        finally:
            stream.close()

    def unlock(self, run: str) -> None:
        """Release the output folder if ``run`` holds it."""
        path = self._path(f"{self.output}/{LOCK}")
        if not self.fs.exists(path):
            return
        if self._read(path) == run:
            self.fs.delete(path, False)

    def _read(self, path: Any) -> str:
        stream = self.fs.open(path)
        try:
            return str(self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._path(path)))

    def remove(self, path: str) -> None:
        """Delete ``path``, and its parent when it is left empty."""
        hpath = self._path(path)
        self.fs.delete(hpath, True)
        parent = hpath.getParent()
        if self.fs.exists(parent) and not self.fs.listStatus(parent):
            self.fs.delete(parent, True)

    def manifests(self) -> dict[str, dict]:
        """The published runs' manifests, by run."""
        folder = self._path(f"{self.output}/{MANIFESTS}")
        if not self.fs.exists(folder):
            return {}
        out: dict[str, dict] = {}
        for status in self.fs.listStatus(folder):
            name = status.getPath().getName()
            if not re.fullmatch(rf"{_RUN}\.json", name):
                continue
            out[name[: -len(".json")]] = json.loads(self._read(status.getPath()))
        return dict(sorted(out.items()))

    def clean(self) -> None:
        """Delete what a run that did not publish left: its staging, its files moved into the
        tables (``part-<run>-*`` without a manifest), a manifest not renamed."""
        published = set(self.manifests())
        staging = self._path(f"{self.output}/{STAGING}")
        if self.fs.exists(staging):
            self.fs.delete(staging, True)
        folder = self._path(f"{self.output}/{MANIFESTS}")
        if self.fs.exists(folder):
            for status in self.fs.listStatus(folder):
                if status.getPath().getName().endswith(".tmp"):
                    self.fs.delete(status.getPath(), False)
        for space in ("omop", "hopia_id"):
            root = self._path(f"{self.output}/{space}")
            if not self.fs.exists(root):
                continue
            files = self.fs.listFiles(root, True)
            stale = []
            while files.hasNext():
                path = files.next().getPath()
                found = _RUN_FILE.match(path.getName())
                if found and found.group(1) not in published:
                    stale.append(path)
            for path in stale:
                self.fs.delete(path, False)

    def publish_files(self, staging: str, run: str) -> dict[str, list[str]]:
        """Move the staged tables' data files into the tables, named after the run; the files
        of each table, relative to the output folder."""
        out: dict[str, list[str]] = {}
        made: set[str] = set()  # folders created (one call each, not one per file)
        for space, name, _ in TABLES:
            key = f"{space}/{name}"
            out[key] = []
            root = self._path(f"{staging}/{key}")
            if not self.fs.exists(root):
                continue
            prefix = len(root.toUri().getPath().rstrip("/")) + 1
            files = self.fs.listFiles(root, True)
            found = []
            while files.hasNext():
                found.append(files.next().getPath())
            for path in found:
                file = path.getName()
                if not file.startswith("part-"):
                    continue  # _SUCCESS, checksums
                rel_dir = path.getParent().toUri().getPath()[prefix:]
                target_dir = f"{self.output}/{key}" + (f"/{rel_dir}" if rel_dir else "")
                target = f"{target_dir}/part-{run}-{file[len('part-') :]}"
                if target_dir not in made:
                    self.fs.mkdirs(self._path(target_dir))
                    made.add(target_dir)
                if not self.fs.rename(path, self._path(target)):
                    raise OSError(f"déplacement impossible : {path.toString()} -> {target}")
                out[key].append(target[len(self.output) + 1 :])
            out[key].sort()
        return out

    def write_manifest(self, run: str, manifest: dict[str, Any]) -> None:
        """Write the run's manifest under a temporary name, then rename it: the publication."""
        folder = f"{self.output}/{MANIFESTS}"
        self.fs.mkdirs(self._path(folder))
        tmp = self._path(f"{folder}/.{run}.json.tmp")
        stream = self.fs.create(tmp, True)
        try:
            stream.write(bytearray(json.dumps(manifest, indent=1).encode("utf-8")))
        finally:
            stream.close()
        if not self.fs.rename(tmp, self._path(f"{folder}/{run}.json")):
            raise OSError(f"publication impossible : manifeste {run}")
