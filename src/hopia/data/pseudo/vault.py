"""The key vault: what each surrogate replaced, encrypted, readable only with a reason.

Layout (schema ``hopia_vault``, apart from the research space ``omop`` and from ``hopia_id``):

- ``vault_patient``: one row per patient key (the IPP, or a document's content hash when the
  patient is unknown), looked up by ``patient_ref = HMAC(vault key, patient key)`` so the IPP is
  never stored in clear nor guessable by hashing candidates; holds the patient key and the
  per-patient date offset, both encrypted.
- ``vault_entry``: one row per (patient, label, surrogate) with the original value encrypted.
- ``vault_key``: the fingerprint of the key in use, so a wrong key is refused before anything is
  read or written.

Encryption is AES-256-GCM under keys derived (HKDF) from the 32-byte vault key, which is never the
pseudonymisation secret: the secret makes surrogates, only the vault key reads originals back.
Each ciphertext is bound to its row (associated data: patient_ref, label, surrogate), so values
cannot be swapped between rows unnoticed. Every read goes through :meth:`Vault.reidentify` or
:meth:`Vault.reidentify_note`, which demand a reason and write an audit entry in the same
transaction as the read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, delete, select, text, update

from hopia.data.pseudo.pseudonymiser import LABEL_PRIORITY, MASK, PseudoResult
from hopia.platform import audit
from hopia.platform.access import Purpose, check_reason
from hopia.platform.exceptions import HopiaError, VaultError
from hopia.platform.keys import VAULT_FILE, read_vault_key_file
from hopia.platform.warehouse import WRITER_LOCK_KEY, Warehouse, schema

_NONCE_BYTES = 12
_IN_CHUNK = 500  # values per SQL IN list
_LABEL_RANK = {label: i for i, label in enumerate(LABEL_PRIORITY)}

# (patient key, what the pseudonymiser replaced)
StoreItem = tuple[str, PseudoResult]


@dataclass(frozen=True)
class StoreReport:
    patients: int = 0  # patient keys added
    entries: int = 0  # (patient, label, surrogate) added
    existing: int = 0  # already in the vault: left as they are
    conflicts: int = 0  # same (patient, label, surrogate) for another original: the first kept

    def __add__(self, other: StoreReport) -> StoreReport:
        return StoreReport(
            self.patients + other.patients,
            self.entries + other.entries,
            self.existing + other.existing,
            self.conflicts + other.conflicts,
        )


@dataclass(frozen=True)
class Rotation:
    """What :meth:`Vault.rotation` re-encrypted, and its audit entry (key ids only)."""

    patients: int
    entries: int
    old_key_id: str
    new_key_id: str
    audit: audit.AuditEntry


@dataclass(frozen=True)
class Restored:
    label: str
    surrogate: str
    original: str
    start: int | None = None  # offsets into the pseudonymised text, when a text was given
    end: int | None = None


@dataclass(frozen=True)
class ReidentifiedResult:
    """Originals of the surrogates found; ``text`` is the given text with them restored."""

    text: str | None
    originals: dict[str, str]  # surrogate -> original (unambiguous ones)
    restored: list[Restored]
    missing: list[str]  # surrogates asked for, or found in phi_span, that the vault lacks
    ambiguous: dict[str, list[str]]  # surrogate -> originals, when several patients match
    date_offset_days: int | None
    audit: audit.AuditEntry
    note_id: int | None = None
    person_id: int | None = None
    original_date: date | None = None  # the note's date, unshifted

    def unshift(self, shifted: date) -> date:
        """A research-space date moved back by the patient's offset (inverse of shift_date)."""
        if self.date_offset_days is None:
            raise VaultError("décalage de dates inconnu : précisez le patient")
        try:
            return shifted - timedelta(days=self.date_offset_days)
        except OverflowError:  # shift_date moved the other way at year 1 or 9999
            return shifted + timedelta(days=self.date_offset_days)


