"""Roster service: a nurse roster solved with CP-SAT (``hopia roster``, ``/pilotage/planning``).

Solving is planning (``management.plan``): from files (the CLI: staff, demand, rules), from
tables (the API) or on the synthetic example (the page). The result is the nurse × day grid,
the coverage per day and shift, the hours, nights and weekends per nurse and the wishes met,
or, when no roster exists, the rules that conflict, by their French names. The last roster a
user solved is kept under ``<home>/management/roster/`` (one JSON per user) for the page and
its CSV / XLSX downloads (``management.read``). No patient data and no warehouse read: nothing
to audit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from hopia.platform.exceptions import ConflictError, InvalidRequestError
from hopia.platform.files import atomic_file, write_text_atomic
from hopia.services.context import Context, Request, french_errors

RESOURCE = "roster"
TABLES_FR = {
    "planning": "planning",
    "couverture": "couverture",
    "infirmiers": "infirmiers",
    "souhaits": "souhaits",
}
"""The downloadable tables (address slug -> sheet name)."""


class SolverOptions(Request):
    time_limit_s: float = Field(30.0, gt=0, le=600)
    workers: int = Field(2, ge=1, le=16)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    relative_gap: float = Field(0.0, ge=0, le=1)


class SolveFilesRequest(SolverOptions):
    staff: Path
    demand: Path
    rules: Path | None = None
    start: date
    weeks: int = Field(6, ge=1, le=12)
    output: Path | None = None
    force: bool = False


class ExampleSolveRequest(SolverOptions):
    nurses: int = Field(30, ge=4, le=60)
    weeks: int = Field(6, ge=1, le=8)
    time_limit_s: float = Field(20.0, gt=0, le=30)
    start: date | None = None


class StaffRow(BaseModel):
    nurse: str = Field(min_length=1, max_length=40)
    name: str = ""
    ratio: float = Field(1.0, ge=0.1, le=1)
    skills: str = ""
    leave: str = ""
    wishes: str = ""


class DemandRow(BaseModel):
    date: date
    shift: str = Field(min_length=1, max_length=4)
    required: int = Field(ge=0, le=1000)
    skill: str = ""


class SolveTablesRequest(SolverOptions):
    """The API's request: synchronous, so 30 s at most."""

    time_limit_s: float = Field(10.0, gt=0, le=30)
    workers: int = Field(2, ge=1, le=4)  # a web request: a few threads, never the machine
    staff: list[StaffRow] = Field(min_length=1, max_length=200)
    demand: list[DemandRow] = Field(max_length=50_000)
    rules: dict[str, Any] = Field(default_factory=dict)
    start: date
    weeks: int = Field(6, ge=1, le=12)


class ExampleFilesRequest(Request):
    folder: Path
    nurses: int = Field(30, ge=4, le=200)
    weeks: int = Field(6, ge=1, le=12)
    start: date | None = None
    seed: int = Field(0, ge=0)
    force: bool = False


class DemandFromForecastRequest(Request):
    forecast: Path
    quantile: float = Field(gt=0, lt=1)
    patients_per_nurse: dict[str, float] = Field(min_length=1)
    minimum: dict[str, int] = Field(default_factory=dict)
    output: Path
    force: bool = False


class ShiftOut(BaseModel):
    code: str
    label: str
    start: str
    end: str
    hours: float
    night: bool


class GridRow(BaseModel):
    nurse: str
    name: str
    ratio: float
    cells: list[str]


class CoverageRow(BaseModel):
    date: date
    shift: str
    required: int
    assigned: int
    missing: int
    surplus: int


class NurseRow(BaseModel):
    nurse: str
    name: str
    ratio: float
    target_hours: float
    worked_hours: float
    gap_hours: float
    shifts: int
    nights: int
    weekend_days: int
    weekends_off: int
    leave_days: int
    wishes: int
    wishes_met: int


class WishRow(BaseModel):
    nurse: str
    name: str
    date: date
    weight: int
    met: bool


class ConflictOut(BaseModel):
    kind: str
    label: str
    nurse: str | None = None
    day: date | None = None
    shift: str | None = None


