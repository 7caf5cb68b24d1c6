"""The main window: it assembles the timeline, docks, menus, toolbar and status bar.

Each concern lives in its own part (Audacity splits its project window the same way):

* :mod:`.project_files` (:class:`ProjectFiles`): new, open, import, save, export, autosave;
* :mod:`.edit_commands` (:class:`EditCommands`): the action table with its shortcuts,
  and the edits behind it;
* :mod:`.transport` (:class:`Transport`) and :mod:`.audition`: playback and the one
  audition service;
* :mod:`.host` and :mod:`.plugin_ui`: the host API given to plugins, and what the
  plugins contribute (their docks, menu items, context-menu items, settings pages).

The window's own built-in panels (mixer, effects, jobs, help, tips, settings) add
themselves through the same menus. Slow work runs as jobs; the window only starts
them and applies their results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.model import Project, Selection
from ..core.recovery import clear_journal
from ..core.store import default_store
from ..core.timefmt import format_hms
from ..effects.plugins import Plugins, plugins
from ..effects.registry import Registry, registry
from ..engine.playback import Player
from ..host.api import ContextInfo
from ..host.widgets.meters import PeakMeter
from ..jobs.runner import JobRunner
from .audition import Audition
from .document import Document
from .edit_commands import CommandRules, EditCommands
from .effect_apply import EffectController
from .host import QtHost, make_action
from .layouts import DockScroll
from .panels.history import HistoryPanel
from .plugin_ui import PluginUi
from .project_files import AUDIO_FILTER, PROJECT_FILTER, ProjectFiles
from .resources import icon
from .selection_bar import SelectionBar
from .settings import Settings
from .timeline.state import ViewState
from .timeline.view import TimelineView
from .transport import Transport

__all__ = ["AUDIO_FILTER", "PROJECT_FILTER", "MainWindow"]
TICK_MS = 33
MENU_TITLES = (("File", "&File"), ("Edit", "&Edit"), ("Audio", "&Audio"), ("View", "&View"), ("Tracks", "&Tracks"),
               ("Transport", "T&ransport"), ("Effects", "E&ffects"), ("Help", "&Help"))


class MainWindow(ProjectFiles, EditCommands, Transport, QMainWindow):
    """The editor window."""

    import_finished = Signal(object)  # the Job, after its result was applied (or it failed)
    playback_started = Signal()
    playback_stopped = Signal()

    # Set by the built-in parts that _install_parts() calls (each joins menus that exist
    # before any part is installed, so their order does not matter). Plugins never see these:
    # they get ``self.host``.
    mixer: QWidget  # panels.mixer
    mixer_dock: QDockWidget
    effects: EffectController  # panels.effects: runs effects; the effect and jobs panels
    effect_panel: QWidget
    effects_dock: QDockWidget
    jobs_panel: QWidget
    jobs_dock: QDockWidget
    tips_panel: QWidget  # tips
    device_status: QObject  # dialogs.settings: the AI device in the status bar
    act_settings: QAction
    act_user_guide: QAction
    act_tips: QAction
    recording: Any  # recording: Transport > Record, the armed tracks' takes
    act_record: QAction
    act_record_new: QAction
    input_meter: QWidget

    def __init__(self, settings: Settings | None = None, jobs: JobRunner | None = None,
                 player: Player | None = None, effects: Registry | None = None,
                 found: Plugins | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.jobs = jobs or JobRunner(cpu_slots=2, parent=self)
        device = self.settings.get("audio/device") or None
        self.player = player or Player(device=device, blocksize=self.settings.get("audio/blocksize"))
        self.state = ViewState()
        self.document = Document(Project(), self.jobs)
        # Each undo step keeps the selection it was made with; undo and redo give it back.
        self.document.view_capture = self.state.snapshot
        self.document.view_restore = lambda snap: self.state.restore(snap, self.document.project)
        self._journal_index: object = None
        self._after_save: Callable[[], object] | None = None
        self.modal_errors = True  # tests turn error boxes off (errors still go to the status bar)
        self.models_dialog = None  # Effects > Models…, kept once opened
        self.guide_viewer = None  # Help > User Guide, kept once opened
        self.export_dlg = None  # File > Export…, kept: a running export stays visible in it
        self.registry = effects or registry()
        self.commands = CommandRules(self.state, self.document)
        self.audition = Audition(self.player, lambda: self.document.project, self.start_player, self.stop, self)
        self.setWindowIcon(icon("seedwave"))
        self.setAcceptDrops(True)
        self.setAccessibleName("Seedwave main window")
        self.setObjectName("MainWindow")
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks | QMainWindow.DockOption.AnimatedDocks)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.timeline = TimelineView(self.document, self.state)
        lay.addWidget(self.timeline, 1)
        self.selection_bar = SelectionBar(self)
        lay.addWidget(self.selection_bar)
        self.setCentralWidget(central)

        self.history_panel = HistoryPanel(self.document)
        self.history_dock = self.add_dock("History", self.history_panel, Qt.DockWidgetArea.RightDockWidgetArea)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.document.changed.connect(self._project_changed)
        self.document.title_changed.connect(self.setWindowTitle)
        self.document.error.connect(self.show_error)
        self.document.message.connect(self.show_message)
        self.document.history_changed.connect(self._update_actions)
        self.state.selection_changed.connect(self._update_actions)
        self.state.cursor_changed.connect(self._update_status)
        self.state.cursor_changed.connect(self._cursor_moved)  # the transport time, while stopped
        self.state.selection_changed.connect(self._update_status)
        self.timeline.context_menu.connect(self._context_menu)
        self.timeline.menu_extender = self._extend_menu
        self.document.saved.connect(self._saved)
        self.document.saved.connect(self._continue_after_save)
        self.document.save_failed.connect(self._save_failed)
        self.jobs.job_added.connect(self._update_jobs_label)
        self.jobs.job_ended.connect(self._update_jobs_label)

        self.tick = QTimer(self)
        self.tick.setInterval(TICK_MS)
        self.tick.timeout.connect(self._tick)
        self.autosave = QTimer(self)
        self.autosave.timeout.connect(self.write_recovery)
        self.set_autosave_interval(self.settings.get("autosave/interval_s"))

        self.player.set_project(self.document.project)
        self.host = QtHost(self, self.audition, found if found is not None else plugins())
        self._install_parts()
        self.plugin_ui = PluginUi(self, self.host, self.host.plugins)
        self.plugin_ui.install()
        self._install_access()
        if self.registry.errors:  # a plugin whose panel or command failed: the effects list says so
            self.effect_panel.populate()
            self.show_message(f"{len(self.registry.errors)} plugin(s) failed to load; see Help > Plugins")
        self._update_actions()
        self._update_status()
        self.setWindowTitle(self.document.title())
        self.resize(1280, 800)
        # Dock arrangement waits until the window is shown (see after_show).
        self.after_show(self._restore_layout)

    # -- building ------------------------------------------------------------------
    def after_show(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the window has been shown (now, if it already has).

        Tabbing docks together or restoring a saved dock layout before the window
        is shown leaves a stray, empty tab bar in the middle of the window (Qt 6),
        so layout steps go through here.
        """
        if getattr(self, "_shown", False):
            fn()
        else:
            self.__dict__.setdefault("_after_show", []).append(fn)

    def tabify(self, first: QDockWidget, second: QDockWidget, raise_first: bool = True) -> None:
        """Put ``second`` in a tab beside ``first`` (once the window is shown).

        Until then ``second`` is hidden: docks waiting to be tabbed would otherwise
        stack up in their area, and the window would open as tall as all of them
        (taller than the screen) instead of the size it was given.
        """
        pending = not getattr(self, "_shown", False)
        hide = pending and not second.isHidden()
        if hide:
            second.hide()

        def do() -> None:
            self.tabifyDockWidget(first, second)
            if hide:
                second.show()
            if raise_first:
                first.raise_()

        self.after_show(do)

    def showEvent(self, e) -> None:  # noqa: N802, ANN001
        super().showEvent(e)
        if not getattr(self, "_shown", False):
            self._shown = True
            for fn in self.__dict__.pop("_after_show", []):
                fn()

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add a panel as a dock (built-in panels and plugins' alike).

        The panel sits in a scroll area: a panel taller than its dock (a growing job
        list, a long form) scrolls inside it, and never makes the window grow."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(DockScroll(widget, f"{dock.objectName()}Scroll"))
        dock.setAccessibleName(f"{title} panel")
        self.addDockWidget(area, dock)
        if hasattr(self, "menu_panels"):
            self.menu_panels.addAction(dock.toggleViewAction())
        return dock

    def action(self, text: str, slot: Callable, shortcut=None, tip: str = "", checkable: bool = False,  # noqa: ANN001
               icon_name: str | None = None) -> QAction:
        """A window-wide action with a shortcut (listed in Help > Keyboard Shortcuts)."""
        a = make_action(self, text, slot, shortcut, tip, checkable)
        if icon_name:
            a.setIcon(icon(icon_name))
        return a

    def _install_parts(self) -> None:
        """The window's built-in panels and menus; each names the menu or dock it joins."""
        from .dialogs import settings as settings_page
        from .help import install as install_help
        from .layouts import install as install_layouts
        from .panels import effects as effects_panel
        from .panels import mixer
        from .recording import install as install_recording
        from .timeline import actions as timeline_actions
        from .tips import install as install_tips

        timeline_actions.install(self)
        mixer.install(self)
        effects_panel.install(self)
        install_help(self)
        install_tips(self)
        settings_page.install(self)
        install_layouts(self)
        install_recording(self)
        from .timeline import spectral_tool

        spectral_tool.install(self)
        from .spectral_ops import install as install_spectral_ops

        install_spectral_ops(self)
        self.host.ui.register_panel("history", self.history_panel, self.history_dock)
        self.host.ui.register_panel("mixer", self.mixer, self.mixer_dock)
        self.host.ui.register_panel("effects", self.effect_panel, self.effects_dock)
        self.host.ui.register_panel("jobs", self.jobs_panel, self.jobs_dock)
        self.act_plugins = self.action("&Plugins…", self.show_plugins, None, "Installed plugins and their problems")
        self.menu_help.insertAction(self.act_about, self.act_plugins)

    def _install_access(self) -> None:
        """Keyboard paths, names for every control, and spoken job progress (see accessibility.py)."""
        from .accessibility import JobAnnouncer
        from .accessibility import install as install_accessibility
        from .keyboard import install as install_keyboard

        self.keys = install_keyboard(self)
        self.job_announcer = JobAnnouncer(self.jobs, self.status_jobs, self.show_message, self)
        install_accessibility(self)

    def open_models_dialog(self) -> None:
        from .panels.effects import open_models_dialog

        open_models_dialog(self)

    def show_plugins(self) -> None:
        from .dialogs.plugins import PluginsDialog

        dlg = PluginsDialog(self.host.plugins, self.registry, self)
        dlg.exec()
        dlg.deleteLater()

    def _make_menus(self) -> None:
        mb = self.menuBar()
        self.menus: dict[str, QMenu] = {key: QMenu(title, self) for key, title in MENU_TITLES}
        for key, _title in MENU_TITLES:
            mb.addMenu(self.menus[key])
        m = self.menus["File"]
        for a in (self.act_new, self.act_open):
            m.addAction(a)
        self.menu_recent = m.addMenu("Open &Recent")
        self.menu_recent.aboutToShow.connect(self._fill_recent)
        m.addSeparator()
        for a in (self.act_import, self.act_save, self.act_save_as, self.act_export):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_close)
        m.addAction(self.act_quit)
        self.menu_file = m
        m = self.menus["Edit"]
        for a in (self.act_undo, self.act_redo, None, self.act_cut, self.act_copy, self.act_paste, self.act_delete,
                  None, self.act_duplicate, self.act_split, self.act_trim, self.act_silence, self.act_insert_silence,
                  None, self.act_select_all, self.act_select_none):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_edit = m
        m = self.menus["Audio"]
        for a in (self.act_gain, self.act_fade_in, self.act_fade_out, self.act_normalize, self.act_reverse):
            m.addAction(a)
        self.menu_audio = m
        m = self.menus["View"]
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_zoom_sel, self.act_fit, self.act_scroll_left,
                  self.act_scroll_right, self.act_follow, None, self.act_view_wave, self.act_view_spec,
                  self.act_view_both, self.act_spec_settings, None):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_panels = m.addMenu("&Panels")
        self.menu_panels.addAction(self.history_dock.toggleViewAction())
        self.menu_view = m
        m = self.menus["Tracks"]
        for a in (self.act_add_track, self.act_remove_track, self.act_rename_track):
            m.addAction(a)
        self.menu_tracks = m
        m = self.menus["Transport"]
        for a in (self.act_play, self.act_stop, self.act_play_sel, self.act_loop, None, self.act_home, self.act_end):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_transport = m
        m = self.menus["Help"]
        m.addAction(self.act_shortcuts)
        m.addAction(self.act_about)
        self.menu_help = m
        self.menu_effects = self.menus["Effects"]

    def _make_toolbar(self) -> None:
        tb = QToolBar("Transport")
        tb.setObjectName("TransportToolbar")
        tb.setAccessibleName("Transport")
        for a in (self.act_play, self.act_stop, self.act_loop):
            tb.addAction(a)
        tb.addSeparator()
        self.time_label = QLabel("00:00:00.000")
        self.time_label.setAccessibleName("Playback position")
        self.time_label.setStyleSheet("font-family: monospace; font-size: 15px; padding: 0 8px;")
        tb.addWidget(self.time_label)
        self.meter = PeakMeter()
        self.meter.setMaximumWidth(260)
        self.meter.setAccessibleName("Output level")
        tb.addWidget(self.meter)
        tb.addSeparator()
        for a in (self.act_undo, self.act_redo, None, self.act_zoom_in, self.act_zoom_out, self.act_fit):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.addToolBar(tb)
        self.transport_bar = tb

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_cursor = QLabel()
        self.status_cursor.setAccessibleName("Cursor time")
        self.status_sel = QLabel()
        self.status_sel.setAccessibleName("Selection length")
        self.status_rate = QLabel()
        self.status_rate.setAccessibleName("Sample rate")
        self.status_jobs = QLabel()
        self.status_jobs.setAccessibleName("Running jobs")
        self.status_audio = QLabel()
        self.status_audio.setAccessibleName("Audio output")
        self.status_device = QLabel()
        self.status_device.setAccessibleName("AI device")
        for w in (self.status_cursor, self.status_sel, self.status_rate, self.status_jobs, self.status_audio,
                  self.status_device):
            sb.addPermanentWidget(w)
        self.update_audio_status()
        if not self.player.available:
            for a in (self.act_play, self.act_stop, self.act_play_sel, self.act_loop):
                a.setEnabled(False)
                a.setToolTip(f"Playback unavailable: {self.player.reason}")

    def update_audio_status(self) -> None:
        """The status bar names the audio output playback goes to (or why there is none)."""
        if not self.player.available:
            self.status_audio.setText(f"No audio output: {self.player.reason}")
            return
        from ..engine.playback import default_output

        name = self.player.device or default_output() or "system default"
        self.status_audio.setText(f"Output: {name}")
        self.status_audio.setToolTip("Audio output for playback (Edit > Settings > Audio to change it)")

    # -- helpers ---------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)
        self._last_error = text
        if self.modal_errors and self.isVisible():
            QMessageBox.warning(self, "Seedwave", text)

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    @property
    def project(self) -> Project:
        return self.document.project

    def selection(self) -> Selection:
        return self.state.selection

    def target_tracks(self) -> tuple[str, ...]:
        if self.state.track_ids:
            return self.state.track_ids
        return tuple(t.id for t in self.project.tracks)

    def _project_changed(self, project: Project) -> None:
        self.state.rate = project.sample_rate
        if self.audition.preview_project is None:
            self.player.set_project(project)
        self._update_status()
        self._update_actions()

    def _update_status(self) -> None:
        st = self.state
        rate = self.project.sample_rate
        self.status_cursor.setText(f"Cursor {format_hms(st.cursor, rate)}")
        self.status_sel.setText(f"Selection {format_hms(st.sel_stop - st.sel_start, rate)}" if st.has_range
                                else "No selection")
        self.status_rate.setText(f"{rate} Hz")

    def _update_jobs_label(self, *_a) -> None:
        n = len(self.jobs.active_jobs())
        self.status_jobs.setText(f"{n} job{'s' if n != 1 else ''} running" if n else "")

    # -- view ----------------------------------------------------------------------------------------
    def lanes_width(self) -> int:
        return max(100, self.timeline.lanes.width())

    def zoom_in(self) -> None:
        self.state.zoom(2.0, self.state.x_of(self.state.cursor) if 0 <= self.state.x_of(self.state.cursor)
                        <= self.lanes_width() else self.lanes_width() / 2)

    def zoom_out(self) -> None:
        self.state.zoom(0.5, self.lanes_width() / 2)

    def zoom_selection(self) -> None:
        if self.state.has_range:
            self.state.zoom_to(self.state.sel_start, self.state.sel_stop, self.lanes_width())

    def fit_project(self) -> None:
        self.state.fit(max(self.project.end, self.project.sample_rate), self.lanes_width())

    def scroll_page(self, fraction: float) -> None:
        self.timeline.scroll_frames(fraction * self.lanes_width() * self.state.fpp)

    def _toggle_follow(self, on: bool) -> None:
        self.state.follow = on

    def set_view_mode(self, mode: str) -> None:
        for tid in self.target_tracks():
            self.timeline.set_track_mode(tid, mode)
        self.timeline._refresh_headers()

    def spectrogram_settings(self) -> None:
        from .dialogs.spectrogram import SpectrogramDialog

        tids = self.target_tracks()
        if not tids:
            return
        current = self.timeline.lanes.display_for(tids[0]).spectro
        dlg = SpectrogramDialog(current, self)
        if dlg.exec():
            s = dlg.settings()
            for tid in tids:
                self.timeline.lanes.display_for(tid).spectro = s
            self.timeline.lanes.update()
        dlg.deleteLater()

    # -- help ----------------------------------------------------------------------------------------------
    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action, keys) of every action with a shortcut, plugins' and docks' included."""
        from .help import shortcut_rows

        return shortcut_rows(self)

    def show_user_guide(self) -> None:
        from .help import show_user_guide

        show_user_guide(self)

    def show_shortcuts(self) -> None:
        from .dialogs.about import ShortcutsDialog

        dlg = ShortcutsDialog(self.shortcut_table(), self)
        dlg.exec()
        dlg.deleteLater()

    def show_about(self) -> None:
        from .dialogs.about import AboutDialog

        dlg = AboutDialog(self)
        dlg.exec()
        dlg.deleteLater()

    # -- context menu -------------------------------------------------------------------------------------
    def _context_menu(self, global_pos: QPointF) -> None:
        m = QMenu(self)
        for a in (self.act_cut, self.act_copy, self.act_paste, self.act_delete, None, self.act_duplicate,
                  self.act_split, self.act_trim, self.act_silence, None, self.act_gain, self.act_fade_in,
                  self.act_fade_out, self.act_normalize, self.act_reverse, None, self.act_view_wave,
                  self.act_view_spec, self.act_view_both):
            m.addSeparator() if a is None else m.addAction(a)
        self._extend_menu(m, "timeline")
        self.timeline.show_menu(m, global_pos)

    def _extend_menu(self, menu: QMenu, target: str, clip_id: str = "", track_id: str = "") -> None:
        """Entries of the built-in panels and plugins for a context menu."""
        self.host.ui.fill_context_menu(menu, ContextInfo(target, clip_id, track_id))

    # -- window state / closing ----------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geo = self.settings.q.value("window/geometry")
        state = self.settings.q.value("window/state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_layout(self) -> None:
        self.settings.q.setValue("window/geometry", self.saveGeometry())
        self.settings.q.setValue("window/state", self.saveState())
        self.settings.q.sync()

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_save(self.close):
            e.ignore()
            return
        self.shutdown()
        e.accept()

    def shutdown(self) -> None:
        """Stop playback, cancel jobs and wait for them, remember the layout."""
        self.save_layout()
        self.recording.shutdown()
        self.stop()
        self.tick.stop()
        self.autosave.stop()
        self.jobs.shutdown()
        self.timeline.lanes.spectra.shutdown()
        # Non-modal dialogs (export, models, settings) are windows of their own.
        for w in QApplication.topLevelWidgets():
            if w is not self and w.isVisible() and _owned_by(w, self):
                w.close()
        with contextlib.suppress(Exception):
            clear_journal(default_store())


def _owned_by(widget: QWidget, window: QWidget) -> bool:
    p = widget.parentWidget()
    while p is not None:
        if p is window:
            return True
        p = p.parentWidget()
    return False
