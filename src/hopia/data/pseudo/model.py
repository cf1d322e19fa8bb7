"""Statistical PHI detector: a small spaCy NER trained by :mod:`hopia.data.pseudo.train`.

It complements the rules where they are weak (names without a title, lower-case names, hospital
names): :class:`~hopia.data.pseudo.pseudonymiser.Pseudonymiser` merges its spans with the rules'
(rules win label conflicts). The shipped weights live in ``model_weights/`` next to this file
(built by ``hopia pseudo train``, never downloaded); everything runs on one CPU thread.

>>> spans = PhiModel.load().predict(["Revu avec sa fille Nathalie Roussel."])[0]  # doctest: +SKIP
>>> [(s.text, s.label) for s in spans]                                            # doctest: +SKIP
[('Nathalie', 'PRENOM'), ('Roussel', 'NOM')]
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.data.pseudo import patterns as P
from hopia.data.pseudo.rules import PhiSpan
from hopia.data.records import PHI_LABELS as LABELS
from hopia.platform.exceptions import PseudonymisationError
from hopia.platform.models import small_ner
from hopia.platform.text import chunk_bounds

if TYPE_CHECKING:
    from spacy.language import Language

# Shared 2-core machines: one BLAS/OpenMP thread (numpy reads these when it is first imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

WEIGHTS_DIR = Path(__file__).with_name("model_weights")
MAX_CHUNK_CHARS = 5_000  # far under spaCy's max_length; bounds the memory of one doc
BATCH_SIZE = 32
# Width/depth/rows of the shipped model; train.py may override them.
DEFAULT_ARCH: dict[str, int] = {"width": 96, "depth": 4, "embed_rows": 5_000, "hidden": 64}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # spaCy's string store cannot encode them
_TRIM = " \t\r\n\f\v,;:-–—'’\"«»()[]"  # never a dot: "St." and "M." keep theirs

_WORD = re.compile(r"[^\W\d_]+")
# A hospital's name stops before the service ("Hôpital Foch Service de cardiologie"), a title
# or a word in lower case ("CHU de Rennes demain"): the rules' convention, kept by the model.
_HOSPITAL_END = re.compile(
    r"[ \t]+(?:(?:Service|Unité|Pôle|Département|Dr|Pr|Mme|M|Tél|Tel|Fax)\b|[a-zà-ÿ][^ \t]*$)"
)
_LOWER_NEXT = re.compile(r"[ \t]+[a-zà-ÿ0-9]")

_cache: dict[Path, PhiModel] = {}
_cache_lock = threading.Lock()


def build_nlp(arch: dict[str, int] | None = None) -> Language:
    """A blank French pipeline with an untrained NER over a small hash-embedding CNN."""
    return small_ner(LABELS, {**DEFAULT_ARCH, **(arch or {})})


class PhiModel:
    """A loaded statistical PHI detector; :meth:`load` caches one per weights folder."""

    def __init__(self, nlp: Language, path: Path | None = None) -> None:
        self.nlp = nlp
        self.path = path
        self.meta: dict[str, Any] = dict(nlp.meta)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PhiModel:
        """The model in ``path`` (default: the shipped weights), loaded once per process.

        Raises
        ------
        PseudonymisationError
            No model in ``path``, or it cannot be read.
        """
        folder = Path(path or WEIGHTS_DIR).resolve()
        with _cache_lock:  # ingest threads may ask at the same time: load once
            model = _cache.get(folder)
            if model is None:
                model = _cache[folder] = cls(_load_nlp(folder), folder)
        return model

    def predict(
        self,
        texts: Sequence[str],
        *,
        focus: bool = False,
        rule_spans: Sequence[Sequence[PhiSpan]] | None = None,
    ) -> list[list[PhiSpan]]:
        """Spans (``source="model"``) of each text, sorted, with offsets into that text.

        ``focus``: run the network only on the lines whose words are not all known common
        words or read by a rule (:func:`hopia.data.pseudo.focus.unexplained_regions`): about
        60 % of the synthetic CHU's characters are skipped, with the same recall on the
        held-out fold (docs/benchmarks.md). ``rule_spans``: each text's
        :func:`~hopia.data.pseudo.rules.detect_rules`, when the caller has them already."""
        if not focus:
            return self._predict(texts)
        from hopia.data.pseudo.focus import unexplained_regions

        regions: list[tuple[int, int, int]] = []  # (text index, start, end)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise PseudonymisationError(f"texte attendu, reçu {type(text).__name__}")
            rules = rule_spans[i] if rule_spans is not None else None
            regions += [(i, s, e) for s, e in unexplained_regions(text, rule_spans=rules)]
        found = self._predict([texts[i][s:e] for i, s, e in regions])
        out: list[list[PhiSpan]] = [[] for _ in texts]
        for (i, s, _), spans in zip(regions, found, strict=True):
            out[i] += [
                PhiSpan(p.start + s, p.end + s, p.label, p.text, p.source, p.detail) for p in spans
            ]
        return out

    def _predict(self, texts: Sequence[str]) -> list[list[PhiSpan]]:
        pieces: list[tuple[int, int]] = []  # (text index, chunk start)

        def chunks() -> Iterator[str]:
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise PseudonymisationError(f"texte attendu, reçu {type(text).__name__}")
                for start, end in chunk_bounds(text, MAX_CHUNK_CHARS):
                    chunk = text[start:end]
                    if chunk.strip():
                        pieces.append((i, start))
                        # one character for one: the offsets stay those of ``text``
                        yield _LONE_SURROGATE.sub("\ufffd", chunk)

        out: list[list[PhiSpan]] = [[] for _ in texts]
        # nlp.pipe consumes the generator lazily: ``pieces`` is filled before each doc comes out
        for n, doc in enumerate(self.nlp.pipe(chunks(), batch_size=BATCH_SIZE)):
            i, offset = pieces[n]
            text = texts[i]
            for ent in doc.ents:
                start, end = offset + ent.start_char, offset + ent.end_char
                if ent.label_ == "HOPITAL":
                    while cut := _HOSPITAL_END.search(text, start, end):
                        end = cut.start()
                span = _trimmed(text, start, end, ent.label_)
                if span is not None and _plausible(span, text):
                    out[i].append(span)
        return out


def _trimmed(text: str, start: int, end: int, label: str) -> PhiSpan | None:
    """The span without the blanks and punctuation at its edges; None when nothing is left."""
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    if end <= start or not any(c.isalnum() for c in text[start:end]):
        return None
    return PhiSpan(start, end, label, text[start:end], "model")


def _plausible(span: PhiSpan, text: str) -> bool:
    """Whether a predicted span can be what its label says. The model learnt lower-case names
    and names opening a note from the eds-pseudo notes, and sometimes takes a title or a common
    word for a name."""
    if span.label in ("DATE", "DATE_NAISSANCE"):
        # "mars" alone is the month; "quinze septembre mille neuf cent..." is a date
        return any(c.isdigit() for c in span.text) or len(span.text.split()) > 1
    if span.label not in ("NOM", "PRENOM"):
        return True
    words = _WORD.findall(P.fold(span.text))
    initial = len(words) == 1 and len(words[0]) == 1 and words[0] != "m"  # "M." is Monsieur
    if words and not initial and all(w in P.NAME_STOPWORDS for w in words):
        return False  # "Mlle", "M.", "Validé", "né"
    if not words:
        return True  # digits under a name label are still worth hiding
    from hopia.data.pseudo.gazetteer import AMBIGUOUS, load

    g = load()
    if span.text.lower() != span.text:
        # "Transfert vers...", "Relevé 1 4 0...": one capitalised word opening a sentence, then
        # a word in lower case or a number, and no name the gazetteers know
        return not (
            len(words) == 1
            and span.text[1:].islower()
            and _opens_sentence(text, span.start)
            and _LOWER_NEXT.match(text, span.end) is not None
            and words[0] not in g.first_names
            and words[0] not in g.surnames
        )
    # in lower case, a word is a name only when the gazetteers know it as one and it is not
    # also a common word: "hier", "demain" are words, "franck" is a name
    for w in words:
        codes = [c for c in (g.first_names.get(w), g.surnames.get(w)) if c is not None]
        if codes and not any(c & AMBIGUOUS for c in codes) and w not in g.stop:
            return True
    return False


def _opens_sentence(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] in ".!?\n"


def _load_nlp(folder: Path) -> Language:
    import spacy
    from spacy.pipeline.factories import register_factories

    # spaCy registers its built-in factories ("ner"...) in Language.__init__; a process that
    # only unpickled EDS-NLP's pipeline (the ingest) never ran it, and spacy.load would fail.
    register_factories()

    if not (folder / "config.cfg").is_file():
        raise PseudonymisationError(
            f"modèle de pseudonymisation absent : {folder} (le construire avec hopia pseudo train)"
        )
    try:
        nlp = spacy.load(folder)
    except Exception as exc:  # a corrupt or incompatible folder: say which one
        raise PseudonymisationError(f"modèle de pseudonymisation illisible : {folder}") from exc
    nlp.max_length = max(nlp.max_length, 2 * MAX_CHUNK_CHARS)
    return nlp
