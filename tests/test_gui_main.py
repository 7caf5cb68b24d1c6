"""The main window, driven as a user would: open, zoom, select, cut, undo, play, save, reopen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from editor.core.projectfile import load_project
from editor.engine import playback

from .audiogen import noise, sines, write
from .gui_helpers import close_window, drag, lane_point, make_window, mix, require_audio, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000


def _stereo_file(tmp_path: Path, seconds: float = 20.0) -> Path:
    x = sines((220.0, 331.0), seconds, RATE, channels=2) + noise(seconds, RATE, 2, 0.05)
    return write(tmp_path / "take.wav", x, RATE, "PCM_24")


def _open(qtbot, w, path: Path) -> None:
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(path)])
    assert w.project.tracks, w.statusBar().currentMessage()


def test_open_zoom_select_cut_undo_play_save_reopen(qtbot, window, tmp_path):
    w = window
    _open(qtbot, w, _stereo_file(tmp_path))
    project0 = w.project
    before = mix(project0)
    assert w.windowTitle().startswith("take")

    # Zoom in twice with the keyboard, around the cursor.
    w.fit_project()
    fpp0 = w.state.fpp
    shortcut(qtbot, w, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    shortcut(qtbot, w, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert w.state.fpp == pytest.approx(fpp0 / 4)

    # Select a range with the mouse on the track's audio.
    lanes = w.timeline.lanes
    a = lane_point(w, int(w.state.left + 100 * w.state.fpp))
    b = QPoint(a.x() + 300, a.y())
    drag(qtbot, lanes, a, b)
    sel = w.state.selection
    assert sel.track_ids == (project0.tracks[0].id,)
    assert sel.length == pytest.approx(300 * w.state.fpp, abs=2 * w.state.fpp)

    # Cut with the shortcut; the model loses exactly that range, later audio moves left.
    shortcut(qtbot, w, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    clip = w.project.tracks[0].clips[0]
    assert clip.length == project0.tracks[0].clips[0].length - sel.length
    after = mix(w.project)
    expected = np.concatenate([before[:, : sel.start], before[:, sel.stop :]], axis=1)
    np.testing.assert_array_equal(after, expected)
    assert w.document.modified and w.windowTitle().startswith("*")

    # Undo gives back bit-identical audio.
    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
    np.testing.assert_array_equal(mix(w.project), before)
    # Redo with Ctrl+Y, undo again with Ctrl+Z.
    shortcut(qtbot, w, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert w.project.tracks[0].clips[0].length == clip.length
    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    # Play the selection on the audio device; the playhead moves through it.
    w.state.set_selection(sel.start, sel.start + RATE * 3, sel.track_ids)
    require_audio(w.player)
    with qtbot.waitSignal(w.playback_started, timeout=5000):
        w.act_play_sel.trigger()
    wait_until(qtbot, lambda: (w.state.playhead or 0) > sel.start + RATE // 10, timeout=8)
    assert sel.start < w.state.playhead <= sel.start + RATE * 3
    w.stop()

    # Save, reopen, compare.
    out = tmp_path / "session.seedwave"
    assert w._save_to(out, wait=True)
    assert not w.document.modified and out.is_file()
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(out)])
    assert w.document.path == out
    np.testing.assert_array_equal(mix(w.project), before)
    np.testing.assert_array_equal(mix(load_project(out)), before)


def test_shift_click_extends_and_select_all(qtbot, window, tmp_path):
    w = window
    _open(qtbot, w, _stereo_file(tmp_path, 5.0))
    lanes = w.timeline.lanes
    w.fit_project()
    p1 = lane_point(w, RATE)
    qtbot.mouseClick(lanes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p1)
    assert not w.state.has_range and abs(w.state.cursor - RATE) <= w.state.fpp
    p2 = lane_point(w, 3 * RATE)
    qtbot.mouseClick(lanes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p2)
    assert w.state.has_range
    assert abs(w.state.sel_start - RATE) <= w.state.fpp and abs(w.state.sel_stop - 3 * RATE) <= w.state.fpp
    shortcut(qtbot, w, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert (w.state.sel_start, w.state.sel_stop) == (0, w.project.end)


def test_selection_fields_edit_the_selection(qtbot, window, tmp_path):
    w = window
    _open(qtbot, w, _stereo_file(tmp_path, 5.0))
    w.state.set_selection(0, 0, (w.project.tracks[0].id,))
    bar = w.selection_bar
    bar.fields["start"].setText("00:00:01.000")
    bar.fields["start"].editingFinished.emit()
    bar.fields["length"].setText("0.5")
    bar.fields["length"].editingFinished.emit()
    assert (w.state.sel_start, w.state.sel_stop) == (RATE, RATE + RATE // 2)
    bar.unit.setCurrentIndex(1)
    assert bar.fields["end"].text() == str(RATE + RATE // 2)


def test_import_can_be_cancelled(qtbot, window, tmp_path, store):
    w = window
    # A long FLAC decodes for a while: long enough to cancel.
    x = noise(600.0, RATE, 2, 0.2)
    path = write(tmp_path / "long.flac", x, RATE, "PCM_16")
    del x
    jobs = w.import_paths([str(path)])
    assert len(jobs) == 1
    job = jobs[0]
    wait_until(qtbot, lambda: job.fraction > 0.0, timeout=20)
    with qtbot.waitSignal(w.import_finished, timeout=5000):
        job.cancel()
    assert job.state.value == "cancelled"
    assert not w.project.tracks
    assert not list(store.folder.glob("*.f32")), "a cancelled import leaves no cache files"
    # The window still works afterwards.
    _open(qtbot, w, _stereo_file(tmp_path, 2.0))


def test_no_audio_device(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(playback, "probe_output", lambda: (False, "no audio output device found"))
    w = make_window(qtbot)
    try:
        assert not w.player.available
        assert not w.act_play.isEnabled()
        assert "no audio output device found" in w.status_audio.text()
        _open(qtbot, w, _stereo_file(tmp_path, 2.0))
        w.play_pause()  # does nothing, does not raise
        w.select_all()
        w.cut()
        assert not w.project.tracks[0].clips
    finally:
        close_window(w)


def test_demo_project_opens(qtbot, window):
    from editor.qt.app import load_demo

    w = window
    with qtbot.waitSignal(w.document.history_changed, timeout=20000):
        load_demo(w)
    names = [t.name for t in w.project.tracks]
    assert len(names) >= 5 and any("Speech" in n for n in names)
    assert np.abs(mix(w.project)).max() > 0.05
    assert not w.document.modified
    speech = w.project.tracks[-1].id  # shown as waveform and spectrogram, and its header says so
    assert w.timeline.lanes.display_for(speech).mode == "both"
    assert w.timeline.headers[speech].mode.currentData() == "both"



def test_first_start_opens_at_the_size_given_with_the_panels_tabbed(qtbot):
    """With no saved layout the panels are tabbed once the window shows; until then the
    docks waiting to be tabbed must not stack up and open the window taller than asked."""
    from editor.qt.main_window import MainWindow
    from editor.qt.settings import Settings

    w = MainWindow(Settings())
    w.modal_errors = False
    w.resize(1280, 800)
    w.show()
    try:
        assert (w.width(), w.height()) == (1280, 800)
        remix, fill = w.host.ui.dock("stems.remix"), w.host.ui.dock("fill.panel")  # plugin panels, tabbed as asked
        wait_until(qtbot, lambda: {remix, fill} <= set(w.tabifiedDockWidgets(w.effects_dock)))
        assert w.jobs_dock in w.tabifiedDockWidgets(w.history_dock)
        for dock in (w.history_dock, w.jobs_dock, w.effects_dock, remix, fill, w.mixer_dock):
            assert not dock.isHidden(), dock.objectName()
        assert (w.width(), w.height()) == (1280, 800)
    finally:
        close_window(w)
