"""The data-quality pages: a recorded run's report (summary, checks grouped by Kahn category and
table, failed first, threshold and share of rows in error, a filter by state), reached from
the list of runs; the form that starts a run as a background job, whose page then links the
new report; who may see them. The report's run is planted (known statuses and counts); the
job's run is a real run of the catalogue over the sample, recounted from its own tables."""

from __future__ import annotations

import html
import importlib
import re
from datetime import UTC, datetime

import pytest

from hopia.data.quality import QualityRun
from hopia.data.quality.history import save_run
from hopia.data.quality.model import CheckResult, Level, Status
from hopia.web.pages.quality import group_checks
from tests.web.conftest import Web
from tests.web.test_ui_pages import _check_page


def _result(check_id: str, table: str, category: str, status: Status, **counts: float):
    return CheckResult(
        check_id=check_id,
        check_type=check_id.split(":")[0],
        level=Level.FIELD,
        table=table,
        field="person_id",
        kahn_context="Verification",
        kahn_category=category,
        kahn_subcategory=None,
        severity="fatal",
        description="planted",
        status=status,
        num_violated=int(counts.get("violated", 0)),
        num_denominator=int(counts.get("denominator", 100)),
        pct_violated=counts.get("pct", 0.0),
        threshold=counts.get("threshold", 0.0),
        detail=counts.get("detail"),  # type: ignore[arg-type]
        origin="dqd",
    )


PLANTED = [
    _result("isRequired:person", "person", "Conformance", Status.PASSED),
    _result(
        "plausibleValueLow:measurement",
        "measurement",
        "Plausibility",
        Status.FAILED,
        violated=7,
        pct=7.0,
        threshold=5.0,
    ),
    _result("isForeignKey:measurement", "measurement", "Plausibility", Status.PASSED),
    _result(
        "measureValueCompleteness:note",
        "note",
        "Completeness",
        Status.NOT_APPLICABLE,
        detail="table vide",
    ),
    _result(
        "isRequired:visit_occurrence",
        "visit_occurrence",
        "Conformance",
        Status.FAILED,
        violated=2,
        pct=2.0,
    ),
    _result("cdmDatatype:drug_exposure", "drug_exposure", "Conformance", Status.ERROR),
]


@pytest.fixture(scope="module")
def planted(web: Web) -> int:
    now = datetime.now(UTC).replace(tzinfo=None)
    run = QualityRun(
        started_at=now,
        finished_at=now,
        dialect="duckdb",
        catalogue_version="test",
        results=PLANTED,
    )
    return save_run(web.warehouse, run)


def test_the_list_links_each_run_to_its_report(web: Web, planted: int) -> None:
    page = web.clients["data_steward"].get("/quality")
    assert page.status_code == 200
    _check_page(page.text)
    assert f'<a href="/quality/{planted}"' in page.text
    assert "Lancer un contrôle qualité" in page.text


def test_a_report_sums_up_and_puts_failed_checks_first(web: Web, planted: int) -> None:
    page = web.clients["data_steward"].get(f"/quality/{planted}")
    assert page.status_code == 200
    _check_page(page.text)
    summary = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", page.text))
    assert summary["Contrôles"] == "6" and summary["Réussis"] == "2"
    assert summary["Échoués"] == "2" and summary["Non applicables"] == "1"
    assert summary["Erreurs d'exécution"] == "1"
    assert summary["Part réussie"].startswith("50.0 %")  # 2 passed of 4 run (passed + failed)
    titles = re.findall(r"<h3>([^<]+?)(?: <span|</h3>)", page.text)
    # the groups with a failed or broken check come first, then by category and table
    assert titles[:3] == [
        "Conformité — table drug_exposure",
        "Conformité — table visit_occurrence",
        "Plausibilité — table measurement",
    ]
    assert set(titles[3:]) == {"Complétude — table note", "Conformité — table person"}
    measurement = page.text.split("Plausibilité — table measurement")[1].split("</table>")[0]
    states = re.findall(r'<td class="etat">([^<]+)</td>', measurement)
    assert states == ["non conforme", "conforme"]  # failed first within the group
    failed_row = re.search(r'<tr class="etat-failed">(.*?)</tr>', measurement, re.S).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", failed_row)
    assert cells[4:7] == ["7 / 100", "7.0", "5.0"]  # rows in error, % in error, threshold


