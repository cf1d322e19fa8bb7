"""Merge, replacement policies, consistent format-preserving surrogates, bad input."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from hopia.data.pseudo import (
    LABELS,
    PhiSpan,
    Pseudonymiser,
    PseudoResult,
    is_valid_nir,
    merge_spans,
    parse_nir,
)
from hopia.data.records import PatientIdentity
from hopia.platform.exceptions import PseudonymisationError

SECRET = b"pseudonymiser-test-secret-0123456789"
PS = Pseudonymiser(SECRET)
LETTER = (
    "Rennes, le 12 mars 2024\n"
    "Monsieur Jean-Pierre LE GALL, né le 03/07/1951, IPP : 8001234567, NIR 1 51 07 35 115 123 "
    "21, domicilié 12 rue de la Paix, 35000 Rennes, tél. 06 12 34 56 78, "
    "mail jp.legall@orange.fr, vu au CHU de Rennes le 11/03/2024 par le Dr Marie DUPONT.\n"
    "Infarctus en mai 2018, dernier contrôle le 14 septembre 2023."
)


def span(start: int, end: int, label: str, source: str = "rule") -> PhiSpan:
    return PhiSpan(start, end, label, "x" * (end - start), source)


def replaced(result: PseudoResult, label: str) -> list[tuple[str, str]]:
    pairs = zip(result.spans, result.surrogates, strict=True)
    return [(s.text, new) for s, new in pairs if s.label == label]


# -- merge ----------------------------------------------------------------------------------


def test_merge_longest_wins_then_source_then_label() -> None:
    cands = [
        span(0, 10, "DATE"),
        span(0, 12, "TEL"),  # longest: wins over the DATE it covers
        span(20, 25, "NOM"),
        span(20, 25, "PRENOM", "identity"),  # same length: identity beats rule
        span(30, 35, "VILLE"),
        span(30, 35, "NOM"),  # same length and source: label priority (VILLE before NOM)
        span(34, 40, "PRENOM", "staff"),  # overlaps the winner above, longer: wins
    ]
    merged = merge_spans(cands)
    assert [(s.start, s.end, s.label) for s in merged] == [
        (0, 12, "TEL"),
        (20, 25, "PRENOM"),
        (34, 40, "PRENOM"),
    ]


def test_detect_never_returns_overlapping_spans() -> None:
    text = LETTER * 3
    spans = PS.detect(text)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert {s.label for s in spans} <= set(LABELS)
    assert all(text[s.start : s.end] == s.text for s in spans)


# -- policies -------------------------------------------------------------------------------


def test_tag_and_mask_policies() -> None:
    text = "M. Jean DUPONT vu le 12/03/2024."
    assert Pseudonymiser(SECRET, "tag").pseudonymise(text).pseudo_text == (
        "M. <PRENOM> <NOM> vu le <DATE>."
    )
    assert Pseudonymiser(SECRET, "mask").pseudonymise(text).pseudo_text == "M. *** *** vu le ***."


def test_unknown_policy_and_empty_secret_are_refused() -> None:
    with pytest.raises(PseudonymisationError):
        Pseudonymiser(SECRET, "redact")  # type: ignore[arg-type]
    with pytest.raises(PseudonymisationError):
        Pseudonymiser(b"")


def test_result_offsets_and_pseudo_spans() -> None:
    result = PS.pseudonymise(LETTER, patient_key="P1")
    assert len(result.spans) == len(result.surrogates)
    for s in result.spans:
        assert LETTER[s.start : s.end] == s.text
    for s, new in zip(result.pseudo_spans(), result.surrogates, strict=True):
        assert result.pseudo_text[s.start : s.end] == new
    # nothing identifying is left
    for s in result.spans:
        assert s.text not in result.pseudo_text or len(s.text) <= 4, s


def test_spans_of_the_original_text_move_onto_the_pseudonymised_one() -> None:
    result = PS.pseudonymise(LETTER, patient_key="P1")
    terms = ["Monsieur", "Infarctus", "dernier contrôle", "domicilié"]
    spans = [(LETTER.index(t), LETTER.index(t) + len(t), t) for t in terms]
    name = LETTER.index("LE GALL")
    spans.append((name - 3, name + 3, "touches a name"))
    moved = result.to_pseudo_offsets(spans)
    assert [x for _, _, x in moved] == terms  # the one on an identifier is dropped
    for start, end, term in moved:
        assert result.pseudo_text[start:end] == term
    assert result.to_pseudo_offsets([]) == []
    unchanged = PS.pseudonymise("Pas de fièvre.", patient_key="P1")
    assert unchanged.to_pseudo_offsets([(7, 13, "x")]) == [(7, 13, "x")]


# -- surrogates -----------------------------------------------------------------------------


def test_same_patient_same_surrogates_across_documents() -> None:
    a = PS.pseudonymise("Consultation de M. Jean DUPONT à Brest.", patient_key="P1")
    b = PS.pseudonymise("Courrier : DUPONT Jean, domicilié à Brest.", patient_key="P1")
    assert dict(replaced(a, "NOM")) == dict(replaced(b, "NOM"))
    assert dict(replaced(a, "PRENOM")) == dict(replaced(b, "PRENOM"))
    assert dict(replaced(a, "VILLE")) == dict(replaced(b, "VILLE"))


def test_different_patients_get_different_surrogates() -> None:
    text = "M. Jean DUPONT, 06 12 34 56 78, IPP : 8001234567, vu le 12/03/2024."
    results = [PS.pseudonymise(text, patient_key=f"P{i}").pseudo_text for i in range(5)]
    assert len(set(results)) == 5
    # and another secret gives other values for the same patient
    assert Pseudonymiser(b"another-secret-0123456789").pseudonymise(text, patient_key="P0") != (
        PS.pseudonymise(text, patient_key="P0")
    )


def test_document_key_when_no_patient_key() -> None:
    text = "Vu M. DUPONT le 12/03/2024."
    assert PS.pseudonymise(text).pseudo_text == PS.pseudonymise(text).pseudo_text
    other = PS.pseudonymise(text + " RAS.").pseudo_text
    assert other[: len("Vu M. ")] == "Vu M. "


def test_case_is_kept() -> None:
    result = PS.pseudonymise("M. Jean DUPONT et Mme Claire Martin.", patient_key="P1")
    noms = dict(replaced(result, "NOM"))
    assert noms["DUPONT"].isupper() and noms["DUPONT"] != "DUPONT"
    assert noms["Martin"][0].isupper() and noms["Martin"][1:].islower()


def test_nir_surrogate_keeps_sex_layout_and_a_valid_key() -> None:
    for written in ("1 51 07 35 115 123 21", "251073511512364", "2.51.07.35.115.123"):
        result = PS.pseudonymise(f"NIR : {written}", patient_key="P1")
        ((orig, new),) = replaced(result, "SECU")
        assert new != orig and re.sub(r"\w", "9", new) == re.sub(r"\w", "9", orig)
        assert new[0] == orig[0]
        if len(re.sub(r"\W", "", orig)) == 15:
            assert is_valid_nir(new)
        else:
            assert parse_nir(new) is not None


def test_phone_and_identifier_surrogates_keep_their_layout() -> None:
    result = PS.pseudonymise(
        "Tél 06.12.34.56.78, +33 1 42 34 56 78, IPP : 8001234567, NDA : AB12345", patient_key="P1"
    )
    for orig, new in replaced(result, "TEL") + replaced(result, "IPP") + replaced(result, "NDA"):
        assert new != orig
        assert re.sub(r"\d", "9", re.sub("[A-Z]", "A", new)) == re.sub(
            r"\d", "9", re.sub("[A-Z]", "A", orig)
        )
    tels = dict(replaced(result, "TEL"))
    assert tels["06.12.34.56.78"].startswith("06.")
    assert tels["+33 1 42 34 56 78"].startswith("+33 1 ")


@pytest.mark.parametrize(
    ("written", "shape"),
    [
        ("12/03/2024", r"\d\d/\d\d/\d{4}"),
        ("12-03-24", r"\d\d-\d\d-\d\d"),
        ("12.03.2024", r"\d\d\.\d\d\.\d{4}"),
        ("2024-03-12", r"\d{4}-\d\d-\d\d"),
        ("12 mars 2024", r"\d{1,2} [a-zéû]+ \d{4}"),
        ("MAR 12 MARS 2024", r"[A-Z]{3} \d{1,2} [A-ZÉÛ]+ \d{4}"),
        ("mardi 12 mars 2024", r"[a-z]+ \d{1,2} [a-zéû]+ \d{4}"),
        ("1 2 0 3 2 0 2 4", r"\d \d \d \d \d \d \d \d"),
    ],
)
def test_shifted_date_keeps_the_format(written: str, shape: str) -> None:
    key = "P1"
    result = PS.pseudonymise(f"Vu le {written}.", patient_key=key)
    ((orig, new),) = replaced(result, "DATE")
    assert re.fullmatch(shape, new), new
    shifted = date(2024, 3, 12) + timedelta(days=PS.date_offset_days(key))
    assert str(shifted.day) in new.replace(" ", "")
    assert str(shifted.year)[-2:] in new.replace(" ", "")


def test_weekday_follows_the_shifted_date() -> None:
    result = PS.pseudonymise("Vu le mardi 12 mars 2024.", patient_key="P7")
    ((_, new),) = replaced(result, "DATE")
    shifted = PS.shift_date(date(2024, 3, 12), "P7")
    names = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    assert new.split()[0] == names[shifted.weekday()]


def test_shift_keeps_intervals_and_birth_dates_move_too() -> None:
    text = "Né le 03/07/1951. Vu le 12/03/2024 puis le 26/03/2024."
    result = PS.pseudonymise(text, patient_key="P3")
    days = [date(*reversed([int(x) for x in new.split("/")])) for new in result.surrogates]
    assert [s.label for s in result.spans] == ["DATE_NAISSANCE", "DATE", "DATE"]
    assert days[2] - days[1] == timedelta(days=14)
    assert days[1] - days[0] == date(2024, 3, 12) - date(1951, 7, 3)
    assert days[0] != date(1951, 7, 3)


def test_date_offset_is_secret_nonzero_and_bounded() -> None:
    offsets = [PS.date_offset_days(f"P{i}") for i in range(300)]
    assert all(o != 0 and -365 <= o <= 365 for o in offsets)
    assert len(set(offsets)) > 100 and min(offsets) < 0 < max(offsets)
    assert PS.shift_date(date(2024, 3, 12), "P1") == date(2024, 3, 12) + timedelta(
        days=PS.date_offset_days("P1")
    )
    assert Pseudonymiser(b"another-secret-0123456789").date_offset_days("P1") != (
        PS.date_offset_days("P1")
    )


def test_postcode_matches_the_fake_commune_and_the_hospital_town() -> None:
    result = PS.pseudonymise("12 rue de la Paix, 35000 Rennes. CHU de Rennes.", patient_key="P1")
    town = dict(replaced(result, "VILLE"))["Rennes"]
    zip_code = dict(replaced(result, "ZIP"))["35000"]
    from hopia.data.pseudo.patterns import COMMUNES

    assert (town, zip_code) in COMMUNES
    assert dict(replaced(result, "HOPITAL"))["CHU de Rennes"] == f"CHU de {town}"


def test_mail_surrogate() -> None:
    result = PS.pseudonymise("Écrire à jp.legall@orange.fr.", patient_key="P1")
    ((_, new),) = replaced(result, "MAIL")
    assert re.fullmatch(r"[a-z\-]+\.[a-z\-]+@exemple\.(fr|com|org|net)", new)


def test_identity_surrogates_are_consistent_with_rule_ones() -> None:
    ident = PatientIdentity(ipp="8001234567", family_name="Dupont", given_name="Jean")
    with_id = PS.pseudonymise("Jean Dupont a appelé.", identity=ident, patient_key="P1")
    by_rule = PS.pseudonymise("M. Jean DUPONT a appelé.", patient_key="P1")
    assert with_id.surrogates[1].upper() == by_rule.surrogates[1]


# -- bad input ------------------------------------------------------------------------------


def test_empty_text() -> None:
    assert PS.detect("") == []
    assert PS.pseudonymise("") == PseudoResult("", [], [])


def test_non_text_is_refused() -> None:
    with pytest.raises(PseudonymisationError):
        PS.detect(b"M. DUPONT")  # type: ignore[arg-type]


def test_control_characters_and_binary_looking_text() -> None:
    text = "\x00\x01M. Jean DUPONT\x1b[0m né le 12/03/1950\ufffd\u200b tél\x0b06 12 34 56 78\ud800"
    result = PS.pseudonymise(text + bytes(range(256)).decode("latin-1"), patient_key="P1")
    assert {s.label for s in result.spans} >= {"NOM", "PRENOM", "DATE_NAISSANCE", "TEL"}
    assert "DUPONT" not in result.pseudo_text and "12/03/1950" not in result.pseudo_text


@pytest.mark.slow  # ~12 s
def test_five_megabyte_text() -> None:
    # realistic text mixed with long runs of digits, spaced digits, capitals and '@' that a
    # careless regex would backtrack on
    block = (
        LETTER
        + "\n"
        + "7" * 3000
        + "\n"
        + "0 " * 1500
        + "\n"
        + "DUPONT " * 300
        + "\na.b@" * 200
        + "\n"
        + "le patient va bien, " * 150
    )
    text = (block * (5_000_000 // len(block) + 1))[:5_000_000]
    # Rules only: linear time is what this checks (the model's chunking: test_model.py).
    result = Pseudonymiser(SECRET, use_model=False).pseudonymise(text, patient_key="P1")
    assert len(result.spans) > 1000
    assert "8001234567" not in result.pseudo_text
    assert all(a.end <= b.start for a, b in zip(result.spans, result.spans[1:], strict=False))


def test_a_span_never_cuts_a_number() -> None:
    text = "Patient : N° 402 654 803 958 12 ce jour"
    start = text.index("402")
    cut = PhiSpan(
        start, text.index(" ce") - 1, "SECU", text[start : text.index(" ce") - 1], "model"
    )
    spans = Pseudonymiser(SECRET, use_model=False).detect(text, model_spans=[cut])
    secu = [s for s in spans if s.label == "SECU"]
    assert [text[s.start : s.end] for s in secu] == ["402 654 803 958 12"]


@pytest.mark.parametrize(
    ("granularity", "pattern"), [("year", r"\d{4}"), ("month", r"\d{2}/\d{4}")]
)
def test_birth_dates_can_be_generalised(granularity: str, pattern: str) -> None:
    text = "Patiente née le 17/05/1940, vue le 12/03/2024."
    ps = Pseudonymiser(SECRET, use_model=False, birth_dates=granularity)  # type: ignore[arg-type]
    result = ps.pseudonymise(text, patient_key="P1")
    birth = next(i for i, s in enumerate(result.spans) if s.label == "DATE_NAISSANCE")
    assert re.fullmatch(pattern, result.surrogates[birth])
    shifted = ps.shift_date(date(1940, 5, 17), "P1")
    assert str(shifted.year) in result.surrogates[birth]
    other = next(i for i, s in enumerate(result.spans) if s.label == "DATE")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", result.surrogates[other])  # other dates: shifted


def test_unknown_birth_date_policy_is_refused() -> None:
    with pytest.raises(PseudonymisationError, match="dates de naissance"):
        Pseudonymiser(SECRET, birth_dates="decade")  # type: ignore[arg-type]
