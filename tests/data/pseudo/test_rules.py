"""Rule detection, one marked-up example per case: the detected spans must be exactly the marked
ones (so every example also checks for false positives)."""

from __future__ import annotations

import pytest

from hopia.data.pseudo import Pseudonymiser
from hopia.data.pseudo.patterns import words

from .utils import parse_markup, triples

# Rule tests: the statistical model is tested on its own (test_model.py).
PS = Pseudonymiser(b"rules-test-secret-0123456789", use_model=False)


def check(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert triples(PS.detect(text)) == expected, text


@pytest.mark.parametrize(
    "markup",
    [
        "NIR : <ent label=SECU>2 55 08 14 168 025 38</ent>",
        "Son numéro est le <ent label=SECU>255081416802538</ent>.",
        "Assuré <ent label=SECU>2.55.08.14.168.025.38</ent> ce jour",
        "Carte vitale <ent label=SECU>2 69 05 2A 032 005 68</ent>",
        "Matricule <ent label=SECU>2 69 05 2B 032 005 95</ent>",
        # 13 characters: the key is often left out
        "Numéro <ent label=SECU>2 55 08 14 168 025</ent>",
        # a wrong key is accepted only after a social-security word
        "N° de sécurité sociale : <ent label=SECU>2 55 08 14 168 025 39</ent>",
        "Référence 255081416802539 du lot.",
    ],
)
def test_nir(markup: str) -> None:
    check(markup)


def test_nir_accepted_on_context_is_marked() -> None:
    spans = PS.detect("NIR : 2 55 08 14 168 025 39")
    assert [(s.label, s.detail) for s in spans] == [("SECU", "nir:contexte")]


@pytest.mark.parametrize(
    "markup",
    [
        "Tél : <ent label=TEL>01 42 34 56 78</ent>",
        "portable <ent label=TEL>06.12.34.56.78</ent> ou <ent label=TEL>0612345678</ent>",
        "fax <ent label=TEL>02-99-28-43-22</ent>, poste <ent label=TEL>4321</ent>",
        "joindre le <ent label=TEL>+33 6 12 34 56 78</ent> "
        "ou le <ent label=TEL>+33 (0)1 42 34 56 78</ent>",
        "ou le <ent label=TEL>0033 1 42 34 56 78</ent> ou <ent label=TEL>+33612345678</ent>",
        "en Angleterre : <ent label=TEL>+44 20 7946 0958</ent>.",
        "secrétariat <ent label=TEL>0 6 . 1 1 . 5 7 . 3 2 . 7 1</ent>",
        "(bureau <ent label=TEL>(33) 4 17 73 74 17</ent>)",
        "source : <ent label=TEL>(205)-276-2043</ent> (annuaire)",
        # letters glued on either side (OCR, copy-paste) do not hide the number
        "En joignant le Tél : <ent label=TEL>05 21 47 11 67</ent>ilig sis",
        "| <ent label=TEL>FE01 W47 33 41 41</ent> | vu",
    ],
)
def test_phones(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "markup",
    [
        # a banner of letter-spaced cells: birth date then NIR, one run
        "Né le <ent label=DATE_NAISSANCE>1 9 1 0 1 9 8 7</ent> "
        "<ent label=SECU>2 8 7 0 5 8 8 1 1 1 4 9 4</ent>\nSuite",
        # after a written date; an odd 13-cell block between two dates is still the NIR
        "<ent label=DATE>28-04-2028</ent> <ent label=DATE>1 5 0 3 2 0 2 4</ent> "
        "<ent label=SECU>4 5 2 4 3 7 4 4 7 4 3 9 9</ent> <ent label=DATE>1 5 0 3 1 9 8 5</ent>",
        # one 15-cell field shaped like a NIR whose key fails
        "Assuré\n<ent label=SECU>1 5 9 4 4 4 0 2 3 5 6 7 9 8 8</ent>\nAdresse",
    ],
)
def test_digit_cells(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "Vu le <ent label=DATE>12/03/2024</ent>, revu le <ent label=DATE>12-03-24</ent>.",
        "Contrôle le <ent label=DATE>12.03.2024</ent> et le <ent label=DATE>3/4/19</ent>.",
        "Consultation du <ent label=DATE>12 mars 2024</ent> "
        "et du <ent label=DATE>1er mars 2024</ent>.",
        "Infarctus en <ent label=DATE>mai 2018</ent>, angioplastie"
        " le <ent label=DATE>lundi 12 mars</ent>.",
        "Examen du <ent label=DATE>2024-03-12</ent>, imprimé"
        " le <ent label=DATE>SAM 20 FÉVR 2083</ent>.",
        "RDV le <ent label=DATE>12/03</ent> à 10h, cycle C2 <ent label=DATE>16/09</ent>.",
        "Appendicectomie en <ent label=DATE>2019</ent>, cholécystectomie"
        " en <ent label=DATE>déc. 2020</ent>.",
        "Antécédents : - <ent label=DATE>1981</ent> hystérectomie",
        "Relevé <ent label=DATE>1 4 0 6 2 0 2 2</ent> transmis",
        "Le <ent label=DATE>23022018</ent> puis le <ent label=DATE>20 12 2003</ent>",
    ],
)
def test_dates(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "TA 12/8 mmHg, prendre 1/2 cp matin et soir.",
        "Dose totale 2000 mg, 1950 UI d'héparine.",
        "Décret n°2013-1066, version 1.2.3 du logiciel.",
        "Douleur depuis 2/3 semaines, EVA 7/10.",
        "Bilan : Hb 12.5 g/dL, plaquettes 250 G/L.",
        "Sept patients vus en mars.",
    ],
)
def test_no_date_in_numbers(text: str) -> None:
    assert PS.detect(text) == []


