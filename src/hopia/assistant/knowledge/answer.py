"""Turning retrieved passages into a cited answer: the prompt, the citations, the fixed texts.

The prompt is a versioned French template (``hopia/assistant/prompts/answer_v1.txt``): numbered
passages, the instruction to cite ``[n]`` and to say when the sources do not answer. A model's
``[n]`` markers become citations of passage n; a marker naming a passage that was not given is
removed from the text and cites nothing (a model must not point at a source it never saw)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from hopia.assistant.llm.base import ChatMessage

PROMPT_VERSION = "answer_v1"
NOTHING_RELEVANT = (
    "Je n'ai trouvé aucun passage pertinent pour cette question dans les collections "
    "consultées ; je ne peux donc pas y répondre à partir de ces sources."
)
NO_MODEL_MARK = "aucun modèle de langage n'est configuré"
NO_MODEL = (
    "Réponse non générée : aucun modèle de langage n'est configuré. Voici les passages les plus "
    "pertinents trouvés dans les collections, avec leurs sources."
)
# Cosine under which a passage is not relevant, per embedder: calibrated on the evaluation
# questions and off-topic questions (docs/assistant/knowledge.md, "Relevance threshold").
CALIBRATED_MIN_SIMILARITY = {"e5": 0.85, "use": 0.33}

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass(frozen=True)
class NumberedPassage:
    n: int
    label: str
    """Where it comes from, as the prompt shows it: document, section, page."""
    text: str


def template(version: str = PROMPT_VERSION) -> str:
    return (files("hopia.assistant") / "prompts" / f"{version}.txt").read_text(encoding="utf-8")


def messages(question: str, passages: list[NumberedPassage]) -> list[ChatMessage]:
    listed = "\n\n".join(f"[{p.n}] ({p.label})\n{p.text}" for p in passages)
    return [
        ChatMessage("system", template().replace("{passages}", listed)),
        ChatMessage("user", question),
    ]


def cited(text: str, given: int) -> tuple[str, list[int]]:
    """The answer with markers naming passages 1..``given`` only, and those numbers in order of
    first citation."""
    order: list[int] = []

    def keep(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= given]
        for n in valid:
            if n not in order:
                order.append(n)
        return "".join(f"[{n}]" for n in valid)

    cleaned = _MARKER.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip(), order
