"""The context menu of a track header: rename, colour, reorder, height, add, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from ...core import edits

if TYPE_CHECKING:
    from .view import TimelineView

HEIGHTS = (("&Small", 64), ("&Medium", 120), ("&Large", 220))


def build_track_menu(view: TimelineView, track_id: str) -> QMenu:
    project = view.document.project
    index = project.track_index(track_id)
    track = project.tracks[index]
    m = QMenu(view)
    m.setAccessibleName("Track menu")
    m.addAction("Re&name…", lambda: view.headers[track_id].start_rename())
    m.addAction("&Colour…", lambda: view.recolour_track(track_id))
    sizes = m.addMenu("&Height")
    for label, h in HEIGHTS:
        a = sizes.addAction(label, lambda h=h: view.lanes.set_height(track_id, h))
        a.setCheckable(True)
        a.setChecked(view.lanes.height_of(track_id) == h)
    m.addSeparator()
    up = m.addAction("Move &Up", lambda: view.move_track_by(track_id, -1))
    up.setEnabled(index > 0)
    down = m.addAction("Move &Down", lambda: view.move_track_by(track_id, 1))
    down.setEnabled(index < len(project.tracks) - 1)
    m.addSeparator()
    m.addAction("&Add Track Below", lambda: view.apply_edit(
        lambda p: edits.add_track(p, index=p.track_index(track_id) + 1), "Add track"))
    m.addAction("&Remove Track", lambda: view.apply_edit(
        lambda p: edits.remove_track(p, track_id), f"Remove track {track.name}"))
    return m
