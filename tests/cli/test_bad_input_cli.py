"""Every command, given bad flags or values, answers in French without a traceback (issue 11,
item 8): typer's own usage errors included, and the cohort commands' former crashes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import select
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import get_settings
from hopia.platform.warehouse import Warehouse, schema

REPO = Path(__file__).resolve().parents[2]
HEART_FAILURE = REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml"

# What typer/click/pydantic say in English; none may reach the user.
ENGLISH = (
    "Traceback",
    "Usage:",
    "Error",
    "Missing",
    "No such",
    "Invalid value",
    "Input should",
    "Try '",
    "is not a valid",
    "does not exist",
    "Got unexpected",
    "requires an argument",
    "Possible options",
    "does not take a value",
)


def leaf_commands() -> Iterator[tuple[list[str], Any]]:
    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in sorted(subcommands.items()):
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(leaf_commands())
IDS = [" ".join(path) for path, _ in COMMANDS]


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args)


def assert_french_error(result: Any, *expected: str) -> None:
    output = result.output
    assert result.exit_code == 2, output
    # A usage error is reported, not raised: nothing escapes but the exit.
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    for word in ENGLISH:
        assert word not in output, f"{word!r} in: {output}"
    assert "Erreur" in output, output
    for text in expected:
        assert text in output.replace("\n", " "), output


def test_every_command_is_probed() -> None:
    assert len(COMMANDS) >= 20 and ["cohort", "run"] in [path for path, _ in COMMANDS]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_an_unknown_option_is_refused_in_french(path: list[str], command: Any) -> None:
    assert_french_error(invoke([*path, "--pas-une-option"]), "option inconnue")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_a_missing_parameter_is_named_in_french(path: list[str], command: Any) -> None:
    required = [p for p in command.params if p.required]
    if not required:
        pytest.skip("nothing required")
    assert_french_error(invoke(path), "manquant")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_bad_numbers_and_flags_are_refused_in_french(path: list[str], command: Any) -> None:
    numbers = [p for p in command.params if getattr(p, "bare_type", None) in (int, float)]
    flags = [p for p in command.params if getattr(p, "is_flag", False) and p.opts]
    if not numbers and not flags:
        pytest.skip("no number, no flag")
    for param in numbers:
        result = invoke([*path, param.opts[0], "douze"])
        assert_french_error(result)
        if not any(p.required for p in command.params):
            assert "nombre" in result.output, result.output
    for param in flags:
        assert_french_error(invoke([*path, f"{param.opts[0]}=oui"]), "ne prend pas de valeur")


def test_extra_arguments_and_unknown_commands(tmp_path: Path) -> None:
    assert_french_error(invoke(["cohort", "check", str(HEART_FAILURE), "en-trop"]), "en trop")
    assert_french_error(invoke(["pas-une-commande"]), "commande inconnue")
    assert_french_error(invoke(["cohort", "check", str(tmp_path / "absente.yaml")]), "introuvable")


def test_the_real_entry_point_says_it_in_french_too(tmp_path: Path) -> None:
    env = {**os.environ, "HOPIA_HOME": str(tmp_path / "h"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "hopia.cli.main", "cohort", "run", "--nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "option inconnue" in done.stderr and "Utilisation :" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# -- the cohort commands' former tracebacks ----------------------------------------------------


def test_a_deeply_nested_definition_is_a_clear_error(tmp_path: Path) -> None:
    deep = tmp_path / "profonde.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    for command in ("check", "sql", "run"):
        result = invoke(["cohort", command, str(deep)])
        assert_french_error(result, "imbriquée trop profondément")


def test_run_onto_an_existing_file_stops_before_the_query(tmp_path: Path) -> None:
    in_the_way = tmp_path / "resultats"
    in_the_way.write_text("déjà là", encoding="utf-8")
    result = invoke(["cohort", "run", str(HEART_FAILURE), "-o", str(in_the_way)])
    assert_french_error(result, "est un fichier", "--output")
    assert in_the_way.read_text(encoding="utf-8") == "déjà là"
    url = get_settings().resolved_warehouse_url()
    if Path(url.removeprefix("duckdb:///")).exists():
        wh = Warehouse(url)
        with wh.engine.connect() as conn:
            actions = conn.execute(select(schema.audit_log.c.action)).scalars().all()
        wh.close()
        assert "cohort.run" not in actions  # the query never ran


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_cohort_sql_prints_sql_one_can_paste(dialect: str) -> None:
    shown = invoke(["cohort", "sql", str(HEART_FAILURE), "--dialect", dialect])
    assert shown.exit_code == 0, shown.output
    sql = shown.output
    assert "LIKE '" in sql and "%'" in sql  # the definition's code prefixes…
    assert "%%" not in sql  # …as written, not doubled for a driver's paramstyle
    if dialect == "duckdb":
        import duckdb

        # The printed text is DuckDB SQL: it parses and binds up to the first missing table.
        with pytest.raises(duckdb.CatalogException):
            duckdb.connect().execute(sql)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_has_typer_s_own_words_in_french(path: list[str], command: Any) -> None:
    shown = invoke([*path, "--help"])
    assert shown.exit_code == 0, shown.output
    assert "Utilisation :" in shown.output and "Afficher cette aide" in shown.output
    for english in ("Usage:", "Show this message", "[default:", "[required]"):
        assert english not in shown.output


def test_a_run_left_running_by_a_dead_process_reads_interrupted() -> None:
    """No ingest holds the warehouse: a run still "running" is dead (its process was killed);
    the runs list and the figures say so, and the table is marked (issue 11, finding 8)."""
    from datetime import datetime

    wh = Warehouse(get_settings().resolved_warehouse_url())
    with wh.begin() as conn:
        conn.execute(
            schema.run.insert().values(
                run_id=7,
                command="ingest (1 chemin(s), processus 999999 sur ailleurs)",
                system="t",
                started_at=datetime(2026, 12, 6, 23, 40, 5),
                status="running",
            )
        )
    wh.close()
    listed = invoke(["warehouse", "runs"])
    assert listed.exit_code == 0, listed.output
    assert "interrompue" in listed.output and "en cours" not in listed.output
    stats = invoke(["warehouse", "stats"])
    assert stats.exit_code == 0 and "Ingestions : 1 interrompue" in stats.output, stats.output
    wh = Warehouse(get_settings().resolved_warehouse_url(), migrate=False)
    with wh.engine.connect() as conn:
        assert conn.execute(select(schema.run.c.status)).scalar() == "failed"
    wh.close()


def test_a_read_command_on_an_older_schema_names_hopia_init() -> None:
    from sqlalchemy import delete

    from hopia.platform.warehouse.migrations import LATEST, MIGRATIONS

    url = get_settings().resolved_warehouse_url()
    wh = Warehouse(url)
    with wh.begin() as conn:
        migrations = schema.schema_migrations
        conn.execute(delete(migrations).where(migrations.c.version == LATEST))
    wh.close()
    for args in (["warehouse", "stats"], ["warehouse", "runs"], ["audit", "verify"]):
        # the version before LATEST in the list (numbers may skip: branches number apart)
        assert_french_error(invoke(args), f"en version {MIGRATIONS[-2].version}", "hopia init")
    wh = Warehouse(url, migrate=False)
    with wh.engine.connect() as conn:  # left as it was
        assert max(conn.execute(select(schema.schema_migrations.c.version)).scalars()) < LATEST
    wh.close()
