"""The stem remix panel in the main window, driven as a user would: select a clip,
separate it (a job), move stem sliders, preview live, apply (one undo step), extract
stems to tracks, process one stem with another effect; the stem cache means a clip
is separated by the model only once.

The music is generated (a sung-like harmonic voice with vibrato, kick and hats, a
bass line, chords), three seconds of it, separated with the bundled Spleeter on
the CPU. The tests share one clip (seed 11), so in a full run the model separates
it once and every later test gets its stems from the stem cache (which lives in
the session's temporary cache folder); each test also passes on its own.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider
from seedwave_plugins.stems import api as stems_api
from seedwave_plugins.stems.cache import stem_cache
from seedwave_plugins.stems.engine import MODEL_RUNS
from seedwave_plugins.stems.mixing import StemMix

from editor.core import edits
from editor.core.model import Clip, Project, Selection
from editor.core.sequence import AudioSeq
from editor.engine.renderer import render
from editor.host.widgets.fader import db_to_pos, pos_to_db
from editor.host.widgets.param_form import NumberField

from .effect_fixtures import GainFx
from .gui_helpers import close_window, lane_point, make_window, registry_with, require_audio, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 44100
SEP_TIMEOUT = 180_000  # ms: the first separation also imports torch and loads Spleeter


def music(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Planar stereo float32: voice + drums + bass + chords, peaks around 0.7."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 220.0 * 2 ** (rng.integers(0, 5) / 12)
    vib = f0 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(vib) / rate
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t) ** 2
    voice = env * sum(0.12 / h * np.sin(h * phase) for h in range(1, 8))
    drums = np.zeros(n)
    beat = rate // 2
    for i, s in enumerate(range(0, n, beat // 2)):
        k = min(n - s, 5000)
        e = np.exp(-np.arange(k) / (1500 if i % 2 == 0 else 250))
        if i % 2 == 0:
            drums[s:s + k] += 0.5 * e * np.sin(2 * np.pi * (50 + 80 * e) * np.arange(k) / rate)
        drums[s:s + k] += 0.1 * e * rng.standard_normal(k)
    root = 55.0 * 2 ** (rng.integers(0, 4) / 12)
    bass = 0.25 * np.sin(2 * np.pi * root * t)
    chords = sum(0.04 * np.sin(2 * np.pi * root * m * t + m) for m in (4, 5, 6))
    left = voice + drums + bass + chords
    right = 0.9 * voice + drums + bass + 0.8 * chords
    return np.stack([left, right]).astype(np.float32)


def _remix(w):
    """The stems plugin's panel, through the host API (the window has no attribute for it)."""
    return w.host.ui.panel("stems.remix")


def _spleeter(w):
    panel = _remix(w)
    panel.model.setCurrentIndex(panel.model.findData("spleeter"))  # the choice is remembered
    return w


@pytest.fixture
def window(qtbot):
    w = _spleeter(make_window(qtbot))
    yield w
    close_window(w)


# --------------------------------------------------------------------------- helpers


