"""The side-by-side report of ``hopia nlp eval``: figures as a dict (JSON) and rich tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hopia.data.nlp.evaluate.gold import QUALIFIERS, GoldSet
from hopia.data.nlp.evaluate.scoring import Score, Tally, micro
from hopia.platform.scores import fmt

if TYPE_CHECKING:
    from rich.table import Table

#: Issue 4 targets on QUAERO dev, DISO+CHEM+PROC, overlap match, micro-averaged.
TARGETS: dict[str, float] = {"recall": 0.60, "precision": 0.70}
MATCH_RULES = (
    "exact: mêmes fragments et même groupe. chevauchement : une mention gold est trouvée si une "
    "prédiction de son groupe partage au moins un caractère avec l'un de ses fragments ; les "
    "prédictions identiques ou qui se chevauchent dans un même groupe comptent pour une seule."
)


@dataclass(frozen=True)
class SystemResult:
    key: str
    title: str
    tally: Tally
    seconds: float

    @property
    def docs_per_second(self) -> float | None:
        return self.tally.documents / self.seconds if self.seconds > 0 else None


@dataclass(frozen=True)
class EvalResult:
    gold: GoldSet
    scored_labels: tuple[str, ...]
    systems: tuple[SystemResult, ...]
    match_rules: str = MATCH_RULES  # how a prediction matches the gold, for the reader

    @property
    def labels(self) -> list[str]:
        """Scored labels first, then every other label of the gold or the predictions."""
        seen = set(self.scored_labels)
        extra = set(self.gold.labels)
        for s in self.systems:
            extra |= set(s.tally.exact)
        return [*self.scored_labels, *sorted(extra - seen)]

    def micro(self, system: SystemResult, mode: str) -> Score:
        return micro(getattr(system.tally, mode), self.scored_labels)

    def targets(self, system: SystemResult) -> dict[str, Any]:
        score = self.micro(system, "overlap")
        values = {"recall": score.recall, "precision": score.precision}
        return {
            name: {
                "value": values[name],
                "threshold": threshold,
                "met": None if values[name] is None else values[name] >= threshold,
            }
            for name, threshold in TARGETS.items()
        }

    def to_dict(self) -> dict[str, Any]:
        gold = self.gold
        mentions = [m for d in gold.docs for m in d.mentions]
        return {
            "gold": {
                "kind": gold.kind,
                "source": gold.source,
                "documents": len(gold.docs),
                "characters": sum(len(d.text) for d in gold.docs),
                "mentions": len(mentions),
                "discontinuous": sum(len(m.fragments) > 1 for m in mentions),
                "by_label": {lab: sum(m.label == lab for m in mentions) for lab in gold.labels},
                "ignored_lines": dict(gold.ignored),
            },
            "scored_labels": list(self.scored_labels),
            "match_rules": {
                "exact": "same fragments (whitespace-stripped) and same label",
                "overlap": (
                    "gold found if a same-label prediction shares a character with one of its "
                    "fragments; same-label predictions that are identical or overlap are merged "
                    "and count once; a merged prediction is correct if it overlaps a gold"
                ),
                "duplicates": "identical (fragments, label) count once, gold and predicted",
            },
            "systems": {s.key: self._system_dict(s) for s in self.systems},
        }

    def _system_dict(self, s: SystemResult) -> dict[str, Any]:
        t = s.tally
        labels = {
            lab: {
                "exact": t.exact.get(lab, Score()).to_dict(),
                "overlap": t.overlap.get(lab, Score()).to_dict(),
            }
            for lab in self.labels
        }
        return {
            "title": s.title,
            "documents": t.documents,
            "seconds": round(s.seconds, 3),
            "docs_per_second": s.docs_per_second,
            "raw_predictions": t.raw_predictions,
            "labels": labels,
            "micro": {
                "exact": self.micro(s, "exact").to_dict(),
                "overlap": self.micro(s, "overlap").to_dict(),
            },
            "qualifiers": {q: t.qualifiers[q].to_dict() for q in QUALIFIERS if q in t.qualifiers},
            "targets": self.targets(s),
        }

    # --- rich tables -------------------------------------------------------------------------

    def score_table(self, mode: str) -> Table:
        """One row per label, one P/R/F1 block per system, micro total of the scored labels."""
        from rich import box
        from rich.markup import escape
        from rich.table import Table

        title = {"exact": "Correspondance exacte", "overlap": "Chevauchement"}[mode]
        table = Table(
            title=f"{title} (micro : {'+'.join(self.scored_labels)})",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0, 0, 1),  # two systems fit 80 columns, the width of pipes and CI logs
            pad_edge=False,
        )
        table.add_column("Groupe", no_wrap=True)
        table.add_column("Gold", justify="right")
        for s in self.systems:
            table.add_column(f"{escape(s.title)}\nPréd.", justify="right")
            for head in ("P", "R", "F1"):
                table.add_column(head, justify="right")
        scored = set(self.scored_labels)
        for label in self.labels:
            scores = [getattr(s.tally, mode).get(label, Score()) for s in self.systems]
            gold = max(sc.gold for sc in scores) if scores else 0
            table.add_row(
                label, str(gold), *_cells(scores), style=None if label in scored else "dim"
            )
        totals = [self.micro(s, mode) for s in self.systems]
        table.add_section()
        table.add_row("micro", str(totals[0].gold if totals else 0), *_cells(totals), style="bold")
        return table

    def qualifier_table(self) -> Table | None:
        if not any(s.tally.qualifiers for s in self.systems):
            return None
        from rich import box
        from rich.markup import escape
        from rich.table import Table

        table = Table(
            title="Qualificatifs des mentions trouvées (n : mentions, or + : positives dans l'or)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0, 0, 1),
            pad_edge=False,
        )
        table.add_column("Qualificatif", no_wrap=True)
        for s in self.systems:
            table.add_column(f"{escape(s.title)}\nn", justify="right")
            table.add_column("or +", justify="right")
            table.add_column("exact.", justify="right")
            table.add_column("R +", justify="right")
        for q in QUALIFIERS:
            cells: list[str] = []
            for s in self.systems:
                qs = s.tally.qualifiers.get(q)
                if qs is None:
                    cells += ["0", "0", "—", "—"]
                else:
                    cells += [str(qs.matched), str(qs.gold_true), fmt(qs.accuracy), fmt(qs.recall)]
            table.add_row(q, *cells)
        return table


def _cells(scores: Sequence[Score]) -> list[str]:
    out: list[str] = []
    for sc in scores:
        out += [str(sc.predicted), fmt(sc.precision), fmt(sc.recall), fmt(sc.f1)]
    return out
