"""French dictation conventions (issue 14, item 3): spoken punctuation and layout, section
commands, numbers, doses and dates, each piece of text keeping the time it was said."""

from __future__ import annotations

import pytest

from hopia.care.dictation.conventions import Word, apply_conventions, section_label


def said(text: str) -> list[Word]:
    """Words as a recogniser gives them: one every half second."""
    return [Word(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(text.split())]


def written(text: str) -> str:
    return apply_conventions(said(text)).text


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        # punctuation and layout
        ("pas de fièvre virgule pas de toux point", "Pas de fièvre, pas de toux."),
        ("douleur point virgule fièvre point", "Douleur ; fièvre."),
        ("allergie point d'interrogation", "Allergie ?"),
        ("fièvre point à la ligne toux point", "Fièvre.\nToux."),
        ("fièvre point nouveau paragraphe toux", "Fièvre.\n\nToux"),
        (
            "toux ouvrez la parenthèse sèche fermez la parenthèse point",
            "Toux (sèche).",
        ),
        # clinical words that look like commands stay words
        ("un point de côté droit point", "Un point de côté droit."),
        ("deux points de suture point", "2 points de suture."),
        # section commands
        (
            "antécédents deux points hypertension artérielle point traitement deux points "
            "bisoprolol",
            "Antécédents : hypertension artérielle.\nTraitement : bisoprolol",
        ),
        ("conclusion à la ligne pas de fièvre", "Conclusion : pas de fièvre"),
        # a section title inside a sentence is a word
        ("le traitement deux points est", "Le traitement : est"),
        ("le patient dit deux points il a mal", "Le patient dit : il a mal"),
        # numbers, doses, frequencies
        (
            "metformine cinq cents milligrammes deux fois par jour point",
            "Metformine 500 mg × 2/j.",
        ),
        ("créatinine quatre-vingt-douze micromoles par litre", "Créatinine 92 µmol/L"),
        ("hémoglobine douze virgule cinq grammes par décilitre", "Hémoglobine 12,5 g/dL"),
        ("amoxicilline un gramme trois fois par jour", "Amoxicilline 1 g × 3/j"),
        ("pendant dix jours", "Pendant 10 jours"),
        ("tension cent quarante millimètres de mercure", "Tension 140 mmHg"),
        ("saturation quatre-vingt-quinze pour cent", "Saturation 95 %"),
        # articles stay articles
        ("une toux et un malaise", "Une toux et un malaise"),
        # dates
        ("vu le douze mars deux mille vingt-quatre point", "Vu le 12/03/2024."),
        ("depuis le premier janvier", "Depuis le 01/01"),
        # what the recogniser already wrote passes through
        ("Paracétamol 1 gramme trois fois par jour.", "Paracétamol 1 g × 3/j."),
        (
            "Antécédents: HTA. Kardégic 75 mg par jour.",
            "Antécédents : HTA. Kardégic 75 mg par jour.",
        ),
    ],
)
def test_conventions(spoken: str, expected: str) -> None:
    assert written(spoken) == expected


def test_each_piece_keeps_its_time() -> None:
    dictated = apply_conventions(
        said("antécédents deux points diabète point cinq cents milligrammes")
    )
    text = dictated.text
    assert text == "Antécédents : diabète. 500 mg"
    start = text.index("diabète")
    assert dictated.audio_range(start, start + len("diabète")) == (1.5, 1.9)
    dose = text.index("500 mg")
    # "cinq cents milligrammes" are words 5 to 7
    assert dictated.audio_range(dose, dose + 6) == (2.5, 3.9)
    # the colon of the heading was not said: no time
    colon = text.index(":")
    assert dictated.audio_range(colon, colon + 1) is None


def test_no_words_no_text() -> None:
    assert apply_conventions([]).text == ""


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Antécédents", "antécédents"),
        ("histoire de la maladie", "histoire de la maladie"),
        ("Conclusion", "conclusion"),
        ("Pneumopathie", None),
    ],
)
def test_section_label(title: str, label: str | None) -> None:
    assert section_label(title) == label
