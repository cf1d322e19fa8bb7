"""Statistical PHI detector: shipped weights, long texts, training, held-out split, merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hopia.data.pseudo import PhiSpan, Pseudonymiser, detect_rules, merge_spans
from hopia.data.pseudo import model as model_mod
from hopia.data.pseudo import train as train_mod
from hopia.data.pseudo.model import MAX_CHUNK_CHARS, PhiModel
from hopia.data.pseudo.train import PhiTrainConfig, read_shared, train_model
from hopia.platform.models import weights_digest
from hopia.platform.splits import is_held_out
from hopia.platform.text import chunk_bounds

SECRET = b"model-test-secret-0123456789"


def span(start: int, end: int, label: str, source: str = "rule") -> PhiSpan:
    return PhiSpan(start, end, label, "x" * (end - start), source)


def triples(spans: list[PhiSpan]) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in spans]


def assert_valid(text: str, spans: list[PhiSpan]) -> None:
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert all(0 <= s.start < s.end <= len(text) and text[s.start : s.end] == s.text for s in spans)


# -- shipped weights ----------------------------------------------------------------------------


def test_shipped_weights_are_small_and_described() -> None:
    folder = model_mod.WEIGHTS_DIR
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 50 * 2**20
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["hopia"]
    assert meta["config"]["seed"] not in (11, 42)  # the evaluation and demo seeds
    assert weights_digest(folder)["*"] == meta["files_sha256"]["*"]  # the weights of the meta


def test_untitled_names_in_running_text() -> None:
    texts = [
        "Patiente revue ce jour avec sa fille Nathalie Roussel qui l'accompagne.",
        "Vu en consultation avec Ahmed Benali et son épouse.",
        "Patient adressé par la Clinique du Parc pour la suite de la rééducation.",
        "Rendez-vous avec le Dr A Belmont demain.",
    ]
    got = PhiModel.load().predict(texts)
    for text, spans in zip(texts, got, strict=True):
        assert_valid(text, spans)
        assert all(s.source == "model" for s in spans)
    labels = [[(s.text, s.label) for s in spans] for spans in got]
    assert labels[0] == [("Nathalie", "PRENOM"), ("Roussel", "NOM")]
    assert labels[1] == [("Ahmed", "PRENOM"), ("Benali", "NOM")]
    assert labels[2] == [("Clinique du Parc", "HOPITAL")]
    assert labels[3] == [("A", "PRENOM"), ("Belmont", "NOM")]  # "demain" is not a name


def test_titles_and_common_words_are_not_names() -> None:
    text = "Vu avec Mlle KLOTZMANN hier, revoir demain en mars."
    assert [(s.text, s.label) for s in PhiModel.load().predict([text])[0]] == [("KLOTZMANN", "NOM")]


def test_load_is_cached() -> None:
    assert PhiModel.load() is PhiModel.load(model_mod.WEIGHTS_DIR)


def test_chunks_cover_the_text_and_stay_short() -> None:
    text = ("a" * 7_000) + "\n\n" + "Phrase une. " * 900 + "b" * 12_000
    bounds = list(chunk_bounds(text, MAX_CHUNK_CHARS))
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    assert all(0 < e - s <= MAX_CHUNK_CHARS for s, e in bounds)
    assert list(chunk_bounds("", MAX_CHUNK_CHARS)) == [(0, 0)]


def test_five_megabyte_text() -> None:
    # long words keep the token count (and the test) small; the size is what is tested
    paragraph = " ".join(["abcdefghij" * 20] * 20) + "\n\n"
    tail = "Revu ce jour avec Nathalie Roussel."
    text = paragraph * (5_000_000 // len(paragraph) + 1) + tail
    assert len(text) > 5_000_000
    spans = PhiModel.load().predict([text])[0]
    assert_valid(text, spans)
    assert any(s.start >= len(text) - len(tail) and s.text == "Roussel" for s in spans)


# -- training -----------------------------------------------------------------------------------

NOTES = [
    "Vu avec {g} {f} ce jour, revoir dans un mois.",
    "{f} {g} né le 12/03/1961, tél 06 12 34 56 78.",
    "appel de {g} {f} (fille) au sujet du retour à domicile",
]
NAMES = [("Nathalie", "Roussel"), ("gilbert", "marchand"), ("Ahmed", "BENALI"), ("Lucie", "Faure")]


def fake_shared(folder: Path, n: int = 40) -> tuple[set[str], set[str]]:
    """A shared folder of ``n`` annotated notes; (held-out ids, trainable ids)."""
    folder.mkdir()
    rows, held, kept = [], set(), set()
    for i in range(n):
        given, family = NAMES[i % len(NAMES)]
        template = NOTES[i % len(NOTES)]
        text = template.format(g=given, f=family)
        ents = [
            {"start": text.index(given), "end": text.index(given) + len(given), "label": "PRENOM"},
            {"start": text.index(family), "end": text.index(family) + len(family), "label": "NOM"},
        ]
        note_id = f"fake-{i:03d}"
        (held if is_held_out(note_id) else kept).add(note_id)
        rows.append({"note_id": note_id, "note_text": text, "entities": ents})
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (folder / "fake_notes.jsonl").write_text(lines, encoding="utf-8")
    return held, kept


def test_held_out_notes_are_never_read_for_training(tmp_path: Path) -> None:
    held, kept = fake_shared(tmp_path / "shared")
    assert held and kept
    notes, counts = read_shared(tmp_path / "shared")
    assert {n.note_id for n in notes} == kept
    assert counts == {"fake_notes": len(held)}


def test_split_is_the_documented_hash() -> None:
    import hashlib

    for note_id in ("a", "gen-6448227175904721900", "synthetic_11831851499"):
        h = int(hashlib.sha256(note_id.encode()).hexdigest()[:8], 16) / 2**32
        assert is_held_out(note_id) == (h < 0.2)
    share = sum(is_held_out(f"n{i}") for i in range(5_000)) / 5_000
    assert 0.18 < share < 0.22


def test_tiny_training_run_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hopia.cli.pseudo_train import train

    held, _ = fake_shared(tmp_path / "shared")
    seen: list[str] = []
    real = train_mod.to_examples

    def spy(nlp, notes):  # type: ignore[no-untyped-def]
        notes = list(notes)
        seen.extend(n.note_id for n in notes)
        return real(nlp, notes)

    monkeypatch.setattr(train_mod, "to_examples", spy)
    app = typer.Typer()
    app.command("train")(train)
    app.command("other")(lambda: None)  # two commands: "train" stays a sub-command
    out = tmp_path / "model"
    args = ["train", "--shared", str(tmp_path / "shared"), "--synth-patients", "1"]
    args += ["--seed", "7", "--out", str(out), "--max-epochs", "2", "--max-minutes", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen and not held & set(seen)  # neither trained nor used as dev
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))["hopia"]
    assert meta["data"]["held_out_notes"] == {"fake_notes": len(held)}
    assert meta["config"]["seed"] == 7 and meta["stopped_by"] in ("max_epochs", "early_stopping")
    assert meta["weights_sha256"] == weights_digest(out)["ner/model"]
    assert {"dev", "trained_at", "spacy", "training_seconds"} <= set(meta)
    text = "Vu avec Lucie Faure ce jour."
    assert_valid(text, PhiModel.load(out).predict([text])[0])
    assert not list(tmp_path.glob(".model.*"))  # no temporary folder left behind


def test_training_is_reproducible(tmp_path: Path) -> None:
    fake_shared(tmp_path / "shared")
    digests = []
    for name in ("a", "b"):
        config = PhiTrainConfig(shared=tmp_path / "shared", synth_patients=0, seed=3, max_epochs=2)
        meta = train_model(tmp_path / name, config)
        digests.append(meta["weights_sha256"])
    assert digests[0] == digests[1]


# -- merge --------------------------------------------------------------------------------------


def test_structural_rules_win_label_conflicts() -> None:
    merged = merge_spans(
        [
            span(0, 15, "SECU"),
            span(0, 18, "TEL", "model"),  # longer, but a model span over a rule's number
            span(20, 34, "TEL"),
            span(20, 34, "DATE", "model"),
            span(40, 50, "DATE", "model"),  # alone: kept
        ]
    )
    assert triples(merged) == [(0, 15, "SECU"), (20, 34, "TEL"), (40, 50, "DATE")]
    assert [s.source for s in merged] == ["rule", "rule", "model"]


def test_model_widens_names_to_the_union() -> None:
    text = "Vu Jean-Marie Le Goff et Martine."
    jean, jean_marie = (3, 7, "PRENOM"), (3, 13, "PRENOM")
    cands = [
        PhiSpan(*jean, text[3:7], "rule"),
        PhiSpan(*jean_marie, text[3:13], "model"),
        PhiSpan(17, 21, "NOM", "Goff", "rule"),
        PhiSpan(14, 21, "NOM", "Le Goff", "model"),
    ]
    merged = merge_spans(cands)
    assert triples(merged) == [(3, 13, "PRENOM"), (14, 21, "NOM")]
    assert [s.text for s in merged] == ["Jean-Marie", "Le Goff"]
    assert all(s.source == "rule" and s.detail == "+model" for s in merged)


def test_model_joins_two_rule_spans_and_keeps_rule_labels() -> None:
    text = "Hôpital Saint Louis Paris"
    cands = [
        PhiSpan(0, 13, "HOPITAL", text[0:13], "rule"),
        PhiSpan(14, 19, "HOPITAL", text[14:19], "gazetteer"),
        PhiSpan(0, 19, "HOPITAL", text[0:19], "model"),
    ]
    assert triples(merge_spans(cands)) == [(0, 19, "HOPITAL")]
    assert merge_spans(cands)[0].text == "Hôpital Saint Louis"
    # another label under a name-like model span: the rule keeps its part, the rest is covered
    cands = [PhiSpan(0, 4, "PRENOM", "Jean", "rule"), PhiSpan(0, 11, "NOM", "Jean Dupont", "model")]
    got = [(s.text, s.label) for s in merge_spans(cands)]
    assert got == [("Jean", "PRENOM"), ("Dupont", "NOM")]


def test_use_model_false_is_the_rule_pseudonymiser(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*_a: object, **_k: object) -> PhiModel:
        raise AssertionError("model loaded")

    monkeypatch.setattr(PhiModel, "load", no_model)
    text = "Vu M. Jean DUPONT le 12/03/2024, appel de gilbert marchand au 06 12 34 56 78."
    rules = Pseudonymiser(SECRET, use_model=False)
    assert rules.detect(text) == merge_spans(detect_rules(text))
    Pseudonymiser(SECRET)  # the hybrid loads its model lazily, not when built
    with pytest.raises(AssertionError, match="model loaded"):
        Pseudonymiser(SECRET).detect(text)


def test_hybrid_finds_more_and_stays_non_overlapping() -> None:
    # a patient banner: the rules read the two long numbers as identifiers without knowing
    # which is which; the model adds a visitor whose first name no list knows (the rules read
    # "Dr A Belmont", a bare initial, since issue 11)
    text = (
        "Dossier de Renaud Paul | M | 12/04/1961 | 8054692357 | 1029487540\n"
        "vu avec Amy LEBRUN et Sandalio DIEGO ce jour"
    )
    rules = Pseudonymiser(SECRET, use_model=False).detect(text)
    assert {("8054692357", "IPP"), ("1029487540", "IPP")} <= {(s.text, s.label) for s in rules}
    hybrid = Pseudonymiser(SECRET).detect(text)
    assert_valid(text, hybrid)
    added = {(s.text, s.label) for s in hybrid} - {(s.text, s.label) for s in rules}
    assert added == {("Sandalio", "PRENOM"), ("DIEGO", "NOM")}
    # what the rules found is still there, with the same label
    assert {(s.start, s.label) for s in rules} <= {(s.start, s.label) for s in hybrid}


# -- focus: the model on unexplained lines only --------------------------------------------------


def test_focus_sends_only_lines_with_unread_names_or_codes() -> None:
    from hopia.data.pseudo.focus import unexplained_regions

    lines = [
        "Hémoglobine : 13,2 g/dL\n",  # an analyte and a value: nothing for the model
        "Patient revu ce jour, bonne évolution.\n",  # common words ("Patient" is a rare name)
        # a capitalised word no list knows ("vu avec Kerdrévanec" is the rules' now)
        "Appel de Kerdrévanec ce matin.\n",
        "Réf. X4512876 transmise\n",  # a code no rule read
        "Bilan : pas de fièvre.\n",  # a surname that is a common word, opening the line
    ]
    text = "".join(lines)
    starts = [sum(len(x) for x in lines[:i]) for i in range(len(lines) + 1)]
    assert unexplained_regions(text) == [(starts[2], starts[4])]  # lines 3-4, one region
    assert unexplained_regions("") == []


@pytest.mark.parametrize(
    "line",
    [
        "transmis par kerdrevanic ce matin",  # a word no list knows, in lower case
        "Pierre est venu ce matin",  # a frequent first name, even opening a sentence
        "revu avec Mme Blanc",  # a name that is a common word, inside a sentence
        "admis à l'Hôpital Nord",  # a capitalised word that is not a medical word
        "né le deux janvier mille neuf cent",  # a date in words: its month
        "joignable au O1.42.15.23.35",  # digit groups (a letter O for a zero)
        "suivi par le Dr J-M. dans le service",  # initials
    ],
)
def test_focus_sends_names_places_dates_and_numbers_whatever_their_case(line: str) -> None:
    """Without the rules (``rule_spans=[]``), each of these lines needs the model."""
    from hopia.data.pseudo.focus import unexplained_regions

    assert unexplained_regions(line, rule_spans=[]) == [(0, len(line))]


@pytest.mark.parametrize(
    "line",
    [
        "patient revu ce jour, bonne évolution sous traitement",
        "Pas de fièvre, pas de toux.",
        "Conclusion : insuffisance cardiaque aiguë",
        "hémoglobine à 13 g/dL, tension normale",
    ],
)
def test_focus_skips_lines_of_common_and_medical_words(line: str) -> None:
    from hopia.data.pseudo.focus import unexplained_regions

    assert unexplained_regions(line, rule_spans=[]) == []


def test_the_focus_lexicon_holds_no_unambiguous_name() -> None:
    """The lexicon is built from general sources minus the gazetteers' names; a name that is
    not also a common word never explains a line."""
    from hopia.data.pseudo.gazetteer import AMBIGUOUS, load
    from hopia.data.pseudo.lexicon import common_words

    g = load()
    words = common_words()
    assert len(words) > 100_000
    names = [
        w
        for w in words
        if any(
            c is not None and not c & AMBIGUOUS for c in (g.first_names.get(w), g.surnames.get(w))
        )
    ]
    assert names == []
    assert {"dupont", "martin", "nathalie"}.isdisjoint(words)
    assert {"matin", "domicile", "hospitalisation", "examinait"} <= set(words)


def test_focus_with_the_rules_given_equals_focus_with_the_rules_run() -> None:
    from hopia.data.pseudo.focus import unexplained_regions
    from hopia.data.pseudo.rules import detect_rules

    text = "Vu le 12/03/2024 par M. Jean DUPONT.\nPas de fièvre.\nTél 06 12 34 56 78\n"
    assert unexplained_regions(text, rule_spans=detect_rules(text)) == unexplained_regions(text)


def test_focused_model_spans_keep_offsets_into_the_text() -> None:
    text = "Créatinine : 85 µmol/L\nRevu avec sa fille Nathalie Roussel.\n"
    model = PhiModel.load()
    focused = model.predict([text], focus=True)[0]
    assert_valid(text, focused)
    assert {s.text for s in focused} <= {s.text for s in model.predict([text])[0]}
