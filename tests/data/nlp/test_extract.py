"""Entities from the full pipeline (loaded from the shared cache): groups, qualifiers, codes,
values, offsets. Sentences are fictitious."""

from __future__ import annotations

import pytest

from hopia.data.nlp import (
    ENTITY_GROUPS,
    PIPELINE_SYSTEM,
    Entity,
    entity_to_json,
    extract,
    get_nlp,
)
from hopia.platform.config import get_settings


@pytest.fixture(scope="module", autouse=True)
def _nlp() -> None:
    get_settings.cache_clear()
    nlp()  # warm: loaded from <repo>/.hopia-cache; the first run on a machine builds it


def nlp():  # noqa: ANN201
    return get_nlp(cache_dir=get_settings().cache_dir)


def entities_of(texts, batch_size: int = 32, **kwargs):  # noqa: ANN001, ANN201
    return extract(texts, nlp=nlp(), batch_size=batch_size, **kwargs)


def run(text: str) -> list[Entity]:
    (entities,) = entities_of([text])
    for e in entities:
        assert text[e.start : e.end] == e.text
    return entities


def one(entities: list[Entity], pipe: str, text: str | None = None) -> Entity:
    found = [e for e in entities if e.pipe == pipe and (text is None or e.text == text)]
    assert len(found) == 1, (pipe, text, entities)
    return found[0]


# --- groups ------------------------------------------------------------------------------------


def test_cim10_and_comorbidity_on_the_same_words_both_come_out() -> None:
    ents = run("Insuffisance cardiaque. Infarctus aigu du myocarde.")
    heart = [e for e in ents if e.text == "Insuffisance cardiaque"]
    # the statistical NER (clinical_ner) may find it too, as a DISO mention without a code
    assert {"cim10", "congestive_heart_failure"} <= {e.pipe for e in heart}
    assert one(ents, "cim10", "Insuffisance cardiaque").codes == {"cim10": "I50"}
    mi = [e for e in ents if e.text == "Infarctus aigu du myocarde"]
    codes = {e.pipe: e.codes for e in mi if e.pipe != "clinical_ner"}
    assert codes == {"cim10": {"cim10": "I21"}, "myocardial_infarction": {}}
    assert {e.category for e in heart + mi} == {"DISO"}


def test_hypertension() -> None:
    ents = run("Hypertension essentielle.")
    assert one(ents, "cim10").codes == {"cim10": "I10"}
    # edsnlp 0.23 has no eds.hypertension; its Charlson pipe files HTA under vascular disease.
    assert one(ents, "peripheral_vascular_disease").text == "Hypertension essentielle"


@pytest.mark.parametrize(
    ("text", "pipe", "label", "value"),
    [
        ("Charlson : 3.", "charlson", "charlson", 3),
        ("Score SOFA à 5.", "sofa", "sofa", 5),
        ("Priorité : 2.", "emergency_priority", "emergency_priority", 2),
        ("GEMSA : 4.", "emergency_gemsa", "emergency_gemsa", 4),
        ("CCMU : 3.", "emergency_ccmu", "emergency_ccmu", 3),
        ("Elston et Ellis (3+2+1).", "elston_ellis", "elston_ellis", 2),
        ("Diabète de type 2.", "diabetes", "diabetes", "WITHOUT_COMPLICATION"),
        ("Tabagisme sevré.", "tobacco", "tobacco", "ABSTINENCE"),
        ("Cirrhose.", "liver_disease", "liver_disease", "MODERATE_TO_SEVERE"),
        ("BPCO.", "copd", "copd", "PRESENT"),
        ("Consommation d'alcool.", "alcohol", "alcohol", "PRESENT"),
        ("Démence.", "dementia", "dementia", "PRESENT"),
        ("AVC.", "cerebrovascular_accident", "cerebrovascular_accident", "PRESENT"),
        ("Lupus.", "connective_tissue_disease", "connective_tissue_disease", "PRESENT"),
        ("Lymphome.", "lymphoma", "lymphoma", "PRESENT"),
        ("Leucémie.", "leukemia", "leukemia", "PRESENT"),
        ("Hémiplégie droite.", "hemiplegia", "hemiplegia", "PRESENT"),
        ("Ulcère gastrique.", "peptic_ulcer_disease", "peptic_ulcer_disease", "PRESENT"),
        ("Test PCR SARS-CoV-2 positif.", "covid", "covid", None),
    ],
)
def test_score_and_comorbidity_pipes(text: str, pipe: str, label: str, value: object) -> None:
    e = one(run(text), pipe)
    assert (e.label, e.value) == (label, value)


