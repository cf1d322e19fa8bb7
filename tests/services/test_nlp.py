"""NLP service: the settings it hands down (cache folder, batch size), texts and JSONL runs,
validation with fields, the policy first, evaluation and training requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import AccessDeniedError, InvalidRequestError, NotFoundError
from hopia.services import nlp
from hopia.services.context import Context
from tests.services.contexts import researcher

TEXT = "Pas de toux. Mère diabétique. Bisoprolol 5 mg."
TXT = "Patiente suivie pour un cancer du sein, traitée par tamoxifène.\n"
ANN = "T1\tDISO 24 38\tcancer du sein\nT2\tCHEM 52 62\ttamoxifène\n"


def local(tmp_path: Path, **settings: object) -> Context:
    # The shared pipeline cache of the test run (HOPIA_CACHE_DIR, tests/conftest.py).
    return Context.local(Settings(home=tmp_path / "home", **settings))


def denied(tmp_path: Path) -> Context:
    return researcher(Settings(home=tmp_path / "home"), "cohort.")


@pytest.fixture(scope="module", autouse=True)
def _warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    nlp.pipeline(local(tmp_path_factory.mktemp("warm")))


def test_texts_get_their_entities(tmp_path: Path) -> None:
    request = nlp.ExtractTextsRequest.of(
        items=[{"id": "a", "text": TEXT}, {"id": "b", "text": ""}], batch_size=1
    )
    a, b = nlp.extract_texts(local(tmp_path), request)
    assert (a.id, b.id, b.entities) == ("a", "b", ())
    toux = next(e for e in a.entities if e.pipe == "cim10" and e.text == "toux")
    assert toux.negation and a.to_json()["entities"][0]["start"] == a.entities[0].start


def test_the_batch_size_comes_from_the_settings_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hopia.data.nlp as data_nlp
    from hopia.platform.config import DataSettings, NlpSettings

    sizes: list[int] = []
    real = data_nlp.extract_with_errors

    def spy(texts, *, nlp, batch_size, **kwargs):  # type: ignore[no-untyped-def]
        sizes.append(batch_size)
        return real(texts, nlp=nlp, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(data_nlp, "extract_with_errors", spy)
    ctx = local(tmp_path, data=DataSettings(nlp=NlpSettings(batch_size=7)))
    items = [{"id": "a", "text": TEXT}]
    nlp.extract_texts(ctx, nlp.ExtractTextsRequest.of(items=items))
    nlp.extract_texts(ctx, nlp.ExtractTextsRequest.of(items=items, batch_size=3))
    assert sizes == [7, 3]


def test_requests_name_the_fields_at_fault(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as e:
        nlp.ExtractTextsRequest.of(items=[{"text": "x"}], batch_size=0)
    assert set(e.value.fields) == {"items.0.id", "batch_size"}
    with pytest.raises(InvalidRequestError) as e:
        nlp.evaluate(local(tmp_path), nlp.EvaluateRequest.of(eds=False))
    assert e.value.fields == ("brat", "gold")
    with pytest.raises(InvalidRequestError) as e:
        request = nlp.EvaluateRequest.of(brat=tmp_path, gold=tmp_path / "gold.jsonl")
        nlp.evaluate(local(tmp_path), request)
    assert e.value.fields == ("brat", "gold")
    with pytest.raises(InvalidRequestError) as e:
        nlp.evaluate(local(tmp_path), nlp.EvaluateRequest.of(brat=tmp_path, labels=[" "]))
    assert e.value.fields == ("labels",)
    with pytest.raises(NotFoundError) as e:
        nlp.train(local(tmp_path), nlp.TrainRequest.of(brat=tmp_path / "none", out=tmp_path))
    assert e.value.fields == ("brat",)


def test_the_policy_refuses_before_the_input_is_read(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(AccessDeniedError, match="nlp.extract"):
        nlp.extract_file(denied(tmp_path), nlp.ExtractFileRequest.of(input=src, output=out))
    with pytest.raises(AccessDeniedError, match="nlp.eval"):
        nlp.evaluate(denied(tmp_path), nlp.EvaluateRequest.of(brat=tmp_path / "none"))
    with pytest.raises(AccessDeniedError, match="nlp.train"):
        nlp.train(denied(tmp_path), nlp.TrainRequest.of(brat=tmp_path, out=tmp_path / "m"))
    assert not out.exists() and not (tmp_path / "m").exists()


def test_file_run_line_errors_progress_and_atomic_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": TEXT}),
        '{"id": "b"}',
        json.dumps({"id": "c", "text": "Toux."}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "out.jsonl"
    out.parent.mkdir()
    out.write_text("ancien\n", encoding="utf-8")
    bad: list[tuple[int, str]] = []
    progress: list[tuple[int, int]] = []
    result = nlp.extract_file(
        local(tmp_path),
        nlp.ExtractFileRequest.of(input=src, output=out, batch_size=2),
        on_line_error=lambda n, r: bad.append((n, r)),
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert (result.done, result.errors) == (2, 1)
    assert bad == [(2, "champ « text » manquant")]
    assert progress[-1] == (3, 3)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "c"] and rows[1]["entities"]
    assert [p.name for p in out.parent.iterdir()] == ["out.jsonl"]

    with pytest.raises(NotFoundError) as e:
        nlp.extract_file(
            local(tmp_path), nlp.ExtractFileRequest.of(input=tmp_path / "none", output=out)
        )
    assert e.value.fields == ("input",)


def test_evaluation_on_a_tiny_brat_folder(tmp_path: Path) -> None:
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "d.txt").write_text(TXT, encoding="utf-8")
    (brat / "d.ann").write_text(ANN, encoding="utf-8")
    out = tmp_path / "eval.json"
    progress: list[tuple[str, int, int]] = []
    result = nlp.evaluate(
        local(tmp_path),
        nlp.EvaluateRequest.of(brat=brat, eds=False, json_out=out, labels=["DISO", "CHEM"]),
        on_progress=lambda title, d, t: progress.append((title, d, t)),
    )
    assert [s.key for s in result.systems] == ["hopia"]
    assert result.scored_labels == ("DISO", "CHEM")
    assert progress == [("Hopia", 1, 1)]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["gold"]["mentions"] == 2 and list(report["systems"]) == ["hopia"]
