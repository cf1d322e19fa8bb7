"""The sample warehouse: the synthetic CHU through the real ingest, built once per test session.

Tests that only read take the ``sample`` fixture (DuckDB, and PostgreSQL when a server answers),
opened read-only so that a test that writes fails at once instead of changing what the next
test reads; tests that write take ``sample_copy`` (a copy of the DuckDB file, or a PostgreSQL
database cloned from a template). The fixtures are in ``tests/conftest.py``; this module builds,
caches and opens. Expected values in tests come from the data (SQL or pandas on the tables),
never from a previous run of the code under test.

Cache: the DuckDB file is kept in ``$HOPIA_CACHE_DIR/test-sample/`` between sessions. It is
reused only when nothing that made it has changed: the generator version, seed and size, this
recipe, the Python and package versions, and every file of ``src/hopia`` except the packages
above ingest in the layering (research, services, front ends: ``tests/test_architecture.py``
keeps them from being imported below), which cannot change what ingest writes — unless the
build imported one of them, and then it counts too. The file's own digest is checked before use,
and nobody writes to it (read-only or copied). ``HOPIA_TEST_SAMPLE_CACHE=0`` builds afresh.

The build runs in a subprocess with a clean environment (no developer ``HOPIA_*`` setting, no
``hopia.yml``), so what it imports is exactly what the build needs, and the NLP models it loads
leave with it. By hand: ``python -m tests.sample`` builds (or finds) the file and prints it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.platform.files import sha256_file

if TYPE_CHECKING:
    import pandas as pd

    from hopia.platform.warehouse import Warehouse

PATIENTS, SEED = 30, 2026
REPO = Path(__file__).resolve().parents[1]
# Packages above ingest (research, services, front ends): editing them keeps the cached build.
# A module (``data/synth/activity``: the synthetic activity that no build step imports, which
# ``tests/test_sample.py`` checks) counts as a package of its own.
DOWNSTREAM = (
    "data/synth/activity",
    "data/cohorts",
    "data/quality",
    "data/sharing",
    "data/predict",
    "management",
    "services",
    "cli",
    "web",
)


def ingest(wh: Warehouse, corpus: Path) -> None:
    """The real ingest of the synthetic corpus: the one place that calls the ingest API."""
    from hopia.platform.config import Settings
    from hopia.services.context import Context
    from hopia.services.ingest import IngestRequest
    from hopia.services.ingest import ingest as run_ingest

    request = IngestRequest.of(
        paths=(corpus / "documents.jsonl", corpus / "files"), patients=corpus / "patients.jsonl"
    )
    with Context.local(Settings()) as ctx:
        ctx.use_warehouse(wh)
        report = run_ingest(ctx, request)
    if report.errors:
        raise RuntimeError(f"sample ingest: {len(report.errors)} errors, first {report.errors[0]}")


def _build(out: Path, imported_json: Path) -> None:
    """In the build subprocess: generate, ingest into ``out``, list the packages imported."""
    from hopia.data.synth import generate, write_corpus
    from hopia.platform.warehouse import Warehouse

    corpus = out.parent / "corpus"
    write_corpus(generate(PATIENTS, SEED), corpus)
    wh = Warehouse(f"duckdb:///{out}")
    ingest(wh, corpus)
    wh.close()
    packages = {"/".join(m.split(".")[1:3]) for m in sys.modules if m.startswith("hopia.")}
    imported_json.write_text(json.dumps(sorted(packages)), encoding="utf-8")


# -- the cache key ---------------------------------------------------------------------------


def _digest(parts: Iterator[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


def code_digest(imported: list[str], root: Path | None = None) -> str:
    """Every file of the hopia package (``root``) but the downstream packages the build did not
    import."""
    import hopia

    root = root or Path(hopia.__file__).parent
    skipped = [
        p + "/" for p in DOWNSTREAM if not any((i + "/").startswith(p + "/") for i in imported)
    ]

    def files() -> Iterator[bytes]:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and not rel.startswith(tuple(skipped))
                and rel.removesuffix(".py") + "/" not in skipped
            ):
                yield rel.encode()
                yield path.read_bytes()

    return _digest(files())


def recipe_key() -> str:
    """What makes the build besides hopia's code: generator, seed, size, recipe, interpreter and
    installed packages."""
    from importlib.metadata import distributions

    from hopia.data.synth import GENERATOR_VERSION

    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions())
    recipe = inspect.getsource(ingest) + inspect.getsource(_build)  # not the rest of this file
    return _digest(
        iter(
            [
                f"{GENERATOR_VERSION}:{SEED}:{PATIENTS}".encode(),
                recipe.encode(),
                sys.version.encode(),
                "\n".join(packages).encode(),
            ]
        )
    )


# -- build or reuse --------------------------------------------------------------------------


def _run_build(folder: Path, keys: dict[str, str]) -> tuple[Path, list[str], float]:
    folder.mkdir(parents=True, exist_ok=True)
    out, imported_json = folder / "sample.duckdb", folder / "imported.json"
    config = folder / "hopia.yml"
    config.write_text("{}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOPIA_")}
    env.update(keys)
    env.update(
        HOPIA_HOME=str(folder / "home"),
        HOPIA_CONFIG=str(config),  # never a developer's ./hopia.yml
        HOPIA_CACHE_DIR=os.environ.get("HOPIA_CACHE_DIR", str(REPO / ".hopia-cache")),
        OMP_NUM_THREADS="1",
        TQDM_DISABLE="1",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tests.sample", "--build", str(out), str(imported_json)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sample warehouse build failed:\n{done.stderr[-4000:]}")
    imported = json.loads(imported_json.read_text(encoding="utf-8"))
    return out, imported, time.perf_counter() - started


def _cached(path: Path, key: str) -> bool:
    manifest = path.with_suffix(".json")
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("key") == key
        and path.is_file()
        and meta.get("code") == code_digest(meta.get("imported", []))
        and meta.get("sha256") == sha256_file(path)
    )


def sample_file(folder: Path, keys: dict[str, str], cache: Path | None) -> Path:
    """The sample DuckDB file: from ``cache`` when still valid, else built (and cached).

    ``keys``: the HOPIA_SECRET_KEY and HOPIA_VAULT_KEY of the tests (they shape the research
    ids and the vault, so they are part of the key too)."""
    key = _digest(iter([recipe_key().encode(), json.dumps(keys, sort_keys=True).encode()]))[:20]
    if cache is not None:
        target = cache / f"sample-{key}.duckdb"
        if _cached(target, key):
            return target
    built, imported, seconds = _run_build(folder / "build", keys)
    if cache is None:
        return built
    cache.mkdir(parents=True, exist_ok=True)
    for old in [*cache.glob("sample-*"), *cache.glob(".sample-*")]:  # one build is kept
        old.unlink(missing_ok=True)
    partial = cache / f".sample-{key}.{uuid.uuid4().hex}.tmp"
    shutil.copyfile(built, partial)
    os.replace(partial, target)  # the manifest last: a file without one is never used
    manifest = {
        "key": key,
        "code": code_digest(imported),
        "imported": imported,
        "sha256": sha256_file(target),
        "patients": PATIENTS,
        "seed": SEED,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "build_seconds": round(seconds, 1),
    }
    partial = cache / f".sample-{key}.{uuid.uuid4().hex}.json.tmp"
    partial.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(partial, target.with_suffix(".json"))
    return target


# -- reading, for expected values -------------------------------------------------------------


def frame(wh: Warehouse, table: str, schema: str = "omop") -> pd.DataFrame:
    """A whole table as pandas reads it with plain SQL (no Hopia code in between); ``*_date``
    columns as timestamps."""
    import pandas as pd
    from sqlalchemy import text

    with wh.engine.connect() as conn:
        out = pd.read_sql(text(f'SELECT * FROM {schema}."{table}"'), conn)
    for column in out.columns:
        if column.endswith("_date"):
            out[column] = pd.to_datetime(out[column])
    return out


# -- opening ---------------------------------------------------------------------------------


def open_existing(url: str) -> Warehouse:
    """A :class:`Warehouse` on an already migrated database, without the migration step: the
    migration opens a write transaction, which a read-only database refuses."""
    from hopia.platform.warehouse import Warehouse

    return Warehouse(url, migrate=False)


def read_only_duckdb(path: Path) -> Warehouse:
    return open_existing(f"duckdb:///{path}?access_mode=read_only")


def duckdb_copy(path: Path, folder: Path) -> Warehouse:
    from hopia.platform.warehouse import Warehouse

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, folder / "sample.duckdb")
    return Warehouse(f"duckdb:///{folder / 'sample.duckdb'}")


def anchor_audit(wh: Warehouse, folder: Path, key: str) -> None:
    """Key a copy's audit log as the services do, and checkpoint its head (as ``hopia init``
    does for a warehouse restored from a backup): entries written on the copy, even by the data
    layer, are then keyed, and ``audit.verify`` checks them against the checkpoint."""
    from hopia.platform import audit

    bound = audit.AuditAnchor(folder, wh.display_url, key.encode)
    audit.anchor(wh.engine, bound)
    with wh.engine.connect() as conn:
        assert audit.reanchor(conn, bound).ok


def copy_rows(source: Warehouse, target: Warehouse) -> dict[str, int]:
    """Every row of every table of ``source`` into the (migrated, empty) ``target``."""
    from sqlalchemy import select

    from hopia.platform.warehouse import schema

    counts = {}
    with source.engine.connect() as src, target.begin() as dst:
        for table in schema.metadata.sorted_tables:
            if table is schema.schema_migrations:
                continue
            rows = [dict(r) for r in src.execute(select(table)).mappings()]
            counts[f"{table.schema}.{table.name}"] = target.insert_rows(dst, table, rows)
    return counts


@dataclass
class PostgresSample:
    """The sample in a throw-away PostgreSQL database of this session, read through a role that
    can only read, and cloned (``CREATE DATABASE … TEMPLATE``) for the tests that write."""

    admin: Any  # psycopg2 connection to the server's ``postgres`` database, autocommit
    database: str
    reader: str
    host: str
    user: str
    clones: list[str] = field(default_factory=list)

    def url(self, database: str | None = None, user: str | None = None) -> str:
        where = f"{self.host}:5432/{database or self.database}"
        return f"postgresql+psycopg2://{user or self.user}@{where}"

    def clone(self) -> str:
        """A fresh writable copy; the template must have no open connection (the caller closes
        the read-only engine's pool first)."""
        name = f"{self.database}_c{len(self.clones)}"
        with self.admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} TEMPLATE {self.database}")
        self.clones.append(name)
        return name


