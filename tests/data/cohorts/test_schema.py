"""Definitions: the shipped examples load; bad ones fail in French, naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.data.cohorts import (
    compile_cohort,
    definition_hash,
    load_definition,
    parse_definition,
)
from hopia.platform.exceptions import CohortDefinitionError
from tests.conftest import REPO

EXAMPLES = sorted((REPO / "configs" / "cohorts").glob("*.yaml"))
VALID = """
name: essai
title: Essai
index: {text: {terms: [insuffisance cardiaque]}}
inclusion:
  - drug: {atc: [C03C]}
    window: {start: -30, end: 30}
"""


def test_examples_are_shipped_and_valid() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"insuffisance_cardiaque", "diabete_type2_adultes"} <= names
    for path in EXAMPLES:
        d = load_definition(path)
        assert d.name == path.stem
        assert len(compile_cohort(d).steps) >= 2


def test_heart_failure_example_combines_text_drug_and_lab() -> None:
    d = load_definition(REPO / "configs" / "cohorts" / "insuffisance_cardiaque.yaml")
    kinds = {c.kind for top in d.inclusion for c in top.walk()}
    assert d.index is not None and d.index.text is not None
    assert d.index.text.negation == "exclude"
    assert {"drug", "measurement"} <= kinds


def test_hash_ignores_layout_but_not_criteria(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text(VALID, encoding="utf-8")
    b = tmp_path / "b.yaml"
    b.write_text(
        "# commentaire\n" + VALID.replace("{start: -30, end: 30}", "{end: 30, start: -30}")
    )
    assert definition_hash(load_definition(a)) == definition_hash(load_definition(b))
    c = tmp_path / "c.yaml"
    c.write_text(VALID.replace("end: 30", "end: 31"), encoding="utf-8")
    assert definition_hash(load_definition(a)) != definition_hash(load_definition(c))


def test_json_definitions_are_read(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        '{"name": "j", "title": "J", "inclusion": [{"condition": {"concept_ids": [1]}}]}'
    )
    assert load_definition(path).inclusion[0].condition.concept_ids == [1]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (VALID.replace("atc: [C03C]", "atc: C03C"), "inclusion[0].drug.atc", "liste attendue"),
        (VALID.replace("drug:", "drugs:"), "inclusion[0].drugs", "champ inconnu"),
        (VALID.replace("start: -30", "start: 40"), "inclusion[0].window", "fenêtre vide"),
        (VALID.replace("name: essai", "name: Essai Cohorte"), "name", "format invalide"),
        (VALID.replace("title: Essai\n", ""), "title", "champ obligatoire manquant"),
        (
            VALID.replace("index: {text: {terms: [insuffisance cardiaque]}}\n", ""),
            "(racine)",
            "relative à l'événement index",
        ),
        (
            VALID.replace("terms: [insuffisance cardiaque]", "terms: [x], negation: maybe"),
            "index.text.negation",
            "valeur non permise",
        ),
        (
            VALID + "  - demographics: {age_min: 18}\n    window: {start: 0, end: 1}\n",
            "inclusion[1]",
            "window ne s'applique",
        ),
        (
            VALID + "  - drug: {atc: [C03C]}\n    condition: {cim10: [I50]}\n",
            "inclusion[1]",
            "exactement un de",
        ),
        (VALID + "  - text: {negation: include}\n", "inclusion[1].text", "au moins un de"),
        (VALID + '  - condition: {cim10: ["I50\'"]}\n', "inclusion[1].condition.cim10", "code"),
        (
            VALID + "  - measurement: {loinc: [718-7], value: {}}\n",
            "inclusion[1].measurement.value",
            "au moins un seuil",
        ),
        (
            VALID + "  - not: {drug: {atc: [C01]}, count: {min: 3, max: 2}}\n",
            "inclusion[1].not.count",
            "max (2) inférieur à min (3)",
        ),
    ],
)
def test_bad_definitions_name_file_and_field(
    tmp_path: Path, text: str, field: str, reason: str
) -> None:
    path = tmp_path / "mauvaise.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CohortDefinitionError) as info:
        load_definition(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert f"{field} :" in message
    assert reason in message


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CohortDefinitionError, match="introuvable"):
        load_definition(tmp_path / "absente.yaml")
    broken = tmp_path / "cassee.yaml"
    broken.write_text("name: [essai\ntitle: x\n", encoding="utf-8")
    with pytest.raises(CohortDefinitionError, match=r"cassee\.yaml : YAML invalide ligne"):
        load_definition(broken)
    scalar = tmp_path / "scalaire.yaml"
    scalar.write_text("juste du texte\n", encoding="utf-8")
    with pytest.raises(CohortDefinitionError, match="doit être un objet"):
        load_definition(scalar)


def test_nested_not_uses_the_yaml_key() -> None:
    d = parse_definition(
        {
            "name": "n",
            "title": "N",
            "inclusion": [
                {
                    "not": {
                        "any_of": [
                            {"condition": {"cim10": ["E10"]}},
                            {"condition": {"cim10": ["E11"]}},
                        ]
                    }
                }
            ],
        }
    )
    assert [c.kind for c in d.inclusion[0].walk()] == ["not", "any_of", "condition", "condition"]
