"""The computing of a batch: pseudonymise each document, then run NLP on the pseudonymised texts.

Nothing here touches the warehouse: the same step runs in the ingest's main process and, per
partition, in a Spark executor. A document that makes a stage fail is reported through
``on_error`` and left out; the others go on. An NLP pipe that fails on a document is not a
stage failing: the document keeps the other pipes' mentions and carries the failure
(``Prepared.pipe_errors``), which the ingest counts and records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hopia.data.ingest.worker import Analysis
from hopia.data.nlp.extract import Extraction
from hopia.data.nlp.isolation import PipeError
from hopia.data.omop.mapping import Mention
from hopia.data.pseudo.pseudonymiser import PseudoResult
from hopia.data.records import PatientIdentity, RawDocument
from hopia.platform.warehouse.schema import IPP_MAX

Spans = list[tuple[int, int, str]]  # (start, end, semantic group) character offsets
# (pseudonymised texts, the clinical NER's spans in them or None each) -> mentions per text,
# as a plain list or as an Extraction (mentions and the pipes that failed on the text)
ExtractFn = Callable[[Sequence[str], Sequence[Spans | None]], Iterable[list[Mention] | Extraction]]
# original texts -> the clinical NER's spans in each
NerFn = Callable[[Sequence[str]], Sequence[Spans]]


@dataclass
class Prepared:
    """One document on its way through a batch."""

    doc: RawDocument
    content_hash: str
    patient_key: str | None
    pseudo_text: str = ""
    phi: list[Any] = field(default_factory=list)
    surrogates: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    model_spans: list[Any] | None = None  # PHI model output, when computed in the worker
    rule_spans: list[Any] | None = None  # the pseudonymisation rules' spans, likewise
    # Clinical NER output, when computed in the worker: (start, end, group) in the original
    # text, then in the pseudonymised one.
    ner_spans: list[tuple[int, int, str]] | None = None
    # NLP pipes that failed on this document: it keeps the other pipes' mentions
    pipe_errors: tuple[PipeError, ...] = ()

    @classmethod
    def of(cls, doc: RawDocument) -> Prepared:
        return cls(doc, content_hash(doc), doc.patient_ipp)

    @property
    def pseudo(self) -> PseudoResult:
        return PseudoResult(self.pseudo_text, self.phi, self.surrogates)


def content_hash(doc: RawDocument) -> str:
    """A document's identity for idempotency: sha256 of its patient, date, type and text."""
    key = "\x1f".join(
        [
            doc.patient_ipp or "",
            doc.doc_date.isoformat() if doc.doc_date else "",
            doc.doc_type or "",
        ]
    )
    return hashlib.sha256(f"{key}\x1e{doc.text}".encode()).hexdigest()


def refusal(doc: RawDocument) -> str | None:
    """Why a document read correctly still cannot be stored, or None."""
    if doc.patient_ipp and len(doc.patient_ipp) > IPP_MAX:
        return f"IPP trop long ({len(doc.patient_ipp)} caractères, {IPP_MAX} au plus)"
    if not _is_unicode(doc.text):
        return "texte invalide (caractères hors Unicode)"
    if not doc.text.strip():
        return "document vide"
    return None


def _is_unicode(text: str) -> bool:
    """False for lone surrogates (e.g. JSON "\\ud800"), which no database can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def apply(analysis: Analysis | None, batch: Sequence[Prepared]) -> None:
    """Hand the worker's results to the documents they were computed for."""
    if analysis is None:
        return
    for i, p in enumerate(batch):
        if analysis.phi is not None:
            p.model_spans = analysis.phi[i]
        if analysis.rules is not None:
            p.rule_spans = analysis.rules[i]
        if analysis.clinical_ner is not None:
            p.ner_spans = analysis.clinical_ner[i]


