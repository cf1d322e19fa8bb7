"""``hopia nlp extract``: output schema, broken input lines, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.nlp import app
from hopia.data.nlp import get_nlp
from hopia.platform.config import get_settings

CONTRACT = [
    "start",
    "end",
    "label",
    "text",
    "negation",
    "hypothesis",
    "family",
    "history",
    "reported_speech",
    "codes",
]
QUALIFIERS = ["negation", "hypothesis", "family", "history", "reported_speech"]


@pytest.fixture(scope="module", autouse=True)
def _nlp() -> None:
    get_settings.cache_clear()
    get_nlp(
        cache_dir=get_settings().cache_dir
    )  # warm from the shared cache, so the CLI does not pay the build


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(tmp_path: Path, lines: list[str]):
    src = write_jsonl(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out" / "out.jsonl"
    result = CliRunner().invoke(app, ["extract", "--input", str(src), "--output", str(out)])
    return result, out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_schema(tmp_path: Path) -> None:
    texts = {
        "n1": "Pas de toux. Mère diabétique. Bisoprolol 5 mg le 12/03/2024.",
        "n2": "Antécédents : infarctus du myocarde en 2015. Suspicion d'embolie pulmonaire.",
    }
    lines = [json.dumps({"id": k, "text": v}, ensure_ascii=False) for k, v in texts.items()]
    result, out = invoke(tmp_path, lines)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["n1", "n2"]
    for row in rows:
        assert set(row) == {"id", "entities", "errors"}
        assert row["errors"] == []
        text = texts[row["id"]]
        assert row["entities"]
        for ent in row["entities"]:
            assert list(ent)[: len(CONTRACT)] == CONTRACT
            assert all(isinstance(ent[q], bool) for q in QUALIFIERS)
            assert isinstance(ent["codes"], dict)
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in ent["codes"].items())
            assert isinstance(ent["start"], int) and isinstance(ent["end"], int)
            assert text[ent["start"] : ent["end"]] == ent["text"]
    by_text = {(e["text"], e["label"]): e for r in rows for e in r["entities"]}
    assert by_text[("toux", "cim10")]["negation"] is True
    assert by_text[("toux", "cim10")]["codes"] == {"cim10": "R05"}
    assert by_text[("Bisoprolol", "drug")]["codes"] == {"atc": "C07AB07"}
    assert by_text[("diabétique", "diabetes")]["family"] is True
    assert by_text[("infarctus du myocarde", "myocardial_infarction")]["history"] is True
    assert by_text[("embolie pulmonaire", "cim10")]["hypothesis"] is True
    assert by_text[("12/03/2024", "date")]["value"] == "2024-03-12"
    assert not list(out.parent.glob(".*.tmp"))


def test_broken_lines_are_reported_skipped_and_exit_1(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "ok1", "text": "Pas de toux."}),
        "{pas du json",
        json.dumps({"id": 7, "text": "Toux."}),
        json.dumps(["id", "text"]),
        json.dumps({"id": "sans-texte"}),
        "",
        json.dumps({"id": "ok2", "text": "Bisoprolol."}),
    ]
    result, out = invoke(tmp_path, lines)
    assert result.exit_code == 1
    err = result.stderr
    for lineno in (2, 3, 4, 5):
        assert f"Ligne {lineno} ignorée" in err
    assert "Ligne 1 " not in err and "Ligne 6" not in err and "Ligne 7" not in err
    assert "JSON invalide" in err
    assert "« text » manquant" in err
    assert "chaîne de caractères" in err
    assert [r["id"] for r in read_jsonl(out)] == ["ok1", "ok2"]
    assert result.stdout == ""


def test_invalid_utf8_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a", "text": "Toux."}\n{"id": "b", "text": "\xff"}\n')
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["extract", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 1
    assert "Ligne 2 ignorée" in result.stderr and "UTF-8" in result.stderr
    assert [r["id"] for r in read_jsonl(out)] == ["a"]


def test_empty_text_and_empty_file(tmp_path: Path) -> None:
    result, out = invoke(tmp_path, [json.dumps({"id": "vide", "text": ""})])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out) == [{"id": "vide", "entities": [], "errors": []}]

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out2 = tmp_path / "out2.jsonl"
    result = CliRunner().invoke(app, ["extract", "--input", str(empty), "--output", str(out2)])
    assert result.exit_code == 0, result.output
    assert out2.read_text() == ""


def test_missing_input_leaves_no_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["extract", "--input", str(tmp_path / "absent.jsonl"), "--output", str(out)]
    )
    assert result.exit_code == 2
    assert "introuvable" in result.stderr
    assert not out.exists()


def test_existing_output_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out" / "out.jsonl"
    out.parent.mkdir()
    out.write_text("ancien contenu\n" * 100)
    result, out = invoke(tmp_path, [json.dumps({"id": "x", "text": "Toux."})])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_jsonl(out)] == ["x"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.jsonl"]