def test_the_state_filter_keeps_only_that_state(web: Web, planted: int) -> None:
    client = web.clients["data_steward"]
    failed = client.get(f"/quality/{planted}?etat=echoue").text
    assert re.findall(r'<td class="etat">([^<]+)</td>', failed) == ["non conforme"] * 2
    assert "<strong>non conforme</strong>" in failed
    na = client.get(f"/quality/{planted}?etat=sans-objet").text
    assert re.findall(r'<td class="etat">([^<]+)</td>', na) == ["sans objet"]
    everything = client.get(f"/quality/{planted}?etat=nimporte").text  # unknown: no filter
    assert len(re.findall(r'<td class="etat">', everything)) == len(PLANTED)


def _states_and_titles(html_text: str) -> list[tuple[str, str]]:
    """(group title, state) of each check row, in page order."""
    out = []
    for section in html_text.split('<section class="groupe-qualite">')[1:]:
        title = re.search(r"<h3>([^<]+?)(?: <span|</h3>)", section).group(1)
        out += [(title, state) for state in re.findall(r'<td class="etat">([^<]+)</td>', section)]
    return out


def test_the_report_pages_through_the_checks_keeping_the_filter(
    web: Web, planted: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = importlib.import_module("hopia.web.pages.quality")  # the package names a router so

    client = web.clients["data_steward"]
    whole = _states_and_titles(client.get(f"/quality/{planted}").text)
    assert len(whole) == len(PLANTED)
    monkeypatch.setattr(pages, "PAGE", 2)
    seen, address = [], f"/quality/{planted}"
    for number in (1, 2, 3):
        page = client.get(address)
        assert page.status_code == 200
        _check_page(page.text)  # no script: plain links and a GET form
        text = html.unescape(page.text)
        assert f"Contrôles {2 * number - 1} à {2 * number} sur 6 (page {number} sur 3)." in text
        seen += _states_and_titles(page.text)
        following = re.search(r'<a href="([^"]+)" rel="next">', text)
        if number < 3:
            address = following.group(1)
            assert address == f"/quality/{planted}?page={number + 1}"
        else:
            assert following is None and 'rel="prev"' in text
    assert seen == whole  # the same checks in the same order, each once
    # a filter (table, category, state) narrows the total and is kept in the page links
    narrowed = html.unescape(client.get(f"/quality/{planted}?categorie=conformite").text)
    assert "Contrôles 1 à 2 sur 3 (page 1 sur 2)." in narrowed
    assert f'href="/quality/{planted}?categorie=conformite&page=2" rel="next"' in narrowed
    assert '<option value="conformite" selected>Conformité</option>' in narrowed
    assert f'href="/quality/{planted}?categorie=conformite&etat=echoue"' in narrowed
    both = client.get(f"/quality/{planted}?categorie=conformite&etat=echoue").text
    assert _states_and_titles(both) == [("Conformité — table visit_occurrence", "non conforme")]
    table = client.get(f"/quality/{planted}?table=measurement").text
    assert [t for t, _ in _states_and_titles(table)] == ["Plausibilité — table measurement"] * 2
    assert '<option value="measurement" selected>measurement</option>' in table
    none = client.get(f"/quality/{planted}?table=measurement&etat=erreur").text
    assert "Aucun contrôle ne répond à ce filtre." in html.unescape(none)


def test_the_latest_results_by_api_are_paged_and_filtered(web: Web, planted: int) -> None:
    dim = web.clients["data_steward"]

    def latest(**params: object) -> dict:
        answer = dim.get("/api/v1/quality/latest", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    body = latest(failed_only=False, limit=4)
    assert body["run"]["run_id"] == planted
    assert (body["total"], body["limit"], body["offset"]) == (6, 4, 0)
    assert body["tables"] == sorted({r.table for r in PLANTED})
    rest = latest(failed_only=False, limit=4, offset=4)["results"]
    ids = [r["check_id"] for r in body["results"] + rest]
    assert ids == sorted(r.check_id for r in PLANTED)  # by check id, each once
    failed = latest()  # the ones to act on: failed or broken
    assert failed["total"] == 3
    assert {r["status"] for r in failed["results"]} == {"failed", "error"}
    passed = latest(status=["passed"], category=["Conformance"])
    assert [r["check_id"] for r in passed["results"]] == ["isRequired:person"]
    measurement = latest(failed_only=False, table=["measurement", "note"])
    assert measurement["total"] == 3
    refused = dim.get("/api/v1/quality/latest", params={"category": "Beauté", "limit": 0})
    assert refused.status_code == 422
    assert refused.json()["fields"] == ["category.0", "limit"]
    assert "valeurs possibles" in refused.json()["message"]


def test_an_unknown_run_is_a_french_404_and_other_roles_are_refused(web: Web, planted: int) -> None:
    missing = web.clients["data_steward"].get(f"/quality/{planted + 1000}")
    assert missing.status_code == 404 and "introuvable" in missing.text
    for role in ("clinician", "researcher", "manager", "admin"):
        client = web.clients[role]
        assert client.get(f"/quality/{planted}").status_code == 403, role
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/jobs").text).group(1)
        started = client.post("/quality/lancer", data={"csrf": token}, follow_redirects=False)
        assert started.status_code == 403, role


def test_group_checks_orders_groups_and_checks() -> None:
    from hopia.services.quality import CheckOutcome

    outcomes = [
        CheckOutcome(
            check_id=r.check_id,
            check_type=r.check_type,
            level=r.level.value,
            table_name=r.table,
            field_name=r.field,
            kahn_category=r.kahn_category,
            status=r.status.value,
            num_violated=r.num_violated,
            num_denominator=r.num_denominator,
            pct_violated=r.pct_violated,
            threshold=r.threshold,
            detail=r.detail,
        )
        for r in PLANTED
    ]
    groups = group_checks(outcomes)
    assert [g.failed for g in groups] == [1, 1, 1, 0, 0]
    assert sum(len(g.checks) for g in groups) == len(PLANTED)


@pytest.mark.slow
def test_starting_a_run_makes_a_job_whose_page_links_the_new_report(web: Web) -> None:
    from hopia.platform.jobs import JobStatus
    from hopia.services import jobs

    client = web.clients["data_steward"]
    page = client.get("/quality").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    forged = client.post("/quality/lancer", data={"csrf": "autre"}, follow_redirects=False)
    assert forged.status_code == 403
    started = client.post("/quality/lancer", data={"csrf": token}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    with web.operator() as ctx:  # the test app runs no job runner: one pass here
        assert jobs.work(ctx, burst=True) == {JobStatus.SUCCEEDED: 1}
    job = client.get(started.headers["location"])
    link = re.search(r'<a href="/quality/(\d+)">Rapport du contrôle qualité', job.text)
    assert link, job.text[:2000]
    run_id = int(link.group(1))
    recorded = web.sql(
        "select checks, passed, failed from hopia_meta.quality_run where run_id = :r", r=run_id
    )[0]
    per_status = dict(
        web.sql(
            "select status, count(*) from hopia_meta.quality_result where run_id = :r "
            "group by status",
            r=run_id,
        )
    )
    assert recorded.checks == sum(per_status.values())
    report = client.get(f"/quality/{run_id}").text
    shown = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", report))
    assert shown["Contrôles"] == str(recorded.checks)
    assert shown["Échoués"] == str(per_status.get("failed", 0))
    # every check, a hundred a page: follow the pages
    rows = len(re.findall(r'<td class="etat">', report))
    while following := re.search(r'<a href="([^"]+)" rel="next">', report):
        report = client.get(html.unescape(following.group(1))).text
        rows += len(re.findall(r'<td class="etat">', report))
    assert rows == recorded.checks
