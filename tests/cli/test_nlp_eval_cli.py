"""``hopia nlp eval`` on a tiny BRAT folder and a tiny hopia synth corpus; errors; QUAERO dev."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.nlp import app
from hopia.data.nlp import get_nlp
from hopia.platform.config import get_settings
from tests.conftest import shared_path

TEXT = (
    "Patiente de 62 ans suivie pour un cancer du sein, traitée par tamoxifène.\n"
    "Pas de diabète. Antécédent d'infarctus du myocarde.\n"
)
ANN = (
    "T1\tDISO 34 48\tcancer du sein\n"
    "T2\tCHEM 62 72\ttamoxifène\n"
    "T3\tDISO 81 88\tdiabète\n"
    "T4\tDISO 103 124\tinfarctus du myocarde\n"
    "#1\tAnnotatorNotes T1\tC0006142\n"
)


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    get_nlp(
        cache_dir=get_settings().cache_dir
    )  # warm from the shared cache, so the CLI does not pay the build


def invoke(*args: str):
    return CliRunner().invoke(app, ["eval", *args])


def brat_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "brat" / "sub"
    folder.mkdir(parents=True)
    (folder / "note.txt").write_text(TEXT, encoding="utf-8")
    (folder / "note.ann").write_text(ANN, encoding="utf-8")
    return tmp_path / "brat"


@pytest.mark.slow  # raw EDS-NLP's eds.cim10 is built once per cache (~1 min), then loaded
@pytest.mark.timeout(1800)
def test_brat_side_by_side_with_raw_edsnlp(tmp_path: Path) -> None:
    out = tmp_path / "report" / "eval.json"
    result = invoke("--brat", str(brat_folder(tmp_path)), "--json", str(out))
    assert result.exit_code == 0, result.output
    for needle in ("Correspondance exacte", "Chevauchement", "Hopia", "EDS-NLP"):
        assert needle in result.output
    assert "(micro : DISO+CHEM+PROC)" in result.output
    assert "Cibles Hopia (DISO+CHEM+PROC, chevauchement)" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["gold"]["documents"] == 1 and report["gold"]["mentions"] == 4
    assert report["scored_labels"] == ["DISO", "CHEM", "PROC"]
    for key in ("hopia", "eds"):
        system = report["systems"][key]
        assert system["documents"] == 1
        assert set(system["micro"]) == {"exact", "overlap"}
        # EDS-NLP and Hopia both know tamoxifène (ATC) and diabetes, myocardial infarction
        assert system["labels"]["CHEM"]["exact"]["found"] == 1
        assert system["labels"]["DISO"]["overlap"]["found"] >= 2
        assert system["qualifiers"] == {}  # BRAT gold carries no qualifiers
    hopia = report["systems"]["hopia"]["labels"]["DISO"]["overlap"]
    assert hopia["found"] == 3  # "cancer du sein" is beyond EDS-NLP's rules


def test_synth_gold_with_qualifiers_and_groups(tmp_path: Path) -> None:
    from hopia.data.synth import generate, write_corpus

    corpus = tmp_path / "synth"
    write_corpus(generate(1, 5), corpus, formats=False)
    out = tmp_path / "eval.json"
    result = invoke(
        "--gold", str(corpus / "gold.jsonl"), "--no-eds", "--limit", "3", "--json", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "(micro : DISO+CHEM+LAB)" in result.output and "Qualificatifs" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report["systems"]) == ["hopia"] and report["gold"]["documents"] == 3
    qualifiers = report["systems"]["hopia"]["qualifiers"]
    assert set(qualifiers) == {"negation", "hypothesis", "family", "history"}
    assert qualifiers["negation"]["matched"] > 0

    only = tmp_path / "only.json"
    result = invoke(
        "--gold",
        str(corpus),
        "--no-eds",
        "--limit",
        "3",
        "--groups",
        "clinical_ner",
        "--json",
        str(only),
    )
    assert result.exit_code == 0, result.output
    restricted = json.loads(only.read_text(encoding="utf-8"))["systems"]["hopia"]
    full = report["systems"]["hopia"]
    assert restricted["title"] == "Hopia [clinical_ner]"
    assert restricted["raw_predictions"] < full["raw_predictions"]


def test_bad_brat_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    folder = brat_folder(tmp_path)
    (folder / "sub" / "note.ann").write_text("T1\tDISO 34 48\tcancer du foie\n", "utf-8")
    out = tmp_path / "eval.json"
    result = invoke("--brat", str(folder), "--no-eds", "--json", str(out))
    assert result.exit_code == 2
    output = result.output.replace("\n", "")  # rich wraps at 80 columns
    assert "note.ann#L1" in output and "ne correspond pas" in output
    assert not out.exists()


def test_exactly_one_gold_source(tmp_path: Path) -> None:
    result = invoke("--no-eds")
    assert result.exit_code == 2 and "--brat" in result.output
    folder = brat_folder(tmp_path)
    result = invoke("--brat", str(folder), "--gold", str(folder / "x.jsonl"))
    assert result.exit_code == 2


@pytest.mark.shared
def test_quaero_dev_sample() -> None:
    dev = shared_path("quaero", "dev")
    result = CliRunner().invoke(app, ["eval", "--brat", str(dev), "--limit", "20", "--no-eds"])
    assert result.exit_code == 0, result.output
    assert "Cibles Hopia" in result.output and "20 documents" in result.output


# -- hopia nlp eval-qualifiers -------------------------------------------------------------------

QUALIFIER_SET = [
    {
        "id": "a",
        "split": "dev",
        "text": "Le scanner n'a pas montré d'épanchement.",
        "mention": "scanner",
    },
    {"id": "b", "split": "dev", "text": "Pas de fièvre.", "mention": "fièvre", "negation": True},
    {"id": "c", "split": "test", "text": "ECG normal.", "mention": "ECG", "result": "normal"},
]


def qualifier_file(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_eval_qualifiers_per_split_in_french(tmp_path: Path) -> None:
    out = tmp_path / "q.json"
    path = qualifier_file(tmp_path, QUALIFIER_SET)
    result = CliRunner().invoke(
        app, ["eval-qualifiers", "--file", str(path), "--no-eds", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    for needle in ("partie dev", "partie test", "tout le jeu", "négation", "résultat", "Hopia"):
        assert needle in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["splits"] == {"dev": 2, "test": 1, "all": 3}
    scores = report["systems"]["hopia"]["scores"]
    # the three planted cases are classes Hopia handles: everything right
    assert scores["all"]["negation"]["precision"] == scores["all"]["negation"]["recall"] == 1.0
    assert scores["test"]["result"]["recall"] == 1.0
    assert report["systems"]["hopia"]["errors"]["negation"] == []


def test_eval_qualifiers_errors_in_french(tmp_path: Path) -> None:
    bad = qualifier_file(tmp_path, [{"text": "Pas de fièvre.", "mention": "toux"}])
    result = CliRunner().invoke(app, ["eval-qualifiers", "--file", str(bad), "--no-eds"])
    assert result.exit_code == 2 and "mention cible introuvable" in result.output
    assert "Traceback" not in result.output
    good = qualifier_file(tmp_path, QUALIFIER_SET)
    result = CliRunner().invoke(
        app, ["eval-qualifiers", "--file", str(good), "--split", "autre", "--no-eds"]
    )
    assert result.exit_code == 2 and "--split" in result.output
    missing = CliRunner().invoke(app, ["eval-qualifiers", "--file", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "--file" in missing.output
