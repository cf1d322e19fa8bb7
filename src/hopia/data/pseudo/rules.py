"""Rule-based PHI detectors: one function per kind of identifier, all returning candidate spans.

Candidates may overlap; :func:`hopia.data.pseudo.pseudonymiser.merge_spans` resolves them. Each
detector is cheap and skips itself when the text lacks its trigger (no digit, no ``@``...).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.hospitals import find_known_hospitals
from hopia.data.pseudo.nir import parse_nir, spaced_nirs


@dataclass(frozen=True)
class PhiSpan:
    """One identifying span of the original text."""

    start: int
    end: int
    label: str
    text: str
    source: str  # "rule" | "gazetteer" | "identity" | "staff"
    detail: str = ""  # why a borderline rule candidate was kept: "nir:sans-cle", "nir:contexte"


def _span(text: str, start: int, end: int, label: str, detail: str = "") -> PhiSpan:
    return PhiSpan(start, end, label, text[start:end], "rule", detail)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_TWO_DIGIT_PIVOT = 35  # "12/03/35" is 2035, "12/03/36" is 1936: fixed, so runs are reproducible


def expand_year(year: str) -> int:
    """Four-digit year of a written year ("24" → 2024, "51" → 1951, "2 0 2 4" → 2024)."""
    digits = year.replace(" ", "")
    y = int(digits)
    if len(digits) > 2:
        return y
    return 2000 + y if y <= _TWO_DIGIT_PIVOT else 1900 + y


def number_words(words: str) -> int:
    """The value of a French number written in words, folded ("vingt et un" → 21, "mille neuf
    cent soixante-dix-huit" → 1978, "deux mille dix-sept" → 2017, "quatre-vingt-dix" → 90)."""
    total = current = 0
    for w in re.split(r"[ \-]+", words.strip()):
        v = 1 if w == "1er" else P.NUMBER_WORDS[w]
        if v == 1000:
            total += max(current, 1) * 1000
            current = 0
        elif v == 100:
            current = max(current, 1) * 100
        elif v == 20 and current % 100 == 4:  # quatre-vingt
            current += 76
        else:
            current += v
    return total + current


def date_fields(form: str, m: re.Match[str]) -> tuple[int | None, int | None, int | None]:
    """(day, month, year) of a date match; None for the parts the text does not give."""
    g = m.groupdict()
    day = g.get("day")
    d = int(day.replace(" ", "").removesuffix("er")) if day else None
    if g.get("dayw"):
        d = number_words(g["dayw"])
    if g.get("monthname"):
        mo: int | None = P.MONTHS[P.fold(g["monthname"]).rstrip(".")]
    else:
        mo = int(g["month"].replace(" ", "")) if g.get("month") else None
    y = expand_year(g["year"]) if g.get("year") else None
    if g.get("yearw"):
        y = number_words(g["yearw"])
    return d, mo, y


def _valid(d: int | None, mo: int | None, y: int | None) -> bool:
    try:
        date(y or 2000, mo or 1, d or 1)  # 2000 is a leap year: 29/02 without a year is fine
    except ValueError:
        return False
    return True


def match_date(text: str) -> tuple[str, re.Match[str]] | None:
    """The date form that reads the whole of ``text``, with its match (used for surrogates).
    Match offsets are those of ``text``; group strings may be folded: slice ``text`` instead."""
    folded = None
    for form, rx in P.DATE_FORMS.items():
        if form in P.FOLDED_DATE_FORMS:
            folded = P.fold(text) if folded is None else folded
            m = rx.fullmatch(folded)
        else:
            m = rx.fullmatch(text)
        if m:
            return form, m
    return None


def _date_label(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 40) : start]
    if P.BIRTH_BEFORE.search(before) or P.BIRTH_AFTER.match(text, end, end + 16):
        return "DATE_NAISSANCE"
    return "DATE"


_MY_CONTEXT = re.compile(
    r"\b(?:en|depuis|d[èe]s|le|du|au|jusqu['’]en|fin|d[ée]but|mi)[ \t]*-?[ \t]*$", re.IGNORECASE
)
_WORD_FORMS = frozenset({"text", "words"})  # date forms that may have no digit
_ARTICLES = frozenset({"un", "une"})


def find_dates(text: str, folded: str) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    has_digit = re.search(r"\d", text) is not None
    for form, rx in P.DATE_FORMS.items():
        if form not in _WORD_FORMS and not has_digit:
            continue
        for m in rx.finditer(folded if form in P.FOLDED_DATE_FORMS else text):
            s, e = m.span()
            d, mo, y = date_fields(form, m)
            if not _valid(d, mo, y):
                continue
            if form == "text":
                if d is None and y is None:
                    continue  # "mars" alone, "sept" (the number)...
                # trailing dot of an abbreviation belongs to the date, a sentence's dot does not
                if text[e - 1] == "." and m.group("year") is None:
                    e -= 1
            elif form == "dm":
                if not P.DM_CONTEXT.search(text, max(0, s - 20), s):
                    continue
                if m["sep"] == "." and (len(m["day"]) < 2 or len(m["month"]) < 2):
                    continue
            elif form == "year" and not P.YEAR_CONTEXT.search(text, max(0, s - 25), s):
                continue
            elif form == "words":
                # words must be there (else the "text" form's), a day needs a month name or a
                # year, a year in words must be a plausible one
                if m["dayw"] is None and m["yearw"] is None or m["dayw"] in _ARTICLES:
                    continue  # "un mars" is rather an article than a day
                if text[e - 1] == "." and y is None:
                    e -= 1
                if m["month"] is not None and y is None:
                    continue
                if d is not None and not 1 <= d <= 31 or y is not None and not 1900 <= y <= 2100:
                    continue
            elif (
                form == "my" and m["sep"] == " " and not _MY_CONTEXT.search(text, max(0, s - 12), s)
            ):
                continue  # "en 07 2002", not "07 2002" anywhere
            out.append(_span(text, s, e, _date_label(text, s, e)))
    return out


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


_CELLS_GO_ON = re.compile(r" \d")
_LETTER_SPACED = re.compile(r"\w(?: \w)+")


