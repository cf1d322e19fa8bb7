"""Schemathesis against the application's own OpenAPI document, as each role and without a
session: for every operation, requests generated from the document (paths, queries, bodies,
uploads) get no 5xx, and each answer conforms to what the document says (its status is
declared, its content type is the declared one, its body follows the declared schema).

Bounded for the suite (a few examples per operation and role, no deadline, no example
database): it looks for crashes and lies in the document, not for every corner. A failure
prints the request (``case``) that reproduces it; each fix gets its own regression test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from hopia.assistant.llm.openai_compat import OpenAICompatBackend
from hopia.services.llm_gateway import Gateway
from hopia.web.cookies import COOKIE
from tests.assistant.echo_server import echo_server
from tests.web.conftest import ROLES, Web

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (extra dev) is absent")
from hypothesis import HealthCheck, Phase, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402 - the registry names every built-in check
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

EXAMPLES = 8
"""Per operation and caller: enough to reach past validation into the services."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations that end or replace the caller's own session: the login and logout have their
# own tests (test_auth.py); here they would log the role out mid-run.
SKIPPED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/login")}


@pytest.fixture(scope="module")
def api(web: Web) -> Iterator[Any]:
    # The /v1 gateway calls a real OpenAI-compatible server (started here), not "no model" (501).
    with echo_server() as server:
        backend = OpenAICompatBackend("local", server.url, "echo", parameters_b=1)
        web.app.state.llm_gateway = Gateway({"local": backend})
        yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", web.app)


def _operations(api: Any) -> list[Any]:
    operations = [result.ok() for result in api.get_all_operations()]
    return [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
def test_generated_requests_get_no_5xx_and_conforming_answers(web: Web, api: Any, who: str) -> None:
    cookies = {} if who == "anonymous" else {COOKIE: web.clients[who].cookies[COOKIE]}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for operation in _operations(api):

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure reproduces
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            statuses[case.call_and_validate(cookies=cookies, checks=CHECKS).status_code] += 1

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure, together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
    # the session was used: a role gets answers past the login check (not only 401s)
    served = sum(n for status, n in statuses.items() if status < 300)
    assert served if who != "anonymous" else set(statuses) <= {401, 404, 405, 422}, statuses
