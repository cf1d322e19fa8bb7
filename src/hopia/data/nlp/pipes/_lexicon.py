"""Compiled term lexicons shared by ``hopia.cim10`` and ``hopia.terms``.

A lexicon maps normalised word sequences to entries. Text and terms go through the same
normalisation, so matching is a dict walk, one lookup per word, whatever the lexicon's size:

- words are folded like eds.normalizer's NORM attribute (lower case, no accents; œ → oe);
- light stemming: plural ``-s``/``-x``, ``-aux`` → ``-al``, and up to two final ``-e`` are
  dropped from words of five letters or more ("insuffisances rénales" = "insuffisance rénal");
- words are spaCy's tokens (the edsnlp tokenizer, for terms and notes alike), read from the
  doc's LOWER hash array, each hash normalised once per process;
- hyphens, apostrophes and line-wrapping spaces separate words without breaking a term
  ("post-opératoire" = "post opératoire"); other punctuation and blank lines break it;
- articles and prepositions inside a term are skipped, so "cancer du sein", "cancer de la
  sein" and "cancer sein" are one key.

The compiled table (a flat ``dict[str, int]`` of every term and term prefix, plus the entry
list) is cached under ``<cache_dir>/nlp/`` in a file named after the sha256 of the source files
and of the code that builds it: a change to either writes a new file, stale ones are pruned, a
corrupted one is rebuilt. ``cache_dir`` is the pipe's configuration or, for Hopia's pipeline,
the installation's cache folder handed over by :func:`hopia.data.nlp.pipeline.use_cache_dir`;
without one the table is compiled in memory (a few seconds, once per process). The file holds
builtins only and is read with an unpickler that refuses every class, so loading it cannot run
code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import pickle
import re
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from edsnlp.pipes.base import BaseNERComponent, SpanSetterArg
from spacy.attrs import LOWER
from spacy.tokens import Doc

from hopia.platform.files import write_pickle_atomic
from hopia.platform.text import fold

log = logging.getLogger(__name__)

#: Bumped when the on-disk layout changes (the code hash covers everything else).
FORMAT_VERSION = 1

BREAK = "\x00"  # punctuation and blank lines: no term goes across
SKIP = ""  # hyphens, apostrophes, spaces, articles and prepositions: skipped inside a term
NEWLINE = "\n"  # one line break is skipped, two (a blank line) break
SKIP_WORDS = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "a", "au", "aux", "en"})
_JOINERS = frozenset("-‐‑'’")

_KEY_CACHE: dict[str, str] = {}
_HASH_KEYS: dict[int, str] = {}  # spaCy LOWER hash -> key; hashes are the same in every vocab
_CACHE_MAX = 200_000


def word_key(word: str) -> str:
    """Normalised key of one folded word (see the module docstring)."""
    key = _KEY_CACHE.get(word)
    if key is not None:
        return key
    if word in SKIP_WORDS:
        key = SKIP
    else:
        key = word.replace("œ", "oe").replace("æ", "ae")
        if len(key) >= 5:
            if key.endswith("aux"):
                key = key[:-3] + "al"
            elif key[-1] in "sx":
                key = key[:-1]
            for _ in range(2):
                if len(key) >= 5 and key[-1] == "e":
                    key = key[:-1]
    if len(_KEY_CACHE) >= _CACHE_MAX:
        _KEY_CACHE.clear()
    _KEY_CACHE[word] = key
    return key


def token_key(lower: str) -> str:
    """Key of one token, given its lower-case text."""
    if lower.isspace():
        newlines = lower.count("\n")
        return SKIP if not newlines else NEWLINE if newlines == 1 else BREAK
    if all(ch in _JOINERS for ch in lower):
        return SKIP
    word = fold(lower).rstrip("'’")  # "l'", "d'", "aujourd'"
    if not (word[:1].isalnum()):
        return BREAK
    return word_key(word)


# Tokens that may start a code ("I10", "I50.", or "I" when the tokenizer splits "I10"):
# LOWER hashes, recorded when a hash is first seen, so finding candidates costs a set lookup.
_CODE_START = re.compile(r"[a-z](?:\d{2}.*)?")
CODE_START_HASHES: set[int] = set()


def doc_hashes_keys(doc: Doc) -> tuple[list[int], list[str]]:
    """The LOWER hash and the key of every token of ``doc``; keys are memoised per hash."""
    cache = _HASH_KEYS
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    strings = doc.vocab.strings
    hashes: list[int] = doc.to_array(LOWER).tolist()
    keys: list[str] = []
    append = keys.append
    for h in hashes:
        key = cache.get(h)
        if key is None:
            lower = strings[h]
            key = cache[h] = token_key(lower)
            if _CODE_START.fullmatch(lower):
                CODE_START_HASHES.add(h)
        append(key)
    return hashes, keys


def doc_keys(doc: Doc) -> list[str]:
    """One key per token of ``doc``, from spaCy's LOWER hashes (a C array), memoised."""
    return doc_hashes_keys(doc)[1]


