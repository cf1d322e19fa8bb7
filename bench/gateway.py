"""LLM gateway overhead (issue 13, item 9): the time the gateway adds over calling the backend
directly, p95 < 5 ms.

The backend is the tests' recording OpenAI-compatible server (``tests/assistant/echo_server``:
starlette on uvicorn in a thread, answering at once), marked local. Three ways, interleaved call
by call so that the machine's load weighs on each alike:

- ``direct``: :class:`OpenAICompatBackend.complete` (httpx, kept connection);
- ``service``: :func:`hopia.services.llm_gateway.complete` (authorize, quota read, call,
  footprint, usage row and audit record committed: what every front end pays);
- ``http``: ``POST /v1/chat/completions`` on the web application in process (FastAPI's test
  client, no network), authenticated by an API key: the above plus key lookup and JSON.

The overhead reported is each way's p50 / p95 minus the direct call's; the calling thread's
CPU time is printed too (the load does not inflate it, the disk's waits are not in it). The
warehouse is a fresh DuckDB file (the gateway's writes go there); ``--quota`` turns the daily
quota check on. How the gateway records (``hopia.services.llm_gateway``): ``sync`` by default
(audit record committed before the call, usage row before the answer: a gateway built for one
call), ``--overlap`` (the web application's: the audit record committed by the writer thread
while the backend works, the answer waits for it, the usage row follows), ``--background``
(``assistant.record_in_background``: nothing waited for). ``--backend-ms`` makes the backend
take that long to answer (a model's generation time, which the overlap mode hides the commit
behind; 0: an answer at once, the worst case for the gateway's overhead).

    OMP_NUM_THREADS=1 .venv/bin/python bench/gateway.py --calls 300 [--overlap] [--backend-ms 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' echo server

from tests.assistant.echo_server import echo_server  # noqa: E402

from hopia.assistant.llm.base import ChatMessage  # noqa: E402
from hopia.assistant.llm.openai_compat import OpenAICompatBackend  # noqa: E402
from hopia.platform.config import Settings  # noqa: E402
from hopia.services import accounts, api_keys, llm_gateway  # noqa: E402
from hopia.services.context import Context  # noqa: E402
from hopia.web.app import create_app  # noqa: E402

PROMPT = "Résume en une phrase la conduite à tenir devant une hypokaliémie modérée."
KEYS = {
    "secret_key": "bench-secret-not-for-production",
    "vault_key": "aG9waWEtdGVzdC12YXVsdC1rZXktMDEyMzQ1Njc4OSE=",
    "audit_key": "bench-audit-key-not-for-production",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--quota", action="store_true", help="check a daily user quota")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--background", action="store_true", help="usage and audit written by the writer thread"
    )
    how.add_argument(
        "--overlap",
        action="store_true",
        help="audit record committed while the backend works, the answer waits for it",
    )
    parser.add_argument(
        "--backend-ms", type=float, default=0.0, help="the backend answers after this delay"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, echo_server() as server:
        server.delay = args.backend_ms / 1000
        quotas = {"user_tokens_per_day": 10**12} if args.quota else {}
        settings = Settings(home=Path(tmp), assistant={"quotas": quotas}, **KEYS)
        backend = OpenAICompatBackend("local", server.url, "echo", parameters_b=7)
        gateway = llm_gateway.Gateway(
            {"local": backend}, background=args.background, overlap=args.overlap
        )
        operator = Context.local(settings, "banc")
        wh = operator.warehouse()
        accounts.create_account(
            operator, accounts.CreateAccountRequest.of(username="banc.user", roles=["researcher"])
        )
        key = api_keys.create_key(
            operator, api_keys.CreateKeyRequest.of(label="banc", username="banc.user")
        ).key
        app = create_app(settings, wh)
        app.state.llm_gateway = gateway
        client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
        account = next(a for a in accounts.list_accounts(operator) if a.username == "banc.user")
        user = Context(settings, account.principal(), app.state.policy)
        user.use_warehouse(wh)

        messages = [ChatMessage("user", PROMPT)]
        request = llm_gateway.ChatRequest.of(messages=[{"role": "user", "content": PROMPT}])
        body = {"model": "local", "messages": [{"role": "user", "content": PROMPT}]}

        def direct() -> None:
            backend.complete(messages, max_tokens=64, temperature=0)

        def service() -> None:
            llm_gateway.complete(user, request, gateway=gateway)

        def http() -> None:
            answer = client.post("/v1/chat/completions", json=body)
            assert answer.status_code == 200, answer.text

        ways = {"direct": direct, "service": service, "http": http}
        times: dict[str, list[float]] = {name: [] for name in ways}
        cpu: dict[str, list[float]] = {name: [] for name in ways}
        for i in range(args.warmup + args.calls):
            for name, call in ways.items():
                started, cpu_started = time.perf_counter(), time.thread_time()
                call()
                if i >= args.warmup:
                    times[name].append((time.perf_counter() - started) * 1000)
                    cpu[name].append((time.thread_time() - cpu_started) * 1000)
        gateway.flush()  # background: every call written before the warehouse closes
        client.close()
        user.close()
        operator.close()
        gateway.close()

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    records = gateway.mode
    print(
        f"# {args.calls} calls each (after {args.warmup} warm-up), quota check "
        f"{'on' if args.quota else 'off'}, records {records}, backend {args.backend_ms:g} ms; "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPU, load {' '.join(load)}"
    )
    base50, base95 = statistics.median(times["direct"]), percentile(times["direct"], 0.95)
    for name, ms in times.items():
        p50, p95 = statistics.median(ms), percentile(ms, 0.95)
        extra = (
            ""
            if name == "direct"
            else f"   overhead p50 {p50 - base50:+.2f} ms, p95 {p95 - base95:+.2f} ms"
        )
        print(f"{name:8} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms{extra}")
    # CPU time of the calling thread: not inflated by waiting for a core (the load), nor by
    # waits on the disk (the commits' fsync); the http way runs the app in another thread.
    for name in ("direct", "service"):
        p50, p95 = statistics.median(cpu[name]), percentile(cpu[name], 0.95)
        print(f"{name:8} thread CPU p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
