"""The text contract of the services that take clinical texts (``pseudo run``, ``nlp extract``)
and their one JSONL file loop.

An input item is ``{"id": str, "text": str}`` with an optional ``patient_id`` (a string, or an
integer read as one); other keys are ignored. The same :class:`TextItem` model validates the
items a web request sends and each line of a JSONL file, so both front ends accept the same
documents. In a file, a broken line is reported (line number and a French reason, never its
content) and skipped; the output file appears complete at the end, or not at all
(:func:`hopia.platform.files.atomic_file`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from hopia.platform.exceptions import InvalidRequestError, NotFoundError
from hopia.platform.files import atomic_file
from hopia.platform.text import json_problem

#: ``on_line_error(line_number, reason)``: a skipped input line, the reason in French.
LineErrorCallback = Callable[[int, str], None]
#: ``on_progress(done, total)``: input lines handled so far (valid or not) out of ``total``.
ProgressCallback = Callable[[int, int], None]


class TextItem(BaseModel):
    """One text to process: ``id`` names it in the output, ``patient_id`` (optional) keys the
    patient's surrogates and date shift."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    id: str
    text: str
    patient_id: str | None = None

    @field_validator("patient_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        # Patient numbers often come as JSON integers; booleans are not numbers here.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


def parse_text_line(raw: bytes) -> TextItem:
    """One JSONL line as a :class:`TextItem`, or :class:`InvalidRequestError` with a French
    reason naming the field (the line's content is never echoed: it may hold patient data)."""
    try:
        record: Any = json.loads(raw.decode("utf-8-sig"))  # a BOM may open the file
    except UnicodeDecodeError:
        raise InvalidRequestError("encodage invalide (UTF-8 attendu)") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"JSON invalide ({json_problem(exc)}, colonne {exc.colno})"
        ) from None
    except (RecursionError, ValueError):  # nesting too deep, a 5,000-digit integer: this line
        raise InvalidRequestError("JSON invalide (imbrication ou nombre hors limites)") from None
    if not isinstance(record, dict):
        raise InvalidRequestError('un objet JSON {"id", "text"} est attendu')
    try:
        return TextItem.model_validate(record)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        if first["type"] == "missing":
            reason = f"champ « {key} » manquant"
        else:
            reason = f"le champ « {key} » doit être une chaîne de caractères"
        raise InvalidRequestError(reason, fields=(key,)) from None


def read_text_items(path: Path, on_error: LineErrorCallback) -> Iterator[TextItem]:
    """The valid items of a JSONL file, in order; a broken line goes to
    ``on_error(line_number, reason)``. Blank lines are ignored."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield parse_text_line(raw)
            except InvalidRequestError as exc:
                on_error(lineno, exc.message)


def count_text_lines(path: Path) -> int:
    """Non-blank lines of ``path``: the total a progress bar shows."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def require_file(path: Path, field: str) -> None:
    """A request's input file must exist (:class:`NotFoundError` naming ``field``)."""
    if not Path(path).is_file():
        raise NotFoundError(f"fichier d'entrée introuvable : {path}", fields=(field,))


@dataclass(frozen=True)
class FileRunResult:
    """What a JSONL file run did: ``done`` output lines written to ``output``, ``errors``
    input lines skipped."""

    output: Path
    done: int
    errors: int


def run_jsonl(
    input_path: Path,
    output: Path,
    process: Callable[[Iterator[TextItem]], Iterable[dict[str, Any]]],
    *,
    on_line_error: LineErrorCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> FileRunResult:
    """Read the items of ``input_path``, write one JSON line per item that ``process`` yields
    (in the input order, one row per item) to ``output``, all at once at the end.

    An exception raised by ``process`` leaves ``output`` as it was, without temporary file.
    """
    total = count_text_lines(input_path)
    done = errors = 0

    def bad_line(lineno: int, reason: str) -> None:
        nonlocal errors
        errors += 1
        if on_line_error is not None:
            on_line_error(lineno, reason)
        if on_progress is not None:
            on_progress(done + errors, total)

    # The output quotes the input's words (entities, PHI spans): owner-only, as identified data.
    with atomic_file(output, private=True) as out:
        for row in process(read_text_items(input_path, bad_line)):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            done += 1
            if on_progress is not None:
                on_progress(done + errors, total)
    return FileRunResult(Path(output), done, errors)
