"""Scenarios as data: the desflurane phase-out at equal MAC-hours, a multiplier, a partial
substitution; the delta and its uncertainty (what the baseline and the scenario share
cancels); French errors for a wrong rule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hopia.management.carbon import build_report, load_factors, load_scenario, read_inventory
from hopia.management.carbon.scenarios import parse_scenario, shipped
from hopia.platform.exceptions import InvalidRequestError

TABLE = load_factors()
INVENTORY = read_inventory(
    TABLE,
    "post;quantity;unit;period;site;uncertainty_pct\n"
    "anesthesie.desflurane;1;kg;2025;Bloc;5\n"
    "energie.gaz_naturel;10000;kWh PCI;2025;A;0\n"
    "alimentation.repas_moyen;1000;repas;2025;A;0\n",
    "s.csv",
)
RATIO = (2.0 * 200.05) / (6.0 * 168.04)


def total_row(report):
    return report.comparison.set_index("factor_id").loc["total"]


def test_desflurane_phase_out_at_equal_mac_hours() -> None:
    report = build_report(TABLE, "ar5", INVENTORY, load_scenario(TABLE, "sortie-desflurane"))
    sevo = RATIO * 130  # kg CO2e of the sevoflurane that replaces 1 kg of desflurane
    row = total_row(report)
    assert row.delta_t == pytest.approx((sevo - 2540) / 1000)
    factors = math.hypot(0.35 * 2540, 0.35 * sevo)
    activity = 0.05 * (sevo - 2540)  # the same datum before and after
    assert row.delta_half_width_t == pytest.approx(math.hypot(factors, activity) / 1000)
    lines = report.scenario_summary.lines
    assert lines.loc[lines.factor_id == "anesthesie.sevoflurane", "amount"].item() == pytest.approx(
        RATIO
    )


def test_a_multiplier_scales_the_post_and_its_uncertainty() -> None:
    report = build_report(TABLE, "ar5", INVENTORY, load_scenario(TABLE, "gaz-moins-20"))
    row = report.comparison.set_index("factor_id").loc["energie.gaz_naturel"]
    assert row.delta_t == pytest.approx(-0.2 * 2.27)
    assert row.delta_half_width_t == pytest.approx(0.2 * 2.27 * 0.10)
    assert total_row(report).delta_t == pytest.approx(-0.454)


def test_a_partial_substitution() -> None:
    report = build_report(TABLE, "ar6", INVENTORY, load_scenario(TABLE, "menus-vegetariens"))
    assert total_row(report).delta_t == pytest.approx(200 * (0.51 - 2.04) / 1000)


def test_every_shipped_scenario_loads() -> None:
    assert set(shipped()) >= {"sortie-desflurane", "gaz-moins-20", "textiles-reutilisables"}
    for name in shipped():
        assert load_scenario(TABLE, name).rules


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("- {post: energie.gaz, multiplier: 0.8}", "poste inconnu"),
        ("- {post: energie.gaz_naturel}", "soit « multiplier », soit « substitute »"),
        ("- {post: energie.gaz_naturel, multiplier: -1}", "nombre positif"),
        ("- {post: energie.gaz_naturel, substitute: energie.fioul, basis: mac_hours}", "agent"),
        ("- {post: energie.gaz_naturel, multiply: 2}", "clé(s) inconnue(s) : multiply"),
    ],
)
def test_a_wrong_rule_is_a_french_error(rule: str, expected: str) -> None:
    with pytest.raises(InvalidRequestError, match="scénario essai.yaml, règle 1") as caught:
        parse_scenario(TABLE, f"name: essai\nrules:\n{rule}\n", "essai.yaml")
    assert expected in caught.value.message


def test_an_unknown_scenario_lists_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="sortie-desflurane"):
        load_scenario(TABLE, "sortie-du-charbon")
    with pytest.raises(InvalidRequestError):
        load_scenario(TABLE, str(tmp_path / "absent.yaml"))
