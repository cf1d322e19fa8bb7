"""k-anonymity and l-diversity over quasi-identifiers, reached by a generalisation ladder.

Quasi-identifiers: age, sex, postcode, rare diagnoses (a code held by fewer than k persons).
An equivalence class is the set of persons sharing all four values; the export is k-anonymous
when every class holds at least k persons, and l-diverse when every class holds at least l
distinct values of the sensitive attribute (the main diagnosis chapter).

The ladder, one rung at a time in this order, until k and l hold::

    diagnosis 1  rare code       → CIM-10 category (E11.9 → E11)
    postcode 1   postcode        → department (FR) / ZIP3 (elsewhere)
    age 1        exact age       → 5-year band
    diagnosis 2  rare category   → CIM-10 chapter (E00-E90)
    postcode 2   department      → region (INSEE code) / state
    age 2        5-year band     → 10-year band
    diagnosis 3  still rare      → suppressed (the condition rows are not exported)
    postcode 3   region          → dropped
    age 3        10-year band    → 10-year band with "≥ 90" top-coding

Rare diagnoses come first (they touch the fewest records), age last (it touches everyone). At
every rung, persons in classes below k (or below l) may be suppressed whole, up to
``max_suppression`` of the cohort (5 % by default). Rarity and classes are recomputed on the
persons that remain, until nothing changes. Once k and l hold, each quasi-identifier is
lowered back one rung at a time while they still hold (suppressing the rare diagnoses, say, can
make the region unnecessary). When the last rung still fails, the export is refused with
:class:`ShareRefusedError`, naming the quasi-identifier that blocks and the request fields that
could help (``age_band``, ``geography``, ``drop``).

The requester may start higher than the ladder's first rung (:func:`floor_levels`): wider age
bands (5, 10 or 20 years), a coarser geography (department, region), and may drop a
quasi-identifier altogether (age: no year of birth; sex: gender unknown; postcode: no location;
diagnosis: rare codes not exported). Rungs above the ladder (20-year bands, age or sex dropped)
are reached only that way. No count below k (nor below 10 for persons) leaves in a message or a
report: see :meth:`AnonymityReport.to_dict`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from hopia.data.cohorts.suppression import THRESHOLD, WITHHELD, small_text, suppress
from hopia.data.sharing.hierarchy import (
    CIM10_VOCABULARIES,
    area,
    cim10_category,
    cim10_chapter,
    region,
)
from hopia.data.sharing.quasi import Population
from hopia.platform.exceptions import ShareRefusedError, SharingError
from hopia.platform.scores import fmt_percent

DEFAULT_K, DEFAULT_L, DEFAULT_MAX_SUPPRESSION = 5, 2, 0.05
QUASI_IDENTIFIERS = ("age", "sex", "postcode", "diagnosis")
QI_NAMES = {"age": "âge", "sex": "sexe", "postcode": "code postal", "diagnosis": "diagnostic rare"}
RUNGS = {
    "age": (
        "âge exact",
        "tranches de 5 ans",
        "tranches de 10 ans",
        "tranches de 10 ans, ≥ 90",
        "tranches de 20 ans, ≥ 80",
        "retiré",
    ),
    "postcode": ("code postal", "département / ZIP3", "région / état", "retiré"),
    "diagnosis": ("code", "catégorie CIM-10", "chapitre CIM-10", "retiré"),
    "sex": ("sexe", "retiré"),
}
DROPPED = {qi: len(rungs) - 1 for qi, rungs in RUNGS.items()}
AGE_BANDS = {1: 0, 5: 1, 10: 2, 20: 4}  # requested band width (years) → age level
GEOGRAPHY = {"code-postal": 0, "departement": 1, "region": 2}  # requested level → postcode level
# The request fields that can lower a blocking quasi-identifier's classes (front ends name
# their own options after them).
REMEDIES = {
    "age": ("age_band", "drop"),
    "postcode": ("geography", "drop"),
    "sex": ("drop",),
    "diagnosis": ("drop",),
}
LADDER = (
    ("diagnosis", 1),
    ("postcode", 1),
    ("age", 1),
    ("diagnosis", 2),
    ("postcode", 2),
    ("age", 2),
    ("diagnosis", 3),
    ("postcode", 3),
    ("age", 3),
)
SENSITIVE = "chapitre du diagnostic principal"
TOP_AGE = 90

Diagnosis = tuple[str, str]  # (vocabulary, code) — code may be a category or a chapter block


# -- generalisation functions ---------------------------------------------------------------


def age_band(age: Any, level: int) -> tuple[int, int] | None:
    """[low, high] ages of the person's band at ``level`` (None when the age is unknown)."""
    if age is None or pd.isna(age) or level >= DROPPED["age"]:
        return None
    age = int(age)
    if level == 4 and age >= 80:
        return 80, 200
    if level >= 3 and age >= TOP_AGE:
        return TOP_AGE, 200
    width = {0: 1, 1: 5, 4: 20}.get(level, 10)
    low = age - age % width
    return low, low + width - 1