def _load(qtbot, w, store, seed: int, other_track: bool = True) -> dict:
    """A "Music" track with one clip (4 s of audio, the clip plays 3 s of it from 0.25 s,
    placed at 0.5 s, with a fade-in and a clip gain), optionally a second track of noise;
    the cursor put on the clip with a click."""
    x = music(4.0, RATE, seed)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    clip = Clip(seq, RATE // 2, offset=RATE // 4, length=3 * RATE, gain_db=-1.5, fade_in=RATE // 10, name="song")
    p = edits.add_track(Project(sample_rate=RATE), "Music", (clip,))
    p = edits.set_track(p, p.tracks[0].id, gain_db=-2.0, colour="#c95fbf")
    if other_track:
        noise = (0.05 * np.random.default_rng(99).standard_normal((2, 4 * RATE))).astype(np.float32)
        p = edits.add_track(p, "Room", (Clip(AudioSeq.from_blocks(store.blocks_from_array(noise), 2), 0),))
    w.set_project(p)
    qtbot.wait(50)
    w.fit_project()
    qtbot.wait(20)
    qtbot.mouseClick(w.timeline.lanes, Qt.MouseButton.LeftButton, pos=lane_point(w, 2 * RATE, 0))
    assert w.state.track_ids == (w.project.tracks[0].id,)
    clip = w.project.tracks[0].clips[0]
    wait_until(qtbot, lambda: _remix(w).clip_id == clip.id)  # the panel follows the cursor
    return {"data": x, "clip": clip}


def _open_panel(qtbot, w):
    """Open the Remix panel from the Effects menu's action."""
    w.plugin_ui.actions["stems.show_remix"].trigger()  # Effects > Stem Remix Panel…
    panel = _remix(w)
    wait_until(qtbot, lambda: panel.isVisible() and panel.clip_id is not None)
    return panel


def _separate(qtbot, panel):
    assert panel.separate_button.isEnabled()
    with qtbot.waitSignal(panel.separation_finished, timeout=SEP_TIMEOUT) as sig:
        qtbot.mouseClick(panel.separate_button, Qt.MouseButton.LeftButton)
    job = sig.args[0]
    assert job.state.value == "done", job.error
    assert panel.session is not None and set(panel.rows) == {"vocals", "drums", "bass", "other"}
    return panel.session


def _type_gain(qtbot, row, text: str) -> None:
    box = row.gain_box
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _drag_slider(qtbot, slider, fraction: float, steps: int = 6) -> None:
    """Drag a horizontal slider's handle with the mouse to ``fraction`` (0 left .. 1 right) of its groove."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    handle = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle,
                                           slider)
    a = handle.center()
    b = QPoint(int(round(fraction * (slider.width() - 1))), a.y())
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(slider, QPoint(a.x() + (b.x() - a.x()) * i // steps, a.y()))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=b)


def _visible(clip: Clip) -> np.ndarray:
    return clip.audio.read(clip.offset, clip.offset + clip.length)


# --------------------------------------------------------------------------- tests


def test_separate_move_slider_apply_then_undo_is_bit_exact(qtbot, window, store):
    w = window
    loaded = _load(qtbot, w, store, seed=11)
    project0, runs0, steps0 = w.project, MODEL_RUNS["spleeter"], w.document.history.index
    panel = _open_panel(qtbot, w)
    assert panel.clip_id == loaded["clip"].id and "song on Music" in panel.target_label.text()
    assert panel.model.currentData() == "spleeter" and not panel.apply_button.isEnabled()

    session = _separate(qtbot, panel)
    assert MODEL_RUNS["spleeter"] == runs0 + 1  # a new clip: the model ran once
    # Spleeter gives vocals and the shipped splitter the other three: no row is marked approximate.
    assert [n for n, r in panel.rows.items() if not r.approx_label.isHidden()] == []
    assert panel.rows["vocals"].approx_label.isHidden() and panel.approx_note.isHidden()
    # A unity remix is the original (the stems sum to the input).
    source = _visible(loaded["clip"])
    assert np.abs(stems_api.remix(session.stems) - source).max() <= 1e-6

    # Drag the vocals slider down with the keyboard (three page steps), then type +2 dB for the drums.
    vocals = panel.rows["vocals"]
    vocals.gain.setFocus()
    for _ in range(3):
        qtbot.keyClick(vocals.gain, Qt.Key.Key_PageDown)
    g = pos_to_db(db_to_pos(0.0) - 3 * vocals.gain.pageStep())
    assert g < -6.0 and session.setting("vocals") == StemMix(gain_db=g)
    assert vocals.gain_box.text() == f"{g:+.1f}"
    _type_gain(qtbot, panel.rows["drums"], "+2")
    assert session.setting("drums") == StemMix(gain_db=2.0)
    assert w.project is project0  # moving sliders touches no document

    with qtbot.waitSignal(panel.applied, timeout=20000) as sig:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert sig.args == [True]
    entry = w.document.history.entry
    assert entry.label.startswith("Remix stems: vocals") and "drums +2.0 dB" in entry.label
    assert entry.meta["model"] == "spleeter" and entry.meta["model_sha256"]
    assert entry.meta["params"]["vocals"]["gain_db"] == g and entry.meta["params"]["drums"]["gain_db"] == 2.0
    assert entry.meta["approximate_stems"] == []  # drums, bass and other come from the shipped splitter
    assert w.document.history.index == steps0 + 1  # one undo step
    clip = w.project.tracks[0].clips[0]
    expected = stems_api.remix(session.stems, {"vocals": StemMix(gain_db=g), "drums": StemMix(gain_db=2.0)})
    np.testing.assert_array_equal(_visible(clip), expected)
    data = loaded["data"]
    np.testing.assert_array_equal(clip.audio.read(0, clip.offset), data[:, :clip.offset])  # outside: untouched
    np.testing.assert_array_equal(clip.audio.read(clip.offset + clip.length, clip.audio.frames),
                                  data[:, clip.offset + clip.length:])
    assert w.project.tracks[1] is project0.tracks[1]
    assert clip.position == loaded["clip"].position and clip.length == loaded["clip"].length

    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
    np.testing.assert_array_equal(w.project.tracks[0].clips[0].audio.read(0, 4 * RATE), data)
    # The panel still holds the session (the clip is the original again) and its settings.
    assert panel.session is session and panel.apply_button.isEnabled()
    assert panel.rows["drums"].mix.gain_db == 2.0
    assert MODEL_RUNS["spleeter"] == runs0 + 1

    # Another edit of the clip's audio makes the stems stale; undoing it brings them back.
    c0 = loaded["clip"]
    w.document.apply(lambda p: edits.amplify(p, Selection(c0.position, c0.end, (p.tracks[0].id,)), -3.0), "Gain")
    wait_until(qtbot, lambda: panel.session is None)
    assert "changed since it was separated" in panel.status.text() and not panel.apply_button.isEnabled()
    w.document.undo()
    wait_until(qtbot, lambda: panel.session is session)
    assert panel.apply_button.isEnabled()


def test_second_remix_of_the_same_clip_runs_no_model(qtbot, window, store):
    w = window
    # A separation cancelled at once (a clip never separated before) leaves nothing behind.
    _load(qtbot, w, store, seed=12)
    panel = _open_panel(qtbot, w)
    with qtbot.waitSignal(panel.separation_finished, timeout=SEP_TIMEOUT) as sig:
        qtbot.mouseClick(panel.separate_button, Qt.MouseButton.LeftButton)
        assert not panel.cancel_button.isHidden() and not panel.separate_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].state.value == "cancelled" and panel.session is None and not panel.sessions
    assert panel.status.text() == "Separation cancelled" and panel.cancel_button.isHidden()
    assert panel.separate_button.isEnabled()

    _load(qtbot, w, store, seed=11)
    # A model that is not installed: Separate is off and the panel says what is missing.
    panel.model.setCurrentIndex(panel.model.findData("htdemucs"))
    assert not panel.separate_button.isEnabled() and not panel.models_button.isHidden()
    assert "not installed" in panel.model_note.text() and "Models…" in panel.model_note.text()
    panel.model.setCurrentIndex(panel.model.findData("spleeter"))
    assert panel.separate_button.isEnabled()

    session = _separate(qtbot, panel)  # the model runs here unless an earlier test separated this clip
    runs, hits = MODEL_RUNS["spleeter"], stem_cache().hits
    vocals = panel.rows["vocals"]
    vocals.gain.setFocus()
    for key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageDown, Qt.Key.Key_Down):
        qtbot.keyClick(vocals.gain, key)
    setting = session.setting("vocals")
    assert setting.gain_db < 0

    # Close the panel, work on the other track, come back and reopen it: same session, no job at all.
    w.host.ui.dock("stems.remix").close()
    qtbot.mouseClick(w.timeline.lanes, Qt.MouseButton.LeftButton, pos=lane_point(w, 2 * RATE, 1))
    panel.refresh()
    assert panel.session is None and panel.clip_id == w.project.tracks[1].clips[0].id
    qtbot.mouseClick(w.timeline.lanes, Qt.MouseButton.LeftButton, pos=lane_point(w, 3 * RATE, 0))
    panel = _open_panel(qtbot, w)
    assert panel.session is session and panel.rows["vocals"].mix == setting

    # Separating again, and separating in a new window (as after a restart): the stem cache answers.
    again = _separate(qtbot, panel)
    assert again is session and session.setting("vocals") == setting  # the settings are kept
    assert panel.status.text().endswith("(from the cache)")
    w2 = make_window(qtbot)
    try:
        w2.set_project(w.project)
        w2.fit_project()
        qtbot.mouseClick(w2.timeline.lanes, Qt.MouseButton.LeftButton, pos=lane_point(w2, 2 * RATE, 0))
        panel2 = _open_panel(qtbot, w2)
        fresh = _separate(qtbot, panel2)
        assert fresh is not session
        for name in fresh.names:
            np.testing.assert_array_equal(fresh.stems.read()[name], session.stems.read()[name])
    finally:
        close_window(w2)

    # A second remix, applied: still no model run.
    _type_gain(qtbot, panel.rows["bass"], "-inf")
    with qtbot.waitSignal(panel.applied, timeout=20000):
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert w.document.history.entry.meta["params"]["bass"]["gain_db"] == "-inf"
    assert MODEL_RUNS["spleeter"] == runs and stem_cache().hits >= hits + 2


def test_extract_stems_to_tracks_sample_aligned_and_summing_to_the_mix(qtbot, window, store):
    w = window
    loaded = _load(qtbot, w, store, seed=11)
    before = w.project
    panel = _open_panel(qtbot, w)
    session = _separate(qtbot, panel)
    steps = w.document.history.index

    qtbot.mouseClick(panel.extract_button, Qt.MouseButton.LeftButton)
    p = w.project
    assert w.document.history.index == steps + 1 and w.document.history.entry.label == "Extract stems to tracks"
    assert w.document.history.entry.meta["model"] == "spleeter"
    assert [t.name for t in p.tracks] == ["Music", "Music — vocals", "Music — drums", "Music — bass",
                                          "Music — other", "Room"]
    src, src_clip = p.tracks[0], loaded["clip"]
    assert src.mute and src.clips == before.tracks[0].clips  # muted, not deleted
    stems = session.stems.read()
    for track, name in zip(p.tracks[1:5], session.names, strict=True):
        assert track.colour == src.colour == "#c95fbf" and track.gain_db == src.gain_db and not track.mute
        (c,) = track.clips
        for attr in ("position", "offset", "length", "gain_db", "fade_in", "fade_out", "fade_in_shape",
                     "fade_out_shape"):
            assert getattr(c, attr) == getattr(src_clip, attr), attr
        assert c.audio.frames == src_clip.audio.frames
        np.testing.assert_array_equal(_visible(c), stems[name])
        assert not c.audio.read(0, c.offset).any()  # outside the clip's window: silence
    # Rendered, the stem tracks (with the source muted) sound like the original mix.
    np.testing.assert_allclose(render(p, 0, before.end), render(before, 0, before.end), rtol=0, atol=2e-6)

    w.document.undo()
    assert w.project is before
    # Let the event loop run, as it does in the app: the mixer deletes the removed tracks' strips
    # with deleteLater after orphaning them (setParent(None)), so until then they are top-level widgets.
    qtbot.wait(20)


def test_live_preview_follows_the_sliders_without_touching_the_document(qtbot, window, store):
    w = window
    require_audio(w.player)
    _load(qtbot, w, store, seed=11, other_track=False)
    panel = _open_panel(qtbot, w)
    session = _separate(qtbot, panel)
    project0, steps0 = w.project, w.document.history.index
    clip = project0.tracks[0].clips[0]

    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # loops from the cursor to the clip's end
    wait_until(qtbot, lambda: panel.preview.playing)
    assert panel.play_button.text() == "Stop preview"
    assert w.preview_project is not None and w.preview_project is not project0

    def level() -> float:
        lv = w.player.levels_at()
        return max(lv.master) if lv is not None else -1.0

    wait_until(qtbot, lambda: level() > 0.05)

    # Drag the vocals slider to the bottom (-inf): the player gets a new scratch project at once.
    vocals = panel.rows["vocals"].gain
    with qtbot.waitSignal(panel.preview.updated, timeout=2000):
        _drag_slider(qtbot, vocals, 0.0)
    wait_until(qtbot, lambda: w.preview_project is panel.preview.project, timeout=2)
    scratch = w.preview_project
    assert w.preview_project is scratch and session.setting("vocals").gain_db == -math.inf
    a, b = panel.preview.region
    c = scratch.tracks[0].clips[0]
    got = c.audio.read(c.offset + a - c.position, c.offset + b - c.position)
    expected = stems_api.remix(session.stems, {"vocals": StemMix(gain_db=-math.inf)}, a - clip.position,
                               b - clip.position)
    np.testing.assert_array_equal(got, expected)

    # Mute every stem: what the player renders goes silent; A (original) brings the sound back.
    for row in panel.rows.values():
        qtbot.mouseClick(row.mute_btn, Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: level() == 0.0, timeout=5)
    qtbot.mouseClick(panel.variant_buttons["original"], Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: level() > 0.05, timeout=5)
    assert panel.preview.variant == "original"
    qtbot.mouseClick(panel.ab_button, Qt.MouseButton.LeftButton)  # A/B: back to the remix, still silent
    assert panel.variant_buttons["remix"].isChecked()
    wait_until(qtbot, lambda: level() == 0.0, timeout=5)
    assert w.project is project0 and w.document.history.index == steps0  # the document never changed

    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: not w.player.playing)
    assert w.preview_project is None and panel.play_button.text() == "Preview"

    # Playing the document, a control change takes the playback over at the playhead.
    w.play_pause()
    wait_until(qtbot, lambda: w.player.playing and level() > 0.05)
    assert w.preview_project is None
    qtbot.mouseClick(panel.rows["drums"].mute_btn, Qt.MouseButton.LeftButton)  # unmute drums
    wait_until(qtbot, lambda: panel.preview.playing and w.preview_project is not None, timeout=3)
    assert w.project is project0
    w.stop()
    assert w.preview_project is None


@pytest.fixture
def gain_window(qtbot):
    """A window whose effects include a test effect (an injected registry)."""
    w = _spleeter(make_window(qtbot, effects=registry_with(GainFx)))
    yield w
    close_window(w)


def test_effect_on_one_stem_then_remix(qtbot, gain_window, store):
    w = gain_window
    _load(qtbot, w, store, seed=11)
    panel = _open_panel(qtbot, w)
    session = _separate(qtbot, panel)
    separated = session.stems.read()
    row = panel.rows["vocals"]

    def run_gain(gain: float) -> None:
        row.fx_menu.aboutToShow.emit()  # what opening the FX menu does
        ids = [a.objectName() for a in row.fx_menu.actions()]
        assert "test_gain" in ids and "stems" not in ids and "remix" not in ids
        next(a for a in row.fx_menu.actions() if a.objectName() == "test_gain").trigger()
        dlg = panel.fx_dialog
        assert dlg is not None and dlg.isVisible() and dlg.windowTitle() == "Test gain on vocals"
        field = dlg.form.fields["gain"]
        assert isinstance(field, NumberField)
        field.spin.setValue(gain)
        with qtbot.waitSignal(panel.stem_effect_finished, timeout=20000) as sig:
            qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
        assert sig.args[0].state.value == "done" and panel.fx_dialog is None

    run_gain(0.25)
    assert not row.fx_label.isHidden() and "Test gain" in row.fx_label.text()
    n = session.frames
    np.testing.assert_array_equal(session.audio("vocals").read(0, n), separated["vocals"] * np.float32(0.25))
    run_gain(0.5)  # a second effect processes the processed stem
    vocals = separated["vocals"] * np.float32(0.25) * np.float32(0.5)
    np.testing.assert_array_equal(session.audio("vocals").read(0, n), vocals)

    with qtbot.waitSignal(panel.applied, timeout=20000):
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    entry = w.document.history.entry
    assert "vocals Test gain + Test gain" in entry.label
    steps = entry.meta["stem_effects"]["vocals"]["steps"]
    assert [st["effect"] for st in steps] == ["test_gain", "test_gain"] and steps[1]["params"] == {"gain": 0.5}
    expected = stems_api.remix({**separated, "vocals": vocals})
    np.testing.assert_array_equal(_visible(w.project.tracks[0].clips[0]), expected)

    # Revert: the separated stem again; the stem cache never held the processed one.
    row.fx_menu.aboutToShow.emit()
    revert = next(a for a in row.fx_menu.actions() if a.objectName() == "revert")
    assert revert.isEnabled()
    revert.trigger()
    assert "vocals" not in session.processed and row.fx_label.isHidden()
    w.document.undo()
    fresh = _separate(qtbot, panel)
    np.testing.assert_array_equal(fresh.stems.read()["vocals"], separated["vocals"])
