"""Check builders come from a registry: a site's own check type (a plug-in, registered at run
time here) runs through the normal runner; an unknown one is refused before any query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Select, func, select

from hopia.data.quality import Catalogue, Check, CheckType, Status, load_catalogue, run_checks
from hopia.data.quality.checks import BUILDERS
from hopia.data.quality.model import Level
from hopia.platform.exceptions import RegistryError
from hopia.platform.warehouse import Warehouse, schema
from tests.data.quality.builders import TODAY, seed_clean

PLUGIN = "hopiaTestBornBefore1900"


def born_before_1900(check: Check, today: date) -> Select:
    """Persons born before 1900 among all persons: one SELECT of (violated, denominator)."""
    person = schema.CDM[check.table]
    violated = select(func.count()).where(person.c.year_of_birth < 1900).scalar_subquery()
    total = select(func.count()).select_from(person).scalar_subquery()
    return select(violated.label("violated"), total.label("denominator"))


def plugin_catalogue(name: str = PLUGIN) -> Catalogue:
    base = load_catalogue().select(tables=["person"], check_types=["cdmTable"])
    kind = CheckType(
        name=name,
        level=Level.TABLE,
        kahn_context="Validation",
        kahn_category="Plausibility",
        kahn_subcategory="Atemporal",
        severity="characterization",
        coverage="covered",
        description="Patients de {table} nés avant 1900.",
    )
    check = Check(
        check_id=f"{name}:person", check_type=name, level=Level.TABLE, table="person", origin="site"
    )
    return base.model_copy(
        update={"types": {**base.types, name: kind}, "checks": (*base.checks, check)}
    )


@pytest.fixture
def registered() -> Iterator[None]:
    BUILDERS.register(PLUGIN, born_before_1900)
    yield
    BUILDERS.unregister(PLUGIN)


def test_a_registered_check_runs_through_the_runner(registered: None, tmp_path) -> None:
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    seed_clean(wh)
    run = run_checks(wh, plugin_catalogue(), today=TODAY)
    wh.close()
    result = next(r for r in run.results if r.check_type == PLUGIN)
    assert result.status == Status.PASSED and result.num_denominator > 0
    assert result.description == "Patients de person nés avant 1900."
    assert PLUGIN in BUILDERS.names()


def test_an_unknown_check_type_is_refused_before_any_query() -> None:
    catalogue = plugin_catalogue("hopiaNoSuchCheck")

    class NoWarehouse:  # any attribute access would be a query attempt
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the warehouse was used: {name}")

    with pytest.raises(RegistryError, match="contrôle qualité inconnu : « hopiaNoSuchCheck »") as e:
        run_checks(NoWarehouse(), catalogue)  # type: ignore[arg-type]
    assert "plausibleGender" in e.value.details["available"]
