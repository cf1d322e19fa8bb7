"""Dictation on the web (issue 14): the API a phone's page calls (drafts, audio checked by
content, live chunks acknowledged once, Range requests on the audio, a draft its author's only)
and the French pages (record, review, validate into the patient's timeline). Expected values come
from the warehouse (plain SQL) or are planted."""

from __future__ import annotations

import html
import io
import re
import wave
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hopia.platform.access import Principal
from hopia.services import accounts, jobs
from hopia.services.context import Context
from tests.web.conftest import BASE, PASSWORD, PERIMETER, Web

API = "/api/v1/dictations"
WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


def wav_bytes(seconds: float = 0.5) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(bytes(range(256)) * int(16_000 * seconds * 2 / 256))
    return out.getvalue()


def ipp_in_perimeter(web: Web) -> tuple[str, int]:
    row = web.sql(
        "SELECT ipp, person_id FROM hopia_id.patient WHERE person_id IN ("
        "SELECT person_id FROM omop.visit_occurrence GROUP BY person_id "
        "HAVING bool_and(care_site_id = :site)) ORDER BY person_id LIMIT 1",
        site=PERIMETER,
    )[0]
    return row.ipp, row.person_id


def new_draft(web: Web, template: str = "consultation") -> dict[str, Any]:
    ipp, _ = ipp_in_perimeter(web)
    answer = web.clients["clinician"].post(API, json={"ipp": ipp, "template": template})
    assert answer.status_code == 201, answer.text
    return answer.json()


def clinician_context(web: Web) -> Context:
    """The clinician's service context on the web's warehouse and policy."""
    state = web.app.state  # type: ignore[attr-defined]
    sites = frozenset({PERIMETER})
    principal = Principal("clinician.test", frozenset({"clinician"}), care_sites=sites)
    return Context(
        web.settings, principal, state.policy, _warehouse=web.warehouse, _owns_warehouse=False
    )


def test_live_chunks_through_the_api_are_acknowledged_once(web: Web) -> None:
    draft = new_draft(web)
    client = web.clients["clinician"]

    def send(seq: int, data: bytes) -> Any:
        return client.post(
            f"{API}/{draft['id']}/chunks",
            files={"seq": (None, str(seq)), "chunk": (f"m{seq}", data, "audio/webm")},
        )

    first = send(0, WEBM_HEAD)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = send(0, WEBM_HEAD)
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    other = send(0, WEBM_HEAD + b"\x01")
    assert other.status_code == 409 and "autre contenu" in other.json()["message"]
    assert send(1, b"\x00" * 100).json()["received"] == 2
    partial = client.get(f"{API}/{draft['id']}/partial")  # a header and zeros: no audio
    assert partial.status_code == 422 and "illisible" in partial.json()["message"]
    assert str(web.settings.home) not in partial.text  # no server path in the answer
    empty = new_draft(web)
    nothing = client.get(f"{API}/{empty['id']}/partial")
    assert nothing.status_code == 200
    assert nothing.json() | {"compute_s": 0} == {
        "draft_id": empty["id"],
        "text": "",
        "chunks": 0,
        "seconds": 0.0,
        "compute_s": 0,
    }
    too_big = send(2, b"\x00" * (600 * 1024))
    assert too_big.status_code == 422 and "trop volumineux" in too_big.json()["message"]
    stored = sorted(
        (Path(web.settings.home) / "dictation" / "drafts" / draft["id"] / "chunks").glob("*.part")
    )
    assert [p.name for p in stored] == ["000000.part", "000001.part"]


