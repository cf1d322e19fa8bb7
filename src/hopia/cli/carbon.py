"""``hopia carbon``: the emission factors with their sources, and the footprint report by BEGES
scope and post (with a scenario compared to it).

A thin adapter over :mod:`hopia.services.carbon`, which reads, audits and writes the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors
from hopia.platform.scores import fmt_number

app = typer.Typer(
    help="Bilan carbone (BEGES, scopes 1 à 3) : facteurs d'émission, rapport, scénarios.",
    no_args_is_help=True,
)

_METHOD_HELP = "Pouvoirs de réchauffement global des gaz : ar5 (défaut) ou ar6 (GIEC)."


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_number(value, 1 if abs(value) >= 10 else 3)
    return escape(str(value))


def _print(
    name: str, columns: list[str], rows: list[list[Any]], skip: tuple[str, ...] = ()
) -> None:
    table = Table(title=name)
    keep = [i for i, c in enumerate(columns) if c not in skip]
    for i in keep:
        numeric = any(isinstance(r[i], int | float) for r in rows)
        table.add_column(escape(columns[i]), justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*(_cell(r[i]) for i in keep))
    console.print(table)


@app.command("factors")
def factors(
    method: str | None = typer.Option(
        None, "--method", help="Ne montrer que les facteurs de cette méthode (ar5 ou ar6)."
    ),
    version: str | None = typer.Option(None, "--version", help="Version de la table des facteurs."),
) -> None:
    """Lister les facteurs d'émission avec leur source et leur année."""
    from hopia.services import carbon

    with handle_errors(), context() as ctx:
        values: dict[str, Any] = {"method": method}
        if version:
            values["version"] = version
        found = carbon.factors(ctx, carbon.FactorsRequest.of(**values))
    table = Table(title=f"Facteurs d'émission (table {found.version})")
    for name in (
        "Identifiant",
        "Scope",
        "Unité",
        "kgCO2e/unité",
        "±",
        "Méthode",
        "Source",
        "Année",
    ):
        table.add_column(name, justify="right" if name in ("kgCO2e/unité", "±") else "left")
    for f in found.factors:
        table.add_row(
            escape(f.factor_id),
            str(f.scope),
            escape(f.unit),
            fmt_number(f.kgco2e_per_unit),
            f"{fmt_number(f.uncertainty_pct)} %",
            f.method or "toutes",
            escape(f.source),
            str(f.year),
        )
    console.print(table)
    console.print(
        f"Versions disponibles : {', '.join(found.versions)}. Notes : docs/management/carbon.md"
    )


@app.command("report")
def report(
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        "-i",
        help="Inventaire des activités (CSV ou YAML) ; sans lui, l'exemple illustratif d'un CHU "
        "de 1 000 lits.",
    ),
    scenario: str | None = typer.Option(
        None,
        "--scenario",
        "-s",
        help="Scénario comparé (nom d'un scénario fourni ou fichier YAML) : sortie-desflurane, "
        "gaz-moins-20, textiles-reutilisables, menus-vegetariens.",
    ),
    method: str = typer.Option("ar5", "--method", help=_METHOD_HELP),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Fichier .xlsx (un onglet par tableau) ou dossier de fichiers CSV.",
    ),
    compute: bool = typer.Option(
        True,
        "--calcul/--sans-calcul",
        help="Ajouter le calcul de l'assistant IA (lu dans l'entrepôt) sur la période.",
    ),
    lines: bool = typer.Option(False, "--lignes", help="Afficher aussi chaque ligne d'inventaire."),
) -> None:
    """Calculer le bilan par scope et par poste, avec incertitudes et scénario."""
    from hopia.services import carbon

    flags = {"inventory": "--inventory", "scenario": "--scenario", "compute": "--sans-calcul"}
    with handle_errors(flags), context() as ctx:
        request = carbon.ReportRequest.of(
            inventory=inventory, scenario=scenario, method=method, output=output, compute=compute
        )
        result = carbon.report(ctx, request)
    source = "exemple illustratif" if result.example else escape(result.inventory)
    console.print(
        f"Inventaire : {source} — facteurs {result.version}, {result.method_label}\n"
        f"[bold]Total : {fmt_number(result.total_t, 1)} tCO2e[/bold] "
        f"(± {fmt_number(result.half_width_t, 1)} tCO2e, intervalle à 95 %)"
    )
    shown = {t.name: t for t in result.tables}
    _print("Par scope", shown["Scopes"].columns, shown["Scopes"].rows)
    _print(
        "Par poste",
        shown["Postes"].columns,
        shown["Postes"].rows,
        skip=("Identifiant", "Catégorie", "Quantité", "Unité"),
    )
    if lines:
        _print("Lignes", shown["Lignes"].columns, shown["Lignes"].rows)
    if result.compute is not None:
        c = result.compute
        console.print(
            f"Calcul : assistant IA (Hopia) : {c.calls} appel(s), "
            f"{fmt_number(c.energy_kwh, 3)} kWh, {fmt_number(c.kgco2e, 3)} kgCO2e"
        )
    if result.scenario is not None and "Scénario" in shown:
        s = shown["Scénario"]
        changed = [r for r in s.rows if r[3] or r[0] == "Total"]
        _print(f"Scénario : {escape(result.scenario_label or '')}", s.columns, changed)
    for path in result.written:
        console.print(f"Écrit : {path}")
