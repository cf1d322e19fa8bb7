"""Cost of pathological inputs on the readers: time, peak memory and what comes out.

    .venv/bin/python bench/bad_inputs.py

Runs the readers only (no NLP, no warehouse) on files built here, so that the same script can
be run by an older checkout's interpreter to compare:

- a 161-byte HL7 message whose text holds ``\\.sp50000000\\`` (skip 50 million lines);
- a JSONL file of three lines whose second is ``[`` nested 100,000 deep;
- a JSONL file whose middle line holds an integer of 5,000 digits.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _hl7(folder: Path) -> Path:
    text = "Début\\.sp50000000\\Fin."
    message = "\r".join(
        [
            "MSH|^~\\&|A|B|C|D|20240305103000||MDM^T02|M1|P|2.5",
            "PID|1||123^^^CHU^PI",
            f"OBX|1|TX|||{text}",
        ]
    )
    path = folder / "sp.hl7"
    path.write_bytes(message.encode())
    return path


def _jsonl(folder: Path, name: str, middle: str) -> Path:
    good = [json.dumps({"id": f"d{i}", "text": "Fièvre à 39 °C."}) for i in (1, 3)]
    path = folder / name
    path.write_text("\n".join([good[0], middle, good[1]]) + "\n", encoding="utf-8")
    return path


def _run(reader: Any, path: Path) -> tuple[str, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        items = list(reader.read(path))
        docs = [i for i in items if hasattr(i, "text")]
        chars = sum(len(d.text) for d in docs)
        outcome = (
            f"{len(docs)} document(s), {chars:,} caractères, {len(items) - len(docs)} échec(s)"
        )
    except Exception as exc:  # noqa: BLE001 - the point is to show what escapes the reader
        outcome = f"exception {type(exc).__name__} : la suite du fichier est perdue"
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return outcome, seconds, peak


def main() -> None:
    from hopia.data.ingest.hl7v2 import Hl7Reader
    from hopia.data.ingest.jsonl import JsonlReader

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [
            ("HL7 \\.sp50000000\\", Hl7Reader(), _hl7(folder)),
            (
                "JSONL, ligne 2 imbriquée 100 000 fois",
                JsonlReader(),
                _jsonl(folder, "deep.jsonl", "[" * 100_000 + "]" * 100_000),
            ),
            (
                "JSONL, ligne 2 : entier de 5 000 chiffres",
                JsonlReader(),
                _jsonl(folder, "int.jsonl", '{"id": "x", "text": "t", "n": ' + "1" * 5000 + "}"),
            ),
        ]
        print("| entrée | taille | résultat | secondes | pic mémoire (Mo) |")
        print("|---|---|---|---|---|")
        for label, reader, path in cases:
            outcome, seconds, peak = _run(reader, path)
            size = path.stat().st_size
            print(f"| {label} | {size} o | {outcome} | {seconds:.3f} | {peak:.1f} |")


if __name__ == "__main__":
    main()