class Analyser:
    """Pseudonymisation then NLP, for a batch of documents.

    Parameters
    ----------
    pseudonymiser:
        A ``hopia.data.pseudo.Pseudonymiser``.
    extract:
        Turns a batch of (pseudonymised) texts into mentions, e.g. ``hopia.data.nlp.extract``;
        its second argument carries the clinical NER's spans, moved onto those texts.
    clinical_ner:
        The clinical NER on original texts (``predict_char_spans`` with the pipeline's weights),
        for the documents the worker did not analyse. The NER then always reads the original
        text, in whichever process runs it, so a document gets the same mentions whatever share
        of the batch the worker took (that share follows the machine's load).
    """

    def __init__(
        self, pseudonymiser: Any, extract: ExtractFn, clinical_ner: NerFn | None = None
    ) -> None:
        self.pseudonymiser = pseudonymiser
        self.extract = extract
        self.clinical_ner = clinical_ner

    def analyse(
        self,
        batch: Sequence[Prepared],
        identities: Mapping[str, PatientIdentity],
        on_error: Callable[[Prepared, str], None],
    ) -> list[Prepared]:
        """Fill in each document's pseudonymised text and mentions; the documents that went
        through. ``identities``: the identity of each patient, by IPP."""
        self._run_clinical_ner([p for p in batch if p.ner_spans is None])
        done: list[Prepared] = []
        for p in batch:
            key = p.patient_key or p.content_hash
            try:
                result = self.pseudonymiser.pseudonymise(
                    p.doc.text,
                    identity=identities.get(p.patient_key) if p.patient_key else None,
                    patient_key=key,
                    staff=p.doc.staff,
                    model_spans=p.model_spans,
                    rule_spans=p.rule_spans,
                )
            except Exception as exc:  # one document must not stop the batch
                on_error(p, f"pseudonymisation impossible ({type(exc).__name__})")
                continue
            p.pseudo_text, p.phi, p.surrogates = result.pseudo_text, result.spans, result.surrogates
            if p.ner_spans is not None:
                p.ner_spans = result.to_pseudo_offsets(p.ner_spans)
            done.append(p)
        try:
            texts, ner = [p.pseudo_text for p in done], [p.ner_spans for p in done]
            mentions = list(self.extract(texts, ner))
        except Exception:  # find the failing document, keep the others
            mentions = []
            for p in list(done):
                try:
                    mentions.extend(self.extract([p.pseudo_text], [p.ner_spans]))
                except Exception as exc:
                    on_error(p, f"analyse TAL impossible ({type(exc).__name__})")
                    done.remove(p)
        for p, found in zip(done, mentions, strict=True):
            if isinstance(found, Extraction):
                p.pipe_errors = found.errors
                found = found.entities  # noqa: PLW2901
            p.mentions = without_mentions_on_surrogates(list(found), p.pseudo)
        return done

    def _run_clinical_ner(self, todo: Sequence[Prepared]) -> None:
        """The clinical NER on the original texts the worker left to this process. Should it
        fail, those documents keep no spans and the NLP pipe runs its model on the
        pseudonymised text (a failing document is then set aside by :meth:`analyse`)."""
        if self.clinical_ner is None or not todo:
            return
        try:
            found = self.clinical_ner([p.doc.text for p in todo])
        except Exception:  # noqa: BLE001 - the per-document path below reports the culprit
            return
        for p, spans in zip(todo, found, strict=True):
            p.ner_spans = list(spans)


#: PHI labels whose surrogate is still the same kind of fact: a shifted date is a date.
DATE_LABELS = frozenset({"DATE", "DATE_NAISSANCE"})


def without_mentions_on_surrogates(mentions: list[Mention], result: PseudoResult) -> list[Mention]:
    """The mentions that touch a surrogate name, town, hospital, number… removed, whatever pipe
    found them; those touching a shifted date are kept (a date is still a date).

    A surrogate is drawn from the secret: a clean run with another secret writes another name
    there, and the rule pipes then find other "mentions" in it (a surrogate first name
    "Reine" read as a term, a town as a disorder): two clean ingests of the same corpus
    differed by a few ``note_nlp`` rows for that reason alone. Nothing clinical lies inside an
    identifier, so none is kept; the note's mentions then no longer depend on the secret. The
    clinical NER's worker path drops them by construction (``to_pseudo_offsets``)."""
    replaced = [(s.start, s.end) for s in result.pseudo_spans() if s.label not in DATE_LABELS]
    if not replaced:
        return mentions
    return [m for m in mentions if not any(a < m.end and m.start < b for a, b in replaced)]


def qualifier(m: Mention) -> str:
    """The one qualifier a mention is counted under in the report."""
    if m.negation:
        return "negated"
    if m.hypothesis:
        return "hypothetical"
    if m.family:
        return "family"
    return "affirmed"