def test_every_group_belongs_to_the_pipeline() -> None:
    ents = run("Pas de toux. Bisoprolol 5 mg le 12/03/2024. Diabète. pT2N0M0. Charlson : 3.")
    assert {e.pipe for e in ents} <= set(ENTITY_GROUPS)


# --- qualifiers --------------------------------------------------------------------------------


def test_negation() -> None:
    assert one(run("Pas de toux."), "cim10").negation is True
    assert one(run("Absence de diabète."), "diabetes").negation is True
    assert one(run("Toux."), "cim10").negation is False
    # eds.cim10 matches exact CIM-10 labels only: a bare "fièvre" is not one of them.
    assert all(e.negation for e in run("Pas de fièvre."))


def test_hypothesis() -> None:
    ents = run("Suspicion d'embolie pulmonaire.")
    e = one(ents, "cim10")
    assert (e.codes, e.hypothesis, e.negation) == ({"cim10": "I26"}, True, False)
    assert one(run("Selon sa fille, il aurait une démence."), "dementia").hypothesis is True


def test_family() -> None:
    e = one(run("Mère diabétique."), "diabetes")
    assert (e.family, e.negation, e.history) == (True, False, False)


def test_history() -> None:
    ents = run("Antécédents : infarctus du myocarde en 2015.")
    mi = one(ents, "myocardial_infarction")
    assert (mi.history, mi.text) == (True, "infarctus du myocarde")
    assert one(ents, "dates").history is True
    assert one(run("Infarctus du myocarde."), "myocardial_infarction").history is False


def test_reported_speech() -> None:
    assert one(run("Le patient dit avoir fumé."), "tobacco").reported_speech is True
    assert one(run("Le patient rapporte une toux."), "cim10").reported_speech is True
    assert one(run("Le patient tousse. Toux."), "cim10").reported_speech is False


def test_sections_drive_family_and_history() -> None:
    text = (
        "Antécédents :\n- diabète de type 2\n"
        "Antécédents familiaux :\nmère diabétique\n"
        "Conclusion :\nInsuffisance cardiaque.\n"
    )
    ents = run(text)
    own, mother = (e for e in ents if e.pipe == "diabetes")
    assert (own.section, own.history, own.family) == ("antécédents", True, False)
    assert (mother.section, mother.family) == ("antécédents familiaux", True)
    heart = one(ents, "cim10", "Insuffisance cardiaque")
    assert (heart.section, heart.history, heart.family) == ("conclusion", False, False)


# --- codes and values --------------------------------------------------------------------------


def test_drugs_get_atc_codes() -> None:
    ents = run("Traitement : paracétamol 1 g, metformine 1000 mg et bisoprolol.")
    assert {e.text: e.codes["atc"] for e in ents if e.pipe == "drug"} == {
        "paracétamol": "N02BE01",
        "metformine": "A10BA02",
        "bisoprolol": "C07AB07",
    }
    assert all(e.label == "drug" for e in ents if e.pipe == "drug")


def test_labs_and_doses_get_value_and_unit() -> None:
    # hopia.labs (canonical units, LOINC) and hopia.posology replace eds.quantities
    ents = run("Taille 1,75 m, poids 72 kg. Metformine 1000 mg.")
    got = {(e.label, e.value, e.unit, e.codes["loinc"]) for e in ents if e.pipe == "labs"}
    assert got == {("taille", 175.0, "cm", "8302-2"), ("poids", 72.0, "kg", "29463-7")}
    drug = one(ents, "drug")
    assert (drug.value, drug.unit) == (1000, "mg")
    assert not [e for e in ents if e.pipe == "quantities"]


def test_dates_are_normalised() -> None:
    ents = run("Vu le 3 janvier 2023 puis le 12/03/2024, hospitalisé il y a 2 ans.")
    dates = {e.text: e.value for e in ents if e.pipe == "dates"}
    assert dates["3 janvier 2023"] == "2023-01-03"
    assert dates["12/03/2024"] == "2024-03-12"
    assert dates["il y a 2 ans"].startswith("-")
    assert all(e.label == "date" for e in ents if e.pipe == "dates")


