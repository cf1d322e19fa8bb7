"""Load the Spark ingest's Parquet output (docs/spark.md, "Output") into the warehouse.

The Spark job writes the warehouse's rows with their ids left null and natural keys beside them
(``note_source_value``, ``mention_index``, ``person_source_value``, ``visit_key``, ``ipp``,
``content_hash``, a concept's vocabulary and code). :func:`load_parquet` allocates the ids the
way the local ingest does (from each table's committed maximum, writers serialised by
:meth:`~hopia.platform.warehouse.Warehouse.begin`), so that loading the output gives the rows the
local ingest of the same documents gives, ids aside.

- **Staging, then SQL.** Every file of the runs to load is checked first (readable Parquet, the
  key columns there, every column castable to the warehouse's type: otherwise a French error
  naming the file and the reason, before anything is written). Then, in one transaction, the
  rows go into temporary tables (DuckDB: an Arrow scan; PostgreSQL: ``COPY``, see
  :func:`hopia.platform.warehouse._bulk.stage_arrow`) and the same ``INSERT … SELECT``
  statements on both engines resolve the keys and write the tables. All or nothing.
- **Idempotent.** Published runs (``OUT/_manifests/<run>.json``) load once each, in run order,
  recorded in ``hopia_meta.omop_load`` (``table_name`` ``parquet_run``). Whatever the record, a
  note whose ``note_source_value`` is in ``omop.note`` or whose document's ``content_hash`` is in
  ``hopia_id.document`` is skipped with every row of it (a document ingested locally, or loaded
  already); whole-state rows (patient, person, visit) are upserted by key, the latest run winning.
  A tree without ``_manifests`` (the Spark job before its manifests) is one run, keyed by its
  files' content.
- **One ingest run.** The load is one ``omop.hopia_run`` row; its documents and provenance rows
  point to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Table, select, text

from hopia.data.omop import concepts as std
from hopia.data.omop.concepts import ConceptResolver
from hopia.data.omop.mapping import ID_COLUMN
from hopia.platform.exceptions import OmopLoadError
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse._bulk import arrow_type, sql_type_name, stage_arrow

#: ``hopia_meta.omop_load.table_name`` of a Spark run loaded (``source``: the run id).
RUN_RECORD = "parquet_run"
#: ``hopia_provenance.table_name`` of a note on which an NLP pipe failed (as the local ingest).
PIPE_ERROR_TABLE = "nlp_pipe_error"
FACTS = tuple(t for t in ID_COLUMN if t != "note_nlp")

_TEXT, _INT, _BIGINT = pa.string(), pa.int32(), pa.int64()
_MENTION_KEYS = {
    "note_source_value": _TEXT,
    "person_source_value": _TEXT,
    "mention_index": _INT,
    "concept_vocabulary": _TEXT,
    "concept_code": _TEXT,
}
_VISIT_KEYS = {"visit_source_value": _TEXT, "visit_key": _TEXT}


def _level(column: str) -> str:
    levels = {
        std.OUTPATIENT_VISIT: 0,
        std.ER_VISIT: 1,
        std.INPATIENT_VISIT: 2,
        std.ER_AND_INPATIENT_VISIT: 3,
    }
    cases = " ".join(f"WHEN {k} THEN {v}" for k, v in levels.items())
    return f"CASE {column} {cases} ELSE -1 END"


#: A stay's visit concept once a load brings ``s.visit_concept_id`` to the warehouse's
#: ``v.visit_concept_id``: :func:`hopia.data.omop.writer.stay_concept` in SQL (emergency and
#: inpatient make "ER and inpatient"; otherwise the most care; a concept Hopia does not rank,
#: from an OMOP load, is kept).
_STAY_CONCEPT = (
    f"CASE WHEN {_level('v.visit_concept_id')} < 0 THEN v.visit_concept_id "
    f"WHEN v.visit_concept_id IN ({std.ER_VISIT}, {std.INPATIENT_VISIT}) AND s.visit_concept_id IN "
    f"({std.ER_VISIT}, {std.INPATIENT_VISIT}) AND v.visit_concept_id <> s.visit_concept_id "
    f"THEN {std.ER_AND_INPATIENT_VISIT} "
    f"WHEN {_level('s.visit_concept_id')} > {_level('v.visit_concept_id')} "
    "THEN s.visit_concept_id ELSE v.visit_concept_id END"
)


@dataclass(frozen=True)
class _Spec:
    """One table of the output: where it goes, its extra columns, the keys it must have."""

    space: str
    table: Table
    extra: dict[str, pa.DataType]
    required: tuple[str, ...]


def _specs() -> dict[str, _Spec]:
    cdm = schema.CDM
    out = {
        "note": _Spec(
            "omop",
            cdm["note"],
            {"person_source_value": _TEXT, **_VISIT_KEYS},
            ("note_source_value", "person_source_value", "note_date", "note_text"),
        ),
        "note_nlp": _Spec(
            "omop", cdm["note_nlp"], dict(_MENTION_KEYS), ("note_source_value", "mention_index")
        ),
        "hopia_provenance": _Spec(
            "omop",
            schema.provenance,
            {"note_source_value": _TEXT, "mention_index": _INT},
            ("table_name", "note_source_value", "system"),
        ),
        "visit_occurrence": _Spec(
            "omop",
            cdm["visit_occurrence"],
            {
                "person_source_value": _TEXT,
                "visit_key": _TEXT,
                "care_site_source_value": _TEXT,
                "care_site_name": _TEXT,
            },
            ("person_source_value", "visit_key", "visit_start_date"),
        ),
        "person": _Spec("omop", cdm["person"], {}, ("person_source_value", "year_of_birth")),
        "patient": _Spec("hopia_id", schema.patient, {"person_source_value": _TEXT}, ("ipp",)),
        "document": _Spec(
            "hopia_id",
            schema.document,
            {"note_source_value": _TEXT},
            ("content_hash", "status", "source_ref"),
        ),
        "phi_span": _Spec(
            "hopia_id",
            schema.phi_span,
            {"content_hash": _TEXT},
            ("content_hash", "start_char", "end_char", "label"),
        ),
    }
    for name in FACTS:
        out[name] = _Spec(
            "omop",
            cdm[name],
            {**_MENTION_KEYS, **_VISIT_KEYS},
            ("note_source_value", "mention_index"),
        )
    return out


SPECS = _specs()


@dataclass
class ParquetLoadReport:
    """What a load did: runs loaded now and before, rows written per table, rows skipped."""

    runs: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # "omop.note" -> rows inserted/updated
    skipped_notes: int = 0  # notes already in the warehouse (loaded, or ingested locally)
    files: int = 0
    run_id: int | None = None
    ignored: list[str] = field(default_factory=list)  # folders that are no known table


@dataclass
class _Run:
    run_id: str
    digest: str  # omop_load.file_sha256 of the run
    files: dict[str, list[Path]]  # table -> its files
    system: str | None = None


# -- finding the runs -----------------------------------------------------------------------------


def _runs(folder: Path, report: ParquetLoadReport) -> list[_Run]:
    manifests = folder / "_manifests"
    if manifests.is_dir():
        return [_manifest_run(folder, m) for m in sorted(manifests.glob("*.json"))]
    files: dict[str, list[Path]] = {}
    for space in ("omop", "hopia_id"):
        if not (folder / space).is_dir():
            continue
        for sub in sorted((folder / space).iterdir()):
            if sub.name.startswith((".", "_")) or not sub.is_dir():
                continue
            if sub.name not in SPECS or SPECS[sub.name].space != space:
                report.ignored.append(f"{space}/{sub.name}")
                continue
            found = sorted(
                p
                for p in sub.rglob("*.parquet")
                if not any(part.startswith((".", "_")) for part in p.relative_to(sub).parts)
            )
            if found:
                files[sub.name] = found
    if not files:
        raise OmopLoadError(
            f"{folder} : aucune table Parquet de la sortie Spark (omop/<table>/, hopia_id/<table>/)"
        )
    digest = hashlib.sha256()
    for name in sorted(files):
        for path in files[name]:
            digest.update(str(path.relative_to(folder)).encode() + b"\x00")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return [_Run(f"arbre:{digest.hexdigest()[:16]}", digest.hexdigest(), files)]


def _manifest_run(folder: Path, path: Path) -> _Run:
    try:
        manifest = json.loads(path.read_text("utf-8"))
        run_id = str(manifest["run"])
        listed = manifest["files"]
        if not isinstance(listed, dict):
            raise TypeError("files")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OmopLoadError(
            f"{path} : manifeste illisible ({type(exc).__name__} : {exc})", fields=("path",)
        ) from exc
    files: dict[str, list[Path]] = {}
    for key, paths in listed.items():
        space, _, name = str(key).partition("/")
        if name not in SPECS or SPECS[name].space != space:
            raise OmopLoadError(f"{path} : table inconnue dans le manifeste : {key}")
        files[name] = [folder / p for p in paths]
        for p in files[name]:
            if not p.resolve().is_relative_to(folder.resolve()):
                raise OmopLoadError(f"{path} : fichier listé hors du dossier : {p}")
            if not p.is_file():
                raise OmopLoadError(f"{path} : fichier listé absent : {p}")
    digest = hashlib.sha256(f"spark-run\x1f{run_id}".encode()).hexdigest()
    return _Run(run_id, digest, files, manifest.get("system"))


# -- checking and reading the files ---------------------------------------------------------------


def _expected(spec: _Spec) -> dict[str, pa.DataType]:
    columns = {c.name: arrow_type(c.type) for c in spec.table.columns}
    return columns | spec.extra


def _check(path: Path, spec: _Spec) -> None:
    """A file's schema against the table's: readable, its keys there, its types castable."""
    try:
        found = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise OmopLoadError(
            f"{path} : fichier Parquet illisible ({exc})", fields=("path",)
        ) from exc
    expected = _expected(spec)
    names = set(found.names)
    if missing := [c for c in spec.required if c not in names]:
        raise OmopLoadError(
            f"{path} : fichier étranger à la table {spec.table.name} de la sortie Spark : "
            f"colonne(s) absente(s) {', '.join(missing)}",
            fields=("path",),
        )
    for name in names & set(expected):
        source, target = found.field(name).type, expected[name]
        if source == target or pa.types.is_null(source):
            continue
        if not _castable(source, target):
            raise OmopLoadError(
                f"{path} : colonne {name} de type {source}, attendu {target} "
                f"(table {spec.table.name})",
                fields=("path",),
            )


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    if pa.types.is_string(target):
        return pa.types.is_string(source) or pa.types.is_large_string(source)
    if pa.types.is_integer(target):
        return pa.types.is_integer(source)
    if pa.types.is_floating(target):
        return pa.types.is_integer(source) or pa.types.is_floating(source)
    if pa.types.is_date(target):
        return pa.types.is_date(source) or pa.types.is_timestamp(source)
    if pa.types.is_timestamp(target):
        return pa.types.is_timestamp(source) or pa.types.is_date(source)
    if pa.types.is_boolean(target):
        return pa.types.is_boolean(source)
    return False


def _batches(path: Path, spec: _Spec, order: int) -> Iterator[pa.RecordBatch]:
    """The file's rows with every expected column, cast, and ``_run`` (the run's rank)."""
    expected = _expected(spec)
    try:
        reader = pq.ParquetFile(path)
        for batch in reader.iter_batches(batch_size=65_536):
            columns = []
            for name, target in expected.items():
                if name in batch.schema.names:
                    column = batch.column(name)
                    columns.append(column if column.type == target else column.cast(target))
                else:
                    columns.append(pa.nulls(batch.num_rows, target))
            columns.append(pa.array([order] * batch.num_rows, _INT))
            yield pa.RecordBatch.from_arrays(columns, names=[*expected, "_run"])
    except (OSError, pa.ArrowException) as exc:
        raise OmopLoadError(f"{path} : lecture impossible ({exc})", fields=("path",)) from exc


# -- the load -------------------------------------------------------------------------------------


def load_parquet(
    wh: Warehouse,
    folder: Path,
    *,
    research_id: Callable[[str], str] | None = None,
    on_documents: Callable[[Connection, list[int]], None] | None = None,
    then: Callable[[Connection, ParquetLoadReport], None] | None = None,
) -> ParquetLoadReport:
    """Load the published runs of a Spark output folder not loaded yet; all or nothing.

    ``research_id(ipp)``: the pseudonymous id of an IPP (the installation's secret), to find the
    ``person_id`` a patient of the warehouse reserved before it had an ``omop.person`` row.
    ``on_documents(conn, document_ids)``: runs in the transaction for the documents inserted
    (the vault). ``then(conn, report)``: last, in the transaction (the audit entry)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OmopLoadError(f"{folder} : dossier introuvable", fields=("path",))
    report = ParquetLoadReport()
    runs = _runs(folder, report)
    with wh.engine.connect() as conn:
        done = set(
            conn.execute(
                select(schema.omop_load.c.file_sha256).where(
                    schema.omop_load.c.table_name == RUN_RECORD
                )
            ).scalars()
        )
    todo = [r for r in runs if r.digest not in done]
    report.already = [r.run_id for r in runs if r.digest in done]
    for run in todo:
        for name, paths in run.files.items():
            for path in paths:
                _check(path, SPECS[name])
                report.files += 1
    if not todo:
        return report
    with wh.begin() as conn:
        _Loader(wh, conn, report, research_id).load(todo, on_documents)
        now = datetime.now()
        for run in todo:
            conn.execute(
                schema.omop_load.insert().values(
                    table_name=RUN_RECORD,
                    file_sha256=run.digest,
                    rows=sum(report.rows.values()),
                    source=f"{run.run_id} ({folder})"[:2000],
                    loaded_at=now,
                )
            )
        report.runs = [r.run_id for r in todo]
        if then is not None:
            then(conn, report)
    return report


class _Loader:
    """The statements of one load, in the caller's transaction."""

    def __init__(
        self,
        wh: Warehouse,
        conn: Connection,
        report: ParquetLoadReport,
        research_id: Callable[[str], str] | None,
    ) -> None:
        self.wh, self.conn, self.report = wh, conn, report
        self.research_id = research_id
        self.postgres = conn.dialect.name == "postgresql"
        self.staged: set[str] = set()
        self.temps: list[str] = []

    # helpers ---------------------------------------------------------------------------------

    def sql(self, statement: str, **params: Any) -> Any:
        return self.conn.execute(text(statement), params)

    def temp(self, name: str, columns: dict[str, str], select_sql: str | None = None) -> None:
        suffix = " ON COMMIT DROP" if self.postgres else ""
        if select_sql is None:
            body = ", ".join(f'"{c}" {t}' for c, t in columns.items())
            self.sql(f'CREATE TEMPORARY TABLE "{name}" ({body}){suffix}')
        else:
            self.sql(f'CREATE TEMPORARY TABLE "{name}"{suffix} AS {select_sql}')
        self.temps.append(name)

    def next_id(self, table: Table, column: str) -> int:
        return self.wh.next_id(self.conn, table, column)

    def count(self, label: str, n: int) -> None:
        if n:
            self.report.rows[label] = self.report.rows.get(label, 0) + n

    # the load ----------------------------------------------------------------------------------

    def load(
        self, runs: list[_Run], on_documents: Callable[[Connection, list[int]], None] | None
    ) -> None:
        self._stage(runs)
        run_id = self._run_row(runs)
        self.report.run_id = run_id
        self._concepts()
        self._patients()
        self._persons()
        self._visits()
        self._known_visits()
        self._notes()
        self._mentions_and_facts(run_id)
        ids = self._documents(run_id)
        if on_documents is not None and ids:
            on_documents(self.conn, ids)
        self._finish_run(run_id, runs)
        if not self.postgres:  # PostgreSQL drops them at commit; a rollback drops them all
            for name in self.temps:
                self.conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')

    def _stage(self, runs: list[_Run]) -> None:
        for name, spec in SPECS.items():
            files = [(order, p) for order, r in enumerate(runs) for p in r.files.get(name, [])]
            if not files:
                continue
            expected = _expected(spec)
            columns = {c: sql_type_name(t) for c, t in expected.items()} | {"_run": "INTEGER"}
            self.temp(f"s_{name}", columns)
            for order, path in files:
                stage_arrow(self.conn, f"s_{name}", _batches(path, spec, order))
            self.staged.add(name)

    def _run_row(self, runs: list[_Run]) -> int:
        run_id = self.next_id(schema.run, "run_id")
        system = next((r.system for r in runs if r.system), None) or "spark (parquet)"
        self.conn.execute(
            schema.run.insert().values(
                run_id=run_id,
                command=f"load-parquet ({len(runs)} exécution(s) Spark)"[:250],
                system=system[:250],
                started_at=datetime.now(),
                status="running",
            )
        )
        return run_id

    def _finish_run(self, run_id: int, runs: list[_Run]) -> None:
        summary = " ".join(f"{k}={v}" for k, v in sorted(self.report.rows.items()))
        self.sql(
            "UPDATE omop.hopia_run SET status = 'done', finished_at = :now, summary = :s "
            "WHERE run_id = :r",
            now=datetime.now(),
            s=f"runs={','.join(r.run_id for r in runs)} {summary}"[:4000],
            r=run_id,
        )

    # concepts ----------------------------------------------------------------------------------

    def _concepts(self) -> None:
        """(vocabulary, code) of the coded mentions -> concept_id, local concepts created as the
        local ingest creates them (:class:`ConceptResolver`)."""
        resolver = ConceptResolver(self.wh)
        resolver.ensure_standard(self.conn)
        pairs: set[tuple[str, str]] = set()
        for name in ("note_nlp", *FACTS):
            if name in self.staged:
                rows = self.sql(
                    f"SELECT DISTINCT concept_vocabulary, concept_code FROM s_{name} "
                    "WHERE concept_vocabulary IS NOT NULL AND concept_code IS NOT NULL"
                )
                pairs.update((v, c) for v, c in rows)
        ids = resolver.resolve(self.conn, pairs) if pairs else {}
        self.temp("m_concept", {"vocabulary": "TEXT", "code": "TEXT", "concept_id": "BIGINT"})
        if ids:
            items = sorted(ids.items())
            batch = pa.RecordBatch.from_arrays(
                [
                    pa.array([v for (v, _), _ in items], _TEXT),
                    pa.array([c for (_, c), _ in items], _TEXT),
                    pa.array([i for _, i in items], _BIGINT),
                ],
                names=["vocabulary", "code", "concept_id"],
            )
            stage_arrow(self.conn, "m_concept", [batch])

    # patients, persons, visits -----------------------------------------------------------------

    def _latest(self, name: str, keys: str, order: str = "DESC") -> str:
        """The staged rows of ``name``, one per key: the latest run's (``ASC``: the first's)."""
        return (
            f"SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY {keys} "
            f"ORDER BY _run {order}) AS _rank FROM s_{name} s) t WHERE _rank = 1"
        )

    def _patients(self) -> None:
        """Identified registry rows by IPP: a known IPP keeps its ids and takes the new values
        field by field (an empty one keeps the registered value); a new IPP gets the next
        ``patient_id`` and a ``person_id`` (its person's, or the next one over patient and
        person), as :meth:`hopia.data.ingest.identities.Identities.upsert`."""
        if "patient" not in self.staged:
            return
        self.temp("l_patient", {}, self._latest("patient", "ipp"))
        fields = [
            c.name
            for c in schema.patient.columns
            if c.name not in ("patient_id", "ipp", "person_id", "updated_at")
        ]
        sets = ", ".join(f'"{f}" = COALESCE(s."{f}", p."{f}")' for f in fields)
        changed = " OR ".join(
            f'(s."{f}" IS NOT NULL AND (p."{f}" IS NULL OR s."{f}" <> p."{f}"))' for f in fields
        )
        updated = self.sql(
            f"UPDATE hopia_id.patient AS p SET {sets}, updated_at = COALESCE(s.updated_at, "
            f":now) FROM l_patient s WHERE p.ipp = s.ipp AND ({changed})",
            now=datetime.now(),
        ).rowcount
        first_patient = self.next_id(schema.patient, "patient_id")
        first_person = max(
            self.next_id(schema.patient, "person_id"),
            self.next_id(schema.CDM["person"], "person_id"),
        )
        columns = ", ".join(f'"{c}"' for c in ["ipp", *fields])
        inserted = self.sql(
            f"INSERT INTO hopia_id.patient (patient_id, person_id, updated_at, {columns}) "
            f"SELECT :p0 + ROW_NUMBER() OVER (ORDER BY s.ipp) - 1, "
            f"COALESCE(pr.person_id, :q0 + ROW_NUMBER() OVER (ORDER BY s.ipp) - 1), "
            f"COALESCE(s.updated_at, :now), "
            + ", ".join(f's."{c}"' for c in ["ipp", *fields])
            + " FROM l_patient s LEFT JOIN omop.person pr "
            "ON pr.person_source_value = s.person_source_value "
            "WHERE NOT EXISTS (SELECT 1 FROM hopia_id.patient p WHERE p.ipp = s.ipp)",
            p0=first_patient,
            q0=first_person,
            now=datetime.now(),
        ).rowcount
        self.count("hopia_id.patient", max(updated, 0) + max(inserted, 0))

    def _persons(self) -> None:
        """``m_person``: person_source_value -> person_id for every pseudonymous id the staged
        rows name, then the ``person`` rows upserted."""
        needed = [
            f"SELECT person_source_value AS psv FROM s_{n}"
            for n in ("person", "patient", "note", "note_nlp", "visit_occurrence", *FACTS)
            if n in self.staged
        ]
        if not needed:
            self.temp("m_person", {"psv": "TEXT", "person_id": "BIGINT"})
            return
        self.temp(
            "n_psv",
            {},
            "SELECT DISTINCT psv FROM (" + " UNION ".join(needed) + ") u WHERE psv IS NOT NULL",
        )
        self.temp("m_person", {"psv": "TEXT", "person_id": "BIGINT"})
        # 1. a person of the warehouse; 2. a staged patient's IPP in the registry
        self.sql(
            "INSERT INTO m_person SELECT n.psv, MIN(pr.person_id) FROM n_psv n "
            "JOIN omop.person pr ON pr.person_source_value = n.psv GROUP BY n.psv"
        )
        if "patient" in self.staged:
            self.sql(
                "INSERT INTO m_person SELECT s.person_source_value, MIN(p.person_id) "
                "FROM l_patient s JOIN hopia_id.patient p ON p.ipp = s.ipp "
                "WHERE s.person_source_value IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM m_person m WHERE m.psv = s.person_source_value) "
                "GROUP BY s.person_source_value"
            )
        missing = self.sql(
            "SELECT COUNT(*) FROM n_psv n WHERE NOT EXISTS "
            "(SELECT 1 FROM m_person m WHERE m.psv = n.psv)"
        ).scalar()
        if missing and self.research_id is not None:
            # 3. a patient of the warehouse that has no person row yet (no birth date)
            rows = self.sql(
                "SELECT p.ipp, p.person_id FROM hopia_id.patient p WHERE NOT EXISTS "
                "(SELECT 1 FROM omop.person pr WHERE pr.person_id = p.person_id)"
            ).all()
            if rows:
                batch = pa.RecordBatch.from_arrays(
                    [
                        pa.array([self.research_id(ipp) for ipp, _ in rows], _TEXT),
                        pa.array([int(pid) for _, pid in rows], _BIGINT),
                    ],
                    names=["psv", "person_id"],
                )
                self.temp("r_person", {"psv": "TEXT", "person_id": "BIGINT"})
                stage_arrow(self.conn, "r_person", [batch])
                self.sql(
                    "INSERT INTO m_person SELECT n.psv, MIN(r.person_id) FROM n_psv n "
                    "JOIN r_person r ON r.psv = n.psv WHERE NOT EXISTS "
                    "(SELECT 1 FROM m_person m WHERE m.psv = n.psv) GROUP BY n.psv"
                )
        # 4. a person never seen: the next id over patient and person
        first = max(
            self.next_id(schema.patient, "person_id"),
            self.next_id(schema.CDM["person"], "person_id"),
        )
        self.sql(
            "INSERT INTO m_person SELECT psv, :first + ROW_NUMBER() OVER (ORDER BY psv) - 1 "
            "FROM n_psv n WHERE NOT EXISTS (SELECT 1 FROM m_person m WHERE m.psv = n.psv)",
            first=first,
        )
        if "person" not in self.staged:
            return
        self.temp("l_person", {}, self._latest("person", "person_source_value"))
        fields = [
            c.name
            for c in schema.CDM["person"].columns
            if c.name not in ("person_id", "person_source_value")
        ]
        changed = " OR ".join(f'(p."{f}" IS DISTINCT FROM s."{f}")' for f in fields)
        updated = self.sql(
            "UPDATE omop.person AS p SET "
            + ", ".join(f'"{f}" = s."{f}"' for f in fields)
            + " FROM l_person s JOIN m_person m ON m.psv = s.person_source_value "
            f"WHERE p.person_id = m.person_id AND ({changed})"
        ).rowcount
        inserted = self.sql(
            "INSERT INTO omop.person (person_id, person_source_value, "
            + ", ".join(f'"{f}"' for f in fields)
            + ") SELECT m.person_id, s.person_source_value, "
            + ", ".join(f's."{f}"' for f in fields)
            + " FROM l_person s JOIN m_person m ON m.psv = s.person_source_value "
            "WHERE NOT EXISTS (SELECT 1 FROM omop.person p WHERE p.person_id = m.person_id)"
        ).rowcount
        self.count("omop.person", max(updated, 0) + max(inserted, 0))

    def _visits(self) -> None:
        """``m_visit``: (person_source_value, visit_key) -> visit_occurrence_id. A stay
        (``stay:``) is found by person and ``visit_source_value``, a day's visit (``day:``) by
        person, day and ``visit_source_value``, as the OMOP writer finds them; a known visit
        takes the new state (its dates widened, never narrowed), a new one the next id."""
        self.temp("m_visit", {"psv": "TEXT", "visit_key": "TEXT", "visit_occurrence_id": "BIGINT"})
        if "visit_occurrence" not in self.staged:
            return
        self._care_sites()
        self.temp(
            "l_visit",
            {},
            "SELECT t.*, m.person_id AS _person, cs._site FROM ("
            + self._latest("visit_occurrence", "person_source_value, visit_key")
            + ") t JOIN m_person m ON m.psv = t.person_source_value "
            "LEFT JOIN m_site cs ON cs.source = t.care_site_source_value",
        )
        self.sql(
            "INSERT INTO m_visit SELECT s.person_source_value, s.visit_key, "
            "MIN(v.visit_occurrence_id) FROM l_visit s JOIN omop.visit_occurrence v "
            "ON v.person_id = s._person AND v.visit_source_value = s.visit_source_value "
            "AND (s.visit_key LIKE 'stay:%' OR v.visit_start_date = s.visit_start_date) "
            "GROUP BY s.person_source_value, s.visit_key"
        )
        updated = self.sql(
            "UPDATE omop.visit_occurrence AS v SET "
            "visit_start_date = LEAST(v.visit_start_date, s.visit_start_date), "
            "visit_end_date = GREATEST(v.visit_end_date, s.visit_end_date), "
            f"visit_concept_id = {_STAY_CONCEPT}, "
            "care_site_id = COALESCE(s._site, v.care_site_id) "
            "FROM l_visit s JOIN m_visit m ON m.psv = s.person_source_value "
            "AND m.visit_key = s.visit_key WHERE v.visit_occurrence_id = m.visit_occurrence_id "
            "AND (s.visit_start_date < v.visit_start_date "
            "OR s.visit_end_date > v.visit_end_date "
            f"OR v.visit_concept_id <> {_STAY_CONCEPT} "
            "OR (s._site IS NOT NULL AND v.care_site_id IS DISTINCT FROM s._site))"
        ).rowcount
        first = self.next_id(schema.CDM["visit_occurrence"], "visit_occurrence_id")
        self.sql(
            "INSERT INTO m_visit SELECT s.person_source_value, s.visit_key, "
            ":first + ROW_NUMBER() OVER (ORDER BY s.visit_start_date, s.person_source_value, "
            "s.visit_key) - 1 FROM l_visit s WHERE NOT EXISTS (SELECT 1 FROM m_visit m WHERE "
            "m.psv = s.person_source_value AND m.visit_key = s.visit_key)",
            first=first,
        )
        fields = [
            c.name
            for c in schema.CDM["visit_occurrence"].columns
            if c.name not in ("visit_occurrence_id", "person_id", "care_site_id")
        ]
        inserted = self.sql(
            "INSERT INTO omop.visit_occurrence (visit_occurrence_id, person_id, care_site_id, "
            + ", ".join(f'"{f}"' for f in fields)
            + ") SELECT m.visit_occurrence_id, s._person, s._site, "
            + ", ".join(f's."{f}"' for f in fields)
            + " FROM l_visit s JOIN m_visit m ON m.psv = s.person_source_value "
            "AND m.visit_key = s.visit_key WHERE m.visit_occurrence_id >= :first",
            first=first,
        ).rowcount
        self.count("omop.visit_occurrence", max(updated, 0) + max(inserted, 0))

    def _known_visits(self) -> None:
        """The visits the notes name that this load does not carry (a run writes no row for a
        visit it leaves unchanged): found in the warehouse by person and
        ``visit_source_value``, and the day for a ``day:YYYY-MM-DD:`` key."""
        if "note" not in self.staged:
            return
        self.sql(
            "INSERT INTO m_visit SELECT s.person_source_value, s.visit_key, "
            "MIN(v.visit_occurrence_id) FROM (SELECT DISTINCT person_source_value, visit_key, "
            "visit_source_value FROM s_note WHERE visit_key IS NOT NULL) s "
            "JOIN m_person p ON p.psv = s.person_source_value "
            "JOIN omop.visit_occurrence v ON v.person_id = p.person_id "
            "AND v.visit_source_value = s.visit_source_value AND (s.visit_key LIKE 'stay:%' "
            "OR CAST(v.visit_start_date AS VARCHAR(10)) = SUBSTRING(s.visit_key, 5, 10)) "
            "WHERE NOT EXISTS (SELECT 1 FROM m_visit m WHERE m.psv = s.person_source_value "
            "AND m.visit_key = s.visit_key) GROUP BY s.person_source_value, s.visit_key"
        )

    def _care_sites(self) -> None:
        """Care sites by ``care_site_source_value``, created with their name when new."""
        self.temp("m_site", {"source": "TEXT", "_site": "BIGINT"})
        first = self.next_id(schema.CDM["care_site"], "care_site_id")
        inserted = self.sql(
            "INSERT INTO omop.care_site (care_site_id, care_site_name, care_site_source_value) "
            "SELECT :first + ROW_NUMBER() OVER (ORDER BY source) - 1, name, source FROM ("
            "SELECT care_site_source_value AS source, MIN(care_site_name) AS name "
            "FROM s_visit_occurrence WHERE care_site_source_value IS NOT NULL "
            "GROUP BY care_site_source_value) n WHERE NOT EXISTS (SELECT 1 FROM omop.care_site "
            "c WHERE c.care_site_source_value = n.source)",
            first=first,
        ).rowcount
        self.count("omop.care_site", max(inserted, 0))
        self.sql(
            "INSERT INTO m_site SELECT care_site_source_value, MIN(care_site_id) "
            "FROM omop.care_site WHERE care_site_source_value IN (SELECT "
            "care_site_source_value FROM s_visit_occurrence) GROUP BY care_site_source_value"
        )

    # notes, mentions, facts, provenance --------------------------------------------------------

    def _notes(self) -> None:
        """``m_note``: note_source_value -> note_id for the notes to load: those the warehouse
        has not (by ``note_source_value``, and by their document's ``content_hash``)."""
        self.temp("m_note", {"nsv": "TEXT", "note_id": "BIGINT"})
        if "note" not in self.staged:
            return
        self.temp("l_note", {}, self._latest("note", "note_source_value", "ASC"))
        known_document = ""
        if "document" in self.staged:
            known_document = (
                " AND NOT EXISTS (SELECT 1 FROM s_document d JOIN hopia_id.document w "
                "ON w.content_hash = d.content_hash WHERE d.note_source_value = "
                "s.note_source_value AND d.status = 'done')"
            )
        first = self.next_id(schema.CDM["note"], "note_id")
        self.sql(
            "INSERT INTO m_note SELECT s.note_source_value, :first + ROW_NUMBER() OVER "
            "(ORDER BY s.note_date, s.note_source_value) - 1 FROM l_note s "
            "WHERE NOT EXISTS (SELECT 1 FROM omop.note n WHERE n.note_source_value = "
            "s.note_source_value)" + known_document,
            first=first,
        )
        total = self.sql("SELECT COUNT(*) FROM l_note").scalar()
        fields = [
            c.name
            for c in schema.CDM["note"].columns
            if c.name not in ("note_id", "person_id", "visit_occurrence_id")
        ]
        inserted = self.sql(
            "INSERT INTO omop.note (note_id, person_id, visit_occurrence_id, "
            + ", ".join(f'"{f}"' for f in fields)
            + ") SELECT m.note_id, COALESCE(p.person_id, 0), v.visit_occurrence_id, "
            + ", ".join(f's."{f}"' for f in fields)
            + " FROM l_note s JOIN m_note m ON m.nsv = s.note_source_value "
            "LEFT JOIN m_person p ON p.psv = s.person_source_value "
            "LEFT JOIN m_visit v ON v.psv = s.person_source_value AND v.visit_key = s.visit_key"
        ).rowcount
        self.report.skipped_notes += int(total) - max(inserted, 0)
        self.count("omop.note", max(inserted, 0))

    def _concept_columns(self, table: Table) -> list[str]:
        return [c.name for c in table.columns if c.name.endswith("concept_id")]

    def _mentions_and_facts(self, run_id: int) -> None:
        self.temp("m_nlp", {"nsv": "TEXT", "mention_index": "INTEGER", "note_nlp_id": "BIGINT"})
        if "note_nlp" in self.staged:
            table = schema.CDM["note_nlp"]
            first = self.next_id(table, "note_nlp_id")
            self.sql(
                "INSERT INTO m_nlp SELECT s.note_source_value, s.mention_index, :first + "
                "ROW_NUMBER() OVER (ORDER BY m.note_id, s.mention_index) - 1 FROM s_note_nlp s "
                "JOIN m_note m ON m.nsv = s.note_source_value",
                first=first,
            )
            self._insert_rows("note_nlp", "note_nlp_id", "m_nlp", with_person=False)
        self.temp(
            "m_fact",
            {"table_name": "TEXT", "nsv": "TEXT", "mention_index": "INTEGER", "row_id": "BIGINT"},
        )
        for name in FACTS:
            if name not in self.staged:
                continue
            column = ID_COLUMN[name]
            first = self.next_id(schema.CDM[name], column)
            self.sql(
                "INSERT INTO m_fact SELECT :name, s.note_source_value, s.mention_index, :first + "
                f"ROW_NUMBER() OVER (ORDER BY m.note_id, s.mention_index) - 1 FROM s_{name} s "
                "JOIN m_note m ON m.nsv = s.note_source_value",
                name=name,
                first=first,
            )
            self._insert_rows(name, column, "m_fact", with_person=True)
        self._provenance(run_id)

    def _insert_rows(self, name: str, id_column: str, id_map: str, *, with_person: bool) -> None:
        """Insert the staged rows of a mention or fact table whose note is loaded now."""
        table = schema.CDM[name]
        concepts = self._concept_columns(table)
        own = {id_column, "note_id", "person_id", "visit_occurrence_id", *concepts}
        fields = [c.name for c in table.columns if c.name not in own]
        values: dict[str, str] = {id_column: "i.row_id" if id_map == "m_fact" else f"i.{id_column}"}
        if "note_id" in table.c:
            values["note_id"] = "m.note_id"
        if with_person:
            values["person_id"] = "n.person_id"
            values["visit_occurrence_id"] = "n.visit_occurrence_id"
        for c in concepts:
            values[c] = f'CASE WHEN s."{c}" = -1 THEN k.concept_id ELSE s."{c}" END'
        for f in fields:
            values[f] = f's."{f}"'
        join = (
            "JOIN m_fact i ON i.table_name = :name AND i.nsv = s.note_source_value "
            "AND i.mention_index = s.mention_index"
            if id_map == "m_fact"
            else "JOIN m_nlp i ON i.nsv = s.note_source_value AND i.mention_index = s.mention_index"
        )
        columns = ", ".join(f'"{v}"' for v in values)
        inserted = self.sql(
            f"INSERT INTO omop.{name} ({columns}) SELECT {', '.join(values.values())} "
            f"FROM s_{name} s JOIN m_note m ON m.nsv = s.note_source_value {join} "
            "JOIN omop.note n ON n.note_id = m.note_id "
            "LEFT JOIN m_concept k ON k.vocabulary = s.concept_vocabulary "
            "AND k.code = s.concept_code",
            name=name,
        ).rowcount
        self.count(f"omop.{name}", max(inserted, 0))

    def _provenance(self, run_id: int) -> None:
        """One provenance row per fact (and per NLP pipe that failed on a note)."""
        if "hopia_provenance" in self.staged:
            statement = (
                "INSERT INTO omop.hopia_provenance (table_name, row_id, note_id, note_nlp_id, "
                "run_id, system) SELECT s.table_name, CASE WHEN s.table_name = :pipe THEN "
                "m.note_id ELSE f.row_id END, m.note_id, l.note_nlp_id, :run, s.system "
                "FROM s_hopia_provenance s JOIN m_note m ON m.nsv = s.note_source_value "
                "LEFT JOIN m_fact f ON f.table_name = s.table_name AND f.nsv = "
                "s.note_source_value AND f.mention_index = s.mention_index "
                "LEFT JOIN m_nlp l ON l.nsv = s.note_source_value AND l.mention_index = "
                "s.mention_index AND s.table_name <> :pipe "
                "WHERE s.table_name = :pipe OR f.row_id IS NOT NULL"
            )
        else:  # an output from before the provenance table: one row per fact, its mention's system
            statement = (
                "INSERT INTO omop.hopia_provenance (table_name, row_id, note_id, note_nlp_id, "
                "run_id, system) SELECT f.table_name, f.row_id, m.note_id, l.note_nlp_id, :run, "
                "COALESCE(x.nlp_system, 'spark') FROM m_fact f JOIN m_note m ON m.nsv = f.nsv "
                "LEFT JOIN m_nlp l ON l.nsv = f.nsv AND l.mention_index = f.mention_index "
                "LEFT JOIN omop.note_nlp x ON x.note_nlp_id = l.note_nlp_id"
            )
        inserted = self.sql(statement, pipe=PIPE_ERROR_TABLE, run=run_id).rowcount
        self.count("omop.hopia_provenance", max(inserted, 0))

    # identified documents ----------------------------------------------------------------------

    def _documents(self, run_id: int) -> list[int]:
        """Documents and their PHI spans; error rows one per source (an error replaces the
        source's earlier error, a document loaded removes them, as the local ingest's runs)."""
        if "document" not in self.staged:
            return []
        table = schema.document
        self.temp("l_document", {}, self._latest("document", "content_hash"))
        # A source ingested now: its earlier error rows go (Runs.resolve_errors).
        deleted = self.sql(
            "DELETE FROM hopia_id.document WHERE status = 'error' AND (source_ref IN "
            "(SELECT source_ref FROM l_document WHERE status = 'done') OR source_ref IN "
            "(SELECT source_path FROM l_document WHERE status = 'done' AND source_path IS "
            "NOT NULL))"
        ).rowcount
        # A source refused again: its error row takes the new reason.
        updated = self.sql(
            "UPDATE hopia_id.document AS d SET error = s.error, ingested_at = s.ingested_at, "
            "run_id = :run FROM l_document s WHERE d.content_hash = s.content_hash "
            "AND s.status = 'error' AND d.status = 'error' AND d.error IS DISTINCT FROM s.error",
            run=run_id,
        ).rowcount
        first = self.next_id(table, "document_id")
        fields = [
            c.name
            for c in table.columns
            if c.name not in ("document_id", "note_id", "run_id", "ingested_at")
        ]
        self.temp("m_document", {"content_hash": "TEXT", "document_id": "BIGINT"})
        self.sql(
            "INSERT INTO m_document SELECT s.content_hash, :first + ROW_NUMBER() OVER "
            "(ORDER BY s.status, s.content_hash) - 1 FROM l_document s WHERE NOT EXISTS "
            "(SELECT 1 FROM hopia_id.document d WHERE d.content_hash = s.content_hash) AND "
            "(s.status <> 'done' OR EXISTS (SELECT 1 FROM m_note m WHERE m.nsv = "
            "s.note_source_value))",
            first=first,
        )
        inserted = self.sql(
            "INSERT INTO hopia_id.document (document_id, note_id, run_id, ingested_at, "
            + ", ".join(f'"{f}"' for f in fields)
            + ") SELECT i.document_id, n.note_id, :run, COALESCE(s.ingested_at, :now), "
            + ", ".join(f's."{f}"' for f in fields)
            + " FROM l_document s JOIN m_document i ON i.content_hash = s.content_hash "
            "LEFT JOIN m_note n ON n.nsv = s.note_source_value",
            run=run_id,
            now=datetime.now(),
        ).rowcount
        self.count("hopia_id.document", max(inserted, 0) + max(updated, 0) + max(deleted, 0))
        if "phi_span" in self.staged:
            spans = self.sql(
                "INSERT INTO hopia_id.phi_span (document_id, start_char, end_char, label, "
                "source, surrogate) SELECT i.document_id, s.start_char, s.end_char, s.label, "
                "s.source, s.surrogate FROM s_phi_span s JOIN m_document i "
                "ON i.content_hash = s.content_hash"
            ).rowcount
            self.count("hopia_id.phi_span", max(spans, 0))
        ids = self.sql(
            "SELECT i.document_id FROM m_document i JOIN l_document s "
            "ON s.content_hash = i.content_hash WHERE s.status = 'done' ORDER BY i.document_id"
        ).scalars()
        return [int(i) for i in ids]
