"""Evaluation of a PHI detector against annotated notes: span scores, redaction, splits.

Two gold formats load into the same :class:`PhiGoldDoc`:

- eds-pseudo JSONL: ``{"note_id", "note_text", "entities": [{"start", "end", "label"}]}``;
- a ``hopia synth`` corpus: ``documents.jsonl`` (``{"id", "text", "patient_id"}``), its sibling
  ``gold.jsonl`` (``{"id", "phi": [...]}``) and, when present, ``patients.jsonl``, whose
  identities are passed to the detector as the ingest pipeline would.

Metrics (:func:`evaluate`) are pure: the predictor is the only thing that runs. Every span, gold
or predicted, is first stripped of leading/trailing whitespace (inner spaces count); a span left
empty is ignored. Span scores are per label, "exact" (same start, end and label) and "overlap"
(a gold span is found when a predicted span of its label overlaps it; a predicted span is
correct when it overlaps a gold span of its label). Redaction scores are per character and
ignore labels: what matters for privacy is whether a PHI character was masked at all.
Whitespace inside spans is not a PHI character: a blank between two masked pieces ("75013" and
"Paris", "Ginette" and "Antoinette") reveals nothing, and eds-pseudo's own redaction metric
counts tokens, where blanks do not exist.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hopia.data.pseudo.rules import PhiSpan
from hopia.data.records import PHI_LABELS as LABELS
from hopia.data.records import PatientIdentity
from hopia.platform import splits as split
from hopia.platform.exceptions import SourceError
from hopia.platform.files import jsonl_records
from hopia.platform.scores import Score, fmt
from hopia.platform.scores import ratio as _ratio

if TYPE_CHECKING:
    from rich.table import Table

    from hopia.data.pseudo.pseudonymiser import Pseudonymiser

# Quality targets of the issue "Pseudonymisation research grade".
REDACTION_RECALL_TARGET = 0.97
REDACTION_PRECISION_TARGET = 0.85
FULLY_REDACTED_TARGET = 0.85
PERFECT_RECALL_LABELS: tuple[str, ...] = ("SECU", "TEL", "MAIL")  # character recall must be 1.0

HELD_OUT_FRACTION = split.HELD_OUT_FRACTION


# ---------------------------------------------------------------------------------------------
# Gold documents
# ---------------------------------------------------------------------------------------------


class GoldSpan(NamedTuple):
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class PhiGoldDoc:
    """One annotated note. ``identity``/``staff`` are what the detector may legitimately know."""

    id: str
    text: str
    spans: tuple[GoldSpan, ...]
    identity: PatientIdentity | None = None
    staff: tuple[str, ...] = ()
    source: str = ""  # the file it came from

    @property
    def overlaps(self) -> int:
        """Pairs of gold spans that overlap (allowed, but worth knowing about)."""
        return _overlapping_pairs(_stripped(self.text, self.spans))


def load_gold(path: str | Path) -> list[PhiGoldDoc]:
    """Annotated notes of an eds-pseudo JSONL file or a ``hopia synth`` corpus (its folder, its
    ``documents.jsonl`` or its ``gold.jsonl``). Raises :class:`SourceError` naming the file and
    line of the first malformed record (bad JSON, offsets out of the text, unknown label...)."""
    path = Path(path)
    if path.is_dir():
        return _load_synth(path / "documents.jsonl")
    if not path.is_file():
        raise SourceError(path, "fichier d'annotations introuvable")
    if path.name == "gold.jsonl":
        return _load_synth(path.with_name("documents.jsonl"))
    if path.name == "documents.jsonl" or (
        path.with_name("gold.jsonl").is_file() and not _looks_eds(path)
    ):
        return _load_synth(path)
    return _load_eds(path)


def _records(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """(``file#Lnn``, record) for each non-blank line."""
    return jsonl_records(path)


def _looks_eds(path: Path) -> bool:
    for _, record in _records(path):
        return "note_text" in record
    return False


def _field(record: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in record:
        raise SourceError(where, f"champ « {key} » manquant")
    value = record[key]
    if not isinstance(value, kind):
        expected = "une chaîne de caractères" if kind is str else "une liste"
        raise SourceError(where, f"le champ « {key} » doit être {expected}")
    return value


def _note_id(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SourceError(where, f"champ « {key} » manquant ou invalide (chaîne attendue)")
    return str(value)


def _spans(raw: list[Any], text: str, where: str) -> tuple[GoldSpan, ...]:
    out = []
    for i, ent in enumerate(raw):
        if not isinstance(ent, dict):
            raise SourceError(where, f"entité n° {i + 1} : objet attendu")
        start, end, label = ent.get("start"), ent.get("end"), ent.get("label")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise SourceError(where, f"entité n° {i + 1} : « start » et « end » entiers attendus")
        if not 0 <= start < end <= len(text):
            raise SourceError(
                where,
                f"entité n° {i + 1} : décalages hors du texte "
                f"(start={start}, end={end}, longueur {len(text)})",
            )
        if label not in LABELS:
            raise SourceError(
                where, f"entité n° {i + 1} : étiquette inconnue {label!r} ({', '.join(LABELS)})"
            )
        out.append(GoldSpan(start, end, label))
    return tuple(sorted(out))


def _load_eds(path: Path) -> list[PhiGoldDoc]:
    docs = []
    for where, rec in _records(path):
        note_id = _note_id(rec, "note_id", where)
        text = _field(rec, "note_text", str, where)
        spans = _spans(_field(rec, "entities", list, where), text, where)
        docs.append(PhiGoldDoc(note_id, text, spans, source=str(path)))
    return docs


def _load_synth(documents: Path) -> list[PhiGoldDoc]:
    from hopia.data.records.patients import read_patients

    gold_path = documents.with_name("gold.jsonl")
    for p in (documents, gold_path):
        if not p.is_file():
            raise SourceError(p, "fichier introuvable (corpus hopia synth attendu)")
    gold: dict[str, tuple[str, list[Any]]] = {}
    for where, rec in _records(gold_path):
        doc_id = _note_id(rec, "id", where)
        if doc_id in gold:
            raise SourceError(where, f"identifiant en double : {doc_id}")
        gold[doc_id] = (where, _field(rec, "phi", list, where))
    patients_path = documents.with_name("patients.jsonl")
    patients = {p.ipp: p for p in read_patients(patients_path)} if patients_path.is_file() else {}
    docs, seen = [], set()
    for where, rec in _records(documents):
        doc_id = _note_id(rec, "id", where)
        text = _field(rec, "text", str, where)
        if doc_id in seen:
            raise SourceError(where, f"identifiant en double : {doc_id}")
        seen.add(doc_id)
        if doc_id not in gold:
            raise SourceError(where, f"document {doc_id} absent de {gold_path.name}")
        gold_where, raw = gold.pop(doc_id)
        staff = rec.get("staff") or ()
        docs.append(
            PhiGoldDoc(
                doc_id,
                text,
                _spans(raw, text, gold_where),
                identity=patients.get(str(rec.get("patient_id"))),
                staff=tuple(s for s in staff if isinstance(s, str)),
                source=str(documents),
            )
        )
    if gold:
        where, _ = next(iter(gold.values()))
        raise SourceError(where, f"annotation sans document dans {documents.name}")
    return docs


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


def is_held_out(note_id: str, fraction: float = HELD_OUT_FRACTION) -> bool:
    """Whether a note belongs to the held-out evaluation part: a hash of its id only (the
    trainer's :func:`hopia.platform.splits.is_held_out`, one definition for both sides), so
    the answer never depends on the file, the order or the other notes, and duplicated ids stay
    together. **The trainer must call this to exclude the held-out fold.**"""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    return split.is_held_out(str(note_id), fraction)


def held_out(
    docs: Sequence[PhiGoldDoc], fraction: float = HELD_OUT_FRACTION
) -> tuple[list[PhiGoldDoc], list[PhiGoldDoc]]:
    """(training part, held-out part), deterministic by note id hash (:func:`is_held_out`).

    The trainer must call this to exclude the held-out fold: ``train, _ = held_out(docs)``;
    ``hopia pseudo eval --split heldout`` scores the other part.
    """
    train: list[PhiGoldDoc] = []
    test: list[PhiGoldDoc] = []
    for d in docs:
        (test if is_held_out(d.id, fraction) else train).append(d)
    return train, test


def fold_of(note_id: str, k: int, seed: int = 0) -> int:
    """The fold (0..k-1) of a note for k-fold cross-validation, by a hash of seed and id."""
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    return int(split.note_hash(str(note_id), f"folds:{seed}:") * k)


def split_folds(docs: Sequence[PhiGoldDoc], k: int, seed: int = 0) -> list[list[PhiGoldDoc]]:
    """k disjoint folds covering ``docs``, deterministic by note id hash (see :func:`fold_of`).
    For cross-validation run it on the training part of :func:`held_out`: the trainer must call
    ``held_out`` first to exclude the held-out fold."""
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    folds: list[list[PhiGoldDoc]] = [[] for _ in range(k)]
    for d in docs:
        folds[fold_of(d.id, k, seed)].append(d)
    return folds


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelReport:
    label: str
    exact: Score = Score()
    overlap: Score = Score()
    gold_chars: int = 0
    covered_chars: int = 0  # of this label's gold characters, covered by any predicted span

    @property
    def char_recall(self) -> float | None:
        return _ratio(self.covered_chars, self.gold_chars)

    @property
    def active(self) -> bool:
        """In the gold or in the predictions: counts in the macro average."""
        return bool(self.exact.gold or self.exact.predicted)


class Target(NamedTuple):
    name: str  # e.g. "redaction_recall", "char_recall_SECU"
    value: float | None  # None: nothing to measure (no gold span of that label)
    threshold: float

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.threshold


@dataclass(frozen=True)
class EvalReport:
    documents: int
    labels: dict[str, LabelReport]
    gold_chars: int  # gold PHI characters (union of the stripped gold spans)
    predicted_chars: int
    covered_chars: int  # gold PHI characters covered by a predicted span
    docs_with_phi: int
    docs_fully_redacted: int  # among docs_with_phi
    gold_overlaps: int  # pairs of overlapping gold spans
    seconds: float  # time spent in the predictor

    @property
    def micro_exact(self) -> Score:
        return sum((r.exact for r in self.labels.values()), Score())

    @property
    def micro_overlap(self) -> Score:
        return sum((r.overlap for r in self.labels.values()), Score())

    def macro(self, kind: str = "exact") -> tuple[float | None, float | None, float | None]:
        """Unweighted mean (precision, recall, F1) over the labels present in the gold or the
        predictions; an undefined value (nothing predicted or nothing to find) counts as 0."""
        scores = [getattr(r, kind) for r in self.labels.values() if r.active]
        if not scores:
            return None, None, None
        n = len(scores)
        return (
            sum(s.precision or 0.0 for s in scores) / n,
            sum(s.recall or 0.0 for s in scores) / n,
            sum(s.f1 or 0.0 for s in scores) / n,
        )

    @property
    def redaction_recall(self) -> float | None:
        return _ratio(self.covered_chars, self.gold_chars)

    @property
    def redaction_precision(self) -> float | None:
        return _ratio(self.covered_chars, self.predicted_chars)

    @property
    def fully_redacted(self) -> float | None:
        """Share of the documents holding PHI whose every PHI character is covered."""
        return _ratio(self.docs_fully_redacted, self.docs_with_phi)

    @property
    def docs_per_second(self) -> float | None:
        return self.documents / self.seconds if self.seconds > 0 else None

    def targets(self) -> list[Target]:
        out = [
            Target("redaction_recall", self.redaction_recall, REDACTION_RECALL_TARGET),
            Target("redaction_precision", self.redaction_precision, REDACTION_PRECISION_TARGET),
            Target("fully_redacted", self.fully_redacted, FULLY_REDACTED_TARGET),
        ]
        for label in PERFECT_RECALL_LABELS:
            report = self.labels.get(label, LabelReport(label))
            out.append(Target(f"char_recall_{label}", report.char_recall, 1.0))
        return out

    def to_dict(self) -> dict[str, Any]:
        def macro(kind: str) -> dict[str, float | None]:
            return dict(zip(("precision", "recall", "f1"), self.macro(kind), strict=True))

        return {
            "documents": self.documents,
            "seconds": self.seconds,
            "docs_per_second": self.docs_per_second,
            "gold_overlaps": self.gold_overlaps,
            "labels": {
                label: {
                    "exact": r.exact.to_dict(),
                    "overlap": r.overlap.to_dict(),
                    "char_recall": r.char_recall,
                    "gold_chars": r.gold_chars,
                    "covered_chars": r.covered_chars,
                }
                for label, r in self.labels.items()
            },
            "micro": {"exact": self.micro_exact.to_dict(), "overlap": self.micro_overlap.to_dict()},
            "macro": {"exact": macro("exact"), "overlap": macro("overlap")},
            "redaction": {
                "recall": self.redaction_recall,
                "precision": self.redaction_precision,
                "gold_chars": self.gold_chars,
                "predicted_chars": self.predicted_chars,
                "covered_chars": self.covered_chars,
            },
            "fully_redacted": {
                "share": self.fully_redacted,
                "documents": self.docs_fully_redacted,
                "documents_with_phi": self.docs_with_phi,
            },
            "targets": [
                {"name": t.name, "value": t.value, "threshold": t.threshold, "met": t.met}
                for t in self.targets()
            ],
        }

    def to_json(self, **extra: Any) -> str:
        """The report as JSON; ``extra`` keys (gold files, split...) come first."""
        return json.dumps({**extra, **self.to_dict()}, ensure_ascii=False, indent=2)

    def to_table(self) -> Table:
        """Per-label scores, then micro and macro averages (French headers, for the CLI)."""
        from rich import box
        from rich.table import Table

        table = Table(
            title="Scores par étiquette (exact : mêmes bornes ; chev. : chevauchement)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0, 0, 1),  # fits 80 columns, the width of pipes and CI logs
            pad_edge=False,
        )
        table.add_column("Étiquette", no_wrap=True)
        table.add_column("Gold", justify="right")
        table.add_column("Préd.", justify="right")
        for kind in ("exact", "chev."):
            for head in ("P", "R", "F1"):
                table.add_column(f"{head}\n{kind}", justify="right")
        table.add_column("R\ncar.", justify="right")
        for label, r in self.labels.items():
            table.add_row(
                label,
                str(r.exact.gold),
                str(r.exact.predicted),
                *_cells(r.exact.precision, r.exact.recall, r.exact.f1),
                *_cells(r.overlap.precision, r.overlap.recall, r.overlap.f1),
                fmt(r.char_recall),
                style=None if r.active else "dim",
            )
        micro_x, micro_o = self.micro_exact, self.micro_overlap
        table.add_section()
        table.add_row(
            "micro",
            str(micro_x.gold),
            str(micro_x.predicted),
            *_cells(micro_x.precision, micro_x.recall, micro_x.f1),
            *_cells(micro_o.precision, micro_o.recall, micro_o.f1),
            "",
            style="bold",
        )
        table.add_row(
            "macro", "", "", *_cells(*self.macro("exact")), *_cells(*self.macro("overlap")), ""
        )
        return table


def _cells(*values: float | None) -> list[str]:
    return [fmt(v) for v in values]


def _stripped(text: str, spans: Iterable[tuple[int, int, str]]) -> set[tuple[int, int, str]]:
    """Spans without leading/trailing whitespace; whitespace-only spans dropped."""
    out = set()
    n = len(text)
    for start, end, label in spans:
        start, end = max(start, 0), min(end, n)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.add((start, end, label))
    return out


def _bits(start: int, end: int) -> int:
    return ((1 << (end - start)) - 1) << start


def _mask(spans: Iterable[tuple[int, int, str]]) -> int:
    """The characters of ``spans`` as an int bitset (cheap unions, intersections, counts)."""
    m = 0
    for start, end, _ in spans:
        m |= _bits(start, end)
    return m


_BLANK = re.compile(r"\s+")


def _blanks(text: str, spans: Iterable[tuple[int, int, str]]) -> int:
    """The whitespace characters inside ``spans``, as a bitset."""
    m = 0
    for start, end, _ in spans:
        for b in _BLANK.finditer(text, start, end):
            m |= _bits(*b.span())
    return m


def _overlapping_pairs(spans: Iterable[tuple[int, int, str]]) -> int:
    ordered = sorted(spans)
    return sum(
        1
        for i, (_, end, _) in enumerate(ordered)
        for start2, _, _ in ordered[i + 1 :]
        if start2 < end
    )


@dataclass
class _Tally:
    exact: dict[str, Score] = field(default_factory=dict)
    overlap: dict[str, Score] = field(default_factory=dict)
    label_chars: dict[str, tuple[int, int]] = field(default_factory=dict)
    gold_chars: int = 0
    predicted_chars: int = 0
    covered_chars: int = 0
    docs: int = 0
    docs_with_phi: int = 0
    docs_fully_redacted: int = 0
    gold_overlaps: int = 0

    def add(
        self, text: str, gold_raw: Iterable[tuple[int, int, str]], pred_raw: Iterable[PhiSpan]
    ) -> None:
        gold = _stripped(text, gold_raw)
        pred = _stripped(text, ((s.start, s.end, s.label) for s in pred_raw))
        blanks = _blanks(text, gold | pred)
        gold_all, pred_all = _mask(gold) & ~blanks, _mask(pred) & ~blanks
        self.docs += 1
        self.gold_overlaps += _overlapping_pairs(gold)
        self.gold_chars += gold_all.bit_count()
        self.predicted_chars += pred_all.bit_count()
        self.covered_chars += (gold_all & pred_all).bit_count()
        if gold_all:
            self.docs_with_phi += 1
            self.docs_fully_redacted += not gold_all & ~pred_all
        for label in {s[2] for s in gold} | {s[2] for s in pred}:
            g = {s for s in gold if s[2] == label}
            p = {s for s in pred if s[2] == label}
            g_mask, p_mask = _mask(g), _mask(p)
            hits = len(g & p)
            self.exact[label] = self.exact.get(label, Score()) + Score(len(g), hits, len(p), hits)
            self.overlap[label] = self.overlap.get(label, Score()) + Score(
                len(g),
                sum(1 for s in g if p_mask & _bits(s[0], s[1])),
                len(p),
                sum(1 for s in p if g_mask & _bits(s[0], s[1])),
            )
            chars, covered = self.label_chars.get(label, (0, 0))
            g_chars = g_mask & ~blanks
            self.label_chars[label] = (
                chars + g_chars.bit_count(),
                covered + (g_chars & pred_all).bit_count(),
            )

    def report(self, seconds: float) -> EvalReport:
        extra = sorted(set(self.exact) - set(LABELS))
        labels = {}
        for label in (*LABELS, *extra):
            chars, covered = self.label_chars.get(label, (0, 0))
            labels[label] = LabelReport(
                label,
                self.exact.get(label, Score()),
                self.overlap.get(label, Score()),
                chars,
                covered,
            )
        return EvalReport(
            documents=self.docs,
            labels=labels,
            gold_chars=self.gold_chars,
            predicted_chars=self.predicted_chars,
            covered_chars=self.covered_chars,
            docs_with_phi=self.docs_with_phi,
            docs_fully_redacted=self.docs_fully_redacted,
            gold_overlaps=self.gold_overlaps,
            seconds=seconds,
        )


def score(
    pairs: Iterable[tuple[str, Iterable[tuple[int, int, str]], Iterable[PhiSpan]]],
) -> EvalReport:
    """The report for ready-made (text, gold spans, predicted spans) triples (no timing)."""
    tally = _Tally()
    for text, gold, pred in pairs:
        tally.add(text, gold, pred)
    return tally.report(0.0)


def evaluate(
    predict: Callable[[PhiGoldDoc], list[PhiSpan]],
    docs: Iterable[PhiGoldDoc],
    clock: Callable[[], float] = time.perf_counter,
) -> EvalReport:
    """Run ``predict`` on every document and score it against the gold; only the predictor's
    own time counts in ``seconds`` (hence ``docs_per_second``)."""
    tally = _Tally()
    seconds = 0.0
    for doc in docs:
        started = clock()
        pred = predict(doc)
        seconds += clock() - started
        tally.add(doc.text, doc.spans, pred)
    return tally.report(seconds)


def pseudonymiser_predict(pseudonymiser: Pseudonymiser) -> Callable[[PhiGoldDoc], list[PhiSpan]]:
    """The predictor of :func:`evaluate` for a :class:`Pseudonymiser`, given what the ingest
    pipeline would know: the patient's identity and the clinicians' names."""

    def predict(doc: PhiGoldDoc) -> list[PhiSpan]:
        return pseudonymiser.detect(doc.text, doc.identity, doc.staff)

    return predict
