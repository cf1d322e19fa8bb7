"""Rules for identifiers as other hospitals write them (issue 11, finding 4), one made-up example
per case, and the common words, drugs and eponyms next to them that must stay untouched. The
detected spans must be exactly the marked ones, so every positive example checks for false
positives too. No example comes from an evaluation file."""

from __future__ import annotations

import re

import pytest

from hopia.data.pseudo import Pseudonymiser
from hopia.data.pseudo.rules import number_words

from .utils import parse_markup, triples

PS = Pseudonymiser(b"rules-elsewhere-secret-0123456789", use_model=False)


def check(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert triples(PS.detect(text)) == expected, text


def nothing_in(text: str) -> None:
    assert [(s.text, s.label) for s in PS.detect(text)] == [], text


@pytest.mark.parametrize(
    "markup",
    [
        # initials without their dot, after a title or a surname
        "Vu par le Dr <ent label=PRENOM>G</ent> <ent label=NOM>SANTERRE</ent> ce jour.",
        "Interne <ent label=NOM>Drame</ent> <ent label=PRENOM>A</ent>\nService de nuit",
        "Madame <ent label=PRENOM>M</ent> <ent label=NOM>MARTY</ent> a appelé.",
        # hyphenated and dotted initials, abbreviated first names that are also common words
        "Docteur <ent label=PRENOM>J.-J</ent> <ent label=NOM>RONDELE</ent> (PH)",
        "Pr <ent label=NOM>MOLINIER</ent> <ent label=PRENOM>A.M</ent>",
        "Patient <ent label=PRENOM>Ph.</ent> <ent label=NOM>ROCHE</ent>, revu ce jour",
        "Professeur <ent label=PRENOM>MA.</ent> <ent label=NOM>VIGGIANO</ent>\nAccueil",
        # a surname and initials without any title
        "Résultats pour <ent label=NOM>Czernikowski</ent> <ent label=PRENOM>S.</ent> à revoir",
        "<ent label=NOM>Louvet</ent> <ent label=PRENOM>J.-C.</ent>\nSecrétariat",
        "Traitement pour 3 mois <ent label=NOM>MARECHAL</ent> <ent label=PRENOM>C</ent> à suivre",
        "Rendez-vous pour <ent label=PRENOM>D</ent> <ent label=NOM>Tronchet</ent> demain",
        "<ent label=PRENOM>G.</ent> <ent label=NOM>Didonne</ent>\nSecrétariat",
        "Patient : <ent label=PRENOM>A.</ent> <ent label=NOM>MONGALI</ent> âgée de 75 ans",
        # "M." stays a title
        "Vu M. <ent label=NOM>DUPONT</ent> et Mme. <ent label=NOM>Durand</ent>.",
    ],
)
def test_initials(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        # a capital letter that is a word, a vitamin, a group, a stage, "à" without its accent
        "Le Dr A été prévenu.",
        "Vitamine D. Hépatite B. Groupe A Rhésus positif. Stade C. Hémophilie A. Annexe B.",
        "Le pH. Normal. Mg. Dosage à refaire.",
        "Classe NYHA II. Score ASA 2.",
    ],
)
def test_letters_that_are_no_initials(text: str) -> None:
    nothing_in(text)


def test_a_capital_a_is_no_initial_before_a_commune_or_a_verb() -> None:
    assert [(s.text, s.label) for s in PS.detect("Il vit A Paris.")] == [("Paris", "VILLE")]
    assert [(s.text, s.label) for s in PS.detect("M. DUPONT A faxer.")] == [("DUPONT", "NOM")]


