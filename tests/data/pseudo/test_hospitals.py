"""Hospitals by their own names and surnames after a role, as other hospitals write them (issue
11, item 4): the hospital gazetteer (:mod:`hopia.data.pseudo.hospitals`) and the role rules.
Made-up sentences only; each positive checks that nothing else is found, each negative that the
eponyms, streets, units and common words beside them stay."""

from __future__ import annotations

import pytest

from hopia.data.pseudo import Pseudonymiser
from hopia.data.pseudo.hospitals import ACRONYMS, CUE_ACRONYMS, table

from .utils import parse_markup, triples

PS = Pseudonymiser(b"hospitals-test-secret-0123456789ab", use_model=False)


def check(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert triples(PS.detect(text)) == expected, text


def nothing_in(text: str) -> None:
    assert [(s.text, s.label) for s in PS.detect(text)] == [], text


def test_the_gazetteer_is_well_formed() -> None:
    t = table()
    assert set(t) == {"N", "P", "C"}
    assert sum(len(v) for v in t.values()) > 250  # forms of about 180 hospitals
    forms = [f for v in t.values() for f, _ in v]
    assert all(f.strip() == f and f for f in forms)
    assert all(city for v in t.values() for _, city in v)
    assert not set(ACRONYMS) & set(CUE_ACRONYMS)


@pytest.mark.parametrize(
    "markup",
    [
        # a name alone that means nothing else
        "Hospitalisée à la <ent label=HOPITAL>Salpêtrière</ent> pour bilan.",
        "Suivi à <ent label=HOPITAL>Pontchaillou</ent> depuis des années.",
        # a person's name that is a hospital's, written as one
        "Transféré à <ent label=HOPITAL>Henri Mondor</ent> pour avis.",
        "Adressé par le <ent label=HOPITAL>Centre Léon Bérard</ent> pour la suite.",
        "Consultation au <ent label=HOPITAL>centre Oscar Lambret</ent> le mois prochain.",
        "Bilan au <ent label=HOPITAL>CMC Ambroise Paré</ent> sans particularité.",
        "Prise en charge à la <ent label=HOPITAL>Fondation Adolphe de Rothschild</ent>.",
        # a word that is also something else, right after "à" / "au" / "l'"
        "Hospitalisé à <ent label=HOPITAL>Mondor</ent> en réanimation.",
        "Revu à <ent label=HOPITAL>Béclère</ent> en consultation.",
        "Suivi à <ent label=HOPITAL>Curie</ent> pour son cancer.",
        "En réanimation à <ent label=HOPITAL>St Antoine</ent> cette nuit.",
        # in lower case after its keyword, or several listed words after "à"
        "Adressée par l'<ent label=HOPITAL>hôpital de la conception</ent> ce matin.",
        "Suivi à l'<ent label=HOPITAL>hôpital du kremlin-bicêtre</ent> en néphrologie.",
        "Hospitalisé à la <ent label=HOPITAL>pitié salpêtrière</ent> l'an passé.",
        # acronyms: alone, or after "à" / "au" / "l'" when they mean something else too
        "Bilan d'extension réalisé à l'<ent label=HOPITAL>IGR</ent>.",
        "Transfert au <ent label=HOPITAL>KB</ent> pour greffe hépatique.",
        "Courrier du <ent label=HOPITAL>CHSF</ent> reçu.",
    ],
)
def test_hospitals_by_name(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        # eponyms: a disease, a capsule, a sign, a fat pad
        "Thrombose superficielle : maladie de Mondor.",
        "Capsule de Tenon épaissie, signe de Trousseau positif.",
        "Boule de Bichat visible au scanner.",
        # "conception" and a lower-case single word after "à" are the words
        "Au moment de la conception, à la conception de l'enfant.",
        "Il est venu à pied, à curie près.",
        # an acronym that is a unit
        "Délétion de 12 KB sur le chromosome 7, à 3 KB près.",
        "ICM gauche modérée.",
    ],
)
def test_eponyms_units_and_words_stay(text: str) -> None:
    nothing_in(text)


