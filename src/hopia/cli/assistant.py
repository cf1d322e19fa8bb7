"""``hopia assistant``: evaluations of the assistant (issue 13 item 8), ``hopia assistant eval …``:
retrieval, grounding check, cohort from a question, FrenchMedMCQA, rules + NER vs LLM extraction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hopia.cli._common import console, context, err_console, handle_errors, progress_bar

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
    prompt_version: int | None = typer.Option(
        None, "--prompt-version", min=1, help="Version de la consigne (la dernière par défaut)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """Cohorte à partir d'une question : part des définitions valides et des correspondances
    exactes (mêmes patients) sur l'entrepôt configuré."""
    from hopia.services import tasks

    flags = {
        "questions": "--questions",
        "backend": "--backend",
        "model": "--model",
        "prompt_version": "--prompt-version",
    }
    with handle_errors(flags), context() as ctx:
        request = tasks.CohortEvalRequest.of(
            questions=questions, limit=limit, prompt_version=prompt_version
        )
        generate = tasks.gateway_generate(
            ctx, "cohort_from_question", backend=backend, model=model, threads=threads
        )
        result = tasks.evaluate_cohort_questions(ctx, request, generate, _show_progress)
    data = result.to_json()
    console.print(
        f"{data['prompt']}, {data['questions']} questions : "
        f"{data['valid_definitions']} définitions valides, "
        f"{data['exact_match']} correspondances exactes ({data['exact_match_rate']:.3f}), "
        f"{data['seconds']:.0f} s",
        highlight=False,
    )
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _show_progress(done: int, total: int, row: dict[str, Any]) -> None:
    """One line per question on stderr: a run takes minutes per question on a loaded machine."""
    outcome = "exacte" if row["exact"] else ("non valide" if "error" in row else "différente")
    err_console.print(f"  [{done}/{total}] {outcome} : {escape(row['question'])}", highlight=False)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@eval_app.command("retrieval")
def retrieval(
    questions: Path = typer.Option(..., "--questions", help="Questions (JSON Lines)."),
    corpus: Path = typer.Option(..., "--corpus", help="Dossier des documents."),
    k: int = typer.Option(5, "--k", min=1, max=20, help="Rang du rappel (recall@k)."),
    embedder: str | None = typer.Option(None, "--embedder", help="e5 ou use (défaut : réglage)."),
) -> None:
    """Rappel@k et MRR de la recherche BM25, dense et hybride sur un jeu de questions."""
    from hopia.services.knowledge_eval import RetrievalEvalRequest, evaluate_retrieval

    with handle_errors(), context() as ctx:
        report = evaluate_retrieval(
            ctx,
            RetrievalEvalRequest.of(questions=questions, corpus=corpus, k=k, embedder=embedder),
        )
    console.print(
        f"Modèle dense : {report.embedder} ; {report.questions} questions "
        f"(+ {report.off_topic} hors sujet) ; {report.documents} documents, "
        f"{report.passages} passages ; indexation {report.index_seconds:.1f} s"
    )
    table = Table(title="Recherche de passages")
    for column in ("Mode", "Rappel@1", f"Rappel@{report.k}", "MRR", "Médiane (ms)"):
        table.add_column(column, justify="right")
    for s in report.scores:
        table.add_row(
            s.mode,
            f"{s.recall_at_1:.3f}",
            f"{s.recall_at_k:.3f}",
            f"{s.mrr:.3f}",
            f"{s.median_ms:.1f}",
        )
    console.print(table)
    on, off = report.similarity_on_topic, report.similarity_off_topic
    console.print(
        f"Similarité du meilleur passage : questions du corpus min {min(on, default=0):.3f}, "
        f"p10 {_quantile(on, 0.1):.3f}, médiane {_quantile(on, 0.5):.3f} ; "
        f"hors sujet médiane {_quantile(off, 0.5):.3f}, max {max(off, default=0):.3f}"
    )


