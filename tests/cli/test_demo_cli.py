"""``hopia demo`` as ``make demo`` runs it: the summary and one account per role, then the web
application served; a demo clinician logs in over HTTP and reads their home page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.identity.roles import ROLE_LABELS, Role
from hopia.services.demo import DEMO_ACCOUNTS

pytest.importorskip("uvicorn", reason="the web extra is not installed (pip install 'hopia[web]')")
httpx = pytest.importorskip("httpx", reason="httpx is a dev dependency")

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the demo stopped (code {process.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"nothing answered at {url} within {seconds:.0f} s")


@pytest.mark.slow
def test_make_demo_serves_the_web_app_and_the_demo_clinician_logs_in(
    hopia_home: Path, monkeypatch: pytest.MonkeyPatch, in_process_models: None
) -> None:
    monkeypatch.setenv("HOPIA_DEMO_SERVE", "0")
    first = runner.invoke(app, ["demo", "--patients", "4", "--seed", "3"])
    assert first.exit_code == 0, first.output
    for username, role, password in DEMO_ACCOUNTS:
        label = ROLE_LABELS[Role(role)].split()[0]  # in French, as the pages name it
        assert username in first.output and label in first.output and password in first.output
    # Served: the same command again, without HOPIA_DEMO_SERVE=0, reuses the warehouse and
    # the accounts, then serves until it is stopped.
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "HOPIA_DEMO_SERVE"}
    hopia = Path(sys.executable).with_name("hopia")
    demo = subprocess.Popen(
        [str(hopia), "demo", "--patients", "4", "--seed", "3", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/login", demo)
        clinician = next((u, p) for u, r, p in DEMO_ACCOUNTS if r == "clinician")
        with httpx.Client(base_url=base) as browser:
            wrong = browser.post(
                "/api/v1/auth/login", json={"username": clinician[0], "password": "pas-le-bon-mdp"}
            )
            assert wrong.status_code == 401
            login = browser.post(
                "/api/v1/auth/login", json={"username": clinician[0], "password": clinician[1]}
            )
            assert login.status_code == 200, login.text
            me = login.json()
            assert me["roles"] == ["clinician"] and len(me["care_sites"]) == 1
            home = browser.get("/")
            assert home.status_code == 200 and "Bonjour" in home.text
            assert "Démo : clinicien" in home.text and "(clinicien)" in home.text  # name, role
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert "réutilisé" in output and f"http://localhost:{port}" in output
    assert "Comptes de démonstration" in output
