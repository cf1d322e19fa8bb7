"""Defer the compilation of spaCy's French ``TOKEN_MATCH`` regex until it is first used.

``spacy.lang.fr.tokenizer_exceptions`` compiles, at import time, one 1.4 MB regular expression
(hyphenated and elided French words) that takes about 2 s. EDS-NLP's ``eds`` language imports
``spacy.lang.fr`` for its defaults but tokenises with its own ``EDSTokenizer``, which never calls
that regex: every Hopia process that loads the NLP pipeline paid 2 s for nothing (half of the warm
start, issue 4 item 7).

:func:`install` adds an import hook for that one module: while the module executes, a pattern
longer than :data:`LAZY_MIN_CHARS` gets a :class:`LazyPattern` instead of a compiled one. The
object compiles on first use and then behaves as the compiled pattern (``match`` is a real bound
method, so spaCy's tokenizer serialisation still reads ``token_match.__self__.pattern``). A
French tokenizer (``spacy.blank("fr")``) therefore tokenises exactly as before, it just pays the
compile on its first document instead of at import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
import threading
from types import ModuleType
from typing import Any

TARGET = "spacy.lang.fr.tokenizer_exceptions"
LAZY_MIN_CHARS = 100_000  # only the one huge pattern; every ordinary regex compiles as usual


class LazyPattern:
    """A ``re.Pattern`` stand-in compiled on first use (thread-safe)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def _get(self) -> re.Pattern[str]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = _ORIGINAL_COMPILE(self.pattern, self._flags)
        return self._compiled

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def match(self, string: str, *args: Any) -> re.Match[str] | None:
        return self._get().match(string, *args)

    def __getattr__(self, name: str) -> Any:  # flags, search, fullmatch, sub...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._get(), name)

    def __reduce__(self) -> tuple:  # pickles as the real pattern would
        return (_ORIGINAL_COMPILE, (self.pattern, self._flags))


_ORIGINAL_COMPILE = re.compile


def _lazy_compile(pattern: Any, flags: int = 0) -> Any:
    if isinstance(pattern, str) and len(pattern) >= LAZY_MIN_CHARS:
        return LazyPattern(pattern, flags)
    return _ORIGINAL_COMPILE(pattern, flags)


class _DeferringLoader(importlib.abc.Loader):
    def __init__(self, wrapped: importlib.abc.Loader) -> None:
        self._wrapped = wrapped

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        re.compile = _lazy_compile  # type: ignore[assignment]
        try:
            self._wrapped.exec_module(module)  # type: ignore[attr-defined]
        finally:
            re.compile = _ORIGINAL_COMPILE  # type: ignore[assignment]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Any, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _DeferringLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Install the hook (idempotent; a no-op once spaCy's French module is already imported)."""
    if TARGET in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
