"""Persistent settings (QSettings), with typed accessors and defaults.

Stored under ``$XDG_CONFIG_HOME/Seedwave/Seedwave.conf`` (or ``$SEEDWAVE_CONFIG``
if set), so tests and a "fresh settings folder" start are easy to isolate.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QSettings

DEFAULTS: dict[str, Any] = {
    "audio/device": "",
    "audio/blocksize": 1024,
    "ai/device": "auto",
    "models/folder": "",
    "ui/theme": "system",
    "autosave/interval_s": 15,
    "export/format": "wav",
    "record/device": "",  # input device name; "" for the default input
    "record/channels": 2,
    "record/latency_ms": 0,  # manual latency offset added to the device's reported latency
    "export/folder": "",
    "history/limit_mb": 8192,
    "first_run_done": False,
    "view/time_format": "hms",  # hms | samples: the selection bar's choice, used by panels too
    "recent_files": [],
}
MAX_RECENT = 10


def qsettings() -> QSettings:
    path = os.environ.get("SEEDWAVE_CONFIG")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Seedwave", "Seedwave")


class Settings:
    """Typed access to the settings file."""

    def __init__(self) -> None:
        self.q = qsettings()

    def get(self, key: str) -> Any:
        default = DEFAULTS.get(key)
        value = self.q.value(key, default)
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            try:
                return int(value)
            except (TypeError, ValueError):
                return default
        if isinstance(default, list):
            if value is None or value == "":
                return []
            return list(value) if isinstance(value, (list, tuple)) else [str(value)]
        return "" if value is None else str(value)

    def set(self, key: str, value: Any) -> None:
        self.q.setValue(key, value)
        self.q.sync()

    def add_recent(self, path: str) -> list[str]:
        items = [p for p in self.get("recent_files") if p != path]
        items.insert(0, path)
        items = items[:MAX_RECENT]
        self.set("recent_files", items)
        return items
