"""A generated text with its grounding flags marked: one ``<mark class="signale">`` per flagged
span, the reason written beside it (``[non retrouvé dans les sources]``: a colour alone would not
reach every reader) and the French message in its ``title``. Everything is escaped here, since
the result is handed to the template as safe markup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

REASONS = {
    "absent": "absent des sources",
    "negation": "nié dans les sources",
    "dose": "dose différente des sources",
    "value": "valeur différente des sources",
    "number": "nombre absent des tableaux",
    "passage": "passage introuvable",
}


def reason_fr(reason: str) -> str:
    return REASONS.get(reason, reason)


def _spans(text: str, flags: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Flags with a span inside the text, in order; an overlapping one is left out of the marks
    (it stays in the list under the text)."""
    out: list[Mapping[str, Any]] = []
    end = 0
    for flag in sorted(flags, key=lambda f: (f["start"], -f["end"])):
        if end <= flag["start"] < flag["end"] <= len(text):
            out.append(flag)
            end = flag["end"]
    return out


def flagged_text(text: str, flags: Iterable[Mapping[str, Any]]) -> Markup:
    pieces: list[str] = []
    at = 0
    for flag in _spans(text, flags):
        pieces.append(str(escape(text[at : flag["start"]])))
        pieces.append(
            f'<mark class="signale" title="{escape(flag["message"])}">'
            f"{escape(text[flag['start'] : flag['end']])}"
            f'<span class="qualif">{escape(reason_fr(flag["reason"]))}</span></mark>'
        )
        at = flag["end"]
    pieces.append(str(escape(text[at:])))
    return Markup("".join(pieces))
