"""Key vault: encryption at rest, idempotent store, audited re-identification, wrong key,
rotation, notes restored at their recorded offsets, migration 1 -> 2 on DuckDB and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update

from hopia.data.pseudo import PhiSpan, Pseudonymiser, PseudoResult
from hopia.data.pseudo.vault import Vault
from hopia.platform import audit
from hopia.platform.exceptions import ReasonRequiredError, VaultError
from hopia.platform.warehouse import Warehouse, migrations, schema
from tests.platform.pg import postgres_url

REASON = "Demande du DIM, dossier 2024-117"
SECRET = b"test-secret-not-for-production"
DOCS = {
    "8000123456": [
        "Mme Odile LEMAIRE, née le 17/05/1948, tél 06 12 34 56 78, vue le 12/03/2024 à Rennes.",
        "Contrôle de Mme LEMAIRE le 20/03/2024. Pas de fièvre.",
    ],
    "8000654321": ["M. Yann KERBRAT, 14 rue des Tanneurs, 29200 Brest, NIR 1 61 11 29 019 004 85."],
}
VAULT_TABLES = (schema.vault_key, schema.vault_patient, schema.vault_entry)


@pytest.fixture(params=["duckdb", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'w.duckdb'}"
    else:
        with postgres_url() as pg:
            yield pg


@pytest.fixture
def wh(url: str) -> Iterator[Warehouse]:
    warehouse = Warehouse(url)
    yield warehouse
    warehouse.close()


@pytest.fixture
def ps() -> Pseudonymiser:
    return Pseudonymiser(SECRET, use_model=False)  # the vault does not depend on the detector


def key() -> bytes:
    return os.urandom(32)


def pseudonymised(ps: Pseudonymiser) -> list[tuple[str, PseudoResult, int]]:
    return [
        (ipp, ps.pseudonymise(t, patient_key=ipp), ps.date_offset_days(ipp))
        for ipp, texts in DOCS.items()
        for t in texts
    ]


def fill(wh: Warehouse, vault: Vault, items: list[tuple[str, PseudoResult, int]]):  # noqa: ANN201
    offsets = {k: offset for k, _, offset in items}
    with wh.begin() as conn:
        if len(items) == 1:  # the one-document form
            return vault.store(conn, *items[0])
        return vault.store_many(conn, [(k, r) for k, r, _ in items], offsets.__getitem__)


def audit_count(wh: Warehouse) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.audit_log)).scalar()


def all_cells(wh: Warehouse) -> str:
    with wh.engine.connect() as conn:
        return "\n".join(
            str(value) for t in VAULT_TABLES for row in conn.execute(select(t)) for value in row
        )


def test_originals_are_encrypted_and_read_back(wh: Warehouse, ps: Pseudonymiser) -> None:
    items = pseudonymised(ps)
    vault = Vault(wh, key())
    report = fill(wh, vault, items)
    originals = {s.text for _, r, _ in items for s in r.spans}
    assert report.patients == 2 and report.entries == len(
        {
            (k, s.label, new)
            for k, r, _ in items
            for s, new in zip(r.spans, r.surrogates, strict=True)
        }
    )
    cells = all_cells(wh)
    for secret in [*originals, *DOCS]:  # no original value, no IPP, in any column
        assert secret not in cells, secret
    texts = [t for ts in DOCS.values() for t in ts]
    for (ipp, result, offset), original in zip(items, texts, strict=True):
        got = vault.reidentify(result.pseudo_text, ipp, reason=REASON)
        assert got.text == original and got.missing == []
        assert got.date_offset_days == offset
        assert got.unshift(ps.shift_date(date(1948, 5, 17), ipp)) == date(1948, 5, 17)


def test_store_is_idempotent(wh: Warehouse, ps: Pseudonymiser) -> None:
    items = pseudonymised(ps)
    vault = Vault(wh, key())
    first = fill(wh, vault, items + items)  # duplicates inside one batch too
    again = fill(wh, vault, items)
    assert first.entries > 0 and first.conflicts == 0
    assert (again.patients, again.entries, again.existing) == (0, 0, first.entries)
    with wh.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(schema.vault_entry)).scalar()
    assert n == first.entries


def test_a_surrogate_already_stored_for_another_original_keeps_the_first(
    wh: Warehouse,
) -> None:
    vault = Vault(wh, key())
    one = PseudoResult(
        "Vu par Dr BERNARD.", [PhiSpan(10, 16, "NOM", "DURAND", "rule")], ["BERNARD"]
    )
    two = PseudoResult(
        "Vu par Dr BERNARD.", [PhiSpan(10, 16, "NOM", "DUPUIS", "rule")], ["BERNARD"]
    )
    fill(wh, vault, [("p1", one, 12)])
    report = fill(wh, vault, [("p1", two, 12)])
    assert (report.entries, report.conflicts) == (0, 1)
    assert vault.reidentify(["BERNARD"], "p1", reason=REASON).originals == {"BERNARD": "DURAND"}


def test_a_changed_date_offset_is_refused(wh: Warehouse, ps: Pseudonymiser) -> None:
    vault = Vault(wh, key())
    ipp, result, offset = pseudonymised(ps)[0]
    fill(wh, vault, [(ipp, result, offset)])
    with pytest.raises(VaultError, match="secret de pseudonymisation"):
        fill(wh, vault, [(ipp, result, offset + 1)])


@pytest.mark.parametrize("reason", [None, "", "   ", "curiosité"])
def test_reidentify_requires_a_reason(wh: Warehouse, ps: Pseudonymiser, reason: str | None) -> None:
    vault = Vault(wh, key())
    ipp, result, offset = pseudonymised(ps)[0]
    fill(wh, vault, [(ipp, result, offset)])
    with pytest.raises(ReasonRequiredError, match="motif obligatoire.*10 caractères"):
        vault.reidentify(result.pseudo_text, ipp, reason=reason)  # type: ignore[arg-type]
    assert audit_count(wh) == 0


def test_reidentify_writes_exactly_one_audit_entry(wh: Warehouse, ps: Pseudonymiser) -> None:
    vault = Vault(wh, key())
    items = pseudonymised(ps)
    fill(wh, vault, items)
    ipp, result, _ = items[0]
    got = vault.reidentify(result.pseudo_text, ipp, reason=REASON, actor="dr.martin")
    assert audit_count(wh) == 1
    entry = got.audit
    assert (entry.action, entry.actor, entry.reason) == ("reidentify", "dr.martin", REASON)
    assert entry.target.startswith("patient:")  # no identity registry here: the keyed ref
    assert ipp not in entry.target
    details = audit.canonical_json(entry.details)
    for s in result.spans:
        assert s.text not in details  # ids and counts only
    assert entry.details["restored"] == len(result.spans)
    # A list of surrogates, no patient: searched across the vault, audited too.
    surrogates = vault.reidentify(result.surrogates[:2] + ["ABSENT"], reason=REASON)
    assert surrogates.originals == {
        new: s.text for s, new in zip(result.spans[:2], result.surrogates[:2], strict=True)
    }
    assert surrogates.missing == ["ABSENT"] and audit_count(wh) == 2
    assert surrogates.audit.target == "vault:search"
    # A patient known to the identity registry: the target is the pseudonymous person id.
    with wh.begin() as conn:
        conn.execute(
            schema.patient.insert().values(
                patient_id=1, ipp=ipp, person_id=42, updated_at=datetime.now()
            )
        )
    known = vault.reidentify(result.surrogates, ipp, reason=REASON)
    assert known.audit.target == "person:42" and known.person_id == 42
    with wh.engine.connect() as conn:
        assert audit.verify(conn).ok


def test_nothing_is_returned_without_its_audit_entry(
    wh: Warehouse, ps: Pseudonymiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = Vault(wh, key())
    ipp, result, offset = pseudonymised(ps)[0]
    fill(wh, vault, [(ipp, result, offset)])

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditError("journal indisponible")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(audit.AuditError):
        vault.reidentify(result.pseudo_text, ipp, reason=REASON)


def test_a_text_needs_its_patient(wh: Warehouse) -> None:
    with pytest.raises(VaultError, match="clé du patient"):
        Vault(wh, key()).reidentify("Vu M. Yann MARTIN.", reason=REASON)


def test_only_whole_words_are_restored(wh: Warehouse) -> None:
    vault = Vault(wh, key())
    result = PseudoResult("Vu M. MARC.", [PhiSpan(6, 12, "NOM", "DUPONT", "rule")], ["MARC"])
    fill(wh, vault, [("p1", result, 3)])
    got = vault.reidentify("MARC marche ; MARCHE. (MARC)", "p1", reason=REASON)
    assert got.text == "DUPONT marche ; MARCHE. (DUPONT)"
    assert [(r.start, r.end) for r in got.restored] == [(0, 4), (23, 27)]


def test_a_wrong_key_fails_clearly(wh: Warehouse, ps: Pseudonymiser) -> None:
    vault = Vault(wh, key())
    items = pseudonymised(ps)
    fill(wh, vault, items)
    intruder = Vault(wh, key())
    ipp, result, _ = items[0]
    with pytest.raises(VaultError, match=f"clé du coffre incorrecte.*{vault.key_id}"):
        intruder.reidentify(result.pseudo_text, ipp, reason=REASON)
    with pytest.raises(VaultError, match="clé du coffre incorrecte"):
        fill(wh, intruder, items)  # nor can it write under another key
    assert audit_count(wh) == 0
    with pytest.raises(VaultError, match="32 octets"):
        Vault(wh, b"short")


def test_a_ciphertext_moved_to_another_row_is_refused(wh: Warehouse, ps: Pseudonymiser) -> None:
    vault = Vault(wh, key())
    ipp, result, offset = pseudonymised(ps)[0]
    fill(wh, vault, [(ipp, result, offset)])
    ve = schema.vault_entry
    with wh.begin() as conn:
        rows = conn.execute(select(ve.c.surrogate, ve.c.original_enc)).all()
        conn.execute(
            update(ve).where(ve.c.surrogate == rows[0].surrogate).values(original_enc=rows[1][1])
        )
    with pytest.raises(VaultError, match="déchiffrement impossible"):
        vault.reidentify(result.pseudo_text, ipp, reason=REASON)


def test_rotation_reencrypts_everything(wh: Warehouse, ps: Pseudonymiser) -> None:
    old_key, new_key = key(), key()
    vault = Vault(wh, old_key)
    items = pseudonymised(ps)
    report = fill(wh, vault, items)
    with wh.engine.connect() as conn:
        before = conn.execute(select(schema.vault_entry)).all()
    assert vault.rotate(new_key, reason="rotation annuelle") == report.entries
    with wh.engine.connect() as conn:
        after = conn.execute(select(schema.vault_entry)).all()
        key_ids = {
            k for t in (schema.vault_patient, schema.vault_entry) for k in
            conn.execute(select(t.c.key_id)).scalars()
        }  # fmt: skip
        active = (
            conn.execute(
                select(schema.vault_key.c.key_id).where(schema.vault_key.c.retired_at.is_(None))
            )
            .scalars()
            .all()
        )
        last = conn.execute(select(schema.audit_log.c.action)).scalars().all()
    assert len(after) == len(before) and key_ids == {vault.key_id} and active == [vault.key_id]
    assert not {r.original_enc for r in before} & {r.original_enc for r in after}
    assert not {r.patient_ref for r in before} & {r.patient_ref for r in after}  # keyed too
    assert last == ["vault.rotate"]
    with pytest.raises(VaultError, match="clé du coffre incorrecte"):
        Vault(wh, old_key).reidentify(["x"], reason=REASON)
    ipp, result, _ = items[0]
    fresh = Vault(wh, new_key).reidentify(result.pseudo_text, ipp, reason=REASON)
    assert fresh.text == DOCS[ipp][0]
    with pytest.raises(VaultError, match="identique"):
        vault.rotate(new_key)
    assert fill(wh, Vault(wh, new_key), items).entries == 0  # still idempotent after rotation


def test_note_is_restored_at_its_recorded_offsets(wh: Warehouse, ps: Pseudonymiser) -> None:
    """The ingest pipeline's layout: note (omop) -> document -> phi_span (hopia_id)."""
    ipp, original = "8000123456", DOCS["8000123456"][0]
    result = ps.pseudonymise(original, patient_key=ipp)
    doc_date = date(2024, 3, 12)
    with wh.begin() as conn:
        conn.execute(
            schema.CDM["note"]
            .insert()
            .values(
                note_id=7,
                person_id=3,
                note_date=ps.shift_date(doc_date, ipp),
                note_type_concept_id=0,
                note_class_concept_id=0,
                note_text=result.pseudo_text,
                encoding_concept_id=0,
                language_concept_id=0,
            )
        )
        conn.execute(
            schema.document.insert().values(
                document_id=1, content_hash="h" * 64, source_path="x", source_ref="x#1",
                format="jsonl", status="done", ipp=ipp, doc_date=doc_date, text=original,
                note_id=7, run_id=1, ingested_at=datetime.now(),
            )
        )  # fmt: skip
        conn.execute(
            schema.phi_span.insert(),
            [
                {
                    "document_id": 1,
                    "start_char": s.start,
                    "end_char": s.end,
                    "label": s.label,
                    "source": s.source,
                    "surrogate": new,
                }
                for s, new in zip(result.spans, result.surrogates, strict=True)
            ],
        )
    vault = Vault(wh, key())
    with wh.begin() as conn:
        stored = vault.store_document(conn, 1, ps.date_offset_days)
    assert stored.patients == 1 and stored.entries > 0
    got = vault.reidentify_note(7, reason=REASON)
    assert got.text == original and got.missing == []
    assert got.original_date == doc_date and got.person_id == 3
    assert (got.audit.target, got.audit.details["note_id"]) == ("note:7", 7)
    with pytest.raises(VaultError, match="note 8 introuvable"):
        vault.reidentify_note(8, reason=REASON)
    assert audit_count(wh) == 1


