"""Inline-markup examples, as EDS-NLP writes its tests:
``"Vu <ent label=NOM>Dupont</ent> le <ent label=DATE>12/03/2024</ent>"``."""

from __future__ import annotations

import re

from hopia.data.pseudo import PhiSpan

_ENT = re.compile(r"<ent label=(?P<label>[A-Z_]+)>(?P<text>.*?)</ent>", re.DOTALL)


def parse_markup(markup: str) -> tuple[str, list[tuple[int, int, str]]]:
    """(plain text, [(start, end, label)]) of a marked-up example."""
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = length = 0
    for m in _ENT.finditer(markup):
        parts.append(markup[pos : m.start()])
        length += m.start() - pos
        spans.append((length, length + len(m["text"]), m["label"]))
        parts.append(m["text"])
        length += len(m["text"])
        pos = m.end()
    parts.append(markup[pos:])
    return "".join(parts), spans


def triples(spans: list[PhiSpan]) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in spans]
