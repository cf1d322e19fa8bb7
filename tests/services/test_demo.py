"""The demo service: a synthetic CHU generated, ingested into the demo's own warehouse through
the ingest service (so audited), summarised; each run starts from scratch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hopia.platform.config import get_settings
from hopia.platform.exceptions import AccessDeniedError, InvalidRequestError
from hopia.platform.warehouse import Warehouse, schema
from hopia.services.context import Context
from hopia.services.demo import DemoRequest, prepare, run_demo
from tests.services.contexts import researcher


@pytest.fixture(autouse=True)
def _in_process_models(in_process_models: None) -> None:
    """Models in the test process (the worker has its own tests)."""


@pytest.mark.slow
def test_the_demo_runs_end_to_end_is_reused_then_starts_from_scratch(hopia_home: Path) -> None:
    with Context.local(get_settings()) as ctx:
        result = run_demo(ctx, DemoRequest.of(patients=4, seed=3))
    s = result.summary
    assert result.corpus.folder == hopia_home / "demo" / "synth"
    assert result.corpus.patients == 4 and s.persons == 4
    assert s.documents >= result.corpus.documents and s.errors == 0
    assert s.mentions_total > 0 and s.top_conditions and s.example is not None
    assert result.warehouse.endswith("demo/warehouse.duckdb")
    assert not (hopia_home / "warehouse.duckdb").exists()  # the demo keeps to its own file
    # A home of its own: its keys beside its warehouse, and the variable that points at it.
    assert (hopia_home / "demo" / "secret.key").exists() and not (
        hopia_home / "secret.key"
    ).exists()
    assert result.environment["HOPIA_HOME"] == str(hopia_home / "demo")
    wh = Warehouse(result.warehouse)
    with wh.engine.connect() as conn:
        registry, entry = conn.execute(
            select(schema.audit_log).order_by(schema.audit_log.c.audit_id)
        ).mappings()
    wh.close()
    assert (registry["action"], entry["action"]) == ("ingest.patients", "ingest.run")
    assert json.loads(entry["details"])["added"] == s.documents

    stray = hopia_home / "demo" / "synth" / "files" / "essai.txt"
    stray.write_text("Reste d'un essai : fièvre.", "utf-8")
    # The same request again: the demo warehouse is reused as it is, with its figures.
    with Context.local(get_settings()) as ctx:
        reused = run_demo(ctx, DemoRequest.of(patients=4, seed=3))
    assert reused.corpus.reused and reused.summary == s
    assert reused.warehouse == result.warehouse and stray.exists()
    # Asked fresh: from scratch, and nothing of the earlier run (the stray file) comes in.
    with Context.local(get_settings()) as ctx:
        again = run_demo(ctx, DemoRequest.of(patients=4, seed=3, fresh=True))
    assert not again.corpus.reused and not stray.exists()
    assert again.summary.documents == s.documents  # same figures: nothing left from before
    assert again.summary.mentions_total == s.mentions_total


def test_the_demo_checks_its_request_and_the_policy_first(hopia_home: Path) -> None:
    with pytest.raises(InvalidRequestError) as excinfo:
        DemoRequest.of(patients=0)
    assert excinfo.value.fields == ("patients",)
    ctx = researcher(get_settings(), "cohort.")
    with pytest.raises(AccessDeniedError, match="demo.run"):
        prepare(ctx, DemoRequest.of(patients=2))
    assert not (hopia_home / "demo").exists()


def test_the_demo_home_is_its_own(hopia_home: Path) -> None:
    from hopia.services.demo import demo_environment, demo_settings

    settings = get_settings()
    demo = demo_settings(settings)
    assert demo.home == settings.home / "demo" and demo.cache_dir == settings.cache_dir
    assert demo.resolved_warehouse_url().endswith("/demo/warehouse.duckdb")
    assert demo.secret_key is None and demo.vault_key is None  # keys of its own
    assert demo.audit_key is None
    # The test settings carry keys in the environment: the printed commands empty them.
    assert demo_environment(settings) == {
        "HOPIA_HOME": str(hopia_home / "demo"),
        "HOPIA_SECRET_KEY": "",
        "HOPIA_VAULT_KEY": "",
        "HOPIA_AUDIT_KEY": "",
    }


@pytest.mark.slow
def test_the_demo_has_one_account_per_role_made_once(hopia_home: Path) -> None:
    pytest.importorskip("argon2", reason="the web extra is not installed")
    from hopia.platform.identity import passwords
    from hopia.services.demo import DEMO_ACCOUNTS, demo_accounts

    with Context.local(get_settings()) as ctx:
        result = run_demo(ctx, DemoRequest.of(patients=4, seed=5))
        made = demo_accounts(ctx)
    assert {(a.username, a.role) for a in made} == {(u, r) for u, r, _ in DEMO_ACCOUNTS}
    assert all(a.created for a in made)
    wh = Warehouse(result.warehouse)
    try:
        with wh.engine.connect() as conn:
            rows = {r.username: r for r in conn.execute(select(schema.account)).all()}
            sites = set(
                conn.execute(select(schema.CDM["visit_occurrence"].c.care_site_id)).scalars()
            )
    finally:
        wh.close()
    for account in made:
        row = rows[account.username]
        assert json.loads(row.roles) == [account.role]
        # Stored hashed (argon2id), never as typed.
        assert row.password_hash != account.password
        assert passwords.verify_password(row.password_hash, account.password)
        expected = [account.care_sites[0]] if account.role == "clinician" else []
        assert json.loads(row.care_sites) == expected
    clinician = next(a for a in made if a.role == "clinician")
    assert len(clinician.care_sites) == 1 and clinician.care_sites[0] in sites
    assert clinician.perimeter
    # A second demo run reuses the warehouse and the accounts as they are.
    with Context.local(get_settings()) as ctx:
        again = run_demo(ctx, DemoRequest.of(patients=4, seed=5))
        kept = demo_accounts(ctx)
    assert again.corpus.reused and not any(a.created for a in kept)
    assert [a.care_sites for a in kept] == [a.care_sites for a in made]


def test_the_demo_gets_its_pharmacy_once_where_the_stock_page_reads(hopia_home: Path) -> None:
    pytest.importorskip("openpyxl", reason="the management extra is not installed")
    from hopia.services import stock
    from hopia.services.demo import demo_settings, management_examples

    with Context.local(get_settings()) as ctx:
        first = management_examples(ctx)
        with Context(demo_settings(ctx.settings), ctx.principal, ctx.policy) as demo:
            assert first.stock_folder == stock.default_folder(demo)
        assert first.stock_created and (first.stock_folder / "movements.csv").is_file()
        before = (first.stock_folder / "movements.csv").stat().st_mtime_ns
        again = management_examples(ctx)
        assert not again.stock_created  # kept, not made again
        assert (first.stock_folder / "movements.csv").stat().st_mtime_ns == before
    with pytest.raises(AccessDeniedError), researcher(get_settings()) as ctx:
        management_examples(ctx)


def _demo_like_warehouse(url: str) -> dict[str, int]:
    """The minimum of a demo warehouse: its care sites (named as ingest names them, the
    emergency department among them), three documented patients and their visits."""
    from datetime import date

    wh = Warehouse(url)
    try:
        with wh.begin() as conn:
            wh.insert_rows(
                conn,
                schema.CDM["care_site"],
                [
                    {"care_site_id": i, "care_site_name": n, "care_site_source_value": n}
                    for i, n in ((1, "cardiologie"), (2, "urgences"), (3, "geriatrie"))
                ],
            )
            wh.insert_rows(
                conn,
                schema.CDM["person"],
                [
                    {
                        "person_id": i,
                        "gender_concept_id": 8507,
                        "year_of_birth": 1950,
                        "race_concept_id": 0,
                        "ethnicity_concept_id": 0,
                        "person_source_value": f"P{i}",
                    }
                    for i in (1, 2, 3)
                ],
            )
            visits = [  # (id, person, site, concept, start, end)
                (1, 1, 1, 9201, date(2024, 3, 1), date(2024, 3, 6)),
                (2, 2, 2, 9203, date(2024, 11, 2), date(2024, 11, 2)),
                (3, 3, 3, 9201, date(2025, 1, 10), date(2025, 1, 20)),
                (9, 3, None, 9202, date(2025, 2, 14), date(2025, 2, 14)),  # the last visit
            ]
            wh.insert_rows(
                conn,
                schema.CDM["visit_occurrence"],
                [
                    {
                        "visit_occurrence_id": v,
                        "person_id": p,
                        "care_site_id": s,
                        "visit_concept_id": c,
                        "visit_start_date": a,
                        "visit_end_date": b,
                        "visit_type_concept_id": 32817,
                        "visit_source_value": f"V{v}",
                    }
                    for v, p, s, c, a, b in visits
                ],
            )
            wh.insert_rows(
                conn,
                schema.CDM["concept"],
                [
                    {
                        "concept_id": 2_000_000_005,
                        "concept_name": "Insuffisance cardiaque",
                        "domain_id": "Condition",
                        "vocabulary_id": "CIM10",
                        "concept_class_id": "Code",
                        "concept_code": "I50.9",
                        "valid_start_date": date(2000, 1, 1),
                        "valid_end_date": date(2099, 12, 31),
                    }
                ],
            )
            wh.insert_rows(
                conn,
                schema.CDM["condition_occurrence"],
                [
                    {
                        "condition_occurrence_id": 40,
                        "person_id": 1,
                        "visit_occurrence_id": 1,
                        "condition_concept_id": 2_000_000_005,
                        "condition_start_date": date(2024, 3, 1),
                        "condition_type_concept_id": 32858,
                    }
                ],
            )
    finally:
        wh.close()
    return {"person": 3, "visit": 9, "condition": 40}


def test_the_demo_gets_two_years_of_inpatient_activity_once_for_its_dashboards(
    hopia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    import pandas as pd

    from hopia.platform.keys import init_keys
    from hopia.services import beds, steering, stock
    from hopia.services.demo import ACTIVITY_DAYS, demo_settings, management_examples
    from tests.sample import frame

    settings = get_settings()
    url = demo_settings(settings).resolved_warehouse_url()
    # The pharmacy has its test above; here it would only take time.
    monkeypatch.setattr(stock, "synth", lambda ctx, request: None)
    init_keys(demo_settings(settings))  # as the demo's ingest does
    top = _demo_like_warehouse(url)
    with Context.local(settings) as ctx:
        first = management_examples(ctx)
        again = management_examples(ctx)
    assert first.stays_added and first.stays > 2 * 0.5 * ACTIVITY_DAYS * 10  # two wards
    assert not again.stays_added and again.stays == first.stays  # added once

    wh = Warehouse(url)
    try:
        visits, persons = frame(wh, "visit_occurrence"), frame(wh, "person")
        conditions, concepts = frame(wh, "condition_occurrence"), frame(wh, "concept")
    finally:
        wh.close()
    # The demo's own rows kept as they were; the new ids above the largest ones in use.
    assert set(visits["visit_occurrence_id"]) >= {1, 2, 3, 9}
    new = visits[visits["visit_source_value"].str.startswith("activite-synthetique-")]
    assert len(new) == first.stays and new["visit_occurrence_id"].min() > top["visit"]
    assert new["visit_occurrence_id"].is_unique and new["person_id"].min() > top["person"]
    assert set(new["person_id"]) <= set(persons["person_id"])  # every person has its row
    assert conditions["condition_occurrence_id"].is_unique
    assert (conditions["condition_occurrence_id"] > top["condition"]).sum() == len(conditions) - 1
    # Two years ending on the last visit date, in the wards only (the ER admits into them).
    assert new["visit_start_date"].max() == pd.Timestamp(date(2025, 2, 14))
    assert new["visit_start_date"].min() >= pd.Timestamp(date(2025, 2, 14)) - pd.Timedelta(
        days=ACTIVITY_DAYS
    )
    assert set(new["care_site_id"]) == {1, 3}
    # The warehouse's CIM-10 concept is reused; new codes get concepts above the largest id.
    i50 = concepts[concepts["concept_code"] == "I50.9"]
    assert list(i50["concept_id"]) == [2_000_000_005]
    assert 2_000_000_005 in set(conditions["condition_concept_id"])
    assert concepts["concept_id"].is_unique

    demo = Context(demo_settings(settings), ctx.principal, ctx.policy)
    with demo:
        forecast = beds.forecast(demo, beds.ForecastRequest.of(days=7, paths=200))
        indicators = steering.indicators(demo, steering.IndicatorsRequest.of())
    in_bed = {s.care_site_id: s.in_bed for s in forecast.services}
    assert in_bed[1] >= 10 and in_bed[3] >= 10, in_bed  # tens of beds occupied per ward
    assert forecast.origin == date(2025, 2, 14)
    assert indicators.tables and indicators.tables[0].rows
