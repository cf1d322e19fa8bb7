"""Article draft (methods and results) from a cohort's attrition and characterisation.

The model never writes a number: it writes ``{key}`` placeholders that name cells of the
computed tables; the code replaces them with the tables' values. A last check reads every
number of the final text and flags any that is not in the tables (a number the model typed
anyway, or one changed afterwards)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, Field

from hopia.assistant.grounding import Flag, SourceText
from hopia.assistant.tasks.base import Post, Task

_PLACEHOLDER = re.compile(r"\{([a-zA-Z0-9_.\-]+)\}")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?")


class ArticleInputs(BaseModel):
    cohort: str = Field(min_length=1, max_length=200)


def cells(public: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The tables' cells a text may quote: ``key -> (value as written, meaning)``, from a
    cohort run's public results (counts already suppressed: "<10" and "*" stay as they are)."""
    out: dict[str, tuple[str, str]] = {}
    for step in public.get("attrition", []):
        i = step["step"]
        out[f"attrition.{i}.count"] = (str(step["count"]), f"effectif après « {step['label']} »")
        if step.get("excluded") is not None:
            out[f"attrition.{i}.excluded"] = (
                str(step["excluded"]),
                f"exclus à l'étape « {step['label']} »",
            )
    c = public.get("characterisation") or {}
    if "persons" in c:
        out["persons"] = (str(c["persons"]), "effectif de la cohorte caractérisée")
    for sex, n in (c.get("sex") or {}).items():
        out[f"sex.{sex}"] = (str(n), f"effectif de sexe {sex}")
    age = c.get("age") or {}
    for key, value in age.items():
        if key == "bins":
            for label, n in value.items():
                out[f"age.bins.{label}"] = (str(n), f"effectif de la classe d'âge {label}")
        elif value is not None:
            out[f"age.{key}"] = (_number(value), f"âge : {key}")
    for table, content in c.items():
        if not isinstance(content, dict) or "items" not in content:
            continue
        for j, item in enumerate(content["items"][:5]):
            name = item.get("name") or item.get("code")
            out[f"{table}.{j}.persons"] = (str(item["persons"]), f"{table} : patients avec {name}")
            if item.get("percent") is not None:
                out[f"{table}.{j}.percent"] = (_number(item["percent"]), f"{table} : % avec {name}")
    return out


def _number(value: Any) -> str:
    return f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value)


def fill(text: str, table: dict[str, tuple[str, str]]) -> tuple[str, list[str]]:
    """``text`` with its placeholders replaced by the tables' values; unknown ones are kept as
    they are and returned."""
    unknown: list[str] = []

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in table:
            return table[key][0]
        unknown.append(key)
        return m.group(0)

    return _PLACEHOLDER.sub(one, text), unknown


def _numbers(text: str) -> Iterator[tuple[int, int, float]]:
    for m in _NUMBER.finditer(text):
        yield m.start(), m.end(), float(m.group(0).replace(",", "."))


def numbers_check(text: str, allowed_texts: Sequence[str]) -> list[Flag]:
    """A flag for each number of ``text`` found in none of ``allowed_texts`` (the tables'
    values and labels, the cohort's title)."""
    allowed = {n for t in allowed_texts for _, _, n in _numbers(t)}
    return [
        Flag(start, end, text[start:end], "number", "number", "nombre absent des tableaux")
        for start, end, n in _numbers(text)
        if n not in allowed
    ]


def _allowed(public: dict[str, Any], table: dict[str, tuple[str, str]]) -> list[str]:
    cohort = public.get("cohort") or {}
    labels = [s.get("label") or "" for s in public.get("attrition", [])]
    names = [meaning for _, meaning in table.values()]
    return [v for v, _ in table.values()] + labels + names + [str(cohort.get("title") or "")]


def _variables(
    inputs: ArticleInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    public = data.get("results") or {}
    table = cells(public)
    title = (public.get("cohort") or {}).get("title") or inputs.cohort
    listing = "\n".join(f"{{{k}}} : {meaning}" for k, (_, meaning) in table.items())
    return {"cohort": str(title), "placeholders": listing or "(aucun)"}


def _post(
    text: str, inputs: ArticleInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> Post:
    public = data.get("results") or {}
    table = cells(public)
    filled, unknown = fill(text.strip(), table)
    flags = numbers_check(filled, _allowed(public, table))
    flags += [
        Flag(m.start(), m.end(), m.group(0), "number", "number", "marqueur inconnu des tableaux")
        for m in _PLACEHOLDER.finditer(filled)
        if m.group(1) in unknown
    ]
    structured = {"placeholders_unknown": unknown}
    return Post(filled, structured, tuple(flags))


ARTICLE_DRAFT = Task(
    name="article_draft",
    title="Brouillon d'article (méthodes et résultats)",
    action="task.article_draft",
    inputs=ArticleInputs,
    variables=_variables,
    postprocess=_post,
    grounded=False,  # numbers are checked against the tables instead
    max_tokens=900,
    needs="cohort",
)
