"""The platform's part of the fault probe (issue 11, finding 8), kept as tests so it stays true:
private files whatever the umask, weak key modes refused, no key made under existing data, an
audit log whose truncation or rewriting ``verify`` sees alone, refusals on record, reasons that
say something."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from hopia.platform import audit
from hopia.platform.access import Principal, Purpose, RolePolicy, check_reason, reason_words
from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    AuditError,
    ConfigError,
    KeysMissingError,
    ReasonRequiredError,
)
from hopia.platform.files import staging_dir, write_text_atomic
from hopia.platform.keys import AUDIT_FILE, SECRET_FILE, VAULT_FILE, init_keys, load_secret
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import setup
from hopia.services.audit import VerifyRequest
from hopia.services.audit import verify as verify_service
from hopia.services.context import Context
from hopia.services.reidentify import ReidentifyNoteRequest, reidentify_note

LOG = schema.audit_log
KEY_FILES = (SECRET_FILE, VAULT_FILE, AUDIT_FILE)
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An installation with no configured key: keys are files under its home."""
    for name in ("HOPIA_SECRET_KEY", "HOPIA_VAULT_KEY", "HOPIA_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings(home=tmp_path / "home")


def initialised(settings: Settings) -> Settings:
    with Context.local(settings) as ctx:
        setup.init(ctx)
    return settings


def audited(settings: Settings, n: int = 3) -> None:
    """``n`` audited writes through a context, as the services make them."""
    with Context.local(settings) as ctx:
        wh = ctx.warehouse()
        for i in range(n):
            with wh.begin() as conn:
                audit.record(conn, "dr.x", "pseudo.reidentify", f"note:{i + 1}", "motif du DIM")


def verified(settings: Settings) -> audit.VerifyResult:
    with Context.local(settings) as ctx:
        return verify_service(ctx, VerifyRequest.of())


def tamper(settings: Settings, *statements: object) -> None:
    """Rewrite the log behind Hopia's back, with plain SQL (no context: no key, no anchor)."""
    wh = Warehouse(settings.resolved_warehouse_url())
    try:
        with wh.engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[call-overload]
    finally:
        wh.close()


# -- 1. file modes --------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000])
def test_init_makes_everything_private_whatever_the_umask(bare: Settings, mask: int) -> None:
    with umask(mask):
        initialised(bare)
    home = bare.home
    assert mode(home) == 0o700 and mode(home / "audit") == 0o700
    for name in (*KEY_FILES, "warehouse.duckdb"):
        assert mode(home / name) == 0o600, name
    for checkpoint in (home / "audit").glob("*.json"):
        assert mode(checkpoint) == 0o600


@posix_only
def test_a_warehouse_of_an_earlier_version_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "old"
    home.mkdir(mode=0o755)
    path = home / "warehouse.duckdb"
    Warehouse(f"duckdb:///{path}").close()
    path.chmod(0o644)  # as earlier versions left it
    Warehouse(f"duckdb:///{path}").close()
    assert mode(path) == 0o600


@posix_only
def test_a_new_warehouse_file_and_folder_are_private(tmp_path: Path) -> None:
    with umask(0o000):
        wh = Warehouse(f"duckdb:///{tmp_path / 'new' / 'sub' / 'w.duckdb'}")
        wh.close()
    assert mode(tmp_path / "new" / "sub") == 0o700
    assert mode(tmp_path / "new" / "sub" / "w.duckdb") == 0o600


@posix_only
def test_a_private_export_folder_is_private_inside_too(tmp_path: Path) -> None:
    with umask(0o000), staging_dir(tmp_path / "export", private=True) as staging:
        (staging.path / "sub").mkdir()
        (staging.path / "sub" / "person.csv").write_text("person_id\n1\n")  # as pandas writes
        (staging.path / "manifest.json").write_text("{}")
    out = tmp_path / "export"
    assert mode(out) == 0o700 and mode(out / "sub") == 0o700
    assert mode(out / "manifest.json") == 0o600 and mode(out / "sub" / "person.csv") == 0o600
    with umask(0o000):
        write_text_atomic(tmp_path / "new" / "patients.csv", "x", private=True)
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "patients.csv") == 0o600


