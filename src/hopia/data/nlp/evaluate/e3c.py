"""Negation (and hedging) on clinical cases written elsewhere: the E3C corpus (``hopia nlp
eval-e3c``, issue 11 item 2).

E3C (Magnini et al., 2021; github.com/hltfbk/E3C-Corpus, CC BY-NC 4.0) holds French clinical
case reports from journals (Pan African Medical Journal, PubMed abstracts), annotated by hand
in layer 1 (81 French documents): every EVENT has a ``polarity`` (POS or NEG) and a
``contextualModality`` (ACTUAL, HEDGED, GENERIC, HYPOTHETICAL). Nobody on the project wrote or
generated these texts, which is why they are the external test of the qualifiers. The corpus is
not shipped: the command takes the folder of the layer-1 XMI files (UIMA CAS XMI exported by
WebAnno), ``data_annotation/French/layer1``.

**What is scored.** The system runs on each whole document, as an ingest would. Each mention it
finds that overlaps at least one gold EVENT is aligned to the EVENT it overlaps most (ties: the
first); the mention's negation flag is then compared with the EVENT's polarity: a true positive
is a mention flagged negated whose EVENT is NEG, a false positive one flagged negated whose EVENT
is POS, a false negative one not flagged whose EVENT is NEG. This is the view of a user who
reads the warehouse: precision over what Hopia says is negated, recall over the negated events
it found. Mentions overlapping no EVENT are counted, not scored. Hedging is scored the same way
against Hopia's ``hypothesis`` flag (E3C's HEDGED and HYPOTHETICAL); it is a looser match (E3C's
hedging is the author's, Hopia's hypothesis is the clinician's), reported beside.

**Dev and test.** Each document falls in ``dev`` or ``test`` by a hash of its id
(:func:`split_of`), fixed once for all: errors may be read on ``dev`` only (``--errors`` refuses
``test``), so that ``test`` stays a figure nobody tuned on.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hopia.data.nlp.evaluate.scoring import Prediction
from hopia.platform.exceptions import SourceError
from hopia.platform.scores import Score

_CAS = "{http:///uima/cas.ecore}"
_CUSTOM = "{http:///webanno/custom.ecore}"
#: E3C modalities read as Hopia's ``hypothesis``.
HEDGED: frozenset[str] = frozenset({"HEDGED", "HYPOTHETICAL"})
#: Largest XMI file read (a layer-1 file is 50-400 KB).
MAX_FILE_BYTES = 20_000_000
SPLITS: tuple[str, ...] = ("dev", "test")


@dataclass(frozen=True)
class Event:
    start: int
    end: int
    negated: bool
    hedged: bool


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    events: tuple[Event, ...]

    @property
    def split(self) -> str:
        return split_of(self.doc_id)


def split_of(doc_id: str) -> str:
    """``dev`` or ``test``, from the first byte of the SHA-256 of the document's id."""
    return SPLITS[hashlib.sha256(doc_id.encode()).digest()[0] % 2]


