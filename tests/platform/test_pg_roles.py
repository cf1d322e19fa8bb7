"""The research role on a real PostgreSQL server: deploy/postgres/research-role.sql, run as the
deployment guide says, grants ``omop`` and nothing else. PostgreSQL itself refuses the research
role the identified space, the vault and Hopia's metadata (audit log, accounts).

Throw-away roles and database (unique names), dropped afterwards; skipped without a server or
without ``psql`` (the script uses psql's variables)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.platform.pg import PG_HOST, PG_USER

pytestmark = pytest.mark.postgres
SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "research-role.sql"
READABLE = ("omop.note", "omop.person", "omop.note_nlp", "omop.concept", "omop.hopia_provenance")
REFUSED = (
    "hopia_id.patient",
    "hopia_id.document",
    "hopia_id.phi_span",
    "hopia_vault.vault_entry",
    "hopia_vault.vault_patient",
    "hopia_meta.audit_log",
    "hopia_meta.schema_migrations",
)


def _connect(user: str, dbname: str):  # noqa: ANN202 - psycopg2 connection
    import psycopg2

    return psycopg2.connect(host=PG_HOST, port=5432, user=user, dbname=dbname, connect_timeout=3)


def test_research_role_reads_omop_only() -> None:
    import psycopg2
    from psycopg2 import errors

    from hopia.platform.warehouse import Warehouse

    if shutil.which("psql") is None:
        pytest.skip("psql absent: the roles script uses psql's variables")
    try:
        admin = _connect(PG_USER, "postgres")
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers on {PG_HOST}:5432 ({exc.__class__.__name__})")
    admin.autocommit = True
    tag = uuid.uuid4().hex[:8]
    owner, group, login = f"hopia_own_{tag}", f"hopia_research_{tag}", f"dupont_{tag}"
    database = f"hopia_roles_{tag}"
    try:
        with admin.cursor() as cur:  # the deployment guide's first step, as a superuser
            cur.execute(f"CREATE ROLE {owner} LOGIN")
            cur.execute(f"CREATE DATABASE {database} OWNER {owner}")
        # hopia init: the schemas, created by Hopia's own role
        wh = Warehouse(f"postgresql+psycopg2://{owner}@{PG_HOST}:5432/{database}")
        wh.close()
        run = [
            "psql",
            "-h",
            PG_HOST,
            "-U",
            PG_USER,
            "-X",
            "-q",
            "-v",
            f"database={database}",
            "-v",
            f"owner={owner}",
            "-v",
            f"research={group}",
            "-f",
            str(SCRIPT),
            database,
        ]
        for _ in range(2):  # a second run changes nothing and does not fail
            done = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
        with admin.cursor() as cur:
            cur.execute(f"CREATE ROLE {login} LOGIN IN ROLE {group}")
        # a table a later migration creates in omop, as Hopia's role: readable too
        own = _connect(owner, database)
        with own, own.cursor() as cur:
            cur.execute("CREATE TABLE omop.later_table (x int)")
        own.close()

        research = _connect(login, database)
        research.autocommit = True
        with research.cursor() as cur:
            for table in (*READABLE, "omop.later_table"):
                cur.execute(f"SELECT count(*) FROM {table}")
                assert cur.fetchone() is not None
            for table in REFUSED:
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    cur.execute(f"SELECT * FROM {table} LIMIT 1")
            with pytest.raises(errors.InsufficientPrivilege):  # read-only, even on omop
                cur.execute("DELETE FROM omop.note")
        research.close()
        # a role outside the group cannot even connect (CONNECT revoked from PUBLIC)
        with admin.cursor() as cur:
            cur.execute(f"CREATE ROLE {login}_x LOGIN")
        with pytest.raises(psycopg2.OperationalError, match="permission denied"):
            _connect(f"{login}_x", database)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            for role in (f"{login}_x", login, group, owner):
                cur.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()
