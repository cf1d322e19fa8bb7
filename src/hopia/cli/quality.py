"""``hopia quality``: data quality checks after the OHDSI Data Quality Dashboard, and reports.

A thin adapter over :mod:`hopia.services.quality`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, handle_errors, progress_bar
from hopia.platform.scores import fmt_number, fmt_percent

app = typer.Typer(
    help="Qualité des données de l'entrepôt (contrôles d'après l'OHDSI Data Quality Dashboard).",
    no_args_is_help=True,
)

# Request fields whose option is not named after them.
_FLAGS = {"tables": "--table", "check_types": "--check-type"}


def _n(value: int) -> str:
    return fmt_number(value)


def _pct(value: float | None) -> str:  # a pass rate already in percent
    return fmt_percent(None if value is None else value / 100, 1)


@app.command("run")
def run(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Dossier des rapports JSON et HTML (défaut : <home>/quality)."
    ),
    tables: list[str] | None = typer.Option(
        None, "--table", help="Ne contrôler que cette table OMOP (option répétable)."
    ),
    check_types: list[str] | None = typer.Option(
        None, "--check-type", help="Ne lancer que ce type de contrôle DQD (option répétable)."
    ),
    history: bool = typer.Option(
        True,
        "--history/--no-history",
        help="Enregistrer le résultat dans l'entrepôt (hopia_meta), pour la tendance.",
    ),
    enrichment: bool = typer.Option(
        True, "--enrichment/--no-enrichment", help="Ajouter le rapport d'enrichissement par le TAL."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Sortir avec le code 1 si un contrôle est non conforme."
    ),
) -> None:
    """Lancer les contrôles de qualité et écrire les rapports JSON et HTML."""
    from hopia.services import quality
    from hopia.services.quality import Status

    with handle_errors(_FLAGS), context() as ctx:
        request = quality.RunRequest.of(
            output=output,
            tables=tables or (),
            check_types=check_types or (),
            history=history,
            enrichment=enrichment,
        )
        bar = progress_bar()  # shown once the checks are selected: a bad option prints alone
        task = bar.add_task("Contrôles", total=None, start=False)

        def start(total: int) -> None:
            bar.update(task, total=total)
            bar.start_task(task)
            bar.start()

        try:
            outcome = quality.run(
                ctx, request, on_start=start, on_progress=lambda n: bar.advance(task, n)
            )
        finally:
            if bar.live.is_started:
                bar.stop()
    _print_summary(outcome.report)
    console.print(f"Rapports : {outcome.json_path}\n           {outcome.html_path}")
    if strict and outcome.run.count(Status.FAILED):
        raise typer.Exit(1)


def _print_summary(report) -> None:  # noqa: ANN001 - QualityReport, imported lazily
    from hopia.services.quality import KAHN_FR

    t = report.totals
    head = Table(title="Qualité des données", show_header=False)
    head.add_row("Contrôles au catalogue", _n(t.checks))
    head.add_row("Exécutés", _n(t.passed + t.failed))
    head.add_row("Conformes", f"[green]{_n(t.passed)}[/green]")
    head.add_row("Non conformes", f"[red]{_n(t.failed)}[/red]")
    head.add_row("Sans objet (données absentes)", _n(t.not_applicable))
    head.add_row("Erreurs", _n(t.errors))
    head.add_row("Taux de conformité", _pct(t.pass_rate))
    if len(report.history) > 1:
        before = report.history[-2]
        head.add_row("Contrôle précédent", f"{_pct(before.pass_rate)} (n° {before.run_id})")
    console.print(head)
    console.print(_category_table(report.categories))
    console.print(_coverage_table(report.coverage))
    failed = sorted(
        (r for r in report.results if r.status.value == "failed"), key=lambda r: -r.pct_violated
    )
    if failed:
        table = Table(title=f"Contrôles non conformes ({len(failed)}, les 15 plus marqués)")
        for name in ("Catégorie", "Contrôle", "Table.champ", "En échec", "Part", "Seuil"):
            table.add_column(name, justify="right" if name in {"Part", "Seuil"} else "left")
        for r in failed[:15]:
            table.add_row(
                KAHN_FR.get(r.kahn_category, r.kahn_category),
                r.check_type,
                escape(r.check_id.split(":", 1)[1]),
                f"{_n(r.num_violated)} / {_n(r.num_denominator)}",
                _pct(r.pct_violated),
                _pct(r.threshold),
            )
        console.print(table)
    if report.enrichment:
        e = report.enrichment
        console.print(
            f"Enrichissement TAL : {_n(e.mentions)} mentions dans {_n(e.notes_with_mentions)} "
            f"document(s) ; {_n(e.condition_pairs_text_only)} couple(s) patient–pathologie "
            f"connu(s) seulement par le texte ; {_n(e.persons_condition_text_only)} patient(s) "
            "dont les pathologies viennent toutes du texte."
        )


def _category_table(categories) -> Table:  # noqa: ANN001 - list[CategoryTotals]
    from hopia.services.quality import KAHN_FR

    table = Table(title="Par catégorie de Kahn")
    table.add_column("Catégorie")
    for name in ("Exécutés", "Conformes", "Non conformes", "Sans objet", "Taux"):
        table.add_column(name, justify="right")
    for c in categories:
        name = " ".join(KAHN_FR.get(v, v) for v in (c.kahn_category, c.kahn_subcategory) if v)
        table.add_row(
            name,
            _n(c.passed + c.failed),
            _n(c.passed),
            _n(c.failed),
            _n(c.not_applicable),
            _pct(c.pass_rate),
        )
    return table


def _coverage_table(coverage) -> Table:  # noqa: ANN001 - list[TypeCoverage]
    from hopia.services.quality import COVERAGE_FR

    table = Table(title="Couverture des 27 types de contrôles du Data Quality Dashboard")
    table.add_column("Type DQD", no_wrap=True)
    table.add_column("Couverture", no_wrap=True)
    for name in ("Contrôles", "Exécutés", "Non conf.", "Sans objet"):
        table.add_column(name, justify="right")
    table.add_column("Sans objet : raison principale")
    for c in coverage:
        reason = next(iter(c.na_reasons.items()), None)
        table.add_row(
            c.check_type,
            COVERAGE_FR.get(c.coverage, c.coverage),
            _n(c.checks),
            _n(c.passed + c.failed),
            _n(c.failed),
            _n(c.not_applicable),
            f"{reason[0]} ({_n(reason[1])})" if reason else "",
        )
    return table


@app.command("catalogue")
def catalogue() -> None:
    """Les 27 types de contrôles DQD, leur couverture et le nombre de contrôles au catalogue."""
    from hopia.services import quality
    from hopia.services.quality import COVERAGE_FR, KAHN_FR

    with handle_errors(), context() as ctx:
        cat = quality.catalogue(ctx)
    counts = cat.count_by_type()
    table = Table(title=f"Catalogue de contrôles {cat.version} ({_n(len(cat.checks))} contrôles)")
    table.add_column("Type DQD", no_wrap=True)
    for name in ("Niveau", "Kahn", "Couverture", "Contrôles"):
        table.add_column(name, justify="right" if name == "Contrôles" else "left")
    for name, kind in cat.types.items():
        kahn = " ".join(KAHN_FR.get(v, v) for v in (kind.kahn_category, kind.kahn_subcategory) if v)
        table.add_row(
            name,
            kind.level.value,
            kahn,
            COVERAGE_FR.get(kind.coverage, kind.coverage),
            _n(counts[name]),
        )
    console.print(table)
    origins: dict[str, int] = {}
    for check in cat.checks:
        origins[check.origin] = origins.get(check.origin, 0) + 1
    console.print(
        f"Origine : {_n(origins.get('schema', 0))} générés du schéma CDM 5.4, "
        f"{_n(origins.get('dqd', 0))} dérivés du DQD, {_n(origins.get('hopia', 0))} propres à "
        "Hopia (CIM-10 selon le sexe, analytes du TAL)."
    )
    adapted = [k for k in cat.types.values() if k.coverage == "adapted"]
    for kind in adapted:
        console.print(f"[dim]{kind.name} (adapté) : {escape(kind.note or '')}[/dim]")


@app.command("history")
def history(limit: int = typer.Option(20, "--limit", min=1, help="Nombre de contrôles.")) -> None:
    """Historique des contrôles enregistrés dans l'entrepôt."""
    from hopia.services import quality

    with handle_errors(), context() as ctx:
        runs = quality.history(ctx, quality.HistoryRequest.of(limit=limit))
    if not runs:
        console.print("Aucun contrôle enregistré : lancez [bold]hopia quality run[/bold].")
        return
    table = Table(title="Historique des contrôles de qualité")
    for name in ("N°", "Date", "Contrôles", "Conformes", "Non conformes", "Sans objet", "Taux"):
        table.add_column(name, justify="left" if name == "Date" else "right")
    for r in runs:
        table.add_row(
            str(r.run_id),
            f"{r.started_at:%d/%m/%Y %H:%M}",
            _n(r.checks),
            _n(r.passed),
            _n(r.failed),
            _n(r.not_applicable),
            _pct(r.pass_rate),
        )
    console.print(table)