class _Keys:
    """Sub-keys derived from the vault key: one per purpose, none equal to the key itself."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            raise VaultError("clé du coffre invalide : 32 octets attendus (HOPIA_VAULT_KEY)")
        self.aead = AESGCM(_derive(key, b"encrypt"))
        self._mac = _derive(key, b"lookup")
        self.key_id = _derive(key, b"key-id")[:8].hex()

    def ref(self, patient_key: str) -> str:
        msg = patient_key.encode("utf-8", "surrogatepass")
        return hmac.new(self._mac, msg, hashlib.sha256).hexdigest()

    def seal(self, plaintext: str, *context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        data = self.aead.encrypt(nonce, plaintext.encode("utf-8", "surrogatepass"), _aad(context))
        return base64.b64encode(nonce + data).decode("ascii")

    def open(self, token: str, *context: str) -> str:
        try:
            raw = base64.b64decode(token, validate=True)
            data = self.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(context))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise VaultError(
                "déchiffrement impossible : clé du coffre incorrecte ou entrée altérée"
            ) from exc
        return data.decode("utf-8", "surrogatepass")


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"hopia-vault/v1/" + purpose).derive(key)


def _aad(context: tuple[str, ...]) -> bytes:
    return "\x1f".join(("hopia-vault/v1", *context)).encode("utf-8", "surrogatepass")


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _reversible(label: str, surrogate: str | None) -> bool:
    # "tag" and "mask" policies replace by the same string for every value: nothing to map.
    return bool(surrogate) and surrogate not in (MASK, f"<{label}>")


class Vault:
    """The re-identification vault of a warehouse.

    >>> vault = Vault(wh, load_vault_key(settings))  # doctest: +SKIP
    >>> with wh.begin() as conn:  # doctest: +SKIP
    ...     vault.store(conn, ipp, result, pseudonymiser.date_offset_days(ipp))
    >>> vault.reidentify(note_text, ipp, reason="demande du DIM n° 2024-117")  # doctest: +SKIP
    """

    def __init__(self, wh: Warehouse, key: bytes, *, staged_key_file: Path | None = None) -> None:
        """``staged_key_file``: where a rotation stages the new key when the key is a file
        (``<home>/vault.key.staged``); a wrong key then says whether an interrupted rotation
        left the right one there."""
        self.wh = wh
        self._keys = _Keys(key)
        self.staged_key_file = staged_key_file

    @property
    def key_id(self) -> str:
        """Fingerprint of the vault key (safe to print and log)."""
        return self._keys.key_id

    # -- writing ------------------------------------------------------------------------------

    def store(
        self, conn: Connection, patient_key: str, result: PseudoResult, date_offset_days: int
    ) -> StoreReport:
        """Store one pseudonymisation's originals, inside the caller's transaction (idempotent)."""
        return self.store_many(conn, [(patient_key, result)], lambda _: date_offset_days)

    def store_many(
        self, conn: Connection, items: Iterable[StoreItem], date_offset: Callable[[str], int]
    ) -> StoreReport:
        """Store a batch of documents' originals in a few queries, inside the caller's
        transaction (idempotent). ``date_offset`` is ``Pseudonymiser.date_offset_days``."""
        values = [
            (
                key,
                date_offset(key),
                [(s.label, s.text, new) for s, new in zip(r.spans, r.surrogates, strict=True)],
            )
            for key, r in items
        ]
        return self._store(conn, values)

    def store_documents(
        self,
        conn: Connection,
        date_offset: Callable[[str], int],
        document_ids: Sequence[int] | None = None,
    ) -> StoreReport:
        """Fill the vault from documents already ingested (``hopia_id.document`` + ``phi_span``).

        ``date_offset`` is ``Pseudonymiser.date_offset_days``; ``None`` ids: every document
        (to back-fill a warehouse ingested before the vault existed).
        """
        doc, phi = schema.document, schema.phi_span
        query = select(doc.c.document_id, doc.c.text, doc.c.ipp, doc.c.content_hash).where(
            doc.c.status == "done"
        )
        if document_ids is not None:
            query = query.where(doc.c.document_id.in_(list(document_ids)))
        report = StoreReport()
        for chunk in _chunks(conn.execute(query.order_by(doc.c.document_id)).all()):
            spans: dict[int, list[Any]] = {}
            rows = conn.execute(
                select(phi.c.document_id, phi.c.start_char, phi.c.end_char, phi.c.label,
                       phi.c.surrogate)
                .where(phi.c.document_id.in_([d.document_id for d in chunk]))
                .order_by(phi.c.document_id, phi.c.start_char)
            )  # fmt: skip
            for row in rows:
                spans.setdefault(row.document_id, []).append(row)
            values = []
            for d in chunk:
                key = d.ipp or d.content_hash  # the pipeline's patient key for this document
                found = [
                    (s.label, (d.text or "")[s.start_char : s.end_char], s.surrogate)
                    for s in spans.get(d.document_id, [])
                ]
                values.append((key, date_offset(key), found))
            report += self._store(conn, values)
        return report

    def store_document(
        self, conn: Connection, document_id: int, date_offset: Callable[[str], int]
    ) -> StoreReport:
        return self.store_documents(conn, date_offset, [document_id])

    def _store(
        self, conn: Connection, values: list[tuple[str, int, list[tuple[str, str, str]]]]
    ) -> StoreReport:
        if not values:
            return StoreReport()
        self._lock(conn)
        self._check_key(conn, register=True)
        keys, now = self._keys, _now()
        offsets: dict[str, tuple[str, int]] = {}
        wanted: dict[tuple[str, str, str], str] = {}
        conflicts = 0
        for patient_key, offset, found in values:
            ref = keys.ref(patient_key)
            offsets.setdefault(ref, (patient_key, int(offset)))
            for label, original, surrogate in found:
                if not _reversible(label, surrogate):
                    continue
                first = wanted.setdefault((ref, label, surrogate), original)
                conflicts += first != original
        refs = sorted(offsets)
        vp, ve = schema.vault_patient, schema.vault_entry
        known_patients = {}
        for chunk in _chunks(refs):
            known_patients.update(
                conn.execute(
                    select(vp.c.patient_ref, vp.c.date_offset_enc).where(
                        vp.c.patient_ref.in_(chunk)
                    )
                ).all()
            )
        for ref, token in known_patients.items():
            if int(keys.open(token, "offset", ref)) != offsets[ref][1]:
                raise VaultError(
                    "décalage de dates différent de celui du coffre pour un patient : le secret "
                    "de pseudonymisation a-t-il changé ? Rien n'a été écrit."
                )
        new_patients = [
            {
                "patient_ref": ref,
                "key_id": keys.key_id,
                "patient_key_enc": keys.seal(patient_key, "patient", ref),
                "date_offset_enc": keys.seal(str(offset), "offset", ref),
                "created_at": now,
            }
            for ref, (patient_key, offset) in offsets.items()
            if ref not in known_patients
        ]
        existing: dict[tuple[str, str, str], str] = {}
        # Only this batch's surrogates: a patient with years of notes has thousands of entries.
        surrogates = sorted({surrogate for ref, _, surrogate in wanted if ref in known_patients})
        for refs_chunk in _chunks(sorted(known_patients)):
            for chunk in _chunks(surrogates):
                rows = conn.execute(
                    select(ve.c.patient_ref, ve.c.label, ve.c.surrogate, ve.c.original_enc).where(
                        ve.c.patient_ref.in_(refs_chunk), ve.c.surrogate.in_(chunk)
                    )
                )
                existing.update(
                    {(r.patient_ref, r.label, r.surrogate): r.original_enc for r in rows}
                )
        new_entries = []
        for (ref, label, surrogate), original in wanted.items():
            token = existing.get((ref, label, surrogate))
            if token is not None:
                conflicts += keys.open(token, "entry", ref, label, surrogate) != original
                continue
            new_entries.append(
                {
                    "patient_ref": ref,
                    "label": label,
                    "surrogate": surrogate,
                    "original_enc": keys.seal(original, "entry", ref, label, surrogate),
                    "key_id": keys.key_id,
                    "created_at": now,
                }
            )
        self.wh.insert_rows(conn, vp, new_patients)
        self.wh.insert_rows(conn, ve, new_entries)
        return StoreReport(
            len(new_patients), len(new_entries), len(wanted) - len(new_entries), conflicts
        )

    # -- reading ------------------------------------------------------------------------------

    def reidentify(
        self,
        text_or_surrogates: str | Sequence[str],
        patient_key: str | None = None,
        *,
        reason: str,
        actor: str | None = None,
        target: str | None = None,
    ) -> ReidentifiedResult:
        """Originals of the surrogates in a text (``patient_key`` required) or in a list.

        The read and its audit entry (action ``reidentify``) commit together; nothing is returned
        unless the audit entry is written.
        """
        reason = check_reason(reason, Purpose.REIDENTIFY)
        as_text = isinstance(text_or_surrogates, str)
        if as_text and patient_key is None:
            raise VaultError("ré-identifier un texte demande la clé du patient (IPP)")
        with self.wh.begin() as conn:
            self._check_key(conn)
            if patient_key is None:
                wanted = list(dict.fromkeys(text_or_surrogates))
                found = self._search(conn, wanted)
                ambiguous = {
                    s: sorted({e.original for e in es})
                    for s, es in found.items()
                    if len({e.original for e in es}) > 1
                }
                restored = [found[s][0] for s in wanted if s in found and s not in ambiguous]
                missing = [s for s in wanted if s not in found]
                offset, out_text, person_id = None, None, None
            else:
                ref = self._keys.ref(patient_key)
                entries = self._entries(conn, ref)
                offset = self._offset(conn, ref)
                ambiguous = {}
                if as_text:
                    out_text, restored = _restore_text(text_or_surrogates, entries)
                    missing = []
                else:
                    out_text = None
                    wanted = list(dict.fromkeys(text_or_surrogates))
                    by_surrogate = _by_surrogate(entries)
                    restored = [by_surrogate[s] for s in wanted if s in by_surrogate]
                    missing = [s for s in wanted if s not in by_surrogate]
                person_id = self._person_id(conn, patient_key)
            originals = {r.surrogate: r.original for r in restored}
            if target is None:  # the pseudonymous person id when there is one
                if person_id is not None:
                    target = f"person:{person_id}"
                elif patient_key is not None:
                    target = f"patient:{self._keys.ref(patient_key)[:16]}"
                else:
                    target = "vault:search"
            entry = audit.record(
                conn,
                actor,
                "reidentify",
                target,
                reason,
                {
                    "mode": "text" if as_text else "surrogates",
                    "person_id": person_id,
                    "restored": len(restored),
                    "missing": len(missing),
                    "ambiguous": len(ambiguous),
                    "labels": dict(Counter(r.label for r in restored if r.label)),
                    "key_id": self.key_id,
                    **_os_user_if_other(actor),
                },
            )
        return ReidentifiedResult(
            out_text, originals, restored, missing, ambiguous, offset, entry, person_id=person_id
        )

    def reidentify_note(
        self, note_id: int, *, reason: str, actor: str | None = None
    ) -> ReidentifiedResult:
        """The text of ``omop.note`` ``note_id`` with the originals restored, at the offsets the
        pseudonymiser recorded in ``hopia_id.phi_span`` (no guessing by string search)."""
        reason = check_reason(reason, Purpose.REIDENTIFY)
        note, doc, phi = schema.CDM["note"], schema.document, schema.phi_span
        with self.wh.begin() as conn:
            self._check_key(conn)
            row = conn.execute(
                select(note.c.note_text, note.c.person_id, note.c.note_date).where(
                    note.c.note_id == note_id
                )
            ).first()
            if row is None:
                raise VaultError(f"note {note_id} introuvable dans l'entrepôt")
            source = conn.execute(
                select(doc.c.document_id, doc.c.ipp, doc.c.content_hash).where(
                    doc.c.note_id == note_id, doc.c.status == "done"
                )
            ).first()
            if source is None:
                raise VaultError(f"note {note_id} : aucun document source dans l'espace identifié")
            spans = conn.execute(
                select(phi.c.start_char, phi.c.end_char, phi.c.label, phi.c.surrogate)
                .where(phi.c.document_id == source.document_id)
                .order_by(phi.c.start_char)
            ).all()
            ref = self._keys.ref(source.ipp or source.content_hash)
            entries = {(e.label, e.surrogate): e for e in self._entries(conn, ref)}
            offset = self._offset(conn, ref)
            note_text = row.note_text or ""
            pieces, restored, missing, pos, shift = [], [], [], 0, 0
            for s in spans:
                if not s.surrogate:
                    continue
                start = s.start_char + shift
                end = start + len(s.surrogate)
                shift += len(s.surrogate) - (s.end_char - s.start_char)
                found = entries.get((s.label, s.surrogate))
                if found is None or note_text[start:end] != s.surrogate:
                    missing.append(s.surrogate)
                    continue
                pieces += (note_text[pos:start], found.original)
                restored.append(Restored(s.label, s.surrogate, found.original, start, end))
                pos = end
            pieces.append(note_text[pos:])
            person_id = row.person_id or None  # 0: patient not identified
            entry = audit.record(
                conn,
                actor,
                "reidentify",
                f"note:{note_id}",
                reason,
                {
                    "mode": "note",
                    "note_id": note_id,
                    "document_id": source.document_id,
                    "person_id": person_id,
                    "restored": len(restored),
                    "missing": len(missing),
                    "labels": dict(Counter(r.label for r in restored)),
                    "key_id": self.key_id,
                    **_os_user_if_other(actor),
                },
            )
        shifted = row.note_date
        result = ReidentifiedResult(
            "".join(pieces),
            {r.surrogate: r.original for r in restored},
            restored,
            missing,
            {},
            offset,
            entry,
            note_id=note_id,
            person_id=person_id,
        )
        if shifted is not None and offset is not None:
            result = replace(result, original_date=result.unshift(shifted))
        return result

    # -- rotation -----------------------------------------------------------------------------

    def rotate(self, new_key: bytes, *, actor: str | None = None, reason: str | None = None) -> int:
        """Re-encrypt every entry under ``new_key`` in one transaction; returns the entries."""
        return self.rotation(new_key, actor=actor, reason=reason).entries

    def rotation(
        self,
        new_key: bytes,
        *,
        actor: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Rotation:
        """Re-encrypt every entry under ``new_key`` in one transaction, with its audit entry
        (``vault.rotate``: counts and key ids, plus ``details``; never a key).

        Lookup references are keyed too, so they are recomputed from the (decrypted) patient
        keys. The whole vault is read into memory: run it off-hours on a large vault.
        """
        new = _Keys(new_key)
        old = self._keys
        if new.key_id == old.key_id:
            raise VaultError("la nouvelle clé du coffre est identique à l'actuelle")
        vp, ve, vk = schema.vault_patient, schema.vault_entry, schema.vault_key
        with self.wh.begin() as conn:
            self._lock(conn)
            self._check_key(conn, register=True)
            now = _now()
            refs: dict[str, str] = {}
            patients = []
            for r in conn.execute(select(vp)).all():
                patient_key = old.open(r.patient_key_enc, "patient", r.patient_ref)
                offset = old.open(r.date_offset_enc, "offset", r.patient_ref)
                ref = refs[r.patient_ref] = new.ref(patient_key)
                patients.append(
                    {
                        "patient_ref": ref,
                        "key_id": new.key_id,
                        "patient_key_enc": new.seal(patient_key, "patient", ref),
                        "date_offset_enc": new.seal(offset, "offset", ref),
                        "created_at": r.created_at,
                    }
                )
            entries = []
            for r in conn.execute(select(ve)).all():
                original = old.open(r.original_enc, "entry", r.patient_ref, r.label, r.surrogate)
                ref = refs.get(r.patient_ref)
                if ref is None:
                    raise VaultError("entrée du coffre sans patient : coffre incohérent")
                entries.append(
                    {
                        "patient_ref": ref,
                        "label": r.label,
                        "surrogate": r.surrogate,
                        "original_enc": new.seal(original, "entry", ref, r.label, r.surrogate),
                        "key_id": new.key_id,
                        "created_at": r.created_at,
                    }
                )
            conn.execute(delete(ve))
            conn.execute(delete(vp))
            self.wh.insert_rows(conn, vp, patients)
            self.wh.insert_rows(conn, ve, entries)
            conn.execute(update(vk).where(vk.c.retired_at.is_(None)).values(retired_at=now))
            conn.execute(vk.insert().values(key_id=new.key_id, created_at=now))
            entry = audit.record(
                conn,
                actor,
                "vault.rotate",
                "vault",
                reason,
                {
                    **(details or {}),
                    "old_key_id": old.key_id,
                    "new_key_id": new.key_id,
                    "patients": len(patients),
                    "entries": len(entries),
                },
            )
        self._keys = new
        return Rotation(len(patients), len(entries), old.key_id, new.key_id, entry)

    # -- helpers ------------------------------------------------------------------------------

    def _lock(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":  # re-entrant: Warehouse.begin() may hold it
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})

    def check_key(self) -> None:
        """Raise :class:`VaultError` when the vault is encrypted under another key (an empty
        vault accepts any); nothing is written."""
        with self.wh.engine.connect() as conn:
            self._check_key(conn)

    def _check_key(self, conn: Connection, register: bool = False) -> None:
        vk = schema.vault_key
        active = conn.execute(select(vk.c.key_id).where(vk.c.retired_at.is_(None))).scalars().all()
        if not active:
            if register:  # first write: this key becomes the vault's key
                conn.execute(vk.insert().values(key_id=self.key_id, created_at=_now()))
            return
        if self.key_id not in active:
            staged = self._staged_key_message(active[0])
            raise VaultError(
                staged
                or f"clé du coffre incorrecte : le coffre est chiffré avec la clé {active[0]}, "
                f"la clé fournie est {self.key_id} (HOPIA_VAULT_KEY ou <home>/vault.key ; "
                "après un renouvellement de la clé, HOPIA_VAULT_KEY doit recevoir la nouvelle)",
                details={"vault_key_id": active[0], "given_key_id": self.key_id},
            )

    def _staged_key_message(self, active: str) -> str | None:
        """The French message for a wrong key when a rotation left a staged key file."""
        staged = self.staged_key_file
        if staged is None or not staged.exists():
            return None
        key_file = staged.with_name(VAULT_FILE)
        try:
            staged_id = _Keys(read_vault_key_file(staged)[1]).key_id
        except HopiaError as exc:
            return (
                f"clé du coffre incorrecte (le coffre est chiffré avec la clé {active}, "
                f"{key_file} contient la clé {self.key_id}), et une clé en attente d'une "
                f"rotation interrompue existe dans {staged}, illisible : {exc.message}"
            )
        if staged_id != active:
            return (
                f"clé du coffre incorrecte : le coffre est chiffré avec la clé {active}, "
                f"{key_file} contient la clé {self.key_id} et la clé en attente {staged} (laissée "
                f"par une rotation interrompue) la clé {staged_id} : aucune ne convient, "
                "restaurez la clé du coffre depuis la sauvegarde des clés"
            )
        return (
            f"rotation de la clé du coffre interrompue : le coffre a été rechiffré avec la "
            f"nouvelle clé {active}, restée en attente dans {staged} ; {key_file} contient "
            f"encore l'ancienne ({self.key_id}). Mettez la nouvelle en place avant toute autre "
            f"commande : gardez l'ancienne (mv {key_file} {key_file}.<date>.old), puis "
            f"mv {staged} {key_file} (droits 600), et sauvegardez la nouvelle clé à part de "
            "l'entrepôt"
        )

    def _entries(self, conn: Connection, ref: str) -> list[Restored]:
        ve = schema.vault_entry
        rows = conn.execute(
            select(ve.c.label, ve.c.surrogate, ve.c.original_enc).where(ve.c.patient_ref == ref)
        ).all()
        return [
            Restored(
                r.label,
                r.surrogate,
                self._keys.open(r.original_enc, "entry", ref, r.label, r.surrogate),
            )
            for r in rows
        ]

    def _offset(self, conn: Connection, ref: str) -> int | None:
        vp = schema.vault_patient
        token = conn.execute(select(vp.c.date_offset_enc).where(vp.c.patient_ref == ref)).scalar()
        return None if token is None else int(self._keys.open(token, "offset", ref))

    def _search(self, conn: Connection, surrogates: list[str]) -> dict[str, list[Restored]]:
        """Surrogates looked up across every patient (no patient key given)."""
        ve = schema.vault_entry
        found: dict[str, list[Restored]] = {}
        for chunk in _chunks(surrogates):
            for r in conn.execute(select(ve).where(ve.c.surrogate.in_(chunk))):
                original = self._keys.open(
                    r.original_enc, "entry", r.patient_ref, r.label, r.surrogate
                )
                found.setdefault(r.surrogate, []).append(Restored(r.label, r.surrogate, original))
        return found

    def _person_id(self, conn: Connection, patient_key: str) -> int | None:
        t = schema.patient
        return conn.execute(select(t.c.person_id).where(t.c.ipp == patient_key)).scalar()


def _by_surrogate(entries: Iterable[Restored]) -> dict[str, Restored]:
    # One surrogate under two labels (rare): the most identifying label wins, as in merging.
    ordered = sorted(entries, key=lambda e: _LABEL_RANK.get(e.label, 99), reverse=True)
    return {e.surrogate: e for e in ordered}


def _restore_text(text: str, entries: list[Restored]) -> tuple[str, list[Restored]]:
    """Replace every whole-word occurrence of the patient's surrogates, longest first."""
    by_surrogate = _by_surrogate(entries)
    if not by_surrogate or not text:
        return text, []
    alternatives = []
    for s in sorted(by_surrogate, key=len, reverse=True):
        left = r"(?<!\w)" if re.match(r"\w", s[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", s[-1]) else ""
        alternatives.append(left + re.escape(s) + right)
    restored: list[Restored] = []

    def swap(m: re.Match[str]) -> str:
        e = by_surrogate[m.group(0)]
        restored.append(Restored(e.label, e.surrogate, e.original, m.start(), m.end()))
        return e.original

    return re.sub("|".join(alternatives), swap, text), restored


def _os_user_if_other(actor: str | None) -> dict[str, str]:
    # An actor named on the command line is a claim: keep who actually ran the process.
    os_user = audit.current_actor()
    return {"os_user": os_user} if actor and actor.strip() and actor.strip() != os_user else {}
