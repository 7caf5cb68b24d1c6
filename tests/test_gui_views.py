"""What the main window shows and how it is looked at, driven as a user would: track view
modes and spectrogram settings, spectrogram tiles that leave the screen, waveform scale and
clip marks, zoom and scroll, following the playhead, the Audio menu's dialogs, the history
panel, recent files and drag-and-drop, closing with unsaved changes, the status bar and
snapping a selection to zero crossings."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, QRect, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.store import default_store
from editor.core.timefmt import format_hms
from editor.qt.dialogs.processing import FadeDialog, GainDialog, NormalizeDialog
from editor.qt.dialogs.spectrogram import SpectrogramDialog
from editor.qt.timeline import spectrogram
from editor.qt.timeline.handles import clip_geometry
from editor.qt.timeline.spectrogram import SpectroCache, SpectroSettings, TileAbandoned, compute_tile

from .audiogen import sines, write
from .gui_helpers import drag, lane_point, mix, require_audio, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000
L, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


# -- helpers -----------------------------------------------------------------------------------------


def _seq(x: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(default_store().blocks_from_array(x), x.shape[0])


def _project(x: np.ndarray, rate: int = RATE, name: str = "Untitled") -> Project:
    """One track, one clip of planar ``x`` at 0."""
    p = Project(sample_rate=rate, name=name)
    return edits.add_track(p, "Voice", (Clip(_seq(x), 0, name="take"),))


def _show(w, project: Project, hide_docks: bool = True) -> None:
    """Put ``project`` in the window (the fit it schedules runs before this returns)."""
    if hide_docks:
        for dock in w.findChildren(QDockWidget):
            dock.hide()  # room for the lanes
    w.set_project(project)
    QApplication.processEvents()
    QApplication.processEvents()


def _grab(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _pixels(img: QImage) -> np.ndarray:
    """H × W × 4 (BGRA) copy of an RGB32 image."""
    ptr = img.constBits()
    a = np.frombuffer(ptr, np.uint8, count=img.sizeInBytes()).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width()].copy()


def _rgb(c: QColor) -> tuple[int, int, int]:
    return c.red(), c.green(), c.blue()


def _mask(a: np.ndarray, colour: QColor) -> np.ndarray:
    """Where the BGRA pixels ``a`` are exactly ``colour``."""
    r, g, b = _rgb(colour)
    return (a[..., 2] == r) & (a[..., 1] == g) & (a[..., 0] == b)


def _body(w, track_index: int = 0):
    """The first clip's body rectangle (the audio, below the name strip) in lanes coordinates."""
    lanes = w.timeline.lanes
    track, top, h = lanes.track_rows()[track_index]
    return clip_geometry(track.clips[0], top, h, w.state, lanes.width()).body


def _settled(lanes) -> QImage:
    """Grab the lanes once every spectrogram tile they ask for has arrived."""
    spectra = lanes.spectra
    for _ in range(50):
        _grab(lanes)  # asks for what is missing
        assert spectra.wait_idle(20000)
        QApplication.processEvents()
        img = _grab(lanes)
        if not spectra._pending:
            return img
    raise AssertionError("spectrogram tiles keep being asked for")


def _on_dialog(cls, fn, seen: list) -> None:
    """When a modal ``cls`` dialog opens, call ``fn(dialog)``; the dialog is always closed
    (rejected if ``fn`` neither accepted nor rejected it, or raised)."""

    def poll() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, cls):
            QTimer.singleShot(20, poll)
            return
        try:
            fn(dlg)
            seen.append(dlg)
        finally:
            if dlg.isVisible():
                dlg.reject()

    QTimer.singleShot(0, poll)


def _back_to(qtbot, w) -> None:
    """The window is active again after a dialog closed (a window manager's job; the
    offscreen platform leaves the hidden dialog active, and shortcuts would go there)."""
    w.activateWindow()
    wait_until(qtbot, lambda: QApplication.activeWindow() is w)


