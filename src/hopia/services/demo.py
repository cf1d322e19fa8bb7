"""Demo service (``hopia demo``, ``make demo``): a synthetic CHU through the whole pipeline.

Generate the CHU's patients and documents, write them as a corpus (JSONL and PDF/DOCX/HL7/FHIR
files), ingest them through the ingest service (same rules, same audit), and read back the
figures the demo prints. A second run with the same request reuses the demo warehouse (and its
accounts, :func:`demo_accounts`) and prints the figures of the run that built it; ``fresh``
(or another request) starts from scratch, so that the figures stay reproducible.

The demo is a Hopia home of its own, ``<home>/demo``: its warehouse, its keys and its corpus
(the compiled NLP pipeline stays in the main cache). Every command works on it as printed with
``HOPIA_HOME=<home>/demo`` (:attr:`DemoResult.environment`), and nothing of the demo touches
the installation's own warehouse or keys.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from sqlalchemy import func, or_, select

from hopia.platform.config import Settings
from hopia.platform.exceptions import NotFoundError
from hopia.platform.identity import store as identity_store
from hopia.platform.keys import AUDIT_FILE, SECRET_FILE, VAULT_FILE, init_keys
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import accounts as accounts_service
from hopia.services import ingest as ingest_service
from hopia.services.context import Context, Request
from hopia.services.warehouse import existing_warehouse

if TYPE_CHECKING:
    from hopia.data.ingest.pipeline import IngestReport


class DemoRequest(Request):
    patients: int = Field(300, ge=1)
    seed: int = 42
    fresh: bool = False
    """Rebuild the demo even when its warehouse was built with this request already."""


@dataclass(frozen=True)
class DemoCorpus:
    folder: Path
    patients: int
    documents: int  # in documents.jsonl; rendered files come on top
    reused: bool = False
    """The demo warehouse of a previous run with the same request, kept as it was."""
    request: tuple[int, int] | None = None
    """(patients, seed) asked for: what a later run compares to reuse the demo."""


@dataclass
class DemoSummary:
    documents: int
    errors: int
    docs_per_second: float
    chars_per_second: float
    persons: int
    mentions_total: int
    mentions_by_label: list[tuple[str, int]]
    qualifier_share: dict[str, float]
    top_conditions: list[tuple[str, str, int]]
    example: tuple[str, str] | None


def demo_summary(wh: Warehouse, report: IngestReport, example_chars: int = 900) -> DemoSummary:
    co, concept = schema.CDM["condition_occurrence"], schema.CDM["concept"]
    with wh.engine.connect() as conn:
        top = conn.execute(
            select(
                concept.c.concept_code,
                concept.c.concept_name,
                func.count(co.c.person_id.distinct()),
            )
            .join(concept, concept.c.concept_id == co.c.condition_concept_id)
            .group_by(concept.c.concept_code, concept.c.concept_name)
            .order_by(func.count(co.c.person_id.distinct()).desc(), concept.c.concept_code)
            .limit(10)
        ).all()
        persons = conn.execute(select(func.count()).select_from(schema.CDM["person"])).scalar()
        doc, note = schema.document, schema.CDM["note"]
        row = (
            conn.execute(
                select(doc.c.text, note.c.note_text)
                .join(note, note.c.note_id == doc.c.note_id)
                .where(doc.c.status == "done", doc.c.doc_type == "CRH")
                .order_by(doc.c.document_id)
                .limit(1)
            ).first()
            or conn.execute(
                select(doc.c.text, note.c.note_text)
                .join(note, note.c.note_id == doc.c.note_id)
                .limit(1)
            ).first()
        )
    total = sum(report.qualifiers.values()) or 1
    return DemoSummary(
        documents=report.added,
        errors=len(report.errors),
        docs_per_second=report.docs_per_second,
        chars_per_second=report.characters / report.seconds if report.seconds else 0.0,
        persons=int(persons or 0),
        mentions_total=sum(report.entities.values()),
        mentions_by_label=report.entities.most_common(),
        qualifier_share={k: v / total for k, v in report.qualifiers.items()},
        top_conditions=[(code, name, int(n)) for code, name, n in top],
        example=(row[0][:example_chars], row[1][:example_chars]) if row else None,
    )


@dataclass(frozen=True)
class DemoResult:
    corpus: DemoCorpus
    summary: DemoSummary
    warehouse: str  # the demo warehouse's URL
    environment: dict[str, str]  # the variables that point every command at the demo


def demo_settings(settings: Settings) -> Settings:
    """The demo's home: ``<home>/demo`` with its own DuckDB warehouse and key files; the
    configured warehouse URL and keys are not the demo's, the pipeline cache is shared."""
    return settings.model_copy(
        update={
            "home": settings.home / "demo",
            "warehouse_url": None,
            "secret_key": None,
            "vault_key": None,
            "audit_key": None,
            "cache_dir": settings.cache_dir,
        }
    )


