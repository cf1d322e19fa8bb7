"""The one atomic writer and the one JSONL record reader of the platform."""

from __future__ import annotations

import pickle
import stat
from pathlib import Path

import pytest

from hopia.platform.exceptions import SourceError
from hopia.platform.files import (
    _UMASK,
    atomic_file,
    jsonl_records,
    replace_dir,
    staging_dir,
    write_pickle_atomic,
    write_text_atomic,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("ancien", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write("moitié")
        raise RuntimeError("crash au milieu")
    assert target.read_text(encoding="utf-8") == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_text_binary_and_private_files(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "sub" / "a.txt", "é\n")
    assert (tmp_path / "sub" / "a.txt").read_bytes() == "é\n".encode()
    write_text_atomic(tmp_path / "id.csv", "ipp\n", private=True)
    assert stat.S_IMODE((tmp_path / "id.csv").stat().st_mode) == 0o600
    # Not private: the usual permissions (umask), not mkstemp's 0600.
    assert stat.S_IMODE((tmp_path / "sub" / "a.txt").stat().st_mode) == 0o666 & ~_UMASK
    write_pickle_atomic({"k": [1, 2]}, tmp_path / "x.pkl")
    assert pickle.loads((tmp_path / "x.pkl").read_bytes()) == {"k": [1, 2]}
    with pytest.raises(ValueError, match="mode"), atomic_file(tmp_path / "y", "a"):
        pass


def test_replace_dir_swaps_a_whole_folder(tmp_path: Path) -> None:
    out, tmp = tmp_path / "model", tmp_path / ".model.tmp"
    for folder, text in ((out, "v1"), (tmp, "v2")):
        folder.mkdir()
        (folder / "w").write_text(text, encoding="utf-8")
    replace_dir(tmp, out)
    assert (out / "w").read_text(encoding="utf-8") == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_jsonl_records_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n\n[1]\n')
    records = jsonl_records(path)
    assert next(records) == (f"{path}#L1", {"a": 1})
    with pytest.raises(SourceError, match=r"#L3: un objet JSON est attendu"):
        next(records)
    path.write_bytes(b'{"a": "\xe9"}\n')
    with pytest.raises(SourceError, match="encodage invalide"):
        list(jsonl_records(path))
    with pytest.raises(SourceError, match="fichier illisible"):
        list(jsonl_records(tmp_path / "absent.jsonl"))


def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "export"
    with pytest.raises(RuntimeError), staging_dir(out) as staging:
        (staging.path / "a.csv").write_text("x", encoding="utf-8")
        raise RuntimeError("crash au milieu")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the staging folder
    with staging_dir(out) as staging:
        (staging.path / "a.csv").write_text("v1", encoding="utf-8")
        assert not out.exists()
    assert (out / "a.csv").read_text(encoding="utf-8") == "v1"
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~_UMASK
    with staging_dir(out) as staging:  # published early, inside a transaction say
        (staging.path / "b.csv").write_text("v2", encoding="utf-8")
        staging.publish()
        assert sorted(p.name for p in out.iterdir()) == ["b.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
