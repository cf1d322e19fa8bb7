"""The sample warehouse's cache key: a change to what the build runs makes a new build; a change
to a package above ingest does not, unless the build imported it."""

from __future__ import annotations

from pathlib import Path

from tests.sample import code_digest


def _tree(root: Path) -> None:
    for rel in ("data/ingest/pipeline.py", "data/cohorts/run.py", "services/ingest.py", "cli/x.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")


def test_code_digest_follows_what_the_build_can_run(tmp_path: Path) -> None:
    _tree(tmp_path)
    imported = ["data/ingest", "platform"]
    before = code_digest(imported, tmp_path)
    (tmp_path / "data/cohorts/run.py").write_text("x = 2\n")  # research: not run by the build
    (tmp_path / "cli/x.py").write_text("x = 2\n")
    assert code_digest(imported, tmp_path) == before
    (tmp_path / "data/ingest/pipeline.py").write_text("x = 2\n")
    assert code_digest(imported, tmp_path) != before
    (tmp_path / "data/ingest/new.py").write_text("")  # a new file counts too
    changed = code_digest(imported, tmp_path)
    # Once the build imports a service (hopia.services.ingest), services count as well.
    with_services = code_digest([*imported, "services/ingest"], tmp_path)
    (tmp_path / "services/ingest.py").write_text("x = 2\n")
    assert code_digest(imported, tmp_path) == changed
    assert code_digest([*imported, "services/ingest"], tmp_path) != with_services
