"""The head checkpoint made cheap (issue 12, item 10) without losing tamper evidence.

The checkpoint is overwritten in place (one fixed-size block, no fsync per entry) and a writer
trusts what it wrote itself while the file's identity is unchanged. On DuckDB and PostgreSQL,
``hopia audit verify`` alone (the command, and the service behind it) must still see the last
entries deleted, the log emptied or rewritten, and the checkpoint forged, deleted or replaced;
a writer must still refuse to extend a truncated log, even with the checkpoint in its cache.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform import audit
from hopia.platform.config import get_settings
from hopia.platform.exceptions import AuditError
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import setup
from hopia.services.audit import VerifyRequest
from hopia.services.audit import verify as verify_service
from hopia.services.context import Context
from tests.platform.pg import postgres_url

LOG = schema.audit_log


@pytest.fixture(params=["duckdb", "postgres"])
def home(request: pytest.FixtureRequest, hopia_home: Path, monkeypatch: pytest.MonkeyPatch):
    """An initialised installation (keys from the test environment) on each engine, its log
    anchored by ``hopia init`` and three audited writes made through a context."""
    if request.param == "postgres":
        with postgres_url() as url:
            monkeypatch.setenv("HOPIA_WAREHOUSE_URL", url)
            get_settings.cache_clear()
            yield from _initialised()
    else:
        yield from _initialised()


def _initialised() -> Iterator[Path]:
    settings = get_settings()
    with Context.local(settings) as ctx:
        setup.init(ctx)
    audited(3)
    yield settings.home


def audited(n: int) -> None:
    with Context.local(get_settings()) as ctx:
        wh = ctx.warehouse()
        for i in range(n):
            with wh.begin() as conn:
                audit.record(conn, "dr.x", "document.view", f"note:{i + 1}", None, {"n": i})


def verified() -> audit.VerifyResult:
    with Context.local(get_settings()) as ctx:
        return verify_service(ctx, VerifyRequest.of())


def cli_verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, " ".join(result.output.split())


def tamper(*statements: object) -> None:
    """Rewrite the log behind Hopia's back, with plain SQL (no key, no anchor)."""
    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    try:
        with wh.engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[call-overload]
    finally:
        wh.close()


def checkpoint_file(home: Path) -> Path:
    (path,) = (home / "audit").glob("*.head.json")
    return path


def test_appends_overwrite_one_block_in_place(home: Path) -> None:
    path = checkpoint_file(home)
    before = path.stat()
    audited(5)
    after = path.stat()
    # Same file, same size: no temporary file renamed over it per entry.
    assert after.st_ino == before.st_ino and after.st_size == audit.CHECKPOINT_SIZE
    assert after.st_mode & 0o077 == 0
    body = json.loads(path.read_text())  # still one JSON document (padded with blanks)
    result = verified()
    assert result.ok and body["seq"] == result.head_id == result.checkpoint_id == 9
    code, output = cli_verify()
    assert code == 0 and "intègre" in output and "entrée 9" in output


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda: delete(LOG).where(LOG.c.audit_id == 4), "supprimées à la fin"),
        (lambda: delete(LOG).where(LOG.c.audit_id >= 2), "supprimées à la fin"),
        (lambda: delete(LOG), "journal vidé"),
    ],
    ids=["last", "last-three", "all"],
)
def test_truncation_is_seen_by_audit_verify_alone(home: Path, cut, expected: str) -> None:
    tamper(cut())
    code, output = cli_verify()
    assert code == 1 and "altéré" in output and expected in output
    assert not verified().ok


def test_a_rewritten_log_is_seen_by_audit_verify_alone(home: Path) -> None:
    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    with wh.engine.connect() as conn:
        rows = conn.execute(select(LOG).order_by(LOG.c.audit_id)).all()
    wh.close()
    prev, statements = audit.GENESIS, [delete(LOG)]
    for row in rows:  # a consistent chain, recomputed the unkeyed way, as anyone could
        details = json.loads(row.details)
        target = "note:999" if row.audit_id == 3 else row.target
        fields = audit._record(
            row.audit_id, row.at, row.actor, row.action, target, row.reason, details
        )
        digest = audit.entry_hash(prev, fields)
        values = {**row._mapping, "target": target, "prev_hash": prev, "hash": digest}
        statements.append(LOG.insert().values(**values))
        prev = digest
    tamper(*statements)
    code, output = cli_verify()
    assert code == 1 and "altéré" in output