def test_tnm_and_adicap_codes_no_quantity_inside_tnm() -> None:
    ents = run("Adénocarcinome pT2N0M0. ADICAP : BHGS0040.")
    assert one(ents, "tnm").codes == {"tnm": "pT2N0M0"}
    assert one(ents, "adicap").codes == {"adicap": "BHGS0040"}
    assert not [e for e in ents if e.pipe == "quantities"]


# --- contract ----------------------------------------------------------------------------------


def test_offsets_hold_on_a_messy_note() -> None:
    text = (
        "  COMPTE RENDU\r\n\tMotif :  douleur   thoracique…  Pas de toux !\n\n"
        "Antécédents : HTA, diabète, « infarctus du myocarde » (2015).\u00a0Poids : 72kg.\n"
        "Traitement : BISOPROLOL 5mg/j ; aspirine 75 mg/j. Charlson à 4. 😀 Fin."
    )
    ents = run(text)  # run() asserts text[start:end] == entity.text for each one
    assert len(ents) >= 8
    assert ents == sorted(ents, key=lambda e: (e.start, -e.end, e.pipe))


def test_empty_and_blank_texts() -> None:
    assert list(entities_of(["", "   ", "\n"])) == [[], [], []]


def test_extract_streams_in_order_across_batches() -> None:
    texts = ["Pas de toux.", "", "Bisoprolol.", "Mère diabétique."] * 5

    def gen():  # a generator, as when reading a large file
        yield from texts

    results = list(entities_of(gen(), batch_size=3))
    assert len(results) == len(texts)
    for text, ents in zip(texts, results, strict=True):
        assert all(text[e.start : e.end] == e.text for e in ents)
        assert bool(ents) == bool(text)


def test_entity_to_json_contract() -> None:
    (e,) = [e for e in run("Pas de toux.") if e.pipe == "cim10"]
    d = entity_to_json(e)
    assert list(d)[:10] == [
        "start",
        "end",
        "label",
        "text",
        "negation",
        "hypothesis",
        "family",
        "history",
        "reported_speech",
        "codes",
    ]
    assert d["negation"] is True and d["codes"] == {"cim10": "R05"}
    assert {"pipe", "lexical_variant", "section", "value", "unit"} <= set(d)
    assert d["lexical_variant"] == "toux"


def test_pipeline_system() -> None:
    assert PIPELINE_SYSTEM.startswith("hopia-nlp ") and "/ edsnlp " in PIPELINE_SYSTEM


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Prélèvement du 07/05/2020 à 06h37.", set()),
        ("Tabagisme actif à 20 PA.", set()),
        ("MMSE à 22/30.", set()),
        ("Diagnostic principal (I10) retenu.", {"I10"}),
        ("Codage CIM-10 : J18 pneumopathie.", {"J18"}),
    ],
)
def test_code_shaped_cim10_matches_need_a_coding_context(text: str, kept: set[str]) -> None:
    [entities] = list(entities_of([text]))
    codes = {e.codes["cim10"] for e in entities if e.pipe == "cim10" and len(e.text) <= 6}
    assert codes == kept


# --- clinical NER computed elsewhere (the ingest's worker) --------------------------------------


def test_clinical_ner_spans_given_by_the_caller_replace_the_model() -> None:
    from hopia.data.nlp.pipes.clinical_ner.clinical_ner import predict_char_spans

    text = "Patiente suivie pour des métastases hépatiques, traitée par cholécystectomie."
    computed = predict_char_spans([text])[0]
    assert computed, "the shipped model finds these mentions"
    mine = sorted((e.start, e.end, e.category) for e in run(text) if e.pipe == "clinical_ner")
    assert mine == sorted(computed)  # the worker's function finds what the pipe finds

    (given,) = entities_of([text], clinical_ner_spans=[[(25, 46, "DISO"), (60, 61, "PROC")]])
    ner = [(e.text, e.category) for e in given if e.pipe == "clinical_ner"]
    assert ner == [("métastases hépatiques", "DISO")]  # a span inside a token is dropped
    (none,) = entities_of([text], clinical_ner_spans=[[]])
    assert not [e for e in none if e.pipe == "clinical_ner"]
    (ran,) = entities_of([text], clinical_ner_spans=[None])  # None: the model runs
    assert sorted((e.start, e.end, e.category) for e in ran if e.pipe == "clinical_ner") == mine
