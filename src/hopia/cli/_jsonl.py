"""The JSONL contracts shared by ``nlp extract`` and ``pseudo run``: reading input lines
``{"id", "text"[, "patient_id"]}`` with per-line errors, and writing the output atomically."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import typer
from rich.markup import escape

from hopia.cli._common import err_console


class LineError(ValueError):
    """One input line cannot be processed; the message says why, in French."""


@dataclass(frozen=True)
class InputLine:
    lineno: int
    id: str
    text: str
    patient_id: str | None


def parse_line(raw: bytes, lineno: int = 0) -> InputLine:
    """One input line, or :class:`LineError` (never echoes the line's content)."""
    try:
        record: Any = json.loads(raw.decode("utf-8-sig"))  # a BOM may open the file
    except UnicodeDecodeError:
        raise LineError("encodage invalide (UTF-8 attendu)") from None
    except json.JSONDecodeError as exc:
        raise LineError(f"JSON invalide ({exc.msg}, colonne {exc.colno})") from None
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
    return InputLine(
        lineno, record["id"], record["text"], None if patient is None else str(patient)
    )


def read_lines(path: Path, on_error: Callable[[int, str], None]) -> Iterator[InputLine]:
    """Valid lines of ``path``; a broken one goes to ``on_error(lineno, reason)``. Blank lines
    are ignored."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield parse_line(raw, lineno)
            except LineError as exc:
                on_error(lineno, str(exc))


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def require_input(path: Path) -> None:
    if not path.is_file():
        err_console.print(f"[red]Erreur :[/red] fichier d'entrée introuvable : {escape(str(path))}")
        raise typer.Exit(2)


@contextlib.contextmanager
def atomic_output(output: Path) -> Iterator[IO[str]]:
    """A text file that appears at ``output`` complete (fsync then rename) or not at all."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_line(out: IO[str], row: dict[str, Any]) -> None:
    out.write(json.dumps(row, ensure_ascii=False) + "\n")


def report_bad_line(console: Any, path: Path, lineno: int, reason: str) -> None:
    console.print(
        f"[yellow]Ligne {lineno} ignorée[/yellow] ({escape(path.name)}) : {escape(reason)}",
        highlight=False,
    )