def read_document(path: Path) -> Document:
    """One layer-1 XMI file: its text (the CAS sofa) and its EVENTs."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SourceError(path, "fichier trop gros pour un document E3C")
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SourceError(path, f"XMI illisible ({exc})") from exc
    sofa = root.find(f"{_CAS}Sofa")
    if sofa is None or "sofaString" not in sofa.attrib:
        raise SourceError(path, "pas de texte (élément cas:Sofa absent)")
    text = sofa.attrib["sofaString"]
    events = []
    for el in root.iter(f"{_CUSTOM}EVENT"):
        try:
            start, end = int(el.attrib["begin"]), int(el.attrib["end"])
        except (KeyError, ValueError) as exc:
            raise SourceError(path, "EVENT sans bornes valides") from exc
        if not 0 <= start < end <= len(text):
            raise SourceError(path, f"EVENT hors du texte ({start}-{end})")
        events.append(
            Event(
                start,
                end,
                el.attrib.get("polarity") == "NEG",
                el.attrib.get("contextualModality") in HEDGED,
            )
        )
    return Document(path.stem, text, tuple(sorted(events, key=lambda e: (e.start, e.end))))


def read_corpus(folder: Path) -> list[Document]:
    """Every ``*.xml`` of ``folder`` (sorted by name)."""
    paths = sorted(p for p in Path(folder).glob("*.xml") if p.is_file())
    if not paths:
        raise SourceError(
            folder,
            "aucun fichier XMI (*.xml) ; attendu : le dossier "
            "data_annotation/French/layer1 du corpus E3C",
        )
    return [read_document(p) for p in paths]


def align(prediction: Prediction, events: Sequence[Event]) -> Event | None:
    """The gold EVENT the mention overlaps most (the first on a tie), or None."""
    best, best_overlap = None, 0
    for event in events:
        if event.start >= prediction.end:
            break  # sorted by start
        overlap = min(event.end, prediction.end) - max(event.start, prediction.start)
        if overlap > best_overlap:
            best, best_overlap = event, overlap
    return best


@dataclass
class Case:
    """One aligned mention: what the system said and what E3C says."""

    doc_id: str
    split: str
    start: int
    end: int
    label: str
    pipe: str
    predicted: dict[str, bool]
    gold: dict[str, bool]


@dataclass
class E3cEval:
    source: str
    documents: int
    systems: dict[str, str]  # key -> title
    cases: dict[str, list[Case]] = field(default_factory=dict)  # per system key
    unaligned: dict[str, int] = field(default_factory=dict)  # mentions overlapping no EVENT
    gold_negated: int = 0  # NEG events in the corpus (found or not)
    seconds: dict[str, float] = field(default_factory=dict)

    def score(self, key: str, qualifier: str, split: str | None = None) -> Score:
        gold_q = "negated" if qualifier == "negation" else "hedged"
        cases = [c for c in self.cases[key] if split is None or c.split == split]
        gold = sum(c.gold[gold_q] for c in cases)
        predicted = sum(c.predicted[qualifier] for c in cases)
        correct = sum(c.gold[gold_q] and c.predicted[qualifier] for c in cases)
        return Score(gold=gold, found=correct, predicted=predicted, correct=correct)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "documents": self.documents,
            "gold_negated_events": self.gold_negated,
            "systems": {},
        }
        for key, title in self.systems.items():
            per: dict[str, Any] = {
                "title": title,
                "aligned_mentions": len(self.cases[key]),
                "unaligned_mentions": self.unaligned[key],
                "seconds": round(self.seconds.get(key, 0.0), 2),
            }
            for split in (None, *SPLITS):
                name = split or "all"
                per[name] = {
                    q: _score_dict(self.score(key, q, split)) for q in ("negation", "hypothesis")
                }
            out["systems"][key] = per
        return out

    def errors(self, key: str, documents: Sequence[Document]) -> list[dict[str, Any]]:
        """The dev split's negation errors of one system, with their sentence (for reading)."""
        texts = {d.doc_id: d.text for d in documents}
        out = []
        for c in self.cases[key]:
            if c.split != "dev" or c.predicted["negation"] == c.gold["negated"]:
                continue
            text = texts[c.doc_id]
            left = max(text.rfind(". ", 0, c.start) + 2, c.start - 160, 0)
            right = text.find(". ", c.end)
            right = min(right + 1 if right >= 0 else len(text), c.end + 160)
            out.append(
                {
                    "doc": c.doc_id,
                    "error": "faux positif" if c.predicted["negation"] else "faux négatif",
                    "mention": text[c.start : c.end],
                    "label": c.label,
                    "pipe": c.pipe,
                    "context": text[left:right].replace("\n", " "),
                }
            )
        return out


def _score_dict(score: Score) -> dict[str, Any]:
    return {
        "gold": score.gold,
        "predicted": score.predicted,
        "correct": score.correct,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
    }


def evaluate(
    documents: Sequence[Document],
    systems: Sequence[Any],  # hopia.data.nlp.evaluate.systems.System
    source: str,
    *,
    on_doc: Callable[[str], None] | None = None,
) -> E3cEval:
    """Run each system on every document and align its mentions to the gold EVENTs."""
    from hopia.data.nlp.evaluate.systems import run_system

    result = E3cEval(
        source,
        len(documents),
        {s.key: s.title for s in systems},
        gold_negated=sum(e.negated for d in documents for e in d.events),
    )
    texts = [d.text for d in documents]
    for system in systems:
        predictions, seconds = run_system(
            system, texts, on_doc=None if on_doc is None else (lambda k=system.key: on_doc(k))
        )
        result.seconds[system.key] = seconds
        cases: list[Case] = []
        unaligned = 0
        for doc, preds in zip(documents, predictions, strict=True):
            for p in sorted(preds, key=lambda p: (p.start, p.end)):
                event = align(p, doc.events)
                if event is None:
                    unaligned += 1
                    continue
                cases.append(
                    Case(
                        doc.doc_id,
                        doc.split,
                        p.start,
                        p.end,
                        p.label,
                        p.pipe,
                        {
                            "negation": bool(p.qualifiers.get("negation")),
                            "hypothesis": bool(p.qualifiers.get("hypothesis")),
                        },
                        {"negated": event.negated, "hedged": event.hedged},
                    )
                )
        result.cases[system.key] = cases
        result.unaligned[system.key] = unaligned
    return result
