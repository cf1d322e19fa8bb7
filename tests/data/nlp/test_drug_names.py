"""ATC codes of a drug name by its ingredient, from eds.drugs' dictionary."""

from __future__ import annotations

import pytest

pytest.importorskip("edsnlp", reason="the nlp extra is not installed (pip install 'hopia[nlp]')")

from hopia.data.nlp.drug_names import atc_codes, combination_codes  # noqa: E402


def test_a_listed_name_gets_its_codes() -> None:
    assert atc_codes("Kardégic") == {"B01AC06"}
    assert "B01AC06" in atc_codes("aspirine") and "N02BA01" in atc_codes("aspirine")
    assert atc_codes("Augmentin") == atc_codes("amoxicilline-acide clavulanique") == {"J01CR02"}


def test_an_ingredient_written_without_its_salt_gets_its_code() -> None:
    assert "R03BB04" in atc_codes("tiotropium")  # listed as "tiotropium bromure"
    assert atc_codes("thiamine") == {"A11DA01"}  # "thiamine (vit b1)": no combination


def test_an_ingredient_is_in_its_combinations_but_they_are_not_its_codes() -> None:
    assert atc_codes("budésonide") == {"R03BA02"}
    assert "R03AK07" in combination_codes("budésonide")  # formoterol et budesonide
    assert "R03AK07" not in atc_codes("formotérol")
    # rifampicine and isoniazide share combinations, not a code
    assert not atc_codes("rifampicine") & atc_codes("isoniazide")
    assert combination_codes("rifampicine") & combination_codes("isoniazide")


@pytest.mark.parametrize("name", ["acide", "insuline", "chlorure", "Zorglub", "", "12 mg"])
def test_words_that_name_no_ingredient_get_nothing(name: str) -> None:
    assert atc_codes(name) == frozenset()
    assert combination_codes(name) == frozenset()
