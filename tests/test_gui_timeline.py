"""The multitrack timeline, driven with the mouse and keyboard on the real main window:
moving, trimming, fading and gain of clips, multi-selection, ripple delete,
snapping, track reorder/resize/rename/colour, markers and import at the cursor.
Every gesture must be one undo step that gives back the project it started from."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QColorDialog, QDockWidget, QFileDialog, QMenu

from editor.core import edits
from editor.core.model import Clip, FadeShape, Project
from editor.core.sequence import AudioSeq
from editor.core.store import default_store
from editor.qt.timeline.handles import GAIN_TOP_DB, clip_geometry, db_per_pixel
from editor.qt.timeline.snapping import SNAP_PX, SnapTargets, grid_step

from .audiogen import sines, write
from .gui_helpers import close_window, make_window, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000
FPP = 1000.0  # 48 pixels per second
L, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
ALT, CTRL = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ControlModifier


def _seq(seconds: float, freq: float) -> AudioSeq:
    x = sines((freq,), seconds, RATE, amp=0.5)
    return AudioSeq.from_blocks(default_store().blocks_from_array(x), 1)


def _project() -> Project:
    """Drums: A [0, 3 s), B [4, 6 s); Bass: C [1, 5 s) with 1 s of hidden audio each side.
    A marker at 2.5 s."""
    p = Project(sample_rate=RATE)
    p = edits.add_track(p, "Drums", (Clip(_seq(3, 220), 0, name="A"), Clip(_seq(2, 330), 4 * RATE, name="B")))
    p = edits.add_track(p, "Bass", (Clip(_seq(6, 110), RATE, offset=RATE, length=4 * RATE, name="C"),))
    return edits.add_marker(p, 5 * RATE // 2, "Verse")


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    for dock in w.findChildren(QDockWidget):
        dock.hide()  # room for the tracks
    w.set_project(_project())
    QApplication.processEvents()
    w.state.set_view(0.0, FPP)
    yield w
    close_window(w)


# -- helpers -----------------------------------------------------------------------------------


def clip(w, name: str) -> Clip:
    return next(c for t in w.project.tracks for c in t.clips if c.name == name)


def track_of(w, name: str) -> str:
    return next(t.name for t in w.project.tracks if any(c.name == name for c in t.clips))


def geom(w, name: str):
    lanes = w.timeline.lanes
    for track, top, h in lanes.track_rows():
        for c in track.clips:
            if c.name == name:
                return clip_geometry(c, top, h, w.state, lanes.width())
    raise KeyError(name)


def pt(x: float, y: float) -> QPoint:
    return QPoint(int(round(x)), int(round(y)))


def strip(w, name: str, frame: int) -> QPoint:
    """A point on a clip's name strip at timeline ``frame``."""
    return pt(w.state.x_of(frame), geom(w, name).head.center().y())


def track_y(w, index: int, below: int = 60) -> int:
    _t, top, _h = w.timeline.lanes.track_rows()[index]
    return top + below


def move(widget, pos: QPoint, mods=NONE, buttons=L) -> None:
    """A mouse move with buttons and modifiers held (QTest's mouseMove has no modifiers)."""
    ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                     buttons, mods)
    QApplication.sendEvent(widget, ev)


def drag(qtbot, widget, a: QPoint, b: QPoint, mods=NONE, steps: int = 6, check=None) -> None:
    """Press at ``a``, move to ``b`` in steps, call ``check()`` before releasing."""
    qtbot.mousePress(widget, L, mods, a)
    for i in range(1, steps + 1):
        move(widget, QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps), mods)
    if check is not None:
        check()
    qtbot.mouseRelease(widget, L, mods, b)


def steps(w) -> int:
    return len(w.document.history.entries)


def undo(qtbot, w) -> None:
    shortcut(qtbot, w, Qt.Key.Key_Z, CTRL)


def context_menu(widget, pos: QPoint) -> QMenu:
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, ev)
    menu = widget.window().timeline.last_menu if hasattr(widget.window(), "timeline") else None
    assert menu is not None and menu.isVisible()
    return menu


def menu_action(menu: QMenu, text: str):
    for a in menu.actions():
        if a.text().replace("&", "").startswith(text):
            return a
        if a.menu() is not None:
            found = menu_action(a.menu(), text)
            if found is not None:
                return found
    return None


def trigger(menu: QMenu, text: str) -> None:
    a = menu_action(menu, text)
    assert a is not None, [x.text() for x in menu.actions()]
    assert a.isEnabled()
    menu.close()
    a.trigger()


