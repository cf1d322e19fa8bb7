"""File names that are not UTF-8: one printable, stable form."""

from __future__ import annotations

import os
from pathlib import Path

from hopia.platform.exceptions import SourceError
from hopia.platform.pathnames import is_printable, printable


def test_a_latin1_name_is_written_with_its_bytes_escaped(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"r\xe9sum\xe9.txt")
    path = Path(os.fsdecode(raw))  # what os.walk gives: lone surrogates
    shown = printable(path)
    assert shown == f"{tmp_path}/r\\xe9sum\\xe9.txt"
    assert shown.encode("utf-8")  # storable and printable
    assert printable(path) == shown and printable(raw) == shown  # stable, from str or bytes
    assert not is_printable(path) and is_printable(shown)


def test_valid_names_are_unchanged() -> None:
    for name in ("résumé.txt", "a/b c.pdf", "名前.docx"):
        assert printable(name) == name and is_printable(name)


def test_a_surrogate_that_is_no_escaped_byte_is_still_printable() -> None:
    assert printable("a\ud800b") == "a\\xed\\xa0\\x80b"


def test_source_errors_carry_the_printable_name() -> None:
    err = SourceError(os.fsdecode(b"/in/r\xe9sum\xe9.txt"), "fichier vide")
    assert err.path == "/in/r\\xe9sum\\xe9.txt"
    assert str(err) == "/in/r\\xe9sum\\xe9.txt: fichier vide"