def age_label(age: Any, level: int) -> str:
    if level >= DROPPED["age"]:
        return "retiré"
    band = age_band(age, level)
    if band is None:
        return "?"
    low, high = band
    return str(low) if low == high else (f"≥ {low}" if high >= 200 else f"{low}-{high}")


def representative_birth_year(age: Any, level: int, reference_year: int) -> int | None:
    """The year of birth an export shows: the birth year of the band's middle age."""
    band = age_band(age, level)
    if band is None:
        return None
    low, high = band
    middle = low if high >= 200 else (low + high) // 2
    return reference_year - middle


def postcode_value(zip_code: Any, state: Any, country: Any, level: int) -> str | None:
    zip_code = zip_code.strip() if isinstance(zip_code, str) and zip_code.strip() else None
    state = state if isinstance(state, str) else None
    country = country if isinstance(country, str) else None
    if level == 0:
        return zip_code
    if level == 1:
        return area(zip_code, state, country)
    if level == 2:
        return region(zip_code, state, country)
    return None


def _up(value: Diagnosis, rung: int) -> Diagnosis | None:
    vocabulary, code = value
    if rung >= 3:
        return None
    if vocabulary not in CIM10_VOCABULARIES:
        return value  # no hierarchy known offline: stays rare until suppressed
    if rung == 1:
        return vocabulary, cim10_category(code) or code
    return vocabulary, cim10_chapter(code) or code


def generalise_diagnoses(
    diagnoses: pd.DataFrame, k: int, level: int
) -> tuple[dict[Diagnosis, Diagnosis | None], set[Diagnosis]]:
    """Each (vocabulary, code) → the value exported at ``level`` (None: suppressed), and the
    values still rare (held by fewer than k persons) at that level."""
    pairs = list(
        zip(
            diagnoses["person_id"].astype(int),
            zip(diagnoses["vocabulary"], diagnoses["code"], strict=True),
            strict=True,
        )
    )
    mapping: dict[Diagnosis, Diagnosis | None] = {key: key for _, key in pairs}

    def rare_values() -> set[Diagnosis]:
        holders: dict[Diagnosis, set[int]] = {}
        for pid, key in pairs:
            value = mapping[key]
            if value is not None:
                holders.setdefault(value, set()).add(pid)
        return {value for value, persons in holders.items() if len(persons) < k}

    for rung in range(1, level + 1):
        rare = rare_values()
        mapping = {key: (_up(v, rung) if v in rare else v) for key, v in mapping.items()}
    return mapping, rare_values()


# -- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassStats:
    """Equivalence classes: the smallest (k reached), the least diverse (l reached), sizes."""

    k: int
    l: int  # noqa: E741 - the letter of l-diversity
    classes: int
    distribution: dict[str, int]  # class size bucket → number of classes


