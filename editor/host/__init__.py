"""The public host API: everything a plugin may use from the running app.

Plugins import from here (and from the Qt-free layers ``editor.core``,
``editor.engine``, ``editor.effects``, ``editor.jobs``), never from ``editor.qt``,
which is the host's private implementation. An import-linter contract in
pyproject.toml enforces this. See docs/PLUGINS.md for a guided tour.
"""

from __future__ import annotations

from .api import (
    AuditionApi,
    AuditionState,
    ContextInfo,
    DocumentApi,
    EffectsApi,
    Host,
    JobsApi,
    ModelsApi,
    SelectionApi,
    SettingsApi,
    SettingsPageApi,
    UiApi,
)
from .selection import HostSelection

__all__ = [
    "AuditionApi", "AuditionState", "ContextInfo", "DocumentApi", "EffectsApi", "Host", "HostSelection", "JobsApi",
    "ModelsApi", "SelectionApi", "SettingsApi", "SettingsPageApi", "UiApi",
]
