"""``hopia cohort``: check, show the SQL of, and run cohort definitions.

A thin adapter over :mod:`hopia.services.cohorts`, which validates, audits and writes the files.
Everything printed or written by ``run`` is suppressed (counts below 10 as "<10"), except the
identified patient list that ``--patients`` writes apart, after an audit entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors
from hopia.platform.scores import fmt_number

app = typer.Typer(
    help="Cohortes : définitions versionnées, attrition, caractérisation.", no_args_is_help=True
)

# Request fields that are arguments of these commands, not options.
_FLAGS = {"definition": "DEFINITION"}
_DEFINITION = typer.Argument(..., help="Définition de cohorte (.yaml, .yml ou .json).")


def _fmt(cell: Any) -> str:
    """A published cell: a count in the French format, or its suppression mark as is."""
    return fmt_number(cell) if isinstance(cell, int | float) else str(cell)


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
        f"Âge {when} : médiane {_fmt(age['median'])} (Q1 {_fmt(age['q1'])} – Q3 "
        f"{_fmt(age['q3'])}), moyenne {_fmt(age['mean'])}"
    )
    from hopia.services.cohorts import TOP_TITLES

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
                median = float(format(item["median_value"], ".4g"))
                name += f" (médiane {fmt_number(median)}{unit})"
            table.add_row(
                escape(item["code"] or ""),
                escape(name),
                _fmt(item["persons"]),
                # No percentage when the cohort size is hidden (it would give the size back).
                "" if item["percent"] is None else _fmt(item["percent"]),
            )
        if block["items"]:
            console.print(table)
        if block["hidden_items"]:
            console.print(
                f"  [dim]{title} : {block['hidden_items']} élément(s) de moins de 10 "
                "patients non affiché(s)[/dim]"
            )


@app.command("check")
def check(definition: Path = _DEFINITION) -> None:
    """Valider une définition et afficher ses étapes (sans interroger l'entrepôt)."""
    from hopia.services import cohorts

    with handle_errors(_FLAGS), context() as ctx:
        checked = cohorts.check(ctx, cohorts.DefinitionRequest.of(definition=definition))
    d = checked.definition
    console.print(
        f"[green]Définition valide[/green] : {escape(d.name)} v{escape(d.version)} "
        f"({checked.sha256[:12]})"
    )
    for i, label in enumerate(checked.steps):
        console.print(f"  {i}. {escape(label)}")


@app.command("sql")
def sql(
    definition: Path = _DEFINITION,
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb ou postgresql."),
) -> None:
    """Afficher la requête SQL des membres de la cohorte."""
    from hopia.services import cohorts

    with handle_errors(_FLAGS), context() as ctx:
        text = cohorts.sql(ctx, cohorts.SqlRequest.of(definition=definition, dialect=dialect))
    typer.echo(text)


@app.command("run")
def run(
    definition: Path = _DEFINITION,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Dossier où écrire results.json et les graphiques (PNG)."
    ),
    patients: bool = typer.Option(
        False,
        "--patients",
        help="Écrire aussi la liste nominative (patients_identifies.csv, espace identifié) : accès "
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
    from hopia.services import cohorts

    with handle_errors(_FLAGS), context(actor) as ctx:
        request = cohorts.RunRequest.of(
            definition=definition, output=output, top=top, patients=patients, reason=reason
        )
        result = cohorts.run(ctx, request)
    public = result.public
    _print_attrition(public)
    _print_characterisation(public["characterisation"], public["run"]["reference_date"])
    if result.output is not None:
        console.print(
            f"Résultats écrits dans {escape(str(result.output))} (results.json, "
            f"{len(result.charts or [])} graphique(s))."
        )
    if result.patient_list is not None:
        listed = result.patient_list
        err_console.print(
            f"[yellow]Liste nominative[/yellow] : {listed.patients} patient(s) dans "
            f"{escape(str(listed.path))} ; accès inscrit au journal d'audit "
            f"(entrée {listed.audit_id}). Ce fichier ne doit pas quitter l'espace identifié."
        )
