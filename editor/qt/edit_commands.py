"""The edit command table: every menu action with its shortcut, and the edits they run.

A part of :class:`~editor.qt.main_window.MainWindow` (a mixin: it uses the window's
``document``, ``state``, ``audition`` and message helpers). Each edit is one call
into :mod:`editor.core.edits` through the document (one undo step); slow ones run
as jobs (:meth:`run_edit`). :class:`CommandRules` keeps actions enabled only when
they can do something (the host's ``enabled_when`` for plugin commands).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog

from ..core import edits
from ..core.errors import SeedwaveError
from ..core.model import Project, Selection
from ..core.task import TaskContext
from ..jobs.runner import Job

if TYPE_CHECKING:
    from .document import Document
    from .timeline.state import ViewState

PREVIEW_SECONDS = 5.0


class CommandRules:
    """Enables actions by rule: "always", "range" (a time range on tracks), "clip"
    (selected clips or a range), "tracks" (the project has tracks), "audio" (same)."""

    def __init__(self, state: ViewState, document: Document) -> None:
        self._state = state
        self._document = document
        self._rules: list[tuple[QAction, str]] = []

    def track(self, action: QAction, rule: str) -> None:
        if rule != "always":
            self._rules.append((action, rule))
            self.update()

    def update(self) -> None:
        st = self._state
        rng = st.has_range and bool(st.track_ids)
        has_tracks = bool(self._document.project.tracks)
        ok = {"range": rng, "clip": rng or bool(st.clip_ids), "tracks": has_tracks, "audio": has_tracks}
        for action, rule in self._rules:
            action.setEnabled(ok.get(rule, True))


class EditCommands:
    """The window's actions and the edits behind them (a part of the main window)."""

    def _make_actions(self) -> None:
        A = self.action
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

    def _update_actions(self) -> None:
        self.commands.update()
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
        self.audition.play("edit", scratch, part.start, part.stop, loop=False)

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

