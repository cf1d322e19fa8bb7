"""Every pipe in isolation: a pipe that fails on one text costs that text that pipe's output.

EDS-NLP's stream runs each pipe over a batch and lets the first exception end the whole run
(``hopia nlp extract`` stopped with a traceback; the ingest set the document aside with all its
other facts). :func:`run_pipes` runs the same pipes in the same order over the same batches, but
catches a pipe's failure per text: the text goes on to the next pipes as that pipe left it, and
the failure is kept as a :class:`PipeError` (pipe name, exception class, a message with its
quoted fragments removed: exception messages quote the text they choked on, and patient text
must not reach a log, an output line or the warehouse).

A pipe with ``batch_process`` (the clinical NER: one model call per batch) runs on the whole
batch first; if that raises, it runs again text by text, so only the failing text misses it.
A failed batch call is rolled back before the retry (span setters append: the docs it had
already done would get their spans twice), and so is a failed retry. A per-document pipe is not
snapshotted (that cost 3 ms a document over 40 pipes): pipes compute their matches before they
set them, so one that raises has, in practice, set nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hopia.platform.text import without_quoted

#: Longest error message kept (after its quoted fragments are removed).
MAX_MESSAGE = 200


@dataclass(frozen=True, slots=True)
class PipeError:
    """One pipe that failed on one text. No text of the document in it."""

    pipe: str
    error: str  # the exception's class name
    message: str  # its message, quoted fragments replaced by '…', cut to MAX_MESSAGE

    @classmethod
    def of(cls, pipe: str, exc: BaseException) -> PipeError:
        message = without_quoted(str(exc), MAX_MESSAGE)
        return cls(pipe, type(exc).__name__, message)

    def to_json(self) -> dict[str, str]:
        return {"pipe": self.pipe, "error": self.error, "message": self.message}

    def __str__(self) -> str:
        return f"{self.pipe} ({self.error})"


def make_docs(nlp: Any, texts: Sequence[str]) -> tuple[list[Any], list[list[PipeError]]]:
    """The pipeline's docs of ``texts`` and an empty error list for each; a text the tokenizer
    cannot read becomes an empty doc with a ``tokenizer`` error (no entity can come from it)."""
    docs, errors = [], []
    for text in texts:
        try:
            docs.append(nlp.make_doc(text))
            errors.append([])
        except Exception as exc:  # noqa: BLE001 - that text only
            docs.append(nlp.make_doc(""))
            errors.append([PipeError.of("tokenizer", exc)])
    return docs, errors


def run_pipes(nlp: Any, docs: list[Any], errors: list[list[PipeError]]) -> list[Any]:
    """Run the enabled pipes of ``nlp`` over ``docs`` in order, each failure caught per doc
    and appended to that doc's list in ``errors`` (parallel to ``docs``)."""
    disabled = set(getattr(nlp, "_disabled", ()))
    for name, pipe in nlp.pipeline:
        if name in disabled:
            continue
        if hasattr(pipe, "batch_process"):
            docs = _batch(name, pipe, docs, errors)
        else:
            docs = [_one(name, pipe, doc, errs) for doc, errs in zip(docs, errors, strict=True)]
    return docs


def _one(name: str, pipe: Any, doc: Any, errors: list[PipeError]) -> Any:
    # No snapshot here: sizing every span group before each of 40 pipes cost 3 ms a document
    # (spaCy builds the groups on access), and a pipe computes its matches before it sets them,
    # so one that raises has set nothing.
    try:
        out = pipe(doc)
    except Exception as exc:  # noqa: BLE001 - isolation is the point
        errors.append(PipeError.of(name, exc))
        return doc
    return doc if out is None else out


def _batch(name: str, pipe: Any, docs: list[Any], errors: list[list[PipeError]]) -> list[Any]:
    before = [_sizes(doc) for doc in docs]
    try:
        return list(pipe.batch_process(docs))
    except Exception:  # noqa: BLE001 - find the failing doc(s) below
        pass
    out = []
    for doc, errs, sizes in zip(docs, errors, before, strict=True):
        # the failed call may have done the docs before the culprit: undone before the retry
        _roll_back(doc, sizes)
        try:
            out.append(next(iter(pipe.batch_process([doc]))))
        except Exception as exc:  # noqa: BLE001
            errs.append(PipeError.of(name, exc))
            _roll_back(doc, sizes)
            out.append(doc)
    return out


def _sizes(doc: Any) -> dict[str, int]:
    return {key: len(group) for key, group in doc.spans.items()}


def _roll_back(doc: Any, sizes: dict[str, int]) -> None:
    """Undo what a failed batch call added to the span groups (span setters append): new groups
    removed, grown ones cut back."""
    for key in [k for k in doc.spans if k not in sizes]:
        del doc.spans[key]
    for key, size in sizes.items():
        group = doc.spans[key]
        if len(group) > size:
            doc.spans[key] = list(group)[:size]
