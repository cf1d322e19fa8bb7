"""``hopia dictation``: an audio file → a draft structured note (services.dictation)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors

app = typer.Typer(
    help="Dictée vocale hors ligne : audio → note structurée et codée, à valider.",
    no_args_is_help=True,
)

_FLAGS = {"audio": "AUDIO", "template": "--template", "patient": "--patient", "model": "--model"}


@app.command("templates")
def templates_cmd() -> None:
    """Lister les modèles de note et leurs sections."""
    from hopia.services import dictation

    for t in dictation.templates():
        console.print(f"{t.name:<16} {escape(t.title)}", highlight=False)
        console.print(
            "                 " + escape(", ".join(title for _, title in t.sections)),
            style="dim",
            highlight=False,
        )


@app.command("requirements")
def requirements_cmd() -> None:
    """Les paquets du modèle de reconnaissance vocale fourni (ce que « make asr » installe)."""
    from hopia.services import dictation

    typer.echo(" ".join(dictation.requirements()))


@app.command("prepare")
def prepare_cmd() -> None:
    """Assembler le modèle de reconnaissance vocale fourni (une fois, empreinte vérifiée)."""
    from hopia.services import dictation

    with handle_errors(_FLAGS), context() as ctx:
        path = dictation.prepare(ctx)
    console.print(f"Modèle de reconnaissance vocale prêt : {escape(str(path))}", highlight=False)


@app.command("transcribe")
def transcribe_cmd(
    audio: Path = typer.Argument(..., help="Fichier audio (wav, mp3, ogg, webm, m4a, flac)."),
    template: str = typer.Option(
        "crh", "--template", help="Modèle de note (voir « hopia dictation templates »)."
    ),
    patient: str | None = typer.Option(None, "--patient", help="IPP du patient dicté."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Écrire la note brouillon en JSON dans ce fichier."
    ),
) -> None:
    """Transcrire une dictée et la structurer : sections du modèle, faits codés (CIM-10, ATC,
    LOINC) avec leurs qualificatifs, chacun relié à ses mots et à son passage audio. Rien
    n'entre dans le dossier avant validation par le clinicien."""
    from hopia.platform.files import write_text_atomic
    from hopia.services import dictation

    with handle_errors(_FLAGS), context() as ctx:
        request = dictation.TranscribeRequest.of(audio=audio, template=template, patient=patient)
        with err_console.status("Reconnaissance vocale…"):
            draft = dictation.transcribe(ctx, request)
        if output is not None:
            write_text_atomic(
                output, json.dumps(draft.to_json(), ensure_ascii=False, indent=2) + "\n"
            )
    for title, text in draft.sections.items():
        console.print(f"[bold]{escape(title)}[/bold] : {escape(text)}", highlight=False)
    console.print(f"\n{len(draft.facts)} fait(s) codé(s) :", highlight=False)
    for f in draft.facts:
        code = ", ".join(f"{k.upper()} {v}" for k, v in f["codes"].items())
        flags = [n for n, on in (("nié", f["negation"]), ("hypothèse", f["hypothesis"])) if on]
        said = (
            f" ({f['audio_start']:.1f}–{f['audio_end']:.1f} s)"
            if f["audio_start"] is not None
            else ""
        )
        console.print(
            f"  {escape(f['text'])} → {code}{' [' + ', '.join(flags) + ']' if flags else ''}{said}",
            highlight=False,
        )
    asr = draft.asr
    err_console.print(
        f"Modèle {asr['model']} ({asr['version']}) : {asr['duration']:.1f} s d'audio en "
        f"{asr['seconds']:.1f} s (facteur temps réel {asr['rtf']:.2f})"
        + (f" ; note écrite dans {escape(str(output))}" if output is not None else ""),
        style="dim",
        highlight=False,
    )


