"""Spectral selection in the window (issue 14): drawing boxes with the mouse on a
spectrogram, adding and subtracting, the status bar, zooming, and the operations
(gain −∞ with undo, an effect inside the band, repair with takes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.spectral_selection import Box
from editor.core.store import default_store
from editor.qt.timeline.spectral_tool import spectrogram_areas

from .gui_helpers import drag, mix

pytestmark = pytest.mark.gui
RATE = 48000


def _seq(x: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(default_store().blocks_from_array(x), x.shape[0])


def _tones(seconds: float = 4.0) -> np.ndarray:
    """A 3 kHz tone from 1 to 3 s over a quiet 300 Hz tone all along (mono, channels x frames)."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.2 * np.sin(2 * np.pi * 300 * t)
    x += np.where((t >= 1.0) & (t < 3.0), 0.3 * np.sin(2 * np.pi * 3000 * t), 0.0)
    return x.astype(np.float32)[None, :]


def _show(w, x: np.ndarray) -> str:
    for dock in w.findChildren(QDockWidget):
        dock.hide()
    w.set_project(edits.add_track(Project(sample_rate=RATE), "Tones", (Clip(_seq(x), 0),)))
    tid = w.project.tracks[0].id
    w.timeline.lanes.set_height(tid, 260)
    w.timeline.set_project(w.project)
    w.fit_project()
    w.timeline.set_track_mode(tid, "spectrogram")
    w.timeline.lanes.snap_enabled = False
    QApplication.processEvents()
    return tid


def _pt(w, tid: str, t: float, hz: float) -> QPoint:
    area = spectrogram_areas(w.timeline.lanes, tid)[0]
    return QPoint(int(round(w.state.x_of(t * RATE))), int(round(area.y_of(hz))))


