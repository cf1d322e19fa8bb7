"""``hopia pseudo``: pseudonymise a JSONL file of clinical texts.

Input lines: ``{"id": str, "text": str}`` (``patient_id`` optional, used as patient key; other
keys ignored). Output lines: ``{"id", "pseudo_text", "entities": [{"start", "end", "label"}]}``
with offsets into the input text. A broken line is reported on stderr and skipped; the exit code
is then 1. The output appears all at once (temporary file, then rename) or not at all.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import err_console, handle_errors, progress_bar
from hopia.cli._jsonl import (
    atomic_output,
    count_lines,
    read_lines,
    report_bad_line,
    require_input,
    write_line,
)

app = typer.Typer(help="Pseudonymisation des textes cliniques.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    # A callback keeps ``run`` a sub-command even while it is the only one.
    pass


class PolicyChoice(StrEnum):
    surrogate = "surrogate"
    tag = "tag"
    mask = "mask"


_RUN_HELP = (
    "Pseudonymiser chaque texte d'un JSONL : noms, dates, adresses, téléphones, NIR, IPP/NDA, "
    "hôpitaux... Une ligne invalide est signalée puis ignorée ; le code de sortie est alors 1."
)


@app.command("run", help=_RUN_HELP)
def run(
    input_path: Path = typer.Option(
        ..., "--input", "-i", help='JSONL d\'entrée, une ligne {"id", "text"} par document.'
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help='JSONL de sortie, une ligne {"id", "pseudo_text", "entities"} par texte.',
    ),
    policy: PolicyChoice = typer.Option(
        PolicyChoice.surrogate,
        "--policy",
        "-p",
        help="surrogate : valeurs fictives cohérentes ; tag : <LABEL> ; mask : ***.",
    ),
) -> None:
    """Write one ``{"id", "pseudo_text", "entities"}`` line per valid input line."""
    from hopia.data.pseudo import Pseudonymiser
    from hopia.platform.config import get_settings

    require_input(input_path)
    done = errors = 0
    with handle_errors():
        pseudonymiser = Pseudonymiser(get_settings().resolved_secret(), policy.value)
        with atomic_output(output) as out, progress_bar() as bar:
            task = bar.add_task("Pseudonymisation", total=count_lines(input_path))

            def on_error(lineno: int, reason: str) -> None:
                nonlocal errors
                errors += 1
                report_bad_line(bar.console, input_path, lineno, reason)
                bar.advance(task)

            for line in read_lines(input_path, on_error):
                result = pseudonymiser.pseudonymise(line.text, patient_key=line.patient_id)
                entities = [
                    {"start": s.start, "end": s.end, "label": s.label} for s in result.spans
                ]
                write_line(
                    out, {"id": line.id, "pseudo_text": result.pseudo_text, "entities": entities}
                )
                done += 1
                bar.advance(task)
    err_console.print(f"{done} document(s) pseudonymisé(s) → {escape(str(output))}")
    if errors:
        err_console.print(f"[yellow]{errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
        raise typer.Exit(1)
