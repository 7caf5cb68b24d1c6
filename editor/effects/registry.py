"""Finding effects: built-in and third-party, through the plugin manifests.

Each plugin's ``plugin.toml`` lists its effects (``[[contributes.effects]]``, see
:mod:`editor.effects.plugins`); effect-only plugins of the first plugin API, one
``seedwave.effects`` entry point per Effect subclass, still load. Loading an effect
imports only its small module; heavy imports wait for ``process``. A plugin that
fails to load is reported in :attr:`Registry.errors` and skipped: one broken plugin
never stops the app.

Tests and scripts build their own registry (``Registry.of([...])``) and hand it
to the window or the CLI instead of patching the process-wide one.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from .base import Effect, EffectError
from .plugins import LEGACY_EFFECT_GROUP, Plugins, import_object, plugins

GROUP = LEGACY_EFFECT_GROUP


def _check(cls: object) -> type[Effect]:
    if not (isinstance(cls, type) and issubclass(cls, Effect)) or not cls.id:
        raise TypeError("not an Effect subclass with an id")
    return cls


class Registry:
    """Effect classes by id, and the plugins that failed to provide theirs."""

    def __init__(self, found: Plugins | None = None, legacy: bool = True) -> None:
        self._classes: dict[str, type[Effect]] = {}
        self.errors: dict[str, str] = {}
        self._found = found
        self._legacy = legacy
        self._loaded = False

    @classmethod
    def of(cls, classes: Iterable[type[Effect]], found: Plugins | None = None) -> Registry:
        """A registry holding exactly ``classes`` (plus the effects of ``found``, if given)."""
        reg = cls(found or Plugins(), legacy=False)
        reg.load()
        for c in classes:
            reg.register(c)
        return reg

    def load(self) -> None:
        self._classes.clear()
        self.errors.clear()
        found = self._found if self._found is not None else plugins()
        for problem in found.problems:
            self.errors[problem.plugin] = problem.message
        for man in found.manifests:
            for entry in man.effects:
                try:
                    cls = _check(import_object(entry.python_name))
                except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the app
                    self.errors[man.name] = f"{entry.python_name}: {type(exc).__name__}: {exc}"
                    continue
                self._classes.setdefault(cls.id, cls)
        if self._legacy:
            for ep in entry_points(group=GROUP):
                try:
                    cls = _check(ep.load())
                except Exception as exc:  # noqa: BLE001
                    self.errors[ep.name] = f"{type(exc).__name__}: {exc}"
                    continue
                self._classes.setdefault(cls.id, cls)
        self._loaded = True

    def register(self, cls: type[Effect]) -> None:
        """Add an effect class directly (tests, scripts)."""
        if not self._loaded:
            self.load()
        self._classes[_check(cls).id] = cls

    def ids(self) -> list[str]:
        if not self._loaded:
            self.load()
        return sorted(self._classes)

    def classes(self) -> list[type[Effect]]:
        return [self._classes[i] for i in self.ids()]

    def get(self, effect_id: str) -> Effect:
        if not self._loaded:
            self.load()
        try:
            return self._classes[effect_id]()
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "none"
            raise EffectError(f"no effect named {effect_id!r} (available: {known})") from None


_registry: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _registry
    if _registry is None:
        _registry = Registry()
        _registry.load()
    return _registry
