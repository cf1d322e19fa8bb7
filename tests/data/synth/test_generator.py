"""Patients, visits and documents: volume, consistency, identities, determinism."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date
from functools import lru_cache

import pytest

from hopia.data.ingest._base import PatientIdentity
from hopia.data.synth import SynthCorpus, generate
from hopia.data.synth.identity import format_nir, make_nir, nir_key

N_PATIENTS = 20


@lru_cache(maxsize=4)
def corpus(seed: int = 42) -> SynthCorpus:
    return generate(N_PATIENTS, seed)


def _all_docs(c: SynthCorpus):
    return [*c.documents, *(r.document for r in c.renditions)]


def _fold(text: str) -> str:
    """Lower case without accents, one character for one (offsets stay valid)."""
    return "".join(unicodedata.normalize("NFKD", ch)[:1] for ch in text).lower()


def test_volume_and_shape() -> None:
    c = corpus()
    docs = _all_docs(c)
    assert len(c.patients) == N_PATIENTS
    assert 5.0 <= len(docs) / N_PATIENTS <= 9.0  # about 6-7 per patient
    assert {d.type for d in docs} <= {
        "CRH",
        "consultation",
        "CRO",
        "ordonnance",
        "biologie",
        "urgences",
    }
    assert len({d.id for d in docs}) == len(docs)
    mean = sum(len(d.text) for d in docs) / len(docs)
    assert 1200 <= mean <= 2800
    ipps = {p.ipp for p in c.patients}
    assert len(ipps) == N_PATIENTS and all(d.patient_id in ipps for d in docs)


def test_same_seed_same_corpus_and_prefix_stable() -> None:
    a, b = generate(N_PATIENTS, 7), generate(N_PATIENTS, 7)
    assert [d.text for d in _all_docs(a)] == [d.text for d in _all_docs(b)]
    assert [p.identity() for p in a.patients] == [p.identity() for p in b.patients]
    # Each patient has its own random stream: a smaller corpus is a prefix of a larger one.
    small = generate(5, 7)
    assert [p.identity() for p in small.patients] == [p.identity() for p in a.patients[:5]]


def test_different_seed_different_corpus() -> None:
    assert [d.text for d in corpus(1).documents] != [d.text for d in corpus(2).documents]


def test_global_random_untouched() -> None:
    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate(3, 5)
    assert random.random() == expected


def test_identities_are_patient_identity_compatible() -> None:
    for p in corpus().patients:
        record = p.identity()
        assert list(record) == list(PatientIdentity.__dataclass_fields__)
        identity = PatientIdentity(
            **{**record, "birth_date": date.fromisoformat(record["birth_date"])}
        )
        assert identity.sex in ("M", "F")
        assert re.fullmatch(r"\d{9}", p.ipp)
        assert re.fullmatch(r"\d{5}", p.zip)
        assert re.fullmatch(r"0\d( \d\d){4}", p.phone)
        assert p.email is None or re.fullmatch(r"[a-z0-9.-]+@[a-z0-9.-]+\.[a-z]+", p.email)
        assert p.family_name == p.family_name.upper() and p.family_name.isascii()


def _check_nir(nir: str, sex: str, birth: date) -> None:
    assert len(nir) == 15
    body, key = nir[:13], int(nir[13:])
    digits = body.replace("2A", "19").replace("2B", "18")
    assert digits.isdigit()
    assert key == 97 - int(digits) % 97
    assert body[0] == ("1" if sex == "M" else "2")
    assert body[1:3] == f"{birth.year % 100:02d}" and body[3:5] == f"{birth.month:02d}"


def test_nirs_valid_and_consistent() -> None:
    for p in corpus().patients:
        _check_nir(p.nir, p.sex, p.birth_date)
        expected_dept = (
            "20" if p.birth_dept in ("2A", "2B") and p.birth_date.year < 1976 else p.birth_dept
        )
        assert p.nir[5:7] == expected_dept


@pytest.mark.parametrize(
    ("dept", "year", "shown"), [("2A", 1980, "2A"), ("2B", 1990, "2B"), ("2A", 1950, "20")]
)
def test_corsican_nirs(dept: str, year: int, shown: str) -> None:
    rng = random.Random(0)
    for _ in range(50):
        birth = date(year, rng.randint(1, 12), 15)
        nir = make_nir(rng, "F", birth, dept)
        _check_nir(nir, "F", birth)
        assert nir[5:7] == shown
    assert nir_key("2690275123456") == 97 - 2690275123456 % 97
    assert format_nir("169027512345678") == "1 69 02 75 123 456 78"


def test_patient_names_appear_and_are_annotated() -> None:
    c = corpus()
    by_patient: dict[str, list] = {}
    for d in c.documents:
        by_patient.setdefault(d.patient_id, []).append(d)
    for p in c.patients:
        docs = by_patient.get(p.ipp, [])
        if not docs:
            continue
        family, given = _fold(p.family_name), _fold(p.given_name)
        noms = {
            _fold(d.text[s["start"] : s["end"]]) for d in docs for s in d.phi if s["label"] == "NOM"
        }
        prenoms = {
            _fold(d.text[s["start"] : s["end"]])
            for d in docs
            for s in d.phi
            if s["label"] == "PRENOM"
        }
        assert family in noms, p.family_name
        assert given in prenoms, p.given_name
        for d in docs:  # every occurrence of the birth name is inside a NOM span
            covered = {i for s in d.phi for i in range(s["start"], s["end"])}
            for m in re.finditer(r"(?<!\w)" + re.escape(family) + r"(?!\w)", _fold(d.text)):
                assert set(range(m.start(), m.end())) <= covered, (d.id, m.group())


def test_patients_keep_their_conditions_and_treatments() -> None:
    c = corpus()
    for p in c.patients:
        assert len({d for d, _ in p.treatments}) == len(p.treatments)
    # A chronic drug of a patient is prescribed in several of their documents with one posology.
    postings: dict[tuple[str, str], set[str]] = {}
    for d in c.documents:
        for f in d.facts:
            if f["kind"] == "drug" and f.get("posology"):
                postings.setdefault((d.patient_id, f["code"]), set()).add(
                    f["posology"]["frequency"]
                )
    assert postings and sum(len(v) == 1 for v in postings.values()) / len(postings) > 0.8


def test_services_and_types_cover_the_brief() -> None:
    c = generate(60, 3)
    docs = _all_docs(c)
    assert {d.service for d in docs} == {
        "cardiologie", "oncologie", "pneumologie", "urgences", "nephrologie", "endocrinologie",
        "geriatrie", "chirurgie_digestive",
    }  # fmt: skip
    assert {d.type for d in docs} == {
        "CRH",
        "consultation",
        "CRO",
        "ordonnance",
        "biologie",
        "urgences",
    }
