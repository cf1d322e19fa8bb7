"""``hopia assistant``: evaluations of the generative assistant (``eval retrieval``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hopia.cli._common import console, context, handle_errors

app = typer.Typer(help="Assistant : évaluations.", no_args_is_help=True)
eval_app = typer.Typer(help="Évaluer l'assistant.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@eval_app.command("retrieval")
def retrieval(
    questions: Path = typer.Option(..., "--questions", help="Questions (JSON Lines)."),
    corpus: Path = typer.Option(..., "--corpus", help="Dossier des documents."),
    k: int = typer.Option(5, "--k", min=1, max=20, help="Rang du rappel (recall@k)."),
    embedder: str | None = typer.Option(None, "--embedder", help="e5 ou use (défaut : réglage)."),
) -> None:
    """Rappel@k et MRR de la recherche BM25, dense et hybride sur un jeu de questions."""
    from hopia.services.knowledge_eval import RetrievalEvalRequest, evaluate_retrieval

    with handle_errors(), context() as ctx:
        report = evaluate_retrieval(
            ctx,
            RetrievalEvalRequest.of(questions=questions, corpus=corpus, k=k, embedder=embedder),
        )
    console.print(
        f"Modèle dense : {report.embedder} ; {report.questions} questions "
        f"(+ {report.off_topic} hors sujet) ; {report.documents} documents, "
        f"{report.passages} passages ; indexation {report.index_seconds:.1f} s"
    )
    table = Table(title="Recherche de passages")
    for column in ("Mode", "Rappel@1", f"Rappel@{report.k}", "MRR", "Médiane (ms)"):
        table.add_column(column, justify="right")
    for s in report.scores:
        table.add_row(
            s.mode,
            f"{s.recall_at_1:.3f}",
            f"{s.recall_at_k:.3f}",
            f"{s.mrr:.3f}",
            f"{s.median_ms:.1f}",
        )
    console.print(table)
    on, off = report.similarity_on_topic, report.similarity_off_topic
    console.print(
        f"Similarité du meilleur passage : questions du corpus min {min(on, default=0):.3f}, "
        f"p10 {_quantile(on, 0.1):.3f}, médiane {_quantile(on, 0.5):.3f} ; "
        f"hors sujet médiane {_quantile(off, 0.5):.3f}, max {max(off, default=0):.3f}"
    )
