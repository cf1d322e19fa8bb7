"""``hopia ingest``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors, progress_bar
from hopia.platform.scores import fmt_number


def ingest(
    paths: list[Path] = typer.Argument(..., help="Fichiers ou dossiers à intégrer.", exists=True),
    patients: Path | None = typer.Option(
        None,
        "--patients",
        help="Registre des patients (JSONL ou CSV) à charger d'abord.",
        exists=True,
    ),
) -> None:
    from hopia.services.ingest import IngestRequest, expected_documents
    from hopia.services.ingest import ingest as run_ingest

    with handle_errors(flags={"paths": "PATHS"}), context() as ctx:
        request = IngestRequest.of(paths=paths, patients=patients)
        with progress_bar() as bar:
            task = bar.add_task("Chargement du pipeline de TAL…", total=None)
            report = run_ingest(
                ctx,
                request,
                on_progress=lambda n: bar.advance(task, n),
                on_ready=lambda: bar.reset(
                    task, description="Intégration", total=expected_documents(ctx, request)
                ),
            )
            bar.update(task, total=bar.tasks[0].completed)
    if patients:
        console.print(f"Registre patients : {report.patients} identité(s) chargée(s).")
    print_report(report)
    if report.errors:
        raise typer.Exit(1)


def print_report(report) -> None:  # noqa: ANN001 - IngestReport, imported lazily
    table = Table(title="Intégration", show_header=False)
    table.add_row("Documents ajoutés", str(report.added))
    table.add_row("Déjà présents (ignorés)", str(report.duplicates))
    table.add_row("Erreurs", str(len(report.errors)))
    table.add_row("Avertissements", str(len(report.warnings)))
    if report.pipe_errors:  # documents kept, one NLP pipe's output missing
        failed = ", ".join(f"{k} : {v}" for k, v in sorted(report.pipe_errors.items()))
        table.add_row("Composants TAL en échec (documents gardés)", failed)
    table.add_row(
        "Durée",
        f"{fmt_number(report.seconds, 1)} s ({fmt_number(report.docs_per_second, 1)} documents/s)",
    )
    table.add_row("Temps de calcul", f"{fmt_number(report.cpu_seconds, 1)} s CPU (modèles compris)")
    table.add_row("Mentions extraites", str(sum(report.entities.values())))
    table.add_row("Faits cliniques écrits", ", ".join(f"{k}: {v}" for k, v in report.facts.items()))
    console.print(table)
    for source, reason in report.errors[:20]:
        err_console.print(f"[yellow]Erreur[/yellow] {escape(source)} : {escape(reason)}")
    if len(report.errors) > 20:
        err_console.print(
            f"… et {len(report.errors) - 20} autre(s) erreur(s) (table hopia_id.document)"
        )
    for source, reason in report.warnings[:20]:
        err_console.print(f"[yellow]Avertissement[/yellow] {escape(source)} : {escape(reason)}")
    if len(report.warnings) > 20:
        err_console.print(f"… et {len(report.warnings) - 20} autre(s) avertissement(s)")
