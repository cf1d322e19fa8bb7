"""FrenchMedMCQA (Labrak et al. 2022): French pharmacy exam questions with five propositions,
one to five of them correct — a knowledge test of a generative model (``hopia assistant eval
mcqa``).

- **Data.** The public JSON files (``train``/``dev``/``test.json``): a list of
  ``{"id", "question", "answers": {"a".."e"}, "correct_answers": [...], "subject_name",
  "nbr_correct_answers"}``. Read only, never copied into the repository.
- **Sample.** The full test split (622 questions) is long on two CPU cores: ``limit`` draws a
  fixed sample with a seeded generator (same seed, same questions, in the file's order).
- **Prompt.** French, asks for the letters of every correct proposition on a line
  ``Réponse : A, C``; with retrieval, numbered passages come first (they may or may not help).
- **Parsing** (:func:`parse_letters`): the ``Réponse :`` line, else an answer made of letters
  only, else capital letters standing alone or letters marked ``(a)`` / ``a)``. Lower-case
  ``a`` alone is never read as a letter (French "il a"). Nothing found is *unparseable*: counted,
  and scored as a wrong answer.
- **Scores**, as the dataset's paper defines them: the exact match ratio (EMR, the predicted set
  equals the gold set) and the Hamming score, per question ``|pred ∩ gold| / |pred ∪ gold|``
  averaged over the questions.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LETTERS = ("a", "b", "c", "d", "e")
PROMPT_VERSION = "mcqa.v2"

SYSTEM = (
    "Tu es un pharmacien expert qui répond à des questions d'examen à choix multiples (QCM). "
    "Chaque question a cinq propositions, de A à E ; une ou plusieurs sont exactes."
)
# No example letters: the small models copy them as their answer.
INSTRUCTION = (
    "Indique toutes les propositions exactes. Réponds seulement par leurs lettres, séparées "
    "par des virgules, sur une ligne qui commence par « Réponse : »."
)
PASSAGES_INTRO = "Extraits de documents de référence (ils peuvent aider ou non) :"


@dataclass(frozen=True)
class McqaQuestion:
    id: str
    question: str
    options: dict[str, str]  # letter (a-e) -> proposition
    correct: frozenset[str]
    subject: str = ""


def load_questions(path: Path) -> list[McqaQuestion]:
    """The questions of one FrenchMedMCQA JSON file; a malformed file raises ``ValueError``
    naming the question."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError("a JSON list of questions is expected")
    out = []
    for i, item in enumerate(raw):
        try:
            options = {k.lower(): str(v) for k, v in item["answers"].items()}
            correct = frozenset(str(x).lower() for x in item["correct_answers"])
            question = McqaQuestion(
                str(item.get("id") or i),
                str(item["question"]),
                options,
                correct,
                str(item.get("subject_name") or ""),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"question {i + 1}: missing field {exc}") from None
        if not correct or not correct <= set(options) or set(options) - set(LETTERS):
            raise ValueError(f"question {i + 1}: propositions or answers outside a-e")
        out.append(question)
    return out


def sample(questions: Sequence[McqaQuestion], limit: int | None, seed: int) -> list[McqaQuestion]:
    """``limit`` questions drawn with ``random.Random(seed)``, kept in the file's order; all of
    them when ``limit`` is None or not smaller."""
    if limit is None or limit >= len(questions):
        return list(questions)
    chosen = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def prompt(question: McqaQuestion, passages: Sequence[str] = ()) -> tuple[str, str]:
    """(system, user) messages of one question."""
    parts = []
    if passages:
        listed = "\n\n".join(f"[{i}] {p.strip()}" for i, p in enumerate(passages, 1))
        parts.append(f"{PASSAGES_INTRO}\n\n{listed}\n")
    parts.append(f"Question : {question.question.strip()}")
    parts += [f"{k.upper()}. {v.strip()}" for k, v in sorted(question.options.items())]
    parts.append(f"\n{INSTRUCTION}")
    return SYSTEM, "\n".join(parts)


# -- parsing the answer --------------------------------------------------------------------------

_ANSWER_LINE = re.compile(
    r"r[ée]ponses?\s*(?:correctes?|exactes?)?\s*(?:est|sont)?\s*[:：=-]?\s*(.+)", re.IGNORECASE
)
_ONLY_LETTERS = re.compile(
    r"^[\s(\[]*[a-e](?:[\s)\].]*(?:,|;|/|\+|et|&|\s)\s*[(\[]?[a-e])*[\s)\].]*$", re.IGNORECASE
)
_LETTER_TOKEN = re.compile(r"(?<![\w'’])([a-eA-E])(?![\w'’])")
_CAPITAL = re.compile(r"(?<![\w'’])([A-E])(?![\w'’-])")
_MARKED = re.compile(r"(?<![\w'’])\(?([a-eA-E])\)")


