"""Where panels and features of later issues hook into the main window.

Each feature module has ``install(window)``: it adds its docks (``window.add_dock``),
actions and menu entries (``window.menu_*``), and connects to the document and view
state. Add one line to FEATURES per feature; keep the order stable.
"""

from __future__ import annotations

from importlib import import_module

FEATURES: list[str] = [
    "editor.qt.timeline.actions",
    "editor.qt.panels.mixer",
    "editor.qt.panels.effects",  # effect panel, jobs panel, Effects menu, model manager
    "editor.qt.panels.remix",  # stem remix panel (after effects: uses its controller and menu)
    "editor.qt.panels.fill",  # Fill / Extend dock (tabbed with effects), Audio > Fill Selection…, Extend Clip…
    "editor.qt.help",  # Help > User Guide
    "editor.qt.tips",  # first-run tips, Help > Tips
    "editor.qt.dialogs.settings",  # Edit > Settings…, AI device in the status bar
]


def install_all(window) -> None:  # noqa: ANN001 - MainWindow (import cycle)
    for name in FEATURES:
        import_module(name).install(window)