def _buckets(sizes: pd.Series, k: int) -> dict[str, int]:
    edges = [(s, s) for s in range(1, k)] + [(k, 2 * k - 1), (2 * k, 5 * k - 1), (5 * k, 10**9)]
    out = {}
    for low, high in edges:
        n = int(((sizes >= low) & (sizes <= high)).sum())
        label = str(low) if low == high else (f"≥ {low}" if high == 10**9 else f"{low}-{high}")
        out[label] = n
    return out


@dataclass
class _Evaluation:
    classes: pd.Series  # person_id index → class key
    sizes: pd.Series
    diversity: pd.Series
    failing: set[int]
    diagnosis_map: dict[Diagnosis, Diagnosis | None]

    def stats(self, k: int) -> ClassStats:
        if self.sizes.empty:
            return ClassStats(0, 0, 0, {})
        return ClassStats(
            int(self.sizes.min()),
            int(self.diversity.min()),
            int(len(self.sizes)),
            _buckets(self.sizes, k),
        )


def _evaluate(
    pop: Population,
    levels: dict[str, int],
    k: int,
    l: int,  # noqa: E741
    excluded: set[int],
    neutral: str | None = None,
) -> _Evaluation:
    persons = pop.persons[~pop.persons["person_id"].isin(excluded)]
    diagnoses = pop.diagnoses[~pop.diagnoses["person_id"].isin(excluded)]
    mapping, rare = generalise_diagnoses(diagnoses, k, levels["diagnosis"])
    rare_sets: dict[int, set[str]] = {}
    for pid, v, c in zip(
        diagnoses["person_id"], diagnoses["vocabulary"], diagnoses["code"], strict=True
    ):
        value = mapping[(v, c)]
        if value in rare:
            rare_sets.setdefault(int(pid), set()).add(f"{value[0]}:{value[1]}")
    ids = [int(p) for p in persons["person_id"]]
    columns: dict[str, list[str]] = {
        "age": [age_label(a, levels["age"]) for a in persons["age"]],
        "sex": [str(s) if levels["sex"] == 0 else "retiré" for s in persons["sex"]],
        "postcode": [
            str(postcode_value(z, st, c, levels["postcode"]))
            for z, st, c in zip(persons["zip"], persons["state"], persons["country"], strict=True)
        ],
        "diagnosis": [",".join(sorted(rare_sets.get(pid, ()))) for pid in ids],
    }
    if neutral:
        columns[neutral] = [""] * len(ids)
    keys = ["|".join(parts) for parts in zip(*columns.values(), strict=True)]
    members: dict[str, int] = {}
    values: dict[str, set[Any]] = {}
    for key, sensitive in zip(keys, persons["sensitive"], strict=True):
        members[key] = members.get(key, 0) + 1
        values.setdefault(key, set()).add(sensitive)
    sizes = pd.Series(members, dtype="int64")
    diversity = pd.Series({key: len(v) for key, v in values.items()}, dtype="int64")
    bad = {key for key in members if members[key] < k or len(values[key]) < l}
    failing = {pid for pid, key in zip(ids, keys, strict=True) if key in bad}
    return _Evaluation(pd.Series(keys, index=ids, dtype=object), sizes, diversity, failing, mapping)


def _with_suppression(
    pop: Population,
    levels: dict[str, int],
    k: int,
    l: int,  # noqa: E741
    allowed: int,
) -> tuple[_Evaluation, set[int], bool]:
    """Suppress failing persons until nothing fails (rarity changes as persons leave)."""
    excluded: set[int] = set()
    while True:
        ev = _evaluate(pop, levels, k, l, excluded)
        if not ev.failing:
            return ev, excluded, True
        excluded |= ev.failing
        if len(excluded) > allowed:
            return ev, excluded, False


# -- the plan and its report ----------------------------------------------------------------


