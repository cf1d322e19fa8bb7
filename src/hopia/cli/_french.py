"""Typer's own messages in French: usage errors ("Missing argument", "No such option"), the
values it refuses ("Input should be a valid integer"), and the words around them ("Usage:",
"Error", "Try … for help").

Typer (0.29) carries its own copy of click, whose messages are English f-strings with no
catalogue to plug in, and checks values with pydantic. So the French is put where the messages
are shown: :func:`install` replaces typer's error printer by one that translates the message
(:func:`translate`, an ordered list of patterns over typer's fixed phrasings), gives typer a
French rendering of pydantic's errors (by error type, not by text), and sets the headings typer
reads once at import. A phrasing missing here stays English: ``tests/cli/test_errors_cli.py``
runs every command with bad input and fails on English text.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# (pattern over a whole message, French). Applied in order; the first that matches wins, and
# what it captures is translated again (a message nests another: "Invalid value for X: …").
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Invalid value for (?P<hint>.+?): (?P<msg>.*)", re.S), "{hint} : {msg}"),
    (re.compile(r"Invalid value: (?P<msg>.*)", re.S), "valeur invalide : {msg}"),
    (
        re.compile(r"Missing argument(?P<hint> .+?)?\.(?: (?P<msg>.*))?", re.S),
        "argument manquant{hint}.{msg}",
    ),
    (
        re.compile(r"Missing option(?P<hint> .+?)?\.(?: (?P<msg>.*))?", re.S),
        "option manquante{hint}.{msg}",
    ),
    (
        re.compile(r"Missing parameter(?P<hint> .+?)?\.(?: (?P<msg>.*))?", re.S),
        "paramètre manquant{hint}.{msg}",
    ),
    (re.compile(r"Missing parameter: (?P<name>.*)", re.S), "paramètre manquant : {name}"),
    (re.compile(r"Missing command\."), "commande manquante."),
    (
        re.compile(r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.*)\)", re.S),
        "option inconnue : {name} (options proches : {options})",
    ),
    (re.compile(r"No such option: (?P<name>.*)", re.S), "option inconnue : {name}"),
    (re.compile(r"No such command (?P<name>.*)\.", re.S), "commande inconnue : {name}."),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", re.S),
        "argument(s) en trop : {args}",
    ),
    (
        re.compile(r"Option (?P<name>.+?) requires an argument\.", re.S),
        "l'option {name} attend une valeur.",
    ),
    (
        re.compile(r"Option (?P<name>.+?) requires (?P<n>\d+) arguments\.", re.S),
        "l'option {name} attend {n} valeurs.",
    ),
    (
        re.compile(r"Option (?P<name>.+?) does not take a value\.", re.S),
        "l'option {name} ne prend pas de valeur.",
    ),
    (
        re.compile(r"Argument (?P<name>.+?) takes (?P<n>\d+) values\.", re.S),
        "l'argument {name} prend {n} valeurs.",
    ),
    (
        re.compile(r"(?P<kind>file|dir|path) (?P<loc>.+?) does not exist\.", re.S),
        "{kind} {loc} introuvable.",
    ),
    (
        re.compile(r"(?P<kind>file|dir|path) (?P<loc>.+?) is a file\.", re.S),
        "{loc} est un fichier.",
    ),
    (
        re.compile(r"(?P<kind>file|dir|path) (?P<loc>.+?) is a directory\.", re.S),
        "{loc} est un dossier.",
    ),
    (
        re.compile(r"(?P<kind>file|dir|path) (?P<loc>.+?) is not readable\.", re.S),
        "{loc} illisible (droits).",
    ),
    (
        re.compile(r"(?P<kind>file|dir|path) (?P<loc>.+?) is not writable\.", re.S),
        "{loc} non modifiable (droits).",
    ),
    (
        re.compile(r"Could not open file (?P<name>.+?): (?P<msg>.*)", re.S),
        "impossible d'ouvrir le fichier {name} : {msg}",
    ),
    (
        re.compile(r"Value (?P<value>.+?) is not a valid (?P<label>.+)\.", re.S),
        "{value} : valeur invalide ({label} attendu).",
    ),
    (re.compile(r"Value must be an iterable\."), "une liste de valeurs est attendue."),
]

_WORDS = {"file": "fichier", "dir": "dossier", "path": "chemin"}

# pydantic's error types (typer checks values with pydantic), in French.
_PYDANTIC = {
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "decimal_parsing": "nombre attendu",
    "bool_parsing": "booléen attendu (true/false, oui : yes/1, non : no/0)",
    "bool_type": "booléen attendu",
    "date_parsing": "date AAAA-MM-JJ attendue",
    "date_from_datetime_parsing": "date AAAA-MM-JJ attendue",
    "datetime_parsing": "date et heure attendues (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)",
    "datetime_from_date_parsing": "date et heure attendues (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "enum": "valeurs possibles : {expected}",
    "literal_error": "valeurs possibles : {expected}",
    "string_too_short": "au moins {min_length} caractère(s)",
    "string_too_long": "au plus {max_length} caractère(s)",
    "string_type": "texte attendu",
    "uuid_parsing": "UUID attendu",
    "missing": "valeur obligatoire",
}

# Headings and hints typer reads once, at import.
_TYPER_CONSTANTS = {
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Aide : [blue]'{command_path} {help_option}'[/]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "DEFAULT_STRING": "[par défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
}

USAGE = "Utilisation :"

# Help of the options typer adds to every command.
HELP = {
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Install completion for the current shell.": ("Installer la complétion pour le shell courant."),
    "Show completion for the current shell, to copy it or customize the installation.": (
        "Afficher la complétion pour le shell courant (à copier ou adapter)."
    ),
    "Install completion for the specified shell.": "Installer la complétion pour ce shell.",
    "Show completion for the specified shell, to copy it or customize the installation.": (
        "Afficher la complétion pour ce shell (à copier ou adapter)."
    ),
}


def translate(message: str) -> str:
    """A typer/click message in French (unchanged when no pattern knows it)."""
    for pattern, french in _PATTERNS:
        found = pattern.fullmatch(message.strip())
        if found is None:
            continue
        parts = {k: v or "" for k, v in found.groupdict().items()}
        if parts.get("msg"):
            parts["msg"] = translate(parts["msg"])
            if ".{msg}" in french:  # "argument manquant 'X'. <détail>"
                parts["msg"] = " " + parts["msg"]
        if "kind" in parts:
            parts["kind"] = _WORDS.get(parts["kind"], parts["kind"])
        return french.format(**parts)
    return message


def pydantic_message(exc: Any) -> str:
    """The first error of a pydantic ``ValidationError``, in French (typer's ``get_error_msg``)."""
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc)
    error = errors[0]
    template = _PYDANTIC.get(error.get("type", ""))
    if template is None:
        return translate(str(error.get("msg", "")))
    context = dict(error.get("ctx") or {})
    if "expected" in context:
        context["expected"] = str(context["expected"]).replace("' or '", "' ou '")
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def usage(text: str) -> str:
    return re.sub(r"^(\s*)Usage:", rf"\1{USAGE}", text)


