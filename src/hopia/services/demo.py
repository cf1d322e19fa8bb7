"""Demo service (``hopia demo``, ``make demo``): a synthetic CHU through the whole pipeline.

Generate the CHU's patients and documents, write them as a corpus (JSONL and PDF/DOCX/HL7/FHIR
files), ingest them through the ingest service (same rules, same audit), and read back the
figures the demo prints. The demo starts from scratch each time so that its figures are
reproducible.

The demo is a Hopia home of its own, ``<home>/demo``: its warehouse, its keys and its corpus
(the compiled NLP pipeline stays in the main cache). Every command works on it as printed with
``HOPIA_HOME=<home>/demo`` (:attr:`DemoResult.environment`), and nothing of the demo touches
the installation's own warehouse or keys.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from sqlalchemy import func, select

from hopia.platform.config import Settings
from hopia.platform.keys import AUDIT_FILE, SECRET_FILE, VAULT_FILE, init_keys
from hopia.platform.warehouse import Warehouse, schema
from hopia.services import ingest as ingest_service
from hopia.services.context import Context, Request

if TYPE_CHECKING:
    from hopia.data.ingest.pipeline import IngestReport


class DemoRequest(Request):
    patients: int = Field(300, ge=1)
    seed: int = 42


@dataclass(frozen=True)
class DemoCorpus:
    folder: Path
    patients: int
    documents: int  # in documents.jsonl; rendered files come on top


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


def prepare(ctx: Context, request: DemoRequest) -> DemoCorpus:
    """Generate the synthetic CHU and write its corpus under ``<home>/demo/synth``, replacing
    the previous demo."""
    from hopia.data.synth import generate, write_corpus

    ctx.authorize("demo.run", "demo")
    root = demo_root(ctx)
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
    return DemoCorpus(folder, len(corpus.patients), len(corpus.documents))


def ingest_corpus(
    ctx: Context,
    corpus: DemoCorpus,
    on_progress: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> DemoResult:
    """Ingest the demo corpus into the demo's own warehouse and summarise it."""
    ctx.authorize("demo.run", "demo")
    inputs = [corpus.folder / "documents.jsonl", corpus.folder / "files"]
    request = ingest_service.IngestRequest(
        paths=tuple(p for p in inputs if p.exists()),
        patients=corpus.folder / "patients.jsonl",
    )
    settings = demo_settings(ctx.settings)
    # The demo is an installation of its own: its keys (kept from the previous demo, made by
    # the first) and its warehouse, made afresh; never the main installation's.
    init_keys(settings)
    with Context(settings, ctx.principal, ctx.policy) as demo:
        report = ingest_service.ingest(demo, request, on_progress, on_ready)
        wh = demo.warehouse()
        return DemoResult(corpus, demo_summary(wh, report), wh.url, demo_environment(ctx.settings))


def run_demo(
    ctx: Context,
    request: DemoRequest,
    on_progress: Callable[[int], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> DemoResult:
    """The whole demo: :func:`prepare` then :func:`ingest_corpus`."""
    return ingest_corpus(ctx, prepare(ctx, request), on_progress, on_ready)
