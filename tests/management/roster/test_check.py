"""The independent check finds what a hand-made roster breaks."""

from __future__ import annotations

from datetime import timedelta

from hopia.management.roster import Nurse, violations
from tests.management.roster.conftest import START, problem


def test_a_bad_roster_is_caught_rule_by_rule() -> None:
    d = [START + timedelta(days=i) for i in range(14)]
    p = problem(
        (Nurse("A", "Mme A", leave=frozenset({d[10]})),), {(d[0], "M"): 2}, max_consecutive_days=5
    )
    bad = {("A", d[i]): "M" for i in range(6)}  # 6 days in a row (and 42 h)
    bad["A", d[7]] = "N"
    bad["A", d[8]] = "M"  # the morning after a night
    bad["A", d[10]] = "S"  # on leave
    found = violations(p, bad)
    assert any("6 jours consécutifs" in v for v in found)
    assert any("repos de 0 h" in v for v in found)
    assert any("pendant un congé" in v for v in found)
    assert any(v.startswith(f"{d[0]} M : 1 < 2") for v in found)
    assert (
        violations(p, {("A", d[0]): "J"}) and "non autorisé" in violations(p, {("A", d[0]): "J"})[0]
    )
