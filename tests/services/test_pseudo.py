"""Pseudonymisation service: texts and JSONL runs (validation with fields, keys required, the
policy first, line errors and progress, atomic output), evaluation, training data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import (
    AccessDeniedError,
    InvalidRequestError,
    KeysMissingError,
    NotFoundError,
)
from hopia.services import pseudo
from hopia.services.context import Context
from tests.services.contexts import researcher

TEXT = "Vu M. Jean DUPONT le 12/03/2024, tél 06 12 34 56 78."


def local(tmp_path: Path, **settings: object) -> Context:
    return Context.local(Settings(home=tmp_path / "home", **settings))


def denied(tmp_path: Path) -> Context:
    return researcher(Settings(home=tmp_path / "home"))


def jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- texts ---------------------------------------------------------------------------------------


def test_texts_are_pseudonymised_with_offsets_into_the_input(tmp_path: Path) -> None:
    request = pseudo.PseudonymiseTextsRequest.of(
        items=[
            {"id": "a", "text": TEXT, "patient_id": 12},
            {"id": "b", "text": TEXT, "patient_id": "12"},
            {"id": "c", "text": TEXT},
        ],
        policy="tag",
    )
    a, b, c = pseudo.pseudonymise_texts(local(tmp_path), request)
    assert [r.id for r in (a, b, c)] == ["a", "b", "c"]
    assert {e.label for e in a.entities} == {"PRENOM", "NOM", "DATE", "TEL"}
    for e in a.entities:
        assert TEXT[e.start : e.end] and f"<{e.label}>" in a.pseudo_text
    row = a.to_json()
    assert list(row) == ["id", "pseudo_text", "entities"]
    assert list(row["entities"][0]) == ["start", "end", "label"]

    surrogate = pseudo.PseudonymiseTextsRequest.of(
        items=[{"id": "a", "text": TEXT, "patient_id": "P1"}] * 2
        + [{"id": "b", "text": TEXT, "patient_id": "P2"}]
    )
    one, same, other = pseudo.pseudonymise_texts(local(tmp_path), surrogate)
    assert one.pseudo_text == same.pseudo_text != other.pseudo_text
    assert "DUPONT" not in one.pseudo_text


def test_requests_name_the_fields_at_fault() -> None:
    with pytest.raises(InvalidRequestError) as e:
        pseudo.PseudonymiseTextsRequest.of(items=[{"id": "a"}], policy="redact")
    assert set(e.value.fields) == {"items.0.text", "policy"}
    with pytest.raises(InvalidRequestError) as e:
        pseudo.PseudonymiseTextsRequest.of(items=[{"id": 3, "text": "x"}])
    assert e.value.fields == ("items.0.id",)
    with pytest.raises(InvalidRequestError) as e:
        pseudo.TrainRequest.of(shared=".", out="m", synth_patients=-1, max_epochs=0)
    assert set(e.value.fields) == {"synth_patients", "max_epochs"}
    with pytest.raises(InvalidRequestError) as e:
        pseudo.EvaluateRequest.of(gold=[])
    assert e.value.fields == ("gold",)


def test_no_key_is_created_a_fresh_installation_is_sent_to_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOPIA_SECRET_KEY")
    src = jsonl(tmp_path / "in.jsonl", [json.dumps({"id": "a", "text": TEXT})])
    out = tmp_path / "out.jsonl"
    request = pseudo.PseudonymiseFileRequest.of(input=src, output=out)
    with pytest.raises(KeysMissingError, match="hopia init"):
        pseudo.pseudonymise_file(local(tmp_path), request)
    with pytest.raises(KeysMissingError):
        texts = pseudo.PseudonymiseTextsRequest.of(items=[{"id": "a", "text": TEXT}])
        pseudo.pseudonymise_texts(local(tmp_path), texts)
    assert not out.exists() and not (tmp_path / "home" / "secret.key").exists()


def test_the_policy_refuses_before_the_key_or_the_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOPIA_SECRET_KEY")  # reading the key would fail differently
    src = jsonl(tmp_path / "in.jsonl", [json.dumps({"id": "a", "text": TEXT})])
    out = tmp_path / "out.jsonl"
    with pytest.raises(AccessDeniedError, match="pseudo.run"):
        pseudo.pseudonymise_file(
            denied(tmp_path), pseudo.PseudonymiseFileRequest.of(input=src, output=out)
        )
    with pytest.raises(AccessDeniedError):
        texts = pseudo.PseudonymiseTextsRequest.of(items=[{"id": "a", "text": TEXT}])
        pseudo.pseudonymise_texts(denied(tmp_path), texts)
    assert not out.exists()


# -- JSONL runs ----------------------------------------------------------------------------------


def test_file_run_reports_bad_lines_and_progress(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": TEXT}),
        "{pas du json",
        "",
        json.dumps({"id": "b", "text": 3}),
        json.dumps({"id": "c", "text": "Rien.", "patient_id": True}),
        json.dumps({"id": "d", "text": "Rien.", "other": [1]}),
    ]
    src = jsonl(tmp_path / "in.jsonl", lines)
    out = tmp_path / "sub" / "out.jsonl"
    bad: list[tuple[int, str]] = []
    progress: list[tuple[int, int]] = []
    result = pseudo.pseudonymise_file(
        local(tmp_path),
        pseudo.PseudonymiseFileRequest.of(input=src, output=out, policy="mask"),
        on_line_error=lambda n, reason: bad.append((n, reason)),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert (result.done, result.errors, result.output) == (2, 3, out)
    assert [n for n, _ in bad] == [2, 4, 5]
    assert bad[0][1].startswith("JSON invalide")
    assert bad[1][1] == "le champ « text » doit être une chaîne de caractères"
    assert bad[2][1] == "le champ « patient_id » doit être une chaîne de caractères"
    assert progress[-1] == (5, 5) and len(progress) == 5
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "d"] and "DUPONT" not in rows[0]["pseudo_text"]
    assert out.stat().st_mode & 0o777 == 0o600  # it lists the PHI it found: owner only


def test_file_run_output_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hopia.data.pseudo import Pseudonymiser

    src = jsonl(tmp_path / "in.jsonl", [json.dumps({"id": str(i), "text": TEXT}) for i in range(3)])
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    real, calls = Pseudonymiser.pseudonymise, []

    def crash_on_second(self, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the run itself stops (a document's error does not)
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Pseudonymiser, "pseudonymise", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        pseudo.pseudonymise_file(
            local(tmp_path), pseudo.PseudonymiseFileRequest.of(input=src, output=out)
        )
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_missing_input_names_its_field(tmp_path: Path) -> None:
    request = pseudo.PseudonymiseFileRequest.of(input=tmp_path / "absent", output=tmp_path / "o")
    with pytest.raises(NotFoundError) as e:
        pseudo.pseudonymise_file(local(tmp_path), request)
    assert e.value.fields == ("input",) and not (tmp_path / "o").exists()


def test_settings_choose_the_detector(tmp_path: Path) -> None:
    from hopia.platform.config import DataSettings, PseudoSettings

    data = DataSettings(pseudo=PseudoSettings(use_model=False, birth_dates="year"))
    request = pseudo.PseudonymiseTextsRequest.of(items=[{"id": "a", "text": TEXT}])
    ctx = local(tmp_path, data=data)
    built = pseudo._pseudonymiser(ctx, "tag")
    assert built.use_model is False
    assert pseudo.pseudonymise_texts(ctx, request)[0].entities


# -- evaluation ----------------------------------------------------------------------------------


def test_evaluation_report_and_atomic_json(tmp_path: Path) -> None:
    gold = tmp_path / "notes.jsonl"
    notes = [
        ("a", "Vu M. Jean DUPONT.", [(6, 10, "PRENOM"), (11, 17, "NOM")]),
        ("b", "Pas d'identifiant ici.", []),
    ]
    gold.write_text(
        "".join(
            json.dumps(
                {
                    "note_id": i,
                    "note_text": t,
                    "entities": [{"start": s, "end": e, "label": lab} for s, e, lab in ents],
                }
            )
            + "\n"
            for i, t, ents in notes
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report" / "eval.json"
    progress: list[tuple[int, int]] = []
    result = pseudo.evaluate(
        local(tmp_path),
        pseudo.EvaluateRequest.of(gold=[gold], split="all", json_out=out),
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert result.report.documents == result.documents_total == 2
    assert progress == [(1, 2), (2, 2)]
    assert result.chars_per_document == (18 + 22) // 2
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["split"] == "all" and report["gold"] == [str(gold)]
    assert [p.name for p in out.parent.iterdir()] == ["eval.json"]


# -- training ------------------------------------------------------------------------------------


def test_the_service_hands_the_trainer_its_synthetic_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hopia.data.pseudo import train as trainer

    notes = pseudo.synth_notes(2, 7)
    ids = [n.note_id for n in notes]
    assert ids == sorted(ids) and all(i.startswith("synth-7-") for i in ids)
    assert {n.source for n in notes} == {"synth"} and pseudo.synth_notes(0, 7) == []
    assert notes == pseudo.synth_notes(2, 7)  # reproducible
    assert any(n.entities for n in notes)

    seen: dict[str, object] = {}

    def fake_train(out, config, synth=(), log=None, resume=False):  # type: ignore[no-untyped-def]
        seen.update(out=out, config=config, synth=list(synth), resume=resume)
        return {"stopped_by": "max_epochs"}

    monkeypatch.setattr(trainer, "train_model", fake_train)
    (tmp_path / "shared").mkdir()
    request = pseudo.TrainRequest.of(
        shared=tmp_path / "shared", out=tmp_path / "m", synth_patients=2, seed=7, width=32
    )
    result = pseudo.train(local(tmp_path), request)
    assert result.meta == {"stopped_by": "max_epochs"} and seen["out"] == (tmp_path / "m").resolve()
    assert seen["resume"] is False
    assert seen["synth"] == notes
    assert seen["config"].arch["width"] == 32 and seen["config"].seed == 7  # type: ignore[attr-defined]
    assert seen["config"].augment_shared == 0.0  # type: ignore[attr-defined]
    pseudo.train(local(tmp_path), request.model_copy(update={"augment_shared": 0.5}))
    assert seen["config"].augment_shared == 0.5  # type: ignore[attr-defined]
    with pytest.raises(InvalidRequestError):
        pseudo.TrainRequest.of(shared=tmp_path / "shared", augment_shared=1.5)

    with pytest.raises(NotFoundError) as e:
        pseudo.train(local(tmp_path), request.model_copy(update={"shared": tmp_path / "none"}))
    assert e.value.fields == ("shared",)


def test_a_document_that_fails_gets_its_line_with_errors_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    from hopia.platform.config import DataSettings, PseudoSettings

    # A model folder that cannot be read: the model fails on every text that reaches it; the
    # empty text never does (nothing to detect), so one run mixes both outcomes.
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "config.cfg").write_text('[nlp]\nlang = "xx-inexistant"\n', encoding="utf-8")
    data = DataSettings(pseudo=PseudoSettings(model_path=broken))
    lines = [
        json.dumps({"id": "a", "text": TEXT}),
        "{pas du json",
        json.dumps({"id": "b", "text": ""}),
        json.dumps({"id": "c", "text": TEXT}),
    ]
    src = jsonl(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    result = pseudo.pseudonymise_file(
        local(tmp_path, data=data), pseudo.PseudonymiseFileRequest.of(input=src, output=out)
    )
    assert (result.done, result.errors, result.failed) == (3, 1, 2)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    a, b, c = rows
    assert b == {"id": "b", "pseudo_text": "", "entities": []}
    for row in (a, c):
        assert row["pseudo_text"] is None and row["entities"] == []  # never the original text
        (error,) = row["errors"]
        assert error["pipe"] == "pseudonymisation"
        assert error["error"] == "PseudonymisationError"
        assert str(broken.resolve()) in error["message"] and "DUPONT" not in json.dumps(row)


def test_an_unexpected_error_keeps_its_class_but_not_its_message() -> None:
    row = pseudo.failed_line("x", ValueError("could not convert string to float: 'DUPONT'"))
    assert row["errors"] == [
        {"pipe": "pseudonymisation", "error": "ValueError", "message": "erreur interne"}
    ]


def test_model_path_setting_reaches_the_pseudonymiser(tmp_path: Path) -> None:
    from hopia.platform.config import DataSettings, PseudoSettings

    data = DataSettings(pseudo=PseudoSettings(model_path=tmp_path / "m"))
    assert pseudo._pseudonymiser(local(tmp_path, data=data), "tag").model_path == tmp_path / "m"
    assert pseudo._pseudonymiser(local(tmp_path), "tag").model_path is None


def test_training_never_writes_into_the_package_and_defaults_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hopia
    from hopia.data.pseudo import train as trainer

    (tmp_path / "shared").mkdir()
    package = Path(hopia.__file__).resolve().parent
    for out in (package / "data" / "pseudo" / "model_weights", package):
        request = pseudo.TrainRequest.of(shared=tmp_path / "shared", out=out, synth_patients=0)
        with pytest.raises(InvalidRequestError) as e:
            pseudo.train(local(tmp_path), request)
        assert e.value.fields == ("out",) and "paquet installé" in e.value.message

    seen: dict[str, object] = {}

    def fake_train(out, config, synth=(), log=None, resume=False):  # type: ignore[no-untyped-def]
        seen.update(out=out, resume=resume)
        return {}

    monkeypatch.setattr(trainer, "train_model", fake_train)
    request = pseudo.TrainRequest.of(shared=tmp_path / "shared", synth_patients=0, resume=True)
    result = pseudo.train(local(tmp_path), request)
    expected = (tmp_path / "home" / "models" / "pseudo").resolve()
    assert result.out == seen["out"] == expected and seen["resume"] is True
