"""Gazetteer detection (large lists of first names, surnames, communes), one marked-up example per
case: the merged rule + gazetteer spans must be exactly the marked ones, so every example also
checks for false positives. The loader and the shipped files are checked too."""

from __future__ import annotations

import pytest

from hopia.data.pseudo import detect_rules, merge_spans
from hopia.data.pseudo.gazetteer import AMBIGUOUS, DATA, find_gazetteer, key_of, load
from hopia.platform.text import fold

from .utils import parse_markup, triples


def check(markup: str) -> None:
    text, expected = parse_markup(markup)
    assert triples(merge_spans(detect_rules(text))) == expected, text


def gazetteer_only(text: str) -> list[tuple[str, str]]:
    return [(s.text, s.label) for s in find_gazetteer(text, fold(text))]


@pytest.mark.parametrize(
    "markup",
    [
        # untitled names, the surname in capitals or known
        "Vu ce jour <ent label=PRENOM>Soizic</ent> <ent label=NOM>KERBRAT</ent> pour suivi.",
        "<ent label=PRENOM>Gwenola</ent> <ent label=NOM>Le Goff</ent> est venue seule.",
        "Consultation de <ent label=PRENOM>Yannig</ent> <ent label=NOM>Quéré</ent>.",
        "<ent label=NOM>Kerbrat</ent> <ent label=PRENOM>Soizic</ent>, 54 ans.",
        # lower case, at the head of a line or after a title
        "<ent label=NOM>krier</ent> <ent label=PRENOM>franck</ent>\nvenu pour bilan",
        "Mme <ent label=NOM>le goff</ent> <ent label=PRENOM>gwenola</ent> , 68 ans",
        # a maiden name
        "Mme <ent label=PRENOM>Thérèse</ent> <ent label=NOM>Guichard</ent> née "
        "<ent label=NOM>Kerbrat</ent>",
    ],
)
def test_names(markup: str) -> None:
    check(markup)


def test_untitled_name_is_found_by_the_gazetteer_itself() -> None:
    # the rules find "Jean DUPONT" too; the gazetteer alone must agree with them
    assert gazetteer_only("Vu Jean DUPONT ce jour") == [("Jean", "PRENOM"), ("DUPONT", "NOM")]
    spans = find_gazetteer("Soizic KERBRAT", fold("Soizic KERBRAT"))
    assert {s.source for s in spans} == {"gazetteer"}


@pytest.mark.parametrize(
    "markup",
    [
        "Domicile : <ent label=ADRESSE>12 rue X</ent>, <ent label=VILLE>Lorient</ent>",
        "Il habite <ent label=VILLE>Ploemeur</ent> depuis peu.",
        # any commune after a postcode, whatever its case; the postcode with it
        "Adresse : <ent label=ZIP>56270</ent> <ent label=VILLE>ploemeur</ent>",
        "<ent label=ZIP>69410</ent> <ent label=VILLE>Champagne-au-Mont-d'Or</ent>",
        # an ambiguous commune where the context says it is one
        "<ent label=VILLE>Vue</ent>, le <ent label=DATE>12 mars 2024</ent>",
        "<ent label=VILLE>La Rochelle</ent> est loin.",
    ],
)
def test_communes(markup: str) -> None:
    check(markup)


@pytest.mark.parametrize(
    "text",
    [
        # common words that are also names
        "Pas de fièvre, rose",
        "le patient est blanc",
        # ambiguous communes in plain prose
        "Vue de face. Bois de chauffage. Eu égard à son état. Sept jours plus tard.",
        "Il se promène dans le bois, la vue est belle.",
        # medical terms, eponyms included
        "Maladie de Parkinson, syndrome de Gilles de la Tourette, signe de Babinski.",
        "Traitement par paracétamol et furosémide, bilan de Crohn.",
        # a pain scale and blood gases are not first names, nor "junior" in a sentence
        "EVA à 3/10, PaO2 à 80 mmHg, PaCO2 à 40 mmHg.",
        "le patient junior du service",
    ],
)
def test_nothing_to_find(text: str) -> None:
    assert gazetteer_only(text) == []
    assert merge_spans(detect_rules(text)) == []


