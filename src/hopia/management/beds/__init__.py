"""Bed needs (*besoins en lits*): midnight census forecasts per service with P50/P80/P95.

Monte Carlo over the patients in bed at the origin (remaining stay drawn from the service's
empirical length-of-stay distribution, conditional on the nights already spent) and the future
admissions (a negative binomial daily model with weekday and annual effects, swappable), backtested
on rolling origins against a seasonal naive benchmark (:mod:`.backtest`).
"""

from hopia.management.beds.admissions import AdmissionsModel, NegativeBinomialAdmissions
from hopia.management.beds.backtest import Backtest, backtest, naive, pinball
from hopia.management.beds.census import daily_admissions, daily_census
from hopia.management.beds.forecast import LEVELS, ServiceForecast, forecast, table
from hopia.management.beds.los import EmpiricalLos

__all__ = [
    "LEVELS",
    "AdmissionsModel",
    "Backtest",
    "EmpiricalLos",
    "NegativeBinomialAdmissions",
    "ServiceForecast",
    "backtest",
    "daily_admissions",
    "daily_census",
    "forecast",
    "naive",
    "pinball",
    "table",
]
