"""Complementary suppression: no small cell comes back by subtraction, attacked by an
independent linear program (the exact integer bounds of a two-way table with margins)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hopia.management.steering.suppression import HIDDEN, TOTAL, attack, protect, with_margins


def _pinned(cells: pd.DataFrame, threshold: int) -> list:
    return [k for k, (lo, hi) in attack(cells, threshold).items() if hi - lo < 0.5]


def _primary_only(grid: pd.DataFrame, threshold: int) -> pd.DataFrame:
    full = with_margins(grid).astype(object)
    return full.map(lambda n: f"<{threshold}" if 0 < n < threshold else int(n))


def test_primary_suppression_alone_gives_the_small_cell_back() -> None:
    # The project's past failure: a row total minus the published cells is the hidden count.
    grid = pd.DataFrame([[40, 3, 25], [30, 22, 41]], index=["a", "b"], columns=["m1", "m2", "m3"])
    naive = _primary_only(grid, 10)
    assert naive.at["a", "m2"] == "<10"
    assert naive.at["a", TOTAL] - naive.at["a", "m1"] - naive.at["a", "m3"] == 3
    assert _pinned(naive, 10) == [("a", "m2")]
    protected = protect(grid, 10)
    assert protected.cells.at["a", "m2"] == "<10"
    assert _pinned(protected.cells, 10) == []
    # Hiding one more cell of the row is not enough (the column gives it back): a rectangle.
    hidden = [k for k, v in protected.cells.stack().items() if v == HIDDEN]
    assert len(hidden) >= 3 and not protected.residual
    assert protected.cells.at[TOTAL, TOTAL] == 161  # the grand total stays published


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_resist_the_attack(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 9)), int(rng.integers(1, 14))
    grid = pd.DataFrame(
        rng.negative_binomial(1, rng.uniform(0.03, 0.4), (rows, cols)),
        index=[f"s{i}" for i in range(rows)],
        columns=[f"m{j}" for j in range(cols)],
    )
    threshold = int(rng.integers(3, 12))
    protected = protect(grid, threshold)
    cells = protected.cells
    assert _pinned(cells, threshold) == []
    assert protected.residual == []
    counts = with_margins(grid)
    for (r, c), v in cells.stack().items():
        n = int(counts.at[r, c])
        if isinstance(v, int):
            assert v == n and not 0 < n < threshold  # never a small count, never a wrong one
        elif v == HIDDEN:
            assert n >= threshold  # what "*" tells the reader is true
        elif v.startswith("<"):
            assert 0 < n < threshold
        else:
            assert n == 0  # withheld: a zero kept from giving a small cell back


def test_zeros_are_shown_and_a_table_without_small_cells_is_untouched() -> None:
    grid = pd.DataFrame([[0, 12], [15, 0]], index=["a", "b"], columns=["x", "y"])
    protected = protect(grid, 10)
    assert protected.cells.equals(with_margins(grid).astype(object))
    assert protected.complementary == []


def test_preset_margins_keep_their_status() -> None:
    grid = pd.DataFrame([[5, 30], [20, 40]], index=["a", "b"], columns=["x", "y"])
    preset = {("a", TOTAL): 35, ("b", TOTAL): 60, (TOTAL, TOTAL): 95}
    protected = protect(grid, 10, preset=preset)
    for key, value in preset.items():
        assert protected.cells.at[key] == value
    assert _pinned(protected.cells, 10) == []


def test_threshold_two_has_nothing_to_protect() -> None:
    grid = pd.DataFrame([[1, 30]], index=["a"], columns=["x", "y"])
    assert protect(grid, 2).complementary == []