# -- snapping rules (no window) --------------------------------------------------------------------


def test_snap_targets_prefer_objects_and_respect_tolerance():
    t = SnapTargets(np.array([1000, 5000]), grid=480.0, tolerance=80.0)
    assert t.snap(1050) == (1000, True)  # the clip edge, though the grid line 960 is as close
    assert t.snap(1100) == (1100, False)  # nothing within 80 frames
    assert t.snap(3850) == (3840, True)  # the grid
    # A move snaps whichever moving edge is closest to a target.
    assert t.snap_delta([0, 2000], 2990) == (3000, 5000)
    assert t.snap_delta([0, 2000], 2000 + 200) == (2200, None)
    assert grid_step(1000.0, RATE) == pytest.approx(0.4 * RATE)  # minor ticks of 2 s labels


# -- moving clips ------------------------------------------------------------------------------


def test_drag_clip_to_another_track_is_one_undo_step(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    p0, n0 = w.project, steps(w)
    a = strip(w, "A", RATE)
    b = QPoint(a.x() + int(4.25 * RATE / FPP), track_y(w, 1))

    def ghost_shows_landing():
        # The document is unchanged while dragging; the lanes show A where it will land.
        assert w.project is p0
        shown = lanes.project
        landing = next(c for c in shown.tracks[1].clips if c.name == "A")
        assert landing.position == pytest.approx(4.25 * RATE, abs=FPP)

    drag(qtbot, lanes, a, b, ALT, check=ghost_shows_landing)
    assert steps(w) == n0 + 1
    assert w.document.history.entry.label == "Move 1 clip"
    assert track_of(w, "A") == "Bass"
    assert clip(w, "A").position == pytest.approx(4.25 * RATE, abs=FPP)
    assert [c.name for c in w.project.tracks[0].clips] == ["B"]
    undo(qtbot, w)
    assert w.project is p0
    # Escape during a drag cancels it: nothing changes.
    qtbot.mousePress(lanes, L, NONE, a)
    move(lanes, b)
    assert lanes.project is not p0
    qtbot.keyClick(lanes, Qt.Key.Key_Escape)
    assert lanes.project is p0
    qtbot.mouseRelease(lanes, L, NONE, b)
    assert w.project is p0 and w.document.history.can_redo  # no new step (it would drop the redo)


def test_clip_edge_hover_and_trim(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    p0 = w.project
    c0 = clip(w, "C")
    g = geom(w, "C")
    left = pt(g.rect.left() + 2, g.body.center().y() + 15)
    qtbot.mouseMove(lanes, left)
    assert lanes.cursor().shape() == Qt.CursorShape.SplitHCursor
    # Trim the start 0.5 s later: the offset follows, the end stays.
    drag(qtbot, lanes, left, QPoint(left.x() + 24, left.y()), ALT)
    c = clip(w, "C")
    assert w.document.history.entry.label == "Trim clip start"
    assert c.position == pytest.approx(c0.position + RATE / 2, abs=FPP)
    assert c.offset - c0.offset == c.position - c0.position
    assert c.end == c0.end
    # Extend the end past the audio: it stops where the audio does (1 s hidden there).
    right = pt(geom(w, "C").rect.right() - 2, left.y())
    drag(qtbot, lanes, right, QPoint(right.x() + int(3 * RATE / FPP), right.y()), ALT)
    c = clip(w, "C")
    assert c.offset + c.length == c.audio.frames
    assert c.end == c0.end + RATE
    undo(qtbot, w)
    undo(qtbot, w)
    assert w.project is p0


# -- fades and gain ------------------------------------------------------------------------------


def test_fade_handle_drag_and_shape_from_context_menu(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    g = geom(w, "A")
    handle = pt(g.fade_in.x(), g.fade_in.y())
    qtbot.mouseMove(lanes, handle)
    assert lanes.cursor().shape() == Qt.CursorShape.SizeHorCursor
    n0 = steps(w)
    drag(qtbot, lanes, handle, QPoint(handle.x() + 48, handle.y()))
    assert steps(w) == n0 + 1
    assert clip(w, "A").fade_in == pytest.approx(RATE, abs=2 * FPP)
    # The fade-out handle, dragged left.
    g = geom(w, "A")
    handle = pt(g.fade_out.x(), g.fade_out.y())
    drag(qtbot, lanes, handle, QPoint(handle.x() - 24, handle.y()))
    a = clip(w, "A")
    assert a.fade_out == pytest.approx(RATE / 2, abs=FPP)  # follows the mouse, not where the handle sits
    assert w.document.history.entry.label == "Fade out"
    # Right-click the clip: Fade In Shape > S-Curve.
    menu = context_menu(lanes, pt(g.body.center().x(), g.body.bottom() - 5))
    assert menu_action(menu, "Linear") is not None and menu_action(menu, "Logarithmic") is not None
    trigger(menu, "S-Curve")
    assert clip(w, "A").fade_in_shape == FadeShape.S_CURVE
    assert clip(w, "A").fade_out_shape == FadeShape.EQUAL_POWER
    menu = context_menu(lanes, pt(g.body.center().x(), g.body.bottom() - 5))
    assert menu_action(menu, "S-Curve").isChecked()
    trigger(menu, "Remove Fades")
    assert (clip(w, "A").fade_in, clip(w, "A").fade_out) == (0, 0)


def test_gain_line_drag_and_clip_gain_dialog(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    g = geom(w, "B")
    line = pt(g.gain_knob.x(), g.gain_knob.y())
    qtbot.mouseMove(lanes, line)
    assert lanes.cursor().shape() == Qt.CursorShape.SizeVerCursor
    drag(qtbot, lanes, line, QPoint(line.x(), line.y() + 20))
    expected = round(-20 * db_per_pixel(g.body), 1)
    assert clip(w, "B").gain_db == pytest.approx(expected, abs=0.15)
    assert w.document.history.entry.label.startswith("Clip gain")
    # Up past the top: it stops at the maximum.
    g = geom(w, "B")
    line = pt(g.gain_knob.x(), g.gain_knob.y())
    drag(qtbot, lanes, line, QPoint(line.x(), line.y() - 400))
    assert clip(w, "B").gain_db == GAIN_TOP_DB

    # Clip Gain… from the Edit menu, for the selected clip.
    qtbot.mouseClick(lanes, L, NONE, strip(w, "B", 5 * RATE))
    assert w.state.clip_ids == (clip(w, "B").id,)

    def answer():
        dlg = QApplication.activeModalWidget()
        assert dlg is not None and dlg.windowTitle() == "Clip Gain"
        dlg.spin.setValue(-4.5)
        dlg.accept()

    QTimer.singleShot(0, answer)
    w.act_clip_gain.trigger()
    assert clip(w, "B").gain_db == -4.5
    assert w.document.history.entry.label == "Clip gain -4.5 dB"


# -- selection, delete, ripple ------------------------------------------------------------------------


def test_multi_select_move_delete_and_ripple(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    p0 = w.project
    a0, c0 = clip(w, "A"), clip(w, "C")
    qtbot.mouseClick(lanes, L, NONE, strip(w, "A", RATE // 2))
    qtbot.mouseClick(lanes, L, CTRL, strip(w, "C", 4 * RATE))
    assert set(w.state.clip_ids) == {a0.id, c0.id}
    # Drag A: C moves with it by the same amount.
    a = strip(w, "A", RATE // 2)
    drag(qtbot, lanes, a, QPoint(a.x() + 24, a.y()), ALT)
    assert w.document.history.entry.label == "Move 2 clips"
    moved = clip(w, "A").position - a0.position
    assert moved == pytest.approx(RATE / 2, abs=FPP)
    assert clip(w, "C").position - c0.position == moved
    # Delete removes both (no time range is selected).
    assert not w.state.has_range
    shortcut(qtbot, w, Qt.Key.Key_Delete)
    assert [c.name for t in w.project.tracks for c in t.clips] == ["B"]
    undo(qtbot, w)
    undo(qtbot, w)
    assert w.project is p0

    # Ripple delete: with the option on, deleting A moves B left by A's length.
    w.act_ripple_delete.trigger()
    assert w.act_ripple_delete.isChecked() and w.timeline.ripple_clips
    qtbot.mouseClick(lanes, L, NONE, strip(w, "A", RATE))
    shortcut(qtbot, w, Qt.Key.Key_Delete)
    assert clip(w, "B").position == 4 * RATE - 3 * RATE
    assert clip(w, "C").position == c0.position  # other tracks stay
    assert w.document.history.entry.label == "Ripple delete 1 clip"
    undo(qtbot, w)
    assert w.project is p0


def test_rubber_band_selects_clips(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    # From empty space on Drums (3.5 s) down to Bass at 4.5 s: touches B and C, not A.
    a = pt(w.state.x_of(3.5 * RATE), track_y(w, 0, 30))
    b = pt(w.state.x_of(4.5 * RATE), track_y(w, 1, 60))
    n0 = steps(w)
    drag(qtbot, lanes, a, b, CTRL)
    assert set(w.state.clip_ids) == {clip(w, "B").id, clip(w, "C").id}
    assert steps(w) == n0  # selecting is not an edit
    assert not w.state.has_range


# -- snapping -----------------------------------------------------------------------------------------


def test_moves_and_trims_snap_unless_alt(qtbot, window):
    w = window
    lanes = w.timeline.lanes
    marker = w.project.markers[0].position  # 2.5 s
    a_end = clip(w, "A").end  # 3 s
    tol = SNAP_PX * FPP
    # B's start dragged to 5 px right of the marker: it lands on the marker.
    start = strip(w, "B", 5 * RATE)
    dx = int(round((marker - 4 * RATE) / FPP)) + 5
    drag(qtbot, lanes, start, QPoint(start.x() + dx, start.y()))
    assert clip(w, "B").position == marker
    undo(qtbot, w)
    # The same drag with Alt: no snapping.
    drag(qtbot, lanes, start, QPoint(start.x() + dx, start.y()), ALT)
    assert abs(clip(w, "B").position - marker) == pytest.approx(5 * FPP, abs=FPP)
    undo(qtbot, w)
    # B's start 4 px right of A's end: flush against A.
    dx = int(round((a_end - 4 * RATE) / FPP)) + 4
    drag(qtbot, lanes, start, QPoint(start.x() + dx, start.y()))
    assert clip(w, "B").position == a_end
    undo(qtbot, w)
    # Trimming C's end to near B's start snaps to it.
    g = geom(w, "C")
    right = pt(g.rect.right() - 2, g.body.center().y() + 15)
    target = w.state.x_of(4 * RATE) - 3  # 3 px before B's start; C ends at 5 s
    drag(qtbot, lanes, right, pt(target - 2, right.y()))
    assert clip(w, "C").end == 4 * RATE
    undo(qtbot, w)
    # View > Snap off: no snapping without Alt either.
    assert w.act_snap.isChecked()
    w.act_snap.trigger()
    assert not w.timeline.snap_enabled
    drag(qtbot, lanes, start, QPoint(start.x() + 4 * RATE // int(FPP) // 4 + dx, start.y()))
    assert abs(clip(w, "B").position - a_end) > tol / 2


# -- tracks -------------------------------------------------------------------------------------------


def test_track_reorder_by_header_drag(qtbot, window):
    w = window
    tv = w.timeline
    p0 = w.project
    bass = tv.headers[p0.tracks[1].id]
    a = QPoint(bass.width() // 2, 8)
    target_global = tv.header_area.mapToGlobal(QPoint(a.x(), 5))  # the top of the first track
    qtbot.mousePress(bass, L, NONE, a)
    for i in range(1, 7):
        g = bass.mapToGlobal(a)
        step = QPoint(g.x(), g.y() + (target_global.y() - g.y()) * i // 6)
        move(bass, bass.mapFromGlobal(step))
    assert [t.name for t in tv.lanes.project.tracks] == ["Bass", "Drums"]  # shown while dragging
    assert bass.geometry().top() == 0  # the header moved to its new place
    assert w.project is p0
    qtbot.mouseRelease(bass, L, NONE, bass.mapFromGlobal(target_global))
    assert [t.name for t in w.project.tracks] == ["Bass", "Drums"]
    assert w.document.history.entry.label == "Move track"
    undo(qtbot, w)
    assert w.project is p0
    assert tv.headers[p0.tracks[1].id].geometry().top() == tv.lanes.height_of(p0.tracks[0].id)


def test_track_resize_by_dragging_bottom_edge(qtbot, window):
    w = window
    tv = w.timeline
    lanes = tv.lanes
    p0 = w.project
    t0 = p0.tracks[0]
    _t, top, h = lanes.track_rows()[0]
    edge = QPoint(300, top + h - 2)
    qtbot.mouseMove(lanes, edge)
    assert lanes.cursor().shape() == Qt.CursorShape.SizeVerCursor
    n0 = steps(w)
    drag(qtbot, lanes, edge, QPoint(300, edge.y() + 40), steps=8)
    assert steps(w) == n0  # heights are view state: no undo step, the project is unchanged
    assert w.project is p0
    assert lanes.height_of(t0.id) == h + 40
    assert tv.headers[p0.tracks[1].id].geometry().top() == top + h + 40  # the next track moved down
    # The header's bottom edge does the same.
    header = tv.headers[t0.id]
    hb = QPoint(60, header.height() - 2)
    qtbot.mousePress(header, L, NONE, hb)
    move(header, QPoint(60, hb.y() - 60))
    qtbot.mouseRelease(header, L, NONE, QPoint(60, hb.y() - 60))
    assert lanes.height_of(t0.id) == h - 20
    assert steps(w) == n0 and w.project is p0
    assert not w.document.modified


def test_track_rename_and_recolour(qtbot, window, monkeypatch):
    w = window
    tv = w.timeline
    tid = w.project.tracks[0].id
    header = tv.headers[tid]
    qtbot.mouseDClick(header, L, NONE, header.name.geometry().center())
    ed = header._editor
    assert ed is not None and ed.hasFocus()
    qtbot.keyClicks(ed, "Kick")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert w.project.track(tid).name == "Kick"
    assert header.name.text() == "Kick"

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor("#123456")))
    menu = context_menu(header, QPoint(60, 10))
    trigger(menu, "Colour")
    assert w.project.track(tid).colour == "#123456"
    assert w.document.history.entry.label == "Colour Kick"
    menu = context_menu(header, QPoint(60, 10))
    trigger(menu, "Move Down")
    assert w.project.tracks[1].id == tid


# -- markers --------------------------------------------------------------------------------------------


def test_markers_add_jump_rename_delete(qtbot, window):
    w = window
    ruler = w.timeline.ruler
    w.move_cursor(RATE)
    shortcut(qtbot, w, Qt.Key.Key_M)
    assert [m.position for m in w.project.markers] == [RATE, 5 * RATE // 2]
    assert w.document.history.entry.label == "Add marker"
    w.move_cursor(0)
    shortcut(qtbot, w, Qt.Key.Key_BracketRight)
    assert w.state.cursor == RATE
    shortcut(qtbot, w, Qt.Key.Key_BracketRight)
    assert w.state.cursor == 5 * RATE // 2
    shortcut(qtbot, w, Qt.Key.Key_BracketLeft)
    assert w.state.cursor == RATE

    # Double-click the marker on the ruler to rename it.
    at = QPoint(int(w.state.x_of(5 * RATE // 2)) + 1, 20)
    qtbot.mouseDClick(ruler, L, NONE, at)
    ed = ruler.editor
    assert ed is not None
    qtbot.keyClicks(ed, "Chorus")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert [m.name for m in w.project.markers][1] == "Chorus"
    # Drag it to 3 s.
    drag(qtbot, ruler, at, QPoint(at.x() + 24, at.y()))
    assert w.project.markers[1].position == pytest.approx(3 * RATE, abs=FPP)
    # Delete it from its context menu.
    at = QPoint(int(w.state.x_of(w.project.markers[1].position)) + 1, 20)
    QApplication.sendEvent(ruler, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, ruler.mapToGlobal(at)))
    menu = ruler.last_menu
    assert menu is not None
    trigger(menu, "Delete “Chorus”")
    assert [m.position for m in w.project.markers] == [RATE]


# -- import ---------------------------------------------------------------------------------------------


def test_import_audio_at_cursor(qtbot, window, tmp_path, monkeypatch):
    w = window
    path = write(tmp_path / "hit.wav", sines((440.0,), 0.5, RATE), RATE)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(path)], "")))
    assert w.act_import_at_cursor in w.menu_file.actions()
    bass = w.project.tracks[1].id
    w.state.set_selection(0, 0, (bass,))
    w.state.set_cursor(7 * RATE)
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.act_import_at_cursor.trigger()
    wait_until(qtbot, lambda: len(w.project.track(bass).clips) == 2)
    new = w.project.track(bass).clips[-1]
    assert new.position == 7 * RATE and new.length == RATE // 2
    assert len(w.project.tracks) == 2
    np.testing.assert_allclose(new.audio.read(0, 100)[0], sines((440.0,), 0.5, RATE)[0, :100], atol=1e-4)


def test_timeline_shortcuts_are_unique(window):
    seen: dict[str, str] = {}
    for a in window.actions():
        for s in a.shortcuts():
            key = s.toString()
            assert key not in seen, f"{key} is on both {seen[key]!r} and {a.text()!r}"
            seen[key] = a.text()
    for key in ("M", "[", "]", "Ctrl+Alt+I", "Ctrl+Alt+G", "Ctrl+Shift+G"):
        assert key in seen
