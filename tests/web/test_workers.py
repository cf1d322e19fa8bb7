"""``hopia serve --workers 2`` on PostgreSQL: the worker processes share sessions and lockout
counters through the database (nothing lives in one process's memory).

The server runs as a user would start it (the ``hopia`` command, in a subprocess); the access
log names each worker's process id. The worker that opened a session, and the one that counted
the first failed logins, are then stopped: the others (and the one uvicorn starts in their
place) still know the session and go on counting towards the same lockout.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.services import accounts
from hopia.services.context import Context
from tests.conftest import TEST_AUDIT_KEY, TEST_KEYS, TEST_SECRET_KEY, TEST_VAULT_KEY
from tests.platform.pg import postgres_url

httpx = pytest.importorskip("httpx")
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "une phrase de passe de test"
HOPIA = Path(sys.executable).with_name("hopia")


class Server:
    """``hopia serve`` in a subprocess; its log lines collected as they come."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [str(HOPIA), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_ready(self, seconds: float = 90) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            assert self.proc.poll() is None, "".join(self.lines)
            try:
                if httpx.get(f"{self.base}/api/v1/auth/me", timeout=2).status_code == 401:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError("hopia serve did not answer in time:\n" + "".join(self.lines))

    def request(self, method: str, path: str, **kw: object) -> tuple[int, int]:
        """Status and the pid of the worker that served it (a new connection each time)."""
        seen = len(self.lines)
        with httpx.Client(base_url=self.base, timeout=10) as client:
            answer = client.request(method, path, **kw)
        self.last = answer
        pattern = re.compile(rf"\[(\d+)\] {method} {re.escape(path)} {answer.status_code} ")
        end = time.monotonic() + 5
        while time.monotonic() < end:
            for line in self.lines[seen:]:
                if found := pattern.search(line):
                    return answer.status_code, int(found.group(1))
            time.sleep(0.05)
        raise AssertionError(f"no log line for {method} {path}")

    def stop_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGTERM)
        time.sleep(1.5)  # uvicorn's supervisor notices and starts another

    def close(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return "".join(self.lines)


def test_two_workers_share_sessions_and_lockouts(tmp_path: Path) -> None:
    with postgres_url() as url:
        home = tmp_path / "home"
        env = {**os.environ, **TEST_KEYS, "HOPIA_HOME": str(home), "HOPIA_WAREHOUSE_URL": url}
        settings = Settings(
            home=home,
            warehouse_url=url,
            secret_key=TEST_SECRET_KEY,
            vault_key=TEST_VAULT_KEY,
            audit_key=TEST_AUDIT_KEY,
        )
        with Context.local(settings, "test") as ctx:
            ctx.warehouse()  # the schema, as hopia init makes it: accounts never create it
            for name in ("cadre.sante", "verrou.test"):
                request = accounts.CreateAccountRequest.of(
                    username=name, password=PASSWORD, roles=["manager"]
                )
                accounts.create_account(ctx, request)
        server = Server(env, workers=2)
        try:
            server.wait_ready()
            good = {"username": "cadre.sante", "password": PASSWORD}
            status, opener = server.request("POST", "/api/v1/auth/login", json=good)
            assert status == 200
            cookies = {"hopia_session": server.last.cookies["hopia_session"]}
            server.stop_worker(opener)
            served = [server.request("GET", "/api/v1/auth/me", cookies=cookies) for _ in range(6)]
            assert all(s == 200 for s, _ in served)
            assert opener not in {pid for _, pid in served}  # other processes knew the session

            bad = {"username": "verrou.test", "password": "pas le bon mot de passe"}
            first = [server.request("POST", "/api/v1/auth/login", json=bad) for _ in range(2)]
            for pid in {pid for _, pid in first}:
                server.stop_worker(pid)
            rest = [server.request("POST", "/api/v1/auth/login", json=bad) for _ in range(3)]
            assert [s for s, _ in first + rest] == [401, 401, 401, 401, 429]
            assert not {pid for _, pid in first} & {pid for _, pid in rest}
            right = {"username": "verrou.test", "password": PASSWORD}
            assert server.request("POST", "/api/v1/auth/login", json=right)[0] == 429
        finally:
            log = server.close()
        assert "cadre.sante" not in log and "verrou" not in log  # no name in the log
