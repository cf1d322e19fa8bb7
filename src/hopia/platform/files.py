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

from hopia.platform.exceptions import InvalidRequestError, SourceError
from hopia.platform.text import json_problem


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: os.umask is process-wide and not thread-safe
_GROUP_OTHER = 0o077


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (0700), whatever the umask: created so, or
    tightened when it exists and belongs to this user (Hopia's home, an identified export).
    A folder of someone else's (``/tmp``) is left as it is."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        info = path.stat()
        if info.st_mode & _GROUP_OTHER and info.st_uid == os.getuid():
            os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing file readable and writable by its owner only (0600)."""
    if os.name == "posix":
        mode = Path(path).stat().st_mode
        if mode & _GROUP_OTHER:
            os.chmod(path, 0o600)


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
    if private and not path.parent.exists():
        private_dir(path.parent)  # a folder made for identified data is private too
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


def check_output_dir(path: Path, field: str) -> None:
    """Before any work: ``path`` can be the folder a command writes to (absent, or a folder),
    else :class:`InvalidRequestError` naming ``field``. A file in the way would otherwise fail
    the command only once its query has run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InvalidRequestError(
            f"{path} est un fichier : un dossier de sortie est attendu (absent ou dossier)",
            fields=(field,),
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidRequestError(
                    f"{parent} est un fichier : impossible d'y créer le dossier {path}",
                    fields=(field,),
                )
            break


class StagingDir:
    """A folder being written beside ``target`` (:func:`staging_dir`); :meth:`publish` puts it
    in place, whole, replacing what was there."""

    def __init__(self, path: Path, target: Path, private: bool = False) -> None:
        self.path, self.target, self.private = path, target, private
        self.published = False

    def publish(self) -> None:
        """Swap the folder in now (inside the caller's transaction, say); else it is swapped in
        when the ``with`` block ends without error. A private folder's files and sub-folders
        are made owner-only first, whatever wrote them (pandas, pyarrow) and the umask."""
        if not self.published:
            if self.private:
                for item in self.path.rglob("*"):
                    if item.is_dir() and not item.is_symlink():
                        os.chmod(item, 0o700)
                    elif item.is_file() and not item.is_symlink():
                        private_file(item)
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
    staging = StagingDir(path, target, private)
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
                raise SourceError(where, f"JSON invalide ({json_problem(exc)})") from None
            except (RecursionError, ValueError):  # nesting too deep, a 5,000-digit integer
                raise SourceError(
                    where, "JSON invalide (imbrication ou nombre hors limites)"
                ) from None
            if not isinstance(record, dict):
                raise SourceError(where, "un objet JSON est attendu")
            yield where, record
