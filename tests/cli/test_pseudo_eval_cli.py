"""``hopia pseudo eval``: the report on a tiny gold file, the split, the JSON, bad gold."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hopia.cli.pseudo import app
from hopia.data.pseudo.evaluate import is_held_out

NOTES = [
    ("Vu M. Jean DUPONT le 12/03/2024.", [(6, 10, "PRENOM"), (11, 17, "NOM"), (21, 31, "DATE")]),
    ("Tél. 06 12 34 56 78, mail jean.dupont@orange.fr.", [(5, 19, "TEL"), (26, 47, "MAIL")]),
    ("Pas d'identifiant ici.", []),
]


def gold_file(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "gold.eds.jsonl"
    rows = []
    for note_id, (text, spans) in zip(ids, NOTES * len(ids), strict=False):
        ents = [{"start": s, "end": e, "label": lab} for s, e, lab in spans]
        rows.append(json.dumps({"note_id": note_id, "note_text": text, "entities": ents}))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, ["eval", *args])


def test_report_on_a_tiny_gold_file(tmp_path: Path) -> None:
    gold = gold_file(tmp_path, ["a", "b", "c"])
    out = tmp_path / "report" / "eval.json"
    result = invoke("--gold", str(gold), "--split", "all", "--json", str(out))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Documents évalués : 3 sur 3 (tout le corpus)" in text
    for needle in ("NOM", "DATE_NAISSANCE", "micro", "macro", "Rappel de masquage"):
        assert needle in text
    for needle in ("Précision de masquage", "Documents entièrement masqués", "documents/s"):
        assert needle in text
    for label in ("SECU", "TEL", "MAIL"):
        assert f"Rappel caractères {label}" in text
    assert "non évaluable" in text  # no SECU in this gold
    assert "Cibles atteintes : " in text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["gold"] == [str(gold)] and report["split"] == "all"
    assert report["documents"] == report["documents_total"] == 3
    for key in ("labels", "micro", "macro", "redaction", "fully_redacted", "targets"):
        assert key in report
    assert set(report["micro"]) == {"exact", "overlap"}
    assert {"precision", "recall", "f1", "gold"} <= set(report["labels"]["TEL"]["exact"])
    assert report["labels"]["TEL"]["exact"]["gold"] == 1
    assert [t["name"] for t in report["targets"]] == [
        "redaction_recall",
        "redaction_precision",
        "fully_redacted",
        "char_recall_SECU",
        "char_recall_TEL",
        "char_recall_MAIL",
    ]
    assert report["fully_redacted"]["documents_with_phi"] == 2


def test_heldout_is_the_default_and_scores_only_the_held_out_notes(tmp_path: Path) -> None:
    ids = [f"note-{i}" for i in range(40)]
    held = sum(map(is_held_out, ids))
    assert 0 < held < 40
    gold = gold_file(tmp_path, ids)
    out = tmp_path / "eval.json"
    result = invoke("--gold", str(gold), "--gold", str(gold), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert f"Documents évalués : {2 * held} sur 80 (heldout" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["split"] == "heldout" and report["documents"] == 2 * held


def test_synth_corpus_folder(tmp_path: Path) -> None:
    from hopia.data.synth import generate, write_corpus

    write_corpus(generate(n_patients=2, seed=5), tmp_path / "c", formats=False)
    result = invoke("--gold", str(tmp_path / "c"), "--split", "all")
    assert result.exit_code == 0, result.output
    assert "Cibles atteintes" in result.output


def test_nothing_held_out_still_reports(tmp_path: Path) -> None:
    note = next(f"n{i}" for i in range(100) if not is_held_out(f"n{i}"))
    result = invoke("--gold", str(gold_file(tmp_path, [note])))
    assert result.exit_code == 0, result.output
    assert "Aucun document à évaluer" in result.output


def test_malformed_or_missing_gold_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    row = {
        "note_id": "a",
        "note_text": "Jean",
        "entities": [{"start": 0, "end": 9, "label": "NOM"}],
    }
    bad.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = invoke("--gold", str(bad), "--split", "all")
    assert result.exit_code == 2
    assert "bad.jsonl#L1" in result.output and "hors du texte" in result.output
    result = invoke("--gold", str(tmp_path / "absent.jsonl"))
    assert result.exit_code == 2 and "introuvable" in result.output


def test_run_is_still_there() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "run" in result.output and "eval" in result.output
