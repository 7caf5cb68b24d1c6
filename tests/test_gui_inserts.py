"""Live insert effects in the mixer, driven through the real window's widgets: add an
EQ and a compressor on a track, change a parameter (a slider drag is one undo step),
bypass (pressed state, different audio), reorder, remove, undo; the master chain;
Apply bakes as one undo step; the EQ form draws its response curve; Noise
reduction's "Use selection" takes the noise profile from the selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq

from .gui_helpers import mix, wait_until

pytestmark = pytest.mark.gui
RATE = 48000


def _music(seconds: float, seed: int = 3) -> np.ndarray:
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * 110 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(n)
    return np.stack([x, np.roll(x, 50)]).astype(np.float32)


def _load(w, store, x: np.ndarray, name: str = "Drums") -> str:
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), x.shape[0])
    w.set_project(Project(RATE, (Track(name, (Clip(seq, 0),)),)))
    return w.project.tracks[0].id


def _ids(w, owner) -> list[str]:
    from editor.core.insert_edits import chain_of

    return [s.effect_id for s in chain_of(w.project, owner)]


def _add(qtbot, section, effect_id: str) -> None:
    """Pick ``effect_id`` in the strip's Add menu, as a user does."""
    section.add_menu.aboutToShow.emit()
    action = next(a for a in section.add_menu.actions() if a.data() == effect_id)
    action.trigger()


def _handle_centre(slider) -> QPoint:
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    r = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle,
                                      slider)
    return r.center()