@pytest.mark.parametrize(
    "markup",
    [
        # names in capitals without a title, as banners and signatures write them
        "<ent label=NOM>OWZARSKI</ent> <ent label=PRENOM>HELENA</ent>\nTél. inconnu",
        "Partenaires : <ent label=NOM>LOUIS BLAISE</ent> et son équipe",
    ],
)
def test_untitled_names_in_capitals(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "COMPTE RENDU D'HOSPITALISATION",
        "INSUFFISANCE CARDIAQUE GLOBALE",
        "SYNDROME DE MARIE BAMBERGER",  # an eponym after "syndrome de"
        "MALADIE DE PARKINSON ET TRAITEMENT",
    ],
)
def test_headings_in_capitals_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # a NIR between dates in a banner, or after one-digit cells
        "<ent label=DATE>24-11-2018</ent> <ent label=SECU>2 83 06 24 729096</ent> "
        "<ent label=DATE_NAISSANCE>27/01/83</ent>",
        "<ent label=DATE>03-05-2022</ent> <ent label=SECU>19710 36 802 455</ent> "
        "<ent label=DATE_NAISSANCE>18-04-1997</ent>",
        "Mme <ent label=NOM>Rose</ent> <ent label=DATE>1 5 0 3 2 0 2 4</ent> "
        "<ent label=SECU>284 05 07152 362</ent>",
        # cells of a date followed by a field of several digits
        "<ent label=SECU>2 8 3 0 6 8 1 8 4 0 0 6 6</ent> <ent label=DATE_NAISSANCE>0 7 1 1 1 9 8 "
        "3</ent> <ent label=DATE>18-03-2030</ent>",
        # a banner of cells: a NIR with a digit too many, then a date
        "<ent label=SECU>1 4 2 3 8 5 6 8 3 7 8 3 5 3</ent> <ent label=DATE>0 9 0 1 1 9 8 7</ent> "
        "<ent label=ADRESSE>24 avenue Saint Germain</ent>",
        # a key written as a last group of two digits, even wrong
        "Né le <ent label=DATE_NAISSANCE>11 novembre 1975</ent> <ent label=SECU>1 60 04 25 311 "
        "114 26</ent>",
        # after a NIR label, whatever its shape
        "Numéro de sécurité sociale <ent label=SECU>173 2857 4932</ent>.",
        "N° de sécurité sociale : <ent label=SECU>2 8 3 1 9 8 2 5 0 9 3 7 4</ent>",
        # 14 digits: a NIR with a digit too many
        "| F | <ent label=SECU>12219381234295</ent> |",
    ],
)
def test_nirs_in_banners(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "(1)16:01 38 1930 193 20 1930 193 20 1930 193 20 193 31",  # a table of measures
        "Référence 255081416802539 du lot.",
        "CIP 3400930000000, lot 5123456789873.",
    ],
)
def test_numbers_that_are_no_nir(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        "Imprimé le <ent label=DATE>vingt-quatre août deux mille dix-sept</ent> à 15:03",
        "née le <ent label=DATE_NAISSANCE>quinze septembre mille neuf cent soixante-cinq</ent>.",
        "Arrivée le <ent label=DATE>deux janvier mille neuf cent soixante dix huit</ent>",
        "Prélèvement du <ent label=DATE>vingt-six 02 2012</ent> à 12:32",
        "Glycémie réalisée le <ent label=DATE>vingt mars 20</ent>",
        "Revu le <ent label=DATE>premier mai</ent>, puis le <ent label=DATE>trente et un "
        "décembre</ent>.",
        "Prélever le <ent label=DATE>Sept 01, 2026</ent>",
        "Opéré en <ent label=DATE>07/2002</ent>, puis en <ent label=DATE>11-2019</ent> et en "
        "<ent label=DATE>07 2002</ent>.",
    ],
)
def test_dates_in_words_and_other_orders(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Il a pris deux comprimés le premier jour, un mars plus tard rien.",
        "Sept mois plus tard, trois 12 mois de suite.",
        "Dilution au 1/160 ; 10 2020 n'est pas une date ici.",
    ],
)
def test_number_words_that_are_no_dates(text: str) -> None:
    nothing_in(text)


def test_number_words() -> None:
    assert number_words("vingt et un") == 21
    assert number_words("soixante et onze") == 71
    assert number_words("quatre-vingt-dix-neuf") == 99
    assert number_words("quatre-vingts") == 80
    assert number_words("mille neuf cent soixante-dix-huit") == 1978
    assert number_words("deux mille dix-sept") == 2017
    assert number_words("dix-neuf cent quatre-vingt") == 1980


@pytest.mark.parametrize(
    "markup",
    [
        # hospitals named in English, ambiguous sites after "à", postcodes after a hospital
        "Adressée au <ent label=HOPITAL>Jefferson University Hospital</ent> pour avis.",
        "Service d'oncologie - <ent label=HOPITAL>Avicenne AP-HP Hospital</ent>",
        "Visite du <ent label=DATE>08/09/2029</ent> à <ent label=HOPITAL>Bichat</ent> pour "
        "réévaluation.",
        "<ent label=HOPITAL>Hôpital Georges Pompidou</ent> <ent label=ZIP>75015</ent> "
        "<ent label=VILLE>Paris</ent>",
        "Elle vit à <ent label=VILLE>Paris</ent> dans le <ent label=ZIP>75001</ent>.",
    ],
)
def test_hospitals_and_postcodes(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "markup",
    [
        # a site's code in capitals after a ward's name: the context says it, not a list
        "Service de cardiologie, <ent label=HOPITAL>HEGP</ent>",
        "Unité de soins intensifs - <ent label=HOPITAL>PSL</ent>",
        "Consultation de neurologie du site <ent label=HOPITAL>BCT</ent>, revue",
        "Service de médecine interne (<ent label=HOPITAL>HMN</ent>)",
    ],
)
def test_site_codes_after_a_ward(markup: str) -> None:
    check(markup)