def _letters_of(fragment: str) -> frozenset[str]:
    return frozenset(m.group(1).lower() for m in _LETTER_TOKEN.finditer(fragment))


def parse_letters(text: str) -> frozenset[str] | None:
    """The letters an answer gives (module docstring); None when it gives none."""
    for line in text.splitlines():
        found = _ANSWER_LINE.search(line)
        if found:
            tail = found.group(1)
            # "Réponse : A, C — car ..." : the letters before any explanation
            head = re.split(r"[.—–]\s|\s(?:car|parce|puisque)\s", tail, maxsplit=1)[0]
            head = head.replace(" et ", ", ")
            capitals = frozenset(m.group(1).lower() for m in _CAPITAL.finditer(head))
            letters = capitals or _letters_of(head)  # "il a raison, C": the capital only
            if letters:
                return letters
    stripped = text.strip()
    if stripped and _ONLY_LETTERS.match(stripped):
        return _letters_of(stripped)
    letters = frozenset(m.group(1).lower() for m in _CAPITAL.finditer(text))
    letters |= frozenset(m.group(1).lower() for m in _MARKED.finditer(text))
    return letters or None


# -- scores --------------------------------------------------------------------------------------


def hamming(predicted: frozenset[str] | None, gold: frozenset[str]) -> float:
    """``|pred ∩ gold| / |pred ∪ gold|`` (0 for an unparseable answer)."""
    pred = predicted or frozenset()
    return len(pred & gold) / len(pred | gold)


@dataclass(frozen=True)
class McqaAnswer:
    id: str
    gold: frozenset[str]
    predicted: frozenset[str] | None  # None: unparseable
    answer: str  # the model's text, cut to 200 characters
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    passages: int = 0

    @property
    def exact(self) -> bool:
        return self.predicted == self.gold

    @property
    def hamming(self) -> float:
        return hamming(self.predicted, self.gold)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "gold": sorted(self.gold),
            "predicted": sorted(self.predicted) if self.predicted is not None else None,
            "exact": self.exact,
            "hamming": round(self.hamming, 4),
            "answer": self.answer,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
            "passages": self.passages,
        }


@dataclass
class McqaReport:
    model: str
    source: str
    total: int  # questions in the file
    seed: int
    retrieval: str | None
    answers: list[McqaAnswer] = field(default_factory=list)
    energy_wh: float = 0.0
    co2e_g: float = 0.0
    cost_eur: float = 0.0

    @property
    def questions(self) -> int:
        return len(self.answers)

    @property
    def emr(self) -> float:
        return sum(a.exact for a in self.answers) / self.questions if self.answers else 0.0

    @property
    def hamming_score(self) -> float:
        return sum(a.hamming for a in self.answers) / self.questions if self.answers else 0.0

    @property
    def unparseable(self) -> int:
        return sum(a.predicted is None for a in self.answers)

    @property
    def seconds(self) -> float:
        return sum(a.seconds for a in self.answers)

    def to_json(self) -> dict[str, Any]:
        n = max(self.questions, 1)
        return {
            "model": self.model,
            "source": self.source,
            "prompt_version": PROMPT_VERSION,
            "questions": self.questions,
            "questions_in_file": self.total,
            "seed": self.seed,
            "retrieval": self.retrieval,
            "emr": round(self.emr, 4),
            "hamming": round(self.hamming_score, 4),
            "unparseable": self.unparseable,
            "questions_with_passages": sum(a.passages > 0 for a in self.answers),
            "seconds": round(self.seconds, 2),
            "seconds_per_question": round(self.seconds / n, 3),
            "energy_wh": self.energy_wh,
            "co2e_g": self.co2e_g,
            "cost_eur": self.cost_eur,
            "answers": [a.to_json() for a in self.answers],
        }


#: ``answer(system, user) -> (text, prompt_tokens, completion_tokens)``
Answerer = Callable[[str, str], tuple[str, int, int]]
#: ``retrieve(question_text) -> passages``
Retriever = Callable[[str], list[str]]


def ask(question: McqaQuestion, answer: Answerer, retrieve: Retriever | None) -> McqaAnswer:
    """One question put to the model, its answer parsed."""
    passages = retrieve(question.question) if retrieve is not None else []
    system, user = prompt(question, passages)
    t0 = time.perf_counter()
    text, prompt_tokens, completion_tokens = answer(system, user)
    seconds = time.perf_counter() - t0
    return McqaAnswer(
        question.id,
        question.correct,
        parse_letters(text),
        text.strip()[:200],
        prompt_tokens,
        completion_tokens,
        seconds,
        len(passages),
    )
