"""The LLM as an extractor (``hopia nlp extract --engine llm``) and its comparison with the rules
(``hopia assistant eval extraction``): offsets found in the text (a quoted span that is not
there is dropped and counted), answers cut by the token limit, the end-to-end qualifier
matching and the scores, with a scripted chat model; then the real plumbing model."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hopia.assistant import extraction as ex
from hopia.assistant import extraction_eval as ee
from hopia.assistant.llm.base import ChatMessage, Completion, Usage
from hopia.cli.main import app
from hopia.data.nlp.evaluate import GoldDoc, Mention, Prediction, System
from hopia.data.nlp.evaluate.qualifiers import Case
from hopia.platform.config import FootprintSettings

TEXT = "Pas de fièvre. Mère diabétique. Traitement par Metformine  850 mg, HTA ancienne."


def _answer(*items: dict[str, Any]) -> str:
    return json.dumps({"entites": list(items)}, ensure_ascii=False)


class Scripted:
    """A chat model that answers from a list, recording the prompts it was given."""

    def __init__(self, *answers: str, finish: str = "stop") -> None:
        self.answers = list(answers)
        self.prompts: list[Sequence[ChatMessage]] = []
        self.finish = finish

    def __call__(
        self, messages: Sequence[ChatMessage], max_tokens: int, schema: Mapping[str, Any]
    ) -> Completion:
        assert schema is ex.SCHEMA and max_tokens > 0
        self.prompts.append(messages)
        text = self.answers.pop(0) if self.answers else _answer()
        return Completion(text, Usage(100, 20), "scripted", "test", self.finish)


def test_offsets_are_found_in_the_text_never_taken_from_the_model() -> None:
    model = Scripted(
        _answer(
            {"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]},
            {"texte": "diabétique", "type": "maladie", "qualificatifs": ["familial"]},
            {"texte": "metformine 850 mg", "type": "substance", "qualificatifs": []},
            {"texte": "hypertension artérielle", "type": "maladie", "qualificatifs": []},
            {"texte": "HTA", "type": "maladie", "qualificatifs": ["antécédent", "inconnu"]},
        )
    )
    extractor = ex.LlmExtractor(model, "scripted")
    entities, dropped = extractor.extract(TEXT)
    assert dropped == 1  # "hypertension artérielle" is not written in the text
    assert [(e.text, e.category) for e in entities] == [
        ("fièvre", "DISO"),
        ("diabétique", "DISO"),
        ("Metformine  850 mg", "CHEM"),  # case and spacing of the text, not the model's
        ("HTA", "DISO"),
    ]
    for e in entities:
        assert TEXT[e.start : e.end] == e.text and e.pipe == "llm.scripted"
    fievre, diabete, _, hta = entities
    assert fievre.negation and not fievre.family
    assert diabete.family and not diabete.negation
    assert hta.history and not hta.hypothesis
    assert extractor.stats.dropped == 1 and extractor.stats.mentions == 5
    assert model.prompts[0][-1].content.endswith(TEXT)
    assert model.prompts[0][0].role == "system" and model.prompts[0][2].role == "assistant"


def test_whole_words_only_and_repeated_mentions_take_the_next_occurrence() -> None:
    text = "HTAP et HTA. Puis HTA."
    assert ex.locate(text, "HTA", set()) == (8, 11)  # not inside "HTAP"
    assert ex.locate(text, "HTA", {(8, 11)}) == (18, 21)
    assert ex.locate(text, "« HTA. »", set()) == (8, 11)  # quotes and punctuation trimmed
    assert ex.locate(text, "asthme", set()) is None
    model = Scripted(
        _answer(
            {"texte": "HTA", "type": "maladie", "qualificatifs": []},
            {"texte": "HTA", "type": "maladie", "qualificatifs": []},
            {"texte": "HTA", "type": "maladie", "qualificatifs": []},
        )
    )
    entities, dropped = ex.LlmExtractor(model, "m").extract(text)
    assert [(e.start, e.end) for e in entities] == [(8, 11), (18, 21)] and dropped == 0


def test_an_answer_cut_by_the_token_limit_keeps_its_complete_entities() -> None:
    cut = _answer(
        {"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]},
        {"texte": "diabétique", "type": "maladie", "qualificatifs": []},
    )[:-20]
    mentions, truncated = ex.parse_answer(cut)
    assert truncated and [m.text for m in mentions] == ["fièvre"]
    assert mentions[0].qualifiers == frozenset({"negation"})
    extractor = ex.LlmExtractor(Scripted(cut, finish="length"), "m")
    entities, _ = extractor.extract(TEXT)
    assert [e.text for e in entities] == ["fièvre"] and extractor.stats.truncated == 1
    assert ex.parse_answer("pas du JSON") == ([], True)


def test_long_texts_are_cut_and_offsets_shifted_back() -> None:
    text = ("Le patient va bien. " * 40) + "\n\nPas de fièvre ce jour."
    model = Scripted(
        _answer(), _answer({"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]})
    )
    extractor = ex.LlmExtractor(model, "m", chunk_chars=500)
    entities, _ = extractor.extract(text)
    assert extractor.stats.calls == 2
    assert [text[e.start : e.end] for e in entities] == ["fièvre"]
    assert entities[0].start > 800


def _case(cid: str, text: str, mention: str, **gold: bool) -> Case:
    start = text.index(mention)
    flags = {q: gold.get(q, False) for q in ("negation", "hypothesis", "family", "history")}
    return Case(cid, text, start, start + len(mention), flags | {"result": None}, "test")


def test_comparison_scores_mentions_qualifiers_and_costs() -> None:
    docs = [
        GoldDoc(
            "d1",
            "Pas de fièvre. Mère diabétique.",
            (Mention(((7, 13),), "DISO"), Mention(((20, 30),), "DISO")),
        )
    ]
    cases = [
        _case("c1", "Pas de fièvre.", "fièvre", negation=True),
        _case("c2", "Suspicion d'embolie pulmonaire.", "embolie pulmonaire", hypothesis=True),
        _case("c3", "Toux sèche.", "Toux"),
    ]
    model = Scripted(
        _answer(  # the document: one right, one invented (dropped)
            {"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]},
            {"texte": "grippe", "type": "maladie", "qualificatifs": []},
        ),
        _answer({"texte": "fièvre", "type": "maladie", "qualificatifs": ["nié"]}),
        _answer({"texte": "embolie", "type": "maladie", "qualificatifs": []}),  # partial
        _answer(),  # "Toux" missed
    )
    extractor = ex.LlmExtractor(model, "m")

    def rules(texts: list[str]):  # noqa: ANN202 - a System's predictor
        for text in texts:
            yield [Prediction(0, len(text), "DISO", {"negation": False})] if text else []

    comparison = ee.Comparison("brat", 1, ["d1"], "set", "test", ["c1", "c2", "c3"], 13)
    contenders = [
        ee.Contender(System("rules", "Règles", rules)),
        ee.Contender(ee.llm_system(extractor, "m", "LLM m"), extractor, 1.5),
    ]
    ee.compare(contenders, docs, cases, FootprintSettings(), comparison)
    by = {s.key: s for s in comparison.systems}
    llm = by["m"]
    assert (llm.exact.precision, llm.exact.recall) == (1.0, 0.5)
    assert llm.mentions.dropped == 1 and llm.mentions.tokens == (100, 20)
    assert llm.targets_missed == 1  # c3
    assert llm.qualifiers["negation"].recall == 1.0
    assert llm.qualifiers["hypothesis"].recall == 0.0
    assert llm.agreement == pytest.approx(11 / 12)  # c2's hypothesis only
    assert llm.mentions.footprint.energy_wh > 0 and llm.cases.documents == 3
    rule = by["rules"]
    assert rule.targets_missed == 0 and rule.qualifiers["negation"].recall == 0.0
    assert rule.mentions.footprint.energy_wh == 0 and rule.mentions.footprint.cost_eur > 0
    data = comparison.to_dict()
    assert set(data["systems"]) == {"rules", "m"}
    assert data["systems"]["m"]["quaero"]["run"]["dropped_spans"] == 1


def test_target_flags_take_the_most_overlapping_entity() -> None:
    case = _case("c", "Absence d'infarctus du myocarde.", "infarctus du myocarde", negation=True)
    preds = [
        Prediction(10, 20, "DISO", {"negation": False}),
        Prediction(10, 31, "DISO", {"negation": True}),
    ]
    assert ee.target_flags(case, preds) == {
        "negation": True,
        "hypothesis": False,
        "family": False,
        "history": False,
    }
    assert ee.target_flags(case, [Prediction(0, 8, "DISO")]) is None


def test_nlp_extract_llm_engine_refuses_an_unknown_model(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "text": "Pas de fièvre."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["nlp", "extract", "-i", str(src), "-o", str(out), "--engine", "llm", "--model", "x"],
    )
    assert result.exit_code == 2 and "modèle embarqué inconnu" in result.output, result.output
    assert not out.exists()
    bad = CliRunner().invoke(
        app, ["nlp", "extract", "-i", str(src), "-o", str(out), "--engine", "gpt"]
    )
    assert bad.exit_code == 2 and "--engine" in bad.output, bad.output


def test_nlp_extract_llm_engine_needs_the_warehouse_its_calls_are_recorded_in(
    hopia_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "text": "Pas de fièvre."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["nlp", "extract", "-i", str(src), "-o", str(out), "--engine", "llm",
         "--model", "smollm2-135m"],
    )  # fmt: skip
    assert result.exit_code == 2 and "aucun entrepôt" in result.output, result.output
    assert not out.exists()


@pytest.mark.slow
def test_nlp_extract_with_the_plumbing_model(hopia_home: Path, tmp_path: Path) -> None:
    from tests.assistant.llm_helpers import (
        PLUMBING_MODEL,
        recorded_calls,
        require_llama,
        require_model_packages,
    )

    require_llama()
    require_model_packages()
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    texts = ["Pas de fièvre. Mère diabétique.", "Traitement par metformine, HTA ancienne."]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        ["nlp", "extract", "-i", str(src), "-o", str(out), "--engine", "llm",
         "--model", PLUMBING_MODEL, "--threads", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["0", "1"]
    for line, text in zip(lines, texts, strict=True):
        assert line["errors"] == []
        for e in line["entities"]:  # whatever a 135M model says, offsets point at the text
            assert text[e["start"] : e["end"]] == e["text"]
            assert e["label"] in ("DISO", "CHEM", "PROC") and isinstance(e["negation"], bool)
    # each call went through the gateway: one usage row and one audit record per text (short
    # texts: one piece each), with the JSON schema passed as its response_format
    rows, audited = recorded_calls("nlp.extract")
    assert len(rows) == len(texts) and all(r.completion_tokens > 0 for r in rows)
    assert sorted(d["usage_id"] for d in audited) == sorted(r.usage_id for r in rows)
    assert {r.model for r in rows} == {PLUMBING_MODEL}
