"""``hopia warehouse``: statistics, OMOP CSV and Spark Parquet loading (over
:mod:`hopia.services.warehouse`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors

app = typer.Typer(help="Entrepôt de données OMOP.", no_args_is_help=True)


@app.command("stats")
def stats() -> None:
    """Nombre de lignes par table et état des documents."""
    from hopia.services import warehouse

    with handle_errors(), context() as ctx:
        s = warehouse.stats(ctx)
    table = Table(title=f"Entrepôt ({s.dialect})")
    table.add_column("Table")
    table.add_column("Lignes", justify="right")
    for name, count in s.tables.items():
        table.add_row(name, f"{count:,}".replace(",", " "))
    console.print(table)
    console.print(f"Documents : {s.documents_done} intégrés, {s.documents_error} en erreur")
    if s.runs:
        states = (
            f"{n} {state}{'s' if n > 1 and state != 'en cours' else ''}"
            for state, n in sorted(s.runs.items())
        )
        console.print("Ingestions : " + ", ".join(states))
    if s.mentions:
        console.print("Mentions par type : " + ", ".join(f"{k} {v}" for k, v in s.mentions.items()))


@app.command("runs")
def runs(
    limit: int = typer.Option(20, "--limit", help="Nombre d'ingestions, les plus récentes."),
) -> None:
    """Les dernières ingestions et leur état (une ingestion dont le processus est mort est
    « interrompue »)."""
    from hopia.services import ingest

    with handle_errors(), context() as ctx:
        found = ingest.runs(ctx, ingest.RunsRequest.of(limit=limit))
    if not found:
        console.print("Aucune ingestion enregistrée.")
        return
    table = Table(title="Ingestions")
    for name in ("N°", "Début", "Fin", "État", "Résumé"):
        table.add_column(name)
    for run in found:
        end = f"{run.finished_at:%d/%m/%Y %H:%M:%S}" if run.finished_at else ""
        table.add_row(
            str(run.run_id),
            f"{run.started_at:%d/%m/%Y %H:%M:%S}",
            end,
            run.state,
            escape(run.summary or ""),
        )
    console.print(table)


@app.command("load-omop")
def load_omop(
    path: Path = typer.Argument(
        ..., help="Jeu OMOP CDM 5.4 en CSV : dossier ou archive zip.", exists=True
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Remplacer les lignes dont l'identifiant existe."
    ),
) -> None:
    """Charger un jeu OMOP CSV (tout ou rien, rechargement sans doublon)."""
    from hopia.services import warehouse

    with handle_errors(), context() as ctx:
        request = warehouse.LoadOmopRequest.of(path=path, replace=replace)
        report = warehouse.load_omop(ctx, request)
    for name, rows in report.loaded.items():
        if rows:
            console.print(f"{name} : {rows} ligne(s)")
    console.print(
        f"{sum(report.loaded.values())} ligne(s) chargée(s) dans {len(report.loaded)} table(s) ; "
        f"{len(report.skipped)} fichier(s) ignoré(s)."
    )
    for name, why in report.skipped.items():
        console.print(f"  [dim]{name} : {why}[/dim]")


@app.command("load-parquet")
def load_parquet(
    path: Path = typer.Argument(
        ..., help="Dossier de sortie de hopia spark ingest (omop/, hopia_id/, _manifests/)."
    ),
) -> None:
    """Charger la sortie Parquet de l'intégration Spark (tout ou rien, rechargement sans
    doublon)."""
    from hopia.services import warehouse

    with handle_errors(), context() as ctx:
        request = warehouse.LoadParquetRequest.of(path=path)
        report = warehouse.load_parquet(ctx, request)
    for name, rows in sorted(report.rows.items()):
        console.print(f"{name} : {rows} ligne(s)")
    console.print(
        f"{len(report.runs)} exécution(s) chargée(s), {len(report.already)} déjà chargée(s) ; "
        f"{sum(report.rows.values())} ligne(s) écrite(s) ; {report.skipped_notes} note(s) "
        "déjà présente(s)."
    )
    for name in report.ignored:
        console.print(f"  [dim]{escape(name)} : table inconnue, ignorée[/dim]")
