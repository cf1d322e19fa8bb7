"""One registry mechanism for every pluggable family (readers, quality checks, predictive
models; tomorrow LLM backends, speech engines, forecasters).

A :class:`Registry` holds, by name:

- **built-in lazy defaults**: ``"pdf": "hopia.data.ingest.pdf:PdfReader"``, imported on first use
  only, so listing the names costs nothing and a missing optional dependency fails only the
  component that needs it (medcat's ``Registry``);
- **entry points** of its group (``hopia.readers``…), so a hospital installs a plug-in package
  without editing Hopia (EDS-NLP's ``edsnlp_factories``)::

      [project.entry-points."hopia.readers"]
      cda = "chu_plugins.cda:CdaReader"

- objects registered at run time with :meth:`Registry.register`.

A name registered twice is refused; an unknown name raises :class:`RegistryError` listing the
available ones. Hopia's NLP pipes do not use this class: they go to EDS-NLP's own registry,
under the ``edsnlp_factories`` entry-point group, like EDS-NLP's pipes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, overload

from hopia.platform.exceptions import RegistryError

T = TypeVar("T")

_ALL: dict[str, Registry[Any]] = {}


class Registry(Generic[T]):
    """Components of one family, by name.

    Parameters
    ----------
    family:
        What the components are, in French, for error messages (``"lecteur"``).
    group:
        The entry-point group read for plug-ins (``"hopia.readers"``).
    defaults:
        Built-in components as ``"module:attribute"`` strings, imported on first use.

    >>> r = Registry("exemple", "hopia.examples", {"fold": "hopia.platform.text:fold"})
    >>> r.get("fold")("Éé")
    'ee'
    >>> r.get("nope")
    Traceback (most recent call last):
    ...
    hopia.platform.exceptions.RegistryError: exemple inconnu : « nope » (disponibles : fold)
    """

    def __init__(self, family: str, group: str, defaults: Mapping[str, str] | None = None) -> None:
        self.family = family
        self.group = group
        self._lazy: dict[str, str] = dict(defaults or {})
        self._loaded: dict[str, T] = {}
        self._entry_points: dict[str, Any] | None = None
        if group in _ALL:
            raise RegistryError(
                f"deux registres pour le groupe « {group} »", details={"family": group}
            )
        _ALL[group] = self

    # -- registration -----------------------------------------------------------------------

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: Any = None) -> Any:
        """Register ``obj`` under ``name``; used as a decorator when ``obj`` is omitted."""

        def add(value: T) -> T:
            if name in self._loaded or name in self._lazy or name in self._plugins():
                raise RegistryError(
                    f"{self.family} déjà enregistré sous le nom « {name} »",
                    details={"family": self.group, "name": name},
                )
            self._loaded[name] = value
            return value

        return add if obj is None else add(obj)

    def unregister(self, name: str) -> None:
        """Remove a component registered at run time (tests, hot reload)."""
        self._loaded.pop(name, None)

    # -- lookup -----------------------------------------------------------------------------

    def get(self, name: str) -> T:
        """The component ``name``, imported on first use."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._lazy and name in self._plugins():
            raise RegistryError(
                f"{self.family} « {name} » déclaré deux fois : par Hopia et par le module "
                f"{self._plugins()[name].value}",
                details={"family": self.group, "name": name},
            )
        if name in self._lazy:
            value = _resolve(self._lazy[name])
        elif name in self._plugins():
            value = self._plugins()[name].load()
        else:
            raise RegistryError(
                f"{self.family} inconnu : « {name} » (disponibles : {', '.join(self.names())})",
                details={"family": self.group, "name": name, "available": self.names()},
            )
        self._loaded[name] = value
        return value

    def names(self) -> list[str]:
        """Every name, built-in, plug-in or registered, sorted; nothing is imported."""
        return sorted({*self._lazy, *self._loaded, *self._plugins()})

    def items(self) -> Iterator[tuple[str, T]]:
        """(name, component) for every component, importing them all."""
        for name in self.names():
            yield name, self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __repr__(self) -> str:
        return f"Registry({self.group!r}, {self.names()})"

    def _plugins(self) -> dict[str, Any]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=self.group)}
        return self._entry_points


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


def registries() -> dict[str, Registry[Any]]:
    """Every registry created so far, by entry-point group."""
    return dict(_ALL)
