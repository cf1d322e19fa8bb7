"""hopia.zones' context rules: codes read from the words BEFORE and after a coded mention, and
peptic ulcers with their complication as one concept (issue 11, item 3). Made-up sentences;
the whole pipeline is tested in tests/data/nlp/test_condition_codes.py."""

from __future__ import annotations

import pytest

from hopia.data.nlp.pipes.zones.context import (
    before_window,
    context_code,
    sentence_bounds,
    ulcer_complication,
    written_when,
)


def code_in(text: str, mention: str, code: str) -> str | None:
    """The code the context rules give ``mention`` (first occurrence) coded ``code`` in
    ``text``; None when no rule applies, "" for no condition."""
    start = text.index(mention)
    end = start + len(mention)
    found = context_code(code, mention, before_window(text, start), text[end:].split("\n")[0])
    return None if found is None else found[0]


@pytest.mark.parametrize(
    ("text", "mention", "code", "expected"),
    [
        # an occlusion before the artery: an acute infarction; chronic or a stenosis: not
        (
            "Coronarographie : occlusion de l'IVA traitée par stent.",
            "IVA traitée par stent",
            "Z955",
            "I21",
        ),
        ("Occlusion aiguë de la CD proximale.", "CD proximale", "I25", "I21"),
        ("Occlusion chronique de la CD proximale.", "CD proximale", "I25", None),
        ("Sténose de l'IVA traitée par stent.", "IVA traitée par stent", "Z955", None),
        # the words before an infarction say it is old, or a new one
        ("Séquelles d'infarctus inférieur.", "infarctus", "I219", "I252"),
        ("Ancien IDM.", "IDM", "I21", "I252"),
        ("Antécédent d'IDM antérieur.", "IDM", "I21", "I252"),
        ("Cicatrice d'infarctus à l'IRM.", "infarctus", "I21", "I252"),
        ("Récidive d'infarctus du myocarde.", "infarctus du myocarde", "I21", "I21"),
        ("IDM inférieur ancien.", "IDM", "I21", "I252"),
        ("IDM aigu.", "IDM", "I21", None),
        # a sentence end bounds the window: "ancien" of the previous sentence is not read
        ("Tabagisme ancien. Infarctus du myocarde.", "Infarctus du myocarde", "I21", None),
        ("Séquelles d'AVC ischémique.", "AVC ischémique", "I639", "I693"),
        ("AVC séquellaire.", "AVC", "I64", "I694"),
        ("AVC sans séquelle.", "AVC", "I64", None),
        # a lumbar pain radiating to the genitals: a renal colic; elsewhere: the pain
        ("Douleur lombaire gauche irradiant vers les OGE.", "Douleur lombaire", "M545", "N23"),
        ("Lombalgie irradiant dans la jambe.", "Lombalgie", "M545", None),
        ("Douleur thoracique irradiant dans le bras.", "Douleur thoracique", "R074", None),
        # hepatitis A: a capital A, not "à"
        ("Hépatite A en 2015.", "Hépatite", "K759", "B159"),
        ("Hépatite à CMV.", "Hépatite", "K759", None),
        ("Hépatite auto-immune.", "Hépatite", "K759", None),
        # HIV: a status when the words say the patient carries it
        ("Sérologie VIH positive.", "VIH", "Z21", "Z21"),
        ("VIH +", "VIH", "Z21", "Z21"),
        ("Séropositive pour le VIH.", "VIH", "Z21", "Z21"),
        ("Charge virale VIH indétectable.", "VIH", "Z21", "Z21"),
        ("Infection VIH au stade SIDA.", "Infection VIH", "Z21", "B24"),
        ("Statut VIH inconnu.", "VIH", "Z21", ""),
        ("VIH négatif.", "VIH", "Z21", ""),
    ],
)
def test_codes_read_around_the_mention(text: str, mention: str, code: str, expected: str) -> None:
    assert code_in(text, mention, code) == expected


def test_the_window_before_stays_on_its_line_and_sentence() -> None:
    text = "Antécédents : ancien\nInfarctus. Puis séquelles d'IDM"
    assert before_window(text, text.index("Infarctus")) == ""
    assert before_window(text, text.index("IDM")) == " Puis séquelles d'"
    long = "x" * 200 + " ancien IDM"
    assert len(before_window(long, long.index("IDM"))) <= 60


@pytest.mark.parametrize(
    ("text", "mention", "code", "expected"),
    [
        ("Ulcère duodénal hémorragique.", "Ulcère duodénal", "K269", "K264"),
        ("UGD compliqué d'hémorragie.", "UGD", "K27", "K274"),
        ("Hémorragie digestive haute sur ulcère gastrique.", "ulcère gastrique", "K259", "K254"),
        ("Méléna sur ulcère bulbaire.", "ulcère bulbaire", "K26", "K264"),
        ("Ulcère duodénal perforé.", "Ulcère duodénal", "K269", "K265"),
        ("Ulcère duodénal perforé et hémorragique.", "Ulcère duodénal", "K269", "K266"),
        # a bleeding in another sentence, or a list, is not the ulcer's
        ("Ulcère duodénal. Hémorragie sur varices.", "Ulcère duodénal", "K269", None),
        ("Ulcère duodénal, hémorragie digestive en 2018.", "Ulcère duodénal", "K269", None),
        ("Ulcère duodénal hémorragique.", "Ulcère duodénal", "I10", None),  # not an ulcer code
    ],
)
def test_a_complicated_ulcer_is_one_concept(
    text: str, mention: str, code: str, expected: str | None
) -> None:
    start = text.index(mention)
    found = ulcer_complication(code, text, start, start + len(mention))
    assert (None if found is None else found[0]) == expected


def test_the_bleeding_words_of_an_ulcer_are_returned() -> None:
    text = "Hémorragie digestive haute sur ulcère duodénal."
    start = text.index("ulcère")
    _, ranges = ulcer_complication("K269", text, start, start + len("ulcère duodénal"))
    assert any(s <= text.index("Hémorragie") < e for s, e in ranges)
    assert sentence_bounds("A. B ulcère C. D", 5, 11) == (2, 13)


@pytest.mark.parametrize(
    ("before", "after", "when"),
    [
        ("- Hospitalisation en cardiologie en février 2020 pour ", ".", "2020-02"),
        ("Antécédents : ", " en 2012, stenté.", "2012"),
        ("Le 03/11/2021, ", " antérieur.", "2021-11"),
        ("", " inférieur (11/2019) puis en 2020", "2019-11"),  # the first date after
        ("Antécédents : ", " antérieur stenté.", None),
    ],
)
def test_the_date_written_on_the_line(before: str, after: str, when: str | None) -> None:
    assert written_when(before, after) == when
