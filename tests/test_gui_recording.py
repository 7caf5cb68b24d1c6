"""Recording in the real window: Record (R) over the PulseAudio null sink, whose monitor
source is the default input, so what the project plays comes back as the take.
Overdub alignment, arming a track, the missing-device message and the recovery of a
take that a killed recording left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal as ss
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from editor.core.edits import add_track
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.takefile import orphaned_takes
from editor.engine.recorder import input_devices

from .gui_helpers import require_audio, shortcut, wait_until
from .test_recording import _CHILD

RATE = 44100


def _require_input() -> None:
    if not input_devices():
        if os.environ.get("SEEDWAVE_REQUIRE_AUDIO") == "1":
            pytest.fail("no audio input although the null sink's monitor should be there")
        pytest.skip("no audio input device")


def _bursts(store, seconds: float = 2.0) -> tuple[np.ndarray, AudioSeq]:
    rng = np.random.default_rng(11)
    sig = np.zeros((2, int(seconds * RATE)), np.float32)
    for k in range(4):
        a = int((0.2 + 0.4 * k) * RATE)
        sig[:, a : a + 3000] = 0.2 * rng.standard_normal(3000)
    return sig, AudioSeq.from_blocks(store.blocks_from_array(sig), 2)


def _stored(qtbot, w, start_stop) -> str | None:  # noqa: ANN001
    with qtbot.waitSignal(w.recording.stored, timeout=20000) as blocker:
        start_stop()
    return blocker.args[0]


def test_overdub_records_what_the_project_plays_aligned_with_it(window, qtbot, store):
    _require_input()
    w = window
    require_audio(w.player)
    sig, seq = _bursts(store)
    at = 3 * RATE  # after the null sink's start-up stall
    w.set_project(add_track(Project(sample_rate=RATE), "Reference", (Clip(seq, at),)), None, "Test")
    w.state.set_cursor(0)
    shortcut(qtbot, w, Qt.Key.Key_R)  # Record: no armed track, so a new track at the playhead
    wait_until(qtbot, lambda: w.recording.recording, timeout=10)
    assert w.act_record.isChecked() and w.player.playing, "the other tracks play while recording"
    wait_until(qtbot, lambda: w.player.position > at + sig.shape[1] + RATE // 2, timeout=20)
    take = w.recording.take
    grown = w.recording.overlay.take_rect()
    assert w.recording.overlay.isVisible() and grown is not None and grown.width() > 50, "the take grows on screen"
    clip_id = _stored(qtbot, w, lambda: shortcut(qtbot, w, Qt.Key.Key_R))  # R again stops
    assert clip_id and not w.player.playing and not w.act_record.isChecked()
    names = [t.name for t in w.project.tracks]
    assert names == ["Reference", "Recording 1"]
    track, clip = w.project.find_clip(clip_id)
    assert track.name == "Recording 1" and clip.position >= take.position
    assert w.document.history.entry.label == "Record"
    data = clip.audio.read(clip.offset, clip.length)
    ref = sig[0]
    corr = ss.correlate(data[0], ref, mode="full", method="fft")
    lag = int(np.argmax(np.abs(corr))) - (ref.size - 1)
    error_ms = ((clip.position + lag) - at) / RATE * 1000.0
    seg = data[0, max(0, lag) : max(0, lag) + ref.size]
    similarity = float(np.dot(seg, ref[: seg.size]) / (np.linalg.norm(seg) * np.linalg.norm(ref[: seg.size])))
    latency_ms = w.recording.last_compensation / RATE * 1000.0
    print(f"window overdub: compensation {latency_ms:.1f} ms, alignment error {error_ms:+.1f} ms, "
          f"similarity {similarity:.4f}")
    assert similarity > 0.98
    assert abs(error_ms) < latency_ms + 30.0  # the tolerance of tests/test_recording.py
    w.document.undo()
    assert [t.name for t in w.project.tracks] == ["Reference"], "Record is one undo step"


def test_recording_onto_an_armed_track_replaces_what_it_covers(window, qtbot, store):
    _require_input()
    w = window
    require_audio(w.player)
    _sig, seq = _bursts(store, 6.0)
    project = add_track(Project(sample_rate=RATE), "Backing", (Clip(seq, 0),))
    project = add_track(project, "Vocal", (Clip(seq, 0, length=RATE),))
    w.set_project(project, None, "Test")
    vocal = w.project.tracks[1].id
    header = w.timeline.headers[vocal]
    qtbot.mouseClick(header.arm, Qt.MouseButton.LeftButton)
    assert header.arm.isChecked() and w.timeline.armed_tracks == {vocal}
    assert header.arm.accessibleName() == "Arm Vocal for recording"
    start = 2 * RATE
    w.state.set_cursor(start)
    w.act_record.trigger()
    wait_until(qtbot, lambda: w.recording.recording and w.recording.frames > RATE, timeout=15)
    clip_id = _stored(qtbot, w, w.act_stop.trigger)  # Stop ends the take too
    assert clip_id
    assert [t.name for t in w.project.tracks] == ["Backing", "Vocal"], "no new track"
    track, clip = w.project.find_clip(clip_id)
    assert track.id == vocal and clip.length > RATE
    assert start - RATE // 2 < clip.position <= start + RATE // 2
    others = [c for c in track.clips if c.id != clip_id]
    assert others and all(c.end <= clip.position or c.position >= clip.end for c in others)
    assert header.arm.isChecked(), "the track stays armed for the next take"
    w.state.set_selection(0, 0, (vocal,))
    shortcut(qtbot, w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not header.arm.isChecked() and not w.timeline.armed_tracks, "Tracks > Arm toggles it from the keyboard"


def test_recording_into_an_empty_project_moves_the_playhead_and_makes_a_track(window, qtbot):
    _require_input()
    w = window
    w.set_project(Project(sample_rate=RATE), None, "Test")
    w.settings.set("record/channels", 1)  # Settings > Recording: mono
    w.state.set_cursor(RATE)
    w.act_record_new.trigger()  # Shift+R: a new track
    assert w.recording.recording and not w.recording.playing, "nothing to play: recording alone"
    assert not w.act_record_new.isEnabled()
    wait_until(qtbot, lambda: (w.state.playhead or 0) > RATE + RATE // 2, timeout=10)  # the playhead moves
    assert w.time_label.text() != "00:00:00.000"
    frames = w.recording.frames
    clip_id = _stored(qtbot, w, w.act_record.trigger)
    track, clip = w.project.find_clip(clip_id)
    assert [t.name for t in w.project.tracks] == ["Recording 1"] and track.channels == 1
    assert clip.position == RATE - w.recording.last_compensation and clip.length >= frames
    assert w.act_record_new.isEnabled() and w.state.playhead is None


def test_a_missing_input_device_is_one_clear_line(window, qtbot):
    w = window
    w.settings.set("record/device", "No Such Microphone")
    w.act_record.trigger()
    msg = w.recording.last_error
    assert msg.startswith("Cannot record:") and "\n" not in msg
    assert "not connected" in msg or "no audio input" in msg
    assert w.statusBar().currentMessage() == msg
    assert not w.recording.active and not w.act_record.isChecked()


def test_settings_recording_tab_stores_the_input_and_shows_its_level(window, qtbot):
    from editor.qt.dialogs.settings import SettingsDialog

    w = window
    dlg = SettingsDialog(w)
    page = dlg.record_page
    try:
        page.channels.setCurrentIndex(page.channels.findData(1))
        page.latency.setValue(12)
        dlg.apply()
        assert w.settings.get("record/channels") == 1 and w.settings.get("record/latency_ms") == 12
        assert w.recording.input_settings()[1:] == (1, 12.0)
        if input_devices():
            page.monitor_button.click()
            assert page.monitor is not None and page.monitor.running
        page.device.addItem("Gone Mic", "Gone Mic")
        page.device.setCurrentIndex(page.device.count() - 1)
        page.set_monitoring(True)
        assert page.monitor is None and "Cannot open the input" in page.status.text()
        assert "\n" not in page.status.text()
    finally:
        dlg.reject()
        dlg.deleteLater()
    assert page.monitor is None


def _killed_take(tmp_path) -> int:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        last = 0
        for line in child.stdout:  # noqa: B007 - until two seconds of audio were written
            last = int(line)
            if last >= 2 * 8000:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
        child.stdout.close()
    return last


def test_recovery_offers_a_take_a_killed_recording_left(window, qtbot, tmp_path, monkeypatch):
    from editor.qt.recording import offer_take_recovery

    last = _killed_take(tmp_path)
    w = window
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    before = len(w.project.tracks)
    assert offer_take_recovery(w, tmp_path)
    assert asked and "stopped while recording" in asked[0][2] and "Vocal" in asked[0][2]
    wait_until(qtbot, lambda: len(w.project.tracks) == before + 1, timeout=10)
    track = w.project.tracks[-1]
    assert track.name == "Vocal" and len(track.clips) == 1
    clip = track.clips[0]
    assert clip.position == 123 and clip.length >= last - 8000  # at most the last second is lost
    assert w.document.history.entry.label == "Recover recordings"
    assert orphaned_takes(tmp_path) == [], "the take's files are gone once it is a track"
    w.document.undo()
    assert len(w.project.tracks) == before


def test_declining_recovery_discards_the_take(window, qtbot, tmp_path, monkeypatch):
    from editor.qt.recording import offer_take_recovery

    _killed_take(tmp_path)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    before = window.project
    assert not offer_take_recovery(window, tmp_path)
    assert orphaned_takes(tmp_path) == [] and not list(tmp_path.glob("*.f32"))
    assert window.project is before
