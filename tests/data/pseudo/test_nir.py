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
