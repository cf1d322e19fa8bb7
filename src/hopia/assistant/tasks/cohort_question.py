"""Cohort from a question: the model writes a definition in Hopia's cohort DSL (docs/cohorts.md),
validated here by the DSL's schema and returned for the user to read. The task NEVER runs it:
running is the user's explicit next step (``hopia cohort run``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, Field

from hopia.assistant.grounding import SourceText
from hopia.assistant.tasks.base import Post, Task
from hopia.platform.exceptions import HopiaError


class CohortQuestionInputs(BaseModel):
    question: str = Field(min_length=5, max_length=1000)


# The DSL's format, shown by every prompt version. v1 and v2 add CODES_V2 after it (with
# creatinine as LOINC 2160-0, which the warehouse does not use); v3 has its own code table.
DSL_FORMAT = """\
format: 1 ; name: identifiant (minuscules, chiffres, _ et -) ; version: "1" ; title: titre.
reference_date: AAAA-MM-JJ (date de calcul de l'âge quand il n'y a pas d'index).
inclusion: liste de critères, tous requis ; exclusion: liste, un seul suffit à exclure.
Un critère a un « label » et UNE de ces clés :
- demographics: {age_min: N, age_max: N, sex: [M] ou [F]}  (âge en années, bornes incluses ;
  « plus de 65 ans » : age_min: 66)
- condition: {cim10: [codes CIM-10]}  (les sous-codes sont inclus)
- drug: {atc: [codes ATC ou préfixes]}
- measurement: {loinc: [codes LOINC], value: {gt: N, ge: N, lt: N, le: N}}
- text: {terms: ["mention dans les comptes rendus"]}  (mentions affirmées seulement)
- visit: {types: [inpatient, outpatient, emergency]}
- any_of: [critères] (OU) ; all_of: [critères] (ET) ; not: critère"""

CODES_V2 = """\
Codes utiles : diabète de type 2 E11, type 1 E10, insuffisance cardiaque I50, HTA I10,
fibrillation auriculaire I48, BPCO J44, insuffisance rénale chronique N18 ; metformine
A10BA02, insulines A10A, diurétiques de l'anse C03C, bêtabloquants C07, anticoagulants B01A ;
HbA1c LOINC 4548-4, créatinine 2160-0, NT-proBNP 33762-6, BNP 42637-9."""

DSL = f"{DSL_FORMAT}\n{CODES_V2}"


EXAMPLE = """\
format: 1
name: ic_diuretique
version: "1"
title: Insuffisance cardiaque sous diurétique de l'anse, adultes
reference_date: 2025-01-01
inclusion:
  - label: Adulte
    demographics: {age_min: 18}
  - label: Insuffisance cardiaque (code)
    condition: {cim10: [I50]}
  - label: Diurétique de l'anse
    drug: {atc: [C03C]}
exclusion:
  - label: Dialyse
    condition: {cim10: [Z49]}"""

# Examples of prompt v2: none of them is a question of the evaluation set
# (bench/assistant/cohort_questions.yaml), so that the set measures the translation.
EXAMPLES = """\
Question : enfants asthmatiques sous salbutamol
```yaml
format: 1
name: asthme_enfant_salbutamol
version: "1"
title: Enfants asthmatiques sous salbutamol
reference_date: 2025-01-01
inclusion:
  - label: Moins de 18 ans
    demographics: {age_max: 17}
  - label: Asthme
    condition: {cim10: [J45]}
  - label: Salbutamol
    drug: {atc: [R03AC02]}
```

Question : patients avec une CRP supérieure à 100 mg/L, sans cancer
```yaml
format: 1
name: crp_sup_100_sans_cancer
version: "1"
title: CRP supérieure à 100 mg/L, sans cancer
reference_date: 2025-01-01
inclusion:
  - label: CRP > 100 mg/L
    measurement: {loinc: [1988-5], value: {gt: 100}}
exclusion:
  - label: Cancer
    condition: {cim10_prefixes: [C]}
```"""

# Examples of prompt v3: still outside both evaluation sets (cohort_questions.yaml and
# cohort_questions_heldout.yaml). The v2 example's « sans cancer » used a bare chapter prefix
# (C), which the 1.5B model copied as « I » or « E »; v3 shows an exclusion by codes, and a
# text mention with a drug exclusion.
EXAMPLES_V3 = """\
Question : enfants asthmatiques sous salbutamol
```yaml
format: 1
name: asthme_enfant_salbutamol
version: "1"
title: Enfants asthmatiques sous salbutamol
reference_date: 2025-01-01
inclusion:
  - label: Moins de 18 ans
    demographics: {age_max: 17}
  - label: Asthme
    condition: {cim10: [J45]}
  - label: Salbutamol
    drug: {atc: [R03AC02]}
```

Question : patients avec une CRP supérieure à 100 mg/L, sans pneumopathie
```yaml
format: 1
name: crp_sup_100_sans_pneumopathie
version: "1"
title: CRP supérieure à 100 mg/L, sans pneumopathie
reference_date: 2025-01-01
inclusion:
  - label: CRP > 100 mg/L
    measurement: {loinc: [1988-5], value: {gt: 100}}
exclusion:
  - label: Pneumopathie
    condition: {cim10: [J18]}
```

Question : patients de 75 ans ou plus dont un compte rendu mentionne une chute, sans anticoagulant
```yaml
format: 1
name: chute_75_sans_anticoagulant
version: "1"
title: Chute mentionnée, 75 ans ou plus, sans anticoagulant
reference_date: 2025-01-01
inclusion:
  - label: 75 ans ou plus
    demographics: {age_min: 75}
  - label: Chute mentionnée dans un compte rendu
    text: {terms: [chute]}
exclusion:
  - label: Anticoagulant
    drug: {atc: [B01A]}
```"""

_FENCE = re.compile(r"```(?:ya?ml)?\s*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_yaml(text: str) -> str:
    """The YAML of a model's answer: inside a ``` fence when there is one, else the answer."""
    m = _FENCE.search(text)
    return (m.group(1) if m else text).strip()


def validate(text: str) -> tuple[Any, str]:
    """The definition (validated) and its YAML; raises HopiaError with a French message."""
    from hopia.data.cohorts.load import parse_definition

    body = extract_yaml(text)
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ligne {mark.line + 1}" if mark else ""
        raise HopiaError(f"le modèle a produit un YAML invalide{where}") from exc
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        # the name is an identifier, not a criterion: "ic_bêtabloquant" or "NT-proBNP" are
        # made one rather than refused; the YAML shown says the name used
        name = slug(data["name"])
        if name != data["name"]:
            data["name"] = name
            body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).strip()
    definition = parse_definition(data, "<réponse du modèle>")
    return definition, body


