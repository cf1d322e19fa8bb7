"""hopia.posology with numbers in words (issue 11, finding 1: "pendant dix jours" raised
ValueError and lost the document) and with numbers no clinician writes (runs of digits too long
for int(), which must be skipped, not crash)."""

from __future__ import annotations

from typing import Any

import edsnlp
import pytest

import hopia.data.nlp.pipes  # noqa: F401  (registers the hopia.* factories)


@pytest.fixture(scope="module")
def nlp() -> Any:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("eds.drugs", name="drugs", config={"span_setter": {"drug": True}})
    nlp.add_pipe("hopia.labs", name="labs")
    nlp.add_pipe("hopia.posology", name="posology")
    return nlp


def reading(nlp: Any, text: str) -> dict[str, Any]:
    (span,) = nlp(text).spans["drug"]
    return span._.attributes


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("amoxicilline 1 g x3/j pendant dix jours", 10),
        ("amoxicilline 1 g x3/j pendant Dix jours", 10),
        ("amoxicilline 1 g x3/j pendant quinze jours", 15),
        ("amoxicilline 1 g x3/j pendant vingt et un jours", 21),
        ("amoxicilline 1 g x3/j pendant quatre-vingt-dix jours", 90),
        ("amoxicilline 1 g x3/j pendant une dizaine de jours", 10),
        ("amoxicilline 1 g x3/j durant une quinzaine de jours", 15),
        ("amoxicilline 1 g x3/j pendant trois semaines", 21),
        ("amoxicilline 1 g x3/j pendant six mois", 180),
        ("amoxicilline 1 g x3/j pendant deux et demi jours", 2),
        ("amoxicilline 1 g x3/j pendant 1,5 mois", 45),
    ],
)
def test_durations_in_words(nlp: Any, text: str, days: int) -> None:
    assert reading(nlp, text)["duration_days"] == days


@pytest.mark.parametrize(
    ("text", "frequency", "per_day"),
    [
        ("morphine 10 mg toutes les douze heures", "2/j", 2.0),
        ("morphine 10 mg toutes les huit heures", "3/j", 3.0),
        ("paracétamol 1 g quatre fois par jour", "4/j", 4.0),
        ("alendronate 70 mg une fois par semaine", "1/sem", round(1 / 7, 4)),
        ("méthotrexate 10 mg toutes les deux semaines", "1/2sem", round(1 / 14, 4)),
    ],
)
def test_frequencies_in_words(nlp: Any, text: str, frequency: str, per_day: float) -> None:
    r = reading(nlp, text)
    assert (r["frequency"], r["per_day"]) == (frequency, per_day)


@pytest.mark.parametrize(
    "text",
    [
        "amoxicilline " + "9" * 5000 + " mg",  # a dose int()/float() cannot read sensibly
        "amoxicilline 1 g pendant " + "9" * 5000 + " jours",
        "amoxicilline 1 g " + "9" * 5000 + " jours",
        "amoxicilline 1 g de J" + "1" * 5000 + " à J" + "2" * 5000,
        "amoxicilline 1 g toutes les " + "9" * 400 + " heures",
        "amoxicilline 1 g toutes les 0 heures pendant zéro jours",
    ],
)
def test_numbers_nobody_writes_are_skipped_not_fatal(nlp: Any, text: str) -> None:
    r = reading(nlp, text)
    assert r["dose"] in (None, 1)
    assert r["duration_days"] in (None, 0)


@pytest.mark.parametrize(
    ("text", "dose", "unit"),
    [
        ("insuline glargine quarante unités le soir", 40, "UI"),
        ("paracétamol deux comprimés matin et soir", 2, "cp"),
        ("salbutamol Six bouffées", 6, "bouffée"),
        ("insuline glargine vingt-quatre UI", 24, "UI"),
    ],
)
def test_doses_in_words(nlp: Any, text: str, dose: float, unit: str) -> None:
    r = reading(nlp, text)
    assert (r["dose"], r["dose_unit"]) == (dose, unit)


def test_words_that_are_no_dose_stay_none(nlp: Any) -> None:
    # "une fois", "dix jours": no unit of dose after the number
    r = reading(nlp, "amoxicilline une fois par jour pendant dix jours")
    assert r["dose"] is None
    assert (r["per_day"], r["duration_days"]) == (1.0, 10)


@pytest.mark.parametrize(
    ("text", "dose", "strength"),
    [
        ("paracétamol 2 cp de 500 mg trois fois par jour", [2, "cp"], [500, "mg"]),
        ("amoxicilline 1 gélule à 500 mg matin et soir", [1, "gélule"], [500, "mg"]),
        ("lévothyroxine 1 cp à 75 µg le matin", [1, "cp"], [75, "µg"]),
    ],
)
def test_the_strength_of_a_counted_form(
    nlp: Any, text: str, dose: list[Any], strength: list[Any]
) -> None:
    r = reading(nlp, text)
    assert [r["dose"], r["dose_unit"]] == dose
    assert r["strength"] == strength


def test_a_mass_has_no_strength(nlp: Any) -> None:
    # "1 g de ..." is a mass, not a count of forms; "doses" are left as they were
    r = reading(nlp, "paracétamol 1 g de 8 h en 8 h")
    assert "strength" not in r and (r["dose"], r["dose_unit"]) == (1, "g")
