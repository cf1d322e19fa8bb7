from __future__ import annotations

import pytest

from hopia.management.steering.chapters import UNCODED, chapter, is_code, title


@pytest.mark.parametrize(
    ("code", "number"),
    [
        ("A41.9", "I"),
        ("C34.9", "II"),
        ("D48.0", "II"),
        ("D50.0", "III"),
        ("E11.9", "IV"),
        ("H59.8", "VII"),
        ("H60.1", "VIII"),
        ("I50.9", "IX"),
        ("J44.1", "X"),
        ("S72.0", "XIX"),
        ("T81.4", "XIX"),
        ("V01", "XX"),
        ("Z49.1", "XXI"),
        ("U07.1", "XXII"),
        ("i509", "IX"),
        ("insuffisance cardiaque", UNCODED),
        (None, UNCODED),
    ],
)
def test_chapters(code: str | None, number: str) -> None:
    assert chapter(code) == number


def test_titles_and_codes() -> None:
    assert title("IX") == "Maladies de l'appareil circulatoire"
    assert title(UNCODED).startswith("Sans")
    assert is_code("N39.0") and not is_code("dyspnée")
    assert not is_code(None) and not is_code(float("nan"))  # a NULL condition_source_value
