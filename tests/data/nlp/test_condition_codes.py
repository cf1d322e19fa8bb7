"""The condition codes Hopia writes for sentences typical of French discharge letters: what a
clinician would sign (issue 11, item 3). Each sentence is made up for this test; the expected
codes say what the words say, one fact per mention.

Through the whole pipeline and :func:`hopia.data.omop.mapping.target_table`, as the ingest
writes them. Slow: the full pipeline is loaded (from the shared cache).
"""

from __future__ import annotations

import functools

import pytest

from hopia.data.nlp import extract, get_nlp
from hopia.data.omop.mapping import coded_concept, target_table
from hopia.platform.config import get_settings

pytestmark = pytest.mark.slow


@functools.cache
def _nlp():  # noqa: ANN202
    return get_nlp(cache_dir=get_settings().cache_dir)


def condition_codes(text: str) -> list[str]:
    """CIM-10 codes of the condition facts written for ``text``, sorted."""
    (entities,) = extract([text], nlp=_nlp(), batch_size=8)
    return sorted(
        code[1]
        for e in entities
        if target_table(e) == "condition_occurrence" and (code := coded_concept(e))
    )


SENTENCES: list[tuple[str, list[str]]] = [
    # --- one concept per mention: the longest, most specific reading of the words wins
    ("Antécédents : hépatite C traitée en 2015.", ["B18.2"]),  # not B15.9 (hepatitis A)
    ("Antécédents : cancer du sein gauche en 2010, en rémission.", ["C50.9"]),  # not C80
    ("Adénocarcinome prostatique.", ["C61"]),
    ("Néoplasie pulmonaire en cours de chimiothérapie.", ["C34.9", "Z51.2"]),
    ("Antécédents : AVC ischémique sylvien gauche en 2018.", ["I63.9"]),  # not I64 + I63
    ("Antécédents : AVC hémorragique en 2019 sans séquelle.", ["I61.9"]),
    ("Thrombose veineuse profonde du membre inférieur droit.", ["I80.2"]),
    ("Artériopathie oblitérante des membres inférieurs.", ["I73.9"]),
    ("Ulcère gastrique en 2010.", ["K25"]),  # not K27 (peptic ulcer, site unspecified)
    ("Troubles cognitifs débutants.", ["R41.3"]),  # a sign, not a dementia (F03)
    ("Décompensation cardiaque globale.", ["I50.9"]),
    ("Cardiopathie hypertensive.", ["I11"]),  # not I11 + I50 + hypertension
    ("Cirrhose alcoolique Child B.", ["K70.3"]),
    ("Polyarthrite rhumatoïde.", ["M06.9"]),  # a cim10-only mention: its label, once
    ("Insuffisance cardiaque à FEVG altérée.", ["I50"]),
    ("Embolie pulmonaire en 2020.", ["I26"]),
    # --- E11 + E14 written once
    ("Diabète de type 2 insulino-traité.", ["E11"]),
    ("Patient hypertendu, diabétique de type 2.", ["E11", "I10"]),
    ("Antécédents : HTA, DT2, dyslipidémie.", ["E11", "E78.5", "I10"]),
    (
        "Antécédents : HTA traitée, DT2 sous metformine, dyslipidémie, SAOS appareillé.",
        ["E11", "E78.5", "G47.3", "I10"],
    ),
    # --- acronyms and Charlson items coded as what they name
    ("Patiente hypertendue sous amlodipine.", ["I10"]),
    ("DTI depuis 2010.", ["E10"]),  # EDS-NLP's "DT I": type 1
    ("DT1 depuis l'enfance, DTII depuis 2015.", ["E10", "E11"]),
    ("Diabète insulino-requérant.", ["E14.9"]),  # the treatment, not the type
    ("Diabète de type 1 compliqué de rétinopathie.", ["E10"]),
    ("Antécédents : BPCO stade 3, tabagisme sevré.", ["J44.9"]),  # tobacco: an observation
    ("Antécédents : BPCO post-tabagique, emphysème.", ["J43", "J44.9"]),
    ("Antécédents : SAOS appareillé.", ["G47.3"]),  # not a COPD
    ("Syndrome d'apnées obstructives du sommeil sévère.", ["G47.3"]),
    ("Antécédents : IRC stade 3b, FA sous apixaban.", ["I48", "N18.9"]),
    ("Insuffisance rénale chronique stade 3.", ["N18.3"]),
    ("IRC stade 4 suivie en néphrologie.", ["N18.4"]),
    ("Antécédents : IDM antérieur en 2012, stenté.", ["I21"]),
    (
        "Antécédents médicaux : IDM inférieur en 2015 (stent CD), FA permanente anticoagulée.",
        ["I21", "I25", "I48"],
    ),
    ("Cardiopathie ischémique stentée.", ["I25"]),
    ("Antécédents : AIT en 2021.", ["G45"]),
    ("Fibrillation atriale paroxystique.", ["I48"]),
    ("Rétrécissement aortique serré.", ["I35.0"]),
    ("Hypertension artérielle pulmonaire.", ["I27"]),  # not a COPD, not hypertension
    ("Hypertension intracrânienne idiopathique.", ["G93.2"]),  # not I10
    ("Panthrombophlébite du membre inférieur gauche en 2019.", ["I80"]),  # not a stroke
    ("Thrombophlébite cérébrale en 2015.", ["I67.6"]),
    # --- not a condition of the patient, or not in that sense
    ("Mise en isolement contact pour BMR.", ["Z29.0"]),
    ("Isolement social, vit seul.", []),  # no prophylactic isolation (Z29.0)
    ("Pas d'HTA, pas de diabète.", []),
    ("Père décédé d'un IDM à 60 ans.", []),
    ("Tabagisme actif à 30 PA.", []),  # an observation of eds.tobacco, not F17.2 too
    ("Éthylisme chronique sevré depuis 2018.", []),
    ("Force MRC 4/5 aux quatre membres.", []),  # a strength score, no kidney disease
    ("Traitement habituel : Kardégic 75 mg, bisoprolol 2,5 mg, ramipril 5 mg.", []),
    ("Vacciné contre l'hépatite B.", []),  # a vaccination, no hepatitis B16.9
    ("Sérologie hépatite B : profil de vaccination.", []),  # a test, not the disease
    ("Recherche de BK négative.", []),
    ("PCR COVID négative.", []),
    ("RT-PCR SARS-CoV-2 positive sur écouvillon.", ["U07.1"]),  # a positive test: the disease
    ("Dépistage du cancer colorectal négatif.", []),
    ("Cancer du sein chez la mère.", []),
    ("Suspicion d'embolie pulmonaire.", []),
    # --- Charlson items that gather other diseases, devices and statuses
    ("Pacemaker pour BAV complet en 2019.", ["I44.3", "Z95.0"]),  # no heart failure
    ("Greffe rénale en 2012.", ["Z94.0"]),  # not N18
    ("Colite ischémique en 2020.", ["K55.9"]),
    ("Infarctus splénique.", ["D73.5"]),
    ("Hépatite B chronique.", ["B18.1"]),  # not K75
    ("Hépatite auto-immune.", ["K75.4"]),
    ("HTA gravidique lors de la deuxième grossesse.", ["O13"]),
    ("Échographie cardiaque : DTI : onde S' à 9 cm/s.", []),  # tissue Doppler, no diabetes
    # --- diseases the coding pipes miss, named by the term lexicon
    ("Hernie hiatale.", ["K44.9"]),
    ("Adénome de prostate.", ["N40"]),
    ("Infection urinaire à E. coli.", ["N39.0"]),
    ("Insuffisance rénale aiguë fonctionnelle sur déshydratation.", ["E86", "N17"]),
    ("Hépatite B ancienne guérie, sérologie VHC négative.", ["B16.9"]),  # a past acute one
]


@pytest.mark.parametrize(("text", "codes"), SENTENCES, ids=[t[:40] for t, _ in SENTENCES])
def test_condition_codes_a_clinician_would_sign(text: str, codes: list[str]) -> None:
    assert condition_codes(text) == codes


def test_each_mention_is_written_once() -> None:
    text = "Antécédents : diabète de type 2, hépatite C, BPCO, adénocarcinome prostatique."
    (entities,) = extract([text], nlp=_nlp(), batch_size=8)
    facts = [e for e in entities if target_table(e) == "condition_occurrence"]
    for i, a in enumerate(facts):
        for b in facts[i + 1 :]:
            assert not (a.start < b.end and b.start < a.end), (a.text, b.text)
    assert "B15.9" not in condition_codes(text)
