"""Every French text of ../shared/data through the full Hopia NLP pipeline: zero pipe failures
(issue 11, item 1). Skips when the folder is absent.

Texts: every QUAERO ``.txt`` (train, dev, test: MEDLINE titles and EMEA leaflets), every
``note_text`` of the two eds-pseudo JSONL files, and the FrenchMedMCQA questions with their five
answers (one text per question, as "question\\na) …\\nb) …"). FrenchMedMCQA is the largest
part and the least clinical: one question in :data:`MCQA_EVERY` is taken (train, dev and test,
in file order), so the test stays within a few minutes on 2 cores; the other sources are read
whole.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hopia.data.nlp import extract_with_errors, get_nlp
from hopia.platform.config import get_settings
from tests.conftest import shared_path

pytestmark = [pytest.mark.slow, pytest.mark.shared]

#: One FrenchMedMCQA question in this many is run (all of QUAERO and eds-pseudo are).
MCQA_EVERY = 4


def quaero_texts(folder: Path) -> Iterator[tuple[str, str]]:
    for part in ("train", "dev", "test"):  # not README.original.txt (English)
        for path in sorted((folder / part).rglob("*.txt")):
            yield f"quaero:{path.relative_to(folder)}", path.read_text(encoding="utf-8")


def pseudo_texts(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if line.strip():
                    yield f"pseudo:{path.name}#{i}", json.loads(line)["note_text"]


def mcqa_texts(folder: Path, every: int) -> Iterator[tuple[str, str]]:
    for name in ("train.json", "dev.json", "test.json"):
        path = folder / name
        if not path.exists():
            continue
        for i, q in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if i % every:
                continue
            answers = "\n".join(f"{k}) {v}" for k, v in sorted(q["answers"].items()))
            yield f"mcqa:{name}#{i}", f"{q['question']}\n{answers}"


def shared_texts() -> list[tuple[str, str]]:
    texts = [
        *quaero_texts(shared_path("quaero")),
        *pseudo_texts(shared_path("pseudo")),
        *mcqa_texts(shared_path("llm-eval", "frenchmedmcqa"), MCQA_EVERY),
    ]
    return texts


def test_every_shared_french_text_goes_through_every_pipe() -> None:
    texts = shared_texts()
    sources = Counter(ref.split(":", 1)[0] for ref, _ in texts)
    # what the docstring promises was read (counts of ../shared/data/README.md)
    assert sources["quaero"] >= 2500 and sources["pseudo"] == 1097 and sources["mcqa"] > 700
    get_settings.cache_clear()
    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    failures: list[tuple[str, Any]] = []
    mentions = 0
    found = extract_with_errors((t for _, t in texts), nlp=nlp, batch_size=32)
    for (ref, text), result in zip(texts, found, strict=True):
        failures.extend((ref, str(e)) for e in result.errors)
        for e in result.entities:
            assert text[e.start : e.end] == e.text, ref
        mentions += len(result.entities)
    assert failures == []
    assert mentions > len(texts)  # the pipeline did run: clinical text has mentions
