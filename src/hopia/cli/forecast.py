"""``hopia forecast``: quantile forecasts of a series in a CSV file, and their backtest.

A thin adapter over :mod:`hopia.services.forecasts`::

    hopia forecast backtest --data arrivees.csv --ds Date,Hour --y Arrivals \\
        --origins-start 2017-04-01T00:00 --origins-end 2018-03-31T12:00 --every 12h \\
        --horizon 48 --quantiles 0.05:0.95:0.05 --output PRED.csv
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors

app = typer.Typer(
    help="Prévisions d'activité avec leur incertitude (quantiles) et leur évaluation.",
    no_args_is_help=True,
)

_FLAGS = {
    "origins_start": "--origins-start",
    "origins_end": "--origins-end",
    "refit_every": "--refit-every",
    "benchmark_weeks": "--benchmark-weeks",
    "school_holidays": "--school-holidays",
}
_DATA = typer.Option(..., "--data", help="Fichier CSV de la série (séparateur , ou ;).")
_DS = typer.Option(
    ...,
    "--ds",
    help="Colonne d'horodatage, ou « date,heure » (une colonne date et une colonne heure 0-23).",
)
_Y = typer.Option(..., "--y", help="Colonne à prévoir (comptages).")
_QUANTILES = typer.Option(
    "0.05:0.95:0.05", "--quantiles", help="Niveaux : début:fin:pas (fin incluse) ou liste 0.1,0.5."
)
_MODEL = typer.Option(
    "negbin",
    "--model",
    help="Modèle : negbin, poisson, ensemble, hour_of_week, seasonal_naive (ou un greffon).",
)
_EXOG = typer.Option(
    None, "--exog", help="Variables exogènes, séparées par des virgules (ex. temp)."
)
_COUNTRY = typer.Option(
    "FR", "--country", help="Pays des jours fériés (code ISO du paquet holidays ; « none »)."
)
_SCHOOL = typer.Option(
    None, "--school-holidays", help="Vacances scolaires : CSV ou YAML de périodes start,end."
)
_FREQ = typer.Option(None, "--freq", help="Pas de la série (ex. 1h, 1D) ; déduit sinon.")


def _exog(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _country(text: str) -> str | None:
    return None if text.strip().lower() in ("", "none", "aucun") else text.strip()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %".replace(".", ",")


def _num(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


@app.command("backtest")
def backtest_command(
    data: Path = _DATA,
    ds: str = _DS,
    y: str = _Y,
    origins_start: str = typer.Option(
        ..., "--origins-start", help="Première origine (ISO 8601, horloge du fichier)."
    ),
    origins_end: str = typer.Option(..., "--origins-end", help="Dernière origine (incluse)."),
    every: str = typer.Option("12h", "--every", help="Intervalle entre origines (ex. 12h)."),
    horizon: int = typer.Option(48, "--horizon", help="Nombre de pas prévus par origine."),
    quantiles: str = _QUANTILES,
    model: str = _MODEL,
    output: Path = typer.Option(..., "--output", help="Fichier des prévisions (PRED.csv)."),
    exog: str | None = _EXOG,
    country: str = _COUNTRY,
    school_holidays: Path | None = _SCHOOL,
    benchmark_weeks: int = typer.Option(
        8, "--benchmark-weeks", help="Semaines de la référence heure-de-la-semaine."
    ),
    refit_every: str = typer.Option(
        "7D",
        "--refit-every",
        help="Réajuster le modèle tous les … (7D ; 0 : à chaque origine).",
    ),
    freq: str | None = _FREQ,
) -> None:
    """Évaluer un modèle par origines glissantes : une prévision à l'origine T n'utilise que
    les lignes strictement antérieures à T ; écrit PRED.csv et PRED.metrics.json."""
    from hopia.services import forecasts

    with handle_errors(_FLAGS), context() as ctx:
        refit = None if refit_every.strip() in ("0", "") else refit_every
        request = forecasts.BacktestRequest.of(
            data=data,
            ds=ds,
            y=y,
            origins_start=origins_start,
            origins_end=origins_end,
            every=every,
            horizon=horizon,
            quantiles=quantiles,
            output=output,
            model=model,
            exog=_exog(exog),
            country=_country(country),
            school_holidays=school_holidays,
            benchmark_weeks=benchmark_weeks,
            refit_every=refit,
            freq=freq,
        )
        report = forecasts.backtest(ctx, request)
    table = Table(
        title=f"Évaluation sur {report.origins} origines ({escape(report.first_origin)} → "
        f"{escape(report.last_origin)}), horizon {report.horizon} pas de {escape(report.step)}"
    )
    for name in ("Modèle", "Perte pinball", "Couverture 50 %", "Couverture 90 %", "Durée (s)"):
        table.add_column(name, justify="left" if name == "Modèle" else "right")
    bench_name = f"{report.benchmark.model} ({report.benchmark_weeks} sem.)"
    for score, name in ((report.model, report.model.model), (report.benchmark, bench_name)):
        table.add_row(
            escape(name),
            _num(score.pinball),
            _pct(score.coverage_50),
            _pct(score.coverage_90),
            _num(score.seconds, 1),
        )
    console.print(table)
    console.print(
        f"Ratio pinball modèle / référence heure-de-la-semaine : {_num(report.ratio)} "
        f"({report.points} points notés ; {report.missing_steps} pas manquants dans les données)"
    )
    console.print(
        f"Durée totale : {_num(report.seconds, 1)} s. Prévisions : {escape(report.output)} ; "
        f"métriques : {escape(report.metrics_file)}",
        soft_wrap=True,
    )


@app.command("predict")
def predict_command(
    data: Path = _DATA,
    ds: str = _DS,
    y: str = _Y,
    horizon: int = typer.Option(48, "--horizon", help="Nombre de pas à prévoir."),
    quantiles: str = _QUANTILES,
    model: str = _MODEL,
    output: Path = typer.Option(..., "--output", help="Fichier des prévisions (CSV)."),
    exog: str | None = _EXOG,
    country: str = _COUNTRY,
    school_holidays: Path | None = _SCHOOL,
    freq: str | None = _FREQ,
) -> None:
    """Prévoir les pas qui suivent la dernière valeur de la série (exogènes futures : lignes
    du fichier après cette valeur, colonne à prévoir vide)."""
    from hopia.services import forecasts

    with handle_errors(_FLAGS), context() as ctx:
        request = forecasts.PredictRequest.of(
            data=data,
            ds=ds,
            y=y,
            horizon=horizon,
            quantiles=quantiles,
            output=output,
            model=model,
            exog=_exog(exog),
            country=_country(country),
            school_holidays=school_holidays,
            freq=freq,
        )
        report = forecasts.predict(ctx, request)
    console.print(
        f"Prévision depuis {escape(report.origin)} sur {report.horizon} pas de "
        f"{escape(report.step)} : {report.rows} lignes écrites dans {escape(report.output)} "
        f"({_num(report.seconds, 1)} s).",
        soft_wrap=True,
    )


@app.command("models")
def models_command() -> None:
    """Les modèles de prévision disponibles."""
    from hopia.services import forecasts

    for name in forecasts.models():
        console.print(name)
