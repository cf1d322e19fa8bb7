"""Build a document text and its gold annotations together, so offsets are exact by construction.

Templates never compute offsets: they append pieces (plain text, PHI, facts) to a
:class:`DocBuilder`, which records where each annotated piece lands in the final text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import Any, NamedTuple

from hopia.data.records import PHI_LABELS as LABELS

PHI_LABELS = frozenset(LABELS)
FACT_KINDS = frozenset({"condition", "drug", "measurement"})

_FORMATTER = Formatter()


class Phi(NamedTuple):
    """A piece of text that is protected health information."""

    text: str
    label: str


@dataclass(frozen=True)
class Fact:
    """A piece of text that is a clinical fact (condition, drug or measurement)."""

    text: str
    kind: str
    code: str
    value: float | str | None = None
    unit: str | None = None
    negated: bool = False
    hypothesis: bool = False
    family: bool = False
    history: bool = False


@dataclass(frozen=True)
class Drug:
    """A drug name followed by its posology; the fact spans the name, the posology is located."""

    name: str
    code: str
    posology: str
    fields: dict[str, Any]
    sep: str = " "
    history: bool = False


Piece = str | Phi | Fact | Drug


@dataclass
class DocBuilder:
    """Accumulates text and the spans of annotated pieces."""

    parts: list[str] = field(default_factory=list)
    phi: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    _pos: int = 0

    def _raw(self, text: str) -> None:
        self.parts.append(text)
        self._pos += len(text)

    def piece(self, piece: Piece) -> DocBuilder:
        """Append one piece, recording its span when it is annotated."""
        if isinstance(piece, str):
            self._raw(piece)
        elif isinstance(piece, Phi):
            if piece.label not in PHI_LABELS:
                raise ValueError(f"unknown PHI label {piece.label!r}")
            if piece.text:
                self.phi.append(
                    {"start": self._pos, "end": self._pos + len(piece.text), "label": piece.label}
                )
            self._raw(piece.text)
        elif isinstance(piece, Fact):
            self.facts.append(self._fact_record(piece))
            self._raw(piece.text)
        elif isinstance(piece, Drug):
            start = self._pos
            self._raw(piece.name + piece.sep)
            pos_start = self._pos
            self._raw(piece.posology)
            posology = {"text": piece.posology, "start": pos_start, "end": self._pos}
            posology.update(piece.fields)
            self.facts.append(
                {
                    "start": start,
                    "end": start + len(piece.name),
                    "kind": "drug",
                    "text": piece.name,
                    "code": piece.code,
                    "value": piece.fields.get("dose"),
                    "unit": piece.fields.get("dose_unit"),
                    "negated": False,
                    "hypothesis": False,
                    "family": False,
                    "history": piece.history,
                    "posology": posology,
                }
            )
        else:  # pragma: no cover - programming error
            raise TypeError(f"unsupported piece {piece!r}")
        return self

    def _fact_record(self, fact: Fact) -> dict[str, Any]:
        if fact.kind not in FACT_KINDS:
            raise ValueError(f"unknown fact kind {fact.kind!r}")
        return {
            "start": self._pos,
            "end": self._pos + len(fact.text),
            "kind": fact.kind,
            "text": fact.text,
            "code": fact.code,
            "value": fact.value,
            "unit": fact.unit,
            "negated": fact.negated,
            "hypothesis": fact.hypothesis,
            "family": fact.family,
            "history": fact.history,
        }

    def add(self, template: str = "", /, **pieces: Piece) -> DocBuilder:
        """Append ``template`` where each ``{name}`` is replaced by the piece passed as ``name``.

        Literal braces are written ``{{`` and ``}}`` as in :meth:`str.format`.
        """
        for literal, name, _spec, _conv in _FORMATTER.parse(template):
            if literal:
                self._raw(literal)
            if name is not None:
                self.piece(pieces[name])
        return self

    def line(self, template: str = "", /, **pieces: Piece) -> DocBuilder:
        """Append ``template`` then a newline."""
        self.add(template, **pieces)
        self._raw("\n")
        return self

    def seq(self, pieces: list[Piece], sep: str = ", ", last: str | None = None) -> DocBuilder:
        """Append pieces joined by ``sep`` (and ``last`` before the final one, e.g. " et ")."""
        for i, p in enumerate(pieces):
            if i:
                self._raw(last if (last is not None and i == len(pieces) - 1) else sep)
            self.piece(p)
        return self

    def section(self, title: str) -> DocBuilder:
        """A section title on its own line, followed by a colon, after a blank line."""
        if self.parts and not self.text_endswith("\n\n"):
            self._raw("\n" if self.text_endswith("\n") else "\n\n")
        self._raw(f"{title} :\n")
        return self

    def text_endswith(self, suffix: str) -> bool:
        tail = "".join(self.parts[-3:])
        return tail.endswith(suffix)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def build(self) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
        """Return the text, the PHI spans and the facts, each list sorted by position."""
        text = "".join(self.parts).rstrip("\n") + "\n"
        phi = sorted(self.phi, key=lambda s: (s["start"], s["end"]))
        facts = sorted(self.facts, key=lambda s: (s["start"], s["end"]))
        return text, phi, facts
