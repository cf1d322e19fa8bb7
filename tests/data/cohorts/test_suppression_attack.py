"""Suppression that holds: a reader who does arithmetic over the published rows (``attack.py``:
consecutive steps, totals minus cells, percentages times totals, solved exactly) recovers no
suppressed count — on planted tables, on random ones, and on cohorts of the sample warehouse."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from hopia.data.cohorts import load_definition, parse_definition, run_cohort
from hopia.data.cohorts.characterise import Characterisation, TopItem
from hopia.data.cohorts.run import AttritionStep, CohortResult
from hopia.data.cohorts.suppression import HIDDEN, WITHHELD, Table, exposed, protect, suppress
from hopia.platform.warehouse import Warehouse
from tests.data.cohorts.attack import read_public, recovered
from tests.data.cohorts.test_sample import DEFINITION as SAMPLE_DEFINITION

CONFIGS = sorted(Path("configs/cohorts").glob("*.yaml"))


def _result(counts: list[int], c: Characterisation | None = None) -> CohortResult:
    steps = [
        AttritionStep(
            f"étape {i}",
            "inclusion" if i else "population",
            n,
            None if i == 0 else counts[i - 1] - n,
        )
        for i, n in enumerate(counts)
    ]
    return CohortResult(
        definition=parse_definition(
            {"name": "essai", "title": "Essai", "inclusion": [{"demographics": {"age_min": 18}}]}
        ),
        definition_sha256="0" * 64,
        dialect="duckdb",
        reference_date=date(2026, 1, 1),
        attrition=steps,
        characterisation=c,
        seconds={},
        ran_at=datetime(2026, 1, 1),
    )


def _truth(result: CohortResult) -> dict[str, int]:
    """Every exact count of ``result`` under the name the reader gives its published cell."""
    truth = {}
    for i, s in enumerate(result.attrition):
        truth[f"attrition.{i}.count"] = s.count
        if s.excluded is not None:
            truth[f"attrition.{i}.excluded"] = s.excluded
    c = result.characterisation
    if c is not None:
        truth["persons"] = c.persons
        truth.update({f"sex.{k}": n for k, n in c.sex.items()})
        truth.update({f"age.{k}": n for k, n in c.age_bins().items()})
    return truth


def _characterisation(sex: dict[str, int], ages: dict[int, int], top: int = 0) -> Characterisation:
    c = Characterisation(persons=sum(sex.values()), sex=sex, ages=Counter(ages))
    items = [
        TopItem(i, f"C{i}", f"concept {i}", "CIM10", n) for i, n in enumerate([top] if top else [])
    ]
    c.top = {"conditions": items, "drugs": [], "measurements": []}
    return c


def test_the_reader_recovers_what_primary_suppression_alone_leaves() -> None:
    # The issue's row "50 | <10 | excluded 46": the reader finds the 4 (or it proves nothing).
    result = _result([50, 46])
    naive = result.public()
    naive["attrition"] = [
        {
            **s,
            "count": suppress(t.count),
            "excluded": None if t.excluded is None else suppress(t.excluded),
        }
        for s, t in zip(naive["attrition"], result.attrition, strict=True)
    ]
    assert recovered(naive, _truth(result)) == ["attrition.1.excluded"]


def test_the_issue_row_and_a_lone_small_sex_cell_stay_hidden() -> None:
    result = _result([50, 46])
    public = result.public()
    assert public["attrition"][1]["excluded"] == "<10"
    assert HIDDEN in (public["attrition"][0]["count"], public["attrition"][1]["count"])
    assert recovered(public, _truth(result)) == []
    c = _characterisation({"M": 120, "F": 5, "inconnu": 0}, {40: 60, 70: 65}, top=30)
    result = _result([400, 125], c)
    public = result.public()
    assert public["characterisation"]["sex"]["F"] == "<10"
    assert recovered(public, _truth(result)) == []


def test_two_small_cells_summing_to_two_are_not_both_ones() -> None:
    # M = 1, F = 1 of a total of 2 + 30: two "<10" cells alone would be pinned to 1 each.
    table = Table({"t": 32, "a": 1, "b": 1, "c": 30})
    table.add_sum("t", ["a", "b", "c"])
    published = protect(table)
    assert published["c"] == HIDDEN or published["t"] == HIDDEN


def random_cohort(seed: int) -> CohortResult:
    """A random cohort: attrition steps with small drops, and often a characterisation with
    small sex and age cells (also drawn by bench/suppression.py)."""
    rng = random.Random(seed)
    counts = [rng.choice([rng.randint(10, 400), rng.randint(1, 60)])]
    for _ in range(rng.randint(1, 6)):
        drop = rng.choice([0, rng.randint(1, 9), rng.randint(1, 9), rng.randint(10, 80)])
        counts.append(max(0, counts[-1] - drop))
    final = counts[-1]
    c = None
    if rng.random() < 0.8:
        female = rng.choice([rng.randint(0, final), rng.randint(0, min(final, 9))])
        unknown = rng.choice([0, 0, min(rng.randint(1, 3), final - female)])
        sex = {"M": final - female - unknown, "F": female, "inconnu": unknown}
        ages: Counter[int] = Counter(
            rng.choice([20, 35, 45, 55, 65, 75, 85, 95, 60, 62, 70]) for _ in range(final)
        )
        c = _characterisation(sex, dict(ages), top=rng.randint(10, max(10, final)))
    return _result(counts, c)


@pytest.mark.parametrize("seed", range(40))
def test_random_cohorts_leak_no_small_count(seed: int) -> None:
    result = random_cohort(seed)
    public = result.public()
    truth = _truth(result)
    assert recovered(public, truth) == []
    # Nothing hidden without need: every published number is the exact count.
    reader, index = read_public(public)
    for name, i in index.items():
        if reader.low[i] == reader.high[i]:
            assert reader.low[i] == truth[name]


@pytest.mark.parametrize("threshold", [10, 5])
def test_sample_warehouse_cohorts_leak_no_small_count(sample: Warehouse, threshold: int) -> None:
    definitions = [SAMPLE_DEFINITION, *(load_definition(p) for p in CONFIGS)]
    checked = 0
    for d in definitions:
        result = run_cohort(sample, d, reference_date=date(2026, 1, 1))
        public = result.public(threshold)
        truth = _truth(result)
        assert recovered(public, truth, threshold) == [], d.name
        checked += sum(1 for v in truth.values() if 0 < v < threshold)
    assert checked > 0  # the sample has small cells to protect


def test_when_no_large_cell_can_hide_a_small_one_its_neighbours_are_withheld() -> None:
    # 9 selected, 8 exported (countable in the files, so always published), 1 suppressed:
    # "<10" for both would pin them (9 - 8); the selection's size is withheld instead.
    table = Table({"selected": 9, "exported": 8, "suppressed": 1}, fixed={"exported"})
    table.add_sum("selected", ["exported", "suppressed"])
    published = protect(table)
    assert published["exported"] == 8 and published["selected"] == WITHHELD
    assert exposed(table, published) == []
