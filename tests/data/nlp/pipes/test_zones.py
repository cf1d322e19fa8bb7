"""hopia.zones: letterheads, signatures, headings and administrative lines state no clinical
fact; one coded concept per mention (issue 11, finding 3 and item 3). Texts are fictitious."""

from __future__ import annotations

import pytest

from hopia.data.nlp.pipes.zones.zones import (
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


@pytest.mark.parametrize(
    ("group", "text", "code"),
    [
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
