"""hopia.zones: letterheads, signatures, headings and administrative lines state no clinical
fact; one coded concept per mention (issue 11, finding 3 and item 3). Texts are fictitious."""

from __future__ import annotations

import pytest

from hopia.data.nlp.pipes.zones.zones import (
    PRIORITY_CHARLSON,
    Coded,
    Zone,
    comorbidity_code,
    find_zones,
    resolve_overlaps,
)


def zone_of(text: str, fragment: str) -> str | None:
    """The label of the zone that covers ``fragment`` (first occurrence), or None."""
    start = text.index(fragment)
    end = start + len(fragment)
    labels = [z.label for z in find_zones(text) if z.start <= start and end <= z.end]
    return labels[0] if labels else None


LETTER = """CHU de Montagne - Hôpital Nord
Pôle Médecine, Service de Néphrologie - Dialyse
12 avenue des Tilleuls, 38000 Grenoble
Tél. 04 76 00 00 00 - Fax 04 76 00 00 01
secretariat.nephro @ chu-montagne.fr

Grenoble, le 3 février 2021

COMPTE RENDU D'HOSPITALISATION

Patient : M. Paul Exemple, né le 01/02/1950
IPP : 123456

Allergies :
Pas d'allergie médicamenteuse connue.

Antécédents :
Néant.

Histoire de la maladie :
Patient de 71 ans, diabétique de type 2, hospitalisé pour insuffisance cardiaque.
Hospitalisation en néphrologie - dialyse en mai 2019 pour hyperkaliémie.
Hb : 10,1 g/dL (N : 12,0 - 16,2)

Dr Claire Exemple, chef de service de néphrologie
Praticien hospitalier - Néphrologie - Dialyse
Document validé électroniquement le 04/02/2021
Copie à : Dr Jean Autre, médecin traitant
Destinataires : patient, dossier
"""


@pytest.mark.parametrize(
    ("fragment", "label"),
    [
        ("CHU de Montagne - Hôpital Nord", "entete"),
        ("Pôle Médecine, Service de Néphrologie - Dialyse", "entete"),
        ("12 avenue des Tilleuls, 38000 Grenoble", "administratif"),
        ("Tél. 04 76 00 00 00", "administratif"),
        ("secretariat.nephro @ chu-montagne.fr", "administratif"),
        ("Grenoble, le 3 février 2021", "administratif"),
        ("Patient : M. Paul Exemple", "administratif"),
        ("Allergies :", "titre"),
        ("Antécédents :", "titre"),
        ("néphrologie - dialyse", "organisation"),
        ("(N : 12,0 - 16,2)", "normes"),
        ("Dr Claire Exemple, chef de service de néphrologie", "signature"),
        ("Praticien hospitalier - Néphrologie - Dialyse", "signature"),
        ("Document validé électroniquement", "administratif"),
        ("Copie à : Dr Jean Autre, médecin traitant", "administratif"),
        ("Destinataires : patient, dossier", "administratif"),
    ],
)
def test_zones_that_state_no_fact(fragment: str, label: str) -> None:
    assert zone_of(LETTER, fragment) == label


@pytest.mark.parametrize(
    "fragment",
    [
        "Pas d'allergie médicamenteuse connue.",
        "Patient de 71 ans, diabétique de type 2, hospitalisé pour insuffisance cardiaque.",
        "hyperkaliémie",
        "Hb : 10,1 g/dL",
        "COMPTE RENDU D'HOSPITALISATION",
    ],
)
def test_clinical_text_is_in_no_zone(fragment: str) -> None:
    assert zone_of(LETTER, fragment) is None


def test_a_heading_with_content_under_it_is_clinical() -> None:
    text = "Insuffisance cardiaque :\n- FEVG 35 %, sous furosémide\n"
    assert zone_of(text, "Insuffisance cardiaque") is None
    text = "Insuffisance cardiaque :\nnon\n"
    assert zone_of(text, "Insuffisance cardiaque") == "titre"


@pytest.mark.parametrize(
    "line",
    [
        "Patient suivi en hémodialyse trois fois par semaine.",
        "Service rendu par le traitement : insuffisant.",  # long, ends a sentence
        "Mme X présente une insuffisance cardiaque décompensée",  # no title before the name
        "Apparition le 11/03/2019.",
        "Dr X a vu le patient pour une douleur thoracique.",
    ],
)
def test_sentences_are_not_zones(line: str) -> None:
    assert find_zones(line) == []


def test_zones_sorted_and_within_text() -> None:
    zones = find_zones(LETTER)
    assert zones == sorted(zones)
    assert all(isinstance(z, Zone) and 0 <= z.start < z.end <= len(LETTER) for z in zones)


