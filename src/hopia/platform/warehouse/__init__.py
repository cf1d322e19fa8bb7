"""The warehouse: one SQLAlchemy engine (DuckDB embedded by default, or PostgreSQL).

Engine-specific code is confined to :mod:`hopia.platform.warehouse._bulk`; everything else is
SQLAlchemy Core and runs unchanged on both engines.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from hopia.platform.config import Settings
from hopia.platform.exceptions import WarehouseError, WarehouseSchemaError
from hopia.platform.files import private_dir, private_file
from hopia.platform.warehouse import schema
from hopia.platform.warehouse._bulk import bulk_insert, insert_frame
from hopia.platform.warehouse._clean import before_cursor_execute
from hopia.platform.warehouse._locks import Lease, exclusive, translate_lock_error
from hopia.platform.warehouse.migrations import LATEST, applied_version
from hopia.platform.warehouse.migrations import migrate as run_migrations

__all__ = ["Warehouse", "open_warehouse", "schema"]

WRITER_LOCK_KEY = 0x486F706961  # "Hopia": the advisory lock that serialises writers

# DuckDB admits one writing process per file, and inside it two threads' transactions that
# append to the same table (the audit log, the jobs) conflict at commit. The writers of one
# process are serialised per database, as PostgreSQL's advisory lock serialises them all.
_DUCKDB_WRITERS: dict[str, threading.RLock] = {}
_DUCKDB_WRITERS_GUARD = threading.Lock()


def _duckdb_writer_lock(url: str) -> threading.RLock:
    path = _duckdb_file(url)
    key = str(path.resolve()) if path is not None else url
    with _DUCKDB_WRITERS_GUARD:
        return _DUCKDB_WRITERS.setdefault(key, threading.RLock())


# Key of ``Connection.info``: callables to run once the transaction of :meth:`Warehouse.begin`
# has committed (the audit log's checkpoint outside the warehouse). Dropped on rollback.
AFTER_COMMIT = "hopia.after_commit"
# Key of ``Connection.info``: callables to run once the transaction of :meth:`Warehouse.begin`
# has ended, committed or rolled back, outside the writers' turn (the record of an access
# refused inside the transaction of the read: it must outlive the rollback).
AFTER_END = "hopia.after_end"


class Warehouse:
    """Connection to the warehouse, migrated to the latest schema on open.

    ``migrate=False`` opens an already migrated database as it is: a read-only connection (a
    reporting replica, a shared test sample) refuses the migration's write transaction, and a
    command that only reads must never create nor change a schema (:meth:`check_schema`). Nor
    does it create an embedded file that is not there."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        duckdb_file = _duckdb_file(url)
        if duckdb_file is not None and migrate:
            _create_private(duckdb_file)
        try:
            # Statement parameters may hold patient data: never put them in error messages.
            self.engine: Engine = create_engine(url, hide_parameters=True)
            if url.startswith("duckdb:"):
                _cache_compiled_statements(self.engine)
            # Text a database refuses (NUL, lone surrogates) is cleaned in every statement.
            event.listen(self.engine, "before_cursor_execute", before_cursor_execute, retval=True)
            # DuckDB's "Could not set lock on file" becomes a French error naming the holder.
            hook = translate_lock_error(url, self.display_url)
            event.listen(self.engine, "handle_error", hook)
            if migrate:
                self.migrate()
        except SQLAlchemyError as exc:
            raise WarehouseError(f"Entrepôt inaccessible ({_safe_url(url)}) : {exc}") from exc
        if duckdb_file is not None and duckdb_file.exists():
            _tighten(duckdb_file)

    def migrate(self) -> None:
        """Bring the schema to the latest version (the writing commands: init, ingest, loads)."""
        with self.begin() as conn:  # serialised: concurrent first opens migrate once
            run_migrations(conn)

    def check_schema(self) -> int:
        """The schema version, checked without writing anything: a command that only reads
        stops with :class:`WarehouseSchemaError` naming ``hopia init`` when the warehouse holds
        no Hopia schema or an older one (it would otherwise create or migrate it)."""
        try:
            with self.engine.connect() as conn:
                version = applied_version(conn)
        except SQLAlchemyError as exc:
            raise WarehouseError(f"Entrepôt inaccessible ({self.display_url}) : {exc}") from exc
        if version is None:
            raise WarehouseSchemaError(
                f"l'entrepôt {self.display_url} ne contient pas le schéma de Hopia : créez-le "
                "avec hopia init (puis hopia ingest), ou désignez l'entrepôt voulu "
                "(HOPIA_HOME, HOPIA_WAREHOUSE_URL) ; une commande de lecture ne le crée jamais"
            )
        if version < LATEST:
            raise WarehouseSchemaError(
                f"le schéma de l'entrepôt {self.display_url} est en version {version}, cette "
                f"version de Hopia attend la version {LATEST} : mettez-le à jour avec hopia "
                "init ; une commande de lecture ne le modifie jamais"
            )
        return version

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return _safe_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self, *, reads_first: bool = False) -> Iterator[Connection]:
        """One write transaction: everything inside is committed together or not at all.

        Writers are serialised (identifiers are allocated from the committed maximum): DuckDB
        allows one writing process, whose threads take turns (a per-file lock); on PostgreSQL a
        transaction-level advisory lock does it.

        ``reads_first``: the transaction reads, then writes only audit entries (an audited
        read). On PostgreSQL under READ COMMITTED the advisory lock is then left to
        :func:`hopia.platform.audit.record`, which takes it before reading the chain's head
        (each statement sees what was committed before it began): the reads of concurrent
        requests no longer queue behind one another, only their appends do. DuckDB's snapshot
        is taken when its transaction starts, so a later turn would read a stale head: there
        the turn is taken at once, as for any writer.
        """
        duckdb = self.dialect == "duckdb"
        turn = _duckdb_writer_lock(self.url) if duckdb else contextlib.nullcontext()
        late = reads_first and self.engine.dialect.default_isolation_level == "READ COMMITTED"
        ended: list = []
        try:
            with turn, self.engine.begin() as conn:
                conn.info.pop(AFTER_COMMIT, None)  # left by a transaction not opened here
                conn.info[AFTER_END] = []  # also says: a transaction of this method
                if self.dialect == "postgresql" and not late:
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY}
                    )
                try:
                    yield conn
                finally:
                    hooks = conn.info.pop(AFTER_COMMIT, [])
                    ended = conn.info.pop(AFTER_END, [])
        finally:
            for hook in ended:  # committed or rolled back, the writers' turn given back
                hook()
        for hook in hooks:  # reached only once the commit succeeded
            hook()

    @contextmanager
    def exclusive(self, kind: str = "ingestion") -> Iterator[Lease]:
        """Hold the warehouse for one writing job (an ingest) from start to end.

        A second job on the same warehouse, from this process or another, is refused with
        :class:`~hopia.platform.exceptions.WarehouseBusyError` naming the first one; while the
        lease is held, no other job is alive, so runs still marked ``running`` are dead
        (see :mod:`hopia.platform.warehouse._locks`)."""
        with exclusive(self.engine, self.url, self.display_url, kind) as lease:
            yield lease

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        return bulk_insert(conn, table, rows)

    def insert_frame(self, conn: Connection, table: Table, frame: pd.DataFrame) -> int:
        return insert_frame(conn, table, frame)

    @staticmethod
    def next_id(conn: Connection, table: Table, column: str) -> int:
        """Next free identifier, inside a :meth:`begin` transaction (writers are serialised)."""
        return int(conn.execute(select(func.coalesce(func.max(table.c[column]), 0))).scalar()) + 1

    def table_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                f"{t.schema}.{t.name}": int(
                    conn.execute(select(func.count()).select_from(t)).scalar()
                )
                for t in schema.metadata.sorted_tables
                if t.schema != schema.META
            }

    def close(self) -> None:
        self.engine.dispose()


