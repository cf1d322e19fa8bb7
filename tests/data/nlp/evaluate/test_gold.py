"""Gold readers: BRAT standoff (discontinuous spans, CUIs, bad files) and hopia synth gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopia.data.nlp.evaluate import parse_ann, read_brat, read_synth_gold
from hopia.platform.exceptions import SourceError

TEXT = "Traitement des douleurs intenses et chroniques du foie."
ANN = (
    "T1\tPROC 0 10\tTraitement\n"
    "#1\tAnnotatorNotes T1\tC0087111\n"
    "T2\tDISO 15 32\tdouleurs intenses\n"
    "T3\tDISO 15 23;36 46\tdouleurs chroniques\n"
    "T4\tANAT 50 54\tfoie\n"
    "R1\tOVERLAP Arg1:T2 Arg2:T3\n"
)


def write_pair(folder: Path, name: str, text: str, ann: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / f"{name}.ann").write_text(ann, encoding="utf-8")


def test_text_bound_lines_discontinuous_spans_and_notes() -> None:
    mentions, ignored = parse_ann(ANN, TEXT, "x.ann")
    assert [(m.fragments, m.label) for m in mentions] == [
        (((0, 10),), "PROC"),
        (((15, 23), (36, 46)), "DISO"),
        (((15, 32),), "DISO"),
        (((50, 54),), "ANAT"),
    ]
    assert mentions[0].cui == "C0087111" and mentions[1].cui is None
    assert mentions[1].start == 15 and mentions[1].end == 46
    assert all(m.qualifiers is None for m in mentions)
    assert ignored == {"R": 1}


def test_fragments_listed_out_of_text_order_are_sorted() -> None:
    # QUAERO writes "T2 DISO 24 44;4 13 des sinus de la face fractures"
    text = "Les fractures méconnues des sinus de la face ."
    mentions, _ = parse_ann("T2\tDISO 24 44;4 13\tdes sinus de la face fractures\n", text, "a")
    assert mentions[0].fragments == ((4, 13), (24, 44))


@pytest.mark.parametrize(
    ("ann", "reason"),
    [
        ("T1\tDISO 15 999\tdouleurs\n", "décalages invalides"),
        ("T1\tDISO quinze 23\tdouleurs\n", "ligne T illisible"),
        ("T1\tDISO 15 23\tfièvre\n", "texte cité ne correspond pas"),
        ("T1\tDISO 15 23\tdouleurs\nT1\tDISO 15 23\tdouleurs\n", "identifiant en double"),
    ],
)
def test_bad_ann_names_the_file_and_line(tmp_path: Path, ann: str, reason: str) -> None:
    write_pair(tmp_path / "corpus", "doc1", TEXT, ann)
    with pytest.raises(SourceError) as info:
        read_brat(tmp_path / "corpus")
    assert "doc1.ann#L" in str(info.value) and reason in str(info.value)


def test_folder_is_read_recursively_in_path_order(tmp_path: Path) -> None:
    write_pair(tmp_path / "b", "doc", TEXT, ANN)
    write_pair(tmp_path / "a" / "deep", "doc", "Fièvre.", "T1\tDISO 0 6\tFièvre\n")
    (tmp_path / "annotation.conf").write_text("[entities]\nDISO\n", encoding="utf-8")
    gold = read_brat(tmp_path)
    assert [d.id for d in gold.docs] == ["a/deep/doc", "b/doc"]
    assert gold.kind == "brat" and gold.labels[0] == "DISO"
    assert gold.ignored == {"R": 1} and not gold.has_qualifiers


def test_missing_ann_missing_txt_empty_and_absent_folders(tmp_path: Path) -> None:
    (tmp_path / "only.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match=r"only\.txt.*\.ann manquant"):
        read_brat(tmp_path)
    (tmp_path / "only.ann").write_text("", encoding="utf-8")
    assert len(read_brat(tmp_path).docs) == 1
    (tmp_path / "orphan.ann").write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match=r"orphan\.ann.*sans le \.txt"):
        read_brat(tmp_path)
    for name in ("orphan.ann", "only.ann", "only.txt"):
        (tmp_path / name).unlink()
    with pytest.raises(SourceError, match="aucun fichier .txt"):
        read_brat(tmp_path)
    with pytest.raises(SourceError, match="introuvable"):
        read_brat(tmp_path / "nowhere")


def test_invalid_utf8_is_reported_with_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"fi\xe8vre")
    (tmp_path / "bad.ann").write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match=r"bad\.txt.*UTF-8"):
        read_brat(tmp_path)


def write_synth(folder: Path, facts: list[dict], text: str = "Pas de fièvre. Doliprane.") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"id": "D1", "text": text, "patient_id": "P1"}
    (folder / "documents.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (folder / "gold.jsonl").write_text(
        json.dumps({"id": "D1", "phi": [], "facts": facts}) + "\n", encoding="utf-8"
    )


def test_synth_gold_kinds_and_qualifiers(tmp_path: Path) -> None:
    facts = [
        {"start": 7, "end": 13, "kind": "condition", "negated": True, "history": False},
        {"start": 15, "end": 24, "kind": "drug", "negated": False, "history": True},
    ]
    write_synth(tmp_path / "c", facts)
    for path in (tmp_path / "c", tmp_path / "c" / "gold.jsonl"):
        gold = read_synth_gold(path)
        (doc,) = gold.docs
        assert [(m.fragments, m.label) for m in doc.mentions] == [
            (((7, 13),), "DISO"),
            (((15, 24),), "CHEM"),
        ]
        assert doc.mentions[0].qualifiers == {
            "negation": True,
            "hypothesis": False,
            "family": False,
            "history": False,
        }
        assert doc.mentions[1].qualifiers["history"] is True
        assert gold.has_qualifiers and gold.kind == "jsonl"


@pytest.mark.parametrize(
    ("fact", "reason"),
    [
        ({"start": 7, "end": 99, "kind": "condition"}, "hors du texte"),
        ({"start": 7, "end": 13, "kind": "procedure"}, "type 'procedure' inconnu"),
        ({"start": "7", "end": 13, "kind": "condition"}, "entiers attendus"),
    ],
)
def test_bad_synth_gold_names_file_and_line(tmp_path: Path, fact: dict, reason: str) -> None:
    write_synth(tmp_path, [fact])
    with pytest.raises(SourceError) as info:
        read_synth_gold(tmp_path / "gold.jsonl")
    assert "gold.jsonl#L1" in str(info.value) and reason in str(info.value)


def test_synth_gold_without_documents_or_document(tmp_path: Path) -> None:
    write_synth(tmp_path, [])
    (tmp_path / "documents.jsonl").write_text('{"id": "D2", "text": "x"}\n', encoding="utf-8")
    with pytest.raises(SourceError, match="D1 absent de documents.jsonl"):
        read_synth_gold(tmp_path)
    (tmp_path / "documents.jsonl").unlink()
    with pytest.raises(SourceError, match=r"documents\.jsonl.*introuvable"):
        read_synth_gold(tmp_path)
