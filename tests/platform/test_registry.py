"""The one registry mechanism: lazy built-ins, plug-ins by entry point, duplicates refused."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from hopia.platform import registry as registry_module
from hopia.platform.exceptions import RegistryError
from hopia.platform.registry import Registry, registries


def test_built_ins_load_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[str] = []
    real = registry_module.importlib.import_module

    def spy(name: str):  # type: ignore[no-untyped-def]
        imported.append(name)
        return real(name)

    monkeypatch.setattr(registry_module.importlib, "import_module", spy)
    r = Registry("composant", "hopia.test_lazy", {"fold": "hopia.platform.text:fold"})
    assert r.names() == ["fold"] and "fold" in r and imported == []
    assert r.get("fold")("Écho") == "echo"
    assert r.get("fold") is r.get("fold") and imported == ["hopia.platform.text"]
    assert "hopia.test_lazy" in registries()


def test_unknown_names_list_the_available_ones() -> None:
    r = Registry("lecteur", "hopia.test_unknown", {"b": "m:x", "a": "m:y"})
    with pytest.raises(
        RegistryError, match=r"lecteur inconnu : « zz » \(disponibles : a, b\)"
    ) as e:
        r.get("zz")
    assert e.value.code == "unknown_component" and e.value.details["available"] == ["a", "b"]


def test_run_time_registration_and_duplicates() -> None:
    r: Registry[object] = Registry("modèle", "hopia.test_register", {"gbm": "hopia.platform:text"})

    @r.register("maison")
    class Maison:
        pass

    assert r.get("maison") is Maison and dict(r.items())["maison"] is Maison
    with pytest.raises(RegistryError, match="déjà enregistré"):
        r.register("maison", object())
    with pytest.raises(RegistryError, match="déjà enregistré"):
        r.register("gbm", object())
    r.unregister("maison")
    assert "maison" not in r


def test_entry_points_are_plug_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = EntryPoint("cda", "hopia.platform.text:fold", "hopia.test_plugins")
    clash = EntryPoint("text", "hopia.platform.text:chunk_bounds", "hopia.test_plugins")

    def fake(group: str) -> list[EntryPoint]:
        return [plugin, clash] if group == "hopia.test_plugins" else []

    monkeypatch.setattr(registry_module, "entry_points", fake)
    r = Registry("lecteur", "hopia.test_plugins", {"text": "hopia.platform.text:fold"})
    assert r.names() == ["cda", "text"]
    assert r.get("cda")("É") == "e"
    with pytest.raises(RegistryError, match="déclaré deux fois"):
        r.get("text")


def test_one_registry_per_group() -> None:
    Registry("lecteur", "hopia.test_group_once")
    with pytest.raises(RegistryError, match="deux registres"):
        Registry("lecteur", "hopia.test_group_once")