@functools.cache
def _tokenizer() -> Callable[[str], Doc]:
    import edsnlp

    return edsnlp.blank("eds").tokenizer


def term_key(keys: Sequence[str]) -> str | None:
    """The lookup key of a term's token keys, or None when it cannot match."""
    words = [k for k in keys if k not in (SKIP, NEWLINE)]
    if not words or BREAK in words:
        return None
    return " ".join(words)


def ends_on_skip_word(doc: Doc) -> bool:
    """A term whose last word is one the match skips cannot match as itself: "Hépatite A" (the
    letter, read as the preposition "à") would be the key of "hépatite" and code every
    hepatitis as hepatitis A (B15.9); "carence en vitamine A" every "carence en vitamine"."""
    words = [t.lower_ for t in doc if not t.is_space and not t.is_punct]
    return bool(words) and fold(words[-1]) in SKIP_WORDS


@dataclass
class Lexicon:
    """A compiled lexicon.

    ``index`` maps every term key and every proper prefix of one (joined by spaces) to
    ``(entry + 1) << 1 | is_prefix``; ``entries`` are the pipe's own tuples of builtins;
    ``extra`` holds whatever else the pipe needs (e.g. the set of CIM-10 codes).
    """

    index: dict[str, int]
    entries: list[tuple[Any, ...]]
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def compile(
        cls, terms: Iterable[tuple[str, tuple[Any, ...]]], extra: dict[str, Any] | None = None
    ) -> Lexicon:
        """Compile ``(term, entry)`` pairs; the first entry given for a key wins."""
        index: dict[str, int] = {}
        entries: list[tuple[Any, ...]] = []
        entry_ids: dict[tuple[Any, ...], int] = {}
        pairs = list(terms)
        docs = _tokenizer().pipe(term for term, _ in pairs)
        for (_, entry), doc in zip(pairs, docs, strict=True):
            key = None if ends_on_skip_word(doc) else term_key(doc_keys(doc))
            if key is None or index.get(key, 0) >> 1:
                continue
            entry_id = entry_ids.get(entry)
            if entry_id is None:
                entry_id = entry_ids[entry] = len(entries)
                entries.append(entry)
            index[key] = ((entry_id + 1) << 1) | (index.get(key, 0) & 1)
            parts = key.split(" ")
            for n in range(1, len(parts)):
                prefix = " ".join(parts[:n])
                index[prefix] = index.get(prefix, 0) | 1
        return cls(index, entries, extra or {})

    def find(self, keys: Sequence[str]) -> list[tuple[int, int, int]]:
        """Longest matches, left to right, without overlap: ``(start, end, entry)`` in tokens
        (``end`` exclusive)."""
        index = self.index
        n = len(keys)
        out: list[tuple[int, int, int]] = []
        i = 0
        while i < n:
            key = keys[i]
            value = index.get(key)
            if value is None:
                i += 1
                continue
            best, best_end = (value >> 1) - 1, i
            path, j = key, i
            while value & 1:  # a longer term starts here: extend word by word
                j += 1
                newlines = 0
                while j < n and (keys[j] == SKIP or keys[j] == NEWLINE):
                    newlines += keys[j] == NEWLINE
                    j += 1
                if j >= n or newlines > 1:
                    break
                path = f"{path} {keys[j]}"
                value = index.get(path)
                if value is None:
                    break
                if value >> 1:
                    best, best_end = (value >> 1) - 1, j
            if best >= 0:
                out.append((i, best_end + 1, best))
                i = best_end + 1
            else:
                i += 1
        return out

    def find_text(self, text: str) -> list[tuple[int, int, int]]:
        """:meth:`find` on a plain text, in character offsets (tools and tests)."""
        doc = _tokenizer()(text)
        return [
            (doc[a].idx, doc[b - 1].idx + len(doc[b - 1]), e)
            for a, b, e in self.find(doc_keys(doc))
        ]

    def to_builtins(self) -> tuple[Any, ...]:
        return (FORMAT_VERSION, self.index, self.entries, self.extra)

    @classmethod
    def from_builtins(cls, data: Any) -> Lexicon:
        ok = (
            isinstance(data, tuple)
            and len(data) == 4
            and data[0] == FORMAT_VERSION
            and isinstance(data[1], dict)
            and isinstance(data[2], list)
            and isinstance(data[3], dict)
        )
        if not ok:
            raise ValueError("not a compiled lexicon of this version")
        return cls(data[1], data[2], data[3])