@pytest.mark.parametrize(
    "markup",
    [
        "Patiente née le <ent label=DATE_NAISSANCE>03/07/1951</ent>.",
        "DDN : <ent label=DATE_NAISSANCE>3 juillet 1951</ent>",
        "Date de naissance : <ent label=DATE_NAISSANCE>03.07.1951</ent>",
        "Naissance : <ent label=DATE_NAISSANCE>1951-07-03</ent>",
        "Patient | M | <ent label=DATE_NAISSANCE>22/01/1965</ent> | suivi",
        "Vu le <ent label=DATE>12/03/2024</ent>, <ent label=DATE_NAISSANCE>22/01/1965</ent> "
        "(59 ans)",
        # a date next to a NIR that encodes the same birth year
        "<ent label=SECU>2 65 01 35 115 123</ent> <ent label=DATE_NAISSANCE>22/01/1965</ent>",
    ],
)
def test_birth_dates(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "IPP : <ent label=IPP>8001234567</ent>. NDA <ent label=NDA>2024123456</ent>.",
        "N° de séjour : <ent label=NDA>99887766</ent>, numéro"
        " de dossier : <ent label=NDA>12345678</ent>",
        "N° venue <ent label=NDA>55443322</ent>, IPP<ent label=IPP>N11232344</ent>",
        "Son IPP est <ent label=IPP>5472614983</ent> "
        "et le dossier <ent label=NDA>1407561893</ent>.",
        "identifiant patient (IPP) : <ent label=IPP>2849201835</ent>",
    ],
)
def test_hospital_identifiers(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "Domicile : <ent label=ADRESSE>12 rue de la Paix</ent>, <ent label=ZIP>75002</ent> "
        "<ent label=VILLE>Paris</ent>.",
        "Il habite <ent label=ADRESSE>3 bis avenue Jean Jaurès</ent> <ent label=ZIP>35000</ent> "
        "<ent label=VILLE>Rennes</ent>.",
        "<ent label=ADRESSE>8, boulevard Saint-Michel</ent>, <ent label=ZIP>13 001</ent> "
        "<ent label=VILLE>Marseille</ent>",
        "<ent label=ADRESSE>17 RUE DE RENNES, APPT 188</ent>, <ent label=ZIP>75011</ent> "
        "<ent label=VILLE>PARIS</ent>",
        "<ent label=ADRESSE>27 impasse des Lilas</ent>\n<ent label=ZIP>29200</ent> "
        "<ent label=VILLE>Brest</ent>",
        "<ent label=ADRESSE>5 place du Général de Gaulle</ent> <ent label=ZIP>22000</ent> "
        "<ent label=VILLE>Saint-Brieuc</ent>",
        "Courrier : <ent label=ZIP>35033</ent> <ent label=VILLE>Rennes Cedex 9</ent>",
        "Patient domicilié à <ent label=VILLE>Brest</ent>, né à <ent label=VILLE>Quimper</ent>.",
        "Scolarisé à <ent label=VILLE>PARIS</ent>, une nièce"
        " près de <ent label=VILLE>Bordeaux</ent>.",
        "<ent label=VILLE>Rennes</ent>, le <ent label=DATE>12 mars 2024</ent>",
        "Il vit à <ent label=VILLE>Ivry-sur-Seine</ent>, <ent label=ZIP>94200</ent>.",
    ],
)
def test_places(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "3 cours de chimiothérapie, 2 passages aux urgences.",
        "Au cours de l'hospitalisation, mise en place d'une sonde.",
        "10000 UI par jour, 40000 unités au total.",
        "Adressé à Monsieur le Président.",
    ],
)
def test_no_place_in_prose(text: str) -> None:
    assert PS.detect(text) == []


