"""Identities: names, NIR with its key, addresses, phones, e-mails, clinicians."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from . import vocab
from .model import Clinician


def ascii_upper(name: str) -> str:
    """Upper case without diacritics, as French identity servers store names ("LEFEVRE")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return folded.upper()


def ascii_slug(name: str) -> str:
    """Lower-case ASCII form for e-mail local parts ("jean-pierre", "dasilva")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return folded.lower().replace(" ", "").replace("'", "")


def nir_key(first13: str) -> int:
    """Control key of a NIR: 97 - (n mod 97); Corsica's 2A and 2B count as 19 and 18."""
    digits = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def make_nir(rng: random.Random, sex: str, birth: date, dept: str) -> str:
    """A valid 15-character NIR (no spaces) for someone born in metropolitan ``dept``."""
    if dept in ("2A", "2B") and birth.year < 1976:
        dept = "20"  # Corsica was one département (20) before 1976
    body = (
        ("1" if sex == "M" else "2")
        + f"{birth.year % 100:02d}{birth.month:02d}"
        + dept
        + f"{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    )
    return f"{body}{nir_key(body):02d}"


def format_nir(nir: str) -> str:
    """The spaced form printed on documents: "1 54 03 69 123 456 78"."""
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def department_of(zip_code: str) -> str:
    if zip_code.startswith("20"):
        return "2A" if zip_code < "20200" else "2B"
    return zip_code[:2]


def make_phone(rng: random.Random, mobile: bool, area: str = "04") -> str:
    """A French number in the canonical spaced form "06 12 34 56 78"."""
    head = rng.choice(("06", "07")) if mobile else area
    rest = [f"{rng.randint(0, 99):02d}" for _ in range(4)]
    return " ".join([head, *rest])


def phone_variant(rng: random.Random, phone: str) -> str:
    """How a number is written in a given document: spaced, dotted, compact or +33."""
    digits = phone.replace(" ", "")
    roll = rng.random()
    if roll < 0.6:
        return phone
    if roll < 0.8:
        return ".".join(digits[i : i + 2] for i in range(0, 10, 2))
    if roll < 0.92:
        return digits
    return "+33 " + " ".join([digits[1], *(digits[i : i + 2] for i in range(2, 10, 2))])


def make_address(rng: random.Random) -> str:
    number = rng.choice((rng.randint(1, 40), rng.randint(1, 180)))
    suffix = rng.choices(("", " bis", " ter"), weights=(90, 8, 2))[0]
    street = f"{number}{suffix} {rng.choice(vocab.STREET_TYPES)} {rng.choice(vocab.STREET_NAMES)}"
    if rng.random() < 0.08:
        street = f"Résidence Les Tilleuls, bât. {rng.choice('ABCD')}, {street}"
    return street


def make_email(rng: random.Random, given: str, family: str) -> str:
    local = rng.choice(
        (
            f"{ascii_slug(given)}.{ascii_slug(family)}",
            f"{ascii_slug(given)[0]}{ascii_slug(family)}",
            f"{ascii_slug(family)}.{ascii_slug(given)}{rng.randint(1, 99)}",
        )
    )
    return f"{local}@{rng.choice(vocab.EMAIL_DOMAINS)}"


def pick_name(rng: random.Random, sex: str) -> tuple[str, str]:
    pool = vocab.MALE_FIRST_NAMES if sex == "M" else vocab.FEMALE_FIRST_NAMES
    return rng.choice(pool), rng.choice(vocab.SURNAMES)


def make_staff(rng: random.Random) -> dict[str, list[Clinician]]:
    """Physicians of each service (the first is the head of department), biologists, GPs."""
    staff: dict[str, list[Clinician]] = {}
    for service in vocab.SERVICES:
        people = []
        for i in range(5):
            given, family = pick_name(rng, rng.choice("MF"))
            title = "Pr" if i == 0 else "Dr"
            role = vocab.PHYSICIAN_TITLES[2] if i == 0 else rng.choice(vocab.PHYSICIAN_TITLES)
            people.append(Clinician(given, family, title, role, service))
        staff[service] = people
    staff["biologie"] = [
        Clinician(*pick_name(rng, rng.choice("MF")), "Dr", "Biologiste médical", "biologie")
        for _ in range(3)
    ]
    staff["anesthesie"] = [
        Clinician(*pick_name(rng, rng.choice("MF")), "Dr", "Anesthésiste-réanimateur", "anesthesie")
        for _ in range(3)
    ]
    gps = []
    for _ in range(40):
        given, family = pick_name(rng, rng.choice("MF"))
        city = rng.choice(vocab.COMMUNES[: vocab.LOCAL_COMMUNES])[0]
        gps.append(Clinician(given, family, "Dr", "Médecin généraliste", "ville", city))
    staff["ville"] = gps
    return staff
