"""``hopia ask``: a question over knowledge collections, answered with citations.

Without a language model wired in, the answer says so and lists the passages found, with their
sources; when nothing relevant is found, it says that too."""

from __future__ import annotations

import typer
from rich.markup import escape

from hopia.cli._common import console, context, handle_errors


def ask(
    question: str = typer.Argument(..., help="La question, en français."),
    collection: list[str] = typer.Option(..., "--collection", "-c", help="Collection(s)."),
    k: int | None = typer.Option(None, "--k", min=1, max=20, help="Passages consultés."),
    actor: str | None = typer.Option(None, "--actor", help="Demandeur, si ce n'est pas vous."),
) -> None:
    """Poser une question sur des collections ; la réponse cite ses sources (journalisé)."""
    from hopia.services.ask import AskRequest
    from hopia.services.ask import ask as run_ask

    flags = {"collections": "--collection", "question": "QUESTION"}
    with handle_errors(flags), context(actor) as ctx:
        answer = run_ask(ctx, AskRequest.of(question=question, collections=collection, k=k))
    console.print(escape(answer.text), highlight=False)
    if answer.citations:
        console.print("\n[bold]Sources[/bold]")
    for c in answer.citations:
        where = c.document + (f", {c.section}" if c.section else "")
        where += f", page {c.page}" if c.page else ""
        console.print(
            f"[{c.n}] {escape(c.collection)} : {escape(where)}, caractères {c.start}–{c.end}",
            highlight=False,
        )
