from __future__ import annotations

import numpy as np

from hopia.management.beds import EmpiricalLos


def test_remaining_stay_is_conditional_on_the_time_spent() -> None:
    los = EmpiricalLos.of(np.array([0, 1, 1, 2, 3, 5, 8, 13, 21, 40]))
    rng = np.random.default_rng(0)
    elapsed = np.repeat([0, 4, 13, 60], 500)
    total = los.draw_total(elapsed, rng)
    assert (total >= elapsed).all()
    assert set(total[elapsed == 4]) <= {5, 8, 13, 21, 40}
    assert set(total[elapsed == 13]) <= {13, 21, 40}
    beyond = total[elapsed == 60]  # longer than any stay seen: the tail beyond P90
    assert (beyond > 60).all()
    assert los.draw(1000, rng).mean() < total[elapsed == 4].mean()