def test_a_forged_or_deleted_checkpoint_is_seen(home: Path) -> None:
    path = checkpoint_file(home)
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "seq": 2}))  # moved back, the signature kept
    code, output = cli_verify()
    assert code == 1 and "falsifié" in output
    path.unlink()
    code, output = cli_verify()
    assert code == 1 and "point de contrôle de la tête absent" in output


def test_a_writer_with_the_checkpoint_in_its_cache_refuses_a_truncated_log(home: Path) -> None:
    audited(1)  # this process now holds the checkpoint in its cache
    tamper(delete(LOG).where(LOG.c.audit_id >= 4))
    with pytest.raises(AuditError, match="journal d'audit altéré"):
        audited(1)  # it would hide the truncation under a new head
    assert "supprimées à la fin" in (verified().problem or "")


def test_a_checkpoint_edited_behind_a_writer_is_read_again(home: Path) -> None:
    """The cache holds only while the file is the one this process wrote: a same-size forgery
    (one block, signature kept, seq changed) changes the file's ctime, so the writer reads the
    file again and refuses to append."""
    audited(1)
    path = checkpoint_file(home)
    body = json.loads(path.read_text())
    forged = json.dumps({**body, "seq": body["seq"] - 1}, separators=(",", ":"))
    time.sleep(0.05)  # past the file system's timestamp tick (the coarse kernel clock)
    with path.open("r+b") as fh:
        fh.write(forged.ljust(audit.CHECKPOINT_SIZE - 1).encode() + b"\n")
    assert path.stat().st_size == audit.CHECKPOINT_SIZE
    with pytest.raises(AuditError, match="falsifié"):
        audited(1)
    code, output = cli_verify()
    assert code == 1 and "falsifié" in output


def test_a_replayed_old_checkpoint_is_moved_forward_by_the_next_writer(home: Path) -> None:
    """An older genuine checkpoint put back (a copy saved earlier) while the log is intact: the
    writer re-reads it (the file changed), finds it behind the head, and moves it forward."""
    path = checkpoint_file(home)
    old = path.read_bytes()
    audited(2)
    time.sleep(0.05)
    path.write_bytes(old)
    assert verified().ok  # behind the head but in the chain: a lagging checkpoint is allowed
    audited(1)
    assert json.loads(path.read_text())["seq"] == verified().head_id == 7


def test_a_checkpoint_of_the_earlier_format_is_read_then_kept_in_place(home: Path) -> None:
    """Installations of the previous version wrote the JSON unpadded: it is read as it is,
    then rewritten whole once as a block (from then on overwritten in place)."""
    path = checkpoint_file(home)
    body = json.loads(path.read_text())
    path.write_text(json.dumps(body, separators=(",", ":")) + "\n")  # as the old writer did
    os.chmod(path, 0o600)
    assert verified().ok
    audited(2)
    assert path.stat().st_size == audit.CHECKPOINT_SIZE
    assert verified().ok and verified().head_id == 6


def test_a_rolled_back_entry_leaves_the_block_unchanged(home: Path) -> None:
    path = checkpoint_file(home)
    before = path.read_bytes()
    with Context.local(get_settings()) as ctx:
        wh = ctx.warehouse()
        with pytest.raises(RuntimeError), wh.begin() as conn:
            audit.record(conn, "dr.x", "document.view", "note:9")
            raise RuntimeError("the audited read failed")
    assert path.read_bytes() == before
    assert verified().ok


def test_the_head_is_found_from_the_checkpoint_and_without_it(home: Path) -> None:
    """``_head`` starts at the checkpoint's entry; the answer is the last entry either way."""
    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    try:
        with wh.engine.connect() as conn:
            last = audit._head(conn, 0)
            assert last is not None and last.audit_id == 4
            assert tuple(audit._head(conn, 2)) == tuple(last)
            assert tuple(audit._head(conn, 4)) == tuple(last)
            assert tuple(audit._head(conn, 99)) == tuple(last)  # nothing there: searched whole
    finally:
        wh.close()
