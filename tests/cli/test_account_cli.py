"""``hopia account`` and ``hopia serve``: an admin exists before the web does; French output;
changes audited; ``--workers`` refused on the embedded DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.warehouse import Warehouse

pytest.importorskip("argon2", reason="the web extra is not installed (pip install 'hopia[web]')")

PASSWORD = "une phrase de passe solide"


@pytest.fixture
def initialised(hopia_home: Path) -> Path:
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    return hopia_home


def _rows(home: Path, query: str) -> list:
    wh = Warehouse(f"duckdb:///{home / 'warehouse.duckdb'}")
    try:
        with wh.engine.connect() as conn:
            return list(conn.execute(text(query)))
    finally:
        wh.close()


def test_create_list_grant_disable_and_set_password(initialised: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["account", "create", "dr.martin", "--role", "clinician", "--care-site", "3",
         "--name", "Dr Martin", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Compte dr.martin créé : rôles clinician ; périmètre 3 ; actif" in created.output
    listed = runner.invoke(app, ["account", "list"])
    assert listed.exit_code == 0 and "dr.martin" in listed.output and "1 compte(s)" in listed.output
    granted = runner.invoke(app, ["account", "grant", "dr.martin", "--care-site", "3",
                                  "--care-site", "4"])  # fmt: skip
    assert granted.exit_code == 0 and "périmètre 3, 4" in granted.output
    disabled = runner.invoke(app, ["account", "disable", "dr.martin"])
    assert disabled.exit_code == 0 and "désactivé" in disabled.output
    args = ["account", "set-password", "dr.martin", "--password-stdin"]
    changed = runner.invoke(app, args, input="autre phrase sûre\n")
    assert changed.exit_code == 0, changed.output
    (row,) = _rows(initialised, "SELECT password_hash, active FROM hopia_meta.account")
    assert row.password_hash.startswith("$argon2id$") and row.active is False
    entries = _rows(
        initialised,
        "SELECT action, target, details FROM hopia_meta.audit_log "
        "WHERE action LIKE 'account.%' ORDER BY audit_id",
    )
    assert [e.action for e in entries] == [
        "account.create",
        "account.update",
        "account.update",
        "account.password",
    ]
    assert all(e.target == "account:dr.martin" for e in entries)
    assert PASSWORD not in str(entries) and "argon2" not in str(entries)
    assert json.loads(entries[1].details)["after"]["care_sites"] == [3, 4]


@pytest.mark.parametrize(
    ("args", "message", "option"),
    [
        (["--role", "clinician"], "périmètre", "--care-site"),
        (["--role", "chef"], "rôle(s) inconnu(s)", "--role"),
    ],
)
def test_create_refuses_with_the_option_named(
    initialised: Path, args: list[str], message: str, option: str
) -> None:
    result = CliRunner().invoke(
        app, ["account", "create", "x.y", *args, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 2 and message in result.output and option in result.output


def test_a_weak_password_and_a_duplicate_are_refused(initialised: Path) -> None:
    runner = CliRunner()
    weak = runner.invoke(
        app, ["account", "create", "admin", "--role", "admin", "--password-stdin"], input="court\n"
    )
    assert weak.exit_code == 2 and "au moins 12 caractères" in weak.output
    args = ["account", "create", "admin", "--role", "admin", "--password-stdin"]
    assert runner.invoke(app, args, input=PASSWORD + "\n").exit_code == 0
    again = runner.invoke(app, args, input=PASSWORD + "\n")
    assert again.exit_code == 2 and "existe déjà" in again.output


def test_serve_refuses_several_workers_on_duckdb(initialised: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "un seul processus" in result.output and "--workers" in result.output


def test_serve_needs_an_existing_warehouse(hopia_home: Path) -> None:
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and "hopia init" in result.output
    assert not (hopia_home / "warehouse.duckdb").exists()


def test_account_commands_never_create_a_warehouse(hopia_home: Path) -> None:
    for args in (["account", "list"], ["account", "disable", "x.y"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and "hopia init" in result.output, result.output
    assert not (hopia_home / "warehouse.duckdb").exists()


def test_api_keys_are_created_shown_once_listed_and_revoked(initialised: Path) -> None:
    runner = CliRunner()
    args = ["account", "create", "outil.rag", "--role", "researcher", "--no-password"]
    assert runner.invoke(app, args).exit_code == 0
    created = runner.invoke(app, ["account", "api-key", "create", "outil.rag", "--label", "RAG"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("hop_") and "ne sera plus affichée" in created.output
    (row,) = _rows(initialised, "SELECT key_id, key_hash FROM hopia_meta.api_key")
    assert key not in row.key_hash
    listed = runner.invoke(app, ["account", "api-key", "list", "outil.rag"])
    assert listed.exit_code == 0 and row.key_id in listed.output and key not in listed.output
    revoked = runner.invoke(app, ["account", "api-key", "revoke", "outil.rag", row.key_id])
    assert revoked.exit_code == 0 and "révoquée" in revoked.output
    (after,) = _rows(initialised, "SELECT revoked_at FROM hopia_meta.api_key")
    assert after.revoked_at is not None
    unknown = runner.invoke(app, ["account", "api-key", "list", "personne"])
    assert unknown.exit_code == 2 and "compte inconnu" in unknown.output
    actions = {r.action for r in _rows(initialised, "SELECT action FROM hopia_meta.audit_log")}
    assert {"assistant.key.create", "assistant.key.revoke"} <= actions
