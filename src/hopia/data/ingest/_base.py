"""The contract every reader follows.

A reader turns one source file into :class:`~hopia.data.records.RawDocument` objects. It never
writes anything: the ingest pipeline (``hopia.data.ingest.pipeline``) does, transactionally. A
file that cannot be read raises :class:`~hopia.platform.exceptions.SourceError` naming the file
and the reason (in French, for the people who run ingest); the pipeline records it and goes on
with the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from hopia.data.records import RawDocument, ReadFailure


@runtime_checkable
class Reader(Protocol):
    """Reads one file. ``read`` raises ``SourceError`` if the whole file is unreadable and yields
    ``ReadFailure`` for a single bad record inside an otherwise readable file."""

    format: str
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> Iterator[RawDocument | ReadFailure]: ...
