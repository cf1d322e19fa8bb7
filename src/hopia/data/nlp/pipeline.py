"""The EDS-NLP rule pipeline: one declarative definition, its build, and a disk cache.

Building the pipeline costs seconds to minutes, so the built pipeline is pickled once per
definition under ``<cache_dir>/nlp/pipeline-<fingerprint>.pkl`` and loaded by later processes
(a few seconds). The fingerprint hashes the definition and the library versions, so a change to
either writes a new file; stale files are pruned. The same folder holds the compiled lexicons of
``hopia.cim10`` and ``hopia.terms`` (:mod:`.pipes._lexicon`).

The cache folder is the caller's: the services pass ``settings.cache_dir`` (nothing here reads
the settings).

A pickle is code: the cache folder is created with mode 0700 and a file that is not ours or is
writable by others is never loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hopia import __version__ as HOPIA_VERSION
from hopia.data.nlp.pipes.qualifiers import patterns as cues
from hopia.data.nlp.pipes.sections.patterns import SECTIONS
from hopia.data.nlp.pipes.zones.patterns import COMORBIDITIES
from hopia.data.nlp.speedups import enlarge_text_cache, speed_up
from hopia.platform.files import write_pickle_atomic

if TYPE_CHECKING:
    import edsnlp
    from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

PipeSpec = tuple[str, str, dict[str, Any]]  # (factory, name, config)


@dataclass(frozen=True)
class SortedGroupsGetter:
    """Span getter over several span groups, yielding spans sorted by position.

    EDS-NLP qualifiers consume entities assuming they are sorted (``consume_spans``); a plain
    list of groups yields them group by group, and entities after the first out-of-order one
    silently go unqualified. A frozen dataclass so that it pickles by reference and has a stable
    ``repr`` for the fingerprint.
    """

    groups: tuple[str, ...]

    def __call__(self, doclike: Doc | Span) -> list[Span]:
        doc = doclike.doc  # a Doc's .doc is itself
        spans = [s for g in self.groups if g in doc.spans for s in doc.spans[g]]
        if doc is not doclike:  # a Span: keep what touches it, as edsnlp's get_spans does
            spans = [s for s in spans if not (s.end < doclike.start or s.start > doclike.end)]
        spans.sort(key=lambda s: (s.start, s.end))
        return spans


SCORES: tuple[tuple[str, str], ...] = (
    ("eds.charlson", "charlson"),
    ("eds.sofa", "sofa"),
    ("eds.emergency_priority", "emergency_priority"),
    ("eds.emergency_gemsa", "emergency_gemsa"),
    ("eds.emergency_ccmu", "emergency_ccmu"),
    ("eds.elston_ellis", "elston_ellis"),
)


# Every entity pipe writes into its own span group (never doc.ents, which drops overlaps).
_NER: tuple[PipeSpec, ...] = (
    (
        "eds.dates",
        "dates",
        {"span_setter": {"dates": ["date"], "durations": ["duration"]}},
    ),
    # hopia.labs replaces eds.quantities: on synthetic notes 96 % of its values were lab results
    # or drug doses already read (and mislabelled by unit), and it halved throughput
    ("eds.drugs", "drugs", {"span_setter": {"drug": True}}),
    ("hopia.labs", "labs", {"span_setter": {"labs": True}}),
    ("hopia.cim10", "cim10", {"span_setter": {"cim10": True}}),
    # after cim10 and drugs: it skips mentions they already found (same offsets)
    ("hopia.terms", "terms", {"span_setter": {"terms": True}}),
    # statistical NER trained on QUAERO (DISO/CHEM/PROC/ANAT): mentions no list names
    ("hopia.clinical_ner", "clinical_ner", {"span_setter": {"clinical_ner": True}}),
    ("eds.covid", "covid", {"span_setter": {"covid": True}}),
    ("eds.tnm", "tnm", {"span_setter": {"tnm": True}}),
    ("eds.adicap", "adicap", {"span_setter": {"adicap": True}}),
    *((f, n, {"span_setter": {n: True}}) for f, n in SCORES),
    *((f"eds.{n}", n, {"span_setter": {n: True}}) for n in COMORBIDITIES),
)

ENTITY_GROUPS: tuple[str, ...] = tuple(g for _, _, cfg in _NER for g in cfg["span_setter"])
_QUALIFIED = SortedGroupsGetter(ENTITY_GROUPS)

#: The pipeline, in order. ``sections`` must keep that name: family/history look it up by name.
PIPELINE: tuple[PipeSpec, ...] = (
    # a bullet after a newline starts a sentence: list items are separate statements, and a
    # qualifier cue in one ("- lymphome non hodgkinien") must not reach the items above it
    ("eds.sentences", "sentences", {"use_bullet_start": True}),
    ("eds.normalizer", "normalizer", {}),
    ("hopia.sections", "sections", {"sections": SECTIONS}),  # titles inline too ("Motif : ...")
    *_NER,
    # after the entity pipes: letterheads, signatures, headings state no fact; one concept a mention
    ("hopia.zones", "zones", {}),
    # after drugs, labs and terms: posology onto drug spans (and the chemicals only hopia.terms
    # or the statistical NER name), lab names ("albumine 28 g/L") dropped
    ("hopia.posology", "posology", {"chem_groups": ["terms", "clinical_ner"]}),
    # Qualifiers: EDS-NLP's, with Hopia's cue lists, then hopia.qualifier_rules (needs family's
    # cues: explain=True; sets history from the Antécédents sections, not from the history of
    # the current illness as eds.history's use_sections would).
    (
        "eds.negation",
        "negation",
        {
            "span_getter": _QUALIFIED,
            "pseudo": cues.NEGATION_PSEUDO,
            "termination": cues.TERMINATION,
        },
    ),
    (
        "eds.hypothesis",
        "hypothesis",
        {
            "span_getter": _QUALIFIED,
            "preceding": cues.HYPOTHESIS_PRECEDING,
            "following": cues.HYPOTHESIS_FOLLOWING,
            "termination": cues.TERMINATION,
        },
    ),
    (
        "eds.family",
        "family",
        {
            "span_getter": _QUALIFIED,
            "use_sections": True,
            "explain": True,
            "termination": cues.FAMILY_TERMINATION,
        },
    ),
    (
        "eds.history",
        "history",
        {
            "span_getter": _QUALIFIED,
            "use_sections": False,
            "history": cues.HISTORY,
            "termination": cues.TERMINATION,
        },
    ),
    ("eds.reported_speech", "reported_speech", {"span_getter": _QUALIFIED}),
    ("hopia.qualifier_rules", "qualifier_rules", {"span_getter": _QUALIFIED}),
)


def fingerprint(definition: Sequence[PipeSpec] | None = None, *, speedups: bool = True) -> str:
    """sha256 of the pipeline definition and of the versions that shape the pickle."""
    definition = PIPELINE if definition is None else definition
    payload = {
        "definition": [[f, n, cfg] for f, n, cfg in definition],
        "speedups": speedups,
        "edsnlp": version("edsnlp"),
        "spacy": version("spacy"),
        "hopia": HOPIA_VERSION,
        "python": list(sys.version_info[:2]),  # pickles are not portable across CPythons
    }
    text = json.dumps(payload, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


PIPELINE_FINGERPRINT: str = fingerprint()
PIPELINE_SYSTEM: str = (
    f"hopia-nlp {HOPIA_VERSION} / edsnlp {version('edsnlp')} / {PIPELINE_FINGERPRINT[:12]}"
)


@contextlib.contextmanager
def _quiet_edsnlp() -> Iterator[None]:
    """Silence edsnlp's build-time chatter on stderr: loguru notices ("Sections is still in
    Beta"...) and the tqdm bars of its phrase matcher, which TQDM_DISABLE only stops when set
    before tqdm is first imported."""
    from functools import partial

    import edsnlp.matchers.phrase as phrase
    from loguru import logger

    bar = getattr(phrase, "tqdm", None)
    if bar is not None:
        phrase.tqdm = partial(bar, disable=True)
    logger.disable("edsnlp")
    try:
        yield
    finally:
        logger.enable("edsnlp")
        if bar is not None:
            phrase.tqdm = bar


def build_nlp(
    definition: Sequence[PipeSpec] | None = None,
    *,
    include_cim10: bool = True,
    speedups: bool = True,
    cache_dir: Path | None = None,
) -> edsnlp.Pipeline:
    """Build the pipeline from its definition (slow with ``eds.cim10``: ~30-60 s).

    Parameters
    ----------
    definition : (factory, name, config) triples; default :data:`PIPELINE`.
    include_cim10 : drop ``eds.cim10`` when False (cheap pipelines for tests and tools).
    speedups : apply :mod:`hopia.data.nlp.speedups` (same output, faster); False for the raw
        EDS-NLP anchors of benchmarks and comparisons.
    cache_dir : where the lexicon pipes keep their compiled tables (``<cache_dir>/nlp/``);
        None: compiled in memory on first use (a few seconds per process).
    """
    import edsnlp

    import hopia.data.nlp.pipes  # noqa: F401  (registers the hopia.* factories)

    definition = PIPELINE if definition is None else definition
    nlp = edsnlp.blank("eds")
    with _quiet_edsnlp():
        for factory, name, config in definition:
            if not include_cim10 and factory in ("eds.cim10", "hopia.cim10"):
                continue
            nlp.add_pipe(factory, name=name, config=dict(config))
    if speedups:
        speed_up(nlp)
    if cache_dir is not None:
        use_cache_dir(nlp, cache_dir)
    return nlp


def use_cache_dir(nlp: edsnlp.Pipeline, cache_dir: Path) -> None:
    """Tell the lexicon pipes of ``nlp`` where their compiled tables are cached (a runtime
    setting: it is not pickled with the pipeline, so a moved cache folder still works)."""
    from hopia.data.nlp.pipes._lexicon import LexiconComponent

    for _, pipe in nlp.pipeline:
        if isinstance(pipe, LexiconComponent):
            pipe.use_cache_dir(cache_dir)


# --- disk cache ---------------------------------------------------------------------------

Source = Literal["built", "loaded"]


def cache_path(cache_dir: Path, fp: str) -> Path:
    """Where the pickle of the pipeline with fingerprint ``fp`` lives."""
    return Path(cache_dir) / "nlp" / f"pipeline-{fp}.pkl"


def _private_dir(path: Path) -> Path:
    """``<cache_dir>/nlp``, both created 0700; tightened if they exist and are ours."""
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    for p in (path.parent, path):
        p.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours: _is_trusted will refuse it
        path.chmod(0o700)
    return path


def _is_trusted(path: Path) -> bool:
    """Ours and writable by nobody else (checked for the file and its folder)."""
    for p in (path, path.parent):
        st = p.stat()
        if (hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o022:
            return False
    return True


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    # Concurrent cold processes (parallel CLI runs, pytest-xdist) wait for the first builder
    # instead of each paying the build.
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _prune(folder: Path, keep: Path) -> None:
    for stale in folder.glob("pipeline-*.pkl"):
        if stale != keep:
            with contextlib.suppress(OSError):
                stale.unlink()
                stale.with_suffix(".lock").unlink(missing_ok=True)


def load_or_build(
    cache_dir: Path, definition: Sequence[PipeSpec] | None = None, *, speedups: bool = True
) -> tuple[edsnlp.Pipeline, Source]:
    """Load the pickled pipeline for ``definition`` from ``cache_dir``, or build and store it.

    ``speedups`` as in :func:`build_nlp`.

    Returns
    -------
    The pipeline and whether it was ``"built"`` or ``"loaded"``.
    """
    nlp, source = _load_or_build(Path(cache_dir), definition, speedups=speedups)
    use_cache_dir(nlp, cache_dir)
    return nlp, source


def _load_or_build(
    cache_dir: Path, definition: Sequence[PipeSpec] | None, *, speedups: bool
) -> tuple[edsnlp.Pipeline, Source]:
    definition = PIPELINE if definition is None else definition
    if speedups:
        enlarge_text_cache()  # process-wide, not in the pickle
    path = cache_path(cache_dir, fingerprint(definition, speedups=speedups))
    try:
        folder = _private_dir(path.parent)
    except OSError as exc:  # e.g. a read-only installation: work, just slower
        log.warning("%s: cache NLP impossible (%s), pipeline construit sans cache", path, exc)
        return build_nlp(definition, speedups=speedups), "built"
    with _build_lock(path):
        if path.exists() and not _is_trusted(path):
            log.warning("%s: cache NLP ignoré (propriétaire ou droits non sûrs)", path)
        elif path.exists():
            t0 = time.perf_counter()
            try:
                with path.open("rb") as fh:
                    nlp = pickle.load(fh)
                log.info("pipeline NLP chargé depuis %s en %.1f s", path, time.perf_counter() - t0)
                return nlp, "loaded"
            except Exception as exc:  # a truncated or incompatible file: rebuild over it
                log.warning("%s: cache NLP illisible (%s), reconstruction", path, exc)
        t0 = time.perf_counter()
        nlp = build_nlp(definition, speedups=speedups)
        log.info("pipeline NLP construit en %.1f s", time.perf_counter() - t0)
        if _is_trusted(folder):
            write_pickle_atomic(nlp, path, private=True)  # a pickle is code
            _prune(folder, keep=path)
        else:
            log.warning("%s: dossier de cache non sûr, pipeline non mis en cache", folder)
        return nlp, "built"


_lock = threading.Lock()
_nlp: edsnlp.Pipeline | None = None
_source: Source | None = None


def get_nlp(
    *, cache_dir: Path, cache: bool = True, clinical_ner_weights: Path | None = None
) -> edsnlp.Pipeline:
    """The process-wide pipeline, built or loaded on first use; later calls return it.

    Parameters
    ----------
    cache_dir : the installation's cache folder (``settings.cache_dir``): the pickled pipeline
        and the compiled lexicons go to ``<cache_dir>/nlp/``. Required, keyword-only: the
        composition root (a service) passes it; nothing below reads the settings.
    cache : load the pickled pipeline from ``cache_dir`` or store it there once built
        (``settings.data.nlp.cache_pipeline``); False builds it in this process (slow), once.

    clinical_ner_weights : the folder of the clinical NER model
        (``settings.data.nlp.clinical_ner_model``); None: the shipped weights. Applied at each
        call (a runtime setting, never pickled into the cache).

    The first call decides: a later call with another ``cache_dir`` gets the same pipeline.
    For a fresh, unshared pipeline call :func:`build_nlp` or :func:`load_or_build`.
    """
    global _nlp, _source
    with _lock:
        if _nlp is None:
            if cache:
                _nlp, _source = load_or_build(cache_dir)
            else:
                _nlp, _source = build_nlp(cache_dir=cache_dir), "built"
        use_clinical_ner_weights(_nlp, clinical_ner_weights)
        return _nlp


def use_clinical_ner_weights(nlp: edsnlp.Pipeline, weights: Path | None) -> None:
    """Point the ``clinical_ner`` pipe of ``nlp`` (if any) at the model in ``weights`` (None:
    the shipped one). The model is read when first used; a missing folder is a ModelError."""
    from hopia.data.nlp.pipes.clinical_ner.clinical_ner import ClinicalNer

    for _, pipe in nlp.pipeline:
        if isinstance(pipe, ClinicalNer):
            pipe.use_weights(str(weights) if weights is not None else None)


def pipeline_system(clinical_ner_weights: Path | None = None) -> str:
    """:data:`PIPELINE_SYSTEM`, with the clinical NER's weights digest when they are not the
    shipped ones (``note_nlp.nlp_system`` and provenance then say which model ran)."""
    if clinical_ner_weights is None:
        return PIPELINE_SYSTEM
    try:
        meta = json.loads((Path(clinical_ner_weights) / "meta.json").read_text("utf-8"))
        tag = str(meta["hopia"]["weights_sha256"])[:12]
    except (OSError, ValueError, KeyError, TypeError):
        tag = Path(clinical_ner_weights).name
    return f"{PIPELINE_SYSTEM} / ner {tag}"


def nlp_source() -> Source | None:
    """How the singleton came to be: ``"built"`` in this process, ``"loaded"`` from disk, or
    None before the first :func:`get_nlp`."""
    return _source


def pipe_names(definition: Iterable[PipeSpec] | None = None) -> list[str]:
    """Component names of a definition, in order."""
    return [name for _, name, _ in (PIPELINE if definition is None else definition)]
