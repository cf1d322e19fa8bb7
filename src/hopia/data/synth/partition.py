"""Split documents between documents.jsonl and the multi-format renditions under files/.

A rendered document is NOT also in documents.jsonl: ingesting both must not create duplicates.
A few patients get their whole record as one FHIR bundle (as an export from another system
would); single documents of other patients become PDF, DOCX or HL7 files.
"""

from __future__ import annotations

import random

from .model import Rendition, SynthDocument

SHARE = 0.1  # share of all documents written under files/ instead of documents.jsonl
FHIR_PATIENT_SHARE = 0.02  # share of patients exported as a FHIR bundle
_SINGLE_FORMATS = ("pdf", "docx", "hl7")


def partition(
    rng: random.Random, documents: list[SynthDocument]
) -> tuple[list[SynthDocument], list[Rendition]]:
    """Return (documents kept for JSONL, renditions), both in id order."""
    patients = list(dict.fromkeys(d.patient_id for d in documents))
    n_fhir = max(1, round(len(patients) * FHIR_PATIENT_SHARE)) if len(patients) >= 3 else 0
    fhir = sorted(rng.sample(patients, n_fhir), key=patients.index)
    bundle_of = {ipp: j for j, ipp in enumerate(fhir, start=1)}
    others = [i for i, d in enumerate(documents) if d.patient_id not in bundle_of]
    n_fhir_docs = len(documents) - len(others)
    k = max(0, round(len(documents) * SHARE) - n_fhir_docs)
    if len(others) >= 6:
        k = max(k, len(_SINGLE_FORMATS))  # every format present, even in a tiny corpus
    chosen = set(rng.sample(others, min(k, len(others))))
    formats = [_SINGLE_FORMATS[i % len(_SINGLE_FORMATS)] for i in range(len(chosen))]
    rng.shuffle(formats)
    fmt_of = dict(zip(sorted(chosen), formats, strict=True))
    kept: list[SynthDocument] = []
    renditions: list[Rendition] = []
    for i, doc in enumerate(documents):
        if doc.patient_id in bundle_of:
            path = f"files/fhir-bundle-{bundle_of[doc.patient_id]:03d}.json"
            renditions.append(Rendition(doc, "fhir", path))
        elif i in fmt_of:
            renditions.append(Rendition(doc, fmt_of[i], f"files/{doc.id}.{fmt_of[i]}"))
        else:
            kept.append(doc)
    return kept, renditions