@pytest.mark.parametrize(
    "markup",
    [
        "Hospitalisé au <ent label=HOPITAL>CHU de Rennes</ent> puis à l'<ent label=HOPITAL>"
        "Hôpital Pitié-Salpêtrière</ent>.",
        "Suivi à la <ent label=HOPITAL>Clinique Saint-Jean</ent> "
        "depuis <ent label=DATE>2019</ent>.",
        "Transfert au <ent label=HOPITAL>Centre hospitalier de Saint-Malo</ent> "
        "(<ent label=HOPITAL>AP-HP</ent>).",
        "Adressé par le <ent label=HOPITAL>CHRU de Brest</ent> et le <ent label=HOPITAL>GHU Paris"
        "</ent>.",
        "<ent label=HOPITAL>Hôpital européen Georges-Pompidou</ent> Service de Cardiologie",
    ],
)
def test_hospitals(markup: str) -> None:
    check(markup)


def test_generic_hospital_word_is_not_a_name() -> None:
    assert PS.detect("Retour à l'hôpital. Prise en charge à la clinique.") == []


@pytest.mark.parametrize(
    "markup",
    [
        "Vu par le Dr <ent label=NOM>Martin</ent>.",
        "M. <ent label=PRENOM>Jean</ent> <ent label=NOM>DUPONT</ent> est venu.",
        "Mme <ent label=PRENOM>Marie-Claire</ent> <ent label=NOM>LE GALL</ent>, cadre.",
        "Signé : Pr <ent label=PRENOM>J.</ent> <ent label=NOM>Martin</ent>.",
        "Interne : <ent label=NOM>DURAND</ent> <ent label=PRENOM>Paul</ent>.",
        "IDE <ent label=PRENOM>Sophie</ent> <ent label=NOM>Bernard</ent>.",
        "Madame <ent label=NOM>Dupont</ent> <ent label=PRENOM>Marie</ent> a été vue.",
        "Docteur <ent label=PRENOM>Gilberte Yvonne</ent> <ent label=NOM>Cecchi</ent>.",
        "Nom : <ent label=NOM>DUPONT</ent>\nPrénom : <ent label=PRENOM>Jean</ent>",
        "Dossier <ent label=PRENOM>Jean</ent> <ent label=NOM>DUPONT</ent>.",
        "Contact : <ent label=PRENOM>R.</ent> <ent label=NOM>Desloges</ent>.",
        # once seen after a title, a surname is found alone too
        "Dr. <ent label=NOM>Cecchi</ent> est joignable. <ent label=NOM>Cecchi</ent> rappellera.",
    ],
)
def test_names(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "Le patient est vu en consultation. Bilan Cardiologique Normal.",
        "IRM Cérébrale et ECG Normal, HTA Traitée.",
        "Monsieur le Président, Madame la Directrice,",
    ],
)
def test_no_name_in_prose(text: str) -> None:
    assert PS.detect(text) == []


@pytest.mark.parametrize(
    "markup",
    [
        "Écrire à <ent label=MAIL>jean.dupont@chu-rennes.fr</ent>.",
        "<ent label=MAIL>secrétariat.onco@avicenne.aphp.fr</ent>",
        "Adresse : <ent label=MAIL>tlabelle @ medimail . com</ent>",
        "Rendez-vous @ 14h. Le patient reviendra.",
    ],
)
def test_mails(markup: str) -> None:
    check(markup)


# Every trigger word, one by one: the regexes skip ahead on their possible first letters, so a
# word missing from that set would silently stop matching.
@pytest.mark.parametrize(
    "title",
    words(
        "M. Mme Mlle Mr Dr Dr. Pr Pr. Madame Monsieur Mademoiselle Docteur Professeur Interne IDE "
        "Infirmière Patient Patiente Usager Bénéficiaire Kinésithérapeute Sage-femme"
    )
    + ["Cadre de santé", "Rédigé par", "Signé par", "Validé par", "Dicté par", "docteur"],
)
def test_every_title_introduces_a_name(title: str) -> None:
    text = f"Vu avec {title} KLOTZMANN hier."
    assert [(s.text, s.label) for s in PS.detect(text)] == [("KLOTZMANN", "NOM")]


@pytest.mark.parametrize(
    "keyword",
    [
        "Hôpital", "Hopital", "HÔPITAL", "Clinique", "Polyclinique", "Centre hospitalier",
        "Centre Hospitalier Universitaire", "Groupe hospitalier", "Centre de santé",
        "Centre médical", "Maternité", "Institut", "Hospices civils", "EHPAD", "CHU", "CHRU",
        "CHR", "CHI", "CHS", "CH", "GHU", "GH", "HIA", "CLCC", "SSR",
    ],
)  # fmt: skip
def test_every_hospital_keyword(keyword: str) -> None:
    text = f"Transfert vers {keyword} Kerlouan-Plage demain."
    assert [s.label for s in PS.detect(text)] == ["HOPITAL"]


