"""The web application served for a real browser: Debian's Chromium driven by Playwright.

One server per test session: uvicorn in a thread, on a free port of 127.0.0.1, over a writable
copy of the sample warehouse with one account per role (``tests.web.conftest.make_web``). The
``hopia`` and ``uvicorn`` loggers are captured from the start, so the last test can check that
nothing identifying reached the logs over the whole browser session.

No browser is downloaded (no ``playwright install``): the tests launch the ``chromium`` of the
system (``make install-browser``; ``HOPIA_CHROMIUM`` names another). Without one they skip,
saying why, on a developer's machine, and fail under CI (``CI`` set), where it must be there.
Screenshots of the pages go to ``build/screenshots`` (git-ignored), to be looked at.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, Web, make_web

REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "build" / "screenshots"
# uvicorn's own access log is off under `hopia serve` (it would write query strings): off here
# too, as there; the application's access log is "hopia.web.access".
CAPTURED = ("hopia", "uvicorn", "uvicorn.error", "fastapi")


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI: the browser tests must run; see `make install-browser`)")
    pytest.skip(f"{reason}: browser tests skipped (make install-browser)")


def chromium_path() -> str:
    """The system's Chromium, or a skip (a failure under CI)."""
    named = os.environ.get("HOPIA_CHROMIUM")
    found = named if named and Path(named).is_file() else None
    found = found or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        _missing("no Chromium found (Debian package `chromium`)")
    return found  # type: ignore[return-value]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            line += " " + logging.Formatter().formatException(record.exc_info)
        with self.lock_:
            self.lines.append(line)


@dataclass
class Served:
    web: Web
    url: str
    logs: _Capture
    browser: object
    shots: Path = SCREENSHOTS
    usernames: dict[str, str] = field(default_factory=dict)

    def login(self, role: str, password: str = PASSWORD) -> object:
        """A new browser context logged in as the test account of ``role``, through the form."""
        context = self.browser.new_context(base_url=self.url, locale="fr-FR")  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Identifiant").fill(f"{role.replace('_', '-')}.test")
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(self.url + "/")
        return page

    def shot(self, page: object, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, sample_file: Path) -> Iterator[Served]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (dev extra)")
    import uvicorn

    capture = _Capture()
    loggers = [logging.getLogger(name) for name in CAPTURED]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    web = make_web(tmp_path_factory.mktemp("browser"), sample_file)
    port = _free_port()
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate, access.disabled = [], False, True
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="hopia-browser-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start;
            # --lang: the French forms of the date fields, as a French user sees them.
            browser = pw.chromium.launch(
                executable_path=executable, args=["--no-sandbox", "--lang=fr-FR"]
            )
            try:
                yield Served(web, f"http://127.0.0.1:{port}", capture, browser)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        web.warehouse.close()
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(capture)
            lg.setLevel(level)
