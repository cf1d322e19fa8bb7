"""Every pipe isolated (issue 11, item 1): a pipe that fails on one document leaves the other
pipes' output for it and for the rest of the batch, and says which pipe failed, how, without
the document's text."""

from __future__ import annotations

from functools import cache
from typing import Any

import edsnlp
import pytest

import hopia.data.nlp.pipes  # noqa: F401  (registers the hopia.* factories)
from hopia.data.nlp import extract_with_errors
from hopia.data.nlp.isolation import MAX_MESSAGE, PipeError
from tests.data.nlp.failing_pipes import SECRET_IN_MESSAGE, TRIGGER, register

GOOD = "Amoxicilline 1 g x3/j pendant 7 jours. Pas de fièvre."
BAD = f"Amoxicilline 1 g x3/j pendant 7 jours. Pas de fièvre. {TRIGGER}"


@cache  # eds.drugs takes seconds to build: once per failing pipe
def pipeline(failing: str) -> Any:
    register()
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("eds.drugs", name="drugs", config={"span_setter": {"drug": True}})
    nlp.add_pipe(failing, name="boom")  # before posology and negation: later pipes still run
    nlp.add_pipe("hopia.posology", name="posology")
    nlp.add_pipe("eds.negation", name="negation", config={"span_getter": ["drug"]})
    return nlp


@pytest.mark.parametrize("failing", ["test.fail_on", "test.fail_on_batch"])
def test_a_failing_pipe_costs_one_document_that_pipe_only(failing: str) -> None:
    nlp = pipeline(failing)
    texts = [GOOD, BAD, GOOD]
    out = list(extract_with_errors(texts, nlp=nlp, batch_size=8))
    assert [bool(x.errors) for x in out] == [False, True, False]
    (error,) = out[1].errors
    assert error.pipe == "boom"
    assert error.error == ("ValueError" if failing == "test.fail_on" else "RuntimeError")
    # the failing document keeps what every other pipe found, exactly as a good one does
    for found in out:
        (drug,) = [e for e in found.entities if e.pipe == "drug"]
        assert drug.text == "Amoxicilline"
        assert drug.attributes["duration_days"] == 7  # posology ran after the failure
        assert drug.value == 1 and drug.unit == "g"
    assert [e.start for e in out[1].entities] == [e.start for e in out[0].entities]


def test_a_batch_pipe_rolled_back_before_its_retry() -> None:
    nlp = pipeline("test.fail_on_batch")
    docs = list(nlp.pipe([GOOD, GOOD]))  # no failure: one mark each
    assert [len(d.spans["batch_marks"]) for d in docs] == [1, 1]
    from hopia.data.nlp.isolation import make_docs, run_pipes

    docs, errors = make_docs(nlp, [GOOD, BAD, GOOD])
    docs = run_pipes(nlp, docs, errors)
    # the first call marked doc 0 then failed on doc 1; the retry marks each good doc once
    assert [len(d.spans.get("batch_marks", [])) for d in docs] == [1, 0, 1]
    assert [[e.pipe for e in errs] for errs in errors] == [[], ["boom"], []]


def test_the_error_carries_no_text_of_the_document() -> None:
    nlp = pipeline("test.fail_on")
    (found,) = extract_with_errors([f"Mme {SECRET_IN_MESSAGE} {TRIGGER}"], nlp=nlp, batch_size=4)
    (error,) = found.errors
    assert SECRET_IN_MESSAGE not in error.message
    assert error.to_json() == {
        "pipe": "boom",
        "error": "ValueError",
        "message": "could not convert string to float: '…'",
    }


def test_pipe_error_messages_are_cut_and_unquoted() -> None:
    error = PipeError.of("labs", KeyError("x" * 500))
    assert error.error == "KeyError" and len(error.message) <= MAX_MESSAGE
    assert "xxx" not in error.message  # str(KeyError) quotes its key
    long = PipeError.of("labs", RuntimeError("y" * 500))
    assert len(long.message) == MAX_MESSAGE and long.message.endswith("…")
    assert str(PipeError.of("dates", ValueError("«Dupont» x"))) == "dates (ValueError)"


def test_clinical_ner_spans_must_match_the_texts() -> None:
    nlp = pipeline("test.fail_on")
    with pytest.raises(ValueError, match="shorter"):
        list(extract_with_errors([GOOD, GOOD], nlp=nlp, batch_size=4, clinical_ner_spans=[None]))
