"""Run a cohort: attrition and characterisation (research space), the patient list (identified
space), and their audit entries (``cohort.run``, ``cohort.patients``).

:class:`CohortResult` keeps the exact counts in memory; :meth:`CohortResult.public` is the only
form that leaves the research space: small cells suppressed, no person identifier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from hopia import __version__
from hopia.data.cohorts.characterise import Characterisation, TopItem, characterise
from hopia.data.cohorts.compile import CompiledCohort, compile_cohort
from hopia.data.cohorts.load import definition_hash
from hopia.data.cohorts.schema import CohortDefinition
from hopia.data.cohorts.suppression import THRESHOLD, Cell, Table, protect, suppress
from hopia.platform import audit
from hopia.platform.access import Purpose, check_reason
from hopia.platform.warehouse import Warehouse, schema
from hopia.platform.warehouse.analytics import for_analytics


@dataclass(frozen=True)
class AttritionStep:
    label: str
    kind: str
    count: int
    excluded: int | None  # vs. the previous step; None for the first


@dataclass
class CohortResult:
    definition: CohortDefinition
    definition_sha256: str
    dialect: str
    reference_date: date
    attrition: list[AttritionStep]
    characterisation: Characterisation | None
    seconds: dict[str, float]
    ran_at: datetime

    @property
    def persons(self) -> int:
        return self.attrition[-1].count

    def public(self, threshold: int = THRESHOLD) -> dict[str, Any]:
        """What may leave the research space: counts below ``threshold`` as ``"<threshold"``
        and, as ``"*"``, the other cells that would let a reader recompute them (consecutive
        attrition steps, a distribution and the cohort size); see :func:`protect_results`."""
        d = self.definition
        cells = protect_results(self.attrition, self.characterisation, threshold)
        out: dict[str, Any] = {
            "cohort": {
                "name": d.name,
                "version": d.version,
                "title": d.title,
                "format": d.format,
                "definition_sha256": self.definition_sha256,
            },
            "run": {
                "at": self.ran_at.isoformat(timespec="seconds"),
                "hopia_version": __version__,
                "warehouse": self.dialect,
                "reference_date": None if d.index else self.reference_date.isoformat(),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            },
            "suppression": {
                "threshold": threshold,
                "rule": f"effectifs de 1 à {threshold - 1} affichés '<{threshold}' ; '*' masque "
                f"un effectif d'au moins {threshold} pour qu'aucun petit effectif ne puisse être "
                "recalculé (différences d'étapes, total moins les autres cases)",
            },
            "attrition": [
                {
                    "step": i,
                    "label": s.label,
                    "kind": s.kind,
                    "count": cells[f"attrition.{i}.count"],
                    "excluded": None if s.excluded is None else cells[f"attrition.{i}.excluded"],
                }
                for i, s in enumerate(self.attrition)
            ],
        }
        out["characterisation"] = (
            _public_characterisation(self.characterisation, cells, threshold)
            if self.characterisation is not None
            else None
        )
        return out


# How much hiding a cell costs the reader: an "excluded" cell or a distribution cell first, the
# population next, the final cohort size last.
_COST_EXCLUDED, _COST_CELL, _COST_FIRST, _COST_STEP, _COST_FINAL = 1.0, 1.5, 2.0, 3.0, 10.0


def _persons_cell(attrition: list[AttritionStep], c: Characterisation) -> str:
    last = len(attrition) - 1
    return f"attrition.{last}.count" if attrition[last].count == c.persons else "persons"


def results_table(
    attrition: list[AttritionStep], c: Characterisation | None, threshold: int = THRESHOLD
) -> Table:
    """Every count a run publishes and the sums a reader knows between them."""
    table = Table({})
    last = len(attrition) - 1
    for i, s in enumerate(attrition):
        name = f"attrition.{i}.count"
        table.cells[name] = s.count
        table.cost[name] = _COST_FIRST if i == 0 else _COST_FINAL if i == last else _COST_STEP
        if s.excluded is not None:
            table.cells[f"attrition.{i}.excluded"] = s.excluded
            table.cost[f"attrition.{i}.excluded"] = _COST_EXCLUDED
            table.add_sum(f"attrition.{i - 1}.count", [name, f"attrition.{i}.excluded"])
    if c is not None and c.persons >= threshold:
        total = _persons_cell(attrition, c)
        table.cells.setdefault(total, c.persons)
        table.cost.setdefault(total, _COST_FINAL)
        for prefix, counts in (("sex", c.sex), ("age", c.age_bins())):
            names = [f"{prefix}.{k}" for k in counts]
            for name, n in zip(names, counts.values(), strict=True):
                table.cells[name] = n
                table.cost[name] = _COST_CELL
            table.add_sum(total, names)
    return table


def protect_results(
    attrition: list[AttritionStep], c: Characterisation | None, threshold: int = THRESHOLD
) -> dict[str, Cell]:
    """Each published cell by name; ``"persons"``: the characterised cohort's size."""
    cells = protect(results_table(attrition, c, threshold), threshold)
    if c is not None:
        persons = _persons_cell(attrition, c) if c.persons >= threshold else None
        cells["persons"] = cells[persons] if persons else suppress(c.persons, threshold)
    return cells


