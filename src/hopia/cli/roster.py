"""``hopia roster``: a nurse roster solved with CP-SAT, its example files and the demand from a
quantile forecast. A thin adapter over :mod:`hopia.services.roster`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(
    help="Planning des infirmiers d'un service (CP-SAT) : règles du travail en données, "
    "couverture de la demande, équité, conflits de règles nommés.",
    no_args_is_help=True,
)

_FLAGS = {
    "time_limit_s": "--time-limit",
    "relative_gap": "--gap",
    "patients_per_nurse": "--ratio",
}


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"date AAAA-MM-JJ attendue, pas « {value} »", param_hint=option
        ) from None


@app.command("solve")
def solve(
    staff: Path = typer.Option(
        ..., "--staff", help="CSV du personnel (nurse, name, ratio, skills, leave, wishes)."
    ),
    demand: Path = typer.Option(
        ..., "--demand", help="CSV de la demande (date, shift, required[, skill])."
    ),
    rules: Path | None = typer.Option(
        None, "--rules", help="Règles YAML ou JSON (défaut : règles par défaut)."
    ),
    start: str = typer.Option(..., "--start", help="Premier jour du planning (AAAA-MM-JJ)."),
    weeks: int = typer.Option(6, "--weeks", help="Nombre de semaines (1 à 12)."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Planning écrit : .csv (grille infirmier × jour) ou .xlsx (tous les tableaux).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Remplacer le fichier de sortie s'il existe."
    ),
    time_limit: float = typer.Option(30.0, "--time-limit", help="Temps de calcul maximal (s)."),
    workers: int = typer.Option(
        2, "--workers", help="Fils de recherche du solveur (2 sur un serveur à 2 cœurs)."
    ),
    seed: int = typer.Option(0, "--seed", help="Graine du solveur."),
    gap: float = typer.Option(
        0.0, "--gap", help="Écart relatif à l'optimum accepté (0 : prouver l'optimum)."
    ),
) -> None:
    """Calculer le planning ; sortie 1 si aucun planning n'existe (règles en conflit nommées)."""
    from hopia.services import roster

    first = _date(start, "--start")
    with handle_errors(_FLAGS), context() as ctx:
        request = roster.SolveFilesRequest.of(
            staff=staff,
            demand=demand,
            rules=rules,
            start=first,
            weeks=weeks,
            output=output,
            force=force,
            time_limit_s=time_limit,
            workers=workers,
            seed=seed,
            relative_gap=gap,
        )
        with err_console.status(f"Calcul du planning (au plus {time_limit:g} s)…"):
            result = roster.solve_files(ctx, request)
    print_result(result)
    if not result.solved:
        raise typer.Exit(1)


def print_result(result) -> None:  # noqa: ANN001 - RosterResult, imported lazily
    """The status, the conflicts or the summary tables of a roster."""
    head = (
        f"Planning du {result.start:%d/%m/%Y}, {result.weeks} semaine(s) : {result.status_label} "
    )
    console.print(f"{escape(head)}({result.wall_s:g} s, {result.workers} fil(s) de recherche).")
    if result.status == "infeasible":
        console.print("[red]Aucun planning ne respecte ensemble ces règles :[/red]")
        for line in result.conflict_lines:
            console.print(f"  • {escape(line)}")
        if not result.conflicts_minimal:
            console.print("[dim](liste non réduite au minimum dans le temps imparti)[/dim]")
        return
    if not result.solved:
        console.print("Augmentez --time-limit ou allégez la demande.")
        return
    console.print(_coverage_table(result))
    console.print(_nurse_table(result))
    met = sum(1 for w in result.wishes if w.met)
    console.print(f"Souhaits de repos satisfaits : {met} / {len(result.wishes)}.")
    for path in result.outputs:
        console.print(f"Planning écrit : {escape(str(path))}")


def _coverage_table(result) -> Table:  # noqa: ANN001
    table = Table(title="Couverture par poste (toute la période)")
    for name in ("Poste", "Demandés", "Affectés", "Manquants", "En surplus", "Jours incomplets"):
        table.add_column(name, justify="left" if name == "Poste" else "right")
    labels = {s.code: s.label for s in result.shifts}
    for code in dict.fromkeys(r.shift for r in result.coverage):
        rows = [r for r in result.coverage if r.shift == code]
        table.add_row(
            f"{code} ({labels.get(code, code)})",
            str(sum(r.required for r in rows)),
            str(sum(r.assigned for r in rows)),
            str(sum(r.missing for r in rows)),
            str(sum(r.surplus for r in rows)),
            str(sum(1 for r in rows if r.missing)),
        )
    return table


