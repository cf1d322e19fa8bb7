"""Deterministic generator of the synthetic CHU: patients, visits, documents, gold.

Every random draw comes from a ``random.Random`` derived from the seed (never the global one).
Each patient has their own stream (seeded with ``"{seed}:patient:{i}"``), so the first patients
of a small corpus are the same as those of a larger one generated with the same seed.
Readmissions are drawn from a second stream per patient (``"{seed}:readmission:{i}"``): a patient
never readmitted is the same as in generator 1.0.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from . import vocab
from .documents import visit_documents
from .episodes import EPISODES_BY_SERVICE
from .identity import (
    ascii_upper,
    department_of,
    make_address,
    make_email,
    make_nir,
    make_phone,
    make_staff,
    pick_name,
)
from .model import Clinician, SynthCorpus, SynthDocument, SynthPatient, Visit
from .partition import partition
from .readmission import (
    INPATIENT_KINDS,
    MAX_CHAIN,
    readmission_delay,
    readmission_probability,
    readmission_reason,
)
from .scenarios import (
    ALLERGIES,
    CONDITION_SERVICE,
    PROFILES,
    SURGICAL_HISTORY,
    Episode,
    Profile,
)
from .vocab_clinical import LAB_SHIFTS, LABS
from .vocab_drugs import DRUGS, TREATMENTS

GENERATOR_VERSION = "1.1.0"
FIRST_DAY = date(2019, 1, 7)
LAST_FIRST_VISIT = date(2023, 10, 1)
LAST_DAY = date(2024, 12, 20)

FAMILY_DX = (
    ("Père", "idm"), ("Mère", "dt2"), ("Mère", "k_sein"), ("Père", "k_colon"), ("Mère", "avc"),
    ("Père", "hta"), ("Mère", "alzheimer"), ("Frère", "dt2"), ("Sœur", "k_sein"),
    ("Père", "k_prostate"), ("Mère", "diabete_nos"), ("Père", "diabete_nos"), ("Frère", "idm"),
)  # fmt: skip
FAMILY_NEGATIVE = ("k_colon", "idm", "k_sein", "diabete_nos", "avc", "tvp")
# Drugs started during an acute stay that the patient keeps afterwards.
LONG_TERM = {"aspirine", "ticagrelor", "atorvastatine", "bisoprolol", "ramipril", "apixaban",
             "furosemide", "glargine", "asparte", "metformine", "cholecalciferol"}  # fmt: skip
# Chronic conditions an episode leaves behind.
SEQUELAE = {"sca": "cardio_isch", "fa_rapide": "fa", "decomp_ic": "ic", "k_colon": "k_colon"}
EXCLUSIVE = (("dt1", "dt2"), ("irct", "irc"), ("alzheimer", "demence"))
NEEDS = {"retino": ("dt1", "dt2"), "neuro_diab": ("dt1", "dt2"), "nas": ("hta",),
         "nephro_diab": ("dt2",)}  # fmt: skip


def generate(
    n_patients: int, seed: int, progress: Callable[[int], None] | None = None
) -> SynthCorpus:
    """Generate a synthetic corpus of ``n_patients`` patients, deterministically from ``seed``.

    Parameters
    ----------
    n_patients : int
        Number of patients (about 6-7 documents each).
    seed : int
        Seed; the same seed gives the same corpus, byte for byte once written.
    progress : callable, optional
        Called with the number of patients done after each patient.
    """
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    staff = make_staff(random.Random(f"{seed}:staff"))
    used: set[str] = set()
    patients: list[SynthPatient] = []
    documents: list[SynthDocument] = []
    for i in range(n_patients):
        rng = random.Random(f"{seed}:patient:{i}")
        patient, first = _patient(rng, staff, used)
        patients.append(patient)
        fate = random.Random(f"{seed}:readmission:{i}")
        for visit in _visits(rng, fate, patient, staff, first, used):
            documents.extend(visit_documents(rng, patient, visit, staff))
            _apply_outcome(patient, visit)
        if progress is not None:
            progress(i + 1)
    for n, doc in enumerate(documents, start=1):
        doc.id = f"SYN-{n:06d}"
    kept, renditions = partition(random.Random(f"{seed}:partition"), documents)
    return SynthCorpus(seed=seed, patients=patients, documents=kept, renditions=renditions)


def _unique(rng: random.Random, used: set[str], make: Callable[[], str]) -> str:
    value = make()
    while value in used:
        value = make()
    used.add(value)
    return value


def _days(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _patient(
    rng: random.Random, staff: dict[str, list[Clinician]], used: set[str]
) -> tuple[SynthPatient, date]:
    profile: Profile = rng.choices(PROFILES, weights=[p.weight for p in PROFILES])[0]
    sex = "F" if rng.random() < (0.6 if profile.service == "geriatrie" else 0.48) else "M"
    first = _days(rng, FIRST_DAY, LAST_FIRST_VISIT)
    age = rng.randint(*profile.age)
    birth = first.replace(year=first.year - age, day=min(first.day, 28)) - timedelta(
        days=rng.randint(1, 364)
    )
    given, family = pick_name(rng, sex)
    usage = None
    if sex == "F" and age > 30 and rng.random() < 0.3:
        usage = rng.choice([s for s in vocab.SURNAMES if s != family])
    local = rng.random() < 0.85
    city, zip_code = rng.choice(vocab.COMMUNES[: vocab.LOCAL_COMMUNES] if local else vocab.COMMUNES)
    dept = department_of(zip_code) if rng.random() < 0.65 else rng.choice(vocab.BIRTH_DEPARTMENTS)
    height = round(rng.uniform(1.62, 1.88) if sex == "M" else rng.uniform(1.52, 1.75), 2)
    patient = SynthPatient(
        ipp=_unique(rng, used, lambda: f"8{rng.randrange(10**8):08d}"),
        family_name=ascii_upper(family),
        given_name=given,
        birth_date=birth,
        sex=sex,
        nir=make_nir(rng, sex, birth, dept),
        address=make_address(rng),
        zip=zip_code,
        city=city,
        phone=make_phone(rng, mobile=rng.random() < 0.7, area=_area(zip_code)),
        email=make_email(rng, given, usage or family) if rng.random() < 0.75 else None,
        family_display=family,
        usage_name=usage,
        birth_dept=dept,
        profile=profile.service,
        height=height,
        weight=0.0,
    )
    _clinical(rng, patient, profile, first, staff)
    return patient, first


def _area(zip_code: str) -> str:
    dept = zip_code[:2]
    if dept in ("75", "92", "93", "94"):
        return "01"
    if dept in ("21", "25", "51", "54", "57", "58", "59", "67", "80"):
        return "03"
    if dept in ("14", "29", "35", "37", "44", "45", "49", "76", "86"):
        return "02"
    return "05" if dept in ("31", "33", "64", "87") else "04"


def _clinical(
    rng: random.Random, p: SynthPatient, profile: Profile, first: date, staff: dict
) -> None:
    """Chronic conditions with onset dates, usual treatments, family and social history."""
    p.conditions = _conditions(rng, p, profile)
    adult = date(p.birth_date.year + 20, 1, 1)
    for key in p.conditions:
        years = 3 if key.startswith(("k_", "meta")) else 25  # cancers are recent
        oldest = max(adult, first - timedelta(days=365 * years))
        p.onset[key] = _days(rng, oldest, first - timedelta(days=60))
    _treatments(rng, p)
    bmi = rng.uniform(31, 42) if "obesite" in p.conditions else rng.uniform(21, 29)
    if "denutrition" in p.conditions:
        bmi = rng.uniform(16, 18.4)
    p.weight = round(bmi * p.height**2)
    relatives = rng.sample(FAMILY_DX, rng.choice((0, 1, 1, 2)))
    p.family_history = list(relatives)
    if rng.random() < 0.35:
        known = {k for _, k in relatives}
        p.family_negative = rng.choice([k for k in FAMILY_NEGATIVE if k not in known])
    surgeries = [s for s in SURGICAL_HISTORY if not (p.sex == "M" and s == "hystérectomie")]
    surgeries = [s for s in surgeries if not (p.sex == "F" and "prostate" in s)]
    lo = max(1975, p.birth_date.year + 18)
    hi = max(lo, first.year - 1)
    p.surgeries = [
        (s, rng.randint(lo, hi)) for s in rng.sample(surgeries, rng.choice((0, 0, 1, 1, 2)))
    ]
    _social(rng, p, profile, first, staff)


def _conditions(rng: random.Random, p: SynthPatient, profile: Profile) -> list[str]:
    conditions = [key for key, prob in profile.chronic if rng.random() < prob]
    if profile.cancers and (profile.service == "oncologie" or rng.random() < 0.2):
        sex_only = {"k_sein": "F", "k_prostate": "M"}
        conditions.append(
            rng.choice([c for c in profile.cancers if sex_only.get(c, p.sex) == p.sex])
        )
        if profile.service == "oncologie" and rng.random() < 0.4:
            conditions.append(rng.choice(("meta_hep", "meta_os", "meta_pulm")))
    if profile.service == "nephrologie" and "dt2" in conditions and rng.random() < 0.5:
        conditions.append("nephro_diab")
    for keep, drop in EXCLUSIVE:
        if keep in conditions and drop in conditions:
            conditions.remove(drop)
    conditions = [c for c in conditions if c not in NEEDS or any(n in conditions for n in NEEDS[c])]
    return list(dict.fromkeys(conditions))


def _treatments(rng: random.Random, p: SynthPatient) -> None:
    """Usual drugs of each condition, each with one posology kept across documents."""
    for key in p.conditions:
        if key not in TREATMENTS:
            continue
        pool, n = TREATMENTS[key]
        chosen = rng.sample(pool, min(n, len(pool)))
        if key == "fa":  # an anticoagulant and a rate-control drug, never two of a kind
            chosen = [
                rng.choice(("apixaban", "rivaroxaban")),
                rng.choice(("bisoprolol", "amiodarone")),
            ]
        if key == "dt2" and "metformine" not in chosen and "irct" not in p.conditions:
            chosen[0] = "metformine"
        for drug in chosen:
            if drug not in [d for d, _ in p.treatments]:
                p.treatments.append((drug, rng.randrange(len(DRUGS[drug].posologies))))


def _social(
    rng: random.Random, p: SynthPatient, profile: Profile, first: date, staff: dict
) -> None:
    """Tobacco, alcohol, allergy, living situation, job, GP and trusted person."""
    smoker = "bpco" in p.conditions or "k_poumon" in p.conditions
    tobacco_weights = (4, 4, 1) if smoker else (2, 3, 5)
    p.tobacco = rng.choices(("actif", "sevre", "non"), weights=tobacco_weights)[0]
    p.pack_years = rng.randint(10, 50) if p.tobacco != "non" else 0
    alcohol_weights = (8, 1, 1 + 4 * ("cirrhose" in p.conditions))
    p.alcohol = rng.choices(("non", "sevre", "chronique"), weights=alcohol_weights)[0]
    p.allergy = rng.choice(ALLERGIES) if rng.random() < 0.2 else None
    female = p.sex == "F"
    spouse = "son époux" if female else "son épouse"
    if profile.service == "geriatrie" and rng.random() < 0.3:
        p.nursing_home = rng.choice(("EHPAD Les Tilleuls", "EHPAD Le Clos Fleuri"))
    else:
        p.living = rng.choice(
            (
                f"Vit avec {spouse} à domicile.",
                f"Vit {'seule' if female else 'seul'} à domicile, autonome.",
                f"Vit en appartement au 3e étage avec {spouse}, 2 enfants.",
            )
        )
    if p.age_at(first) > 63:
        p.job = f"Retraité{'e' if female else ''}, {rng.choice(vocab.JOBS)[female]}."
    else:
        p.job = f"Profession : {rng.choice(vocab.ACTIVE_JOBS)[female]}."
    p.gp = rng.choice(staff["ville"])
    relation, rel_sex = rng.choice(
        (("sa fille", "F"), ("son fils", "M"), (spouse, "M" if female else "F"))
    )
    r_given, _ = pick_name(rng, rel_sex)
    # A daughter may carry her spouse's name; a son or a spouse carries the family's.
    r_family = (
        rng.choice(vocab.SURNAMES) if relation == "sa fille" else p.usage_name or p.family_display
    )
    p.trusted = (relation, r_given, r_family, make_phone(rng, mobile=True))


def _visits(
    rng: random.Random,
    fate: random.Random,
    p: SynthPatient,
    staff: dict,
    first: date,
    used: set[str],
) -> Iterator[Visit]:
    """The patient's planned visits, each inpatient stay possibly followed by an unplanned
    readmission whose probability depends on the patient (see :mod:`.readmission`).

    Whether and when a readmission happens is drawn from ``fate``, a stream of its own, so that
    a patient never readmitted gets the same visits and documents as before readmissions
    existed. A generator: the code after each ``yield`` runs once the visit's documents are
    written and its outcome applied, so the risk sees the sequelae of the stay."""
    n = rng.choices((1, 2, 3, 4), weights=(15, 35, 30, 20))[0]
    day = first
    stays: list[Visit] = []  # inpatient stays so far
    k = chain = 0
    back_from: Visit | None = None  # the stay a readmission follows
    while k < n or back_from is not None:
        if day > LAST_DAY:
            return
        if back_from is not None:
            episode = readmission_reason(fate, p, back_from)
            service, kind, follow, via_er = episode.service, "hospitalisation", None, 0.65
        else:
            service = _service(rng, p, k)
            kind, episode, follow = _reason(rng, p, service)
            via_er = 0.4
            k += 1
        visit = _visit(rng, p, staff, used, day, service, kind, episode, follow, via_er)
        yield visit
        risk = readmission_probability(p, visit, stays)
        if visit.kind in INPATIENT_KINDS:
            stays.append(visit)
        chain = chain + 1 if back_from is not None else 0
        back_from = visit if chain < MAX_CHAIN and risk and fate.random() < risk else None
        gap = readmission_delay(fate) if back_from is not None else rng.randint(20, 240)
        day = visit.end + timedelta(days=gap)


def _visit(
    rng: random.Random,
    p: SynthPatient,
    staff: dict,
    used: set[str],
    day: date,
    service: str,
    kind: str,
    episode: Episode | None,
    follow: str | None,
    via_er: float,
) -> Visit:
    """A visit starting on ``day``: its NDA, length, physician, labs, vitals and drugs; an
    inpatient stay starts in the emergency department with probability ``via_er``."""
    length = {"hospitalisation": rng.randint(3, 12), "chirurgie": rng.randint(1, 6)}.get(kind, 0)
    if episode is not None and episode.key == "hernie":
        length = 0
    physician = rng.choice(staff[service][1:] if rng.random() < 0.8 else staff[service])
    visit = Visit(
        nda=_unique(rng, used, lambda d=day: f"{d.year % 100:02d}{rng.randrange(10**7):07d}"),
        service=service,
        kind=kind,
        start=day,
        end=day + timedelta(days=length),
        physician=physician,
        episode=episode,
        follow=follow,
        via_urgences=kind in INPATIENT_KINDS and rng.random() < via_er,
    )
    key = episode.key if episode else None
    visit.labs = _labs(rng, p, key)
    baseline = _labs(rng, p, None)  # control values: halfway back to the chronic baseline
    visit.labs_control = {
        k: round((val + baseline[k]) / 2, LABS[k].decimals) for k, val in visit.labs.items()
    }
    visit.vitals = _vitals(rng, p, key)
    visit.discharge_drugs = list(p.treatments)
    for drug in episode.drugs if episode else ():
        if drug not in [d for d, _ in visit.discharge_drugs]:
            visit.discharge_drugs.append((drug, 0))
    return visit


def _service(rng: random.Random, p: SynthPatient, k: int) -> str:
    if k == 0:
        return p.profile
    roll = rng.random()
    linked = [CONDITION_SERVICE[c] for c in p.conditions if c in CONDITION_SERVICE]
    if roll < 0.6 or (roll >= 0.8 and not linked):
        return p.profile
    return "urgences" if roll < 0.8 else rng.choice(linked)


def _reason(
    rng: random.Random, p: SynthPatient, service: str
) -> tuple[str, Episode | None, str | None]:
    episodes = [
        e
        for e in EPISODES_BY_SERVICE.get(service, ())
        if all(r in p.conditions for r in e.requires)
    ]
    if service == "urgences":
        return "urgences", rng.choice(episodes), None
    surgical = [e for e in episodes if e.kind == "chirurgie"]
    roll = rng.random()
    if surgical and roll < 0.75:
        return "chirurgie", rng.choice(surgical), None
    medical = [e for e in episodes if e.kind == "hospitalisation"]
    if medical and roll < 0.5:
        return "hospitalisation", rng.choice(medical), None
    followed = [c for c in p.conditions if CONDITION_SERVICE.get(c) == service]
    if service == "oncologie":
        followed = [c for c in p.conditions if c.startswith("k_") or c in ("chc", "lymphome")]
    follow = (
        rng.choice(followed) if followed else (rng.choice(p.conditions) if p.conditions else "hta")
    )
    return "consultation", None, follow


def _labs(rng: random.Random, p: SynthPatient, episode_key: str | None) -> dict[str, float]:
    values: dict[str, float] = {}
    keys = [*p.conditions, episode_key] if episode_key else p.conditions
    for name, lab in LABS.items():
        if name in ("ta", "fc", "temperature", "spo2", "fr", "poids", "taille", "imc"):
            continue
        lo, hi = lab.lo, lab.hi
        for key in keys:
            lo, hi = LAB_SHIFTS.get(key, {}).get(name, (lo, hi))
        values[name] = round(rng.uniform(lo, hi), lab.decimals)
    return values


def _vitals(rng: random.Random, p: SynthPatient, episode_key: str | None) -> dict[str, float]:
    shifts: dict[str, tuple[float, float]] = {}
    for key in [*p.conditions, episode_key or ""]:
        shifts.update(LAB_SHIFTS.get(key, {}))
    tas = rng.randint(135, 168) if "hta" in p.conditions else rng.randint(108, 138)
    weight = round(p.weight + rng.uniform(-2, 2))
    return {
        "tas": tas,
        "tad": round(tas * rng.uniform(0.55, 0.66)),
        "fc": round(rng.uniform(*shifts.get("fc", (60, 92)))),
        "spo2": round(rng.uniform(*shifts.get("spo2", (95, 99)))),
        "temperature": round(rng.uniform(*shifts.get("temperature", (36.4, 37.4))), 1),
        "poids": weight,
        "imc": round(weight / p.height**2, 1),
    }


def _apply_outcome(p: SynthPatient, v: Visit) -> None:
    """What later documents know: the stay itself, sequelae and drugs kept."""
    ep = v.episode
    if ep is None or v.kind == "urgences":
        return
    p.events.append((v.start, v.service, ep.key))
    sequela = SEQUELAE.get(ep.key)
    if sequela and sequela not in p.conditions:
        p.conditions.append(sequela)
        p.onset[sequela] = v.start
    for drug in ep.drugs:
        if drug in LONG_TERM and drug not in [d for d, _ in p.treatments]:
            p.treatments.append((drug, 0))
