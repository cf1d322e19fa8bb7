"""``hopia warehouse``: statistics and OMOP CSV loading."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hopia.cli._common import console, handle_errors

app = typer.Typer(help="Entrepôt de données OMOP.", no_args_is_help=True)


@app.command("stats")
def stats() -> None:
    """Nombre de lignes par table et état des documents."""
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse
    from hopia.services.warehouse import warehouse_stats

    with handle_errors():
        wh = open_warehouse(get_settings())
        s = warehouse_stats(wh)
    table = Table(title=f"Entrepôt ({wh.dialect})")
    table.add_column("Table")
    table.add_column("Lignes", justify="right")
    for name, count in s.tables.items():
        table.add_row(name, f"{count:,}".replace(",", " "))
    console.print(table)
    console.print(f"Documents : {s.documents_done} intégrés, {s.documents_error} en erreur")
    if s.mentions:
        console.print("Mentions par type : " + ", ".join(f"{k} {v}" for k, v in s.mentions.items()))


@app.command("load-omop")
def load_omop(
    path: Path = typer.Argument(
        ..., help="Jeu OMOP CDM 5.4 en CSV : dossier ou archive zip.", exists=True
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Remplacer les lignes dont l'identifiant existe."
    ),
) -> None:
    """Charger un jeu OMOP CSV (tout ou rien, rechargement sans doublon)."""
    from hopia.data.omop.load_csv import load_omop as _load
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse

    with handle_errors():
        report = _load(open_warehouse(get_settings()), path, replace=replace)
    for name, rows in report.loaded.items():
        if rows:
            console.print(f"{name} : {rows} ligne(s)")
    console.print(
        f"{sum(report.loaded.values())} ligne(s) chargée(s) dans {len(report.loaded)} table(s) ; "
        f"{len(report.skipped)} fichier(s) ignoré(s)."
    )
    for name, why in report.skipped.items():
        console.print(f"  [dim]{name} : {why}[/dim]")
