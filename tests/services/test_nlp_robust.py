"""``hopia nlp`` service (issue 11): a failing pipe is one line's ``errors``, not a lost run;
the clinical NER model is a setting; training writes under the home, never into the package,
keeps each epoch and resumes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import hopia
from hopia.data.nlp.pipeline import PIPELINE_SYSTEM, pipeline_system
from hopia.data.nlp.pipes.clinical_ner.train import checkpoint_path
from hopia.platform.config import Settings
from hopia.platform.exceptions import InvalidRequestError, ModelError
from hopia.services import nlp
from hopia.services.context import Context
from tests.data.nlp.failing_pipes import register

TRIGGER = "zzpanne"


def local(tmp_path: Path, **settings: object) -> Context:
    return Context.local(Settings(home=tmp_path / "home", **settings))


@pytest.fixture
def failing_pipe(tmp_path: Path) -> Iterator[None]:
    register()
    pipeline = nlp.pipeline(local(tmp_path))
    pipeline.add_pipe("test.fail_on", name="boom", after="posology", config={"trigger": TRIGGER})
    try:
        yield
    finally:  # edsnlp's Pipeline has no remove_pipe
        pipeline._components = [(n, p) for n, p in pipeline._components if n != "boom"]


@pytest.mark.slow
def test_a_failing_pipe_is_written_in_the_line_and_the_run_goes_on(
    tmp_path: Path, failing_pipe: None
) -> None:
    text = "Amoxicilline 1 g pendant dix jours. Pas de fièvre."
    src = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": text}, {"id": "b", "text": f"{text} {TRIGGER}"}, {"id": "c"}]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = nlp.extract_file(local(tmp_path), nlp.ExtractFileRequest.of(input=src, output=out))
    assert (result.done, result.errors, result.pipe_errors) == (2, 1, 1)
    a, b = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert a["errors"] == []
    assert b["errors"] == [
        {"pipe": "boom", "error": "ValueError", "message": "could not convert string to float: '…'"}
    ]
    shared = len(text)
    assert [e for e in b["entities"] if e["end"] <= shared] == a["entities"]
    assert any(
        e["pipe"] == "drug" and e["attributes"]["duration_days"] == 10 for e in a["entities"]
    )


def tiny_brat(folder: Path) -> Path:
    folder.mkdir()
    lines = [
        ("Cancer du sein traité par tamoxifène.", "T1\tDISO 0 14\tCancer du sein\n"),
        ("Biopsie du foie.", "T1\tPROC 0 7\tBiopsie\nT2\tANAT 11 15\tfoie\n"),
    ]
    for i in range(24):  # enough for a dev part (documents whose salted hash is < 0.15)
        text, ann = lines[i % 2]
        (folder / f"d{i}.txt").write_text(text, encoding="utf-8")
        (folder / f"d{i}.ann").write_text(ann, encoding="utf-8")
    return folder


def test_training_never_writes_into_the_installed_package(tmp_path: Path) -> None:
    package = Path(hopia.__file__).resolve().parent
    for out in (package, package / "data" / "nlp" / "pipes" / "clinical_ner" / "model_weights"):
        request = nlp.TrainRequest.of(brat=tmp_path, out=out)
        with pytest.raises(InvalidRequestError) as e:
            nlp.train(local(tmp_path), request)
        assert e.value.fields == ("out",) and "paquet" in e.value.message
    assert (
        nlp.default_model_folder(local(tmp_path)) == tmp_path / "home" / "models" / "clinical_ner"
    )


class Interrupted(Exception):
    pass


@pytest.mark.slow
def test_training_keeps_each_epoch_resumes_and_the_model_is_a_setting(tmp_path: Path) -> None:
    brat = tiny_brat(tmp_path / "brat")
    ctx = local(tmp_path)
    out = nlp.default_model_folder(ctx)
    request = nlp.TrainRequest.of(brat=brat, max_epochs=3, seed=5)

    def stop_after_first_epoch(message: str) -> None:
        if message.startswith("époque 1"):
            raise Interrupted  # as a Ctrl-C would, after the epoch was kept

    with pytest.raises(Interrupted):
        nlp.train(ctx, request, log=stop_after_first_epoch)
    checkpoint = checkpoint_path(out)
    assert not out.exists()  # the model appears whole or not at all
    kept = json.loads((checkpoint / "meta.json").read_text(encoding="utf-8"))["hopia"]
    assert kept["checkpoint"]["epoch"] == 1

    logged: list[str] = []
    resumed = nlp.train(
        ctx, nlp.TrainRequest.of(brat=brat, max_epochs=3, seed=5, resume=True), log=logged.append
    )
    assert resumed.out == out and resumed.meta["resumed_after_epoch"] == 1
    assert resumed.meta["epochs_run"] == 2  # the two epochs left
    assert any("reprise après l'époque 1" in m for m in logged)
    assert not checkpoint.exists() and (out / "meta.json").is_file()

    # another configuration cannot resume from a checkpoint it did not write
    with pytest.raises(Interrupted):
        nlp.train(ctx, request, log=stop_after_first_epoch)
    other = nlp.TrainRequest.of(brat=brat, max_epochs=3, seed=6, resume=True)
    with pytest.raises(ModelError, match="autre configuration"):
        nlp.train(ctx, other)

    # the setting selects the model: the pipe reads it, the system id names its weights
    selected = local(tmp_path, data={"nlp": {"clinical_ner_model": out}})
    pipe = nlp.pipeline(selected).get_pipe("clinical_ner")
    assert pipe.weights == str(out)
    digest = json.loads((out / "meta.json").read_text(encoding="utf-8"))["hopia"]
    assert pipeline_system(out) == f"{PIPELINE_SYSTEM} / ner {digest['weights_sha256'][:12]}"
    (found,) = nlp.extract_texts(
        selected, nlp.ExtractTextsRequest.of(items=[{"id": "x", "text": "Biopsie du foie."}])
    )
    assert found.errors == ()
    # back to the shipped weights for the rest of the session
    assert nlp.pipeline(local(tmp_path)).get_pipe("clinical_ner").weights is None


def test_a_missing_model_folder_stops_before_any_output(tmp_path: Path) -> None:
    ctx = local(tmp_path, data={"nlp": {"clinical_ner_model": tmp_path / "none"}})
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "x", "text": "Fièvre."}) + "\n", encoding="utf-8")
    with pytest.raises(ModelError, match="absent"):
        nlp.extract_file(ctx, nlp.ExtractFileRequest.of(input=src, output=out))
    assert not out.exists()