@eval_app.command("guard")
def guard(
    gold: list[Path] = typer.Option(
        ..., "--gold", help="Notes annotées (JSONL eds-pseudo ou corpus hopia synth), répétable."
    ),
    split: str = typer.Option(
        "heldout", "--split", help="heldout : les 20 % jamais appris ; all : toutes les notes."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Au plus N notes."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """Ce que le garde-fou laisserait partir vers un modèle non local : identifiants directs
    retrouvés dans le texte envoyé, et restitution exacte de la réponse."""
    from hopia.services.llm_eval import GuardEvalRequest, evaluate_guard

    with handle_errors({"gold": "--gold", "split": "--split"}), context() as ctx:
        request = GuardEvalRequest.of(gold=gold, split=split, limit=limit)
        with err_console.status("Pseudonymisation des notes…"):
            data = evaluate_guard(ctx, request).to_json()
    console.print(
        f"{data['notes']} notes, {data['direct_identifiers']} identifiants directs : "
        f"{data['direct_sent']} envoyés ({100 * data['direct_sent_rate']:.2f} %) ; "
        f"quasi-identifiants {data['quasi_sent']} / {data['quasi_identifiers']} ; "
        f"initiales {data['initials_sent']} / {data['initials']} ; "
        f"restitution exacte {data['restored_exactly']} / {data['notes'] - data['refused']} ; "
        f"refusées {data['refused']} ; {data['seconds']:.1f} s",
        highlight=False,
    )
    for label, n in data["sent_by_label"].items():
        console.print(f"  envoyés, {label} : {n} / {data['identifiers_by_label'][label]}")
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


_MCQA_FLAGS = {"questions": "--questions", "model": "--model", "retrieval": "--retrieval"}


@eval_app.command("mcqa")
def mcqa(
    questions: Path = typer.Option(
        ..., "--questions", help="FrenchMedMCQA : fichier JSON ou dossier (alors test.json)."
    ),
    model: str = typer.Option(
        "qwen2.5-coder-1.5b", "--model", help="Modèle embarqué fourni (hopia llm models)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Échantillon fixe de N questions (tiré avec --seed)."
    ),
    seed: int = typer.Option(13, "--seed", help="Graine du tirage de l'échantillon."),
    retrieval: str = typer.Option(
        "none", "--retrieval", help="Collection dont les passages sont ajoutés, ou none."
    ),
    k: int = typer.Option(3, "--k", min=1, max=10, help="Passages au plus par question."),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp."),
    as_json: bool = typer.Option(False, "--json", help="Résultats complets en JSON."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """Questions à choix multiples de pharmacie (FrenchMedMCQA) : taux de réponses exactes
    (EMR) et score de Hamming d'un modèle embarqué, avec ou sans passages retrouvés."""
    from hopia.services import llm_eval

    with handle_errors(_MCQA_FLAGS), context() as ctx:
        request = llm_eval.McqaEvalRequest.of(
            questions=questions, model=model, limit=limit, seed=seed, retrieval=retrieval,
            k=k, threads=threads,
        )  # fmt: skip
        with progress_bar() as bar:
            task = bar.add_task("Questions", total=None)

            def on_progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = llm_eval.evaluate_mcqa(ctx, request, on_progress=on_progress)
    data = report.to_json()
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    passages = (
        "sans passages"
        if report.retrieval is None
        else f"collection {report.retrieval}, passages pertinents pour "
        f"{data['questions_with_passages']} question(s)"
    )
    console.print(
        f"{data['model']} ({passages}) : {data['questions']} questions sur "
        f"{data['questions_in_file']} (graine {data['seed']}) ; EMR {data['emr']:.3f}, "
        f"score de Hamming {data['hamming']:.3f} ; {data['unparseable']} réponse(s) illisible(s) "
        f"(comptées fausses) ; {data['seconds_per_question']:.1f} s par question ; "
        f"{data['energy_wh']:.3f} Wh, {data['cost_eur']:.5f} EUR estimés",
        highlight=False,
    )


@eval_app.command("extraction")
def extraction(
    brat: Path = typer.Option(..., "--brat", help="Dossier BRAT de référence (QUAERO dev)."),
    qualifiers: Path | None = typer.Option(
        None, "--qualifiers", help="Phrases à qualificatifs (défaut : le jeu fourni)."
    ),
    split: str = typer.Option("test", "--split", help="Partie du jeu de qualificatifs."),
    model: list[str] = typer.Option(
        [], "--model", help="Modèle(s) embarqué(s) fourni(s) à comparer (option répétable)."
    ),
    rules: bool = typer.Option(True, "--rules/--no-rules", help="Inclure règles + NER."),
    documents: int | None = typer.Option(
        None, "--documents", min=1, help="Échantillon fixe de N documents BRAT."
    ),
    cases: int | None = typer.Option(
        None, "--cases", min=1, help="Échantillon fixe de N phrases à qualificatifs."
    ),
    seed: int = typer.Option(13, "--seed", help="Graine des échantillons."),
    threads: int = typer.Option(2, "--threads", min=1, help="Fils de llama.cpp."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Résultats en JSON."),
) -> None:
    """IA qui classe contre IA qui génère : règles + NER et modèles embarqués sur les mêmes
    textes (mentions, qualificatifs, secondes, énergie et coût par document)."""
    from hopia.services import llm_eval

    flags = {"brat": "--brat", "qualifiers": "--qualifiers", "models": "--model"}
    with handle_errors(flags), context() as ctx:
        request = llm_eval.ExtractionEvalRequest.of(
            brat=brat, qualifiers=qualifiers, split=split, models=model, rules=rules,
            documents=documents, cases=cases, seed=seed, threads=threads,
        )  # fmt: skip
        with progress_bar() as bar:
            tasks: dict[tuple[str, str], object] = {}

            def on_step(title: str, data_set: str, done: int, total: int) -> None:
                key = (title, data_set)
                if key not in tasks:
                    tasks[key] = bar.add_task(f"{title} — {data_set}", total=total)
                bar.update(tasks[key], completed=done)  # type: ignore[arg-type]

            result = llm_eval.evaluate_extraction(ctx, request, on_step=on_step)
    data = result.to_dict()
    if output is not None:
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"QUAERO : {data['quaero']['sample']} documents sur {data['quaero']['documents_in_set']} ; "
        f"qualificatifs : {data['qualifiers']['sample']} phrases ({data['qualifiers']['split']}) ; "
        f"graine {data['seed']}",
        highlight=False,
    )
    table = Table(title="Règles + NER contre modèles de langage")
    for column in (
        "Système", "P (chev.)", "R (chev.)", "P (exact)", "R (exact)", "Qualif. justes",
        "Cibles manquées", "s / doc", "Wh / doc", "EUR / doc",
    ):  # fmt: skip
        table.add_column(column, justify="right")

    def f(x: float | None) -> str:
        return "—" if x is None else f"{x:.3f}"

    for s in result.systems:
        per_doc = s.mentions.per_document()
        table.add_row(
            s.title, f(s.overlap.precision), f(s.overlap.recall), f(s.exact.precision),
            f(s.exact.recall), f(s.agreement), str(s.targets_missed), f"{per_doc['seconds']:.2f}",
            f"{per_doc['energy_wh']:.4f}", f"{per_doc['cost_eur']:.6f}",
        )  # fmt: skip
    console.print(table)
