"""Tamper-evident audit log: ``hopia_meta.audit_log``, one keyed hash chain anchored outside.

Each entry stores ``hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of the entry)``,
the first one chaining to :data:`GENESIS`. Editing a stored entry, deleting one or inserting one
breaks a link that :func:`verify` reports; without the audit key (``<home>/audit.key``, never in
the warehouse) nobody can compute a chain that verifies, so a log rewritten whole is detected.

What a chain alone cannot show is the removal of its *last* entries (or of all of them). The
head is therefore checkpointed outside the warehouse too: a small file beside the keys
(``<home>/audit/<warehouse>.head.json``: the head's id and hash, itself HMAC-signed), one
fixed-size block overwritten in place after every transaction that appends entries (why in place,
and what a writer may remember of it: "the checkpoint outside the warehouse" below).
:func:`verify` requires the checkpointed entry to be in the log with that hash, and every entry
after it to be keyed.

Concurrency and transactions: an entry is written inside the caller's transaction, so an
audited action and its entry commit together or not at all. The checkpoint is written only
*after* the commit (:meth:`hopia.platform.warehouse.Warehouse.begin` runs the connection's
after-commit hooks), so it never gets ahead of a rolled-back entry; it may lag behind the head
(a crash between commit and checkpoint, a writer on another host, a transaction not opened by
``Warehouse.begin``), which :func:`verify` accepts because the entries after it are keyed.
Checkpoints only move forward (a file lock orders concurrent writers). A writer refuses to
append to a log whose checkpoint is missing, ahead of the head or contradicted: it would hide
the truncation.

Which warehouse engine is keyed, and where its checkpoint lives, is bound once per engine by the
service context (:func:`anchor`); an engine with no anchor (the data layer's own tests) writes
and verifies the unkeyed ``sha256`` chain of earlier versions. Entries written before a
warehouse was anchored stay valid as such: ``hopia init`` migrates a warehouse by checking that
unkeyed chain, then checkpointing its head (see :func:`reanchor`).

Details hold identifiers and counts, never names or text: the log is read by auditors, who
need not be entitled to the data.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import os
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from hopia.platform.exceptions import AuditError
from hopia.platform.files import private_dir, write_text_atomic
from hopia.platform.warehouse import AFTER_COMMIT, WRITER_LOCK_KEY, schema
from hopia.platform.warehouse._clean import clean_text

try:  # POSIX: orders concurrent checkpoint writers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

GENESIS = "0" * 64
_PAGE = 5000
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    target: str
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`. ``broken_at`` is the first entry whose link fails.
    ``checkpoint_id``: the entry the external checkpoint names (``None`` without anchor)."""

    ok: bool
    entries: int
    head_id: int | None = None
    head_hash: str | None = None
    broken_at: int | None = None
    problem: str | None = None
    keyed: bool = False
    checkpoint_id: int | None = None

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class Checkpoint:
    """The head of the log as last seen after a commit: entry ``seq`` with hash ``hash``
    (``0`` and :data:`GENESIS` for an empty log)."""

    seq: int
    hash: str


@dataclass
class AuditAnchor:
    """How one warehouse's log is keyed and where its head is checkpointed.

    ``load_key`` is called on first use (a read-only command never needs the key); ``folder``
    is beside the keys, outside the warehouse; ``warehouse`` names the warehouse (its URL, no
    password), so that two warehouses of one home keep separate checkpoints."""

    folder: Path
    warehouse: str
    load_key: Callable[[], bytes]
    _key: bytes | None = field(default=None, repr=False)

    def key(self) -> bytes:
        if self._key is None:
            self._key = self.load_key()
        return self._key

    @property
    def checkpoint_path(self) -> Path:
        name = hashlib.sha256(self.warehouse.encode("utf-8")).hexdigest()[:16]
        return self.folder / f"{name}.head.json"


_ANCHORS: weakref.WeakKeyDictionary[Engine, AuditAnchor] = weakref.WeakKeyDictionary()


