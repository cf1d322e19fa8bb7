"""Share reports under arithmetic (issue 11, finding 7): a report prints exact class sizes of k
to 9 patients (the smallest class, at every step and after); k-anonymity allows them, but with
the totals beside them could they give back a suppressed count — the cohort size when hidden,
the persons suppressed, the persons a step would suppress? The MILP reader of
``tests/data/cohorts/attack.py`` writes every relation the report implies and solves for the
smallest and largest value of each hidden cell, on reports of random cohorts, refused ones
included.

Relations the reader uses (all true of every report):

- ``persons = exported + suppressed``; the exported persons are printed when k is reached;
- the classes before generalisation sum to ``persons``; after, to the exported persons (to
  ``persons`` when refused); each class lies in its printed size bucket, none is smaller than
  the printed smallest class, and one class has exactly that size;
- a step suppresses no more than ``persons``; a reached step no more than
  ``max_suppression × persons``; the last step reached suppresses exactly the suppressed count;
- ``"<k"`` is a class of 1 to k - 1; ``"<10"`` is 0 to 9 persons (a share report hides zero
  too), ``"n.p."`` any number.

What it found, and what the report does since: the class sizes from k to 9 give nothing back
(they are printed, as an export's rows show them anyway), but the classes before generalisation
summed to the hidden cohort size, and the exported persons with the suppression budget pinned
the suppressed count (often to exactly 1) when zero was printed as 0. A share report now
withholds the cohort size and the class distributions that sum to it, and writes every number
of persons suppressed (or to suppress) below 10 as ``"<10"``, zero included.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from hopia.data.sharing import plan
from hopia.data.sharing.quasi import Population
from hopia.platform.exceptions import ShareRefusedError
from tests.data.cohorts.attack import BIG, Reader

THRESHOLD = 10


def _bucket(label: str, k: int) -> tuple[int, int]:
    if label.startswith("<"):
        return 1, int(label[1:]) - 1
    if label.startswith("≥"):
        return int(label[1:].strip()), BIG
    if "-" in label:
        low, high = label.split("-")
        return int(low), int(high)
    return int(label), int(label)


def _hidden(reader: Reader, name: str, value: Any, k: int) -> int:
    """A cell as printed: an int, "<10" (0 to 9), "<k", "*", or None / "n.p." (any value;
    a step's suppression, "n.p.", is still at most the cohort: see read_report)."""
    index = reader.cell(name, "?" if value is None else value)
    if value == f"<{THRESHOLD}":
        reader.low[index] = 0  # a share report writes zero "<10" too
    elif isinstance(value, str) and value == f"<{k}":
        reader.low[index], reader.high[index] = 1, k - 1
    return index


def _classes(reader: Reader, name: str, stats: dict[str, Any], k: int, total: int) -> None:
    smallest = stats["k"]
    if isinstance(smallest, str) and smallest.startswith("≥"):
        smallest = None  # banded: no class below k, nothing more
    if not isinstance(stats["classes"], int):
        return  # withheld: only the smallest class is known, and nothing it sums to
    sizes: list[int] = []
    buckets = sorted(
        ((_bucket(label, k), n) for label, n in stats["distribution"].items() if n),
        key=lambda b: b[0],
    )
    for (low, high), n in buckets:
        for _ in range(n):
            index = reader.cell(f"{name}.class{len(sizes)}", "?")
            reader.low[index], reader.high[index] = low, high
            if isinstance(smallest, int):
                reader.low[index] = max(low, smallest)
            sizes.append(index)
    assert len(sizes) == stats["classes"]
    if isinstance(smallest, int) and sizes:
        reader.low[sizes[0]] = reader.high[sizes[0]] = smallest  # the smallest bucket holds it
    reader.equal(total, sizes)


def read_report(report: dict[str, Any]) -> tuple[Reader, dict[str, int]]:
    """The reader's model of a printed share report: its hidden cells by name → variable."""
    k = report["k"]
    reader = Reader(THRESHOLD)
    index = {
        "persons": _hidden(reader, "persons", report["persons"], k),
        "suppressed": _hidden(reader, "suppressed", report["suppressed_persons"], k),
    }
    persons, suppressed = index["persons"], index["suppressed"]
    exported = _hidden(reader, "exported", report["exported_persons"], k)
    reader.equal(persons, [exported, suppressed])
    share = report["max_suppression"]
    if report["reached"]:
        reader.rows.append(({suppressed: 1.0, persons: -share}, -BIG, 1e-9))
    _classes(reader, "before", report["before"], k, persons)
    if report["after"]:
        _classes(reader, "after", report["after"], k, exported if report["reached"] else persons)
    last = None
    for i, step in enumerate(report["steps"]):
        needed = index[f"step{i}"] = _hidden(reader, f"step{i}", step["suppression_needed"], k)
        reader.rows.append(({needed: 1.0, persons: -1.0}, -BIG, 0.0))
        if step["reached"]:
            reader.rows.append(({needed: 1.0, persons: -share}, -BIG, 1e-9))
            last = needed
    if report["reached"] and last is not None and report["steps"][-1]["reached"]:
        reader.equal(suppressed, [last])
    return reader, index


def recovered(report: dict[str, Any], truth: dict[str, int]) -> list[str]:
    """The hidden cells of ``report`` (printed other than as a number) pinned to one value."""
    reader, index = read_report(report)
    printed = {"persons": report["persons"], "suppressed": report["suppressed_persons"]}
    printed |= {f"step{i}": s["suppression_needed"] for i, s in enumerate(report["steps"])}
    out = []
    for name, value in truth.items():
        if isinstance(printed[name], int) or not 0 < value < THRESHOLD:
            continue  # published as such, or no small count to protect
        low, high = reader.range(index[name])
        assert low <= value <= high, f"{name}: the reader's model excludes the truth"
        if low == high:
            out.append(name)
    return out


def _population(rng: random.Random, n: int) -> Population:
    zips = [f"{rng.choice(['69', '75', '13'])}00{rng.randint(1, 3)}" for _ in range(3)]
    persons = pd.DataFrame(
        [
            {
                "person_id": i,
                "age": rng.choice([rng.randint(40, 49), rng.randint(20, 90)]),
                "sex": rng.choice("FM"),
                "zip": rng.choice(zips),
                "state": None,
                "country": None,
                "sensitive": rng.choice(["IX", "IV", "X"]),
            }
            for i in range(1, n + 1)
        ]
    )
    diagnoses = pd.DataFrame(
        [
            (i, "ICD10", rng.choice(["E11.9", "I50.0", "Q87.4", "I10"]))
            for i in range(1, n + 1)
            if rng.random() < 0.5
        ],
        columns=["person_id", "vocabulary", "code"],
    ).drop_duplicates()
    return Population(persons, diagnoses.astype({"person_id": "int64"}), 2025)


def _truth(report: Any) -> dict[str, int]:
    truth = {"persons": report.persons, "suppressed": report.suppressed_persons}
    return truth | {f"step{i}": s["suppression_needed"] for i, s in enumerate(report.steps)}


def _report(pop: Population, k: int, l: int, share: float) -> Any:  # noqa: E741
    try:
        return plan(pop, k=k, l=l, max_suppression=share).report
    except ShareRefusedError as exc:
        return exc.report


def test_the_reader_pins_a_hidden_count_when_the_report_gives_it_away() -> None:
    """The reader is not blind: the same reports with the classes before generalisation
    printed (sizes below k one by one) give the suppressed count back."""
    from dataclasses import asdict

    rng = random.Random(3)
    for _ in range(300):
        report = _report(_population(rng, rng.randint(5, 9)), k=3, l=1, share=0.2)
        public = report.to_dict()
        if not report.reached or report.suppressed_persons == 0:
            continue
        leaky = {**public, "before": asdict(report.before)}
        if "suppressed" in recovered(leaky, _truth(report)):
            return
    pytest.fail("no report where the classes give the suppressed count back: reader blind")


def test_the_example_of_the_issue_hides_its_one_suppressed_patient() -> None:
    """Twenty-one patients, one suppressed, a 5 % budget: printing the exported 20 beside
    "<10" suppressed (and 0 as 0) said it was exactly 1 (1 ≤ 5 % of 20 + S < 2)."""
    rows = [(30 + i % 5, "M", "69003", "IX" if i % 2 else "IV") for i in range(20)]
    rows.append((77, "M", "69003", "IV"))
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
    empty = pd.DataFrame(columns=["person_id", "vocabulary", "code"]).astype({"person_id": "int64"})
    report = plan(Population(persons, empty, 2025), k=5, l=2, max_suppression=0.05).report
    public = report.to_dict()
    assert report.suppressed_persons == 1 and public["exported_persons"] == 20
    assert public["suppressed_persons"] == "<10" and public["persons"] == "n.p."
    assert recovered(public, _truth(report)) == []
    # What the report printed before: the reader gets the 1 back.
    before = {**public, "persons": "*", "before": {**public["before"]}}
    reader, index = read_report(before)
    reader.low[index["suppressed"]] = 1  # zero was printed 0: "<10" meant 1 to 9
    assert reader.range(index["suppressed"]) == (1, 1)


@pytest.mark.slow
def test_no_hidden_count_is_recovered_from_a_share_report() -> None:
    """240 random cohorts (4 to 80 patients; k 2, 3 or 5; l 1 or 2; budget 5, 10 or 20 %),
    reached and refused: no hidden count comes back."""
    small = 0
    for seed in range(4):
        rng = random.Random(seed)
        for _ in range(60):
            k = rng.choice([2, 3, 5])
            l = rng.choice([1, 2])  # noqa: E741
            share = rng.choice([0.05, 0.1, 0.2])
            report = _report(_population(rng, rng.randint(4, 80)), k, l, share)
            public = report.to_dict()
            assert recovered(public, _truth(report)) == [], public
            small += report.reached and 0 < report.suppressed_persons < THRESHOLD
    assert small >= 10  # the reports do hide small suppressed counts


def test_a_refusal_never_names_the_size_of_a_small_cohort() -> None:
    """Seven patients, k = 5, sex blocking: without it one class would hold all seven — the
    refusal says "moins de 10", not 7 (the report hides a cohort below 10)."""
    rows = [(40 + i, "F" if i < 3 else "M", "69003", "IX" if i % 2 else "IV") for i in range(7)]
    persons = pd.DataFrame(
        [
            {"person_id": i, "age": a, "sex": s, "zip": z, "state": None, "country": None}
            | {"sensitive": v}
            for i, (a, s, z, v) in enumerate(rows, 1)
        ]
    )
    empty = pd.DataFrame(columns=["person_id", "vocabulary", "code"]).astype({"person_id": "int64"})
    with pytest.raises(ShareRefusedError) as caught:
        plan(Population(persons, empty, 2025), k=5, l=1, max_suppression=0.0)
    message = caught.value.message
    assert "compterait moins de 10 patients" in message and "7" not in message
    assert caught.value.report.to_dict()["persons"] == "<10"
