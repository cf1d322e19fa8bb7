"""Carbon service: the footprint of the hospital by BEGES scope and post (``management.read``).

- :func:`factors`: the versioned emission factor table with its sources (nothing read from
  the warehouse, nothing audited);
- :func:`report`: an inventory (a file, or the shipped illustrative one) times the factors of
  a GWP method, with a scenario compared to it; tables written to ``output`` (an ``.xlsx``
  workbook, or a folder of CSV files) when asked. With ``compute`` (default), the platform's own
  compute footprint over the inventory's period is one more line, "Calcul : assistant IA
  (Hopia)": the sum of the gateway's ``llm_usage`` rows, read and audited (``carbon.compute``:
  the period and the count of calls) in one transaction;
- :func:`download`: one table, or every table, as CSV or XLSX bytes (the web's downloads).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, select

from hopia.management import carbon
from hopia.management import export as table_export
from hopia.management.carbon import footprint as fp
from hopia.platform import audit
from hopia.platform.exceptions import InvalidRequestError
from hopia.platform.files import atomic_file
from hopia.platform.warehouse import schema
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

ACTION = "management.read"
COMPUTE_ID = "numerique.assistant_ia"
COMPUTE_POST = "Calcul : assistant IA (Hopia)"
COMPUTE_UNCERTAINTY_PCT = 100.0  # an estimate (docs/assistant/footprint.md), not a meter
COMPUTE_SOURCE = "hopia_meta.llm_usage (estimation par appel, docs/assistant/footprint.md)"
# Table key (web addresses, CSV names) -> the report's French table name.
TABLES = {
    "scopes": "Scopes",
    "postes": "Postes",
    "lignes": "Lignes",
    "scenario": "Scénario",
    "facteurs": "Facteurs",
}


class FactorsRequest(Request):
    version: str = carbon.DEFAULT_VERSION
    method: carbon.Method | None = None  # None: every row, both methods


class FactorOut(BaseModel):
    factor_id: str
    post: str
    scope: int
    category: str
    unit: str
    kgco2e_per_unit: float
    uncertainty_pct: float
    method: str
    source: str
    year: int
    note: str


class FactorList(BaseModel):
    version: str
    versions: list[str]
    factors: list[FactorOut]


class ReportRequest(Request):
    inventory: Path | None = None
    """A CSV or YAML inventory; None: the shipped illustrative inventory (1,000-bed CHU)."""
    scenario: str | None = None
    """A shipped scenario's name or a YAML file."""
    method: carbon.Method = carbon.DEFAULT_METHOD
    version: str = carbon.DEFAULT_VERSION
    compute: bool = True
    """Add the assistant's compute footprint over the inventory's period (reads the warehouse)."""
    output: Path | None = None
    """``.xlsx``: one workbook; otherwise a folder of CSV files (one per table)."""


class TableOut(BaseModel):
    name: str
    columns: list[str]
    rows: list[list[Any]]


class ScopeTotal(BaseModel):
    scope: int
    tco2e: float
    half_width_t: float
    share_pct: float


class ComputeLine(BaseModel):
    calls: int
    energy_kwh: float
    kgco2e: float
    since: date | None
    until: date | None


class CarbonResult(BaseModel):
    inventory: str
    example: bool
    version: str
    method: str
    method_label: str
    total_t: float
    half_width_t: float
    scopes: list[ScopeTotal]
    scenario: str | None
    scenario_label: str | None
    scenario_description: str | None
    scenario_total_t: float | None
    delta_t: float | None
    delta_half_width_t: float | None
    compute: ComputeLine | None
    tables: list[TableOut]
    written: list[Path]


def factors(ctx: Context, request: FactorsRequest) -> FactorList:
    """The factor table ``request.version`` (one method's rows, or all)."""
    ctx.authorize(ACTION, "carbon:factors")
    table = carbon.load_factors(request.version)
    rows = table.for_method(request.method) if request.method else list(table.factors)
    return FactorList(
        version=table.version,
        versions=carbon.versions(),
        factors=[FactorOut(**vars(f)) for f in rows],
    )


def _compute_line(ctx: Context, since: date | None, until: date | None) -> ComputeLine:
    u = schema.llm_usage.c
    query = select(
        func.count().label("calls"),
        func.coalesce(func.sum(u.energy_wh), 0).label("energy_wh"),
        func.coalesce(func.sum(u.co2e_g), 0).label("co2e_g"),
    )
    if since is not None:
        query = query.where(u.at >= datetime.combine(since, time()))
    if until is not None:
        query = query.where(u.at < datetime.combine(until + timedelta(days=1), time()))
    with existing_warehouse(ctx).begin() as conn:
        row = conn.execute(query).one()
        audit.record(
            conn,
            ctx.actor,
            "carbon.compute",
            "llm_usage",
            None,
            {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "calls": int(row.calls),
            },
        )
    return ComputeLine(
        calls=int(row.calls),
        energy_kwh=float(row.energy_wh) / 1000,
        kgco2e=float(row.co2e_g) / 1000,
        since=since,
        until=until,
    )


