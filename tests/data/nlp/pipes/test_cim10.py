"""hopia.cim10: CIM-10 labels with normalised matching, explicit codes in a coding context, and
the compiled-lexicon disk cache (rebuilt when a source changes, reused otherwise, a corrupted
file rebuilt). Sentences are fictitious."""

from __future__ import annotations

import gzip
import pickle
import shutil
from pathlib import Path

import edsnlp
import pytest

from hopia.data.nlp.pipeline import use_cache_dir
from hopia.data.nlp.pipes import _lexicon
from hopia.data.nlp.pipes.cim10 import Cim10Matcher, patterns
from hopia.platform.config import get_settings


@pytest.fixture(scope="module")
def nlp() -> edsnlp.Pipeline:
    nlp = edsnlp.blank("eds")
    nlp.add_pipe("eds.sentences")
    nlp.add_pipe("eds.normalizer")
    nlp.add_pipe("hopia.cim10", name="cim10", config={"span_setter": {"cim10": True}})
    use_cache_dir(nlp, get_settings().cache_dir)  # the compiled tables of the shared cache
    return nlp


def found(nlp: edsnlp.Pipeline, text: str) -> list[tuple[str, str]]:
    doc = nlp(text)
    for span in doc.spans["cim10"]:
        assert span.label_ == "cim10"
        assert span._.category == "DISO"
        assert span._.attributes["code"] == span.kb_id_
    return [(s.text, s.kb_id_) for s in doc.spans["cim10"]]


# --- codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "TA à 150/90 mmHg.",
        "Taille 1m75, poids 80 kg.",
        "MMSE à 22/30.",
        "Arrivée aux urgences à 06h37.",
        "Score A22 sans signification.",  # a code shape, no coding context
        "Traitement : E11.9 mentionné sans contexte.",
    ],
)
def test_code_like_strings_outside_a_coding_context_give_no_code(nlp, text: str) -> None:
    assert found(nlp, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pneumopathie à SARS-CoV-2 (U07.1).", [("U07.1", "U071")]),
        ("CIM-10 : I10", [("I10", "I10")]),
        (
            "Codes : I50.0, E11.9 et N18.3.",
            [("I50.0", "I500"), ("E11.9", "E119"), ("N18.3", "N183")],
        ),
        ("DP : J18.9", [("J18.9", "J189")]),
        ("diagnostic principal K85", [("K85", "K85")]),
    ],
)
def test_explicit_codes_are_kept(nlp, text: str, expected: list[tuple[str, str]]) -> None:
    codes = [(t, c) for t, c in found(nlp, text) if t[0].isupper() and t[1].isdigit()]
    assert codes == expected


def test_a_code_that_is_not_in_cim10_is_not_a_mention(nlp) -> None:
    rows = patterns.read_rows()
    assert "A005" not in {r["code"] for r in rows}
    assert found(nlp, "Code (A00.5)") == []


# --- labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Insuffisance cardiaque congestive.",
        "insuffisance cardiaque congestive",
        "INSUFFISANCE CARDIAQUE CONGESTIVE",
        "Insuffisances cardiaques congestives.",  # plural
        "Insuffisance cardiaque  congestive.",  # spacing
    ],
)
def test_label_variants(nlp, text: str) -> None:
    assert [c for _, c in found(nlp, text)] == ["I500"]


@pytest.mark.parametrize(
    ("text", "mention", "code"),
    [
        ("Fievre typhoide en 1998.", "Fievre typhoide", "A010"),  # accents folded
        ("Tumeurs malignes de prostate.", "Tumeurs malignes de prostate", "C61"),  # "de la"
        ("État de stress post traumatique.", "État de stress post traumatique", "F431"),  # hyphen
        ("Hypertension essentielle.", "Hypertension essentielle", "I10"),  # "(primitive)" dropped
        ("Toux depuis 3 jours.", "Toux", "R05"),
        ("Insuffisance cardiaque.", "Insuffisance cardiaque", "I50"),  # category over ", SAI"
    ],
)
def test_labels(nlp, text: str, mention: str, code: str) -> None:
    assert found(nlp, text) == [(mention, code)]


def test_longest_label_wins_and_offsets_match_the_text(nlp) -> None:
    text = "Pas d'insuffisance cardiaque congestive. Diabète sucré de type 2, toux."
    doc = nlp(text)
    spans = [(s.start_char, s.end_char, s.kb_id_) for s in doc.spans["cim10"]]
    assert [text[a:b] for a, b, _ in spans] == [
        "insuffisance cardiaque congestive",
        "Diabète sucré de type 2",
        "toux",
    ]
    assert [c for *_, c in spans] == ["I500", "E11", "R05"]


def test_common_words_are_not_diagnoses(nlp) -> None:
    assert found(nlp, "Suivi en consultation, conseil diététique, autres examens.") == []


