"""The recording OpenAI-compatible server, started once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("uvicorn", reason="the web extra is not installed (pip install 'hopia[web]')")

from tests.assistant.echo_server import EchoServer, echo_server  # noqa: E402


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


@pytest.fixture
def echo(server: EchoServer) -> EchoServer:
    server.bodies.clear()
    server.piece, server.usage, server.fail_status, server.delay = 3, True, None, 0.0
    return server
