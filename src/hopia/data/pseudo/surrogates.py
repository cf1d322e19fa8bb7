"""Consistent, format-preserving fake values.

Every choice is drawn from HMAC-SHA256(secret, patient key, label, normalised original): the same
patient's "Dupont" becomes the same fake surname in all their documents, another patient's does
not, and nobody without the secret can link the fake value back. Dates move by a secret
per-patient offset, so intervals between a patient's dates (and their age) are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.nir import parse_nir, with_key
from hopia.data.pseudo.rules import date_fields, match_date

_ALL_FIRST_NAMES = P.FIRST_NAMES_F + P.FIRST_NAMES_M
_NAME_SPLIT = re.compile(r"([\s\-'’.]+)")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CITY_SUFFIX = re.compile(r"(?i)[ ](?:cedex(?:[ ]\d{1,2})?|\d{1,2}(?:e|er|ème)?)$")
_OF_TOWN = re.compile(r"[ \t]+(?:de|d'|d’)[ \t]*([^\W\d_][\w\-' ]*)$")
_ACRONYM_KW = re.compile(r"[A-Z]{2,5}|(?i:centre\s+hospitalier.*|groupe\s+hospitalier.*)")


def case_like(model: str, value: str) -> str:
    """``value`` written in the capitalisation style of ``model`` (UPPER, Capitalised, lower)."""
    letters = [c for c in model if c.isalpha()]
    if not letters:
        return value
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return value.upper()
    if letters[0].isupper():
        return value[:1].upper() + value[1:]
    return value.lower()


def fill(template: str, chars: str, slot: Callable[[str], bool] = str.isdigit) -> str:
    """Write ``chars`` into the slots of ``template`` (its digits by default), keeping the rest:
    ``fill("06 12.34", "987654")`` is ``"09 87.65"``; extra slots keep their character."""
    it = iter(chars)
    return "".join(next(it, c) if slot(c) else c for c in template)


class Surrogates:
    """Fake values for one secret. Holds nothing but the secret and a bounded cache of picked
    names: safe to share and reuse across documents."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._words: dict[tuple[str, str, str], str] = {}  # (key, label, word) -> fake word

    # -- randomness -------------------------------------------------------------------------

    def _digest(self, *parts: str) -> bytes:
        # surrogatepass: a JSON "\ud800" escape gives a lone surrogate, which must not crash
        msg = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, msg, hashlib.sha256).digest()

    def _int(self, *parts: str) -> int:
        return int.from_bytes(self._digest(*parts)[:8], "big")

    def _digits(self, n: int, *parts: str) -> str:
        out, counter = "", 0
        while len(out) < n:
            out += "".join(str(b % 10) for b in self._digest(*parts, str(counter)))
            counter += 1
        return out[:n]

    def _pick(self, pool: Sequence[str], avoid: str, *parts: str) -> str:
        i = self._int(*parts) % len(pool)
        if P.fold(pool[i]) == P.fold(avoid):  # never "replace" a value by itself
            i = (i + 1) % len(pool)
        return pool[i]

    # -- dates ------------------------------------------------------------------------------

    def date_offset_days(self, patient_key: str) -> int:
        """Secret per-patient shift in days: nonzero, within [-365, 365]."""
        v = self._int("date-offset", patient_key)
        return (v % 365 + 1) * (-1 if (v >> 32) & 1 else 1)

    def shift_date(self, d: date, patient_key: str) -> date:
        try:
            return d + timedelta(days=self.date_offset_days(patient_key))
        except OverflowError:  # year 1 or 9999: shift the other way
            return d - timedelta(days=self.date_offset_days(patient_key))

    def birth_date(self, original: str, key: str, granularity: str) -> str:
        """A birth date generalised after the shift: "1940" (year) or "06/1940" (month)."""
        hit = match_date(original)
        if hit is None:
            return self._scramble(original, key, "DATE")
        d, mo, y = date_fields(*hit)
        if y is None:
            return self._scramble(original, key, "DATE")
        try:
            new = self.shift_date(date(y, mo or 7, d or (15 if mo else 2)), key)
        except ValueError:
            return self._scramble(original, key, "DATE")
        return str(new.year) if granularity == "year" else f"{new.month:02d}/{new.year}"

    def date(self, original: str, key: str) -> str:
        """``original`` shifted by the patient's offset, written in the same format."""
        hit = match_date(original)
        if hit is None:
            return self._scramble(original, key, "DATE")
        form, m = hit
        d, mo, y = date_fields(form, m)
        try:
            base = date(y or 2000, mo or 7, d or (15 if mo else 2))
        except ValueError:
            return self._scramble(original, key, "DATE")
        new = self.shift_date(base, key)
        edits: list[tuple[tuple[int, int], str]] = []
        for name, folded_group in m.groupdict().items():
            if folded_group is None or name == "sep":
                continue
            group = original[m.start(name) : m.end(name)]  # the text form matched folded text
            if name == "dayw":  # a day in words becomes digits: "vingt-quatre" → "3"
                value = str(new.day)
            elif name == "yearw":
                value = str(new.year)
            elif name == "day":
                value = _number_like(group, new.day, pad=form != "text" or group[0] == "0")
            elif name == "month":
                value = _number_like(group, new.month)
            elif name == "monthname":
                value = _month_like(group, new.month)
            elif name == "weekday":
                value = _weekday_like(group, new.weekday())
            else:
                value = _year_like(group, new.year)
            edits.append((m.span(name), value))
        out = original
        for (s, e), value in sorted(edits, reverse=True):
            out = out[:s] + value + out[e:]
        return out

    # -- everything else --------------------------------------------------------------------

    def _scramble(self, original: str, key: str, label: str) -> str:
        """Same length and layout: digits become other digits, letters other letters."""
        n = len(original)
        digits = self._digits(n, key, label, "digits", original)
        letters = "".join(chr(65 + int(c) * 2 + i % 2) for i, c in enumerate(digits))
        out = fill(original, digits)
        return "".join(
            case_like(c, letters[i]) if c.isalpha() and c.isascii() else c
            for i, c in enumerate(out)
        )

    def name(self, original: str, key: str, label: str) -> str:
        """Word by word, so "Gilberte Yvonne" and a later "Gilberte" get the same fake word."""
        out = []
        for part in _NAME_SPLIT.split(original):
            f = P.fold(part)
            if not part or _NAME_SPLIT.fullmatch(part) or f in P.PARTICLES or f in ("d", "l"):
                out.append(part)
            elif len(part) <= 2 and part.isupper():  # initials
                letter = chr(65 + self._int(key, label, "initial", f) % 26)
                out.append(case_like(part, letter * len(part))[: len(part)])
            else:
                out.append(case_like(part, self._name_word(f, key, label)))
        return "".join(out)

    def _name_word(self, folded: str, key: str, label: str) -> str:
        fake = self._words.get((key, label, folded))
        if fake is None:
            if label == "NOM":
                pool: Sequence[str] = P.SURNAMES
            elif folded in P.FIRST_NAMES_F_FOLDED:  # keep the gender when it is known
                pool = P.FIRST_NAMES_F
            elif folded in P.FIRST_NAMES:
                pool = P.FIRST_NAMES_M
            else:
                pool = _ALL_FIRST_NAMES
            fake = self._pick(pool, folded, key, label, folded)
            if len(self._words) > 100_000:  # a cache, not a store: keep memory bounded
                self._words.clear()
            self._words[(key, label, folded)] = fake
        return fake

    def phone(self, original: str, key: str) -> str:
        digits = re.sub(r"\D", "", original)
        if original.lstrip().startswith("+"):
            keep = 4 if digits.startswith("330") else 3 if digits.startswith("33") else 2
        elif digits.startswith("0033"):
            keep = 5
        else:
            keep = 2 if digits.startswith("0") else 0
        new = digits[:keep] + self._digits(len(digits) - keep, key, "TEL", digits)
        return fill(original, new)

    def nir(self, original: str, key: str) -> str:
        nir = parse_nir(original)
        if nir is None:
            return self._scramble(original, key, "SECU")
        r = self._digits(12, key, "SECU", nir.body)
        dept = int(r[4:6]) % 95 + 1
        body = (
            f"{nir.sex}{r[0:2]}{int(r[2:4]) % 12 + 1:02d}{dept if dept != 20 else 21:02d}"
            f"{int(r[6:9]) % 989 + 1:03d}{int(r[9:12]) % 999 + 1:03d}"
        )
        new = with_key(body) if nir.key is not None else body
        return fill(original, new, str.isalnum)

    def identifier(self, original: str, key: str, label: str) -> str:
        """IPP/NDA: same length, digits for digits and letters for letters."""
        return self._scramble(original, key, label)

    def commune(self, city: str, key: str) -> tuple[str, str]:
        """(commune, postcode) standing for ``city``, whatever its suffix ("Rennes Cedex 9"):
        ZIP and VILLE of an address, and "CHU de Rennes", agree."""
        base = _CITY_SUFFIX.sub("", city)
        name = " ".join(re.split(r"[\s\-'’]+", P.fold(base).strip()))
        return P.COMMUNES[self._int(key, "COMMUNE", name) % len(P.COMMUNES)]

    def city(self, original: str, key: str) -> str:
        suffix = _CITY_SUFFIX.search(original)
        base = original[: suffix.start()] if suffix else original
        return case_like(base, self.commune(base, key)[0]) + (suffix.group() if suffix else "")

    def zip(self, original: str, key: str, city: str | None = None) -> str:
        if city is not None:
            postcode = self.commune(city, key)[1]
        else:
            digits = re.sub(r"\s", "", original)
            postcode = P.COMMUNES[self._int(key, "ZIP", digits) % len(P.COMMUNES)][1]
        return fill(original, postcode, str.isalnum)

    def address(self, original: str, key: str) -> str:
        f = " ".join(P.fold(original).split())
        has_number = bool(re.match(r"\s*\d", original))
        street = P.STREET_WORD.search(original)
        kind = street.group() if street else P.STREET_TYPES[self._int(key, "ADRESSE", "t", f) % 6]
        name = self._pick(P.STREET_NAMES, original, key, "ADRESSE", f)
        number = f"{self._int(key, 'ADRESSE', 'n', f) % 150 + 1} " if has_number else ""
        value = f"{number}{kind} {name}"
        return value.upper() if _is_upper(original) else value

    def hospital(self, original: str, key: str) -> str:
        f = " ".join(P.fold(original).split())
        kw = P.HOSPITAL_WORD.match(original)
        word = kw.group().rstrip(".") if kw else "Hôpital"
        town = _OF_TOWN.match(original, kw.end()) if kw else None
        if town:  # "CHU de Rennes": the same fake town as "Rennes" elsewhere
            value = f"{word} de {self.commune(town.group(1), key)[0]}"
        elif kw and _ACRONYM_KW.fullmatch(word):
            value = f"{word} de {self.commune(f, key)[0]}"
        else:
            value = f"{word} {self._pick(P.HOSPITAL_NAMES, original, key, 'HOPITAL', f)}"
        return value.upper() if _is_upper(original) else value

    def mail(self, original: str, key: str) -> str:
        f = P.fold(original)
        first = P.fold(self._pick(_ALL_FIRST_NAMES, "", key, "MAIL", "p", f))
        last = P.fold(self._pick(P.SURNAMES, "", key, "MAIL", "n", f))
        domain = P.MAIL_DOMAINS[self._int(key, "MAIL", "d", f) % len(P.MAIL_DOMAINS)]
        return f"{first}.{last}@{domain}".replace(" ", "-")

    def make(self, label: str, original: str, key: str, city: str | None = None) -> str:
        """The surrogate for one span. ``city``: the commune written right after a ZIP."""
        if label in ("DATE", "DATE_NAISSANCE"):
            return self.date(original, key)
        if label in ("NOM", "PRENOM"):
            return self.name(original, key, label)
        if label == "TEL":
            return self.phone(original, key)
        if label == "SECU":
            return self.nir(original, key)
        if label in ("IPP", "NDA"):
            return self.identifier(original, key, label)
        if label == "ZIP":
            return self.zip(original, key, city)
        if label == "VILLE":
            return self.city(original, key)
        if label == "ADRESSE":
            return self.address(original, key)
        if label == "HOPITAL":
            return self.hospital(original, key)
        if label == "MAIL":
            return self.mail(original, key)
        return self._scramble(original, key, label)


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _number_like(original: str, value: int, pad: bool = True) -> str:
    """``value`` as ``original`` writes numbers: "1er", "07" or "7" ("12 mars" → "7 mai")."""
    if original.endswith("er"):
        return "1er" if value == 1 else str(value)
    if " " in original:  # one digit per cell: "1 4"
        return fill(original, f"{value:02d}")
    return f"{value:02d}" if pad and len(original) == 2 else str(value)


def _year_like(original: str, year: int) -> str:
    digits = original.replace(" ", "")
    value = f"{year % 100:02d}" if len(digits) == 2 else f"{year:04d}"
    return fill(original, value) if " " in original else value


_FULL_MONTHS = frozenset(P.fold(n) for n in P.MONTH_NAMES)


def _month_like(original: str, month: int) -> str:
    f = P.fold(original)
    names = P.MONTH_NAMES if f in _FULL_MONTHS else P.MONTH_ABBRS
    value = names[month - 1]
    canonical = names[P.MONTHS[f] - 1]
    if _NON_ASCII.search(canonical) and not _NON_ASCII.search(original):
        value = P.fold(value)  # the writer leaves accents out ("fevrier"): so does the surrogate
    return case_like(original, value)


def _weekday_like(original: str, weekday: int) -> str:
    full = len(original) > 3
    return case_like(original, (P.WEEKDAY_NAMES if full else P.WEEKDAY_ABBRS)[weekday])
