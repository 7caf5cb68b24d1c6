"""The main window: menus, timeline, transport, selection bar, docks, status bar.

Every action is a QAction with a shortcut, on a menu (and the context menu where
it makes sense), so everything is reachable from the keyboard. Slow work (import,
save, sample-changing edits, export, effects) runs as jobs; the window only
starts them and applies their results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QEventLoop, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core import edits
from ..core.audio_io import AUDIO_EXTENSIONS, ImportedAudio, import_audio, probe
from ..core.errors import SeedwaveError
from ..core.model import Clip, Project, Selection
from ..core.projectfile import EXTENSION, load_project, save_project
from ..core.recovery import clear_journal, write_journal
from ..core.store import default_store
from ..core.task import TaskContext
from ..core.timefmt import format_hms, parse_time
from ..engine.playback import Player
from ..jobs.runner import Job, JobRunner
from .document import Document
from .job_relay import JobRelay
from .meters import PeakMeter
from .panels.history import HistoryPanel
from .resources import icon
from .settings import Settings
from .timeline.state import ViewState
from .timeline.view import TimelineView

AUDIO_FILTER = "Audio files (" + " ".join(f"*{e}" for e in AUDIO_EXTENSIONS) + ")"
PROJECT_FILTER = f"Seedwave projects (*{EXTENSION})"
PREVIEW_SECONDS = 5.0
TICK_MS = 33


class SelectionBar(QWidget):
    """Editable start, end and length of the selection, in hh:mm:ss.mmm or samples."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.w = window
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        self.fields: dict[str, QLineEdit] = {}
        for key, label in (("start", "Start"), ("end", "End"), ("length", "Length")):
            lay.addWidget(QLabel(label))
            ed = QLineEdit()
            ed.setAccessibleName(f"Selection {label.lower()}")
            ed.setMaximumWidth(130)
            ed.editingFinished.connect(lambda k=key: self._edited(k))
            self.fields[key] = ed
            lay.addWidget(ed)
        self.unit = QComboBox()
        self.unit.setAccessibleName("Time format")
        self.unit.addItem("hh:mm:ss.mmm", "hms")
        self.unit.addItem("samples", "samples")
        self.unit.currentIndexChanged.connect(self.refresh)
        lay.addWidget(self.unit)
        self.snap = QCheckBox("Snap to zero crossings")
        self.snap.setAccessibleName("Snap selection to zero crossings")
        self.snap.toggled.connect(self._snap)
        lay.addWidget(self.snap)
        lay.addStretch(1)
        window.state.selection_changed.connect(self.refresh)
        window.state.cursor_changed.connect(self.refresh)
        self.refresh()

    def _fmt(self, frames: int) -> str:
        if self.unit.currentData() == "samples":
            return str(frames)
        return format_hms(frames, self.w.state.rate)

    def refresh(self) -> None:
        st = self.w.state
        start, stop = (st.sel_start, st.sel_stop) if st.has_range else (st.cursor, st.cursor)
        for key, v in (("start", start), ("end", stop), ("length", stop - start)):
            ed = self.fields[key]
            if not ed.hasFocus():
                ed.setText(self._fmt(v))

    def _edited(self, key: str) -> None:
        st = self.w.state
        try:
            v = parse_time(self.fields[key].text(), st.rate, self.unit.currentData())
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            self.refresh()
            return
        start, stop = (st.sel_start, st.sel_stop) if st.has_range else (st.cursor, st.cursor)
        if key == "start":
            start = v
            stop = max(stop, start)
        elif key == "end":
            stop = v
            start = min(start, stop)
        else:
            stop = start + v
        tids = st.track_ids or tuple(t.id for t in self.w.document.project.tracks[:1])
        st.set_selection(start, stop, tids)
        st.set_cursor(start)

    def _snap(self, on: bool) -> None:
        self.w.state.snap_zero_crossings = on


