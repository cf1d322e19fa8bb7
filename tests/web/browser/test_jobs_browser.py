"""The jobs page's buttons in a real browser: the DIM starts a data-quality run from ``/jobs``
and cancels it from its page (the test server runs no job runner: the job waits, queued)."""

from __future__ import annotations

import pytest

from hopia.platform.jobs import STATUS_FR, JobStatus
from tests.web.browser.conftest import Served

pytestmark = pytest.mark.slow


def test_the_dim_starts_a_quality_run_then_cancels_it(served: Served) -> None:
    page = served.login("data_steward")
    nav = page.get_by_role("navigation", name="Navigation principale")
    with page.expect_navigation():
        nav.get_by_role("link", name="Tâches", exact=True).click()
    served.shot(page, "taches-formulaires")
    with page.expect_navigation():
        page.get_by_role("button", name="Lancer le contrôle qualité").click()
    job_id = page.url.rsplit("/", 1)[1]
    status = page.locator("dd.etat-queued")
    assert status.inner_text().startswith(STATUS_FR[JobStatus.QUEUED])
    with page.expect_navigation():
        page.get_by_role("button", name="Annuler la tâche").click()
    assert page.url.endswith(f"/jobs/{job_id}")
    assert page.locator("dd.etat-cancelled").inner_text().startswith(STATUS_FR[JobStatus.CANCELLED])
    assert page.get_by_role("button", name="Annuler la tâche").count() == 0
    row = served.web.sql("SELECT status FROM hopia_meta.job WHERE job_id = :j", j=job_id)[0]
    assert row.status == "cancelled"
    served.shot(page, "tache-annulee")
    page.context.close()