@app.command("reformulate")
def reformulate_cmd(
    draft: Path = typer.Argument(..., help="Le brouillon JSON écrit par « transcribe »."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Le brouillon mis en forme (JSON), à relire puis valider."
    ),
    text_output: Path | None = typer.Option(
        None, "--text-output", help="Écrire aussi le texte de la note (pour « validate --text »)."
    ),
    backend: str | None = typer.Option(None, "--backend", help="Backend configuré."),
    model: str | None = typer.Option(
        None, "--model", help="Modèle embarqué fourni, sans configuration (ex. qwen2.5-1.5b)."
    ),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp (--model)."),
) -> None:
    """Mettre en forme les sections dictées avec le modèle de langage : une proposition n'est
    gardée que si le TAL y retrouve exactement les faits dictés (rien d'ajouté, rien de perdu,
    aucune négation changée) ; sinon le texte dicté reste, avec la raison. Sans modèle
    configuré, le brouillon reste tel que dicté."""
    from hopia.platform.files import write_text_atomic
    from hopia.services import dictation_reformulate as reform
    from hopia.services import tasks

    flags = {**_FLAGS, "draft": "BROUILLON", "sections": "BROUILLON", "backend": "--backend"}
    with handle_errors(flags), context() as ctx:
        note = _read_draft(draft)
        request = reform.ReformulateRequest.of(
            sections=note.get("sections") or {}, patient=note.get("patient")
        )
        generate = tasks.gateway_generate(
            ctx, reform.TASK, backend=backend, model=model, threads=threads
        )
        with err_console.status("Mise en forme des sections…"):
            result = reform.reformulate(ctx, request, generate)
        note["sections"] = result.texts
        note["reformulation"] = {
            "model": result.model,
            "prompt_version": result.prompt_version,
            "sections": [s.to_json() for s in result.sections],
        }
        write_text_atomic(output, json.dumps(note, ensure_ascii=False, indent=2) + "\n")
        if text_output is not None:
            body = "\n\n".join(f"{t} : {x}" for t, x in result.texts.items() if x.strip())
            write_text_atomic(text_output, body + "\n")
    if result.message:
        err_console.print(f"[yellow]{escape(result.message)}[/yellow]", highlight=False)
    for s in result.sections:
        if s.accepted:
            console.print(f"[green]✓[/green] [bold]{escape(s.title)}[/bold] : {escape(s.text)}")
        else:
            console.print(f"[yellow]✗[/yellow] [bold]{escape(s.title)}[/bold] : texte dicté gardé")
            if s.reason and result.model:
                console.print(f"    {escape(s.reason)}", style="dim", highlight=False)
    kept = sum(s.accepted for s in result.sections)
    err_console.print(
        f"{kept} section(s) mise(s) en forme sur {len(result.sections)} ; brouillon écrit dans "
        f"{escape(str(output))}",
        style="dim",
        highlight=False,
    )


def _read_draft(path: Path) -> dict:
    """The draft JSON, or a French error naming the file (exit 2)."""
    try:
        note = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        err_console.print(f"Erreur : {escape(str(path))} : brouillon introuvable")
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        err_console.print(
            f"Erreur : {escape(str(path))} : ce n'est pas un brouillon de dictée "
            f"({type(exc).__name__})"
        )
        raise typer.Exit(2) from None
    if not isinstance(note, dict) or not isinstance(note.get("sections"), dict):
        err_console.print(f"Erreur : {escape(str(path))} : brouillon sans sections")
        raise typer.Exit(2)
    return note


