"""Weights shipped inside Python packages: their files found, their parts assembled, checked.

The package registries carry the offline models Hopia uses (``../shared/MODELS.md``), some split
into parts under unrelated names. Each axis pins its models' distributions (the assistant's
GGUF chat models, the dictation's Whisper); this module does the common part: find a
distribution's files through ``importlib.metadata`` (never importing it) and concatenate parts
into one file that appears only once its sha256 is the expected one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

from hopia.platform.exceptions import ModelError
from hopia.platform.files import atomic_file

_BLOCK = 1 << 22  # 4 MiB copy blocks: models weigh from 100 MB to over 1 GB


def missing_distributions(packages: Sequence[tuple[str, str]]) -> list[str]:
    """The ``(distribution, version)`` pairs absent or not at the pinned version, as
    ``dist==version`` (with the installed version when it differs)."""
    missing = []
    for dist, version in packages:
        try:
            found = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{dist}=={version}")
            continue
        if found != version:
            missing.append(f"{dist}=={version} (installé : {found})")
    return missing


def distribution_files(dist: str, suffix: str = "") -> list[Path]:
    """The installed files of ``dist`` whose name ends with ``suffix`` (its metadata left out)."""
    distribution = importlib.metadata.distribution(dist)
    return [
        Path(str(distribution.locate_file(f)))
        for f in distribution.files or ()
        if f.name.endswith(suffix) and ".dist-info" not in str(f)
    ]


def assemble_parts(
    parts: Sequence[Path], target: Path, *, sha256: str, name: str, remedy: str
) -> Path:
    """Concatenate ``parts`` in order into ``target``, hashing as it writes; the file appears
    (atomic rename) only when its sha256 is ``sha256``. A wrong sha256 is a French
    :class:`ModelError` naming ``remedy`` and leaves nothing behind (a truncated or altered part
    must never be loaded)."""
    digest = hashlib.sha256()
    written = 0
    with atomic_file(target, "wb") as out:
        for part in parts:
            with Path(part).open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(_BLOCK), b""):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
        if digest.hexdigest() != sha256:
            # raised inside the block: atomic_file removes the temporary file
            raise ModelError(
                f"modèle embarqué « {name} » corrompu : empreinte sha256 "
                f"{digest.hexdigest()[:12]}… au lieu de {sha256[:12]}… ({written} octets "
                f"assemblés depuis {len(parts)} partie(s)) ; rien n'a été gardé, réinstallez "
                f"ses paquets ({remedy})",
                fields=("model",),
                details={"model": name, "sha256": digest.hexdigest(), "expected": sha256},
            )
    return target
