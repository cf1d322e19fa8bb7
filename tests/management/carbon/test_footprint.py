"""A hand-computed inventory: emissions per line, per post, per scope and in total, by GWP
method; the uncertainty propagated in quadrature across factors and linearly within one,
checked against a Monte Carlo draw of the same model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hopia.management.carbon import build_report, example_inventory, load_factors, read_inventory
from hopia.management.carbon import footprint as fp
from hopia.management.carbon.inventory import load_inventory

TABLE = load_factors()
HAND = (
    "post;quantity;unit;period;site;uncertainty_pct\n"
    "energie.gaz_naturel;1000;kWh PCS;2025;A;0\n"  # 901 kWh PCI x 0.227 = 204.527 kg
    "energie.electricite;1;MWh;2025;A;0\n"  # 1000 x 0.052 = 52 kg
    "energie.electricite;1000;kWh;2025;B;0\n"  # 52 kg, the same factor
    "anesthesie.desflurane;2;kg;2025;Bloc;0\n"  # 2 x 2540 = 5080 kg (AR5 and AR6)
    "anesthesie.protoxyde_azote;10;kg;2025;Bloc;0\n"  # 2650 kg (AR5), 2730 kg (AR6)
)


def hand():
    return read_inventory(TABLE, HAND, "main.csv")


@pytest.mark.parametrize(("method", "n2o"), [("ar5", 2650.0), ("ar6", 2730.0)])
def test_the_hand_computed_inventory(method: str, n2o: float) -> None:
    report = build_report(TABLE, method, hand())  # type: ignore[arg-type]
    lines = report.baseline.lines
    assert lines["kgco2e"].tolist() == pytest.approx([204.527, 52.0, 52.0, 5080.0, n2o])
    by_post = report.baseline.by_post.set_index("factor_id")
    assert by_post.loc["energie.electricite", "tco2e"] == pytest.approx(0.104)
    assert by_post.loc["anesthesie.desflurane", "tco2e"] == pytest.approx(5.08)
    scopes = report.baseline.by_scope.set_index("scope")["tco2e"]
    assert scopes[1] == pytest.approx((204.527 + 5080 + n2o) / 1000)
    assert scopes[2] == pytest.approx(0.104)
    total = (204.527 + 104 + 5080 + n2o) / 1000
    assert report.baseline.total_t == pytest.approx(total)
    assert report.baseline.by_post["share_pct"].sum() == pytest.approx(100)


def test_one_factor_adds_linearly_different_factors_in_quadrature() -> None:
    lines = build_report(TABLE, "ar5", hand()).baseline.lines
    elec = lines[lines.factor_id == "energie.electricite"]
    assert fp.half_width(elec) == pytest.approx(0.10 * 104)  # not sqrt(2) x 5.2: one factor
    gas_elec = lines[lines.factor_id.isin(["energie.electricite", "energie.gaz_naturel"])]
    assert fp.half_width(gas_elec) == pytest.approx(math.hypot(10.4, 0.10 * 204.527))
    everything = math.sqrt(10.4**2 + 20.4527**2 + (0.35 * 5080) ** 2 + (0.30 * 2650) ** 2)
    assert fp.half_width(lines) == pytest.approx(everything)


def test_activity_uncertainty_is_its_own_term() -> None:
    text = HAND.replace("energie.electricite;1;MWh;2025;A;0", "energie.electricite;1;MWh;2025;A;20")
    lines = build_report(TABLE, "ar5", read_inventory(TABLE, text, "x.csv")).baseline.lines
    elec = lines[lines.factor_id == "energie.electricite"]
    assert fp.half_width(elec) == pytest.approx(math.hypot(10.4, 0.2 * 52))


def test_quadrature_agrees_with_monte_carlo_on_the_example() -> None:
    lines = build_report(TABLE, "ar5", load_inventory(TABLE, example_inventory())).baseline.lines
    draws = fp.monte_carlo(lines, draws=20_000, seed=1)
    assert np.mean(draws) == pytest.approx(lines["kgco2e"].sum(), rel=0.01)
    assert 1.959964 * np.std(draws) == pytest.approx(fp.half_width(lines), rel=0.03)
