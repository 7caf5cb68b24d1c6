"""Effect presets: named parameter sets, one JSON file per effect.

Files live in ``$SEEDWAVE_PRESETS`` if set, else in a ``presets`` folder next to
the settings file (``$SEEDWAVE_CONFIG``'s folder, else
``$XDG_CONFIG_HOME/Seedwave``). Each file is ``<effect id>.json``::

    {"effect": "denoise", "version": "1", "presets": {"Gentle": {"strength": 12.0}}}

Writes go through a temporary file and a rename, so a crash never leaves a
half-written file. Loading is forgiving: parameters the effect no longer has, or
values it no longer accepts, are dropped with a note, and the rest still load, so
a preset saved by an older version of an effect stays usable.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ..core.errors import SeedwaveError
from .base import Effect, EffectError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def presets_dir() -> Path:
    """The folder that holds the preset files."""
    env = os.environ.get("SEEDWAVE_PRESETS")
    if env:
        return Path(env)
    cfg = os.environ.get("SEEDWAVE_CONFIG")
    if cfg:
        return Path(cfg).parent / "presets"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "Seedwave" / "presets"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return value


class PresetStore:
    """Named parameter sets per effect, stored as JSON files in one folder."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else presets_dir()

    def path(self, effect_id: str) -> Path:
        return self.folder / f"{_SAFE.sub('_', effect_id)}.json"

    def _read(self, effect_id: str) -> dict[str, dict[str, Any]]:
        p = self.path(effect_id)
        if not p.is_file():
            return {}
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SeedwaveError(f"cannot read presets ({exc})", p) from None
        presets = data.get("presets") if isinstance(data, dict) else None
        if not isinstance(presets, dict):
            raise SeedwaveError("not a Seedwave preset file", p)
        return {str(k): v for k, v in presets.items() if isinstance(v, dict)}

    def _write(self, effect_id: str, version: str, presets: dict[str, dict[str, Any]]) -> None:
        p = self.path(effect_id)
        tmp = p.with_name(p.name + ".tmp")
        doc = {"effect": effect_id, "version": version,
               "presets": {k: {n: _jsonable(v) for n, v in vals.items()} for k, vals in sorted(presets.items())}}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, p)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SeedwaveError(f"cannot save presets ({exc.strerror or exc})", p) from None

    # -- public ------------------------------------------------------------------
    def names(self, effect_id: str) -> list[str]:
        return sorted(self._read(effect_id), key=str.casefold)

    def save(self, effect: type[Effect] | Effect, name: str, values: dict[str, Any]) -> None:
        """Store ``values`` (validated against the effect) under ``name``, replacing any preset of that name."""
        name = name.strip()
        if not name:
            raise SeedwaveError("a preset needs a name")
        clean = effect.resolve_params(values)
        presets = self._read(effect.id)
        presets[name] = clean
        self._write(effect.id, effect.version, presets)

    def load(self, effect: type[Effect] | Effect, name: str) -> tuple[dict[str, Any], list[str]]:
        """The preset's values over the effect's defaults, and notes about anything dropped."""
        presets = self._read(effect.id)
        if name not in presets:
            raise SeedwaveError(f"no preset named {name!r} for {effect.title}")
        values = effect.resolve_params({})
        notes: list[str] = []
        for key, raw in presets[name].items():
            try:
                values[key] = effect.param(key).coerce(raw)
            except EffectError as exc:
                notes.append(f"preset {name!r}: {exc}; using the default")
        return values, notes

    def delete(self, effect: type[Effect] | Effect, name: str) -> None:
        presets = self._read(effect.id)
        if presets.pop(name, None) is None:
            raise SeedwaveError(f"no preset named {name!r} for {effect.title}")
        self._write(effect.id, effect.version, presets)
