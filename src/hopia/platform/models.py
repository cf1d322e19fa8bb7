"""Hopia's own trained model folders (spaCy): written atomically, every file sha256-summed.

Both trainers (PHI detection, clinical mentions) write their weights here the same way, so a
hospital can check a shipped folder against the digests recorded in its ``meta.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopia.platform.files import replace_dir

if TYPE_CHECKING:
    from spacy.language import Language


def weights_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of a model folder but meta.json, and of all of them together."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "meta.json")
    total = hashlib.sha256()
    out = {}
    for p in files:
        rel = p.relative_to(folder).as_posix()
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        out[rel] = digest
        total.update(f"{rel}\0{digest}\n".encode())
    out["*"] = total.hexdigest()
    return out


def save_spacy_model(
    model: Language, out: Path, spacy_meta: dict[str, Any], hopia_meta: dict[str, Any]
) -> dict[str, Any]:
    """Write ``model`` into a temporary sibling folder renamed to ``out``: never a half-written
    model. ``spacy_meta`` goes into spaCy's meta (name, version, description, licence…);
    ``hopia_meta`` under its ``"hopia"`` key, completed with the spaCy version and the digests.
    Return the completed ``hopia_meta``."""
    import spacy

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        model.meta.update(spacy_version=f">={spacy.__version__},<3.9.0", **spacy_meta)
        model.to_disk(tmp)
        digest = weights_digest(tmp)
        meta_path = tmp / "meta.json"
        full = json.loads(meta_path.read_text(encoding="utf-8"))
        full["hopia"] = meta = {
            **hopia_meta,
            "spacy": spacy.__version__,
            "weights_sha256": digest["ner/model"],
            "files_sha256": digest,
        }
        meta_path.write_text(json.dumps(full, ensure_ascii=False, indent=2) + "\n", "utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def small_ner(labels: Sequence[str], arch: dict[str, int]) -> Language:
    """A blank French spaCy pipeline holding one untrained ``ner`` over a small hash-embedding
    CNN (no vectors), its tok2vec inside it: one component, one file, a few MB, CPU-fast.

    ``arch``: ``width``, ``depth``, ``embed_rows`` of the CNN and ``hidden`` of the parser.
    """
    import spacy
    from spacy.pipeline.factories import register_factories

    # spaCy registers "ner" in Language.__init__; a process that only unpickled an EDS-NLP
    # pipeline never ran it.
    register_factories()
    nlp = spacy.blank("fr")
    ner = nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": arch["hidden"],
                "maxout_pieces": 2,
                "use_upper": True,
                "nO": None,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": arch["width"],
                    "depth": arch["depth"],
                    "embed_size": arch["embed_rows"],
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    for label in labels:
        ner.add_label(label)
    return nlp
