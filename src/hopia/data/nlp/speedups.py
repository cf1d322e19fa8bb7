"""Two speed-ups of EDS-NLP's own pipes, each with identical output (issue 4, item 9).

1. **Regex prefilter.** Most of ``eds.dates``' time (13 ms of a 28 ms note on the ingest
benchmark, half of raw EDS-NLP) goes into patterns that open with zero-width assertions, e.g.
``(?<=\\b(depuis|à partir du|…)\\b.{,3})?(?<!…)(day)(month)(year)``. The regex engine evaluates
those variable-width look-behinds at *every* position of the text before it even looks for a
digit or a month name.

:class:`PrefilteredPattern` splits such a pattern into its leading assertions and the rest. It
searches the rest (cheap: it fails fast on the first character), and at each candidate start
runs the full pattern anchored there. Matches are the same objects ``finditer`` would yield:

- the assertions are zero-width, so the full pattern can only match at a position where the
  rest matches — positions the rest skips are positions the full pattern fails at;
- at a candidate, ``full.match(text, start)`` is the full engine at that very position (the
  look-behinds see the text before it), hence the same span and the same groups;
- a candidate the full pattern rejects (a negative look-behind) resumes the search one
  character further, as ``finditer`` would.

A pattern whose rest refers back to a group (``\\1``, ``(?P=name)``) or does not compile alone
is left as it is. :func:`prefilter_pipeline` wraps the patterns of every ``RegexMatcher`` of a
pipeline.

2. **Text cache.** EDS-NLP rebuilds a doc's normalised text (``aggregate_tokens``) behind an
``lru_cache(32)`` keyed by doc and options. ``nlp.pipe`` runs each pipe over a whole batch, so a
batch of 32 docs with several text variants evicts every entry before the next pipe asks again
(~6 ms a note). :func:`enlarge_text_cache` gives it room for a batch: what one doc processed
alone (``nlp(text)``) already gets. The cache holds its docs alive, so a cached id never
belongs to another doc.

:func:`speed_up` applies both; the tests check the whole pipeline's output is unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import regex

TEXT_CACHE_SIZE = 512  # 32-doc batches x the text variants the pipes ask for, with room

_ASSERTIONS = ("(?<=", "(?<!", "(?=", "(?!")
_GLOBAL_FLAGS = re.compile(r"\(\?[a-zA-Z]+\)")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=|\\g<|\(\?\d|\(\?&|\(\?R\)")


def _group_end(pattern: str, start: int) -> int:
    """Index just after the parenthesis closing the group opened at ``start``."""
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            i += 1  # a "]" right after "[" or "[^" is a literal
            if i < len(pattern) and pattern[i] == "^":
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                i += 1
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced group")


def split_leading_assertions(pattern: str) -> tuple[str, str, str]:
    """``(flags, assertions, rest)``: inline global flags, the leading zero-width assertions
    (each optionally followed by ``?``), and the remainder of ``pattern``."""
    flags = ""
    i = 0
    while m := _GLOBAL_FLAGS.match(pattern, i):
        flags += m.group()
        i = m.end()
    start = i
    while pattern.startswith(_ASSERTIONS, i):
        j = _group_end(pattern, i)
        if pattern.startswith(("??", "?+", "*", "+", "{"), j):
            break  # a quantifier other than a plain "?": keep this assertion in the rest
        i = j + 1 if pattern.startswith("?", j) else j
    return flags, pattern[start:i], pattern[i:]


class PrefilteredPattern:
    """A compiled ``regex`` pattern whose ``finditer`` searches without its leading assertions.

    Every other attribute (``pattern``, ``flags``, ``search``…) is the full pattern's.
    """

    def __init__(self, full: Any, rest: Any) -> None:
        self.full = full
        self.rest = rest

    def finditer(self, string: str, pos: int = 0, endpos: int | None = None) -> Iterator[Any]:
        end = len(string) if endpos is None else endpos
        full_match, rest_search = self.full.match, self.rest.search
        while pos <= end:
            candidate = rest_search(string, pos, end)
            if candidate is None:
                return
            start = candidate.start()
            found = full_match(string, start, end)
            if found is None:
                pos = start + 1
                continue
            yield found
            pos = found.end() if found.end() > start else start + 1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.full, name)


def prefilter(compiled: Any) -> Any:
    """``compiled`` wrapped in a :class:`PrefilteredPattern`, or itself when that cannot help
    (no leading assertion) or could change its matches (a back-reference in the rest)."""
    if isinstance(compiled, PrefilteredPattern) or not hasattr(compiled, "pattern"):
        return compiled
    source = compiled.pattern
    if not isinstance(source, str):
        return compiled
    try:
        flags, assertions, rest = split_leading_assertions(source)
    except ValueError:
        return compiled
    if not assertions or not rest or _BACKREFERENCE.search(rest):
        return compiled
    module = regex if isinstance(compiled, regex.Pattern) else re
    try:
        rest_compiled = module.compile(flags + rest, compiled.flags)
    except (regex.error, re.error):
        return compiled
    return PrefilteredPattern(compiled, rest_compiled)


def _regex_matchers(component: Any, depth: int = 2) -> Iterator[Any]:
    """EDS-NLP ``RegexMatcher`` objects held by a pipe (directly or one level down)."""
    from edsnlp.matchers.regex import RegexMatcher

    seen: set[int] = set()
    stack = [(component, depth)]
    while stack:
        obj, level = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, RegexMatcher):
            yield obj
            continue
        if level == 0 or not hasattr(obj, "__dict__"):
            continue
        for value in vars(obj).values():
            if isinstance(value, list | tuple):
                stack.extend((v, level - 1) for v in value if hasattr(v, "__dict__"))
            elif hasattr(value, "__dict__") and not isinstance(value, type):
                stack.append((value, level - 1))


def prefilter_pipeline(nlp: Any) -> int:
    """Wrap the patterns of every ``RegexMatcher`` in ``nlp``; returns how many were wrapped."""
    wrapped = 0
    for _, component in nlp.pipeline:
        for matcher in _regex_matchers(component):
            entries = []
            for key, patterns, *options in matcher.regex:
                new = [prefilter(p) for p in patterns]
                wrapped += sum(a is not b for a, b in zip(new, patterns, strict=True))
                entries.append((key, new, *options))
            matcher.regex = entries
    return wrapped


def enlarge_text_cache(size: int = TEXT_CACHE_SIZE) -> None:
    """Give EDS-NLP's per-doc text cache room for a batch (process-wide, idempotent)."""
    from edsnlp.utils import doc_to_text

    current = doc_to_text.aggregate_tokens
    if current.cache_info().maxsize is not None and current.cache_info().maxsize >= size:
        return
    doc_to_text.aggregate_tokens = functools.lru_cache(size)(current.__wrapped__)


def speed_up(nlp: Any) -> Any:
    """Apply both speed-ups to ``nlp`` (built from a definition); returns it."""
    prefilter_pipeline(nlp)
    enlarge_text_cache()
    return nlp
