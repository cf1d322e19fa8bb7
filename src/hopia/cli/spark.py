"""``hopia spark``: the batch ingest on Spark (docs/spark.md). A thin adapter over
:mod:`hopia.services.spark`."""

from __future__ import annotations

import typer
from rich.table import Table

from hopia.cli._common import console, context, handle_errors
from hopia.platform.scores import fmt_number

app = typer.Typer(
    help="Intégration par lots sur Spark : pseudonymisation et TAL par partition, Parquet.",
    no_args_is_help=True,
)


@app.command("ingest")
def ingest(
    documents: str = typer.Argument(
        ..., help="Parquet des documents (colonnes du contrat JSONL) ou, avec --table, une table."
    ),
    output: str = typer.Argument(..., help="Dossier de sortie (tables Parquet par mois)."),
    patients: str | None = typer.Option(
        None, "--patients", help="Parquet du registre des patients, joint par IPP."
    ),
    table: bool = typer.Option(False, "--table", help="Lire DOCUMENTS comme une table Spark."),
    master: str | None = typer.Option(
        None, "--master", help="Maître Spark (local[2], yarn, spark://…)."
    ),
    partitions: int | None = typer.Option(
        None, "--partitions", help="Répartir d'abord les documents en N partitions."
    ),
) -> None:
    """Intégrer des documents sur Spark, sans écrire dans l'entrepôt (sortie Parquet)."""
    from hopia.services.spark import SparkIngestRequest
    from hopia.services.spark import ingest as run

    with handle_errors(), context() as ctx:
        request = SparkIngestRequest.of(
            documents=documents,
            output=output,
            patients=patients,
            table=table,
            master=master,
            partitions=partitions,
        )
        result = run(ctx, request)
    summary = Table(title="Intégration Spark")
    summary.add_column("Table")
    summary.add_column("Lignes", justify="right")
    for name, n in result.rows.items():
        summary.add_row(name, fmt_number(n))
    console.print(summary)
    console.print(
        f"Documents ajoutés : {fmt_number(result.added)} ; erreurs : {fmt_number(result.errors)} ;"
        f" doublons : {fmt_number(result.duplicates)}"
    )
    console.print(f"Lot publié : {result.run}")
