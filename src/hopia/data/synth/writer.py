"""Write a synthetic corpus to its output folder, atomically.

Layout: patients.jsonl, documents.jsonl, gold.jsonl, manifest.json and, with ``formats``,
files/ holding the rendered documents (PDF, DOCX, HL7, FHIR bundles).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hopia.platform.files import staging_dir

from .generator import GENERATOR_VERSION
from .model import Rendition, SynthCorpus, SynthDocument
from .partition import SHARE
from .render import to_docx, to_fhir_bundle, to_hl7, to_pdf


def _jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_renditions(
    root: Path, corpus: SynthCorpus, progress: Callable[[int], None] | None
) -> Counter[str]:
    (root / "files").mkdir()
    patients = {p.ipp: p for p in corpus.patients}
    bundles: dict[str, list[Rendition]] = {}
    counts: Counter[str] = Counter()
    for n, r in enumerate(corpus.renditions, start=1):
        target = root / r.path
        if r.format == "fhir":
            bundles.setdefault(r.path, []).append(r)
        elif r.format == "pdf":
            target.write_bytes(to_pdf(r.document))
        elif r.format == "docx":
            target.write_bytes(to_docx(r.document))
        else:
            target.write_bytes(to_hl7(r.document, patients[r.document.patient_id]).encode("utf-8"))
        if r.format != "fhir":
            counts[r.format] += 1
        if progress is not None:
            progress(n)
    for path, group in bundles.items():
        patient = patients[group[0].document.patient_id]
        text = to_fhir_bundle(corpus.seed, patient, [r.document for r in group])
        (root / path).write_text(text, encoding="utf-8", newline="\n")
        counts["fhir"] += 1
    return counts


def _id(doc: SynthDocument) -> str:
    return doc.id


def _manifest(
    corpus: SynthCorpus, documents: list[SynthDocument], counts: dict[str, int], formats: bool
) -> dict[str, Any]:
    types = Counter(d.type for d in documents)
    services = Counter(d.service for d in documents)
    return {
        "generator": "hopia synth",
        "version": GENERATOR_VERSION,
        "seed": corpus.seed,
        "counts": counts,
        "document_types": dict(sorted(types.items())),
        "services": dict(sorted(services.items())),
        "phi_spans": sum(len(d.phi) for d in documents),
        "facts": sum(len(d.facts) for d in documents),
        "rendered_share": SHARE if formats else 0.0,
        "files": [
            {
                "path": r.path,
                "id": r.document.id,
                "format": r.format,
                "patient_id": r.document.patient_id,
                "date": r.document.date.isoformat(),
                "type": r.document.type,
                "service": r.document.service,
            }
            for r in (corpus.renditions if formats else [])
        ],
    }


def write_corpus(
    corpus: SynthCorpus,
    out: Path,
    formats: bool = True,
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write ``corpus`` into ``out`` and return counts of what was written.

    The files are written into a temporary sibling folder renamed to ``out`` at the end, so a
    reader never sees a half-written corpus.

    Parameters
    ----------
    corpus : SynthCorpus
        What :func:`~hopia.data.synth.generate` returned.
    out : Path
        Output folder. It must not exist or be empty unless ``overwrite``.
    formats : bool
        Write the rendered share of the documents under files/ (PDF, DOCX, HL7, FHIR). Without
        it, every document goes to documents.jsonl and gold.jsonl.
    overwrite : bool
        Replace a non-empty ``out``.
    progress : callable, optional
        Called with the number of rendered documents written so far.

    Raises
    ------
    FileExistsError
        ``out`` exists, is not empty, and ``overwrite`` is false.
    """
    out = Path(out)
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(str(out))
    with staging_dir(out) as staging:
        tmp = staging.path
        documents = corpus.documents
        if not formats:  # nothing rendered: every document goes to documents.jsonl
            documents = sorted(documents + [r.document for r in corpus.renditions], key=_id)
        counts: dict[str, int] = {
            "patients": _jsonl(tmp / "patients.jsonl", (p.identity() for p in corpus.patients)),
            "documents": _jsonl(tmp / "documents.jsonl", (d.record() for d in documents)),
        }
        _jsonl(tmp / "gold.jsonl", (d.gold() for d in documents))
        rendered = _write_renditions(tmp, corpus, progress) if formats else Counter()
        for fmt in ("pdf", "docx", "hl7", "fhir"):
            counts[fmt] = rendered.get(fmt, 0)
        counts["files"] = sum(rendered.values())
        counts["rendered_documents"] = len(corpus.renditions) if formats else 0
        manifest = _manifest(corpus, documents, counts, formats)
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (tmp / "manifest.json").write_text(text, encoding="utf-8", newline="\n")
    return counts
