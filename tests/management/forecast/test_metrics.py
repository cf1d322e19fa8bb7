"""Pinball loss and coverage against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from hopia.management.forecast import coverage, pinball, scores


def test_pinball_by_hand() -> None:
    q = np.array([0.1, 0.5, 0.9])
    values = np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 2.0]])
    actual = np.array([3.0, 0.0])
    # y=3: 0.1*(3-1)=0.2, 0.5*(3-2)=0.5, (1-0.9)*(4-3)=0.1
    # y=0: 0.9*(0-0)*...=0, (1-0.5)*1=0.5, (1-0.9)*2=0.2
    expected = (0.2 + 0.5 + 0.1 + 0.0 + 0.5 + 0.2) / 6
    assert pinball(actual, values, q) == pytest.approx(expected)


def test_pinball_skips_missing_outcomes() -> None:
    q = np.array([0.5])
    values = np.array([[[2.0], [5.0]]])
    assert pinball(np.array([[4.0, np.nan]]), values, q) == pytest.approx(1.0)


def test_coverage_bounds_included() -> None:
    q = np.round(np.arange(0.05, 0.96, 0.05), 2)
    values = np.tile(np.linspace(1, 10, len(q)), (4, 1))  # q05 = 1, q25 = 3, q75 = 8, q95 = 10
    actual = np.array([1.0, 10.0, 10.5, 5.0])
    assert coverage(actual, values, q, 0.9) == pytest.approx(3 / 4)
    assert coverage(actual, values, q, 0.5) == pytest.approx(1 / 4)
    assert coverage(actual, values, np.array([0.5]), 0.9) is None
    s = scores(actual, values, q)
    assert s["points"] == 4 and s["coverage_90"] == pytest.approx(0.75)
