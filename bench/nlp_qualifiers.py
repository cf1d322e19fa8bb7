"""Sections and qualifiers: Hopia's (``pipeline.PIPELINE``) against raw EDS-NLP's, on synthetic
notes (issue 4, items 2 and 5).

    .venv/bin/python bench/nlp_qualifiers.py [--patients 40] [--seed 7] [--throughput]

Accuracy: the gold condition spans of ``hopia synth`` (which carry negated, hypothesis, family
and history) are put in the document as the only mentions, then the sentence, section and
qualifier pipes run: the figures measure the qualifiers, not the mention detection.
Throughput (``--throughput``): docs/s of the whole pipeline (every entity pipe) over the
documents, with Hopia's sections and qualifiers and with raw EDS-NLP's, each variant in its own
subprocess, the best of three passes after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hopia.data.nlp import pipeline as P  # noqa: E402
from hopia.data.synth import generate  # noqa: E402

GROUP = "gold"
GOLD_TO_ATTR = {"negated": "negation", "hypothesis": "hypothesis", "family": "family"}
GOLD_TO_ATTR["history"] = "history"
_SECTIONS_AND_QUALIFIERS = {"sections", "negation", "hypothesis", "family", "history"}
_SECTIONS_AND_QUALIFIERS |= {"reported_speech", "qualifier_rules"}


def raw_definition() -> tuple[P.PipeSpec, ...]:
    """PIPELINE with eds.sections and EDS-NLP's qualifiers as they come (the pipeline before
    issue 4), the entity pipes unchanged."""
    getter = {"span_getter": P.SortedGroupsGetter(P.ENTITY_GROUPS)}
    raw: dict[str, P.PipeSpec] = {
        "sections": ("eds.sections", "sections", {}),
        "negation": ("eds.negation", "negation", dict(getter)),
        "hypothesis": ("eds.hypothesis", "hypothesis", dict(getter)),
        "family": ("eds.family", "family", {**getter, "use_sections": True}),
        "history": ("eds.history", "history", {**getter, "use_sections": True}),
        "reported_speech": ("eds.reported_speech", "reported_speech", dict(getter)),
    }
    return tuple(
        raw.get(name, (factory, name, config))
        for factory, name, config in P.PIPELINE
        if name != "qualifier_rules"
    )


def qualifier_definition(base: tuple[P.PipeSpec, ...]) -> tuple[P.PipeSpec, ...]:
    """The sentence, section and qualifier pipes of ``base``, qualifying the gold spans."""
    getter = P.SortedGroupsGetter((GROUP,))
    keep = {"sentences", "normalizer", *_SECTIONS_AND_QUALIFIERS}
    return tuple(
        (f, n, {**c, "span_getter": getter} if "span_getter" in c else c)
        for f, n, c in base
        if n in keep
    )


def accuracy(nlp: Any, documents: list[Any]) -> dict[str, Any]:
    counts = {q: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for q in GOLD_TO_ATTR}
    for d in documents:
        facts = [f for f in d.facts if f["kind"] == "condition"]
        if not facts:
            continue
        doc = nlp.make_doc(d.text)
        doc.spans[GROUP] = [
            doc.char_span(f["start"], f["end"], "x", alignment_mode="expand") for f in facts
        ]
        for _, pipe in nlp.pipeline:
            doc = pipe(doc)
        for fact, span in zip(facts, doc.spans[GROUP], strict=True):
            for gold, attr in GOLD_TO_ATTR.items():
                truth, guess = bool(fact[gold]), bool(getattr(span._, attr))
                key = ("t" if truth == guess else "f") + ("p" if guess else "n")
                counts[gold][key] += 1
    out: dict[str, Any] = {}
    for q, c in counts.items():
        total = sum(c.values())
        out[q] = {
            "accuracy": round((c["tp"] + c["tn"]) / total, 4),
            "precision": round(c["tp"] / max(1, c["tp"] + c["fp"]), 4),
            "recall": round(c["tp"] / max(1, c["tp"] + c["fn"]), 4),
            "positives": c["tp"] + c["fn"],
            "spans": total,
        }
    return out


def throughput(variant: str, patients: int, seed: int) -> dict[str, Any]:
    """docs/s of the whole pipeline (run in a subprocess by :func:`main`)."""
    definition = P.PIPELINE if variant == "hopia" else raw_definition()
    nlp = P.build_nlp(definition)
    texts = [d.text for d in generate(n_patients=patients, seed=seed).documents]
    list(nlp.pipe(texts[:20]))  # warm-up
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _doc in nlp.pipe(texts):
            pass
        best = min(best, time.perf_counter() - start)
    return {"variant": variant, "docs": len(texts), "docs_per_s": round(len(texts) / best, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--_variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._variant:  # child process of --throughput
        print(json.dumps(throughput(args._variant, args.patients, args.seed)))
        return
    documents = generate(n_patients=args.patients, seed=args.seed).documents
    report: dict[str, Any] = {"seed": args.seed, "documents": len(documents)}
    for variant, base in (("raw_edsnlp", raw_definition()), ("hopia", P.PIPELINE)):
        report[variant] = accuracy(P.build_nlp(qualifier_definition(base)), documents)
    if args.throughput:
        for variant in ("raw_edsnlp", "hopia"):
            cmd = [sys.executable, __file__, "--patients", str(args.patients)]
            cmd += ["--seed", str(args.seed), "--_variant", variant]
            result = subprocess.run(cmd, capture_output=True, text=True, check=True)
            report[f"throughput_{variant}"] = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
