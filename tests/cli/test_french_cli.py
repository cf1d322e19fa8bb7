"""Everything a user reads from the CLI is French: the help of every command and option, and
the output of the everyday commands. A scan for common English words (the framework's own
chrome — "Usage:", "Show this message and exit." — is typer's, outside these strings)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from hopia.cli.main import app

# Words that are common in English prose and absent from French: one is enough to flag a
# sentence. Short French homographs ("on", "a", "put", "son") are left out on purpose.
ENGLISH = re.compile(
    r"\b(the|and|with|without|from|which|should|must|when|only|show|write|run|file|files|"
    r"folder|output|input|default|number|each|every|this|that|these|not|for|into|patients?\s+are|"
    r"is|are|was|were|be|been|of|to|in|by)\b",
    re.IGNORECASE,
)
# Option names, values and identifiers quoted in help texts are not prose.
_CODE = re.compile(
    r"\S*/\S*|`[^`]*`|--[\w-]+|\b[A-Z_]{3,}\b|\b\w+\.\w+\b|\([^)]*\.(?:yaml|json)[^)]*\)"
)


# typer's own options (translating the framework is the CLI root's business).
_TYPER_OWN = {"help", "install_completion", "show_completion"}


def _commands(command: Any, path: str = "hopia") -> Iterator[tuple[str, Any]]:
    yield path, command
    if hasattr(command, "list_commands"):  # a group (typer's own click, not `click.Group`)
        ctx = command.context_class(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from _commands(sub, f"{path} {name}")


def _texts() -> Iterator[tuple[str, str]]:
    for path, command in _commands(typer.main.get_command(app)):
        for text in (command.help, command.short_help):
            if text:
                yield path, text
        for param in command.params:
            if getattr(param, "help", None) and param.name not in _TYPER_OWN:
                yield f"{path} {param.name}", param.help


def english(text: str) -> list[str]:
    return ENGLISH.findall(_CODE.sub(" ", text))


def test_the_scan_flags_english() -> None:
    assert english("Write the report to this file.") and not english("Écrire le rapport.")


def test_every_help_text_is_french() -> None:
    texts = list(_texts())
    assert len(texts) > 50  # the whole command tree was read
    flagged = {where: english(text) for where, text in texts if english(text)}
    assert flagged == {}


def test_everyday_outputs_are_french(hopia_home: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["warehouse", "stats"])
    assert runner.invoke(app, ["init"]).exit_code == 0
    stats = runner.invoke(app, ["warehouse", "stats"])
    check = runner.invoke(app, ["cohort", "check", "configs/cohorts/insuffisance_cardiaque.yaml"])
    for result in (missing, stats, check):
        assert english(result.output) == [], result.output