@posix_only
@pytest.mark.parametrize("name", KEY_FILES)
@pytest.mark.parametrize("weak", [0o644, 0o640, 0o604, 0o660])
def test_every_key_file_with_a_weak_mode_is_refused(bare: Settings, name: str, weak: int) -> None:
    initialised(bare)
    (bare.home / name).chmod(weak)
    with pytest.raises(ConfigError) as refused:
        init_keys(bare)  # reads every key back
    message = refused.value.message
    assert f"chmod 600 {bare.home / name}" in message and "accessible à d'autres" in message
    assert refused.value.details["mode"] == f"{weak:04o}"


# -- 2. no key made once data exists -------------------------------------------------------------


def test_no_command_but_init_creates_a_key(bare: Settings) -> None:
    from hopia.services.ingest import LoadPatientsRequest, load_patients

    registry = bare.home.parent / "patients.jsonl"
    registry.write_text('{"ipp": "1", "nom": "X", "prenom": "Y"}\n', encoding="utf-8")
    with Context.local(bare) as ctx, pytest.raises(KeysMissingError, match="hopia init"):
        load_patients(ctx, LoadPatientsRequest.of(path=registry))
    assert not any((bare.home / name).exists() for name in KEY_FILES)


@pytest.mark.parametrize("lost", [SECRET_FILE, VAULT_FILE])
def test_a_lost_key_under_data_is_an_error_not_a_new_key(bare: Settings, lost: str) -> None:
    initialised(bare)
    audited(bare, 1)  # the warehouse now holds data made under these keys
    kept = {n: (bare.home / n).read_bytes() for n in KEY_FILES if n != lost}
    (bare.home / lost).unlink()
    with pytest.raises(KeysMissingError, match="Restaurez") as refused:
        initialised(bare)
    assert "déjà des données" in refused.value.message
    assert not (bare.home / lost).exists()  # nothing made anew
    assert {n: (bare.home / n).read_bytes() for n in kept} == kept
    with pytest.raises(KeysMissingError, match="sauvegarde"):
        load_secret(bare) if lost == SECRET_FILE else Context.local(bare).vault_key()


def test_init_never_replaces_a_key(bare: Settings) -> None:
    initialised(bare)
    before = {n: (bare.home / n).read_bytes() for n in KEY_FILES}
    status = initialised(bare)
    assert {n: (bare.home / n).read_bytes() for n in KEY_FILES} == before
    assert init_keys(status).created is False


# -- 3. the audit log, anchored outside the warehouse ----------------------------------------------


def test_an_untouched_log_verifies_and_is_keyed(bare: Settings) -> None:
    initialised(bare)
    audited(bare)
    result = verified(bare)
    assert result.ok and result.keyed and result.entries == 4  # the anchoring + 3
    assert result.checkpoint_id == result.head_id == 4


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda: delete(LOG).where(LOG.c.audit_id == 4), "supprimées à la fin"),
        (lambda: delete(LOG).where(LOG.c.audit_id >= 3), "supprimées à la fin"),
        (lambda: delete(LOG), "journal vidé"),
    ],
    ids=["last", "last-two", "all"],
)
def test_truncation_is_seen_by_verify_alone(bare: Settings, cut, expected: str) -> None:
    initialised(bare)
    audited(bare)
    tamper(bare, cut())
    result = verified(bare)
    assert not result.ok and expected in (result.problem or "")


