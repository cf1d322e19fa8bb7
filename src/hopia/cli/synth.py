"""``hopia synth``: generate the synthetic CHU (patients, visits, documents, gold annotations)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hopia.cli._common import console, err_console, progress_bar


def _unsafe_target(out: Path) -> bool:
    """--force must never wipe the working directory, one of its parents, or the home folder."""
    target = out.resolve()
    cwd = Path.cwd().resolve()
    return target == cwd or target in cwd.parents or target == Path.home().resolve()


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")  # French thousands separator (narrow no-break space)


def synth(
    patients: int = typer.Option(
        300, "--patients", "-n", min=1, help="Nombre de patients (6 à 7 documents chacun environ)."
    ),
    seed: int = typer.Option(
        42, "--seed", help="Graine : la même graine redonne des fichiers identiques à l'octet près."
    ),
    out: Path = typer.Option(Path("data/synth"), "--out", "-o", help="Dossier de sortie."),
    formats: bool = typer.Option(
        True,
        "--formats/--no-formats",
        help="Écrire aussi environ 10 % des documents en PDF, DOCX, HL7 v2 et FHIR sous files/.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Remplacer le dossier de sortie s'il existe et n'est pas vide."
    ),
) -> None:
    """Générer un CHU synthétique : patients, séjours, documents cliniques et annotations."""
    from hopia.data.synth import generate, write_corpus

    if out.exists() and not out.is_dir():
        err_console.print(f"[red]Erreur :[/red] {out} existe et n'est pas un dossier.")
        raise typer.Exit(2)
    if out.exists() and any(out.iterdir()):
        if not force:
            err_console.print(
                f"[red]Erreur :[/red] le dossier {out} n'est pas vide ; "
                "utilisez --force pour le remplacer."
            )
            raise typer.Exit(2)
        if _unsafe_target(out):
            err_console.print(
                f"[red]Erreur :[/red] refus de remplacer {out} (dossier courant, parent ou "
                "dossier personnel) ; choisissez un sous-dossier dédié."
            )
            raise typer.Exit(2)
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("Génération des patients", total=patients)
        corpus = generate(patients, seed, progress=lambda n: progress.update(task, completed=n))
        files = len(corpus.renditions) if formats else 0
        write_task = progress.add_task("Écriture des fichiers", total=files) if files else None
        try:
            counts = write_corpus(
                corpus,
                out,
                formats=formats,
                overwrite=force,
                progress=None
                if write_task is None
                else (lambda n: progress.update(write_task, completed=n)),
            )
        except OSError as exc:
            err_console.print(f"[red]Erreur :[/red] écriture impossible dans {out} : {exc}")
            raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - started
    seconds = f"{elapsed:.1f}".replace(".", ",")
    console.print(f"CHU synthétique écrit dans [bold]{out}[/bold] (graine {seed}, {seconds} s)")
    console.print(f"  Patients : {_fmt(counts['patients'])}")
    console.print(f"  Documents (documents.jsonl, gold.jsonl) : {_fmt(counts['documents'])}")
    if formats:
        console.print(
            f"  Fichiers sous files/ : {_fmt(counts['files'])} "
            f"({counts['pdf']} PDF, {counts['docx']} DOCX, {counts['hl7']} HL7, "
            f"{counts['fhir']} FHIR) pour {_fmt(counts['rendered_documents'])} documents"
        )
