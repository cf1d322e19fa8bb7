"""Entry points: every one pyproject.toml declares loads (all groups, ``hopia.*`` plug-in groups
included), and Hopia's NLP pipes are found by EDS-NLP's registry the way EDS-NLP finds its own
(``edsnlp_factories``), without importing hopia first."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint, entry_points

import pytest

from tests.conftest import REPO

PIPES = REPO / "src" / "hopia" / "data" / "nlp" / "pipes"


def declared() -> list[EntryPoint]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        EntryPoint(name, value, group)
        for group, points in project.get("entry-points", {}).items()
        for name, value in points.items()
    ]


def nlp_factories() -> dict[str, str]:
    return {ep.name: ep.value for ep in declared() if ep.group == "edsnlp_factories"}


@pytest.mark.parametrize("entry_point", declared(), ids=lambda ep: f"{ep.group}:{ep.name}")
def test_every_declared_entry_point_loads(entry_point: EntryPoint) -> None:
    assert entry_point.load() is not None


def test_every_pipe_folder_is_declared_under_its_hopia_name() -> None:
    import edsnlp

    from hopia.data.nlp.pipeline import PIPELINE

    factories = nlp_factories()
    assert all(name.startswith("hopia.") for name in factories)
    on_disk = {
        f"hopia.data.nlp.pipes.{p.parent.name}.factory:create_component"
        for p in PIPES.glob("*/factory.py")
    }
    assert set(factories.values()) == on_disk
    used = {factory for factory, _, _ in PIPELINE if factory.startswith("hopia.")}
    assert used <= set(factories)
    for name in factories:
        assert callable(edsnlp.registry.factory.get(name))


_FRESH = """
import json, sys
import edsnlp
names = json.loads(sys.argv[1])
found = {n: callable(edsnlp.registry.factory.get(n)) for n in names}
nlp = edsnlp.blank("eds")
nlp.add_pipe("eds.sentences")
nlp.add_pipe("hopia.cim10")
doc = nlp("Insuffisance cardiaque congestive.")
print(json.dumps({"found": found, "cim10": [s.kb_id_ for s in doc.spans["cim10"]]}))
"""


@pytest.mark.slow
def test_edsnlp_finds_the_pipes_through_the_installed_entry_points() -> None:
    factories = nlp_factories()
    installed = {ep.name: ep.value for ep in entry_points(group="edsnlp_factories")}
    if any(installed.get(name) != value for name, value in factories.items()):
        pytest.skip("installed metadata older than pyproject.toml: run `make install`")
    result = subprocess.run(  # a fresh interpreter: nothing of hopia imported beforehand
        [sys.executable, "-c", _FRESH, json.dumps(sorted(factories))],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO.parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["found"] == dict.fromkeys(sorted(factories), True)
    assert out["cim10"] == ["I500"]
