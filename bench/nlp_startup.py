"""NLP start-up: cold build and warm start of EDS-NLP with ``eds.cim10`` vs Hopia's pipeline.

    .venv/bin/python bench/nlp_startup.py [--skip-eds-cim10]

Every measurement is a fresh subprocess that imports, gets its pipeline and processes one
note; the wall time includes the interpreter start. Peak RSS is the child's ``ru_maxrss``.

(1) raw EDS-NLP with ``eds.cim10`` (the base pipes Hopia used before issue 4): built from
    scratch, no cache (cold = first process, warm = second one, OS file cache warm); plus (1p),
    the same pipeline pickled by Hopia's old disk cache and loaded from it;
(2) the same pipes without ``eds.cim10``, built from scratch (cheap);
(3) Hopia's full pipeline (``hopia.data.nlp.pipeline.PIPELINE``) via ``load_or_build``: cold
    (empty cache folder: pipeline built and pickled, lexicons compiled) and warm (cache present);
(3b) the base pipes of (1) with ``hopia.cim10`` + ``hopia.terms`` in place of ``eds.cim10``,
    cold and warm: the start-up cost of this work alone, without the other Hopia pipes.

Target (issue 4, item 7): warm start of the full pipeline <= 3 s and <= 150 MB more than (2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTE = (
    "Motif : dyspnée et douleur thoracique.\n"
    "Antécédents : HTA, diabète de type 2, insuffisance cardiaque congestive (I50.0).\n"
    "Examen : TA à 150/90 mmHg, FC 98 bpm, taille 1m75, MMSE à 22/30. Pas de fièvre.\n"
    "Scanner thoracique : épanchement pleural droit. Traitement : Kardégic 75 mg, "
    "bisoprolol 2,5 mg."
)


def _eds_definition(cim10: str | None, terms: bool = False) -> list:
    """The EDS-NLP base pipes; ``cim10`` is the CIM-10 factory or None."""
    from hopia.data.nlp.pipeline import COMORBIDITIES, SCORES, SortedGroupsGetter

    ner = [
        ("eds.dates", "dates", {"span_setter": {"dates": ["date"], "durations": ["duration"]}}),
        ("eds.quantities", "quantities", {"span_setter": {"quantities": True}}),
        ("eds.drugs", "drugs", {"span_setter": {"drug": True}}),
        *([(cim10, "cim10", {"span_setter": {"cim10": True}})] if cim10 else []),
        *([("hopia.terms", "terms", {"span_setter": {"terms": True}})] if terms else []),
        ("eds.covid", "covid", {"span_setter": {"covid": True}}),
        ("eds.tnm", "tnm", {"span_setter": {"tnm": True}}),
        ("eds.adicap", "adicap", {"span_setter": {"adicap": True}}),
        *((f, n, {"span_setter": {n: True}}) for f, n in SCORES),
        *((f"eds.{n}", n, {"span_setter": {n: True}}) for n in COMORBIDITIES),
    ]
    getter = SortedGroupsGetter(tuple(g for _, _, cfg in ner for g in cfg["span_setter"]))
    return [
        ("eds.sentences", "sentences", {}),
        ("eds.normalizer", "normalizer", {}),
        ("eds.sections", "sections", {}),
        *ner,
        ("eds.negation", "negation", {"span_getter": getter}),
        ("eds.hypothesis", "hypothesis", {"span_getter": getter}),
        ("eds.family", "family", {"span_getter": getter, "use_sections": True}),
        ("eds.history", "history", {"span_getter": getter, "use_sections": True}),
        ("eds.reported_speech", "reported_speech", {"span_getter": getter}),
    ]


def child(mode: str, cache_dir: str) -> dict:
    """One measurement, in this (fresh) process."""
    t0 = time.perf_counter()
    from hopia.data.nlp import pipeline as P

    imported = time.perf_counter()
    source = "built"
    if mode == "eds-cim10":
        nlp = P.build_nlp(_eds_definition("eds.cim10"), speedups=False)
    elif mode == "eds-no-cim10":
        nlp = P.build_nlp(_eds_definition(None), speedups=False)
    elif mode == "eds-cim10-pickled":
        nlp, source = P.load_or_build(Path(cache_dir), _eds_definition("eds.cim10"), speedups=False)
    elif mode == "hopia-base":
        nlp, source = P.load_or_build(Path(cache_dir), _eds_definition("hopia.cim10", True))
    elif mode == "hopia-full":
        nlp, source = P.load_or_build(Path(cache_dir))
    else:
        raise SystemExit(f"mode inconnu : {mode}")
    loaded = time.perf_counter()
    doc = nlp(NOTE)
    done = time.perf_counter()
    return {
        "source": source,
        "import_s": imported - t0,
        "load_s": loaded - imported,
        "first_doc_s": done - loaded,
        "entities": sum(len(doc.spans[g]) for g in doc.spans),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(mode: str, cache_dir: Path) -> dict:
    env = dict(os.environ, HOPIA_CACHE_DIR=str(cache_dir), OMP_NUM_THREADS="1")
    env["TQDM_DISABLE"] = "1"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--cache-dir", str(cache_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{mode}: échec\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def _line(name: str, r: dict) -> str:
    return (
        f"{name:<44} {r['wall_s']:6.1f} s  (import {r['import_s']:4.1f}, "
        f"{r['source']} {r['load_s']:5.1f}, 1st doc {r['first_doc_s']:4.2f})  "
        f"peak RSS {r['peak_rss_mb']:5.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip-eds-cim10", action="store_true", help="skip (1), the slow eds.cim10 builds"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.cache_dir)))
        return

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hopia-bench-nlp-") as tmp:
        base = Path(tmp)
        plan = [
            ("(2) EDS-NLP without cim10, cold", "eds-no-cim10", "none"),
            ("(2) EDS-NLP without cim10, warm", "eds-no-cim10", "none"),
            ("(3b) EDS-NLP + hopia.cim10/terms, cold", "hopia-base", "base"),
            ("(3b) EDS-NLP + hopia.cim10/terms, warm", "hopia-base", "base"),
            ("(3) Hopia full pipeline, cold", "hopia-full", "full"),
            ("(3) Hopia full pipeline, warm", "hopia-full", "full"),
        ]
        if not args.skip_eds_cim10:
            plan = [
                ("(1) EDS-NLP with eds.cim10, cold", "eds-cim10", "none"),
                ("(1) EDS-NLP with eds.cim10, warm", "eds-cim10", "none"),
                ("(1p) EDS-NLP with eds.cim10, pickled", "eds-cim10-pickled", "pickled"),
                ("(1p) EDS-NLP with eds.cim10, pickled", "eds-cim10-pickled", "pickled"),
                *plan,
            ]
        for name, mode, cache in plan:
            results[name] = run(mode, base / cache)  # the second run of a name is the warm one
            print(_line(name, results[name]), flush=True)

    without = results["(2) EDS-NLP without cim10, warm"]
    full = results["(3) Hopia full pipeline, warm"]
    mine = results["(3b) EDS-NLP + hopia.cim10/terms, warm"]
    print()
    print(
        f"(3) warm: {full['wall_s']:.1f} s (target <= 3 s), "
        f"+{full['peak_rss_mb'] - without['peak_rss_mb']:.0f} MB vs (2) (target <= 150 MB)"
    )
    print(
        f"(3b) warm: {mine['wall_s']:.1f} s, "
        f"+{mine['peak_rss_mb'] - without['peak_rss_mb']:.0f} MB vs (2)"
    )
    if "(1) EDS-NLP with eds.cim10, warm" in results:
        eds = results["(1) EDS-NLP with eds.cim10, warm"]
        pickled = results["(1p) EDS-NLP with eds.cim10, pickled"]
        print(
            f"ratios vs (1) warm: time (3) {full['wall_s'] / eds['wall_s']:.2f}, "
            f"(3b) {mine['wall_s'] / eds['wall_s']:.2f}; RSS (3) "
            f"{full['peak_rss_mb'] / eds['peak_rss_mb']:.2f}, "
            f"(3b) {mine['peak_rss_mb'] / eds['peak_rss_mb']:.2f}"
        )
        print(
            f"(1) +{eds['peak_rss_mb'] - without['peak_rss_mb']:.0f} MB vs (2); "
            f"(1p) warm {pickled['wall_s']:.1f} s, "
            f"+{pickled['peak_rss_mb'] - without['peak_rss_mb']:.0f} MB vs (2)"
        )


if __name__ == "__main__":
    main()