def find_nirs(text: str) -> list[PhiSpan]:
    """NIR: accepted when the key checks; when a "sécurité sociale" word precedes it (marked);
    or, without a valid key, when the 13-character body alone is plausible (sex 1/2, month
    01-12): the key is often left out, and the digits after the body then belong to the next
    number ("1 891074 750419 29/03/89")."""
    out: list[PhiSpan] = []
    pos = 0
    while m := P.NIR_RUN.search(text, pos):
        run = m.group()
        seps = [c for c in run if not c.isalnum()]
        if len(set(seps)) > 1:
            # "21-04-1979 21-10-2018": mixed separators are several numbers. The run may have
            # run into a date after a NIR ("19710 36 802 455 18-04-1997"): read the part with
            # the first separator only; or started on a date before a NIR ("24-11-2018 2 83 06
            # 24 729096"): look again from the next character (the run's look-behind skips
            # the date's digits)
            head = run[: run.index(next(c for c in seps if c != seps[0]))]
            head = head[: head.rfind(seps[0])]  # its last group starts the other number
            span = _read_nir(text, m.start(), head) if seps[0] == " " else None
            if span is not None:
                out.append(span)
                pos = span.end
            else:
                pos = m.start() + 1
            continue
        span = _read_nir(text, m.start(), run)
        if span is not None:
            out.append(span)
            pos = span.end
        elif (
            not run[1].isalnum()
            or _YEAR_OF_DATE.match(run)
            and _MONTH_BEFORE.search(P.fold(text[max(0, m.start() - 12) : m.start()]))
        ):
            # a run that starts on one-digit cells (a date cut in cells, find_digit_cells's)
            # or on the year of a written date may end on a NIR in groups: "1 5 0 3 2 0 2 4
            # 284 05 07152 362", "le 11 novembre 1975 1 60 04 25 311 114 26"
            pos = m.start() + 1
        else:
            pos = m.end()
    out += _labelled_nirs(text, out)
    return out


_YEAR_OF_DATE = re.compile(r"(?:19|20)\d\d ")
_MONTH_BEFORE = re.compile(rf"(?<![a-z])(?:{P.MONTH_ALT})\.? $")


def _read_nir(text: str, s: int, run: str) -> PhiSpan | None:
    """The NIR read in ``run``, written at ``s``, if it is one."""
    if sum(c.isalnum() for c in run) < 13:
        return None
    if _CELLS_GO_ON.match(text, s + len(run)) and _LETTER_SPACED.fullmatch(run):
        return None  # part of a longer run of cells: find_digit_cells cuts it whole
    pos = [s + i for i, c in enumerate(run) if c.isalnum()]
    sig = "".join(text[i] for i in pos)
    nir15 = parse_nir(sig[:15]) if len(sig) >= 15 else None
    date_follows = len(sig) >= 15 and P.DATE_TAIL.match(text, pos[14] + 1)
    if nir15 is not None and nir15.key_ok and not date_follows:
        return _span(text, s, pos[14] + 1, "SECU")
    body = parse_nir(sig[:13])
    if body is None:
        return None
    if P.NIR_CONTEXT.search(text, max(0, s - 60), s):
        end = pos[14] + 1 if len(sig) == 15 else pos[12] + 1
        return _span(text, s, end, "SECU", "nir:contexte")
    if body.sex in "12" and 1 <= int(body.month) <= 12:
        if len(sig) >= 15 and pos[13] == pos[12] + 1:
            return None  # 15 digits in one block: a NIR whose key fails, or not a NIR at all
        end = pos[12] + 1
        # "1 60 04 25 311 114 26": a last group of two digits that ends the run is the key,
        # mistyped (a date's digits would follow it: see date_follows)
        if len(sig) == 15 and not date_follows and pos[14] == pos[13] + 1 > pos[12] + 2:
            end = pos[14] + 1
        return _span(text, s, end, "SECU", "nir:sans-cle")
    return None


# After a NIR's label, the number that follows is the NIR, whatever its shape: a digit left out
# or added, a month that no register uses ("Numéro de sécurité sociale : 173 2857 4932").
def _labelled_nirs(text: str, found: list[PhiSpan]) -> list[PhiSpan]:
    out = []
    for m in P.NIR_LABELLED.finditer(text):
        s, e = m.span("v")
        if not any(f.start < e and s < f.end for f in found):
            out.append(_span(text, s, e, "SECU", "nir:etiquette"))
    return out


_DP_MAX_CELLS = 400  # longer runs (garbage, megabytes of digits) are cut greedily instead


def _cell_tokens(c: str, whole: bool) -> list[tuple[int, str, int]]:
    """What the cells ``c`` (up to 15) may start with: (size, label, strength)."""
    out: list[tuple[int, str, int]] = []
    if P.DATE_CELLS.match(c) and _valid(int(c[:2]), int(c[2:4]), int(c[4:8])):
        out.append((8, "DATE", 2))
    if whole and len(c) == 10 and c[0] == "0" and c[1] != "0":
        out.append((10, "TEL", 2))
    if c[0] in P.NIR_FIRST and len(c) >= 13:
        nir = parse_nir(c) if len(c) == 15 else None
        if nir is not None and nir.key_ok:
            out.append((15, "SECU", 3))
        body = parse_nir(c[:13])
        if body is not None:
            out.append((13, "SECU", 2 if body.sex in "12" and int(body.month) <= 12 else 1))
    return out


def _segment_cells(cells: str) -> list[tuple[int, int, str]]:
    """Cut a run of digit cells into (offset, size, label) tokens covering the most cells,
    then with the strongest readings (key-checked NIR > date, plausible NIR > odd NIR).

    Banners write "date of birth, NIR, date" side by side as one run of cells; a greedy cut
    reads a NIR at the first plausible place and loses the rest. A block of 13 cells that no
    reading explains still counts as a NIR where it covers more of the run ("15032024
    4524374474399 15031985"): letter-spaced cells are form fields, identifiers all."""
    n = len(cells)
    # best[i]: (cells covered, strength, tokens) for cells[i:]
    best: list[tuple[int, int, tuple[tuple[int, int, str], ...]]] = [(0, 0, ())] * (n + 1)
    for i in range(n - 1, -1, -1):
        cov, strength, toks = best[i + 1]
        choice = (cov, strength, toks)
        options = _cell_tokens(cells[i : i + 15], whole=i == 0 and n == 10)
        if n > 15:  # a banner of several fields: taken only where it covers more cells
            # (13 cells, or 14 and 15 when a digit too many or a wrong key would otherwise be
            # left out: "1 4 2 3 8 5 6 8 3 7 8 3 5 3 0 9 0 1 1 9 8 7" is a NIR and a date)
            options += [(13, "SECU", -1), (14, "SECU", -2), (15, "SECU", -2)]
        elif i == 0 and n in (14, 15) and cells[0] in P.NIR_FIRST:
            options.append((n, "SECU", 0))  # one NIR-shaped field whose key fails or is cut
        for size, label, st in options:
            if i + size > n:
                continue
            c2, s2, t2 = best[i + size]
            cand = (c2 + size, s2 + st, ((i, size, label), *t2))
            if cand[:2] > choice[:2]:
                choice = cand
        best[i] = choice
    return list(best[0][2])