@dataclass
class AnonymityReport:
    """What ``hopia share check`` prints and every export ships: figures, never a person."""

    k: int
    l: int  # noqa: E741
    max_suppression: float
    persons: int
    reference_year: int
    quasi_identifiers: list[str]
    sensitive_attribute: str
    before: ClassStats
    after: ClassStats | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    generalisations: dict[str, str] = field(default_factory=dict)
    suppressed_persons: int = 0
    diagnoses: dict[str, int] = field(default_factory=dict)
    reached: bool = False
    blocking: str | None = None
    message: str | None = None
    requested: dict[str, str] = field(default_factory=dict)
    remedies: tuple[str, ...] = ()

    def to_dict(self, threshold: int = THRESHOLD) -> dict[str, Any]:
        """The report as it leaves (screen, JSON, export folder), so that no count of patients
        below ``threshold`` can be read or recomputed from it:

        - class sizes below k are ``"<k"``; the exported classes, from k up, are printed (an
          export's rows show them anyway, and they sum to the exported persons);
        - the persons suppressed are ``"<10"`` from 0 to 9 — zero included: the exported
          persons (countable in the files) and the suppression budget (``max_suppression``)
          bound the suppressed ones, and a report that printed 0 as 0 would say that "<10" is
          at least 1, often exactly 1;
        - the cohort size is then withheld (``"n.p."``), and so is whatever would give it
          back: the class distributions that sum to it (before generalisation; after it too
          when refused), the persons each step would suppress (a step where everyone fails
          needs the whole cohort), and the exact smallest class of a step or of the cohort
          before generalisation (one class may be the whole cohort): ``"<k"`` or ``"≥ k"``.

        ``tests/data/sharing/test_report_attack.py`` runs an exact arithmetic reader over such
        reports and recovers none of these counts."""
        out = asdict(self)
        exported = self.persons - self.suppressed_persons
        out["exported_persons"] = exported if self.reached else None
        if self.reached and self.suppressed_persons < threshold:
            out["persons"], out["suppressed_persons"] = WITHHELD, f"<{threshold}"
        else:  # refused (nobody suppressed, nothing exported), or 10 and more suppressed
            out["persons"] = suppress(self.persons, threshold)
        hidden = not isinstance(out["persons"], int)
        for key in ("before", "after"):
            if out[key]:
                # before generalisation the classes sum to the cohort; after it too when refused
                sums_to_cohort = key == "before" or not self.reached
                out[key] = _public_stats(out[key], self.k, hidden and sums_to_cohort)
        out["steps"] = [
            {
                **step,
                "smallest_class": _band(step["smallest_class"], self.k)
                if hidden
                else _below(step["smallest_class"], self.k),
                "suppression_needed": WITHHELD
                if hidden
                else _under(step["suppression_needed"], threshold),
            }
            for step in out["steps"]
        ]
        out["remedies"] = list(self.remedies)
        return out


def _band(n: int, k: int) -> str:
    return f"<{k}" if n < k else f"≥ {k}"


def _under(n: int, threshold: int) -> int | str:
    """A number of persons to suppress: ``"<threshold"`` from 0 to threshold - 1."""
    return f"<{threshold}" if n < threshold else n


def _below(n: int, k: int) -> int | str:
    return f"<{k}" if 0 < n < k else n


def _public_stats(stats: dict[str, Any], k: int, withhold: bool = False) -> dict[str, Any]:
    """Class statistics without a class size below k: the buckets of sizes 1 to k - 1 merged;
    ``withhold``: the number of classes and the buckets not published (``WITHHELD``), only the
    smallest class and l."""
    if withhold:
        return {**stats, "k": _band(stats["k"], k), "classes": WITHHELD, "distribution": {}}
    small = sum(n for size, n in stats["distribution"].items() if size.isdigit() and int(size) < k)
    distribution = {f"<{k}": small} | {
        size: n
        for size, n in stats["distribution"].items()
        if not (size.isdigit() and int(size) < k)
    }
    return {**stats, "k": _below(stats["k"], k), "distribution": distribution}


