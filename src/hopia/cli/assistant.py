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


_DEFAULT_QUESTIONS = Path("bench/assistant/cohort_questions.yaml")


@eval_app.command("cohort-questions")
def cohort_questions(
    questions: Path = typer.Option(
        _DEFAULT_QUESTIONS, "--questions", help="Questions (YAML) et définitions attendues."
    ),
    backend: str | None = typer.Option(None, "--backend", help="Backend configuré."),
    model: str | None = typer.Option(
        None, "--model", help="Modèle embarqué fourni (ex. qwen2.5-coder-0.5b)."
    ),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp (--model)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Seulement les N premières."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """Cohorte à partir d'une question : part des définitions valides et des correspondances
    exactes (mêmes patients) sur l'entrepôt configuré."""
    from hopia.services import tasks

    flags = {"questions": "--questions", "backend": "--backend", "model": "--model"}
    with handle_errors(flags), context() as ctx:
        request = tasks.CohortEvalRequest.of(questions=questions, limit=limit)
        # LEAD: the gateway's generate replaces this local backend at merge
        generate = tasks.local_generate(
            ctx, "cohort_from_question", backend=backend, model=model, threads=threads
        )
        result = tasks.evaluate_cohort_questions(ctx, request, generate)
    data = result.to_json()
    console.print(
        f"{data['questions']} questions : {data['valid_definitions']} définitions valides, "
        f"{data['exact_match']} correspondances exactes ({data['exact_match_rate']:.3f}), "
        f"{data['seconds']:.0f} s",
        highlight=False,
    )
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