@app.command("validate")
def validate_cmd(
    draft: Path = typer.Argument(..., help="Le brouillon JSON écrit par « transcribe »."),
    author: str = typer.Option(..., "--author", help="Le clinicien qui valide (nom, RPPS)."),
    text: Path | None = typer.Option(
        None, "--text", help="Le texte corrigé (UTF-8) ; sans lui, la transcription telle quelle."
    ),
) -> None:
    """Valider une dictée : la note (corrigée) entre dans le dossier du patient par
    l'intégration habituelle (pseudonymisation, TAL, OMOP), avec sa provenance (auteur,
    empreinte de l'audio, modèle, corrections, heure)."""
    from hopia.services import dictation

    flags = {**_FLAGS, "draft": "BROUILLON", "author": "--author", "text": "--text"}
    with handle_errors(flags), context() as ctx:
        corrected = text.read_text("utf-8") if text is not None else None
        request = dictation.ValidateRequest.of(draft=draft, text=corrected, author=author)
        with err_console.status("Intégration de la note validée…"):
            done = dictation.validate(ctx, request)
    console.print(
        f"Dictée validée ({'corrigée' if done.edited else 'telle que transcrite'}) : "
        f"{done.documents} document intégré, exécution {done.run_id}, provenance "
        f"{done.dictation_id[:12]}…",
        highlight=False,
    )


@app.command("eval")
def eval_cmd(
    sentences: Path | None = typer.Option(
        None, "--sentences", help="Phrases dictées, une par ligne (défaut : le jeu de Hopia)."
    ),
    recordings: Path | None = typer.Option(
        None,
        "--recordings",
        help="Dossier d'enregistrements réels : chaque fichier audio avec son texte de "
        "référence (même nom, .txt).",
    ),
    speeds: str = typer.Option("130,170", "--speeds", help="Débits de la voix (mots/min)."),
    noise: float = typer.Option(
        10.0, "--noise", help="Rapport signal/bruit (dB) de la variante bruitée."
    ),
    no_noise: bool = typer.Option(False, "--no-noise", help="Pas de variante bruitée."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Les N premières phrases."),
    json_out: Path | None = typer.Option(None, "--json", help="Écrire les chiffres en JSON."),
) -> None:
    """Évaluer la dictée : taux d'erreur sur les mots et rappel des médicaments, doses et
    pathologies, sur des phrases lues par la voix française d'espeak-ng (deux débits, avec
    bruit) et sur vos enregistrements. Le code de sortie est 0 : c'est un rapport."""
    from rich.table import Table

    from hopia.cli._progress import LazyProgress
    from hopia.platform.scores import fmt
    from hopia.services import dictation

    try:
        rates = [int(s) for s in speeds.split(",") if s.strip()]
    except ValueError:
        err_console.print("Erreur : --speeds attend des entiers séparés par des virgules")
        raise typer.Exit(2) from None
    with (
        handle_errors({**_FLAGS, "sentences": "--sentences", "recordings": "--recordings"}),
        context() as ctx,
    ):
        request = dictation.EvaluateRequest.of(
            sentences=sentences,
            recordings=recordings,
            speeds=rates,
            noise_snr_db=None if no_noise else noise,
            limit=limit,
            json_out=json_out,
        )
        with LazyProgress() as bars:
            result = dictation.evaluate(ctx, request, on_progress=bars.update)
    table = Table(title=f"Dictée, modèle {result.model}", title_justify="left")
    for head in ("Condition", "Phrases", "TEM", "Médicaments", "Doses", "Pathologies",
                 "Biologie", "Faits P", "Faits R", "RTF"):  # fmt: skip
        table.add_column(head, justify="left" if head == "Condition" else "right")
    for name, sc in result.conditions.items():
        recall = sc["recall"]
        table.add_row(
            escape(name),
            str(sc["items"]),
            fmt(sc["wer"]),
            fmt(recall.get("drug")),
            fmt(sc["dose_recall"]),
            fmt(recall.get("condition")),
            fmt(recall.get("measurement")),
            fmt(sc["fact_precision"]),
            fmt(sc["fact_recall"]),
            fmt(sc["rtf"]),
        )
    console.print(table)
    console.print(
        "TEM : taux d'erreur sur les mots (après les conventions de dictée, minuscules, sans "
        "accents). Rappels : part des codes de la référence retrouvés (ATC, doses, CIM-10, "
        "LOINC). RTF : secondes de reconnaissance par seconde d'audio.",
        style="dim",
    )
    for error in result.errors:
        err_console.print(f"Erreur : {escape(error)}", highlight=False)
