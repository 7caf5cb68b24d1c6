"""Finding effects: built-in and third-party, all through one entry-point group.

Every effect, built-in ones included, is registered under the
``seedwave.effects`` entry-point group (see pyproject.toml). Loading an entry
point imports only the effect's small module; heavy imports wait for ``process``.
A plugin that fails to load is reported in :attr:`Registry.errors` and skipped:
one broken plugin never stops the app.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from .base import Effect, EffectError

GROUP = "seedwave.effects"


class Registry:
    def __init__(self) -> None:
        self._classes: dict[str, type[Effect]] = {}
        self.errors: dict[str, str] = {}
        self._loaded = False

    def load(self) -> None:
        self._classes.clear()
        self.errors.clear()
        for ep in entry_points(group=GROUP):
            try:
                cls = ep.load()
                if not (isinstance(cls, type) and issubclass(cls, Effect)) or not cls.id:
                    raise TypeError("entry point is not an Effect subclass with an id")
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the app
                self.errors[ep.name] = f"{type(exc).__name__}: {exc}"
                continue
            self._classes.setdefault(cls.id, cls)
        self._loaded = True

    def register(self, cls: type[Effect]) -> None:
        """Add an effect class directly (tests, scripts)."""
        self._classes[cls.id] = cls

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
