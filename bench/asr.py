"""Dictation speed (issue 14, item 8): real-time factor of Whisper base on 2 cores, Hopia's
whole draft (VAD, loop guard, conventions, NLP, template) against the anchor — faster-whisper
called directly, as its README shows (beam 5, no VAD) — and the memory of each.

    .venv/bin/python bench/asr.py [--repeat 3] [--threads 2] [--seconds 60]

The audio is the evaluation set (``hopia/care/dictation/eval_sentences.txt``) read by espeak-ng
at 150 words per minute, joined into one dictation of about ``--seconds`` seconds. Runs are
interleaved (anchor, Hopia, anchor, Hopia…) so the machine's load hits both alike; the figures
are medians with their range. Each variant runs in its own process, so its peak memory (max
RSS) is its own; the model load is timed apart from the recognition.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
variant, model_dir, audio, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.perf_counter()
if variant == "anchor":
    from faster_whisper import WhisperModel
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads,
                         local_files_only=True)
    loaded = time.perf_counter()
    segments, info = model.transcribe(audio, language="fr", beam_size=5)
    words = sum(len(s.text.split()) for s in segments)
    duration = info.duration
else:
    from hopia.care.dictation.asr import Transcriber
    from hopia.care.dictation.conventions import apply_conventions
    from hopia.care.dictation.structure import structure, template
    from hopia.care.dictation.vocabulary import hint
    from hopia.data.nlp import get_nlp
    from hopia.data.nlp.extract import doc_entities
    from hopia.platform.config import get_settings

    nlp = get_nlp(cache_dir=get_settings().cache_dir)
    t = Transcriber(Path(model_dir), threads=threads, hint=hint())
    loaded = time.perf_counter()
    heard = t.transcribe(Path(audio))
    dictated = apply_conventions(heard.words)
    note = structure(dictated, template("crh"), doc_entities(nlp(dictated.text)))
    words = len(heard.words)
    duration = heard.duration
done = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load": loaded - started, "run": done - loaded, "duration": duration,
                  "words": words, "rss_mb": rss_mb}))
"""


def dictation_audio(folder: Path, seconds: float) -> Path:
    """The evaluation sentences read by espeak-ng, joined up to about ``seconds`` of audio."""
    from hopia.care.dictation.evaluate import SENTENCES, speak

    lines = [
        line.strip()
        for line in SENTENCES.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    frames, params, total = [], None, 0.0
    for k, line in enumerate(lines * 4):
        wav = speak(line, folder / f"{k}.wav", speed=150)
        with wave.open(str(wav)) as r:
            params = r.getparams()
            frames.append(r.readframes(r.getnframes()))
            total += r.getnframes() / r.getframerate()
        if total >= seconds:
            break
    out = folder / "dictation.wav"
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(b"".join(frames))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    from hopia.care.dictation.asr import packaged_model_dir
    from hopia.platform.config import get_settings

    model_dir = packaged_model_dir(get_settings().cache_dir)
    runs: dict[str, list[dict[str, float]]] = {"anchor": [], "hopia": []}
    with tempfile.TemporaryDirectory() as tmp:
        audio = dictation_audio(Path(tmp), args.seconds)
        for _ in range(args.repeat):
            for variant in runs:  # interleaved
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, variant, str(model_dir), str(audio),
                     str(args.threads)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0]
    summary = {}
    for variant, rs in runs.items():
        rtf = [r["run"] / r["duration"] for r in rs]
        summary[variant] = statistics.median(rtf)
        print(
            f"{variant:<7}: RTF {statistics.median(rtf):.3f} (min {min(rtf):.3f}, max "
            f"{max(rtf):.3f}) on {rs[0]['duration']:.0f} s of audio; model load "
            f"{statistics.median(r['load'] for r in rs):.1f} s; max RSS "
            f"{statistics.median(r['rss_mb'] for r in rs):.0f} MB; {rs[0]['words']} words"
        )
    print(
        f"ratio Hopia / anchor (RTF): {summary['hopia'] / summary['anchor']:.2f}; "
        f"threads {args.threads}; load average at the end {load:.1f}"
    )


if __name__ == "__main__":
    main()