def _cache_compiled_statements(engine: Engine) -> None:
    """Let SQLAlchemy reuse the compiled form of a statement on DuckDB, as it does on
    PostgreSQL. duckdb_engine declares no statement cache (``supports_statement_cache =
    False``: not yet certified, not known broken); its compiler is PostgreSQL's, whose caching
    SQLAlchemy supports, and SQLAlchemy already leaves uncached any construct not marked
    cacheable. Without it every statement is compiled again: about 5 ms of the 45 ms of an
    audited document view on the demo (cProfile, docs/benchmarks.md, issue 12). The flag is
    the one SQLAlchemy reads (a memoised attribute of the dialect), set on this engine only;
    ``tests/platform/test_warehouse.py`` checks that statements are cached and still right."""
    engine.dialect._supports_statement_cache = True  # type: ignore[misc]


def _duckdb_file(url: str) -> Path | None:
    if not url.startswith("duckdb:///"):
        return None
    path = url[len("duckdb:///") :].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


# The warehouse file holds identities, original texts and the vault: readable by its owner
# only, whatever the umask. DuckDB creates its file with the process umask (and refuses an
# empty file), so a new database is made in a private temporary folder, set to 0600, then
# linked into place (link() keeps a file another process made first); its folder is made 0700
# when Hopia creates it.
def _create_private(path: Path) -> None:
    if not path.parent.exists():
        private_dir(path.parent)
    if path.exists() or os.name != "posix":
        return
    import duckdb

    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))  # 0700
    try:
        staged = staging / path.name
        duckdb.connect(str(staged)).close()
        os.chmod(staged, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(staged, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _tighten(path: Path) -> None:
    """An existing warehouse file (or its write-ahead log) that others may read is made 0600:
    the warehouses of earlier versions were created with the umask's 0644."""
    for item in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            private_file(item)


def _safe_url(url: str) -> str:
    # Never print a password from a URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse configured in ``settings``."""
    return Warehouse(settings.resolved_warehouse_url())
