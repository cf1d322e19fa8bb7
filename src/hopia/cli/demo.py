"""``hopia demo``: a synthetic CHU through the whole pipeline, with a readable summary."""

from __future__ import annotations

import shutil

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.table import Table

from hopia.cli._common import console, handle_errors, progress_bar


def demo(
    patients: int = typer.Option(300, help="Nombre de patients synthétiques."),
    seed: int = typer.Option(42, help="Graine du générateur (reproductible)."),
) -> None:
    from hopia.data.ingest.service import build_pipeline
    from hopia.data.synth import generate, write_corpus
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import Warehouse
    from hopia.services.demo import demo_summary

    settings = get_settings()
    root = settings.home / "demo"
    # The demo starts from scratch each time so that its figures are reproducible.
    shutil.rmtree(root, ignore_errors=True)
    corpus_dir = root / "synth"
    with handle_errors():
        with console.status(f"Génération de {patients} patients synthétiques…"):
            corpus = generate(patients, seed)
            write_corpus(corpus, corpus_dir)
        console.print(
            f"CHU synthétique : {patients} patients, {len(corpus.documents)} documents "
            f"(+ fichiers PDF/DOCX/HL7/FHIR) dans {corpus_dir}"
        )
        with console.status(
            "Chargement du pipeline de TAL (mis en cache après le premier lancement)…"
        ):
            wh = Warehouse(f"duckdb:///{(root / 'warehouse.duckdb').resolve()}")
            pipeline = build_pipeline(settings, warehouse=wh)
        inputs = [corpus_dir / "documents.jsonl", corpus_dir / "files"]
        with pipeline, progress_bar() as bar:
            pipeline.load_patients(corpus_dir / "patients.jsonl")
            task = bar.add_task("Intégration", total=None)
            report = pipeline.run(
                [p for p in inputs if p.exists()], on_progress=lambda n: bar.advance(task, n)
            )
        summary = demo_summary(wh, report)
    _print(summary, wh.url)


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
