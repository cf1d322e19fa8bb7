"""``hopia pilotage``: steering indicators per service and month (managers).

A thin adapter over :mod:`hopia.services.steering`: prints the admissions per service and month
and the readmission rates, writes every table to ``--output`` (XLSX: one sheet per table; CSV:
the table chosen by ``--table``). Every figure is already protected (small cells hidden, with
their complementary cells).
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
    help="Pilotage : indicateurs d'activité par service et par mois.", no_args_is_help=True
)

_FLAGS = {"first": "--from", "last": "--to", "site": "--site", "table": "--table"}
SHOWN = 6  # months printed in the terminal (the file has them all)


def _month(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise InvalidRequestError(f"mois invalide : {value} (AAAA-MM attendu)", fields=[flag])


def _fmt(cell: object) -> str:
    if isinstance(cell, bool) or cell is None:
        return ""
    return fmt_number(cell) if isinstance(cell, int | float) else str(cell)


@app.command("indicateurs")
def indicators(
    site: int | None = typer.Option(
        None, "--site", help="Un service (care_site_id) ; défaut : tous."
    ),
    first: str | None = typer.Option(None, "--from", help="Premier mois (AAAA-MM)."),
    last: str | None = typer.Option(None, "--to", help="Dernier mois (AAAA-MM)."),
    output: Path | None = typer.Option(
        None, "--output", help="Fichier des tableaux : .xlsx (tous) ou .csv (celui de --table)."
    ),
    table: str = typer.Option("indicateurs", "--table", help="Tableau du CSV."),
) -> None:
    """Entrées, sorties, durées de séjour, réadmissions à 30 jours et casemix par service et
    par mois, petits effectifs masqués (défaut : les 24 mois jusqu'à la dernière admission)."""
    from hopia.services import steering

    with handle_errors(_FLAGS), context() as ctx:
        request = steering.IndicatorsRequest.of(
            first=_month(first, "first"), last=_month(last, "last"), site=site
        )
        result = steering.indicators(ctx, request)
        if output is not None:
            suffix = output.suffix.lower()
            if suffix not in (".csv", ".xlsx"):
                raise InvalidRequestError("--output : .csv ou .xlsx attendu", fields=["output"])
            fmt = "csv" if suffix == ".csv" else "xlsx"
            content = steering.download(result, table if fmt == "csv" else None, fmt)
            output.write_bytes(content)
    console.print(
        f"Pilotage du {result.first:%m/%Y} au {result.last:%m/%Y} : effectifs de moins de "
        f"{result.small_cell} masqués (« <{result.small_cell} », et « * » pour ceux qui les "
        "protègent des totaux)."
    )
    for name in ("entrees", "taux_readmission"):
        _print(result.table(name), result.months[-SHOWN:])
    if output is not None:
        console.print(f"Tableaux écrits dans {escape(str(output))}")


def _print(published, months: list[str]) -> None:
    frame = published.frame()
    columns = ["service", *months, "Total"]
    table = Table(title=published.title)
    for c in columns:
        table.add_column(c, justify="left" if c == "service" else "right")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(escape(_fmt(v)) for v in row))
    console.print(table)
