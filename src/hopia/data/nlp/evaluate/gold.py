"""Gold mentions for the clinical NLP evaluation: BRAT standoff folders and ``hopia synth`` gold.

Both load into :class:`GoldDoc`, a text with :class:`Mention` records whose ``label`` is a
semantic group (DISO, CHEM, PROC, ANAT, LAB…, the UMLS groups QUAERO uses, the same values as
``Entity.category``).

- BRAT (QUAERO): every ``*.txt`` under a folder (recursively) with its ``*.ann`` sibling.
  Text-bound lines ``T<n>\\t<LABEL> <start> <end>[;<start> <end>…]\\t<text>`` become mentions;
  discontinuous ones ("DISO 10 20;25 30") keep their fragments. ``#`` AnnotatorNotes (the UMLS
  CUI in QUAERO) are attached to their mention as ``cui``; relations, events and attributes
  are ignored and counted.
- ``hopia synth`` gold: ``gold.jsonl`` lines ``{"id", "facts": [...]}`` with the texts of the
  sibling ``documents.jsonl``. A fact's ``kind`` gives the label (condition → DISO, drug → CHEM,
  measurement → LAB) and its flags the qualifiers (``negated`` → negation, ``hypothesis``,
  ``family``, ``history``).

A malformed file raises :class:`~hopia.platform.exceptions.SourceError` naming the file (and
line) and the reason; nothing is half-loaded.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hopia.platform.exceptions import SourceError
from hopia.platform.files import jsonl_records

Fragment = tuple[int, int]

#: Qualifiers scored on matched mentions, as named on :class:`hopia.data.nlp.Entity`.
QUALIFIERS: tuple[str, ...] = ("negation", "hypothesis", "family", "history")

#: ``hopia synth`` fact kind → semantic group.
KIND_LABEL: dict[str, str] = {"condition": "DISO", "drug": "CHEM", "measurement": "LAB"}
_FACT_FLAGS: dict[str, str] = {
    "negated": "negation",
    "hypothesis": "hypothesis",
    "family": "family",
    "history": "history",
}

_T_LINE = re.compile(r"T\S*\t(?P<label>\S+) (?P<offsets>\d+ \d+(?:;\d+ \d+)*)(?:\t(?P<text>.*))?")
_NOTE_LINE = re.compile(r"#\S*\tAnnotatorNotes (?P<ref>T\S+)\t(?P<note>.*)")


@dataclass(frozen=True)
class Mention:
    """One gold mention: its character fragments (one unless discontinuous) and group.

    ``qualifiers`` is None when the gold says nothing about them (BRAT).
    """

    fragments: tuple[Fragment, ...]
    label: str
    qualifiers: dict[str, bool] | None = None
    cui: str | None = None

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    mentions: tuple[Mention, ...]
    source: str = ""


@dataclass
class GoldSet:
    """The documents of one gold source and what was read from it."""

    docs: list[GoldDoc]
    kind: str  # "brat" or "jsonl"
    source: str
    ignored: Counter[str] = field(default_factory=Counter)  # BRAT lines not scored, by type

    @property
    def labels(self) -> list[str]:
        counts = Counter(m.label for d in self.docs for m in d.mentions)
        return [label for label, _ in counts.most_common()]

    @property
    def has_qualifiers(self) -> bool:
        return any(m.qualifiers is not None for d in self.docs for m in d.mentions)


# ---------------------------------------------------------------------------------------------
# BRAT
# ---------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        # newline="" keeps "\r\n" as two characters: BRAT offsets count them both
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise SourceError(path, "encodage invalide (UTF-8 attendu)") from None
    except OSError as exc:
        raise SourceError(path, f"fichier illisible ({exc.strerror})") from exc


def parse_ann(ann: str, text: str, where: str | Path) -> tuple[list[Mention], Counter[str]]:
    """The mentions of one ``.ann`` content over ``text``, and the other lines counted by type.

    Raises
    ------
    SourceError
        A text-bound line that cannot be read, offsets outside the text or not in order, or a
        quoted text that differs from the text at those offsets.
    """
    mentions: dict[str, Mention] = {}
    notes: dict[str, str] = {}
    ignored: Counter[str] = Counter()
    for lineno, line in enumerate(ann.splitlines(), start=1):
        if not line.strip():
            continue
        here = f"{where}#L{lineno}"
        if line.startswith("T"):
            m = _T_LINE.fullmatch(line)
            if m is None:
                raise SourceError(here, "ligne T illisible (« T1<tab>LABEL début fin<tab>texte »)")
            ident = line.split("\t", 1)[0]
            fragments = tuple(
                (int(a), int(b)) for a, b in (pair.split(" ") for pair in m["offsets"].split(";"))
            )
            for start, end in fragments:
                if not 0 <= start < end <= len(text):
                    raise SourceError(
                        here,
                        f"décalages invalides {start}-{end} (texte de {len(text)} caractères)",
                    )
            quoted = m["text"]
            # fragments are quoted in the file's order, which need not be the text's
            covered = " ".join(text[a:b] for a, b in fragments)
            if quoted is not None and quoted.strip() != covered.strip():
                # QUAERO quotes fragments joined by one space; anything else is a shifted file
                raise SourceError(
                    here, f"le texte cité ne correspond pas au texte aux décalages {fragments}"
                )
            if ident in mentions:
                raise SourceError(here, f"identifiant en double : {ident}")
            mentions[ident] = Mention(tuple(sorted(fragments)), m["label"])
        elif line.startswith("#"):
            note = _NOTE_LINE.fullmatch(line)
            if note is None:
                ignored["#"] += 1
            else:
                notes[note["ref"]] = note["note"].strip()
        else:
            ignored[line[:1]] += 1
    for ref, note in notes.items():
        if ref not in mentions:
            ignored["#"] += 1
            continue
        mentions[ref] = Mention(mentions[ref].fragments, mentions[ref].label, cui=note or None)
    ordered = sorted(mentions.values(), key=lambda x: (x.fragments, x.label))
    return ordered, ignored


def read_brat(folder: str | Path) -> GoldSet:
    """Every ``.txt``/``.ann`` pair under ``folder``, sorted by relative path.

    Raises
    ------
    SourceError
        No such folder, no ``.txt`` in it, a ``.txt`` without its ``.ann`` (or the reverse), or
        a malformed ``.ann`` (see :func:`parse_ann`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(folder, "dossier BRAT introuvable")
    texts = sorted(folder.rglob("*.txt"))
    texts = [p for p in texts if p.is_file() and not p.name.startswith(".")]
    if not texts:
        raise SourceError(folder, "aucun fichier .txt dans ce dossier BRAT")
    txt_stems = {p.with_suffix("") for p in texts}
    for ann in sorted(folder.rglob("*.ann")):
        if ann.with_suffix("") not in txt_stems:
            raise SourceError(ann, "fichier .ann sans le .txt correspondant")
    docs: list[GoldDoc] = []
    ignored: Counter[str] = Counter()
    for txt in texts:
        ann_path = txt.with_suffix(".ann")
        if not ann_path.is_file():
            raise SourceError(txt, "fichier .ann manquant à côté de ce .txt")
        text = _read_text(txt)
        mentions, other = parse_ann(_read_text(ann_path), text, ann_path)
        ignored.update(other)
        doc_id = txt.relative_to(folder).with_suffix("").as_posix()
        docs.append(GoldDoc(doc_id, text, tuple(mentions), str(txt)))
    return GoldSet(docs, "brat", str(folder), ignored)


# ---------------------------------------------------------------------------------------------
# hopia synth gold (JSONL)
# ---------------------------------------------------------------------------------------------


def _records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    return jsonl_records(path, encoding="utf-8-sig")  # a BOM is tolerated in gold files


def _doc_id(record: dict[str, Any], where: str) -> str:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SourceError(where, "champ « id » manquant ou invalide")
    return str(value)


def _fact_mention(fact: Any, text: str, where: str, n: int) -> Mention:
    if not isinstance(fact, dict):
        raise SourceError(where, f"fait n° {n} : objet attendu")
    start, end, kind = fact.get("start"), fact.get("end"), fact.get("kind")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise SourceError(where, f"fait n° {n} : « start » et « end » entiers attendus")
    if not 0 <= start < end <= len(text):
        raise SourceError(
            where, f"fait n° {n} : décalages {start}-{end} hors du texte ({len(text)} caractères)"
        )
    if kind not in KIND_LABEL:
        raise SourceError(
            where, f"fait n° {n} : type {kind!r} inconnu ({', '.join(sorted(KIND_LABEL))})"
        )
    qualifiers = {name: bool(fact.get(flag, False)) for flag, name in _FACT_FLAGS.items()}
    return Mention(((start, end),), KIND_LABEL[kind], qualifiers)


def read_synth_gold(path: str | Path) -> GoldSet:
    """The facts of a ``hopia synth`` corpus: its folder, its ``gold.jsonl`` or any JSONL of
    ``{"id", "facts"}`` lines, texts taken from the line's ``text`` or else from the sibling
    ``documents.jsonl``.

    Raises
    ------
    SourceError
        Missing file, bad JSON, a gold line without its document, offsets outside the text,
        unknown fact kind.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "gold.jsonl"
    if not path.is_file():
        raise SourceError(path, "fichier d'annotations introuvable")
    rows: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for where, record in _records(path):
        doc_id = _doc_id(record, where)
        if doc_id in seen:
            raise SourceError(where, f"identifiant en double : {doc_id}")
        seen.add(doc_id)
        if not isinstance(record.get("facts"), list):
            raise SourceError(where, "champ « facts » manquant ou invalide (liste attendue)")
        rows.append((where, doc_id, record))
    texts: dict[str, str] = {}
    if any(not isinstance(r.get("text"), str) for _, _, r in rows):
        documents = path.with_name("documents.jsonl")
        if not documents.is_file():
            raise SourceError(documents, "fichier introuvable (textes du corpus hopia synth)")
        for where, record in _records(documents):
            text = record.get("text")
            if not isinstance(text, str):
                raise SourceError(where, "champ « text » manquant ou invalide")
            texts[_doc_id(record, where)] = text
    docs = []
    for where, doc_id, record in rows:
        text = record["text"] if isinstance(record.get("text"), str) else texts.get(doc_id)
        if text is None:
            raise SourceError(where, f"document {doc_id} absent de documents.jsonl")
        mentions = [
            _fact_mention(f, text, where, i) for i, f in enumerate(record["facts"], start=1)
        ]
        mentions.sort(key=lambda x: (x.fragments, x.label))
        docs.append(GoldDoc(doc_id, text, tuple(mentions), str(path)))
    if not docs:
        raise SourceError(path, "aucun document annoté")
    return GoldSet(docs, "jsonl", str(path))
