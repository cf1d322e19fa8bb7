"""Known-identity matcher: finds what the structured source says about the patient, and the
clinicians' names, wherever and however they are written.

Matching runs on folded text (lower case, no accents, same offsets as the original), so
"Hélène DUPRÉ", "helene dupre" and "HELENE-DUPRE" all match the identity "Hélène Dupré".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.rules import PhiSpan
from hopia.data.records import PatientIdentity

_SEP = r"[\s\-']+"  # between the words of a name: space, hyphen or apostrophe, any mix
_TITLES = frozenset(P.words("dr pr docteur professeur m mme mlle mr madame monsieur ide interne"))
_PHONE_SEP = r"[ .\-]{0,3}"
_B = r"(?<![\w])"
_E = r"(?![\w])"


def _name_variants(name: str) -> list[str]:
    """Regexes (folded) for a name and, for compound names, for each significant part."""
    folded = P.fold(name.strip())
    words = [w for w in re.split(r"[\s\-'’]+", folded) if w]
    if not words:
        return []
    variants = [_SEP.join(re.escape(w) for w in words)]
    if len(words) > 1:
        # "Le Gall-Dupré" is also written "Le Gall" or "Dupré", "Cardoso Ferreira" "Cardoso";
        # lone particles and short words ("Le", "Lay") are too common to match alone.
        parts = [p.split() for p in folded.split("-") if p.strip()]
        variants += [_SEP.join(map(re.escape, p)) for p in parts if len(parts) > 1 and len(p) > 1]
        variants += [re.escape(w) for w in words if len(w) >= 4 and w not in P.PARTICLES]
    return sorted(set(variants), key=len, reverse=True)


def _split_staff(full: str) -> tuple[str, str]:
    """("Prénom(s)", "Nom") from "Prénom Nom", "NOM Prénom" or "Prénom de la Nom"."""
    words = full.split()
    while len(words) > 1 and P.fold(words[0].rstrip(".:")) in _TITLES:
        words = words[1:]  # "Dr Jean Martin"
    if len(words) < 2:
        return "", full
    upper = [w for w in words if w.isupper() and len(w) > 1]
    if upper and len(upper) < len(words):
        return " ".join(w for w in words if w not in upper), " ".join(upper)
    i = len(words) - 1
    while i > 1 and P.fold(words[i - 1]) in P.PARTICLES:
        i -= 1  # "Charles de Gaulle": the particle belongs to the surname
    return " ".join(words[:i]), " ".join(words[i:])


def _digits_pattern(digits: str, sep: str = r"[ .\-]{0,2}") -> str:
    return sep.join(re.escape(c) for c in digits)


def birth_date_pattern(d: date) -> str:
    """Every usual written form of ``d`` (folded): 05/03/1950, 5-3-50, 5 mars 1950, 1er ...,
    1950-03-05, 05031950, "0 5 0 3 1 9 5 0"."""
    day = rf"0?{d.day}" + ("|1er" if d.day == 1 else "")
    month_num = rf"0?{d.month}"
    names = [k for k, v in P.MONTHS.items() if v == d.month]
    month_name = "|".join(sorted(names, key=len, reverse=True))
    year = rf"{d.year}|{d.year % 100:02d}"
    compact = f"{d.day:02d}{d.month:02d}{d.year}"
    forms = [
        rf"(?:{day})[ ]?[/.\-| ][ ]?(?:{month_num})[ ]?[/.\-| ][ ]?(?:{year})",
        rf"{d.year}[/.\-](?:{month_num})[/.\-](?:{day})",
        rf"(?:{day})(?:er)?[ ]*(?:{month_name})\.?,?[ ]*(?:{year})",
        _digits_pattern(compact, "[ ]?"),
    ]
    return rf"(?<![\d])(?:{'|'.join(forms)})(?![\d])"


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0033"):
        digits = digits[4:]
    elif digits.startswith("33") and phone.strip().startswith("+"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    if len(digits) < 6:
        return None
    prefix = r"(?:(?:\+|00)[ ]?33[ ]?(?:\(0\)[ ]?)?0?|0)"
    body = _digits_pattern(digits, _PHONE_SEP)
    return rf"(?<![\d+]){prefix}{_PHONE_SEP}{body}(?![\d])"


class IdentityMatcher:
    """Compiled patterns for one patient identity and one list of staff names.

    Build once per patient (the pseudonymiser caches them) and call :meth:`find` per text.
    """

    def __init__(self, identity: PatientIdentity | None = None, staff: Sequence[str] = ()) -> None:
        # (compiled pattern on folded text, label, source)
        self._rules: list[tuple[re.Pattern[str], str, str]] = []
        if identity is not None:
            self._add_identity(identity)
        for full in staff:
            given, family = _split_staff(full)
            self._add_names(family, "NOM", "staff")
            self._add_names(given, "PRENOM", "staff")

    def _add(self, pattern: str, label: str, source: str = "identity") -> None:
        self._rules.append((re.compile(pattern), label, source))

    def _add_names(self, name: str | None, label: str, source: str) -> None:
        variants = _name_variants(name or "")
        if variants:
            self._add(rf"{_B}(?:{'|'.join(variants)}){_E}", label, source)

    def _add_identity(self, ident: PatientIdentity) -> None:
        self._add_names(ident.family_name, "NOM", "identity")
        self._add_names(ident.given_name, "PRENOM", "identity")
        if ident.birth_date:
            self._add(birth_date_pattern(ident.birth_date), "DATE_NAISSANCE")
        if ident.ipp and ident.ipp.strip():
            self._add(rf"(?<![\w]){_digits_pattern(P.fold(ident.ipp.strip()), '[ ]?')}{_E}", "IPP")
        nir = re.sub(r"[\s.\-]", "", ident.nir or "")
        if len(nir) >= 13:
            body = _digits_pattern(P.fold(nir[:13]))
            key = _digits_pattern(nir[13:15]) if len(nir) >= 15 else ""
            tail = rf"(?:[ .\-]{{0,2}}{key})?" if key else ""
            self._add(rf"(?<![\w]){body}{tail}(?![\w])", "SECU")
        if ident.phone and (pat := _phone_pattern(ident.phone)):
            self._add(pat, "TEL")
        if ident.email and ident.email.strip():
            self._add(rf"(?<![\w.+\-]){re.escape(P.fold(ident.email.strip()))}(?![\w])", "MAIL")
        if ident.address and len(ident.address.split()) >= 2:
            words = [re.escape(w) for w in re.split(r"[\s,]+", P.fold(ident.address)) if w]
            self._add(_B + r"[\s,]+".join(words) + _E, "ADRESSE")
        zip_code = re.sub(r"\s", "", ident.zip or "")
        if len(zip_code) == 5:
            self._add(
                rf"(?<![\w]){re.escape(zip_code[:2])}[ ]?{re.escape(zip_code[2:])}{_E}", "ZIP"
            )
        self._add_names(ident.city, "VILLE", "identity")

    def find(self, text: str, folded: str | None = None) -> list[PhiSpan]:
        """Every match in ``text``; ``folded`` is ``patterns.fold(text)`` if already computed."""
        if not self._rules or not text:
            return []
        folded = P.fold(text) if folded is None else folded
        out: list[PhiSpan] = []
        for rx, label, source in self._rules:
            for m in rx.finditer(folded):
                s, e = m.span()
                original = text[s:e]
                if label in ("NOM", "PRENOM", "VILLE") and original.islower():
                    # a lone lower-case "petit", "rose", "tours" is the word, not the person/town
                    lone = not re.search(r"[\s\-']", m.group())
                    if lone and (label == "VILLE" or m.group() in P.COMMON_WORD_NAMES):
                        continue
                out.append(PhiSpan(s, e, label, original, source))
        return out
