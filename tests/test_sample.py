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


def test_a_module_named_downstream_counts_only_once_the_build_imports_its_package(
    tmp_path: Path,
) -> None:
    _tree(tmp_path)
    (tmp_path / "data/synth").mkdir(parents=True)
    (tmp_path / "data/synth/generator.py").write_text("x = 1\n")
    (tmp_path / "data/synth/activity.py").write_text("x = 1\n")
    imported = ["data/ingest", "data/synth", "platform"]
    before = code_digest(imported, tmp_path)
    (tmp_path / "data/synth/activity.py").write_text("x = 2\n")
    assert code_digest(imported, tmp_path) == before
    (tmp_path / "data/synth/generator.py").write_text("x = 2\n")  # the rest of synth counts
    assert code_digest(imported, tmp_path) != before


def test_nothing_the_sample_build_runs_imports_the_synthetic_activity() -> None:
    """``data/synth/activity`` is in DOWNSTREAM: no other module of ``hopia.data.synth`` (the
    build imports that package) may import it; layers below synth cannot (architecture test)."""
    import ast

    from tests.sample import DOWNSTREAM, REPO

    assert "data/synth/activity" in DOWNSTREAM
    for path in (REPO / "src/hopia/data/synth").glob("*.py"):
        if path.name == "activity.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" for a in node.names]
                names.append(node.module or "")
                assert not any(n.split(".")[-1] == "activity" or ".activity" in n for n in names), (
                    path
                )
            elif isinstance(node, ast.Import):
                assert not any("synth.activity" in a.name for a in node.names), path