class RosterResult(BaseModel):
    """A solved roster, or the rules in conflict."""

    status: Literal["optimal", "feasible", "infeasible", "unknown", "invalid"]
    status_label: str
    solved: bool
    start: date
    weeks: int
    days: list[date]
    objective: float | None = None
    bound: float | None = None
    wall_s: float
    time_limit_s: float
    workers: int
    shifts: list[ShiftOut]
    grid: list[GridRow] = []
    coverage: list[CoverageRow] = []
    nurses: list[NurseRow] = []
    wishes: list[WishRow] = []
    conflicts: list[ConflictOut] = []
    conflicts_minimal: bool = False
    conflict_lines: list[str] = []
    """The conflicting rules in French, coverage summarised beyond eight."""
    first_solution_s: float | None = None
    source: str = "fichiers"
    outputs: list[Path] = []

    @property
    def missing(self) -> int:
        """Nurse-shifts short of the demand (soft coverage)."""
        return sum(r.missing for r in self.coverage)


class ExampleFiles(BaseModel):
    folder: Path
    files: list[Path]
    start: date
    weeks: int
    nurses: int


# -- inputs ------------------------------------------------------------------------------------


def _rules_from(data: dict[str, Any] | Path | None, field: str):  # noqa: ANN202 - RosterRules
    from hopia.management.roster import RosterRules, load_rules

    try:
        if isinstance(data, dict):
            return RosterRules.model_validate(data)
        return load_rules(data)
    except ValidationError as exc:
        fields, message = french_errors(exc.errors(include_url=False, include_input=False))
        raise InvalidRequestError(f"règles : {message}", fields=(field,)) from None
    except (OSError, ValueError) as exc:  # unreadable file, bad YAML / JSON
        raise InvalidRequestError(f"règles {data} illisibles : {exc}", fields=(field,)) from None


def _check_output(path: Path, force: bool, field: str) -> None:
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InvalidRequestError(f"{path} : extension .csv ou .xlsx attendue", fields=(field,))
    if path.is_dir():
        raise InvalidRequestError(
            f"{path} est un dossier : un fichier est attendu", fields=(field,)
        )
    if path.exists() and not force:
        raise ConflictError(
            f"{path} existe déjà ; demander son remplacement", fields=(field, "force")
        )


def _existing(path: Path, field: str) -> None:
    if not Path(path).is_file():
        raise InvalidRequestError(f"{path} : fichier introuvable", fields=(field,))


# -- solving -----------------------------------------------------------------------------------


def _options(request: SolverOptions):  # noqa: ANN202 - SolveOptions
    from hopia.management.roster import SolveOptions

    return SolveOptions(
        time_limit_s=request.time_limit_s,
        workers=request.workers,
        seed=request.seed,
        relative_gap=request.relative_gap,
        explain_time_s=min(15.0, max(5.0, request.time_limit_s)),
    )


def _result(roster, request: SolverOptions, source: str) -> RosterResult:  # noqa: ANN001
    from hopia.management.roster import STATUS_FR, report
    from hopia.management.roster.solve import summary

    p = roster.problem
    result = RosterResult(
        status=roster.status,
        status_label=STATUS_FR[roster.status],
        solved=roster.solved,
        start=p.start,
        weeks=p.weeks,
        days=p.days,
        objective=roster.objective,
        bound=roster.bound,
        wall_s=round(roster.wall_s, 2),
        time_limit_s=request.time_limit_s,
        workers=request.workers,
        shifts=[
            ShiftOut(code=c, label=s.label, start=s.start, end=s.end, hours=s.hours, night=s.night)
            for c, s in p.rules.usable().items()
        ],
        conflicts=[ConflictOut(**c.__dict__) for c in roster.conflicts],
        conflicts_minimal=roster.conflicts_minimal,
        conflict_lines=summary(roster.conflicts),
        first_solution_s=None
        if roster.first_solution_s is None
        else round(roster.first_solution_s, 2),
        source=source,
    )
    if roster.solved:
        grid = report.grid(roster)
        result.grid = [
            GridRow(
                nurse=r["nurse"],
                name=r["name"],
                ratio=r["ratio"],
                cells=[r[d.isoformat()] for d in p.days],
            )
            for r in grid.to_dict("records")
        ]
        result.coverage = [CoverageRow(**r) for r in report.coverage(roster).to_dict("records")]
        result.nurses = [NurseRow(**r) for r in report.nurses(roster).to_dict("records")]
        result.wishes = [WishRow(**r) for r in report.wishes(roster).to_dict("records")]
    return result


