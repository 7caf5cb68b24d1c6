"""Putting the plugins' contributions into the window: commands, menus, context
menus, dock panels and settings pages, each read from the plugin's manifest.

Command code is imported when the command first runs; a panel's module when the
window is built (its dock must exist for the saved layout). Whatever fails is
recorded as a problem of that plugin (listed in the effects list and in
Help > Plugins) and the rest of the app carries on. Order never matters: every
contribution names the menu, area or panel it goes to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from ..effects.plugins import Command, PluginManifest, Plugins, import_object
from ..host.api import ContextInfo
from .host import QtHost, make_action

if TYPE_CHECKING:
    from .main_window import MainWindow

AREAS = {"right": Qt.DockWidgetArea.RightDockWidgetArea, "left": Qt.DockWidgetArea.LeftDockWidgetArea,
         "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


class PluginUi:
    """The window's part that holds what plugins contributed."""

    def __init__(self, window: MainWindow, host: QtHost, found: Plugins) -> None:
        self.w = window
        self.host = host
        self.found = found
        self.actions: dict[str, QAction] = {}  # command id -> its action
        self.settings_pages: list[tuple[PluginManifest, Any]] = []  # (plugin, SettingsPage contribution)
        self._sections: dict[str, str] = {}  # menu -> the section of its last plugin item

    def install(self) -> None:
        for man in self.found.manifests:
            try:
                self._install(man)
            except Exception as exc:  # noqa: BLE001 - one broken plugin never stops the app
                self.problem(man.name, f"{type(exc).__name__}: {exc}")

    def problem(self, plugin: str, message: str) -> None:
        self.found.problem(plugin, message)
        self.w.effects.registry.errors.setdefault(plugin, message)

    # -- one plugin ------------------------------------------------------------------------------
    def _install(self, man: PluginManifest) -> None:
        for cmd in man.commands:
            self.actions[cmd.id] = self._action(man, cmd)
        for panel in man.panels:
            try:
                widget = import_object(panel.python_name)(self.host)
            except Exception as exc:  # noqa: BLE001
                self.problem(man.name, f"panel {panel.id}: {type(exc).__name__}: {exc}")
                continue
            dock = self.w.add_dock(panel.title, widget, AREAS[panel.area])
            self.host.ui.register_panel(panel.id, widget, dock)
            beside = self.host.ui.dock(panel.tab_with) if panel.tab_with else None
            if beside is not None:
                self.w.tabify(beside, dock)
            if panel.menu or panel.shortcut:
                a = make_action(self.w, panel.show_title or f"{panel.title} Panel",
                                lambda _c=False, i=panel.id: self.host.ui.show_panel(i), panel.shortcut)
                self.actions[f"{panel.id}:show"] = a
                if panel.menu:
                    self.w.menus[panel.menu].addAction(a)
        for item in man.menus:
            menu = self.w.menus[item.menu]
            key = f"{man.name}/{item.section}"
            if self._sections.get(item.menu) != key:
                menu.addSeparator()
                self._sections[item.menu] = key
            menu.addAction(self.actions[item.command])
        by_target: dict[str, list[QAction]] = {}
        for ctx in man.context_menus:
            by_target.setdefault(ctx.target, []).append(self.actions[ctx.command])
        for target, actions in by_target.items():
            self.host.ui.add_context_items(target, self._context_adder(actions))
        for page in man.settings:
            self.settings_pages.append((man, page))

    def _action(self, man: PluginManifest, cmd: Command) -> QAction:
        a = make_action(self.w, cmd.title, lambda _c=False: self.run(man, cmd), cmd.shortcut or None, cmd.tip)
        a.setObjectName(cmd.id)
        self.w.commands.track(a, cmd.enabled_when)
        return a

    def run(self, man: PluginManifest, cmd: Command) -> Any:
        """Run a command (importing its code the first time)."""
        try:
            fn = import_object(cmd.python_name)
        except Exception as exc:  # noqa: BLE001
            self.problem(man.name, f"command {cmd.id}: {type(exc).__name__}: {exc}")
            self.host.ui.error(f"{cmd.title.replace('&', '')}: the plugin “{man.title}” failed to load ({exc})")
            return None
        return fn(self.host)

    @staticmethod
    def _context_adder(actions: list[QAction]) -> Callable[[QMenu, ContextInfo], None]:
        def add(menu: QMenu, _info: ContextInfo) -> None:
            if not menu.isEmpty():
                menu.addSeparator()
            for a in actions:
                menu.addAction(a)

        return add

    def make_settings_pages(self) -> list[tuple[str, str, Any]]:
        """(page id, tab title, page) for the Settings dialog; a page that fails is a problem."""
        out = []
        for man, page in self.settings_pages:
            try:
                out.append((page.id, page.title, import_object(page.python_name)(self.host)))
            except Exception as exc:  # noqa: BLE001
                self.problem(man.name, f"settings page {page.id}: {type(exc).__name__}: {exc}")
        return out
