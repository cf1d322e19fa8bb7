"""PHI model training: augmentation of the synthetic notes (spans stay on their words), the
per-epoch checkpoint and its resumption."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from hopia.data.pseudo.hospitals import table as hospital_table
from hopia.data.pseudo.train import (
    Note,
    PhiTrainConfig,
    augment,
    augment_note,
    checkpoint_path,
    train_model,
)
from hopia.platform.exceptions import ModelError
from hopia.platform.text import fold
from tests.data.pseudo.test_model import fake_shared

TEXT = (
    "Compte rendu rédigé par le Dr Jean DUPONT.\n"
    "Patiente Mme Marie Lefèvre, suivie à l'Hôpital Saint-Roch (Vienne).\n"
    "Contact : jean.dupont@exemple.fr, 01 42 21 32 74, 7 rue des Lilas, le 24/08/2017."
)


def planted() -> Note:
    spans = []
    for piece, label in [
        ("Jean", "PRENOM"),
        ("DUPONT", "NOM"),
        ("Marie", "PRENOM"),
        ("Lefèvre", "NOM"),
        ("Hôpital Saint-Roch", "HOPITAL"),
        ("Vienne", "VILLE"),
        ("jean.dupont@exemple.fr", "MAIL"),
        ("01 42 21 32 74", "TEL"),
        ("7 rue des Lilas", "ADRESSE"),
        ("24/08/2017", "DATE"),
    ]:
        start = TEXT.index(piece)
        spans.append((start, start + len(piece), label))
    return Note("n1", TEXT, tuple(spans), "synth")


ORIGINAL = {(TEXT[s:e].lower(), label) for s, e, label in planted().entities}
_INITIALS = re.compile(r"[JM]\.?")
WORDS = {  # what the augmentation writes in words
    "vingt-quatre août deux mille dix-sept": "24/08/2017",
    "sept rue des Lilas": "7 rue des Lilas",
}


def variants(n: int = 200) -> list[Note]:
    return [augment_note(planted(), random.Random(i)) for i in range(n)]


def test_augmented_spans_stay_on_the_planted_words() -> None:
    for v in variants():
        ents = list(v.entities)
        assert ents == sorted(ents)
        assert all(a[1] <= b[0] for a, b in zip(ents, ents[1:], strict=False))  # no overlap
        for s, e, label in ents:
            piece = v.text[s:e]
            if label == "MAIL":  # blanks around "@", maybe in capitals
                piece = piece.replace(" ", "")
            if label == "TEL":  # a letter O for a zero, or slashes between the pairs
                piece = piece.replace("O", "0").replace("/", " ")
            if label == "PRENOM" and _INITIALS.fullmatch(piece):
                piece = {"j": "jean", "m": "marie"}[piece[0].lower()]
            piece = WORDS.get(piece, piece)
            if label in ("HOPITAL", "VILLE"):  # replaced by another place: whole words only
                assert piece == piece.strip() and piece, (v.text, piece, label)
                assert not v.text[e : e + 1].isalnum() and not v.text[s - 1 : s].isalnum()
                continue
            assert (piece.lower(), label) in ORIGINAL, (v.text, piece, label)
        # every word of the original note that is not a name, a place or a title is still there
        for word in ("Compte", "rendu", "suivie", "Contact"):
            assert word in v.text


def test_augmentation_writes_what_other_hospitals_write() -> None:
    texts = [v.text for v in variants()]
    assert any("jean dupont" in t for t in texts)  # lower case
    assert any("DUPONT jean" in t or "dupont, jean" in t.lower() for t in texts)  # surname first
    assert any("Dr " not in t.split("\n")[0] for t in texts)  # title dropped
    assert any(" @ " in t or "@ " in t for t in texts)  # blanks around "@"
    assert any("JEAN.DUPONT" in t for t in texts)  # e-mail in capitals
    assert any("hôpital saint-roch" in t for t in texts)  # hospital in lower case
    hospitals = {
        v.text[s:e] for v in variants() for s, e, label in v.entities if label == "HOPITAL"
    }
    assert "HSR" in hospitals  # its acronym
    assert any(re.fullmatch(r"[A-Z]{2,4}", h) and h != "HSR" for h in hospitals)  # a site code
    assert any(re.match(r"(?i)(ch|chu|chr|chi) d", h) for h in hospitals)  # "CH de X", "CHU d'Y"
    assert any(
        h.lower().startswith(("hôpital ", "clinique ")) and h != "Hôpital Saint-Roch"
        for h in hospitals
    )  # another place, named after a person or a town
    listed = {fold(f) for forms in hospital_table().values() for f, _ in forms}
    assert any(fold(h).removeprefix("hopital ") in listed for h in hospitals)  # a real one
    towns = {v.text[s:e] for v in variants() for s, e, label in v.entities if label == "VILLE"}
    assert towns & {"Genève", "Bruxelles", "Casablanca", "Londres", "Milan", "Tunis", "Dakar"}
    assert any(t.endswith(("-sur-Loire", "-les-Bains", "-en-Bresse")) for t in towns)  # made up
    assert any(t == t.lower() and t.isalpha() for t in towns)  # lower case
    assert any(t.count("\n") >= 4 for t in texts)  # a signature or list block added
    assert any("J. DUPONT" in t or "DUPONT J" in t for t in texts)  # initials
    assert any("vingt-quatre août deux mille dix-sept" in t for t in texts)  # a date in words
    assert any("sept rue des Lilas" in t for t in texts)  # a house number in words
    assert any("O1 42" in t or "01/42/21/32/74" in t for t in texts)  # phones as typed
    # a first name left alone (no surname right after it)
    assert any(
        any(
            label == "PRENOM"
            and not any(o[2] == "NOM" and 0 <= o[0] - e <= 2 for o in v.entities)
            and not any(o[2] == "NOM" and 0 <= s - o[1] <= 2 for o in v.entities)
            for s, e, label in v.entities
        )
        for v in variants()
    )


def test_augment_is_deterministic_and_respects_the_fraction() -> None:
    notes = [Note(f"n{i}", TEXT, planted().entities, "synth") for i in range(400)]
    a, b = augment(notes, 0.5, seed=3), augment(notes, 0.5, seed=3)
    assert a == b and 150 < len(a) < 250
    assert all(n.note_id.endswith("#aug") for n in a)
    assert augment(notes, 0.0, seed=3) == []


def test_shared_notes_are_augmented_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hopia.data.pseudo import train as T

    seen: list[int] = []  # augmented shared notes handed to each to_examples call
    real = T.to_examples

    def counting(nlp, notes):  # type: ignore[no-untyped-def]
        notes = list(notes)
        seen.append(sum(n.note_id.endswith("#aug") for n in notes if n.source != "synth"))
        return real(nlp, notes)

    monkeypatch.setattr(T, "to_examples", counting)
    fake_shared(tmp_path / "shared")
    for fraction in (0.0, 1.0):
        seen.clear()
        config = PhiTrainConfig(
            shared=tmp_path / "shared", synth_patients=0, max_epochs=1, augment_shared=fraction
        )
        meta = train_model(tmp_path / f"m{fraction}", config)
        assert (seen[1] > 0) is (fraction > 0), seen  # [0]: synth notes, [1]: shared ones
        assert meta["config"]["augment_shared"] == fraction


@pytest.mark.slow
def test_an_interrupted_training_keeps_its_last_epoch_and_resumes(tmp_path: Path) -> None:
    fake_shared(tmp_path / "shared")
    out = tmp_path / "model"
    config = PhiTrainConfig(shared=tmp_path / "shared", synth_patients=0, seed=3, max_epochs=3)

    def stop_after_first_epoch(message: str) -> None:
        if message.startswith("époque 1 "):
            raise KeyboardInterrupt  # as Ctrl-C between two epochs

    with pytest.raises(KeyboardInterrupt):
        train_model(out, config, log=stop_after_first_epoch)
    ckpt = checkpoint_path(out)
    assert ckpt.is_file() and not out.exists()
    assert ckpt.stat().st_mode & 0o077 == 0  # the owner's only

    other = PhiTrainConfig(shared=tmp_path / "shared", synth_patients=0, seed=4, max_epochs=3)
    with pytest.raises(ModelError):
        train_model(out, other, resume=True)

    logged: list[str] = []
    meta = train_model(out, config, log=logged.append, resume=True)
    assert meta["resumed_after_epoch"] == 1 and meta["epochs_run"] == 2
    assert any(m.startswith("reprise après l'époque 1") for m in logged)
    assert (out / "meta.json").is_file() and not ckpt.exists()
