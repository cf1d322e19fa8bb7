"""File-system helpers shared by the axes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hopia.platform.exceptions import SourceError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: os.umask is process-wide and not thread-safe


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


@contextlib.contextmanager
def atomic_file(
    path: Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    private: bool = False,
) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` complete or not at all: written to a temporary sibling,
    flushed and fsynced, then renamed over ``path``. A failure inside the block (or a crash)
    leaves ``path`` as it was and no temporary file behind.

    ``mode`` is ``"w"`` (text) or ``"wb"``; ``private`` makes the file readable by its owner
    only (identified data, keys), from its creation on.

    >>> with atomic_file(Path(tmp) / "out.json") as fh:  # doctest: +SKIP
    ...     fh.write("{}")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600: a private file stays so, any other gets the usual permissions.
        os.fchmod(fd, 0o600 if private else 0o666 & ~_UMASK)
        binary = mode == "wb"
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else newline
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class StagingDir:
    """A folder being written beside ``target`` (:func:`staging_dir`); :meth:`publish` puts it
    in place, whole, replacing what was there."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = path, target
        self.published = False

    def publish(self) -> None:
        """Swap the folder in now (inside the caller's transaction, say); else it is swapped in
        when the ``with`` block ends without error."""
        if not self.published:
            replace_dir(self.path, self.target)
            self.published = True


@contextlib.contextmanager
def staging_dir(target: Path, *, private: bool = False) -> Iterator[StagingDir]:
    """A whole folder that appears at ``target`` complete or not at all (models, corpora,
    exports): written in a hidden sibling folder, then swapped in by :func:`replace_dir`. An
    error inside the block removes the staging folder and leaves ``target`` as it was.

    >>> with staging_dir(Path(out)) as staging:  # doctest: +SKIP
    ...     (staging.path / "model.bin").write_bytes(weights)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    staging = StagingDir(path, target)
    try:
        # mkdtemp creates 0700: shared outputs get the usual permissions.
        os.chmod(path, 0o700 if private else 0o777 & ~_UMASK)
        yield staging
        staging.publish()
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def write_text_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` all at once (see :func:`atomic_file`)."""
    with atomic_file(path, private=private) as fh:
        fh.write(text)


def write_pickle_atomic(obj: Any, path: Path, *, private: bool = False) -> None:
    """Pickle ``obj`` to ``path`` all at once (see :func:`atomic_file`); ``private`` for a
    pickle that is loaded as code (readable and writable by its owner only)."""
    with atomic_file(path, "wb", private=private) as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read by blocks (models and exports can be large)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jsonl_records(path: Path, encoding: str = "utf-8") -> Iterator[tuple[str, dict[str, Any]]]:
    """(``file#Lnn``, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object stops the read with an :class:`SourceError` naming the file, the line and why."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise SourceError(path, f"fichier illisible ({exc.strerror})") from exc
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"{path}#L{lineno}"
            try:
                record = json.loads(raw.decode(encoding))
            except UnicodeDecodeError:
                raise SourceError(where, "encodage invalide (UTF-8 attendu)") from None
            except json.JSONDecodeError as exc:
                raise SourceError(where, f"JSON invalide ({exc.msg})") from None
            except (RecursionError, ValueError):  # nesting too deep, a 5,000-digit integer
                raise SourceError(
                    where, "JSON invalide (imbrication ou nombre hors limites)"
                ) from None
            if not isinstance(record, dict):
                raise SourceError(where, "un objet JSON est attendu")
            yield where, record