def test_uploaded_audio_is_checked_served_with_ranges_and_private(web: Web) -> None:
    draft = new_draft(web)
    client = web.clients["clinician"]
    refused = client.post(
        f"{API}/{draft['id']}/audio", files={"audio": ("dictee.wav", b"%PDF-1.7", "audio/wav")}
    )
    assert refused.status_code == 422
    assert "pas un fichier audio reconnu" in refused.json()["message"]
    assert refused.json()["fields"] == ["audio"]
    audio = wav_bytes(0.5)
    sent = client.post(
        f"{API}/{draft['id']}/audio", files={"audio": ("dictee.ogg", audio, "audio/ogg")}
    )
    assert sent.status_code == 200 and sent.json()["audio"]["kind"] == "wav"
    whole = client.get(f"{API}/{draft['id']}/audio")
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["content-type"] == "audio/wav"
    part = client.get(f"{API}/{draft['id']}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == audio[100:200]
    # another clinician of the same perimeter: the draft reads as unknown
    with web.operator() as ctx:
        accounts.create_account(
            ctx,
            accounts.CreateAccountRequest.of(
                username="clinicien.deux",
                password=PASSWORD,
                roles=["clinician"],
                care_sites=[PERIMETER],
            ),
        )
    colleague = web.login("clinicien.deux")
    for method, path in (("GET", ""), ("GET", "/audio"), ("POST", "/discard")):
        answer = colleague.request(method, f"{API}/{draft['id']}{path}")
        assert answer.status_code == 404, (path, answer.text)
    assert [d["id"] for d in colleague.get(API).json()] == []
    assert draft["id"] in [d["id"] for d in client.get(API).json()]


def test_the_audio_upload_has_its_own_body_limit(web: Web) -> None:
    draft = new_draft(web)
    big = wav_bytes(40)  # 1.28 MB: over web.max_body_bytes (1 MiB), under the audio limit
    assert len(big) > web.settings.web.max_body_bytes
    answer = web.clients["clinician"].post(
        f"{API}/{draft['id']}/audio", files={"audio": ("long.wav", big, "audio/wav")}
    )
    assert answer.status_code == 200, answer.text[:300]
    elsewhere = web.clients["clinician"].post(
        f"{API}/{draft['id']}/chunks",
        files={"seq": (None, "0"), "chunk": ("m0", big, "audio/webm")},
    )
    assert elsewhere.status_code == 413


def test_the_dictation_pages_for_a_clinician_only(web: Web) -> None:
    home = web.clients["clinician"].get("/dictee")
    assert home.status_code == 200 and '<a href="/dictee"' in home.text  # the navigation
    assert 'name="ipp"' in home.text and "Commencer la dictée" in home.text
    assert "Dictez une note" in web.clients["clinician"].get("/").text  # the home page's card
    for role in ("researcher", "data_steward", "manager", "admin"):
        refused = web.clients[role].get("/dictee")
        assert refused.status_code == 403, role
        assert '<a href="/dictee"' not in web.clients[role].get("/").text
    anonymous = TestClient(web.app, base_url=BASE, follow_redirects=False).get("/dictee")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _check_page(html: str) -> None:
    assert '<html lang="fr">' in html and "style=" not in html
    assert re.findall(r"<script[^>]*>", html) in ([], ['<script src="/static/dictation.js" defer>'])
    links = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert all(link.startswith(("/", "#", "?")) for link in links), [
        link for link in links if not link.startswith(("/", "#", "?"))
    ]
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
        assert 'name="csrf" value="' in form, form
    for field in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{field}"' in html, field


def test_a_new_dictation_from_the_form_opens_its_record_page(web: Web) -> None:
    client = web.clients["clinician"]
    ipp, person = ipp_in_perimeter(web)
    token = _form_token(client.get("/dictee").text)
    made = client.post(
        "/dictee",
        data={"ipp": ipp, "template": "crh", "csrf": token},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/dictee/")
    page = client.get(made.headers["location"])
    assert page.status_code == 200
    _check_page(page.text)
    assert 'id="enregistreur"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert f"/patients/{person}" in page.text  # the patient's summary beside
    assert "media-src 'self'" in page.headers["content-security-policy"]
    unknown = client.post("/dictee", data={"ipp": "IPP-INCONNU", "csrf": token})
    assert unknown.status_code == 403  # no perimeter holds an unknown patient
    forged = client.post("/dictee", data={"ipp": ipp, "csrf": "faux"})
    assert forged.status_code == 403


@pytest.mark.slow
def test_review_edit_validate_and_the_note_is_in_the_timeline(web: Web) -> None:
    from tests.services.test_dictation_drafts import planted_transcription

    client = web.clients["clinician"]
    draft = new_draft(web)
    sent = client.post(
        f"{API}/{draft['id']}/audio", files={"audio": ("d.wav", wav_bytes(0.3), "audio/wav")}
    )
    assert sent.status_code == 200
    with clinician_context(web) as ctx:
        planted_transcription(ctx, draft["id"])
    page = client.get(f"/dictee/{draft['id']}/relecture")
    assert page.status_code == 200, page.text[:500]
    _check_page(page.text)
    assert 'name="section:Traitement"' in page.text and "ATC A10BA02" in page.text
    assert re.search(r'<mark class="ent ent-drug" id="mots-f\d+"', page.text)
    assert 'data-debut="' in page.text and f"/api/v1/dictations/{draft['id']}/audio" in page.text
    token = _form_token(page.text)
    saved = client.post(
        f"/dictee/{draft['id']}/sections",
        data={"csrf": token, "section:Traitement": "metformine 1000 mg × 2/j."},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    view = client.get(f"{API}/{draft['id']}").json()
    assert view["sections"]["Traitement"] == "metformine 1000 mg × 2/j." and view["edits"] == 1
    # a fact added, another recoded then deleted, the stay chosen: each through its form
    added = client.post(
        f"/dictee/{draft['id']}/faits",
        data={"csrf": token, "text": "diabète de type 2", "kind": "condition", "code": "e11"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    incomplete = client.post(
        f"/dictee/{draft['id']}/faits", data={"csrf": token, "text": "toux", "kind": "condition"}
    )
    assert incomplete.status_code == 422 and "son code" in incomplete.text
    drug = next(f for f in view["facts"] if f["kind"] == "drug")
    for data in ({"code": "A10BA03"}, {"supprimer": "oui"}):
        answer = client.post(
            f"/dictee/{draft['id']}/faits/{drug['id']}",
            data={"csrf": token, **data},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:300]
    stay = web.sql(
        "SELECT min(visit_occurrence_id) AS v FROM omop.visit_occurrence WHERE person_id = :p",
        p=view["person_id"],
    )[0].v
    chosen = client.post(
        f"/dictee/{draft['id']}/sejour", data={"csrf": token, "stay": stay}, follow_redirects=False
    )
    assert chosen.status_code == 303
    view = client.get(f"{API}/{draft['id']}").json()
    assert view["stay"] == stay and view["edits"] == 5
    assert drug["id"] not in {f["id"] for f in view["facts"]}
    assert {"cim10": "E11"} in [f["codes"] for f in view["facts"] if f.get("added")]
    # « Mettre en forme avec l'IA » without a model configured: said, and nothing changes
    shaped = client.post(f"/dictee/{draft['id']}/mise-en-forme", data={"csrf": token})
    assert shaped.status_code == 200 and "Aucun modèle de langage" in html.unescape(shaped.text)
    assert client.get(f"{API}/{draft['id']}").json()["sections"] == view["sections"]
    unconfirmed = client.post(f"/dictee/{draft['id']}/valider", data={"csrf": token})
    assert unconfirmed.status_code == 422 and "confirmation" in unconfirmed.text
    done = client.post(
        f"/dictee/{draft['id']}/valider",
        data={"csrf": token, "confirmation": "oui"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    person = view["person_id"]
    assert done.headers["location"].startswith(f"/patients/{person}")
    note = web.sql(
        "SELECT d.note_id, d.text FROM hopia_id.dictation_draft x "
        "JOIN hopia_id.document d ON d.external_id = x.dictation_id WHERE x.draft_id = :d",
        d=draft["id"],
    )[0]
    assert "metformine 1000 mg" in note.text
    timeline = client.get(f"/patients/{person}")
    assert f"n° {note.note_id}" in timeline.text
    assert not list((Path(web.settings.home) / "dictation" / "drafts" / draft["id"]).iterdir())
    after = client.get(f"{API}/{draft['id']}").json()
    assert after["status"] == "validated" and not after["audio"]["available"]


@pytest.mark.slow
def test_spoken_audio_becomes_a_transcribed_draft_through_the_job(web: Web) -> None:
    """The whole way with the real recogniser: espeak-ng says a dictation, the API receives
    the file, the job transcribes it, the draft holds the coded facts with their seconds."""
    from tests.care.dictation.test_asr import model_dir, speak
    from tests.conftest import REPO

    model_dir(REPO / ".hopia-cache")
    wav = speak(  # what base hears through espeak-ng's voice (tests/cli/test_dictation_cli.py)
        "Antécédents, deux points, pas de fièvre. Le patient va bien.",
        Path(web.settings.home) / "d.wav",
        130,
    )
    client = web.clients["clinician"]
    draft = new_draft(web)
    with wav.open("rb") as fh:
        sent = client.post(f"{API}/{draft['id']}/audio", files={"audio": ("d.wav", fh)})
    assert sent.status_code == 200
    job = client.post(f"{API}/{draft['id']}/finish")
    assert job.status_code == 202 and job.json()["kind"] == "dictation.transcribe"
    with web.operator() as ctx:
        jobs.work(ctx, burst=True)
    finished = client.get(f"/api/v1/jobs/{job.json()['id']}").json()
    assert finished["status"] == "succeeded", finished
    assert finished["result"]["draft_id"] == draft["id"]
    view = client.get(f"{API}/{draft['id']}").json()
    assert "fièvre" in view["transcript"].lower()
    fever = [f for f in view["facts"] if f["codes"].get("cim10") == "R509"]
    assert fever and fever[0]["negation"] and fever[0]["audio_start"] is not None
    assert view["asr"]["model"] == "whisper-base"
