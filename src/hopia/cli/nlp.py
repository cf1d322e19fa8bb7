"""``hopia nlp``: run the EDS-NLP rule pipeline over JSONL texts."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

import typer

from hopia.cli._common import err_console, handle_errors, progress_bar
from hopia.cli._jsonl import (
    atomic_output,
    count_lines,
    read_lines,
    report_bad_line,
    require_input,
    write_line,
)

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
    "rapporté). Une ligne invalide est signalée puis ignorée ; le code de sortie est alors 1."
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
) -> None:
    """Write one ``{"id", "entities"}`` line per valid input line; exit 1 if any was broken."""
    from hopia.data.nlp import entity_to_json, extract, get_nlp

    require_input(input_path)
    errors = 0
    with handle_errors():
        with err_console.status("Chargement du pipeline de TAL…"):
            get_nlp()
        with atomic_output(output) as out, progress_bar() as bar:
            task = bar.add_task("Extraction", total=count_lines(input_path))

            def on_error(lineno: int, reason: str) -> None:
                nonlocal errors
                errors += 1
                report_bad_line(bar.console, input_path, lineno, reason)
                bar.advance(task)

            ids: deque[str] = deque()

            def texts() -> Iterator[str]:
                for line in read_lines(input_path, on_error):
                    ids.append(line.id)
                    yield line.text

            for entities in extract(texts(), batch_size=batch_size):
                write_line(
                    out, {"id": ids.popleft(), "entities": [entity_to_json(e) for e in entities]}
                )
                bar.advance(task)
    if errors:
        err_console.print(f"[yellow]{errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
        raise typer.Exit(1)


# Defined in their own modules (evaluation and training of the clinical NER, issue 4).
from hopia.cli import nlp_eval, nlp_train  # noqa: E402

app.command("eval", help=nlp_eval.HELP)(nlp_eval.eval_)
app.command("train", help=nlp_train.HELP)(nlp_train.train)