def test_a_label_ending_on_a_letter_is_not_its_bare_word(nlp) -> None:
    # "Hépatite A" would have the key of "hépatite" ("a" is skipped as the preposition "à"):
    # every hepatitis was coded B15.9, hepatitis A
    assert found(nlp, "Hépatite en 2012.") == []
    assert found(nlp, "Hépatite B ancienne.") == [("Hépatite B", "B169")]
    words = _lexicon._tokenizer()
    assert _lexicon.ends_on_skip_word(words("carence en vitamine A"))
    assert not _lexicon.ends_on_skip_word(words("hépatite C"))


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Mise en isolement contact pour BMR.", True),
        ("Isolement gouttelettes jusqu'au résultat de la PCR grippe.", True),
        ("Isolement social, vit seule depuis le décès de son mari.", False),
        ("Patient placé en chambre d'isolement pour agitation.", False),
        ("Isolement.", False),
    ],
)
def test_isolation_is_a_code_only_as_a_care_measure(nlp, text: str, kept: bool) -> None:
    # Z29.0 is a prophylactic isolation, not social isolation nor psychiatric seclusion
    assert ("Z290" in {code for _, code in found(nlp, text)}) is kept, found(nlp, text)


def test_component_pickles_small_and_reloads_its_table(nlp) -> None:
    pipe = nlp.get_pipe("cim10")
    data = pickle.dumps(pipe)
    assert len(data) < 2_000  # the 40k-term table is not in the pipeline pickle
    clone = pickle.loads(data)
    assert clone._lexicon is None
    doc = nlp.make_doc("Insuffisance cardiaque congestive (I50.0).")
    assert [s.kb_id_ for s in clone(doc).spans["cim10"]] == ["I500", "I500"]


# --- compiled cache ----------------------------------------------------------------------


def test_real_table_cached_on_disk_and_reused(tmp_path: Path, monkeypatch) -> None:
    _lexicon.clear_memo()
    first = Cim10Matcher(cache_dir=str(tmp_path))
    assert len(first.lexicon.extra["codes"]) > 40_000
    files = list((tmp_path / "nlp").glob("lexicon-cim10-*.pkl"))
    assert len(files) == 1
    _lexicon.clear_memo()

    def no_build(self):
        raise AssertionError("the cached table should have been loaded")

    monkeypatch.setattr(Cim10Matcher, "build_lexicon", no_build)
    second = Cim10Matcher(cache_dir=str(tmp_path))
    assert second.lexicon.index == first.lexicon.index
    _lexicon.clear_memo()


def test_changed_source_rebuilds_the_table(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "cim10.csv.gz"
    shutil.copy(patterns.CIM10_FILE, source)
    monkeypatch.setattr(patterns, "CIM10_FILE", source)
    _lexicon.clear_memo()
    cache = tmp_path / "cache"
    before = Cim10Matcher(cache_dir=str(cache)).lexicon
    assert "Z9999" not in before.extra["codes"]
    with gzip.open(source, "at", encoding="utf-8") as fh:
        fh.write("Z9999,0,NOOO,0,MALADIE IMAGINAIRE,Maladie imaginaire de Hopia\n")
    _lexicon.clear_memo()
    matcher = Cim10Matcher(cache_dir=str(cache))
    nlp = edsnlp.blank("eds")
    doc = matcher(nlp.make_doc("Maladies imaginaires de Hopia (Z99.99)."))
    assert [s.kb_id_ for s in doc.spans["cim10"]] == ["Z9999", "Z9999"]
    # the stale file is pruned: one compiled table per source state
    assert len(list((cache / "nlp").glob("lexicon-cim10-*.pkl"))) == 1
    _lexicon.clear_memo()


# The generic machinery on a tiny lexicon: fast, and the build calls can be counted.


def _tiny(tmp_path: Path, calls: list[int]):
    source = tmp_path / "terms.txt"
    if not source.exists():
        source.write_text("insuffisance cardiaque\n", encoding="utf-8")

    def build() -> _lexicon.Lexicon:
        calls.append(1)
        terms = source.read_text(encoding="utf-8").split("\n")
        return _lexicon.Lexicon.compile((t, (t,)) for t in terms if t)

    def load() -> _lexicon.Lexicon:
        _lexicon.clear_memo()
        return _lexicon.load_lexicon("tiny", [source], build, tmp_path / "cache")

    return source, load


def test_cache_reused_when_sources_are_unchanged(tmp_path: Path) -> None:
    calls: list[int] = []
    _, load = _tiny(tmp_path, calls)
    load()
    load()
    assert len(calls) == 1


def test_cache_rebuilt_when_a_source_changes(tmp_path: Path) -> None:
    calls: list[int] = []
    source, load = _tiny(tmp_path, calls)
    assert load().find_text("une embolie pulmonaire") == []
    source.write_text("embolie pulmonaire\n", encoding="utf-8")
    assert load().find_text("une embolie pulmonaire") == [(4, 22, 0)]
    assert len(calls) == 2
    assert len(list((tmp_path / "cache" / "nlp").glob("lexicon-tiny-*.pkl"))) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",  # truncated to nothing
        b"\x80\x05garbage",  # not a pickle
        pickle.dumps({"not": "a lexicon"}),  # wrong shape
        pickle.dumps(Path("/etc")),  # refers to a class: refused, never instantiated
    ],
)
def test_corrupted_cache_file_is_rebuilt_not_fatal(tmp_path: Path, content: bytes, caplog) -> None:
    calls: list[int] = []
    _, load = _tiny(tmp_path, calls)
    load()
    (cached,) = (tmp_path / "cache" / "nlp").glob("lexicon-tiny-*.pkl")
    cached.write_bytes(content)
    lexicon = load()
    assert len(calls) == 2
    assert lexicon.find_text("insuffisance cardiaque") == [(0, 22, 0)]
    assert "illisible" in caplog.text
    load()  # the rewritten file is valid again
    assert len(calls) == 2
