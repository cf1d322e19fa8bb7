"""``hopia pseudo``: pseudonymise a JSONL file of clinical texts.

Input lines: ``{"id": str, "text": str}`` (``patient_id`` optional, used as patient key; other
keys ignored). Output lines: ``{"id", "pseudo_text", "entities": [{"start", "end", "label"}]}``
with offsets into the input text. A broken line is reported on stderr and skipped; the exit code
is then 1. The output appears all at once (temporary file, then rename) or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from hopia.cli._common import err_console, handle_errors, progress_bar

app = typer.Typer(help="Pseudonymisation des textes cliniques.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    # A callback keeps ``run`` a sub-command even while it is the only one.
    pass


class PolicyChoice(StrEnum):
    surrogate = "surrogate"
    tag = "tag"
    mask = "mask"


class LineError(ValueError):
    """One input line cannot be processed; the message says why, in French."""


def parse_line(raw: bytes) -> tuple[str, str, str | None]:
    """(id, text, patient_id) of one input line, or :class:`LineError`."""
    try:
        record: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise LineError("encodage invalide (UTF-8 attendu)") from None
    except json.JSONDecodeError as exc:
        raise LineError(f"JSON invalide (colonne {exc.colno})") from None
    if not isinstance(record, dict):
        raise LineError('un objet JSON {"id", "text"} est attendu')
    for key in ("id", "text"):
        if key not in record:
            raise LineError(f"champ « {key} » manquant")
        if not isinstance(record[key], str):
            raise LineError(f"le champ « {key} » doit être une chaîne de caractères")
    patient = record.get("patient_id")
    if patient is not None and (isinstance(patient, bool) or not isinstance(patient, str | int)):
        raise LineError("le champ « patient_id » doit être une chaîne de caractères")
    return record["id"], record["text"], None if patient is None else str(patient)


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


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

    if not input_path.is_file():
        err_console.print(
            f"[red]Erreur :[/red] fichier d'entrée introuvable : {escape(str(input_path))}"
        )
        raise typer.Exit(2)
    done = errors = 0
    with handle_errors():
        pseudonymiser = Pseudonymiser(get_settings().resolved_secret(), policy.value)
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with (
                os.fdopen(fd, "w", encoding="utf-8") as out,
                input_path.open("rb") as src,
                progress_bar() as bar,
            ):
                task = bar.add_task("Pseudonymisation", total=_count_lines(input_path))
                for lineno, raw in enumerate(src, start=1):
                    if not raw.strip():
                        continue
                    bar.advance(task)
                    try:
                        doc_id, text, patient = parse_line(raw)
                    except LineError as exc:
                        errors += 1
                        bar.console.print(
                            f"[yellow]Ligne {lineno} ignorée[/yellow] "
                            f"({escape(input_path.name)}) : {escape(str(exc))}",
                            highlight=False,
                        )
                        continue
                    result = pseudonymiser.pseudonymise(text, patient_key=patient)
                    entities = [
                        {"start": s.start, "end": s.end, "label": s.label} for s in result.spans
                    ]
                    row = {"id": doc_id, "pseudo_text": result.pseudo_text, "entities": entities}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    done += 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, output)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    err_console.print(f"{done} document(s) pseudonymisé(s) → {escape(str(output))}")
    if errors:
        err_console.print(f"[yellow]{errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
        raise typer.Exit(1)