def _fixed(line: ComputeLine) -> fp.FixedLine:
    period = f"{line.since or '…'}/{line.until or '…'}"
    return fp.FixedLine(
        factor_id=COMPUTE_ID,
        post=COMPUTE_POST,
        scope=2,
        category="Numérique",
        amount=line.energy_kwh,
        unit="kWh",
        kgco2e=line.kgco2e,
        uncertainty_pct=COMPUTE_UNCERTAINTY_PCT,
        where=f"{COMPUTE_SOURCE}, {line.calls} appel(s)",
        period=period,
    )


def _check_output(path: Path) -> None:
    if path.suffix.lower() == ".xlsx":
        if path.is_dir():
            raise InvalidRequestError(
                f"{path} est un dossier, pas un fichier .xlsx", fields=("output",)
            )
    elif path.exists() and not path.is_dir():
        raise InvalidRequestError(
            f"{path} existe et n'est pas un dossier (un dossier de CSV, ou un fichier .xlsx)",
            fields=("output",),
        )


def _write(tables: dict[str, Any], output: Path) -> list[Path]:
    if output.suffix.lower() == ".xlsx":
        with atomic_file(output, "wb") as fh:
            fh.write(table_export.to_xlsx(tables))
        return [output]
    output.mkdir(parents=True, exist_ok=True)
    written = []
    names = {v: k for k, v in TABLES.items()}
    for name, frame in tables.items():
        path = output / f"carbone-{names.get(name, name)}.csv"
        with atomic_file(path, "wb") as fh:
            fh.write(table_export.to_csv(frame))
        written.append(path)
    return written


def _frames(ctx: Context, request: ReportRequest) -> tuple[CarbonResult, dict[str, Any]]:
    ctx.authorize(ACTION, "carbon:report")
    if request.output is not None:
        _check_output(request.output)
    table = carbon.load_factors(request.version)
    if request.inventory is None:  # the shipped example, named without its installed path
        text = carbon.example_inventory().read_text(encoding="utf-8")
        inventory = carbon.read_inventory(table, text, f"exemple {carbon.EXAMPLE}")
    else:
        inventory = carbon.load_inventory(table, request.inventory)
    scenario = carbon.load_scenario(table, request.scenario) if request.scenario else None
    compute = _compute_line(ctx, *inventory.period()) if request.compute else None
    fixed = [_fixed(compute)] if compute is not None else []
    built = carbon.build_report(table, request.method, inventory, scenario, fixed)
    frames = built.tables(table)
    b = built.baseline
    total = built.comparison.iloc[-1] if built.comparison is not None else None
    result = CarbonResult(
        inventory=inventory.name,
        example=request.inventory is None,
        version=table.version,
        method=request.method,
        method_label=carbon.METHOD_FR[request.method],
        total_t=b.total_t,
        half_width_t=b.half_width_t,
        scopes=[ScopeTotal(**r) for r in b.by_scope.to_dict("records")],
        scenario=scenario.name if scenario else None,
        scenario_label=scenario.label if scenario else None,
        scenario_description=scenario.description if scenario else None,
        scenario_total_t=float(total.scenario_t) if total is not None else None,
        delta_t=float(total.delta_t) if total is not None else None,
        delta_half_width_t=float(total.delta_half_width_t) if total is not None else None,
        compute=compute,
        tables=[
            TableOut(
                name=name,
                columns=[str(c) for c in frame.columns],
                rows=frame.astype(object).where(frame.notna(), None).values.tolist(),
            )
            for name, frame in frames.items()
        ],
        written=[],
    )
    return result, frames


def report(ctx: Context, request: ReportRequest) -> CarbonResult:
    """The footprint of ``request.inventory`` (module docstring)."""
    result, frames = _frames(ctx, request)
    if request.output is not None:
        result.written = _write(frames, request.output)
    return result


class Download(BaseModel):
    filename: str
    media_type: str
    content: bytes


def download(
    ctx: Context, request: ReportRequest, table: str | None, fmt: Literal["csv", "xlsx"]
) -> Download:
    """``table`` (a key of :data:`TABLES`; None: every table, XLSX only) as a file."""
    if table is not None and table not in TABLES:
        raise InvalidRequestError(
            f"tableau inconnu : « {table} » ({', '.join(TABLES)})", fields=("table",)
        )
    if table is None and fmt == "csv":
        raise InvalidRequestError("un seul tableau par fichier CSV", fields=("table",))
    result, frames = _frames(ctx, request.model_copy(update={"output": None}))
    if table is not None:
        if TABLES[table] not in frames:
            raise InvalidRequestError(
                "pas de comparaison sans scénario : choisissez un scénario", fields=("scenario",)
            )
        frames = {TABLES[table]: frames[TABLES[table]]}
    stem = f"carbone-{table or 'rapport'}-{result.method}" + (
        f"-{result.scenario}" if result.scenario else ""
    )
    if fmt == "csv":
        (frame,) = frames.values()
        return Download(
            filename=f"{stem}.csv",
            media_type=table_export.CSV_MEDIA_TYPE,
            content=table_export.to_csv(frame),
        )
    return Download(
        filename=f"{stem}.xlsx",
        media_type=table_export.XLSX_MEDIA_TYPE,
        content=table_export.to_xlsx(frames),
    )
