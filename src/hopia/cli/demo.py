"""``hopia demo``: a synthetic CHU through the whole pipeline, with a readable summary, one
account per role, then the web application on http://localhost:8000 (``HOPIA_DEMO_SERVE=0``:
stop after the summary, for tests and scripts)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import typer
from rich.columns import Columns
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from hopia.cli._common import console, context, handle_errors, progress_bar
from hopia.platform.scores import fmt_number


def demo(
    patients: int = typer.Option(300, help="Nombre de patients synthétiques."),
    seed: int = typer.Option(42, help="Graine du générateur (reproductible)."),
    fresh: bool = typer.Option(
        False, "--fresh", help="Reconstruire l'entrepôt de démo même s'il existe déjà."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port de l'application web."),
) -> None:
    from hopia.services.demo import (
        DemoRequest,
        demo_accounts,
        ingest_corpus,
        management_examples,
        prepare,
    )

    with handle_errors(), context() as ctx:
        request = DemoRequest.of(patients=patients, seed=seed, fresh=fresh)
        with console.status(f"Génération de {patients} patients synthétiques…"):
            corpus = prepare(ctx, request)
        if corpus.reused:
            console.print(
                "Entrepôt de démo existant réutilisé (mêmes patients, même graine ; "
                "--fresh pour le reconstruire)"
            )
        console.print(
            f"CHU synthétique : {corpus.patients} patients, {corpus.documents} documents "
            f"(+ fichiers PDF/DOCX/HL7/FHIR) dans {corpus.folder}"
        )
        with progress_bar() as bar:
            task = bar.add_task(
                "Chargement du pipeline de TAL (mis en cache après le premier lancement)…",
                total=None,
            )
            result = ingest_corpus(
                ctx,
                corpus,
                on_progress=lambda n: bar.advance(task, n),
                on_ready=lambda: bar.reset(task, description="Intégration", total=None),
            )
        made = demo_accounts(ctx)
        with console.status(
            "Données de gestion de la démo (pharmacie et activité hospitalière synthétiques)…"
        ):
            examples = management_examples(ctx)
    _print(result.summary)
    _next_steps(result.warehouse, result.environment)
    _print_accounts(made)
    console.print(
        f"Pilotage (compte gestionnaire) : /pilotage ; stocks lus dans {examples.stock_folder}",
        highlight=False,
    )
    if examples.stays:
        console.print(
            f"Activité hospitalière synthétique (sans documents, espace recherche) : "
            f"{fmt_number(examples.stays, 0)} séjours sur deux ans"
            + (" ajoutés" if examples.stays_added else " (déjà présents)"),
            highlight=False,
        )
    if os.environ.get("HOPIA_DEMO_SERVE", "1").strip() != "0":
        _serve(result.environment, port)


DEMO_HOST = "127.0.0.1"


def _print_accounts(made: list) -> None:  # list[DemoAccount], imported lazily
    from hopia.platform.identity.roles import ROLE_LABELS, Role

    table = Table(title="Comptes de démonstration (mots de passe de démo : données synthétiques)")
    for column in ("Identifiant", "Rôle", "Mot de passe", "Périmètre"):
        table.add_column(column)
    for account in made:
        table.add_row(
            account.username,
            ROLE_LABELS.get(Role(account.role), account.role),  # what the web pages call it
            account.password,
            account.perimeter or "",
        )
    console.print(table)


def _serve(environment: dict[str, str], port: int) -> None:
    """``hopia serve`` on the demo's home: the variables the printed commands use, then the
    same server as ``hopia serve`` (its settings are read again)."""
    from hopia.cli.serve import serve
    from hopia.platform.config import get_settings

    os.environ.update(environment)
    get_settings.cache_clear()
    console.print(
        f"Application web de la démo : http://localhost:{port} "
        "(connectez-vous avec un compte ci-dessus ; Ctrl+C pour arrêter)",
        highlight=False,
    )
    serve(host=DEMO_HOST, port=port, workers=1)


def _program() -> str:
    """How to call this CLI again: ``hopia`` when that is on the PATH, else the path used."""
    used = Path(sys.argv[0])
    found = shutil.which("hopia")
    if found and used.name == "hopia" and Path(found).resolve() == used.resolve():
        return "hopia"
    try:
        return str(used.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(used) if used.name == "hopia" else "hopia"


def _next_steps(url: str, environment: dict[str, str]) -> None:
    """Commands that work as printed, on the demo's warehouse (not the default one)."""
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
    hopia = _program()
    console.print(f"Entrepôt de la démo : {escape(url)}", highlight=False, soft_wrap=True)
    console.print("Pour continuer sur la démo (copiez ces lignes) :")
    for name, value in environment.items():
        console.print(
            f"  export {name}={shlex.quote(value)}", highlight=False, markup=False, soft_wrap=True
        )
    for command in (
        "warehouse stats",
        "cohort run configs/cohorts/insuffisance_cardiaque.yaml -o /tmp/cohorte",
        "share check --cohort configs/cohorts/insuffisance_cardiaque.yaml --drop age",
    ):
        console.print(f"  {hopia} {command}", highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"ou, commande par commande : {prefix} {hopia} warehouse stats",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _print(s) -> None:  # noqa: ANN001 - DemoSummary, imported lazily
    head = Table(title="Intégration", show_header=False)
    head.add_row("Documents intégrés", str(s.documents))
    head.add_row("Erreurs (fichiers invalides)", str(s.errors))
    head.add_row(
        "Débit",
        f"{fmt_number(s.docs_per_second, 1)} documents/s "
        f"({fmt_number(s.chars_per_second / 1000, 0)} k caractères/s)",
    )
    head.add_row("Patients", str(s.persons))
    head.add_row("Mentions extraites", str(s.mentions_total))
    head.add_row(
        "Affirmées / niées / hypothétiques / familiales",
        " / ".join(
            f"{s.qualifier_share.get(k, 0):.0%}"
            for k in ("affirmed", "negated", "hypothetical", "family")
        ),
    )
    console.print(head)
    by_type = Table(title="Mentions par type")
    by_type.add_column("Type")
    by_type.add_column("Nombre", justify="right")
    for label, n in s.mentions_by_label[:15]:
        by_type.add_row(label, str(n))
    top = Table(title="Pathologies les plus fréquentes (faits affirmés)")
    top.add_column("Code")
    top.add_column("Libellé")
    top.add_column("Patients", justify="right")
    for code, name, n in s.top_conditions:
        top.add_row(code, name[:50], str(n))
    console.print(Columns([by_type, top]))
    if s.example:
        original, pseudo = s.example
        console.print(
            Columns(
                [
                    Panel(original, title="Original (espace identifié)", width=70),
                    Panel(pseudo, title="Pseudonymisé (espace recherche)", width=70),
                ]
            )
        )
