from __future__ import annotations

import pandas as pd
import pytest

from tests.management.steering import data


@pytest.fixture(scope="session")
def stays() -> pd.DataFrame:
    """The inpatient stays of the synthetic hospital as the bed package reads them."""
    v = data.frames()["visit_occurrence"]
    v = v[v["visit_concept_id"] != data.OUTPATIENT]
    return pd.DataFrame(
        {
            "site": v["care_site_id"].astype("int64").to_numpy(),
            "start": pd.to_datetime(v["visit_start_date"]).to_numpy(),
            "end": pd.to_datetime(v["visit_end_date"]).to_numpy(),
        }
    )
