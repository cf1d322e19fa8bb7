"""Labs and posology: throughput, and what eds.quantities would add on top of them.

    .venv/bin/python bench/nlp_labs.py [--patients 40] [--seed 7]

Runs small pipelines (sentences, normalizer, eds.drugs, plus the pipes named) over synthetic
notes from :func:`hopia.data.synth.generate` and prints docs/s for: drugs only; + eds.quantities;
+ hopia.labs + hopia.posology; all three. Then counts the eds.quantities spans that fall inside
a lab reading or inside a drug's posology text (values Hopia already reads, with the right
analyte), and shows the rest. This is what decided to drop eds.quantities from the pipeline.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

QUANTITIES = ("eds.quantities", "quantities", {"span_setter": {"quantities": True}})
LABS = ("hopia.labs", "labs", {})
POSOLOGY = ("hopia.posology", "posology", {})


def build(pipes: list[tuple[str, str, dict]]) -> Any:
    import edsnlp

    import hopia.data.nlp.pipes  # noqa: F401

    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("eds.drugs", name="drugs", config={"span_setter": {"drug": True}})
    for factory, name, config in pipes:
        nlp.add_pipe(factory, name=name, config=config)
    return nlp


def rate(nlp: Any, texts: list[str]) -> tuple[list[Any], float]:
    list(nlp.pipe(texts[:20]))  # warm caches
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts))
    return docs, len(texts) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from hopia.data.synth import generate

    texts = [d.text for d in generate(n_patients=args.patients, seed=args.seed).documents]
    print(f"{len(texts)} synthetic notes, {sum(map(len, texts)) / len(texts):.0f} chars each")
    for label, pipes in (
        ("drugs only", []),
        ("+ eds.quantities", [QUANTITIES]),
        ("+ hopia.labs + hopia.posology", [LABS, POSOLOGY]),
        ("+ all three", [QUANTITIES, LABS, POSOLOGY]),
    ):
        docs, docs_s = rate(build(pipes), texts)
        print(f"{label:32s} {docs_s:6.1f} docs/s")
    where: Counter[str] = Counter()
    rest: Counter[str] = Counter()
    for doc in docs:
        labs = list(doc.spans["labs"])
        posology = []
        for d in doc.spans["drug"]:
            text = (d._.attributes or {}).get("posology_text")
            if text and (start := doc.text.find(text, d.end_char)) >= 0:
                posology.append((start, start + len(text)))
        for q in doc.spans["quantities"]:
            if any(q.start_char < s.end_char and s.start_char < q.end_char for s in labs):
                where["inside a lab reading"] += 1
            elif any(s <= q.start_char and q.end_char <= e for s, e in posology):
                where["inside a drug's posology"] += 1
            else:
                where["elsewhere"] += 1
                rest[q.label_] += 1
    total = sum(where.values())
    for k, v in where.items():
        print(f"eds.quantities spans {k:28s} {v:5d} ({v / total:.0%})")
    print("elsewhere, by label:", dict(rest))


if __name__ == "__main__":
    main()
