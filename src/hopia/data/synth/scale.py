"""A structured CHU at scale, for cohort benchmarks: 1 M persons make about 50 M rows.

No document text: persons, visits (with care sites), CIM-10 conditions, ATC drug exposures,
LOINC measurements, notes (empty text) and their ``note_nlp`` mentions with qualifiers, so that
a text criterion means something. About 4 % of persons have heart failure: an affirmed mention
of "insuffisance cardiaque" on a date, usually with a loop diuretic and a raised BNP around it;
others get negated, hypothetical, family or history mentions of it, as NLP would find them.

Vectorised with numpy, by chunks of persons, written straight into DuckDB from Arrow tables.
Deterministic for a given ``seed`` and ``chunk``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, func, select

from hopia.platform.exceptions import SynthError
from hopia.platform.warehouse import Warehouse, schema

EPOCH = np.datetime64("2015-01-01", "D")
DAYS = (np.datetime64("2024-12-31", "D") - EPOCH).astype(int)
CONCEPT_START = 2_000_000_001
HF_SHARE = 0.04
FUROSEMIDE, BNP_LOINC, HF_CODE = "C03CA01", "42637-9", "I50.9"

CIM10 = [
    "I10",
    "E11.9",
    "I48.9",
    "J44.9",
    "N18.3",
    "I25.1",
    "E78.0",
    "F32.9",
    "K21.9",
    "M17.9",
    "J18.9",
    "N39.0",
    "I63.9",
    "C50.9",
    "C34.9",
    "E66.9",
    "G30.9",
    "I50.9",
    "I50.0",
    "Z49.1",
    "A41.9",
    "R07.4",
    "S72.0",
    "J45.9",
    "K80.2",
]
ATC = [
    "C09AA05",
    "C07AB07",
    "A10BA02",
    "B01AC06",
    "C10AA05",
    "N02BE01",
    "A02BC01",
    "C03CA01",
    "C03CA02",
    "N05BA01",
    "J01CR02",
    "B01AF01",
    "H03AA01",
    "R03AC02",
]
# LOINC code -> (log-normal median, spread): hemoglobin, creatinine, glucose, potassium…
LOINC = {
    "718-7": (13.5, 0.1),
    "2160-0": (80.0, 0.35),
    "2345-7": (5.5, 0.2),
    "2823-3": (4.2, 0.08),
    "2951-2": (139.0, 0.02),
    "4548-4": (6.0, 0.15),
    "1988-5": (5.0, 1.0),
    "6690-2": (7.5, 0.3),
    "777-3": (250.0, 0.25),
    "42637-9": (60.0, 0.8),
}
CARE_SITES = [
    "Cardiologie",
    "Néphrologie",
    "Pneumologie",
    "Endocrinologie",
    "Urgences",
    "Médecine interne",
    "Gériatrie",
    "Neurologie",
    "Oncologie",
    "Chirurgie digestive",
]
LOINC_NAMES = {
    "718-7": "Hémoglobine",
    "2160-0": "Créatinine",
    "2345-7": "Glucose",
    "2823-3": "Potassium",
    "2951-2": "Sodium",
    "4548-4": "HbA1c",
    "1988-5": "Protéine C réactive",
    "6690-2": "Leucocytes",
    "777-3": "Plaquettes",
    "42637-9": "BNP",
}
# Mention terms with their CIM-10 / ATC code (None: uncoded).
TERMS = [
    ("insuffisance cardiaque", "I50.9"),
    ("diabète de type 2", "E11.9"),
    ("hypertension artérielle", "I10"),
    ("fibrillation auriculaire", "I48.9"),
    ("BPCO", "J44.9"),
    ("insuffisance rénale chronique", "N18.3"),
    ("pneumopathie", "J18.9"),
    ("furosémide", "C03CA01"),
    ("metformine", "A10BA02"),
    ("dyspnée", None),
    ("douleur thoracique", "R07.4"),
    ("œdèmes des membres inférieurs", None),
]
# How often each term is mentioned (heart failure stays rare outside its patients).
TERM_WEIGHTS = [0.01, 0.2, 0.25, 0.08, 0.06, 0.05, 0.08, 0.04, 0.06, 0.1, 0.05, 0.02]
# Qualifiers as NLP writes them, with their share among mentions.
QUALIFIERS = [
    ({}, 0.75),
    ({"negation": True}, 0.10),
    ({"hypothesis": True}, 0.05),
    ({"family": True}, 0.03),
    ({"history": True}, 0.07),
]


@dataclass
class ScaleReport:
    persons: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _zipf(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** 1.1
    return rng.choice(size, n, p=weights / weights.sum())


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(EPOCH + np.clip(days, 0, DAYS).astype("timedelta64[D]"), type=pa.date32())


def _dictionary(indices: np.ndarray, values: list[str | None]) -> pa.Array:
    """A string column from small-vocabulary indices (no Python string per row)."""
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))


def _insert(conn: Connection, table: str, arrow: pa.Table) -> int:
    raw = conn.connection.driver_connection
    raw.execute("SELECT 1").fetchall()  # clear any pending result before register()
    raw.execute("SET enable_progress_bar = false")
    view = f"_hopia_scale_{table}"
    raw.register(view, arrow)
    try:
        columns = ", ".join(f'"{c}"' for c in arrow.column_names)
        raw.execute(f'INSERT INTO omop."{table}" ({columns}) SELECT {columns} FROM {view}')
    finally:
        raw.unregister(view)
    return arrow.num_rows


class _Vocabulary:
    """Local concepts for every code used, and their ids."""

    def __init__(self) -> None:
        codes = [("CIM10", c) for c in CIM10] + [("ATC", c) for c in ATC]
        codes += [("LOINC", c) for c in LOINC]
        self.ids = {key: CONCEPT_START + i for i, key in enumerate(codes)}
        self.cim10 = np.array([self.ids["CIM10", c] for c in CIM10], dtype=np.int64)
        self.atc = np.array([self.ids["ATC", c] for c in ATC], dtype=np.int64)
        self.loinc = np.array([self.ids["LOINC", c] for c in LOINC], dtype=np.int64)

    def concept_table(self) -> pa.Table:
        from hopia.data.omop.concepts import concept_name

        domains = {"CIM10": "Condition", "ATC": "Drug", "LOINC": "Measurement"}
        keys = list(self.ids)
        names = [
            LOINC_NAMES[code] if vocabulary == "LOINC" else concept_name(vocabulary, code)
            for vocabulary, code in keys
        ]
        return pa.table(
            {
                "concept_id": [self.ids[k] for k in keys],
                "concept_name": names,
                "domain_id": [domains[v] for v, _ in keys],
                "vocabulary_id": [v for v, _ in keys],
                "concept_class_id": [v for v, _ in keys],
                "concept_code": [code for _, code in keys],
                "valid_start_date": pa.array([date(1970, 1, 1)] * len(keys), pa.date32()),
                "valid_end_date": pa.array([date(2099, 12, 31)] * len(keys), pa.date32()),
            }
        )

    def term_concept(self, code: str | None) -> int:
        if code is None:
            return 0
        return self.ids[("ATC" if code in ATC else "CIM10", code)]


def _mentions(vocab: _Vocabulary) -> tuple[list[str], list[str], list[str], list[str], np.ndarray]:
    """Every (term, qualifier) pair: lexical variant, term_exists, term_temporal, modifiers,
    concept id; the pair index is what a mention row draws."""
    variants, exists, temporal, modifiers, concepts = [], [], [], [], []
    for term, code in TERMS:
        for flags, _ in QUALIFIERS:
            fact = not (flags.get("negation") or flags.get("hypothesis") or flags.get("family"))
            variants.append(term)
            exists.append("Y" if fact else "N")
            temporal.append("history" if flags.get("history") else "present")
            values = {
                "label": "cim10" if code else "term",
                "negation": False,
                "hypothesis": False,
                "family": False,
                "history": False,
                "codes": {"cim10": code} if code else {},
            } | flags
            modifiers.append(json.dumps(values, ensure_ascii=False))
            concepts.append(vocab.term_concept(code))
    return variants, exists, temporal, modifiers, np.array(concepts, dtype=np.int64)


def _chunk(
    rng: np.random.Generator, vocab: _Vocabulary, first: int, n: int, ids: dict[str, int]
) -> dict[str, pa.Table]:
    """Tables for persons ``first .. first + n - 1``; ``ids`` holds the next id per table."""
    pid = np.arange(first, first + n, dtype=np.int64)
    male = rng.random(n) < 0.48
    born = rng.integers(1925, 2024, n)
    heart = (rng.random(n) < HF_SHARE) & (born < 1990)
    hf_day = rng.integers(0, DAYS, n)
    tables: dict[str, pa.Table] = {}

    def take(name: str, count: int) -> np.ndarray:
        start = ids[name]
        ids[name] += count
        return np.arange(start, start + count, dtype=np.int64)

    tables["person"] = pa.table(
        {
            "person_id": pid,
            "gender_concept_id": np.where(male, 8507, 8532),
            "year_of_birth": born,
            "month_of_birth": rng.integers(1, 13, n),
            "race_concept_id": np.zeros(n, np.int64),
            "ethnicity_concept_id": np.zeros(n, np.int64),
        }
    )

    v_person = np.repeat(pid, rng.poisson(8, n))
    kind = rng.choice(np.array([9201, 9202, 9203]), len(v_person), p=[0.2, 0.7, 0.1])
    v_day = _dates(rng.integers(0, DAYS, len(v_person)))
    tables["visit_occurrence"] = pa.table(
        {
            "visit_occurrence_id": take("visit_occurrence", len(v_person)),
            "person_id": v_person,
            "visit_concept_id": kind,
            "visit_start_date": v_day,
            "visit_end_date": v_day,
            "visit_type_concept_id": np.full(len(v_person), 32817),
            "care_site_id": rng.integers(1, len(CARE_SITES) + 1, len(v_person)),
        }
    )

    # Conditions: Zipf over the codes, plus I50.9 on each heart-failure patient's date.
    c_person = np.repeat(pid, rng.poisson(10, n))
    c_concept = vocab.cim10[_zipf(rng, len(c_person), len(CIM10))]
    c_days = rng.integers(0, DAYS, len(c_person))
    hf_person = pid[heart]
    c_person = np.concatenate([c_person, hf_person])
    c_concept = np.concatenate([c_concept, np.full(len(hf_person), vocab.ids["CIM10", HF_CODE])])
    c_day = _dates(np.concatenate([c_days, hf_day[heart]]))
    tables["condition_occurrence"] = pa.table(
        {
            "condition_occurrence_id": take("condition_occurrence", len(c_person)),
            "person_id": c_person,
            "condition_concept_id": c_concept,
            "condition_start_date": c_day,
            "condition_type_concept_id": np.full(len(c_person), 32817),
            "condition_source_concept_id": c_concept,
        }
    )

    # Drugs: background, plus furosemide around the heart-failure date for 80 % of them.
    d_person = np.repeat(pid, rng.poisson(12, n))
    d_concept = vocab.atc[_zipf(rng, len(d_person), len(ATC))]
    d_days = rng.integers(0, DAYS, len(d_person))
    treated = heart & (rng.random(n) < 0.8)
    d_person = np.concatenate([d_person, pid[treated]])
    d_concept = np.concatenate(
        [d_concept, np.full(int(treated.sum()), vocab.ids["ATC", FUROSEMIDE])]
    )
    d_day = _dates(
        np.concatenate([d_days, hf_day[treated] + rng.integers(-30, 60, int(treated.sum()))])
    )
    tables["drug_exposure"] = pa.table(
        {
            "drug_exposure_id": take("drug_exposure", len(d_person)),
            "person_id": d_person,
            "drug_concept_id": d_concept,
            "drug_exposure_start_date": d_day,
            "drug_exposure_end_date": d_day,
            "drug_type_concept_id": np.full(len(d_person), 32817),
            "drug_source_concept_id": d_concept,
        }
    )

    # Measurements: log-normal values around each analyte's median; raised BNP near the
    # heart-failure date for 85 % of those patients.
    m_person = np.repeat(pid, rng.poisson(14, n))
    analyte = rng.integers(0, len(LOINC), len(m_person))
    medians = np.array([m for m, _ in LOINC.values()])
    spreads = np.array([s for _, s in LOINC.values()])
    m_value = np.round(
        medians[analyte] * np.exp(rng.normal(0, 1, len(m_person)) * spreads[analyte]), 2
    )
    m_days = rng.integers(0, DAYS, len(m_person))
    tested = heart & (rng.random(n) < 0.85)
    k = int(tested.sum())
    bnp = list(LOINC).index(BNP_LOINC)
    m_person = np.concatenate([m_person, pid[tested]])
    analyte = np.concatenate([analyte, np.full(k, bnp)])
    m_value = np.concatenate([m_value, np.round(np.exp(rng.normal(np.log(900), 0.7, k)), 1)])
    m_day = _dates(np.concatenate([m_days, hf_day[tested] + rng.integers(-10, 10, k)]))
    tables["measurement"] = pa.table(
        {
            "measurement_id": take("measurement", len(m_person)),
            "person_id": m_person,
            "measurement_concept_id": vocab.loinc[analyte],
            "measurement_date": m_day,
            "measurement_type_concept_id": np.full(len(m_person), 32817),
            "value_as_number": m_value,
            "measurement_source_value": _dictionary(analyte, list(LOINC)),
        }
    )

    # Notes and mentions: background mentions with NLP's qualifier mix; each heart-failure
    # patient gets one more note with the affirmed mention on the date.
    n_person = np.repeat(pid, rng.poisson(3, n))
    n_person = np.concatenate([n_person, hf_person])
    n_day_raw = np.concatenate(
        [rng.integers(0, DAYS, len(n_person) - len(hf_person)), hf_day[heart]]
    )
    note_id = take("note", len(n_person))
    tables["note"] = pa.table(
        {
            "note_id": note_id,
            "person_id": n_person,
            "note_date": _dates(n_day_raw),
            "note_type_concept_id": np.full(len(n_person), 32817),
            "note_class_concept_id": np.zeros(len(n_person), np.int64),
            "note_text": _dictionary(np.zeros(len(n_person), np.int64), [""]),
            "encoding_concept_id": np.zeros(len(n_person), np.int64),
            "language_concept_id": np.zeros(len(n_person), np.int64),
        }
    )
    variants, exists, temporal, modifiers, concepts = _mentions(vocab)
    background = len(n_person) - len(hf_person)
    per_note = rng.poisson(2, background)
    nlp_note = np.concatenate([np.repeat(note_id[:background], per_note), note_id[background:]])
    shares = np.array([s for _, s in QUALIFIERS])
    weights = np.array(TERM_WEIGHTS)
    term = rng.choice(len(TERMS), int(per_note.sum()), p=weights / weights.sum())
    qualifier = rng.choice(len(QUALIFIERS), len(term), p=shares / shares.sum())
    pair = np.concatenate([term * len(QUALIFIERS) + qualifier, np.zeros(len(hf_person), int)])
    tables["note_nlp"] = pa.table(
        {
            "note_nlp_id": take("note_nlp", len(nlp_note)),
            "note_id": nlp_note,
            "section_concept_id": np.zeros(len(nlp_note), np.int64),
            "lexical_variant": _dictionary(pair, variants),
            "note_nlp_concept_id": concepts[pair],
            "nlp_system": _dictionary(np.zeros(len(nlp_note), np.int64), ["hopia-scale"]),
            "nlp_date": _dates(np.full(len(nlp_note), DAYS)),
            "term_exists": _dictionary(pair, exists),
            "term_temporal": _dictionary(pair, temporal),
            "term_modifiers": _dictionary(pair, modifiers),
        }
    )
    return tables


TABLES = (
    "visit_occurrence",
    "condition_occurrence",
    "drug_exposure",
    "measurement",
    "note",
    "note_nlp",
)


def scale_tables(
    persons: int, seed: int = 0, chunk: int = 100_000
) -> Iterator[tuple[str, pa.Table]]:
    """The warehouse's rows as Arrow tables, ``(table name, rows)``: the vocabulary and the
    care sites first, then each chunk of persons, table by table. Any writer (DuckDB here,
    PostgreSQL's COPY in ``bench/scale_pg.py``) gets the same rows for the same seed."""
    if persons < 1:
        raise SynthError("nombre de personnes invalide (au moins 1)")
    vocab = _Vocabulary()
    rng = np.random.default_rng(seed)
    ids = dict.fromkeys(TABLES, 1)
    yield "concept", vocab.concept_table()
    yield (
        "care_site",
        pa.table({"care_site_id": np.arange(1, len(CARE_SITES) + 1), "care_site_name": CARE_SITES}),
    )
    for first in range(1, persons + 1, chunk):
        size = min(chunk, persons + 1 - first)
        yield from _chunk(rng, vocab, first, size, ids).items()


def generate_scale(
    wh: Warehouse, persons: int = 1_000_000, seed: int = 0, chunk: int = 100_000
) -> ScaleReport:
    """Fill an empty DuckDB warehouse with ``persons`` synthetic persons, in one transaction."""
    if wh.dialect != "duckdb":
        raise SynthError("le générateur à grande échelle écrit dans DuckDB uniquement")
    if persons < 1:
        raise SynthError("nombre de personnes invalide (au moins 1)")
    started = time.perf_counter()
    report = ScaleReport(persons=persons)
    with wh.begin() as conn:
        if conn.execute(select(func.count()).select_from(schema.CDM["person"])).scalar():
            raise SynthError("entrepôt non vide : le générateur remplit un entrepôt neuf")
        for name, table in scale_tables(persons, seed, chunk):
            report.rows[name] = report.rows.get(name, 0) + _insert(conn, name, table)
    report.seconds = time.perf_counter() - started
    return report
