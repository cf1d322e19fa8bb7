"""The patient and the date a document states in its own header.

A letter, a PDF or a scan carries no structured patient: its identity is written in the first
lines ("IPP : 123456", "Patient : Mme DUPONT Marie, née le 03/04/1950", "Nom : DUPONT  Prénom :
Marie") and its date in the place-and-date line ("Lyon, le 30 novembre 2019") or a "Date :"
field. :func:`read_header` reads them from the first :data:`HEAD_LINES` lines only: further down
a letter names other dates and other people (the GP, a relative), and the header is where the
sender's software prints the patient. Matching what it found against the patient registry is the
pipeline's job (:meth:`hopia.data.ingest.identities.Identities.resolve`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date

from hopia.data.pseudo.patterns import MONTHS  # folded month spellings
from hopia.data.records import RawDocument, StatedIdentity

HEAD_LINES = 60
"""Lines read as the header; identity blocks sit in the first twenty lines of hospital letters."""

_MONTH_WORD = (
    r"(?:janv(?:ier)?|f[ée]v(?:r(?:ier)?)?|mars|avr(?:il)?|mai|juin|juil(?:let)?|ao[uû]t"
    r"|sept(?:embre)?|oct(?:obre)?|nov(?:embre)?|d[ée]c(?:embre)?)"
)
# "03/04/1950", "3.4.50", "03-04-1950", "3 avril 1950", "1er avril 1950", "3 avr. 1950".
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)"
    rf"|(?:1er|\d{{1,2}})\s+{_MONTH_WORD}\.?\s+\d{{4}})"
)
_DATE_RE = re.compile(_DATE, re.IGNORECASE)
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_WORDS = re.compile(r"(1er|\d{1,2})\s+(\w+)\.?\s+(\d{4})")

# IPP labels met in French hospital software; "N° de séjour", "NDA" and "N° de sécurité sociale"
# are other numbers and must not match. The value holds at least one digit.
_IPP = re.compile(
    r"(?<![\w])(?:N[°o]\s*(?:d['’]\s*)?|num[ée]ro\s+(?:d['’]\s*)?)?"
    r"(?:IPP|NIP|identifiant\s+(?:permanent\s+)?(?:du\s+)?patient|(?:N[°o]|num[ée]ro)\s+(?:de\s+)?patient)"
    r"\s*[:#.=]?\s*(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,})(?![\w])",
    re.IGNORECASE,
)
_BORN = re.compile(
    rf"(?:\bn[ée]e?\s*(?:\(\s*e\s*\)|e)?\s+le|date\s+de\s+naissance|\bDDN)\s*:?\s*(?P<d>{_DATE})",
    re.IGNORECASE,
)
# The place-and-date line of a letter: "Lyon, le 30 novembre 2019", "Fait à Bron, le 3/4/2019".
_PLACE_DATE = re.compile(
    rf"^\s*(?:fait\s+à\s+)?[A-ZÀ-Ý][\w'’ .\-]{{0,60}},?\s+le\s+(?P<d>{_DATE})\s*\.?\s*$",
    re.IGNORECASE,
)
# A labelled document date. "Date de naissance", "Date d'entrée" and "Date de sortie" are not it.
_LABELLED_DATE = re.compile(
    r"^\s*(?:date(?:\s+du\s+(?:document|courrier|compte[\s-]rendu|examen|jour))?"
    r"|date\s+de\s+(?:l['’]\s*)?(?:consultation|intervention|r[ée]daction|examen|pr[ée]l[èe]vement)"
    r"|fait\s+le|r[ée]dig[ée]\s+le|[ée]dit[ée]\s+le|pr[ée]l[èe]vement\s+du|le)"
    rf"\s*:?\s*(?P<d>{_DATE})",
    re.IGNORECASE,
)
_CIVILITY = r"(?:M\.|Mr\.?|Mme|Mlle|Melle|Monsieur|Madame|Mademoiselle)"
_FEMALE = {"mme", "mlle", "melle", "madame", "mademoiselle"}
# Where a name is written: a labelled field, or a line starting with a civility.
_NAME_FIELD = re.compile(
    r"^\s*(?:(?:patient(?:e)?|concerne|nom\s+(?:et\s+)?pr[ée]nom|identit[ée](?:\s+du\s+patient)?)"
    rf"\s*:|objet\s*:(?=\s*{_CIVILITY}\s))\s*(?P<v>.+)$",
    re.IGNORECASE,
)
# A line opening on a civility names the patient, unless it addresses a doctor.
_CIVILITY_LINE = re.compile(
    rf"^\s*(?P<v>{_CIVILITY}\s+(?!le\s+(?:docteur|professeur)\b|(?:Dr|Pr)\.?\s)\S.+)$",
    re.IGNORECASE,
)
_FAMILY_FIELD = re.compile(
    r"\bnom(?:\s+(?:de\s+naissance|d['’]\s*usage|marital|de\s+famille|patronymique))?\s*:\s*"
    r"(?P<v>[^\s:|][^:|]*?)(?=\s{2,}|\t|\s+pr[ée]nom\s*:|$|\s*\|)",
    re.IGNORECASE,
)
_GIVEN_FIELD = re.compile(
    r"\bpr[ée]noms?\s*:\s*(?P<v>[^\s:|][^:|]*?)(?=\s{2,}|\t|$|\s*\|)", re.IGNORECASE
)
_SEX_FIELD = re.compile(r"\bsexe\s*:\s*(?P<v>[MF])\b", re.IGNORECASE)
# Where the name part of a field ends: a comma, the birth clause, an age, a bracket.
_NAME_END = re.compile(
    r",|;|\(|\s-\s|\s{2,}|\t|\bn[ée]e?\s*(?:\(\s*e\s*\))?\s+le\b|\bIPP\b|\b\d", re.IGNORECASE
)
_NAME_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’\-]*")


@dataclass(frozen=True)
class Header:
    """What a document's header says: its patient (possibly nothing) and its date."""

    identity: StatedIdentity | None
    doc_date: date | None