@dataclass
class AnonymisationPlan:
    """The levels reached, the persons suppressed, and how each diagnosis is exported."""

    levels: dict[str, int]
    suppressed: set[int]
    diagnosis_map: dict[Diagnosis, Diagnosis | None]
    population: Population
    report: AnonymityReport

    def birth_year(self, age: Any) -> int | None:
        return representative_birth_year(age, self.levels["age"], self.population.reference_year)

    def postcode(self, zip_code: Any, state: Any, country: Any) -> str | None:
        return postcode_value(zip_code, state, country, self.levels["postcode"])

    def region(self, zip_code: Any, state: Any, country: Any) -> str | None:
        """The region/state column of an exported location (None once the postcode is
        dropped)."""
        if self.levels["postcode"] >= 3:
            return None
        return postcode_value(zip_code, state, country, 2)


def floor_levels(
    age_band: int | None = None, geography: str | None = None, drop: tuple[str, ...] = ()
) -> dict[str, int]:
    """The levels the requester asks to start from (the ladder only climbs above them)."""
    levels = {"age": 0, "sex": 0, "postcode": 0, "diagnosis": 0}
    if age_band is not None:
        if age_band not in AGE_BANDS:
            raise SharingError(
                f"largeur de tranche d'âge inconnue : {age_band} (attendu : "
                f"{', '.join(map(str, AGE_BANDS))} ans)",
                fields=("age_band",),
            )
        levels["age"] = AGE_BANDS[age_band]
    if geography is not None:
        if geography not in GEOGRAPHY:
            raise SharingError(
                f"niveau géographique inconnu : {geography} (attendu : {', '.join(GEOGRAPHY)})",
                fields=("geography",),
            )
        levels["postcode"] = GEOGRAPHY[geography]
    for qi in drop:
        if qi not in DROPPED:
            raise SharingError(
                f"quasi-identifiant inconnu : {qi} (attendu : {', '.join(QUASI_IDENTIFIERS)})",
                fields=("drop",),
            )
        levels[qi] = DROPPED[qi]
    return levels


def _diagnosis_counts(mapping: dict[Diagnosis, Diagnosis | None]) -> dict[str, int]:
    out = {"codes": len(mapping), "kept": 0, "generalised": 0, "suppressed": 0}
    for key, value in mapping.items():
        out["kept" if value == key else ("suppressed" if value is None else "generalised")] += 1
    return out


