"""``hopia share``: check and export a cohort for sharing (OMOP CSV/Parquet, FHIR R4B).

A thin adapter over :mod:`hopia.services.sharing`. ``check`` prints the k-anonymity /
l-diversity report and exports nothing; ``export`` demands a reason and writes the folder all at
once. Both are recorded in the audit log. Exit codes, as every command: 0 done, 1 refused (k or
l cannot be reached: the options that could lift it are printed), 2 a request to correct.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors
from hopia.platform.scores import fmt_percent

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
_AGE_BAND = typer.Option(
    None, "--age-band", help="Tranches d'âge d'au moins 5, 10 ou 20 ans (défaut : selon k)."
)
_GEOGRAPHY = typer.Option(
    None,
    "--geography",
    help="Géographie au plus fine : departement ou region (pas de code postal).",
)
_DROP = typer.Option(
    None,
    "--drop",
    help="Quasi-identifiant à ne pas exporter du tout : age, sexe, code-postal ou diagnostic "
    "(diagnostics rares) ; répétable.",
)
# Request fields whose option is not named after them.
_FLAGS = {"json_out": "--json"}
# How this command line lifts a refusal, by request field (the report names the fields).
_DROP_VALUES = {"age": "age", "sex": "sexe", "postcode": "code-postal", "diagnosis": "diagnostic"}


def remedy(report: dict[str, Any]) -> str | None:
    """The options that could lift a refusal, phrased for this command line."""
    blocking = report.get("blocking")
    phrases = {
        "k": f"--k {max(report['k'] - 1, 1)}",
        "l": "--l 1",
        "max_suppression": "--max-suppression 0.1",
        "age_band": "--age-band 20",
        "geography": "--geography region",
        "drop": f"--drop {_DROP_VALUES.get(blocking or '', 'age')}",
    }
    options = [phrases[f] for f in report.get("remedies") or () if f in phrases]
    return ("Pour lever le refus, essayez : " + " ; ".join(options) + ".") if options else None


def _distribution(title: str, stats: dict[str, Any] | None) -> str:
    if not stats:
        return f"{title} : —"
    if not isinstance(stats["classes"], int):  # withheld: it would bound a hidden count
        return (
            f"{title} : k = {stats['k']}, l = {stats['l']}, classes non détaillées "
            "(leur somme donnerait la taille masquée de la cohorte)"
        )
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
    if report.get("requested"):
        asked = ", ".join(f"{QI_NAMES[q]} → {escape(r)}" for q, r in report["requested"].items())
        console.print(f"Demandé : {asked}", highlight=False)
    console.print(
        f"Patients : {report['persons']}, supprimés : {report['suppressed_persons']} "
        f"(maximum {fmt_percent(report['max_suppression'])})"
        + (
            f", exportés : {report['exported_persons']}"
            if report.get("exported_persons") is not None
            else ""
        ),
        highlight=False,
    )
    from hopia.services.sharing import WITHHELD

    if report["persons"] == WITHHELD:
        console.print(
            "n.p. : non publié (la taille de la cohorte redonnerait le nombre de patients "
            "supprimés)",
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
    age_band: int | None = _AGE_BAND,
    geography: str | None = _GEOGRAPHY,
    drop: list[str] | None = _DROP,
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
            age_band=age_band,
            geography=geography,
            drop=drop or (),
        )
        result = sharing.check(ctx, request)
    report = result.report
    print_report(report.to_dict())
    if result.refused:
        err_console.print(f"[red]{escape(report.message or '')}[/red]", highlight=False)
        hint = remedy(report.to_dict())
        if hint:
            err_console.print(escape(hint), highlight=False)
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
    age_band: int | None = _AGE_BAND,
    geography: str | None = _GEOGRAPHY,
    drop: list[str] | None = _DROP,
    dates: str = typer.Option(
        "jour", "--dates", help="Précision des dates exportées : jour, mois ou annee."
    ),
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
            age_band=age_band,
            geography=geography,
            drop=drop or (),
            dates=dates,
        )
        try:
            result = sharing.export(ctx, request)
        except ShareRefusedError as exc:
            # Refused, like `check`: exit 1 (2 is for a request the user must correct).
            report = exc.report.to_dict()
            print_report(report)  # why, before the error line
            err_console.print(f"[red]{escape(exc.message)}[/red]", highlight=False)
            hint = remedy(report)
            if hint:
                err_console.print(escape(hint), highlight=False)
            raise typer.Exit(1) from None
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