def test_acronyms_after_a_ward_are_no_site() -> None:
    nothing_in(
        "Service de réanimation - USI. Service de neurologie (AVC). Consultation d'anesthésie - "
        "CR. Service de cardiologie, HTA sévère. Service de pneumologie (BPCO). Unité - IDE."
    )


@pytest.mark.parametrize(
    "text",
    [
        # eponyms: the same names as sites, but anatomy and signs
        "Capsule de Tenon, boule graisseuse de Bichat, signe de Trousseau.",
        "Dans le 10000 mètres il a couru. Dans le 1er cas.",
        # a post and generic names are no hospital's name
        "Chefs de Clinique Assistants du service.",
        "Centre de Santé Mentale, Réunion Clinique Multidisciplinaire.",
    ],
)
def test_eponyms_and_numbers_stay(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        # house numbers in words, glued to the word before, abbreviations, streets abroad
        "Domicile : <ent label=ADRESSE>sept allée des roses</ent> <ent label=ZIP>77500</ent> "
        "<ent label=VILLE>Chelles</ent>",
        "Contact : <ent label=PRENOM>Kennedy</ent><ent label=ADRESSE>76 rue Haute Chiffure</ent> "
        "<ent label=ZIP>59000</ent> <ent label=VILLE>Lille</ent>",
        "Adresse : <ent label=ADRESSE>42 avenue du G.al de Gaulle</ent>, "
        "<ent label=ZIP>31020</ent> <ent label=VILLE>TOULOUSE</ent>",
        "Société Biotex, <ent label=ADRESSE>Schlossstrasse 13</ent>, 3049 Leipzig",
        "Adresse : <ent label=ADRESSE>Via Roma 12</ent>, à <ent label=VILLE>Milan</ent>.",
        "Il vit au <ent label=ADRESSE>221 Baker Street</ent> depuis longtemps.",
    ],
)
def test_addresses_written_elsewhere(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Le patient a sept ans. Prendre deux comprimés. Via orale. Voie veineuse.",
        "pH 7.35 à 10h, score à 12. Passage en rythme sinusal.",
    ],
)
def test_no_address_in_these(text: str) -> None:
    nothing_in(text)


@pytest.mark.parametrize(
    "markup",
    [
        "Dr <ent label=PRENOM>J.</ent> <ent label=NOM>SORREL</ent> "
        "<ent label=TEL>O1.42.15.23.35</ent>",
        "Secrétariat <ent label=TEL>06/28/42/50/36</ent>",
    ],
)
def test_phones_as_typed(markup: str) -> None:
    check(markup)


def test_letters_o_alone_are_no_phone() -> None:
    nothing_in("OOOOOOOOOO et OO OO OO OO O1")


def test_word_dates_get_shifted_digits() -> None:
    # the surrogate is the date shifted (at most a year either way), in digits
    text = PS.pseudonymise("Imprimé le vingt-quatre août deux mille dix-sept.").pseudo_text
    assert re.fullmatch(r"Imprimé le \d{1,2} [a-zéû]+ 20(?:16|17|18)\.", text), text


@pytest.mark.parametrize(
    "markup",
    [
        # a first name alone after a relative, even one that is also a word ("maria", "Pierre")
        "Accompagnée de sa fille <ent label=PRENOM>maria</ent> et de son fils "
        "<ent label=PRENOM>Pierre</ent>.",
        "Prénom : <ent label=PRENOM>nathalie</ent>",
        # hospitals in lower case with an adjective, a site after "à la"
        "Suivi à l'<ent label=HOPITAL>hôpital européen georges pompidou</ent> depuis 2 ans",
        "Hospitalisé à l'<ent label=HOPITAL>HEGP</ent> puis à la <ent label=HOPITAL>Pitié</ent>.",
    ],
)
def test_first_names_after_a_relative_and_hospitals_in_lower_case(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Une rose rouge, la pierre du rein, la France entière, des marguerites.",
        "Elle cultive des roses, des marguerites et une rose trémière, en pierre de France.",
        "Il est né et un mars plus tard il marchait.",
        "Docteur junior du service.",
        "Traitement par pierre. Le père a une HTA. Sa mère diabétique. Son fils va bien.",
        "Traitement par doliprane et kardegic, bilan de Crohn.",
    ],
)
def test_common_words_that_are_first_names_stay(text: str) -> None:
    nothing_in(text)
