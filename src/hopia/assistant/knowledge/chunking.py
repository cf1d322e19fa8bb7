"""Cutting a document into passages that follow its headings, with overlap.

A section runs from one heading to the next (and from one PDF page to the next); its path is
the titles above it ("2 Posologie > 2.1 Adulte"). A section longer than ``size`` characters
is cut into windows ending at a paragraph or sentence boundary where one lies in the window's
last third; the next window starts ``overlap`` characters before the previous end (at a word
boundary), so a sentence cut by a boundary is whole in one of the two passages. Each passage
keeps its character offsets into the document text: a citation opens exactly
``text[start:end]``."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from hopia.assistant.knowledge.reading import Heading, SourceText

DEFAULT_SIZE = 900
DEFAULT_OVERLAP = 150
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?»]\s"),
    re.compile(r"[;:,]\s"),
)


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    start: int
    end: int
    section: str
    """The heading path, titles joined by " > " ("" before the first heading)."""
    page: int | None
    """1-based page of the passage's start (PDF), None otherwise."""
    text: str


def _sections(source: SourceText) -> list[tuple[int, int, str]]:
    """(start, end, path) of each section, in order, covering the whole text."""
    text, out = source.text, []
    stack: list[Heading] = []
    bounds = [h.start for h in source.headings]
    if not bounds or bounds[0] > 0:
        out.append((0, bounds[0] if bounds else len(text), ""))
    for i, heading in enumerate(source.headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        end = bounds[i + 1] if i + 1 < len(bounds) else len(text)
        out.append((heading.start, end, " > ".join(h.title for h in stack)))
    if not source.pages:
        return out
    # A PDF page is a boundary too: a passage never spans two pages, so its page is exact.
    split = []
    for start, end, path in out:
        cuts = [p for p in source.pages if start < p < end]
        for a, b in zip([start, *cuts], [*cuts, end], strict=True):
            split.append((a, b, path))
    return split


def _cut(text: str, start: int, end: int, size: int) -> int:
    """Where a window starting at ``start`` ends: a boundary in its last third, else ``size``."""
    if end - start <= size:
        return end
    limit = start + size
    floor = start + (2 * size) // 3
    window = text[floor:limit]
    for pattern in _BREAKS:
        found = [m.end() for m in pattern.finditer(window)]
        if found:
            return floor + found[-1]
    space = text.rfind(" ", floor, limit)
    return space + 1 if space > floor else limit


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk(
    source: SourceText, size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP
) -> list[Chunk]:
    overlap = min(overlap, size // 3)  # a larger overlap would mostly repeat the text
    text, out = source.text, []
    for s_start, s_end, path in _sections(source):
        body = text[s_start:s_end].strip()
        if path and "\n" not in body and len(body) <= 120:
            continue  # a heading directly followed by a sub-heading: the path carries it
        pos = s_start
        while pos < s_end:
            cut = _cut(text, pos, s_end, size)
            a, b = _trimmed(text, pos, cut)
            if b > a:
                page = bisect.bisect_right(source.pages, a) if source.pages else None
                out.append(Chunk(len(out), a, b, path, page, text[a:b]))
            if cut >= s_end:
                break
            nxt = max(cut - overlap, pos + 1)
            space = text.find(" ", nxt, cut)
            pos = space + 1 if space != -1 else nxt
    return out