def _drag_slider(qtbot, slider, dx: int) -> None:
    a = _handle_centre(slider)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=a)
    for i in range(1, 9):
        qtbot.mouseMove(slider, QPoint(a.x() + dx * i // 8, a.y()))
        qtbot.wait(60)  # the mixer throttles drag edits: several land in the history
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(a.x() + dx, a.y()))


def test_track_inserts_add_edit_bypass_reorder_remove_and_undo(qtbot, window, store):
    w = window
    tid = _load(w, store, _music(1.0))
    w.mixer_dock.show()
    sec = w.mixer.strips[tid].inserts
    original = w.project
    dry = mix(w.project)
    assert not sec.body.isVisible()
    qtbot.mouseClick(sec.toggle, Qt.MouseButton.LeftButton)
    assert sec.body.isVisible() and sec.toggle.accessibleName() == "Drums insert effects (0)"

    steps = len(w.document.history.entries)
    _add(qtbot, sec, "eq")
    _add(qtbot, sec, "compressor")
    assert _ids(w, tid) == ["eq", "compressor"]
    assert len(w.document.history.entries) == steps + 2
    assert sec.list.count() == 2 and sec.toggle.text() == "FX 2"

    # parameters: a typed value is one undo step and is heard
    sec.list.setCurrentRow(0)
    ed = sec.open_params()
    assert ed is not None and ed.extras.curve is not None  # the EQ draws its curve here too
    before = len(w.document.history.entries)
    ed.form.fields["band1_gain"].spin.setValue(9.0)
    w.mixer._end_merge()
    eq = w.project.track(tid).inserts.steps[0]
    assert eq.param_dict["band1_gain"] == 9.0
    assert len(w.document.history.entries) == before + 1
    # a slider drag is one undo step however many values it sent
    before = len(w.document.history.entries)
    slider = ed.form.fields["band4_gain"].slider
    _drag_slider(qtbot, slider, slider.width() // 4)
    assert w.project.track(tid).inserts.steps[0].param_dict["band4_gain"] > 1.0
    assert len(w.document.history.entries) == before + 1
    wet_before = len(w.document.history.entries)
    _drag_slider(qtbot, sec.wet, -sec.wet.width() // 3)
    assert 0.0 < w.project.track(tid).inserts.steps[0].wet < 1.0
    assert len(w.document.history.entries) == wet_before + 1

    # bypass: a pressed button, and the audio changes
    wet = mix(w.project)
    assert not np.allclose(wet, dry, atol=1e-4)
    sec.list.setCurrentRow(0)
    qtbot.mouseClick(sec.bypass_btn, Qt.MouseButton.LeftButton)
    assert sec.bypass_btn.isChecked() and w.project.track(tid).inserts.steps[0].bypass
    bypassed = mix(w.project)
    assert not np.allclose(bypassed, wet, atol=1e-4)
    qtbot.mouseClick(sec.bypass_btn, Qt.MouseButton.LeftButton)
    assert not sec.bypass_btn.isChecked() and not w.project.track(tid).inserts.steps[0].bypass
    np.testing.assert_array_equal(mix(w.project), wet)

    # reorder from the keyboard and with the buttons
    sec.list.setFocus()
    sec.list.setCurrentRow(1)
    qtbot.keyClick(sec.list, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert _ids(w, tid) == ["compressor", "eq"]
    assert sec.current_step().effect_id == "compressor"
    qtbot.mouseClick(sec.down_btn, Qt.MouseButton.LeftButton)
    assert _ids(w, tid) == ["eq", "compressor"]

    # remove (the parameter editor of a removed step closes)
    sec.list.setCurrentRow(0)
    qtbot.keyClick(sec.list, Qt.Key.Key_Delete)
    assert _ids(w, tid) == ["compressor"]
    assert not ed.isVisible()
    qtbot.mouseClick(sec.remove_btn, Qt.MouseButton.LeftButton)
    assert _ids(w, tid) == []

    # undo gives everything back, step by step
    while w.document.history.can_undo and w.project is not original:
        w.document.undo()
    assert w.project is original and sec.list.count() == 0
    np.testing.assert_array_equal(mix(w.project), dry)


def test_effects_that_need_the_whole_recording_are_refused_with_one_line(qtbot, window, store):
    w = window
    tid = _load(w, store, _music(0.5))
    sec = w.mixer.strips[tid].inserts
    sec.add_menu.aboutToShow.emit()
    sub = next(a.menu() for a in sec.add_menu.actions() if a.menu() is not None)
    next(a for a in sub.actions() if a.text() == "Noise reduction").trigger()
    assert _ids(w, tid) == []
    assert "cannot run live" in w.statusBar().currentMessage()


def test_master_chain_and_its_wet_dry(qtbot, window, store):
    w = window
    _load(w, store, _music(1.0))
    sec = w.mixer.master.inserts
    dry = mix(w.project)
    qtbot.mouseClick(sec.toggle, Qt.MouseButton.LeftButton)
    _add(qtbot, sec, "eq")
    assert _ids(w, None) == ["eq"]
    ed = sec.open_params()
    ed.form.fields["output_gain"].spin.setValue(-6.0)
    w.mixer._end_merge()
    np.testing.assert_allclose(mix(w.project), dry * 10 ** (-6 / 20), atol=1e-5)
    sec.wet.setValue(0)  # from the keyboard: fully dry
    w.mixer._end_merge()
    assert w.project.master_inserts.steps[0].wet == 0.0
    np.testing.assert_allclose(mix(w.project), dry, atol=1e-6)
    w.document.undo()
    assert w.project.master_inserts.steps[0].wet == 1.0 and sec.wet.value() == 100


def test_apply_bakes_the_chain_as_one_undo_step_and_undo_is_bit_exact(qtbot, window, store):
    w = window
    x = _music(1.0)
    tid = _load(w, store, x)
    sec = w.mixer.strips[tid].inserts
    qtbot.mouseClick(sec.toggle, Qt.MouseButton.LeftButton)
    _add(qtbot, sec, "eq")
    sec.open_params().form.fields["band1_gain"].spin.setValue(8.0)
    w.mixer._end_merge()
    heard = mix(w.project)
    before_apply = w.project
    steps = len(w.document.history.entries)
    assert sec.apply_btn.isEnabled()
    qtbot.mouseClick(sec.apply_btn, Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: w.document.history.entry.label == "Apply effects", timeout=30)
    assert len(w.document.history.entries) == steps + 1
    assert _ids(w, tid) == [] and not sec.apply_btn.isEnabled()
    np.testing.assert_allclose(mix(w.project), heard, atol=1e-5)  # sounds as it did
    w.document.undo()
    assert w.project is before_apply and _ids(w, tid) == ["eq"]
    clip = w.project.track(tid).clips[0]
    assert clip.audio.read(0, clip.length).tobytes() == x.tobytes()


def test_eq_form_draws_the_effects_response_and_follows_a_band_gain(qtbot, window, store):
    from seedwave_plugins.classic.eq import eq_response

    from editor.qt.panels.effects import show_effect

    w = window
    _load(w, store, _music(0.5))
    show_effect(w, "eq")
    panel = w.effect_panel
    curve = panel.form_extras.curve
    assert curve is not None and curve.accessibleName() == "Response curve"
    np.testing.assert_allclose(curve.db, eq_response(panel.values(), curve.freqs, RATE), atol=1e-9)
    flat = curve.db.copy()
    assert np.max(np.abs(flat)) < 1e-6
    panel.form.fields["band3_gain"].spin.setValue(6.0)
    np.testing.assert_allclose(curve.db, eq_response(panel.values(), curve.freqs, RATE), atol=1e-9)
    peak = curve.freqs[np.argmax(curve.db)]
    assert np.max(curve.db) == pytest.approx(6.0, abs=0.2) and 500 < peak < 1300
    show_effect(w, "highpass")  # any effect with a curve gets it drawn: the filters too
    curve = panel.form_extras.curve
    panel.form.fields["cutoff"].spin.setValue(200.0)
    assert np.interp(200.0, curve.freqs, curve.db) == pytest.approx(-3.0, abs=0.05)
    assert curve.db[0] < -30 and abs(curve.db[-1]) < 0.01
    show_effect(w, "compressor")
    assert panel.form_extras.curve is None  # effects without a curve draw none


def test_noise_profile_from_the_selection_then_applied_lowers_the_noise_floor(qtbot, window, store):
    from editor.qt.panels.effects import show_effect

    w = window
    rng = np.random.default_rng(5)
    n = 3 * RATE
    t = np.arange(n) / RATE
    x = (0.02 * rng.standard_normal(n)).astype(np.float32)
    x[RATE:] += (0.3 * np.sin(2 * np.pi * 440 * t[RATE:])).astype(np.float32)
    tid = _load(w, store, x[None], "Voice")
    show_effect(w, "noisereduce")
    panel = w.effect_panel
    button = panel.form_extras.use_selection["profile"]
    assert button.accessibleName() == "Noise profile from the selection"
    assert panel.values()["profile"] == ""
    w.host.selection.set(0, RATE // 2, (tid,))  # noise only
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.values()["profile"] != ""
    panel.form.fields["reduction"].spin.setValue(24.0)
    w.host.selection.set(RATE // 2, n, (tid,))  # another stretch: the rest of the track
    panel.scope.setCurrentIndex(panel.scope.findData("selection"))
    steps = len(w.document.history.entries)
    assert panel.apply() is not None
    wait_until(qtbot, lambda: len(w.document.history.entries) == steps + 1, timeout=60)
    assert w.document.history.entry.label.startswith("Noise reduction")
    out = w.project.track(tid).clips
    audio = np.concatenate([c.audio.read(0, c.length) for c in out], axis=1)
    quiet = slice(RATE // 2 + RATE // 8, RATE - RATE // 8)  # noise only, inside what was cleaned
    assert 20 * np.log10(np.std(x[quiet]) / np.std(audio[0, quiet])) > 12
    tone = slice(2 * RATE, 3 * RATE - RATE // 8)
    assert abs(20 * np.log10(np.std(audio[0, tone]) / np.std(x[tone]))) < 1.0


def test_undoing_a_track_away_closes_its_insert_editor(qtbot, window, store):
    w = window
    x = _music(0.5)
    _load(w, store, x)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    w.document.apply(lambda p: p.with_(tracks=(*p.tracks, Track("Bass", (Clip(seq, 0),)))), "Add track")
    tid = w.project.tracks[1].id
    sec = w.mixer.strips[tid].inserts
    _add(qtbot, sec, "reverb")
    ed = sec.open_params()
    assert ed.isVisible() and ed.windowTitle().endswith("Bass")
    w.document.undo()
    w.document.undo()  # the track goes
    assert tid not in w.mixer.strips and not ed.isVisible()