def _wheel(widget, pos: QPoint, dy: int, mods=NONE) -> None:
    ev = QWheelEvent(QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


class _Paints(QObject):
    """Records the rectangles a widget repaints."""

    def __init__(self, widget) -> None:  # noqa: ANN001
        super().__init__(widget)
        self.rects: list[QRect] = []
        widget.installEventFilter(self)

    def eventFilter(self, _obj, ev) -> bool:  # noqa: N802, ANN001
        if ev.type() == QEvent.Type.Paint:
            self.rects.append(QRect(ev.rect()))
        return False


def _entries(w) -> int:
    return len(w.document.history.entries)


# -- 1. view modes and spectrogram settings --------------------------------------------------------------


def test_view_modes_from_the_header_and_spectrogram_settings(qtbot, window):
    w = window
    x = sines((440.0, 3000.0), 4.0, RATE, amp=0.3)
    _show(w, _project(x))
    lanes = w.timeline.lanes
    tid = w.project.tracks[0].id
    header = w.timeline.headers[tid]
    spectra = lanes.spectra
    body = _body(w)
    rows = slice(int(body.top()) + 2, int(body.bottom()) - 2)
    cols = slice(int(max(0, body.left())) + 10, int(min(lanes.width(), body.right())) - 10)

    def lane(img: QImage) -> np.ndarray:
        return _pixels(img)[rows, cols]

    wave = lane(_grab(lanes))
    assert not spectra._tiles and not spectra._pending  # a waveform asks for no spectrogram

    # Spectrum from the header's view-mode box (keyboard: the next entry).
    header.mode.setFocus()
    with qtbot.waitSignal(spectra.updated, timeout=20000):
        qtbot.keyClick(header.mode, Qt.Key.Key_Down)
    assert header.mode.currentText() == "Spectrum"
    disp = lanes.display_for(tid)
    assert disp.mode == "spectrogram"
    spec = lane(_settled(lanes))
    assert spectra._tiles and all(k[3] == disp.spectro for k in spectra._tiles)
    assert all(img is not None for img, _s in spectra._tiles.values())
    changed = np.any(spec != wave, axis=-1).mean()
    assert changed > 0.5, changed
    assert len({tuple(p) for p in spec.reshape(-1, 4)[::37]}) > 20  # a colour map, not a flat fill

    # Both: waveform below a spectrogram.
    qtbot.keyClick(header.mode, Qt.Key.Key_Down)  # the same tiles, already there
    assert header.mode.currentText() == "Both" and disp.mode == "both"
    both = lane(_settled(lanes))
    assert np.any(both != spec, axis=-1).mean() > 0.2
    assert np.any(both != wave, axis=-1).mean() > 0.2
    wave_colour = QColor(w.project.tracks[0].colour).lighter(150)
    half = both.shape[0] // 2
    on_top, below = _mask(both[:half], wave_colour).sum(), _mask(both[half:], wave_colour).sum()
    assert below > 200 and on_top < below / 20, (on_top, below)
    assert _mask(wave, wave_colour).sum() > 200 and _mask(spec, wave_colour).sum() < below / 20
    # The menu's View > Show Waveform goes back, and the header box follows.
    w.act_view_wave.trigger()
    assert disp.mode == "waveform" and header.mode.currentData() == "waveform"
    np.testing.assert_array_equal(lane(_grab(lanes)), wave)
    w.act_view_spec.trigger()
    assert header.mode.currentData() == "spectrogram"
    before = lane(_settled(lanes))
    np.testing.assert_array_equal(before, spec)

    # View > Spectrogram Settings…: each setting changes the picture, and new tiles are computed.
    changes = [
        ("scale", "linear"), ("scale", "mel"), ("window", 512), ("range", 40.0), ("cmap", "viridis"),
    ]
    for field, value in changes:
        seen: list = []

        def answer(dlg, field=field, value=value):
            if field == "range":
                dlg.range.setValue(value)
            else:
                box = getattr(dlg, field)
                box.setCurrentIndex(box.findData(value))
            dlg.accept()

        old = disp.spectro
        _on_dialog(SpectrogramDialog, answer, seen)
        assert w.act_spec_settings in w.menu_view.actions()
        w.act_spec_settings.trigger()
        assert seen, "the settings dialog did not open"
        new = disp.spectro
        attr = {"scale": "scale", "window": "window", "range": "db_range", "cmap": "colormap"}[field]
        assert getattr(new, attr) == value and new != old
        after = lane(_settled(lanes))
        assert any(k[3] == new for k in spectra._tiles), "no tiles for the new settings"
        assert np.any(after != before, axis=-1).mean() > 0.05, field
        before = after
    assert disp.spectro == SpectroSettings(window=512, scale="mel", db_range=40.0, colormap="viridis")


# -- 2. tiles that leave the screen ---------------------------------------------------------------------


def test_spectrogram_tiles_that_leave_the_screen_stop_early(qtbot, monkeypatch):
    x = sines((440.0,), 20.0, RATE, amp=0.3)
    seq = _seq(x)
    s = SpectroSettings(window=256)
    fpp = 1100.0  # wide zoom (over 4 windows a pixel): windows are read one by one, the sparse path
    assert (3 * spectrogram.TILE + 1) * fpp < seq.frames  # tiles 0 to 2 hold audio

    calls = []

    def stop() -> bool:
        calls.append(1)
        return False

    with pytest.raises(TileAbandoned):
        compute_tile(seq, RATE, fpp, 0, s, wanted=stop)
    assert len(calls) == 1  # stopped at the first check

    calls.clear()
    full = compute_tile(seq, RATE, fpp, 0, s, wanted=lambda: calls.append(1) or True)
    assert len(calls) > 4 and not full.isNull()
    assert full == compute_tile(seq, RATE, fpp, 0, s)  # asking changes nothing in the picture

    # The cache: a tile being computed and a queued one both leave the screen.
    cache = SpectroCache()
    real = spectrogram.compute_tile
    started, go = threading.Event(), threading.Event()
    computed = []

    def gated(seq, rate, fpp, tile, s, wanted=None):  # noqa: ANN001
        computed.append(tile)
        if tile == 0 and not go.is_set():
            started.set()
            go.wait(20)
        return real(seq, rate, fpp, tile, s, wanted=wanted)

    monkeypatch.setattr(spectrogram, "compute_tile", gated)
    delivered = []
    cache.updated.connect(lambda: delivered.append(1))
    try:
        assert cache.tile(seq, RATE, fpp, 0, s) is None
        assert started.wait(20)
        assert cache.tile(seq, RATE, fpp, 1, s) is None  # queued behind tile 0
        cache.forget_unwanted(set())  # zoomed elsewhere
        go.set()
        assert cache.wait_idle(20000)
        QApplication.processEvents()
        assert computed == [0], "the queued tile was computed although nobody wants it"
        assert not delivered and not cache._pending and not cache._tiles

        # Asked for again later: computed and delivered.
        with qtbot.waitSignal(cache.updated, timeout=20000):
            assert cache.tile(seq, RATE, fpp, 1, s) is None
        img = cache.tile(seq, RATE, fpp, 1, s)
        assert img is not None and img == real(seq, RATE, fpp, 1, s)
        assert not cache._pending

        # Asked for again just as it was being given up: it is still delivered.
        first = [True]

        def flaky(seq, rate, fpp, tile, s, wanted=None):  # noqa: ANN001
            computed.append(tile)

            def again() -> bool:
                if first[0]:
                    first[0] = False
                    cache.forget_unwanted(set())
                    cache.tile(seq, rate, fpp, tile, s)  # the view asks for it again meanwhile
                    return False
                return wanted()

            return real(seq, rate, fpp, tile, s, wanted=again)

        monkeypatch.setattr(spectrogram, "compute_tile", flaky)
        computed.clear()
        with qtbot.waitSignal(cache.updated, timeout=20000):
            assert cache.tile(seq, RATE, fpp, 2, s) is None
        assert cache.wait_idle(20000)
        assert computed == [2, 2]  # given up once, then done
        assert cache.tile(seq, RATE, fpp, 2, s) is not None
        assert not cache._pending
    finally:
        go.set()
        cache.shutdown()


def test_playhead_repaints_keep_the_tiles_on_screen(qtbot, window, monkeypatch):
    """The playhead repaints thin strips of the lanes while playing; the spectrogram tiles
    elsewhere on screen are still wanted, and get computed."""
    w = window
    _show(w, _project(sines((440.0,), 10.0, RATE, amp=0.3)))
    lanes = w.timeline.lanes
    real = spectrogram.compute_tile
    go = threading.Event()
    computed = []

    def gated(seq, rate, fpp, tile, s, wanted=None):  # noqa: ANN001
        computed.append(tile)
        go.wait(20)
        return real(seq, rate, fpp, tile, s, wanted=wanted)

    monkeypatch.setattr(spectrogram, "compute_tile", gated)
    paints = _Paints(lanes)
    try:
        w.act_view_spec.trigger()
        wait_until(qtbot, lambda: any(r.contains(lanes.rect()) for r in paints.rects))
        on_screen = {k[2] for k in lanes.spectra._wanted}  # a whole repaint asked for every tile on screen
        assert len(on_screen) >= 3, on_screen
        wait_until(qtbot, lambda: computed)  # the first is being computed, the others wait
        # The playhead moves over the last tile: a strip there is repainted.
        paints.rects.clear()
        w.state.set_playhead(int(w.state.frame_at(lanes.width() - 20)))
        wait_until(qtbot, lambda: any(r.width() <= 10 for r in paints.rects))
        assert {k[2] for k in lanes.spectra._wanted} >= on_screen
    finally:
        go.set()
    assert lanes.spectra.wait_idle(20000)
    assert set(computed) == on_screen
    w.state.set_playhead(None)


# -- 3. waveform scale and clipping --------------------------------------------------------------------


def test_waveform_db_scale_and_clipped_samples(qtbot, window):
    w = window
    quiet = sines((440.0,), 1.5, RATE, amp=0.05)
    loud = np.clip(sines((440.0,), 0.5, RATE, amp=1.5), -1.0, 1.0)  # samples at ±1.0
    x = np.concatenate([quiet, loud, quiet], axis=1)
    _show(w, _project(x))
    lanes = w.timeline.lanes
    st = w.state
    track = w.project.tracks[0]
    header = w.timeline.headers[track.id]
    body = _body(w)
    top, bottom = int(body.top()), int(body.bottom())
    wave_colour = QColor(track.colour).lighter(150)
    red = QColor("#ff4040")
    x_quiet = int(st.x_of(RATE // 2))
    x0_loud, x1_loud = st.x_of(int(1.5 * RATE)), st.x_of(2 * RATE)

    def wave_height(a: np.ndarray) -> int:
        """How many pixels of the quiet part's column are waveform."""
        return int(_mask(a[top:bottom, x_quiet - 2 : x_quiet + 3], wave_colour).any(axis=1).sum())

    def clip_marks(a: np.ndarray) -> np.ndarray:
        """The columns with the clip mark along the top of the waveform."""
        return np.flatnonzero(_mask(a[top : top + 4], red).any(axis=0))

    linear = _pixels(_grab(lanes))
    h_lin = wave_height(linear)
    assert 2 <= h_lin <= 0.15 * body.height(), h_lin  # -26 dBFS is small on a linear scale
    marks = clip_marks(linear)
    assert marks.size, "clipped samples are not marked"
    assert marks.min() >= x0_loud - 1 and marks.max() <= x1_loud + 1  # only where the audio clips
    assert marks.size >= 0.8 * (x1_loud - x0_loud)

    # The header's dB button: the same audio, drawn taller on a dB scale.
    assert not header.db.isChecked()
    qtbot.mouseClick(header.db, L)
    assert header.db.isChecked() and lanes.display_for(track.id).db
    db = _pixels(_grab(lanes))
    h_db = wave_height(db)
    assert h_db > 4 * h_lin, (h_lin, h_db)
    assert np.array_equal(clip_marks(db), marks)  # clipping is marked on either scale
    qtbot.mouseClick(header.db, L)
    np.testing.assert_array_equal(_pixels(_grab(lanes)), linear)

    # 6 dB less clip gain: nothing clips any more, and nothing is marked.
    w.document.apply(lambda p: edits.set_clip(p, track.clips[0].id, gain_db=-6.0), "Clip gain")
    assert clip_marks(_pixels(_grab(lanes))).size == 0


# -- 4. zoom and scroll --------------------------------------------------------------------------------


def test_wheel_zoom_around_the_mouse_scrolling_and_zoom_actions(qtbot, window):
    w = window
    p = _project(sines((220.0,), 20.0, RATE, amp=0.3))
    for i in range(7):  # more tracks than fit: they scroll
        p = edits.add_track(p, f"T{i}", (Clip(p.tracks[0].clips[0].audio, 0),))
    _show(w, p)
    lanes = w.timeline.lanes
    st = w.state
    width = lanes.width()

    # Ctrl+wheel zooms; the time under the mouse stays under the mouse.
    st.set_view(5.0 * RATE, 500.0)
    for x, notches in ((300, 1), (300, 2), (710, -1), (120, 3), (888, -4)):
        pos = QPoint(x, 60)
        frame = st.left + x * st.fpp
        fpp = st.fpp
        _wheel(lanes, pos, 120 * notches, CTRL)
        assert st.fpp == pytest.approx(fpp / 1.25**notches)
        assert abs(st.x_of(frame) - x) <= 1.0, (x, notches)

    # The wheel scrolls time: 80 pixels a notch, the zoom stays.
    fpp, left = st.fpp, st.left
    _wheel(lanes, QPoint(400, 60), -120)
    assert st.fpp == fpp and st.left == pytest.approx(left + 80 * fpp)
    assert w.timeline.hbar.value() == int(st.left)  # the scroll bar follows
    _wheel(lanes, QPoint(400, 60), 240)
    assert st.left == pytest.approx(left - 80 * fpp)
    # Shift+wheel scrolls the tracks, and their headers with them.
    header = w.timeline.headers[w.project.tracks[1].id]
    y0 = header.y()
    _wheel(lanes, QPoint(400, 60), -120, SHIFT)
    assert lanes.y_offset == 60 and header.y() == y0 - 60

    # Keyboard: zoom in around the cursor, out, fit, zoom to the selection.
    st.set_view(0.0, 400.0)
    st.set_cursor(3 * RATE)
    x_cursor = st.x_of(st.cursor)
    shortcut(qtbot, w, Qt.Key.Key_Equal, CTRL)
    assert st.fpp == 200.0 and st.x_of(st.cursor) == pytest.approx(x_cursor)
    shortcut(qtbot, w, Qt.Key.Key_Minus, CTRL)
    assert st.fpp == 400.0
    shortcut(qtbot, w, Qt.Key.Key_F, CTRL)
    assert st.left == 0.0 and st.fpp == pytest.approx(w.project.end / (width - 4))
    assert st.x_of(w.project.end) <= width
    st.set_selection(2 * RATE, 4 * RATE, (w.project.tracks[0].id,))
    shortcut(qtbot, w, Qt.Key.Key_E, CTRL)
    assert st.left == 2 * RATE and st.fpp == pytest.approx(2 * RATE / width)
    assert st.x_of(4 * RATE) == pytest.approx(width)

    # The same from the toolbar.
    bar = w.transport_bar
    fpp = st.fpp
    qtbot.mouseClick(bar.widgetForAction(w.act_zoom_in), L)
    assert st.fpp == pytest.approx(fpp / 2)
    qtbot.mouseClick(bar.widgetForAction(w.act_zoom_out), L)
    qtbot.mouseClick(bar.widgetForAction(w.act_zoom_out), L)
    assert st.fpp == pytest.approx(fpp * 2)
    qtbot.mouseClick(bar.widgetForAction(w.act_fit), L)
    assert st.left == 0.0 and st.fpp == pytest.approx(w.project.end / (width - 4))

    # The ruler's labels adapt: whole seconds when the project fits, milliseconds up close,
    # always far enough apart to read.
    ruler = w.timeline.ruler

    def labels() -> tuple[list[float], list[str]]:
        ticks = [(x, t) for x, t in ruler.ticks() if t and 0 <= x <= ruler.width()]
        return [x for x, _t in ticks], [t for _x, t in ticks]

    xs, texts = labels()
    assert len(texts) >= 3 and all("." not in t for t in texts), texts
    step_fit = (xs[1] - xs[0]) * st.fpp / RATE
    assert step_fit >= 1.0 and xs[1] - xs[0] >= 80
    st.set_view(RATE, 5.0)
    xs, texts = labels()
    assert len(texts) >= 3 and all("." in t for t in texts), texts
    step_close = (xs[1] - xs[0]) * st.fpp / RATE
    assert step_close <= 0.05 and xs[1] - xs[0] >= 80
    assert texts[0].startswith("0:01.")


# -- 5. follow the playhead ------------------------------------------------------------------------------


def test_view_follows_the_playhead_past_the_right_edge(qtbot, window):
    w = window
    _show(w, _project(sines((220.0,), 10.0, RATE, amp=0.2)))
    require_audio(w.player)
    lanes = w.timeline.lanes
    st = w.state
    width = lanes.width()
    st.set_view(0.0, 48.0)  # a second across a thousand pixels
    start = st.frame_at(width - 40)  # a few ms before the right edge
    st.set_cursor(start)
    assert w.act_follow.isChecked() and st.follow and w.act_follow in w.menu_view.actions()

    with qtbot.waitSignal(w.playback_started, timeout=5000):
        shortcut(qtbot, w, Qt.Key.Key_Space)
    try:
        wait_until(qtbot, lambda: st.left > 0 and st.playhead is not None and st.playhead > start, timeout=15)
        assert 0 <= st.x_of(st.playhead) <= width  # scrolled a page: the playhead is on screen
        assert st.fpp == 48.0
    finally:
        w.stop()

    # Follow off (View menu): the playhead runs off the screen, the view stays.
    w.act_follow.trigger()
    assert not w.act_follow.isChecked() and not st.follow
    st.set_view(0.0, 48.0)
    st.set_cursor(start)
    with qtbot.waitSignal(w.playback_started, timeout=5000):
        shortcut(qtbot, w, Qt.Key.Key_Space)
    try:
        wait_until(qtbot, lambda: st.playhead is not None and st.x_of(st.playhead) > width + 20, timeout=15)
        assert st.left == 0.0
    finally:
        w.stop()


# -- 6. gain, fade, normalize, reverse ----------------------------------------------------------------------


def _select(w, start: int, stop: int) -> None:
    w.state.set_selection(start, stop, (w.project.tracks[0].id,))


@pytest.mark.parametrize("which", ["gain", "fade_in", "normalize"])
def test_processing_dialogs_preview_then_apply_as_one_step(qtbot, window, which):
    w = window
    _show(w, _project(sines((220.0, 330.0), 3.0, RATE, amp=0.2)))
    require_audio(w.player)
    a, b = RATE // 2, 5 * RATE // 2
    _select(w, a, b)
    project0, before, n0 = w.project, mix(w.project), _entries(w)
    seg = before[:, a:b]
    if which == "gain":
        action, cls = w.act_gain, GainDialog
        expected = seg * np.float32(10 ** (-6.0 / 20))
    elif which == "fade_in":
        action, cls = w.act_fade_in, FadeDialog
        expected = None  # checked by shape below
    else:
        action, cls = w.act_normalize, NormalizeDialog
        expected = seg * np.float32(10 ** (-3.0 / 20) / np.abs(seg).max())
    assert action in w.menu_audio.actions() and action.isEnabled()

    seen: list = []
    heard: dict = {}

    def answer(dlg):
        if which == "gain":
            dlg.gain.setValue(-6.0)
        elif which == "fade_in":
            dlg.shape.setCurrentIndex(dlg.shape.findText("Linear"))
        else:
            dlg.mode.setCurrentIndex(dlg.mode.findData("peak"))
            dlg.target.setValue(-3.0)
        qtbot.mouseClick(dlg.preview_button, L)
        heard.update(preview=w.preview_project, playing=w.player.playing, document=w.project, steps=_entries(w))
        w.stop()
        qtbot.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Ok), L)

    _on_dialog(cls, answer, seen)
    action.trigger()  # returns when the dialog closes; the edit runs as a job
    assert seen, "the dialog did not open"
    _back_to(qtbot, w)
    # Preview played the edited audio from a scratch copy; the document was not touched.
    assert heard["playing"] and heard["document"] is project0 and heard["steps"] == n0
    preview = heard["preview"]
    assert preview is not None and preview is not project0
    heard_seg = mix(preview)[:, a:b]
    assert w.preview_project is None  # stopping ended the preview
    # Apply: one step.
    wait_until(qtbot, lambda: _entries(w) == n0 + 1, timeout=20)
    after = mix(w.project)
    np.testing.assert_array_equal(after[:, :a], before[:, :a])
    np.testing.assert_array_equal(after[:, b:], before[:, b:])
    got = after[:, a:b]
    np.testing.assert_array_equal(heard_seg, got)  # what was previewed is what was applied
    if expected is not None:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    else:  # a linear fade in: silent at the start, half way at the middle, whole at the end
        env = np.abs(got[0]) / np.maximum(np.abs(seg[0]), 1e-9)
        big = np.abs(seg[0]) > 0.05
        assert abs(got[0, 0]) < 1e-3
        mid = slice(seg.shape[1] // 2 - 2000, seg.shape[1] // 2 + 2000)
        assert np.median(env[mid][big[mid]]) == pytest.approx(0.5, abs=0.03)
        assert np.all(np.abs(got) <= np.abs(seg) + 1e-6)
    assert w.document.history.entry.label == {"gain": "Gain -6.00 dB", "fade_in": "Fade in",
                                              "normalize": "Normalize to -3 dBFS"}[which]
    shortcut(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert w.project is project0
    np.testing.assert_array_equal(mix(w.project), before)


def test_reverse_and_undo_give_back_the_same_samples(qtbot, window):
    w = window
    x = sines((220.0, 331.0), 2.0, RATE, amp=0.2, channels=2)
    x[1] *= np.linspace(0.2, 1.0, x.shape[1], dtype=np.float32)  # the channels differ
    _show(w, _project(x))
    a, b = RATE // 3, 3 * RATE // 2
    _select(w, a, b)
    project0, before, n0 = w.project, mix(w.project), _entries(w)
    assert w.act_reverse in w.menu_audio.actions()
    w.act_reverse.trigger()
    wait_until(qtbot, lambda: _entries(w) == n0 + 1, timeout=20)
    assert w.document.history.entry.label == "Reverse"
    after = mix(w.project)
    np.testing.assert_array_equal(after[:, a:b], before[:, a:b][:, ::-1])
    np.testing.assert_array_equal(after[:, :a], before[:, :a])
    np.testing.assert_array_equal(after[:, b:], before[:, b:])
    shortcut(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert w.project is project0
    clip = w.project.tracks[0].clips[0]
    np.testing.assert_array_equal(clip.audio.read(0, clip.audio.frames), x)
    shortcut(qtbot, w, Qt.Key.Key_Y, CTRL)
    np.testing.assert_array_equal(mix(w.project), after)


# -- 7. history panel -----------------------------------------------------------------------------------------


def test_history_panel_click_jumps_to_a_step_and_back(qtbot, window):
    w = window
    _show(w, _project(sines((220.0,), 3.0, RATE, amp=0.3)), hide_docks=False)
    w.history_dock.show()
    w.history_dock.raise_()
    hp = w.history_panel
    wait_until(qtbot, hp.list.isVisible)
    states = [w.project]
    _select(w, RATE // 2, RATE)
    shortcut(qtbot, w, Qt.Key.Key_L, CTRL)  # Silence
    states.append(w.project)
    shortcut(qtbot, w, Qt.Key.Key_N, CTRL | SHIFT)  # Add Track
    states.append(w.project)
    w.state.set_cursor(2 * RATE)
    shortcut(qtbot, w, Qt.Key.Key_I, CTRL)  # Split
    states.append(w.project)
    labels = [hp.list.item(i).text() for i in range(hp.list.count())]
    assert labels == ["Open", "Silence", "Add track", "Split"]
    mixes = [mix(p) for p in states]

    def click(row: int) -> None:
        rect = hp.list.visualItemRect(hp.list.item(row))
        assert hp.list.viewport().rect().contains(rect.center())
        qtbot.mouseClick(hp.list.viewport(), L, NONE, rect.center())

    click(1)
    assert w.project is states[1] and w.document.history.index == 1
    np.testing.assert_array_equal(mix(w.project), mixes[1])
    assert len(w.project.tracks) == 1 and len(w.timeline.headers) == 1
    assert hp.list.currentRow() == 1
    later = hp.palette().placeholderText().color()
    assert hp.list.item(2).foreground().color() == later and hp.list.item(1).foreground().color() != later
    assert w.act_redo.isEnabled() and w.act_undo.text() == "&Undo Silence"
    click(0)
    assert w.project is states[0]
    np.testing.assert_array_equal(mix(w.project), mixes[0])
    click(3)  # the latest again
    assert w.project is states[3] and w.document.history.index == 3
    assert len(w.project.tracks) == 2 and len(w.project.tracks[0].clips) == 2
    assert not w.act_redo.isEnabled()
    assert hp.list.count() == 4  # jumping keeps every step


# -- 8. recent files and drag-and-drop -------------------------------------------------------------------------


def _recent_entries(w) -> list:
    menu = w.menu_recent
    menu.popup(w.mapToGlobal(QPoint(10, 10)))  # filled as it opens
    acts = [a for a in menu.actions() if a.isEnabled()]
    menu.close()
    return acts


def _drop(w, paths: list[Path]) -> bool:
    """Drag files from a file manager onto the window and drop them; True if it took them."""
    pos = QPoint(400, 300)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NONE)
    enter.ignore()
    QApplication.sendEvent(w, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NONE)
    QApplication.sendEvent(w, drop)
    return drop.isAccepted()


def test_recent_files_reopen_and_dropping_files_imports_them(qtbot, window, tmp_path, monkeypatch):
    w = window
    a = sines((220.0,), 1.0, RATE, amp=0.3)
    b = sines((330.0,), 0.5, RATE, amp=0.3)
    path_a = write(tmp_path / "alpha.wav", a, RATE, "FLOAT")
    path_b = write(tmp_path / "beta.wav", b, RATE, "FLOAT")
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec",
                        lambda box: asked.append(box.text()) or QMessageBox.StandardButton.Discard)
    assert [act.text() for act in _recent_entries(w)] == []

    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(path_a)])
    assert [act.text() for act in _recent_entries(w)] == [str(path_a.resolve())]
    w.act_new.trigger()  # opening was no change: nothing to ask
    assert not w.project.tracks

    # File > Open Recent > alpha.wav
    (entry,) = _recent_entries(w)
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        entry.trigger()
    assert [t.name for t in w.project.tracks] == ["alpha"]
    clip = w.project.tracks[0].clips[0]
    np.testing.assert_array_equal(clip.audio.read(0, clip.audio.frames), a)
    assert not w.document.modified

    # A saved project is listed first, and opens from the menu.
    saved = tmp_path / "session.seedwave"
    assert w._save_to(saved, wait=True)
    assert [act.text() for act in _recent_entries(w)][:2] == [str(saved.resolve()), str(path_a.resolve())]
    w.act_new.trigger()
    with qtbot.waitSignal(w.import_finished, timeout=20000):  # read in the background, then swapped in
        _recent_entries(w)[0].trigger()
    assert w.document.path == saved and [t.name for t in w.project.tracks] == ["alpha"]
    n0 = _entries(w)

    # Drop beta.wav on the window: a new track, one undo step.
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        assert _drop(w, [path_b])
    assert [t.name for t in w.project.tracks] == ["alpha", "beta"]
    assert _entries(w) == n0 + 1 and w.document.history.entry.label == "Import beta.wav"
    clip = w.project.tracks[1].clips[0]
    np.testing.assert_array_equal(clip.audio.read(0, clip.audio.frames), b)
    assert str(path_b.resolve()) in [act.text() for act in _recent_entries(w)]
    # Text is not a file: the window does not take it.
    data = QMimeData()
    data.setText("hello")
    enter = QDragEnterEvent(QPoint(400, 300), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NONE)
    enter.ignore()
    QApplication.sendEvent(w, enter)
    assert not enter.isAccepted()
    # Dropping the project file opens it, after asking about the unsaved import (Discard).
    assert not asked
    with qtbot.waitSignal(w.import_finished, timeout=20000):  # read first, then asked, then swapped in
        assert _drop(w, [saved])
    assert len(asked) == 1 and "session" in asked[0]
    assert [t.name for t in w.project.tracks] == ["alpha"] and w.document.path == saved
    assert not w.document.modified


# -- 9. closing with unsaved changes, the title ------------------------------------------------------------------


def test_close_asks_about_unsaved_changes_and_the_title_marks_them(qtbot, window, tmp_path, monkeypatch):
    w = window
    _show(w, _project(sines((220.0,), 2.0, RATE, amp=0.3), name="Song"))
    assert w.windowTitle() == "Song — Seedwave"
    _select(w, RATE // 2, RATE)
    shortcut(qtbot, w, Qt.Key.Key_L, CTRL)  # Silence
    edited = w.project
    assert w.windowTitle() == "*Song — Seedwave"

    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def exec_(box) -> QMessageBox.StandardButton:  # noqa: ANN001
        asked.append(box.text())
        return answer[0]

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    assert not w.close()
    assert len(asked) == 1 and "Song" in asked[0]
    assert w.isVisible() and w.project is edited and w.document.modified
    assert w.windowTitle() == "*Song — Seedwave"
    # File > New asks too; Cancel keeps the project.
    w.act_new.trigger()
    assert len(asked) == 2 and w.project is edited

    # Saved: no marker; an edit marks it again; undoing back to the saved state clears it.
    assert w._save_to(tmp_path / "Song.seedwave", wait=True)
    assert w.windowTitle() == "Song — Seedwave" and not w.document.modified
    shortcut(qtbot, w, Qt.Key.Key_N, CTRL | SHIFT)
    assert w.windowTitle() == "*Song — Seedwave"
    shortcut(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert w.windowTitle() == "Song — Seedwave"
    # Nothing unsaved: closing asks nothing.
    assert w.close()
    assert len(asked) == 2 and not w.isVisible()


def test_close_with_save_closes_when_the_save_has_finished(qtbot, window, tmp_path, monkeypatch):
    """"Save" in the close prompt saves in the background; the window closes when the
    document says the save has finished (no waiting loop), and the file holds the edit."""
    from editor.core.projectfile import load_project

    w = window
    _show(w, _project(sines((220.0,), 2.0, RATE, amp=0.3), name="Song"))
    _select(w, RATE // 2, RATE)
    shortcut(qtbot, w, Qt.Key.Key_L, CTRL)  # Silence
    edited = mix(w.project)
    target = tmp_path / "Song.seedwave"
    monkeypatch.setattr(QMessageBox, "exec", lambda _box: QMessageBox.StandardButton.Save)
    monkeypatch.setattr("editor.qt.project_files.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(w.document.saved, timeout=20000) as sig:
        assert not w.close()  # not yet: the save runs as a job
        assert w.isVisible()
    assert sig.args[0] == target
    wait_until(qtbot, lambda: not w.isVisible(), timeout=5)
    assert not w.document.modified and w.document.path == target
    np.testing.assert_array_equal(mix(load_project(target)), edited)


# -- 10. status bar, snapping to zero crossings ------------------------------------------------------------------


def test_status_bar_and_snap_to_zero_crossings(qtbot, window):
    w = window
    rate, freq = 44100, 105.0  # half a period is 210 samples
    n = np.arange(2 * rate)
    x = (0.5 * np.sin(2 * np.pi * freq * (n + 0.5) / rate)).astype(np.float32)[None, :]
    crossings = np.flatnonzero(np.signbit(x[0, 1:]) != np.signbit(x[0, :-1])) + 1
    assert np.all(crossings % 210 == 0)  # zero crossings at multiples of 210 samples
    _show(w, _project(x, rate=rate))
    lanes = w.timeline.lanes
    st = w.state
    assert w.status_rate.text() == "44100 Hz"
    st.set_view(0.0, 10.0)

    # A click sets the cursor: shown in the status bar.
    qtbot.mouseClick(lanes, L, NONE, lane_point(w, 22050, below_header=70))
    assert st.cursor == 22050 and not st.has_range
    assert w.status_cursor.text() == "Cursor 00:00:00.500"
    assert w.status_sel.text() == "No selection"

    # Drag a range: its length is shown.
    p1, p2 = lane_point(w, 1130, below_header=70), lane_point(w, 5410, below_header=70)
    drag(qtbot, lanes, p1, p2)
    assert (st.sel_start, st.sel_stop) == (1130, 5410)
    assert w.status_sel.text() == "Selection " + format_hms(4280, rate)

    # Snap to zero crossings (the selection bar's check box): the edges go to the nearest crossing.
    bar = w.selection_bar
    qtbot.mouseClick(bar.snap, L)
    assert bar.snap.isChecked() and st.snap_zero_crossings
    drag(qtbot, lanes, p1, p2)
    assert (st.sel_start, st.sel_stop) == (1050, 5460)
    for edge in (st.sel_start, st.sel_stop):
        assert np.signbit(x[0, edge - 1]) != np.signbit(x[0, edge])
    assert st.cursor == 1050
    assert w.status_sel.text() == "Selection 00:00:00.100"
    assert w.status_cursor.text() == "Cursor " + format_hms(1050, rate)
    assert bar.fields["length"].text() == "00:00:00.100"
    qtbot.mouseClick(bar.snap, L)
    assert not st.snap_zero_crossings