def _solve(ctx: Context, problem, request: SolverOptions, source: str) -> RosterResult:  # noqa: ANN001
    from hopia.management.roster import solve as solve_roster

    result = _result(solve_roster(problem, _options(request)), request, source)
    _keep(ctx, result)
    return result


def solve_files(ctx: Context, request: SolveFilesRequest) -> RosterResult:
    """The roster of a staff and a demand CSV under a rules file; with ``output``, the grid as
    CSV (``.csv``) or every table as XLSX (``.xlsx``)."""
    from hopia.management.roster import make_problem, read_table

    _existing(request.staff, "staff")
    _existing(request.demand, "demand")
    if request.rules is not None:
        _existing(request.rules, "rules")
    if request.output is not None:
        _check_output(request.output, request.force, "output")
    ctx.authorize("management.plan", RESOURCE)
    rules = _rules_from(request.rules, "rules")
    problem = make_problem(
        read_table(request.staff, "staff"),
        read_table(request.demand, "demand"),
        rules,
        request.start,
        request.weeks,
    )
    result = _solve(ctx, problem, request, "fichiers")
    if request.output is not None and result.solved:
        _write(result, request.output)
        result.outputs = [request.output]
    return result


def solve_tables(ctx: Context, request: SolveTablesRequest) -> RosterResult:
    """The roster of tables sent as JSON (the API)."""
    import pandas as pd

    from hopia.management.roster import make_problem

    ctx.authorize("management.plan", RESOURCE)
    rules = _rules_from(request.rules, "rules")
    staff = pd.DataFrame([r.model_dump() for r in request.staff]).astype(str)
    demand = pd.DataFrame(
        [{**r.model_dump(), "date": r.date.isoformat()} for r in request.demand],
        columns=["date", "shift", "required", "skill"],
    ).astype(str)
    problem = make_problem(staff, demand, rules, request.start, request.weeks)
    return _solve(ctx, problem, request, "API")


def solve_example(ctx: Context, request: ExampleSolveRequest) -> RosterResult:
    """The roster of the synthetic service (:mod:`hopia.management.roster.example`)."""
    from hopia.management.roster import example

    ctx.authorize("management.plan", RESOURCE)
    ex = example.generate(request.nurses, request.weeks, request.start, request.seed)
    return _solve(ctx, ex.problem(), request, "exemple synthétique")


