"""``hopia nlp eval``: Hopia's pipeline and raw EDS-NLP side by side against gold mentions.

Reproduce the QUAERO figures of ``docs/benchmarks.md`` with::

    hopia nlp eval --brat ../shared/data/quaero/dev --json /tmp/quaero-dev.json

``hopia nlp eval-qualifiers``: per-qualifier precision/recall/F1 on the shipped French
qualifier set (or another JSONL of the same format), Hopia and raw EDS-NLP side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from hopia.cli._common import console, context, err_console, handle_errors
from hopia.cli._progress import LazyProgress

if TYPE_CHECKING:
    from hopia.services.nlp import E3cEval, EvalResult, QualifierEval

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


HELP_QUALIFIERS = (
    "Évaluer les qualificatifs (négation, hypothèse, famille, antécédent, résultat d'examen) "
    "sur des phrases annotées dont la mention cible est donnée : précision, rappel et F1 par "
    "qualificatif et par partie du jeu (dev, test), pour Hopia et EDS-NLP brut côte à côte. "
    "Par défaut, le jeu français livré avec Hopia (325 phrases). Le code de sortie est 0 : "
    "c'est un rapport, pas un contrôle."
)


def eval_qualifiers(
    file: Path | None = typer.Option(
        None,
        "--file",
        help="JSONL de phrases annotées (défaut : le jeu français livré, qualifiers_fr.jsonl).",
    ),
    split: str | None = typer.Option(
        None, "--split", help="N'évaluer qu'une partie du jeu (dev ou test)."
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Écrire aussi tous les chiffres en JSON dans ce fichier."
    ),
    eds: bool = typer.Option(
        True, "--eds/--no-eds", help="Faire tourner aussi EDS-NLP brut pour comparaison."
    ),
) -> None:
    """Print per-qualifier P/R/F1 of each system, per split; exit 0."""
    from hopia.services import nlp

    with (
        handle_errors({"json_out": "--json", "file": "--file", "split": "--split"}),
        context() as ctx,
    ):
        request = nlp.EvaluateQualifiersRequest.of(
            file=file, split=split, eds=eds, json_out=json_path
        )
        with LazyProgress() as bars:
            result = nlp.evaluate_qualifiers(ctx, request, on_progress=bars.update)
    _print_qualifiers(result)
    if json_path is not None:
        err_console.print(f"Rapport JSON → {escape(str(json_path))}")


_QUALIFIER_LABELS = {
    "negation": "négation",
    "hypothesis": "hypothèse",
    "family": "famille",
    "history": "antécédent",
    "result": "résultat",
}


def _print_qualifiers(result: QualifierEval) -> None:
    from rich import box
    from rich.table import Table

    from hopia.platform.scores import fmt

    info = result.to_dict()
    console.print(
        f"Jeu : {escape(info['source'])}, {info['sentences']} phrases, {info['cases']} mentions "
        "cibles"
    )
    parts = {"dev": "dev", "test": "test", "": "sans partie"}
    for split in [*result.splits, None]:
        if split is None and len(result.splits) < 2:
            continue  # one split: its table is the total
        name = "tout le jeu" if split is None else f"partie {parts.get(split, split)}"
        table = Table(
            title=f"Qualificatifs, {name} ({len(result.subset(split))} mentions)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0, 0, 1),
            pad_edge=False,
        )
        table.add_column("Qualificatif", no_wrap=True)
        table.add_column("Or +", justify="right")
        for key in result.predictions:
            table.add_column(f"{escape(result.titles.get(key, key))}\nPréd. +", justify="right")
            for head in ("P", "R", "F1"):
                table.add_column(head, justify="right")
        scores = {key: result.scores(key, split) for key in result.predictions}
        for q, label in _QUALIFIER_LABELS.items():
            cells: list[str] = []
            gold = 0
            for key in result.predictions:
                sc = scores[key][q]
                gold = sc.gold
                cells += [str(sc.predicted), fmt(sc.precision), fmt(sc.recall), fmt(sc.f1)]
            table.add_row(label, str(gold), *cells)
        console.print(table)
    console.print(
        "P : part des qualificatifs prédits qui sont dans l'or ; R : part des qualificatifs de "
        "l'or retrouvés ; résultat : bonne valeur (négatif, positif, normal, anormal).",
        style="dim",
    )


HELP_E3C = (
    "Évaluer la négation (et l'hypothèse) des mentions que Hopia trouve dans des cas cliniques "
    "écrits ailleurs : le corpus E3C (couche 1, français, annoté à la main ; non livré, "
    "licence Creative Commons, usage non commercial). Chaque mention trouvée est alignée sur "
    "l'événement de l'or qu'elle recouvre le "
    "plus, puis sa négation est comparée à la polarité de l'événement. Les documents sont "
    "partagés une fois pour toutes en dev et test ; les erreurs ne se lisent que sur dev. Le "
    "code de sortie est 0 : c'est un rapport, pas un contrôle."
)


def eval_e3c(
    corpus: Path = typer.Option(
        ...,
        "--corpus",
        help="Dossier des fichiers XMI de la couche 1 française d'E3C "
        "(data_annotation/French/layer1).",
    ),
    split: str | None = typer.Option(
        None, "--split", help="N'évaluer qu'une partie des documents (dev ou test)."
    ),
    errors: Path | None = typer.Option(
        None, "--errors", help="Écrire les erreurs de négation de Hopia en JSONL (dev seulement)."
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Écrire aussi tous les chiffres en JSON dans ce fichier."
    ),
    eds: bool = typer.Option(
        True, "--eds/--no-eds", help="Faire tourner aussi EDS-NLP brut pour comparaison."
    ),
) -> None:
    """Print negation and hedging P/R/F1 per system and split; exit 0."""
    from hopia.services import nlp

    with (
        handle_errors(
            {"corpus": "--corpus", "split": "--split", "errors_out": "--errors",
             "json_out": "--json"}
        ),
        context() as ctx,
    ):  # fmt: skip
        request = nlp.EvaluateE3cRequest.of(
            corpus=corpus, split=split, eds=eds, errors_out=errors, json_out=json_path
        )
        with LazyProgress() as bars:
            result = nlp.evaluate_e3c(ctx, request, on_progress=bars.update)
    _print_e3c(result)
    if json_path is not None:
        err_console.print(f"Rapport JSON → {escape(str(json_path))}")
    if errors is not None:
        err_console.print(f"Erreurs (dev) → {escape(str(errors))}")


def _print_e3c(result: E3cEval) -> None:
    from rich import box
    from rich.table import Table

    from hopia.platform.scores import fmt

    info = result.to_dict()
    console.print(
        f"Corpus : {escape(info['source'])}, {info['documents']} documents, "
        f"{info['gold_negated_events']} événements niés dans l'or"
    )
    table = Table(
        title="Négation et hypothèse des mentions alignées sur un événement de l'or",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )
    for head in ("Système", "Partie", "Qualificatif", "Mentions", "Or +", "Préd. +"):
        table.add_column(head, justify="left" if head in {"Système", "Partie"} else "right")
    for head in ("P", "R", "F1"):
        table.add_column(head, justify="right")
    labels = {"all": "tout", "dev": "dev", "test": "test"}
    for per in info["systems"].values():
        # a part with no mention in it was not scored (``--split``): no row of dashes for it
        scored = [
            p
            for p in ("dev", "test")
            if any(per[p][q]["gold"] + per[p][q]["predicted"] for q in per[p])
        ]
        parts = scored if len(scored) == 1 else ["all", *scored]
        for part in parts:
            label = labels[part]
            for q, q_label in (("negation", "négation"), ("hypothesis", "hypothèse")):
                sc = per[part][q]
                table.add_row(
                    escape(per["title"]),
                    label,
                    q_label,
                    str(per["aligned_mentions"]) if part == parts[0] else "",
                    str(sc["gold"]),
                    str(sc["predicted"]),
                    fmt(sc["precision"]),
                    fmt(sc["recall"]),
                    fmt(sc["f1"]),
                )
    console.print(table)
    console.print(
        "Mentions : mentions trouvées qui recouvrent un événement annoté ; les autres ne sont "
        "pas comptées. Hypothèse : comparée aux modalités HEDGED et HYPOTHETICAL d'E3C.",
        style="dim",
    )
