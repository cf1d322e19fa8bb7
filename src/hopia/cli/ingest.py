"""``hopia ingest``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, err_console, handle_errors, progress_bar


def ingest(
    paths: list[Path] = typer.Argument(..., help="Fichiers ou dossiers à intégrer.", exists=True),
    patients: Path | None = typer.Option(
        None,
        "--patients",
        help="Registre des patients (JSONL ou CSV) à charger d'abord.",
        exists=True,
    ),
) -> None:
    from hopia.data.ingest.readers import iter_paths
    from hopia.data.ingest.service import build_pipeline

    with handle_errors():
        with console.status("Chargement du pipeline de TAL…"):
            pipeline = build_pipeline()
        with pipeline:
            if patients:
                n = pipeline.load_patients(patients)
                console.print(f"Registre patients : {n} identité(s) chargée(s).")
            total = _count_hint(list(iter_paths(paths)))
            with progress_bar() as bar:
                task = bar.add_task("Intégration", total=total)
                report = pipeline.run(paths, on_progress=lambda n: bar.advance(task, n))
                bar.update(task, total=bar.tasks[0].completed)
    print_report(report)
    if report.errors:
        raise typer.Exit(1)


def _count_hint(files: list[Path]) -> int | None:
    """Documents expected, for the progress bar: one per file, one per line of JSONL."""
    total = 0
    for f in files:
        if f.suffix.lower() in {".jsonl", ".ndjson"}:
            try:
                with f.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                total += 1  # the reader will report it as an error
        else:
            total += 1
    return total or None


def print_report(report) -> None:  # noqa: ANN001 - IngestReport, imported lazily
    table = Table(title="Intégration", show_header=False)
    table.add_row("Documents ajoutés", str(report.added))
    table.add_row("Déjà présents (ignorés)", str(report.duplicates))
    table.add_row("Erreurs", str(len(report.errors)))
    table.add_row("Durée", f"{report.seconds:.1f} s ({report.docs_per_second:.1f} documents/s)")
    table.add_row("Mentions extraites", str(sum(report.entities.values())))
    table.add_row("Faits cliniques écrits", ", ".join(f"{k}: {v}" for k, v in report.facts.items()))
    console.print(table)
    for source, reason in report.errors[:20]:
        err_console.print(f"[yellow]Erreur[/yellow] {escape(source)} : {escape(reason)}")
    if len(report.errors) > 20:
        err_console.print(
            f"… et {len(report.errors) - 20} autre(s) erreur(s) (table hopia_id.document)"
        )
