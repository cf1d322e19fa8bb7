"""Qualitative results of tests ("la sérologie VIH est négative", "ECG normal", "PCR positive").

A test whose result is written in words was *done*: the mention is affirmed and carries the
result (``span._.result``, also ``span._.attributes["result"]``), one of :data:`RESULTS`.
EDS-NLP's negation reads "négatif" as a following negation cue, which is right for a sign
("signe de Lasègue négatif": the sign is absent) and wrong for a test: only mentions that name
a test or an examination (:func:`is_test`) get a result.

When written to OMOP (:mod:`hopia.data.omop.mapping`), such a mention becomes a ``measurement``
whose ``value_as_concept_id`` is the standard concept of the result
(``hopia.data.omop.concepts.RESULT_CONCEPTS``: Negative 9189, Positive 9191, Normal 4069590,
Abnormal 4135493).
"""

from __future__ import annotations

import re

from spacy.tokens import Span

from hopia.platform.text import fold

#: The result values (``span._.result``).
RESULTS: frozenset[str] = frozenset({"negative", "positive", "normal", "abnormal"})

# Result words (folded), any gender and number.
_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"negati(?:f|fs|ve|ves)|steriles?"), "negative"),
    (re.compile(r"positi(?:f|fs|ve|ves)"), "positive"),
    (re.compile(r"anorma(?:l|le|les|ux)|pathologiques?|perturbee?s?"), "abnormal"),
    (re.compile(r"norma(?:l|le|les|ux)"), "normal"),
)
# Phrases that say "normal" ("sans anomalie", "sans particularité"), on the folded text after
# the mention.
_NORMAL_PHRASE = re.compile(r"sans (?:aucune )?(?:anomalies?|particularites?)\b")

#: First words of a test or examination mention (folded). A mention of the LAB category (a
#: ``hopia.labs`` reading) is a test too.
_HEADS = """
    serologie serologies pcr rt-pcr hemoculture hemocultures culture cultures coproculture
    coprocultures uroculture ecbu ecbc bu bandelette test tests trod tdr recherche recherches
    depistage dosage dosages bilan bilans marqueur marqueurs antigene antigenes antigenurie ag
    anticorps ac igg igm facteur quantiferon idr intradermoreaction streptotest prelevement
    prelevements frottis biopsie biopsies ponction examen examens epreuve spirometrie efr gaz
    gds ionogramme hemogramme nfs numeration crp procalcitonine pct troponine d-dimeres ddimeres
    bhcg beta-hcg ecg electrocardiogramme eeg electroencephalogramme emg electromyogramme
    holter mapa radiographie radiographies radio rx cliche scanner scanographie tdm uroscanner
    angioscanner coroscanner irm angio-irm echographie echographie-doppler echo echocardiographie
    ett eto doppler echodoppler mammographie scintigraphie tep tep-scanner petscan fibroscopie
    fogd coloscopie endoscopie bronchoscopie fibroscopie cystoscopie coronarographie
    arteriographie angiographie fond densitometrie audiogramme polysomnographie polygraphie
    proteine proteines ferritine ferritinemie vs
"""
TEST_HEADS: frozenset[str] = frozenset(_HEADS.split())
_MAX_TOKENS = 8  # between the mention and its result word


def is_test(span: Span) -> bool:
    """The mention names a test or an examination."""
    if getattr(span._, "category", None) in {"LAB"}:
        return True
    words = fold(span.text).split()
    return bool(words) and words[0] in TEST_HEADS


# A result word denied ("n'est pas positive", "non normal") says the opposite result.
_DENIALS = frozenset({"pas", "non", "ni", "jamais"})
_OPPOSITE = {"positive": "negative", "negative": "positive", "normal": "abnormal"}
_OPPOSITE["abnormal"] = "normal"
# Words that name something a result word could belong to instead of the test: an analyte of
# the test ("ECBU : leucocytes normaux"), another test. The scan stops there.
_OTHER_NOUNS = frozenset(
    [
        "leucocytes",
        "hematies",
        "nitrites",
        "germes",
        "bacteries",
        "cellules",
        "globules",
        "plaquettes",
        "taux",
        "valeurs",
    ]
)


# A result named before the test: "positivité de la sérologie VIH", "négativation de la PCR",
# "négativité des hémocultures" (folded, right before the mention).
_RESULT_BEFORE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\s+(?:de la|du|des|de l'|de|d')\s*$"), value)
    for words, value in (
        ("positivites?|positivations?", "positive"),
        ("negativites?|negativations?", "negative"),
        ("normalites?|normalisations?", "normal"),
    )
)
_BEFORE_TOKENS = 4  # "positivité de la" + an apostrophe


def read_result(span: Span) -> str | None:
    """The qualitative result of a test mention: written after it in its clause ("sérologie
    VIH négative"), else named right before it ("positivité de la sérologie VIH")."""
    result = _read_after(span)
    if result is None:
        doc = span.doc
        before = doc[max(0, span.start - _BEFORE_TOKENS) : span.start].text_with_ws
        before = fold(before.rsplit("\n", 1)[-1])
        result = next((v for regex, v in _RESULT_BEFORE if regex.search(before)), None)
    return result


def _read_after(span: Span) -> str | None:
    """The qualitative result written after a test mention in its clause, if any.

    A denial between the mention and the result word turns it into its opposite ("la sérologie
    n'est pas positive": negative); another noun a result word could qualify (an analyte,
    another test) ends the search: its result is not the test's."""
    doc = span.doc
    denied = False
    for token in doc[span.end : min(len(doc), span.end + _MAX_TOKENS)]:
        word = fold(token.text)
        if word == ":" and token.i == span.end:
            continue  # "ECG : normal"
        if word in {",", ";", ".", ":", "(", "mais"} or "\n" in token.text:
            break
        if word in _OTHER_NOUNS or (word in TEST_HEADS and token.i > span.end):
            break
        if word in _DENIALS:
            denied = True
            continue
        if word == "sans":
            rest = fold(doc[token.i : min(len(doc), token.i + 4)].text)
            normal = _NORMAL_PHRASE.match(rest)
            return None if not normal else ("abnormal" if denied else "normal")
        for pattern, value in _WORDS:
            if pattern.fullmatch(word):
                return _OPPOSITE[value] if denied else value
    return None
