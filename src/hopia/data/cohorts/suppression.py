"""Small-cell suppression that holds under arithmetic.

Primary suppression: a count from 1 to ``threshold - 1`` leaves as ``"<threshold"``. Zero is
shown: it discloses no one. That alone is undone by subtraction: an attrition row "50 | <10 |
excluded 46" gives 4, a sex distribution whose total is published gives its one hidden cell.

Complementary suppression: a published table is a set of counts and the additive relations a
reader knows between them (``total = sum(parts)``: consecutive attrition steps, a distribution
and its total). :func:`protect` plays the reader: it bounds every hidden cell from the published
ones (a small cell lies in [1, threshold - 1], a complementary one, shown ``"*"``, is never
small nor zero, so in [threshold, ∞)), and while some small cell is pinned to one value it hides
one more published cell, the one that frees the most small cells at the lowest cost (a cell's
``cost`` says how much its loss hurts the reader: hide an "excluded" column before the final
cohort size). Bound propagation over sums is exact when no two sums share more than one cell,
which is the shape of every table Hopia publishes (attrition is a chain; a distribution shares
only its total); the tests attack the results with linear programming independently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

THRESHOLD = 10
HIDDEN = "*"  # a cell of ``threshold`` or more, hidden so that a small one cannot be recomputed
WITHHELD = "n.p."  # non publié: a last resort when no complementary cell exists (any value)
Cell = int | str
_INFINITY = 10**15


def suppress(n: int, threshold: int = THRESHOLD) -> Cell:
    """``n``, or ``"<threshold"`` when ``0 < n < threshold``."""
    return f"<{threshold}" if 0 < n < threshold else int(n)


def is_small(n: int, threshold: int = THRESHOLD) -> bool:
    return 0 < n < threshold


def small_text(n: int, threshold: int = THRESHOLD, unit: str = "patient(s)") -> str:
    """``"12 patient(s)"``, or ``"moins de 10 patients"`` for a small count (refusal messages)."""
    if is_small(n, threshold):
        return f"moins de {threshold} {unit.replace('(s)', 's')}"
    return f"{n} {unit}"


@dataclass
class Table:
    """Counts and the sums a reader knows between them.

    ``sums``: ``(total, parts)``, meaning ``cells[total] == sum(cells[p] for p in parts)``.
    ``cost``: how much hiding a cell hurts (default 1); ``fixed``: cells that are published
    whatever happens, small or not (a count the recipient can recount from the files it
    receives, a total published elsewhere)."""

    cells: dict[str, int]
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    cost: dict[str, float] = field(default_factory=dict)
    fixed: set[str] = field(default_factory=set)

    def add_sum(self, total: str, parts: Sequence[str]) -> None:
        if self.cells[total] != sum(self.cells[p] for p in parts):
            raise ValueError(f"{total} is not the sum of {list(parts)}")  # a programming error
        self.sums.append((total, tuple(parts)))


def bounds(
    published: Mapping[str, Cell], sums: Sequence[tuple[str, Sequence[str]]], threshold: int
) -> dict[str, tuple[int, int]]:
    """What a reader can infer of each cell: [low, high], by propagating the sums."""
    box: dict[str, list[int]] = {}
    for name, cell in published.items():
        if isinstance(cell, int):
            box[name] = [cell, cell]
        elif cell == HIDDEN:
            box[name] = [threshold, _INFINITY]
        elif cell == WITHHELD:
            box[name] = [0, _INFINITY]
        else:
            box[name] = [1, threshold - 1]
    changed = True
    rounds = 0
    while changed and rounds < 1000:
        changed, rounds = False, rounds + 1
        for total, parts in sums:
            low = sum(box[p][0] for p in parts)
            high = sum(box[p][1] for p in parts)
            t = box[total]
            if low > t[0] or high < t[1]:
                new = [max(t[0], low), min(t[1], high)]
                if new != t:
                    box[total], changed = new, True
            t = box[total]
            for p in parts:
                others_low, others_high = low - box[p][0], high - box[p][1]
                new = [max(box[p][0], t[0] - others_high), min(box[p][1], t[1] - others_low)]
                if new != box[p]:
                    box[p], changed = new, True
    return {name: (lo, hi) for name, (lo, hi) in box.items()}


def exposed(table: Table, published: Mapping[str, Cell], threshold: int = THRESHOLD) -> list[str]:
    """The small cells a reader can recompute exactly from ``published``. At threshold 2 the
    rule itself says "<2" is 1 (zero is shown): there is nothing complementary cells could hide.
    """
    if threshold <= 2:
        return []
    box = bounds(published, table.sums, threshold)
    return [
        name
        for name, n in table.cells.items()
        if is_small(n, threshold)
        and not isinstance(published[name], int)  # a fixed cell is published anyway
        and box[name][0] == box[name][1]
    ]


def protect(table: Table, threshold: int = THRESHOLD) -> dict[str, Cell]:
    """Primary suppression, then the complementary cells that keep every small one unknown."""
    published: dict[str, Cell] = {
        k: int(n) if k in table.fixed else suppress(n, threshold) for k, n in table.cells.items()
    }
    related: dict[str, set[str]] = {k: set() for k in table.cells}
    for total, parts in table.sums:
        group = {total, *parts}
        for name in group:
            related[name] |= group
    while pinned := exposed(table, published, threshold):
        # Candidates: published, large cells in a sum with a hidden cell.
        hidden = {k for k, c in published.items() if not isinstance(c, int)}
        near = set().union(*(related[h] for h in hidden)) if hidden else set()
        candidates = [
            k
            for k in sorted(near)
            if isinstance(published[k], int)
            and table.cells[k] >= threshold
            and k not in table.fixed
        ]
        if not candidates:  # nothing large to hide: withhold what pins the small cells
            changed = False
            for name in pinned:
                for k in sorted(related[name] | {name}):
                    if k not in table.fixed and published[k] != WITHHELD:
                        published[k], changed = WITHHELD, True
            if not changed:  # only cells published whatever happens pin it: nothing to do
                break
            continue

        def score(k: str) -> tuple[int, float, int, str]:
            trial = {**published, k: HIDDEN}
            return (
                len(exposed(table, trial, threshold)),
                table.cost.get(k, 1.0),
                table.cells[k],
                k,
            )

        published[min(candidates, key=score)] = HIDDEN
    return published


def suppress_distribution(counts: Mapping[str, int], threshold: int = THRESHOLD) -> dict[str, Cell]:
    """A distribution whose total (the sum of its cells) is published elsewhere."""
    table = Table(dict(counts) | {"__total__": sum(counts.values())}, fixed={"__total__"})
    table.add_sum("__total__", list(counts))
    published = protect(table, threshold)
    return {k: published[k] for k in counts}
