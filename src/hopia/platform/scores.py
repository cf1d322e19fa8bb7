"""Precision / recall / F1 from counts, shared by every evaluation command (PHI detection,
clinical mentions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def fmt(value: float | None, digits: int = 3) -> str:
    """A score the French way ("0,973"), or "—" when undefined."""
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")


THOUSANDS = "\u202f"  # French typography: a narrow no-break space between thousands


def fmt_number(value: float | None, digits: int | None = None) -> str:
    """A number for people, the French way: "1 234" (narrow no-break space), "0,05", "12,3"
    ("—" when undefined).

    ``digits``: decimals to keep (default: as many as the value needs, ``:g``-style for floats).
    Machine-readable files (JSON, CSV) keep Python's own numbers; this is for text people read.
    """
    if value is None:
        return "—"
    if isinstance(value, int) or (digits is None and float(value).is_integer()):
        return f"{int(value):,}".replace(",", THOUSANDS)
    text = f"{value:,.{digits}f}" if digits is not None else f"{value:,.6g}"
    return text.replace(",", THOUSANDS).replace(".", ",")


def fmt_percent(share: float | None, digits: int = 0) -> str:
    """A share (0.05) as a French percentage ("5 %"; "—" when undefined)."""
    return "—" if share is None else f"{fmt_number(100 * share, digits)} %"


def ratio(num: int, den: int) -> float | None:
    """``num / den``, or None when there is nothing to divide by (no gold, no prediction)."""
    return num / den if den else None


@dataclass(frozen=True)
class Score:
    """Counts behind one precision/recall pair. For exact matching ``found == correct``; with
    overlap they differ (gold spans found vs predicted spans that hit a gold span)."""

    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.gold + other.gold,
            self.found + other.found,
            self.predicted + other.predicted,
            self.correct + other.correct,
        )

    @property
    def precision(self) -> float | None:
        return ratio(self.correct, self.predicted)

    @property
    def recall(self) -> float | None:
        return ratio(self.found, self.gold)

    @property
    def f1(self) -> float | None:
        if not self.gold and not self.predicted:
            return None
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "gold": self.gold,
            "found": self.found,
            "predicted": self.predicted,
            "correct": self.correct,
        }