@contextmanager
def postgres_sample(path: Path, host: str, user: str) -> Iterator[PostgresSample]:
    """The DuckDB sample copied row for row into a new PostgreSQL database (the same rows, so
    both engines answer the same questions identically), dropped at the end; ``pytest.skip``
    when no server answers."""
    import psycopg2
    import pytest

    from hopia.platform.warehouse import Warehouse

    try:
        admin = psycopg2.connect(
            host=host, port=5432, user=user, dbname="postgres", connect_timeout=3
        )
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers on {host}:5432 ({exc.__class__.__name__})")
    admin.autocommit = True
    tag = uuid.uuid4().hex[:10]
    pg = PostgresSample(admin, f"hopia_sample_{tag}", f"hopia_reader_{tag}", host, user)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {pg.database}")
            # pg_read_all_data: SELECT everywhere, no write; temporary tables stay allowed.
            cur.execute(f"CREATE ROLE {pg.reader} LOGIN IN ROLE pg_read_all_data")
        source, target = read_only_duckdb(path), Warehouse(pg.url())
        try:
            copy_rows(source, target)
        finally:
            source.close()
            target.close()
        yield pg
    finally:
        # Dropped together at the end: each DROP DATABASE waits for a checkpoint (seconds on a
        # busy disk), which a drop after every test would pay again and again.
        with admin.cursor() as cur:
            for name in [*pg.clones, pg.database]:
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {pg.reader}")
        admin.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        _build(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        import tempfile

        from tests.conftest import TEST_KEYS  # also sets HOPIA_CACHE_DIR as the tests do

        cache = Path(os.environ["HOPIA_CACHE_DIR"]) / "test-sample"
        print(sample_file(Path(tempfile.mkdtemp()), TEST_KEYS, cache))
