"""Window actions for the multitrack timeline (installed by the main window, see MainWindow._install_parts).

File > Import Audio at Cursor…; Edit > Ripple Delete Clips, Clip Gain…, Add
Marker; View > Snap; Tracks > Move Up/Down, Colour…; Transport > Previous/Next
Marker. Each is a QAction with a shortcut on the window, so it works from
anywhere in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from ...core import edits

if TYPE_CHECKING:
    from ..main_window import MainWindow


def install(window: MainWindow) -> None:
    tv = window.timeline
    st = window.state
    A = window.action

    def import_at_cursor() -> None:
        from ..main_window import AUDIO_FILTER

        paths, _ = QFileDialog.getOpenFileNames(window, "Import audio at the cursor", "",
                                                f"{AUDIO_FILTER};;All files (*)")
        if not paths:
            return
        if not st.track_ids and window.project.tracks:
            st.set_selection(st.cursor, st.cursor, (window.project.tracks[0].id,))
        window.import_paths(paths, at_cursor=True)

    def marker_frame() -> int:
        return st.playhead if st.playhead is not None else st.cursor

    def add_marker() -> None:
        at = marker_frame()
        window.document.apply(lambda p: edits.add_marker(p, at), "Add marker")

    def jump_marker(forward: bool) -> None:
        here = marker_frame()
        marks = [m.position for m in window.project.markers]
        targets = [m for m in marks if m > here] if forward else [m for m in marks if m < here]
        if not targets:
            window.show_message("No marker " + ("after" if forward else "before") + " the cursor")
            return
        window.move_cursor(min(targets) if forward else max(targets))

    def selected_track() -> str | None:
        tids = st.track_ids or tuple(t.id for t in window.project.tracks[:1])
        return tids[0] if tids else None

    def move_track(step: int) -> None:
        tid = selected_track()
        if tid is not None:
            tv.move_track_by(tid, step)

    def recolour() -> None:
        tid = selected_track()
        if tid is not None:
            tv.recolour_track(tid)

    def clip_gain() -> None:
        if st.clip_ids:
            tv.clip_gain_dialog(st.clip_ids)
        else:
            window.show_message("Select clips first (click their name strips)")

    def set_ripple(on: bool) -> None:
        tv.ripple_clips = on

    def set_snap(on: bool) -> None:
        tv.snap_enabled = on

    window.act_import_at_cursor = A("Import Audio at &Cursor…", import_at_cursor, "Ctrl+Alt+I",
                                    "Place audio files as clips at the cursor on the selected track")
    window.act_ripple_delete = A("R&ipple Delete Clips", set_ripple, None,
                                 "Deleting clips moves later clips on their tracks left to close the gap",
                                 checkable=True)
    window.act_clip_gain = A("Clip &Gain…", clip_gain, "Ctrl+Alt+G", "Set the gain of the selected clips")
    window.act_add_marker = A("Add &Marker", add_marker, "M", "Add a marker at the cursor (the playhead while playing)")
    window.act_prev_marker = A("Previous Marker", lambda: jump_marker(False), "[",
                               "Move the cursor to the previous marker")
    window.act_next_marker = A("Next Marker", lambda: jump_marker(True), "]", "Move the cursor to the next marker")
    window.act_snap = A("&Snap", set_snap, "Ctrl+Shift+G",
                        "Snap clip moves and trims to the grid, clip edges, cursor and markers (hold Alt to bypass)",
                        checkable=True)
    window.act_snap.setChecked(tv.snap_enabled)
    window.act_track_up = A("Move Track &Up", lambda: move_track(-1), "Ctrl+Shift+Up", "Move the selected track up")
    window.act_track_down = A("Move Track &Down", lambda: move_track(1), "Ctrl+Shift+Down",
                              "Move the selected track down")
    window.act_track_colour = A("Track &Colour…", recolour, None, "Change the colour of the selected track")

    window.menu_file.insertAction(window.act_save, window.act_import_at_cursor)
    edit = window.menu_edit
    after_delete = _action_after(edit, window.act_delete)
    for a in (window.act_ripple_delete, window.act_clip_gain):
        if after_delete is None:
            edit.addAction(a)
        else:
            edit.insertAction(after_delete, a)
    edit.addSeparator()
    edit.addAction(window.act_add_marker)
    window.menu_view.insertAction(window.menu_view.actions()[0], window.act_snap)
    window.menu_view.insertSeparator(window.menu_view.actions()[1])
    for a in (window.act_track_up, window.act_track_down, window.act_track_colour):
        window.menu_tracks.addAction(a)
    window.menu_transport.addSeparator()
    window.menu_transport.addAction(window.act_prev_marker)
    window.menu_transport.addAction(window.act_next_marker)

    def update() -> None:
        window.act_clip_gain.setEnabled(bool(st.clip_ids))
        has = bool(window.project.tracks)
        for a in (window.act_track_up, window.act_track_down, window.act_track_colour):
            a.setEnabled(has)

    st.selection_changed.connect(update)
    window.document.changed.connect(lambda _p: update())
    update()


def _action_after(menu: QMenu, action: QAction) -> QAction | None:
    """The action that follows ``action`` in ``menu`` (None: it is last)."""
    acts = menu.actions()
    i = acts.index(action)
    return acts[i + 1] if i + 1 < len(acts) else None
