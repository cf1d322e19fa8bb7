"""The task framework without a warehouse: versioned prompts, every task without a model (says
so, keeps its sources), the post-processing checks (cohort definition validated and never run,
article numbers, quiz passages) and, with SmolLM2 through real llama.cpp, the plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.assistant import tasks
from hopia.assistant.grounding import SourceText
from hopia.assistant.llm.base import ChatMessage, Completion, Usage
from hopia.assistant.tasks import article, cohort_question, prompts, teaching
from hopia.platform.exceptions import ConfigError, HopiaError

PROTOCOL = (
    "Protocole de prévention des chutes.\n"
    "Tout patient de plus de 75 ans est évalué avec l'échelle de Morse dans les 24 heures "
    "suivant l'admission.\n"
    "Un score supérieur à 45 impose la pose d'un bracelet jaune et un lit en position basse."
)
RESULTS = {
    "cohort": {"name": "ic", "title": "Insuffisance cardiaque traitée"},
    "attrition": [
        {"step": 0, "label": "Population", "kind": "population", "count": 120, "excluded": None},
        {"step": 1, "label": "Adulte", "kind": "inclusion", "count": 87, "excluded": 33},
    ],
    "characterisation": {
        "persons": 87,
        "sex": {"F": 40, "M": 47},
        "age": {"bins": {"18-44": "<10", "65+": 52}, "median": 71.0},
    },
}


def _scripted(answer: str) -> tasks.Generate:
    """A generate function that answers ``answer``: the seam the gateway fills, here to test
    what the tasks do with a given model text (the model itself is tested below)."""

    def generate(messages: list[ChatMessage]) -> Completion:
        assert messages[0].role == "system" and messages[1].role == "user"
        return Completion(answer, Usage(10, 10), "scripted", "test")

    return generate


def test_every_task_has_a_versioned_prompt() -> None:
    for task in tasks.TASKS.values():
        prompt = task.prompt
        assert prompt.label == f"{task.name}.v{prompts.versions(task.name)[-1]}"
        assert prompts.versions(task.name)[0] == 1  # older versions stay, for the record
        assert prompt.variables
        assert task.action == f"task.{task.name}"


def test_a_prompt_and_its_variables_cannot_drift() -> None:
    text = "---\ntask: x\nversion: 1\nvariables: [a]\n---\n## system\nS {{b}}\n## user\nU {{a}}\n"
    with pytest.raises(ConfigError, match="variables de l'en-tête"):
        prompts.parse(text, "x.v1.md")
    ok = prompts.parse(text.replace("[a]", "[a, b]"), "x.v1.md")
    system, user = ok.messages({"a": "1", "b": "2"})
    assert (system.content, user.content) == ("S 2", "U 1")
    with pytest.raises(ConfigError, match="manquante"):
        ok.messages({"a": "1"})


@pytest.mark.parametrize("name", sorted(tasks.TASKS))
def test_every_task_without_a_model_says_so_and_keeps_its_sources(name: str) -> None:
    task = tasks.get(name)
    inputs = {
        "patient": {"person_id": 3},
        "visit": {"visit_id": 5},
        "cohort": {"cohort": "ic"},
        "question": {"question": "patients diabétiques de plus de 65 ans"},
        "text": {"text": PROTOCOL},
    }[task.needs]
    sources = [SourceText("note:1", "Pas de fièvre. Metformine 1000 mg.", "CR 2024-01-02")]
    result = tasks.run(
        task,
        task.inputs(**inputs),
        sources,
        generate=None,
        structured={"results": RESULTS},
    )
    assert not result.generated and result.text == "" and result.model is None
    assert result.message == tasks.NO_MODEL
    assert "Aucun modèle de langage n'est configuré" in result.message
    assert result.sources == tuple(sources)
    assert result.structured["results"] == RESULTS  # the structured inputs are still shown
    assert result.prompt_version == tasks.get(name).prompt.label


def test_unknown_task_is_a_french_error() -> None:
    with pytest.raises(HopiaError, match="tâche inconnue"):
        tasks.get("horoscope")


# -- cohort from a question ----------------------------------------------------------------------

VALID = """Voici la définition :
```yaml
format: 1
name: dt2_plus_65
version: "1"
title: Diabétiques de type 2 de plus de 65 ans
reference_date: 2025-01-01
inclusion:
  - label: Plus de 65 ans
    demographics: {age_min: 66}
  - label: Diabète de type 2
    condition: {cim10: [E11]}
```"""


def test_cohort_definition_from_the_model_is_validated_and_not_run() -> None:
    task = tasks.get("cohort_from_question")
    inputs = task.inputs(question="patients diabétiques de type 2 de plus de 65 ans")
    result = tasks.run(task, inputs, [], generate=_scripted(VALID))
    assert result.generated and result.error is None
    assert result.text.startswith("format: 1") and "```" not in result.text
    assert result.structured["name"] == "dt2_plus_65"
    assert result.structured["steps"] == ["Plus de 65 ans", "Diabète de type 2"]
    assert result.structured["ran"] is False


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("format: 1\nname: [oops\n", "YAML invalide"),
        ("format: 1\nname: x\nversion: '1'\ninclusion:\n  - demographics: {age: 3}\n", "invalide"),
        ("Je ne sais pas.", "objet"),
    ],
)
def test_invalid_definition_from_the_model_is_a_french_error(answer: str, why: str) -> None:
    task = tasks.get("cohort_from_question")
    result = tasks.run(task, task.inputs(question="une question"), [], generate=_scripted(answer))
    assert result.error is not None and result.error.startswith("définition non valide")
    assert why in result.error
    assert result.structured == {"definition": None, "ran": False}


# -- article draft -------------------------------------------------------------------------------


def test_article_numbers_come_from_the_tables() -> None:
    task = tasks.get("article_draft")
    prose = (
        "Méthodes. Sur {attrition.0.count} patients, {attrition.1.excluded} ont été exclus. "
        "Résultats. La cohorte compte {persons} patients (âge médian {age.median} ans), "
        "dont {sex.F} femmes."
    )
    result = tasks.run(
        task,
        task.inputs(cohort="ic"),
        [],
        generate=_scripted(prose),
        structured={"results": RESULTS},
    )
    assert "Sur 120 patients, 33 ont été exclus" in result.text
    assert "(âge médian 71 ans), dont 40 femmes" in result.text
    assert result.flags == ()


def test_article_numbers_check_catches_a_changed_or_typed_number() -> None:
    table = article.cells(RESULTS)
    allowed = [v for v, _ in table.values()]
    assert article.numbers_check("La cohorte compte 87 patients.", allowed) == []
    (flag,) = article.numbers_check("La cohorte compte 88 patients.", allowed)
    assert (flag.text, flag.reason) == ("88", "number")
    # a number the model typed instead of a placeholder is flagged too, an unknown placeholder too
    task = tasks.get("article_draft")
    result = tasks.run(
        task,
        task.inputs(cohort="ic"),
        [],
        generate=_scripted("Il y a 95 patients et {persons.total} en tout."),
        structured={"results": RESULTS},
    )
    assert [(f.text, f.message) for f in result.flags] == [
        ("95", "nombre absent des tableaux"),
        ("{persons.total}", "marqueur inconnu des tableaux"),
    ]


# -- quiz ----------------------------------------------------------------------------------------


def test_quiz_questions_cite_their_passage_by_offsets() -> None:
    answer = (
        '[{"question": "Quelle échelle ?", "choix": ["Morse", "Braden"], "reponse": 0, '
        '"passage": "évalué avec l’échelle de Morse dans les 24 heures"},'
        ' {"question": "Couleur ?", "choix": ["rouge", "jaune"], "reponse": 1, '
        '"passage": "bracelet vert obligatoire"}]'
    )
    task = tasks.get("quiz")
    source = SourceText("texte", PROTOCOL)
    result = tasks.run(task, task.inputs(text=PROTOCOL), [source], generate=_scripted(answer))
    first, second = result.structured["questions"]
    assert PROTOCOL[first["start"] : first["end"]] == (
        "évalué avec l'échelle de Morse dans les 24 heures"
    )
    assert second["start"] is None
    (flag,) = result.flags
    assert flag.reason == "passage" and "question 2" in flag.message
    assert "[passage introuvable]" in result.text


def test_quiz_locate_ignores_case_accents_and_spacing() -> None:
    start, end = teaching.locate("UN SCORE superieur  a 45", PROTOCOL) or (0, 0)
    assert PROTOCOL[start:end] == "Un score supérieur à 45"
    assert teaching.locate("score", PROTOCOL) is None  # too short to cite


def test_a_model_name_that_is_not_an_identifier_is_made_one() -> None:
    definition, body = cohort_question.validate(VALID.replace("dt2_plus_65", "DT2 âgés > 65"))
    assert definition.name == "dt2_ages_65" and "name: dt2_ages_65" in body
    assert cohort_question.slug("ic_bêtabloquant") == "ic_betabloquant"


def test_older_prompt_versions_still_load() -> None:
    v1 = prompts.load("cohort_from_question", 1)
    assert v1.label == "cohort_from_question.v1" and "examples" not in v1.variables
    assert "examples" in prompts.load("cohort_from_question", 2).variables
    assert "examples_with_exclusions" in prompts.load("cohort_from_question").variables


def test_a_run_can_name_an_older_prompt_version() -> None:
    """Evaluations measure v2 and v3 side by side: the version asked is the one sent."""
    task = tasks.get("cohort_from_question")
    sent: list[str] = []

    def generate(messages: list[ChatMessage]) -> Completion:
        sent.append(messages[0].content)
        return Completion(VALID, Usage(10, 10), "scripted", "test")

    inputs = task.inputs(question="patients avec une créatinine supérieure à 150 µmol/L")
    old = tasks.run(task, inputs, [], generate=generate, prompt_version=2)
    new = tasks.run(task, inputs, [], generate=generate)
    assert (old.prompt_version, new.prompt_version) == (
        "cohort_from_question.v2",
        "cohort_from_question.v3",
    )
    assert "créatinine 2160-0" in sent[0]  # v2 as it was measured
    assert "créatinine 14682-9 (µmol/L)" in sent[1] and "2160-0" not in sent[1]
    with pytest.raises(HopiaError):
        tasks.run(task, inputs, [], generate=generate, prompt_version=99)


def test_v3_lab_codes_are_those_the_labs_pipe_writes() -> None:
    """Each LOINC code (and unit) of the v3 code table is one Hopia's labs pipe gives the
    warehouse: a code the warehouse never holds would select nobody."""
    import re

    from hopia.data.nlp.pipes.labs.analytes import load_analytes

    by_loinc = {a.loinc: a for a in load_analytes().values()}
    system = prompts.load("cohort_from_question", 3).system
    table = system[system.index("- LOINC") : system.index("Exemples")]
    given = re.findall(r"(\d{1,5}-\d) \(([^)]+)\)", table)
    assert len(given) >= 8, table
    for loinc, unit in given:
        assert loinc in by_loinc, loinc
        assert by_loinc[loinc].unit == unit, (loinc, unit, by_loinc[loinc].unit)


def test_cohort_answer_yaml_is_taken_from_its_fence() -> None:
    assert cohort_question.extract_yaml("bla\n```yaml\na: 1\n```\nfin") == "a: 1"
    assert cohort_question.extract_yaml("a: 1") == "a: 1"


# -- with a real model (SmolLM2-135M through llama.cpp) -----------------------------------------


@pytest.mark.slow
def test_plumbing_with_the_embedded_plumbing_model(tmp_path: Path) -> None:
    from tests.assistant.llm_helpers import (
        PLUMBING_MODEL,
        require_llama,
        require_model_packages,
    )

    require_llama()
    require_model_packages()
    import os

    from hopia.assistant.llm.registry import packaged_backend

    backend = packaged_backend(PLUMBING_MODEL, Path(os.environ["HOPIA_CACHE_DIR"]), n_ctx=2048)

    def generate(messages: list[ChatMessage]) -> Completion:
        return backend.complete(messages, max_tokens=48, temperature=0.0)

    task = tasks.get("cohort_from_question")
    result = tasks.run(
        task, task.inputs(question="patients de plus de 65 ans"), [], generate=generate
    )
    assert result.generated and result.model == PLUMBING_MODEL
    assert result.prompt_version == "cohort_from_question.v3"
    # a 135M model rarely writes a valid definition: whatever it wrote, it is validated, not run
    assert result.structured["ran"] is False
    assert (result.error is None) == (result.structured["definition"] is not None)
