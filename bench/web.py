"""Web API speed (issue 12, item 10): server time of the document view and the patient
timeline, and concurrent users on ``hopia serve``, on DuckDB and on PostgreSQL.

Phase 1, in process (the ASGI app called without a network, so the figure is the server's
time): every note viewed by a researcher (research space) and by a clinician (identified space,
entities moved back onto the original text), every patient's timeline by the clinician; p50 and
p95 per route, each read audited as in production.

Phase 2, ``hopia serve`` in a subprocess (DuckDB: one process; PostgreSQL: ``--workers``):
``--users`` simulated users for ``--seconds``, each logging in once then looping over list,
view a note, view a patient; errors counted, p50/p95 of the answers. Two loads, one after the
other on the same server: **saturation** (no think time: each user clicks again as soon as
the answer arrives; reported, not judged) and **simulated users** with ``--think`` seconds
between clicks (1 s by default, still faster than a person reading a note): the target is
judged on that one, and the output says so (``--think 0``: saturation only). The load
generator (threads of this process) runs on the same cores as the server: the figure is
pessimistic on a small machine, and the output says so.

The warehouse is the 300-patient demo, built by the demo service into a temporary home
(``--demo``, ``--patients``), or an existing one (``--warehouse`` and its ``--home``, e.g. the
demo's: ``$HOPIA_HOME/demo``), else a copy of the 30-patient test sample. ``--engine postgres``
copies it into a scratch database (``--pg``, default ``bench_web``, dropped at the end).
``--repeat`` runs every phase that many times, engines interleaved; medians with their range.
``--spans N`` times the steps of N audited reads instead (where the milliseconds go).
Targets (issue 12): p95 < 150 ms for the document view and the timeline on the 300-patient
demo; 50 users for 60 s with no error and p95 < 500 ms (judged with the think time).

    OMP_NUM_THREADS=1 .venv/bin/python bench/web.py --demo --engine both --repeat 3
    HOPIA_HOME=/tmp/benchdemo HOPIA_DEMO_SERVE=0 .venv/bin/hopia demo   # once: the demo home
    OMP_NUM_THREADS=1 .venv/bin/python bench/web.py --warehouse \
        /tmp/benchdemo/demo/warehouse.duckdb --home /tmp/benchdemo/demo --engine both \
        --users 50 --seconds 60 --limit 100 --think 1
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
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from hopia.platform.config import Settings
from hopia.platform.warehouse import Warehouse, schema
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
PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
KEY_NAMES = ("secret.key", "vault.key", "audit.key")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    """Median, and the range when repeated."""
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} ({fmt.format(min(values))}–{fmt.format(max(values))})"


# -- the warehouse ---------------------------------------------------------------------------------


def build_demo(folder: Path, patients: int) -> tuple[Path, Path]:
    """The demo warehouse and its home, built by the demo service (as ``hopia demo`` does)."""
    from hopia.services.demo import DemoRequest, ingest_corpus, prepare

    settings = Settings(home=folder / "demo-home")
    started = time.perf_counter()
    with Context.local(settings, "banc") as ctx:
        corpus = prepare(ctx, DemoRequest.of(patients=patients))
        ingest_corpus(ctx, corpus)
    home = settings.home / "demo"
    print(f"demo of {patients} patients built in {time.perf_counter() - started:.0f} s")
    return home / "warehouse.duckdb", home


def sample_source(folder: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from tests import sample

    cache = Path(os.environ.get("HOPIA_CACHE_DIR", REPO / ".hopia-cache")) / "test-sample"
    return sample.sample_file(folder / "build", TEST_KEYS, cache)


def copy_rows(source: Path, url: str) -> None:
    """Every row of the DuckDB warehouse ``source`` into the new warehouse at ``url``."""
    src, dst = Warehouse(f"duckdb:///{source}", migrate=False), Warehouse(url)
    try:
        with src.engine.connect() as read, dst.begin() as write:
            present = inspect(read)
            for table in schema.metadata.sorted_tables:
                if table is schema.schema_migrations:
                    continue
                if not present.has_table(table.name, schema=table.schema):
                    continue  # a table of a later migration than the source's: empty here
                result = read.execution_options(stream_results=True).execute(select(table))
                while batch := result.mappings().fetchmany(20000):
                    dst.insert_rows(write, table, [dict(r) for r in batch])
        with dst.engine.begin() as conn:  # statistics for the planner, as after a restore
            conn.execute(text("ANALYZE"))
    finally:
        src.close()
        dst.close()


def pg_admin(action: str, name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if action == "create":
            cur.execute(f"CREATE DATABASE {name}")
    admin.close()


def prepare(
    folder: Path, source: Path, home: Path | None, url: str | None
) -> tuple[Settings, dict]:
    """A writable copy of the warehouse (a DuckDB file, or PostgreSQL at ``url``), its keys,
    the audit log anchored there, and the bench's accounts."""
    env = {} if home is not None else dict(TEST_KEYS)  # the demo's own key files
    copy_home = folder / "home"
    copy_home.mkdir(parents=True)
    if home is not None:
        for name in KEY_NAMES:
            shutil.copy2(home / name, copy_home / name)
    if url is None:
        shutil.copyfile(source, copy_home / "warehouse.duckdb")
    else:
        copy_rows(source, url)
    os.environ.update(env)
    fields: dict[str, Any] = {k[6:].lower(): v for k, v in env.items()}
    settings = Settings(home=copy_home, warehouse_url=url, **fields)
    with Context.local(settings, "banc") as ctx:
        wh = ctx.warehouse()
        from hopia.platform import audit

        with wh.engine.connect() as conn:  # a copy: anchor its log here (as hopia init would)
            assert audit.reanchor(conn, ctx.audit_anchor(wh)).ok
        with wh.engine.connect() as conn:
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