@pytest.mark.parametrize(
    "street",
    words(
        "rue avenue av. bd boulevard chemin allée impasse quai faubourg lotissement résidence "
        "hameau place cours route square voie passage cité villa"
    ),
)
def test_every_street_type(street: str) -> None:
    text = f"Domicile : 12 {street} Kerlouan"
    assert [(s.text, s.label) for s in PS.detect(text)] == [(f"12 {street} Kerlouan", "ADRESSE")]


@pytest.mark.parametrize(
    "context",
    ["domicilié à", "demeurant à", "résidant à", "habite à", "vit à", "né à", "originaire de",
     "installée à", "près de", "région de", "ville de", "banlieue de", "scolarisé à"],
)  # fmt: skip
def test_every_city_context(context: str) -> None:
    text = f"Il est {context} Kerlouan depuis longtemps."
    assert [(s.text, s.label) for s in PS.detect(text)] == [("Kerlouan", "VILLE")]


@pytest.mark.parametrize(
    "example",
    [
        "Médecin traitant : Dr Jean-Luc REY (<ent label=VILLE>Fontaines-sur-Saône</ent>)",
        "Copie au Dr Marie-Thérèse FLEURY (<ent label=VILLE>Bron</ent>).",
        "Dr Ilaria PADOVANO (PU-PH)",
        "Dr Laurent HOARAU, médecin traitant, <ent label=VILLE>Aubenas</ent>.",
    ],
)
def test_practitioner_town(example: str) -> None:
    text, expected = parse_markup(example)
    assert [t for t in triples(PS.detect(text)) if t[2] == "VILLE"] == expected, text


def test_blank_separated_pieces_of_one_identifier_are_one_span() -> None:
    from hopia.data.pseudo.pseudonymiser import _join_blank_separated
    from hopia.data.pseudo.rules import PhiSpan

    text = "Dr Ginette Antoinette, NIR 189 0937 350743, le 12/03/2024 13/03/2024"

    def span(piece: str, label: str, nth: int = 0) -> PhiSpan:
        start = text.index(piece)
        return PhiSpan(start, start + len(piece), label, piece, "model")

    spans = [
        span("Ginette", "PRENOM"),
        span("Antoinette", "PRENOM"),
        span("189", "SECU"),
        span("0937 350743", "SECU"),
        span("12/03/2024", "DATE"),
        span("13/03/2024", "DATE"),
    ]
    joined = _join_blank_separated(text, spans)
    # one identifier, one span (one surrogate); two dates a blank apart stay two dates,
    # each shifted on its own
    assert [(s.label, s.text) for s in joined] == [
        ("PRENOM", "Ginette Antoinette"),
        ("SECU", "189 0937 350743"),
        ("DATE", "12/03/2024"),
        ("DATE", "13/03/2024"),
    ]


@pytest.mark.parametrize(
    "markup",
    [
        # finding 4 of issue 11 (made-up examples): hospitals in lower case or by site name,
        # a commune no list knows after a postcode, foreign cities, e-mails typed with blanks
        "Transférée à l'<ent label=HOPITAL>hôpital bichat</ent> pour avis.",
        "Suivi au <ent label=HOPITAL>chu de rennes</ent> depuis trois ans.",
        "Transféré à <ent label=HOPITAL>Necker</ent> puis à <ent label=HOPITAL>Henri Mondor</ent>.",
        "Adresse : <ent label=ADRESSE>12 impasse du Moulin</ent> <ent label=ZIP>45210</ent> "
        "<ent label=VILLE>fontenay-les-bois</ent>",
        "Vacances à <ent label=VILLE>Barcelone</ent> le mois dernier.",
        "Contact : <ent label=MAIL>JEAN.DUPONT @ CHU-EXEMPLE.FR</ent>",
        "écrire à <ent label=MAIL>s.martin@ HOPITAL.FR</ent> ou par fax",
        "Étiquette : <ent label=IPP>80014523</ent> | <ent label=DATE>12/03/1961</ent>",
        "Habite <ent label=ADRESSE>103 grande rue de la Croix-Rousse</ent>.",
    ],
)
def test_places_and_identifiers_written_elsewhere(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        "hôpital de jour le 3, clinique de la douleur ensuite.",
        "Plaquettes 150000/mm3, leucocytes 7,5 G/L, dose 1000000 UI.",
        "résultat x @ 12.5 sans suite",
    ],
)
def test_no_identifier_in_these(text: str) -> None:
    assert [s for s in Pseudonymiser(b"x" * 16, use_model=False).detect(text)] == []