def test_migration_1_to_2(url: str, ps: Pseudonymiser, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        v1 = Warehouse(url)
        with v1.begin() as conn:
            conn.execute(
                schema.document.insert().values(
                    document_id=1, content_hash="a" * 64, source_path="x", source_ref="x#1",
                    format="jsonl", status="done", ipp="8000123456", text="Mme LEMAIRE.",
                    run_id=1, ingested_at=datetime.now(),
                )
            )  # fmt: skip
        names = {n.rsplit(".", 1)[-1] for n in inspect(v1.engine).get_schema_names()}
        assert schema.VAULT not in names  # migration 1 creates what it always created
        assert "audit_log" not in inspect(v1.engine).get_table_names(schema=schema.META)
        v1.close()
    v2 = Warehouse(url)  # opening at the latest version applies migration 2 only
    with v2.engine.connect() as conn:
        versions = conn.execute(select(schema.schema_migrations.c.version)).scalars().all()
        kept = conn.execute(text("SELECT count(*) FROM hopia_id.document")).scalar()
    assert versions[:2] == [1, 2] and kept == 1  # later migrations follow
    assert set(inspect(v2.engine).get_table_names(schema=schema.VAULT)) == {
        "vault_key",
        "vault_patient",
        "vault_entry",
    }
    vault = Vault(v2, key())
    ipp, result, offset = pseudonymised(ps)[0]
    fill(v2, vault, [(ipp, result, offset)])
    assert vault.reidentify(result.pseudo_text, ipp, reason=REASON).text == DOCS[ipp][0]
    v2.close()
