"""A collection's index on disk: documents, passages, BM25 and dense vectors; hybrid search.

Layout under the collection's folder::

    manifest.json                 documents by id: name, sha256, format, chars, passages
    documents/<id>.json           the document's text and its passages (offsets, section, page)
    documents/<id>.tokens.json    the passages' BM25 terms
    vectors/<embedder>/<id>.npy   the passages' dense vectors, one row per passage
    bm25/                         the bm25s index of every passage, and the manifest it serves

Updates are incremental: adding, replacing or removing a document reads, cuts and embeds that
document only. The BM25 matrix is global (a term's weight depends on every passage), so it is
re-indexed from the stored terms of all passages, without reading or embedding anything again
(about a second per 10,000 passages); it is rebuilt when first searched after a change. Adding
the same document again (same name, same content) changes nothing. Vectors are kept per embedder:
switching the setting embeds the passages once with the new model, on the next search."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from hopia.assistant.knowledge.chunking import Chunk, chunk
from hopia.assistant.knowledge.embedding import embedder as load_embedder
from hopia.assistant.knowledge.fusion import rrf
from hopia.assistant.knowledge.reading import read_source
from hopia.assistant.knowledge.text import tokens
from hopia.platform.files import atomic_file, write_text_atomic

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[str, ...] = ("bm25", "dense", "hybrid")
CANDIDATES = 50
"""How deep each ranking goes before fusion."""


@dataclass(frozen=True)
class DocumentEntry:
    id: str
    name: str
    sha256: str
    format: str
    chars: int
    passages: int


@dataclass(frozen=True)
class AddOutcome:
    document: DocumentEntry
    status: Literal["added", "replaced", "unchanged"]


@dataclass(frozen=True)
class Hit:
    document_id: str
    document: str
    ordinal: int
    start: int
    end: int
    section: str
    page: int | None
    text: str
    score: float
    """The fused score (RRF) in hybrid mode, else the ranking's own score."""
    similarity: float
    """Cosine between the question and the passage (dense vectors), whatever the mode."""
    bm25: float