# --- one concept per mention -------------------------------------------------------------


def test_longer_span_wins_then_cim10() -> None:
    # "Bronchopneumopathie chronique obstructive": copd (whole) vs a cim10 label on its first word
    copd = Coded(0, 41, "copd", 0)
    broncho = Coded(0, 19, "cim10", 0)
    assert resolve_overlaps([broncho, copd]) == {("cim10", 0): copd}
    # "diabète de type 2": the same words from hopia.cim10 (E11) and eds.diabetes (E14)
    e11 = Coded(5, 22, "cim10", 1)
    assert resolve_overlaps([Coded(5, 22, "diabetes", 3), e11]) == {("diabetes", 3): e11}
    # mentions on different words both stay
    assert resolve_overlaps([Coded(0, 3, "cim10", 0), Coded(4, 9, "diabetes", 0)]) == {}


def test_a_longer_lexicon_concept_wins_over_a_coding_pipe() -> None:
    # "hépatite C": hopia.terms (B18.2) on both words, hopia.cim10 on "hépatite" alone
    terms = Coded(14, 24, "terms", 2)
    assert resolve_overlaps([Coded(14, 22, "cim10", 0), terms]) == {("cim10", 0): terms}
    # "adénocarcinome prostatique" (terms, C61) over eds.solid_tumor's "adénocarcinome" (C80)
    prostate = Coded(0, 26, "terms", 0)
    tumor = Coded(0, 14, "solid_tumor", 0, PRIORITY_CHARLSON)
    assert resolve_overlaps([tumor, prostate]) == {("solid_tumor", 0): prostate}


def test_on_the_same_words_the_most_specific_source_wins() -> None:
    hta_terms, hta_pvd = Coded(0, 3, "terms", 0), Coded(0, 3, "peripheral_vascular_disease", 0)
    # a comorbidity mention coded as what it names (I10) beats the lexicon's concept
    assert resolve_overlaps([hta_terms, hta_pvd]) == {("terms", 0): hta_pvd}
    # a comorbidity mention at its Charlson item's code (BPCO: J44) loses to the lexicon's J44.9
    copd = Coded(0, 4, "copd", 0, PRIORITY_CHARLSON)
    bpco = Coded(0, 4, "terms", 1)
    assert resolve_overlaps([copd, bpco]) == {("copd", 0): bpco}
    # an exact CIM-10 label beats them all
    label = Coded(0, 4, "cim10", 0)
    assert resolve_overlaps([copd, bpco, label]) == {("copd", 0): label, ("terms", 1): label}


def test_a_precise_code_wins_over_a_vague_reading_whatever_its_length() -> None:
    # "Hémorragie digestive haute sur ulcère duodénal": EDS-NLP's peptic ulcer span
    # "digestive haute sur ulcère" at its Charlson code (K27) is longer than the lexicon's
    # "Hémorragie digestive" (K92.2) and "ulcère duodénal" (K26.9), which say more
    charlson = Coded(11, 37, "peptic_ulcer_disease", 0, PRIORITY_CHARLSON, vague=True)
    bleeding, ulcer = Coded(0, 20, "terms", 0), Coded(32, 47, "terms", 1)
    assert resolve_overlaps([charlson, bleeding, ulcer]) == {("peptic_ulcer_disease", 0): bleeding}
    # a sign (chapter R) is vague too: "hyperglycémie" (R73.9) inside eds.diabetes' longer
    # span at its Charlson code: both vague, the longer wins
    diabetes = Coded(0, 40, "diabetes", 0, PRIORITY_CHARLSON, vague=True)
    sign = Coded(25, 38, "terms", 2, vague=True)
    assert resolve_overlaps([sign, diabetes]) == {("terms", 2): diabetes}


