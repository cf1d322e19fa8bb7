"""Property-based tests (issue 11, item 1): no generated text makes any pipe of the full Hopia
pipeline fail, and French numbers written out by an independent writer read back exactly.

The texts are clinical-like: French clinical words, number words, digits (decimal comma, runs of
thousands of digits), units, qualifier cues, section titles, punctuation, accents and unicode
oddities (no-break and zero-width spaces, combining accents, ligatures, other scripts' digits,
emoji), very long tokens, empty text. The pipeline is loaded once per session (shared cache);
each example runs a small batch through :func:`extract_with_errors`, whose per-pipe isolation
would hide a crash, so the property is that **no pipe reports an error** and every entity's
offsets point at its text. Examples are derandomised: a failure in CI reproduces locally.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hopia.data.nlp import extract_with_errors, get_nlp
from hopia.data.nlp.numbers import parse_number
from hopia.platform.config import get_settings

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORDS = [
    "patient",
    "patiente",
    "douleur",
    "thoracique",
    "fièvre",
    "dyspnée",
    "insuffisance",
    "cardiaque",
    "diabète",
    "type",
    "hypertension",
    "artérielle",
    "HTA",
    "AVC",
    "infarctus",
    "myocarde",
    "cancer",
    "sein",
    "métastases",
    "hépatiques",
    "amoxicilline",
    "paracétamol",
    "Doliprane",
    "metformine",
    "bisoprolol",
    "furosémide",
    "Lovenox",
    "insuline",
    "morphine",
    "créatinine",
    "hémoglobine",
    "CRP",
    "potassium",
    "sodium",
    "albumine",
    "TA",
    "FC",
    "SpO2",
    "taille",
    "poids",
    "IMC",
    "glycémie",
    "HbA1c",
    "leucocytes",
    "plaquettes",
    "scanner",
    "IRM",
    "échographie",
    "biopsie",
    "TNM",
    "pT2N0M0",
    "Charlson",
    "SOFA",
    "COVID-19",
    "tabagisme",
    "alcool",
    "mère",
    "père",
    "frère",
    "antécédents",
    "traitement",
    "examen",
    "jours",
    "semaines",
    "mois",
    "heures",
    "fois",
    "par",
    "jour",
    "matin",
    "soir",
    "midi",
    "si",
    "besoin",
    "per",
    "os",
    "IV",
    "SC",
    "toutes",
    "les",
    "pendant",
    "durant",
    "depuis",
    "de",
    "à",
    "J1",
    "J14",
    "le",
    "la",
    "les",
    "du",
    "des",
    "une",
    "un",
    "et",
    "ou",
    "avec",
    "sans",
    "pas",
    "non",
    "aucun",
    "suspicion",
    "probable",
    "possible",
    "éliminé",
    "négatif",
    "négative",
    "positif",
    "normale",
    "stable",
]
NUMBER_WORDS = [
    "zéro",
    "un",
    "une",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "vingt",
    "vingt-et-un",
    "trente",
    "quarante",
    "cinquante",
    "soixante",
    "soixante-dix",
    "quatre-vingt",
    "quatre-vingts",
    "quatre-vingt-douze",
    "cent",
    "cents",
    "mille",
    "demi",
    "demie",
    "dizaine",
    "quinzaine",
    "centaine",
    "millier",
    "septante",
    "nonante",
    "et",
]
UNITS = [
    "mg",
    "g",
    "µg",
    "ug",
    "mcg",
    "UI",
    "ml",
    "mL",
    "L",
    "g/L",
    "g/dl",
    "mmol/L",
    "µmol/L",
    "mEq/L",
    "U/L",
    "%",
    "mmHg",
    "cmHg",
    "bpm",
    "°C",
    "kg",
    "cm",
    "m",
    "m²",
    "mg/kg",
    "mg/m²",
    "/mm3",
    "G/L",
    "cp",
    "gélules",
    "sachets",
    "gouttes",
    "x/j",
    "/j",
    "x3",
    "x2/j",
    "1-0-1",
    "4-6-4",
]
CUES = [
    "Pas de",
    "pas d'",
    "Absence de",
    "non",
    "sans",
    "Suspicion de",
    "?",
    "Antécédents :",
    "Antécédents familiaux :",
    "Traitement :",
    "Motif :",
    "Conclusion :",
    "Allergies :",
    "- ",
    "• ",
    "Dr",
    "Mme",
    "M.",
]
ODD = [
    "\u00a0",  # no-break space
    "\u202f",  # narrow no-break space
    "\u200b",  # zero-width space
    "\ufeff",  # byte-order mark
    "e\u0301",  # e + combining acute
    "ﬁ",  # ligature
    "\u0661\u0662",  # Arabic-Indic digits
    "\uff13\uff10",  # fullwidth digits
    "²",
    "½",
    "🙂",
    "\u202e",  # right-to-left override
    "Ⅻ",
    "\t",
    "\r\n",
    "\n\n",
    "«",
    "»",
    "…",
    "’",
    "—",
]
PUNCT = list(".,;:!?()[]/-+=<>≤≥'\"%*#&@_")


def _digits(draw: Any) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return str(draw(st.integers(0, 10**6)))
    if kind == 1:
        return f"{draw(st.integers(0, 999))},{draw(st.integers(0, 99))}"
    if kind == 2:
        return f"{draw(st.integers(1, 999))} {draw(st.integers(0, 999)):03d}"
    if kind == 3:
        return "9" * draw(st.integers(20, 5000))  # int() refuses over 4,300 digits
    if kind == 4:
        return f"{draw(st.integers(0, 31))}/{draw(st.integers(0, 13))}/{draw(st.integers(0, 3000))}"
    return f"{draw(st.integers(0, 400))}/{draw(st.integers(0, 300))}"


@st.composite
def token(draw: Any) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        word = draw(st.sampled_from(WORDS))
        return draw(st.sampled_from([word, word.upper(), word.capitalize()]))
    if kind == 3:
        return draw(st.sampled_from(NUMBER_WORDS))
    if kind == 4:
        return _digits(draw)
    if kind == 5:
        return draw(st.sampled_from(UNITS))
    if kind == 6:
        return draw(st.sampled_from(CUES))
    if kind == 7:
        return draw(st.sampled_from(ODD + PUNCT))
    if kind == 8:
        return draw(st.sampled_from(["a", "é", "9", "-", "x"])) * draw(st.integers(50, 3000))
    return draw(st.text(max_size=12))  # any unicode (no lone surrogates)


@st.composite
def clinical_text(draw: Any) -> str:
    parts = draw(st.lists(token(), max_size=60))
    seps = draw(
        st.lists(
            st.sampled_from([" ", " ", " ", "\n", "", ", ", ". "]),
            min_size=len(parts),
            max_size=len(parts),
        )
    )
    return "".join(p + s for p, s in zip(parts, seps, strict=True))


def pipeline() -> Any:
    """The process-wide pipeline (loaded once; not a fixture argument: hypothesis would try to
    print it with a failing example)."""
    get_settings.cache_clear()
    return get_nlp(cache_dir=get_settings().cache_dir)


def check(texts: list[str]) -> None:
    out = list(extract_with_errors(texts, nlp=pipeline(), batch_size=4))
    assert len(out) == len(texts)
    for text, found in zip(texts, out, strict=True):
        assert found.errors == (), [str(e) for e in found.errors]
        for e in found.entities:
            assert 0 <= e.start <= e.end <= len(text)
            assert text[e.start : e.end] == e.text


@pytest.mark.slow
@PROPERTY
@given(texts=st.lists(clinical_text(), min_size=1, max_size=4))
@example(texts=[""])
@example(texts=["Amoxicilline 1 g x3/j pendant dix jours."])  # finding 1
@example(texts=["Traitement : paracétamol 1 g toutes les six heures pendant une dizaine de jours"])
@example(texts=["Lovenox 4000 UI SC pendant vingt et un jours, puis quatre-vingt-dix jours"])
@example(texts=["Créatinine " + "9" * 5000 + " µmol/L. TA " + "1" * 4400 + "/80 mmHg"])
@example(texts=["bisoprolol 2,5 mg de J" + "1" * 5000 + " à J" + "2" * 5000])
@example(texts=["\u200b\ufeff\u202e🙂" * 50, "x" * 20000])
# the tokenizer writes these spaces as plain ones: entity texts must still be the input's
@example(texts=["Insuffisance\u00a0cardiaque, diabète de type\u202f2, maladie de Vaquez\u00a0?"])
def test_no_generated_text_makes_a_pipe_fail(texts: list[str]) -> None:
    check(texts)


# -- numbers: an independent writer of French numbers, read back -------------------------------

_UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
    "dix-sept",
    "dix-huit",
    "dix-neuf",
]
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def french(n: int) -> str:
    """French (France) spelling of 0 <= n < 1,000,000, by the 1990 rules (hyphens)."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        if tens in (7, 9):  # soixante-dix…, quatre-vingt-dix…
            base = "soixante" if tens == 7 else "quatre-vingt"
            rest = n - (60 if tens == 7 else 80)
            sep = "-et-" if rest == 11 and tens == 7 else "-"
            return f"{base}{sep}{_UNITS[rest]}"
        if tens == 8:
            return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_UNITS[unit]}"
        if unit == 0:
            return _TENS[tens]
        return f"{_TENS[tens]}{'-et-' if unit == 1 else '-'}{_UNITS[unit]}"
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]}-cent{'s' if rest == 0 else ''}"
        return head if rest == 0 else f"{head}-{french(rest)}"
    thousands, rest = divmod(n, 1000)
    head = "mille" if thousands == 1 else f"{french(thousands)}-mille"
    return head if rest == 0 else f"{head}-{french(rest)}"


def test_the_writer_itself() -> None:  # spot checks of the oracle, by hand
    assert french(71) == "soixante-et-onze"
    assert french(80) == "quatre-vingts"
    assert french(92) == "quatre-vingt-douze"
    assert french(200) == "deux-cents"
    assert french(1200) == "mille-deux-cents"


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(n=st.integers(0, 999_999))
def test_french_numbers_read_back(n: int) -> None:
    written = french(n)
    assert parse_number(written) == n
    assert parse_number(written.replace("-", " ")) == n
    assert parse_number(written.upper()) == n


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(text=st.text(max_size=40) | st.lists(st.sampled_from(NUMBER_WORDS)).map(" ".join))
def test_the_number_parser_never_raises(text: str) -> None:
    value = parse_number(text)
    assert value is None or value >= 0