def test_a_log_rewritten_whole_without_the_key_is_seen(bare: Settings) -> None:
    initialised(bare)
    audited(bare)
    wh = Warehouse(bare.resolved_warehouse_url())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(LOG).order_by(LOG.c.audit_id)).all()
    wh.close()
    # Recompute a consistent chain with a changed reason: the unkeyed way, as anyone could.
    prev, statements = audit.GENESIS, [delete(LOG)]
    for row in rows:
        details = json.loads(row.details)
        reason = "autre motif inventé" if row.audit_id == 2 else row.reason
        fields = audit._record(
            row.audit_id, row.at, row.actor, row.action, row.target, reason, details
        )
        digest = audit.entry_hash(prev, fields)
        statements.append(
            LOG.insert().values(
                **{**row._mapping, "reason": reason, "prev_hash": prev, "hash": digest}
            )
        )
        prev = digest
    tamper(bare, *statements)
    result = verified(bare)
    # Consistent as a chain, but the head no longer matches the checkpoint kept outside.
    assert not result.ok and "journal réécrit" in (result.problem or "")


def test_an_edited_entry_is_seen(bare: Settings) -> None:
    initialised(bare)
    audited(bare)
    tamper(bare, update(LOG).where(LOG.c.audit_id == 3).values(actor="quelqu'un d'autre"))
    result = verified(bare)
    assert not result.ok and result.broken_at == 3 and "empreinte invalide" in result.problem


def test_a_missing_or_forged_checkpoint_is_seen(bare: Settings) -> None:
    initialised(bare)
    audited(bare)
    (checkpoint,) = (bare.home / "audit").glob("*.head.json")
    body = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({**body, "seq": 2}))  # moved back, without the key
    forged = verified(bare)
    assert not forged.ok and "falsifié" in (forged.problem or "")
    checkpoint.unlink()
    missing = verified(bare)
    assert not missing.ok and "point de contrôle de la tête absent" in (missing.problem or "")


def test_a_writer_refuses_to_extend_a_truncated_log(bare: Settings) -> None:
    initialised(bare)
    audited(bare)
    tamper(bare, delete(LOG).where(LOG.c.audit_id == 4))
    with pytest.raises(AuditError, match="journal d'audit altéré"):
        audited(bare, 1)  # it would hide the truncation under a new head
    assert "supprimées à la fin" in (verified(bare).problem or "")


def test_a_rolled_back_entry_never_moves_the_checkpoint(bare: Settings) -> None:
    initialised(bare)
    audited(bare, 1)
    (checkpoint,) = (bare.home / "audit").glob("*.head.json")
    before = checkpoint.read_text()
    with Context.local(bare) as ctx:
        wh = ctx.warehouse()
        with pytest.raises(RuntimeError), wh.begin() as conn:
            audit.record(conn, "dr.x", "pseudo.reidentify", "note:9", "motif du DIM")
            raise RuntimeError("the audited action failed")
    assert checkpoint.read_text() == before
    assert verified(bare).ok


def test_an_existing_warehouse_is_migrated_by_init(bare: Settings) -> None:
    """The migration path: a log written before the keyed chain (the demo's) is checked, then
    anchored, by ``hopia init``; later truncation is then seen."""
    wh = Warehouse(bare.resolved_warehouse_url())  # no context: the unkeyed chain of old
    for i in range(3):
        with wh.begin() as conn:
            audit.record(conn, "dr.x", "ingest.run", f"run:{i}")
    wh.close()
    init_keys(bare, data_exists=False)  # the keys of that installation
    (bare.home / AUDIT_FILE).unlink()  # …from before the audit key existed
    with Context.local(bare) as ctx:
        with pytest.raises(AuditError, match="non ancré"):
            audited(bare, 1)  # not before the log is anchored
        result = setup.init(ctx)
    assert result.audit == "anchored" and result.audit_entries == 3
    assert result.keys.audit == "created"
    audited(bare, 1)
    assert verified(bare).ok and verified(bare).entries == 5
    tamper(bare, delete(LOG).where(LOG.c.audit_id == 5))
    assert not verified(bare).ok


