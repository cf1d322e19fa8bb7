"""What the PHI guard lets through (issue 13, item 3): whole synthetic documents pseudonymised as
they would leave for a backend not local, and every gold identifier (the generator's own PHI
annotations, 3 characters or more) searched, as a whole word, in what would be sent.

A hit is counted per gold span; it may also be a coincidence (a shifted date equal to another
real date of the document). The PHI model is on, as by default.

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD/src .venv/bin/python bench/gateway_guard.py --patients 30
"""

from __future__ import annotations

import argparse
import collections
import re
import secrets
import time

from hopia.assistant.guard import PhiGuard
from hopia.assistant.llm.base import ChatMessage
from hopia.data.pseudo import Pseudonymiser
from hopia.data.synth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    guard = PhiGuard(Pseudonymiser(secrets.token_bytes(32), "surrogate"))
    documents = generate(args.patients, args.seed).documents
    total: collections.Counter[str] = collections.Counter()
    sent_through: collections.Counter[str] = collections.Counter()
    examples: list[tuple[str, str]] = []
    started = time.perf_counter()
    for doc in documents:
        sent = guard.protect([ChatMessage("user", doc.text)], "distant").messages[0].content
        for phi in doc.phi:
            value = doc.text[phi["start"] : phi["end"]]
            if len(value) < 3:
                continue
            total[phi["label"]] += 1
            if re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", sent):
                sent_through[phi["label"]] += 1
                examples.append((phi["label"], value))
    seconds = time.perf_counter() - started
    where = f"{args.patients} patients, seed {args.seed}"
    print(f"# {len(documents)} documents ({where}), {seconds:.1f} s")
    print(f"gold identifiers: {sum(total.values())}; found in what was sent: "
          f"{sum(sent_through.values())}")  # fmt: skip
    for label in sorted(total):
        print(f"  {label:15} {sent_through[label]:4} / {total[label]}")
    print("examples:", examples[:12])


if __name__ == "__main__":
    main()
