"""``hopia nlp eval``: Hopia's pipeline and raw EDS-NLP side by side against gold mentions.

Reproduce the QUAERO figures of ``docs/benchmarks.md`` with::

    hopia nlp eval --brat ../shared/data/quaero/dev --json /tmp/quaero-dev.json
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors
from hopia.cli._progress import LazyProgress

if TYPE_CHECKING:
    from hopia.services.nlp import EvalResult

HELP = (
    "Évaluer la détection des mentions cliniques (troubles DISO, médicaments CHEM, actes PROC, "
    "anatomie ANAT, biologie LAB…) sur un corpus annoté BRAT (QUAERO) ou l'or d'un corpus "
    "hopia synth : précision, rappel et F1 par groupe en correspondance exacte et par "
    "chevauchement, totaux micro, exactitude des qualificatifs, pour Hopia et EDS-NLP brut côte "
    "à côte. Le code de sortie est 0 : c'est un rapport, pas un contrôle."
)


def eval_(
    brat: Path | None = typer.Option(
        None, "--brat", help="Dossier BRAT (paires .txt/.ann, parcouru récursivement)."
    ),
    gold: Path | None = typer.Option(
        None,
        "--gold",
        help="Or JSONL d'un corpus hopia synth (gold.jsonl, ou son dossier) ; les textes sont "
        "lus dans documents.jsonl à côté.",
    ),
    labels: str | None = typer.Option(
        None,
        "--labels",
        help="Groupes comptés dans le total micro, séparés par des virgules (défaut : "
        "DISO,CHEM,PROC pour BRAT, DISO,CHEM,LAB pour l'or hopia synth).",
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Écrire aussi tous les chiffres en JSON dans ce fichier."
    ),
    eds: bool = typer.Option(
        True, "--eds/--no-eds", help="Faire tourner aussi EDS-NLP brut pour comparaison."
    ),
    groups: str | None = typer.Option(
        None,
        "--groups",
        help="Ne compter que ces groupes de spans du pipeline Hopia (ex. clinical_ner), pour "
        "mesurer l'apport d'un composant.",
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="N'évaluer que les N premiers documents (ordre des fichiers)."
    ),
) -> None:
    """Print per-group scores of each system, qualifier accuracy and speed; exit 0."""
    from hopia.services import nlp

    with handle_errors({"json_out": "--json"}), context() as ctx:
        request = nlp.EvaluateRequest.of(
            brat=brat,
            gold=gold,
            labels=None if labels is None else _split(labels),
            json_out=json_path,
            eds=eds,
            groups=_split(groups) if groups else None,
            limit=limit,
        )
        with LazyProgress() as bars:
            result = nlp.evaluate(ctx, request, on_progress=bars.update)
    _print(result)
    if json_path is not None:
        err_console.print(f"Rapport JSON → {escape(str(json_path))}")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _print(result: EvalResult) -> None:
    from hopia.platform.scores import fmt

    info = result.to_dict()["gold"]
    console.print(
        f"Corpus : {escape(info['source'])} ({info['kind']}), {info['documents']} documents, "
        f"{info['mentions']} mentions gold (dont {info['discontinuous']} discontinues)"
    )
    if info["ignored_lines"]:
        ignored = ", ".join(f"{k} : {v}" for k, v in sorted(info["ignored_lines"].items()))
        console.print(f"Lignes BRAT non évaluées (relations, attributs…) : {ignored}", style="dim")
    console.print(result.score_table("exact"))
    console.print(result.score_table("overlap"))
    console.print(result.match_rules, style="dim")
    table = result.qualifier_table()
    if table is not None:
        console.print(table)
        console.print(
            "exact. : part des mentions trouvées dont le qualificatif prédit est celui de l'or ; "
            "R + : part des qualificatifs positifs de l'or retrouvés.",
            style="dim",
        )
    for s in result.systems:
        rate = s.docs_per_second
        speed = "—" if rate is None else f"{rate:.1f}".replace(".", ",")
        console.print(f"Vitesse {escape(s.title)} : {speed} documents/s (un processus)")
    if result.gold.kind == "brat":
        scored = "+".join(result.scored_labels)
        for s in result.systems:
            parts = []
            for name, t in result.targets(s).items():
                verdict = {True: "atteint", False: "non atteint", None: "non évaluable"}[t["met"]]
                label = {"recall": "rappel", "precision": "précision"}[name]
                parts.append(f"{label} {fmt(t['value'])} ≥ {fmt(t['threshold'], 2)} {verdict}")
            console.print(
                f"Cibles {escape(s.title)} ({scored}, chevauchement) : " + " ; ".join(parts)
            )
