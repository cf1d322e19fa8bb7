"""``hopia stock``: stock, replenishment policy, alerts and backtest of the pharmacy's items,
from the CSV files the manager gives; a synthetic pharmacy for demos.

A thin adapter over :mod:`hopia.services.stock`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors
from hopia.platform.scores import fmt_number, fmt_percent

app = typer.Typer(
    help="Achats et stocks : stock, politique de réapprovisionnement, alertes, backtest.",
    no_args_is_help=True,
)

_FLAGS = {
    "service_levels": "--service-level",
    "items": "--items",
    "movements": "--movements",
    "orders": "--orders",
    "as_of": "--as-of",
    "items.csv": "--items",
    "movements.csv": "--movements",
    "orders.csv": "--orders",
}
_ITEMS = typer.Option(..., "--items", help="Fichier des articles (items.csv).")
_MOVES = typer.Option(..., "--movements", help="Fichier des mouvements (movements.csv).")
_ORDERS = typer.Option(None, "--orders", help="Commandes en cours (orders.csv), facultatif.")
_AS_OF = typer.Option(
    None, "--as-of", help="Date du stock AAAA-MM-JJ (défaut : lendemain du dernier mouvement)."
)
_LEVELS = typer.Option(
    None,
    "--service-level",
    help="Niveau de service visé par classe VEN ou case VEN×ABC : V=0.99, NC=85% (répétable).",
)
_OUTPUT = typer.Option(
    None, "--output", "-o", help="Écrire le tableau (.csv) ou tous les tableaux (.xlsx)."
)
_ROWS = typer.Option(30, "--rows", help="Lignes affichées par tableau (le fichier a tout).")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_number(value, 0 if abs(value) >= 100 else 2)
    if isinstance(value, int):
        return fmt_number(value)
    return escape(str(value))


def _share(column: str) -> bool:
    return column.startswith(("niveau de service", "taux de service"))


def _print(table: Any, rows: int, title: str, columns: tuple[str, ...] = ()) -> None:
    """The first ``rows`` rows of ``table``, only ``columns`` (all by default): a terminal is
    narrow, the file written with ``--output`` has every column."""
    keep = [i for i, c in enumerate(table.columns) if not columns or c in columns]
    shown = Table(title=f"{title} ({len(table.rows)} ligne(s))")
    for i in keep:
        shown.add_column(table.columns[i], overflow="fold")
    for row in table.rows[:rows]:
        shown.add_row(
            *(
                fmt_percent(row[i], 1)
                if _share(table.columns[i]) and row[i] is not None
                else _cell(row[i])
                for i in keep
            )
        )
    console.print(shown)
    if len(table.rows) > rows:
        console.print(f"… {len(table.rows) - rows} ligne(s) de plus : voir --output.")


def _request(
    stock: Any,
    items: Path,
    movements: Path,
    orders: Path | None,
    as_of: dt.datetime | None,
    levels: list[str] | None,
    **more: Any,
) -> Any:
    return (stock.BacktestRequest if "holdout_months" in more else stock.SourceRequest).of(
        items=items,
        movements=movements,
        orders=orders,
        as_of=as_of.date() if as_of else None,
        service_levels=stock.parse_levels(levels or []),
        **more,
    )


def _finish(ctx: Any, stock: Any, result: Any, output: Path | None) -> None:
    if output is not None:
        written = stock.write(ctx, result, output)
        console.print(f"Écrit : {written}")


@app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", help="Dossier où écrire items.csv, movements.csv…"),
    seed: int = typer.Option(1, "--seed", help="Graine (mêmes fichiers pour la même graine)."),
    n_items: int = typer.Option(200, "--n-items", help="Nombre d'articles (10 à 300)."),
    days: int = typer.Option(730, "--days", help="Jours d'historique (120 à 1825)."),
    force: bool = typer.Option(False, "--force", help="Remplacer un dossier non vide."),
) -> None:
    """Générer une pharmacie synthétique (articles, mouvements, commandes en cours)."""
    from hopia.services import stock

    with handle_errors({"items": "--n-items"}), context() as ctx:
        made = stock.synth(
            ctx, stock.SynthRequest.of(out=out, seed=seed, items=n_items, days=days, force=force)
        )
    console.print(
        f"Pharmacie synthétique (graine {made.seed}) : {made.items} articles, "
        f"{fmt_number(made.movements)} mouvements, {made.orders} commandes en cours → "
        f"{escape(str(made.out))}"
    )


@app.command("status")
def status(
    items: Path = _ITEMS,
    movements: Path = _MOVES,
    orders: Path | None = _ORDERS,
    as_of: dt.datetime | None = _AS_OF,
    output: Path | None = _OUTPUT,
    rows: int = _ROWS,
) -> None:
    """Stock par article et par lot, valeur du stock."""
    from hopia.services import stock

    with handle_errors(_FLAGS), context() as ctx:
        result = stock.status(ctx, _request(stock, items, movements, orders, as_of, None))
        _finish(ctx, stock, result, output)
    c = result.counts
    console.print(
        f"Stock au {result.as_of:%d/%m/%Y} : {result.items} articles, valeur "
        f"{fmt_number(c['valeur_stock'], 0)} €, {int(c['articles_sans_stock'])} sans stock, "
        f"{int(c['lots'])} lots."
    )
    _print(
        result.tables[0], rows, "Stock par article", ("article", "libellé", "stock", "en commande")
    )


@app.command("policy")
def policy(
    items: Path = _ITEMS,
    movements: Path = _MOVES,
    as_of: dt.datetime | None = _AS_OF,
    levels: list[str] | None = _LEVELS,
    output: Path | None = _OUTPUT,
    rows: int = _ROWS,
) -> None:
    """Politique de réapprovisionnement : ABC × VEN, stock de sécurité, point de commande,
    quantité économique, niveau de recomplètement."""
    from hopia.services import stock

    with handle_errors(_FLAGS), context() as ctx:
        result = stock.policy_table(ctx, _request(stock, items, movements, None, as_of, levels))
        _finish(ctx, stock, result, output)
    _print(result.tables[1], 9, f"Classes ABC × VEN au {result.as_of:%d/%m/%Y}")
    _print(
        result.tables[0],
        rows,
        "Politique par article",
        (
            "article",
            "ABC",
            "VEN",
            "demande",
            "méthode",
            "point de commande",
            "niveau de recomplètement",
        ),
    )


@app.command("alerts")
def alerts(
    items: Path = _ITEMS,
    movements: Path = _MOVES,
    orders: Path | None = _ORDERS,
    as_of: dt.datetime | None = _AS_OF,
    levels: list[str] | None = _LEVELS,
    expiry_days: int = typer.Option(90, "--expiry-days", help="Horizon des péremptions (jours)."),
    overstock_days: int = typer.Option(
        180, "--overstock-days", help="Couverture au-delà de laquelle le stock est en excès."
    ),
    output: Path | None = _OUTPUT,
    rows: int = _ROWS,
    strict: bool = typer.Option(False, "--strict", help="Code 1 s'il y a une alerte critique."),
) -> None:
    """Alertes : ruptures, sous le point de commande, péremptions, surstocks."""
    from hopia.services import stock

    with handle_errors(_FLAGS), context() as ctx:
        request = _request(
            stock,
            items,
            movements,
            orders,
            as_of,
            levels,
            expiry_days=expiry_days,
            overstock_days=overstock_days,
        )
        result = stock.alerts(ctx, request)
        _finish(ctx, stock, result, output)
    counts = ", ".join(f"{int(n)} {level}" for level, n in result.counts.items())
    console.print(f"Alertes au {result.as_of:%d/%m/%Y} : {counts}.")
    _print(result.tables[0], rows, "Alertes", ("niveau", "alerte", "article", "détail"))
    if strict and result.counts.get("critique"):
        raise typer.Exit(1)


@app.command("backtest")
def backtest(
    items: Path = _ITEMS,
    movements: Path = _MOVES,
    holdout_months: int = typer.Option(
        3, "--holdout-months", help="Mois de la fin de l'historique gardés pour le test."
    ),
    as_of: dt.datetime | None = _AS_OF,
    levels: list[str] | None = _LEVELS,
    output: Path | None = _OUTPUT,
    rows: int = _ROWS,
) -> None:
    """Niveau de service obtenu par la politique, simulée sur les derniers mois."""
    from hopia.services import stock

    with handle_errors(_FLAGS), context() as ctx:
        request = _request(
            stock, items, movements, None, as_of, levels, holdout_months=holdout_months
        )
        result = stock.backtest(ctx, request)
        _finish(ctx, stock, result, output)
    o = result.counts
    console.print(
        f"Test du {result.cut:%d/%m/%Y} au {result.as_of:%d/%m/%Y} : {int(o['cycles'])} cycles, "
        f"niveau de service obtenu {fmt_number(100 * o['cycle_service'], 1)} % "
        f"(visé {fmt_number(100 * o['target'], 1)} % en moyenne), taux de service "
        f"{fmt_number(100 * o['fill_rate'], 2)} %, {int(o['stockout_days'])} jour(s) de rupture, "
        f"stock moyen {fmt_number(o['avg_stock_value'], 0)} €."
    )
    _print(
        result.tables[0],
        9,
        "Par classe ABC × VEN",
        (
            "ABC",
            "VEN",
            "articles",
            "niveau de service visé",
            "cycles",
            "niveau de service obtenu",
            "taux de service (quantités)",
            "jours de rupture",
        ),
    )
