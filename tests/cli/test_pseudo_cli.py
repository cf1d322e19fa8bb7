"""``hopia pseudo run``: output schema, offsets into the input, broken lines, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.pseudo import app
from hopia.data.pseudo import LABELS
from hopia.platform.config import get_settings
from hopia.platform.keys import init_keys

TEXTS = {
    "n1": "Vu M. Jean DUPONT le 12/03/2024, tél 06 12 34 56 78, IPP : 8001234567.",
    "n2": "Mme Marie Martin, née le 3 juillet 1951, domiciliée 12 rue de la Paix, 35000 Rennes.",
    "n3": "Pas d'identifiant ici.",
}


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The secret is the test one of tests/conftest.py (HOPIA_SECRET_KEY).
    monkeypatch.setenv("HOPIA_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()


def invoke(tmp_path: Path, lines: list[str], *extra: str, out: Path | None = None):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = out or tmp_path / "out" / "out.jsonl"
    args = ["run", "--input", str(src), "--output", str(out), *extra]
    return CliRunner().invoke(app, args), out


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def lines_of(texts: dict[str, str], **extra: str) -> list[str]:
    return [json.dumps({"id": k, "text": v, **extra}, ensure_ascii=False) for k, v in texts.items()]


def test_output_schema_and_offsets(tmp_path: Path) -> None:
    result, out = invoke(tmp_path, lines_of(TEXTS), "--policy", "tag")
    assert result.exit_code == 0, result.output
    got = rows(out)
    assert [r["id"] for r in got] == list(TEXTS)
    for row in got:
        assert list(row) == ["id", "pseudo_text", "entities"]
        text, rebuilt, pos = TEXTS[row["id"]], [], 0
        for ent in row["entities"]:
            assert list(ent) == ["start", "end", "label"] and ent["label"] in LABELS
            assert pos <= ent["start"] < ent["end"] <= len(text)
            rebuilt += [text[pos : ent["start"]], f"<{ent['label']}>"]
            pos = ent["end"]
        # offsets are into the input: tagging them rebuilds the output exactly
        assert "".join([*rebuilt, text[pos:]]) == row["pseudo_text"]
    assert got[2] == {"id": "n3", "pseudo_text": TEXTS["n3"], "entities": []}
    assert {e["label"] for e in got[0]["entities"]} == {"PRENOM", "NOM", "DATE", "TEL", "IPP"}
    assert not (tmp_path / "home" / "secret.key").exists()  # a run creates no key


def test_a_fresh_installation_is_told_to_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOPIA_SECRET_KEY")
    get_settings.cache_clear()
    result, out = invoke(tmp_path, lines_of(TEXTS))
    assert result.exit_code == 2 and "hopia init" in result.stderr
    assert not out.exists() and not (tmp_path / "home" / "secret.key").exists()

    init_keys(get_settings())  # what `hopia init` does
    first, out = invoke(tmp_path, lines_of(TEXTS))
    assert first.exit_code == 0, first.output
    again, out2 = invoke(tmp_path, lines_of(TEXTS), out=tmp_path / "again.jsonl")
    assert again.exit_code == 0 and out.read_bytes() == out2.read_bytes()  # the same secret


def test_surrogates_follow_patient_id(tmp_path: Path) -> None:
    text = "Vu M. Jean DUPONT le 12/03/2024."
    lines = [
        json.dumps({"id": "a", "text": text, "patient_id": "P1"}),
        json.dumps({"id": "b", "text": text, "patient_id": "P1", "extra": [1, 2]}),
        json.dumps({"id": "c", "text": text, "patient_id": "P2"}),
    ]
    result, out = invoke(tmp_path, lines)
    assert result.exit_code == 0, result.output
    a, b, c = (r["pseudo_text"] for r in rows(out))
    assert a == b != c
    assert "DUPONT" not in a and "12/03/2024" not in a


def test_broken_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    lines = [
        lines_of(TEXTS)[0],
        "{not json",
        json.dumps({"id": "x"}),
        json.dumps({"id": 3, "text": "M. DUPONT"}),
        json.dumps(["id", "text"]),
        "",
        lines_of(TEXTS)[1],
    ]
    result, out = invoke(tmp_path, lines)
    assert result.exit_code == 1
    assert [r["id"] for r in rows(out)] == ["n1", "n2"]
    for lineno in (2, 3, 4, 5):
        assert f"Ligne {lineno} ignorée" in result.stderr
    assert "Ligne 6" not in result.stderr  # blank lines are not errors
    assert "JSON invalide" in result.stderr and "« text » manquant" in result.stderr


def test_invalid_utf8_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n' + lines_of(TEXTS)[2].encode() + b"\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["run", "-i", str(src), "-o", str(out)])
    assert result.exit_code == 1 and "Ligne 1 ignorée" in result.stderr
    assert [r["id"] for r in rows(out)] == ["n3"]


def test_output_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out" / "out.jsonl"
    out.parent.mkdir()
    out.write_text("previous run\n", encoding="utf-8")
    calls = {"n": 0}
    from hopia.data.pseudo import Pseudonymiser

    real = Pseudonymiser.pseudonymise

    def crash_on_second(self, text, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disque plein")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Pseudonymiser, "pseudonymise", crash_on_second)
    result, _ = invoke(tmp_path, lines_of(TEXTS), out=out)
    # A bug, not the user's doing: one French line, exit 3, no traceback.
    assert result.exit_code == 3 and "Erreur interne inattendue" in result.output
    assert out.read_text(encoding="utf-8") == "previous run\n"  # untouched, no half file
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.jsonl"]  # no temp left over


def test_missing_input_and_bad_policy(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "-i", str(tmp_path / "absent.jsonl"), "-o", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 2 and "introuvable" in result.stderr
    result, out = invoke(tmp_path, lines_of(TEXTS), "--policy", "redact")
    assert result.exit_code == 2 and not out.exists()


def test_bad_secret_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOPIA_SECRET_KEY", "court")
    get_settings.cache_clear()
    result, out = invoke(tmp_path, lines_of(TEXTS))
    assert result.exit_code == 2 and "HOPIA_SECRET_KEY" in result.stderr
    assert not out.exists()
