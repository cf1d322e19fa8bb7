"""The carbon service: the compute line is the sum of the gateway's real ``llm_usage`` rows
over the inventory's period, read and audited (``carbon.compute``); the report's files (XLSX,
a folder of CSV); the policy asked first."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from hopia.assistant.llm.base import Completion, Usage
from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError
from hopia.services import carbon, llm_gateway
from hopia.services.context import Context
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET_KEY, TEST_VAULT_KEY


@dataclass
class Canned:
    """A local backend that answers at once with known token counts."""

    name: str = "canned"
    model: str = "canned-7b"
    local: bool = True
    parameters_b: float | None = 7.0

    def complete(self, messages, **_: object) -> Completion:  # noqa: ANN001
        return Completion("Réponse.", Usage(40, 300), self.model, self.name)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        home=tmp_path,
        secret_key=TEST_SECRET_KEY,
        vault_key=TEST_VAULT_KEY,
        audit_key=TEST_AUDIT_KEY,
    )
    with Context.local(settings, "gestionnaire.test") as context:
        context.warehouse()  # created and migrated
        yield context


def sql(ctx: Context, query: str) -> list:
    with ctx.warehouse().engine.connect() as conn:
        return list(conn.execute(text(query)))


def inventory(tmp_path: Path, period: str) -> Path:
    path = tmp_path / "inventaire.csv"
    path.write_text(f"post;quantity;unit;period;site\nenergie.electricite;1000;kWh;{period};A\n")
    return path


def test_the_compute_line_sums_the_gateway_usage_rows(ctx: Context, tmp_path: Path) -> None:
    gateway = llm_gateway.Gateway({"canned": Canned()}, default="canned")
    request = llm_gateway.ChatRequest.of(messages=[{"role": "user", "content": "Bonjour"}])
    for _ in range(2):
        llm_gateway.complete(ctx, request, gateway=gateway)
    (row,) = sql(
        ctx,
        "SELECT count(*) AS n, sum(energy_wh) AS wh, sum(co2e_g) AS g FROM hopia_meta.llm_usage",
    )
    assert row.n == 2 and row.g > 0

    this_year = str(date.today().year)
    result = carbon.report(ctx, carbon.ReportRequest.of(inventory=inventory(tmp_path, this_year)))
    assert result.compute is not None and result.compute.calls == 2
    assert result.compute.kgco2e == pytest.approx(row.g / 1000)
    assert result.compute.energy_kwh == pytest.approx(row.wh / 1000)
    lines = {t.name: t for t in result.tables}["Lignes"]
    compute = [r for r in lines.rows if r[1] == carbon.COMPUTE_POST]
    assert len(compute) == 1 and compute[0][-1] == pytest.approx(round(row.g / 1000, 3))
    assert result.total_t == pytest.approx(0.052 + row.g / 1e6)
    (audited,) = sql(
        ctx,
        "SELECT actor, target, details FROM hopia_meta.audit_log WHERE action = 'carbon.compute'",
    )
    details = json.loads(audited.details)
    assert (audited.actor, audited.target) == ("gestionnaire.test", "llm_usage")
    assert details == {"since": f"{this_year}-01-01", "until": f"{this_year}-12-31", "calls": 2}

    earlier = carbon.report(ctx, carbon.ReportRequest.of(inventory=inventory(tmp_path, "2019")))
    assert earlier.compute is not None and earlier.compute.calls == 0
    without = carbon.report(
        ctx, carbon.ReportRequest.of(inventory=inventory(tmp_path, "2019"), compute=False)
    )
    assert without.compute is None and without.total_t == pytest.approx(0.052)


def test_the_report_writes_a_workbook_or_a_folder_of_csv(ctx: Context, tmp_path: Path) -> None:
    request = carbon.ReportRequest.of(
        scenario="sortie-desflurane", compute=False, output=tmp_path / "b.xlsx"
    )
    result = carbon.report(ctx, request)
    sheets = pd.read_excel(io.BytesIO(result.written[0].read_bytes()), sheet_name=None)
    assert list(sheets) == ["Scopes", "Postes", "Lignes", "Scénario", "Facteurs"]
    assert sheets["Scopes"]["Émissions (tCO2e)"].iloc[-1] == pytest.approx(result.total_t, abs=1e-3)
    folder = carbon.report(ctx, request.model_copy(update={"output": tmp_path / "csv"})).written
    assert sorted(p.name for p in folder) == sorted(
        f"carbone-{k}.csv" for k in ("scopes", "postes", "lignes", "scenario", "facteurs")
    )
    back = pd.read_csv(tmp_path / "csv" / "carbone-scenario.csv", sep=";", encoding="utf-8-sig")
    assert back["Écart (tCO2e)"].iloc[-1] == pytest.approx(result.delta_t, abs=1e-3)


def test_the_policy_is_asked_first(ctx: Context) -> None:
    class Refuse:
        def check(self, principal, action, resource, conn=None) -> None:  # noqa: ANN001
            raise AccessDeniedError(f"refusé : {action}")

    ctx.policy = Refuse()  # type: ignore[assignment]
    with pytest.raises(AccessDeniedError, match="management.read"):
        carbon.report(ctx, carbon.ReportRequest.of())
    with pytest.raises(AccessDeniedError):
        carbon.factors(ctx, carbon.FactorsRequest.of())
