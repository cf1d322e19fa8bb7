"""The shipped factor table: every row cites its source and year, every gas has both GWP
methods, the agents' data are there, and the MAC-hour equivalence is the ratio of MAC × molar
mass."""

from __future__ import annotations

import pytest

from hopia.management.carbon import factors as f
from hopia.platform.exceptions import InvalidRequestError, NotFoundError


@pytest.mark.parametrize("version", f.versions())
def test_every_factor_row_names_its_source_and_year(version: str) -> None:
    table = f.load_factors(version)
    assert len(table.factors) >= 20
    for row in table.factors:
        assert len(row.source.strip()) > 15, row.factor_id
        assert 1990 <= row.year <= 2026, row.factor_id
        assert row.scope in (1, 2, 3) and row.kgco2e_per_unit > 0 and row.unit
        assert 0 < row.uncertainty_pct <= 100, row.factor_id
        assert row.method in ("", "ar5", "ar6")
    for agent in table.agents.values():
        assert agent.source.strip() and 1990 <= agent.year <= 2026
        assert agent.factor_id in table.ids()


def test_each_factor_has_exactly_one_row_per_method() -> None:
    table = f.load_factors()
    for method in f.METHODS:
        rows = table.for_method(method)
        ids = [r.factor_id for r in rows]
        assert len(ids) == len(set(ids)) == len(table.ids())


def test_the_gwp_of_nitrous_oxide_follows_the_ipcc_report() -> None:
    table = f.load_factors()
    assert table.factor("anesthesie.protoxyde_azote", "ar5").kgco2e_per_unit == 265
    assert table.factor("anesthesie.protoxyde_azote", "ar6").kgco2e_per_unit == 273
    assert table.factor("anesthesie.desflurane", "ar5").kgco2e_per_unit == 2540


def test_desflurane_to_sevoflurane_at_equal_mac_hours() -> None:
    table = f.load_factors()
    ratio = f.mac_hour_ratio(table, "anesthesie.desflurane", "anesthesie.sevoflurane")
    assert ratio == pytest.approx((2.0 * 200.05) / (6.0 * 168.04))
    assert 0.39 < ratio < 0.41


def test_unknown_version_and_factor_are_french_errors() -> None:
    with pytest.raises(InvalidRequestError, match="version de la table des facteurs inconnue"):
        f.load_factors("1999.1")
    with pytest.raises(NotFoundError, match="vouliez-vous dire : energie.electricite"):
        f.load_factors().factor("energie.electricit", "ar5")
