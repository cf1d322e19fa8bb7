"""Reading the staff and demand tables, and the demand of a quantile forecast."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hopia.management.roster import (
    RosterInputError,
    RosterRules,
    make_problem,
    nurses_from_forecast,
    read_table,
    staff_from_frame,
)
from tests.management.roster.conftest import START, days


def test_staff_table_ratios_leave_and_weighted_wishes(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "\ufeffnurse;name;ratio;skills;leave;wishes\n"
        "A;Mme A;80 %;réa|tutorat;2026-03-03..2026-03-05 2026-03-10;2026-03-07*3 2026-03-08\n"
        "B;;0,5;;;\n"
        "C;Mme C;;;;\n",
        encoding="utf-8",
    )
    a, b, c = staff_from_frame(read_table(path, "staff"))
    assert a.ratio == pytest.approx(0.8) and a.skills == {"réa", "tutorat"}
    assert a.leave == {date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 10)}
    assert a.wishes == {date(2026, 3, 7): 3, date(2026, 3, 8): 1}
    assert (b.name, b.ratio, c.ratio) == ("B", 0.5, 1.0)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A;Mme A;150;", "quotité"),
        ("A;Mme A;1;03/03/2026", "AAAA-MM-JJ"),
        ("A;Mme A;1;2026-03-09..2026-03-02", "plage incorrecte"),
    ],
)
def test_bad_staff_rows_are_named(row: str, expected: str) -> None:
    frame = pd.DataFrame([row.split(";")], columns=["nurse", "name", "ratio", "leave"])
    with pytest.raises(RosterInputError, match=expected) as caught:
        staff_from_frame(frame)
    assert "ligne 2" in caught.value.message and caught.value.fields == ("staff",)


def test_demand_outside_the_period_is_left_out_and_skills_kept() -> None:
    staff = pd.DataFrame({"nurse": ["A"]})
    demand = pd.DataFrame(
        {
            "date": ["2026-03-02", "2026-03-02", "2027-01-01"],
            "shift": ["N", "N", "M"],
            "required": ["2", "1", "5"],
            "skill": ["", "réa", ""],
        }
    )
    p = make_problem(staff, demand, RosterRules(), START, 2)
    assert p.demand == {(START, "N"): 2}
    assert p.skill_demand == {(START, "N", "réa"): 1}
    assert len(p.days) == 14 and p.days == days()


def test_demand_on_a_forbidden_12h_shift_is_refused() -> None:
    demand = pd.DataFrame({"date": ["2026-03-02"], "shift": ["J"], "required": ["1"]})
    with pytest.raises(RosterInputError, match="allow_12h"):
        make_problem(pd.DataFrame({"nurse": ["A"]}), demand, RosterRules(), START, 1)
    p = make_problem(pd.DataFrame({"nurse": ["A"]}), demand, RosterRules(allow_12h=True), START, 1)
    assert p.demand == {(START, "J"): 1}


def test_forecast_quantile_to_nurses_rounds_up_with_a_floor() -> None:
    forecast = pd.DataFrame(
        {
            "ds": ["2026-03-02"] * 2 + ["2026-03-03"] * 2,
            "quantile": [0.5, 0.9, 0.5, 0.9],
            "value": [20.0, 24.5, 10.0, 12.0],
        }
    )
    out = nurses_from_forecast(
        forecast, quantile=0.9, patients_per_nurse={"M": 6, "N": 12}, minimum={"N": 2}
    )
    got = {(r.date, r.shift): r.required for r in out.itertuples()}
    assert got == {
        ("2026-03-02", "M"): 5,  # ceil(24.5 / 6)
        ("2026-03-02", "N"): 3,  # ceil(24.5 / 12)
        ("2026-03-03", "M"): 2,  # 12 / 6 exactly
        ("2026-03-03", "N"): 2,  # 1, raised to the floor
    }
    with pytest.raises(RosterInputError, match=r"quantile 0.8 absent \(disponibles : 0.5, 0.9\)"):
        nurses_from_forecast(forecast, quantile=0.8, patients_per_nurse={"M": 6})
