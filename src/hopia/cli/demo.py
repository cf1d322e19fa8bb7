"""``hopia demo``: a synthetic CHU through the whole pipeline, with a readable summary."""

from __future__ import annotations

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.table import Table

from hopia.cli._common import console, context, handle_errors, progress_bar


def demo(
    patients: int = typer.Option(300, help="Nombre de patients synthétiques."),
    seed: int = typer.Option(42, help="Graine du générateur (reproductible)."),
) -> None:
    from hopia.services.demo import DemoRequest, ingest_corpus, prepare

    with handle_errors(), context() as ctx:
        request = DemoRequest.of(patients=patients, seed=seed)
        with console.status(f"Génération de {patients} patients synthétiques…"):
            corpus = prepare(ctx, request)
        console.print(
            f"CHU synthétique : {corpus.patients} patients, {corpus.documents} documents "
            f"(+ fichiers PDF/DOCX/HL7/FHIR) dans {corpus.folder}"
        )
        with progress_bar() as bar:
            task = bar.add_task(
                "Chargement du pipeline de TAL (mis en cache après le premier lancement)…",
                total=None,
            )
            result = ingest_corpus(
                ctx,
                corpus,
                on_progress=lambda n: bar.advance(task, n),
                on_ready=lambda: bar.reset(task, description="Intégration", total=None),
            )
    _print(result.summary, result.warehouse)


def _print(s, url: str) -> None:  # noqa: ANN001 - DemoSummary, imported lazily
    head = Table(title="Intégration", show_header=False)
    head.add_row("Documents intégrés", str(s.documents))
    head.add_row("Erreurs (fichiers invalides)", str(s.errors))
    head.add_row(
        "Débit",
        f"{s.docs_per_second:.1f} documents/s ({s.chars_per_second / 1000:.0f} k caractères/s)",
    )
    head.add_row("Patients", str(s.persons))
    head.add_row("Mentions extraites", str(s.mentions_total))
    head.add_row(
        "Affirmées / niées / hypothétiques / familiales",
        " / ".join(
            f"{s.qualifier_share.get(k, 0):.0%}"
            for k in ("affirmed", "negated", "hypothetical", "family")
        ),
    )
    console.print(head)
    by_type = Table(title="Mentions par type")
    by_type.add_column("Type")
    by_type.add_column("Nombre", justify="right")
    for label, n in s.mentions_by_label[:15]:
        by_type.add_row(label, str(n))
    top = Table(title="Pathologies les plus fréquentes (faits affirmés)")
    top.add_column("Code")
    top.add_column("Libellé")
    top.add_column("Patients", justify="right")
    for code, name, n in s.top_conditions:
        top.add_row(code, name[:50], str(n))
    console.print(Columns([by_type, top]))
    if s.example:
        original, pseudo = s.example
        console.print(
            Columns(
                [
                    Panel(original, title="Original (espace identifié)", width=70),
                    Panel(pseudo, title="Pseudonymisé (espace recherche)", width=70),
                ]
            )
        )
    console.print(f"Entrepôt : {url}")
    console.print("Suite : [bold]hopia warehouse stats[/bold] ; [bold]make test[/bold]")
