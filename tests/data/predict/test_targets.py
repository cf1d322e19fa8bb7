from __future__ import annotations

import pandas as pd
import pytest

from hopia.data.predict.targets import TargetSpec, long_stay_labels, readmission_labels


def _stays(*rows: tuple[int, int, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["stay_id", "person_id", "admission_date", "discharge_date"])
    for col in ("admission_date", "discharge_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["los_days"] = (frame["discharge_date"] - frame["admission_date"]).dt.days
    return frame


STAYS = _stays(
    (1, 1, "2024-01-01", "2024-01-05"),
    (2, 1, "2024-02-04", "2024-02-10"),  # 30 days after stay 1's discharge: readmission
    (3, 1, "2024-03-12", "2024-03-13"),  # 31 days after stay 2: not one
    (4, 2, "2024-01-01", "2024-01-02"),  # person 2's only stay
    (5, 3, "2024-01-10", "2024-01-20"),
    (6, 3, "2024-01-25", "2024-01-26"),  # person 3's next stay, 5 days later
)


def _labels(result) -> dict[int, int]:  # noqa: ANN001
    return dict(zip(result.frame["stay_id"], result.frame["label"], strict=True))


def test_readmission_within_horizon_after_discharge() -> None:
    result = readmission_labels(STAYS, horizon_days=30)
    assert _labels(result) == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1, 6: 0}
    known = result.frame.set_index("stay_id")["label_known_date"]
    assert known[1] == pd.Timestamp("2024-02-04")


def test_death_during_stay_and_unobserved_windows_are_excluded() -> None:
    deaths = pd.DataFrame({"person_id": [2], "death_date": pd.to_datetime(["2024-01-02"])})
    result = readmission_labels(
        STAYS, horizon_days=30, observation_end=pd.Timestamp("2024-03-01"), deaths=deaths
    )
    # 4: died at discharge; 3 and 6... 6's window ends 2024-02-25 (kept), 2 and 3 run past
    # 2024-03-01 (excluded, whatever their label).
    assert sorted(_labels(result)) == [1, 5, 6]
    assert result.excluded == {"death_during_stay": 1, "window_after_data_end": 2}


def test_long_stay() -> None:
    assert _labels(long_stay_labels(STAYS, min_los_days=6)) == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1, 6: 0}


def test_target_spec() -> None:
    assert TargetSpec("readmission_30d").cutoff == "discharge"
    assert TargetSpec("long_stay").cutoff == "admission"
    assert TargetSpec(horizon_days=90).label == "readmission_90d"
    spec = TargetSpec("long_stay", min_los_days=6)
    assert _labels(spec.labels(STAYS, observation_end=None))[2] == 1
    with pytest.raises(ValueError, match="readmission_30d, long_stay"):
        TargetSpec("mortality")
    with pytest.raises(ValueError, match=">= 1"):
        TargetSpec(horizon_days=0)
