"""Rules for hospitals and names as a source the model never saw writes them (issue 11, item 4):
site codes alone, hospital names across two readings, surnames no list holds after a title.
Made-up sentences only; each positive checks that nothing else is found, each negative that the
acronyms, common words and units beside them stay."""

from __future__ import annotations

import pytest

from hopia.data.pseudo import Pseudonymiser

from .utils import parse_markup, triples

PS = Pseudonymiser(b"rules-ood-secret-0123456789abcdef", use_model=False)


def check(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert triples(PS.detect(text)) == expected, text


def nothing_in(text: str) -> None:
    assert [(s.text, s.label) for s in PS.detect(text)] == [], text


@pytest.mark.parametrize(
    "markup",
    [
        # a university hospital's site code alone, in a letterhead or a list
        "Consultation <ent label=HOPITAL>PSL</ent> du lundi",
        "Copie : <ent label=HOPITAL>HMN</ent>, service de rhumatologie",
        "Biopsie relue à <ent label=HOPITAL>BCT</ent>.",
        # two readings of one name fused: the keyword's and the list's
        "Transfert à l'<ent label=HOPITAL>Hôpital Necker-Enfants malades</ent> ce jour.",
        "Adressé par le <ent label=HOPITAL>GHU AP-HP</ent> pour avis.",
    ],
)
def test_hospital_codes_and_fused_names(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        # medical acronyms of three capitals, some of them codes of a site elsewhere
        "Antécédent d'AVC ischémique et de CRC opéré.",
        "SAT 96 % en air ambiant, ABC de la réanimation.",
        "Bilan PSA et TSH normaux, IRM prévue.",
        # a site code inside a word, a reference or a path is none
        "Référence PSL-2021 du lot, dossier /BCT/2021.",
    ],
)
def test_acronyms_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # a surname that no list holds, in lower case, after a person's title
        "Vu par le docteur <ent label=NOM>zarkovic</ent> ce matin.",
        "Mr <ent label=NOM>kerdrevan</ent> <ent label=PRENOM>yves</ent>, 54 ans",
        "Avis du Pr <ent label=NOM>oudjedi</ent> demandé.",
        "Appel de M. <ent label=NOM>tchibozo</ent> ce jour.",
    ],
)
def test_unknown_surname_after_a_title(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        # common words after a title or after words that are titles elsewhere
        "Madame présente une dyspnée depuis hier.",
        "Monsieur souhaite rentrer à domicile.",
        "Le docteur traitant est prévenu.",
        "Patient asymptomatique, patient stable.",
        # "m" is a unit, not "M." the title
        "Marche de 200 m xylocaïne non tolérée.",
    ],
)
def test_common_words_after_a_title_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # a field's value in lower case, even a common word, up to the next field
        "Nom : <ent label=NOM>kerdraon</ent>\nPrénom : <ent label=PRENOM>yvonne</ent>",
        "nom : <ent label=NOM>petit</ent> prénom : <ent label=PRENOM>louise</ent>",
        "Nom de naissance : <ent label=NOM>le guen</ent>",
    ],
)
def test_lower_case_field_values(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize("text", ["Nom : non renseigné", "Prénom : inconnu", "Nom :\n"])
def test_placeholder_field_values_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # a place no list holds after a ward's name; a hospital by its compass point
        "Service Hématologie de <ent label=HOPITAL>Crignac</ent>, courrier joint.",
        "Revu au pôle urgences de <ent label=HOPITAL>Kerbrat</ent>.",
        "Transfert dans le service de neurologie de l'<ent label=HOPITAL>Hôpital Nord</ent>.",
        # a known commune there stays a town
        "Service de cardiologie de <ent label=VILLE>Lyon</ent>.",
    ],
)
def test_places_after_a_ward_and_compass_hospitals(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Service de médecine de Garde ce week-end.",
        "Unité de soins de Suite et réadaptation.",
        "Le service de cardiologie de l'Hôpital est plein.",
        "Le pôle nord du rein gauche est normal.",
    ],
)
def test_common_words_after_a_ward_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # the next surnames of one title
        "Vu avec les Drs <ent label=NOM>Kerbrat</ent> et <ent label=NOM>Zanetti</ent>.",
        "Présentée par Drs <ent label=NOM>KERBRAT</ent> et <ent label=NOM>ZANETTI</ent>.",
        "Avis des Pr <ent label=NOM>Nguyen</ent>, <ent label=PRENOM>Lambert</ent> et "
        "<ent label=NOM>Okafor</ent>.",
        # a ward, a function or a first name after the surname is none
        "Vu par Dr <ent label=NOM>Dupont</ent>, Cardiologie",
        "Avis du Dr <ent label=NOM>Martin</ent> et Infectiologie.",
        "Pr <ent label=NOM>Lemoine</ent>, PH, et Dr <ent label=NOM>Kerbrat</ent>.",
        "Dr <ent label=NOM>Martin</ent> / Urgences",
        # an initial glued to the surname after a title
        "Rédigé par le Dr <ent label=PRENOM>A.</ent><ent label=NOM>Mariniere</ent> ce jour",
    ],
)
def test_coordinated_surnames(markup: str) -> None:
    check(markup)


def test_glued_abbreviations_without_a_title_stay() -> None:
    nothing_in("Culture positive à E.Coli et S.Aureus sensibles.")


@pytest.mark.parametrize(
    "markup",
    [
        # a town field, the field's label never read as a commune
        "CP <ent label=ZIP>29870</ent> Ville : <ent label=VILLE>Kermoal</ent>",
        "Lieu de naissance : <ent label=VILLE>saint-malo</ent>",
        # a four-digit postcode abroad after an address
        "Adresse : <ent label=ADRESSE>15 Avenue Louise</ent>, <ent label=ZIP>1050</ent> "
        "<ent label=VILLE>Bruxelles</ent> (Belgique)",
    ],
)
def test_town_fields_and_postcodes_abroad(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize("text", ["Ville : non renseigné", "Posologie 1000 Unités par jour."])
def test_no_town_in_these(text: str) -> None:
    nothing_in(text)


def test_a_maiden_name_in_capitals_that_is_also_a_unit() -> None:
    check("Mme <ent label=NOM>CHAPUIS</ent> née <ent label=NOM>WEBER</ent>, 77 ans")
    nothing_in("Flux de 2 weber mesuré, née le jour même.")
