"""The role x endpoint matrix: every operation of the OpenAPI document, called by every role
and by a caller without a session, answers what ONE table below says.

A route added without its line in :data:`MATRIX` fails :func:`test_every_operation_has_a_rule`
("a new route without a rule fails the suite"); a line whose route is gone fails it too. Each
operation has one or more cases: a valid example (path, query, body) and the status expected
per role. Statuses come from the rules (``hopia.platform.identity.roles.RULES``) as a person
reads them in the issue, written out here by hand, not computed from the rules under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hopia.services import accounts, cohort_library, collections, jobs, quality
from tests.web.conftest import BASE, PASSWORD, ROLES, Web

ANON = "anonymous"
WHO = (*ROLES, ANON)
REASON = {"reason": "patient transféré aux urgences, avis demandé"}
DIM_REASON = {"reason": "demande du DIM, dossier 2026-117"}
COHORT = {
    "name": "matrice_ic",
    "title": "Insuffisance cardiaque (matrice)",
    "inclusion": [{"label": "IC", "condition": {"cim10": ["I50"]}}],
}
EXPORT = {"cohort": COHORT["name"], "format": "omop-csv", **DIM_REASON}
UPLOAD = ("consultation.txt", b"Patient vu en consultation de cardiologie.", "text/plain")
CHAT = {"messages": [{"role": "user", "content": "Bonjour"}]}
_serial = itertools.count()


def only(*allowed: str, ok: int = 200, others: int = 403) -> dict[str, int]:
    """``ok`` for the roles named, ``others`` for the other roles, 401 without a session."""
    return {w: 401 if w == ANON else ok if w in allowed else others for w in WHO}


EVERYONE = only(*ROLES)


@dataclass
class Case:
    expect: dict[str, int]
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    files: Callable[[], dict[str, Any]] | None = None
    """A multipart body (an upload), made for each call."""
    fresh: bool = False
    """Each caller logs in anew (the call ends or changes its session)."""
    label: str = ""


def new_account() -> dict[str, Any]:
    return {"username": f"matrice.{next(_serial)}", "password": PASSWORD, "roles": ["manager"]}


# (method, path template) -> cases. Identifiers named by a key of `ids` (filled from the data).
MATRIX: dict[tuple[str, str], list[Case]] = {
    ("POST", "/api/v1/auth/login"): [
        Case({w: 200 for w in WHO}, body="login", fresh=True),
    ],
    ("POST", "/api/v1/auth/logout"): [Case(EVERYONE, fresh=True)],
    ("GET", "/api/v1/auth/me"): [Case(EVERYONE)],
    ("GET", "/api/v1/documents"): [
        Case(only("clinician", "researcher", "data_steward"), label="own space"),
        Case(only("researcher", "data_steward"), query={"space": "research"}, label="research"),
        Case(only("clinician"), query={"space": "identified"}, label="identified"),
    ],
    ("GET", "/api/v1/documents/{note_id}"): [
        Case(only("clinician", "researcher", "data_steward"), path={"note_id": "note_in"}),
        Case(
            only("researcher", "data_steward"),
            path={"note_id": "note_out"},
            label="outside the perimeter",
        ),
        Case(
            only("clinician", "researcher", "data_steward", ok=404),
            path={"note_id": "note_none"},
            label="unknown",
        ),
    ],
    ("POST", "/api/v1/documents/{note_id}/break-glass"): [
        Case(only("clinician"), path={"note_id": "note_out"}, body=REASON),
    ],
    ("POST", "/api/v1/documents/{note_id}/reidentify"): [
        Case(only("data_steward"), path={"note_id": "note_in"}, body=DIM_REASON),
    ],
    ("GET", "/api/v1/patients/{person_id}"): [
        Case(only("clinician"), path={"person_id": "person_in"}),
        Case(only(), path={"person_id": "person_out"}, label="outside the perimeter"),
        Case(only("clinician", ok=404), path={"person_id": "person_none"}, label="unknown"),
    ],
    ("POST", "/api/v1/patients/{person_id}/break-glass"): [
        Case(only("clinician"), path={"person_id": "person_out"}, body=REASON),
    ],
    ("GET", "/api/v1/cohorts"): [Case(only("researcher", "data_steward"))],
    ("POST", "/api/v1/cohorts"): [
        Case(only("researcher", "data_steward"), body={"definition": COHORT}),
    ],
    ("POST", "/api/v1/cohorts/validate"): [
        Case(only("researcher", "data_steward"), body={"definition": COHORT}),
    ],
    ("GET", "/api/v1/cohorts/{name}"): [
        Case(only("researcher", "data_steward"), path={"name": "cohort"}),
        Case(
            only("researcher", "data_steward", ok=404), path={"name": "no_cohort"}, label="unknown"
        ),
    ],
    ("POST", "/api/v1/cohorts/{name}/run"): [
        Case(only("researcher", "data_steward"), path={"name": "cohort"}),
    ],
    ("GET", "/api/v1/quality/runs"): [Case(only("data_steward"))],
    ("GET", "/api/v1/activity"): [Case(only("manager", "data_steward"))],
    # axis 4: steering indicators, bed needs, admissions forecasts (managers)
    ("GET", "/api/v1/steering/indicators"): [Case(only("manager"))],
    ("GET", "/api/v1/beds/forecast"): [Case(only("manager"), query={"days": 3, "paths": 100})],
    ("GET", "/api/v1/beds/backtest"): [
        Case(only("manager"), query={"days": 7, "span": 14, "step": 7, "paths": 100})
    ],
    ("GET", "/api/v1/forecasts/admissions"): [Case(only("manager"), query={"days": 7})],
    # stock (a small synthetic pharmacy written by _ids) and carbon (the shipped example)
    ("GET", "/api/v1/stock/status"): [Case(only("manager"))],
    ("GET", "/api/v1/stock/policy"): [Case(only("manager"))],
    ("GET", "/api/v1/stock/alerts"): [Case(only("manager"))],
    ("GET", "/api/v1/carbon/factors"): [Case(only("manager"))],
    # roster: a two-nurse, one-day problem (solved in well under a second)
    ("POST", "/api/v1/management/roster/solve"): [
        Case(
            only("manager"),
            body={
                "time_limit_s": 5,
                "start": "2026-03-02",
                "weeks": 1,
                "staff": [{"nurse": "A"}, {"nurse": "B"}],
                "demand": [{"date": "2026-03-02", "shift": "M", "required": 1}],
            },
        )
    ],
    ("GET", "/api/v1/management/roster"): [Case(only("manager"))],
    ("GET", "/api/v1/carbon/report"): [Case(only("manager"), query={"scenario": "gaz-moins-20"})],
    ("GET", "/api/v1/jobs"): [Case(EVERYONE)],
    # The job is the operator's: someone else's for every web user but the admin.
    ("GET", "/api/v1/jobs/{job_id}"): [
        Case(only("admin", others=404), path={"job_id": "job"}),
    ],
    ("POST", "/api/v1/jobs/{job_id}/cancel"): [
        Case(only("admin", others=404), path={"job_id": "job"}),
    ],
    # W1: jobs from the web (the DIM's), deleting a definition, the research space.
    ("POST", "/api/v1/ingest/uploads"): [
        Case(only("data_steward", ok=202), files=lambda: {"files": UPLOAD}),
    ],
    ("POST", "/api/v1/quality/runs"): [Case(only("data_steward", ok=202), body={})],
    ("GET", "/api/v1/quality/latest"): [Case(only("data_steward"))],
    ("POST", "/api/v1/exports"): [Case(only("data_steward", ok=202), body=EXPORT)],
    ("DELETE", "/api/v1/cohorts/{name}"): [
        Case(
            only("researcher", "data_steward", ok=404), path={"name": "no_cohort"}, label="unknown"
        ),
    ],
    ("GET", "/api/v1/research/notes"): [Case(only("researcher", "data_steward"))],
    ("GET", "/api/v1/research/notes/{note_id}"): [
        Case(only("researcher", "data_steward"), path={"note_id": "note_out"}),
        Case(
            only("researcher", "data_steward", ok=404),
            path={"note_id": "note_none"},
            label="unknown",
        ),
    ],
    ("GET", "/api/v1/audit"): [Case(only("admin"), query={"action": "auth."})],
    ("GET", "/api/v1/audit/verify"): [Case(only("admin"))],
    ("GET", "/api/v1/accounts"): [Case(only("admin"))],
    ("POST", "/api/v1/accounts"): [Case(only("admin", ok=201), body=new_account)],
    ("GET", "/api/v1/accounts/{username}"): [
        Case(only("admin"), path={"username": "target"}),
        Case(only("admin", ok=404), path={"username": "nobody"}, label="unknown"),
    ],
    ("PATCH", "/api/v1/accounts/{username}"): [
        Case(only("admin"), path={"username": "target"}, body={"display_name": "Cible"}),
    ],
    ("PUT", "/api/v1/accounts/{username}/password"): [
        Case(only("admin"), path={"username": "target"}, body={"password": PASSWORD}),
    ],
    # The LLM gateway: every role uses the assistant. No backend is configured in this app:
    # a chat or an embedding is 501 (tests/web/test_gateway.py calls real backends).
    ("POST", "/v1/chat/completions"): [Case(only(*ROLES, ok=501), body=CHAT)],
    ("POST", "/v1/embeddings"): [Case(only(*ROLES, ok=501), body={"input": "texte"})],
    ("GET", "/v1/models"): [Case(EVERYONE)],
    ("POST", "/api/v1/account/api-keys"): [Case(only(*ROLES, ok=201), body={"label": "matrice"})],
    ("GET", "/api/v1/account/api-keys"): [Case(EVERYONE)],
    ("DELETE", "/api/v1/account/api-keys/{key_id}"): [
        Case(only(*ROLES, ok=404), path={"key_id": "no_key"}, label="unknown"),
    ],
    ("GET", "/api/v1/assistant/usage"): [
        Case(EVERYONE, label="own"),
        Case(only("manager", "admin"), query={"everyone": True, "by": "group"}, label="everyone"),
    ],
}

# Axis 3, knowledge collections: the shared collection is the operator's, shared with every
# role's group: every role reads and searches it, none may change it (403); a collection
# nobody shared reads as unknown (404).
SHARED_COLLECTION = "matrice-partagee"
ASK = {
    "question": "Quelle est la dose de lamivudine chez l'enfant ?",
    "collections": [SHARED_COLLECTION],
}
KNOWLEDGE_DOC = (
    "epivir.txt",
    b"Chez l'enfant, la dose de lamivudine est de 4 mg/kg.",
    "text/plain",
)
MATRIX.update(
    {
        ("GET", "/api/v1/collections"): [Case(EVERYONE)],
        ("POST", "/api/v1/collections"): [
            Case(only(*ROLES, ok=201), body=lambda: {"name": f"matrice-{next(_serial)}"}),
        ],
        ("POST", "/api/v1/collections/search"): [
            Case(EVERYONE, body={"collections": [SHARED_COLLECTION], "query": "lamivudine"}),
        ],
        ("POST", "/api/v1/collections/documents"): [
            Case(
                only(others=403),
                files=lambda: {"file": KNOWLEDGE_DOC, "collection": (None, SHARED_COLLECTION)},
                label="shared, not owned",
            ),
        ],
        ("GET", "/api/v1/collections/{name}"): [
            Case(EVERYONE, path={"name": "collection"}),
            Case(only(*ROLES, ok=404), path={"name": "private_collection"}, label="not shared"),
        ],
        ("DELETE", "/api/v1/collections/{name}"): [
            Case(only(others=403), path={"name": "collection"}, label="shared, not owned"),
            Case(only(*ROLES, ok=404), path={"name": "private_collection"}, label="not shared"),
        ],
        ("DELETE", "/api/v1/collections/{name}/documents/{document_id}"): [
            Case(only(others=403), path={"name": "collection", "document_id": "knowledge_doc"}),
        ],
        ("GET", "/api/v1/collections/{name}/documents/{document_id}/text"): [
            Case(
                EVERYONE,
                path={"name": "collection", "document_id": "knowledge_doc"},
                query={"start": 0, "end": 10},
            ),
        ],
        ("POST", "/api/v1/collections/{name}/shares"): [
            Case(only(others=403), path={"name": "collection"}, body={"user": "quelqu.un"}),
        ],
        ("DELETE", "/api/v1/collections/{name}/shares"): [
            Case(only(others=403), path={"name": "collection"}, query={"user": "quelqu.un"}),
        ],
        ("POST", "/api/v1/assistant/ask"): [Case(EVERYONE, body=ASK)],
    }
)


# Axis 2, dictation: a clinician's own drafts, for the patients of the perimeter. The drafts are
# the clinician's (made in `ready`): every other role is refused at the route (403). A draft
# not yet transcribed cannot be validated (409); an IPP outside the perimeter is refused (403).
DICTATION_IPPS: dict[str, str] = {}
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00"
WAV += b"\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 28
CLINICIAN = only("clinician")
MATRIX.update(
    {
        ("GET", "/api/v1/dictations"): [Case(CLINICIAN)],
        ("POST", "/api/v1/dictations"): [
            Case(
                only("clinician", ok=201),
                body=lambda: {"ipp": DICTATION_IPPS["in"], "template": "consultation"},
            ),
            Case(only(), body=lambda: {"ipp": DICTATION_IPPS["out"]}, label="outside"),
        ],
        ("GET", "/api/v1/dictations/{draft_id}"): [
            Case(CLINICIAN, path={"draft_id": "draft"}),
            Case(only("clinician", ok=404), path={"draft_id": "no_draft"}, label="unknown"),
        ],
        ("PATCH", "/api/v1/dictations/{draft_id}"): [
            Case(CLINICIAN, path={"draft_id": "draft"}, body={}),
        ],
        ("POST", "/api/v1/dictations/{draft_id}/audio"): [
            Case(
                CLINICIAN,
                path={"draft_id": "draft"},
                files=lambda: {"audio": ("dictee.wav", WAV, "audio/wav")},
            ),
        ],
        ("GET", "/api/v1/dictations/{draft_id}/audio"): [
            Case(CLINICIAN, path={"draft_id": "draft"}),
        ],
        ("POST", "/api/v1/dictations/{draft_id}/chunks"): [
            Case(
                CLINICIAN,
                path={"draft_id": "draft_live"},
                files=lambda: {"seq": (None, "0"), "chunk": ("m0", WEBM_HEAD, "audio/webm")},
            ),
        ],
        ("GET", "/api/v1/dictations/{draft_id}/partial"): [
            Case(CLINICIAN, path={"draft_id": "draft_empty"}),
        ],
        ("POST", "/api/v1/dictations/{draft_id}/finish"): [
            Case(only("clinician", ok=202), path={"draft_id": "draft"}),
        ],
        ("POST", "/api/v1/dictations/{draft_id}/validate"): [
            Case(only("clinician", ok=409), path={"draft_id": "draft"}, label="not transcribed"),
        ],
        ("POST", "/api/v1/dictations/{draft_id}/discard"): [
            Case(CLINICIAN, path={"draft_id": "draft_discard"}),
        ],
    }
)


def _ids(web: Web) -> dict[str, Any]:
    """Identifiers of the sample: a note and a patient inside the clinician's perimeter
    (cardiology only), and outside it (never in cardiology). Also the stock files the stock
    routes read (a small synthetic pharmacy, when none is there)."""
    from hopia.management.stock import synth

    stock = Path(web.settings.home) / "management" / "stock"
    if not (stock / "items.csv").is_file():
        synth.generate(25, seed=2, days=200).write(stock)
    inside = web.sql(
        "SELECT person_id FROM omop.visit_occurrence GROUP BY person_id "
        "HAVING bool_and(care_site_id = 1) ORDER BY person_id LIMIT 1"
    )[0].person_id
    outside = web.sql(
        "SELECT person_id FROM omop.visit_occurrence GROUP BY person_id "
        "HAVING NOT bool_or(coalesce(care_site_id, 0) = 1) ORDER BY person_id LIMIT 1"
    )[0].person_id

    def note_of(person: int) -> int:
        return web.sql(
            "SELECT min(n.note_id) AS id FROM omop.note n JOIN hopia_id.document d "
            "ON d.note_id = n.note_id AND d.status = 'done' WHERE n.person_id = :p",
            p=person,
        )[0].id

    return {
        "person_in": inside,
        "person_out": outside,
        "person_none": 10**9,
        "note_in": note_of(inside),
        "note_out": note_of(outside),
        "note_none": 10**9,
        "cohort": COHORT["name"],
        "no_cohort": "pas_de_cohorte",
        "target": "cible.matrice",
        "nobody": "personne.inconnue",
        "no_key": "0123456789abcdef",
    }


@pytest.fixture(scope="module")
def ready(web: Web) -> dict[str, Any]:
    with web.operator() as ctx:
        accounts.create_account(
            ctx,
            accounts.CreateAccountRequest.of(
                username="cible.matrice", password=PASSWORD, roles=["manager"]
            ),
        )
        cohort_library.save_definition(ctx, cohort_library.DefinitionBody.of(definition=COHORT))
        job = jobs.submit(ctx, jobs.JobRequest.of(kind="quality"))  # queued: no runner
        quality.run(ctx, quality.RunRequest.of(tables=["person"], enrichment=False))  # latest
        knowledge = _knowledge(ctx)
    return {**_ids(web), "job": job.id, **knowledge, **_dictations(web)}


def _dictations(web: Web) -> dict[str, Any]:
    """The clinician's drafts: one with its audio, one for live chunks, one to discard, one
    left empty."""
    ipps = web.sql(
        "SELECT ipp, person_id FROM hopia_id.patient WHERE person_id IN (:a, :b)",
        a=_ids(web)["person_in"],
        b=_ids(web)["person_out"],
    )
    by_person = {r.person_id: r.ipp for r in ipps}
    DICTATION_IPPS["in"] = by_person[_ids(web)["person_in"]]
    DICTATION_IPPS["out"] = by_person[_ids(web)["person_out"]]
    client = web.clients["clinician"]

    def new() -> str:
        answer = client.post("/api/v1/dictations", json={"ipp": DICTATION_IPPS["in"]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    drafts = {k: new() for k in ("draft", "draft_live", "draft_discard", "draft_empty")}
    sent = client.post(
        f"/api/v1/dictations/{drafts['draft']}/audio",
        files={"audio": ("dictee.wav", WAV, "audio/wav")},
    )
    assert sent.status_code == 200, sent.text
    return {**drafts, "no_draft": "0" * 32}


def _knowledge(ctx: Any) -> dict[str, Any]:
    """The shared collection (one document) and a collection shared with nobody."""
    collections.create(ctx, collections.CreateRequest.of(name=SHARED_COLLECTION))
    for role in ROLES:
        request = collections.ShareRequest.of(collection=SHARED_COLLECTION, group=role)
        collections.share(ctx, request)
    name, data, _ = KNOWLEDGE_DOC
    added = collections.add_document(
        ctx, collections.AddRequest.of(collection=SHARED_COLLECTION, filename=name), data
    )
    collections.create(ctx, collections.CreateRequest.of(name="matrice-privee"))
    return {
        "collection": SHARED_COLLECTION,
        "private_collection": "matrice-privee",
        "knowledge_doc": added.document.id,
    }


def _operations(web: Web) -> set[tuple[str, str]]:
    document = web.anon.get("/api/v1/openapi.json").json()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_operation_has_a_rule(web: Web) -> None:
    operations = _operations(web)
    missing = sorted(operations - set(MATRIX))
    gone = sorted(set(MATRIX) - operations)
    assert not missing, f"routes without a line in MATRIX: {missing}"
    assert not gone, f"MATRIX lines for routes that no longer exist: {gone}"


def _client(web: Web, who: str, fresh: bool) -> TestClient:
    if who == ANON:
        return TestClient(web.app, base_url=BASE)
    if fresh:
        return web.login(f"{who.replace('_', '-')}.test")
    return web.clients[who]


def _body(case: Case, who: str) -> Any:
    if case.body == "login":
        user = "researcher" if who == ANON else who
        return {"username": f"{user.replace('_', '-')}.test", "password": PASSWORD}
    return case.body() if isinstance(case.body, Callable) else case.body


CASES = [
    pytest.param(op, i, who, id=f"{op[0]} {op[1]} {case.label or i} {who}")
    for op, cases in MATRIX.items()
    for i, case in enumerate(cases)
    for who in WHO
]


@pytest.mark.parametrize(("op", "index", "who"), CASES)
def test_role_matrix(web: Web, ready: dict[str, Any], op: tuple[str, str], index: int, who: str):
    method, template = op
    case = MATRIX[op][index]
    path = template.format(**{k: ready[v] for k, v in case.path.items()})
    client = _client(web, who, case.fresh)
    files = case.files() if case.files else None
    answer = client.request(method, path, params=case.query, json=_body(case, who), files=files)
    expected = case.expect[who]
    assert answer.status_code == expected, f"{who} {method} {path}: {answer.text[:300]}"
    if expected >= 400:
        problem = answer.json()
        assert problem["code"] and problem["message"], problem  # French message, stable code


def test_every_operation_is_documented_with_its_errors(web: Web) -> None:
    """The OpenAPI document teaches: a summary per operation, and the error answers (401,
    403, 422 at least) described by the one Problem schema that every error body follows."""
    document = web.anon.get("/api/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            responses = operation["responses"]
            for status in ("401", "403", "422"):
                schema = responses[status]["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (where, status)
