"""The field-by-field cohort builder's form: its rows, and the one mapping to the YAML DSL.

The form is a front end of the DSL of ``docs/cohorts.md``, never a second language: it holds
only what the DSL has, :func:`compile_form` turns it into the definition mapping (which the
cohort library service validates with the DSL's own validator), and :func:`from_definition`
reads a saved definition back into rows, naming what the form cannot show (the page then opens
it in the YAML mode). Numbers and dates are passed on as typed, or as the text when they do not
read: the validator then names the field, and :func:`errors_by_field` puts its message next to
the form field it came from.

No FastAPI here: the page parses the posted fields (:func:`parse_fields`), this module does the
rest, and the unit tests call it directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

# Kinds of criterion the form offers, and the DSL criterion each one writes.
KINDS: dict[str, str] = {
    "diagnostic": "Diagnostic (code CIM-10, sous-codes inclus)",
    "diagnostic_prefixe": "Diagnostic (préfixe de code CIM-10)",
    "medicament": "Médicament (code ou classe ATC)",
    "biologie": "Examen biologique (code LOINC ou nom de l'analyse)",
    "texte": "Texte des notes (mention trouvée par le TAL)",
    "age": "Âge à l'inclusion (années)",
    "sexe": "Sexe",
}
EVENT_KINDS = ("diagnostic", "diagnostic_prefixe", "medicament", "biologie", "texte")
ROLES: dict[str, str] = {
    "inclusion": "Inclusion",
    "exclusion": "Exclusion",
    "index": "Événement index (jour 0)",
}
SEXES: dict[str, str] = {"F": "femmes", "M": "hommes"}
# The four qualifiers of a text mention (DSL ``text``): an affirmed, current mention about the
# patient is one with all four at "exclude" (the DSL's default).
QUALIFIERS: dict[str, str] = {
    "negation": "Mentions niées",
    "hypothesis": "Mentions hypothétiques",
    "family": "Mentions familiales (un proche)",
    "history": "Antécédents",
}
QUALIFIER_MODES: dict[str, str] = {"exclude": "exclure", "include": "inclure", "only": "seulement"}
MAX_ROWS = 30
_LOINC = re.compile(r"^\d{1,7}-\d$")
_SPLIT = re.compile(r"[,;\n]")


@dataclass
class Row:
    """One criterion row, as typed (strings: a number that does not read is the validator's)."""

    role: str = "inclusion"
    kind: str = "diagnostic"
    label: str = ""
    codes: str = ""  # codes, analyte names or terms, separated by commas
    exact: bool = False  # text: the term is the whole mention (DSL match: exact)
    min: str = ""  # age_min, or the lab value's lower bound (ge)
    max: str = ""  # age_max, or the lab value's upper bound (le)
    sex: str = ""
    negation: str = "exclude"
    hypothesis: str = "exclude"
    family: str = "exclude"
    history: str = "exclude"
    window_start: str = ""
    window_end: str = ""
    date_from: str = ""
    date_to: str = ""


@dataclass
class BuilderForm:
    name: str = ""
    version: str = "1"
    title: str = ""
    description: str = ""
    reference_date: str = ""
    rows: list[Row] = field(default_factory=lambda: [Row()])


@dataclass(frozen=True)
class Compiled:
    """The DSL mapping of a form, and what the DSL cannot hold at all (a second index row, the
    age as index), by form field: a form with such errors is not sent to the validator."""

    mapping: dict[str, Any]
    errors: dict[str, str]


def field_name(row: int, name: str) -> str:
    """The posted name of a row's field (``c-2-codes``)."""
    return f"c-{row}-{name}"


_ROW_FIELDS = tuple(f.name for f in fields(Row))


def parse_fields(posted: Mapping[str, str], rows: int) -> BuilderForm:
    """The form from its posted fields (``nom``, ``titre``…, ``c-<i>-<field>``); unknown choice
    values fall back to the default (a forged post cannot add a kind)."""
    count = max(0, min(rows, MAX_ROWS))
    out = []
    for i in range(count):
        values = {n: str(posted.get(field_name(i, n), "")).strip() for n in _ROW_FIELDS}
        row = Row(
            **{n: v for n, v in values.items() if n != "exact"},
            exact=values["exact"] == "oui",
        )
        row.role = row.role if row.role in ROLES else "inclusion"
        row.kind = row.kind if row.kind in KINDS else "diagnostic"
        row.sex = row.sex if row.sex in SEXES else ""
        for q in QUALIFIERS:
            if getattr(row, q) not in QUALIFIER_MODES:
                setattr(row, q, "exclude")
        out.append(row)

    def top(name: str) -> str:
        return str(posted.get(name, "")).strip()

    return BuilderForm(
        name=top("nom"),
        version=top("version") or "1",
        title=top("titre"),
        description=str(posted.get("description", "")).strip(),
        reference_date=top("date_reference"),
        rows=out,
    )


def _list(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def _number(text: str) -> int | float | str:
    """An int or a float as typed (a French decimal comma too); else the text itself, for the
    validator to refuse with the field's name."""
    cleaned = text.replace(" ", "").replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return text


def _event(row: Row) -> tuple[str, dict[str, Any]]:
    codes = _list(row.codes)
    if row.kind == "diagnostic":
        return "condition", {"cim10": codes} if codes else {}
    if row.kind == "diagnostic_prefixe":
        return "condition", {"cim10_prefixes": codes} if codes else {}
    if row.kind == "medicament":
        return "drug", {"atc": codes} if codes else {}
    if row.kind == "biologie":
        out: dict[str, Any] = {}
        loinc = [c for c in codes if _LOINC.match(c)]
        names = [c for c in codes if not _LOINC.match(c)]
        if loinc:
            out["loinc"] = loinc
        if names:
            out["source_values"] = names
        value = {k: _number(v) for k, v in (("ge", row.min), ("le", row.max)) if v}
        if value:
            out["value"] = value
        return "measurement", out
    # texte: terms with their qualifiers (the DSL default, exclude, is left out)
    text: dict[str, Any] = {"terms": codes} if codes else {}
    if row.exact:
        text["match"] = "exact"
    for q in QUALIFIERS:
        if getattr(row, q) != "exclude":
            text[q] = getattr(row, q)
    return "text", text


def _criterion(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"label": row.label} if row.label else {}
    if row.kind == "age":
        bounds = {k: _number(v) for k, v in (("age_min", row.min), ("age_max", row.max)) if v}
        out["demographics"] = bounds
        return out
    if row.kind == "sexe":
        out["demographics"] = {"sex": [row.sex]} if row.sex else {}
        return out
    key, value = _event(row)
    out[key] = value
    if row.window_start or row.window_end:
        out["window"] = {"start": _number(row.window_start), "end": _number(row.window_end)}
    if row.date_from:
        out["date_from"] = row.date_from
    if row.date_to:
        out["date_to"] = row.date_to
    return out


def compile_form(form: BuilderForm) -> Compiled:
    """THE mapping of the form to a DSL definition (``docs/cohorts.md``), not yet validated:
    the cohort library service validates it; with the errors of what the DSL cannot hold at
    all (a second index row), by form field."""
    out: dict[str, Any] = {
        "format": 1,
        "name": form.name,
        "version": form.version or "1",
        "title": form.title,
    }
    if form.description:
        out["description"] = form.description
    if form.reference_date:
        out["reference_date"] = form.reference_date
    inclusion, exclusion = [], []
    errors: dict[str, str] = {}
    for i, row in enumerate(form.rows):
        criterion = _criterion(row)
        if row.role == "index":
            if row.kind not in EVENT_KINDS:
                errors[field_name(i, "kind")] = (
                    "l'événement index est un événement daté (diagnostic, médicament, examen "
                    "ou texte), pas l'âge ni le sexe"
                )
                continue
            if "index" in out:
                errors[field_name(i, "role")] = "un seul événement index par définition"
                continue
            out["index"] = criterion
        elif row.role == "exclusion":
            exclusion.append(criterion)
        else:
            inclusion.append(criterion)
    if inclusion:
        out["inclusion"] = inclusion
    if exclusion:
        out["exclusion"] = exclusion
    return Compiled(out, errors)


def rows_by_place(form: BuilderForm) -> dict[str, int]:
    """Where each row went in the DSL (``inclusion[0]``, ``exclusion[1]``, ``index``) -> row."""
    out: dict[str, int] = {}
    counts = {"inclusion": 0, "exclusion": 0}
    for i, row in enumerate(form.rows):
        if row.role == "index":
            out.setdefault("index", i)
        else:
            out[f"{row.role}[{counts[row.role]}]"] = i
            counts[row.role] += 1
    return out


# The DSL's field (last part of a validator's location) -> the form field that wrote it.
_DSL_TO_FIELD = {
    "cim10": "codes",
    "cim10_prefixes": "codes",
    "atc": "codes",
    "loinc": "codes",
    "source_values": "codes",
    "terms": "codes",
    "ge": "min",
    "le": "max",
    "age_min": "min",
    "age_max": "max",
    "sex": "sex",
    "start": "window_start",
    "end": "window_end",
    "window": "window_start",
    "date_from": "date_from",
    "date_to": "date_to",
    "label": "label",
}
_TOP_TO_FIELD = {
    "name": "nom",
    "version": "version",
    "title": "titre",
    "description": "description",
    "reference_date": "date_reference",
}
_PLACE = re.compile(r"^(index|inclusion\[\d+\]|exclusion\[\d+\])(?:\.(.*))?$")


def errors_by_field(form: BuilderForm, message: str) -> tuple[dict[str, str], list[str]]:
    """The validator's message (``<définition> : définition invalide : loc : reason; …``) split
    into (form field -> reason) and the reasons that name no field."""
    places = rows_by_place(form)
    body = message.split("définition invalide : ", 1)[-1]
    by_field: dict[str, str] = {}
    general: list[str] = []
    for part in body.split("; "):
        where, sep, reason = part.partition(" : ")
        if not sep:
            general.append(part)
            continue
        if where == "(racine)":  # a rule of the whole definition: its reason alone
            general.append(reason)
            continue
        target = _target(where, places)
        if target is None:
            general.append(part)
        elif target in by_field:
            by_field[target] += f" ; {reason}"
        else:
            by_field[target] = reason
    return by_field, general


def _target(where: str, places: dict[str, int]) -> str | None:
    if where in _TOP_TO_FIELD:
        return _TOP_TO_FIELD[where]
    match = _PLACE.match(where)
    if not match or match.group(1) not in places:
        return None
    row = places[match.group(1)]
    leaf = (match.group(2) or "").split(".")[-1] if match.group(2) else ""
    if leaf in _DSL_TO_FIELD:
        return field_name(row, _DSL_TO_FIELD[leaf])
    return field_name(row, "kind")  # the criterion as a whole: shown by its kind


# Reading a saved definition back (its canonical dump: defaults written out).
_EVENT_EXTRAS = {"label", "window", "date_from", "date_to"}
_CODED_DEFAULTS = {"descendants": True}


class _Unsupported(Exception):
    """A definition uses what the form cannot show; the message says what, in French."""


def from_definition(definition: Mapping[str, Any]) -> tuple[BuilderForm | None, str | None]:
    """The rows of a saved definition, or (None, the first feature the form cannot show:
    ``any_of``, a count, a visit…, in French): the page then opens it in the YAML mode."""
    try:
        return _from_definition(definition), None
    except _Unsupported as exc:
        return None, str(exc)


def _from_definition(definition: Mapping[str, Any]) -> BuilderForm:
    for key in definition:
        if key not in {*_TOP_TO_FIELD, "format", "index", "inclusion", "exclusion"}:
            raise _Unsupported(f"champ « {key} »")
    rows: list[Row] = []
    index = definition.get("index")
    if index:
        if index.get("occurrence", "first") != "first":
            raise _Unsupported("événement index à sa dernière occurrence (occurrence: last)")
        rest = {k: v for k, v in index.items() if k != "occurrence"}
        rows.append(_row(rest, "index", "événement index"))
    for role in ("inclusion", "exclusion"):
        for n, criterion in enumerate(definition.get(role) or [], start=1):
            rows.append(_row(criterion, role, f"{ROLES[role].lower()} n° {n}"))
    return BuilderForm(
        name=str(definition.get("name", "")),
        version=str(definition.get("version", "1")),
        title=str(definition.get("title", "")),
        description=str(definition.get("description", "")),
        reference_date=str(definition.get("reference_date") or ""),
        rows=rows or [Row()],
    )


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 400, as typed, not the validator's 400.0
    return "" if value is None else str(value)


def _row(criterion: Mapping[str, Any], role: str, where: str) -> Row:
    label = _text(criterion.get("label"))
    kinds = [k for k in criterion if k not in _EVENT_EXTRAS]
    if len(kinds) != 1:
        raise _Unsupported(f"{where} : {', '.join(kinds) or 'aucun critère'}")
    kind = kinds[0]
    if kind not in {"demographics", "condition", "drug", "measurement", "text"}:
        raise _Unsupported(f"{where} : critère « {kind} »")
    body = dict(criterion[kind] or {})
    row = Row(role=role, label=label)
    if kind == "demographics":
        if any(k in criterion for k in ("window", "date_from", "date_to")):
            raise _Unsupported(f"{where} : période sur un critère démographique")
        sex = body.pop("sex", None)
        age = {k: body.pop(k) for k in ("age_min", "age_max") if k in body}
        if body or (sex and age) or (sex and len(sex) != 1):
            raise _Unsupported(f"{where} : âge et sexe dans un même critère, ou deux sexes")
        if sex:
            return replace(row, kind="sexe", sex=sex[0])
        return replace(
            row, kind="age", min=_text(age.get("age_min")), max=_text(age.get("age_max"))
        )
    row = _event_row(kind, body, row, where)
    window = criterion.get("window")
    if window:
        row.window_start, row.window_end = _text(window["start"]), _text(window["end"])
    row.date_from = _text(criterion.get("date_from"))
    row.date_to = _text(criterion.get("date_to"))
    return row


def _take(body: dict[str, Any], defaults: Mapping[str, Any], where: str) -> None:
    """Drop the keys at their default value; anything left is unsupported."""
    for key, value in defaults.items():
        if body.get(key, value) == value:
            body.pop(key, None)
    if body:
        raise _Unsupported(f"{where} : {', '.join(sorted(body))}")


def _event_row(kind: str, body: dict[str, Any], row: Row, where: str) -> Row:
    if kind == "condition":
        cim10, prefixes = body.pop("cim10", None), body.pop("cim10_prefixes", None)
        _take(body, {**_CODED_DEFAULTS, "include_history": True}, where)
        if bool(cim10) == bool(prefixes):
            raise _Unsupported(f"{where} : codes et préfixes CIM-10 dans un même critère")
        if cim10:
            return replace(row, kind="diagnostic", codes=", ".join(cim10))
        return replace(row, kind="diagnostic_prefixe", codes=", ".join(prefixes or []))
    if kind == "drug":
        atc = body.pop("atc", None)
        _take(body, _CODED_DEFAULTS, where)
        if not atc:
            raise _Unsupported(f"{where} : médicament sans code ATC")
        return replace(row, kind="medicament", codes=", ".join(atc))
    if kind == "measurement":
        names = [*(body.pop("loinc", None) or []), *(body.pop("source_values", None) or [])]
        value = dict(body.pop("value", None) or {})
        low, high = value.pop("ge", None), value.pop("le", None)
        _take(body, _CODED_DEFAULTS, where)
        if value:
            raise _Unsupported(f"{where} : seuil strict ({', '.join(sorted(value))})")
        return replace(
            row, kind="biologie", codes=", ".join(names), min=_text(low), max=_text(high)
        )
    if kind == "text":
        terms = body.pop("terms", None)
        exact = body.pop("match", "contains") == "exact"
        modes = {q: body.pop(q, "exclude") for q in QUALIFIERS}
        _take(body, {}, where)
        if not terms:
            raise _Unsupported(f"{where} : mention sans terme (codes, labels)")
        return replace(row, kind="texte", codes=", ".join(terms), exact=exact, **modes)
    raise _Unsupported(f"{where} : critère « {kind} »")