class MainWindow(QMainWindow):
    """The editor window."""

    import_finished = Signal(object)  # the Job, after its result was applied (or it failed)
    playback_started = Signal()
    playback_stopped = Signal()

    def __init__(self, settings: Settings | None = None, jobs: JobRunner | None = None,
                 player: Player | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.jobs = jobs or JobRunner(cpu_slots=2, parent=self)
        device = self.settings.get("audio/device") or None
        self.player = player or Player(device=device, blocksize=self.settings.get("audio/blocksize"))
        self.state = ViewState()
        self.document = Document(Project(), self.jobs)
        self._journal_index: object = None
        self._preview_project: Project | None = None
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
        self.state.selection_changed.connect(self._update_status)
        self.timeline.context_menu.connect(self._context_menu)
        self.jobs.job_added.connect(self._update_jobs_label)
        self.jobs.job_ended.connect(self._update_jobs_label)

        self.tick = QTimer(self)
        self.tick.setInterval(TICK_MS)
        self.tick.timeout.connect(self._tick)
        self.autosave = QTimer(self)
        self.autosave.timeout.connect(self.write_recovery)
        self.set_autosave_interval(self.settings.get("autosave/interval_s"))

        self.player.set_project(self.document.project)
        from .features import install_all

        install_all(self)  # panels and features of later issues (see features.py)
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
        """Add a panel as a dock (later issues add mixer, effects, jobs...)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        dock.setAccessibleName(f"{title} panel")
        self.addDockWidget(area, dock)
        if hasattr(self, "menu_panels"):
            self.menu_panels.addAction(dock.toggleViewAction())
        return dock

    def _action(self, text: str, slot: Callable, shortcut=None, tip: str = "", checkable: bool = False,
                icon_name: str | None = None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({a.shortcut().toString()})" if a.shortcut().toString() else tip)
        a.setCheckable(checkable)
        if icon_name:
            a.setIcon(icon(icon_name))
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        A = self._action
        K = QKeySequence.StandardKey
        self.act_new = A("&New", self.new_project, K.New, "New empty project")
        self.act_open = A("&Open…", self.open_dialog, K.Open, "Open a project or audio file")
        self.act_import = A("&Import Audio…", self.import_dialog, "Ctrl+Shift+I", "Add audio files as tracks")
        self.act_save = A("&Save", self.save, K.Save, "Save the project")
        self.act_save_as = A("Save &As…", self.save_as, "Ctrl+Shift+S", "Save the project under a new name")
        self.act_export = A("&Export…", self.export_dialog, "Ctrl+Shift+E", "Export the mix to an audio file")
        self.act_close = A("&Close", self.close_project, K.Close, "Close the project")
        self.act_quit = A("&Quit", self.close, K.Quit, "Quit Seedwave")

        self.act_undo = A("&Undo", self.document.undo, K.Undo, "Undo", icon_name="undo")
        self.act_redo = A("&Redo", self.document.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo", icon_name="redo")
        self.act_cut = A("Cu&t", self.cut, K.Cut, "Cut the selection")
        self.act_copy = A("&Copy", self.copy, K.Copy, "Copy the selection")
        self.act_paste = A("&Paste", self.paste, K.Paste, "Paste at the cursor")
        self.act_delete = A("&Delete", self.delete, [QKeySequence(K.Delete), QKeySequence("Backspace")],
                            "Delete the selection (later audio moves left)")
        self.act_duplicate = A("D&uplicate", self.duplicate, "Ctrl+D", "Copy the selection to a new track")
        self.act_split = A("S&plit", self.split, "Ctrl+I", "Split clips at the cursor")
        self.act_trim = A("&Trim to Selection", self.trim, "Ctrl+T", "Keep only the selection")
        self.act_silence = A("&Silence", self.silence, "Ctrl+L", "Replace the selection with silence")
        self.act_insert_silence = A("Insert Silence…", self.insert_silence, None, "Insert silence at the cursor")
        self.act_select_all = A("Select &All", self.select_all, K.SelectAll, "Select everything")
        self.act_select_none = A("Select &None", self.select_none, "Ctrl+Shift+A", "Clear the selection")

        self.act_gain = A("&Gain…", self.gain_dialog, "Ctrl+G", "Change the level of the selection")
        self.act_fade_in = A("Fade &In…", lambda: self.fade_dialog(True), None, "Fade the selection in")
        self.act_fade_out = A("Fade &Out…", lambda: self.fade_dialog(False), None, "Fade the selection out")
        self.act_normalize = A("&Normalize…", self.normalize_dialog, None, "Normalize peak or loudness")
        self.act_reverse = A("&Reverse", self.reverse, None, "Reverse the selection")

        self.act_zoom_in = A("Zoom &In", self.zoom_in, ["Ctrl+=", "Ctrl++"], "Zoom in", icon_name="zoom-in")
        self.act_zoom_out = A("Zoom &Out", self.zoom_out, "Ctrl+-", "Zoom out", icon_name="zoom-out")
        self.act_zoom_sel = A("Zoom to &Selection", self.zoom_selection, "Ctrl+E", "Zoom to the selection")
        self.act_fit = A("&Fit Project", self.fit_project, "Ctrl+F", "Show the whole project", icon_name="fit")
        self.act_scroll_left = A("Scroll Left", lambda: self.scroll_page(-0.25), "Alt+Left", "Scroll left")
        self.act_scroll_right = A("Scroll Right", lambda: self.scroll_page(0.25), "Alt+Right", "Scroll right")
        self.act_follow = A("Follow Playhead", self._toggle_follow, None, "Scroll to follow playback", True)
        self.act_follow.setChecked(True)
        self.act_view_wave = A("Show &Waveform", lambda: self.set_view_mode("waveform"), None,
                               "Selected tracks as waveform")
        self.act_view_spec = A("Show S&pectrogram", lambda: self.set_view_mode("spectrogram"), None,
                               "Selected tracks as spectrogram")
        self.act_view_both = A("Show &Both", lambda: self.set_view_mode("both"), None,
                               "Selected tracks as waveform and spectrogram")
        self.act_spec_settings = A("Spectrogram Settings…", self.spectrogram_settings, None,
                                   "Window size, frequency scale, range and colours")

        self.act_add_track = A("&Add Track", self.add_track, "Ctrl+Shift+N", "Add an empty track")
        self.act_remove_track = A("&Remove Track", self.remove_tracks, None, "Remove the selected tracks")
        self.act_rename_track = A("Re&name Track…", self.rename_track, "F2", "Rename the selected track")

        self.act_play = A("&Play/Pause", self.play_pause, "Space", "Play from the cursor, or the selection",
                          icon_name="play")
        self.act_stop = A("&Stop", self.stop, "Ctrl+.", "Stop and return to the cursor", icon_name="stop")
        self.act_play_sel = A("Play Se&lection", self.play_selection, "Shift+Space", "Play the selection")
        self.act_loop = A("&Loop Selection", self.toggle_loop, "Ctrl+Shift+L", "Loop the selection while playing",
                          True, icon_name="loop")
        self.act_home = A("Cursor to Start", lambda: self.move_cursor(0), "Home", "Move the cursor to the start")
        self.act_end = A("Cursor to End", lambda: self.move_cursor(self.document.project.end), "End",
                         "Move the cursor to the end")
        self.act_shortcuts = A("&Keyboard Shortcuts", self.show_shortcuts, "F1", "List keyboard shortcuts")
        self.act_about = A("&About Seedwave", self.show_about, None, "Versions and licences")

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
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
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, self.act_cut, self.act_copy, self.act_paste, self.act_delete,
                  None, self.act_duplicate, self.act_split, self.act_trim, self.act_silence, self.act_insert_silence,
                  None, self.act_select_all, self.act_select_none):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_edit = m
        m = mb.addMenu("&Audio")
        for a in (self.act_gain, self.act_fade_in, self.act_fade_out, self.act_normalize, self.act_reverse):
            m.addAction(a)
        self.menu_audio = m
        m = mb.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_zoom_sel, self.act_fit, self.act_scroll_left,
                  self.act_scroll_right, self.act_follow, None, self.act_view_wave, self.act_view_spec,
                  self.act_view_both, self.act_spec_settings, None):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_panels = m.addMenu("&Panels")
        self.menu_panels.addAction(self.history_dock.toggleViewAction())
        self.menu_view = m
        m = mb.addMenu("&Tracks")
        for a in (self.act_add_track, self.act_remove_track, self.act_rename_track):
            m.addAction(a)
        self.menu_tracks = m
        m = mb.addMenu("T&ransport")
        for a in (self.act_play, self.act_stop, self.act_play_sel, self.act_loop, None, self.act_home, self.act_end):
            m.addSeparator() if a is None else m.addAction(a)
        self.menu_transport = m
        m = mb.addMenu("&Help")
        m.addAction(self.act_shortcuts)
        m.addAction(self.act_about)
        self.menu_help = m

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
        if not self.player.available:
            self.status_audio.setText(f"No audio output: {self.player.reason}")
            for a in (self.act_play, self.act_stop, self.act_play_sel, self.act_loop):
                a.setEnabled(False)
                a.setToolTip(f"Playback unavailable: {self.player.reason}")

    # -- helpers ---------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)
        self._last_error = text
        if getattr(self, "modal_errors", True) and self.isVisible():
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
        if self._preview_project is None:
            self.player.set_project(project)
        self._update_status()
        self._update_actions()

    def _update_actions(self) -> None:
        h = self.document.history
        self.act_undo.setEnabled(h.can_undo)
        self.act_redo.setEnabled(h.can_redo)
        self.act_undo.setText(f"&Undo {h.entry.label}" if h.can_undo else "&Undo")
        self.act_redo.setText(f"&Redo {h.entries[h.index + 1].label}" if h.can_redo else "&Redo")
        rng = self.state.has_range and bool(self.state.track_ids)
        for a in (self.act_cut, self.act_copy, self.act_trim, self.act_silence, self.act_duplicate, self.act_gain,
                  self.act_fade_in, self.act_fade_out, self.act_normalize, self.act_reverse, self.act_zoom_sel):
            a.setEnabled(rng)
        self.act_delete.setEnabled(rng or bool(self.state.clip_ids))
        self.act_paste.setEnabled(self.document.clipboard is not None)
        has_tracks = bool(self.project.tracks)
        self.act_remove_track.setEnabled(has_tracks)
        self.act_rename_track.setEnabled(has_tracks)

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

    # -- file: new / open / import / save ----------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if not self.document.modified or not self.project.tracks:
            return True
        box = QMessageBox(self)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save changes to “{self.document.name}” before closing?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            return self.save(wait=True)
        return True

    def set_project(self, project: Project, path: Path | None = None, label: str = "Open") -> None:
        """Replace the document's content (the history starts again)."""
        self.stop()
        self.document.history.reset(project, label)
        self.document.path = Path(path) if path else None
        self.state.set_selection(0, 0, ())
        self.state.set_clips(())
        self.state.set_cursor(0)
        self.state.rate = project.sample_rate
        self.timeline.lanes.peaks.clear()
        self.document.title_changed.emit(self.document.title())
        QTimer.singleShot(0, self.fit_project)

    def new_project(self) -> None:
        if self.maybe_save():
            self.set_project(Project(), None, "New project")

    def close_project(self) -> None:
        self.new_project()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.get("export/folder"),
                                              f"{PROJECT_FILTER};;{AUDIO_FILTER};;All files (*)")
        if path:
            self.open_paths([path])

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import audio", "", f"{AUDIO_FILTER};;All files (*)")
        if paths:
            self.import_paths(paths)

    def open_paths(self, paths: list[str]) -> None:
        """Open a project file, or audio files as a new project."""
        if not paths:
            return
        projects = [p for p in paths if p.lower().endswith(EXTENSION)]
        if projects:
            if not self.maybe_save():
                return
            try:
                project = load_project(projects[0])
            except SeedwaveError as exc:
                self.show_error(str(exc))
                return
            self.set_project(project, Path(projects[0]))
            self.document.history.mark_saved()
            self.settings.add_recent(str(Path(projects[0]).resolve()))
            return
        if self.project.tracks and not self.maybe_save():
            return
        if self.project.tracks:
            self.set_project(Project(), None, "New project")
        for job in self.import_paths(paths):
            job.setProperty("open", True)

    def import_paths(self, paths: list[str], at_cursor: bool = False) -> list[Job]:
        """Import audio files in the background; each becomes tracks (or a clip at the
        cursor on the selected track with ``at_cursor``)."""
        jobs = []
        rate = self.project.sample_rate if self.project.tracks else None
        for path in paths:
            try:
                info = probe(path)
            except SeedwaveError as exc:
                self.show_error(str(exc))
                continue
            if rate is None:
                rate = info.sample_rate
                if not self.project.tracks:
                    self.document.history.reset(self.project.with_(sample_rate=rate, name=Path(path).stem),
                                                "New project")
                    self.state.rate = rate
            target = rate

            def work(ctx: TaskContext, path=path, target=target) -> ImportedAudio:
                return import_audio(path, default_store(), ctx, target_rate=target)

            job = Job(f"Import {Path(path).name}", work, kind="import")
            job.finished.connect(self._import_done)
            job.failed.connect(self._import_failed)
            job.cancelled.connect(self._import_cancelled)
            job.setProperty("at_cursor", at_cursor)
            job.setProperty("path", str(path))
            self.jobs.submit(job)
            jobs.append(job)
            self.settings.add_recent(str(Path(path).resolve()))
        return jobs

    def _import_done(self, imp: ImportedAudio) -> None:
        job = self.sender()
        path = Path(imp.info.path)
        at_cursor = bool(job.property("at_cursor")) if job is not None else False
        project = self.project
        if imp.sample_rate != project.sample_rate:
            self.show_error(f"{path}: imported at {imp.sample_rate} Hz into a {project.sample_rate} Hz project")
        if at_cursor and self.state.track_ids and len(imp.sequences) == 1:
            tid = self.state.track_ids[0]
            clip = Clip(imp.sequences[0], self.state.cursor, name=imp.names[0])
            new = edits.add_clip(project, tid, clip)
        else:
            new = project
            for seq, name in zip(imp.sequences, imp.names, strict=True):
                new = edits.add_track(new, name, (Clip(seq, 0, name=name),))
        first_import = not project.tracks
        opened = job is not None and bool(job.property("open"))
        self.document.push(new, f"Open {path.name}" if opened else f"Import {path.name}")
        if opened and not self.document.modified_since_open():
            # Opening a file is not a change: closing right away asks nothing.
            self.document.history.mark_saved()
        if first_import:
            self.fit_project()
        for w in imp.warnings:
            self.show_message(w)
        # Copy aliased audio into the cache in the background, so the project no
        # longer depends on the source file.
        blocks = imp.blocks()
        if any(b.backing.describe()["kind"] == "alias" for b in blocks):
            def cache(ctx: TaskContext, blocks=blocks) -> None:
                default_store().cache_aliases(blocks, ctx)

            self.jobs.run(f"Cache {path.name}", cache, kind="cache")
        if job is not None:
            self.import_finished.emit(job)

    def _import_failed(self, message: str) -> None:
        job = self.sender()
        self.show_error(message)
        if job is not None:
            self.import_finished.emit(job)

    def _import_cancelled(self) -> None:
        job = self.sender()
        self.show_message(f"{job.title if job else 'Import'}: cancelled")
        if job is not None:
            self.import_finished.emit(job)

    def save(self, wait: bool = False) -> bool:
        if self.document.path is None:
            return self.save_as(wait=wait)
        return self._save_to(self.document.path, wait)

    def save_as(self, wait: bool = False) -> bool:
        start = str(self.document.path or Path.home() / f"{self.document.name}{EXTENSION}")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(EXTENSION):
            path += EXTENSION
        return self._save_to(Path(path), wait)

    def _save_to(self, path: Path, wait: bool = False) -> bool:
        project = self.project
        entry = self.document.history.entry

        def work(ctx: TaskContext) -> Path:
            save_project(project, path, ctx)
            return path

        result = {"ok": False}
        job = Job(f"Save {path.name}", work, kind="save")

        def done(_p: object) -> None:
            h = self.document.history
            self.document.path = path
            if entry in h.entries:
                h.saved_index = h.entries.index(entry)
                h._changed()
            self.settings.add_recent(str(path.resolve()))
            self.show_message(f"Saved {path}")
            result["ok"] = True

        JobRelay(self, job, done, self.show_error)
        self.jobs.submit(job)
        if wait:
            # Closing with "Save": keep the window alive (events flowing) until saved.
            while not job.wait(0.02):
                QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            QApplication.processEvents()
            QApplication.processEvents()
            return result["ok"]
        return True

    def _fill_recent(self) -> None:
        self.menu_recent.clear()
        for p in self.settings.get("recent_files"):
            a = self.menu_recent.addAction(p)
            a.triggered.connect(lambda _c=False, p=p: self.open_paths([p]))
        if self.menu_recent.isEmpty():
            a = self.menu_recent.addAction("(none)")
            a.setEnabled(False)

    def export_dialog(self) -> None:
        """File > Export… (the dialog lives in editor.qt.dialogs.export)."""
        from .dialogs.export import ExportDialog

        dlg = getattr(self, "export_dlg", None)
        if dlg is None:  # one dialog, kept: a running export stays visible in it
            dlg = self.export_dlg = ExportDialog(self)
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if any(p.lower().endswith(EXTENSION) for p in paths):
            self.open_paths(paths)
        else:
            self.import_paths(paths)
        e.acceptProposedAction()

    # -- editing -----------------------------------------------------------------------------
    def _range(self) -> Selection | None:
        sel = self.selection()
        if sel.empty:
            self.show_message("Select a time range on a track first")
            return None
        return sel

    def cut(self) -> None:
        sel = self._range()
        if sel is None:
            return
        try:
            new, board = edits.cut(self.project, sel)
        except SeedwaveError as exc:
            self.show_error(str(exc))
            return
        self.document.clipboard = board
        self.document.push(new, "Cut")
        self.state.set_selection(sel.start, sel.start)
        self.state.set_cursor(sel.start)

    def copy(self) -> None:
        sel = self._range()
        if sel is None:
            return
        try:
            self.document.clipboard = edits.copy(self.project, sel)
        except SeedwaveError as exc:
            self.show_error(str(exc))
            return
        self._update_actions()
        self.show_message("Copied")

    def paste(self) -> None:
        board = self.document.clipboard
        if board is None:
            return
        at = self.state.sel_start if self.state.has_range else self.state.cursor
        tids = self.state.track_ids or tuple(t.id for t in self.project.tracks[: len(board.tracks)])
        project = self.project
        if not tids:
            project = edits.add_track(project, "Pasted")
            tids = (project.tracks[-1].id,)

        def do(p: Project) -> Project:
            if self.state.has_range:
                p = edits.delete(p, self.selection())
            return edits.paste(p if project is self.project else project, board, at, tids)

        if self.document.apply(do, "Paste"):
            self.state.set_selection(at, at + board.length, tids)

    def delete(self) -> None:
        if self.state.has_range and self.state.track_ids:
            sel = self.selection()
            if self.document.apply(lambda p: edits.delete(p, sel), "Delete"):
                self.state.set_selection(sel.start, sel.start)
        elif self.state.clip_ids:
            self.timeline.delete_clips(self.state.clip_ids)  # ripples with Edit > Ripple Delete Clips

    def duplicate(self) -> None:
        sel = self._range()
        if sel is not None:
            self.document.apply(lambda p: edits.duplicate(p, sel), "Duplicate")

    def split(self) -> None:
        at = self.state.cursor
        tids = self.target_tracks()
        self.document.apply(lambda p: edits.split(p, at, tids), "Split")

    def trim(self) -> None:
        sel = self._range()
        if sel is not None:
            self.document.apply(lambda p: edits.trim_to_selection(p, sel), "Trim")

    def silence(self) -> None:
        sel = self._range()
        if sel is not None:
            self.document.apply(lambda p: edits.silence(p, sel), "Silence")

    def insert_silence(self) -> None:
        secs, ok = QInputDialog.getDouble(self, "Insert silence", "Seconds:", 1.0, 0.001, 36000.0, 3)
        if not ok:
            return
        frames = int(round(secs * self.project.sample_rate))
        at = self.state.cursor
        tids = self.target_tracks()
        self.document.apply(lambda p: edits.insert_silence(p, at, frames, tids), f"Insert {secs:g} s of silence")

    def select_all(self) -> None:
        tids = tuple(t.id for t in self.project.tracks)
        self.state.set_selection(0, self.project.end, tids)

    def select_none(self) -> None:
        self.state.set_selection(self.state.cursor, self.state.cursor, ())
        self.state.set_clips(())

    # -- sample-changing edits (jobs, with preview) ------------------------------------------------
    def run_edit(self, fn: Callable[[Project, Selection, TaskContext], Project], label: str) -> Job | None:
        sel = self._range()
        if sel is None:
            return None
        return self.document.apply_async(lambda p, ctx: fn(p, sel, ctx), label, track_ids=sel.track_ids)

    def preview_edit(self, fn: Callable[[Project, Selection, TaskContext | None], Project]) -> None:
        """Play the first seconds of the selection with ``fn`` applied to a scratch copy."""
        sel = self._range()
        if sel is None or not self.player.available:
            return
        n = min(sel.length, int(PREVIEW_SECONDS * self.project.sample_rate))
        part = Selection(sel.start, sel.start + n, sel.track_ids)
        try:
            scratch = fn(self.project, part, None)
        except SeedwaveError as exc:
            self.show_error(str(exc))
            return
        self.play_project_preview(scratch, part.start, part.stop)

    def play_project_preview(self, project: Project, start: int, stop: int, loop: bool = False) -> None:
        """Play ``project`` (not the document) over [start, stop), looping if ``loop``."""
        self.stop()
        self._preview_project = project
        self.player.set_project(project)
        self._start_player(start, stop, loop)

    def set_preview_project(self, project: Project) -> None:
        """Switch the playing preview to ``project`` from the playhead on (A/B compare)."""
        if self._preview_project is not None:
            self._preview_project = project
            self.player.set_project(project)

    @property
    def preview_project(self) -> Project | None:
        """The scratch project being played instead of the document, if any."""
        return self._preview_project

    def take_over_playback(self, project: Project) -> bool:
        """Hear ``project`` instead of the document from the playhead on, without restarting
        playback (a live preview: the remix panel's sliders). Stop returns to the document."""
        if not self.player.playing:
            return False
        self._preview_project = project
        self.player.set_project(project)
        return True

    def gain_dialog(self) -> None:
        from .dialogs.processing import GainDialog

        def fn(p, s, ctx, v):  # noqa: ANN001
            return edits.amplify(p, s, v["gain_db"], ctx=ctx)

        dlg = GainDialog(lambda v: self.preview_edit(lambda p, s, c: fn(p, s, c, v)), self)
        if dlg.exec():
            v = dlg.values()
            self.run_edit(lambda p, s, c: fn(p, s, c, v), f"Gain {v['gain_db']:+.2f} dB")
        dlg.deleteLater()

    def fade_dialog(self, fade_in: bool) -> None:
        from .dialogs.processing import FadeDialog

        def fn(p, s, ctx, v):  # noqa: ANN001
            return edits.fade(p, s, v["fade_in"], v["shape"], ctx=ctx)

        dlg = FadeDialog(fade_in, lambda v: self.preview_edit(lambda p, s, c: fn(p, s, c, v)), self)
        if dlg.exec():
            v = dlg.values()
            self.run_edit(lambda p, s, c: fn(p, s, c, v), "Fade in" if fade_in else "Fade out")
        dlg.deleteLater()

    def normalize_dialog(self) -> None:
        from .dialogs.processing import NormalizeDialog

        def fn(p, s, ctx, v):  # noqa: ANN001
            return edits.normalize(p, s, v["target"], v["mode"], ctx=ctx)

        dlg = NormalizeDialog(lambda v: self.preview_edit(lambda p, s, c: fn(p, s, c, v)), self)
        if dlg.exec():
            v = dlg.values()
            unit = "dBFS" if v["mode"] == "peak" else "LUFS"
            self.run_edit(lambda p, s, c: fn(p, s, c, v), f"Normalize to {v['target']:g} {unit}")
        dlg.deleteLater()

    def reverse(self) -> None:
        self.run_edit(lambda p, s, c: edits.reverse(p, s, ctx=c), "Reverse")

    # -- tracks ------------------------------------------------------------------------------------
    def add_track(self) -> None:
        self.document.apply(lambda p: edits.add_track(p), "Add track")

    def remove_tracks(self) -> None:
        tids = self.state.track_ids or tuple(t.id for t in self.project.tracks[-1:])

        def do(p: Project) -> Project:
            for t in tids:
                p = edits.remove_track(p, t)
            return p

        self.document.apply(do, f"Remove {len(tids)} track(s)")

    def rename_track(self) -> None:
        tids = self.state.track_ids or tuple(t.id for t in self.project.tracks[:1])
        if not tids:
            return
        track = self.project.track(tids[0])
        name, ok = QInputDialog.getText(self, "Rename track", "Name:", text=track.name)
        if ok and name.strip():
            self.document.apply(lambda p: edits.rename_track(p, track.id, name), f"Rename track to {name.strip()}")

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

    # -- transport ----------------------------------------------------------------------------------------
    def _start_player(self, start: int, stop: int | None, loop: bool) -> bool:
        try:
            self.player.play(start, stop, loop)
        except RuntimeError as exc:
            self.show_error(f"Playback: {exc}")
            self._end_preview()
            return False
        self.tick.start()
        self.act_play.setIcon(icon("pause"))
        self.playback_started.emit()
        return True

    def play_pause(self) -> None:
        if not self.player.available:
            return
        if self.player.playing:
            self.pause()
            return
        st = self.state
        if st.has_range:
            self._start_player(st.sel_start, st.sel_stop, self.act_loop.isChecked())
        else:
            start = st.playhead if st.playhead is not None else st.cursor
            self._start_player(start, None, False)

    def play_selection(self) -> None:
        if self.state.has_range and self.player.available:
            self.stop()
            self._start_player(self.state.sel_start, self.state.sel_stop, self.act_loop.isChecked())

    def toggle_loop(self, on: bool) -> None:
        self.state.loop = (self.state.sel_start, self.state.sel_stop) if on and self.state.has_range else None
        self.timeline.ruler.update()

    def pause(self) -> None:
        """Stop where we are; the next Play continues from here."""
        pos = self.player.position
        self.player.stop()
        self.tick.stop()
        self.state.set_playhead(pos)
        self._end_preview()
        self.act_play.setIcon(icon("play"))
        self.playback_stopped.emit()

    def stop(self) -> None:
        was = self.player.playing
        self.player.stop()
        self.tick.stop()
        self.state.set_playhead(None)
        self._end_preview()
        self.act_play.setIcon(icon("play"))
        if was:
            self.playback_stopped.emit()

    def _end_preview(self) -> None:
        if self._preview_project is not None:
            self._preview_project = None
            self.player.set_project(self.project)

    def move_cursor(self, frame: int) -> None:
        self.state.set_cursor(frame)
        self.state.set_selection(frame, frame)
        self.timeline.ensure_visible(frame)

    def _tick(self) -> None:
        if not self.player.playing and not self.player.finished:
            return
        pos = self.player.position
        self.state.set_playhead(pos)
        self.time_label.setText(format_hms(pos, self.project.sample_rate))
        lv = self.player.levels_at(pos)
        if lv is not None:
            self.meter.set_peaks(*lv.master)
        if self.state.follow and self._preview_project is None:
            self.timeline.ensure_visible(pos)
        if self.player.finished or not self.player.playing:
            self.stop()

    # -- autosave / recovery ----------------------------------------------------------------------------
    def set_autosave_interval(self, seconds: int) -> None:
        self.autosave.setInterval(max(2, int(seconds)) * 1000)
        self.autosave.start()

    def write_recovery(self) -> bool:
        """Write the crash-recovery journal if the project changed since the last one."""
        entry = self.document.history.entry
        if entry is self._journal_index:
            return False
        try:
            write_journal(default_store(), self.project, self.document.path, self.document.modified)
        except SeedwaveError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return False
        self._journal_index = entry
        return True

    # -- help ----------------------------------------------------------------------------------------------
    def shortcut_table(self) -> list[tuple[str, str]]:
        rows = []
        for a in self.actions():
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
            if keys:
                rows.append((a.text().replace("&", ""), keys))
        return sorted(rows)

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
        self.context_menu_extra(m)
        m.popup(global_pos.toPoint())

    def context_menu_extra(self, menu: QMenu) -> None:
        """Hook for panels that add entries (effects, stems)."""

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
        if not self.maybe_save():
            e.ignore()
            return
        self.shutdown()
        e.accept()

    def shutdown(self) -> None:
        """Stop playback, cancel jobs and wait for them, remember the layout."""
        self.save_layout()
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
