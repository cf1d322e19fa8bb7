"""Dictation drafts kept on the server (issue 14): a clinician's own, for the patients of the
perimeter; the audio checked by content and kept in the identified space only; a live
recording's chunks stored once each; every access audited; the validation ingests the note with
the edits in its provenance and deletes the audio."""

from __future__ import annotations

import io
import json
import wave
from typing import Any

import pytest
from sqlalchemy import text

from hopia.platform.access import Principal
from hopia.platform.config import Settings, get_settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from hopia.platform.identity import store
from hopia.platform.identity.roles import SpacePolicy
from hopia.platform.warehouse import Warehouse
from hopia.services import dictation_drafts as drafts
from hopia.services import jobs
from hopia.services.context import Context

CARDIOLOGY = 1  # the sample's care site 1


def context(wh: Warehouse, user: str, roles: set[str], sites: set[int], **care: Any) -> Context:
    care_sites = store.perimeter_reader(wh.engine)
    settings = get_settings()
    if care:
        settings = settings.model_copy(
            update={
                "care": settings.care.model_copy(
                    update={"dictation": settings.care.dictation.model_copy(update=care)}
                )
            }
        )
    principal = Principal(user, frozenset(roles), care_sites=frozenset(sites))
    ctx = Context(settings, principal, SpacePolicy(care_sites, ["clinician"]))
    ctx._warehouse, ctx._owns_warehouse, ctx._migrated = wh, False, False
    return ctx


def clinician(wh: Warehouse, user: str = "dr.martin", **care: Any) -> Context:
    return context(wh, user, {"clinician"}, {CARDIOLOGY}, **care)


def patients(wh: Warehouse) -> tuple[tuple[str, int], tuple[str, int]]:
    """(IPP, person id) of a patient with stays in cardiology only, and of one never there."""
    with wh.engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT p.ipp, p.person_id FROM hopia_id.patient p WHERE p.person_id IN ("
                "SELECT person_id FROM omop.visit_occurrence GROUP BY person_id "
                "HAVING bool_and(care_site_id = 1)) ORDER BY p.person_id LIMIT 1"
            )
        ).one()
        outside = conn.execute(
            text(
                "SELECT p.ipp, p.person_id FROM hopia_id.patient p WHERE p.person_id IN ("
                "SELECT person_id FROM omop.visit_occurrence GROUP BY person_id "
                "HAVING NOT bool_or(coalesce(care_site_id, 0) = 1)) ORDER BY p.person_id LIMIT 1"
            )
        ).one()
    return (inside.ipp, inside.person_id), (outside.ipp, outside.person_id)


def stay_of(wh: Warehouse, person: int) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(
            text("SELECT min(visit_occurrence_id) FROM omop.visit_occurrence WHERE person_id = :p"),
            {"p": person},
        ).scalar_one()


def audit_actions(wh: Warehouse, prefix: str = "dictation.") -> list[str]:
    with wh.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT action FROM hopia_meta.audit_log WHERE action LIKE :p ORDER BY audit_id"
                ),
                {"p": prefix + "%"},
            ).scalars()
        )


