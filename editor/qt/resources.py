"""Access to files under resources/ (installed as editor.resources): icons, demo audio."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_path(*parts: str) -> Path:
    return Path(str(resources.files("editor.resources").joinpath(*parts)))


@lru_cache(maxsize=64)
def icon(name: str) -> QIcon:
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()