def _public_top(items: list[TopItem], persons: Cell, threshold: int) -> dict[str, Any]:
    shown = [i for i in items if i.persons >= threshold]
    return {
        "items": [
            {
                "concept_id": i.concept_id,
                "code": i.code,
                "name": i.name,
                "vocabulary": i.vocabulary,
                "persons": i.persons,
                # A percentage of a hidden total would give the total back (persons / percent).
                "percent": round(100 * i.persons / persons, 1)
                if isinstance(persons, int)
                else None,
                **(
                    {"median_value": i.median_value, "unit": i.unit}
                    if i.median_value is not None
                    else {}
                ),
            }
            for i in shown
        ],
        # Items of fewer than `threshold` patients are not listed at all: a rare diagnosis
        # with a count beside it could single someone out.
        "hidden_items": len(items) - len(shown),
    }


def _public_characterisation(
    c: Characterisation, cells: dict[str, Cell], threshold: int
) -> dict[str, Any]:
    if c.persons < threshold:
        return {"persons": suppress(c.persons, threshold), "withheld": "cohorte trop petite"}
    persons = cells["persons"]
    return {
        "persons": persons,
        "sex": {k: cells[f"sex.{k}"] for k in c.sex},
        "age": {
            "bins": {k: cells[f"age.{k}"] for k in c.age_bins()},
            **c.age_quantiles(),
        },
        **{key: _public_top(items, persons, threshold) for key, items in c.top.items()},
    }


def run_cohort(
    wh: Warehouse,
    definition: CohortDefinition,
    *,
    characterise_members: bool = True,
    top: int = 10,
    reference_date: date | None = None,
) -> CohortResult:
    """Attrition (one statement) and, unless disabled, characterisation. Reads only."""
    compiled = compile_cohort(definition, reference_date)
    seconds: dict[str, float] = {}
    ran_at = datetime.now()
    with wh.engine.connect() as conn:
        for_analytics(conn)
        start = time.perf_counter()
        row = conn.execute(compiled.attrition_query()).one()
        seconds["attrition"] = time.perf_counter() - start
        attrition = _attrition(compiled, [int(v or 0) for v in row])
        characterisation = None
        if characterise_members:
            start = time.perf_counter()
            characterisation = characterise(conn, compiled, top=top)
            seconds["characterisation"] = time.perf_counter() - start
    return CohortResult(
        definition=definition,
        definition_sha256=definition_hash(definition),
        dialect=wh.dialect,
        reference_date=compiled.reference_date,
        attrition=attrition,
        characterisation=characterisation,
        seconds=seconds,
        ran_at=ran_at,
    )


def _attrition(compiled: CompiledCohort, counts: list[int]) -> list[AttritionStep]:
    steps = []
    for i, (step, n) in enumerate(zip(compiled.steps, counts, strict=True)):
        excluded = None if i == 0 else counts[i - 1] - n
        steps.append(AttritionStep(step.label, step.kind, n, excluded))
    return steps


def audit_run(wh: Warehouse, result: CohortResult, actor: str | None = None) -> audit.AuditEntry:
    """Record a run (``cohort.run``): the definition's hash and the exact counts, which the
    audit log may hold (its readers are auditors), never a person."""
    d = result.definition
    with wh.begin() as conn:
        return audit.record(
            conn,
            actor,
            "cohort.run",
            f"cohort:{d.name}@{d.version}",
            details={
                "definition_sha256": result.definition_sha256,
                "persons": result.persons,
                "steps": len(result.attrition),
                "characterised": result.characterisation is not None,
            },
        )


def identified_patients(
    wh: Warehouse,
    definition: CohortDefinition,
    *,
    reason: str | None,
    actor: str | None = None,
    reference_date: date | None = None,
) -> tuple[list[dict[str, Any]], audit.AuditEntry]:
    """The members with their identity (``hopia_id.patient``), for the identified space only.

    The read and its audit entry are one transaction: no list without its trace. Members
    without an identity (loaded from an OMOP set) come with an empty IPP.
    """
    reason = check_reason(reason, Purpose.PATIENT_LIST)
    compiled = compile_cohort(definition, reference_date)
    members = compiled.members_query().cte("cohort_members")
    p = schema.patient
    query = (
        select(
            p.c.ipp,
            p.c.family_name,
            p.c.given_name,
            p.c.birth_date,
            p.c.sex,
            members.c.person_id,
            members.c.index_date,
        )
        .select_from(members.outerjoin(p, p.c.person_id == members.c.person_id))
        .order_by(members.c.person_id)
    )
    with wh.begin() as conn:
        for_analytics(conn)
        rows = [dict(r) for r in conn.execute(query).mappings()]
        entry = audit.record(
            conn,
            actor,
            "cohort.patients",
            f"cohort:{definition.name}@{definition.version}",
            reason=reason,
            details={
                "definition_sha256": definition_hash(definition),
                "patients": len(rows),
                "with_identity": sum(1 for r in rows if r["ipp"]),
            },
        )
    return rows, entry