def document_id(name: str) -> str:
    """A document is known by its name in the collection: adding a file of the same name
    replaces it."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def _passage_text(c: Chunk) -> str:
    # What is indexed: the heading path gives a passage the words of its titles.
    return f"{c.section}\n{c.text}" if c.section else c.text


class KnowledgeIndex:
    def __init__(self, folder: Path, embedder: str = "e5", threads: int = 2) -> None:
        self.folder = Path(folder)
        self.embedder_name = embedder
        self.threads = threads
        # One writer at a time per collection: a thread lock in the process (re-entrant:
        # add_many holds it while its steps take it too), a file lock between processes.
        self._lock = threading.RLock()
        self._state: _Loaded | None = None
        self._manifest_cache: tuple[tuple[int, int, int], dict[str, DocumentEntry]] | None = None

    # -- manifest ---------------------------------------------------------------------------

    @property
    def _manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def manifest(self) -> dict[str, DocumentEntry]:
        """The documents, by id (read again only when the file changed: another process)."""
        try:
            stat = self._manifest_path.stat()
        except FileNotFoundError:
            return {}
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._manifest_cache is None or self._manifest_cache[0] != key:
            raw = json.loads(self._manifest_path.read_text(encoding="utf-8"))
            docs = {k: DocumentEntry(**v) for k, v in raw["documents"].items()}
            self._manifest_cache = (key, docs)
        return dict(self._manifest_cache[1])

    def _write_manifest(self, docs: dict[str, DocumentEntry]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {"version": 1, "documents": {k: asdict(v) for k, v in sorted(docs.items())}}
        write_text_atomic(self._manifest_path, json.dumps(body, ensure_ascii=False, indent=1))

    def _stamp(self, docs: dict[str, DocumentEntry]) -> str:
        ids = "\n".join(f"{k}:{v.sha256}" for k, v in sorted(docs.items()))
        return hashlib.sha256(ids.encode()).hexdigest()

    # -- updates ----------------------------------------------------------------------------

    def add(self, name: str, data: bytes, *, size: int = 900, overlap: int = 150) -> AddOutcome:
        """Read, cut, embed and store one document (replacing one of the same name)."""
        return self.add_many([(name, data)], size=size, overlap=overlap)[0]

    def add_many(
        self, items: Iterable[tuple[str, bytes]], *, size: int = 900, overlap: int = 150
    ) -> list[AddOutcome]:
        """:meth:`add` for several documents, the manifest written once at the end (a corpus of
        thousands of documents would otherwise rewrite it thousands of times)."""
        with self._lock, self._file_lock():
            docs = self.manifest()
            outcomes: list[AddOutcome] = []
            changed = False
            try:
                for name, data in items:
                    outcome = self._add_one(docs, name, data, size, overlap)
                    outcomes.append(outcome)
                    changed = changed or outcome.status != "unchanged"
            finally:
                if changed:  # the documents stored so far, even when a later one fails
                    self._write_manifest(docs)  # last: a document exists once listed here
                    self._state = None
            return outcomes

    def _add_one(
        self, docs: dict[str, DocumentEntry], name: str, data: bytes, size: int, overlap: int
    ) -> AddOutcome:
        sha = hashlib.sha256(data).hexdigest()
        doc_id = document_id(name)
        old = docs.get(doc_id)
        if old is not None and old.sha256 == sha:
            return AddOutcome(old, "unchanged")
        source = read_source(name, data)
        chunks = chunk(source, size, overlap)
        texts = [_passage_text(c) for c in chunks]
        vectors = load_embedder(self.embedder_name, self.threads).passages(texts)
        entry = DocumentEntry(doc_id, name, sha, source.format, len(source.text), len(chunks))
        record = {
            "id": doc_id,
            "name": name,
            "sha256": sha,
            "format": source.format,
            "text": source.text,
            "chunks": [
                {"start": c.start, "end": c.end, "section": c.section, "page": c.page}
                for c in chunks
            ],
        }
        with self._lock:
            self._write_document(doc_id, record, [tokens(t) for t in texts], vectors)
        docs[doc_id] = entry
        return AddOutcome(entry, "replaced" if old is not None else "added")

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive lock on ``<folder>/.lock`` (the CLI beside a server): the manifest is
        read and written by one process at a time."""
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_document(
        self, doc_id: str, record: dict, terms: list[list[str]], vectors: np.ndarray
    ) -> None:
        (self.folder / "documents").mkdir(parents=True, exist_ok=True)
        write_text_atomic(self._doc_path(doc_id), json.dumps(record, ensure_ascii=False))
        write_text_atomic(self._tokens_path(doc_id), json.dumps(terms, ensure_ascii=False))
        self._save_vectors(doc_id, self.embedder_name, vectors)

    def _save_vectors(self, doc_id: str, name: str, vectors: np.ndarray) -> None:
        path = self.folder / "vectors" / name / f"{doc_id}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, "wb", encoding=None) as fh:
            np.save(fh, vectors.astype(np.float32))

    def remove(self, doc_id: str) -> DocumentEntry | None:
        with self._lock, self._file_lock():
            docs = self.manifest()
            entry = docs.pop(doc_id, None)
            if entry is None:
                return None
            self._write_manifest(docs)  # first: the document is gone once the manifest says so
            for path in (self._doc_path(doc_id), self._tokens_path(doc_id)):
                path.unlink(missing_ok=True)
            for folder in (self.folder / "vectors").glob("*"):
                (folder / f"{doc_id}.npy").unlink(missing_ok=True)
            self._state = None
        return entry

    def _doc_path(self, doc_id: str) -> Path:
        return self.folder / "documents" / f"{doc_id}.json"

    def _tokens_path(self, doc_id: str) -> Path:
        return self.folder / "documents" / f"{doc_id}.tokens.json"

    def stored(self, doc_id: str) -> dict | None:
        """The stored document (text and passages), or None."""
        path = self._doc_path(doc_id)
        if doc_id not in self.manifest() or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    # -- search -----------------------------------------------------------------------------

    def _loaded(self) -> _Loaded:
        with self._lock:
            docs = self.manifest()
            stamp = self._stamp(docs)
            if self._state is None or self._state.stamp != stamp:
                self._state = _Loaded.build(self, docs, stamp)
            return self._state

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        state = self._loaded()
        if state.size == 0:
            return []
        qvec = load_embedder(self.embedder_name, self.threads).query(query)
        sims = state.vectors @ qvec
        bm = state.bm25_scores(tokens(query))
        depth = min(CANDIDATES, state.size)
        dense_rank = _top(sims, depth)
        bm_rank = [i for i in _top(bm, depth) if bm[i] > 0]
        if mode == "dense":
            ranked = [(i, float(sims[i])) for i in dense_rank]
        elif mode == "bm25":
            ranked = [(i, float(bm[i])) for i in bm_rank]
        else:
            ranked = [(int(i), s) for i, s in rrf([dense_rank, bm_rank])]
        return [state.hit(i, score, float(sims[i]), float(bm[i])) for i, score in ranked[:k]]