def _nurse_table(result) -> Table:  # noqa: ANN001
    table = Table(title="Heures, nuits et week-ends par infirmier")
    for name in (
        "Infirmier",
        "Quotité",
        "Cible (h)",
        "Planifié (h)",
        "Écart",
        "Nuits",
        "Jours WE",
        "WE libres",
        "Congés",
        "Souhaits",
    ):
        table.add_column(name, justify="left" if name == "Infirmier" else "right")
    for r in result.nurses:
        table.add_row(
            escape(f"{r.nurse} {r.name}"),
            f"{r.ratio:.0%}".replace("%", " %"),
            f"{r.target_hours:g}",
            f"{r.worked_hours:g}",
            f"{r.gap_hours:+g}",
            str(r.nights),
            str(r.weekend_days),
            str(r.weekends_off),
            str(r.leave_days),
            f"{r.wishes_met}/{r.wishes}" if r.wishes else "",
        )
    return table


@app.command("example")
def example(
    folder: Path = typer.Argument(
        ..., help="Dossier où écrire staff.csv, demand.csv, forecast.csv et rules.yml."
    ),
    nurses: int = typer.Option(30, "--nurses", help="Nombre d'infirmiers synthétiques."),
    weeks: int = typer.Option(6, "--weeks", help="Nombre de semaines."),
    start: str | None = typer.Option(
        None, "--start", help="Premier jour, un lundi (défaut : 2026-03-02)."
    ),
    seed: int = typer.Option(0, "--seed", help="Graine du générateur."),
    force: bool = typer.Option(False, "--force", help="Remplacer les fichiers existants."),
) -> None:
    """Écrire les fichiers d'un service synthétique (mixte de temps partiels, congés, souhaits)."""
    from hopia.services import roster

    first = _date(start, "--start")
    with handle_errors(), context() as ctx:
        made = roster.write_example(
            ctx,
            roster.ExampleFilesRequest.of(
                folder=folder, nurses=nurses, weeks=weeks, start=first, seed=seed, force=force
            ),
        )
    for path in made.files:
        console.print(f"Écrit : {escape(str(path))}")
    console.print(
        f"Puis : hopia roster solve --staff {made.folder}/staff.csv --demand "
        f"{made.folder}/demand.csv --rules {made.folder}/rules.yml --start {made.start} "
        f"--weeks {made.weeks} --output planning.xlsx",
        soft_wrap=True,
    )


@app.command("demand")
def demand(
    forecast: Path = typer.Option(
        ..., "--forecast", help="Prévision de patients (ds, quantile, value)."
    ),
    quantile: float = typer.Option(
        ..., "--quantile", help="Quantile retenu (0.9 : 9 jours sur 10 couverts)."
    ),
    ratio: list[str] = typer.Option(
        ..., "--ratio", help="Patients par infirmier d'un poste : M=5 (répétable)."
    ),
    minimum: list[str] | None = typer.Option(
        None, "--minimum", help="Effectif minimal d'un poste : N=2 (répétable)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="CSV de la demande écrit (date, shift, required)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Remplacer le fichier de sortie s'il existe."
    ),
) -> None:
    """Traduire une prévision en quantiles en infirmiers demandés par jour et poste."""
    from hopia.services import roster

    with handle_errors(_FLAGS), context() as ctx:
        written = roster.demand_from_forecast(
            ctx,
            roster.DemandFromForecastRequest.of(
                forecast=forecast,
                quantile=quantile,
                patients_per_nurse=_pairs(ratio, "--ratio", float),
                minimum=_pairs(minimum or [], "--minimum", int),
                output=output,
                force=force,
            ),
        )
    console.print(f"Demande écrite : {escape(str(written))}")


def _pairs(values: list[str], option: str, kind: type) -> dict:
    out = {}
    for value in values:
        code, _, number = value.partition("=")
        try:
            out[code.strip()] = kind(number.replace(",", "."))
        except ValueError:
            raise typer.BadParameter(
                f"POSTE=nombre attendu, pas « {value} »", param_hint=option
            ) from None
        if not code.strip():
            raise typer.BadParameter(f"POSTE=nombre attendu, pas « {value} »", param_hint=option)
    return out
