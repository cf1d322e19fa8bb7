"""Precision audit of the conditions Hopia writes to ``condition_occurrence`` (issue 11, item 3).

    # 1. draw a reproducible sample of 200 conditions, print each in context, write the sample
    .venv/bin/python bench/fact_audit.py sample --warehouse .hopia/demo/warehouse.duckdb \
        --n 200 --seed 11 --out bench/fact_audit/sample_after.csv
    # 2. a clinician fills verdict (correct | wrong) and comment in a copy of it, the review file
    # 3. precision per source pipe (Wilson 95 % interval)
    .venv/bin/python bench/fact_audit.py score bench/fact_audit/review_after.csv

Each sampled row is a fact written by NLP: ``condition_occurrence`` joined through
``hopia_provenance`` to its ``note_nlp`` mention (offset, pipe, qualifiers) and to the
pseudonymised note (``omop.note``), which gives the context: the mention's line, between ⟦ ⟧,
with the lines around it. Only the research space is read; the demo corpus is synthetic.

A mention is *correct* when a clinician would sign the coded fact for this patient: it is
stated in the clinical text (not a letterhead, signature, heading or administrative line),
affirmed and about the patient, and the code says what the words say (not a broader Charlson
item standing for another disease, not the same words coded twice).

The review file is the sample file with ``verdict`` and ``comment`` filled; ``score`` reads
``mention_id``, ``pipe`` and ``verdict`` from it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

FIELDS = (
    "mention_id",
    "pipe",
    "code",
    "concept_name",
    "mention",
    "section",
    "history",
    "document_type",
    "context",
    "same_words",
    "verdict",
    "comment",
)
CONTEXT_LINES = 2  # lines shown before and after the mention's line


def _rows(url: str) -> list[dict]:
    from sqlalchemy import text

    from hopia.platform.warehouse import Warehouse

    wh = Warehouse(url, migrate=False)
    query = text(
        """
        SELECT co.condition_occurrence_id AS row_id, c.vocabulary_id, c.concept_code,
               c.concept_name, nn.note_id, nn."offset" AS span, nn.lexical_variant,
               nn.term_modifiers, n.note_text, n.note_title, n.note_source_value
        FROM omop.condition_occurrence co
        JOIN omop.hopia_provenance p
          ON p.table_name = 'condition_occurrence' AND p.row_id = co.condition_occurrence_id
        JOIN omop.note_nlp nn ON nn.note_nlp_id = p.note_nlp_id
        JOIN omop.note n ON n.note_id = nn.note_id
        LEFT JOIN omop.concept c ON c.concept_id = co.condition_concept_id
        ORDER BY co.condition_occurrence_id
        """
    )
    with wh.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _context(text: str, start: int, end: int) -> str:
    lines = text.split("\n")
    pos, index = 0, 0
    for index, line in enumerate(lines):  # noqa: B007  (index is used after the loop)
        if pos + len(line) >= start:
            break
        pos += len(line) + 1
    here = lines[index]
    lo = start - pos
    hi = min(len(here), end - pos)
    marked = f"{here[:lo]}⟦{here[lo:hi]}⟧{here[hi:]}"
    before = lines[max(0, index - CONTEXT_LINES) : index]
    after = lines[index + 1 : index + 1 + CONTEXT_LINES]
    return " ⏎ ".join(s.strip() for s in [*before, marked, *after])


def sample(url: str, n: int, seed: int, out: Path) -> None:
    rows = _rows(url)
    if not rows:
        sys.exit("aucune condition écrite par le NLP dans cet entrepôt")
    picked = random.Random(seed).sample(rows, min(n, len(rows)))
    picked.sort(key=lambda r: r["row_id"])
    # other conditions written from the same note on overlapping words: a second fact for the
    # same mention shows here (the reviewer need not trust the pipe to tell)
    by_note: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for r in rows:
        s, e = (int(x) for x in r["span"].split("-"))
        by_note[r["note_id"]].append(
            (s, e, f"{r['vocabulary_id']}:{r['concept_code']}", r["row_id"])
        )
    records = []
    for r in picked:
        start, end = (int(x) for x in r["span"].split("-"))
        modifiers = json.loads(r["term_modifiers"] or "{}")
        code = f"{r['vocabulary_id']}:{r['concept_code']}"
        records.append(
            {
                # stable across rebuilds of the same corpus: note, offsets and code
                "mention_id": f"{r['note_id']}:{start}-{end}:{r['concept_code']}",
                "pipe": modifiers.get("pipe", "?"),
                "code": code,
                "concept_name": r["concept_name"],
                "mention": r["note_text"][start:end],
                "section": modifiers.get("section") or "",
                "history": modifiers.get("history"),
                "document_type": r["note_title"] or r["note_source_value"] or "",
                "context": _context(r["note_text"], start, end),
                "same_words": " ".join(
                    sorted(
                        code
                        for s, e, code, row_id in by_note[r["note_id"]]
                        if row_id != r["row_id"] and s < end and start < e
                    )
                ),
                "verdict": "",
                "comment": "",
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(records)
    for i, rec in enumerate(records, 1):
        print(f"[{i:3d}] {rec['mention_id']}  {rec['pipe']}  {rec['code']} {rec['concept_name']}")
        print(f"      {rec['context']}")
        if rec["same_words"]:
            print(f"      mêmes mots : {rec['same_words']}")
    print(f"{len(records)} conditions sur {len(rows)} tirées (graine {seed}) -> {out}")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def score(review: Path) -> dict[str, tuple[int, int]]:
    """Per pipe: (correct, reviewed). Refuses a review with a missing or unknown verdict."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with review.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), 2):
            verdict = (row.get("verdict") or "").strip().lower()
            if verdict not in ("correct", "wrong"):
                sys.exit(f"{review}:{line}: verdict « {verdict} » (correct ou wrong attendu)")
            for key in (row["pipe"], "(toutes)"):
                counts[key][1] += 1
                counts[key][0] += verdict == "correct"
    result = {k: (v[0], v[1]) for k, v in counts.items()}
    print(f"{'pipe':30s} {'justes':>7s} {'revues':>7s} {'précision':>10s}  IC 95 % (Wilson)")
    for key in sorted(result, key=lambda k: (k == "(toutes)", -result[k][1], k)):
        k, n = result[key]
        lo, hi = wilson(k, n)
        print(f"{key:30s} {k:7d} {n:7d} {k / n:10.3f}  [{lo:.3f} ; {hi:.3f}]".replace(".", ","))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="draw and print a sample, write it as a CSV")
    s.add_argument("--warehouse", type=Path, default=Path(".hopia/demo/warehouse.duckdb"))
    s.add_argument("--url", help="a warehouse URL instead of a DuckDB file")
    s.add_argument("--n", type=int, default=200)
    s.add_argument("--seed", type=int, default=11)
    s.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("score", help="precision per source pipe from a review file")
    r.add_argument("review", type=Path)
    args = parser.parse_args()
    if args.command == "sample":
        url = args.url or f"duckdb:///{args.warehouse.resolve()}"
        sample(url, args.n, args.seed, args.out)
    else:
        score(args.review)


if __name__ == "__main__":
    main()
