"""Known-identity and staff matching: accent/case-insensitive, any written form, precedence."""

from __future__ import annotations

from datetime import date

import pytest

from hopia.data.pseudo import Pseudonymiser
from hopia.data.records import PatientIdentity

from .utils import parse_markup

PS = Pseudonymiser(b"identity-test-secret-0123456789", use_model=False)
IDENT = PatientIdentity(
    ipp="8001234567",
    family_name="Le Gall-Dupré",
    given_name="Hélène",
    birth_date=date(1951, 7, 3),
    nir="251073511512364",
    address="12 rue des Lilas",
    zip="35000",
    city="Saint-Malo",
    phone="06 12 34 56 78",
    email="helene.legall@example.org",
)


def identity_spans(text: str, **kwargs) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in PS.detect(text, **kwargs) if s.source != "rule"]


@pytest.mark.parametrize(
    "markup",
    [
        "Mme <ent label=PRENOM>HELENE</ent> <ent label=NOM>le gall-dupre</ent> revue.",
        "<ent label=PRENOM>hélène</ent> <ent label=NOM>Le Gall Dupré</ent> va mieux.",
        # the surname alone, and each part of a compound surname
        "Appel de <ent label=NOM>Dupré</ent>, puis de <ent label=NOM>LE GALL</ent>.",
        "DDN <ent label=DATE_NAISSANCE>3 juillet 1951</ent>, soit le "
        "<ent label=DATE_NAISSANCE>03/07/51</ent> ou <ent label=DATE_NAISSANCE>1951-07-03</ent>.",
        "Adresse <ent label=ADRESSE>12 Rue des lilas</ent> <ent label=ZIP>35 000</ent> "
        "<ent label=VILLE>SAINT MALO</ent>.",
        "Tél <ent label=TEL>+33612345678</ent> ou <ent label=TEL>06.12.34.56.78</ent>.",
        "Écrire à <ent label=MAIL>Helene.LeGall@example.org</ent>, dossier "
        "<ent label=IPP>8001234567</ent>.",
        "NIR <ent label=SECU>2 51 07 35 115 123 64</ent>",
    ],
)
def test_identity_any_form(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert identity_spans(text, identity=IDENT) == expected


def test_common_words_are_not_taken_for_the_patient() -> None:
    petit = PatientIdentity(ipp="1", family_name="Petit", given_name="Rose")
    text = "Une petite lésion rose, un petit nodule. Mme PETIT Rose revient."
    assert identity_spans(text, identity=petit) == [(45, 50, "NOM"), (51, 55, "PRENOM")]


def test_staff_names() -> None:
    text, expected = parse_markup(
        "Vu par <ent label=PRENOM>jean</ent> <ent label=NOM>MARTIN</ent> et "
        "<ent label=NOM>Bernard-Levy</ent> <ent label=PRENOM>Sophie</ent>; "
        "<ent label=NOM>bernard lévy</ent> conclut."
    )
    spans = PS.detect(text, staff=["Jean Martin", "Sophie BERNARD-LÉVY"])
    assert [(s.start, s.end, s.label) for s in spans if s.source == "staff"] == expected


def test_identity_wins_over_rules_on_equal_spans() -> None:
    # "03/07/1951" alone is a rule DATE; the identity knows it is the birth date
    spans = PS.detect("Consultation du 03/07/1951.", identity=IDENT)
    assert [(s.text, s.label, s.source) for s in spans] == [
        ("03/07/1951", "DATE_NAISSANCE", "identity")
    ]


def test_identity_and_staff_are_cached_per_patient() -> None:
    first = PS.detect("Hélène Le Gall-Dupré", identity=IDENT, staff=("Jean Martin",))
    again = PS.detect("Hélène Le Gall-Dupré", identity=IDENT, staff=["Jean Martin"])
    assert first == again and len(first) == 2
