"""A small synthetic hospital for the steering and bed tests: inpatient stays over 24 months in
five services of very different sizes (one tiny, so that small cells occur), readmissions,
a main diagnosis per stay, written with SQLAlchemy Core on DuckDB or PostgreSQL.

The generator is :mod:`hopia.data.synth.activity`; this module fixes its parameters (and keeps
the tables the tests have always had: no ``person`` rows). Deterministic (a seeded
generator); the expected values of the tests are computed from these frames with pandas,
never from a previous run of the code under test.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from hopia.data.synth import activity
from hopia.platform.warehouse import Warehouse

FIRST, LAST = date(2023, 7, 1), date(2025, 6, 30)
# care_site_id -> (name, admissions a day, mean length of stay in days)
SITES = {
    1: ("Cardiologie", 3.0, 6.0),
    2: ("Pneumologie", 2.0, 8.0),
    3: ("Gériatrie", 1.5, 12.0),
    4: ("Chirurgie digestive", 1.0, 4.0),
    5: ("Unité de sommeil", 0.12, 1.5),  # a few stays a month: small cells
}
CODES = list(activity.CODES)
LOCAL = activity.LOCAL
INPATIENT, ER_INPATIENT, OUTPATIENT = activity.INPATIENT, activity.ER_INPATIENT, activity.OUTPATIENT


def frames(seed: int = 7) -> dict[str, pd.DataFrame]:
    spec = activity.Activity(
        {site: activity.Service(*values) for site, values in SITES.items()},
        FIRST,
        LAST,
        seed=seed,
        persons=1500,
    )
    out = activity.frames(spec)
    del out["person"]
    return out


def fill(wh: Warehouse, data: dict[str, pd.DataFrame]) -> None:
    activity.fill(wh, data)
