"""Retrieval at scale: query latency of BM25, dense and hybrid search on 100,000 passages, and
the embedding throughput of the dense models.

    OMP_NUM_THREADS=2 .venv/bin/python bench/retrieval.py \
        --corpus ../shared/data/quaero \
        --questions bench/data/retrieval_questions_quaero_emea.jsonl \
        [--passages 100000] [--embedder use] [--threads 2]

The passages are the real passages of the corpus (QUAERO: EMEA drug leaflets and MEDLINE
titles, cut by Hopia's chunker), replicated with variation up to ``--passages``: each copy
drops one word in ten at random and carries a random reference number (so BM25 sees distinct
texts and a realistic vocabulary), and its vector is the original's plus Gaussian noise
(sigma 0.02 per dimension, re-normalised): embedding 100,000 passages on 2 cores would take
hours and measure the embedder, not the search. The index is written in Hopia's own format
(:class:`hopia.assistant.knowledge.index.KnowledgeIndex`) and searched through its ``search``,
the query embedded each time, as a user's question is. Target (issue 13): p95 < 100 ms.
Prints the load average with the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hopia.assistant.knowledge.chunking import chunk  # noqa: E402
from hopia.assistant.knowledge.embedding import embedder as load_embedder  # noqa: E402
from hopia.assistant.knowledge.evaluation import corpus_files, load_questions  # noqa: E402
from hopia.assistant.knowledge.index import DocumentEntry, KnowledgeIndex  # noqa: E402
from hopia.assistant.knowledge.reading import read_source  # noqa: E402
from hopia.assistant.knowledge.text import tokens  # noqa: E402

PER_DOCUMENT = 1000


def _load() -> str:
    return open("/proc/loadavg").read().split()[0] if Path("/proc/loadavg").exists() else "?"


def base_passages(corpus: Path) -> list[str]:
    out = []
    for path in corpus_files(corpus):
        source = read_source(path.name, path.read_bytes())
        out += [f"{c.section}\n{c.text}" if c.section else c.text for c in chunk(source)]
    return out


def vary(text: str, rng: random.Random) -> str:
    words = [w for w in text.split(" ") if rng.random() > 0.1]
    return " ".join(words) + f" (réf. {rng.randrange(10**6):06d})"


def build(
    folder: Path, texts: list[str], vectors: np.ndarray, total: int, seed: int
) -> KnowledgeIndex:
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    index = KnowledgeIndex(folder, embedder_name, threads)
    docs: dict[str, DocumentEntry] = {}
    n = 0
    while n < total:
        count = min(PER_DOCUMENT, total - n)
        picks = [(n + i) % len(texts) for i in range(count)]
        parts = [
            texts[p] if n + i < len(texts) else vary(texts[p], prng) for i, p in enumerate(picks)
        ]
        starts, offset = [], 0
        for part in parts:
            starts.append(offset)
            offset += len(part) + 2
        noise = rng.normal(0, 0.02, (count, vectors.shape[1])).astype(np.float32)
        vec = vectors[picks] + np.where(np.arange(n, n + count)[:, None] < len(texts), 0, noise)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        doc_id = f"{len(docs):016x}"
        record = {
            "id": doc_id,
            "name": f"synthetique-{len(docs)}.txt",
            "sha256": doc_id,
            "format": "text",
            "text": "\n\n".join(parts),
            "chunks": [
                {"start": s, "end": s + len(p), "section": "", "page": None}
                for s, p in zip(starts, parts, strict=True)
            ],
        }
        index._write_document(doc_id, record, [tokens(p) for p in parts], vec)
        docs[doc_id] = DocumentEntry(
            doc_id, record["name"], doc_id, "text", len(record["text"]), count
        )
        n += count
    index._write_manifest(docs)
    return index


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    global embedder_name, threads
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--embedder", default="use", choices=["use", "e5"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--embed-sample", type=int, default=200, help="Passages timed for throughput."
    )
    parser.add_argument("--rounds", type=int, default=2, help="Times each question is asked.")
    parser.add_argument(
        "--max-real", type=int, default=None, help="At most this many real passages (embedding)."
    )
    args = parser.parse_args()
    embedder_name, threads = args.embedder, args.threads
    print(f"load average at start: {_load()}")

    texts = base_passages(args.corpus)
    if args.max_real:  # an even sample over the corpus, not its first documents
        texts = texts[:: max(1, len(texts) // args.max_real)][: args.max_real]
    print(f"corpus: {len(texts)} real passages")
    model = load_embedder(embedder_name, threads)
    model.passages(texts[:8])  # load outside the timing
    sample = texts[: args.embed_sample]
    t0 = time.perf_counter()
    model.passages(sample)
    seconds = time.perf_counter() - t0
    chars = sum(len(t) for t in sample) / len(sample)
    print(
        f"embedding ({embedder_name}, {threads} threads): {len(sample) / seconds:.1f} passages/s "
        f"(mean {chars:.0f} characters)"
    )
    t0 = time.perf_counter()
    base = model.passages(texts)
    print(f"embedded the {len(texts)} real passages in {time.perf_counter() - t0:.1f} s")

    questions = [q.question for q in load_questions(args.questions)] * args.rounds
    with TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index = build(Path(tmp) / "c", texts, base, args.passages, seed=13)
        print(f"wrote {args.passages} passages in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        index.search("chargement", 1)  # loads the passages, (re)builds BM25 from the terms
        print(f"loaded and BM25-indexed in {time.perf_counter() - t0:.1f} s")
        query_ms = []
        for q in questions[: len(questions) // args.rounds]:
            t0 = time.perf_counter()
            model.query(q)
            query_ms.append(1000 * (time.perf_counter() - t0))
        print(
            f"query embedding alone: median {statistics.median(query_ms):.1f} ms, "
            f"p95 {percentile(query_ms, 0.95):.1f} ms"
        )
        for mode in ("bm25", "dense", "hybrid"):
            times = []
            for q in questions:
                t0 = time.perf_counter()
                index.search(q, 5, mode)  # type: ignore[arg-type]
                times.append(1000 * (time.perf_counter() - t0))
            print(
                f"{mode:>6}: {len(times)} queries on {args.passages} passages, median "
                f"{statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms "
                f"(question embedded each time)"
            )
        # The index's own work (BM25 scores, matrix product, fusion), the question's vector
        # computed beforehand: what grows with the number of passages.
        vectors = {q: model.query(q) for q in set(questions)}
        embed_query = model.query
        model.query = vectors.__getitem__  # type: ignore[method-assign]
        try:
            for mode in ("bm25", "dense", "hybrid"):
                times = []
                for q in questions:
                    t0 = time.perf_counter()
                    index.search(q, 5, mode)  # type: ignore[arg-type]
                    times.append(1000 * (time.perf_counter() - t0))
                print(
                    f"{mode:>6}: index alone, median {statistics.median(times):.1f} ms, "
                    f"p95 {percentile(times, 0.95):.1f} ms"
                )
        finally:
            model.query = embed_query  # type: ignore[method-assign]
    print(f"load average at end: {_load()}")
    print(json.dumps({"passages": args.passages, "embedder": embedder_name, "threads": threads}))


embedder_name = "use"
threads = 2

if __name__ == "__main__":
    main()