def slug(name: str) -> str:
    """``name`` as a definition identifier: lower case, no accents, ``_`` for the rest."""
    plain = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9_-]+", "_", plain).strip("_-")[:80] or "cohorte"


def _variables(
    inputs: CohortQuestionInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> dict[str, str]:
    # every version's variables: v1 has one example, v2 two (and more rules), v3 its own code
    # table (in its file) after the format, and three examples
    return {
        "question": inputs.question.strip(),
        "dsl": DSL,
        "dsl_format": DSL_FORMAT,
        "example": EXAMPLE,
        "examples": EXAMPLES,
        "examples_with_exclusions": EXAMPLES_V3,
    }


def _post(
    text: str, inputs: CohortQuestionInputs, sources: Sequence[SourceText], data: dict[str, Any]
) -> Post:
    try:
        definition, body = validate(text)
    except HopiaError as exc:
        return Post(
            text.strip(),
            {"definition": None, "ran": False},
            error=f"définition non valide, non exécutée : {exc.message}",
        )
    steps = [c.label or "" for c in definition.inclusion] + [
        f"exclusion : {c.label or ''}" for c in definition.exclusion
    ]
    return Post(
        body,
        {"definition": body, "name": definition.name, "steps": steps, "ran": False},
    )


COHORT_FROM_QUESTION = Task(
    name="cohort_from_question",
    title="Cohorte à partir d'une question",
    action="task.cohort_from_question",
    inputs=CohortQuestionInputs,
    variables=_variables,
    postprocess=_post,
    grounded=False,  # a definition, not prose: validated by the schema instead
    max_tokens=500,
    needs="question",
)
