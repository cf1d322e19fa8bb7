"""Rules as data: defaults, clock arithmetic, files, and French refusals of bad rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hopia.management.roster import DEFAULT_RULES_YAML, RosterRules, load_rules


def test_defaults_are_the_french_public_hospital_ones() -> None:
    r = RosterRules()
    assert (r.min_rest_hours, r.max_hours_7_days, r.full_time_hours_week) == (11, 48, 35)
    assert r.shifts["N"].minutes == 600 and r.shifts["N"].night  # 21:00 -> 07:00, next day
    assert r.shifts["M"].hours == 7
    assert set(r.usable()) == {"M", "S", "N"}  # 12 h shifts off by default
    assert set(RosterRules(allow_12h=True).usable()) == {"M", "S", "N", "J", "N12"}
    assert RosterRules().covers("J") == ("J", "M", "S")


def test_the_documented_yaml_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(DEFAULT_RULES_YAML, encoding="utf-8")
    assert load_rules(path) == RosterRules()
    assert load_rules(None) == RosterRules()


def test_a_json_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"max_consecutive_days": 3, "weekends": {"min_off": 1, "cycle_weeks": 2}}')
    rules = load_rules(path)
    assert rules.max_consecutive_days == 3 and rules.weekends.min_off == 1
    assert rules.min_rest_hours == 11


@pytest.mark.parametrize(
    "data",
    [
        {"weekends": {"min_off": 7, "cycle_weeks": 6}},
        {"shifts": {"X": {"label": "x", "start": "07:00", "end": "14:00", "counts_as": ["Z"]}}},
        {"shifts": {"M": {"label": "Matin", "start": "7h", "end": "14:00"}}},
        {"min_rest_hours": -1},
        {"unknown_rule": 1},
        {"coverage": {"mode": "maybe"}},
    ],
)
def test_bad_rules_are_refused(data: dict) -> None:
    with pytest.raises(ValidationError):
        RosterRules.model_validate(data)
