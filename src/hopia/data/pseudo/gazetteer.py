"""Gazetteer detection: French first names, surnames and communes from large open lists.

The lists (gazetteers/, built by scripts/build_gazetteers.py; sources and licences in
gazetteers/SOURCES.md) are loaded once per process. Matching works on words of the folded text
(lower case, no accents, same offsets as the original) with dictionary look-ups only; the case of
the original text is the main evidence. A list hit alone is never enough, since nearly every
capitalised French word is somebody's surname: context rules keep precision.

- People: a first name next to a surname, the surname in capitals ("Jean DUPONT", "DUPONT
  Jean") or known and unambiguous ("Jean Dupont", "Dufour Elodie"); names in lower case or in
  a mix of cases ("krier franck", "Aubin gaston") only at the head of a line or after a title,
  every word in the lists; a surname after "née" / "épouse".
- Communes: a known unambiguous commune written with a capital ("Lorient"); any commune right
  after a postcode (the postcode too), after "à", or heading a dateline ("Vue, le 12 mars").
- Never: a word of the medical / function stop-list (CIM-10 labels, drug names...), a name
  after "maladie de" or "rue", an ambiguous entry ("Rose", "Blanc", "Vue") without its context,
  two first names side by side ("Daniel Andre": which is the surname?).

:func:`~hopia.data.pseudo.rules.detect_rules` adds these candidates where no rule found anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.rules import PhiSpan

DATA = Path(__file__).with_name("gazetteers")

AMBIGUOUS = 1  # flag bit of a name or commune entry; the INSEE tier (1-4) is in the bits above


@dataclass(frozen=True)
class Commune:
    name: str
    postcodes: tuple[str, ...]
    population: int
    ambiguous: bool


@dataclass(frozen=True)
class Gazetteer:
    first_names: dict[str, int]  # key → tier << 1 | AMBIGUOUS
    surnames: dict[str, int]
    communes: dict[str, Commune]  # key ("saint malo") → entry
    commune_prefixes: frozenset[str]  # every word prefix of a commune key ("saint")
    stop: frozenset[str]


def key_of(name: str) -> str:
    """Look-up key of a name or commune, as the build script writes it: folded, words separated
    by one space, "St"/"Ste" spelt out."""
    words = re.split(r"[\s\-]+", P.fold(name.strip()))
    return " ".join(_SAINT.get(w, w) for w in words if w)


_SAINT = {"st": "saint", "ste": "sainte"}


def _names(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, code = line.split("\t")
        tier = int(code[-2] if code.endswith("a") else code[-1])
        key = P.fold(name).replace("-", " ")  # key_of, faster: the files hold single blanks
        if key not in out:  # frequency order: the first spelling is the most frequent
            out[key] = tier << 1 | (AMBIGUOUS if code.endswith("a") else 0)
    return out


@cache
def load() -> Gazetteer:
    """The gazetteers, read once per process (about 0.5 s and 60 MB)."""
    communes: dict[str, Commune] = {}
    prefixes: set[str] = set()
    for line in (DATA / "communes.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, codes, population, flag = line.split("\t")
        key = key_of(name)
        communes[key] = Commune(name, tuple(codes.split(",")), int(population), flag == "a")
        words = key.split()
        prefixes.update(" ".join(words[:i]) for i in range(1, len(words)))
    stop = {
        w for w in (DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines() if w[:1] != "#"
    }
    return Gazetteer(
        _names(DATA / "first_names.txt"),
        _names(DATA / "surnames.txt"),
        communes,
        frozenset(prefixes),
        frozenset(stop) | P.NAME_STOPWORDS,
    )


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # on folded text, where ’ is already '
_HYPHEN = re.compile(r"[ \t]*-[ \t]*|-")
_SPACE = re.compile(r"[ \t]+")
_COMMA = re.compile(r"[ \t]*,[ \t]*")


@dataclass(slots=True)
class _Unit:
    """One word, or hyphenated compound ("Jean-Pierre", "Dupont-Martin")."""

    start: int
    end: int
    key: str  # key_of(text)
    shape: str  # "U" upper case, "C" capitalised, "L" lower case
    first: int  # first-name code (0: not a first name)
    surname: int  # surname code (0: not a surname)
    stop: bool


def _shape(word: str) -> str:
    if word.isupper():
        return "U" if len(word) > 1 else "C"
    return "C" if word[0].isupper() else "L"


def _code(table: dict[str, int], key: str) -> int:
    """A name's code, or for a compound whose every part is a name ("Jean-Kévin"), the code
    of its rarest part (ambiguous if any part is)."""
    code = table.get(key, 0)
    if code or " " not in key:
        return code
    parts = [table.get(p, 0) for p in key.split()]
    if not all(parts):
        return 0
    return max(p >> 1 for p in parts) << 1 | max(p & AMBIGUOUS for p in parts)


def _units(text: str, folded: str, g: Gazetteer) -> list[_Unit]:
    units: list[_Unit] = []
    toks = [(m.start(), m.end()) for m in _TOKEN.finditer(folded)]
    first_names, surnames, stop = g.first_names, g.surnames, g.stop
    i, n = 0, len(toks)
    while i < n:
        s, e = toks[i]
        j = i
        # "Jean-Pierre": hyphen with no blank; "Jean - Pierre" is two names
        while j + 1 < n and toks[j + 1][0] == toks[j][1] + 1 and folded[toks[j][1]] == "-":
            j += 1
        if j > i:
            e = toks[j][1]
            key = folded[s:e].replace("-", " ")
            is_stop = key in stop or any(p in stop for p in key.split())
        else:
            key = folded[s:e]
            key = _SAINT.get(key, key)
            is_stop = key in stop
        first = first_names.get(key, 0) if j == i else _code(first_names, key)
        surname = surnames.get(key, 0) if j == i else _code(surnames, key)
        units.append(_Unit(s, e, key, _shape(text[s:e]), first, surname, is_stop))
        i = j + 1
    return _with_particles(text, units, g)


_PARTICLES = frozenset(P.words("de du des la le da di del della van von der den el al ben mac mc"))


def _with_particles(text: str, units: list[_Unit], g: Gazetteer) -> list[_Unit]:
    """A particle is part of the surname after it ("De Luca", "LE GALL", "van Damme", "le goff"):
    one unit, a surname when the whole is one, or capitalised when the name after it is."""
    if not any(u.key in _PARTICLES for u in units):
        return units
    out: list[_Unit] = []
    i = 0
    while i < len(units):
        u = units[i]
        nxt = units[i + 1] if i + 1 < len(units) else None
        if (
            u.key in _PARTICLES
            and nxt is not None
            and not nxt.stop
            and _SPACE.fullmatch(text, u.end, nxt.start)
        ):
            key = f"{u.key} {nxt.key}"
            # capitalised: "De Luca" (known whole or "Luca" known); lower case: "le goff" whole
            lower = u.shape == "L" or nxt.shape == "L"
            code = g.surnames.get(key, 0) or (0 if lower else nxt.surname)
            if code:
                shape = "U" if u.shape == nxt.shape == "U" else "C"
                out.append(_Unit(u.start, nxt.end, key, shape, 0, code, False))
                i += 2
                continue
        out.append(u)
        i += 1
    return out


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

# Words after which a capitalised name is a disease, a street, a place: never a person here.
_NOT_PERSON_BEFORE = re.compile(
    r"(?:\b(?:maladie|syndrome|signe|test|score|classification|stade|man[oœ]uvre|m[ée]thode|"
    r"technique|op[ée]ration|intervention|proc[ée]dure|crit[èe]res?|[ée]chelle|indice|index|"
    r"loi|triade|type|sonde|kyste|canal|fracture|scl[ée]rose|th[ée]orie|protocole|"
    r"rue|avenue|av|bd|boulevard|place|all[ée]e|impasse|quai|chemin|route|square|cours|"
    r"lyc[ée]e|coll[èe]ge|[ée]cole|h[ôo]pital|clinique|centre|institut|fondation|r[ée]sidence|"
    r"pavillon|b[âa]timent|maison|salle|ehpad|chu|ch|gh|hia|cabinet|pharmacie|groupe)\b"
    r"[ \t]*(?:de|du|des|d['’]|de\s+la|la|le)?[ \t]*)$",
    re.IGNORECASE,
)
_TITLES = frozenset(
    P.words(
        """
        m mr mme mmes mlle mm dr drs pr madame monsieur mademoiselle docteur professeur patient
        patiente usager usagere interne externe ide beneficiaire
        """
    )
)
_TITLE_GAP = re.compile(r"\.?[ \t]*(?::[ \t]*)?")
_LINE_HEAD_CHARS = frozenset(" \t-*•>")


def _ok(code: int) -> bool:
    return bool(code) and not code & AMBIGUOUS


def _is_first(u: _Unit) -> bool:
    return bool(u.first) and not u.stop and u.key not in _NOT_FIRST


_NOT_FIRST = frozenset(["saint", "sainte"])  # INSEE first names, but "Saint Lager" is a place


def _is_surname(u: _Unit, contrast: bool) -> bool:
    """A known surname; with case contrast ("Jean DUPONT") also an unknown upper-case word
    that could be one (letters only, 4 or more, not in the stop-list: not "AP-HP", "TDM")."""
    if u.stop:
        return False
    if u.surname:
        return True
    return contrast and u.shape == "U" and len(u.key) >= 4 and u.key.isalpha() and not u.first


def _pair_ok(firsts: list[_Unit], lasts: list[_Unit]) -> bool:
    if not all(_is_first(u) for u in firsts):
        return False
    f_upper = all(u.shape == "U" for u in firsts)
    l_upper = all(u.shape == "U" for u in lasts)
    if f_upper and not l_upper:
        return False  # "CLAUDE Béziers": not how names are written
    contrast = l_upper and not f_upper
    if not all(_is_surname(u, contrast) for u in lasts):
        return False
    if contrast:
        return True
    # Same case, two first names ("Daniel Andre", "Martin Alain", "JULES PHILIPPE"): which one is
    # the surname is anybody's guess, leave it to the rules
    if any(_strength(u.first) >= _strength(u.surname) for u in lasts):
        return False
    # "Jean Dupont", "Dufour Elodie", "Jean Blanc", not "Rose Blanc" nor "Loi Brieux"
    if any(u.surname & AMBIGUOUS for u in lasts):
        return firsts[0].start < lasts[0].start and all(_ok(u.first) for u in firsts)
    return any(_ok(u.first) for u in firsts) or any(_ok(u.surname) for u in lasts)


def _strength(code: int) -> int:
    return 5 - (code >> 1) if code else 0  # INSEE tier 1 (most frequent) → 4, absent → 0


def _score(firsts: list[_Unit], lasts: list[_Unit]) -> float:
    """How well a reading fits: first names that are frequent first names rather than
    surnames and the reverse (INSEE tiers), the capitals on the surname, the usual order
    ("Prénom Nom", but "NOM PRÉNOM" in capitals), the number of words read."""
    s = float(len(firsts) + len(lasts))
    s += sum(_strength(u.first) - _strength(u.surname) / 2 for u in firsts)
    s += sum((_strength(u.surname) or 2) - _strength(u.first) for u in lasts)
    f_upper = all(u.shape == "U" for u in firsts)
    l_upper = all(u.shape == "U" for u in lasts)
    if l_upper and not f_upper:
        s += 3
    elif firsts[0].start < lasts[0].start:
        s += 0.0 if f_upper else 0.5
    else:
        s += 0.5 if f_upper else 0.0
    return s


def _gap_ok(text: str, a: _Unit, b: _Unit, comma: bool = False) -> bool:
    gap = text[a.end : b.start]
    return bool(_SPACE.fullmatch(gap) or (comma and _COMMA.fullmatch(gap)))


def _person_runs(text: str, units: list[_Unit]) -> list[list[_Unit]]:
    """Maximal runs of capitalised units separated by blanks (a comma after the first unit:
    "DUPONT, Jean"), cut at stop words."""
    runs: list[list[_Unit]] = []
    cur: list[_Unit] = []
    for u in units:
        if u.shape != "L" and not u.stop and (u.first or u.surname or u.shape == "U"):
            if cur and _gap_ok(text, cur[-1], u, comma=len(cur) == 1):
                cur.append(u)
                continue
            if len(cur) > 1:
                runs.append(cur)
            cur = [u]
        else:
            if len(cur) > 1:
                runs.append(cur)
            cur = []
    if len(cur) > 1:
        runs.append(cur)
    return runs


def _span(text: str, units: list[_Unit], label: str) -> PhiSpan:
    s, e = units[0].start, units[-1].end
    return PhiSpan(s, e, label, text[s:e], "gazetteer")


def _commas_ok(text: str, f: list[_Unit], l_: list[_Unit], first_first: bool) -> bool:
    """A comma only between the surname and the first names, in that order: "DUPONT, Jean"."""
    inner = [text[a.end : b.start] for grp in (f, l_) for a, b in zip(grp, grp[1:], strict=False)]
    if any("," in gap for gap in inner):
        return False
    return not first_first or "," not in text[f[-1].end : l_[0].start]


def _cased_names(text: str, units: list[_Unit]) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    for run in _person_runs(text, units):
        if not any(_is_first(u) for u in run):
            continue
        i = 0
        while i < len(run):
            best: tuple[float, int, int, int, bool] | None = None
            # windows starting at i: 1-3 first names and 1-2 surnames, either order
            for nf in range(1, 4):
                for nl in range(1, 3):
                    if i + nf + nl > len(run):
                        continue
                    win = run[i : i + nf + nl]
                    for first_first in (True, False):
                        f, l_ = (win[:nf], win[nf:]) if first_first else (win[nl:], win[:nl])
                        if not _commas_ok(text, f, l_, first_first):
                            continue
                        if _pair_ok(f, l_):
                            sc = _score(f, l_)
                            if best is None or sc > best[0]:
                                best = (sc, nf, nl, i, first_first)
            if best is None:
                i += 1
                continue
            _, nf, nl, i, first_first = best
            win = run[i : i + nf + nl]
            f, l_ = (win[:nf], win[nf:]) if first_first else (win[nl:], win[:nl])
            if not _NOT_PERSON_BEFORE.search(text, max(0, win[0].start - 40), win[0].start):
                out += [_span(text, f, "PRENOM"), _span(text, l_, "NOM")]
            i += nf + nl
    return out


def _after_title(text: str, units: list[_Unit], i: int) -> bool:
    if i == 0:
        return False
    prev = units[i - 1]
    return prev.key in _TITLES and bool(_TITLE_GAP.fullmatch(text, prev.end, units[i].start))


def _line_head(text: str, pos: int) -> bool:
    """Nothing but blanks or a bullet between the start of the line and ``pos``."""
    k = pos - 1
    while k >= 0 and text[k] in _LINE_HEAD_CHARS:
        k -= 1
    return k < 0 or text[k] == "\n"


def _context_names(text: str, units: list[_Unit], taken: set[int]) -> list[PhiSpan]:
    """Names in any case mix at the head of a line or after a title ("krier franck", "Aubin
    gaston", "Mme rossin Yvette", "Lespilette, abdulkadir"): each word in the lists and in no way
    a common word; at the head of a line, a first name and a surname both. Units already read
    by :func:`_cased_names` (``taken``: their starts) are left alone."""
    out: list[PhiSpan] = []
    n = len(units)
    i = 0
    while i < n:
        titled = _after_title(text, units, i)
        if units[i].start in taken or not (titled or _line_head(text, units[i].start)):
            i += 1
            continue
        run = [units[i]]
        while len(run) < 3 and i + len(run) < n:
            nxt = units[i + len(run)]
            if nxt.start in taken or not _gap_ok(text, run[-1], nxt, comma=len(run) == 1):
                break
            run.append(nxt)
        # after a title, or alone on its line as a signature is ("pierre lefebvre, interne")
        named = _titled_names(run) if titled or _signature(text, run) else []
        while run and not _lower_ok(run[-1]):
            run.pop()
        labels = _context_labels(run)
        # "Dr pierre lefebvre": after a title, one of the names may also be a common word
        if len(named) >= len(run) and not all(_lower_ok(u) for u in named):
            run, labels = named, _context_labels(named)
            out += [_span(text, [u], lab) for u, lab in zip(run, labels, strict=True)]
            i += len(run)
        elif (
            run
            and all(_lower_ok(u) for u in run)
            # same-case capitalised runs are _cased_names' ("Daniel Andre" stays unread)
            and (len({u.shape for u in run}) > 1 or run[0].shape == "L" or "," in _gaps(text, run))
            and (titled or ("PRENOM" in labels and "NOM" in labels))
        ):
            k = 0
            while k < len(run):  # "mavoungou bouanga cecile": one span per label
                m = k + 1
                while m < len(run) and labels[m] == labels[k] and _gap_ok(text, run[m - 1], run[m]):
                    m += 1
                out.append(_span(text, run[k:m], labels[k]))
                k = m
            i += len(run)
        else:
            i += 1
    return out


_SIGNATURE_END = re.compile(r"[ \t]*(?:,[^\n]{0,40})?(?:\n|$)")


def _signature(text: str, run: list[_Unit]) -> bool:
    """Exactly two words heading their line, nothing after them but a short function ("pierre
    lefebvre", "pierre lefebvre, interne"): how letters are signed."""
    return (
        len(run) >= 2
        and _line_head(text, run[0].start)
        and _SIGNATURE_END.match(text, run[1].end) is not None
    )


def _titled_names(run: list[_Unit]) -> list[_Unit]:
    """After a title, a first name and a surname in lower case where one of the two is also a
    common word ("Dr pierre lefebvre", "interne : camille roux"): both in the lists, at most
    one ambiguous, none a stop word; else nothing ("Dr rose blanc" stays the rules')."""
    names: list[_Unit] = []
    for u in run:
        if u.stop or not (u.first or u.surname):
            break
        names.append(u)
    if len(names) < 2 or "L" not in {u.shape for u in names}:
        return []
    if sum(bool((u.first | u.surname) & AMBIGUOUS) for u in names) > 1:
        return []
    labels = _context_labels(names)
    return names if "PRENOM" in labels and "NOM" in labels else []


_LONE_LOWER_BEFORE = re.compile(r"(?:\b(?:de|d'|d’|avec|par|et|chez|pour|à)|[:,(])[ \t]*$")
_LONE_LOWER_AFTER = re.compile(r"[ \t]*(?:[,;.)(\n]|$)")


# Words after which a first name alone is a person, whatever else it could be: a relative
# ("sa fille maria", "son fils Pierre"), a "prénom" field. Not a title: "Docteur junior".
_PERSON_CUE = re.compile(
    r"(?:\b(?:fille|fils|femme|"
    r"[ée]pouse|[ée]poux|mari|m[èe]re|p[èe]re|s[œo]eur|fr[èe]re|ni[èe]ce|neveu|compagne?|"
    r"conjointe?|petite?-(?:fille|fils)|pr[ée]nom)\b\.?[ \t]*:?[ \t]*)$",
    re.IGNORECASE,
)


def _lone_first(text: str, u: _Unit) -> bool:
    """A first name alone, in no way a common word ("Germaine", "Kévin", not "Rose", "Pierre"),
    written as a name ("Germaine", not "EVA" the pain scale nor "PaO2"); in lower case, among
    the most given ones (INSEE tier 1) and set apart as a person is ("avec nathalie,",
    "de germaine)"), not "junior" in a sentence. After a title or a relative ("sa fille maria",
    "son fils Pierre"), any first name of the lists that is no medical or function word."""
    if u.stop or not u.first or u.key in _NOT_FIRST:
        return False
    if _PERSON_CUE.search(text, max(0, u.start - 16), u.start):
        return u.shape != "U" or len(u.key) > 2
    if u.first & AMBIGUOUS:
        return False
    word = text[u.start : u.end]
    if u.shape == "C":  # "Germaine", "Jean-Marc": each part capitalised, then lower case
        parts = word.replace("'", "").split("-")
        return len(word) > 2 and all(p[:1].isupper() and p[1:].islower() for p in parts)
    return (
        u.shape == "L"
        and u.first >> 1 == 1
        and _LONE_LOWER_BEFORE.search(text, max(0, u.start - 12), u.start) is not None
        and _LONE_LOWER_AFTER.match(text, u.end) is not None
    )


def _pair_words_ok(a: _Unit, b: _Unit) -> bool:
    """Both words names in no way common words; with the case contrast of a signature
    ("martin, CLAIRE"), the word in capitals need only be a name."""
    if {a.shape, b.shape} == {"L", "U"}:
        low, up = (a, b) if a.shape == "L" else (b, a)
        return _lower_ok(low) and not up.stop and bool(up.first or up.surname)
    return _lower_ok(a) and _lower_ok(b)


def _free_names(text: str, units: list[_Unit], taken: set[int]) -> list[PhiSpan]:
    """Names the cased reading and the line heads miss, as other hospitals write them:

    - a pair anywhere in a line with at least one word in lower case ("avec jean dupont",
      "de marie LEFEVRE", "martin, CLAIRE"): both words in the lists and in no way common
      words, one a first name and the other a surname (:func:`_context_labels`);
    - a first name alone ("Germaine a appelé", "accompagnée de maria"): a word that is far more
      a first name than a surname (:func:`_strong_first`); in lower case, only among the most
      given ones (INSEE tier 1 or 2).

    Never after words that make a capitalised name something else ("maladie de", "rue",
    "hôpital"...)."""
    out: list[PhiSpan] = []
    n = len(units)
    i = 0
    while i < n:
        u = units[i]
        if u.start in taken or u.stop:
            i += 1
            continue
        if _NOT_PERSON_BEFORE.search(text, max(0, u.start - 40), u.start):
            i += 1
            continue
        nxt = units[i + 1] if i + 1 < n else None
        if (
            nxt is not None
            and nxt.start not in taken
            and "L" in (u.shape, nxt.shape)
            and _pair_words_ok(u, nxt)
            and _gap_ok(text, u, nxt, comma=True)
        ):
            labels = _context_labels([u, nxt])
            if set(labels) == {"PRENOM", "NOM"}:
                out += [_span(text, [u], labels[0]), _span(text, [nxt], labels[1])]
                i += 2
                continue
        if _lone_first(text, u):
            out.append(_span(text, [u], "PRENOM"))
        i += 1
    return out


def _upper_names(text: str, units: list[_Unit], taken: set[int]) -> list[PhiSpan]:
    """Names in capitals without a title, as banners and signatures write them ("OWZARECK
    HELENA", "JULES PHILIPPE", "ROBERT, HENRI"): a run of exactly two or three upper-case words
    (a longer one is a heading), one of them a first name in no way a common word, the others
    names too or unknown words that could be surnames (4 letters or more); never after words
    that make it something else ("MALADIE DE", "RUE")."""
    out: list[PhiSpan] = []
    n = len(units)
    i = 0
    while i < n:
        j = i
        while (
            j + 1 < n
            and units[j + 1].shape == "U"
            and units[j].shape == "U"
            and _gap_ok(text, units[j], units[j + 1], comma=j == i)
        ):
            j += 1
        run = units[i : j + 1]
        i = j + 1
        if not 2 <= len(run) <= 3 or any(u.start in taken or u.stop for u in run):
            continue
        if _NOT_PERSON_BEFORE.search(text, max(0, run[0].start - 40), run[0].start):
            continue
        known = [_lower_ok(u) for u in run]
        unknown = [
            not u.first and not u.surname and len(u.key) >= 4 and u.key.isalpha() for u in run
        ]
        if not any(_lower_ok(u) and u.first for u in run):
            continue
        if not all(k or x for k, x in zip(known, unknown, strict=True)):
            continue
        labels = _context_labels(run)
        if any(unknown):
            labels = ["NOM" if x else "PRENOM" for x in unknown]
        out += [_span(text, [u], lab) for u, lab in zip(run, labels, strict=True)]
    return out


_MAIDEN = frozenset(P.words("nee epouse ep veuve vve"))


def _maiden_names(text: str, units: list[_Unit], taken: set[int]) -> list[PhiSpan]:
    """A surname after "née", "épouse", "veuve" ("Mme Thérèse Guichard née Renaud"), even an
    ambiguous one when capitalised ("née Blanc")."""
    out = []
    for prev, u in zip(units, units[1:], strict=False):
        if (
            prev.key in _MAIDEN
            and u.shape != "L"
            and u.surname
            # "née WEBER": in capitals even a word of the stop-list (a unit, here) is the name
            and (not u.stop or (u.shape == "U" and len(u.key) >= 3))
            and u.start not in taken
            and _TITLE_GAP.fullmatch(text, prev.end, u.start)
        ):
            out.append(_span(text, [u], "NOM"))
    return out


# Titles of a person (not "patient", "interne": "patient asymptomatique"); "m" only as "M.".
_PERSON_TITLES = frozenset(
    P.words("mr mme mlle dr pr madame monsieur mademoiselle docteur professeur")
)
_UNKNOWN_GAP = re.compile(r"[ \t]+")


def _titled_unknown(text: str, units: list[_Unit], taken: set[int]) -> list[PhiSpan]:
    """A surname in lower case that no list holds, right after a person's title ("docteur
    zarkovic", "Mr kerdrevan yves", "M. le guen"): a word of three letters or more that is
    neither a common word (:func:`hopia.data.pseudo.lexicon.common_words`, the stop-list) nor a
    name already read; a first name of the lists right after it is the first name."""
    from hopia.data.pseudo.lexicon import common_words

    out: list[PhiSpan] = []
    known = None
    for i in range(1, len(units)):
        prev, u = units[i - 1], units[i]
        if u.shape != "L" or u.start in taken or u.stop or len(u.key) < 3:
            continue
        titled = prev.key in _PERSON_TITLES or (
            prev.key == "m" and text[prev.end : prev.end + 1] == "."
        )
        if not titled or not _TITLE_GAP.fullmatch(text, prev.end, u.start):
            continue
        known = known if known is not None else common_words()
        if u.first or u.surname or any(w in known for w in u.key.split()):
            continue  # a listed name is _context_names'; a common word is no surname
        out.append(_span(text, [u], "NOM"))
        nxt = units[i + 1] if i + 1 < len(units) else None
        if (
            nxt is not None
            and nxt.start not in taken
            and _lower_ok(nxt)
            and nxt.first
            and _UNKNOWN_GAP.fullmatch(text, u.end, nxt.start)
        ):
            out.append(_span(text, [nxt], "PRENOM"))
    return out


def _lower_ok(u: _Unit) -> bool:
    """In the lists and in no way a common word: "krier", "franck", not "blanc" nor "rose"."""
    return not u.stop and bool(u.first or u.surname) and not (u.first | u.surname) & AMBIGUOUS


def _gaps(text: str, run: list[_Unit]) -> str:
    return text[run[0].end : run[-1].start] if len(run) > 1 else ""


def _context_labels(run: list[_Unit]) -> list[str]:
    """PRENOM or NOM for each word of a run: capitals mark the surname; else the more frequent
    reading (INSEE tier). A word as frequent in both lists takes the role the others leave
    ("Aubin gaston": one surname, one first name, surname first as in patient banners)."""
    labels: list[str | None] = []
    for u in run:
        if not u.surname:
            labels.append("PRENOM")
        elif not u.first or u.shape == "U" or (u.surname >> 1) < (u.first >> 1):
            labels.append("NOM")
        elif (u.first >> 1) < (u.surname >> 1):
            labels.append("PRENOM")
        else:
            labels.append(None)
    need_surname = "NOM" not in labels
    for k, lab in enumerate(labels):
        if lab is None:
            labels[k] = "NOM" if need_surname else "PRENOM"
            need_surname = False
    return [lab or "PRENOM" for lab in labels]


# ---------------------------------------------------------------------------------------------
# Communes
# ---------------------------------------------------------------------------------------------

_ZIP_BEFORE = re.compile(r"(?<!\d)(?:\d{5}|\d{2} \d{3}|2[AB] ?\d{3})[ \t]*,?[ \t]*$")
_A_BEFORE = re.compile(r"(?:^|[\s(])(?:à|a|au)[ \t]+$", re.IGNORECASE)
_DE_BEFORE = re.compile(
    r"(?:^|[\s(])(?:à|a|de|d['’]|pr[èe]s[ \t]+de|vers|sur|depuis|domicile[ \t]*:?)[ \t]*$",
    re.IGNORECASE,
)
_DATELINE_AFTER = re.compile(r"[ \t]*,?[ \t]*(?:le[ \t]+)?\d{1,2}(?:er)?[ \t/.\-]", re.IGNORECASE)
_STREET_BEFORE = re.compile(
    r"\b(?:rue|avenue|av|bd|boulevard|place|all[ée]e|impasse|quai|chemin|route|square|cours|"
    r"h[ôo]pital|clinique|centre|institut|chu|ch|lyc[ée]e|coll[èe]ge|[ée]cole|r[ée]sidence|"
    r"ehpad|pavillon|maison|gare|a[ée]roport|port|universit[ée]|facult[ée])[ \t]+"
    r"(?:de[ \t]+la|de|du|des|d['’]|la|le)?[ \t]*"
    r"(?-i:[A-ZÀ-Þ][\w'’\-]*[ \t]+)?$",  # "Université Paris Saclay", "CHU Amiens Picardie"
    re.IGNORECASE,
)
_INITIAL_AROUND = re.compile(r"(?<![\w])[A-Z](?:\.|[.\-]?[A-Z]\.?)?[ \t]+$")
_INITIAL_AFTER = re.compile(r"[ \t]+[A-Z](?:\.|[.\-]?[A-Z]\.?)?(?![\w])")
_BIG_CITY = 20_000  # written in lower case, a commune is taken only if at least this large


def _communes(text: str, units: list[_Unit], g: Gazetteer) -> list[PhiSpan]:
    out: list[PhiSpan] = []
    n = len(units)
    i = 0
    while i < n:
        u = units[i]
        key = u.key
        if key not in g.communes and key not in g.commune_prefixes:
            i += 1
            continue
        best: tuple[int, Commune] | None = None
        j = i
        while True:
            hit = g.communes.get(key)
            if hit is not None:
                best = (j, hit)
            if key not in g.commune_prefixes or j + 1 >= n:
                break
            if not (
                _SPACE.fullmatch(text, units[j].end, units[j + 1].start)
                or _HYPHEN.fullmatch(text, units[j].end, units[j + 1].start)
            ):
                break
            j += 1
            key = f"{key} {units[j].key}"
        if best is None:
            i += 1
            continue
        j, commune = best
        s, e = u.start, units[j].end
        line_start = max(text.rfind("\n", 0, s) + 1, s - 60)
        zip_code = _ZIP_BEFORE.search(text, line_start, s)
        if zip_code:  # "56100 lorient", "35000 Bois": the postcode says it, whatever the word
            z = zip_code.group().rstrip(" \t,")
            out.append(PhiSpan(zip_code.start(), zip_code.start() + len(z), "ZIP", z, "gazetteer"))
        label = i == j and key in _FIELD_LABELS and _LABEL_AFTER.match(text, e)
        if not label and (zip_code or _commune_ok(text, units, i, j, commune, text[line_start:s])):
            out.append(PhiSpan(s, e, "VILLE", text[s:e], "gazetteer"))
            i = j + 1
        else:
            i += 1
    return out


def _named(u: _Unit) -> bool:
    return _is_first(u) and u.shape != "L"


_LABEL_AFTER = re.compile(r"[ \t]*:")
# Communes too, but a field's label when a colon follows: "29870 Ville : Kermoal"
_FIELD_LABELS = frozenset(("ville", "commune", "localite"))


def _commune_ok(text: str, units: list[_Unit], i: int, j: int, c: Commune, before: str) -> bool:
    """Whether the commune ``units[i..j]`` is written as a commune; ``before``: the text from
    the start of its line (60 characters at most)."""
    u = units[i]
    if not before.strip() and _DATELINE_AFTER.match(text, units[j].end):
        return u.shape != "L"  # "Vue, le 12 mars 2024": a dateline says it, whatever the word
    if all(x.stop for x in units[i : j + 1]):
        return False
    if _STREET_BEFORE.search(before) or _after_title(text, units, i):
        return False  # "rue de Lorient", "Hôpital de Vannes", "Dr Laval"
    # next to a first name, a commune that is also a surname is a person's ("Jean Laval",
    # "Laval Jean"); "Jean Pierre Béziers" is somebody from Béziers
    if (u.surname or c.ambiguous) and j == i:
        if i > 0 and _named(units[i - 1]) and _gap_ok(text, units[i - 1], u):
            return False
        if j + 1 < len(units) and _named(units[j + 1]) and _gap_ok(text, u, units[j + 1]):
            return False
    if _INITIAL_AROUND.search(text, max(0, u.start - 8), u.start) or _INITIAL_AFTER.match(
        text, units[j].end
    ):
        return False  # "Dr A Belmont", "Saint Lager J-N": a person
    if u.shape == "L":
        return (
            not c.ambiguous
            and c.population >= _BIG_CITY
            and bool(_DE_BEFORE.search(before))
            and not u.first
            and not u.surname
        )
    if _A_BEFORE.search(before):
        return True  # "à Bois" (capitalised after "à")
    if c.ambiguous and c.population >= _BIG_CITY and _DE_BEFORE.search(before):
        return True  # "de Cannes", "près de Tours": a town that large, not the word
    if c.ambiguous:
        return False
    return u.shape == "C" or len(u.key) >= 4


# ---------------------------------------------------------------------------------------------


def find_gazetteer(text: str, folded: str) -> list[PhiSpan]:
    """PRENOM, NOM, VILLE (and the ZIP before a commune) candidates from the gazetteers, source
    "gazetteer"; they may overlap each other and the rules' candidates. ``folded`` is
    ``patterns.fold(text)``."""
    if not text:
        return []
    g = load()
    units = _units(text, folded, g)
    cased = _cased_names(text, units)
    taken: set[int] = set()
    k = 0
    for p in sorted(cased, key=lambda p: p.start):  # one sweep over the units
        while k < len(units) and units[k].start < p.start:
            k += 1
        while k < len(units) and units[k].start < p.end:
            taken.add(units[k].start)
            k += 1
    return (
        cased
        + (context := _context_names(text, units, taken))
        + _maiden_names(text, units, taken)
        + _free_names(text, units, taken | {p.start for p in context})
        + _upper_names(text, units, taken | {p.start for p in context})
        + _titled_unknown(text, units, taken | {p.start for p in context})
        + _communes(text, units, g)
    )
