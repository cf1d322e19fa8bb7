"""``hopia nlp extract`` when a pipe fails on a text (issue 11, finding 1): the run goes on,
the line says which pipe failed, the exit code is 1, no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopia.cli.nlp import app
from hopia.data.nlp import get_nlp
from hopia.platform.config import get_settings
from tests.data.nlp.failing_pipes import register

pytestmark = pytest.mark.slow
TRIGGER = "zzpanne"


@pytest.fixture
def failing_pipe() -> Iterator[None]:
    register()
    get_settings.cache_clear()
    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    nlp.add_pipe("test.fail_on", name="boom", after="posology", config={"trigger": TRIGGER})
    try:
        yield
    finally:  # edsnlp's Pipeline has no remove_pipe
        nlp._components = [(n, p) for n, p in nlp._components if n != "boom"]


def test_a_failing_pipe_leaves_a_line_with_its_errors(tmp_path: Path, failing_pipe: None) -> None:
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "1", "text": "Amoxicilline 1 g pendant dix jours."},
        {"id": "2", "text": f"Paracétamol 1 g pendant quinze jours. {TRIGGER}"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["extract", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "1 texte(s) analysé(s) en partie" in result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert [[e["pipe"] for e in line["errors"]] for line in lines] == [[], ["boom"]]
    assert any(e["pipe"] == "drug" for e in lines[1]["entities"])