def wav_bytes(seconds: float = 0.5) -> bytes:
    """A short silent 16 kHz mono WAV, written with the standard library."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x00" * int(16_000 * seconds))
    return out.getvalue()


WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60  # the EBML magic a MediaRecorder chunk 0 starts with


def test_a_draft_is_for_a_patient_of_the_perimeter(sample_copy: Warehouse) -> None:
    (ipp_in, person_in), (ipp_out, _) = patients(sample_copy)
    ctx = clinician(sample_copy)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in, template="consultation"))
    assert draft.status == "draft" and draft.person_id == person_in and draft.transcript is None
    assert drafts_root_is_private(ctx, draft.id)
    with pytest.raises(AccessDeniedError, match="périmètre"):
        drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_out))
    with pytest.raises(AccessDeniedError):  # an unknown IPP is no perimeter's: same refusal
        drafts.create_draft(ctx, drafts.CreateDraft.of(ipp="IPP-INCONNU"))
    with pytest.raises(InvalidRequestError, match="modèle de note inconnu"):
        drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in, template="roman"))
    with pytest.raises(InvalidRequestError, match="séjour"):  # another patient's stay
        other = stay_of(sample_copy, patients(sample_copy)[1][1])
        drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in, stay=other))
    stay = stay_of(sample_copy, person_in)
    with_stay = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in, stay=stay))
    assert with_stay.stay == stay
    # a researcher has no dictation; the operator of the CLI an unknown IPP as unknown
    researcher = context(sample_copy, "r", {"researcher"}, set())
    with pytest.raises(AccessDeniedError):
        drafts.create_draft(researcher, drafts.CreateDraft.of(ipp=ipp_in))
    operator = Context(get_settings(), Principal.local("test"))
    operator._warehouse, operator._owns_warehouse = sample_copy, False
    with pytest.raises(NotFoundError, match="IPP-INCONNU"):
        drafts.create_draft(operator, drafts.CreateDraft.of(ipp="IPP-INCONNU"))
    assert audit_actions(sample_copy).count("dictation.draft.create") == 2
    assert audit_actions(sample_copy, "access.refused")


def drafts_root_is_private(ctx: Context, draft_id: str) -> bool:
    folder = drafts.drafts_root(ctx) / draft_id
    return folder.is_dir() and folder.stat().st_mode & 0o077 == 0


def test_a_draft_is_its_authors_only(sample_copy: Warehouse) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    mine = drafts.create_draft(clinician(sample_copy), drafts.CreateDraft.of(ipp=ipp_in))
    colleague = clinician(sample_copy, "dr.durand")  # same perimeter, not the author
    ref = drafts.DraftRef.of(draft_id=mine.id)
    for call in (drafts.get_draft, drafts.discard, drafts.audio_file, drafts.partial):
        with pytest.raises(NotFoundError):
            call(colleague, ref)
    assert [d.id for d in drafts.list_drafts(clinician(sample_copy))] == [mine.id]
    assert drafts.list_drafts(colleague) == []
    # a clinician whose perimeter no longer holds the patient: refused at the next call
    moved = context(sample_copy, "dr.martin", {"clinician"}, {99})
    with pytest.raises(AccessDeniedError):
        drafts.get_draft(moved, ref)


def test_uploaded_audio_is_checked_by_content_and_sized(sample_copy: Warehouse) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    ctx = clinician(sample_copy, max_audio_bytes=4096)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in))
    ref = drafts.DraftRef.of(draft_id=draft.id)
    with pytest.raises(InvalidRequestError, match="pas un fichier audio reconnu"):
        drafts.store_audio(ctx, ref, b"%PDF-1.7 not audio", "dictee.wav")
    with pytest.raises(InvalidRequestError, match="vide"):
        drafts.store_audio(ctx, ref, b"", "dictee.wav")
    with pytest.raises(InvalidRequestError, match="trop volumineux"):
        drafts.store_audio(ctx, ref, io.BytesIO(wav_bytes(1.0)), "dictee.wav")
    folder = drafts.drafts_root(ctx) / draft.id
    assert list(folder.iterdir()) == []  # nothing kept of a refused file
    small = wav_bytes(0.1)
    stored = drafts.store_audio(ctx, ref, io.BytesIO(small), "dictee.mp3")
    assert stored.audio.kind == "wav" and stored.audio.bytes == len(small)
    assert (folder / "audio.wav").read_bytes() == small
    assert (folder / "audio.wav").stat().st_mode & 0o077 == 0
    served = drafts.audio_file(ctx, ref)
    assert served.media_type == "audio/wav" and served.size == len(small)
    assert "dictation.audio.listen" in audit_actions(sample_copy)
    # a file, then a live recording on the same draft: refused
    with pytest.raises(ConflictError):
        drafts.append_chunk(ctx, drafts.ChunkRequest.of(draft_id=draft.id, seq=0), WEBM_HEAD)


def test_live_chunks_are_idempotent_and_survive_a_lost_connection(sample_copy: Warehouse) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    ctx = clinician(sample_copy)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in))

    def send(seq: int, data: bytes) -> drafts.ChunkAck:
        return drafts.append_chunk(ctx, drafts.ChunkRequest.of(draft_id=draft.id, seq=seq), data)

    with pytest.raises(InvalidRequestError, match="pas un fichier audio"):
        send(0, b"not a recording at all")
    first = send(0, WEBM_HEAD)
    assert (first.duplicate, first.received, first.bytes) == (False, 1, len(WEBM_HEAD))
    again = send(0, WEBM_HEAD)  # the answer was lost; the browser sends it again
    assert again.duplicate and again.received == 1 and again.bytes == len(WEBM_HEAD)
    with pytest.raises(ConflictError, match="autre contenu"):
        send(0, WEBM_HEAD[:-1] + b"\x01")
    gap = send(2, b"\x02" * 10)  # chunk 1 lost on the way: 2 is kept, not heard yet
    assert gap.received == 1
    filled = send(1, b"\x01" * 10)
    assert filled.received == 3 and filled.bytes == len(WEBM_HEAD) + 20
    # what was received is on disk, whole, whatever happens to the connection now
    view = drafts.get_draft(ctx, drafts.DraftRef.of(draft_id=draft.id))
    assert view.audio.chunks == 3 and view.audio.kind == "webm"
    job = drafts.finish(ctx, drafts.DraftRef.of(draft_id=draft.id))
    assembled = drafts.drafts_root(ctx) / draft.id / "audio.webm"
    assert assembled.read_bytes() == WEBM_HEAD + b"\x01" * 10 + b"\x02" * 10
    assert job.kind == "dictation.transcribe" and job.status == "queued"
    assert jobs.get(ctx, job.id).parameters == {"draft_id": draft.id, "person_id": view.person_id}
    actions = audit_actions(sample_copy)
    assert actions.count("dictation.audio.chunk") == 4 and "dictation.draft.finish" in actions


def test_finish_needs_audio_and_a_job_is_asked_on_the_patient(sample_copy: Warehouse) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    ctx = clinician(sample_copy)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in))
    with pytest.raises(InvalidRequestError, match="aucun audio"):
        drafts.finish(ctx, drafts.DraftRef.of(draft_id=draft.id))
    # a clinician may not queue another kind of job
    with pytest.raises(AccessDeniedError):
        jobs.submit(ctx, jobs.JobRequest.of(kind="quality"))


def test_discard_deletes_the_audio_unless_kept(sample_copy: Warehouse) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    for days, kept in ((0, False), (30, True)):
        ctx = clinician(sample_copy, audio_retention_days=days)
        draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in))
        ref = drafts.DraftRef.of(draft_id=draft.id)
        drafts.store_audio(ctx, ref, wav_bytes(0.1))
        done = drafts.discard(ctx, ref)
        assert done.status == "discarded" and done.audio.available is kept
        with pytest.raises(ConflictError):
            drafts.store_audio(ctx, ref, wav_bytes(0.1))
    # past its retention, the kept audio goes at the next listing
    with sample_copy.begin() as conn:
        conn.execute(text("UPDATE hopia_id.dictation_draft SET updated_at = '2020-01-01'"))
    ctx = clinician(sample_copy, audio_retention_days=30)
    drafts.list_drafts(ctx)
    assert not any(drafts.drafts_root(ctx).glob("*/audio.*"))
    assert "dictation.audio.purge" in audit_actions(sample_copy)


SPOKEN = (
    "antécédents deux points diabète de type deux point à la ligne traitement deux points "
    "metformine cinq cents milligrammes deux fois par jour point à la ligne conclusion deux "
    "points pas de fièvre point"
)


def planted_transcription(ctx: Context, draft_id: str, spoken: str = SPOKEN) -> dict[str, Any]:
    """The transcription step with the recogniser's words planted (half a second each): the
    real conventions, NLP and template structuring, written as the job writes them."""
    from hopia.care.dictation.conventions import Word
    from hopia.care.dictation.structure import template
    from hopia.services import dictation

    words = [Word(w, k * 0.5, k * 0.5 + 0.4) for k, w in enumerate(spoken.split())]
    view = drafts.get_draft(ctx, drafts.DraftRef.of(draft_id=draft_id))
    note, _ = dictation._structured(ctx, words, template(view.template))
    result = dictation.DraftNote(
        transcript=note.text,
        template=view.template,
        template_title=note.template.title,
        sections=note.sections,
        facts=[f.to_json() for f in note.facts],
        asr={"model": "mots plantés", "version": "test", "rtf": 0.0, "duration": len(words) / 2},
        patient=view.ipp,
        audio_sha256=view.audio.sha256 or "",
    )
    return drafts.store_transcription(ctx, draft_id, result)


@pytest.mark.slow
def test_review_edits_reach_the_provenance_and_the_audio_is_deleted(
    sample_copy: Warehouse, in_process_models: None
) -> None:
    (ipp_in, person_in), _ = patients(sample_copy)
    ctx = clinician(sample_copy)
    stay = stay_of(sample_copy, person_in)
    draft = drafts.create_draft(
        ctx, drafts.CreateDraft.of(ipp=ipp_in, template="consultation", stay=stay)
    )
    ref = drafts.DraftRef.of(draft_id=draft.id)
    drafts.store_audio(ctx, ref, wav_bytes(0.2))
    with pytest.raises(ConflictError, match="pas encore transcrit"):
        drafts.validate_draft(ctx, ref)
    planted_transcription(ctx, draft.id)
    view = drafts.get_draft(ctx, ref)
    assert view.sections["Traitement"].startswith("metformine 500 mg")
    metformin = next(f for f in view.facts if f["codes"].get("atc") == "A10BA02")
    fever = next(f for f in view.facts if f["kind"] == "condition" and f["negation"])
    assert metformin["audio_start"] is not None
    edited = drafts.update_draft(
        ctx,
        drafts.UpdateDraft.of(
            draft_id=draft.id,
            sections={"Traitement": "metformine 850 mg × 2/j."},
            facts=[
                {"id": fever["id"], "delete": True},
                {"id": metformin["id"], "code": "A10BA02", "hypothesis": True},
                {"text": "diabète de type 2", "kind": "condition", "code": "e11"},
            ],
        ),
    )
    assert edited.sections["Traitement"] == "metformine 850 mg × 2/j."
    assert fever["id"] not in {f["id"] for f in edited.facts}
    added = next(f for f in edited.facts if f.get("added"))
    assert added["codes"] == {"cim10": "E11"} and added["said"]
    assert edited.edits == 4  # the section, the deletion, the qualifier, the addition
    with pytest.raises(InvalidRequestError, match="fait inconnu"):
        drafts.update_draft(ctx, drafts.UpdateDraft.of(draft_id=draft.id, facts=[{"id": "f999"}]))
    with pytest.raises(InvalidRequestError, match="section inconnue"):
        drafts.update_draft(ctx, drafts.UpdateDraft.of(draft_id=draft.id, sections={"X": "y"}))
    # validation: another clinician's perimeter may not validate it, even with its id
    outsider = context(sample_copy, "dr.martin", {"clinician"}, {99})
    with pytest.raises(AccessDeniedError):
        drafts.validate_draft(outsider, ref)

    def notes() -> int:
        with sample_copy.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM omop.note")).scalar_one()

    before = notes()
    assert before and not draft_rows_in_research(sample_copy, draft.id)
    done = drafts.validate_draft(ctx, ref)
    assert done.draft.status == "validated" and done.note_id is not None
    assert notes() == before + 1 and not draft_rows_in_research(sample_copy, draft.id)
    assert not done.draft.audio.available
    assert not any((drafts.drafts_root(ctx) / draft.id).iterdir())
    with sample_copy.engine.connect() as conn:
        prov = conn.execute(
            text("SELECT * FROM hopia_id.dictation WHERE dictation_id = :d"),
            {"d": done.dictation_id},
        ).one()
        note = conn.execute(
            text("SELECT * FROM omop.note WHERE note_id = :n"), {"n": done.note_id}
        ).one()
        document = conn.execute(
            text("SELECT text, ipp FROM hopia_id.document WHERE note_id = :n"),
            {"n": done.note_id},
        ).one()
    edits = json.loads(prov.edits)
    assert [e["op"] for e in edits["edits"]] == ["section", "fact_delete", "fact_edit", "fact_add"]
    assert edits["draft_id"] == draft.id and edits["stay"] == stay and prov.edited
    assert prov.author == "dr.martin" and prov.ipp == ipp_in
    assert "Traitement : metformine 850 mg" in document.text and document.ipp == ipp_in
    # the research space holds the pseudonymised note, attached to the stay, and nothing else
    assert note.person_id == person_in and note.visit_occurrence_id == stay
    assert "850 mg" in note.note_text and ipp_in not in note.note_text
    with pytest.raises(ConflictError):
        drafts.validate_draft(ctx, ref)
    actions = audit_actions(sample_copy)
    assert "dictation.validate" in actions and "dictation.draft.update" in actions


@pytest.mark.slow
def test_a_new_transcription_replaces_the_note_and_says_so(
    sample_copy: Warehouse, in_process_models: None
) -> None:
    (ipp_in, _), _ = patients(sample_copy)
    ctx = clinician(sample_copy)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in, template="consultation"))
    planted_transcription(ctx, draft.id)
    request = drafts.UpdateDraft.of(draft_id=draft.id, sections={"Conclusion": "RAS."})
    assert drafts.update_draft(ctx, request).sections["Conclusion"] == "RAS."
    planted_transcription(ctx, draft.id)
    view = drafts.get_draft(ctx, drafts.DraftRef.of(draft_id=draft.id))
    assert view.sections["Conclusion"] == "pas de fièvre."
    with sample_copy.engine.connect() as conn:
        edits = conn.execute(
            text("SELECT edits FROM hopia_id.dictation_draft WHERE draft_id = :d"), {"d": draft.id}
        ).scalar_one()
    assert [e["op"] for e in json.loads(edits)] == ["section", "transcription"]


def draft_rows_in_research(wh: Warehouse, draft_id: str) -> list[str]:
    """The research-space tables whose text columns hold the draft's id (none should)."""
    from hopia.platform.warehouse import schema

    found = []
    with wh.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.schema != schema.OMOP:
                continue
            columns = [c for c in table.columns if str(c.type).startswith(("VARCHAR", "TEXT"))]
            for column in columns:
                hit = conn.execute(
                    text(
                        f'SELECT 1 FROM {table.schema}."{table.name}" '
                        f'WHERE "{column.name}" LIKE :d LIMIT 1'
                    ),
                    {"d": f"%{draft_id}%"},
                ).first()
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


