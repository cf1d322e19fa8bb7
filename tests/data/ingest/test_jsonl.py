"""JsonlReader: one document per line; a broken line fails alone and reading goes on."""

from __future__ import annotations

import json
from datetime import date

import pytest

from hopia.data.ingest.jsonl import JsonlReader
from hopia.data.records import RawDocument, ReadFailure
from hopia.platform.exceptions import SourceError
from tests.data.ingest.conftest import assert_ingest_error


def line(**record: object) -> str:
    return json.dumps(record, ensure_ascii=False)


GOOD = line(
    id="n1",
    text="Fièvre à 39 °C.\r\nToux productive.",
    patient_id="123456",
    date="2024-03-05",
    type="Consultation",
)


def test_records_are_read_with_metadata(write) -> None:
    second = line(id="n2", text="Sortie à J3.", date="2024-03-08T14:30:00+01:00")
    path = write("notes.jsonl", GOOD + "\n\n" + second + "\n")
    first, other = JsonlReader().read(path)
    assert isinstance(first, RawDocument)
    assert first.text == "Fièvre à 39 °C.\nToux productive."
    assert (first.external_id, first.ipp, first.patient_ipp) == ("n1", "123456", "123456")
    assert (first.doc_date, first.doc_type) == (date(2024, 3, 5), "Consultation")
    assert (first.format, first.source_path, first.source_ref) == ("jsonl", str(path), f"{path}#L1")
    assert other.source_ref == f"{path}#L3"  # the blank line 2 is skipped but still counted
    assert other.doc_date == date(2024, 3, 8) and other.ipp is None and other.doc_type is None


def test_broken_lines_fail_alone(write) -> None:
    lines = [
        GOOD,
        '{"id": "n2", "text": "coupé',
        line(id="n3"),
        line(id="n4", text="   "),
        line(id="n5", text=["liste"]),
        line(id="n6", text="Bilan normal.", date="2024-13-45"),
        "[1, 2, 3]",
        line(id=7, text="Identifiant numérique."),
        line(id="n8", text="Contrôle à 3 mois.", patient_id=""),
    ]
    path = write("notes.ndjson", "\n".join(lines) + "\n")
    results = list(JsonlReader().read(path))
    assert [r.source_ref for r in results] == [f"{path}#L{i}" for i in range(1, 10)]
    good = [r for r in results if isinstance(r, RawDocument)]
    assert [d.external_id for d in good] == ["n1", "n8"]
    assert good[1].ipp is None
    reasons = {
        int(r.source_ref.rsplit("#L", 1)[1]): r.reason
        for r in results
        if isinstance(r, ReadFailure)
    }
    assert reasons == {
        2: "ligne 2 : JSON invalide : chaîne non terminée (colonne 22)",
        3: "ligne 3 : champ « text » manquant",
        4: "ligne 4 : champ « text » vide",
        5: "ligne 5 : champ « text » : chaîne attendue (reçu list)",
        6: "ligne 6 : date invalide (attendu AAAA-MM-JJ)",
        7: "ligne 7 : la ligne n'est pas un objet JSON",
        8: "ligne 8 : champ « id » : chaîne attendue (reçu int)",
    }
    failure = next(r for r in results if isinstance(r, ReadFailure))
    assert failure.raw.startswith(b'{"id": "n2"') and failure.format == "jsonl"


def test_stay_fields_are_read(write) -> None:
    stay = line(
        id="s1",
        text="Sortie ce jour.",
        patient_id="123456",
        date="2024-03-08",
        type="CRH",
        visit_id=" 24001234 ",
        visit_start="2024-03-02",
        visit_end="2024-03-08T11:00:00+01:00",
        service="Cardiologie",
    )
    blank = line(id="s2", text="Bilan.", visit_id="  ", service="", visit_start=None)
    path = write("stays.jsonl", stay + "\n" + blank + "\n")
    first, second = JsonlReader().read(path)
    assert (first.visit_id, first.service) == ("24001234", "Cardiologie")
    assert (first.visit_start, first.visit_end) == (date(2024, 3, 2), date(2024, 3, 8))
    assert second.visit_id is second.visit_start is second.visit_end is second.service is None
    [plain] = JsonlReader().read(write("plain.jsonl", GOOD))
    assert plain.visit_id is None and plain.service is None


def test_bad_stay_fields_fail_their_line(write) -> None:
    lines = [
        line(id="b1", text="a", visit_id=24001234),
        line(id="b2", text="b", visit_id="24001234", visit_start="02/03/2024"),
        line(id="b3", text="c", visit_id="24001234", visit_end="2024-02-30"),
        line(
            id="b4", text="d", visit_id="24001234", visit_start="2024-03-08", visit_end="2024-03-02"
        ),
        line(id="b5", text="e", service=["cardio"]),
        line(id="b6", text="f", visit_id="24001234", visit_start="2024-03-02"),
    ]
    path = write("bad.jsonl", "\n".join(lines) + "\n")
    results = list(JsonlReader().read(path))
    reasons = [r.reason if isinstance(r, ReadFailure) else None for r in results]
    assert reasons == [
        "ligne 1 : champ « visit_id » : chaîne attendue (reçu int)",
        "ligne 2 : champ « visit_start » : date invalide (attendu AAAA-MM-JJ)",
        "ligne 3 : champ « visit_end » : date invalide (attendu AAAA-MM-JJ)",
        "ligne 4 : séjour incohérent : « visit_end » (2024-03-02) antérieur à « visit_start » "
        "(2024-03-08)",
        "ligne 5 : champ « service » : chaîne attendue (reçu list)",
        None,
    ]
    assert results[-1].visit_start == date(2024, 3, 2) and results[-1].visit_end is None


def test_cp1252_lines_are_decoded(write) -> None:
    path = write("latin.jsonl", (line(id="a", text="Patiente en fièvre.") + "\n").encode("cp1252"))
    [doc] = JsonlReader().read(path)
    assert doc.text == "Patiente en fièvre."


def test_utf16_with_bom_is_decoded(write) -> None:
    content = GOOD + "\r\n" + line(id="n2", text="Œdème des chevilles.") + "\r\n"
    path = write("utf16.jsonl", content.encode("utf-16"))
    first, second = JsonlReader().read(path)
    assert first.text == "Fièvre à 39 °C.\nToux productive."
    assert second.text == "Œdème des chevilles."


def test_utf8_bom_is_stripped(write) -> None:
    path = write("bom.jsonl", b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    [doc] = JsonlReader().read(path)
    assert doc.external_id == "n1"


def test_binary_file_is_refused(write) -> None:
    path = write("binaire.jsonl", bytes(range(256)) * 4)
    with pytest.raises(SourceError) as excinfo:
        list(JsonlReader().read(path))
    assert_ingest_error(excinfo, "fichier binaire ou corrompu (octets nuls)", path)


@pytest.mark.parametrize(
    ("content", "reason"), [(b"", "fichier vide"), (b"\n \n\n", "aucune ligne")]
)
def test_empty_file_is_refused(write, content: bytes, reason: str) -> None:
    path = write("vide.jsonl", content)
    with pytest.raises(SourceError) as excinfo:
        list(JsonlReader().read(path))
    assert_ingest_error(excinfo, reason, path)
