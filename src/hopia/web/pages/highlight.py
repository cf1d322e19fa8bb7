"""A note's text with its entities marked: one ``<mark>`` per entity, its type as a class, its
qualifiers written beside it (a colour alone would not reach every reader), its codes in the
``title`` (shown on hover, read by screen readers). Everything from the text is escaped here,
since the result is handed to the template as safe markup."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from hopia.services.documents import Entity

QUALIFIERS = (
    ("negation", "nié"),
    ("hypothesis", "hypothétique"),
    ("family", "antécédent familial"),
    ("history", "antécédent"),
    ("reported_speech", "rapporté"),
)
_CLASS = re.compile(r"[^a-z0-9]+")


def label_class(label: str) -> str:
    """A CSS class for an entity type (``DISO`` -> ``ent-diso``)."""
    return "ent-" + (_CLASS.sub("-", label.casefold()).strip("-") or "autre")


def qualifiers(entity: Entity) -> list[str]:
    return [french for name, french in QUALIFIERS if getattr(entity, name)]


def codes_text(entity: Entity) -> str:
    """``CIM-10 : I50.9 ; concept : 316139`` (what the hover shows)."""
    parts = [f"{system} : {_code(value)}" for system, value in sorted(entity.codes.items())]
    if entity.concept_id:
        parts.append(f"concept OMOP : {entity.concept_id}")
    return " ; ".join(parts) or "aucun code"


def _code(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def kept(entities: Iterable[Entity]) -> list[Entity]:
    """The entities to mark, in text order; one that overlaps an earlier one is left out of
    the marks (it stays in the table under the text)."""
    out: list[Entity] = []
    end = 0
    for entity in sorted(entities, key=lambda e: (e.start, -e.end)):
        if entity.start >= end:
            out.append(entity)
            end = entity.end
    return out


def marked_text(text: str, entities: Iterable[Entity]) -> Markup:
    pieces: list[str] = []
    at = 0
    for entity in kept(entities):
        pieces.append(str(escape(text[at : entity.start])))
        quals = qualifiers(entity)
        classes = ["ent", label_class(entity.label)] + [
            "q-" + name for name, _ in QUALIFIERS if getattr(entity, name)
        ]
        hover = f"{entity.label or 'entité'} — {codes_text(entity)}"
        if quals:
            hover += " — " + ", ".join(quals)
        badge = f'<span class="qualif">{escape(", ".join(quals))}</span>' if quals else ""
        pieces.append(
            f'<mark class="{" ".join(classes)}" title="{escape(hover)}"'
            f' data-label="{escape(entity.label)}"'
            f"{' data-negated' if entity.negation else ''}>"
            f"{escape(text[entity.start : entity.end])}{badge}</mark>"
        )
        at = entity.end
    pieces.append(str(escape(text[at:])))
    return Markup("".join(pieces))
