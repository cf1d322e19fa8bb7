"""``hopia serve`` runs the background jobs: the application it serves starts the embedded job
runner when it starts, once, and stops it when it stops (the jobs at hand finishing first); a
job queued before the server started is taken up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app as cli

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'hopia[web]')")

from fastapi.testclient import TestClient  # noqa: E402

from hopia.cli.serve import web_app  # noqa: E402
from hopia.platform.config import get_settings  # noqa: E402
from hopia.platform.jobs import EmbeddedRunner  # noqa: E402
from hopia.services import jobs  # noqa: E402
from hopia.services.context import Context  # noqa: E402


def test_the_served_application_runs_queued_jobs(hopia_home: Path) -> None:
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    with Context.local(get_settings(), "test") as ctx:  # queued while nothing serves
        queued = jobs.submit(ctx, jobs.JobRequest.of(kind="quality", parameters={}))
    application = web_app()
    assert getattr(application.state, "runner", None) is None  # built, not started
    with TestClient(application):
        runner = application.state.runner
        assert isinstance(runner, EmbeddedRunner)
        deadline = time.monotonic() + 120
        while True:
            with Context.local(get_settings(), "test") as ctx:
                ctx.use_warehouse(application.state.warehouse)
                view = jobs.get(ctx, queued.id)
            if view.finished or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert view.status == "succeeded", view.error
    assert application.state.runner is None  # stopped with the application