def write_example(ctx: Context, request: ExampleFilesRequest) -> ExampleFiles:
    """``staff.csv``, ``demand.csv``, ``forecast.csv`` and ``rules.yml`` of the synthetic
    service in ``folder``."""
    from hopia.management.export import to_csv
    from hopia.management.roster import example

    folder = Path(request.folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidRequestError(f"{folder} n'est pas un dossier", fields=("folder",))
    names = ("staff.csv", "demand.csv", "forecast.csv", "rules.yml")
    taken = [n for n in names if (folder / n).exists()]
    if taken and not request.force:
        raise ConflictError(
            f"{folder} contient déjà {', '.join(taken)} ; demander leur remplacement",
            fields=("folder", "force"),
        )
    ctx.authorize("management.plan", RESOURCE)
    ex = example.generate(request.nurses, request.weeks, request.start, request.seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("staff.csv", to_csv(ex.staff)),
        ("demand.csv", to_csv(ex.demand)),
        ("forecast.csv", to_csv(ex.forecast)),
        ("rules.yml", ex.rules_yaml.encode()),
    ):
        with atomic_file(folder / name, "wb") as fh:
            fh.write(data)
    return ExampleFiles(
        folder=folder,
        files=[folder / n for n in names],
        start=ex.start,
        weeks=ex.weeks,
        nurses=request.nurses,
    )


def demand_from_forecast(ctx: Context, request: DemandFromForecastRequest) -> Path:
    """The demand CSV (``date, shift, required``) of a quantile forecast of patients."""
    from hopia.management.export import to_csv
    from hopia.management.roster import nurses_from_forecast, read_table

    _existing(request.forecast, "forecast")
    if request.output.suffix.lower() != ".csv":
        raise InvalidRequestError(f"{request.output} : extension .csv attendue", fields=("output",))
    _check_output(request.output, request.force, "output")
    ctx.authorize("management.plan", RESOURCE)
    demand = nurses_from_forecast(
        read_table(request.forecast, "forecast"),
        quantile=request.quantile,
        patients_per_nurse=request.patients_per_nurse,
        minimum=request.minimum,
    )
    with atomic_file(request.output, "wb") as fh:
        fh.write(to_csv(demand))
    return request.output


# -- tables and the last roster ----------------------------------------------------------------


def frames(result: RosterResult) -> dict[str, Any]:
    """The result's tables as pandas frames with French headers, by sheet name."""
    import pandas as pd

    from hopia.management.roster.report import in_french

    grid = pd.DataFrame(
        [
            {
                "nurse": r.nurse,
                "name": r.name,
                "ratio": r.ratio,
                **dict(zip((d.isoformat() for d in result.days), r.cells, strict=True)),
            }
            for r in result.grid
        ],
        columns=["nurse", "name", "ratio", *(d.isoformat() for d in result.days)],
    )

    def table(rows: list[BaseModel], model: type[BaseModel]) -> pd.DataFrame:
        return pd.DataFrame([r.model_dump() for r in rows], columns=list(model.model_fields))

    return {
        "planning": in_french(grid),
        "couverture": in_french(table(result.coverage, CoverageRow)),
        "infirmiers": in_french(table(result.nurses, NurseRow)),
        "souhaits": in_french(table(result.wishes, WishRow)),
    }


def _write(result: RosterResult, path: Path) -> None:
    from hopia.management.export import to_csv, to_xlsx

    tables = frames(result)
    data = to_xlsx(tables) if path.suffix.lower() == ".xlsx" else to_csv(tables["planning"])
    with atomic_file(path, "wb") as fh:
        fh.write(data)


def _store(ctx: Context) -> Path:
    digest = hashlib.sha256(ctx.actor.encode()).hexdigest()[:24]
    return Path(ctx.settings.home) / "management" / "roster" / f"{digest}.json"


def _keep(ctx: Context, result: RosterResult) -> None:
    write_text_atomic(_store(ctx), result.model_dump_json(), private=True)


def last(ctx: Context) -> RosterResult | None:
    """The last roster this user solved, or None."""
    ctx.authorize("management.read", RESOURCE)
    path = _store(ctx)
    if not path.is_file():
        return None
    try:
        return RosterResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError):
        return None  # an older or damaged file: as if none


def download(ctx: Context, table: str, fmt: Literal["csv", "xlsx"]) -> tuple[bytes, str, str]:
    """One table of the last roster as CSV, or every table as XLSX: (bytes, media type, file
    name)."""
    from hopia.management.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
    from hopia.platform.exceptions import NotFoundError

    if table not in TABLES_FR:
        raise InvalidRequestError(f"tableau inconnu : {', '.join(TABLES_FR)}", fields=("table",))
    result = last(ctx)
    if result is None or not result.solved:
        raise NotFoundError("aucun planning calculé : lancez d'abord un calcul")
    tables = frames(result)
    stem = f"planning-{result.start.isoformat()}"
    if fmt == "xlsx":
        return to_xlsx(tables), XLSX_MEDIA_TYPE, f"{stem}.xlsx"
    return to_csv(tables[table]), CSV_MEDIA_TYPE, f"{stem}-{table}.csv"