# -- phase 1: in process ---------------------------------------------------------------------------


def timed(client: TestClient | httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    spent = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    return spent


def in_process(settings: Settings, ids: dict, limit: int | None) -> dict[str, list[float]]:
    """The server time of each route, ms per request."""
    wh = Warehouse(settings.resolved_warehouse_url())
    app = create_app(settings, wh)
    clients = {}
    for name in ("banc.clinicien", "banc.chercheur"):
        client = TestClient(app, base_url="http://localhost")
        client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        clients[name] = client
    notes, notes_in, persons = (ids[k][:limit] for k in ("notes", "notes_in", "persons"))
    clinician, researcher = clients["banc.clinicien"], clients["banc.chercheur"]
    doc = "/api/v1/documents/{}"
    out = {
        "document view, research space": [timed(researcher, doc.format(n)) for n in notes],
        "document view, identified space": [timed(clinician, doc.format(n)) for n in notes_in],
        "patient timeline": [timed(clinician, f"/api/v1/patients/{p}") for p in persons],
    }
    for client in clients.values():
        client.close()
    wh.close()
    return out


# -- phase 2: hopia serve --------------------------------------------------------------------------


def served(settings: Settings, ids: dict, users: int, seconds: float, workers: int,
           think: float) -> dict[str, float]:  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOPIA_HOME": str(settings.home)}
    if settings.warehouse_url:
        env["HOPIA_WAREHOUSE_URL"] = settings.warehouse_url
    hopia = Path(sys.executable).with_name("hopia")
    command = [str(hopia), "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/api/v1/auth/me", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        times: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        # The clock starts once every user has logged in: 50 argon2 logins take seconds of CPU
        # that are not the reads measured here.
        started_at: list[float] = []
        ready = threading.Barrier(users, action=lambda: started_at.append(time.monotonic()))

        def user(i: int) -> None:
            name = "banc.clinicien" if i % 2 else "banc.chercheur"
            with httpx.Client(base_url=base, timeout=30) as client:
                try:  # a login lost on a loaded machine is an error, and the others still start
                    client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"login: {type(exc).__name__}")
                    ready.wait()
                    return
                ready.wait()
                stop = started_at[0] + seconds
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
                        if think:
                            time.sleep(think)

        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            print("  first errors:", errors[:5])
        elapsed = time.monotonic() - started_at[0]  # the last answers end after the stop
        if not times:  # every login lost (a server overwhelmed): no answer to measure
            nan = float("nan")
            return {"requests/s": 0.0, "errors": len(errors), "p50": nan, "p95": nan, "max": nan}
        return {
            "requests/s": len(times) / elapsed,
            "errors": len(errors),
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "max": max(times),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=60)


# -- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="build the demo into a temp home")
    parser.add_argument("--patients", type=int, default=300, help="patients of the --demo")
    parser.add_argument("--warehouse", type=Path, help="a DuckDB warehouse file (copied)")
    parser.add_argument("--home", type=Path, help="the home holding that warehouse's keys")
    parser.add_argument("--engine", choices=("duckdb", "postgres", "both"), default="duckdb")
    parser.add_argument("--pg", default="bench_web", help="scratch PostgreSQL database")
    parser.add_argument("--workers", type=int, default=2, help="hopia serve processes (PG)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="seconds between a simulated user's clicks, for the load the target is judged on "
        "(a saturation load with none is always run first); 0: saturation only",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--limit", type=int, help="at most this many notes/patients per route")
    parser.add_argument("--spans", type=int, help="time the steps of N reads per route")
    parser.add_argument(
        "--pg-indexes",
        action="store_true",
        help="obsolete, kept for old commands: migration 12 indexes what the reads filter on",
    )
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{load()}, Python {platform.python_version()}; the load generator shares these "
          "cores with the server")  # fmt: skip
    engines = ["duckdb", "postgres"] if args.engine == "both" else [args.engine]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source, home = args.warehouse, args.home
        if args.demo:
            source, home = build_demo(folder, args.patients)
        elif source is None:
            source = sample_source(folder)
        prepared: dict[str, tuple[Settings, dict]] = {}
        try:
            for engine in engines:
                url = None
                if engine == "postgres":
                    pg_admin("create", args.pg)
                    url = f"{PG_SERVER}/{args.pg}"
                prepared[engine] = prepare(folder / engine, source, home, url)
                if url is not None and args.pg_indexes:
                    print("--pg-indexes: nothing to do, migration 12 made the read indexes")
            ids = next(iter(prepared.values()))[1]
            print(f"{len(ids['notes'])} notes, {len(ids['persons'])} patients with stays")
            if args.spans:
                run_spans(prepared, args.spans)
                return
            run_all(prepared, args)
        finally:
            if "postgres" in engines:
                pg_admin("drop", args.pg)


def run_spans(prepared: dict[str, tuple[Settings, dict]], n: int) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    import web_spans

    web_spans.install()
    for engine, (settings, ids) in prepared.items():
        web_spans.SPANS.clear()
        print(f"\n{engine}, {load()}")
        routes = in_process(settings, ids, n)
        web_spans.report({k: len(v) for k, v in routes.items()})
        for route, ms in routes.items():
            print(f"{route}: median {statistics.median(ms):.1f} ms per request (whole request)")


TARGET_P95_MS = 500


def loads_of(think: float) -> list[tuple[str, float]]:
    """The loads of phase 2: saturation always, then the simulated users' (judged)."""
    out = [("saturation", 0.0)]
    if think > 0:
        out.append(("users", think))
    return out


def load_label(kind: str, think: float) -> str:
    if kind == "saturation":
        return "saturation, no think time (reported, not judged)"
    return f"simulated users, {think:g} s between clicks (the target is judged on this one)"


def run_all(prepared: dict[str, tuple[Settings, dict]], args: argparse.Namespace) -> None:
    inproc: dict[str, dict[str, list[float]]] = {e: {} for e in prepared}
    loads: dict[str, list[str]] = {e: [] for e in prepared}
    phases = loads_of(args.think)
    concurrent: dict[tuple[str, str], list[dict[str, float]]] = {
        (e, kind): [] for e in prepared for kind, _ in phases
    }
    for round_ in range(args.repeat):  # engines interleaved: the machine's load hits both alike
        for engine, (settings, ids) in prepared.items():
            loads[engine].append(load())
            for route, ms in in_process(settings, ids, args.limit).items():
                inproc[engine].setdefault(route, []).extend([statistics.median(ms),
                                                             percentile(ms, 0.95)])  # fmt: skip
                print(f"  round {round_ + 1} {engine} {route}: p50 {statistics.median(ms):.1f} "
                      f"p95 {percentile(ms, 0.95):.1f} ms ({len(ms)} requests)")  # fmt: skip
            if not args.users:
                continue
            workers = args.workers if engine == "postgres" else 1
            for kind, think in phases:
                got = served(settings, ids, args.users, args.seconds, workers, think)
                got["load"] = load()  # type: ignore[assignment]
                concurrent[(engine, kind)].append(got)
                print(f"  round {round_ + 1} {engine} {args.users} users, think {think:g} s: "
                      f"{got['requests/s']:.1f} req/s, errors {got['errors']:.0f}, p50 "
                      f"{got['p50']:.0f} p95 {got['p95']:.0f} ms, {got['load']}")  # fmt: skip
    print(f"\nMedians of {args.repeat} round(s), (min–max) across rounds.")
    print("\n| engine | route (in process, server time) | p50 ms | p95 ms |\n|---|---|---|---|")
    for engine, routes in inproc.items():
        for route, pairs in routes.items():
            p50s, p95s = pairs[0::2], pairs[1::2]
            print(f"| {engine} | {route} | {spread(p50s, '{:.1f}')} | {spread(p95s, '{:.1f}')} |")
    if not args.users:
        return
    for kind, think in phases:
        print(f"\n{args.users} users, {args.seconds:g} s, {load_label(kind, think)}:")
        print("| engine | workers | req/s | errors | p50 ms | p95 ms | load (per round) |")
        print("|---|---|---|---|---|---|---|")
        for engine in prepared:
            runs = concurrent[(engine, kind)]
            workers = args.workers if engine == "postgres" else 1
            rate = spread([r["requests/s"] for r in runs], "{:.1f}")
            print(f"| {engine} | {workers} | {rate} | {sum(r['errors'] for r in runs):.0f} "
                  f"| {spread([r['p50'] for r in runs])} | {spread([r['p95'] for r in runs])} "
                  f"| {'; '.join(str(r['load']) for r in runs)} |")  # fmt: skip
    judged = phases[-1]
    print(f"\nTarget (issue 12): 0 errors and p95 < {TARGET_P95_MS} ms, judged on the simulated "
          f"users ({judged[1]:g} s between clicks), not on the saturation load.")  # fmt: skip
    if judged[0] == "saturation":
        print("  no think time given (--think 0): nothing is judged")
        return
    for engine in prepared:
        runs = concurrent[(engine, judged[0])]
        p95 = statistics.median(r["p95"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        met = errors == 0 and p95 < TARGET_P95_MS
        print(f"  {engine}: {'met' if met else 'NOT met'} (errors {errors:.0f}, p95 {p95:.0f} ms)")


if __name__ == "__main__":
    main()