@pytest.mark.parametrize(
    "markup",
    [
        # finding 4 of issue 11: names as other hospitals write them (made-up examples)
        "Patient revu avec <ent label=PRENOM>jean</ent> <ent label=NOM>dupont</ent>, son fils.",
        "Appel de <ent label=PRENOM>marie</ent> <ent label=NOM>LEFEVRE</ent> (fille).",
        "<ent label=NOM>DURAND</ent> <ent label=PRENOM>sophie</ent>\nInfirmière coordinatrice",
        "Présents : <ent label=PRENOM>martin</ent>, <ent label=NOM>CLAIRE</ent>.",
        "<ent label=PRENOM>Germaine</ent> a appelé le service ce matin.",
        "Revue avec <ent label=PRENOM>nathalie</ent>, sa voisine.",
        # two first names: both hidden, whichever is the surname
        "<ent label=PRENOM>Daniel</ent> <ent label=PRENOM>Andre</ent>",
    ],
)
def test_names_without_title_or_capitals(markup: str) -> None:
    check(markup)


def test_two_common_words_are_no_name() -> None:
    assert gazetteer_only("Claire Fontaine") == []  # the rules may still read a name there


def test_medical_and_function_words_are_never_tagged() -> None:
    # a drug name in capitals after a first name looks like a surname, but is a medical word
    # (the first name alone may still be read as one)
    assert gazetteer_only("Marie DOLIPRANE") == [("Marie", "PRENOM")]
    assert gazetteer_only("Rose KARDEGIC") == []
    g = load()
    for word in ("parkinson", "crohn", "doliprane", "paracetamol", "fievre", "le", "avec"):
        assert word in g.stop


def test_gazetteer_does_not_override_the_rules_where_they_found_a_name() -> None:
    # "Dr ANDRE GREGOIRE TAVITIAN": the rules' split stands
    spans = merge_spans(detect_rules("Dr ANDRE GREGOIRE TAVITIAN (ASP)"))
    assert {s.source for s in spans} == {"rule"}


# ---------------------------------------------------------------------------------------------
# Loader and files
# ---------------------------------------------------------------------------------------------


def test_loader_counts_and_entries() -> None:
    g = load()
    assert len(g.first_names) > 25_000
    assert len(g.surnames) > 200_000
    assert len(g.communes) > 30_000
    assert len(g.stop) > 5_000
    assert g.communes["lorient"].postcodes == ("56100",)
    assert "75015" in g.communes["paris"].postcodes
    assert g.communes[key_of("Saint-Malo")].name == "Saint-Malo"
    assert g.communes[key_of("St Malo")] is g.communes["saint malo"]
    assert g.communes["bois"].ambiguous and not g.communes["lorient"].ambiguous
    assert g.first_names["pierre"] & AMBIGUOUS and not g.first_names["franck"] & AMBIGUOUS
    assert g.surnames["blanc"] & AMBIGUOUS and not g.surnames["kerbrat"] & AMBIGUOUS
    assert load() is g  # read once per process


def test_files_parse_and_stay_small() -> None:
    total = 0
    for name, fields in (
        ("first_names.txt", 2),
        ("surnames.txt", 2),
        ("communes.tsv", 4),
        ("stopwords.txt", 1),
    ):
        path = DATA / name
        total += path.stat().st_size
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x[:1] != "#"]
        assert lines and all(len(x.split("\t")) == fields for x in lines), name
    assert total < 5_000_000
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for needle in ("prenoms", "0.5.1", "Insee", "GeoNames", "CC BY 4.0", "Lexique", "edsnlp"):
        assert needle in sources, needle
    for line in (DATA / "communes.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        name, codes, population, flag = line.split("\t")
        assert name and population.isdigit() and flag in ("", "a")
        assert all(len(c) == 5 and c.isdigit() for c in codes.split(",")), line
