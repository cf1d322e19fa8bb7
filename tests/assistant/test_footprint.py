"""The footprint estimate's arithmetic, worked by hand from the settings' figures."""

from __future__ import annotations

import pytest

from hopia.assistant.footprint import Footprint, estimate
from hopia.platform.config import FootprintSettings


def test_defaults_follow_the_documented_sources() -> None:
    f = FootprintSettings()
    assert (f.alpha_wh_per_token_per_b, f.beta_wh_per_token) == (8.91e-5, 1.43e-3)  # EcoLogits
    assert f.carbon_kg_per_kwh == 0.052  # ADEME Base Empreinte, French mix


def test_energy_co2_and_cost_of_one_call() -> None:
    settings = FootprintSettings(
        alpha_wh_per_token_per_b=1e-4, beta_wh_per_token=1e-3, prompt_token_weight=0.5,
        pue=1.5, carbon_kg_per_kwh=0.05, price_eur_per_kwh=0.2,
        hardware_cost_eur=36_000, hardware_embodied_kgco2e=3_600, hardware_lifetime_hours=10_000,
    )  # fmt: skip
    got = estimate(settings, prompt_tokens=200, completion_tokens=100, parameters_b=10, seconds=36)
    # per token 1e-4*10 + 1e-3 = 2e-3 Wh; tokens 100 + 0.5*200 = 200; x PUE 1.5 -> 0.6 Wh
    assert got.energy_wh == pytest.approx(0.6)
    # 36 s = 0.01 h = 1e-6 of the server's life: 3.6 kg -> 3.6 g embodied, 0.036 EUR
    assert got.co2e_g == pytest.approx(0.6 * 0.05 + 3.6)
    assert got.cost_eur == pytest.approx(0.6 / 1000 * 0.2 + 0.036)


def test_an_unknown_size_uses_the_default_and_more_parameters_cost_more() -> None:
    settings = FootprintSettings(hardware_cost_eur=0, hardware_embodied_kgco2e=0)

    def of(size: float | None) -> Footprint:
        tokens = {"prompt_tokens": 0, "completion_tokens": 10}
        return estimate(settings, **tokens, parameters_b=size, seconds=1)

    unknown, seven, seventy = of(None), of(7), of(70)
    assert unknown == seven and seventy.energy_wh > seven.energy_wh > 0
    assert seven.energy_wh == pytest.approx((8.91e-5 * 7 + 1.43e-3) * 10 * 1.2)