def test_a_broken_old_log_is_not_anchored(bare: Settings) -> None:
    init_keys(bare)
    wh = Warehouse(bare.resolved_warehouse_url())
    for i in range(3):
        with wh.begin() as conn:
            audit.record(conn, "dr.x", "ingest.run", f"run:{i}")
    with wh.engine.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.audit_id == 2).values(target="run:autre"))
    wh.close()
    with Context.local(bare) as ctx, pytest.raises(AuditError, match="journal d'audit invalide"):
        setup.init(ctx)
    assert not list((bare.home / "audit").glob("*.head.json"))


# -- 4. refusals on record ------------------------------------------------------------------------


def refusals(settings: Settings) -> list[tuple[str, str, str, dict]]:
    wh = Warehouse(settings.resolved_warehouse_url())
    with wh.engine.connect() as conn:
        rows = conn.execute(select(LOG).where(LOG.c.action == "access.refused")).all()
    wh.close()
    return [(r.actor, r.target, r.reason, json.loads(r.details)) for r in rows]


def test_a_refused_reidentification_is_on_record(bare: Settings) -> None:
    initialised(bare)
    with Context.local(bare, "dr.curieux") as ctx, pytest.raises(ReasonRequiredError) as refused:
        reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=7, reason="xxxxxxxxxxxx"))
    assert refused.value.details["audited"] is True
    ((actor, target, reason, details),) = refusals(bare)
    assert (actor, target, reason) == ("dr.curieux", "note:7", None)  # the text is not kept
    assert details["action"] == "pseudo.reidentify" and details["code"] == "reason_required"
    assert details["reason_chars"] == 12 and "motif insuffisant" in details["why"]
    assert verified(bare).ok


def test_a_policy_refusal_is_on_record_and_nothing_is_read(bare: Settings) -> None:
    initialised(bare)
    ctx = Context(bare, Principal("alice", frozenset({"researcher"})), RolePolicy({}))
    with pytest.raises(AccessDeniedError):
        reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=3, reason="demande du DIM n° 12"))
    assert ctx._warehouse is None  # recorded through a connection of its own, then closed
    ((actor, target, _, details),) = refusals(bare)
    assert (actor, target, details["action"]) == ("alice", "note:3", "pseudo.reidentify")
    assert details["code"] == "access_denied"


def test_a_refusal_creates_no_warehouse(bare: Settings) -> None:
    ctx = Context(bare, Principal("alice", frozenset({"researcher"})), RolePolicy({}))
    with pytest.raises(AccessDeniedError) as refused:
        ctx.authorize("pseudo.reidentify", "note:1")
    assert refused.value.details["audited"] is False and not bare.home.exists()


# -- 5. a reason that says something --------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "xxxxxxxxxx",
        "1234567890",
        "azertyuiop",
        "qsdfghjklm qsdf",
        "aaaa bbbb cccc",
        "motif motif motif",
        "abcdefgh ijkl",
        "ok ok ok ok ok",
        "!!!!!!!!!!!!",
        "2024-117 / 12",
    ],
)
def test_a_reason_that_says_nothing_is_refused(reason: str) -> None:
    for purpose in Purpose:
        with pytest.raises(ReasonRequiredError) as refused:
            check_reason(reason, purpose)
        assert refused.value.fields == ("reason",)


@pytest.mark.parametrize(
    "reason",
    [
        "demande du DIM, dossier 2024-117",
        "Étude ICARE, avis CPP 24-012",
        "étude ICARE, convention 2025-014",
        "Appel du patient, vérification d'identité",
        "Étude IC 2026, avis CSE n° 12",
        "demande du DIM n° 12",
        "rotation annuelle",
        "identitovigilance doublon",
    ],
)
def test_real_reasons_are_accepted(reason: str) -> None:
    assert check_reason(reason, Purpose.REIDENTIFY) == reason