def demo_environment(settings: Settings) -> dict[str, str]:
    """``HOPIA_HOME`` (and the variables that would override it, emptied) for the demo."""
    env = {"HOPIA_HOME": str(settings.home / "demo")}
    for name, value in (
        ("HOPIA_WAREHOUSE_URL", settings.warehouse_url),
        ("HOPIA_SECRET_KEY", settings.secret_key),
        ("HOPIA_VAULT_KEY", settings.vault_key),
        ("HOPIA_AUDIT_KEY", settings.audit_key),
    ):
        if value:
            env[name] = ""
    return env


DEMO_KEYS = (SECRET_FILE, VAULT_FILE, AUDIT_FILE)  # kept from one demo to the next


def demo_root(ctx: Context) -> Path:
    return ctx.settings.home / "demo"


MARKER = "demo.json"
"""Written last by a complete demo run: its request and its summary (a run cut short leaves
none, so the next one starts from scratch)."""


def _marker(root: Path) -> dict | None:
    import json

    try:
        return json.loads((root / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _summary_of(saved: dict) -> DemoSummary:
    return DemoSummary(
        **{
            **saved,
            "mentions_by_label": [tuple(x) for x in saved["mentions_by_label"]],
            "top_conditions": [tuple(x) for x in saved["top_conditions"]],
            "example": tuple(saved["example"]) if saved["example"] else None,
        }
    )


def prepare(ctx: Context, request: DemoRequest) -> DemoCorpus:
    """Generate the synthetic CHU and write its corpus under ``<home>/demo/synth``, replacing
    the previous demo."""
    from hopia.data.synth import generate, write_corpus

    ctx.authorize("demo.run", "demo")
    root = demo_root(ctx)
    saved = _marker(root)
    if (
        not request.fresh
        and saved is not None
        and saved.get("request") == [request.patients, request.seed]
        and (root / "warehouse.duckdb").exists()
    ):
        return DemoCorpus(
            root / "synth",
            saved["patients"],
            saved["documents"],
            reused=True,
            request=(request.patients, request.seed),
        )
    # From scratch, but with the same keys: new keys would give other surrogates, so other
    # pseudonymised texts and figures from one run to the next.
    if root.exists():
        for child in root.iterdir():
            if child.name in DEMO_KEYS:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder = root / "synth"
    corpus = generate(request.patients, request.seed)
    write_corpus(corpus, folder)
    return DemoCorpus(
        folder,
        len(corpus.patients),
        len(corpus.documents),
        request=(request.patients, request.seed),
    )


def ingest_corpus(
    ctx: Context,
    corpus: DemoCorpus,
    on_progress: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> DemoResult:
    """Ingest the demo corpus into the demo's own warehouse and summarise it."""
    ctx.authorize("demo.run", "demo")
    settings = demo_settings(ctx.settings)
    root = demo_root(ctx)
    if corpus.reused:
        saved = _marker(root)
        assert saved is not None
        with Context(settings, ctx.principal, ctx.policy) as demo:
            url = demo.warehouse().url
        return DemoResult(
            corpus, _summary_of(saved["summary"]), url, demo_environment(ctx.settings)
        )
    inputs = [corpus.folder / "documents.jsonl", corpus.folder / "files"]
    request = ingest_service.IngestRequest(
        paths=tuple(p for p in inputs if p.exists()),
        patients=corpus.folder / "patients.jsonl",
    )
    # The demo is an installation of its own: its keys (kept from the previous demo, made by
    # the first) and its warehouse, made afresh; never the main installation's.
    init_keys(settings)
    with Context(settings, ctx.principal, ctx.policy) as demo:
        report = ingest_service.ingest(demo, request, on_progress, on_ready)
        wh = demo.warehouse()
        result = DemoResult(
            corpus, demo_summary(wh, report), wh.url, demo_environment(ctx.settings)
        )
    if corpus.request is not None:
        _write_marker(root, corpus.request, result)
    return result


def _write_marker(root: Path, request: tuple[int, int], result: DemoResult) -> None:
    import json
    from dataclasses import asdict

    body = {
        "request": list(request),
        "patients": result.corpus.patients,
        "documents": result.corpus.documents,
        "summary": asdict(result.summary),
    }
    tmp = root / (MARKER + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    tmp.replace(root / MARKER)


def run_demo(
    ctx: Context,
    request: DemoRequest,
    on_progress: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> DemoResult:
    """The whole demo: :func:`prepare` then :func:`ingest_corpus`."""
    return ingest_corpus(ctx, prepare(ctx, request), on_progress, on_ready)


# One account per role, with known passwords: the demo is for trying Hopia, on synthetic
# patients, on this machine. Stored as argon2id hashes like any account.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("clinicien", "clinician", "stethoscope-demo-2026"),
    ("chercheur", "researcher", "cohorte-demo-2026"),
    ("dim", "data_steward", "qualite-demo-2026"),
    ("gestionnaire", "manager", "tableau-demo-2026"),
    ("admin", "admin", "journal-demo-2026"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    care_sites: tuple[int, ...]
    perimeter: str | None
    """The name of the clinician's service."""
    created: bool
    """False: it was there already (a second demo run), left as it was."""


def _demo_service(wh: Warehouse) -> tuple[int, str]:
    """The clinician's perimeter: the service (care site) with the most patients' stays (the
    documented patients: not the synthetic activity of :func:`add_activity`)."""
    visit, site = schema.CDM["visit_occurrence"], schema.CDM["care_site"]
    patients = func.count(visit.c.person_id.distinct())
    with wh.engine.connect() as conn:
        row = conn.execute(
            select(visit.c.care_site_id, site.c.care_site_name)
            .join(site, site.c.care_site_id == visit.c.care_site_id, isouter=True)
            .where(
                visit.c.care_site_id.is_not(None),
                or_(
                    visit.c.visit_source_value.is_(None),
                    ~_is_activity(visit.c.visit_source_value),
                ),
            )
            .group_by(visit.c.care_site_id, site.c.care_site_name)
            .order_by(patients.desc(), visit.c.care_site_id)
            .limit(1)
        ).first()
    if row is None:
        return 0, "aucun service"
    return int(row[0]), str(row[1] or f"service {row[0]}")


def demo_accounts(ctx: Context) -> list[DemoAccount]:
    """One account per role in the demo's warehouse (:data:`DEMO_ACCOUNTS`): created when
    missing (audited, ``account.create``), left as they are when present, so that a second
    demo run keeps them. The clinician's perimeter is one service of the demo."""
    ctx.authorize("demo.run", "demo")
    with Context(demo_settings(ctx.settings), ctx.principal, ctx.policy) as demo:
        wh = demo.warehouse()
        site_id, site_name = _demo_service(wh)
        made: list[DemoAccount] = []
        for username, role, password in DEMO_ACCOUNTS:
            sites = (site_id,) if role == "clinician" else ()
            with wh.engine.connect() as conn:
                found = identity_store.get_account(conn, username)
            created = found is None
            if found is None:
                found = accounts_service.create_account(
                    demo,
                    accounts_service.CreateAccountRequest.of(
                        username=username,
                        password=password,
                        roles=[role],
                        care_sites=list(sites),
                        # the pages add the role in French: "Démo : clinicien (clinicien)"
                        display_name=f"Démo : {username}",
                    ),
                )
            made.append(
                DemoAccount(
                    username,
                    role,
                    password,
                    found.care_sites,
                    site_name if role == "clinician" else None,
                    created=created,
                )
            )
        return made


@dataclass(frozen=True)
class ManagementExamples:
    stock_folder: Path
    stock_created: bool
    stays: int = 0
    """Synthetic inpatient stays in the demo's warehouse (:func:`add_activity`)."""
    stays_added: bool = False
    """False: they were there already (a second run), left as they were."""


ACTIVITY_SOURCE = "activite-synthetique"
"""``person_source_value`` and ``visit_source_value`` prefix of the synthetic activity."""
ACTIVITY_DAYS = 730
ACTIVITY_SEED = 2024


def _is_activity(column):  # noqa: ANN001, ANN202 - a SQLAlchemy column
    return column.like(f"{ACTIVITY_SOURCE}-%")


def add_activity(wh: Warehouse) -> tuple[int, bool]:
    """Two years of synthetic inpatient activity for the warehouse's own care sites, once.

    The demo's 300 documented patients give a fraction of an admission a day: the steering,
    forecast and bed dashboards would be flat. This adds, in the research space only
    (``omop.person``, ``visit_occurrence``, ``condition_occurrence``; no identity, no
    document, no note), :data:`ACTIVITY_DAYS` days of stays ending on the warehouse's last
    visit date, for each of its care sites at a CHU ward's volume
    (:func:`hopia.data.synth.activity.profile`: 3 to 7 admissions a day, mean lengths of stay
    of 4 to 11 days; the emergency department gets none), with ids above the largest in use.
    Its rows are marked ``activite-synthetique-<id>`` in ``person_source_value`` and
    ``visit_source_value``: found there, nothing is added again. Returns (stays of the
    synthetic activity, whether they were added now)."""
    from hopia.data.synth import activity

    v, cs = schema.CDM["visit_occurrence"], schema.CDM["care_site"]
    inpatient = v.c.visit_concept_id.in_([activity.INPATIENT, activity.ER_INPATIENT])
    with wh.engine.connect() as conn:
        counted = select(func.count()).where(inpatient, _is_activity(v.c.visit_source_value))
        present = int(conn.execute(counted).scalar() or 0)
        if present:
            return present, False
        last = conn.execute(select(func.max(v.c.visit_start_date))).scalar()
        sites = {
            int(r.care_site_id): activity.profile(r.care_site_name or f"Service {r.care_site_id}")
            for r in conn.execute(select(cs.c.care_site_id, cs.c.care_site_name))
        }
        offsets = activity.free_offsets(conn)
    wards = {site: p for site, p in sites.items() if p is not None}
    if last is None or not wards:
        return 0, False
    first = last - timedelta(days=ACTIVITY_DAYS - 1)
    expected = sum(p.admissions for p in wards.values()) * ACTIVITY_DAYS
    spec = activity.Activity(
        wards,
        first,
        last,
        seed=ACTIVITY_SEED,
        persons=max(100, int(expected * 0.6)),
        person_offset=offsets.person,
        visit_offset=offsets.visit,
        condition_offset=offsets.condition,
        consultations=0,
        source=ACTIVITY_SOURCE,
    )
    activity.add(wh, spec)
    with wh.engine.connect() as conn:
        counted = select(func.count()).where(inpatient, _is_activity(v.c.visit_source_value))
        return int(conn.execute(counted).scalar() or 0), True


def management_examples(ctx: Context) -> ManagementExamples:
    """What the axis-4 dashboards read, for the demo, made once and kept:

    - a synthetic pharmacy and consumables store (``<demo home>/management/stock``, seeded),
      files the warehouse does not hold;
    - two years of synthetic inpatient activity in the demo's warehouse, research space only
      (:func:`add_activity`: stays and diagnoses of persons without identity or document), so
      that the steering, forecast and bed dashboards show a hospital's volume.

    The carbon page reads its shipped illustrative inventory; forecasts, beds, roster and
    indicators read the demo's warehouse."""
    from hopia.services import stock

    ctx.authorize("demo.run", "demo")
    with Context(demo_settings(ctx.settings), ctx.principal, ctx.policy) as demo:
        folder = stock.default_folder(demo)
        created = not (folder / "items.csv").is_file()
        if created:
            stock.synth(demo, stock.SynthRequest.of(out=folder, seed=1, force=True))
        try:
            wh = existing_warehouse(demo)
        except NotFoundError:  # no demo warehouse (yet): nothing to add to
            stays, added = 0, False
        else:
            stays, added = add_activity(wh)
    return ManagementExamples(folder, created, stays, added)
