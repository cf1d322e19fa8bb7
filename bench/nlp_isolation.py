"""Cost of running every pipe in isolation (issue 11, item 1) next to EDS-NLP's own stream.

    .venv/bin/python bench/nlp_isolation.py [--patients 30] [--seed 7] [--repeat 5]

On the same synthetic documents (``hopia synth``), one process, one thread, Hopia's full
pipeline: (a) EDS-NLP's stream (``nlp.pipe``, simple backend: the first exception ends the
run) then ``doc_entities``, as ``extract`` ran before; (b) ``extract_with_errors`` (each pipe's
failure caught per document, span groups sized before each pipe and rolled back on failure).
Interleaved runs; median and spread of each, and the ratio of the medians (b)/(a) in docs/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from hopia.data.nlp import doc_entities, extract_with_errors, get_nlp
    from hopia.data.synth import generate
    from hopia.platform.config import get_settings

    texts = [d.text for d in generate(args.patients, args.seed).documents]
    nlp = get_nlp(cache_dir=get_settings().cache_dir)

    def stream() -> float:
        start = time.perf_counter()
        docs = nlp.pipe(texts, batch_size=args.batch_size).set_processing(backend="simple")
        for doc in docs:
            doc_entities(doc)
        return time.perf_counter() - start

    def isolated() -> float:
        start = time.perf_counter()
        for _ in extract_with_errors(texts, nlp=nlp, batch_size=args.batch_size):
            pass
        return time.perf_counter() - start

    list(extract_with_errors(texts[:8], nlp=nlp, batch_size=8))  # warm: weights, lexicons
    times: dict[str, list[float]] = {"stream": [], "isolated": []}
    for _ in range(args.repeat):  # interleaved: the machine is shared
        times["stream"].append(stream())
        times["isolated"].append(isolated())
    n = len(texts)
    print(f"corpus: {n} synthetic documents, {sum(map(len, texts)) / n:.0f} characters on average")
    for key, label in (("stream", "(a) EDS-NLP stream"), ("isolated", "(b) pipes isolated")):
        rates = sorted(n / t for t in times[key])
        print(
            f"{label:22s} median {statistics.median(rates):6.1f} docs/s "
            f"(min {rates[0]:.1f}, max {rates[-1]:.1f}, {args.repeat} runs)"
        )
    ratio = statistics.median(times["stream"]) / statistics.median(times["isolated"])
    print(f"(b)/(a) throughput, medians: {ratio:.3f}")


if __name__ == "__main__":
    main()
