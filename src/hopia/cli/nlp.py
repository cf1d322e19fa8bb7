"""``hopia nlp``: run the EDS-NLP rule pipeline over JSONL texts (:mod:`hopia.services.nlp`)."""

from __future__ import annotations

from pathlib import Path

import typer

from hopia.cli._common import context, err_console, handle_errors
from hopia.cli._progress import file_run_display

app = typer.Typer(
    help="TAL clinique : extraction d'entités (EDS-NLP, règles) depuis des textes JSONL.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    # A callback keeps ``extract`` a sub-command even while it is the only one.
    pass


_EXTRACT_HELP = (
    "Extraire les entités cliniques (CIM-10, médicaments ATC, dates, mesures, scores, "
    "comorbidités) avec leurs qualificatifs (négation, hypothèse, famille, antécédent, discours "
    "rapporté). Une ligne invalide est signalée puis ignorée ; un composant qui échoue sur un "
    "texte est noté dans le champ « errors » de sa ligne, les autres entités sont écrites ; le "
    "code de sortie est alors 1."
)


@app.command("extract", help=_EXTRACT_HELP)
def extract_cmd(
    input_path: Path = typer.Option(
        ..., "--input", "-i", help='JSONL d\'entrée, une ligne {"id", "text"} par document.'
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help='JSONL de sortie, une ligne {"id", "entities"} par texte.'
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Documents par lot (défaut : nlp.batch_size)."
    ),
    engine: str = typer.Option(
        "rules",
        "--engine",
        help="rules : règles et réseau de reconnaissance d'entités ; llm : modèle de langage "
        "embarqué (extraction générative, plus lente, voir docs/benchmarks.md).",
    ),
    model: str | None = typer.Option(
        None, "--model", help="Modèle embarqué fourni (--engine llm ; défaut : qwen2.5-coder-1.5b)."
    ),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp (--engine llm)."),
) -> None:
    """Write one ``{"id", "entities"}`` line per valid input line; exit 1 if any was broken."""
    from hopia.services import nlp

    with handle_errors(), context() as ctx:
        request = nlp.ExtractFileRequest.of(
            input=input_path,
            output=output,
            batch_size=batch_size,
            engine=engine,
            model=model,
            threads=threads,
        )
        if request.engine == "rules":
            with err_console.status("Chargement du pipeline de TAL…"):
                nlp.pipeline(ctx)
        with file_run_display("Extraction", input_path) as (on_line_error, on_progress):
            result = nlp.extract_file(
                ctx, request, on_line_error=on_line_error, on_progress=on_progress
            )
    if result.pipe_errors:
        err_console.print(
            f"[yellow]{result.pipe_errors} texte(s) analysé(s) en partie : un composant du "
            "pipeline a échoué (champ « errors » de la ligne de sortie).[/yellow]"
        )
    if result.dropped:
        err_console.print(
            f"[yellow]{result.dropped} passage(s) cité(s) par le modèle introuvable(s) dans le "
            "texte : écarté(s).[/yellow]"
        )
    if result.errors:
        err_console.print(f"[yellow]{result.errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
    if result.errors or result.pipe_errors:
        raise typer.Exit(1)


# Defined in their own modules (evaluation and training of the clinical NER, issue 4).
from hopia.cli import nlp_eval, nlp_train  # noqa: E402

app.command("eval", help=nlp_eval.HELP)(nlp_eval.eval_)
app.command("eval-qualifiers", help=nlp_eval.HELP_QUALIFIERS)(nlp_eval.eval_qualifiers)
app.command("eval-e3c", help=nlp_eval.HELP_E3C)(nlp_eval.eval_e3c)
app.command("train", help=nlp_train.HELP)(nlp_train.train)
