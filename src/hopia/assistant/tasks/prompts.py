"""Task prompts: French, versioned as files ``hopia/assistant/prompts/tasks/<task>.v<N>.md``.

A prompt file starts with a YAML header between ``---`` lines (``task``, ``version``,
``variables``), then a ``## system`` and a ``## user`` section. ``{{name}}`` marks where a
variable goes; every variable the header lists must be given, and no other may appear: a
prompt and the code that fills it cannot drift apart silently. A changed prompt is a new file
(``.v2.md``): results and audit records name the version they ran with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from hopia.assistant.llm.base import ChatMessage
from hopia.platform.exceptions import ConfigError, NotFoundError

FOLDER = Path(__file__).resolve().parents[1] / "prompts" / "tasks"
_FILE = re.compile(r"(?P<task>[a-z_]+)\.v(?P<version>\d+)\.md")
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    task: str
    version: int
    variables: tuple[str, ...]
    system: str
    user: str

    @property
    def label(self) -> str:
        """``<task>.v<N>``: what results and the audit log record."""
        return f"{self.task}.v{self.version}"

    def messages(self, values: dict[str, str]) -> list[ChatMessage]:
        """The chat messages with every variable filled in."""
        missing = sorted(set(self.variables) - set(values))
        if missing:
            raise ConfigError(
                f"prompt {self.label} : variable(s) manquante(s) : {', '.join(missing)}"
            )

        def fill(text: str) -> str:
            return _VARIABLE.sub(lambda m: values[m.group(1)], text)

        return [ChatMessage("system", fill(self.system)), ChatMessage("user", fill(self.user))]


def parse(text: str, source: str) -> Prompt:
    """A prompt from its file's text (``source`` names it in errors)."""
    parts = text.split("---", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ConfigError(f"prompt {source} : en-tête YAML (entre lignes ---) manquant")
    header = yaml.safe_load(parts[1]) or {}
    sections = _SECTION.split(parts[2])
    # split gives ["", "system", body, "user", body]
    bodies = dict(zip(sections[1::2], (b.strip() for b in sections[2::2]), strict=True))
    if set(bodies) != {"system", "user"}:
        raise ConfigError(f"prompt {source} : sections « ## system » et « ## user » attendues")
    variables = tuple(header.get("variables") or ())
    used = set(_VARIABLE.findall(bodies["system"] + bodies["user"]))
    if used != set(variables):
        raise ConfigError(
            f"prompt {source} : variables de l'en-tête ({', '.join(sorted(variables))}) "
            f"différentes de celles du texte ({', '.join(sorted(used))})"
        )
    return Prompt(
        str(header["task"]), int(header["version"]), variables, bodies["system"], bodies["user"]
    )


def versions(task: str, folder: Path = FOLDER) -> list[int]:
    """The versions of ``task``'s prompt shipped, oldest first."""
    found = []
    for path in folder.glob(f"{task}.v*.md"):
        m = _FILE.fullmatch(path.name)
        if m and m.group("task") == task:
            found.append(int(m.group("version")))
    return sorted(found)


def load(task: str, version: int | None = None, folder: Path = FOLDER) -> Prompt:
    """The prompt of ``task`` (its latest version unless one is named)."""
    shipped = versions(task, folder)
    if not shipped or (version is not None and version not in shipped):
        raise NotFoundError(f"prompt introuvable pour la tâche « {task} » (version {version})")
    chosen = version if version is not None else shipped[-1]
    path = folder / f"{task}.v{chosen}.md"
    prompt = parse(path.read_text(encoding="utf-8"), path.name)
    if prompt.task != task or prompt.version != chosen:
        raise ConfigError(f"prompt {path.name} : l'en-tête ne correspond pas au nom du fichier")
    return prompt
