"""Train the statistical PHI detector of :mod:`hopia.data.pseudo.model` on CPU.

Training data: the notes the caller hands over (the service generates a synthetic CHU in
memory, ``hopia.services.pseudo``) plus the annotated notes of a shared folder (``*.jsonl``
lines ``{note_id, note_text, entities}``) minus their held-out part
(:func:`hopia.platform.splits.is_held_out`), which is never trained on. A dev part, taken
from the training notes only, drives early stopping.

Reproducibility: the same inputs, seed and settings give the same weights on the same machine
(fixed seeds, one thread, a fixed example order) as long as training stops on early stopping or
``max_epochs``; a stop on the time budget depends on the machine's speed (``meta.json`` says
which stop happened).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.data.pseudo.model import DEFAULT_ARCH, MAX_CHUNK_CHARS, build_nlp
from hopia.data.records import PHI_LABELS as LABELS
from hopia.platform.exceptions import ModelError, NotFoundError, SourceError
from hopia.platform.files import atomic_file, jsonl_records
from hopia.platform.models import LoopSettings, save_spacy_model, train_ner_loop
from hopia.platform.splits import HELD_OUT_FRACTION, is_held_out, note_hash
from hopia.platform.text import chunk_bounds

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

DEV_FRACTION = 0.1
DEV_SALT = "dev:"  # independent of the held-out hash: dev notes are spread like the others
MODEL_NAME = "hopia_phi"
MODEL_VERSION = "1.0.0"


@dataclass(frozen=True)
class Note:
    """One annotated text: gold spans as (start, end, label) character offsets."""

    note_id: str
    text: str
    entities: tuple[tuple[int, int, str], ...]
    source: str  # "synth" or the shared file's stem


@dataclass
class PhiTrainConfig:
    """What a training run depends on (recorded in ``meta.json``)."""

    shared: Path | None = None
    synth_patients: int = 150
    seed: int = 101
    max_minutes: float = 20.0
    max_epochs: int = 12
    patience: int = 4  # evaluations without a better dev score before stopping
    dev_fraction: float = DEV_FRACTION
    # The shared notes are ten times fewer than the synthetic ones, closer to real notes, and
    # what the generator does not produce (lower-case names, letter-spaced numbers): seen
    # ``shared_repeat`` times an epoch.
    shared_repeat: int = 3
    dropout: float = 0.1
    batch_words: tuple[int, int] = (100, 1000)  # compounding batch size, in words
    arch: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ARCH))
    # Variants of the synthetic notes added to training (:func:`augment`): their layout and case
    # as other hospitals write them. 0 disables.
    augment_fraction: float = 0.5
    # The same variants of the shared notes (0 by default: the shipped recipe learns them as
    # written); the cross-source bench turns it on for a cell whose test source is elsewhere.
    augment_shared: float = 0.0


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def read_shared(folder: Path) -> tuple[list[Note], Counter[str]]:
    """The trainable notes of every ``*.jsonl`` in ``folder`` (held-out ones left out) and, per
    file, how many were held out."""
    notes: list[Note] = []
    held: Counter[str] = Counter()
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise NotFoundError(f"{folder} : aucun fichier *.jsonl", fields=("shared",))
    for path in files:
        for where, row in jsonl_records(path):
            try:
                note_id = str(row["note_id"])
                text = row["note_text"]
                ents = tuple((int(e["start"]), int(e["end"]), e["label"]) for e in row["entities"])
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceError(
                    where, f"note annotée illisible ({type(exc).__name__} : {exc})"
                ) from None
            if is_held_out(note_id):
                held[path.stem] += 1
                continue
            notes.append(Note(note_id, text, ents, path.stem))
    return notes, held


def to_examples(nlp: Language, notes: Iterable[Note]) -> tuple[list[Example], Counter[str]]:
    """spaCy examples (long notes cut like at prediction time) and counts of what was kept or
    dropped: spans widened to token bounds (``alignment_mode="expand"``) are kept; a span that
    still cannot be placed, overlaps another or crosses a chunk boundary is dropped."""
    from spacy.training import Example

    examples: list[Example] = []
    stats: Counter[str] = Counter()
    for note in notes:
        for start, end in chunk_bounds(note.text, MAX_CHUNK_CHARS):
            chunk = note.text[start:end]
            if not chunk.strip():
                continue
            ref = nlp.make_doc(chunk)
            spans, last = [], 0
            for s, e, label in sorted(note.entities):
                if e <= start or s >= end:
                    continue
                stats["spans"] += 1
                if s < start or e > end or label not in LABELS:
                    stats["dropped"] += 1
                    continue
                span = ref.char_span(s - start, e - start, label, alignment_mode="expand")
                if span is None or span.start_char < last:
                    stats["dropped"] += 1
                    continue
                stats["expanded"] += (span.start_char, span.end_char) != (s - start, e - start)
                spans.append(span)
                last = span.end_char
            ref.ents = spans
            examples.append(Example(nlp.make_doc(chunk), ref))
            stats["examples"] += 1
    return examples, stats


def split_dev(notes: Sequence[Note], fraction: float) -> tuple[list[Note], list[Note]]:
    """(train, dev) by a salted hash of the note id: deterministic and order-independent."""
    train = [n for n in notes if note_hash(n.note_id, DEV_SALT) >= fraction]
    dev = [n for n in notes if note_hash(n.note_id, DEV_SALT) < fraction]
    return train, dev


# ---------------------------------------------------------------------------------------------
# Augmentation: the synthetic notes as other hospitals write them
# ---------------------------------------------------------------------------------------------

#: One edit of a note: replace ``text[start:end]`` by ``new``; ``spans`` are the gold spans of
#: the replacement, relative to it. Gold spans inside ``start:end`` are dropped.
_Edit = tuple[int, int, str, tuple[tuple[int, int, str], ...]]
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:M\.|Mr\.?|Mme|Mlle|Dr\.?|Pr\.?|Docteur|Professeur|Madame|Monsieur)[ \t]+)$"
)
_NAMES = ("NOM", "PRENOM")


def _apply_edits(note: Note, edits: Sequence[_Edit], suffix: str) -> Note:
    """``note`` with ``edits`` applied (sorted, non-overlapping; each either clear of every
    gold span or covering whole spans) and its gold spans moved accordingly."""
    edits = sorted(edits, key=lambda e: (e[0], e[1]))
    pieces, pos, new_spans = [], 0, []
    starts: list[tuple[int, int, int]] = []  # (old start, old end, new start) of each edit
    out_len = 0
    for start, end, new, spans in edits:
        pieces.append(note.text[pos:start])
        out_len += start - pos
        starts.append((start, end, out_len))
        new_spans += [(out_len + a, out_len + b, label) for a, b, label in spans]
        pieces.append(new)
        out_len += len(new)
        pos = end
    pieces.append(note.text[pos:])

    def moved(x: int, is_end: bool) -> int:
        delta = 0
        for (s, e, n), (_, _, new, _) in zip(starts, edits, strict=True):
            # an insertion right after a span (s == e == x) does not move that span's end
            if e < x or (e == x and (not is_end or s < e)):
                delta = n + len(new) - e
        return x + delta

    for s, e, label in note.entities:
        if any(es <= s and e <= ee and (es < ee) for es, ee, _, _ in edits):
            continue  # replaced, with its new spans
        new_spans.append((moved(s, False), moved(e, True), label))
    return Note(f"{note.note_id}#{suffix}", "".join(pieces), tuple(sorted(new_spans)), note.source)


def _recase(rng: random.Random, word: str) -> str:
    return rng.choice((word.lower(), word.upper(), word.lower().title()))


def _name_pairs(note: Note) -> list[tuple[tuple[int, int, str], tuple[int, int, str]]]:
    """(first name, surname) gold spans written side by side, one blank apart, either order."""
    ents = sorted(e for e in note.entities if e[2] in _NAMES)
    return [
        (a, b) if a[2] == "PRENOM" else (b, a)
        for a, b in zip(ents, ents[1:], strict=False)
        if {a[2], b[2]} == set(_NAMES) and note.text[a[1] : b[0]] == " "
    ]


def augment_note(note: Note, rng: random.Random) -> Note:
    """One variant of ``note`` (same facts, other writing): names re-cased ("jean dupont",
    "marie LEFEVRE"), titles dropped, "Prénom NOM" turned into "NOM prénom" or "nom, PRENOM",
    first names as initials ("J. DUPONT", "DUPONT J-P"), a first name left alone, hospitals and
    communes in lower case, e-mails in capitals with blanks around "@", dates and house numbers
    in words, phones with a letter O or slashes, and a signature or a list of names without
    titles added at the end."""
    text = note.text
    edits: list[_Edit] = []
    busy: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in busy) and end >= start

    def add(edit: _Edit) -> None:
        edits.append(edit)
        busy.append((edit[0], max(edit[1], edit[0] + 1)))

    pairs = _name_pairs(note)
    rng.shuffle(pairs)
    for first, last in pairs:
        lo, hi = min(first[0], last[0]), max(first[1], last[1])
        f, n = text[first[0] : first[1]], text[last[0] : last[1]]
        mode = rng.random()
        title = _TITLE_BEFORE.search(text, max(0, lo - 16), lo)
        if title and rng.random() < 0.6 and free(title.start(), lo):
            add((title.start(), lo, "", ()))
        if not free(lo, hi):
            continue
        if mode < 0.3:  # "DUPONT jean", "dupont, Jean,"
            n2, f2 = _recase(rng, n), _recase(rng, f)
            sep = rng.choice((" ", ", "))
            new = n2 + sep + f2
            spans = ((0, len(n2), "NOM"), (len(n2) + len(sep), len(new), "PRENOM"))
        elif mode < 0.62:  # "jean dupont", "marie LEFEVRE"
            f2, n2 = _recase(rng, f), _recase(rng, n)
            new = f2 + " " + n2
            spans = ((0, len(f2), "PRENOM"), (len(f2) + 1, len(new), "NOM"))
        elif mode < 0.75:  # initials: "J. DUPONT", "DUPONT J-P.", "G Santerre"
            f2, n2 = _initials(rng, f), rng.choice((n, n.upper()))
            if rng.random() < 0.5:
                new = f2 + " " + n2
                spans = ((0, len(f2), "PRENOM"), (len(f2) + 1, len(new), "NOM"))
            else:
                new = n2 + " " + f2
                spans = ((0, len(n2), "NOM"), (len(n2) + 1, len(new), "PRENOM"))
        elif mode < 0.88:  # the first name alone: "Germaine", "maria"
            f2 = rng.choice((f, f.lower()))
            new, spans = f2, ((0, len(f2), "PRENOM"),)
        else:
            continue
        add((lo, hi, new, spans))
    for s, e, label in note.entities:
        piece = text[s:e]
        if not free(s, e):
            continue
        if label == "MAIL" and "@" in piece and rng.random() < 0.6:
            new = piece.replace("@", rng.choice((" @ ", "@ ", " @")))
            new = new.upper() if rng.random() < 0.5 else new
            add((s, e, new, ((0, len(new), label),)))
        elif label == "HOPITAL" and rng.random() < 0.4:
            new = _hospital_variant(rng, piece)  # "CH de vierzon", "HLL", "hôpital bichat"
            add((s, e, new, ((0, len(new), label),)))
        elif label == "VILLE" and rng.random() < 0.35:
            new = _town_variant(rng, piece)  # "saint-dupont-les-bains", "Genève", "vienne"
            add((s, e, new, ((0, len(new), label),)))
        elif label in ("DATE", "DATE_NAISSANCE") and rng.random() < 0.15:
            if words := _date_in_words(piece):  # "vingt-quatre août deux mille dix-sept"
                add((s, e, words, ((0, len(words), label),)))
        elif label == "TEL" and "0" in piece and rng.random() < 0.15:
            # "O1.42.15.23.35" (a letter O typed or read for a zero), "06/28/42/50/36"
            new = piece.replace("0", "O", 1) if rng.random() < 0.5 else _slashed(piece)
            add((s, e, new, ((0, len(new), label),)))
        elif label == "ADRESSE" and (m := _HOUSE_NUMBER.match(piece)) and rng.random() < 0.3:
            new = _fr_number(int(m[1])) + piece[m.end(1) :]  # "sept allée des Roses"
            add((s, e, new, ((0, len(new), label),)))
        elif label in _NAMES and rng.random() < 0.3:
            new = _recase(rng, piece)
            add((s, e, new, ((0, len(new), label),)))
    people = [(text[f[0] : f[1]], text[n[0] : n[1]]) for f, n in _name_pairs(note)]
    if people and rng.random() < 0.5:
        block, spans = "\n\n", []
        listing = rng.random() < 0.5
        if listing:
            block += rng.choice(("Présents : ", "Copie à : ", "Équipe : ", ""))
        for i, (f, n) in enumerate(people[:4]):
            n2, f2 = _recase(rng, n), _recase(rng, f)
            if i:
                block += ", " if listing else "\n"
            spans.append((len(block), len(block) + len(n2), "NOM"))
            block += n2 + " "
            spans.append((len(block), len(block) + len(f2), "PRENOM"))
            block += f2
        block += "\n" if listing else rng.choice(("\nPraticien hospitalier\n", "\n"))
        add((len(text), len(text), block, tuple(spans)))
    return _apply_edits(note, edits, "aug")


# Words other hospitals put before a place or a person's name; and cities abroad, where patients
# come from or are transferred to (the gazetteer knows French communes only).
_HOSPITAL_KINDS = (
    "CH de", "CH d'", "CHU de", "CHR de", "CHI de", "centre hospitalier de",
    "Centre Hospitalier de", "CENTRE HOSPITALIER DE", "hôpital", "Hôpital", "HOPITAL",
    "clinique", "Clinique", "GH", "polyclinique", "Polyclinique", "HIA", "hôpital privé",
    "Groupe Hospitalier", "CHU",
)  # fmt: skip
_FOREIGN_CITIES = (
    "Genève", "Lausanne", "Bruxelles", "Liège", "Luxembourg", "Bâle", "Montréal", "Québec",
    "Londres", "London", "Barcelone", "Barcelona", "Madrid", "Lisbonne", "Porto", "Milan",
    "Milano", "Turin", "Rome", "Berlin", "München", "Francfort", "Amsterdam", "Casablanca",
    "Rabat", "Marrakech", "Alger", "Oran", "Tunis", "Sfax", "Dakar", "Abidjan", "Bamako",
    "Beyrouth", "Istanbul", "Bucarest", "Varsovie", "Kinshasa", "Yaoundé", "Douala",
)  # fmt: skip
_TOWN_TAILS = ("-sur-Loire", "-les-Bains", "-en-Bresse", "-le-Château", "-sur-Mer", "-la-Forêt")


@cache
def _vocab() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(communes, surnames) of the pseudonymiser's gazetteers, unambiguous and common enough to
    be written: the augmentation's places and hospital namesakes."""
    from hopia.data.pseudo.gazetteer import DATA

    communes, surnames = [], []
    for line in (DATA / "communes.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _codes, _pop, flag = line.split("\t")
            if flag != "a":
                communes.append(name)
    for line in (DATA / "surnames.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, code = line.split("\t")
            if not code.endswith("a") and code[-1] in "123":
                surnames.append(name)
    return tuple(communes), tuple(surnames)


def _case(rng: random.Random, text: str) -> str:
    return rng.choice((text, text, text.lower(), text.upper()))


def _acronym(piece: str) -> str:
    """The capitals of a hospital's name: "Hôpital Louis-Lumière" -> "HLL"."""
    words = [w for w in re.split(r"[\s\-']+", piece) if w[:1].isupper() or len(w) > 3]
    return "".join(w[0].upper() for w in words)[:5] or piece[:3].upper()


def _hospital_variant(rng: random.Random, piece: str) -> str:
    """A hospital as another CHU writes it: lower case, its acronym, a two- or three-letter site
    code, or another place ("CH de vierzon", "hôpital Dumas", "GH Saint-Morel") whatever case."""
    communes, surnames = _vocab()
    mode = rng.random()
    if mode < 0.25:
        return piece.lower()
    if mode < 0.4:
        return _acronym(piece)
    if mode < 0.5:  # a site code: "PSL", "HEGP"-like letters
        return "".join(rng.choice("ABCDEFGHJLMNPRSTV") for _ in range(rng.choice((2, 3, 3, 4))))
    if mode < 0.6:  # a real hospital of the gazetteer, by its name alone or after "Hôpital"
        form = rng.choice(_hospital_forms())
        return form if rng.random() < 0.5 else _case(rng, "Hôpital " + form)
    kind = rng.choice(_HOSPITAL_KINDS)
    if kind.endswith("'"):
        place = rng.choice([c for c in communes[:3000] if c[0] in "AEIOUÉ"] or communes)
        return _case(rng, kind + place)
    place = rng.choice(communes) if rng.random() < 0.6 else rng.choice(surnames)
    if rng.random() < 0.2:
        place = "Saint-" + rng.choice(surnames)
    if kind.lower().endswith(" de") and rng.random() < 0.5:
        kind = kind[:-3]  # "hôpital Bichat", "CH Vierzon"
    return kind + " " + _case(rng, place)


@cache
def _hospital_forms() -> tuple[str, ...]:
    from hopia.data.pseudo.hospitals import table

    return tuple(f for forms in table().values() for f, _ in forms)


def _town_variant(rng: random.Random, piece: str) -> str:
    """A town the gazetteer may not know: a city abroad, a made-up commune, or the same one in
    lower or upper case."""
    communes, surnames = _vocab()
    mode = rng.random()
    if mode < 0.3:
        return rng.choice(_FOREIGN_CITIES)
    if mode < 0.55:  # unknown to every gazetteer: "Dumoulin-sur-Loire", "Saint-Kerbrat"
        stem = rng.choice(surnames)
        return ("Saint-" + stem) if rng.random() < 0.4 else stem + rng.choice(_TOWN_TAILS)
    if mode < 0.75:
        return _case(rng, rng.choice(communes))
    return rng.choice((piece.lower(), piece.upper()))


def _initials(rng: random.Random, first: str) -> str:
    """A first name as initials: "J.", "J", "J.-P.", "J-P", "JP" for "Jean-Pierre"."""
    parts = [p for p in re.split(r"[\s\-]+", first) if p]
    letters = [p[0].upper() for p in parts]
    if len(letters) == 1:
        return letters[0] + rng.choice((".", ""))
    return rng.choice((".-", "-", "")).join(letters) + rng.choice((".", ""))


_UNITS = (
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
    "douze", "treize", "quatorze", "quinze", "seize",
)  # fmt: skip
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
_HOUSE_NUMBER = re.compile(r"(\d{1,2})[ \t]+(?=[^\W\d])")


def _fr_number(n: int) -> str:
    """``n`` (0-99) in French words: 21 "vingt et un", 71 "soixante et onze", 80 "quatre-vingts"."""
    if n < 17:
        return _UNITS[n]
    if n < 20:
        return "dix-" + _UNITS[n - 10]
    if n < 70:
        unit = n % 10
        tail = "" if unit == 0 else " et un" if unit == 1 else "-" + _UNITS[unit]
        return _TENS[n // 10] + tail
    if n < 80:
        return "soixante" + (" et onze" if n == 71 else "-" + _fr_number(n - 60))
    return "quatre-vingt" + ("s" if n == 80 else "-" + _fr_number(n - 80))


def _date_in_words(piece: str) -> str | None:
    """A full date written out, as dictated notes give it; None when ``piece`` does not read
    as a day, a month and a year."""
    from hopia.data.pseudo import patterns as P
    from hopia.data.pseudo.rules import date_fields, match_date

    hit = match_date(piece)
    if hit is None:
        return None
    d, mo, y = date_fields(*hit)
    if d is None or mo is None or y is None or not 1900 <= y <= 2099:
        return None
    day = "premier" if d == 1 else _fr_number(d)
    year = ("mille neuf cent" if y < 2000 else "deux mille") + (
        " " + _fr_number(y % 100) if y % 100 else ""
    )
    return f"{day} {P.MONTH_NAMES[mo - 1]} {year}"


def _slashed(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) != 10:
        return phone
    return "/".join(digits[i : i + 2] for i in range(0, 10, 2))


def augment(notes: Sequence[Note], fraction: float, seed: int) -> list[Note]:
    """A variant (:func:`augment_note`) of about ``fraction`` of ``notes``, chosen and drawn
    from ``seed``: deterministic, whatever the order of the other notes."""
    if fraction <= 0:
        return []
    out = []
    for note in notes:
        rng = random.Random(f"augment:{seed}:{note.note_id}")
        if rng.random() < fraction:
            out.append(augment_note(note, rng))
    return out


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _dev_scores(nlp: Language, dev: dict[str, list[Example]]) -> dict[str, Any]:
    """Exact-span P/R/F per dev group (synth, shared); ``score`` is their mean F, so that the
    small shared set weighs as much as the large synthetic one."""
    out: dict[str, Any] = {}
    for source, examples in sorted(dev.items()):
        s = nlp.evaluate(examples)
        out[source] = {
            "p": round(float(s["ents_p"] or 0.0), 4),
            "r": round(float(s["ents_r"] or 0.0), 4),
            "f": round(float(s["ents_f"] or 0.0), 4),
            "per_label": {
                k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")}
                for k, v in sorted((s.get("ents_per_type") or {}).items())
            },
        }
    fs = [v["f"] for v in out.values()]
    out["score"] = round(sum(fs) / len(fs), 4) if fs else 0.0
    return out


def _scored(scores: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    return scores["score"], scores


def checkpoint_path(out: Path) -> Path:
    """Where training ``out`` keeps its last finished epoch: a hidden file beside ``out``."""
    out = Path(out)
    return out.with_name(f".{out.name}.checkpoint")


def _fingerprint(config: PhiTrainConfig, n_synth: int) -> dict[str, Any]:
    """What must not change between an interrupted run and its resumption."""
    return {
        "synth_patients": config.synth_patients,
        "synth_notes": n_synth,
        "seed": config.seed,
        "shared": str(config.shared) if config.shared else None,
        "arch": {**DEFAULT_ARCH, **config.arch},
        "augment_fraction": config.augment_fraction,
        "augment_shared": config.augment_shared,
    }


def _read_checkpoint(path: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    import srsly

    if not path.is_file():
        return None
    try:
        data = srsly.msgpack_loads(path.read_bytes())
    except Exception as exc:  # a truncated or foreign file: say so rather than train afresh
        raise ModelError(f"point de reprise illisible : {path}") from exc
    if data.get("fingerprint") != fingerprint:
        raise ModelError(
            f"le point de reprise {path} vient d'un entraînement aux réglages différents "
            "(le supprimer pour repartir de zéro)",
            fields=("resume",),
        )
    return dict(data)


def _write_checkpoint(path: Path, nlp: Language, epoch: int, fingerprint: dict[str, Any]) -> None:
    """The weights ``nlp`` holds now (the averaged ones the epoch was scored with), whole or
    not at all, readable by its owner only (they were learnt from patient-like notes)."""
    import srsly

    data = {
        "epoch": epoch,
        "fingerprint": fingerprint,
        "ner": nlp.get_pipe("ner").to_bytes(exclude=["vocab"]),
    }
    with atomic_file(path, "wb", encoding=None, private=True) as fh:
        fh.write(srsly.msgpack_dumps(data))


def train_model(
    out: Path,
    config: PhiTrainConfig,
    synth: Sequence[Note] = (),
    log: Callable[[str], None] | None = None,
    *,
    resume: bool = False,
) -> dict[str, Any]:
    """Train on ``synth`` (notes of ``source == "synth"``, generated by the caller from
    ``config.synth_patients`` and ``config.seed``) and the shared folder, then write the model
    folder ``out`` atomically; return its ``hopia`` metadata.

    Each finished epoch is saved atomically to :func:`checkpoint_path` (removed once the model
    is written): an interrupted run keeps its last epoch. ``resume=True`` starts from that
    checkpoint and runs the remaining epochs (the optimiser's moments restart; the shuffling
    goes on with another seed), provided the data and settings are the same.

    Raises
    ------
    ModelError
        No training data at all; a checkpoint that cannot be read or does not match.
    """
    from spacy.util import fix_random_seed

    log = log or (lambda _msg: None)
    t0 = time.monotonic()
    shared_notes, held = read_shared(config.shared) if config.shared else ([], Counter())
    train_notes, dev_notes = split_dev([*synth, *shared_notes], config.dev_fraction)
    if not train_notes:
        raise ModelError("aucune note d'entraînement")
    ckpt = checkpoint_path(out)
    fingerprint = _fingerprint(config, len(synth))
    state = _read_checkpoint(ckpt, fingerprint) if resume else None
    done_epochs = int(state["epoch"]) if state else 0
    if done_epochs >= config.max_epochs:
        raise ModelError(
            f"le point de reprise {ckpt} a déjà {done_epochs} époque(s) : augmenter le nombre "
            "maximal d'époques pour continuer",
            fields=("max_epochs",),
        )

    fix_random_seed(config.seed + done_epochs)
    nlp = build_nlp(config.arch)
    synth_train = [n for n in train_notes if n.source == "synth"]
    synth_train += augment(synth_train, config.augment_fraction, config.seed)
    synth_ex, train_stats = to_examples(nlp, synth_train)
    shared_train = [n for n in train_notes if n.source != "synth"]
    shared_train += augment(shared_train, config.augment_shared, config.seed)
    shared_ex, shared_stats = to_examples(nlp, shared_train)
    train_stats.update(shared_stats)
    train_ex = synth_ex + shared_ex
    repeat = synth_ex + shared_ex * max(1, config.shared_repeat)
    dev_ex: dict[str, list[Example]] = {}
    for group in ("synth", "shared"):  # the shared files pooled: a few notes make a noisy F
        picked = [n for n in dev_notes if (n.source == "synth") == (group == "synth")]
        if picked:
            dev_ex[group] = to_examples(nlp, picked)[0]
    log(
        f"{len(train_notes)} notes d'entraînement ({len(train_ex)} exemples, "
        f"{train_stats['dropped']} spans écartés), {len(dev_notes)} notes de dev, "
        f"{sum(held.values())} notes réservées à l'évaluation"
    )

    init_sample = train_ex[:500]  # label set and shapes only
    optimizer = nlp.initialize(lambda: init_sample)
    if state:
        nlp.get_pipe("ner").from_bytes(state["ner"], exclude=["vocab"])
        log(f"reprise après l'époque {done_epochs} ({ckpt})")
    epoch = done_epochs

    def scored_and_saved(model: Language) -> tuple[float, dict[str, Any]]:
        # called once per finished epoch, on the averaged weights: the checkpoint's moment
        nonlocal epoch
        epoch += 1
        result = _scored(_dev_scores(model, dev_ex)) if dev_ex else (float(epoch), {})
        _write_checkpoint(ckpt, model, epoch, fingerprint)
        return result

    settings = LoopSettings.of(config)
    settings = replace(
        settings, seed=config.seed + done_epochs, max_epochs=config.max_epochs - done_epochs
    )
    loop = train_ner_loop(nlp, optimizer, repeat, scored_and_saved, settings, started=t0, log=log)
    if not dev_ex:
        loop.dev_scores = {}
    dev_scores = loop.dev_scores or {"score": 0.0}

    final = loop.best_model(lambda: build_nlp(config.arch), init_sample)
    meta = {
        **loop.summary(t0),
        "dev": dev_scores,
        "config": {
            "synth_patients": config.synth_patients,
            "seed": config.seed,
            "max_minutes": config.max_minutes,
            "max_epochs": config.max_epochs,
            "patience": config.patience,
            "dev_fraction": config.dev_fraction,
            "shared_repeat": config.shared_repeat,
            "augment_fraction": config.augment_fraction,
            "augment_shared": config.augment_shared,
            "dropout": config.dropout,
            "batch_words": list(config.batch_words),
            "arch": {**DEFAULT_ARCH, **config.arch},
        },
        "data": {
            "description": (
                "hopia synth generate(synth_patients, seed), every document, plus the shared "
                "*.jsonl notes that are not held out (split.is_held_out, "
                f"fraction {HELD_OUT_FRACTION}); dev = notes with note_hash(id, '{DEV_SALT}') < "
                f"{config.dev_fraction}, taken from the training part"
            ),
            "shared_folder": config.shared.name if config.shared else None,
            "notes": dict(sorted(Counter(n.source for n in train_notes).items())),
            "dev_notes": dict(sorted(Counter(n.source for n in dev_notes).items())),
            "held_out_notes": dict(sorted(held.items())),
            "train_examples": len(train_ex),
            "train_spans": train_stats["spans"],
            "train_spans_expanded": train_stats["expanded"],
            "train_spans_dropped": train_stats["dropped"],
            "train_labels": dict(
                sorted(Counter(e.label_ for ex in train_ex for e in ex.reference.ents).items())
            ),
        },
    }
    meta["resumed_after_epoch"] = done_epochs
    meta = _write_atomically(final, Path(out), meta, dev_scores)
    ckpt.unlink(missing_ok=True)  # the model is written: nothing left to resume
    minutes = meta["training_seconds"] / 60
    log(f"modèle écrit dans {out} ({minutes:.1f} min, dev F {dev_scores['score']:.4f})")
    return meta


def _write_atomically(
    nlp: Language, out: Path, meta: dict[str, Any], dev_scores: dict[str, Any]
) -> dict[str, Any]:
    """Write the model (atomically, sha256-summed); return ``meta`` as written in meta.json."""
    spacy_meta = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "description": "Hopia: PHI NER (13 eds-pseudo labels), small CNN, CPU",
        "license": "proprietary (trained on fictitious data: hopia synth, eds-pseudo BSD-3)",
        "performance": {"dev_score": dev_scores["score"]},
    }
    return save_spacy_model(nlp, out, spacy_meta, meta)
