"""``hopia nlp``: run the EDS-NLP rule pipeline over JSONL texts."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import err_console, handle_errors, progress_bar

app = typer.Typer(
    help="TAL clinique : extraction d'entités (EDS-NLP, règles) depuis des textes JSONL.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    # A callback keeps ``extract`` a sub-command even while it is the only one.
    pass


def _records(
    path: Path, on_error: Callable[[int, str], None], on_line: Callable[[], None]
) -> Iterator[tuple[str, str]]:
    """(id, text) per valid line; a broken line is reported and skipped. Blank lines are
    ignored."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                reason = "encodage invalide (UTF-8 attendu)"
            except json.JSONDecodeError as exc:
                reason = f"JSON invalide ({exc.msg}, colonne {exc.colno})"
            else:
                reason = _invalid(record)
                if reason is None:
                    yield record["id"], record["text"]
                    continue
            on_error(lineno, reason)
            on_line()


def _invalid(record: object) -> str | None:
    if not isinstance(record, dict):
        return 'un objet JSON {"id", "text"} est attendu'
    for key in ("id", "text"):
        if key not in record:
            return f"champ « {key} » manquant"
        if not isinstance(record[key], str):
            return f"le champ « {key} » doit être une chaîne de caractères"
    return None


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


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

    if not input_path.is_file():
        err_console.print(
            f"[red]Erreur :[/red] fichier d'entrée introuvable : {escape(str(input_path))}"
        )
        raise typer.Exit(2)
    errors = 0
    with handle_errors():
        with err_console.status("Chargement du pipeline de TAL…"):
            get_nlp()
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out, progress_bar() as bar:
                task = bar.add_task("Extraction", total=_count_lines(input_path))

                def on_error(lineno: int, reason: str) -> None:
                    nonlocal errors
                    errors += 1
                    bar.console.print(
                        f"[yellow]Ligne {lineno} ignorée[/yellow] "
                        f"({escape(input_path.name)}) : {escape(reason)}",
                        highlight=False,
                    )

                ids: deque[str] = deque()

                def texts() -> Iterator[str]:
                    for doc_id, text in _records(input_path, on_error, lambda: bar.advance(task)):
                        ids.append(doc_id)
                        yield text

                for entities in extract(texts(), batch_size=batch_size):
                    row = {"id": ids.popleft(), "entities": [entity_to_json(e) for e in entities]}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    bar.advance(task)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, output)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    if errors:
        err_console.print(f"[yellow]{errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
        raise typer.Exit(1)
