"""A reader who tries to recompute suppressed counts from a cohort's public results.

Independent of :mod:`hopia.data.cohorts.suppression` (which bounds cells by propagation): this
reader writes every relation the published rows imply, as integer linear constraints, and asks
an exact solver (scipy's MILP, HiGHS) for the smallest and largest value of each hidden cell:

- consecutive attrition steps: ``count[i-1] = count[i] + excluded[i]``;
- the characterised cohort is the last step: ``persons = count[last]``;
- distributions sum to the cohort: ``persons = sum(sex) = sum(age bins)``;
- percentages times totals: an item of ``n`` patients shown at ``p`` % (rounded to 0.1) puts the
  cohort size in ``[100 n / (p + 0.05), 100 n / (p - 0.05)]``;
- the published rule: ``"<10"`` is 1 to 9, ``"*"`` at least 10, zero is shown as 0.

A hidden cell is recovered when its smallest and largest feasible values are equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

BIG = 10**7


class Reader:
    def __init__(self, threshold: int = 10) -> None:
        self.threshold = threshold
        self.names: list[str] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def cell(self, name: str, value: Any) -> int:
        index = len(self.names)
        self.names.append(name)
        if isinstance(value, int):
            low = high = value
        elif value == f"<{self.threshold}":
            low, high = 1, self.threshold - 1
        elif value == "*":
            low, high = self.threshold, BIG
        else:  # anything else hidden: any value
            low, high = 0, BIG
        self.low.append(low)
        self.high.append(high)
        return index

    def equal(self, total: int, parts: list[int]) -> None:
        coefficients = {total: 1.0}
        for p in parts:
            coefficients[p] = coefficients.get(p, 0.0) - 1.0
        self.rows.append((coefficients, 0.0, 0.0))

    def between(self, index: int, low: float, high: float) -> None:
        self.rows.append(({index: 1.0}, low, high))

    def _solve(self, index: int, sign: float) -> float | None:
        n = len(self.names)
        c = np.zeros(n)
        c[index] = sign
        constraints = []
        if self.rows:
            a = np.zeros((len(self.rows), n))
            for r, (coefficients, _, _) in enumerate(self.rows):
                for j, v in coefficients.items():
                    a[r, j] = v
            constraints = [
                LinearConstraint(a, [lo for _, lo, _ in self.rows], [hi for _, _, hi in self.rows])
            ]
        result = milp(
            c, constraints=constraints, integrality=np.ones(n), bounds=Bounds(self.low, self.high)
        )
        return None if result.x is None else float(result.x[index])

    def range(self, index: int) -> tuple[int, int]:
        low, high = self._solve(index, 1.0), self._solve(index, -1.0)
        assert low is not None and high is not None, "the published rows are inconsistent"
        return round(low), round(high)


def read_public(public: dict[str, Any], threshold: int = 10) -> tuple[Reader, dict[str, int]]:
    """The reader's model of ``public``: each published cell by path → variable index."""
    reader = Reader(threshold)
    index: dict[str, int] = {}
    steps = public["attrition"]
    for s in steps:
        i = s["step"]
        index[f"attrition.{i}.count"] = reader.cell(f"attrition.{i}.count", s["count"])
        if s["excluded"] is not None:
            index[f"attrition.{i}.excluded"] = reader.cell(f"attrition.{i}.excluded", s["excluded"])
            reader.equal(
                index[f"attrition.{i - 1}.count"],
                [index[f"attrition.{i}.count"], index[f"attrition.{i}.excluded"]],
            )
    c = public.get("characterisation")
    if c:
        persons = index["persons"] = reader.cell("persons", c["persons"])
        reader.equal(persons, [index[f"attrition.{steps[-1]['step']}.count"]])
        for key in ("sex", "age"):
            if key not in c:
                continue
            cells = c["sex"] if key == "sex" else c["age"]["bins"]
            parts = [reader.cell(f"{key}.{k}", v) for k, v in cells.items()]
            index.update({f"{key}.{k}": p for k, p in zip(cells, parts, strict=True)})
            reader.equal(persons, parts)
        for block in ("conditions", "drugs", "measurements"):
            for item in (c.get(block) or {}).get("items", []):
                p = item.get("percent")
                if p:  # n / persons = p % ± 0.05 %
                    n = item["persons"]
                    reader.between(persons, 100 * n / (p + 0.05), 100 * n / max(p - 0.05, 1e-9))
    return reader, index


def recovered(public: dict[str, Any], truth: dict[str, int], threshold: int = 10) -> list[str]:
    """The small cells of ``truth`` (1 to threshold - 1) that the reader pins to one value."""
    reader, index = read_public(public, threshold)
    out = []
    for name, value in truth.items():
        if 0 < value < threshold and name in index:
            low, high = reader.range(index[name])
            assert low <= value <= high, f"{name}: the reader's model excludes the truth"
            if low == high:
                out.append(name)
    return out