def anchor(engine: Engine, value: AuditAnchor) -> None:
    """Key the log of ``engine``'s warehouse and checkpoint its head (the service context does
    it when it opens or is handed a warehouse)."""
    _ANCHORS[engine] = value


def anchor_of(engine: Engine) -> AuditAnchor | None:
    return _ANCHORS.get(engine)


def canonical_json(value: Any) -> str:
    """One byte-exact JSON form per value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The unkeyed link (entries written before the log was keyed, unanchored engines)."""
    return hashlib.sha256((prev_hash + canonical_json(record)).encode("utf-8")).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, record: Mapping[str, Any]) -> str:
    """The keyed link: only whoever holds the audit key can compute it."""
    message = (prev_hash + canonical_json(record)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def current_actor(actor: str | None = None) -> str:
    """The explicit actor, else the operating-system user running the process."""
    if actor and actor.strip():
        return actor.strip()[:100]
    try:
        return getpass.getuser()[:100]
    except (OSError, KeyError):  # no login name in some containers
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "inconnu"


def _record(
    audit_id: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    reason: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    # Everything but the hashes; the id is included so that a deleted entry leaves a gap.
    return {
        "audit_id": audit_id,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": details,
    }


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


def record(
    conn: Connection,
    actor: str | None,
    action: str,
    target: str,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction and return it.

    ``details`` must be JSON-serialisable and should hold identifiers, hashes and counts only.
    """
    if not action or not target:
        raise AuditError("entrée d'audit incomplète : action et cible sont obligatoires")
    # Hashed as stored: the warehouse replaces NUL and lone surrogates (a path that is not
    # UTF-8, a NUL typed into a reason) on the way in, so the entry is cleaned first.
    target = clean_text(target)
    reason = clean_text(reason) if reason is not None else None
    actor = clean_text(actor) if actor is not None else None
    details = _cleaned(dict(details or {}))
    try:
        canonical_json(details)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"détails d'audit non sérialisables en JSON : {exc}") from exc
    if conn.dialect.name == "postgresql":
        # Serialise writers of the chain. Re-entrant: Warehouse.begin() already holds it.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})
    t = schema.audit_log
    bound = anchor_of(conn.engine)
    point: Checkpoint | None = None
    problem: str | None = None
    if bound is not None:
        try:
            point = _known_checkpoint(bound)
        except AuditError as exc:
            problem = exc.message
    last = _head(conn, point.seq if point is not None else 0)
    audit_id, prev_hash = (last.audit_id + 1, last.hash) if last else (1, GENESIS)
    if bound is not None:
        problem = problem or _checkpoint_problem(conn, point, last)
        if problem:
            raise AuditError(
                f"journal d'audit altéré ou non ancré ({problem}) : aucune entrée n'est "
                "ajoutée et l'action est annulée ; vérifiez-le (hopia audit verify)",
                details={"problem": problem},
            )
    at = datetime.now(UTC).replace(tzinfo=None)
    who = current_actor(actor)
    fields = _record(audit_id, at, who, action[:50], target[:255], reason, details)
    if bound is not None:
        digest = keyed_hash(bound.key(), prev_hash, fields)
    else:
        digest = entry_hash(prev_hash, fields)
    conn.execute(
        t.insert().values(
            audit_id=audit_id,
            at=at,
            actor=who,
            action=fields["action"],
            target=fields["target"],
            reason=reason,
            details=canonical_json(details),
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    if bound is not None:
        # After the commit only: a checkpoint must never name an entry that was rolled back.
        hooks = conn.info.setdefault(AFTER_COMMIT, [])
        hooks.append(lambda: write_checkpoint(bound, Checkpoint(audit_id, digest)))
    return AuditEntry(
        audit_id, at, who, fields["action"], fields["target"], reason, details, prev_hash, digest
    )


def verify(
    conn: Connection, expected_head: str | None = None, *, anchor: AuditAnchor | None = None
) -> VerifyResult:
    """Walk the chain from the first entry; stop at the first broken link.

    With an anchor (``anchor``, else the one bound to the connection's engine), entries are
    checked with the audit key and against the external checkpoint: a missing or forged
    checkpoint, a checkpointed entry gone (the last entries, or all, deleted) or changed (the
    log rewritten), an unkeyed entry after the checkpoint: each is reported. Unkeyed entries
    up to the checkpoint are those of the log before it was keyed (``hopia init``).

    ``expected_head``: a head hash saved earlier elsewhere; it must still be in the chain.
    """
    bound = anchor or anchor_of(conn.engine)
    checkpoint: Checkpoint | None = None
    if bound is not None:
        try:
            checkpoint = read_checkpoint(bound)
        except AuditError as exc:
            return VerifyResult(False, 0, problem=exc.message, keyed=True)
    walked = _walk(conn, bound, checkpoint, expected_head)
    if not walked.ok or bound is None:
        return walked
    if checkpoint is None and walked.entries == 0:
        return walked  # a log nothing was ever written to, here: nothing to anchor yet
    if checkpoint is None:
        return _fail(
            walked,
            f"point de contrôle de la tête absent ({bound.checkpoint_path}) : la suppression "
            "des dernières entrées ne pourrait pas être détectée. Si l'entrepôt vient d'une "
            "sauvegarde ou d'une version antérieure, hopia init vérifie le journal et le recrée",
        )
    if checkpoint.seq > (walked.head_id or 0):
        if not walked.entries:
            problem = f"journal vidé : le point de contrôle attend {checkpoint.seq} entrée(s)"
        else:
            problem = (
                f"entrées supprimées à la fin du journal : il s'arrête à l'entrée "
                f"{walked.head_id}, le point de contrôle hors entrepôt en atteste "
                f"{checkpoint.seq}"
            )
        return _fail(walked, problem)
    return walked


def _fail(result: VerifyResult, problem: str) -> VerifyResult:
    return VerifyResult(
        False,
        result.entries,
        result.head_id,
        result.head_hash,
        None,
        problem,
        result.keyed,
        result.checkpoint_id,
    )


def _walk(
    conn: Connection,
    bound: AuditAnchor | None,
    checkpoint: Checkpoint | None,
    expected_head: str | None,
    *,
    unkeyed_prefix_only: bool = False,
) -> VerifyResult:
    """``unkeyed_prefix_only``: unkeyed entries are accepted only before the first keyed one
    (anchoring a log with no checkpoint: only its pre-key past may be unkeyed)."""
    t = schema.audit_log
    keyed_seen = False
    key = bound.key() if bound is not None else None
    anchored_at = checkpoint.seq if checkpoint is not None else 0
    cp_id = checkpoint.seq if checkpoint is not None else None
    prev_hash, prev_id, count = GENESIS, 0, 0
    seen_expected = expected_head in (None, GENESIS)
    while True:
        rows = conn.execute(
            select(t).where(t.c.audit_id > prev_id).order_by(t.c.audit_id).limit(_PAGE)
        ).all()
        if not rows:
            break
        for row in rows:
            unkeyed_ok = row.audit_id <= anchored_at and not (unkeyed_prefix_only and keyed_seen)
            problem = _check(row, prev_id, prev_hash, key, unkeyed_ok=unkeyed_ok)
            if problem is None and unkeyed_prefix_only and not keyed_seen and key is not None:
                keyed_seen = _is_keyed(row, prev_hash, key)
            if (
                problem is None
                and checkpoint is not None
                and row.audit_id == checkpoint.seq
                and row.hash != checkpoint.hash
            ):
                problem = (
                    f"l'entrée {row.audit_id} ne correspond plus au point de contrôle hors "
                    "entrepôt : journal réécrit"
                )
            if problem:
                return VerifyResult(
                    False,
                    count,
                    prev_id or None,
                    prev_hash,
                    row.audit_id,
                    problem,
                    key is not None,
                    cp_id,
                )
            prev_hash, prev_id, count = row.hash, row.audit_id, count + 1
            seen_expected = seen_expected or row.hash == expected_head
    head_id, head = (prev_id, prev_hash) if count else (None, None)
    if not seen_expected:
        problem = (
            "la tête attendue est absente du journal : entrées supprimées à la fin ou réécrites"
        )
        return VerifyResult(False, count, head_id, head, None, problem, key is not None, cp_id)
    return VerifyResult(True, count, head_id, head, keyed=key is not None, checkpoint_id=cp_id)


def _is_keyed(row: Any, prev_hash: str, key: bytes) -> bool:
    details = json.loads(row.details)
    fields = _record(row.audit_id, row.at, row.actor, row.action, row.target, row.reason, details)
    return hmac.compare_digest(keyed_hash(key, prev_hash, fields), row.hash)


def _check(
    row: Any, prev_id: int, prev_hash: str, key: bytes | None, *, unkeyed_ok: bool
) -> str | None:
    if row.audit_id != prev_id + 1:
        missing = row.audit_id - prev_id - 1
        return f"{missing} entrée(s) manquante(s) avant l'entrée {row.audit_id}"
    if row.prev_hash != prev_hash:
        return f"chaînage rompu : l'entrée {row.audit_id} ne suit pas l'entrée {prev_id}"
    try:
        details = json.loads(row.details)
    except ValueError:
        return f"détails illisibles dans l'entrée {row.audit_id}"
    if canonical_json(details) != row.details:
        return f"détails modifiés dans l'entrée {row.audit_id}"
    fields = _record(row.audit_id, row.at, row.actor, row.action, row.target, row.reason, details)
    if key is not None and hmac.compare_digest(keyed_hash(key, prev_hash, fields), row.hash):
        return None
    if (key is None or unkeyed_ok) and entry_hash(prev_hash, fields) == row.hash:
        return None
    if key is not None and entry_hash(prev_hash, fields) == row.hash:
        return (
            f"l'entrée {row.audit_id} n'est pas signée par la clé d'audit alors qu'elle suit "
            "le point de contrôle : écrite hors de Hopia"
        )
    return f"contenu modifié dans l'entrée {row.audit_id} (empreinte invalide)"


# -- the checkpoint outside the warehouse -------------------------------------------------------
#
# Cost and threat model (issue 12, item 10: every audited read appends, so this runs per request).
#
# The checkpoint is one fixed-size block (:data:`CHECKPOINT_SIZE` bytes: the signed JSON padded
# with blanks), created whole (temporary file, fsync, rename) and then overwritten in place by
# one ``pwrite`` at offset 0 under the file lock: no temporary file, no rename and no fsync per
# entry (≈ 8 ms each, most of an append's cost). It holds the *current* head only,
# never a history: an append-only log of heads was rejected because it would hand whoever can
# write ``<home>/audit`` every older signed head, and so the means to truncate the table and
# the log of heads together undetected. As before, rolling the checkpoint back needs a copy of
# it saved at that earlier time, and forging one needs the audit key.
#
# Durability: the block is fdatasync'ed at most every :data:`SYNC_EVERY_S` seconds by each
# process. An operating-system crash can lose the last overwrites: the checkpoint then lags
# behind the head, which verify accepts (the entries after it are keyed), exactly as after a
# crash between a commit and its checkpoint. One 512-byte write at offset 0 is one disk sector:
# the block is old or new after a crash, never empty (it is never truncated nor renamed over).
#
# The writer's cache: a process remembers the checkpoint it last read (and checked) or wrote,
# with the file's identity (inode, size, mtime, ctime). A writer whose ``stat`` shows the same
# identity uses what it remembers instead of reading and checking the file again. Any write by
# another process (a second ``hopia serve`` worker, someone editing the file) changes the ctime,
# which no user can set back (``utime`` sets mtime, and moves ctime to now), so the writer
# re-reads and re-checks the file: at process start, and whenever someone else wrote it. The
# one blind spot is a same-size overwrite within the same timestamp tick as this process's own
# write (the kernel's coarse clock: a few ms); it only affects the writer's early refusal, never
# :func:`verify` nor ``hopia audit verify``, which always read and check the file itself.

CHECKPOINT_SIZE = 512
SYNC_EVERY_S = 1.0

# checkpoint path -> (file identity, key it was checked with, checkpoint) as this process last
# read or wrote it
_KNOWN: dict[str, tuple[tuple[int, ...], bytes, Checkpoint]] = {}
_LAST_SYNC: dict[str, float] = {}


def _checkpoint_mac(bound: AuditAnchor, point: Checkpoint) -> str:
    body = canonical_json({"warehouse": bound.warehouse, "seq": point.seq, "hash": point.hash})
    return hmac.new(bound.key(), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def read_checkpoint(bound: AuditAnchor) -> Checkpoint | None:
    """The checkpoint of ``bound``'s warehouse; ``None`` when there is none; :class:`AuditError`
    when it is unreadable or its signature fails (written by someone without the key). Always
    read from the file (never from this process's cache): what verify relies on."""
    if not bound.checkpoint_path.exists():  # a read creates nothing (no folder, no lock file)
        _KNOWN.pop(str(bound.checkpoint_path), None)
        return None
    with _checkpoint_lock(bound, shared=True):
        return _read_file(bound)[1]


def _read_file(bound: AuditAnchor) -> tuple[tuple[int, ...] | None, Checkpoint | None]:
    """Read and check the file (the caller holds the lock); remember what was read."""
    path = bound.checkpoint_path
    try:
        with path.open("rb") as fh:
            identity = _identity(os.fstat(fh.fileno()))
            data = json.loads(fh.read().decode("utf-8"))
        point = Checkpoint(int(data["seq"]), str(data["hash"]))
        mac = str(data["mac"])
    except FileNotFoundError:
        _KNOWN.pop(str(path), None)
        return None, None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"point de contrôle du journal illisible ({path}) : {exc}") from exc
    if not hmac.compare_digest(mac, _checkpoint_mac(bound, point)):
        raise AuditError(
            f"point de contrôle du journal falsifié ou d'un autre entrepôt ({path}) : sa "
            "signature ne correspond pas à la clé d'audit"
        )
    _KNOWN[str(path)] = (identity, bound.key(), point)
    return identity, point


def _known_checkpoint(bound: AuditAnchor) -> Checkpoint | None:
    """The checkpoint for a writer: what this process last read or wrote when the file is
    unchanged since (same identity, see above), else read and checked again."""
    path = bound.checkpoint_path
    try:
        identity = _identity(os.stat(path))
    except FileNotFoundError:
        return read_checkpoint(bound)  # gone (or never written): no key needed to say so
    known = _KNOWN.get(str(path))
    if known is not None and known[0] == identity and known[1] == bound.key():
        return known[2]
    return read_checkpoint(bound)


def write_checkpoint(bound: AuditAnchor, point: Checkpoint, *, force: bool = False) -> bool:
    """Move the checkpoint to ``point`` (mode 0600) when it moves forward, or always with
    ``force`` (``hopia init`` anchoring a log). ``True`` when written."""
    path = bound.checkpoint_path
    with _checkpoint_lock(bound):
        current: Checkpoint | None = None
        identity: tuple[int, ...] | None = None
        with contextlib.suppress(AuditError):  # a forged one is replaced (writers refused it)
            known = _KNOWN.get(str(path))
            with contextlib.suppress(FileNotFoundError):
                identity = _identity(os.stat(path))
            if known is not None and known[0] == identity and known[1] == bound.key():
                current = known[2]
            elif identity is not None:
                identity, current = _read_file(bound)
        if not force and current is not None and current.seq >= point.seq:
            return False
        block = _checkpoint_block(bound, point)
        in_place = hasattr(os, "pwrite")  # POSIX; elsewhere the block is always replaced whole
        if force or not in_place or identity is None or identity[1] != CHECKPOINT_SIZE:
            # Created (or re-anchored, or of an earlier format) whole: temporary file, fsync,
            # rename. Rare: from then on the block is overwritten in place.
            write_text_atomic(path, block, private=True)
            _KNOWN[str(path)] = (_identity(os.stat(path)), bound.key(), point)
            _LAST_SYNC[str(path)] = time.monotonic()
            return True
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, block.encode("utf-8"), 0)
            now = time.monotonic()
            if now - _LAST_SYNC.get(str(path), 0.0) >= SYNC_EVERY_S:
                getattr(os, "fdatasync", os.fsync)(fd)  # macOS has no fdatasync
                _LAST_SYNC[str(path)] = now
            _KNOWN[str(path)] = (_identity(os.fstat(fd)), bound.key(), point)
        finally:
            os.close(fd)
        return True


def _checkpoint_block(bound: AuditAnchor, point: Checkpoint) -> str:
    body = canonical_json(
        {
            "version": CHECKPOINT_VERSION,
            "warehouse": bound.warehouse,
            "seq": point.seq,
            "hash": point.hash,
            "mac": _checkpoint_mac(bound, point),
        }
    )
    if len(body.encode("utf-8")) >= CHECKPOINT_SIZE:  # a very long warehouse URL
        raise AuditError(f"point de contrôle trop long ({len(body)} octets) : URL d'entrepôt ?")
    # Blanks then a newline: still one JSON document, always the same size (overwritten whole).
    return body + " " * (CHECKPOINT_SIZE - 1 - len(body.encode("utf-8"))) + "\n"


@contextlib.contextmanager
def _checkpoint_lock(bound: AuditAnchor, *, shared: bool = False) -> Iterator[None]:
    """Writers exclusive, readers shared: a reader never sees a block half overwritten."""
    private_dir(bound.folder)
    if fcntl is None:  # pragma: no cover - Windows: one writer per host is assumed
        yield
        return
    fd = os.open(bound.checkpoint_path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _head(conn: Connection, hint: int) -> Any:
    """The last entry (id, hash), or ``None``. ``hint``: an id the log is known to reach (the
    checkpoint's): the search starts there, which an index or DuckDB's zone maps make cheap
    (a whole-table top-1 costs ~12 ms at 200,000 entries on DuckDB, ~1 ms from the hint). The
    answer is the same either way: the greatest id at or after the hint is the greatest of
    all; when no entry is left there (the tail deleted), the whole log is searched."""
    t = schema.audit_log
    query = select(t.c.audit_id, t.c.hash).order_by(t.c.audit_id.desc()).limit(1)
    if hint > 0:
        last = conn.execute(query.where(t.c.audit_id >= hint)).first()
        if last is not None:
            return last
    return conn.execute(query).first()


def _checkpoint_problem(conn: Connection, point: Checkpoint | None, last: Any) -> str | None:
    """Why a writer must not append (the checkpoint contradicts the log), or ``None``."""
    head = last.audit_id if last is not None else 0
    if point is None:
        # A new, empty log is anchored by its first entry; a log with entries and no
        # checkpoint is anchored by hopia init, explicitly, after a full check.
        return None if last is None else "point de contrôle hors entrepôt absent"
    if point.seq > head:
        return f"le journal s'arrête à l'entrée {head}, le point de contrôle en atteste {point.seq}"
    if point.seq == 0:
        return None
    if point.seq == head:  # the usual case: the head is the checkpointed entry, already read
        stored = last.hash
    else:
        t = schema.audit_log
        stored = conn.execute(select(t.c.hash).where(t.c.audit_id == point.seq)).scalar()
    if stored != point.hash:
        return f"l'entrée {point.seq} ne correspond plus au point de contrôle"
    return None


def reanchor(conn: Connection, bound: AuditAnchor) -> VerifyResult:
    """Anchor the log of an existing warehouse (``hopia init``): check the whole chain with the
    key, the entries before any keyed one allowed unkeyed (a log from before this version); if
    it holds, checkpoint its head. Returns the check; nothing is written when it fails."""
    t = schema.audit_log
    last = conn.execute(
        select(t.c.audit_id, t.c.hash).order_by(t.c.audit_id.desc()).limit(1)
    ).first()
    head = Checkpoint(last.audit_id, last.hash) if last is not None else Checkpoint(0, GENESIS)
    # Unkeyed entries are the log's past from before the key, never after a keyed one (that
    # would be entries rewritten, or added, by someone without the key).
    walked = _walk(conn, bound, head, None, unkeyed_prefix_only=True)
    if walked.ok:
        write_checkpoint(bound, head, force=True)
    return walked
