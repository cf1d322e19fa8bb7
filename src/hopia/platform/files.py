"""File-system helpers shared by the axes."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hopia.platform.exceptions import IngestError


def replace_dir(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` at ``out``, replacing what was there.

    Readers see the old folder or the new one, never a half-written one: ``tmp`` is complete
    before the renames, and the old folder is removed only once the new one is in place.
    """
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    else:
        tmp.rename(out)


def write_pickle_atomic(obj: Any, path: Path) -> None:
    """Pickle ``obj`` to ``path`` through a temporary sibling file, fsynced then renamed:
    readers never see a half-written file, and a crash leaves no stray one behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def jsonl_records(path: Path, encoding: str = "utf-8") -> Iterator[tuple[str, dict[str, Any]]]:
    """(``file#Lnn``, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object stops the read with an :class:`IngestError` naming the file, the line and why."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise IngestError(path, f"fichier illisible ({exc.strerror})") from exc
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"{path}#L{lineno}"
            try:
                record = json.loads(raw.decode(encoding))
            except UnicodeDecodeError:
                raise IngestError(where, "encodage invalide (UTF-8 attendu)") from None
            except json.JSONDecodeError as exc:
                raise IngestError(where, f"JSON invalide ({exc.msg})") from None
            if not isinstance(record, dict):
                raise IngestError(where, "un objet JSON est attendu")
            yield where, record
