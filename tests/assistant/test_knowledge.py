"""Knowledge: reading with structure, chunking by headings with offsets, RRF fusion, the
incremental index (add / replace / remove / idempotent), hybrid search, cited answers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hopia.assistant.knowledge.chunking import chunk
from hopia.assistant.knowledge.fusion import rrf
from hopia.assistant.knowledge.reading import read_source
from hopia.assistant.knowledge.text import fold, tokens
from hopia.platform.exceptions import SourceError

PROTOCOL_MD = """# Protocole insuline

Ce protocole décrit la prise en charge de l'hyperglycémie au service de cardiologie.

## 1. Indications

L'insuline intraveineuse est indiquée quand la glycémie dépasse 3 g/L à deux reprises.

## 2. Posologie

### 2.1 Adulte

Débuter à 0,1 UI/kg/h au pousse-seringue électrique, contrôle glycémique horaire.

### 2.2 Enfant

Avis du pédiatre obligatoire avant toute administration.
"""


def test_fold_and_tokens_ignore_accents_and_stopwords() -> None:
    assert fold("Éthique Œdème") == "ethique oedeme"
    # "de", "la", "les" are stopwords; plurals merge with the singular
    assert tokens("La posologie des comprimés") == tokens("posologie comprime")
    assert "de" not in tokens("dose de lamivudine")


def test_markdown_chunks_follow_headings_with_offsets() -> None:
    source = read_source("protocole.md", PROTOCOL_MD.encode())
    chunks = chunk(source, size=300, overlap=50)
    by_section = {c.section: c for c in chunks}
    assert "Protocole insuline > 2. Posologie > 2.1 Adulte" in by_section
    assert "Protocole insuline > 2. Posologie > 2.2 Enfant" in by_section
    adult = by_section["Protocole insuline > 2. Posologie > 2.1 Adulte"]
    assert "0,1 UI/kg/h" in adult.text and "pédiatre" not in adult.text
    for c in chunks:  # the offsets give back the passage's text exactly
        assert PROTOCOL_MD[c.start : c.end] == c.text
    # "## 2. Posologie" is directly followed by a sub-heading: no passage of its own
    assert "Protocole insuline > 2. Posologie" not in by_section


def test_long_section_is_cut_with_overlap_at_sentence_boundaries() -> None:
    sentences = [f"La phrase numéro {i} décrit une étape du protocole de soins." for i in range(60)]
    text = "1. Procédure\n" + " ".join(sentences)
    chunks = chunk(read_source("p.txt", text.encode()), size=400, overlap=100)
    assert len(chunks) > 5
    assert all(c.section == "1. Procédure" for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # overlap
        assert a.end - a.start <= 400
        assert text[a.start : a.end].endswith(".")  # cut at the end of a sentence
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    body_start = text.index("La phrase")
    assert set(range(body_start, len(text))) <= covered  # nothing lost


def test_numbered_titles_in_plain_text_are_headings() -> None:
    text = (
        "1. Objet\nCe document fixe la conduite.\n\n1.2 Champ d'application\nTous les services.\n"
    )
    chunks = chunk(read_source("n.txt", text.encode()), size=300, overlap=50)
    assert [c.section for c in chunks] == ["1. Objet", "1. Objet > 1.2 Champ d'application"]


def test_html_headings_and_text() -> None:
    html = (
        "<html><head><title>x</title><script>var a=1;</script></head><body>"
        "<h1>Hygiène des mains</h1><p>Friction hydro-alcoolique <b>30 secondes</b>.</p>"
        "<h2>Indications</h2><ul><li>Avant tout contact patient</li>"
        "<li>Après retrait des gants</li></ul>"
        "</body></html>"
    )
    source = read_source("hygiene.html", html.encode())
    assert "var a" not in source.text
    assert [h.title for h in source.headings] == ["Hygiène des mains", "Indications"]
    chunks = chunk(source, size=300, overlap=50)
    assert chunks[-1].section == "Hygiène des mains > Indications"
    assert "Après retrait des gants" in chunks[-1].text
    assert source.text[chunks[0].start : chunks[0].end] == chunks[0].text


def test_docx_heading_styles() -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Protocole de transfusion", level=1)
    document.add_paragraph("Vérifier l'identité du patient au lit.")
    document.add_heading("Contrôle ultime", level=2)
    document.add_paragraph("Le contrôle ultime pré-transfusionnel est obligatoire.")
    buffer = io.BytesIO()
    document.save(buffer)
    source = read_source("transfusion.docx", buffer.getvalue())
    chunks = chunk(source, size=300, overlap=50)
    assert chunks[-1].section == "Protocole de transfusion > Contrôle ultime"
    assert "pré-transfusionnel" in chunks[-1].text


def test_pdf_pages_are_kept() -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    for text in ("Page un : indications du protocole.", "Page deux : posologie chez l'adulte."):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(text=text)
    source = read_source("protocole.pdf", bytes(pdf.output()))
    chunks = chunk(source, size=200, overlap=20)
    pages = {c.page for c in chunks if "posologie" in c.text}
    assert pages == {2}


def test_unsupported_and_binary_files_are_refused() -> None:
    with pytest.raises(SourceError, match="format non pris en charge"):
        read_source("image.png", b"\x89PNG")
    with pytest.raises(SourceError):
        read_source("texte.txt", b"\x00\x01\x02binary")


def test_rrf_fuses_by_reciprocal_rank() -> None:
    fused = rrf([["a", "b", "c"], ["c", "a", "d"]], k=60)
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["d"] == pytest.approx(1 / 63)
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    # an item first in one list only loses to one found high in both
    assert rrf([["x", "y"], ["y", "z"]])[0][0] == "y"


# -- the index: real embeddings (the packaged models are small) -------------------------------

DOCS = {
    "insuline.md": PROTOCOL_MD,
    "hygiene.txt": "1. Hygiène des mains\nLa friction hydro-alcoolique dure 30 secondes avant "
    "tout contact avec le patient.\n\n2. Gants\nLes gants ne remplacent pas l'hygiène des mains.",
    "transfusion.txt": "1. Transfusion\nLe contrôle ultime pré-transfusionnel au lit du malade "
    "vérifie la compatibilité ABO avant toute transfusion de concentré de globules rouges.",
}


@pytest.fixture(params=["use", "e5"])
def index(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    from hopia.assistant.knowledge.index import KnowledgeIndex

    idx = KnowledgeIndex(tmp_path / "c", request.param, threads=1)
    for name, text in DOCS.items():
        idx.add(name, text.encode(), size=300, overlap=50)
    return idx


def _names(hits) -> list[str]:  # noqa: ANN001
    return [h.document for h in hits]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_finds_the_passage(index, mode: str) -> None:  # noqa: ANN001
    hits = index.search("combien de temps dure la friction hydroalcoolique", 3, mode)
    assert hits[0].document == "hygiene.txt"
    assert "30 secondes" in hits[0].text
    stored = index.stored(hits[0].document_id)
    assert stored["text"][hits[0].start : hits[0].end] == hits[0].text


def test_dense_finds_a_paraphrase_bm25_cannot(index) -> None:  # noqa: ANN001
    query = "vérification de compatibilité sanguine avant de transfuser"
    assert index.search(query, 1, "dense")[0].document == "transfusion.txt"


def test_incremental_add_replace_remove_idempotent(index) -> None:  # noqa: ANN001
    from hopia.assistant.knowledge.index import document_id

    folder = index.folder
    doc = document_id("hygiene.txt")
    vectors = folder / "vectors" / index.embedder_name
    other = vectors / f"{document_id('insuline.md')}.npy"
    before = other.stat().st_mtime_ns
    again = index.add("hygiene.txt", DOCS["hygiene.txt"].encode(), size=300, overlap=50)
    assert again.status == "unchanged"
    replaced = index.add(
        "hygiene.txt",
        "1. Hygiène\nLa friction dure désormais 45 secondes.".encode(),
        size=300,
        overlap=50,
    )
    assert replaced.status == "replaced"
    assert other.stat().st_mtime_ns == before  # the other documents were not embedded again
    hit = index.search("durée de la friction des mains", 1, "hybrid")[0]
    assert "45 secondes" in hit.text
    assert not any(
        "30 secondes" in h.text for h in index.search("friction 30 secondes", 10, "bm25")
    )
    assert index.remove(doc) is not None
    assert "hygiene.txt" not in _names(index.search("friction des mains", 10, "hybrid"))
    assert not (vectors / f"{doc}.npy").exists()
    assert index.remove(doc) is None
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(d["name"] for d in manifest["documents"].values()) == [
        "insuline.md",
        "transfusion.txt",
    ]


def test_index_persists_and_a_new_embedder_embeds_lazily(index, tmp_path: Path) -> None:  # noqa: ANN001
    from hopia.assistant.knowledge.index import KnowledgeIndex

    reopened = KnowledgeIndex(index.folder, index.embedder_name, threads=1)
    assert reopened.search("friction hydroalcoolique", 1)[0].document == "hygiene.txt"
    other = "e5" if index.embedder_name == "use" else "use"
    switched = KnowledgeIndex(index.folder, other, threads=1)
    assert switched.search("compatibilité ABO transfusion", 1)[0].document == "transfusion.txt"
    assert len(list((index.folder / "vectors" / other).glob("*.npy"))) == len(DOCS)
