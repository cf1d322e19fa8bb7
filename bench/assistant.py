"""The embedded models on this machine's CPU: time to first token and tokens per second.

    .venv/bin/python bench/assistant.py [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b]
        [--repeats 5] [--max-tokens 96] [--threads 2] [--json out.json]

Per packaged model (skipped, saying so, when its packages are not installed; `make llm`): the
model is assembled (not timed) and loaded (timed once), one warm-up answer is thrown away, then
``--repeats`` answers to the same French prompt (≈150 tokens with the chat template), streamed at
temperature 0 through :class:`hopia.assistant.llm.embedded.EmbeddedBackend`, the model's state
reset before each one so that no answer reuses the previous prompt's cache. Reported, median
and range over the repeats:

- time to first token (TTFT): from the call to the first piece of text, prompt processing
  included (prompt tokens / TTFT is the prompt rate);
- decode rate: completion tokens after the first / time from the first piece to the last;
- end-to-end rate: completion tokens / whole answer time.

The load average before and after is recorded with the figures: on a shared machine they are
"under load" and only orders of magnitude. (The retrieval figures are in bench/retrieval.py.)
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
from statistics import median
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

PROMPT = (
    "Voici un extrait de protocole de service. « Avant toute administration d'anticoagulant, "
    "l'infirmier vérifie la prescription, le poids du patient, la dernière valeur de "
    "plaquettes et la fonction rénale (clairance de la créatinine). En cas de clairance "
    "inférieure à 30 ml/min, il alerte le médecin avant d'administrer. Toute administration "
    "est tracée dans le dossier de soins avec l'heure et le site d'injection. » "
    "Résume ce protocole en trois points courts, en français."
)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": median(values), "min": min(values), "max": max(values)}


def bench_model(name: str, cache_dir: Path, repeats: int, max_tokens: int, threads: int) -> dict:
    from hopia.assistant.llm import embedded, packaged
    from hopia.assistant.llm.base import ChatMessage
    from hopia.assistant.llm.embedded import EmbeddedBackend

    model = packaged.get(name)
    missing = packaged.missing_packages(model)
    if missing:
        return {"model": name, "skipped": f"packages not installed: {missing[0]}… (make llm)"}
    path = packaged.ensure(model, cache_dir)
    backend = EmbeddedBackend(name, path, model=name, n_threads=threads, n_ctx=4096)
    started = time.perf_counter()
    info = backend.runtime_info()  # loads the model
    load_s = time.perf_counter() - started
    messages = [ChatMessage("user", PROMPT)]

    def answer() -> dict[str, Any]:
        with embedded._LOCK:  # a cold prompt each time: no KV-cache reuse between answers
            backend._llama().reset()
        t0 = time.perf_counter()
        first = None
        text = []
        usage = None
        for delta in backend.stream(messages, max_tokens=max_tokens, temperature=0):
            if delta.text:
                first = first or time.perf_counter()
                text.append(delta.text)
            if delta.done:
                usage = delta.usage
        end = time.perf_counter()
        assert usage is not None and first is not None
        return {
            "ttft_s": first - t0,
            "decode_tok_s": (usage.completion_tokens - 1) / max(end - first, 1e-9),
            "e2e_tok_s": usage.completion_tokens / (end - t0),
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "text": "".join(text),
        }

    answer()  # warm-up: page the weights in
    load_before = _loadavg()
    runs = [answer() for _ in range(repeats)]
    return {
        "model": name,
        "title": model.title,
        "threads": info.n_threads,
        "threads_batch": info.n_threads_batch,
        "n_ctx": info.n_ctx,
        "load_s": load_s,
        "prompt_tokens": runs[0]["prompt_tokens"],
        "completion_tokens": [r["completion_tokens"] for r in runs],
        "ttft_s": _spread([r["ttft_s"] for r in runs]),
        "decode_tok_s": _spread([r["decode_tok_s"] for r in runs]),
        "e2e_tok_s": _spread([r["e2e_tok_s"] for r in runs]),
        "same_text_every_time": len({r["text"] for r in runs}) == 1,
        "sample": runs[0]["text"][:300],
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a temporary one")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from hopia.assistant.llm.embedded import llama_available

    if not llama_available():
        sys.exit("llama-cpp-python (extra llm) is not installed: make llm")
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        results = []
        for name in args.models.split(","):
            result = bench_model(name, cache_dir, args.repeats, args.max_tokens, args.threads)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "sample"}, default=str))
    report = {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "repeats": args.repeats,
        "max_tokens": args.max_tokens,
        "results": results,
    }
    print()
    print(
        "| model | threads | load (s) | prompt tok | TTFT median (range) s | decode tok/s | "
        "end-to-end tok/s | load avg before → after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        if "skipped" in r:
            print(f"| {r['model']} | skipped: {r['skipped']} | | | | | | |")
            continue
        t, d, e = r["ttft_s"], r["decode_tok_s"], r["e2e_tok_s"]
        print(
            f"| {r['model']} | {r['threads']} | {r['load_s']:.1f} | {r['prompt_tokens']} | "
            f"{t['median']:.2f} ({t['min']:.2f}–{t['max']:.2f}) | "
            f"{d['median']:.1f} ({d['min']:.1f}–{d['max']:.1f}) | "
            f"{e['median']:.1f} ({e['min']:.1f}–{e['max']:.1f}) | "
            f"{r['loadavg_before']} → {r['loadavg_after']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
