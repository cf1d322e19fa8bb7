"""The E3C negation evaluation (``hopia nlp eval-e3c``): reading WebAnno's XMI, the fixed
dev/test split, the alignment, the scores on hand-written cases, and the CLI's refusals.

The XMI files here are written for the tests (their sentences are ours, in E3C's format); the
corpus itself is not shipped. ``HOPIA_E3C_DIR`` pointing at E3C's French layer 1 runs the
check on the real files too."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from typer.testing import CliRunner

from hopia.cli.nlp import app
from hopia.data.nlp.evaluate import e3c
from hopia.data.nlp.evaluate.scoring import Prediction
from hopia.platform.exceptions import SourceError


def xmi(text: str, events: list[tuple[str, str, str]]) -> str:
    """An XMI document in E3C's shape: ``events`` are (words, polarity, modality), found in
    ``text`` left to right."""
    spans, at = [], 0
    for words, polarity, modality in events:
        start = text.index(words, at)
        at = start + len(words)
        spans.append(
            f'<custom:EVENT xmi:id="{100 + len(spans)}" sofa="12" begin="{start}" end="{at}" '
            f'contextualModality="{modality}" polarity="{polarity}"/>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><xmi:XMI xmlns:xmi="http://www.omg.org/XMI" '
        'xmlns:cas="http:///uima/cas.ecore" xmlns:custom="http:///webanno/custom.ecore" '
        'xmi:version="2.0"><cas:NULL xmi:id="0"/>'
        + "".join(spans)
        + f'<cas:Sofa xmi:id="12" sofaNum="1" sofaID="_InitialView" mimeType="text" '
        f"sofaString={quoteattr(text)}/></xmi:XMI>"
    )


# Our sentences; CAS001 falls in dev and CAS002 in test (see test_split_is_fixed).
DOCS = {
    "CAS001": (
        "Patient de 60 ans admis pour une toux. Pas de fièvre. La radiographie montre une "
        "pneumopathie.",
        [
            ("toux", "POS", "ACTUAL"),
            ("fièvre", "NEG", "ACTUAL"),
            ("radiographie", "POS", "ACTUAL"),
            ("pneumopathie", "POS", "ACTUAL"),
        ],
    ),
    "CAS002": (
        "Absence de douleur thoracique. Une embolie pulmonaire est suspectée.",
        [("douleur", "NEG", "ACTUAL"), ("embolie", "POS", "HEDGED")],
    ),
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "layer1"
    folder.mkdir()
    for name, (text, events) in DOCS.items():
        (folder / f"{name}.xml").write_text(xmi(text, events), "utf-8")
    return folder


def test_split_is_fixed() -> None:
    assert [e3c.split_of(n) for n in ("CAS001", "CAS002", "FR100003")] == ["dev", "test", "dev"]


def test_read_document(corpus: Path) -> None:
    doc = e3c.read_document(corpus / "CAS001.xml")
    assert doc.doc_id == "CAS001" and doc.text.startswith("Patient de 60 ans")
    assert [doc.text[e.start : e.end] for e in doc.events] == [
        "toux",
        "fièvre",
        "radiographie",
        "pneumopathie",
    ]
    assert [e.negated for e in doc.events] == [False, True, False, False]
    hedged = e3c.read_document(corpus / "CAS002.xml").events[1]
    assert hedged.hedged and not hedged.negated


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("<xmi:XMI", "XMI illisible"),
        ('<?xml version="1.0"?><a/>', "pas de texte"),
        (xmi("Toux.", [("Toux", "POS", "ACTUAL")]).replace('begin="0"', 'begin="x"'),
         "EVENT sans bornes valides"),
    ],
)  # fmt: skip
def test_bad_files_name_the_file(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "BAD1.xml"
    path.write_text(content, "utf-8")
    with pytest.raises(SourceError, match=f"BAD1.xml: {reason}"):
        e3c.read_document(path)


def test_event_outside_the_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "BAD2.xml"
    path.write_text(xmi("Toux.", [("Toux", "POS", "ACTUAL")]).replace('end="4"', 'end="40"'))
    with pytest.raises(SourceError, match="BAD2.xml: EVENT hors du texte"):
        e3c.read_document(path)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="aucun fichier XMI"):
        e3c.read_corpus(tmp_path)


def test_align_prefers_the_largest_overlap() -> None:
    events = (
        e3c.Event(0, 7, False, False),  # "détresse"
        e3c.Event(9, 22, False, False),  # "respiratoire"
        e3c.Event(30, 35, True, False),
    )
    assert e3c.align(Prediction(0, 22, "DISO"), events) == events[1]
    assert e3c.align(Prediction(2, 12, "DISO"), events) == events[0]
    assert e3c.align(Prediction(23, 29, "DISO"), events) is None


@pytest.mark.slow
def test_evaluate_on_written_cases(corpus: Path) -> None:
    """Hopia's real pipeline on the two documents: the planted negations are found, the
    affirmed mentions are not negated."""
    from hopia.data.nlp.evaluate.systems import hopia_system
    from hopia.platform.config import get_settings

    docs = e3c.read_corpus(corpus)
    result = e3c.evaluate(docs, [hopia_system(get_settings().cache_dir)], "écrit")
    by_text = {
        docs[[d.doc_id for d in docs].index(c.doc_id)].text[c.start : c.end]: c
        for c in result.cases["hopia"]
    }
    assert by_text["fièvre"].predicted["negation"] and by_text["fièvre"].gold["negated"]
    assert not by_text["toux"].predicted["negation"]
    negation = result.score("hopia", "negation")
    # mentions are counted (two pipes may find "douleur thoracique"): at least one per event
    assert negation.gold >= 2 and negation.precision == 1.0 and negation.recall == 1.0
    assert result.score("hopia", "negation", "test").gold >= 1
    assert result.errors("hopia", docs) == []


def test_cli_refuses_errors_outside_dev(corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for split in (None, "test"):
        args = ["eval-e3c", "--corpus", str(corpus), "--errors", str(tmp_path / "e.jsonl")]
        result = runner.invoke(app, [*args, *(["--split", split] if split else [])])
        assert result.exit_code == 2 and "partie dev" in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "e.jsonl").exists()
    unknown = runner.invoke(app, ["eval-e3c", "--corpus", str(corpus), "--split", "autre"])
    assert unknown.exit_code == 2 and "--split" in unknown.output
    missing = runner.invoke(app, ["eval-e3c", "--corpus", str(tmp_path / "absent")])
    assert missing.exit_code == 2 and "--corpus" in missing.output


@pytest.mark.slow
def test_cli_reports_in_french(corpus: Path, tmp_path: Path) -> None:
    out, errors = tmp_path / "r.json", tmp_path / "e.jsonl"
    result = CliRunner().invoke(
        app,
        ["eval-e3c", "--corpus", str(corpus), "--no-eds", "--split", "dev", "--json", str(out),
         "--errors", str(errors)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "négation" in result.output and "documents" in result.output
    rows = [line.split()[:2] for line in result.output.splitlines()]
    assert ["Hopia", "dev"] in rows and ["Hopia", "test"] not in rows  # only the part scored
    report = json.loads(out.read_text("utf-8"))
    assert report["systems"]["hopia"]["dev"]["negation"]["gold"] >= 1
    assert errors.read_text("utf-8") == ""


@pytest.mark.skipif(
    not os.environ.get("HOPIA_E3C_DIR"), reason="HOPIA_E3C_DIR (E3C French layer 1) not set"
)
def test_the_real_corpus_reads() -> None:
    docs = e3c.read_corpus(Path(os.environ["HOPIA_E3C_DIR"]))
    assert len(docs) == 81 and sum(e.negated for d in docs for e in d.events) > 300
