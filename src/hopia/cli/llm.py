"""``hopia llm``: the language models (configured backends, packaged models), assembling the
packaged ones, and a direct question to one of them. A thin adapter over
:mod:`hopia.services.llm_models`.

``chat`` calls the backend directly for now (local backends only, refused otherwise by the
service); it will go through the gateway service (quotas, usage, audit) once merged."""

from __future__ import annotations

import time

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(
    help="Modèles de langage : backends configurés, modèles embarqués, question directe.",
    no_args_is_help=True,
)

_FLAGS = {"models": "--model", "question": "QUESTION"}


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} Go".replace(".", ",") if n >= 1e9 else f"{n / 1e6:.0f} Mo"


def _yes(value: bool) -> str:
    return "[green]oui[/green]" if value else "[red]non[/red]"


@app.command("models")
def models() -> None:
    """Les backends configurés et les modèles embarqués (installés, assemblés ou non)."""
    from hopia.services import llm_models

    with handle_errors(_FLAGS), context() as ctx:
        view = llm_models.list_models(ctx)
    if view.backends:
        table = Table(title=f"Backends configurés ({len(view.backends)})")
        for name in ("Nom", "Type", "Modèle", "Local", "Prêt", "Où"):
            table.add_column(name)
        for b in view.backends:
            name = b.name + (" (par défaut)" if b.default else "")
            ready = _yes(b.ready) + (f" — {escape(b.problem)}" if b.problem else "")
            table.add_row(
                escape(name), b.type, escape(b.model), _yes(b.local), ready, escape(b.where)
            )
        console.print(table)
    else:
        console.print(
            "Aucun backend configuré (section assistant.backends) : les parties génératives "
            "de l'assistant indiquent qu'aucun modèle n'est configuré."
        )
    table = Table(title="Modèles embarqués fournis (locaux)")
    for name in ("Nom", "Modèle", "Taille", "Installé", "Assemblé", "Usage"):
        table.add_column(name, no_wrap=name == "Nom")
    for m in view.packaged:
        name = m.name + (" (par défaut)" if m.default else "")
        table.add_row(
            escape(name),
            escape(m.title),
            _size(m.size),
            _yes(m.installed),
            _yes(m.assembled),
            escape(m.use),
        )
    console.print(table)
    if view.runtime:
        console.print("Moteur embarqué (llama.cpp) : installé.")
    else:
        console.print(
            "Moteur embarqué (llama.cpp) non installé : « make llm » l'installe avec les modèles."
        )


@app.command("prepare")
def prepare(
    model: list[str] | None = typer.Option(
        None,
        "--model",
        help="Modèle embarqué à assembler (répétable ; défaut : tous les installés).",
    ),
) -> None:
    """Assembler les modèles embarqués installés dans le cache (une fois, empreinte vérifiée)."""
    from hopia.services import llm_models

    with handle_errors(_FLAGS), context() as ctx:
        request = llm_models.PrepareRequest.of(models=tuple(model or ()))
        done = llm_models.prepare(ctx, request)
    for m in done:
        state = "déjà assemblé" if m.already else "assemblé, empreinte vérifiée"
        console.print(f"{escape(m.name)} : {state} ({_size(m.size)}) → {escape(m.path)}")


@app.command("requirements")
def requirements(
    model: list[str] | None = typer.Argument(None, help="Modèles embarqués (défaut : tous)."),
) -> None:
    """Les paquets (versions exactes) des modèles embarqués, un par ligne (pour make llm)."""
    from hopia.services import llm_models

    with handle_errors(_FLAGS):
        lines = llm_models.requirements(tuple(model or ()))
    for line in lines:
        print(line)


@app.command("chat")
def chat(
    question: str = typer.Argument(..., help="La question posée au modèle."),
    backend: str | None = typer.Option(
        None, "--backend", help="Backend configuré (défaut : celui par défaut)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Modèle embarqué fourni, sans configuration (ex. smollm2-135m)."
    ),
    threads: int | None = typer.Option(
        None, "--threads", help="Fils de llama.cpp pour le modèle de --model (défaut : 2)."
    ),
    system: str | None = typer.Option(None, "--system", help="Consigne système."),
    max_tokens: int = typer.Option(512, "--max-tokens", help="Longueur maximale de la réponse."),
    temperature: float = typer.Option(0.0, "--temperature", help="0 : réponse reproductible."),
) -> None:
    """Poser une question à un modèle local ; la réponse s'affiche au fil de l'eau."""
    from hopia.services import llm_models

    flags = {**_FLAGS, "model": "--model", "models": "--model"}
    with handle_errors(flags), context() as ctx:
        request = llm_models.ChatRequest.of(
            question=question,
            system=system,
            backend=backend,
            model=model,
            threads=threads,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        answer = llm_models.chat(ctx, request)
        started = time.perf_counter()
        first = None
        usage = None
        for delta in answer.deltas:
            if delta.text:
                first = first or time.perf_counter()
                console.out(delta.text, end="", highlight=False)
                console.file.flush()  # each piece as it comes, a pipe included
            if delta.done:
                usage = delta.usage
        console.out("")
        console.file.flush()  # the answer ends before the figures on stderr
    elapsed = time.perf_counter() - started
    if usage is not None:
        err_console.print(
            f"[dim]{escape(answer.backend)} ({escape(answer.model)}) : {usage.prompt_tokens} "
            f"jetons en entrée, {usage.completion_tokens} en sortie, {elapsed:.1f} s"
            + (f", premier jeton à {first - started:.2f} s" if first else "")
            + "[/dim]",
            highlight=False,
        )
