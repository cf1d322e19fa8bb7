"""Evaluation metrics on hand-built cases with known answers, splits, and both gold formats."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from hopia.data.pseudo import PhiSpan, Pseudonymiser
from hopia.data.pseudo.evaluate import (
    GoldSpan,
    PhiGoldDoc,
    evaluate,
    fold_of,
    held_out,
    is_held_out,
    load_gold,
    pseudonymiser_predict,
    score,
    split_folds,
)
from hopia.data.records import PatientIdentity
from hopia.platform import splits as split
from hopia.platform.exceptions import SourceError
from tests.conftest import shared_path

TEXT = "Jean DUPONT vu le 12/03/2024."  # PRENOM 0-4, NOM 5-11, DATE 18-28


def p(start: int, end: int, label: str, text: str = TEXT) -> PhiSpan:
    return PhiSpan(start, end, label, text[start:end], "rule")


def one(text: str, gold: Iterable[tuple[int, int, str]], pred: Iterable[PhiSpan]):
    return score([(text, list(gold), list(pred))])


# --- span scores ------------------------------------------------------------------------------


def test_exact_versus_overlap() -> None:
    gold = [(0, 4, "PRENOM"), (5, 11, "NOM"), (18, 28, "DATE")]
    r = one(TEXT, gold, [p(0, 11, "NOM"), p(18, 28, "DATE")])
    nom, prenom, dte = r.labels["NOM"], r.labels["PRENOM"], r.labels["DATE"]
    # exact: "Jean DUPONT" as one NOM matches nothing
    assert (nom.exact.precision, nom.exact.recall, nom.exact.f1) == (0.0, 0.0, 0.0)
    assert (dte.exact.precision, dte.exact.recall) == (1.0, 1.0)
    assert prenom.exact.precision is None and prenom.exact.recall == 0.0
    # overlap: the NOM prediction overlaps the NOM gold; PRENOM needs a PRENOM prediction
    assert (nom.overlap.precision, nom.overlap.recall, nom.overlap.f1) == (1.0, 1.0, 1.0)
    assert prenom.overlap.recall == 0.0
    # characters ignore labels: Jean is masked, whatever it was called
    assert prenom.char_recall == 1.0 and nom.char_recall == 1.0
    assert r.micro_exact.gold == 3 and r.micro_exact.found == 1 and r.micro_exact.predicted == 2
    assert r.micro_exact.recall == pytest.approx(1 / 3)
    assert r.micro_exact.precision == pytest.approx(1 / 2)
    assert r.micro_overlap.recall == pytest.approx(2 / 3)
    assert r.micro_overlap.precision == 1.0
    # macro over the three labels present: P (0 + 0 + 1) / 3 (undefined counts as 0)
    mp, mr, mf = r.macro("exact")
    assert (mp, mr, mf) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert r.macro("overlap") == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_overlap_counts_each_prediction_once_and_needs_the_same_label() -> None:
    # two predictions inside one gold span: both correct, the gold span found once
    r = one(TEXT, [(0, 11, "NOM")], [p(0, 4, "NOM"), p(5, 11, "NOM"), p(18, 28, "NOM")])
    ov = r.labels["NOM"].overlap
    assert (ov.gold, ov.found, ov.predicted, ov.correct) == (1, 1, 3, 2)
    # adjacent spans do not overlap
    r = one(TEXT, [(0, 4, "NOM")], [p(4, 11, "NOM")])
    assert r.labels["NOM"].overlap.found == 0


def test_character_redaction_with_whitespace() -> None:
    text = "Vu  Jean   DUPONT \n ce jour"
    # gold with stray whitespace around it; prediction covers the name and the spaces around
    gold = [(3, 8, "PRENOM"), (10, 19, "NOM")]  # " Jean", " DUPONT \n"
    pred = [p(4, 17, "NOM", text), p(17, 20, "DATE", text)]  # "Jean   DUPONT", whitespace only
    r = one(text, gold, pred)
    assert r.gold_chars == 4 + 6  # stripped: "Jean", "DUPONT"
    assert r.predicted_chars == 10  # "Jean   DUPONT": blanks are never PHI characters
    assert r.covered_chars == 10
    assert r.redaction_recall == 1.0
    assert r.redaction_precision == 1.0
    assert r.labels["DATE"].exact.predicted == 0  # the whitespace-only span is ignored
    # exact match after stripping both sides
    r = one(text, gold, [p(4, 8, "PRENOM", text), p(11, 17, "NOM", text)])
    assert r.micro_exact.recall == 1.0 and r.micro_exact.precision == 1.0


def test_blank_between_two_masked_pieces_is_not_a_leak() -> None:
    text = "Adresse : 75013 Paris, vu le 12/03/2024"
    gold = [(10, 21, "VILLE")]  # "75013 Paris" as one gold span
    pred = [p(10, 15, "ZIP", text), p(16, 21, "VILLE", text)]
    r = one(text, gold, pred)
    assert r.gold_chars == 10 and r.covered_chars == 10
    assert r.fully_redacted == 1.0
    # a letter left out is a leak, blanks or not
    r = one(text, gold, [p(10, 15, "ZIP", text), p(17, 21, "VILLE", text)])
    assert r.fully_redacted == 0.0 and r.covered_chars == 9


def test_fully_redacted_share_counts_only_documents_with_phi() -> None:
    r = score(
        [
            (TEXT, [(0, 4, "PRENOM"), (5, 11, "NOM")], [p(0, 11, "NOM")]),  # fully
            (TEXT, [(0, 4, "PRENOM"), (5, 11, "NOM")], [p(0, 4, "PRENOM"), p(5, 10, "NOM")]),
            ("Rien ici.", [], []),  # no PHI: not in the denominator
        ]
    )
    assert (r.documents, r.docs_with_phi, r.docs_fully_redacted) == (3, 2, 1)
    assert r.fully_redacted == 0.5
    assert r.redaction_recall == pytest.approx(19 / 20)


def test_empty_predictions() -> None:
    r = one(TEXT, [(0, 4, "PRENOM"), (18, 28, "DATE")], [])
    assert r.micro_exact.recall == 0.0 and r.micro_exact.precision is None
    assert r.micro_exact.f1 == 0.0
    assert r.redaction_recall == 0.0 and r.redaction_precision is None
    assert r.fully_redacted == 0.0
    assert r.macro("exact") == (0.0, 0.0, 0.0)


def test_empty_gold() -> None:
    r = one(TEXT, [], [p(18, 28, "DATE")])
    assert r.redaction_recall is None and r.redaction_precision == 0.0
    assert r.fully_redacted is None and r.docs_with_phi == 0
    d = r.labels["DATE"].exact
    assert (d.precision, d.recall, d.f1) == (0.0, None, 0.0)
    assert r.macro("exact") == (0.0, 0.0, 0.0)  # a label predicted but absent counts
    nothing = one(TEXT, [], [])
    assert nothing.macro("exact") == (None, None, None)
    assert nothing.labels["NOM"].exact.f1 is None
    assert all(t.met is None for t in nothing.targets())


def test_overlapping_gold_is_counted_and_scored() -> None:
    gold = [(0, 11, "NOM"), (0, 4, "PRENOM"), (5, 11, "NOM")]
    r = one(TEXT, gold, [p(0, 11, "NOM")])
    assert r.gold_overlaps == 2  # (0,11) overlaps both
    assert r.gold_chars == 10  # the union, not 4 + 6 + 11, less the blank
    assert r.labels["NOM"].exact.found == 1 and r.labels["NOM"].exact.gold == 2
    assert r.labels["NOM"].overlap.found == 2
    doc = PhiGoldDoc("x", TEXT, tuple(GoldSpan(*s) for s in gold))
    assert doc.overlaps == 2


def test_unknown_predicted_label_is_reported_after_the_13() -> None:
    r = one(TEXT, [], [p(0, 4, "PERSON")])
    assert list(r.labels)[-1] == "PERSON" and len(r.labels) == 14


def test_targets_and_serialisation() -> None:
    text = "NIR 1 51 07 35 115 123 21, tél 06 12 34 56 78."
    gold = [(4, 25, "SECU"), (31, 45, "TEL")]
    r = one(text, gold, [p(4, 25, "SECU", text), p(31, 40, "TEL", text)])
    targets = {t.name: t for t in r.targets()}
    assert targets["char_recall_SECU"].met is True
    assert targets["char_recall_TEL"].met is False
    assert targets["char_recall_MAIL"].met is None  # nothing to find
    assert targets["redaction_precision"].met is True
    data = json.loads(r.to_json(split="all"))
    assert data["split"] == "all"
    assert {"labels", "micro", "macro", "redaction", "fully_redacted", "targets"} <= set(data)
    assert data["labels"]["TEL"]["overlap"]["recall"] == 1.0
    assert data["labels"]["TEL"]["exact"]["recall"] == 0.0
    # 15 + 10 digits, blanks aside; "06 12 34 " covers 6 of the phone's
    assert data["redaction"]["recall"] == pytest.approx(21 / 25)
    console = Console(record=True, width=80)
    console.print(r.to_table())
    out = console.export_text()
    assert "DATE_NAISSANCE" in out and "micro" in out and "macro" in out
    assert max(map(len, out.splitlines())) <= 80


def test_evaluate_calls_the_predictor_and_times_it_alone() -> None:
    identity = PatientIdentity("123", "DUPONT", "Jean", date(1951, 7, 3))
    docs = [
        PhiGoldDoc("a", TEXT, (GoldSpan(5, 11, "NOM"),), identity=identity),
        PhiGoldDoc("b", "Rien.", ()),
    ]
    seen: list[PhiGoldDoc] = []
    ticks = iter([0.0, 0.5, 10.0, 10.5])

    def predict(doc: PhiGoldDoc) -> list[PhiSpan]:
        seen.append(doc)
        return [p(5, 11, "NOM")] if doc.identity else []

    r = evaluate(predict, docs, clock=lambda: next(ticks))
    assert seen == docs
    assert r.seconds == 1.0 and r.docs_per_second == 2.0
    assert r.labels["NOM"].exact.f1 == 1.0


def test_pseudonymiser_predictor_uses_the_identity() -> None:
    text = "Patient : Jean Ormond, revu."
    identity = PatientIdentity("123", "ORMOND", "Jean")
    doc = PhiGoldDoc("a", text, (GoldSpan(10, 14, "PRENOM"), GoldSpan(15, 21, "NOM")), identity)
    predict = pseudonymiser_predict(Pseudonymiser(b"evaluate-test-secret"))
    assert evaluate(predict, [doc]).redaction_recall == 1.0


# --- splits -----------------------------------------------------------------------------------


def _docs(n: int) -> list[PhiGoldDoc]:
    return [PhiGoldDoc(f"note-{i}", "", ()) for i in range(n)]


def test_folds_are_deterministic_disjoint_and_cover_everything() -> None:
    docs = _docs(500)
    folds = split_folds(docs, 5, seed=3)
    assert len(folds) == 5
    ids = [d.id for f in folds for d in f]
    assert sorted(ids) == sorted(d.id for d in docs)  # disjoint and complete
    assert all(60 <= len(f) <= 140 for f in folds)
    shuffled = docs[:]
    random.Random(0).shuffle(shuffled)
    again = split_folds(shuffled, 5, seed=3)
    assert [{d.id for d in f} for f in again] == [{d.id for d in f} for f in folds]
    other = split_folds(docs, 5, seed=4)
    assert [{d.id for d in f} for f in other] != [{d.id for d in f} for f in folds]
    assert fold_of("note-7", 5, 3) == next(i for i, f in enumerate(folds) if docs[7] in f)
    with pytest.raises(ValueError):
        split_folds(docs, 1)


def test_held_out_is_a_stable_fifth_by_note_id() -> None:
    docs = _docs(2000)
    train, test = held_out(docs)
    assert len(train) + len(test) == 2000 and not {d.id for d in train} & {d.id for d in test}
    assert 0.17 <= len(test) / 2000 <= 0.23
    assert all(is_held_out(d.id) for d in test) and not any(is_held_out(d.id) for d in train)
    # the same note is held out whatever the file, the order or the company it keeps
    subset = docs[::7]
    assert {d.id for d in held_out(subset)[1]} == {d.id for d in test} & {d.id for d in subset}
    dup = [docs[0], docs[0]]
    assert len(held_out(dup)[0]) in (0, 2)
    assert is_held_out("note-1") == is_held_out("note-1")
    # one definition with the trainer's, or "heldout" would score notes it trained on
    assert all(is_held_out(d.id) == split.is_held_out(d.id) for d in docs)
    with pytest.raises(ValueError):
        held_out(docs, fraction=1.0)


# --- loading ----------------------------------------------------------------------------------


def _write(path: Path, rows: Iterable[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _eds(note_id: str = "n1", text: str = TEXT, entities: list | None = None) -> dict:
    ents = [{"start": 5, "end": 11, "label": "NOM"}] if entities is None else entities
    return {"note_id": note_id, "note_text": text, "entities": ents}


def test_load_eds_pseudo(tmp_path: Path) -> None:
    path = _write(tmp_path / "gold.eds.jsonl", [_eds("n1"), "", _eds("n2", "Rien.", [])])
    docs = load_gold(path)
    assert [d.id for d in docs] == ["n1", "n2"]
    assert docs[0].spans == (GoldSpan(5, 11, "NOM"),) and docs[1].spans == ()
    assert docs[0].identity is None and docs[0].source == str(path)


def _synth(folder: Path) -> Path:
    folder.mkdir()
    _write(
        folder / "documents.jsonl",
        [
            {"id": "D1", "text": TEXT, "patient_id": "123", "type": "CRH"},
            {"id": "D2", "text": "Rien.", "patient_id": "999", "staff": ["Dr Martin"]},
        ],
    )
    _write(
        folder / "gold.jsonl",
        [
            {"id": "D2", "phi": [], "facts": []},
            {"id": "D1", "phi": [{"start": 0, "end": 4, "label": "PRENOM"}], "facts": []},
        ],
    )
    _write(
        folder / "patients.jsonl",
        [{"ipp": "123", "family_name": "DUPONT", "given_name": "Jean", "birth_date": "1951-07-03"}],
    )
    return folder


def test_load_synth_corpus_every_way(tmp_path: Path) -> None:
    folder = _synth(tmp_path / "corpus")
    for where in (folder, folder / "documents.jsonl", folder / "gold.jsonl"):
        docs = load_gold(where)
        assert [d.id for d in docs] == ["D1", "D2"]
        assert docs[0].spans == (GoldSpan(0, 4, "PRENOM"),)
        assert docs[0].identity == PatientIdentity("123", "DUPONT", "Jean", date(1951, 7, 3))
        assert docs[1].identity is None and docs[1].staff == ("Dr Martin",)
    (folder / "patients.jsonl").unlink()
    assert load_gold(folder)[0].identity is None


def test_load_a_generated_corpus(tmp_path: Path) -> None:
    from hopia.data.synth import generate, write_corpus

    write_corpus(generate(n_patients=2, seed=5), tmp_path / "c", formats=False)
    docs = load_gold(tmp_path / "c")
    assert docs and all(d.identity is not None for d in docs)
    report = evaluate(pseudonymiser_predict(Pseudonymiser(b"evaluate-test-secret")), docs)
    assert report.documents == len(docs) and report.redaction_recall > 0.9


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_eds(), "{not json"], "#L2: JSON invalide"),
        ([_eds(), "[1, 2]"], "#L2: un objet JSON est attendu"),
        ([{"note_id": "n1", "entities": []}], "#L1: champ « note_text » manquant"),
        ([_eds(note_id=None)], "#L1: champ « note_id » manquant ou invalide"),
        ([_eds(entities="NOM")], "#L1: le champ « entities » doit être une liste"),
        ([_eds(entities=[{"start": 5, "end": 99, "label": "NOM"}])], "hors du texte"),
        ([_eds(entities=[{"start": 6, "end": 5, "label": "NOM"}])], "hors du texte"),
        ([_eds(entities=[{"start": -1, "end": 5, "label": "NOM"}])], "hors du texte"),
        ([_eds(entities=[{"start": "5", "end": 11, "label": "NOM"}])], "entiers attendus"),
        ([_eds(entities=[{"start": 5, "end": 11, "label": "PERSON"}])], "étiquette inconnue"),
        ([_eds(entities=[["5", "11"]])], "objet attendu"),
    ],
)
def test_malformed_eds_gold(tmp_path: Path, rows: list, message: str) -> None:
    path = _write(tmp_path / "bad.jsonl", rows)
    with pytest.raises(SourceError, match=message) as err:
        load_gold(path)
    assert str(path) in str(err.value)


def test_malformed_synth_gold(tmp_path: Path) -> None:
    folder = _synth(tmp_path / "c")
    gold = folder / "gold.jsonl"
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    rows[1]["phi"][0]["end"] = 999
    _write(gold, rows)
    with pytest.raises(SourceError, match=r"gold\.jsonl#L2: entité n° 1 : décalages hors"):
        load_gold(folder)
    _write(gold, rows[:1])
    with pytest.raises(SourceError, match=r"documents\.jsonl#L1: document D1 absent"):
        load_gold(folder)
    _write(gold, [*rows[:1], {"id": "D1", "phi": []}, {"id": "D3", "phi": []}])
    with pytest.raises(SourceError, match=r"gold\.jsonl#L3: annotation sans document"):
        load_gold(folder)
    _write(gold, [*rows[:1], {"id": "D2", "phi": []}])
    with pytest.raises(SourceError, match=r"gold\.jsonl#L2: identifiant en double"):
        load_gold(folder)
    with pytest.raises(SourceError, match="introuvable"):
        load_gold(tmp_path / "absent.jsonl")
    with pytest.raises(SourceError, match="introuvable"):
        load_gold(tmp_path)  # a folder without documents.jsonl


# --- the shared eds-pseudo files ----------------------------------------------------------------


@pytest.mark.shared
def test_shared_gold_files_load_and_split() -> None:
    synthetic = load_gold(shared_path("pseudo", "eds_pseudo_synthetic_train.jsonl"))
    public = load_gold(shared_path("pseudo", "eds_pseudo_public_small_train.jsonl"))
    assert (len(synthetic), len(public)) == (1017, 80)
    docs = synthetic + public
    _, test = held_out(docs)
    assert 0.15 <= len(test) / len(docs) <= 0.25
    report = evaluate(pseudonymiser_predict(Pseudonymiser(b"evaluate-test-secret")), test)
    assert report.gold_overlaps == 0
    assert report.redaction_precision > 0.9 and report.redaction_recall > 0.8
