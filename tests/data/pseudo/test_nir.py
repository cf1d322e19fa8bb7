"""NIR parsing and key check (INSEE rules, Corsica included)."""

from __future__ import annotations

import pytest

from hopia.data.pseudo.nir import compute_key, is_valid_nir, parse_nir, with_key


def test_published_example_key() -> None:
    # INSEE's own example number: body 2 55 08 14 168 025, key 38
    assert compute_key("2550814168025") == 38
    assert is_valid_nir("2 55 08 14 168 025 38")


@pytest.mark.parametrize(
    "written",
    ["255081416802538", "2 55 08 14 168 025 38", "2.55.08.14.168.025.38", "2-55-08-14-168-025-38"],
)
def test_separators_are_ignored(written: str) -> None:
    assert is_valid_nir(written)


def test_invalid_key_is_rejected_but_still_parsed() -> None:
    nir = parse_nir("2 55 08 14 168 025 39")
    assert nir is not None and nir.key == "39" and not nir.key_ok
    assert not is_valid_nir("2 55 08 14 168 025 39")


@pytest.mark.parametrize(("dept", "substitute"), [("2A", "19"), ("2B", "18")])
def test_corsica_departements_count_as_19_and_18(dept: str, substitute: str) -> None:
    body = f"26905{dept}032005"
    expected = 97 - int(f"26905{substitute}032005") % 97
    assert compute_key(body) == expected
    assert is_valid_nir(f"{body}{expected:02d}")
    assert is_valid_nir(f"2 69 05 {dept.lower()} 032 005 {expected:02d}")
    assert not is_valid_nir(f"{body}{(expected % 97) + 1:02d}")


def test_structure_is_checked() -> None:
    assert parse_nir("5550814168025") is None  # sex digit 5 does not exist
    assert parse_nir("2551514168025") is None  # month 15
    assert parse_nir("2550800168025") is None  # département 00
    assert parse_nir("25508141680") is None  # too short
    assert parse_nir("1234567890123") is None  # month 45
    assert parse_nir("2556014168025") is not None  # month 60: INSEE special cases are legal


def test_with_key_round_trip() -> None:
    assert is_valid_nir(with_key("1841275115123"))
    assert with_key("2550814168025") == "255081416802538"


# -- letter-spaced NIR (one character a box) ----------------------------------------------------


def _boxes(number: str) -> str:
    return " ".join(number)


@pytest.mark.parametrize(
    "template",
    [
        "N° SS : {nir}\n",
        "DUPONT Jean  {nir}  2 9 1 0 1 8 9 5\n",  # another field two blanks away
        "Martin Paul {nir} 06-05-1980 Lyon\n",  # a date right after it
    ],
)
def test_a_letter_spaced_nir_whose_key_checks_is_found_whole(template: str) -> None:
    from hopia.data.pseudo.nir import spaced_nirs
    from hopia.data.pseudo.rules import detect_rules

    nir = _boxes(with_key("1800175115001"))
    text = template.format(nir=nir)
    start = text.index(nir)
    assert spaced_nirs(text) == [(start, start + len(nir), "nir:cases")]
    spans = detect_rules(text)
    assert any(s.label == "SECU" and s.start <= start and s.end >= start + len(nir) for s in spans)


def test_a_letter_spaced_nir_body_without_key_needs_a_plausible_body() -> None:
    from hopia.data.pseudo.nir import spaced_nirs

    plausible = _boxes("2830675115001")  # woman, born in June 83
    assert spaced_nirs(f"Assurée {plausible}\n") == [(8, 8 + len(plausible), "nir:cases-sans-cle")]
    assert spaced_nirs(f"Assurée {_boxes('2831875115001')}\n") == []  # month 18
    assert spaced_nirs(f"Assurée {_boxes('5830675115001')}\n") == []  # sex 5


def test_cells_that_are_not_one_nir_are_left_to_the_other_rules() -> None:
    from hopia.data.pseudo.nir import spaced_nirs

    full = with_key("1800175115001")
    bad_key = full[:13] + f"{(int(full[13:]) % 97) + 1:02d}"
    assert spaced_nirs(_boxes(bad_key)) == []
    assert spaced_nirs(_boxes("1" + full)) == []  # 16 cells: a banner of several fields
    assert spaced_nirs("3 " + _boxes(full)) == []  # a cell before it: part of a longer run
    assert spaced_nirs(_boxes(full) + " 4") == []
