"""The mixer dock, driven through its widgets on the real main window: mute, solo,
fader drag and typed values change the rendered mix exactly as a numpy reference
says; a drag is one undo step; meters show the renderer's output while playing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq
from editor.engine.renderer import render
from editor.host.widgets.fader import STEPS, db_to_pos, parse_db, pos_to_db

from .gui_helpers import drag, mix, require_audio, wait_until

pytestmark = pytest.mark.gui
RATE = 48000
SECONDS = 3.0


def _sources() -> list[np.ndarray]:
    """Three different signals: a mono sine, stereo noise, a stereo chord."""
    n = int(SECONDS * RATE)
    t = np.arange(n) / RATE
    rng = np.random.default_rng(7)
    a = (0.3 * np.sin(2 * np.pi * 220 * t))[None]
    b = 0.1 * rng.standard_normal((2, n))
    c = np.stack([0.2 * np.sin(2 * np.pi * 330 * t), 0.2 * np.sin(2 * np.pi * 495 * t + 1)])
    return [x.astype(np.float32) for x in (a, b, c)]


def _load(w, store, sources: list[np.ndarray], pans=(0.0, -0.5, 0.4)) -> None:
    tracks = []
    for i, x in enumerate(sources):
        seq = AudioSeq.from_blocks(store.blocks_from_array(x), x.shape[0])
        tracks.append(Track(f"Track {i + 1}", (Clip(seq, 0),), pan=pans[i]))
    w.set_project(Project(RATE, tuple(tracks)))


def reference(project: Project, sources: list[np.ndarray]) -> np.ndarray:
    """The mix computed straight from the sources and the usual DAW rules."""
    any_solo = any(t.solo for t in project.tracks)
    out = np.zeros((2, sources[0].shape[1]), np.float64)
    for t, x in zip(project.tracks, sources, strict=True):
        if t.mute or (any_solo and not t.solo):
            continue
        g = 0.0 if t.gain_db == -math.inf else 10 ** (t.gain_db / 20)
        theta = (t.pan + 1) * math.pi / 4
        pan = np.array([[math.sqrt(2) * math.cos(theta)], [math.sqrt(2) * math.sin(theta)]])
        xs = np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x
        out += xs * g * pan
    return out * 10 ** (project.master_gain_db / 20)


def _check_mix(w, sources) -> None:
    np.testing.assert_allclose(mix(w.project), reference(w.project, sources), atol=2e-6)


def _handle_centre(slider) -> QPoint:
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    r = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle,
                                      slider)
    return r.center()


def test_fader_law_and_parsing():
    assert db_to_pos(-math.inf) == 0 and pos_to_db(0) == -math.inf
    assert db_to_pos(12.0) == STEPS and pos_to_db(STEPS) == 12.0
    for db in (-60.0, -20.0, -6.0, 0.0, 6.0):
        assert abs(pos_to_db(db_to_pos(db)) - db) < 0.1
    assert [parse_db(s) for s in ("-6", "+3.5 dB", "-inf", " 0,5 ", "40")] == [-6.0, 3.5, -math.inf, 0.5, 12.0]
    for bad in ("loud", "+inf", ""):
        with pytest.raises(ValueError):
            parse_db(bad)


def test_strips_follow_tracks(qtbot, window, store):
    w = window
    mixer = w.mixer
    assert w.mixer_dock.windowTitle() == "Mixer" and not mixer.strips
    _load(w, store, _sources())
    ids = [t.id for t in w.project.tracks]
    assert list(mixer.strips) == ids
    assert [mixer.strip_lay.itemAt(i).widget() for i in range(3)] == [mixer.strips[t] for t in ids]
    # Rename and recolour follow; a removed track loses its strip; undo brings it back.
    from editor.core.edits import remove_track, set_track

    w.document.apply(lambda p: set_track(p, ids[0], name="Lead vocal", colour="#ff0000"), "Rename")
    s0 = mixer.strips[ids[0]]
    assert s0.name_label.toolTip() == "Lead vocal" and "#ff0000" in s0.colour_bar.styleSheet()
    w.document.apply(lambda p: remove_track(p, ids[1]), "Remove")
    assert list(mixer.strips) == [ids[0], ids[2]]
    w.document.undo()
    assert list(mixer.strips) == ids
    assert mixer.strip_lay.itemAt(1).widget() is mixer.strips[ids[1]]


def test_mute_solo_buttons_change_the_mix(qtbot, window, store):
    w = window
    sources = _sources()
    _load(w, store, sources)
    ids = [t.id for t in w.project.tracks]
    strips = [w.mixer.strips[t] for t in ids]
    _check_mix(w, sources)

    qtbot.mouseClick(strips[0].mute_btn, Qt.MouseButton.LeftButton)
    assert w.project.tracks[0].mute and strips[0].mute_btn.isChecked()
    assert not strips[0].audible and strips[1].audible
    _check_mix(w, sources)

    # Solo track 2: track 3 goes silent too (dimmed, its mute button marked implicit).
    qtbot.mouseClick(strips[1].solo_btn, Qt.MouseButton.LeftButton)
    assert [s.audible for s in strips] == [False, True, False]
    assert strips[2].implicit_mute and not strips[0].implicit_mute
    np.testing.assert_allclose(mix(w.project), reference(w.project, sources), atol=2e-6)
    ref_b = reference(w.project.with_(tracks=(w.project.tracks[1],)), sources[1:2])
    np.testing.assert_allclose(mix(w.project), ref_b, atol=2e-6)

    # A muted track stays silent even when soloed; solo both 1 and 3: only 2 and 3 play.
    qtbot.mouseClick(strips[0].solo_btn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(strips[2].solo_btn, Qt.MouseButton.LeftButton)
    assert [s.audible for s in strips] == [False, True, True]
    _check_mix(w, sources)
    # Unmute track 1: now all three are soloed and play.
    qtbot.mouseClick(strips[0].mute_btn, Qt.MouseButton.LeftButton)
    assert [s.audible for s in strips] == [True, True, True]
    _check_mix(w, sources)
    # Each click was one undo step.
    assert w.document.history.labels()[-5:] == ["Mute Track 1", "Solo Track 2", "Solo Track 1", "Solo Track 3",
                                                "Unmute Track 1"]


def test_fader_drag_is_one_undo_step(qtbot, window, store):
    w = window
    sources = _sources()
    _load(w, store, sources)
    tid = w.project.tracks[1].id
    strip = w.mixer.strips[tid]
    slider = strip.fader.slider
    steps_before = len(w.document.history.entries)
    start = _handle_centre(slider)
    assert slider.value() == db_to_pos(0.0)
    # A slow drag: the document (and so the player) follows while the mouse is still down.
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 11):
        qtbot.mouseMove(slider, QPoint(start.x(), start.y() + 4 * i))
        qtbot.wait(15)
        if i == 5:
            assert w.project.track(tid).gain_db < 0.0  # heard during the drag
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(start.x(), start.y() + 40))
    gain = w.project.track(tid).gain_db
    assert gain < -1.0, gain
    assert gain == pos_to_db(slider.value())
    assert strip.fader.box.text() == f"{gain:+.1f}"
    assert len(w.document.history.entries) == steps_before + 1
    assert w.document.history.entry.label == "Volume Track 2"
    _check_mix(w, sources)

    # A second drag is a second step; undo takes back one whole drag at a time.
    start = _handle_centre(slider)
    drag(qtbot, slider, start, QPoint(start.x(), start.y() - 15), steps=5)
    gain2 = w.project.track(tid).gain_db
    assert gain < gain2 <= 0.5
    assert len(w.document.history.entries) == steps_before + 2
    w.document.undo()
    assert w.project.track(tid).gain_db == gain and slider.value() == db_to_pos(gain)
    w.document.undo()
    assert w.project.track(tid).gain_db == 0.0 and strip.fader.box.text() == "0.0"

    # Pan by keyboard (arrow keys on the focused knob): quick presses are applied at most every
    # EDIT_MS, the last one too, and merge into one step.
    strip.pan.setFocus()
    for _ in range(5):
        qtbot.keyClick(strip.pan, Qt.Key.Key_Right)
    assert strip.pan_label.text() == "L45"
    wait_until(qtbot, lambda: w.project.track(tid).pan == pytest.approx(-0.45), timeout=2)
    assert w.document.history.entry.label == "Pan Track 2"
    assert len(w.document.history.entries) == steps_before + 1  # the redo steps were dropped; one pan step
    _check_mix(w, sources)


def test_double_click_fader_and_type(qtbot, window, store):
    w = window
    sources = _sources()
    _load(w, store, sources)
    tid = w.project.tracks[2].id
    fader = w.mixer.strips[tid].fader
    qtbot.mouseDClick(fader.slider, Qt.MouseButton.LeftButton, pos=QPoint(fader.slider.width() // 2, 4))
    assert fader.box.hasFocus() and fader.box.selectedText() == fader.box.text()
    qtbot.keyClicks(fader.box, "-7.5")
    qtbot.keyClick(fader.box, Qt.Key.Key_Return)
    assert w.project.track(tid).gain_db == -7.5
    assert fader.slider.value() == db_to_pos(-7.5) and fader.box.text() == "-7.5"
    _check_mix(w, sources)
    # Nonsense is refused and the value kept; -inf silences the track.
    fader.edit()
    qtbot.keyClicks(fader.box, "loud")
    qtbot.keyClick(fader.box, Qt.Key.Key_Return)
    assert w.project.track(tid).gain_db == -7.5 and fader.box.text() == "-7.5"
    fader.edit()
    qtbot.keyClicks(fader.box, "-inf")
    qtbot.keyClick(fader.box, Qt.Key.Key_Return)
    assert w.project.track(tid).gain_db == -math.inf and fader.slider.value() == 0
    _check_mix(w, sources)
    # Master fader, typed.
    master = w.mixer.master.fader
    master.edit()
    qtbot.keyClicks(master.box, "-3")
    qtbot.keyClick(master.box, Qt.Key.Key_Return)
    assert w.project.master_gain_db == -3.0
    _check_mix(w, sources)


def test_meters_show_what_is_heard(qtbot, window, store):
    w = window
    require_audio(w.player)
    sources = _sources()
    _load(w, store, sources, pans=(0.0, -1.0, 0.4))
    ids = [t.id for t in w.project.tracks]
    mixer = w.mixer
    master = mixer.master.fader
    master.edit()
    qtbot.keyClicks(master.box, "+6")  # loud enough to clip the master
    qtbot.keyClick(master.box, Qt.Key.Key_Return)
    with qtbot.waitSignal(w.playback_started, timeout=5000):
        w.play_pause()
    try:
        wait_until(qtbot, lambda: mixer.master.meter.position is not None and mixer.master.meter.position > RATE // 4,
                   timeout=10)
        assert mixer.timer.isActive()
        # Every meter shows the peaks of the chunk the renderer made for that position.
        pos = mixer.master.meter.position
        assert all(s.meter.position == pos for s in mixer.strips.values())
        n = min(w.player.CHUNK, w.project.end - pos)
        outs: dict[str, np.ndarray] = {}
        heard = render(w.project, pos, n, track_outputs=outs)
        assert mixer.master.meter.peaks == pytest.approx(tuple(np.abs(heard).max(axis=1)), rel=1e-6)
        for tid in ids:
            assert mixer.strips[tid].meter.peaks == pytest.approx(tuple(np.abs(outs[tid]).max(axis=1)), rel=1e-6)
        # Track 2 is hard left: nothing on its right side.
        assert mixer.strips[ids[1]].meter.peaks[1] == 0.0 < mixer.strips[ids[1]].meter.peaks[0]
        assert mixer.master.meter.clipped
        assert mixer.strips[ids[0]].meter.levels[0] > -20.0

        # Mute track 1 while playing: its meter falls back. (Player.levels_at keeps the levels of
        # audio rendered ahead before the change, up to AHEAD_SECONDS; past that they are new.)
        qtbot.mouseClick(mixer.strips[ids[0]].mute_btn, Qt.MouseButton.LeftButton)
        changed_at = w.player.position
        settle = int(w.player.AHEAD_SECONDS * RATE) + 2 * w.player.CHUNK
        wait_until(qtbot, lambda: (mixer.master.meter.position or 0) > changed_at + settle, timeout=12)
        assert mixer.strips[ids[0]].meter.peaks == (0.0, 0.0)
        lv = w.player.levels_at()
        assert lv is not None and ids[0] not in lv.tracks
        wait_until(qtbot, lambda: mixer.strips[ids[0]].meter.levels[0] < -30.0, timeout=12)
    finally:
        w.stop()
    # After stopping, the meters fall to the floor and the timer stops.
    wait_until(qtbot, lambda: not mixer.timer.isActive(), timeout=8)
    assert all(s.meter.idle for s in mixer.strips.values())