# --- on-disk cache ------------------------------------------------------------------------


class _BuiltinsUnpickler(pickle.Unpickler):
    """Reads dicts, lists, tuples, sets, str, int: any class reference is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused: {module}.{name}")


def source_digest(files: Sequence[Path]) -> str:
    """sha256 of the files' names and bytes, the format version, the Python version and the
    edsnlp version (its tokenizer cuts the terms)."""
    stamp = f"{FORMAT_VERSION}:{sys.version_info[:2]}:{version('edsnlp')}"
    h = hashlib.sha256(stamp.encode())
    for f in files:
        h.update(Path(f).name.encode() + b"\0")
        h.update(Path(f).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def lexicon_path(cache_dir: Path, name: str, digest: str) -> Path:
    return Path(cache_dir) / "nlp" / f"lexicon-{name}-{digest[:24]}.pkl"


def _read(path: Path) -> Lexicon:
    data = path.read_bytes()
    return Lexicon.from_builtins(_BuiltinsUnpickler(io.BytesIO(data)).load())


_memo: dict[tuple[str, str], Lexicon] = {}
_memo_lock = threading.Lock()


def load_lexicon(
    name: str,
    files: Sequence[Path],
    build: Callable[[], Lexicon],
    cache_dir: Path | None = None,
) -> Lexicon:
    """The compiled lexicon ``name``, from memory, from the disk cache, or built and stored.

    Parameters
    ----------
    name : file name stem (``cim10``, ``terms``).
    files : the source files AND the modules that build the lexicon: their hash keys the cache.
    build : compiles the lexicon from the sources (slow path).
    cache_dir : the file goes to ``<cache_dir>/nlp/``; None: compiled in memory, not stored.
    """
    digest = source_digest(files)
    with _memo_lock:
        if (name, digest) in _memo:
            return _memo[(name, digest)]
        if cache_dir is None:
            log.info("lexique %s compilé en mémoire (pas de dossier de cache)", name)
            built = _memo[(name, digest)] = build()
            return built
        path = lexicon_path(cache_dir, name, digest)
        lexicon: Lexicon | None = None
        if path.exists():
            try:
                lexicon = _read(path)
            except Exception as exc:  # truncated, foreign or older file: rebuild over it
                log.warning("%s: lexique compilé illisible (%s), reconstruction", path, exc)
        if lexicon is None:
            lexicon = build()
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                write_pickle_atomic(lexicon.to_builtins(), path, private=True)
                for stale in path.parent.glob(f"lexicon-{name}-*.pkl"):
                    if stale != path:
                        stale.unlink(missing_ok=True)
            except OSError as exc:  # read-only installation: work, rebuild next time
                log.warning("%s: lexique compilé non mis en cache (%s)", path, exc)
        _memo[(name, digest)] = lexicon
        return lexicon


def clear_memo() -> None:
    """Forget the lexicons loaded in this process (tests of the disk cache)."""
    with _memo_lock:
        _memo.clear()


# --- component base -----------------------------------------------------------------------


class LexiconComponent(BaseNERComponent):
    """An entity pipe over a compiled lexicon that pickles without it.

    The table is loaded on first use (memory, then disk cache), so the pipeline pickle stays
    small and a warm start reads the compiled file once.
    """

    lexicon_name: str = ""
    #: the installation's cache folder, set at run time (:meth:`use_cache_dir`), not pickled
    _runtime_cache_dir: Path | None = None

    def __init__(
        self,
        nlp: Any = None,
        name: str = "lexicon",
        *,
        span_setter: SpanSetterArg,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(nlp, name, span_setter=span_setter)
        self.cache_dir = cache_dir
        self._lexicon: Lexicon | None = None

    def use_cache_dir(self, cache_dir: Path) -> None:
        """Cache the compiled table under ``cache_dir`` unless the pipe's own ``cache_dir``
        configuration says otherwise."""
        self._runtime_cache_dir = Path(cache_dir)

    def lexicon_files(self) -> list[Path]:
        """Sources and building modules of the lexicon (their hash keys the cache)."""
        raise NotImplementedError

    def build_lexicon(self) -> Lexicon:
        raise NotImplementedError

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = load_lexicon(
                self.lexicon_name,
                self.lexicon_files(),
                self.build_lexicon,
                Path(self.cache_dir) if self.cache_dir else self._runtime_cache_dir,
            )
        return self._lexicon

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lexicon"] = None  # reloaded from the compiled cache on first use
        state.pop("_runtime_cache_dir", None)  # the loader's folder, not the builder's
        return state
