"""French numbers in digits and words (hopia.data.nlp.numbers): values checked by hand."""

from __future__ import annotations

import pytest

from hopia.data.nlp.numbers import MAX_DIGITS, as_int, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("zéro", 0),
        ("un", 1),
        ("une", 1),
        ("dix", 10),
        ("onze", 11),
        ("quinze", 15),
        ("seize", 16),
        ("dix-sept", 17),
        ("dix huit", 18),
        ("dix-neuf", 19),
        ("vingt", 20),
        ("vingt et un", 21),
        ("vingt-et-un", 21),
        ("vingt-deux", 22),
        ("trente et une", 31),
        ("quarante-cinq", 45),
        ("soixante", 60),
        ("soixante-dix", 70),
        ("soixante et onze", 71),
        ("soixante-dix-neuf", 79),
        ("quatre-vingts", 80),
        ("quatre-vingt", 80),
        ("quatre-vingt-un", 81),
        ("quatre-vingt-douze", 92),
        ("quatre-vingt-dix-neuf", 99),
        ("cent", 100),
        ("cent un", 101),
        ("deux cents", 200),
        ("trois cent cinquante", 350),
        ("mille", 1000),
        ("deux mille", 2000),
        ("mille deux cents", 1200),
        ("septante", 70),
        ("nonante-neuf", 99),
        ("Quinze", 15),
        ("DIX", 10),
        ("une dizaine", 10),
        ("une douzaine", 12),
        ("une quinzaine", 15),
        ("une vingtaine", 20),
        ("une centaine", 100),
        ("deux dizaines", 20),
        ("un millier", 1000),
        ("demi", 0.5),
        ("une demie", 0.5),
        ("un demi", 0.5),
        ("deux et demi", 2.5),
        ("une et demie", 1.5),
        ("12", 12),
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("0,25", 0.25),
        ("1 000", 1000),
        ("180\u00a0000", 180000),
        ("1\u202f250,5", 1250.5),
    ],
)
def test_reads_french_numbers(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "jours",
        "dix ans",  # a number and a noun is not a number
        "et",
        "vingt et",
        "et un",
        "1,5,2",
        "9" * (MAX_DIGITS + 1),  # too long to be a clinical value
        "9" * 5000,  # int() refuses more than 4,300 digits; float() gives inf
        "²",
        "1/2",
    ],
)
def test_gives_none_for_what_is_not_a_number(text: str) -> None:
    assert parse_number(text) is None


def test_other_scripts_digits_are_read() -> None:
    # \d matches them in the pipes' regular expressions: the parser must not choke on them
    assert parse_number("\u0661\u0662") == 12  # Arabic-Indic 1, 2
    assert parse_number("\uff13") == 3  # fullwidth 3


def test_as_int() -> None:
    assert as_int(3.0) == 3
    assert as_int(2.5) is None
    assert as_int(None) is None
    assert as_int(float("inf")) is None