def _box(qtbot, w, tid, t0, t1, f0, f1, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    drag(qtbot, w.timeline.lanes, _pt(w, tid, t0, f1), _pt(w, tid, t1, f0), modifier=modifier)


def _band_power(x: np.ndarray, a: float, b: float, f0: float, f1: float) -> float:
    seg = x[int(a * RATE): int(b * RATE)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / RATE)
    return float(spec[(freqs >= f0) & (freqs < f1)].sum())


def _wait_job(qtbot, signal, timeout=120000):
    with qtbot.waitSignal(signal, timeout=timeout) as blocker:
        pass
    return blocker


def test_draw_box_add_subtract_status_and_zoom(qtbot, window):
    w = window
    tid = _show(w, _tones())
    tool = w.spectral_tool
    w.spectral_tool.actions["box"].trigger()
    _box(qtbot, w, tid, 1.0, 2.0, 2000.0, 4000.0)
    sel = w.host.selection.current()
    assert sel.has_band and sel.track_ids == (tid,)
    assert sel.start == pytest.approx(1.0 * RATE, abs=2 * w.state.fpp)
    assert sel.stop == pytest.approx(2.0 * RATE, abs=2 * w.state.fpp)
    # Frequencies snap to the axis' rows: within a row (log axis: under 4 %) of where the mouse was.
    assert sel.low_hz == pytest.approx(2000.0, rel=0.05)
    assert sel.high_hz == pytest.approx(4000.0, rel=0.05)
    assert "Spectral:" in tool.status.text() and "kHz" in tool.status.text()
    assert tool.status.isVisible()
    # Shift adds a second box, Alt subtracts from it.
    _box(qtbot, w, tid, 2.5, 3.0, 200.0, 500.0, Qt.KeyboardModifier.ShiftModifier)
    sel2 = w.host.selection.current()
    assert [p.mode for p in sel2.mask.parts] == ["add", "add"]
    assert sel2.low_hz == pytest.approx(200.0, rel=0.05) and sel2.stop == pytest.approx(3.0 * RATE, abs=2 * w.state.fpp)
    _box(qtbot, w, tid, 1.2, 1.5, 1000.0, 8000.0, Qt.KeyboardModifier.AltModifier)
    parts = w.host.selection.current().mask.parts
    assert [p.mode for p in parts] == ["add", "add", "subtract"]
    assert isinstance(parts[2].shape, Box)
    # Drawn, and not redrawn over and over while nothing changes.
    lanes = w.timeline.lanes
    for _ in range(50):  # the spectrogram tiles done: nothing left to repaint for
        assert lanes.spectra.wait_idle(20000)
        qtbot.wait(50)
        if not lanes.spectra._pending:
            break
    n = w.spectral_tool.overlay.paints
    assert n > 0
    qtbot.wait(300)
    assert w.spectral_tool.overlay.paints - n <= 2
    # Zoom and scroll: the drawn box stays on the same seconds and Hz.
    rects = w.spectral_tool.overlay.selection_rects()
    assert len(rects) == 1
    w.state.zoom(2.0, 100.0)
    QApplication.processEvents()
    r = w.spectral_tool.overlay.selection_rects()[0]
    area = spectrogram_areas(w.timeline.lanes, tid)[0]
    assert w.state.frame_at(r.left()) / RATE == pytest.approx(1.0, abs=0.01)
    assert area.hz_at(r.top()) == pytest.approx(sel2.high_hz, rel=0.03)
    assert area.hz_at(r.bottom()) == pytest.approx(sel2.low_hz, rel=0.03)
    # Esc clears the band; the time selection stays.
    qtbot.keyClick(w.timeline.lanes, Qt.Key.Key_Escape)
    assert not w.host.selection.current().has_band
    assert not tool.status.isVisible()
    # A plain time selection (tool off) works as before and has no band.
    w.spectral_tool.actions["off"].trigger()
    drag(qtbot, w.timeline.lanes, _pt(w, tid, 0.5, 1000.0), _pt(w, tid, 1.5, 1000.0))
    cur = w.host.selection.current()
    assert cur.has_range and not cur.has_band


def test_spectral_gain_removes_tone_and_undo(qtbot, window):
    w = window
    x = _tones()
    tid = _show(w, x)
    w.spectral_tool.actions["box"].trigger()
    _box(qtbot, w, tid, 1.0, 3.0, 2000.0, 4500.0)
    before = mix(w.project)
    panel = w.spectral_panel
    panel.set_op("gain")
    panel.gain.setValue(panel.gain.minimum())  # −∞
    assert panel.gain.text() == "−∞ dB"
    with qtbot.waitSignal(w.spectral_ops.run_finished, timeout=120000):
        panel.btn_apply.click()
    after = mix(w.project)
    # The tone is gone inside the box; the 300 Hz tone under it is kept.
    assert _band_power(after[0], 1.3, 2.7, 2800, 3200) < 1e-4 * _band_power(before[0], 1.3, 2.7, 2800, 3200)
    assert _band_power(after[0], 1.3, 2.7, 250, 350) == pytest.approx(_band_power(before[0], 1.3, 2.7, 250, 350),
                                                                      rel=0.01)
    # Outside the selection's overlap-add neighbourhood, bit-exact.
    np.testing.assert_array_equal(after[:, : int(0.9 * RATE)], before[:, : int(0.9 * RATE)])
    np.testing.assert_array_equal(after[:, int(3.1 * RATE):], before[:, int(3.1 * RATE):])
    entry = w.document.history.entry
    assert "spectral selection" in entry.label
    assert entry.meta["spectral_selection"]["parts"] and entry.meta["track"] == tid  # provenance
    w.document.undo()
    np.testing.assert_array_equal(mix(w.project), before)


def test_effect_inside_selection_changes_only_the_band(qtbot, window):
    w = window
    x = _tones()
    tid = _show(w, x)
    w.spectral_tool.actions["box"].trigger()
    _box(qtbot, w, tid, 1.5, 2.5, 2000.0, 4500.0)
    before = mix(w.project)
    panel = w.spectral_panel
    panel.set_op("effect")
    panel.effect.setCurrentIndex(panel.effect.findData("highpass"))
    panel.effect_params.setText("cutoff=8000")
    with qtbot.waitSignal(w.spectral_ops.run_finished, timeout=120000):
        panel.btn_apply.click()
    after = mix(w.project)
    # Inside the box the 3 kHz tone is cut; the 300 Hz tone under it (outside the band) stays,
    # though a high-pass on the whole span would have removed it; before the box, nothing changed.
    assert _band_power(after[0], 1.7, 2.3, 2800, 3200) < 0.1 * _band_power(before[0], 1.7, 2.3, 2800, 3200)
    assert _band_power(after[0], 1.7, 2.3, 250, 350) == pytest.approx(_band_power(before[0], 1.7, 2.3, 250, 350),
                                                                      rel=0.02)
    np.testing.assert_array_equal(after[:, : int(1.4 * RATE)], before[:, : int(1.4 * RATE)])
    assert "spectral selection" in w.document.history.entry.label


def _beep() -> np.ndarray:
    """Quiet 300 Hz and 1 kHz tones all along, with a 3 kHz beep from 1.8 to 2.2 s."""
    t = np.arange(4 * RATE) / RATE
    x = 0.2 * np.sin(2 * np.pi * 300 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t)
    x += np.where((t >= 1.8) & (t < 2.2), 0.4 * np.sin(2 * np.pi * 3000 * t), 0.0)
    return x.astype(np.float32)[None, :]


def test_repair_takes_preview_and_apply(qtbot, window):
    w = window
    tid = _show(w, _beep())
    w.spectral_tool.actions["box"].trigger()
    _box(qtbot, w, tid, 1.75, 2.25, 2500.0, 3600.0)
    before = mix(w.project)
    panel = w.spectral_panel
    panel.set_op("repair")
    panel.engine.setCurrentIndex(panel.engine.findData("auto"))
    panel.n_takes.setValue(3)
    with qtbot.waitSignal(w.spectral_ops.takes_ready, timeout=180000):
        panel.btn_takes.click()
    assert panel.takes.count() >= 2
    assert panel.takes.currentRow() == 0
    # Preview a take: the processed audio is ready to audition (and A/B switches variants).
    panel.takes.setCurrentRow(1)
    with qtbot.waitSignal(w.spectral_ops.preview_ready, timeout=120000):
        panel.btn_preview.click()
    pv = w.spectral_ops.preview
    assert pv is not None and pv["original"] is not pv["processed"]
    assert w.spectral_ops.toggle_ab() == "original"
    assert w.spectral_ops.toggle_ab() == "processed"
    panel.takes.setCurrentRow(0)
    with qtbot.waitSignal(w.spectral_ops.run_finished, timeout=180000):
        panel.btn_apply.click()
    after = mix(w.project)
    assert _band_power(after[0], 1.85, 2.15, 2900, 3100) < 0.05 * _band_power(before[0], 1.85, 2.15, 2900, 3100)
    # The tones under and beside the beep are kept; far from it, bit-exact.
    assert _band_power(after[0], 1.85, 2.15, 950, 1050) == pytest.approx(
        _band_power(before[0], 1.85, 2.15, 950, 1050), rel=0.05)
    np.testing.assert_array_equal(after[:, : int(1.6 * RATE)], before[:, : int(1.6 * RATE)])
    np.testing.assert_array_equal(after[:, int(2.4 * RATE):], before[:, int(2.4 * RATE):])
    meta = w.document.history.entry.meta
    assert meta["spectral_repair"]["take"] == 0 and meta["spectral_repair"]["requested_engine"] == "auto"


def test_brush_lasso_and_harmonic_tools(qtbot, window):
    w = window
    tid = _show(w, _tones())
    lanes = w.timeline.lanes
    w.spectral_tool.actions["brush"].trigger()
    drag(qtbot, lanes, _pt(w, tid, 1.0, 3000.0), _pt(w, tid, 2.0, 3000.0))
    sel = w.host.selection.current()
    assert sel.has_band and type(sel.mask.parts[0].shape).__name__ == "Stroke"
    assert sel.low_hz < 3000.0 < sel.high_hz
    w.spectral_tool.actions["lasso"].trigger()
    a, b, c = _pt(w, tid, 2.0, 500.0), _pt(w, tid, 3.0, 500.0), _pt(w, tid, 2.5, 5000.0)
    qtbot.mousePress(lanes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, a)
    for q in (b, c, a):
        qtbot.mouseMove(lanes, q)
    qtbot.mouseRelease(lanes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, a)
    parts = w.host.selection.current().mask.parts
    assert [type(p.shape).__name__ for p in parts] == ["Stroke", "Polygon"]
    w.spectral_tool.actions["harmonic"].trigger()
    with qtbot.waitSignal(w.spectral_tool.harmonic_ready, timeout=120000):
        qtbot.mouseClick(lanes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pt(w, tid, 2.0, 300.0))
    sel = w.host.selection.current()
    shape = sel.mask.parts[0].shape
    assert type(shape).__name__ == "Harmonic"
    f0 = np.asarray(shape.f0, float)
    assert np.nanmedian(f0) == pytest.approx(300.0, rel=0.03)
    # Tracked over the tone's length, in project seconds.
    assert sel.start < 1.0 * RATE and sel.stop > 3.0 * RATE


def test_band_from_time_selection_by_keyboard_path(qtbot, window):
    w = window
    tid = _show(w, _tones())
    w.state.set_selection(RATE, 2 * RATE, (tid,))
    assert w.spectral_tool.band_from_time(2500.0, 3500.0)
    sel = w.host.selection.current()
    assert (sel.start, sel.stop, sel.low_hz, sel.high_hz) == (RATE, 2 * RATE, 2500.0, 3500.0)
    assert "2.50 kHz–3.50 kHz" in w.spectral_tool.status.text()
    assert w.spectral_panel.where.text() == w.spectral_tool.status.text()
    # Another time selection (a click in the lanes) replaces the spectral one.
    w.state.set_selection(0, RATE // 2, (tid,))
    assert not w.host.selection.current().has_band


def test_effect_panel_runs_an_effect_inside_the_spectral_selection(qtbot, window):
    w = window
    tid = _show(w, _tones())
    w.spectral_tool.actions["box"].trigger()
    _box(qtbot, w, tid, 1.5, 2.5, 150.0, 600.0)  # the band of the 300 Hz tone only
    before = mix(w.project)
    w.host.effects.show("highpass")
    panel = w.effect_panel
    panel.set_values({"cutoff": 2000.0})
    panel.scope.setCurrentIndex(panel.scope.findData("spectral"))
    with qtbot.waitSignal(w.spectral_ops.run_finished, timeout=120000):
        panel.apply_button.click()
    after = mix(w.project)
    # The high-pass took the 300 Hz tone out inside the box; the 3 kHz tone in the same span is untouched.
    assert _band_power(after[0], 1.7, 2.3, 250, 350) < 0.1 * _band_power(before[0], 1.7, 2.3, 250, 350)
    assert _band_power(after[0], 1.7, 2.3, 2800, 3200) == pytest.approx(
        _band_power(before[0], 1.7, 2.3, 2800, 3200), rel=0.02)
    np.testing.assert_array_equal(after[:, : int(1.4 * RATE)], before[:, : int(1.4 * RATE)])
    entry = w.document.history.entry
    assert "spectral selection" in entry.label and entry.meta["spectral_selection"]["parts"]
    assert panel.status.text().endswith("done")


def test_linear_axis_and_time_snapping(qtbot, window):
    from editor.qt.timeline.spectrogram import SpectroSettings

    w = window
    tid = _show(w, _tones())
    lanes = w.timeline.lanes
    lanes.display_for(tid).spectro = SpectroSettings(scale="linear")
    lanes.snap_enabled = True
    w.state.set_cursor(RATE)  # a snap target at 1.000 s
    w.spectral_tool.actions["box"].trigger()
    a = _pt(w, tid, 1.0, 9000.0)
    a.setX(a.x() + 3)  # a few pixels beside the cursor
    drag(qtbot, lanes, a, _pt(w, tid, 2.0, 6000.0))
    sel = w.host.selection.current()
    assert sel.start == RATE  # snapped to the cursor
    # On the linear axis a row is Nyquist / 256 = 94 Hz: the band snaps to row edges within that.
    step = RATE / 2 / 256
    assert abs(sel.low_hz - 6000.0) <= step and abs(sel.high_hz - 9000.0) <= step
    assert sel.low_hz / step == pytest.approx(round(sel.low_hz / step))
