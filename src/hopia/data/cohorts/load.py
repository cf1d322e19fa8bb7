"""Read a cohort definition file (YAML or JSON); errors name the file and the field, in French."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hopia.data.cohorts.schema import CohortDefinition
from hopia.platform.exceptions import CohortDefinitionError
from hopia.platform.text import json_problem

# Pydantic's error types, said in French; anything else keeps pydantic's own message.
_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "model_type": "objet (clé: valeur) attendu",
    "dict_type": "objet (clé: valeur) attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "too_short": "liste vide ou trop courte",
    "string_too_short": "texte vide",
    "string_too_long": "texte trop long",
    "string_pattern_mismatch": "format invalide",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
}


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("not" if part == "not_" else str(part))
    return out or "(racine)"


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "value_error":  # our validators: already French
        return str(error["ctx"]["error"])
    if error["type"] in {"literal_error", "enum"}:
        return f"valeur non permise, attendu : {error['ctx']['expected']}"
    return _MESSAGES.get(error["type"], error["msg"])


def describe(exc: ValidationError, limit: int = 5) -> str:
    """The first validation errors, one per line: ``field : reason``."""
    lines = [f"{_location(e['loc'])} : {_message(e)}" for e in exc.errors()[:limit]]
    if exc.error_count() > limit:
        lines.append(f"… et {exc.error_count() - limit} autre(s) erreur(s)")
    return "; ".join(lines)


def parse_definition(data: Any, source: str | Path = "<définition>") -> CohortDefinition:
    if not isinstance(data, dict):
        raise CohortDefinitionError(source, "la définition doit être un objet (clé: valeur)")
    try:
        return CohortDefinition.model_validate(data)
    except ValidationError as exc:
        raise CohortDefinitionError(source, f"définition invalide : {describe(exc)}") from exc


def load_definition(path: str | Path) -> CohortDefinition:
    """Read and validate ``path`` (.yaml, .yml or .json)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CohortDefinitionError(path, "fichier introuvable") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CohortDefinitionError(path, f"fichier illisible ({exc})") from exc
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
        return parse_definition(data, path)
    except RecursionError:
        raise CohortDefinitionError(
            path, "structure imbriquée trop profondément (des milliers de niveaux)"
        ) from None
    except json.JSONDecodeError as exc:
        raise CohortDefinitionError(
            path, f"JSON invalide ligne {exc.lineno} : {json_problem(exc)}"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise CohortDefinitionError(path, f"YAML invalide{where} : {problem}") from exc


def definition_hash(definition: CohortDefinition) -> str:
    """sha256 of the definition's canonical JSON: two runs with the same hash ran the same
    criteria, whatever the file's layout or comments."""
    canonical = json.dumps(
        definition.model_dump(mode="json", by_alias=True, exclude_none=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
