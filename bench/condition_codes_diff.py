"""Which condition codes a change of the NLP moves, on a synthetic corpus (issue 11, item 3).

    # 1. the corpus, then the condition facts of each code tree (one JSON line per fact)
    .venv/bin/hopia synth -n 100 --seed 42 -o /tmp/synth --no-formats
    PYTHONPATH=<tree before>/src .venv/bin/python bench/condition_codes_diff.py dump \
        /tmp/synth/documents.jsonl /tmp/facts_before.jsonl
    PYTHONPATH=$PWD/src .venv/bin/python bench/condition_codes_diff.py dump \
        /tmp/synth/documents.jsonl /tmp/facts_after.jsonl
    # 2. facts added, removed and recoded, each with its line, for a reviewer
    .venv/bin/python bench/condition_codes_diff.py diff /tmp/synth/documents.jsonl \
        /tmp/facts_before.jsonl /tmp/facts_after.jsonl

A fact is a mention :func:`hopia.data.omop.mapping.target_table` sends to
``condition_occurrence``, with the code :func:`~hopia.data.omop.mapping.coded_concept` gives it
for the document's date, as the ingest writes it (without pseudonymisation: the synthetic text
is read as it is). A tree whose ``coded_concept`` takes no date is called without one.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path


def dump(documents: Path, out: Path) -> int:
    from hopia.data.nlp import extract, get_nlp
    from hopia.data.omop.mapping import coded_concept, target_table
    from hopia.platform.config import get_settings

    docs = [json.loads(line) for line in documents.read_text(encoding="utf-8").splitlines()]
    dated = len(inspect.signature(coded_concept).parameters) > 1
    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        for doc, mentions in zip(
            docs, extract([d["text"] for d in docs], nlp=nlp, batch_size=16), strict=True
        ):
            note_date = date.fromisoformat(doc["date"]) if doc.get("date") else None
            for m in mentions:
                if target_table(m) != "condition_occurrence":
                    continue
                code = coded_concept(m, note_date) if dated else coded_concept(m)
                if code is None:
                    continue
                row = {"doc": doc["id"], "start": m.start, "end": m.end, "text": m.text}
                row |= {"pipe": m.pipe, "code": code[1], "history": m.history}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    print(f"{written} faits de condition écrits dans {out} ({len(docs)} documents)")
    return 0


def _line(text: str, start: int, end: int) -> str:
    """The mention's line, the mention between ⟦ ⟧."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    return f"{text[first:start]}⟦{text[start:end]}⟧{text[end:last]}"


def diff(documents: Path, before: Path, after: Path) -> int:
    docs = {
        (d := json.loads(line))["id"]: d
        for line in documents.read_text(encoding="utf-8").splitlines()
    }

    def load(path: Path) -> dict[tuple[str, int, int], dict]:
        rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
        return {(r["doc"], r["start"], r["end"]): r for r in rows}

    old, new = load(before), load(after)
    removed = [old[k] for k in old if k not in new]
    added = [new[k] for k in new if k not in old]
    recoded = [(old[k], new[k]) for k in old if k in new and old[k]["code"] != new[k]["code"]]
    print(
        f"faits avant {len(old)}, après {len(new)} : {len(removed)} retirés, {len(added)} "
        f"ajoutés, {len(recoded)} recodés"
    )
    kinds = Counter((a["code"], b["code"], a["pipe"]) for a, b in recoded)
    for (code_a, code_b, pipe), n in kinds.most_common():
        print(f"  {n:4d}  {code_a} -> {code_b}  ({pipe})")
    for title, pairs in (
        ("retirés", [(r, None) for r in removed]),
        ("ajoutés", [(None, r) for r in added]),
        ("recodés", recoded),
    ):
        if pairs:
            print(f"\n{title} :")
        for a, b in pairs:
            row = b or a
            doc = docs[row["doc"]]
            codes = f"{a['code'] if a else '-'} -> {b['code'] if b else '-'}"
            line = _line(doc["text"], row["start"], row["end"])
            print(f"  {row['doc']} ({doc.get('date', '?')}) {codes} | {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_dump = sub.add_parser("dump", help="faits de condition d'un corpus synthétique")
    p_dump.add_argument("documents", type=Path)
    p_dump.add_argument("out", type=Path)
    p_diff = sub.add_parser("diff", help="faits retirés, ajoutés, recodés entre deux vidages")
    p_diff.add_argument("documents", type=Path)
    p_diff.add_argument("before", type=Path)
    p_diff.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.documents, args.out)
    return diff(args.documents, args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
