"""``hopia beds``: bed needs per service for the next days (P50/P80/P95) and their backtest.

A thin adapter over :mod:`hopia.services.beds`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors
from hopia.platform.exceptions import InvalidRequestError
from hopia.platform.scores import fmt_number

app = typer.Typer(
    help="Lits : prévision des besoins en lits par service (recensement de minuit).",
    no_args_is_help=True,
)
_FLAGS = {
    "site": "--site",
    "days": "--days",
    "origin": "--origin",
    "paths": "--paths",
    "capacity": "--capacity",
    "span": "--span",
    "step": "--step",
}


def _fmt_of(output: Path) -> str:
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidRequestError("--output : .csv ou .xlsx attendu", fields=["output"])
    return suffix[1:]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidRequestError(
            f"date invalide : {value} (AAAA-MM-JJ attendu)", fields=["origin"]
        ) from None


def _capacity(values: list[str]) -> dict[int, int]:
    out: dict[int, int] = {}
    for v in values:
        site, _, beds = v.partition("=")
        if not (site.strip().isdigit() and beds.strip().isdigit()):
            raise InvalidRequestError(
                f"capacité invalide : {v} (SERVICE=LITS attendu, ex. 3=24)", fields=["capacity"]
            )
        out[int(site)] = int(beds)
    return out


@app.command("forecast")
def forecast(
    site: int | None = typer.Option(None, "--site", help="Un service (care_site_id)."),
    days: int = typer.Option(14, "--days", help="Horizon en jours."),
    origin: str | None = typer.Option(
        None,
        "--origin",
        help="Premier jour prévu (AAAA-MM-JJ) ; défaut : jour de la dernière admission.",
    ),
    paths: int = typer.Option(1000, "--paths", help="Trajectoires simulées."),
    capacity: list[str] = typer.Option(
        [], "--capacity", help="Lits d'un service : SERVICE=LITS (répétable)."
    ),
    output: Path | None = typer.Option(None, "--output", help="Fichier .csv ou .xlsx."),
) -> None:
    """Besoins en lits P50/P80/P95 par service et par jour (Monte-Carlo)."""
    from hopia.services import beds

    with handle_errors(_FLAGS), context() as ctx:
        request = beds.ForecastRequest.of(
            site=site, days=days, origin=_day(origin), paths=paths, capacity=_capacity(capacity)
        )
        result = beds.forecast(ctx, request)
        if output is not None:
            output.write_bytes(beds.download(result, _fmt_of(output)))
    frame = result.frame()
    table = Table(title=f"Besoins en lits à partir du {result.origin:%d/%m/%Y}")
    for c in frame.columns:
        table.add_column(c, justify="left" if c in ("service", "jour") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    console.print(table)
    if output is not None:
        console.print(f"Tableau écrit dans {escape(str(output))}")


@app.command("backtest")
def backtest(
    site: int | None = typer.Option(None, "--site", help="Un service (care_site_id)."),
    days: int = typer.Option(14, "--days", help="Horizon en jours."),
    span: int = typer.Option(365, "--span", help="Période des origines (jours, fin des données)."),
    step: int = typer.Option(7, "--step", help="Jours entre deux origines."),
    paths: int = typer.Option(500, "--paths", help="Trajectoires simulées par origine."),
    output: Path | None = typer.Option(None, "--output", help="Fichier .csv ou .xlsx."),
) -> None:
    """Évaluer la prévision sur des origines glissantes (perte pinball, couverture P80/P95)
    face à une référence naïve (même jour de la semaine précédente)."""
    from hopia.services import beds

    with handle_errors(_FLAGS), context() as ctx:
        request = beds.BacktestRequest.of(site=site, days=days, span=span, step=step, paths=paths)
        result = beds.backtest(ctx, request)
        if output is not None:
            output.write_bytes(beds.download(result, _fmt_of(output)))
    frame = result.frame()
    table = Table(
        title=f"Backtest : {result.origins} origines du {result.first_origin:%d/%m/%Y} au "
        f"{result.last_origin:%d/%m/%Y}, horizon {result.days} j"
    )
    for c in frame.columns:
        table.add_column(c, justify="left" if c in ("méthode", "service") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(fmt_number(v) if isinstance(v, float) else str(v)) for v in row))
    console.print(table)
    if output is not None:
        console.print(f"Tableau écrit dans {escape(str(output))}")
