"""Synthetic-CHU service: the output-folder rules as request fields, progress, the policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError, ConflictError, InvalidRequestError
from hopia.services import synth
from hopia.services.context import Context
from tests.services.contexts import researcher


def local(tmp_path: Path) -> Context:
    return Context.local(Settings(home=tmp_path / "home"))


def test_generates_a_corpus_with_progress(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    patients: list[tuple[int, int]] = []
    files: list[tuple[int, int]] = []
    result = synth.generate(
        local(tmp_path),
        synth.GenerateRequest.of(out=out, patients=4, seed=3),
        on_patients=lambda d, t: patients.append((d, t)),
        on_files=lambda d, t: files.append((d, t)),
    )
    assert result.counts["patients"] == 4 and result.seed == 3 and result.out == out
    assert patients[-1] == (4, 4)
    assert not files or files[-1][0] == files[-1][1] == result.counts["rendered_documents"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3


def test_folder_rules_name_their_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InvalidRequestError) as e:
        synth.generate(local(tmp_path), synth.GenerateRequest.of(out=a_file, patients=1))
    assert e.value.fields == ("out",)

    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(ConflictError) as e:
        synth.generate(local(tmp_path), synth.GenerateRequest.of(out=full, patients=1))
    assert e.value.fields == ("out", "force") and "--" not in e.value.message
    assert (full / "keep.txt").read_text() == "mine"

    monkeypatch.chdir(full)
    for protected in (Path("."), Path("..")):
        request = synth.GenerateRequest.of(out=protected, patients=1, force=True)
        with pytest.raises(InvalidRequestError, match="refus de remplacer") as e:
            synth.generate(local(tmp_path), request)
        assert e.value.fields == ("out",)
    assert (full / "keep.txt").read_text() == "mine"

    with pytest.raises(InvalidRequestError) as e:
        synth.GenerateRequest.of(out=tmp_path / "x", patients=0)
    assert e.value.fields == ("patients",)


def test_force_replaces_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    out.mkdir()
    (out / "old.txt").write_text("old")
    request = synth.GenerateRequest.of(out=out, patients=2, formats=False, force=True)
    result = synth.generate(local(tmp_path), request)
    assert not (out / "old.txt").exists() and (out / "documents.jsonl").is_file()
    assert result.counts["files"] == 0 and not (out / "files").exists()


def test_the_policy_refuses_before_anything_is_written(tmp_path: Path) -> None:
    ctx = researcher(Settings(home=tmp_path / "home"), "cohort.")
    with pytest.raises(AccessDeniedError, match="synth.generate"):
        synth.generate(ctx, synth.GenerateRequest.of(out=tmp_path / "corpus", patients=1))
    assert not (tmp_path / "corpus").exists()
