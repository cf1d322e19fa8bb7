"""``hopia share``: check and export a cohort for sharing (OMOP CSV/Parquet, FHIR R4B).

A thin adapter over :mod:`hopia.services.sharing`. ``check`` prints the k-anonymity /
l-diversity report and exports nothing (exit 1 when k or l cannot be reached); ``export``
demands a reason and writes the folder all at once. Both are recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(
    help="Partage : export pseudonymisé et k-anonyme d'une cohorte (OMOP, FHIR).",
    no_args_is_help=True,
)

_COHORT = typer.Option(None, "--cohort", help="Définition de cohorte (.yaml, .yml, .json).")
_PERSONS = typer.Option(
    None, "--persons", help="Fichier de person_id (espace de recherche), un par ligne."
)
_K = typer.Option(
    None, "--k", min=1, help="Taille minimale de chaque classe (k-anonymat ; défaut : 5)."
)
_L = typer.Option(
    None,
    "--l",
    min=1,
    help="Valeurs distinctes de l'attribut sensible par classe (l-diversité ; défaut : 2).",
)
_MAX_SUPPRESSION = typer.Option(
    None,
    "--max-suppression",
    min=0.0,
    max=0.99,
    help="Part maximale de patients supprimés (défaut : 0,05).",
)
_REFERENCE = typer.Option(
    None,
    "--reference-date",
    help="Date de référence du calcul de l'âge (AAAA-MM-JJ ; défaut : aujourd'hui).",
)
# Request fields whose option is not named after them.
_FLAGS = {"json_out": "--json"}


def _distribution(title: str, stats: dict[str, Any] | None) -> str:
    if not stats:
        return f"{title} : —"
    sizes = ", ".join(f"{size}: {n}" for size, n in stats["distribution"].items() if n)
    return (
        f"{title} : k = {stats['k']}, l = {stats['l']}, {stats['classes']} classe(s) "
        f"[taille: nombre] {sizes}"
    )


def print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"Anonymisation : k = {report['k']}, l = {report['l']}")
    table.add_column("Étape", justify="right")
    table.add_column("Quasi-identifiant")
    table.add_column("Niveau")
    table.add_column("Plus petite classe", justify="right")
    table.add_column("À supprimer", justify="right")
    table.add_column("Atteint")
    from hopia.services.sharing import QI_NAMES

    for i, step in enumerate(report["steps"], 1):
        name = QI_NAMES[step["quasi_identifier"]] + (" (retour)" if step.get("relaxed") else "")
        table.add_row(
            str(i),
            name,
            escape(step["rung"]),
            str(step["smallest_class"]),
            str(step["suppression_needed"]),
            "oui" if step["reached"] else "non",
        )
    console.print(table)
    console.print(_distribution("Avant", report["before"]), highlight=False)
    console.print(_distribution("Après", report["after"]), highlight=False)
    if report["generalisations"]:
        done = ", ".join(
            f"{QI_NAMES[q]} → {escape(r)}" for q, r in report["generalisations"].items()
        )
        console.print(f"Généralisations : {done}", highlight=False)
    d = report.get("diagnoses") or {}
    if d:
        console.print(
            f"Diagnostics : {d['codes']} code(s), {d['generalised']} généralisé(s), "
            f"{d['suppressed']} supprimé(s)",
            highlight=False,
        )
    console.print(
        f"Patients : {report['persons']}, supprimés : {report['suppressed_persons']} "
        f"(maximum {report['max_suppression']:.0%})",
        highlight=False,
    )


@app.command("check")
def check(
    cohort: Path | None = _COHORT,
    persons: Path | None = _PERSONS,
    k: int | None = _K,
    l: int | None = _L,  # noqa: E741
    max_suppression: float | None = _MAX_SUPPRESSION,
    reference_date: str | None = _REFERENCE,
    json_out: Path | None = typer.Option(None, "--json", help="Écrire aussi le rapport en JSON."),
) -> None:
    """Mesurer k-anonymat et l-diversité d'une cohorte, sans rien exporter."""
    from hopia.services import sharing

    with handle_errors(_FLAGS), context() as ctx:
        request = sharing.CheckRequest.of(
            cohort=cohort,
            persons=persons,
            k=k,
            l=l,
            max_suppression=max_suppression,
            reference_date=reference_date,
            json_out=json_out,
        )
        result = sharing.check(ctx, request)
    report = result.report
    print_report(report.to_dict())
    if result.refused:
        err_console.print(f"[red]{escape(report.message or '')}[/red]", highlight=False)
        raise typer.Exit(1)
    console.print(
        f"[green]k = {report.k} et l = {report.l} atteints[/green] : le partage est possible."
    )


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="Dossier de sortie (nouveau ou vide)."),
    fmt: str = typer.Option(..., "--format", help="omop-csv, omop-parquet ou fhir."),
    cohort: Path | None = _COHORT,
    persons: Path | None = _PERSONS,
    reason: str | None = typer.Option(
        None, "--reason", help="Motif du partage (obligatoire, 10 caractères minimum), journalisé."
    ),
    k: int | None = _K,
    l: int | None = _L,  # noqa: E741
    max_suppression: float | None = _MAX_SUPPRESSION,
    reference_date: str | None = _REFERENCE,
    with_notes: bool = typer.Option(
        False, "--with-notes", help="Inclure le texte des notes (pseudonymisé ; risque résiduel)."
    ),
    per_bundle: int = typer.Option(1, "--per-bundle", min=1, help="FHIR : patients par Bundle."),
    actor: str | None = typer.Option(None, "--actor", help="Demandeur, si ce n'est pas vous."),
) -> None:
    """Exporter une cohorte pseudonymisée, k-anonyme et l-diverse (accès journalisé)."""
    from hopia.platform.exceptions import ShareRefusedError
    from hopia.services import sharing

    with handle_errors(_FLAGS), context(actor) as ctx:
        request = sharing.ExportRequest.of(
            out=out,
            format=fmt,
            cohort=cohort,
            persons=persons,
            reason=reason,
            k=k,
            l=l,
            max_suppression=max_suppression,
            reference_date=reference_date,
            with_notes=with_notes,
            per_bundle=per_bundle,
        )
        try:
            result = sharing.export(ctx, request)
        except ShareRefusedError as exc:
            print_report(exc.report.to_dict())  # why, before the error line
            raise
    print_report(result.report.to_dict())
    files = len(result.manifest["files"])
    console.print(
        f"[green]Export écrit[/green] : {escape(str(result.folder))} ({files} fichier(s), "
        f"{result.manifest['persons']} patient(s)) ; entrée d'audit {result.audit_id}.",
        highlight=False,
    )
    if with_notes:
        err_console.print(
            "[yellow]Attention[/yellow] : le texte des notes est pseudonymisé mais un détail rare "
            "écrit en clair reste un risque résiduel de ré-identification."
        )