def install() -> None:
    """Make typer speak French (idempotent; process-wide, as typer's own settings are)."""
    rich_utils = importlib.import_module("typer.rich_utils")
    for attr, french in _TYPER_CONSTANTS.items():
        if hasattr(rich_utils, attr):
            setattr(rich_utils, attr, french)
    if not getattr(rich_utils.rich_format_error, "_hopia_french", False):
        rich_utils.rich_format_error = _french_error(rich_utils.rich_format_error)
    if not getattr(rich_utils.rich_format_help, "_hopia_french", False):
        rich_utils.rich_format_help = _french_help(rich_utils.rich_format_help)
    for name in ("typer._coercion", "typer._param_types"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - another typer layout
            continue
        if hasattr(module, "get_error_msg"):
            module.get_error_msg = pydantic_message
    try:
        formatting = importlib.import_module("typer._click.formatting")
    except ImportError:  # pragma: no cover
        return
    formatter = formatting.HelpFormatter
    if not getattr(formatter.write_usage, "_hopia_french", False):
        original = formatter.write_usage

        def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
            original(self, prog, args, f"{USAGE} " if prefix is None else prefix)

        write_usage._hopia_french = True  # type: ignore[attr-defined]
        formatter.write_usage = write_usage


def _french_error(original: Any) -> Any:
    def rich_format_error(error: Any) -> None:
        message = getattr(error, "format_message", None)
        if callable(message):
            french = translate(message())
            error.format_message = lambda: french
        original(error)

    rich_format_error._hopia_french = True  # type: ignore[attr-defined]
    return rich_format_error


def _french_help(original: Any) -> Any:
    def rich_format_help(*, obj: Any, ctx: Any, markup_mode: Any) -> None:
        for param in obj.get_params(ctx):
            text = getattr(param, "help", None)
            if text in HELP:
                param.help = HELP[text]
        original(obj=obj, ctx=ctx, markup_mode=markup_mode)

    rich_format_help._hopia_french = True  # type: ignore[attr-defined]
    return rich_format_help
