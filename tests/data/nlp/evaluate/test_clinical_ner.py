"""``hopia.clinical_ner``: the shipped model loads offline, finds mentions, pickles; training."""

from __future__ import annotations

import json
import pickle
from collections import Counter
from pathlib import Path

import edsnlp
import pytest
from typer.testing import CliRunner

import hopia.data.nlp.pipes  # noqa: F401  (registers hopia.clinical_ner)
from hopia.cli.nlp import app
from hopia.data.nlp.evaluate import Mention
from hopia.data.nlp.pipes.clinical_ner import GROUP, WEIGHTS_DIR
from hopia.data.nlp.pipes.clinical_ner.train import flat_mentions
from hopia.platform.exceptions import ModelError


def small_pipeline(**config: object) -> edsnlp.Pipeline:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("hopia.clinical_ner", config=dict(config))
    return nlp


def mentions(doc) -> list[tuple[str, str]]:
    return [(s.text, s._.category) for s in doc.spans[GROUP]]


def test_shipped_weights_are_small_and_described() -> None:
    files = [p for p in WEIGHTS_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 20 * 2**20
    meta = json.loads((WEIGHTS_DIR / "meta.json").read_text(encoding="utf-8"))
    assert "QUAERO" in meta["hopia"]["data"]["description"]
    assert "GFDL" in meta["license"]


def test_finds_breast_cancer_as_a_disorder_offline() -> None:
    doc = small_pipeline()("Patiente de 54 ans traitée pour un cancer du sein gauche.")
    assert ("cancer du sein", "DISO") in [(t[:14], c) for t, c in mentions(doc)]
    for span in doc.spans[GROUP]:
        assert span.label_ == span._.category


def test_pickles_without_the_model_and_predicts_after_reload() -> None:
    nlp = small_pipeline()
    text = "Métastases hépatiques d'un cancer du sein, traitées par chimiothérapie."
    before = mentions(nlp(text))
    blob = pickle.dumps(nlp)
    assert len(blob) < 1_000_000  # the weights stay in their folder
    restored = pickle.loads(blob)
    assert restored.get_pipe("clinical_ner")._model is None
    docs = list(restored.pipe([text, "", text]))  # batch_process path
    assert mentions(docs[0]) == mentions(docs[2]) == before and mentions(docs[1]) == []


def test_missing_weights_folder_is_a_clear_error(tmp_path: Path) -> None:
    nlp = small_pipeline(weights=str(tmp_path / "none"))
    with pytest.raises(ModelError, match="hopia nlp train"):
        nlp("Fièvre.")


def test_longest_mention_is_kept_per_overlap() -> None:
    stats: Counter[str] = Counter()
    gold = [
        Mention(((15, 36),), "DISO"),  # métastases hépatiques
        Mention(((26, 36),), "ANAT"),  # hépatiques
        Mention(((41, 60),), "DISO"),  # cancers colorectaux
        Mention(((41, 48),), "DISO"),  # cancers
        Mention(((0, 10),), "PROC"),
        Mention(((0, 10),), "LIVB"),  # not learnt
        Mention(((62, 70), (75, 80)), "DISO"),  # discontinuous: left out
    ]
    kept = flat_mentions(gold, ("DISO", "CHEM", "PROC", "ANAT"), stats)
    assert kept == [(0, 10, "PROC"), (15, 36, "DISO"), (41, 60, "DISO")]
    assert stats["discontinuous"] == 1 and stats["nested_or_crossing"] == 2


def test_train_command_on_a_tiny_brat_folder(tmp_path: Path) -> None:
    brat = tmp_path / "brat"
    brat.mkdir()
    lines = [
        (
            "Cancer du sein traité par tamoxifène.",
            "T1\tDISO 0 14\tCancer du sein\nT2\tCHEM 26 36\ttamoxifène\n",
        ),
        ("Biopsie du foie.", "T1\tPROC 0 7\tBiopsie\nT2\tANAT 11 15\tfoie\n"),
    ]
    for i in range(12):
        text, ann = lines[i % 2]
        (brat / f"d{i}.txt").write_text(text, encoding="utf-8")
        (brat / f"d{i}.ann").write_text(ann, encoding="utf-8")
    out = tmp_path / "model"
    args = ["train", "--brat", str(brat), "--out", str(out), "--max-epochs", "2", "--seed", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))["hopia"]
    assert meta["epochs_run"] <= 2 and meta["config"]["seed"] == 3
    assert meta["data"]["train_documents"] + meta["data"]["dev_documents"] == 12
    assert small_pipeline(weights=str(out))("Fièvre.").spans[GROUP] is not None
    assert not list(tmp_path.glob(".model.*"))  # no temporary folder left behind


def test_train_command_on_a_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--brat", str(tmp_path / "none"), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "introuvable" in result.output
    assert not (tmp_path / "m").exists()
