from __future__ import annotations

import pandas as pd

from hopia.management.beds import daily_admissions, daily_census

T = pd.Timestamp


def test_midnight_census_counts_nights_in_bed() -> None:
    stays = pd.DataFrame(
        {
            "site": [1, 1, 1, 2],
            "start": [T("2025-01-01"), T("2025-01-02"), T("2025-01-03"), T("2024-12-30")],
            "end": [T("2025-01-03"), T("2025-01-02"), T("2025-01-04"), T("2025-01-02")],
        }
    )
    census = daily_census(stays, T("2025-01-01"), T("2025-01-04"))
    # site 1: nights of the 1st and 2nd; a same-day stay never; the 3rd's one night
    assert census[1].tolist() == [1, 1, 1, 0]
    # site 2: admitted before the window, in bed the nights of the 1st (and before)
    assert census[2].tolist() == [1, 0, 0, 0]
    admissions = daily_admissions(stays, T("2025-01-01"), T("2025-01-04"))
    assert admissions[1].tolist() == [1, 1, 1, 0] and admissions[2].sum() == 0
