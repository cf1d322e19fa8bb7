"""The PHI guard: a backend not marked local never receives an identifier of the synthetic
patients, and the user gets the originals back (whole answers and streams).

The backend is a real OpenAI-compatible HTTP server started by the test on localhost
(``echo_server``), marked NOT local: it records every body it receives and echoes its input.
Every recorded body is scanned for every identifier of the patient its prompt was about.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from hopia.assistant.guard import PhiGuard, Restorer, folded
from hopia.assistant.llm.base import ChatMessage, Delta, Usage
from hopia.assistant.llm.openai_compat import OpenAICompatBackend
from hopia.data.pseudo import Pseudonymiser
from hopia.data.synth import SynthPatient, generate
from hopia.data.synth.identity import format_nir
from hopia.platform.config import Settings
from hopia.platform.exceptions import PhiGuardError
from hopia.services import llm_gateway
from hopia.services.context import Context
from hopia.services.llm_gateway import ChatRequest, Gateway
from tests.assistant.echo_server import EchoServer
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET_KEY, TEST_VAULT_KEY

PATIENTS = generate(6, 2026).patients


def prompt_of(p: SynthPatient) -> list[dict[str, str]]:
    """A system turn and a question the way a clinician would paste a record."""
    mail = f", mail {p.email}" if p.email else ""
    return [
        {
            "role": "system",
            "content": f"Tu aides à rédiger le courrier de {p.given_name} {p.family_name}.",
        },
        {
            "role": "user",
            "content": (
                f"Patient : {p.given_name} {p.family_name}, né(e) le {p.birth_date:%d/%m/%Y}, "
                f"IPP {p.ipp}, NIR {format_nir(p.nir)}, domicile {p.address}, {p.zip} {p.city}, "
                f"tél. {p.phone}{mail}. Résume le dossier de Mme {p.family_display} pour la RCP "
                f"et rappelle son numéro {p.phone} et son IPP {p.ipp}."
            ),
        },
    ]


def identifiers(p: SynthPatient) -> list[str]:
    """Every identifier of the patient that the prompt holds, in the forms it is written."""
    found = [
        p.given_name, p.family_name, p.family_display, p.ipp, p.nir, format_nir(p.nir),
        p.address, p.phone, p.phone.replace(" ", ""), f"{p.birth_date:%d/%m/%Y}", p.zip, p.city,
    ]  # fmt: skip
    return found + ([p.email] if p.email else [])


def leaked(body: str, p: SynthPatient) -> list[str]:
    """The identifiers of ``p`` found in ``body`` (names: as whole words, any case; JSON
    escapes undone first)."""
    dumped = json.dumps(json.loads(body), ensure_ascii=False)
    out = []
    for value in identifiers(p):
        pattern = r"(?<!\w)" + re.escape(value) + r"(?!\w)"
        if re.search(pattern, dumped, flags=re.IGNORECASE):
            out.append(value)
    return out


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("guard")
    settings = Settings(
        home=home,
        secret_key=TEST_SECRET_KEY,
        vault_key=TEST_VAULT_KEY,
        audit_key=TEST_AUDIT_KEY,
    )
    with Context.local(settings, "test.guard") as context:
        context.warehouse()  # created and migrated once
        yield context


def gateway_for(server: EchoServer, *, local: bool) -> Gateway:
    backend = OpenAICompatBackend("distant", server.url, "echo", local=local, parameters_b=8)
    return Gateway({"distant": backend})


def request_of(p: SynthPatient) -> ChatRequest:
    return ChatRequest.of(messages=prompt_of(p), task="courrier", purpose="test du garde-fou")


def original_text(p: SynthPatient) -> str:
    return "\n".join(m["content"] for m in prompt_of(p))


@pytest.mark.parametrize("patient", PATIENTS, ids=lambda p: p.ipp)
def test_a_remote_backend_never_sees_an_identifier(
    ctx: Context, echo: EchoServer, patient: SynthPatient
) -> None:
    gateway = gateway_for(echo, local=False)
    result = llm_gateway.complete(ctx, request_of(patient), gateway=gateway)
    echo.piece = 3  # surrogates split between deltas
    chat = llm_gateway.stream(ctx, request_of(patient), gateway=gateway)
    streamed = "".join(d.text for d in chat.deltas)

    assert len(echo.bodies) == 2
    for body in echo.texts():
        assert leaked(body, patient) == [], body
    # The echo answered surrogates; the user reads the originals, whole and streamed.
    assert result.completion.text == original_text(patient)
    assert streamed == original_text(patient)
    assert result.record.guarded and chat.record is not None and chat.record.guarded


def test_a_local_backend_receives_the_prompt_as_it_is(ctx: Context, echo: EchoServer) -> None:
    patient = PATIENTS[0]
    result = llm_gateway.complete(ctx, request_of(patient), gateway=gateway_for(echo, local=True))
    assert leaked(echo.texts()[0], patient)  # the scan does see identifiers when they are there
    assert result.completion.text == original_text(patient)
    assert not result.record.guarded


def test_nothing_is_sent_when_pseudonymisation_fails(
    ctx: Context, echo: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = gateway_for(echo, local=False)
    guard = gateway.guard(ctx.settings.data.pseudo)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Jean DUPONT")  # a message that quotes the text must not leak

    monkeypatch.setattr(guard.pseudonymiser, "pseudonymise", broken)
    with pytest.raises(PhiGuardError) as refused:
        llm_gateway.complete(ctx, request_of(PATIENTS[1]), gateway=gateway)
    assert echo.bodies == []
    assert "rien n'a été envoyé" in refused.value.message and "distant" in refused.value.message
    assert "DUPONT" not in refused.value.message


def test_the_guard_refuses_a_policy_it_cannot_restore() -> None:
    with pytest.raises(PhiGuardError):
        PhiGuard(Pseudonymiser(b"x" * 32, "tag", use_model=False))


# -- restoring a stream --------------------------------------------------------------------------


def restorer() -> Restorer:
    r = Restorer()
    for surrogate, original in [
        ("DELORME", "PERRIN"), ("Delorme", "Perrin"), ("Jean", "Paul"), ("Jeanne", "Odette"),
        ("04 59 28 03 72", "04 20 37 56 71"), ("23/11/1956", "20/11/1957"),
    ]:  # fmt: skip
        r.add(surrogate, original)
    return r


TEXT = (
    "Mme Delorme (DELORME), née le 23/11/1956, tél. 04 59 28 03 72 ; Jeanne et Jean "
    "viennent. Jeannette n'est pas un substitut, ni DELORMES. Fin : Jean"
)


def test_restore_replaces_whole_surrogates_only() -> None:
    assert restorer().restore(TEXT) == (
        "Mme Perrin (PERRIN), née le 20/11/1957, tél. 04 20 37 56 71 ; Odette et Paul "
        "viennent. Jeannette n'est pas un substitut, ni DELORMES. Fin : Paul"
    )


@pytest.mark.parametrize("seed", range(40))
def test_a_stream_cut_anywhere_restores_as_the_whole_text(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(TEXT)), rng.randint(1, 40)))
    pieces = [TEXT[i:j] for i, j in zip([0, *cuts], [*cuts, len(TEXT)], strict=True)]
    r = restorer()
    deltas = [Delta(p) for p in pieces] + [Delta("", done=True, usage=Usage(1, 1))]
    out = list(r.restore_stream(iter(deltas)))
    assert "".join(d.text for d in out) == restorer().restore(TEXT)
    assert out[-1].done and out[-1].usage == Usage(1, 1)
    # Nothing shown holds a surrogate's first half: a piece never ends inside one.
    shown = [d.text for d in out]
    assert all("DELOR" not in s or "DELORME" in s or "DELORMES" in s for s in shown)


def test_two_originals_behind_one_surrogate_are_not_guessed() -> None:
    r = Restorer()
    r.add("MARTIN", "DUPONT")
    r.add("MARTIN", "DURAND")
    assert r.restore("M. MARTIN") == "M. MARTIN"


def test_texts_to_embed_by_a_remote_backend_are_pseudonymised(
    ctx: Context, echo: EchoServer
) -> None:
    patient = PATIENTS[2]
    texts = [m["content"] for m in prompt_of(patient)]
    request = llm_gateway.EmbedRequest.of(input=texts, purpose="index")
    result = llm_gateway.embed(ctx, request, gateway=gateway_for(echo, local=False))
    assert len(result.vectors) == 2 and result.record.guarded
    assert leaked(echo.texts()[0], patient) == []


def test_a_stream_stopped_early_is_still_recorded(ctx: Context, echo: EchoServer) -> None:
    chat = llm_gateway.stream(ctx, request_of(PATIENTS[3]), gateway=gateway_for(echo, local=True))
    first = next(chat.deltas)
    assert first.text and chat.record is None
    chat.deltas.close()  # the client went away
    assert chat.record is not None and chat.record.usage.completion_tokens >= 1
    with ctx.warehouse().engine.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM hopia_meta.audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one()
        ended = conn.execute(
            text("SELECT ended FROM hopia_meta.llm_usage WHERE usage_id = :u"),
            {"u": chat.record.usage_id},
        ).scalar_one()
    recorded = json.loads(details)
    assert recorded["stream"] is True and recorded["usage_id"] == chat.record.usage_id
    assert ended is False  # cut short: its tokens counted from what was produced


# Labels whose every gold span must be gone from what a remote backend receives. Dates are
# checked by the prompt test above (full dates): a month and year ("novembre 2021") is a gap of
# the engine, and a shifted date may equal another real date of the document by chance.
# Initials ("L.") are too short to be told from the rest of the text.
STRICT = {"NOM", "PRENOM", "IPP", "NDA", "SECU", "TEL", "MAIL", "ADRESSE", "VILLE", "ZIP"}


@pytest.mark.slow
def test_whole_synthetic_documents_reach_a_remote_backend_without_their_identifiers() -> None:
    corpus = generate(8, 11)
    guard = PhiGuard(Pseudonymiser(b"g" * 32, "surrogate"))
    missed, checked = [], 0
    for doc in corpus.documents[:50]:
        guarded = guard.protect([ChatMessage("user", "Résume :\n" + doc.text)], "distant")
        sent = guarded.messages[0].content
        for phi in doc.phi:
            value = doc.text[phi["start"] : phi["end"]]
            if phi["label"] not in STRICT or len(value) < 3:
                continue
            checked += 1
            if re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", sent):
                missed.append((doc.id, phi["label"], value))
        # Back as sent, but for a name spelt two ways ("REMY", "RÉMY": one surrogate, the
        # first spelling back), initials ("L.": their surrogates are not restored) and two
        # postcodes of one city (one surrogate: neither is restored).
        back = folded(guarded.restorer.restore(sent)).split()
        original = folded("Résume :\n" + doc.text).split()
        assert len(back) == len(original)
        wrong = [o for b, o in zip(back, original, strict=True) if b != o and len(o) > 3]
        assert [o for o in wrong if not re.fullmatch(r"\d{5},?", o)] == []
    assert checked > 500 and missed == []


def test_a_surrogate_that_the_texts_already_say_is_a_clash() -> None:
    """ "Ambroise" drawn for the first name "Eric" beside the letterhead "Hôpital Ambroise-Paré"
    (not an identifier): restoring the answer would rename the hospital "Eric-Paré"."""
    from hopia.assistant.guard import _collisions

    said = frozenset({"hopital", "ambroise", "pare", "eric", "patient"})
    assert _collisions([("Ambroise", "Eric", "PRENOM")], said) == (0, 1)
    assert _collisions([("Louis", "Eric", "PRENOM")], said) == (0, 0)
    # another person's real first name is the worse clash
    assert _collisions([("Eric", "Paul", "PRENOM"), ("Louis", "Eric", "PRENOM")], said) == (1, 0)
    # a shifted date's month is said everywhere: not a clash
    assert _collisions([("12 mars 2021", "3 mars 2021", "DATE")], said | {"mars"}) == (0, 0)
