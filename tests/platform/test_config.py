"""Settings precedence: arguments > HOPIA_* environment > YAML file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopia.platform.config import Settings
from hopia.platform.exceptions import ConfigError


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in (
        "HOPIA_HOME",
        "HOPIA_CACHE_DIR",
        "HOPIA_CONFIG",
        "HOPIA_DATA__NLP__BATCH_SIZE",
        "HOPIA_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_defaults(in_tmp: Path) -> None:
    s = Settings()
    assert s.home == Path(".hopia") and s.cache_dir == Path(".hopia/cache")
    assert s.resolved_warehouse_url().endswith(".hopia/warehouse.duckdb")
    assert s.data.nlp.batch_size == 32 and s.data.sharing.k == 5


def test_yaml_then_environment(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / "hopia.yml").write_text(
        "home: /srv/hopia\ncache_dir: /var/cache/hopia\ndata:\n  nlp:\n    batch_size: 8\n"
        "    cache_pipeline: false\n",
        encoding="utf-8",
    )
    s = Settings()
    assert (s.home, s.cache_dir, s.data.nlp.batch_size) == (
        Path("/srv/hopia"),
        Path("/var/cache/hopia"),
        8,
    )
    monkeypatch.setenv("HOPIA_DATA__NLP__BATCH_SIZE", "64")
    monkeypatch.setenv("HOPIA_CACHE_DIR", "/tmp/c")
    monkeypatch.setenv("CACHE_DIR", "/ignored")  # only HOPIA_* variables count
    s = Settings()
    # one nested key overridden, the rest of the YAML block kept
    assert (s.data.nlp.batch_size, s.data.nlp.cache_pipeline, s.cache_dir) == (
        64,
        False,
        Path("/tmp/c"),
    )
    assert Settings(home=Path("/explicit")).home == Path("/explicit")


def test_cache_dir_follows_home(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOPIA_HOME", "/data/hopia")
    assert Settings().cache_dir == Path("/data/hopia/cache")


@pytest.mark.parametrize(
    ("content", "reason"),
    [("- a\n- list\n", "dictionnaire YAML"), ("home: [unclosed\n", "configuration illisible")],
)
def test_bad_yaml_names_the_file(in_tmp: Path, content: str, reason: str) -> None:
    path = in_tmp / "custom.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOPIA_CONFIG", str(path))
        with pytest.raises(ConfigError, match=reason) as info:
            Settings()
    assert "custom.yml" in str(info.value)


def test_moved_sections_are_refused_with_their_new_name(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / "hopia.yml").write_text("nlp:\n  batch_size: 8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="« data.nlp »"):
        Settings()
    (in_tmp / "hopia.yml").unlink()
    monkeypatch.setenv("HOPIA_PSEUDO__USE_MODEL", "false")
    with pytest.raises(ConfigError, match="HOPIA_DATA__PSEUDO__USE_MODEL"):
        Settings()


def test_unknown_keys_of_a_section_are_refused(in_tmp: Path) -> None:
    (in_tmp / "hopia.yml").write_text("data:\n  nlp:\n    batch_sise: 8\n", encoding="utf-8")
    with pytest.raises(ValueError, match="batch_sise"):
        Settings()


def test_the_example_configuration_loads_and_states_the_defaults(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import REPO

    monkeypatch.setenv("HOPIA_CONFIG", str(REPO / "configs" / "hopia.example.yml"))
    example = Settings()
    monkeypatch.delenv("HOPIA_CONFIG")
    assert example.data == Settings().data and example.home == Path(".hopia")
    assert example.jobs == Settings().jobs
    assert example.web == Settings().web
    assert example.care == Settings().care
