"""Cross-source evaluation of the PHI detector: train on some sources, score on one never seen.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pseudo_cross_source.py \\
        --shared ../shared/data/pseudo [--synth-patients 60] [--max-minutes 3] [--json out.json]

Sources: the project's synthetic CHU (``hopia synth``; trained on seed ``--train-seed``, scored on
a CHU of another seed, ``--eval-seed``), the eds-pseudo synthetic file and the eds-pseudo public
file. Each cell trains a PHI model (the same trainer as ``hopia pseudo train``, bounded by
``--max-minutes``) on its training sources, then scores rules + gazetteers + that model on the
held-out source, every note of it. Rows:

- rules + gazetteers only (no model): a reference that learns nothing from any source;
- CHU -> each eds-pseudo file; CHU + one eds-pseudo file -> the other; both eds-pseudo files ->
  the CHU.

The three sources share the 13 eds-pseudo labels (NOM, PRENOM, DATE, DATE_NAISSANCE, ADRESSE,
VILLE, ZIP, TEL, MAIL, SECU, IPP, NDA, HOPITAL): no label mapping is needed, and the headline
figures (redaction recall, precision, fully redacted documents) are per character and ignore
labels anyway. The detector gets the text only (no known identity, no staff list), as for a
document from elsewhere. Training notes of an eds-pseudo file are its non-held-out part (the
trainer never learns the held-out 20 %), which changes nothing here: it is scored on another
source. Models are written under a temporary folder, never into the package.

The eds-pseudo public file is the test source (docs/benchmarks.md, "Pseudonymisation out of
distribution"): its headline cell is "CHU + eds-pseudo synthetic -> eds-pseudo public" (the
shipped model was trained on part of the public file, so it cannot give that figure). Train
cells with ``--train-only`` (no evaluation file is read) and ``--keep-models``, develop with
``--eval eds_synth,chu``, and score the test source once, reusing the kept models.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

SECRET = b"bench-pseudo-cross-source"
CHU = "chu"
FILES = {
    "eds_synth": "eds_pseudo_synthetic_train.jsonl",
    "eds_public": "eds_pseudo_public_small_train.jsonl",
}
NAMES = {
    CHU: "CHU synthétique",
    "eds_synth": "eds-pseudo synthétique",
    "eds_public": "eds-pseudo public",
}
# (training sources, evaluated source); () = rules and gazetteers only
CELLS: list[tuple[tuple[str, ...], str]] = [
    ((), "eds_synth"),
    ((), "eds_public"),
    ((), CHU),
    ((CHU,), "eds_synth"),
    ((CHU,), "eds_public"),
    ((CHU, "eds_synth"), "eds_public"),
    ((CHU, "eds_public"), "eds_synth"),
    (("eds_synth", "eds_public"), CHU),
]


def chu_gold(patients: int, seed: int) -> list[Any]:
    """The documents of a synthetic CHU as gold documents, without identity or staff."""
    from hopia.data.pseudo.evaluate import GoldSpan, PhiGoldDoc
    from hopia.data.synth import generate

    corpus = generate(patients, seed)
    return [
        PhiGoldDoc(
            d.id,
            d.text,
            tuple(sorted(GoldSpan(p["start"], p["end"], p["label"]) for p in d.phi)),
            source=CHU,
        )
        for d in corpus.documents
    ]


def train_cell(
    sources: tuple[str, ...], shared: Path, args: argparse.Namespace, work: Path
) -> tuple[Path, dict[str, Any]]:
    """A model trained on ``sources`` (bounded), written under ``work``."""
    from hopia.data.pseudo.model import DEFAULT_ARCH
    from hopia.data.pseudo.train import PhiTrainConfig, train_model
    from hopia.services.pseudo import synth_notes

    name = "+".join(sources)
    folder = work / f"shared-{name}"
    folder.mkdir(exist_ok=True)
    for s in sources:
        if s != CHU and not (folder / FILES[s]).exists():
            (folder / FILES[s]).symlink_to((shared / FILES[s]).resolve())
    arch = {k: v for k, v in (("width", args.width), ("depth", args.depth)) if v is not None}
    config = PhiTrainConfig(
        shared=folder if any(s != CHU for s in sources) else None,
        synth_patients=args.synth_patients if CHU in sources else 0,
        seed=args.train_seed,
        max_minutes=args.max_minutes,
        max_epochs=args.max_epochs,
        arch={**DEFAULT_ARCH, **arch},
        augment_shared=args.augment_shared,
    )
    synth = synth_notes(config.synth_patients, config.seed) if CHU in sources else []
    out = work / f"model-{name}"
    if out.is_dir():  # kept by an earlier run (--keep-models): scored again, not retrained
        print(f"  [{name}] modèle existant réutilisé : {out}", flush=True)
        return out, json.loads((out / "meta.json").read_text()).get("hopia", {})
    meta = train_model(out, config, synth=synth, log=lambda m: print(f"  [{name}] {m}", flush=True))
    return out, meta


def score(gold: list[Any], model_path: Path | None, focus: bool = False) -> dict[str, Any]:
    from hopia.data.pseudo import Pseudonymiser
    from hopia.data.pseudo import evaluate as ev
    from hopia.data.pseudo.model import PhiModel

    ps = Pseudonymiser(SECRET, use_model=model_path is not None, model_focus=focus)
    if model_path is not None:
        ps._model = PhiModel.load(model_path)  # noqa: SLF001 - the cell's model, not the shipped one
    report = ev.evaluate(lambda d: ps.detect(d.text), gold)
    return {
        "documents": report.documents,
        "redaction_recall": report.redaction_recall,
        "redaction_precision": report.redaction_precision,
        "fully_redacted": report.fully_redacted,
        "docs_with_phi": report.docs_with_phi,
        "docs_fully_redacted": report.docs_fully_redacted,
        "docs_per_second": report.docs_per_second,
        "per_label_char_recall": {
            k: v.char_recall for k, v in sorted(report.labels.items()) if v.active
        },
    }


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}".replace(".", ",")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, required=True, help="folder of the eds-pseudo files")
    parser.add_argument("--synth-patients", type=int, default=60)
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--eval-seed", type=int, default=7)
    parser.add_argument("--eval-patients", type=int, default=40)
    parser.add_argument("--max-minutes", type=float, default=3.0)
    parser.add_argument("--max-epochs", type=int, default=12)
    parser.add_argument("--rules-only", action="store_true", help="only the rows without model")
    parser.add_argument(
        "--train",
        default=None,
        help="only the cells trained on these sources, comma-separated ('chu', "
        "'chu+eds_synth'; 'none' for the rules rows), e.g. 'none,chu'",
    )
    parser.add_argument(
        "--eval",
        default=None,
        help="only the cells evaluated on these sources, comma-separated (chu, eds_synth, "
        "eds_public): while developing, leave out the test source (eds_public)",
    )
    parser.add_argument(
        "--keep-models",
        type=Path,
        default=None,
        help="write the trained models under this folder (kept after the run) instead of a "
        "temporary one; a model already there is scored again, not retrained",
    )
    parser.add_argument("--width", type=int, default=None, help="CNN width (default: shipped)")
    parser.add_argument("--depth", type=int, default=None, help="CNN depth (default: shipped)")
    parser.add_argument(
        "--focus",
        action="store_true",
        help="also score each model row with the model on unexplained lines only",
    )
    parser.add_argument(
        "--augment-shared",
        type=float,
        default=0.0,
        help="share of the training eds-pseudo notes also given a variant (case, titles, "
        "lists, hospitals, towns), as the CHU's notes are",
    )
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="train (or reuse) the selected cells' models and score nothing: lets a cell whose "
        "evaluated source is the test source be trained before its one final run",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from hopia.data.pseudo import evaluate as ev

    wanted = set(args.eval.split(",")) if args.eval else {CHU, *FILES}
    unknown = wanted - {CHU, *FILES}
    if unknown:
        parser.error(f"--eval : source(s) inconnue(s) : {', '.join(sorted(unknown))}")
    # --train-only reads no evaluation file at all (the test source stays unopened)
    gold: dict[str, list[Any]] = {
        s: ev.load_gold(args.shared / f)
        for s, f in FILES.items()
        if s in wanted and not args.train_only
    }
    if CHU in wanted and not args.train_only:
        gold[CHU] = chu_gold(args.eval_patients, args.eval_seed)
    print(
        f"machine : {platform.processor() or platform.machine()}, {os.cpu_count()} cœurs, "
        f"Python {platform.python_version()}"
    )
    print(
        "sources : "
        + ", ".join(f"{NAMES[s]} {len(d)} documents" for s, d in gold.items())
        + f" (CHU évalué : graine {args.eval_seed}, {args.eval_patients} patients)"
    )
    cells = [c for c in CELLS if not (args.rules_only and c[0]) and c[1] in wanted]
    if args.train:
        wanted_train = {"" if t == "none" else t for t in args.train.split(",")}
        cells = [c for c in cells if "+".join(c[0]) in wanted_train]
    rows: list[dict[str, Any]] = []
    models: dict[tuple[str, ...], tuple[Path, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="hopia-cross-") as tmp:
        work = Path(tmp)
        if args.keep_models:
            work = args.keep_models
            work.mkdir(parents=True, exist_ok=True)
        for sources, target in cells:
            model = None
            if sources:
                if sources not in models:
                    t0 = time.monotonic()
                    models[sources] = train_cell(sources, args.shared, args, work)
                    print(f"  entraînement {'+'.join(sources)} : {time.monotonic() - t0:.0f} s")
                model = models[sources][0]
            meta = models[sources][1] if sources else {}
            if args.train_only:
                continue
            for focus in (False, True) if model is not None and args.focus else (False,):
                t0 = time.process_time()
                result = score(gold[target], model, focus)
                row = {
                    "train": list(sources),
                    "eval": target,
                    "focus": focus,
                    **result,
                    "cpu_ms_per_doc": 1000 * (time.process_time() - t0) / len(gold[target]),
                    "training_seconds": meta.get("training_seconds"),
                    "epochs_run": meta.get("epochs_run"),
                    "stopped_by": meta.get("stopped_by"),
                }
                rows.append(row)
                print(_line(row), flush=True)

    print()
    print(
        "| Entraînement | Évaluation (jamais vue) | Documents | Rappel de masquage | "
        "Précision de masquage | Documents entièrement masqués |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        train = " + ".join(NAMES[s] for s in row["train"]) or "aucun (règles et gazetteers seuls)"
        if row["focus"]:
            train += " (modèle sur les lignes inexpliquées)"
        print(
            f"| {train} | {NAMES[row['eval']]} | {row['documents']} | "
            f"{_f(row['redaction_recall'])} | {_f(row['redaction_precision'])} | "
            f"{_f(row['fully_redacted'])} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows},
                indent=1,
                ensure_ascii=False,
            )
            + "\n"
        )


def _line(row: dict[str, Any]) -> str:
    train = "+".join(row["train"]) or "règles"
    if row["focus"]:
        train += " (focus)"
    return (
        f"{train:>22} -> {row['eval']:<10} rappel {_f(row['redaction_recall'])}  "
        f"précision {_f(row['redaction_precision'])}  entièrement masqués "
        f"{_f(row['fully_redacted'])} ({row['docs_fully_redacted']}/{row['docs_with_phi']}), "
        f"{row['cpu_ms_per_doc']:.1f} ms CPU/doc"
    )


if __name__ == "__main__":
    sys.exit(main())
