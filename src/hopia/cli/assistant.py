"""``hopia assistant``: evaluations of the assistant (issue 13 item 8), ``hopia assistant eval …``.

Other evaluations (FrenchMedMCQA, retrieval) are added to :data:`eval_app` by their own
modules."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(help="Assistant génératif : évaluations.", no_args_is_help=True)
eval_app = typer.Typer(
    help="Évaluer l'assistant (chiffres de docs/benchmarks.md).", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")

_DEFAULT_GROUNDING = Path("bench/assistant/grounding_cases.yaml")
_TYPES = {
    "dose": "dose ou valeur changée",
    "negation": "négation inversée",
    "removed": "fait retiré des sources",
}


@eval_app.command("grounding")
def grounding(
    cases: Path = typer.Option(
        _DEFAULT_GROUNDING, "--cases", help="Cas (YAML) : source, résumé fidèle, erreurs semées."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """Précision et rappel de la vérification d'ancrage sur des erreurs semées."""
    from hopia.services import tasks

    with handle_errors({"cases": "--cases"}), context() as ctx:
        request = tasks.GroundingEvalRequest.of(cases=cases)
        with err_console.status("Chargement du pipeline de TAL…"):
            from hopia.services.nlp import pipeline

            pipeline(ctx)
        result = tasks.evaluate_grounding(ctx, request)
    data = result.to_json()
    console.print(
        f"{data['cases']} cas, {sum(result.seeded.values())} erreurs semées : précision "
        f"{data['precision']:.3f}, rappel {data['recall']:.3f} ({data['flags']} alertes, "
        f"{data['clean_false_alarms']} sur les résumés fidèles), {data['seconds']:.1f} s",
        highlight=False,
    )
    for kind, recall in data["recall_by_type"].items():
        console.print(f"  rappel, {_TYPES.get(kind, kind)} : {recall:.3f}", highlight=False)
    for miss in result.misses:
        err_console.print(f"  [yellow]manquée[/yellow] {escape(miss)}", highlight=False)
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
