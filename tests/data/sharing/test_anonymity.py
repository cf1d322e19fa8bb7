"""The ladder on hand-made populations: generalisation, suppression, l-diversity, refusal."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hopia.data.sharing import plan
from hopia.data.sharing.anonymity import (
    age_label,
    floor_levels,
    generalise_diagnoses,
    representative_birth_year,
)
from hopia.data.sharing.quasi import Population
from hopia.platform.exceptions import ShareRefusedError, SharingError


def population(rows: list[tuple], diagnoses: list[tuple] = ()) -> Population:
    """rows: (age, sex, zip, sensitive); ids from 1."""
    persons = pd.DataFrame(
        [
            {
                "person_id": i,
                "age": a,
                "sex": s,
                "zip": z,
                "state": None,
                "country": None,
                "sensitive": v,
            }
            for i, (a, s, z, v) in enumerate(rows, 1)
        ]
    )
    diag = pd.DataFrame(list(diagnoses), columns=["person_id", "vocabulary", "code"])
    return Population(persons, diag.astype({"person_id": "int64"}), 2025)


def chapters(n: int) -> list[str]:
    return ["IX" if i % 2 else "IV" for i in range(n)]


def test_age_ladder() -> None:
    assert [age_label(47, level) for level in range(4)] == ["47", "45-49", "40-49", "40-49"]
    assert [age_label(93, level) for level in range(4)] == ["93", "90-94", "90-99", "≥ 90"]
    assert representative_birth_year(47, 1, 2025) == 2025 - 47
    assert representative_birth_year(93, 3, 2025) == 2025 - 90


def test_k_reached_by_generalising_age_and_postcode() -> None:
    # Ten people aged 40-49 in five Paris postcodes: no two share an exact age and postcode.
    ages = [40, 41, 42, 43, 44, 45, 46, 47, 48, 49]
    zips = ["75001", "75002", "75003", "75004", "75005"] * 2
    pop = population([(a, "F", z, c) for a, z, c in zip(ages, zips, chapters(10), strict=True)])
    result = plan(pop, k=5, l=2)
    assert result.report.before.k == 1
    assert result.report.reached and result.report.after.k >= 5
    assert result.levels["postcode"] == 1  # department 75
    assert result.levels["age"] == 1  # 40-44 and 45-49: five each
    assert result.report.after.classes == 2
    assert result.suppressed == set()
    assert result.postcode("75013", None, None) == "75"


def test_outlier_suppressed_within_budget() -> None:
    # Twenty people of 30-34 and one of 77: suppressing him (1/21 < 5 %) beats generalising.
    rows = [(30 + i % 5, "M", "69003", c) for i, c in enumerate(chapters(20))]
    rows.append((77, "M", "69003", "IV"))
    result = plan(population(rows), k=5, l=2, max_suppression=0.05)
    assert result.suppressed == {21}
    assert result.report.suppressed_persons == 1
    assert result.levels["age"] == 1


def test_refused_when_k_is_out_of_reach_names_the_blocker() -> None:
    rows = [(50, "F", "75013", c) for c in chapters(8)] + [(50, "M", "75013", "IV")] * 2
    with pytest.raises(ShareRefusedError) as caught:
        plan(population(rows), k=5, l=1)
    message = str(caught.value)
    assert "k = 5 inatteignable" in message
    assert "plus petite classe compte moins de 5 patients" in message  # not "2 patient(s)"
    assert "Quasi-identifiant bloquant : sexe" in message and "retirez le sexe" in message
    assert caught.value.report.blocking == "sex"
    assert not caught.value.report.reached
    assert caught.value.fields == ("k", "max_suppression", "drop")  # what could lift it
    # Dropping the blocker, as the refusal suggests, reaches k: ten women and men of 50.
    dropped = plan(population(rows), k=5, l=1, floor=floor_levels(drop=("sex",)))
    assert dropped.report.reached and dropped.levels["sex"] == 1
    assert dropped.report.after.k == 10 and dropped.report.requested == {"sex": "retiré"}


@pytest.mark.parametrize(
    "rows",
    [
        [(50, "F", "75013", c) for c in chapters(8)] + [(50, "M", "75013", "IV")] * 2,
        [(50, "F", "75013", "IV"), (51, "M", "75013", "IV"), (90, "F", "75013", "IX")],
        [(20 + 7 * i, "MF"[i % 2], "75013", c) for i, c in enumerate(chapters(11))],
        [(50, "F", "75013", c) for c in chapters(40)] + [(90, "M", "69003", "IV")] * 4,
    ],
)
def test_refusals_print_no_count_below_k_or_ten_patients(rows: list[tuple]) -> None:
    with pytest.raises(ShareRefusedError) as caught:
        plan(population(rows), k=5, l=1, max_suppression=0.0)
    # Class sizes below k and patient counts below 10 are said "moins de …", never written.
    message = caught.value.message
    assert "moins de" in message
    for number, after in re.findall(r"(\d+) patient\(s\)( sur)?", message):
        if not after:  # "N patient(s) sur M": the suppression budget, a rule, not data
            assert int(number) == 0 or int(number) >= 5, message
    public = str(caught.value.report.to_dict())
    assert "person_id" not in public


def test_report_hides_a_small_number_of_suppressed_patients() -> None:
    # Twenty-one patients, one suppressed: "21 selected, 1 suppressed" would name a count of 1;
    # the exported 20 are countable in the files, so the total is withheld instead (and the
    # suppressed written "<10", zero included: tests/data/sharing/test_report_attack.py).
    rows = [(30 + i % 5, "M", "69003", c) for i, c in enumerate(chapters(20))]
    rows.append((77, "M", "69003", "IV"))
    report = plan(population(rows), k=5, l=2, max_suppression=0.05).report.to_dict()
    assert report["suppressed_persons"] == "<10" and report["persons"] == "n.p."
    assert report["exported_persons"] == 20


def test_requested_bands_are_a_floor_the_ladder_does_not_go_below() -> None:
    ages = [40, 41, 42, 43, 44, 45, 46, 47, 48, 49]
    zips = ["75001", "75002", "75003", "75004", "75005"] * 2
    pop = population([(a, "F", z, c) for a, z, c in zip(ages, zips, chapters(10), strict=True)])
    result = plan(pop, k=5, l=2, floor=floor_levels(age_band=20, geography="region"))
    assert result.levels["age"] == 4 and result.levels["postcode"] == 2
    assert age_label(47, 4) == "40-59" and age_label(85, 4) == "≥ 80"
    dropped = plan(pop, k=5, l=2, floor=floor_levels(drop=("age", "postcode")))
    assert dropped.levels["age"] == 5 and dropped.levels["postcode"] == 3
    assert dropped.birth_year(47) is None and dropped.postcode("75013", None, None) is None
    with pytest.raises(SharingError) as bad:
        floor_levels(age_band=7)
    assert bad.value.fields == ("age_band",)


def test_l_diversity_refused_when_a_class_has_one_sensitive_value() -> None:
    # k holds (ten women of 50) but every one has the same main diagnosis chapter.
    rows = [(50, "F", "75013", "IX")] * 10
    assert plan(population(rows), k=5, l=1).report.reached
    with pytest.raises(ShareRefusedError) as caught:
        plan(population(rows), k=5, l=2)
    message = str(caught.value)
    assert "l = 2 inatteignable" in message
    assert "ne prend que 1 valeur(s) dans toute la cohorte" in message
    assert "k = 5 serait atteint" in message and "l = 1" in message
    assert "Quasi-identifiant bloquant" not in message  # no quasi-identifier is to blame


def test_l_blocks_when_k_is_reachable_within_the_suppression_budget() -> None:
    # A disease cohort: ten women of 50 share chapter IX, ten men of 70 are diverse. k = 5 holds
    # at once; l = 2 fails for the women's class only, and no quasi-identifier is to blame.
    rows = [(50, "F", "75013", "IX")] * 10 + [(70, "M", "75013", c) for c in ["IX", "IV"] * 5]
    with pytest.raises(ShareRefusedError) as caught:
        plan(population(rows), k=5, l=2)
    message = str(caught.value)
    assert "une classe n'a que 1 valeur(s) distincte(s)" in message
    assert "k = 5 serait atteint" in message
    assert "Quasi-identifiant bloquant" not in message


def test_l_diversity_forces_a_merge() -> None:
    # Two age bands, each homogeneous in diagnosis: only the 10-year band mixes them.
    rows = [(41, "F", "75013", "IX")] * 5 + [(47, "F", "75013", "IV")] * 5
    result = plan(population(rows), k=5, l=2)
    assert result.levels["age"] == 2
    assert result.report.after.l == 2


def test_rare_diagnosis_generalised_to_category_then_suppressed() -> None:
    diagnoses = [(i, "CIM10", f"E10.{i}") for i in range(1, 6)]  # E10 held by five
    diagnoses += [(6, "CIM10", "Q87.4"), (1, "CIM10", "I50.9")]
    mapping, rare = generalise_diagnoses(
        pd.DataFrame(diagnoses, columns=["person_id", "vocabulary", "code"]), k=5, level=1
    )
    assert mapping[("CIM10", "E10.3")] == ("CIM10", "E10")
    assert ("CIM10", "E10") not in rare
    assert mapping[("CIM10", "Q87.4")] == ("CIM10", "Q87") and ("CIM10", "Q87") in rare
    mapping, rare = generalise_diagnoses(
        pd.DataFrame(diagnoses, columns=["person_id", "vocabulary", "code"]), k=5, level=3
    )
    assert mapping[("CIM10", "Q87.4")] is None and not rare
    assert mapping[("CIM10", "E10.3")] == ("CIM10", "E10")
    assert mapping[("CIM10", "I50.9")] is None  # held by one person: rare too


def test_snomed_codes_have_no_category_and_go_straight_to_suppression() -> None:
    frame = pd.DataFrame([(1, "SNOMED", "65363002")], columns=["person_id", "vocabulary", "code"])
    assert generalise_diagnoses(frame, 5, 2)[0] == {("SNOMED", "65363002"): ("SNOMED", "65363002")}
    assert generalise_diagnoses(frame, 5, 3)[0] == {("SNOMED", "65363002"): None}


def test_report_never_lists_persons() -> None:
    rows = [(40 + i, "F", "75013", c) for i, c in enumerate(chapters(10))]
    report = plan(population(rows), k=5, l=2).report.to_dict()
    assert "person_id" not in str(report)
    assert sum(report["after"]["distribution"].values()) == report["after"]["classes"]
