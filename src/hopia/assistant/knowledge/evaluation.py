"""Retrieval evaluation: recall@k and MRR of BM25, dense and hybrid retrieval on a question set.

A question set is JSON Lines, one question per line::

    {"id": "q01", "question": "…", "document": "dev/EMEA/118_1.txt", "answer": "…"}

``document`` is the file's path relative to the corpus folder, ``answer`` a verbatim extract of
it that answers the question: the expected passage is any passage of that document whose span
overlaps the extract's. Naming the passage by its text rather than by a passage number keeps the
question set valid whatever the chunk size. A question with ``"document": null`` has no answer
in the corpus (off-topic): it serves the relevance threshold, not recall.

The corpus is indexed once per (corpus, embedder, chunking) under a cache folder and reused."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from hopia.assistant.knowledge.index import MODES, KnowledgeIndex
from hopia.assistant.knowledge.reading import FORMATS


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    document: str | None
    answer: str | None


@dataclass
class ModeScore:
    mode: str
    recall_at_1: float
    recall_at_k: float
    mrr: float
    median_ms: float


@dataclass
class RetrievalReport:
    embedder: str
    questions: int
    off_topic: int
    passages: int
    documents: int
    k: int
    index_seconds: float
    scores: list[ModeScore] = field(default_factory=list)
    similarity_on_topic: list[float] = field(default_factory=list)
    """Best cosine per answerable question (relevance threshold calibration)."""
    similarity_off_topic: list[float] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(Question(raw["id"], raw["question"], raw.get("document"), raw.get("answer")))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}:{i}: bad question line ({exc})") from None
    return out


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)


def build_index(
    corpus: Path, cache: Path, embedder: str, threads: int, size: int, overlap: int
) -> tuple[KnowledgeIndex, float]:
    files = corpus_files(corpus)
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(corpus)).encode() + hashlib.sha256(p.read_bytes()).digest())
    digest.update(f"{embedder}:{size}:{overlap}".encode())
    index = KnowledgeIndex(cache / digest.hexdigest()[:16], embedder, threads)
    started = time.perf_counter()
    index.add_many(
        ((str(p.relative_to(corpus)), p.read_bytes()) for p in files), size=size, overlap=overlap
    )
    return index, time.perf_counter() - started


def _expected_span(index: KnowledgeIndex, q: Question) -> tuple[str, int, int]:
    from hopia.assistant.knowledge.index import document_id

    doc_id = document_id(q.document or "")
    stored = index.stored(doc_id)
    if stored is None:
        raise ValueError(f"question {q.id}: document {q.document} not in the corpus")
    start = stored["text"].find(q.answer or "")
    if start < 0 or not q.answer:
        raise ValueError(f"question {q.id}: the answer is not a verbatim extract of {q.document}")
    return doc_id, start, start + len(q.answer)


def evaluate(
    index: KnowledgeIndex, questions: list[Question], k: int = 5, index_seconds: float = 0.0
) -> RetrievalReport:
    answerable = [q for q in questions if q.document]
    expected = {q.id: _expected_span(index, q) for q in answerable}
    manifest = index.manifest()
    report = RetrievalReport(
        index.embedder_name,
        len(answerable),
        len(questions) - len(answerable),
        sum(d.passages for d in manifest.values()),
        len(manifest),
        k,
        index_seconds,
    )
    index.search("préchauffage", 1)  # loads the passages and the model outside the timings
    for mode in MODES:
        hits_at_1 = hits_at_k = 0
        rr = 0.0
        times = []
        for q in answerable:
            doc_id, a, b = expected[q.id]
            t0 = time.perf_counter()
            hits = index.search(q.question, 20, mode)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t0)
            ranks = [
                r
                for r, h in enumerate(hits, 1)
                if h.document_id == doc_id and h.start < b and a < h.end
            ]
            if ranks:
                rr += 1.0 / ranks[0]
                hits_at_1 += ranks[0] == 1
                hits_at_k += ranks[0] <= k
            if mode == "hybrid":
                report.similarity_on_topic.append(max((h.similarity for h in hits), default=0.0))
        n = max(len(answerable), 1)
        times.sort()
        report.scores.append(
            ModeScore(mode, hits_at_1 / n, hits_at_k / n, rr / n, 1000 * times[len(times) // 2])
        )
    for q in questions:
        if not q.document:
            hits = index.search(q.question, 20, "hybrid")
            report.similarity_off_topic.append(max((h.similarity for h in hits), default=0.0))
    return report
