"""The output folder: layout, contracts, byte-identical reruns, partition, overwrite rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hopia.data.synth import GENERATOR_VERSION, generate, write_corpus

PATIENT_FIELDS = [
    "ipp", "family_name", "given_name", "birth_date", "sex", "nir", "address", "zip", "city",
    "phone", "email",
]  # fmt: skip
DOCUMENT_FIELDS = [
    "id", "text", "patient_id", "date", "type", "visit_id", "visit_start", "visit_end", "service",
]  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    return out, write_corpus(generate(20, 42), out)


def test_layout_and_contracts(written: tuple[Path, dict[str, int]]) -> None:
    out, counts = written
    assert sorted(p.name for p in out.iterdir()) == [
        "documents.jsonl", "files", "gold.jsonl", "manifest.json", "patients.jsonl",
    ]  # fmt: skip
    patients = _jsonl(out / "patients.jsonl")
    assert len(patients) == counts["patients"] == 20
    assert all(list(p) == PATIENT_FIELDS for p in patients)
    docs = _jsonl(out / "documents.jsonl")
    assert len(docs) == counts["documents"]
    assert all(list(d) == DOCUMENT_FIELDS for d in docs)
    ipps = {p["ipp"] for p in patients}
    assert all(d["patient_id"] in ipps for d in docs)
    # Every document names its stay, and lies within it (a consultation's lab report may be
    # drawn a few days before the appointment).
    assert all(d["visit_id"] and d["visit_start"] <= d["visit_end"] for d in docs)
    assert all(d["date"] <= d["visit_end"] for d in docs)
    gold = _jsonl(out / "gold.jsonl")
    assert [g["id"] for g in gold] == [d["id"] for d in docs]
    texts = {d["id"]: d["text"] for d in docs}
    for g in gold:
        for f in g["facts"]:
            assert texts[g["id"]][f["start"] : f["end"]] == f["text"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 42 and manifest["version"] == GENERATOR_VERSION
    assert manifest["counts"] == counts


def test_renditions_partition(written: tuple[Path, dict[str, int]]) -> None:
    out, counts = written
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    jsonl_ids = {d["id"] for d in _jsonl(out / "documents.jsonl")}
    rendered_ids = {f["id"] for f in manifest["files"]}
    assert rendered_ids and not rendered_ids & jsonl_ids  # no document in both places
    total = len(jsonl_ids) + len(rendered_ids)
    assert 0.05 <= len(rendered_ids) / total <= 0.2
    on_disk = {str(p.relative_to(out)) for p in (out / "files").iterdir()}
    assert on_disk == {f["path"] for f in manifest["files"]}
    assert {f["format"] for f in manifest["files"]} == {"pdf", "docx", "hl7", "fhir"}
    assert counts["files"] == len(on_disk)


def test_byte_identical_rerun_and_seed_sensitivity(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_corpus(generate(8, 11), a)
    write_corpus(generate(8, 11), b)
    write_corpus(generate(8, 12), c)
    assert _digest(a) == _digest(b)
    assert _digest(a)["documents.jsonl"] != _digest(c)["documents.jsonl"]


def test_no_formats_puts_everything_in_jsonl(tmp_path: Path) -> None:
    corpus = generate(8, 3)
    counts = write_corpus(corpus, tmp_path / "out", formats=False)
    assert not (tmp_path / "out" / "files").exists()
    assert counts["documents"] == len(corpus.documents) + len(corpus.renditions)
    assert counts["files"] == 0


def test_refuses_non_empty_folder_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        write_corpus(generate(2, 1), out)
    assert (out / "keep.txt").exists()
    write_corpus(generate(2, 1), out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "documents.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind
    (tmp_path / "empty").mkdir()
    write_corpus(generate(2, 1), tmp_path / "empty")  # an empty folder is fine
