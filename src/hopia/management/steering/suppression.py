"""Small-cell suppression of a two-way table with its margins, checked by linear programming.

A published table is a grid of counts (rows: services or chapters; columns: months or
services), its row totals, column totals and grand total. Primary suppression hides every count
from 1 to ``threshold - 1`` as ``"<threshold"`` (zero is shown: it discloses no one). That alone
is undone by subtraction: a row total minus the row's published cells gives the hidden one back.

Complementary suppression hides more published cells, shown ``"*"``, until no small cell can be
recomputed. The attacker is played exactly: for each small cell, a linear program minimises and
maximises it subject to every additive relation of the table (each row and column sums to its
total, the totals to the grand total), with the published values fixed, a small cell in
``[1, threshold - 1]`` and a ``"*"`` cell in ``[threshold, ∞)`` (a complementary cell is never
small nor zero: the reader may know it). A two-way table with margins is a transportation
problem, whose constraint matrix is totally unimodular, so the linear bounds are the integer
bounds: a small cell is protected when its minimum and maximum differ.

Hiding a cell only widens what the reader may infer of the others, so one pass suffices: each
small cell in turn, while it is pinned, gets one more complementary cell among those that share
a sum with it (the smallest interior count first, in a line that already holds a hidden cell,
margins last). A cheap screen goes first: the optima of a few random objectives are two
feasible tables, and a small cell on which they differ is not pinned (no exact check needed).
Cells ``preset`` by the caller keep their status: a margin shared with another
published table is published, or hidden, the same way in both.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

HIDDEN = "*"  # a count of ``threshold`` or more, hidden so that a small one cannot be recomputed
WITHHELD = "n.p."  # non publié: a zero hidden as a last resort (any value from 0)
TOTAL = "Total"
_TRIED = 6  # candidates tried, cheapest first, before hiding the cheapest anyway
Cell = int | str
Key = tuple[Hashable, Hashable]


def small(n: int, threshold: int) -> bool:
    return 0 < n < threshold


@dataclass
class Protected:
    """A protected grid: ``cells`` with the margins (row and column ``TOTAL``), as published."""

    cells: pd.DataFrame
    counts: pd.DataFrame  # the true counts with margins, never published
    threshold: int
    complementary: list[Key] = field(default_factory=list)
    residual: list[Key] = field(default_factory=list)  # pinned cells nothing could protect

    def published(self, row: Hashable, col: Hashable) -> int | None:
        """The cell's count when it is published as a number, else ``None``."""
        value = self.cells.at[row, col]
        return int(value) if isinstance(value, int | np.integer) else None


def with_margins(grid: pd.DataFrame) -> pd.DataFrame:
    """``grid`` (integer counts) with a ``TOTAL`` column and row."""
    full = grid.astype("int64").copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    return full


def _equations(rows: list[Hashable], cols: list[Hashable]) -> list[list[Key]]:
    """Each additive relation as the list of its cells, the total last."""
    eqs = [[(r, c) for c in cols] + [(r, TOTAL)] for r in rows]
    eqs += [[(r, c) for r in rows] + [(TOTAL, c)] for c in cols]
    eqs.append([(r, TOTAL) for r in rows] + [(TOTAL, TOTAL)])
    eqs.append([(TOTAL, c) for c in cols] + [(TOTAL, TOTAL)])
    return eqs


def _program(
    published: dict[Key, Cell], eqs: list[list[Key]], threshold: int
) -> tuple[list[Key], dict]:
    """The reader's linear program over the hidden cells: their list and linprog's arguments
    (equalities from the sums with the published values moved right, bounds per mark)."""
    hidden = [k for k, v in published.items() if not isinstance(v, int)]
    index = {k: i for i, k in enumerate(hidden)}
    a_eq, b_eq = [], []
    for eq in eqs:
        row = np.zeros(len(hidden))
        rhs = 0.0
        for pos, k in enumerate(eq):
            sign = -1.0 if pos == len(eq) - 1 else 1.0  # parts - total = 0
            v = published[k]
            if isinstance(v, int):
                rhs -= sign * v
            else:
                row[index[k]] += sign
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = []
    for k in hidden:
        v = published[k]
        if v == HIDDEN:
            bounds.append((threshold, None))
        elif v == WITHHELD:
            bounds.append((0, None))
        else:
            bounds.append((1, threshold - 1))
    kwargs: dict = {"bounds": bounds, "method": "highs"}
    if a_eq:
        kwargs |= {"A_eq": np.array(a_eq), "b_eq": np.array(b_eq)}
    return hidden, kwargs


def _range(
    target: Key,
    published: dict[Key, Cell],
    eqs: list[list[Key]],
    threshold: int,
) -> tuple[float, float]:
    """The reader's exact [min, max] of a hidden cell."""
    hidden, kwargs = _program(published, eqs, threshold)
    c = np.zeros(len(hidden))
    c[hidden.index(target)] = 1.0
    low = linprog(c, **kwargs)
    high = linprog(-c, **kwargs)
    if low.status != 0 or high.status not in (0, 3):  # 3: unbounded above
        raise RuntimeError(f"suppression: the attack's program failed ({low.message})")
    top = float("inf") if high.status == 3 else -high.fun
    return float(low.fun), top