def plan(
    pop: Population,
    k: int = DEFAULT_K,
    l: int = DEFAULT_L,  # noqa: E741
    max_suppression: float = DEFAULT_MAX_SUPPRESSION,
    floor: dict[str, int] | None = None,
) -> AnonymisationPlan:
    """Climb the ladder from ``floor`` (:func:`floor_levels`) until k and l hold;
    :class:`ShareRefusedError` when they cannot."""
    if k < 1 or l < 1:
        raise SharingError("k et l doivent valoir au moins 1", fields=("k", "l"))
    if not 0 <= max_suppression < 1:
        raise SharingError(
            "la part de suppression doit être comprise entre 0 et 1 (exclu)",
            fields=("max_suppression",),
        )
    n = len(pop.persons)
    allowed = math.floor(max_suppression * n + 1e-9)
    floor = {"age": 0, "sex": 0, "postcode": 0, "diagnosis": 0} | dict(floor or {})
    levels = dict(floor)
    first = _evaluate(pop, levels, k, l, set())
    report = AnonymityReport(
        k=k,
        l=l,
        max_suppression=max_suppression,
        persons=n,
        reference_year=pop.reference_year,
        quasi_identifiers=list(QUASI_IDENTIFIERS),
        sensitive_attribute=SENSITIVE,
        before=first.stats(k),
        requested={q: RUNGS[q][v] for q, v in floor.items() if v},
    )
    has_postcode = pop.persons["zip"].notna().any()
    rungs = [("start", 0), *LADDER]
    for qi, level in rungs:
        if qi == "postcode" and not has_postcode:
            continue  # nothing to generalise: the step would change nothing
        if qi != "start" and level <= floor[qi]:
            continue  # the requester already asked for this rung or a higher one
        if qi != "start":
            levels[qi] = level
        ev, excluded, ok = _with_suppression(pop, levels, k, l, allowed)
        if qi != "start":
            report.steps.append(
                {
                    "quasi_identifier": qi,
                    "level": level,
                    "rung": RUNGS[qi][level],
                    "smallest_class": int(_evaluate(pop, levels, k, l, set()).sizes.min()),
                    "suppression_needed": len(excluded),
                    "reached": ok,
                }
            )
        if ok:
            ev, excluded = _relax(pop, levels, floor, k, l, allowed, report) or (ev, excluded)
            report.after = ev.stats(k)
            report.levels = dict(levels)
            report.generalisations = _rungs(levels, has_postcode)
            report.suppressed_persons = len(excluded)
            report.diagnoses = _diagnosis_counts(ev.diagnosis_map)
            report.reached = True
            return AnonymisationPlan(dict(levels), excluded, ev.diagnosis_map, pop, report)
    _refuse(pop, levels, k, l, allowed, report)
    raise AssertionError("unreachable")  # _refuse always raises


def _rungs(levels: dict[str, int], has_postcode: bool) -> dict[str, str]:
    rungs = {q: RUNGS[q][levels[q]] for q in QUASI_IDENTIFIERS}
    if not has_postcode:
        rungs["postcode"] = "absent de l'entrepôt"
    return rungs


def _relax(
    pop: Population,
    levels: dict[str, int],
    floor: dict[str, int],
    k: int,
    l: int,  # noqa: E741
    allowed: int,
    report: AnonymityReport,
) -> tuple[_Evaluation, set[int]] | None:
    """Lower each quasi-identifier back while k and l still hold: a later rung (diagnoses
    suppressed, say) can make an earlier one (postcode → region) unnecessary."""
    best = None
    for qi in ("age", "postcode", "diagnosis"):
        while levels[qi] > floor[qi]:
            trial = {**levels, qi: levels[qi] - 1}
            ev, excluded, ok = _with_suppression(pop, trial, k, l, allowed)
            if not ok:
                break
            levels[qi] -= 1
            best = ev, excluded
            report.steps.append(
                {
                    "quasi_identifier": qi,
                    "level": levels[qi],
                    "rung": RUNGS[qi][levels[qi]],
                    "smallest_class": int(_evaluate(pop, levels, k, l, set()).sizes.min()),
                    "suppression_needed": len(excluded),
                    "reached": True,
                    "relaxed": True,
                }
            )
    return best


