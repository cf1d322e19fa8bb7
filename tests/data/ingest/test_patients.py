"""Patient registry files: JSONL or CSV, all-or-nothing, errors without identifying values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hopia.data.records.patients import read_patients
from hopia.platform.exceptions import SourceError


def test_jsonl_and_csv_registries(tmp_path: Path) -> None:
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        '{"ipp": "801", "family_name": "Le Goff", "given_name": "Anne", "birth_date": "1950-02-03",'
        ' "sex": "f"}\n\n{"ipp": " 802 ", "city": "Brest"}\n',
        encoding="utf-8",
    )
    first, second = read_patients(jsonl)
    assert (first.ipp, first.family_name, first.birth_date, first.sex) == (
        "801",
        "Le Goff",
        date(1950, 2, 3),
        "F",
    )
    assert (second.ipp, second.city, second.birth_date) == ("802", "Brest", None)
    csv = tmp_path / "p.csv"
    csv.write_text("ipp,family_name,birth_date\n803,Morvan,1971-12-30\n", encoding="utf-8-sig")
    [only] = read_patients(csv)
    assert only.family_name == "Morvan" and only.birth_date == date(1971, 12, 30)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"family_name": "Sans IPP"}', "sans IPP"),
        ('{"ipp": "1", "birth_date": "17/05/1948"}', "date de naissance invalide"),
        ('{"ipp": "1", "sex": "X"}', "sexe invalide"),
        ('{"ipp": "1",', "JSON invalide"),
        ('["not", "an", "object"]', "objet attendu"),
    ],
)
def test_bad_record_names_the_line_not_the_value(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"ipp": "9"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=reason) as info:
        list(read_patients(path))
    assert f"{path}#L2" in str(info.value)
    assert "17/05/1948" not in str(info.value)


def test_unreadable_registry(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SourceError, match="registre patients illisible"):
        list(read_patients(path))
