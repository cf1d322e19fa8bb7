"""Web API speed (issue 12, item 10): server time of the document view and the patient
timeline, and concurrent users on ``hopia serve``.

Phase 1, in process (the ASGI app called without a network, so the figure is the server's
time): every note viewed by a researcher (research space) and by a clinician (identified space,
entities moved back onto the original text), every patient's timeline by the clinician; p50 and
p95 per route, each read audited as in production.

Phase 2, ``hopia serve`` on DuckDB (one process) in a subprocess: ``--users`` simulated users
for ``--seconds``, each looping over log in once, then list, view a note, view a patient;
errors counted, p50/p95 of the answers.

The warehouse is a copy of the test sample (30 patients, ``tests/sample.py``) unless
``--warehouse`` names a DuckDB file (the 300-patient demo's: ``.hopia/demo/warehouse.duckdb``)
with the keys of its home (``--home``). Targets (issue 12): p95 < 150 ms for the document view
and the timeline on the 300-patient demo; 50 users for 60 s with no error and p95 < 500 ms.

    OMP_NUM_THREADS=1 .venv/bin/python bench/web.py --users 50 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from hopia.platform.config import Settings
from hopia.platform.warehouse import Warehouse
from hopia.services import accounts
from hopia.services.context import Context
from hopia.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "une phrase de passe de banc"
TEST_KEYS = {
    "HOPIA_SECRET_KEY": "test-secret-not-for-production",
    "HOPIA_VAULT_KEY": "aG9waWEtdGVzdC12YXVsdC1rZXktMDEyMzQ1Njc4OSE=",
    "HOPIA_AUDIT_KEY": "test-audit-key-not-for-production",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(name: str, ms: list[float]) -> str:
    return (
        f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {percentile(ms, 0.95):.1f} | "
        f"{max(ms):.1f} |"
    )


def prepare(folder: Path, source: Path | None, home: Path | None) -> tuple[Settings, dict]:
    """A writable copy of the warehouse, its keys, and the bench's accounts."""
    env = dict(TEST_KEYS)
    if source is None:
        sys.path.insert(0, str(REPO))
        from tests import sample

        cache = Path(os.environ.get("HOPIA_CACHE_DIR", REPO / ".hopia-cache")) / "test-sample"
        source = sample.sample_file(folder / "build", env, cache)
    if home is not None:
        env = {}  # the demo's own key files
    copy_home = folder / "home"
    copy_home.mkdir(parents=True)
    if home is not None:
        for name in ("secret.key", "vault.key", "audit.key"):
            shutil.copy2(home / name, copy_home / name)
    shutil.copyfile(source, copy_home / "warehouse.duckdb")
    os.environ.update(env)
    settings = Settings(home=copy_home, **{k[6:].lower(): v for k, v in env.items()})
    with Context.local(settings, "banc") as ctx:
        wh = ctx.warehouse()
        from hopia.platform import audit

        with wh.engine.connect() as conn:  # a copy: anchor its log here (as hopia init would)
            audit.reanchor(conn, ctx.audit_anchor(wh))
        with wh.engine.connect() as conn:
            from sqlalchemy import text

            sites = [r[0] for r in conn.execute(text(
                "SELECT DISTINCT care_site_id FROM omop.visit_occurrence "
                "WHERE care_site_id IS NOT NULL"))]  # fmt: skip
            notes = [r[0] for r in conn.execute(text(
                "SELECT d.note_id FROM hopia_id.document d WHERE d.status = 'done' "
                "AND d.note_id IS NOT NULL ORDER BY d.note_id"))]  # fmt: skip
            # The clinician's perimeter is every care site: the notes of patients with a stay
            # in one (a patient with stays of no known service is in nobody's perimeter).
            in_sites = [r[0] for r in conn.execute(text(
                "SELECT n.note_id FROM omop.note n JOIN hopia_id.document d ON d.note_id = "
                "n.note_id AND d.status = 'done' WHERE n.person_id IN (SELECT person_id FROM "
                "omop.visit_occurrence WHERE care_site_id IS NOT NULL) "
                "ORDER BY n.note_id"))]  # fmt: skip
            persons = [r[0] for r in conn.execute(text(
                "SELECT person_id FROM hopia_id.patient WHERE person_id IN "
                "(SELECT person_id FROM omop.visit_occurrence WHERE care_site_id IS NOT NULL) "
                "ORDER BY person_id"))]  # fmt: skip
        for name, role, perimeter in (("banc.clinicien", "clinician", sites),
                                      ("banc.chercheur", "researcher", [])):  # fmt: skip
            accounts.create_account(ctx, accounts.CreateAccountRequest.of(
                username=name, password=PASSWORD, roles=[role], care_sites=perimeter))  # fmt: skip
    return settings, {"notes": notes, "notes_in": in_sites, "persons": persons}