def _top(scores: np.ndarray, k: int) -> list[int]:
    if k >= len(scores):
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    part = np.argpartition(-scores, k)[:k]
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]


@dataclass
class _Loaded:
    """Every passage of the collection in memory, in manifest order."""

    stamp: str
    refs: list[tuple[str, int]]
    docs: dict[str, dict]
    vectors: np.ndarray
    bm25: object | None

    @property
    def size(self) -> int:
        return len(self.refs)

    @classmethod
    def build(cls, index: KnowledgeIndex, entries: dict[str, DocumentEntry], stamp: str) -> _Loaded:
        refs: list[tuple[str, int]] = []
        docs: dict[str, dict] = {}
        blocks: list[np.ndarray] = []
        emb = None
        for doc_id in sorted(entries):
            record = index.stored(doc_id)
            if record is None:
                continue
            docs[doc_id] = record
            refs.extend((doc_id, i) for i in range(len(record["chunks"])))
            path = index.folder / "vectors" / index.embedder_name / f"{doc_id}.npy"
            if path.is_file():
                blocks.append(np.load(path))
            else:  # vectors of another embedder only: embed this document once with this one
                emb = emb or load_embedder(index.embedder_name, index.threads)
                texts = [_passage_text(_chunk_of(record, i)) for i in range(len(record["chunks"]))]
                vec = emb.passages(texts)
                index._save_vectors(doc_id, index.embedder_name, vec)
                blocks.append(vec)
        dim = load_embedder(index.embedder_name, index.threads).dim
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32)
        return cls(stamp, refs, docs, vectors, _bm25(index, list(docs), stamp))

    def bm25_scores(self, terms: list[str]) -> np.ndarray:
        if self.bm25 is None or not terms:
            return np.zeros(self.size, np.float32)
        ids = self.bm25.get_tokens_ids(terms)
        if not ids:
            return np.zeros(self.size, np.float32)
        return np.asarray(self.bm25.get_scores(ids), dtype=np.float32)

    def hit(self, i: int, score: float, similarity: float, bm25: float) -> Hit:
        doc_id, ordinal = self.refs[i]
        record = self.docs[doc_id]
        c = _chunk_of(record, ordinal)
        return Hit(
            doc_id,
            record["name"],
            ordinal,
            c.start,
            c.end,
            c.section,
            c.page,
            c.text,
            score,
            similarity,
            bm25,
        )


def _chunk_of(record: dict, ordinal: int) -> Chunk:
    c = record["chunks"][ordinal]
    text = record["text"][c["start"] : c["end"]]
    return Chunk(ordinal, c["start"], c["end"], c["section"], c["page"], text)


def _bm25(index: KnowledgeIndex, doc_ids: list[str], stamp: str) -> object | None:
    """The saved bm25s index when it was built for this manifest, else re-indexed from the
    stored terms (and saved)."""
    import bm25s

    folder = index.folder / "bm25"
    stamp_file = folder / "stamp"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return bm25s.BM25.load(str(folder), mmap=False)
    corpus: list[list[str]] = []
    for doc_id in doc_ids:
        corpus.extend(json.loads(index._tokens_path(doc_id).read_text(encoding="utf-8")))
    if not corpus:
        return None
    # An empty passage (a bare heading) still needs a row: bm25s's placeholder token gives it.
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(corpus, show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    retriever.save(str(folder), show_progress=False)
    write_text_atomic(stamp_file, stamp)
    return retriever
