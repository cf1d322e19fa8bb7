"""Build the common-word lexicon of the PHI model's focus (:mod:`hopia.data.pseudo.focus`).

    .venv/bin/python scripts/build_focus_lexicon.py [--cache DIR]

The focus skips the model on a line only when every word of it is a known common French or
medical word that is not a name; this script writes that word list, from general sources only
(never from the synthetic CHU's generator, whose vocabulary would flatter the bench):

- the French dictionary of ``pyspellchecker`` (pinned below, fetched with ``pip download
  --no-deps`` into ``--cache``, checked against its SHA-256, read in place, never installed):
  word forms of the OpenSubtitles 2018 frequency lists, cleaned by the package;
- the conjugated verb forms and the ADICAP pathology labels of EDS-NLP
  (``edsnlp/resources/verbs.csv.gz``, ``adicap.json.gz``; edsnlp is pinned by constraints.txt);
- the words of the QUAERO French medical corpus (MEDLINE titles and EMEA drug leaflets, every
  ``*.txt`` under ``--quaero``, default ``../shared/data/quaero``; GNU FDL): medical words of
  general use (analytes, drugs, procedures) that a spelling dictionary lacks. Only the word
  forms are kept, no text.

Every word that is a first name, a surname or a commune of the gazetteers and is not flagged
ambiguous (a common word too) is left out; the focus also checks the gazetteers at run time,
so a name added to them later still sends its line to the model. Output:
``src/hopia/data/pseudo/focus_words.txt`` (folded words, one a line, sorted).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hopia.data.pseudo.gazetteer import AMBIGUOUS, load  # noqa: E402
from hopia.platform.text import fold  # noqa: E402 - the runtime's folding, so keys agree

OUT = REPO / "src" / "hopia" / "data" / "pseudo" / "focus_words.txt"
SPELL = ("pyspellchecker", "0.9.1", "pyspellchecker-0.9.1-py3-none-any.whl")
SPELL_SHA256 = "c79b144b4bad20024bf489ad3ffd96b76f3f53439e9fa59ac607896352852f3d"
_WORD = re.compile(r"[^\W\d_]{3,}")  # the focus ignores words of one or two letters


def fetch(cache: Path) -> Path:
    name, version, filename = SPELL
    path = cache / filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(cache)]
            + [f"{name}=={version}"],
            check=True,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SPELL_SHA256:
        sys.exit(f"{path.name}: SHA-256 {digest} differs from the pinned {SPELL_SHA256}")
    return path


def spell_words(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        counts = json.loads(gzip.decompress(z.read("spellchecker/resources/fr.json.gz")))
    return {w for word in counts for w in _WORD.findall(fold(word))}


def verb_forms() -> set[str]:
    import edsnlp

    path = Path(edsnlp.__file__).parent / "resources" / "verbs.csv.gz"
    rows = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()[1:]
    return {w for row in rows for w in _WORD.findall(fold(row.rsplit(",", 1)[-1]))}


def adicap_words() -> set[str]:
    import edsnlp

    path = Path(edsnlp.__file__).parent / "resources" / "adicap.json.gz"
    out: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            out.update(_WORD.findall(fold(node)))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(gzip.decompress(path.read_bytes())))
    return out


def corpus_words(folder: Path) -> set[str]:
    files = sorted(folder.rglob("*.txt"))
    if not files:
        sys.exit(f"{folder}: no *.txt (give the QUAERO folder with --quaero)")
    return {w for f in files for w in _WORD.findall(fold(f.read_text(encoding="utf-8")))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(".hopia-cache/lexicon-sources"))
    parser.add_argument("--quaero", type=Path, default=REPO.parent / "shared/data/quaero")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    words = spell_words(fetch(args.cache)) | verb_forms() | adicap_words()
    words |= corpus_words(args.quaero)
    g = load()
    names = {
        k
        for table in (g.first_names, g.surnames)
        for k, code in table.items()
        if not code & AMBIGUOUS
    }
    names |= {k for k, c in g.communes.items() if not c.ambiguous}
    kept = sorted(w for w in words if w not in names)
    header = (
        "# folded common French words, not names: pyspellchecker 0.9.1 fr (OpenSubtitles 2018\n"
        "# frequency lists), EDS-NLP verb forms and ADICAP labels, QUAERO word forms; minus the\n"
        "# gazetteers' unambiguous names and communes. Built by scripts/build_focus_lexicon.py\n"
    )
    args.out.write_text(header + "\n".join(kept) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(kept)} words ({len(words) - len(kept)} names left out)")  # noqa: T201


if __name__ == "__main__":
    main()