def read_header(text: str) -> Header:
    """The patient and the document date stated in the first lines of ``text``."""
    lines = text.split("\n")[:HEAD_LINES]
    ipp = _first(_IPP, lines, "v")
    birth = _first_date(_BORN, lines)
    names, sex = _names(lines)
    doc_date = _doc_date(lines, birth)
    family, given = _split_name(names)
    identity = None
    if ipp or (names and birth):
        identity = StatedIdentity(
            ipp=ipp.upper() if ipp else None,
            names=tuple(names),
            family_name=family,
            given_name=given,
            birth_date=birth,
            sex=sex,
        )
    return Header(identity, doc_date)


def with_header(doc: RawDocument) -> RawDocument:
    """``doc`` with the identity and date its header states, where its source gave none.

    A document whose header was already read (its reader did it) is returned as it is: the
    ingest calls this again for every document, JSON Lines ones included."""
    if doc.stated is not None or (doc.patient_ipp and doc.doc_date):
        return doc
    head = read_header(doc.text)
    changes: dict = {}
    if not doc.patient_ipp and head.identity is not None:
        changes["stated"] = head.identity
    if doc.doc_date is None and head.doc_date is not None:
        changes["doc_date"] = head.doc_date
    return replace(doc, **changes) if changes else doc


def parse_date(value: str) -> date | None:
    """A French date written in digits or words; None when it is no valid date."""
    value = value.strip()
    if m := _NUMERIC.fullmatch(value):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif m := _WORDS.fullmatch(value):
        day = 1 if m[1].lower() == "1er" else int(m[1])
        month = MONTHS.get(fold(m[2]).lower().rstrip("."), 0)
        year = int(m[3])
    else:
        return None
    if year < 100:  # two-digit years: the nearest past century reading
        year += 2000 if year <= date.today().year % 100 else 1900
    try:
        return date(year, month, day)
    except ValueError:
        return None


def fold(value: str) -> str:
    """Upper case without accents, hyphens and apostrophes as spaces: names compared loosely."""
    plain = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"[\-'’.]", " ", plain.upper())
    return " ".join(plain.split())


def _first(pattern: re.Pattern[str], lines: list[str], group: str) -> str | None:
    for line in lines:
        if m := pattern.search(line):
            return m[group]
    return None


def _first_date(pattern: re.Pattern[str], lines: list[str]) -> date | None:
    for line in lines:
        for m in pattern.finditer(line):
            if found := parse_date(m["d"]):
                return found
    return None


def _doc_date(lines: list[str], birth: date | None) -> date | None:
    """The place-and-date line first (it is the letter's own date), then a labelled date."""
    for pattern in (_PLACE_DATE, _LABELLED_DATE):
        for line in lines:
            if _BORN.search(line):
                continue
            m = pattern.match(line)
            if m and (found := parse_date(m["d"])) and found != birth:
                return found
    return None


def _names(lines: list[str]) -> tuple[list[str], str | None]:
    """Name words of the patient (as written, in order) and the sex a civility or field says."""
    words: list[str] = []
    sex = None
    for line in lines:
        for pattern in (_FAMILY_FIELD, _GIVEN_FIELD):
            for m in pattern.finditer(line):
                words += _NAME_WORD.findall(m["v"])
        if m := _SEX_FIELD.search(line):
            sex = sex or m["v"].upper()
    if words:
        return words, sex
    for pattern in (_NAME_FIELD, _CIVILITY_LINE):  # a labelled field first
        for line in lines:
            if m := pattern.match(line):
                found, civility_sex = _name_words(m["v"])
                if found:
                    return found, sex or civility_sex
    return [], sex


def _name_words(value: str) -> tuple[list[str], str | None]:
    """Name words of a field's value, and the sex its civility says."""
    value = value.strip()
    sex = None
    if civ := re.match(rf"{_CIVILITY}\s+", value):
        sex = "F" if civ[0].strip().lower().rstrip(".") in _FEMALE else "M"
        value = value[civ.end() :]
    cut = _NAME_END.search(value)
    head = value[: cut.start()] if cut else value
    tail = value[cut.start() :] if cut else ""
    # "Mme Hélène DURAND née LEFEVRE": the birth name after "née" is kept.
    if born := re.match(r"\s*n[ée]e?\s+(?!le\b)(?P<n>[A-ZÀ-Ý][\w'’\-]+)", tail):
        head = f"{head} {born['n']}"
    words = [w for w in _NAME_WORD.findall(head) if fold(w) not in {"NEE", "NE", "EPOUSE"}]
    return words, sex


def _split_name(words: list[str]) -> tuple[str | None, str | None]:
    """Family and given name when the case says which is which (family names in capitals)."""
    upper = [w for w in words if w.isupper() and len(w) > 1]
    other = [w for w in words if w not in upper]
    if not upper or not other:
        return None, None
    return " ".join(upper), " ".join(other)
