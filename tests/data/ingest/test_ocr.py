"""The OCR's evaluation measure: edit distance against a plain dynamic programme."""

from __future__ import annotations

import random

import pytest

from hopia.data.ingest.ocr import character_error_rate, edit_distance


def _reference_distance(a: str, b: str) -> int:
    """The textbook O(n·m) Wagner-Fischer table."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("DUPONT", "DUP0NT", 1),
        ("née le 03/04/1950", "nee le 03/04/195O", 2),
    ],
)
def test_known_distances(a: str, b: str, expected: int) -> None:
    assert edit_distance(a, b) == expected == edit_distance(b, a)


def test_random_strings_match_the_table() -> None:
    rng = random.Random(5)
    for _ in range(300):
        a = "".join(rng.choice("abcé ") for _ in range(rng.randrange(0, 90)))
        b = "".join(rng.choice("abcé ") for _ in range(rng.randrange(0, 90)))
        assert edit_distance(a, b) == _reference_distance(a, b), (a, b)


def test_character_error_rate_ignores_layout_blanks() -> None:
    assert character_error_rate("Lyon,  le\n3 mai", "Lyon, le 3 mai") == 0.0
    assert character_error_rate("abcd", "abed") == 0.25
    assert character_error_rate("", "") == 0.0
