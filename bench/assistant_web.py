"""The assistant page's streamed answer (issue 13, item 7): how long a user waits for the first
words, streamed (``POST /assistant/flux``, what the page's script reads) against the whole answer
(``POST /assistant``, the page without script), with a packaged model run embedded.

    OMP_NUM_THREADS=1 .venv/bin/python bench/assistant_web.py [--model qwen2.5-coder-0.5b]
        [--repeats 5] [--threads 2] [--json out.json]

The application (``create_app``) is served by uvicorn in a thread on 127.0.0.1, over a new
DuckDB warehouse in a temporary home, with one researcher account and one collection holding a
short French protocol (three sections); its gateway holds the packaged model, embedded
(llama.cpp, ``--threads``, temperature 0). The client (httpx, same process) logs in through the
API, then per repeat asks the same question both ways, in alternating order:

- streamed: time to the first ``piece`` event (the first words on screen), and to the ``end``
  event (the checked answer with its citations);
- whole: time to the complete page.

Each time includes retrieval (hybrid search over the collection), the gateway (quota, usage,
audit) and the history entry, as a user gets them. One warm-up answer (model load) is thrown
away. Before each answer the model's state is reset (no KV-cache reuse: every answer processes
its whole prompt, as a first question does; the prompt and answer sizes are read from the
gateway's usage rows); the order of the two ways alternates. Medians and ranges; the load average
before and after is printed with them (a shared machine: orders of magnitude).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "une phrase de passe de banc"
KEYS = {
    "secret_key": "bench-secret-not-for-production",
    "vault_key": "aG9waWEtdGVzdC12YXVsdC1rZXktMDEyMzQ1Njc4OSE=",
    "audit_key": "bench-audit-key-not-for-production",
}
PROTOCOL = (
    "1. Vérifications avant administration\n"
    "Avant toute administration d'anticoagulant, l'infirmier vérifie la prescription, le poids "
    "du patient, la dernière valeur de plaquettes et la clairance de la créatinine.\n\n"
    "2. Insuffisance rénale\n"
    "En cas de clairance inférieure à 30 ml/min, l'infirmier alerte le médecin avant "
    "d'administrer.\n\n"
    "3. Traçabilité\n"
    "Toute administration est tracée dans le dossier de soins avec l'heure et le site "
    "d'injection.\n"
)
QUESTION = "Que faire quand la clairance de la créatinine est inférieure à 30 ml/min ?"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(home: Path, model: str, threads: int, cache_dir: Path) -> tuple[Any, Any, str]:
    import uvicorn

    from hopia.assistant.llm.registry import packaged_backend
    from hopia.platform.config import Settings
    from hopia.platform.warehouse import Warehouse
    from hopia.services import accounts, setup
    from hopia.services.context import Context
    from hopia.services.llm_gateway import Gateway
    from hopia.web.app import create_app

    settings = Settings(
        home=home, cache_dir=cache_dir, warehouse_url=f"duckdb:///{home / 'bench.duckdb'}", **KEYS
    )
    with Context.local(settings, "banc") as ctx:
        setup.init(ctx)  # the warehouse created, its audit log anchored (hopia init)
    wh = Warehouse(settings.warehouse_url)
    ctx = Context.local(settings, "banc")
    ctx._warehouse, ctx._owns_warehouse = wh, False
    accounts.create_account(
        ctx,
        accounts.CreateAccountRequest.of(
            username="chercheur.banc", password=PASSWORD, roles=["researcher"]
        ),
    )
    app = create_app(settings, wh)
    backend = packaged_backend(model, cache_dir, n_threads=threads)
    app.state.llm_gateway = Gateway({backend.name: backend}, backend.name)
    app.state.bench_backend = backend
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, wh, f"http://127.0.0.1:{port}"


def cold(backend: Any) -> None:
    """No KV-cache reuse between answers: every answer processes its whole prompt, as the
    first question over a collection does (bench/assistant.py does the same)."""
    from hopia.assistant.llm import embedded

    with embedded._LOCK:
        backend._llama().reset()


def streamed(client: Any, token: str) -> tuple[float, float, int]:
    """Seconds to the first piece, to the end; number of pieces."""
    data = {"question": QUESTION, "collection": "protocoles", "csrf": token}
    started = time.perf_counter()
    first, pieces = None, 0
    with client.stream("POST", "/assistant/flux", data=data) as answer:
        assert answer.status_code == 200, answer.read()[:300]
        for line in answer.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["type"] == "piece":
                pieces += 1
                first = first if first is not None else time.perf_counter() - started
            elif event["type"] == "end":
                assert event["generated"], event
                return first or 0.0, time.perf_counter() - started, pieces
            else:
                raise RuntimeError(event)
    raise RuntimeError("the stream ended without its end event")


def whole(client: Any, token: str) -> float:
    data = {"question": QUESTION, "collection": "protocoles", "csrf": token}
    started = time.perf_counter()
    page = client.post("/assistant", data=data)
    assert page.status_code == 200 and "Généré par" in page.text, page.text[:300]
    return time.perf_counter() - started


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".hopia-cache")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import httpx
    from sqlalchemy import text

    before = loadavg()
    with tempfile.TemporaryDirectory(prefix="hopia-bench-assistant-web-") as tmp:
        server, wh, url = serve(Path(tmp) / "home", args.model, args.threads, args.cache_dir)
        try:
            with httpx.Client(base_url=url, timeout=600) as client:
                logged = client.post(
                    "/api/v1/auth/login",
                    json={"username": "chercheur.banc", "password": PASSWORD},
                )
                assert logged.status_code == 200, logged.text
                client.post("/api/v1/collections", json={"name": "protocoles"})
                files = {
                    "file": ("anticoagulants.txt", PROTOCOL.encode(), "text/plain"),
                    "collection": (None, "protocoles"),
                }
                assert client.post("/api/v1/collections/documents", files=files).is_success
                token = re.search(r'name="csrf" value="([^"]+)"', client.get("/assistant").text)
                assert token is not None
                streamed(client, token.group(1))  # warm-up: the model loads
                firsts, ends, wholes, pieces = [], [], [], []
                backend = server.config.app.state.bench_backend
                for i in range(args.repeats):
                    if i % 2:
                        cold(backend)
                        wholes.append(whole(client, token.group(1)))
                    cold(backend)
                    first, end, n = streamed(client, token.group(1))
                    if not i % 2:
                        cold(backend)
                        wholes.append(whole(client, token.group(1)))
                    firsts.append(first)
                    ends.append(end)
                    pieces.append(n)
            with wh.engine.connect() as conn:  # the gateway's usage rows: the answers' sizes
                usage = conn.execute(
                    text("SELECT prompt_tokens, completion_tokens FROM hopia_meta.llm_usage")
                ).all()
        finally:
            server.should_exit = True
            time.sleep(0.5)
            wh.close()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU",
        "load_before": before,
        "load_after": loadavg(),
        "model": args.model,
        "threads": args.threads,
        "repeats": args.repeats,
        "streamed_first_piece_s": spread(firsts),
        "streamed_end_s": spread(ends),
        "whole_page_s": spread(wholes),
        "pieces": spread([float(p) for p in pieces]),
        "prompt_tokens": spread([float(u.prompt_tokens) for u in usage]),
        "completion_tokens": spread([float(u.completion_tokens) for u in usage]),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
