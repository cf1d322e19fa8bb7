"""``hopia task``: the assistant's tasks (:mod:`hopia.services.tasks`): list, run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors

if TYPE_CHECKING:
    from hopia.services.tasks import TaskResult

app = typer.Typer(
    help="Tâches de l'assistant : synthèse, lettre de liaison, cohorte, article, QCM, CR.",
    no_args_is_help=True,
)

_FLAGS = {
    "person_id": "--patient",
    "visit_id": "--visit",
    "cohort": "--cohort",
    "text": "--file",
    "question": "--question",
    "task": "TÂCHE",
    "backend": "--backend",
    "model": "--model",
}


@app.command("list")
def list_cmd() -> None:
    """Lister les tâches, ce qu'elles demandent et la version de leur consigne."""
    from hopia.services import tasks

    with handle_errors(_FLAGS), context() as ctx:
        infos = tasks.list_tasks(ctx)
    needs = {
        "patient": "--patient",
        "visit": "--visit",
        "cohort": "--cohort",
        "question": "--question",
        "text": "--file",
    }
    for t in infos:
        allowed = "" if t.allowed else "  (non autorisée pour votre rôle)"
        console.print(
            f"{t.name:<22} {escape(t.title)} [dim]({needs[t.needs]}, consigne {t.prompt_version})"
            f"[/dim]{allowed}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("run")
def run_cmd(
    task: str = typer.Argument(..., help="La tâche (voir « hopia task list »)."),
    patient: int | None = typer.Option(None, "--patient", help="Patient (person_id)."),
    visit: int | None = typer.Option(None, "--visit", help="Séjour (visit_occurrence_id)."),
    cohort: str | None = typer.Option(None, "--cohort", help="Cohorte enregistrée (nom)."),
    file: Path | None = typer.Option(
        None, "--file", help="Texte d'entrée : protocole (QCM) ou transcription (compte rendu)."
    ),
    question: str | None = typer.Option(None, "--question", help="Question (cohorte)."),
    backend: str | None = typer.Option(None, "--backend", help="Backend configuré."),
    model: str | None = typer.Option(
        None, "--model", help="Modèle embarqué fourni, sans configuration (ex. smollm2-135m)."
    ),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp (--model)."),
) -> None:
    """Exécuter une tâche : le texte généré, ses alertes de vérification et ses sources."""
    from hopia.services import tasks

    with handle_errors(_FLAGS), context() as ctx:
        text = file.read_text(encoding="utf-8") if file is not None else None
        request = tasks.TaskRequest.of(
            task=task,
            person_id=patient,
            visit_id=visit,
            cohort=cohort,
            question=question,
            text=text,
            title=file.name if file is not None else None,
        )
        generate = tasks.gateway_generate(
            ctx, request.task, backend=backend, model=model, threads=threads
        )
        run = tasks.run_task(ctx, request, generate)
    _render(run.result)
    if run.result.error:
        raise typer.Exit(1)


def _render(result: TaskResult) -> None:
    if result.message:
        err_console.print(f"[yellow]{escape(result.message)}[/yellow]", highlight=False)
    if result.text:
        console.out(result.text, highlight=False)
    if result.error:
        err_console.print(f"[red]Erreur :[/red] {escape(result.error)}", highlight=False)
    if result.flags:
        err_console.print(f"\n[bold]{len(result.flags)} alerte(s) de vérification :[/bold]")
        for f in result.flags:
            err_console.print(
                f"  - « {escape(f.text)} » [{f.start}–{f.end}] : {escape(f.message)}",
                highlight=False,
            )
    data = result.structured
    if data.get("facts"):
        err_console.print("\n[bold]Faits structurés (TAL) :[/bold]")
        for fact in data["facts"]:
            extra = ", ".join(x for x in (fact.get("code"), fact.get("dose")) if x)
            err_console.print(f"  - {escape(fact['text'])} {escape(extra)}", highlight=False)
    if result.task == "cohort_from_question" and result.generated and not result.error:
        err_console.print(
            "\n[bold]Définition validée, non exécutée[/bold] : relisez-la, enregistrez-la "
            "puis lancez « hopia cohort run » vous-même."
        )
    if data.get("results") and not result.generated:
        from hopia.services.tasks import table_cells

        err_console.print("\n[bold]Tableaux de la cohorte :[/bold]")
        for key, (value, meaning) in table_cells(data["results"]).items():
            err_console.print(f"  {{{key}}} = {escape(value)} : {escape(meaning)}", highlight=False)
    if result.sources:
        err_console.print("\n[bold]Sources :[/bold]")
        for i, s in enumerate(result.sources, 1):
            title = escape(s.title or "")
            err_console.print(
                f"  {escape(f'[doc {i}]')} {escape(s.id)} {title} ({len(s.text)} caractères)",
                highlight=False,
            )
    err_console.print(
        f"[dim]consigne {result.prompt_version}"
        + (f", modèle {escape(result.model)}" if result.model else "")
        + "[/dim]"
    )
