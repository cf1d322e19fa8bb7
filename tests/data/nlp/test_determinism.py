"""The clinical NER's output does not depend on which process runs it (issue 11, finding 8).

The same synthetic notes go through the NER in this process (inside the pipeline, and alone as
the ingest's main process calls it), through the ingest's worker process (spawned, one thread),
and through a fresh interpreter with another hash seed and other thread settings; every
entity set must be identical, mention by mention. (The few ``note_nlp`` rows by which two clean
ingests differed came from the surrogates, drawn from each installation's secret, not from the
process: see ``tests/data/ingest/test_analysis.py``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from hopia.data.ingest.worker import ModelWorker
from hopia.data.nlp import extract, get_nlp
from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans
from hopia.data.synth import generate
from hopia.platform.config import get_settings
from tests.conftest import REPO

pytestmark = pytest.mark.slow

Spans = list[list[tuple[int, int, str]]]


def texts() -> list[str]:
    return [d.text for d in generate(n_patients=3, seed=29).documents]


def in_pipeline(notes: list[str], batch_size: int) -> Spans:
    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    return [
        sorted((e.start, e.end, e.label) for e in found if e.pipe == "clinical_ner")
        for found in extract(notes, nlp=nlp, batch_size=batch_size)
    ]


def everything(notes: list[str]) -> list[list[dict[str, Any]]]:
    from hopia.data.nlp import entity_to_json

    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    return [
        sorted((entity_to_json(e) for e in found), key=lambda j: json.dumps(j, sort_keys=True))
        for found in extract(notes, nlp=nlp, batch_size=8)
    ]


_CHILD = """
import json, sys
from hopia.data.nlp import entity_to_json, extract, get_nlp
from hopia.platform.config import get_settings
notes = json.loads(sys.stdin.read())
nlp = get_nlp(cache_dir=get_settings().cache_dir)
out = [sorted((entity_to_json(e) for e in found), key=lambda j: json.dumps(j, sort_keys=True))
       for found in extract(notes, nlp=nlp, batch_size=5)]
print(json.dumps(out))
"""


def test_the_same_spans_in_this_process_in_the_worker_and_in_any_batch() -> None:
    notes = texts()
    direct = [sorted(s) for s in predict_char_spans(notes)]  # as the ingest's main process
    assert sum(map(len, direct)) > 20  # the model does find mentions in these notes
    worker = ModelWorker(phi_model=False, clinical_ner=True)
    try:
        analysis = worker.submit(notes).result()
        # the worker's share of a batch: the first half, the rest left to this process
        half = worker.submit(notes, len(notes) // 2).result()
    finally:
        worker.close()
    assert [sorted(s) for s in analysis.clinical_ner] == direct
    assert [sorted(s) for s in half.clinical_ner[: len(notes) // 2]] == direct[: len(notes) // 2]
    one_by_one = [sorted(predict_char_spans([n])[0]) for n in notes]
    assert one_by_one == direct  # batch composition and padding change nothing
    # the pipe, as `nlp extract` runs it: the same mentions, less those hopia.zones drops
    # (letterheads, signatures, administrative lines state no fact), whatever the batches
    piped = in_pipeline(notes, batch_size=32)
    assert all(set(p) <= set(d) for p, d in zip(piped, direct, strict=True))
    assert sum(map(len, piped)) > 20
    assert in_pipeline(notes[::-1], batch_size=3)[::-1] == piped


def test_a_fresh_process_with_another_hash_seed_and_threads_finds_the_same_entities() -> None:
    notes = texts()
    env = os.environ | {
        "PYTHONHASHSEED": "12345",  # set and dict orders differ from this process's
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_NUM_THREADS": "2",
        "MKL_NUM_THREADS": "2",
        "HOPIA_CACHE_DIR": str(get_settings().cache_dir),
    }
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(notes),
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    assert theirs == json.loads(json.dumps(everything(notes)))
