"""Renditions: FHIR bundles validate, HL7 parses, PDF and DOCX keep the text; ingest reads them."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import docx
import hl7
import pypdf
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.patient import Patient

from hopia.data.synth import SynthCorpus, generate, write_corpus
from hopia.data.synth.model import SynthDocument
from hopia.data.synth.render import hl7_escape, latin1, to_docx, to_hl7, to_pdf


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthCorpus]:
    corpus = generate(20, 42)
    out = tmp_path_factory.mktemp("render") / "corpus"
    write_corpus(corpus, out)
    return out, corpus


def _by_format(corpus: SynthCorpus, fmt: str):
    return [r for r in corpus.renditions if r.format == fmt]


def test_fhir_bundles_validate_and_carry_the_text(written: tuple[Path, SynthCorpus]) -> None:
    out, corpus = written
    patients = {p.ipp: p for p in corpus.patients}
    renditions = _by_format(corpus, "fhir")
    assert renditions
    for path in sorted({r.path for r in renditions}):
        data = json.loads((out / path).read_text(encoding="utf-8"))
        Bundle.model_validate(data)
        assert data["type"] == "collection"
        patient, *refs = data["entry"]
        Patient.model_validate(patient["resource"])
        ipp = next(
            i["value"]
            for i in patient["resource"]["identifier"]
            if i["type"]["coding"][0]["code"] == "PI"
        )
        nir = next(
            i["value"]
            for i in patient["resource"]["identifier"]
            if i["system"] == "urn:oid:1.2.250.1.213.1.4.8"
        )
        assert nir == patients[ipp].nir
        expected = {r.document.id: r.document for r in renditions if r.path == path}
        assert len(refs) == len(expected)
        for entry in refs:
            res = entry["resource"]
            DocumentReference.model_validate(res)
            assert res["status"] == "current" and res["subject"]["reference"] == patient["fullUrl"]
            doc = expected[res["masterIdentifier"]["value"]]
            attachment = res["content"][0]["attachment"]
            assert attachment["contentType"] == "text/plain; charset=utf-8"
            assert base64.b64decode(attachment["data"]).decode("utf-8") == doc.text
            assert res["type"]["text"] == doc.type and res["date"].startswith(doc.date.isoformat())


def test_hl7_messages_parse_and_carry_the_text(written: tuple[Path, SynthCorpus]) -> None:
    out, corpus = written
    patients = {p.ipp: p for p in corpus.patients}
    renditions = _by_format(corpus, "hl7")
    assert renditions
    for r in renditions:
        raw = (out / r.path).read_bytes().decode("utf-8")
        assert "\n" not in raw  # segments are separated by \r only
        message = hl7.parse(raw)
        assert str(message.segment("MSH")[9]) == "MDM^T02^MDM_T02"
        pid = message.segment("PID")
        p = patients[r.document.patient_id]
        assert str(pid[3]) == f"{p.ipp}^^^CHU^PI"
        assert str(pid[5]) == f"{p.family_name}^{p.given_name}"
        assert str(pid[7]) == p.birth_date.strftime("%Y%m%d") and str(pid[8]) == p.sex
        txa = message.segment("TXA")
        assert str(txa[2]) == r.document.type and str(txa[12]) == r.document.id
        lines = [message.unescape(str(obx[5])) for obx in message.segments("OBX")]
        assert "\n".join(lines) == r.document.text.rstrip("\n")


def test_hl7_escaping_round_trip(written: tuple[Path, SynthCorpus]) -> None:
    _, corpus = written
    doc = corpus.documents[0]
    tricky = "A|B^C&D~E\\F\nligne 2"
    special = SynthDocument(
        "X-1", tricky, doc.patient_id, doc.date, "CRH", "cardiologie", [], [], "123"
    )
    assert hl7_escape("a|b") == "a\\F\\b"
    patient = next(p for p in corpus.patients if p.ipp == doc.patient_id)
    message = hl7.parse(to_hl7(special, patient))
    assert [message.unescape(str(o[5])) for o in message.segments("OBX")] == tricky.split("\n")


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_pdf_text_extractable(written: tuple[Path, SynthCorpus]) -> None:
    out, corpus = written
    renditions = _by_format(corpus, "pdf")
    assert renditions
    for r in renditions:
        reader = pypdf.PdfReader(out / r.path)
        extracted = _squash("\n".join(page.extract_text() for page in reader.pages))
        expected = _squash(latin1(r.document.text))
        assert extracted == expected


def test_pdf_folds_non_latin1() -> None:
    corpus = generate(1, 5)
    doc = corpus.documents[0]
    special = SynthDocument(
        "X-2", "Œdème du cœur – test\n", doc.patient_id, doc.date, "CRH", "cardiologie", [], []
    )
    text = pypdf.PdfReader(io.BytesIO(to_pdf(special))).pages[0].extract_text()
    assert "OEdème du coeur - test" in text


def test_docx_readable(written: tuple[Path, SynthCorpus]) -> None:
    out, corpus = written
    renditions = _by_format(corpus, "docx")
    assert renditions
    for r in renditions:
        document = docx.Document(str(out / r.path))
        assert "\n".join(p.text for p in document.paragraphs) == r.document.text.rstrip("\n")
    assert to_docx(renditions[0].document) == to_docx(renditions[0].document)


def test_ingest_readers_read_every_rendition(written: tuple[Path, SynthCorpus]) -> None:
    from hopia.data.ingest.readers import read_path
    from hopia.data.records import RawDocument

    out, corpus = written
    expected = {r.document.id: r for r in corpus.renditions}
    seen = 0
    for path in sorted((out / "files").iterdir()):
        for item in read_path(path):
            assert isinstance(item, RawDocument), item
            seen += 1
            if item.external_id in expected:  # HL7 and FHIR carry the document id
                doc = expected[item.external_id].document
                assert _squash(item.text) == _squash(doc.text)
                assert item.patient_ipp == doc.patient_id
                assert item.visit_id == doc.nda  # PV1-19, DocumentReference.context.encounter
                if item.format == "hl7v2":  # PV1-44/45
                    assert (item.visit_start, item.visit_end) == (doc.visit_start, doc.visit_end)
    assert seen == len(corpus.renditions)
