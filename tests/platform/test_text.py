"""Text helpers of the platform."""

from __future__ import annotations

from hopia.platform.text import without_quoted


def test_quoted_input_never_reaches_a_message() -> None:
    # what exception messages look like when they quote the patient text they choked on
    assert without_quoted("could not convert string to float: 'Dupont'") == (
        "could not convert string to float: '…'"
    )
    assert without_quoted('Duplicate key "ipp: 0123456" violates\nunique') == (
        "Duplicate key '…' violates unique"
    )
    assert without_quoted("« Marie Durand » inconnue") == "'…' inconnue"


def test_a_long_message_is_cut() -> None:
    cut = without_quoted("x" * 500, 50)
    assert len(cut) == 50 and cut.endswith("…")


def test_json_problems_are_said_in_french() -> None:
    import json

    import pytest

    from hopia.platform.text import json_problem

    for bad, expected in [
        ('{"a": 1,', "nom de champ entre guillemets attendu"),
        ('{"a" 1}', "deux-points attendus"),
        ('{"a": "b', "chaîne non terminée"),
        ("{} {}", "données en trop après la valeur"),
        ('{"n": ' + "9" * 5000 + "}", "nombre de plus de 4 300 chiffres"),
    ]:
        with pytest.raises(ValueError) as err:
            json.loads(bad)
        assert json_problem(err.value) == expected