def find_digit_cells(text: str) -> list[PhiSpan]:
    """Runs of one-digit cells ("1 4 0 6 2 0 2 2 1 8 4 1 2 ...", as letter-spaced PDF fields
    come out) cut into dates (DDMMYYYY), NIRs and phones (:func:`_segment_cells`)."""
    out: list[PhiSpan] = []
    for m in P.DIGIT_CELLS.finditer(text):
        pos = list(range(m.start(), m.end(), 2))
        cells = "".join(text[i] for i in pos)
        tokens = _segment_cells(cells) if len(cells) <= _DP_MAX_CELLS else _greedy_cells(cells)
        for i, size, label in tokens:
            start, end = pos[i], pos[i + size - 1] + 1
            if label == "DATE":
                label = _date_label(text, start, end)
            out.append(_span(text, start, end, label))
    return out


def _greedy_cells(cells: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    i, n = 0, len(cells)
    while i + 8 <= n:
        options = _cell_tokens(cells[i : i + 15], whole=False)
        if not options:
            i += 1
            continue
        size, label, _ = max(options, key=lambda t: t[2])
        out.append((i, size, label))
        i += size
    return out


def find_phones(text: str) -> list[PhiSpan]:
    out = [
        _span(text, *m.span(), "TEL")
        for rx in P.PHONE_FORMS
        for m in rx.finditer(text)
        if not P.DATE_FORMS["dmy"].match(text, m.start())  # "03-07-1982 05/01/28"
    ]
    for m in P.PHONE_NOISY.finditer(text):
        if sum(c.isdigit() for c in m.group()) == 10:
            out.append(_span(text, *m.span(), "TEL", "tel:bruite"))
    for m in P.PHONE_CONTEXT.finditer(text):
        digits = sum(c.isdigit() for c in m["v"])
        if 4 <= digits <= 15:
            out.append(_span(text, *m.span("v"), "TEL"))
    return out


def find_mails(text: str) -> list[PhiSpan]:
    if "@" not in text:
        return []
    return [_span(text, *m.span(), "MAIL") for m in P.MAIL.finditer(text)]


# A run of 7 to 12 or 14 digits standing alone is an identifier in a clinical note (a lab value,
# a dose or a count has fewer digits, a decimal mark or a unit): a record or stay number written
# without its label ("Dossier 80014523"), a NIR with a digit too many. Only where no other rule
# read the digits (a date, a phone, a labelled IPP or NDA, a NIR): see detect_rules. 13 and 15
# digits are the NIR rule's to judge (and a drug's CIP-13 code or a lot number is no identifier).
_LONG_NUMBER = re.compile(
    r"(?<![\w,.\-/+])(?:\d{7,12}|\d{14})(?!\w|[,.]\d|/|[ \t]*(?i:ui|u\.|unit|mg|µg|ng|g/|ml|copies|"
    r"cellules|cp|€|eur|%))"
)


def find_long_numbers(text: str) -> list[PhiSpan]:
    out = []
    for m in _LONG_NUMBER.finditer(text):
        digits = m.group()
        nir = len(digits) == 14 and digits[0] in P.NIR_FIRST
        out.append(_span(text, *m.span(), "SECU" if nir else "IPP", "nombre-long"))
    return out


def find_ids(text: str) -> list[PhiSpan]:
    out = [_span(text, *m.span("v"), "IPP") for m in P.IPP_CONTEXT.finditer(text)]
    out += [_span(text, *m.span("v"), "IPP") for m in P.IPP_PATIENT.finditer(text)]
    out += [_span(text, *m.span("v"), "NDA") for m in P.NDA_CONTEXT.finditer(text)]
    return out


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------

_CITY_JOINERS = frozenset(P.words("sur sous en de du des la le les et l' d'"))
_CITY_STOP = (
    P.NAME_STOPWORDS
    | frozenset(
        P.fold(w)
        for w in P.words(
            """
            ui mg ml g kg cp euros eur bp cs tél tel fax dr pr hôpital hopital clinique chu ch chr
            chru noël pâques toussaint rendez j m h s
            """
        )
    )
) - _CITY_JOINERS
_WORDS = re.compile(r"[^ \t\-'’]+")


def _commune_end(text: str, start: int, end: int) -> int | None:
    """End of the commune written at ``start:end`` once trailing non-commune words ("CHU
    AVICENNE", "Tel") are cut off; None when it does not look like a commune at all."""
    words = list(_WORDS.finditer(text, start, end))
    first = P.fold(words[0].group())
    if first in _CITY_STOP or end - start < 3 or first.startswith(("l'", "d'")):
        return None
    for w in words[1:]:
        if P.fold(w.group()) in _CITY_STOP:
            return _rstrip_end(text, start, w.start())
    return end


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t-–,":
        end -= 1
    return end


def _zip_city(text: str, m: re.Match[str], out: list[PhiSpan]) -> None:
    out.append(_span(text, *m.span("zip"), "ZIP"))
    if m["city"] and (end := _commune_end(text, *m.span("city"))):
        out.append(_span(text, m.start("city"), end, "VILLE"))


_FIELD_LABEL_END = re.compile(r"[ \t]*:")


def find_places(text: str, folded: str) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    for rx in (P.ADDRESS, P.ADDRESS_NO_NUMBER):
        for m in rx.finditer(text):
            s, e = m.span()
            # "255 Rue Pierre Charlot Paris": the street name stops before a known commune
            last = folded.rfind(" ", s, e)
            if last > s and folded[last + 1 : e] in P.KNOWN_CITIES:
                out.append(_span(text, last + 1, e, "VILLE"))
                e = last
            out.append(_span(text, s, e, "ADRESSE"))
            z = P.ZIP_AFTER_ADDRESS.match(text, e)
            if z:
                _zip_city(text, z, out)
            elif z := P.ZIP_FOREIGN_AFTER_ADDRESS.match(text, e):
                out += [_span(text, *z.span("zip"), "ZIP"), _span(text, *z.span("city"), "VILLE")]
    for m in P.CITY_FIELD.finditer(text):
        if P.fold(m["city"]) not in _PLACEHOLDERS:
            out.append(_span(text, *m.span("city"), "VILLE", "champ"))
    out += [_span(text, *m.span("zip"), "ZIP") for m in P.ZIP_CONTEXT.finditer(text)]
    for m in P.ADDRESS_FOREIGN.finditer(text):
        out.append(_span(text, *m.span(), "ADRESSE", "etranger"))
        if z := P.ZIP_AFTER_ADDRESS.match(text, m.end()):
            _zip_city(text, z, out)
    for m in P.ZIP_CITY.finditer(text):
        if _FIELD_LABEL_END.match(text, m.end("city")):  # "29870 Ville : Kermoal": a label
            out.append(_span(text, *m.span("zip"), "ZIP"))
        elif _commune_end(text, *m.span("city")):
            _zip_city(text, m, out)
    for m in P.CITY_CONTEXT.finditer(text):
        s, e = m.span("city")
        end = _commune_end(text, s, e)
        first = P.fold(_WORDS.match(text, s).group())  # type: ignore[union-attr]
        # after a bare "à" the capitalised word must look like a commune, not a person
        if end and (m["strong"] is not None or first not in P.FIRST_NAMES):
            out.append(_span(text, s, end, "VILLE"))
    for m in P.CITY_AFTER_CLINICIAN.finditer(text):  # "Dr Jean REY (Vienne)"
        group = "city" if m["city"] else "city2"
        if end := _commune_end(text, *m.span(group)):
            out.append(_span(text, m.start(group), end, "VILLE"))
    for m in P.CITY_DATELINE.finditer(text):  # "Rennes, le 12 mars 2024"
        if end := _commune_end(text, *m.span("city")):
            out.append(_span(text, m.start("city"), end, "VILLE"))
    for m in P.CITY_KNOWN.finditer(folded):
        if text[m.start("city")].isupper():
            out.append(_span(text, *m.span("city"), "VILLE"))
    # "Paris 75015", "à Marseille, 13006": a postcode right after a commune
    for v in [s for s in out if s.label == "VILLE"]:
        if z := P.ZIP_AFTER_CITY.match(text, v.end):
            out.append(_span(text, *z.span("zip"), "ZIP"))
    return out


_HOSPITAL_CUT = re.compile(
    r"[ \t]+(?=(?:Dr|Pr|Mme|M|Mr|Docteur|Professeur|Madame|Monsieur|Service|Unité|Pôle|"
    r"Département|Tél|Tel|Fax)\b|(?:Le|La|Les)\b(?![ \t]+[A-ZÀ-Þ]))"
)


def find_hospitals(text: str, folded: str | None = None) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    for m in P.HOSPITAL.finditer(text):
        s, e = m.span()
        cut = _HOSPITAL_CUT.search(text, m.end("kw"), e)
        if cut:
            e = _rstrip_end(text, s, cut.start())
        if e > m.end("kw") + 1 and not _generic_name(text, s, m.end("kw"), e):
            # a name is left after the keyword: not "SSR" or "CHU" alone
            out.append(_span(text, s, e, "HOPITAL"))
    out += [_span(text, *m.span(), "HOPITAL") for m in P.HOSPITAL_ALONE.finditer(text)]
    out += [_span(text, *m.span(), "HOPITAL", "site") for m in P.HOSPITAL_SITE.finditer(text)]
    out += [_span(text, *m.span(), "HOPITAL", "code") for m in P.HOSPITAL_TRIGRAM.finditer(text)]
    out += [
        _span(text, *m.span("site"), "HOPITAL", "site") for m in P.HOSPITAL_AT_SITE.finditer(text)
    ]
    out += [_span(text, *m.span(), "HOPITAL") for m in P.HOSPITAL_ENGLISH.finditer(text)]
    out += [_span(text, *m.span(), "HOPITAL") for m in P.HOSPITAL_POINT.finditer(text)]
    out += [
        _span(text, *m.span("name"), "HOPITAL", "apres-service")
        for m in P.HOSPITAL_AFTER_WARD.finditer(text)
        if _unknown_place(m["name"])
    ]
    out += [
        _span(text, *m.span("code"), "HOPITAL", "code")
        for m in P.HOSPITAL_CODE.finditer(text)
        if _site_code(m["code"])
    ]
    out += [
        _span(text, *m.span("code"), "HOPITAL", "code")
        for m in P.HOSPITAL_CODE_AFTER_MOVE.finditer(text)
        if _site_code(m["code"]) and P.fold(m["code"]) not in _NOT_SITE_AFTER_MOVE
    ]
    # hospitals the gazetteer names without their keyword or in lower case ("revu à Mondor",
    # "Centre Léon Bérard", "hôpital de la conception")
    f = P.fold(text) if folded is None else folded
    out += [_span(text, s, e, "HOPITAL", why) for s, e, why in find_known_hospitals(text, f)]
    # "Hôpital Georges Pompidou 75015": a postcode right after a hospital's name
    for h in list(out):
        if z := P.ZIP_AFTER_CITY.match(text, h.end):
            out.append(_span(text, *z.span("zip"), "ZIP"))
    out += _lower_hospitals(text)  # "CH de vierzon": the keyword may be in capitals
    return _fused_hospitals(text, out)


def _fused_hospitals(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Overlapping hospital readings as one span over their union ("Hôpital Necker-Enfants" by
    the keyword rule and "Necker-Enfants malades" by the list; "GHU AP-HP" and "AP-HP.
    Sorbonne Université"): the longest alone would leave the rest of the name in clear."""
    hosp = sorted((s for s in spans if s.label == "HOPITAL"), key=lambda s: (s.start, -s.end))
    out = [s for s in spans if s.label != "HOPITAL"]
    for s in hosp:
        last = out[-1] if out and out[-1].label == "HOPITAL" else None
        if last is not None and s.start < last.end:
            if s.end > last.end:
                out[-1] = _span(text, last.start, s.end, "HOPITAL", last.detail)
            continue
        out.append(s)
    return out


_GENERIC = frozenset(
    P.words(
        """
        assistant assistants multidisciplinaire multidisciplinaires universitaire universitaires
        prive privee readaptation specialise specialisee interne externe pluridisciplinaire
        """
    )
)
_CHEF_DE = re.compile(r"\bchefs?[ \t]+de[ \t]+$", re.IGNORECASE)


def _generic_name(text: str, start: int, kw_end: int, end: int) -> bool:
    """ "Centre de Santé Mentale", "Clinique Multidisciplinaire", "Chef de Clinique Assistant":
    words that name no place (common words of the stop-list), or a post ("chef de clinique")."""
    from hopia.data.pseudo.gazetteer import load

    if _CHEF_DE.search(text, max(0, start - 12), start):
        return True
    stop = load().stop
    keys = [P.fold(w) for w in re.findall(rf"[{P.LET}]+", text[kw_end:end])]
    return all(k in stop or k in _GENERIC or k in P.PARTICLES for k in keys)


# Acronyms that follow a ward's name and are no site: units, exams, diseases, grades.
_NOT_SITE = frozenset(
    P.words(
        """
        usi usic usc sau uhcd hdj hds hc ssr slc smur samu mco had ehpad usld cmp cmpp cattp
        irm tdm tep ecg eeg emg ett eto avc ait hta ide ash as ph pu cca mcu aho ahu phc dr pr
        sa ra rea chu chr chru ch gh ghu clcc uf ut cs dp cr cro crh rcp nb ps ap hp aphp
        vih vhb vhc bpco ira irc ic sca oap tvp ep dt ivg pma ist iu cpam mdph ars has cnil
        """
    )
)


# Places of a hospital that patients are moved to, and other acronyms after "transféré à"
_NOT_SITE_AFTER_MOVE = frozenset(
    P.words(
        """
        bo sspi si sc usip uspc usinv usv urg sau rea med chir psy ped mpr smr ssr had ehpad usld
        um uma umj ucsa ums ufr ucc uhsa uhr pasa emsp emg hdj hds hdn hc uf ut cmp cattp cmpp
        utep uro ort orl cv cvt ccv dom domicile sos samu smur pma cpef ivg ecmo irm tdm tep
        scanner rx echo mco ssiad sap ide ap hp aphp chu chr chru ch gh ghu clcc fam mas ime esat
        """
    )
)


def _site_code(code: str) -> bool:
    from hopia.data.pseudo.gazetteer import load

    key = P.fold(code)
    return key not in _NOT_SITE and key not in load().stop and key not in P.NAME_STOPWORDS


def _unknown_place(name: str) -> bool:
    """No word of ``name`` is a common word or a first name, and ``name`` is no commune the
    gazetteer reads as a town: a hospital's place ("Crignac"), not "Service de cardiologie de
    Garde", "de Jean", "de Lyon"."""
    from hopia.data.pseudo.gazetteer import load
    from hopia.data.pseudo.lexicon import common_words

    g, known = load(), common_words()
    keys = [P.fold(w) for w in re.findall(rf"[{P.LET}]+", name)]
    if " ".join(keys) in g.communes:
        return False
    return all(k not in known and k not in g.stop and k not in g.first_names for k in keys)


_SAINTS = frozenset(("saint", "sainte", "st", "ste"))


def _lower_hospitals(text: str) -> list[PhiSpan]:
    """ "l'hôpital bichat", "chu de rennes": the words after the keyword, as long as each is a
    name or a commune of the gazetteers and in no way a common word ("hôpital de jour" is
    not a hospital's name)."""
    from hopia.data.pseudo.gazetteer import AMBIGUOUS, key_of, load

    g = load()
    out = []
    for m in P.HOSPITAL_LOWER.finditer(text):
        end = None
        for w in re.finditer(r"[^ \t\-]+", text[m.start("name") : m.end("name")]):
            key = key_of(w.group())
            if key in _SAINTS:
                continue  # "saint-louis": judged with the next word
            codes = [g.first_names.get(key, 0), g.surnames.get(key, 0)]
            commune = g.communes.get(key)
            named = any(c and not c & AMBIGUOUS for c in codes) or commune is not None
            if key in g.stop or not named:
                break
            end = m.start("name") + w.end()
        if end is not None:
            out.append(_span(text, m.start(), end, "HOPITAL", "minuscules"))
    return out


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

_Token = tuple[int, int, str]  # start, end, text


def _is_initial(tok: str) -> bool:
    letters = tok.replace(".", "").replace("-", "")
    return len(letters) <= 2 and letters.isupper() or (tok.endswith(".") and len(letters) <= 3)


@lru_cache(maxsize=8192)
def _is_first_name(tok: str) -> bool:
    f = P.fold(tok)
    return f in P.FIRST_NAMES or all(p in P.FIRST_NAMES for p in f.split("-") if p)


def _scan_name(
    text: str, pos: int, max_tokens: int = 6, skip_stop: bool = False, comma: bool = False
) -> list[_Token]:
    """Name tokens starting at ``pos``, stopping at the first word that cannot be a name
    (``skip_stop``: such words before the first name token are skipped, not stopping;
    ``comma``: "DUPONT, Jean" is one name, as in patient banners)."""
    gap_rx = P.NAME_GAP_COMMA if comma else P.NAME_GAP
    toks: list[_Token] = []
    while len(toks) < max_tokens:
        m = P.NAME_TOKEN.match(text, pos)
        if not m:
            break
        tok = m.group()
        word = P.fold(tok.split()[-1].rstrip("."))  # "Le Dr" is a title, not "Le Gall"
        dotted = len(tok) == 2 and tok[1] == "."
        # "G", "Ph.", "MA.": initials, although "g", "ph" or "ma" are also common words
        abbreviated = _ABBREVIATED.fullmatch(tok) is not None and word not in _TITLE_WORDS
        bare = (len(tok) == 1 and tok.isupper() or abbreviated) and _bare_initial(
            text, m.end(), bool(toks)
        )
        if word in P.NAME_STOPWORDS and not bare and not (dotted and (toks or not skip_stop)):
            # "M." after a title or a name is an initial; "Le" or "Madame" are not names
            if toks or not skip_stop:
                break
        else:
            toks.append((m.start(), m.end(), tok))
        # one comma, right after the first word: "DUPONT, Jean" but not "DUPONT, Jean, Martin"
        gap = (gap_rx if len(toks) == 1 else P.NAME_GAP).match(text, m.end())
        if not gap:
            break
        pos = gap.end()
    if len(toks) > 1 and toks[-1][2] == "A" and _LOWER_NEXT.match(text, toks[-1][1]):
        toks.pop()  # "DUPONT A faxer": a capital A after a name is "à" without its accent
    return toks


_TITLE_WORDS = frozenset(P.words("m dr drs pr prs mme mmes mr mm me pt st ste mlle"))
_ABBREVIATED = re.compile(rf"[{P.UP}][{P.LET}]{{0,2}}\.")
_LOWER_NEXT = re.compile(rf"[ \t]+[{P.LO}]")
_NAME_NEXT = re.compile(rf"[ \t]+(?P<w>[{P.UP}][{P.LET}'’\-]+)")


def _bare_initial(text: str, end: int, after_name: bool) -> bool:
    """A capital letter without its dot is an initial ("Dr G SANTERRE", "MARECHAL C"), not "à"
    nor "g": after a name, unless a word in lower case follows ("DUPONT A faxer"); else before
    a word that can be a name."""
    if after_name:
        return not _LOWER_NEXT.match(text, end)
    nxt = _NAME_NEXT.match(text, end)
    return nxt is not None and P.fold(nxt["w"]) not in P.NAME_STOPWORDS


def _group(text: str, toks: list[_Token], label: str) -> PhiSpan:
    return _span(text, toks[0][0], toks[-1][1], label)


def split_name(text: str, toks: list[_Token], hint: str | None = None) -> list[PhiSpan]:
    """Tell first names from surnames in a run of name tokens.

    Initials are first names. Otherwise every cut (first names before or after the surname) is
    scored: known first names on the first-name side, unknown words on the surname side, a bonus
    when the surname is the upper-case part ("DUPONT Jean"); a tie reads "Prénom Nom".
    """
    if not toks:
        return []
    if len(toks) == 1:
        if _is_initial(toks[0][2]) and hint != "PRENOM":
            return []
        return [_group(text, toks, hint or "NOM")]
    kinds = ["I" if _is_initial(t[2]) else "U" if t[2].isupper() else "C" for t in toks]
    if "I" in kinds:
        firsts = [t for t, k in zip(toks, kinds, strict=True) if k == "I"]
        lasts = [t for t, k in zip(toks, kinds, strict=True) if k != "I"]
        return _split_groups(text, firsts, lasts)
    n = len(toks)
    known = [_is_first_name(t[2]) for t in toks]
    surname = [P.fold(t[2]) in P.SURNAMES_FOLDED for t in toks]
    best: tuple[float, int, bool] = (-1.0, n - 1, True)
    for k in range(1, n):
        for first_first in (True, False):
            firsts = range(0, k) if first_first else range(k, n)
            lasts = range(k, n) if first_first else range(0, k)
            score = sum(known[i] for i in firsts) + sum(not known[i] for i in lasts)
            score += 0.5 * sum(surname[i] and not known[i] for i in lasts)
            if all(kinds[i] == "U" for i in lasts) and all(kinds[i] == "C" for i in firsts):
                score += 1.5  # the usual convention: the surname in capitals
            if first_first and k == n - 1:
                score += 0.25  # no evidence: "Prénom(s) Nom", as after a title in letters
            if hint == "NOM" and not first_first:
                score += 0.3
            if score > best[0]:
                best = (score, k, first_first)
    _, k, first_first = best
    if first_first:
        return _split_groups(text, toks[:k], toks[k:])
    return _split_groups(text, toks[k:], toks[:k])


def _split_groups(text: str, firsts: list[_Token], lasts: list[_Token]) -> list[PhiSpan]:
    out = []
    for toks, label in ((firsts, "PRENOM"), (lasts, "NOM")):
        # a group is written as one span when contiguous ("Gilberte Yvonne"), else token by token
        runs: list[list[_Token]] = []
        for t in sorted(toks):
            if runs and text[runs[-1][-1][1] : t[0]].strip() == "":
                runs[-1].append(t)
            else:
                runs.append([t])
        out += [_group(text, r, label) for r in runs]
    return out


# 2 to 8 capitalised words in a row: where untitled names can be
_NAME_RUN = re.compile(
    rf"(?=[{P.UP}])(?<![{P.LET}\d'’.°/\-])"
    rf"(?:[{P.UP}](?:[{P.LET}'’\-]|\.(?=-?[{P.UP}]))*\.?(?:[ \t]+|(?![\w'’\-]))){{2,8}}"
)

_NEXT_WORD = re.compile(r"[^ \t]*[ \t]*")
_DOTTED = re.compile(r"[A-Z]\.(?:-?[A-Z]\.)*")


def find_names(text: str, folded: str | None = None) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    for m in P.TITLE.finditer(text):
        role = m["role"] is not None
        titled = split_name(text, _scan_name(text, m.end(), skip_stop=role, comma=role))
        if not titled and (g := _GLUED_INITIAL.match(text, m.end())):  # "Dr A.Mariniere"
            titled = [_span(text, *g.span(1), "PRENOM"), _span(text, *g.span(2), "NOM")]
        out += titled + (_coordinated(text, max(s.end for s in titled)) if titled else [])
    for m in P.ROLE_FIELD.finditer(text):
        out += _role_value(text, m.end())
    for m in P.NAME_AFTER_VERB.finditer(text):
        out += _role_value(text, m.end(), alone=True)
    for m in P.FIELD_NAME.finditer(text):
        label = "NOM" if m["nom"] else "PRENOM"
        toks = _scan_name(text, m.end())
        out += split_name(text, toks, label) if toks else _lower_field(text, m.end(), label)
    # Untitled "Jean DUPONT" / "DUPONT Jean" / "Rémi Foliet": only when a known first name is in
    # the run, next to a word that can be a surname.
    for m in _NAME_RUN.finditer(text):
        pos = m.start()
        while pos < m.end():
            toks = _scan_name(text, pos, skip_stop=True)
            pos = _NEXT_WORD.match(text, toks[-1][1] if toks else pos).end()
            if len(toks) < 2:
                continue
            known = [_is_first_name(t[2]) for t in toks]
            mixed = len({t[2].isupper() for t in toks}) == 2
            # "R. Desloges", "GREMILLON G.": a dotted initial before a name or after a surname
            # in capitals ("°C. Score", "NYHA II." are not)
            initial = len(toks) == 2 and (
                (_DOTTED.fullmatch(toks[0][2]) and not _DOTTED.fullmatch(toks[1][2]))
                or (_DOTTED.fullmatch(toks[1][2]) and toks[0][2].isupper())
            )
            if (any(known) and (mixed or not all(known))) or initial:
                out += split_name(text, toks)
            else:
                out += _initial_pairs(text, toks)
    if out:
        out += _propagate(text, P.fold(text) if folded is None else folded, out)
    return _join_adjacent(text, out)


_GLUED_INITIAL = re.compile(
    rf"([{P.UP}]\.)([{P.UP}][{P.LO}]{{2,}}(?:-[{P.UP}][{P.LO}]+)?|[{P.UP}]{{3,}}(?:-[{P.UP}]{{2,}})?)"
    r"(?![\w\-])"
)
_WORD_AFTER = re.compile(rf"[{P.UP}][{P.LET}'’]*(?:-[{P.UP}][{P.LET}'’]*)*(?![\w\-])")


def _role_value(text: str, pos: int, alone: bool = False) -> list[PhiSpan]:
    """The person after a role's label ("Médecin traitant : Perrot", "Opérateur : KOWALCZYK
    Jan") or, ``alone``, the one capitalised surname after "vu par", "avis de": read as after a
    title when it holds a first name or several words; one word only when it can be a surname
    and is no common, medical or function word ("Aide : Totale", "vu par Cardiologie", "avis
    de Jean": the first name is the gazetteers')."""
    from hopia.data.pseudo.gazetteer import AMBIGUOUS, load
    from hopia.data.pseudo.lexicon import common_words

    if P.TITLE.match(text, pos):
        return []  # "Secrétaire : M. Jean Dewasme": the title's rule reads it
    toks = [] if alone else _scan_name(text, pos, skip_stop=False, comma=True)
    if len(toks) > 1 and any(_is_first_name(t[2]) for t in toks):
        return split_name(text, toks)
    m = _WORD_AFTER.match(text, pos)
    if m is None or len(m.group()) < 3:
        return []
    key = P.fold(m.group())
    g = load()
    parts = key.replace("'", " ").replace("’", " ").split("-")
    if key in g.stop or key in P.NAME_STOPWORDS or key in P.COMMON_WORD_NAMES:
        return []
    if any(k in common_words() or _MEDICAL_WORD.search(k) for k in parts):
        return []
    if key in g.first_names and key not in g.surnames:
        return []  # a first name alone: the gazetteers judge it
    code = g.surnames.get(key, 0)
    town = g.communes.get(key)
    if code & AMBIGUOUS or (town is not None and (not code or town.population >= 20_000)):
        return []  # "Laval", "Tours": a town or a word as much as a person
    return [_span(text, *m.span(), "NOM", "role")]


# The next surnames of one title ("Drs Kerbrat et Zanetti", "Pr Nguyen, Lambert et Okafor",
# "Dr Kerbrat / Zanetti"): a capitalised word after "," "et" "&" "/", up to three of them.
_COORDINATED = re.compile(
    rf"[ \t]*(?:,|et|&|/)[ \t]+(?P<name>[{P.UP}][{P.LO}]+(?:-[{P.UP}][{P.LO}]+)?|[{P.UP}]{{5,}})"
    rf"(?![\w\-'’])"
)


def _coordinated(text: str, pos: int) -> list[PhiSpan]:
    """Surnames coordinated with a titled one: never a common word, a first name or a word of
    the stop-list ("Dr Dupont, Cardiologie", "Dr Dupont et Madame", "et Jean")."""
    from hopia.data.pseudo.gazetteer import load
    from hopia.data.pseudo.lexicon import common_words

    out: list[PhiSpan] = []
    g = load()
    for _ in range(3):
        m = _COORDINATED.match(text, pos)
        if m is None:
            break
        key = P.fold(m["name"])
        if key in g.stop or key in P.NAME_STOPWORDS or _MEDICAL_WORD.search(key):
            break
        if any(k in common_words() for k in key.split("-")):
            break
        if key in g.first_names:
            if key not in g.surnames:
                break  # "Dr Dupont et Jean Martin": the name rules read it
        else:  # "Lambert" is both: the name rules read it, the chain goes on
            out.append(_span(text, *m.span("name"), "NOM", "coordonne"))
        pos = m.end()
    return out


# Medical words the general lexicon lacks ("Infectiologie", "Néphrologie", "Gériatrie").
_MEDICAL_WORD = re.compile(
    r"(?:logie|logue|ique|iatrie|tomie|graphie|therapie|pathie|emie|ite|ose|scopie|ologie)$"
)


# A field's value in lower case ("Nom : kerdraon", "prénom : yvonne"): up to three words on its
# line, whatever they are (a surname may be a common word: "nom : petit"), but not a placeholder.
_LOWER_FIELD = re.compile(r"[a-zß-ÿ][a-zß-ÿ'’]*(?:(?:[ \t]|-)[a-zß-ÿ][a-zß-ÿ'’]*){0,2}")
_PLACEHOLDERS = frozenset(
    P.words("non renseigne inconnu inconnue anonyme nc nr ras neant sans aucun prenom nom ne nee")
)


def _lower_field(text: str, pos: int, label: str) -> list[PhiSpan]:
    m = _LOWER_FIELD.match(text, pos)
    end = pos
    for w in re.finditer(r"[^ \t]+", m.group() if m else ""):
        # "dupont prénom : marie": the next field's label ends the value
        if P.fold(w.group()) in _PLACEHOLDERS or len(w.group()) < 2:
            break
        end = pos + w.end()
    return [_span(text, pos, end, label, "champ")] if end > pos else []


# Initials beside a surname, without a title: "Czernikowska S.", "Louet J.-C.", "MARECHAL C",
# "D Tronchere". A bare capital is an initial only beside a word in capitals or a known surname
# ("Vitamine D", "Hépatite B", "A Paris" are not names).
_INITIALS = re.compile(r"[A-Z](?:(?:\.-?|-)[A-Z]\.?|\.)?")
_NOT_BEFORE_INITIAL = P.NAME_STOPWORDS | frozenset(
    P.words(
        """
        annexe tableau schema secteur salle aile box poste lot page variant cellule lymphocyte
        tome hemophilie vitamine hepatite groupe type stade classe phase facteur figure niveau
        zone lit chambre bloc batiment porte etage unite pavillon escalier equipe insuline
        proteine immunoglobuline anticorps antigene cas partie point vaccin souche grade option
        article chapitre section volume rang ligne colonne serie version modele catalogue
        """
    )
)


def _initial_pairs(text: str, toks: list[_Token]) -> list[PhiSpan]:
    from hopia.data.pseudo.gazetteer import load

    g = load()
    out: list[PhiSpan] = []
    for a, b in zip(toks, toks[1:], strict=False):
        for ini, word, first in ((a, b, True), (b, a, False)):
            if not _INITIALS.fullmatch(ini[2]) or _INITIALS.fullmatch(word[2]):
                continue
            key = P.fold(word[2])
            if len(key) < 3 or key in _NOT_BEFORE_INITIAL or key in g.stop:
                continue
            bare = len(ini[2]) == 1
            if bare and not (word[2].isupper() or key.replace("-", " ") in g.surnames):
                continue
            if bare and first and (ini[2] in "AY" or key in g.communes):
                continue  # "A Paris": à, not an initial
            out += [_span(text, ini[0], ini[1], "PRENOM"), _span(text, word[0], word[1], "NOM")]
            break
    return out


_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")  # on folded text: ’ is already '
_NOT_PROPAGATED = P.NAME_STOPWORDS | P.COMMON_WORD_NAMES


def _propagate(text: str, folded: str, found: list[PhiSpan]) -> list[PhiSpan]:
    """Tag the other mentions of names found in context ("Dr. Cecchi" ... "Cecchi a appelé"),
    word by word; :func:`_join_adjacent` then rebuilds the multi-word names."""
    votes: dict[str, Counter[str]] = {}
    for s in found:
        for m in _WORD.finditer(P.fold(s.text)):
            w = m.group()
            if len(w) >= 3 and w not in _NOT_PROPAGATED:
                votes.setdefault(w, Counter())[s.label] += 1
    if not votes:
        return []
    out = []
    for m in _WORD.finditer(folded):
        counts = votes.get(m.group())
        if counts is not None and text[m.start()].isupper():
            out.append(_span(text, *m.span(), counts.most_common(1)[0][0]))
    return out


def _join_adjacent(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Merge same-label name spans separated by one blank ("Gilberte" "Yvonne" → one span)."""
    out: list[PhiSpan] = []
    # The label in the key keeps the order independent of set iteration (PYTHONHASHSEED).
    for s in sorted(set(spans), key=lambda s: (s.start, -s.end, s.label)):
        prev = out[-1] if out else None
        if prev and prev.label == s.label and text[prev.end : s.start] in (" ", "\t"):
            out[-1] = _span(text, prev.start, s.end, s.label)
        else:
            out.append(s)
    return out


_NIR_WINDOW = 80  # characters around a NIR where a date of the same year is the birth date


def _birth_from_nir(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """A date near a NIR that repeats its birth year is the birth date (the NIR encodes it);
    patient banners write them side by side without any "né le"."""
    births = []
    for n in spans:
        if n.label == "SECU" and (nir := parse_nir(n.text)) is not None:
            births.append((n.start - _NIR_WINDOW, n.end + _NIR_WINDOW, int(nir.year)))
    if not births:
        return spans
    births.sort()
    starts = [b[0] for b in births]
    widest = max(e - s for s, e, _ in births)
    out = []
    for d in spans:
        if d.label == "DATE" and (hit := match_date(d.text)):
            y = date_fields(*hit)[2]
            # only the windows that can hold d.start: a banner of thousands of NIRs and dates
            # stays linear
            lo, hi = bisect_left(starts, d.start - widest), bisect_left(starts, d.start)
            if y is not None and any(
                y % 100 == yy and s < d.start < e for s, e, yy in births[lo:hi]
            ):
                d = _span(text, d.start, d.end, "DATE_NAISSANCE", "annee-du-nir")
        out.append(d)
    return out


def detect_rules(text: str, folded: str | None = None) -> list[PhiSpan]:
    """All rule candidates in ``text`` (overlapping; merged by the pseudonymiser).
    ``folded``: ``patterns.fold(text)`` when the caller already has it."""
    if not text:
        return []
    folded = P.fold(text) if folded is None else folded
    out = find_mails(text)
    if re.search(r"\d", text):
        out += find_nirs(text)
        out += find_digit_cells(text)
        out += [_span(text, s, e, "SECU", why) for s, e, why in spaced_nirs(text)]
        out += find_phones(text)
        out += find_ids(text)
    out += find_dates(text, folded)
    out = _birth_from_nir(text, out)
    out += find_places(text, folded)
    out += find_hospitals(text, folded)
    out += find_names(text, folded)
    # The gazetteers fill what the rules left: where a rule found something, its reading (extent,
    # first name / surname split) stands, except a commune cut short ("Champagne" of
    # "Champagne-au-Mont-d'Or"), which the list knows whole. Imported here: gazetteer.py imports
    # PhiSpan from this module.
    from hopia.data.pseudo.gazetteer import find_gazetteer

    taken = bytearray(len(text))  # 1: any rule span, 2: a rule commune
    for s in out:
        taken[s.start : s.end] = (b"\x02" if s.label == "VILLE" else b"\x01") * (s.end - s.start)
    if re.search(r"\d{7}", text):
        out += [n for n in find_long_numbers(text) if not taken[n.start : n.end].strip(b"\x00")]
    for g in find_gazetteer(text, folded):
        covered = taken[g.start : g.end]
        if not covered.strip(b"\x00") or (
            g.label == "VILLE"
            and b"\x01" not in covered
            and (g.start == 0 or taken[g.start - 1] != 2)
            and (g.end == len(text) or taken[g.end] != 2)
        ):
            out.append(g)
    return out