@pytest.mark.parametrize(
    ("group", "text", "code"),
    [
        ("congestive_heart_failure", "Pacemaker", "Z950"),
        ("ckd", "Greffe rénale", "Z940"),
        ("peripheral_vascular_disease", "Colite ischémique", "K559"),
        ("peripheral_vascular_disease", "Infarctus splénique", "D735"),
        ("liver_disease", "Hépatite B chronique", "B181"),
        ("liver_disease", "hépatite chronique C", "B182"),
        ("liver_disease", "hépatite alcoolique", "K701"),
        ("peptic_ulcer_disease", "ulcère duodénal", "K26"),
        # issue 11, external text: the patient's word for hypertension is hypertension
        ("peripheral_vascular_disease", "hypertendu", "I10"),
        ("peripheral_vascular_disease", "hypertendue", "I10"),
        ("peripheral_vascular_disease", "hypertensive", "I10"),
        # EDS-NLP reads "DTI"/"DT I" as type 1 and "DTII" as type 2: the type is known
        ("diabetes", "DTI", "E10"),
        ("diabetes", "DT I", "E10"),
        ("diabetes", "DTII", "E11"),
        ("diabetes", "diabète insulino-requérant", None),  # the treatment, not the type
        ("diabetes", "diabète de type 2 insulino-traité", "E11"),
        # a phlebitis is no stroke, whatever brain-list word EDS-NLP saw nearby
        ("cerebrovascular_accident", "Panthrombophlébite", "I80"),
        ("cerebrovascular_accident", "thrombose veineuse", "I80"),
        ("ckd", "insuffisance rénale chronique stade 3", "N183"),
        ("ckd", "IRC stade IV", "N184"),
        ("ckd", "insuffisance rénale chronique terminale", "N185"),
        ("copd", "hypertension artérielle pulmonaire", "I27"),
        ("peripheral_vascular_disease", "HTA", "I10"),
        ("peripheral_vascular_disease", "hypertension artérielle", "I10"),
        ("peripheral_vascular_disease", "embolie pulmonaire", "I26"),
        ("congestive_heart_failure", "fibrillation auriculaire", "I48"),
        ("congestive_heart_failure", "ACFA", "I48"),
        ("congestive_heart_failure", "insuffisance cardiaque", None),
        ("myocardial_infarction", "cardiopathie ischémique", "I25"),
        ("myocardial_infarction", "IDM", "I21"),
        ("diabetes", "diabète non insulino-dépendant", "E11"),
        ("diabetes", "DT2", "E11"),
        ("diabetes", "diabète insulinodépendant", "E10"),
        ("diabetes", "diabète", None),
        ("dementia", "maladie d'Alzheimer", "G30"),
        ("dementia", "troubles mnésiques", "R413"),
        ("dementia", "troubles neurocognitifs majeurs", None),
        ("copd", "asthme", "J45"),
        ("copd", "apnées obstructives du sommeil", "G473"),
        ("congestive_heart_failure", "RAC", "I350"),
        ("cerebrovascular_accident", "Hématome", ""),
        ("cerebrovascular_accident", "hématome intracérébral", "I61"),
    ],
)
def test_comorbidity_mentions_get_the_code_of_what_they_name(
    group: str, text: str, code: str | None
) -> None:
    assert comorbidity_code(group, text) == code


@pytest.mark.parametrize(
    ("group", "text", "after", "code"),
    [
        # EDS-NLP's span is the first word of a longer name: the words after it decide
        ("peripheral_vascular_disease", "hypertension", " intracrânienne idiopathique.", ""),
        ("peripheral_vascular_disease", "hypertension", " artérielle traitée.", "I10"),
        ("cerebrovascular_accident", "Thrombophlébite", " cérébrale en 2015.", "I676"),
        ("cerebrovascular_accident", "thrombose", " veineuse du sinus latéral droit", "I676"),
        ("cerebrovascular_accident", "panthrombophlébite", " du membre inférieur.", "I80"),
        ("ckd", "MRC 4", "/5 aux quatre membres", ""),  # a muscle-strength grade
        ("ckd", "MRC stade 4", " suivie en néphrologie", "N184"),
        ("diabetes", "DTI", " : onde S' à 9 cm/s", ""),  # the tissue Doppler of an echo
        ("diabetes", "DTI", " depuis 2010, sous insuline", "E10"),
    ],
)
def test_codes_read_from_the_words_after_the_mention(
    group: str, text: str, after: str, code: str
) -> None:
    assert comorbidity_code(group, text, after) == code


LAB_HEADER = """Laboratoire de Biologie Médicale multisite
Région Auvergne-Rhône-Alpes - GHT Loire
Contact : biologie.chu @ chu-x.fr
Hémoglobine : 11,2 g/dL   [12,0 - 16,2]
Ferritine : 8 µg/L (VN : 20-200)
"""


@pytest.mark.parametrize(
    ("fragment", "label"),
    [
        ("Laboratoire de Biologie Médicale multisite", "entete"),
        ("Région Auvergne-Rhône-Alpes - GHT Loire", "entete"),
        ("biologie.chu @ chu-x.fr", "administratif"),
        ("[12,0 - 16,2]", "normes"),
        ("(VN : 20-200)", "normes"),
    ],
)
def test_lab_report_header_and_ranges(fragment: str, label: str) -> None:
    assert zone_of(LAB_HEADER, fragment) == label
    assert zone_of(LAB_HEADER, "Hémoglobine : 11,2 g/dL") is None
