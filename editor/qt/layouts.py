"""Window layouts: presets (Edit, Mix, Repair, Compact), quick collapse of the mixer and
the side panels, and fitting the tracks to the window.

View > Layout lists the presets. Each preset is a set of docks to show (the others
are hidden) and a track height; "Save Current Layout as Preset" keeps the user's own
arrangement of a preset (``QMainWindow.saveState``) in the settings, and choosing the
preset later restores exactly that. Hidden docks, collapsed or not, never change the
window's size: every dock's content scrolls inside the dock instead (see
``MainWindow.add_dock``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

from .timeline.handles import DEFAULT_TRACK_HEIGHT

COMPACT_TRACK_HEIGHT = 72
STATE_VERSION = 17  # saveState's version for the presets' saved states


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    shows: tuple[str, ...]  # panel ids shown (the others are hidden); the first is raised
    compact: bool = False
    tip: str = ""


PRESETS: tuple[Preset, ...] = (
    Preset("edit", "&Edit", ("effects", "history", "jobs"), tip="Timeline with effects and history"),
    Preset("mix", "&Mix", ("mixer", "chains", "history"), tip="Mixer and insert chains under the timeline"),
    Preset("repair", "&Repair", ("effects", "fill.panel", "history", "jobs"),
           tip="Effects and Fill beside the timeline, no mixer"),
    Preset("compact", "&Compact", ("history", "jobs"), compact=True,
           tip="Smaller tracks and toolbar, no mixer or effect column: the most tracks on screen"),
)
SHORTCUTS = {"edit": "Ctrl+Alt+1", "mix": "Ctrl+Alt+2", "repair": "Ctrl+Alt+3", "compact": "Ctrl+Alt+4"}


class DockScroll(QScrollArea):
    """A dock's content: as wide as the panel needs, as tall as the dock allows (the panel
    scrolls vertically). A taller panel (a growing job list) never makes the window grow."""

    MIN_HEIGHT = 60

    def __init__(self, widget: QWidget, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(widget)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        inner = self.widget().minimumSizeHint() if self.widget() is not None else QSize(0, 0)
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(inner.width() + bar, min(self.MIN_HEIGHT, max(0, inner.height())))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        inner = self.widget().sizeHint() if self.widget() is not None else QSize(0, 0)
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(), inner.height())


class Layouts:
    """The View > Layout menu and its actions (``window.layouts``)."""

    def __init__(self, window: Any) -> None:
        self.w = window
        self.current = ""
        self._side_hidden: list[QDockWidget] = []
        view = window.menu_view
        self.menu = view.addMenu("&Layout")
        self.menu.setObjectName("LayoutMenu")
        group = QActionGroup(window)
        self.preset_actions: dict[str, QAction] = {}
        for p in PRESETS:
            a = window.action(p.title, lambda _c=False, n=p.name: self.apply(n), SHORTCUTS.get(p.name), p.tip,
                              checkable=True)
            group.addAction(a)
            self.menu.addAction(a)
            self.preset_actions[p.name] = a
        self.menu.addSeparator()
        self.act_save = window.action("&Save Current Layout as Preset", self.save_current, None,
                                      "The preset chosen last restores this arrangement from now on")
        self.act_reset = window.action("Reset &Presets", self.reset_presets, None,
                                       "Forget the saved arrangements: presets go back to Seedwave's own")
        self.menu.addAction(self.act_save)
        self.menu.addAction(self.act_reset)
        view.addSeparator()
        self.act_mixer = window.action("Show &Mixer", self.show_mixer, "Ctrl+Alt+M", "Show or collapse the mixer",
                                       checkable=True)
        self.act_side = window.action("Show &Side Panels", self.show_side, "Ctrl+Alt+P",
                                      "Show or collapse the effect column (effects, history, jobs…)", checkable=True)
        self.act_fit_tracks = window.action("Fit &Tracks", self.fit_tracks, "Ctrl+Alt+H",
                                            "Make every track fit in the window's height")
        for a in (self.act_mixer, self.act_side, self.act_fit_tracks):
            view.addAction(a)
        self.menu.aboutToShow.connect(self._sync)
        view.aboutToShow.connect(self._sync)
        self._sync()

    # -- docks --------------------------------------------------------------------------
    def docks(self) -> dict[str, QDockWidget]:
        """Every panel's dock by id (built-in and plugins')."""
        return {pid: d for pid, d in self.w.host.ui._docks.items() if d is not None}

    def side_docks(self) -> list[QDockWidget]:
        return [d for d in self.docks().values()
                if self.w.dockWidgetArea(d) in (Qt.DockWidgetArea.RightDockWidgetArea,
                                                Qt.DockWidgetArea.LeftDockWidgetArea)]

    def _sync(self) -> None:
        self.act_mixer.setChecked(not self.w.mixer_dock.isHidden())
        self.act_side.setChecked(any(not d.isHidden() for d in self.side_docks()))

    def show_mixer(self, on: bool) -> None:
        self.w.mixer_dock.setVisible(bool(on))
        self.act_mixer.setChecked(bool(on))

    def show_side(self, on: bool) -> None:
        """Collapse the side column (remembering which panels were open) or bring it back."""
        if on:
            docks = self._side_hidden or [self.w.effects_dock, self.w.history_dock]
            for d in docks:
                d.show()
            self._side_hidden = []
        else:
            self._side_hidden = [d for d in self.side_docks() if not d.isHidden()]
            for d in self._side_hidden:
                d.hide()
        self.act_side.setChecked(bool(on))

    # -- presets -------------------------------------------------------------------------
    def apply(self, name: str) -> None:
        """Restore a preset: the user's saved arrangement of it, or Seedwave's own."""
        preset = next(p for p in PRESETS if p.name == name)
        self.current = name
        self.preset_actions[name].setChecked(True)
        saved = self.w.settings.q.value(f"layouts/{name}")
        if isinstance(saved, QByteArray) and self.w.restoreState(saved, STATE_VERSION):
            pass
        else:
            docks = self.docks()
            for pid, dock in docks.items():
                dock.setVisible(pid in preset.shows)
            first = docks.get(preset.shows[0])
            if first is not None:
                first.raise_()
        self.set_compact(preset.compact)
        self._sync()
        self.w.show_message(f"Layout: {preset.title.replace('&', '')}")

    def set_compact(self, on: bool) -> None:
        """Smaller tracks and toolbar icons (more tracks on screen), or the usual sizes."""
        lanes = self.w.timeline.lanes
        lanes.fitted = None
        lanes.default_height = COMPACT_TRACK_HEIGHT if on else DEFAULT_TRACK_HEIGHT
        lanes.preview_changed.emit()
        lanes.update()
        size = 16 if on else 24
        self.w.transport_bar.setIconSize(QSize(size, size))

    def save_current(self) -> None:
        name = self.current or "edit"
        self.w.settings.q.setValue(f"layouts/{name}", self.w.saveState(STATE_VERSION))
        self.w.show_message(f"Saved the current layout as the {name.title()} preset")

    def reset_presets(self) -> None:
        for p in PRESETS:
            self.w.settings.q.remove(f"layouts/{p.name}")
        self.w.show_message("Layout presets reset")

    # -- tracks -------------------------------------------------------------------------
    def fit_tracks(self) -> None:
        """Every track the same height, all of them on screen (view only: no undo step)."""
        lanes = self.w.timeline.lanes
        lanes.fit_heights(max(1, lanes.height()))
        self.w.timeline.vbar.setValue(0)


def install(window: Any) -> None:
    """``window.layouts``: View > Layout presets, Show Mixer (Ctrl+Alt+M), Show Side Panels (Ctrl+Alt+P), Fit Tracks."""
    window.layouts = Layouts(window)