def _refuse(
    pop: Population,
    levels: dict[str, int],
    k: int,
    l: int,  # noqa: E741
    allowed: int,
    report: AnonymityReport,
) -> None:
    """Refuse, saying why without a count below k (or below 10 patients), naming the
    quasi-identifier that blocks and the request fields that could lift it."""
    final = _evaluate(pop, levels, k, l, set())
    smallest = int(final.sizes.min()) if len(final.sizes) else 0
    least_diverse = int(final.diversity.min()) if len(final.diversity) else 0
    # The blocker: among the quasi-identifiers still published, the one whose removal leaves
    # the fewest persons to suppress.
    candidates = [q for q in QUASI_IDENTIFIERS if levels[q] < DROPPED[q]] or list(QUASI_IDENTIFIERS)
    trials = {qi: _evaluate(pop, levels, k, l, set(), neutral=qi) for qi in candidates}
    blocking = min(candidates, key=lambda q: (len(trials[q].failing), -int(trials[q].sizes.min())))
    report.levels = dict(levels)
    report.generalisations = _rungs(levels, pop.persons["zip"].notna().any())
    report.after = final.stats(k)
    report.blocking = blocking
    report.diagnoses = _diagnosis_counts(final.diagnosis_map)
    n = len(pop.persons)
    budget = (
        f"{allowed} patient(s) sur {n}, soit {fmt_percent(report.max_suppression)}"
        if n >= THRESHOLD
        else f"{fmt_percent(report.max_suppression)} de la cohorte"
    )
    # k alone may be reachable within the suppression budget: then l is what blocks.
    k_only = _evaluate(pop, levels, k, 1, set())
    cohort_values = pop.persons["sensitive"].nunique(dropna=False)
    if l > 1 and len(k_only.failing) <= allowed and cohort_values < l:
        reason = (
            f"l = {l} inatteignable : l'attribut sensible ({SENSITIVE}) ne prend que "
            f"{cohort_values} valeur(s) dans toute la cohorte (une cohorte définie par une "
            f"maladie a souvent un seul chapitre) ; k = {k} serait atteint"
        )
    elif l > 1 and len(k_only.failing) <= allowed:
        reason = (
            f"l = {l} inatteignable : une classe n'a que {least_diverse} valeur(s) distincte(s) "
            f"de l'attribut sensible ({SENSITIVE}) ; k = {k} serait atteint"
        )
    elif smallest < k:
        reason = f"k = {k} inatteignable : la plus petite classe compte moins de {k} patients"
    else:
        reason = (
            f"l = {l} inatteignable : une classe n'a que {least_diverse} valeur(s) distincte(s) "
            f"de l'attribut sensible ({SENSITIVE})"
        )
    size_note = f" ; la cohorte compte moins de {k} patients" if n < k else ""
    without = trials[blocking]
    if l > 1 and len(k_only.failing) <= allowed:  # no quasi-identifier is to blame
        report.remedies = ("l",)
        report.message = (
            f"Partage refusé — {reason} après généralisation maximale et suppression autorisée "
            f"({budget}). Baissez l (l = 1 : sans contrôle de diversité) ou élargissez la "
            "cohorte à d'autres diagnostics."
        )
        raise ShareRefusedError(report.message, report, fields=("l",))
    without_smallest = int(without.sizes.min()) if len(without.sizes) else 0
    remedies = REMEDIES[blocking]
    if blocking == "age" and levels["age"] >= AGE_BANDS[20]:
        remedies = ("drop",)  # 20-year bands already: only dropping age is left
    report.remedies = ("k", "max_suppression", *remedies)
    lift = {
        "age": "élargissez les tranches d'âge (20 ans) ou retirez l'âge",
        "sex": "retirez le sexe",
        "postcode": "retirez le code postal",
        "diagnosis": "retirez les diagnostics rares",
    }[blocking]
    if remedies == ("drop",) and blocking == "age":
        lift = "retirez l'âge"
    report.message = (
        f"Partage refusé — {reason} après généralisation maximale et suppression autorisée "
        f"({budget}){size_note}. Quasi-identifiant bloquant : {QI_NAMES[blocking]} (sans lui, "
        f"la plus petite classe compterait {_size_text(without_smallest, k, n)} et "
        f"{small_text(len(without.failing))} resteraient à supprimer). Élargissez la cohorte, "
        f"baissez k, acceptez plus de suppression, ou {lift} du partage."
    )
    raise ShareRefusedError(report.message, report, fields=report.remedies)


def _size_text(n: int, k: int, cohort: int) -> str:
    """A class size for a refusal message: below k said "moins de k"; in a cohort of fewer
    than 10 patients (whose size the report hides) below 10 said "moins de 10" — one class
    may be the whole cohort."""
    if 0 < n < k:
        return f"moins de {k} patients"
    return small_text(n) if cohort < THRESHOLD else f"{n} patient(s)"
