"""``hopia pseudo``: pseudonymise a JSONL file of clinical texts (``run``), or score the detector
against annotated notes (``eval``).

``run`` input lines: ``{"id": str, "text": str}`` (``patient_id`` optional, used as patient key;
other keys ignored). Output lines: ``{"id", "pseudo_text", "entities": [{"start", "end",
"label"}]}`` with offsets into the input text. A broken line is reported on stderr and skipped;
the exit code is then 1. A document the pseudonymiser fails on gets a line ``{"id",
"pseudo_text": null, "entities": [], "errors": [{"pipe", "error", "message"}]}`` and the run
goes on (exit code 1 too). The output appears all at once (temporary file, then rename) or not at
all. The secret is the installation's: run ``hopia init`` first. The work is done by
:mod:`hopia.services.pseudo`; this module only parses options and prints.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors
from hopia.cli._progress import LazyProgress, file_run_display

if TYPE_CHECKING:
    from hopia.services.pseudo import EvalReport

app = typer.Typer(help="Pseudonymisation des textes cliniques.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    # A callback keeps ``run`` a sub-command even while it is the only one.
    pass


class PolicyChoice(StrEnum):
    surrogate = "surrogate"
    tag = "tag"
    mask = "mask"


_RUN_HELP = (
    "Pseudonymiser chaque texte d'un JSONL : noms, dates, adresses, téléphones, NIR, IPP/NDA, "
    "hôpitaux... Une ligne invalide est signalée puis ignorée ; le code de sortie est alors 1."
)


@app.command("run", help=_RUN_HELP)
def run(
    input_path: Path = typer.Option(
        ..., "--input", "-i", help='JSONL d\'entrée, une ligne {"id", "text"} par document.'
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help='JSONL de sortie, une ligne {"id", "pseudo_text", "entities"} par texte.',
    ),
    policy: PolicyChoice = typer.Option(
        PolicyChoice.surrogate,
        "--policy",
        "-p",
        help="surrogate : valeurs fictives cohérentes ; tag : <LABEL> ; mask : ***.",
    ),
) -> None:
    """Write one ``{"id", "pseudo_text", "entities"}`` line per valid input line."""
    from hopia.services import pseudo

    with handle_errors(), context() as ctx:
        request = pseudo.PseudonymiseFileRequest.of(
            input=input_path, output=output, policy=policy.value
        )
        with file_run_display("Pseudonymisation", input_path) as (on_line_error, on_progress):
            result = pseudo.pseudonymise_file(
                ctx, request, on_line_error=on_line_error, on_progress=on_progress
            )
    written = result.done - result.failed
    err_console.print(f"{written} document(s) pseudonymisé(s) → {escape(str(output))}")
    if result.failed:
        err_console.print(
            f"[yellow]{result.failed} document(s) en échec : leur ligne porte « errors » "
            "et aucun texte.[/yellow]"
        )
    if result.errors:
        err_console.print(f"[yellow]{result.errors} ligne(s) invalide(s) ignorée(s).[/yellow]")
    if result.errors or result.failed:
        raise typer.Exit(1)


class SplitChoice(StrEnum):
    heldout = "heldout"
    all = "all"


_EVAL_HELP = (
    "Évaluer la détection des données identifiantes sur des notes annotées (JSONL eds-pseudo ou "
    "corpus hopia synth) : précision, rappel et F1 par étiquette, masquage au caractère, "
    "documents entièrement masqués, vitesse et cibles. Le code de sortie est 0 : c'est un "
    "rapport, pas un contrôle."
)
_TARGET_NAMES = {
    "redaction_recall": "Rappel de masquage",
    "redaction_precision": "Précision de masquage",
    "fully_redacted": "Documents entièrement masqués",
}


@app.command("eval", help=_EVAL_HELP)
def eval_(
    gold: list[Path] = typer.Option(
        ...,
        "--gold",
        "-g",
        help="JSONL eds-pseudo (note_id, note_text, entities) ou dossier / documents.jsonl "
        "d'un corpus hopia synth. Répétable.",
    ),
    split: SplitChoice = typer.Option(
        SplitChoice.heldout,
        "--split",
        help="heldout : seulement les 20 % de notes réservées à l'évaluation (hachage de "
        "l'identifiant), exclues de l'entraînement du modèle ; all : tout le corpus (pour un "
        "corpus jamais utilisé à l'entraînement).",
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Écrire aussi le rapport complet en JSON dans ce fichier."
    ),
) -> None:
    """Print per-label scores, redaction figures, speed and targets; exit 0."""
    from hopia.services import pseudo

    with handle_errors({"json_out": "--json"}), context() as ctx:
        request = pseudo.EvaluateRequest.of(gold=gold, split=split.value, json_out=json_path)
        with LazyProgress() as bars:
            result = pseudo.evaluate(
                ctx, request, on_progress=lambda done, n: bars.update("Évaluation", done, n)
            )
    _print_report(result.report, result.documents_total, split, result.chars_per_document)
    if json_path is not None:
        err_console.print(f"Rapport JSON → {escape(str(json_path))}")


def _print_report(report: EvalReport, total: int, split: SplitChoice, chars: int) -> None:
    from rich import box
    from rich.table import Table

    from hopia.platform.scores import fmt

    scope = (
        "heldout : les 20 % réservés à l'évaluation"
        if split is SplitChoice.heldout
        else "tout le corpus"
    )
    console.print(f"Documents évalués : {report.documents} sur {total} ({scope})")
    if not report.documents:
        console.print("[yellow]Aucun document à évaluer.[/yellow]")
        return
    console.print(report.to_table())
    console.print(
        "chev. : une entité gold est trouvée si une prédiction de même étiquette la chevauche. "
        "R car. : part de ses caractères masqués, quelle que soit l'étiquette prédite.",
        style="dim",
    )
    if report.gold_overlaps:
        console.print(f"Entités gold qui se chevauchent : {report.gold_overlaps} paire(s)")
    rate = report.docs_per_second
    speed = "—" if rate is None else f"{rate:,.0f}".replace(",", "\u202f")
    console.print(
        f"Vitesse : {speed} documents/s (détection seule, un cœur ; {chars} car./document)\n"
    )

    table = Table(
        title="Cibles (masquage au caractère, toutes étiquettes confondues)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("Cible", no_wrap=True)
    table.add_column("Valeur", justify="right", no_wrap=True)
    table.add_column("Seuil", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    verdicts = {True: "[green]atteinte[/green]", False: "[red]non atteinte[/red]"}
    targets = report.targets()
    for t in targets:
        label = t.name.removeprefix("char_recall_")
        name = _TARGET_NAMES.get(t.name, f"Rappel caractères {label}")
        value = fmt(t.value)
        if t.name == "fully_redacted":
            value = f"{report.docs_fully_redacted}/{report.docs_with_phi} = {value}"
        verdict = "[dim]non évaluable[/dim]" if t.met is None else verdicts[t.met]
        table.add_row(name, value, f"≥ {fmt(t.threshold, 2)}", verdict)
    console.print(table)
    met = sum(t.met is True for t in targets)
    measured = sum(t.met is not None for t in targets)
    console.print(f"Cibles atteintes : {met}/{measured}")
    if measured < len(targets):
        console.print(
            "(non évaluable : aucune entité de cette étiquette dans le gold)", style="dim"
        )