def timed(client: TestClient | httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    spent = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    return spent


def in_process(settings: Settings, ids: dict) -> None:
    wh = Warehouse(settings.resolved_warehouse_url())
    app = create_app(settings, wh)
    clients = {}
    for name in ("banc.clinicien", "banc.chercheur"):
        client = TestClient(app, base_url="http://localhost")
        client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        clients[name] = client
    research = [timed(clients["banc.chercheur"], f"/api/v1/documents/{n}") for n in ids["notes"]]
    clinician = clients["banc.clinicien"]
    identified = [timed(clinician, f"/api/v1/documents/{n}") for n in ids["notes_in"]]
    timeline = [timed(clients["banc.clinicien"], f"/api/v1/patients/{p}") for p in ids["persons"]]
    print("\n| route (in process, ms) | requests | p50 | p95 | max |\n|---|---|---|---|---|")
    print(describe("document view, research space", research))
    print(describe("document view, identified space", identified))
    print(describe("patient timeline", timeline))
    wh.close()


def served(settings: Settings, ids: dict, users: int, seconds: float) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOPIA_HOME": str(settings.home)}
    hopia = Path(sys.executable).with_name("hopia")
    proc = subprocess.Popen([str(hopia), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/api/v1/auth/me", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        times: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def user(i: int) -> None:
            name = "banc.clinicien" if i % 2 else "banc.chercheur"
            with httpx.Client(base_url=base, timeout=30) as client:
                client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
                k = i
                while time.monotonic() < stop:
                    k += 1
                    pool = ids["notes_in"] if name == "banc.clinicien" else ids["notes"]
                    note = pool[k % len(pool)]
                    person = ids["persons"][k % len(ids["persons"])]
                    paths = ["/api/v1/documents?size=20", f"/api/v1/documents/{note}"]
                    if name == "banc.clinicien":
                        paths.append(f"/api/v1/patients/{person}")
                    for path in paths:
                        started = time.perf_counter()
                        try:
                            code = client.get(path).status_code
                        except httpx.HTTPError as exc:
                            code = type(exc).__name__
                        spent = (time.perf_counter() - started) * 1000
                        with lock:
                            times.append(spent)
                            if code != 200:
                                errors.append(f"{path}: {code}")

        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"\n{users} users, {seconds:g} s, hopia serve on DuckDB (one process):")
        print(f"requests {len(times)} ({len(times) / seconds:.1f}/s), errors {len(errors)}, "
              f"p50 {statistics.median(times):.0f} ms, p95 {percentile(times, 0.95):.0f} ms, "
              f"max {max(times):.0f} ms")  # fmt: skip
        if errors:
            print("first errors:", errors[:5])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, help="a DuckDB warehouse file (copied)")
    parser.add_argument("--home", type=Path, help="the home holding that warehouse's keys")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        settings, ids = prepare(Path(tmp), args.warehouse, args.home)
        print(f"{len(ids['notes'])} notes, {len(ids['persons'])} patients with stays")
        in_process(settings, ids)
        if args.users:
            served(settings, ids, args.users, args.seconds)


if __name__ == "__main__":
    main()