def test_settings_document_the_retention() -> None:
    field = Settings.model_fields["care"].default_factory().dictation  # type: ignore[misc]
    assert field.audio_retention_days == 0
    described = type(field).model_fields["audio_retention_days"].description or ""
    assert "0" in described and "deleted" in described


@pytest.mark.slow
def test_the_model_rewrites_only_the_sections_that_keep_their_facts(
    sample_copy: Warehouse,
) -> None:
    """The review's « Mettre en forme » (issue 14 item 4): the model's answers are planted
    per section (the seam the gateway fills); the real NLP judges them."""
    from hopia.assistant.llm.base import Completion, Usage

    (ipp_in, _), _ = patients(sample_copy)
    ctx = clinician(sample_copy)
    draft = drafts.create_draft(ctx, drafts.CreateDraft.of(ipp=ipp_in))
    ref = drafts.DraftRef.of(draft_id=draft.id)
    drafts.store_audio(ctx, ref, wav_bytes(0.2))
    planted_transcription(ctx, draft.id)
    before = drafts.get_draft(ctx, ref).sections
    answers = {
        "Antécédents": "Diabète de type 2.",  # faithful
        "Traitement": "Metformine 850 mg deux fois par jour.",  # a changed dose
        "Conclusion": "Fièvre.",  # a flipped negation
    }
    assert set(answers) <= set(before), before

    def generate(messages: list) -> Completion:
        title = messages[1].content.splitlines()[0].removeprefix("Section : ").strip()
        return Completion(answers.get(title, before.get(title, "")), Usage(5, 5), "planté", "stop")

    view, result = drafts.reformulate_draft(ctx, ref, generate)
    kept = {s.title for s in result.sections if s.accepted}
    assert "Antécédents" in kept and not {"Traitement", "Conclusion"} & kept
    assert view.sections["Antécédents"] == "Diabète de type 2."
    assert view.sections["Traitement"] == before["Traitement"]
    assert view.sections["Conclusion"] == before["Conclusion"]
    with sample_copy.engine.connect() as conn:
        edits = json.loads(
            conn.execute(
                text("SELECT edits FROM hopia_id.dictation_draft WHERE draft_id = :d"),
                {"d": draft.id},
            ).scalar_one()
        )
    assert [(e["section"], e.get("by")) for e in edits if e["op"] == "section"] == [
        ("Antécédents", "model")
    ]
    assert "dictation.reformulate" in audit_actions(sample_copy)
    # without a model nothing changes
    same, none = drafts.reformulate_draft(ctx, ref, None)
    assert same.sections == view.sections and "Aucun modèle" in (none.message or "")