def _free(
    targets: set[Key],
    published: dict[Key, Cell],
    eqs: list[list[Key]],
    threshold: int,
    rng: np.random.Generator,
    rounds: int = 2,
) -> set[Key]:
    """Targets shown not pinned by two feasible points that differ on them: the optima of a
    few random objectives (a cheap screen; the undecided ones get the exact check)."""
    hidden, kwargs = _program(published, eqs, threshold)
    kwargs["bounds"] = [(lo, hi if hi is not None else lo + 10**6) for lo, hi in kwargs["bounds"]]
    where = {k: i for i, k in enumerate(hidden)}
    freed: set[Key] = set()
    for _ in range(rounds):
        c = rng.normal(size=len(hidden))
        a, b = linprog(c, **kwargs), linprog(-c, **kwargs)
        if a.status != 0 or b.status != 0:
            break
        freed |= {t for t in targets if abs(a.x[where[t]] - b.x[where[t]]) > 0.5}
    return freed


def attack(
    cells: pd.DataFrame, threshold: int, targets: list[Key] | None = None
) -> dict[Key, tuple[float, float]]:
    """What a reader infers of each hidden small cell (``"<threshold"``) of a published grid
    with margins: its [min, max]. The tests use it to try to break :func:`protect`."""
    rows = [r for r in cells.index if r != TOTAL]
    cols = [c for c in cells.columns if c != TOTAL]
    published = _as_published(cells)
    eqs = _equations(rows, cols)
    wanted = targets or [
        k for k, v in published.items() if isinstance(v, str) and v.startswith("<")
    ]
    return {k: _range(k, published, eqs, threshold) for k in wanted}


def _as_published(cells: pd.DataFrame) -> dict[Key, Cell]:
    out: dict[Key, Cell] = {}
    for r in cells.index:
        for c in cells.columns:
            v = cells.at[r, c]
            out[(r, c)] = int(v) if isinstance(v, int | np.integer) else str(v)
    return out


def protect(
    grid: pd.DataFrame, threshold: int, preset: Mapping[Key, Cell] | None = None
) -> Protected:
    """Primary and complementary suppression of ``grid`` (rows × columns of counts, no
    margins); the result has the margins. ``preset``: cells (margins included) whose published
    form is decided elsewhere (an ``int``: published; a mark: hidden)."""
    counts = with_margins(grid)
    rows, cols = list(grid.index), list(grid.columns)
    preset = dict(preset or {})
    published: dict[Key, Cell] = {}
    for r in counts.index:
        for c in counts.columns:
            n = int(counts.at[r, c])
            if (r, c) in preset:
                p = preset[(r, c)]
                published[(r, c)] = n if isinstance(p, int) else p
            else:
                published[(r, c)] = f"<{threshold}" if small(n, threshold) else n
    result = Protected(cells=counts.copy(), counts=counts, threshold=threshold)
    if threshold > 2:  # at 2 the rule itself says "<2" is 1: nothing to protect
        eqs = _equations(rows, cols)
        member: dict[Key, list[int]] = {}
        for i, eq in enumerate(eqs):
            for k in eq:
                member.setdefault(k, []).append(i)
        targets = [k for k, v in published.items() if isinstance(v, str) and v.startswith("<")]
        rng = np.random.default_rng(0)
        free = _free(set(targets), published, eqs, threshold, rng) if targets else set()
        for target in targets:
            if target in free:  # hiding more cells later only widens what a reader infers
                continue
            before = len(result.complementary)
            while _pinned(target, published, eqs, threshold):
                chosen = _candidate(target, published, counts, eqs, member, preset, threshold)
                if chosen is None:
                    result.residual.append(target)
                    break
                published[chosen] = WITHHELD if int(counts.at[chosen]) == 0 else HIDDEN
                result.complementary.append(chosen)
            rest = {t for t in targets if t not in free and t != target}
            if rest and len(result.complementary) > before:  # new hidden cells: screen again
                free |= _free(rest, published, eqs, threshold, rng)
    table = counts.astype(object)
    for (r, c), v in published.items():
        table.at[r, c] = v
    result.cells = table
    return result


def _pinned(target: Key, published: dict[Key, Cell], eqs: list[list[Key]], threshold: int) -> bool:
    low, high = _range(target, published, eqs, threshold)
    return high - low < 0.5


def _candidate(
    target: Key,
    published: dict[Key, Cell],
    counts: pd.DataFrame,
    eqs: list[list[Key]],
    member: dict[Key, list[int]],
    preset: Mapping[Key, Cell],
    threshold: int,
) -> Key | None:
    """The published cell to hide next for ``target``: among the cheapest (interior before
    margins, in lines that already hold hidden cells, the smallest count first; a zero, then
    withheld, last), the first whose hiding alone frees ``target``, else the cheapest."""

    def lines_with_hidden(k: Key) -> int:
        return sum(
            1
            for i in member[k]
            if any(o != k and not isinstance(published[o], int) for o in eqs[i])
        )

    # First the structural move: a sum where the target is the only hidden cell gets one more,
    # preferably a cell whose other sum already holds a hidden cell (a cycle of hidden cells,
    # the shape that resists subtraction).
    for i in member[target]:
        eq = eqs[i]
        if any(o != target and not isinstance(published[o], int) for o in eq):
            continue
        picks = sorted(
            (
                TOTAL in k,
                -sum(
                    1
                    for j in member[k]
                    if j != i and any(not isinstance(published[o], int) for o in eqs[j])
                ),
                published[k],
                str(k),
                k,
            )
            for k in eq
            if isinstance(published[k], int) and published[k] > 0 and k not in preset
        )
        if picks:
            return picks[0][-1]
    options = sorted(
        (v == 0, TOTAL in k, -lines_with_hidden(k), v, str(k), k)
        for k, v in published.items()
        if isinstance(v, int) and k not in preset
    )
    if not options:
        return None
    for *_, k in options[:_TRIED]:
        kept = published[k]
        published[k] = WITHHELD if kept == 0 else HIDDEN
        freed = not _pinned(target, published, eqs, threshold)
        published[k] = kept
        if freed:
            return k
    return options[0][-1]