def test_the_words_that_count() -> None:
    assert reason_words("Demande du DIM 12, azerty, xxxx, ÉTUDE") == {"demande", "dim", "étude"}


@posix_only
def test_an_export_is_private_whatever_the_umask(tmp_path: Path) -> None:
    from tests.data.sharing.test_export import run as export
    from tests.data.sharing.warehouse import fill

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    fill(wh)
    with umask(0o000):
        result = export(wh, tmp_path / "export", "omop-csv", actor="dr.x")
    wh.close()
    assert mode(result.folder) == 0o700
    files = [p for p in result.folder.rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o600 for p in files)


def test_a_failed_reidentification_makes_no_vault_key(bare: Settings) -> None:
    initialised(bare)
    audited(bare, 1)
    (bare.home / VAULT_FILE).unlink()
    with Context.local(bare) as ctx, pytest.raises(KeysMissingError, match="clé du coffre"):
        reidentify_note(ctx, ReidentifyNoteRequest.of(note_id=1, reason="demande du DIM n° 12"))
    assert not (bare.home / VAULT_FILE).exists()


def test_init_does_not_anchor_unkeyed_entries_after_keyed_ones(bare: Settings) -> None:
    """A log whose checkpoint went missing is anchored again by init only if every entry after
    the first keyed one is keyed: an unkeyed tail was written by someone without the key."""
    initialised(bare)
    audited(bare, 2)
    wh = Warehouse(bare.resolved_warehouse_url())  # no anchor: writes the unkeyed way
    with wh.begin() as conn:
        audit.record(conn, "intrus", "pseudo.reidentify", "note:1", "motif inventé ici")
    wh.close()
    (checkpoint,) = (bare.home / "audit").glob("*.head.json")
    checkpoint.unlink()
    with Context.local(bare) as ctx, pytest.raises(AuditError, match="n'est pas signée"):
        setup.init(ctx)
    assert not checkpoint.exists()


# -- 6. a read never creates nor migrates a schema, on either engine ------------------------------

HOPIA_SCHEMAS = (schema.OMOP, schema.IDENTIFIED, schema.META, schema.VAULT)


@contextlib.contextmanager
def _database(engine: str, folder: Path) -> Iterator[str]:
    """An empty database on ``engine``: a DuckDB file, or a throw-away PostgreSQL database."""
    if engine == "duckdb":
        import duckdb

        path = folder / "vide.duckdb"
        duckdb.connect(str(path)).close()
        yield f"duckdb:///{path}"
        return
    from tests.platform.pg import postgres_url

    with postgres_url() as url:
        yield url


