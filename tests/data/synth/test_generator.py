"""Patients, visits and documents: volume, consistency, identities, determinism."""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date
from functools import lru_cache

import pytest

from hopia.data.records import PatientIdentity
from hopia.data.synth import SynthCorpus, generate, generator
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


# -- readmissions -------------------------------------------------------------------------------

READMISSION_PATIENTS = 400


@lru_cache(maxsize=1)
def _stays_corpus() -> SynthCorpus:
    return generate(READMISSION_PATIENTS, 11)


def _inpatient_stays(c: SynthCorpus) -> list[tuple[str, date, date, bool]]:
    """(patient, admission, discharge, readmitted) of each stay with a discharge summary, from
    the documents' stay fields, the way ``hopia predict`` labels them: the patient's next such
    stay starts 1 to 30 days after discharge."""
    by_nda: dict[tuple[str, str], tuple[date, date, set[str]]] = {}
    for d in _all_docs(c):
        assert d.nda and d.visit_start and d.visit_end and d.visit_start <= d.visit_end
        start, end, types = by_nda.setdefault(
            (d.patient_id, d.nda), (d.visit_start, d.visit_end, set())
        )
        assert (start, end) == (d.visit_start, d.visit_end)  # one stay, one set of dates
        types.add(d.type)
    stays = sorted((p, s, e) for (p, _), (s, e, types) in by_nda.items() if "CRH" in types)
    out = []
    for i, (patient, start, end) in enumerate(stays):
        nxt = stays[i + 1] if i + 1 < len(stays) and stays[i + 1][0] == patient else None
        readmitted = nxt is not None and 1 <= (nxt[1] - end).days <= 30
        out.append((patient, start, end, readmitted))
    return out


def test_readmission_rate_in_band() -> None:
    stays = _inpatient_stays(_stays_corpus())
    rate = sum(r for *_, r in stays) / len(stays)
    assert len(stays) > 300
    assert 0.10 <= rate <= 0.22, rate


def test_readmission_depends_on_the_patient() -> None:
    """Old patients with heart failure, COPD, kidney disease or cancer come back far more often
    than young ones with none of them (a flat rate would fail this)."""
    c = _stays_corpus()
    patients = {p.ipp: p for p in c.patients}
    heavy = {"ic", "bpco", "irc", "irct"}
    high, low = [], []
    for patient, start, _end, readmitted in _inpatient_stays(c):
        p = patients[patient]
        burden = heavy & set(p.conditions) or any(k.startswith("k_") for k in p.conditions)
        if burden and p.age_at(start) >= 70:
            high.append(readmitted)
        elif not burden and p.age_at(start) < 60:
            low.append(readmitted)
    assert len(high) >= 60 and len(low) >= 60, (len(high), len(low))
    high_rate, low_rate = sum(high) / len(high), sum(low) / len(low)
    assert high_rate >= 2 * low_rate and high_rate - low_rate >= 0.1, (high_rate, low_rate)


def test_readmission_stays_are_medical_and_related() -> None:
    """A readmission is a medical stay (no operative report), in a service that treats one of
    the patient's conditions or the same service, often through the emergency department."""
    c = _stays_corpus()
    docs_by_stay: dict[tuple[str, str], list] = {}
    for d in _all_docs(c):
        docs_by_stay.setdefault((d.patient_id, d.nda), []).append(d)
    stays = sorted(
        ((docs[0].visit_start, key, docs) for key, docs in docs_by_stay.items()),
        key=lambda s: (s[1][0], s[0]),
    )
    readmissions = via_er = 0
    for (_, (pa, _), docs_a), (start_b, (pb, _), docs_b) in zip(stays, stays[1:], strict=False):
        inpatient = {"CRH"} <= {d.type for d in docs_a} and {"CRH"} <= {d.type for d in docs_b}
        if pa != pb or not inpatient or not 1 <= (start_b - docs_a[0].visit_end).days <= 30:
            continue
        readmissions += 1
        assert "CRO" not in {d.type for d in docs_b}
        via_er += "urgences" in {d.type for d in docs_b}
    assert readmissions >= 30
    assert 0.4 <= via_er / readmissions <= 0.9


def test_patients_never_readmitted_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readmissions are drawn from a stream of their own: a patient without one gets the same
    documents as when no one is ever readmitted."""
    with_readmissions = generate(40, 21)
    monkeypatch.setattr(generator, "readmission_probability", lambda *_: 0.0)
    without = generate(40, 21)

    def stays_and_texts(c: SynthCorpus) -> dict[str, tuple[int, list[str]]]:
        docs: dict[str, list] = {}
        for d in sorted(_all_docs(c), key=lambda d: d.id):
            docs.setdefault(d.patient_id, []).append(d)
        return {p: (len({d.nda for d in ds}), [d.text for d in ds]) for p, ds in docs.items()}

    a, b = stays_and_texts(with_readmissions), stays_and_texts(without)
    assert a.keys() == b.keys()
    same = [p for p in a if a[p][0] == b[p][0]]
    assert len(same) < len(a)  # some were readmitted
    assert len(same) >= len(a) // 2
    for p in same:
        assert a[p] == b[p], p
    for p in a.keys() - set(same):
        assert a[p][0] > b[p][0]  # readmissions add stays, never remove one