def test_a_person_named_like_a_hospital_stays_a_person() -> None:
    # after a title, "André Grégoire" is a doctor, not the hospital of Montreuil
    spans = PS.detect("Dr ANDRE GREGOIRE, praticien hospitalier")
    assert all(s.label in ("PRENOM", "NOM") for s in spans)
    assert spans, "the doctor's name is read"
    # in a street's name it is the address's
    check("Il habite <ent label=ADRESSE>12 rue Ambroise Paré</ent>.")


@pytest.mark.parametrize(
    "markup",
    [
        # a surname alone after a role's label
        "Médecin traitant : <ent label=NOM>Perrot</ent>",
        "Opérateur : <ent label=NOM>KOWALCZYK</ent>",
        "Anesthésiste : <ent label=NOM>Zerrouki</ent>",
        "Signature : <ent label=NOM>Kowalczyk</ent>",
        "Médecin traitant : <ent label=NOM>PERROT</ent> <ent label=PRENOM>Lucie</ent>",
        # a surname alone after "vu par", "discuté avec", "avis de"
        "Patient vu par <ent label=NOM>Zerrouki</ent> ce matin.",
        "Avis de <ent label=NOM>Kowalczyk</ent> demandé.",
        # particles "de la" and an initial glued to a surname in capitals
        "Dr <ent label=PRENOM>Jean-Michel</ent> <ent label=NOM>DE LA TOUR</ent>",
        "Vu avec le Dr <ent label=NOM>de la Tour</ent>.",
        "Dr <ent label=PRENOM>J.</ent><ent label=NOM>DUPONT</ent>",
    ],
)
def test_surnames_after_a_role(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Aide : Totale pour la toilette.",
        "Médecin : Non renseigné",
        "Médecin traitant : Aucun",
        "Copie : Dossier",
        "Opérateur : Droitier",
        "Avis de Cardiologie demandé.",
        "Vu par Urgences, adressé par SAMU.",
        "Référent : Infectiologie",
        "Radiologue : Scanner",
        "Chirurgien : Orthopédiste",
        "Signé : Non",
        "Visa : OK",
    ],
)
def test_words_after_a_role_stay(text: str) -> None:
    nothing_in(text)


def test_a_title_after_a_role_is_the_titles() -> None:
    check("Secrétaire : M. <ent label=PRENOM>Jean</ent> <ent label=NOM>Dewasme</ent>")


@pytest.mark.parametrize(
    "markup",
    [
        # after a title, a first name that is also a common word, beside a surname
        "Vu par le Dr <ent label=PRENOM>pierre</ent> <ent label=NOM>lefebvre</ent> ce jour.",
        "interne : <ent label=PRENOM>camille</ent> <ent label=NOM>roux</ent>",
        # alone on its line, as a letter is signed
        "Bien confraternellement,\n<ent label=PRENOM>pierre</ent> <ent label=NOM>lefebvre</ent>"
        ", interne",
    ],
)
def test_lower_case_names_after_a_title_or_as_a_signature(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "calcul : pierre à la vésicule",
        "Présence d'une pierre dans la vésicule.",
        "rose et douloureux",
        "Vu avec claire et rose.",
        # two words that are both common words are no signature
        "rose claire\n",
    ],
)
def test_common_words_that_are_first_names_stay(text: str) -> None:
    nothing_in(text)


def test_a_keyword_in_capitals_before_a_lower_case_commune() -> None:
    check("Transfert au <ent label=HOPITAL>CH de vierzon</ent> ce soir.")


def test_a_compound_first_name_alone() -> None:
    check("Appel de <ent label=PRENOM>Jean-Marc</ent> ce matin.")


@pytest.mark.parametrize(
    "markup",
    [
        "Transféré à l'<ent label=HOPITAL>HCI</ent> pour suite de prise en charge.",
        "Admise à <ent label=HOPITAL>BCT</ent> en urgence.",
    ],
)
def test_a_site_code_after_a_move(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Patient transféré au BO.",
        "Transféré en SSPI puis à l'USIC.",
        "Hospitalisée au SAU, adressé au CMP.",
        "Transfert à l'UHCD, revue à l'HDJ.",
        "Pris en charge au SMUR, transférée à l'USINV.",
        "Transfert à l'EHPAD.",
    ],
)
def test_units_after_a_move_stay(text: str) -> None:
    nothing_in(text)
