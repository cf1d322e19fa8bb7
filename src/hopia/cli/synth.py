"""``hopia synth``: generate the synthetic CHU (patients, visits, documents, gold annotations)
through :mod:`hopia.services.synth`, which holds the output-folder rules."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import console, context, handle_errors
from hopia.cli._progress import LazyProgress


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
    from hopia.services import synth as service

    with handle_errors(), context() as ctx:
        request = service.GenerateRequest.of(
            out=out, patients=patients, seed=seed, formats=formats, force=force
        )
        with LazyProgress() as bars:
            result = service.generate(
                ctx,
                request,
                on_patients=lambda done, n: bars.update("Génération des patients", done, n),
                on_files=lambda done, n: bars.update("Écriture des fichiers", done, n),
            )
    counts = result.counts
    seconds = f"{result.seconds:.1f}".replace(".", ",")
    console.print(
        f"CHU synthétique écrit dans [bold]{escape(str(out))}[/bold] (graine {seed}, {seconds} s)"
    )
    console.print(f"  Patients : {_fmt(counts['patients'])}")
    console.print(f"  Documents (documents.jsonl, gold.jsonl) : {_fmt(counts['documents'])}")
    if formats:
        console.print(
            f"  Fichiers sous files/ : {_fmt(counts['files'])} "
            f"({counts['pdf']} PDF, {counts['docx']} DOCX, {counts['hl7']} HL7, "
            f"{counts['fhir']} FHIR) pour {_fmt(counts['rendered_documents'])} documents"
        )
