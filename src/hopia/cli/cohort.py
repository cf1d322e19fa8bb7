"""``hopia cohort``: check, show the SQL of, and run cohort definitions.

Everything printed or written by ``run`` is suppressed (counts below 10 as "<10"), except the
identified patient list that ``--patients`` writes apart, after an audit entry.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, err_console, handle_errors

app = typer.Typer(
    help="Cohortes : définitions versionnées, attrition, caractérisation.", no_args_is_help=True
)

PATIENTS_FILE = "patients_identifies.csv"
_DEFINITION = typer.Argument(..., help="Définition de cohorte (.yaml, .yml ou .json).")


def _atomic_write(path: Path, text: str) -> None:
    """All or nothing: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fmt(cell: Any) -> str:
    return f"{cell:,}".replace(",", " ") if isinstance(cell, int) else str(cell)


def _print_attrition(public: dict[str, Any]) -> None:
    table = Table(title=f"Attrition : {escape(public['cohort']['title'])}")
    table.add_column("Étape", justify="right")
    table.add_column("Type")
    table.add_column("Critère")
    table.add_column("Patients", justify="right")
    table.add_column("Exclus", justify="right")
    for s in public["attrition"]:
        excluded = "" if s["excluded"] is None else _fmt(s["excluded"])
        kind = "" if s["kind"] == "population" else s["kind"]
        table.add_row(str(s["step"]), kind, escape(s["label"]), _fmt(s["count"]), excluded)
    console.print(table)


def _print_characterisation(c: dict[str, Any] | None, reference_date: str | None) -> None:
    if not c:
        return
    if "sex" not in c:
        console.print(
            f"Caractérisation non publiée : {c['persons']} patient(s), cohorte trop petite."
        )
        return
    sex = ", ".join(f"{k} {_fmt(v)}" for k, v in c["sex"].items())
    age = c["age"]
    console.print(f"Sexe : {sex}")
    when = f"au {reference_date}" if reference_date else "à l'index"
    console.print(
        f"Âge {when} : médiane {age['median']:g} (Q1 {age['q1']:g} – Q3 {age['q3']:g}), "
        f"moyenne {age['mean']:g}"
    )
    from hopia.data.cohorts.charts import TOP_TITLES

    for key, title in TOP_TITLES.items():
        block = c[key]
        table = Table(title=title)
        table.add_column("Code")
        table.add_column("Libellé")
        table.add_column("Patients", justify="right")
        table.add_column("%", justify="right")
        for item in block["items"]:
            name = item["name"]
            if "median_value" in item:
                unit = f" {item['unit']}" if item["unit"] else ""
                name += f" (médiane {item['median_value']:.4g}{unit})"
            table.add_row(
                escape(item["code"] or ""),
                escape(name),
                _fmt(item["persons"]),
                f"{item['percent']:g}",
            )
        if block["items"]:
            console.print(table)
        if block["hidden_items"]:
            console.print(
                f"  [dim]{title} : {block['hidden_items']} élément(s) de moins de 10 "
                "patients non affiché(s)[/dim]"
            )


def _write_patients(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = ["ipp", "family_name", "given_name", "birth_date", "sex", "person_id", "index_date"]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)  # identified data: readable by its owner only
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows({k: ("" if r[k] is None else r[k]) for k in columns} for r in rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@app.command("check")
def check(definition: Path = _DEFINITION) -> None:
    """Valider une définition et afficher ses étapes (sans interroger l'entrepôt)."""
    from hopia.data.cohorts import compile_cohort, definition_hash, load_definition

    with handle_errors():
        d = load_definition(definition)
        compiled = compile_cohort(d)
    console.print(
        f"[green]Définition valide[/green] : {escape(d.name)} v{escape(d.version)} "
        f"({definition_hash(d)[:12]})"
    )
    for i, step in enumerate(compiled.steps):
        console.print(f"  {i}. {escape(step.label)}")


@app.command("sql")
def sql(
    definition: Path = _DEFINITION,
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb ou postgresql."),
) -> None:
    """Afficher la requête SQL des membres de la cohorte."""
    from hopia.data.cohorts import compile_cohort, load_definition
    from hopia.platform.exceptions import HopiaError

    with handle_errors():
        if dialect == "duckdb":
            from duckdb_engine import Dialect
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import dialect as Dialect  # noqa: N812
        else:
            raise HopiaError(f"dialecte inconnu : {dialect} (duckdb ou postgresql)")
        typer.echo(compile_cohort(load_definition(definition)).sql(Dialect()))


@app.command("run")
def run(
    definition: Path = _DEFINITION,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Dossier où écrire results.json et les graphiques (PNG)."
    ),
    patients: bool = typer.Option(
        False,
        "--patients",
        help=f"Écrire aussi la liste nominative ({PATIENTS_FILE}, espace identifié) : accès "
        "journalisé, motif obligatoire, --output requis.",
    ),
    reason: str | None = typer.Option(None, "--reason", help="Motif de l'accès à la liste."),
    actor: str | None = typer.Option(
        None, "--actor", help="Demandeur, s'il n'est pas l'utilisateur."
    ),
    top: int = typer.Option(
        10, "--top", min=1, max=100, help="Taille des listes les plus fréquentes."
    ),
) -> None:
    """Exécuter une cohorte : attrition, caractérisation (effectifs < 10 masqués)."""
    from hopia.data.cohorts import identified_patients, load_definition, run_cohort
    from hopia.data.cohorts.charts import write_charts
    from hopia.platform.access import Purpose, check_reason
    from hopia.platform.config import get_settings
    from hopia.platform.exceptions import HopiaError
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        d = load_definition(definition)
        if patients:
            if output is None:
                raise HopiaError(
                    "--patients demande --output (la liste est écrite dans un fichier)"
                )
            check_reason(reason, Purpose.PATIENT_LIST)  # before any query: no reason, no access
        wh = open_warehouse(get_settings())
        try:
            result = run_cohort(wh, d, top=top)
            public = result.public()
            _print_attrition(public)
            _print_characterisation(public["characterisation"], public["run"]["reference_date"])
            if output is not None:
                output.mkdir(parents=True, exist_ok=True)
                charts = write_charts(public, output)
                public["charts"] = [p.name for p in charts]
                text = json.dumps(public, ensure_ascii=False, indent=2) + "\n"
                _atomic_write(output / "results.json", text)
                console.print(
                    f"Résultats écrits dans {escape(str(output))} (results.json, "
                    f"{len(charts)} graphique(s))."
                )
            if patients and output is not None:
                rows, entry = identified_patients(wh, d, reason=reason, actor=actor)
                _write_patients(output / PATIENTS_FILE, rows)
                err_console.print(
                    f"[yellow]Liste nominative[/yellow] : {len(rows)} patient(s) dans "
                    f"{escape(str(output / PATIENTS_FILE))} ; accès inscrit au journal d'audit "
                    f"(entrée {entry.audit_id}). Ce fichier ne doit pas quitter l'espace identifié."
                )
        finally:
            wh.close()
