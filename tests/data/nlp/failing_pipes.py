"""Real EDS-NLP pipes, registered for the tests, that fail on the texts holding a trigger word.

Not mocks: they are added to real pipelines (``nlp.add_pipe``) and run by the real runner, so
the tests see what a pipe that crashes in production does to a document and to its batch.
"""

# No `from __future__ import annotations`: confit validates the factories from live hints.

from typing import Any

from edsnlp.core.registries import registry
from spacy.tokens import Doc

TRIGGER = "FAILPIPE"
# The message quotes the text, as real exceptions do ("could not convert string to float:
# 'dix'"): the recorded error must not carry it.
SECRET_IN_MESSAGE = "Kervella"


class FailOn:
    """Raises ``ValueError`` on a doc whose text holds :data:`TRIGGER`; otherwise leaves it."""

    def __init__(self, nlp: Any = None, name: str = "fail_on", *, trigger: str = TRIGGER) -> None:
        self.name = name
        self.trigger = trigger

    def __call__(self, doc: Doc) -> Doc:
        if self.trigger in doc.text:
            raise ValueError(f"could not convert string to float: '{SECRET_IN_MESSAGE}'")
        return doc


class FailOnBatch(FailOn):
    """The same, as a batch pipe (like the clinical NER): one bad doc fails the whole call,
    after the docs before it got a span (which the runner must roll back)."""

    def batch_process(self, docs: list[Doc]) -> list[Doc]:
        for doc in docs:
            doc.spans.setdefault("batch_marks", []).append(doc[0:1])
            if self.trigger in doc.text:
                raise RuntimeError(f"lot en échec sur « {SECRET_IN_MESSAGE} »")
        return docs


def register() -> None:
    """Register both factories once per process (``test.fail_on``, ``test.fail_on_batch``)."""
    if "test.fail_on" not in registry.factory.get_all():
        registry.factory.register("test.fail_on", assigns=[])(FailOn)
        registry.factory.register("test.fail_on_batch", assigns=["doc.spans"])(FailOnBatch)
