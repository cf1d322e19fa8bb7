"""What a task is, what it returns, and the one way a task runs.

A task turns inputs (validated by its schema) and sources (the texts it may use) into chat
messages through its versioned prompt, calls ``generate`` (the gateway, wired by the caller),
post-processes the answer and checks it against the sources. Without a model (``generate`` is
None) it says so and still returns its sources and structured inputs: never made-up text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from hopia.assistant import grounding
from hopia.assistant.grounding import Flag, SourceText
from hopia.assistant.llm.base import ChatMessage, Completion
from hopia.assistant.tasks import prompts

Generate = Callable[[list[ChatMessage]], Completion]

NO_MODEL = (
    "Aucun modèle de langage n'est configuré : le texte n'a pas été généré. Les sources et "
    "les données structurées ci-dessous restent consultables."
)


@dataclass(frozen=True)
class Post:
    """A post-processed answer: the text shown, structured output, flags, an error (French)."""

    text: str
    structured: dict[str, Any] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    error: str | None = None


Variables = Callable[[Any, Sequence[SourceText], dict[str, Any]], dict[str, str]]
PostProcess = Callable[[str, Any, Sequence[SourceText], dict[str, Any]], Post]


def keep_text(text: str, inputs: Any, sources: Sequence[SourceText], data: dict[str, Any]) -> Post:
    return Post(text.strip())


@dataclass(frozen=True)
class Task:
    """One task of the registry.

    ``variables(inputs, sources, structured)`` gives the prompt's variables; ``structured`` is
    what the service computed beside the sources (NLP facts, a cohort's tables), shown to the
    user as is. ``grounded``: run the grounding check of the output against the sources."""

    name: str
    title: str
    action: str
    inputs: type[BaseModel]
    variables: Variables
    postprocess: PostProcess = keep_text
    grounded: bool = True
    max_tokens: int = 700
    needs: str = "text"  # what the CLI asks for: patient, visit, cohort, text

    @property
    def prompt(self) -> prompts.Prompt:
        return prompts.load(self.name)

    def prompt_at(self, version: int | None) -> prompts.Prompt:
        """The prompt of ``version`` (an older one, to measure it again), the latest if None."""
        return prompts.load(self.name, version)


@dataclass(frozen=True)
class TaskResult:
    task: str
    text: str
    sources: tuple[SourceText, ...]
    flags: tuple[Flag, ...]
    generated: bool
    model: str | None
    prompt_version: str
    structured: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # the no-model notice, in French
    error: str | None = None  # the output could not be used (invalid definition...), French


def run(
    task: Task,
    inputs: BaseModel,
    sources: Sequence[SourceText],
    *,
    generate: Generate | None,
    nlp: Any = None,
    structured: dict[str, Any] | None = None,
    prompt_version: int | None = None,
) -> TaskResult:
    """Run ``task``: prompt, generation, post-processing, grounding check.

    ``nlp`` (the NLP pipeline) is needed only when the task is grounded and a model answered.
    ``prompt_version``: an older prompt version (evaluations compare versions); the latest if
    None."""
    data = dict(structured or {})
    prompt = task.prompt_at(prompt_version)
    base = {
        "task": task.name,
        "sources": tuple(sources),
        "prompt_version": prompt.label,
        "structured": data,
    }
    messages = prompt.messages(task.variables(inputs, sources, data))
    if generate is None:
        return TaskResult(text="", flags=(), generated=False, model=None, message=NO_MODEL, **base)
    completion = generate(messages)
    post = task.postprocess(completion.text, inputs, sources, data)
    flags = post.flags
    if task.grounded and post.error is None and post.text:
        report = grounding.check(post.text, sources, nlp=nlp)
        flags = flags + report.flags
    base["structured"] = {**data, **post.structured}
    return TaskResult(
        text=post.text,
        flags=flags,
        generated=True,
        model=completion.model,
        error=post.error,
        **base,
    )