def _schemas(url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT schema_name FROM information_schema.schemata"))
            return {n for (n,) in names if n in HOPIA_SCHEMAS}
    finally:
        engine.dispose()


def _versions(url: str) -> list[int]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            migrations = schema.schema_migrations
            return sorted(conn.execute(select(migrations.c.version)).scalars())
    finally:
        engine.dispose()


def _downgrade(url: str, version: int) -> None:
    """Undo migration ``version`` behind Hopia's back (its row and the tables it created, for
    migration 12 its read indexes, for 16 its column, for 17 its indexes; the migrations do
    nothing else): an older warehouse."""
    from sqlalchemy import create_engine, text

    from hopia.platform.warehouse.migrations import READ_INDEXES, SCALE_INDEXES, _tables_of

    tables = _tables_of(version)
    assert tables or version in (12, 16, 17), (
        f"migration {version} creates no table: cannot undo it"
    )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            migrations = schema.schema_migrations
            conn.execute(delete(migrations).where(migrations.c.version == version))
            for table in reversed(tables):
                table.drop(conn)
            if version == 16:  # a column added to the usage table
                conn.execute(text(f"ALTER TABLE {schema.META}.llm_usage DROP COLUMN ended"))
            if version == 12:
                for name, schema_name, _, _ in READ_INDEXES:
                    conn.execute(text(f"DROP INDEX IF EXISTS {schema_name}.{name}"))
            if version == 17:
                for name, *_ in SCALE_INDEXES:
                    conn.execute(text(f"DROP INDEX IF EXISTS {schema.OMOP}.{name}"))
    finally:
        engine.dispose()


def _reads(settings: Settings) -> dict[str, object]:
    """Every read service, run once each: the error it stops with (None when it ran)."""
    from hopia.services import quality, warehouse

    calls = {
        "stats": lambda ctx: warehouse.stats(ctx),
        "audit": lambda ctx: verify_service(ctx, VerifyRequest.of()),
        "quality": lambda ctx: quality.history(ctx, quality.HistoryRequest.of()),
        "reidentify": lambda ctx: reidentify_note(
            ctx, ReidentifyNoteRequest.of(note_id=1, reason="Vérification de l'identité du patient")
        ),
    }
    found: dict[str, object] = {}
    for name, call in calls.items():
        with Context.local(settings) as ctx:
            try:
                call(ctx)
            except Exception as exc:  # noqa: BLE001 - the test looks at which one
                found[name] = exc
            else:
                found[name] = None
    return found


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_read_never_creates_nor_migrates_the_schema(engine: str, tmp_path: Path) -> None:
    from hopia.platform.exceptions import WarehouseSchemaError
    from hopia.platform.warehouse.migrations import LATEST, MIGRATIONS

    # Branches number their migrations apart (a gap, 9 and 10 elsewhere): the one before.
    previous = MIGRATIONS[-2].version
    with _database(engine, tmp_path) as url:
        settings = Settings(home=tmp_path / "h", warehouse_url=url)
        # No schema: every read stops, names hopia init, and creates nothing.
        for name, error in _reads(settings).items():
            assert isinstance(error, WarehouseSchemaError), (name, error)
            assert "ne contient pas le schéma de Hopia" in error.message
            assert "hopia init" in error.message
        assert _schemas(url) == set()
        # An older schema (before migration LATEST): refused as such, left as it is.
        Warehouse(url).close()
        _downgrade(url, LATEST)
        older = _versions(url)
        for name, error in _reads(settings).items():
            assert isinstance(error, WarehouseSchemaError), (name, error)
            # the version before LATEST in the list: numbers may skip (branches number apart)
            previous = MIGRATIONS[-2].version
            assert f"en version {previous}" in error.message and "hopia init" in error.message
        assert _versions(url) == older
        # hopia init upgrades it; reads then work.
        with Context.local(settings) as ctx:
            setup.init(ctx)
        assert _versions(url)[-1] == LATEST
        errors = _reads(settings)
        assert errors["stats"] is None and errors["audit"] is None and errors["quality"] is None
        assert "note" in str(errors["reidentify"])  # reached the vault: no such note


def test_a_gap_in_the_migrations_reads_as_the_older_version(tmp_path: Path) -> None:
    # Two branches numbered their migrations side by side (6 and 7): a warehouse that got 7
    # but not 6 is older, not current; a read says so and hopia init adds the missing one.
    from hopia.platform.exceptions import WarehouseSchemaError
    from hopia.platform.warehouse.migrations import LATEST, MIGRATIONS

    # The versions in order (branches number theirs apart: the list may have a gap).
    gap, before_gap = MIGRATIONS[-2].version, MIGRATIONS[-3].version
    url = f"duckdb:///{tmp_path / 'trou.duckdb'}"
    Warehouse(url).close()
    _downgrade(url, gap)
    assert gap not in _versions(url) and LATEST in _versions(url)
    reader = Warehouse(url, migrate=False)
    try:
        with pytest.raises(WarehouseSchemaError, match=f"en version {before_gap}"):
            reader.check_schema()
    finally:
        reader.close()
    Warehouse(url).close()  # what hopia init does
    assert set(_versions(url)) >= {m.version for m in MIGRATIONS}
