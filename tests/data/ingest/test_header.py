"""The patient and date a document's header states: hand-written layouts of French hospital
letters, not the synthetic templates (those are checked end to end in test_document_identity)."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.ingest.header import fold, parse_date, read_header, with_header
from hopia.data.records import PatientIdentity, RawDocument


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/04/1950", date(1950, 4, 3)),
        ("3.4.1950", date(1950, 4, 3)),
        ("03-04-1950", date(1950, 4, 3)),
        ("1er avril 1950", date(1950, 4, 1)),
        ("30 novembre 2019", date(2019, 11, 30)),
        ("30 Nov. 2019", date(2019, 11, 30)),
        ("12 février 2021", date(2021, 2, 12)),
        ("12 fevrier 2021", date(2021, 2, 12)),
        ("7 août 1944", date(1944, 8, 7)),
        ("31/02/2020", None),  # no such day
        ("12 brumaire 2020", None),
    ],
)
def test_parse_date_digits_and_words(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


LETTER_A = """CHU de Nulle-Part - Hôpital Sud
Service de Cardiologie

Saint-Étienne, le 30 novembre 2019

Patient : Mme DUPONT Marie, née le 03/04/1950 (69 ans)
IPP : 123456 - N° de séjour : 99887766

Chère consœur,
Je revois ce jour votre patiente, née le 02/02/1951 selon sa carte vitale..."""

LETTER_B = """HÔPITAL PRIVÉ DU PARC
Nom : MARTIN    Prénom : Jean-Pierre
Date de naissance : 1er janvier 1944    Sexe : M
NIP : A99-1234
Date : 05.06.2021

Compte rendu de consultation"""

LETTER_C = """Concerne : M. Paul LE GALL
Né(e) le 7 août 1962 - N° patient : 00451122
Date de l'examen : 12/03/2022
Le patient a été vu le 11/03/2022 aux urgences."""

LETTER_D = """Objet : Mme Hélène Durand
née le 15/09/1938
Fait à Bron, le 2 mai 2023
Madame, je vous adresse..."""


def test_letter_with_label_name_birth_ipp_and_place_date() -> None:
    head = read_header(LETTER_A)
    assert head.doc_date == date(2019, 11, 30)
    ident = head.identity
    assert ident is not None
    assert ident.ipp == "123456"  # not the stay number
    assert ident.birth_date == date(1950, 4, 3)  # the header's, not the one further down
    assert ident.family_name == "DUPONT" and ident.given_name == "Marie"
    assert ident.sex == "F"


def test_letter_with_name_fields_nip_and_labelled_date() -> None:
    head = read_header(LETTER_B)
    ident = head.identity
    assert ident is not None
    assert ident.ipp == "A99-1234"
    assert ident.family_name == "MARTIN" and ident.given_name == "Jean-Pierre"
    assert ident.birth_date == date(1944, 1, 1)
    assert ident.sex == "M"
    assert head.doc_date == date(2021, 6, 5)


def test_ne_e_le_and_numero_patient() -> None:
    head = read_header(LETTER_C)
    ident = head.identity
    assert ident is not None
    assert ident.ipp == "00451122"
    assert ident.birth_date == date(1962, 8, 7)
    assert ident.family_name == "LE GALL" and ident.given_name == "Paul"
    assert head.doc_date == date(2022, 3, 12)


def test_name_and_birth_without_ipp() -> None:
    head = read_header(LETTER_D)
    ident = head.identity
    assert ident is not None and ident.ipp is None
    assert ident.names == ("Hélène", "Durand")
    assert ident.birth_date == date(1938, 9, 15)
    # Neither word is in capitals: which one is the family name is not guessed.
    assert ident.family_name is None
    assert head.doc_date == date(2023, 5, 2)


def test_birth_name_after_nee_is_kept() -> None:
    text = "Patiente : Mme Hélène MARTIN née LEFEVRE, née le 15/09/1938\nIPP 8001"
    ident = read_header(text).identity
    assert ident is not None
    assert "LEFEVRE" in ident.names and "MARTIN" in ident.names
    assert ident.birth_date == date(1938, 9, 15)


@pytest.mark.parametrize(
    "line",
    [
        "N° de séjour : 123456",
        "NDA 123456",
        "N° de sécurité sociale : 1 50 04 69 123 456 78",
        "Le patient est suivi depuis 2015.",
    ],
)
def test_other_numbers_are_no_ipp(line: str) -> None:
    assert read_header(line).identity is None


def test_text_without_identity() -> None:
    head = read_header("Fièvre à 39 °C depuis trois jours. Pas de toux.")
    assert head.identity is None and head.doc_date is None


def test_birth_date_is_never_the_document_date() -> None:
    head = read_header("Date de naissance : 03/04/1950\nIPP : 1234")
    assert head.doc_date is None


def test_identity_beyond_the_header_is_not_read() -> None:
    text = "\n".join(["Texte."] * 80 + ["IPP : 123456"])
    assert read_header(text).identity is None


def test_with_header_keeps_a_structured_patient() -> None:
    patient = PatientIdentity(ipp="777")
    doc = RawDocument(
        "IPP : 123456\nLyon, le 3 mai 2020", "f.txt", "f.txt", "text", patient=patient
    )
    out = with_header(doc)
    assert out.patient_ipp == "777" and out.stated is None
    assert out.doc_date == date(2020, 5, 3)  # the date still comes from the header


def test_fold_compares_names_loosely() -> None:
    assert fold("Lefèvre-Dupont") == fold("LEFEVRE DUPONT") == "LEFEVRE DUPONT"
    assert fold("d’Arc") == "D ARC"
