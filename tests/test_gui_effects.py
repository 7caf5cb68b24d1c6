"""Effects in the main window, driven as a user would: pick an effect in the panel,
set parameters, preview with A/B, apply, cancel, undo; errors, out-of-memory
fallback, missing models, new tracks, results after edits elsewhere, closing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QMenu, QMessageBox, QSpinBox

from editor.core import edits
from editor.core.model import Clip, Project, Selection
from editor.core.sequence import AudioSeq
from editor.effects import device as devices
from editor.host.widgets.param_form import NumberField
from editor.jobs.runner import JobState

from .audiogen import noise
from .effect_fixtures import ALL, MODEL_BYTES, MODEL_SPEC, SlowFx
from .gui_helpers import (
    close_window,
    drag,
    lane_point,
    make_window,
    mix,
    registry_with,
    require_audio,
    shortcut,
    wait_until,
)

pytestmark = pytest.mark.gui
RATE = 48000


@pytest.fixture
def window(qtbot, store, tmp_path):
    w = make_window(qtbot, effects=registry_with(*ALL))  # an injected registry: the plugins' effects and ALL
    w.settings.set("models/folder", str(tmp_path / "models"))  # each test starts with no models
    w.effect_panel.populate()
    yield w
    w.settings.set("models/folder", "")
    close_window(w)


def _load(qtbot, w, store, seconds: float = 4.0, tracks: int = 2) -> list[np.ndarray]:
    """A project with ``tracks`` tracks of stereo noise, fitted to the view."""
    p = Project(sample_rate=RATE)
    data = []
    for i in range(tracks):
        x = noise(seconds, RATE, 2, 0.2, seed=i)
        data.append(x)
        seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
        p = edits.add_track(p, f"Voice {i + 1}", (Clip(seq, 0, name=f"take {i + 1}"),))
    w.set_project(p)
    qtbot.wait(50)
    w.fit_project()
    return data


def _pick(qtbot, w, effect_id: str) -> None:
    """Find the effect with the search field and click it in the list."""
    panel = w.effect_panel
    w.effects_dock.show()
    panel.search.clear()
    qtbot.keyClicks(panel.search, effect_id.replace("test_", "test "))
    items = [panel.list.item(i) for i in range(panel.list.count())]
    item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == effect_id)
    assert not item.isHidden()
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.effect is not None and panel.effect.id == effect_id


def _select(qtbot, w, a: int, b: int, track: int = 0) -> None:
    """Drag over the track's audio from frame a to frame b."""
    pa, pb = lane_point(w, a, track), lane_point(w, b, track)
    drag(qtbot, w.timeline.lanes, pa, pb)
    assert w.state.has_range and w.state.track_ids == (w.project.tracks[track].id,)


def _apply(qtbot, w, timeout: int = 20000):
    with qtbot.waitSignal(w.effects.run_finished, timeout=timeout) as sig:
        qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
    return sig.args[0]


def _spin(panel, name: str):
    field = panel.form.fields[name]
    assert isinstance(field, NumberField)
    return field.spin


# --------------------------------------------------------------------------- apply, undo, provenance


def test_apply_to_selection_then_undo_is_bit_exact_with_provenance_in_history(qtbot, window, store):
    w = window
    data = _load(qtbot, w, store)
    before = mix(w.project)
    project0 = w.project
    _select(qtbot, w, RATE, 3 * RATE)
    sel = w.state.selection
    _pick(qtbot, w, "test_gain")
    spin = _spin(w.effect_panel, "gain")
    assert spin.suffix() == " ×" and (spin.minimum(), spin.maximum()) == (0.0, 2.0)
    spin.setValue(0.25)

    job = _apply(qtbot, w)
    assert job.state is JobState.DONE and job.kind == "effect" and not job.gpu
    entry = w.document.history.entry
    assert entry.label == "Test gain (gain=0.25)"
    assert entry.meta["effect"] == "test_gain" and entry.meta["version"] == "3"
    assert entry.meta["params"] == {"gain": 0.25} and entry.meta["device"] == "cpu"
    clip = w.project.tracks[0].clips[0]
    got = clip.audio.read(0, clip.audio.frames)
    expected = data[0].copy()
    expected[:, sel.start:sel.stop] *= np.float32(0.25)
    np.testing.assert_array_equal(got, expected)  # outside the selection: untouched samples
    assert w.project.tracks[1] is project0.tracks[1]

    # The history panel shows the provenance of the step.
    hp = w.history_panel
    item = hp.list.item(hp.list.count() - 1)
    assert "effect: test_gain" in item.toolTip() and '"gain": 0.25' in item.toolTip()
    assert "version: 3" in hp.details.text()

    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
    np.testing.assert_array_equal(mix(w.project), before)


def test_parameter_form_follows_the_schema_and_presets_round_trip(qtbot, window, store, monkeypatch, tmp_path):
    w = window
    panel = w.effect_panel
    monkeypatch.setattr(w.effects.presets, "folder", tmp_path / "presets")
    _pick(qtbot, w, "test_form")
    f = panel.form.fields
    amount = f["amount"]
    assert isinstance(amount, NumberField) and amount.slider is not None
    assert isinstance(amount.spin, QDoubleSpinBox) and amount.spin.suffix() == " dB"
    assert isinstance(f["taps"].spin, QSpinBox) and f["taps"].spin.maximum() == 64
    assert isinstance(f["bright"], QCheckBox) and f["bright"].isChecked()
    assert isinstance(f["mode"], QComboBox) and f["mode"].count() == 2
    assert f["amount"].toolTip() == "how much" and f["mode"].toolTip() == "knee"
    # Slider and spin box follow each other.
    amount.slider.setValue(amount.slider.maximum())
    assert amount.spin.value() == 100.0
    amount.spin.setValue(40.0)
    assert amount.slider.value() == 40

    panel.set_values({"amount": 12.0, "taps": 3, "bright": False, "mode": "hard"})
    monkeypatch.setattr("editor.qt.panels.effects.QInputDialog.getText", lambda *a, **k: ("Harsh", True))
    qtbot.mouseClick(panel.save_preset, Qt.MouseButton.LeftButton)
    assert (tmp_path / "presets" / "test_form.json").is_file()
    qtbot.mouseClick(panel.reset, Qt.MouseButton.LeftButton)
    assert panel.values() == {"amount": 30.0, "taps": 8, "bright": True, "mode": "soft"}
    index = panel.presets.findData("Harsh")
    assert index > 0
    panel.presets.setCurrentIndex(index)
    panel.presets.activated.emit(index)
    assert panel.values() == {"amount": 12.0, "taps": 3, "bright": False, "mode": "hard"}
    monkeypatch.setattr("editor.qt.panels.effects.QMessageBox.question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.delete_preset, Qt.MouseButton.LeftButton)
    assert panel.presets.findData("Harsh") < 0


def test_search_filters_the_list_and_menus_open_the_panel(qtbot, window):
    w = window
    panel = w.effect_panel
    qtbot.keyClicks(panel.search, "multiplies")  # matches the description
    visible = [panel.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.list.count())
               if not panel.list.item(i).isHidden()]
    assert visible == ["test_gain"]
    # The Effects menu lists every effect; choosing one opens the panel on it.
    w.effects_dock.hide()
    menu = w.menu_effects
    menu.aboutToShow.emit()
    action = next(a for a in menu.actions() if a.text().replace("&", "") == "Test boom…")
    assert any(a.text().replace("&", "") == "Denoise…" for a in menu.actions())
    action.trigger()
    assert w.effects_dock.isVisible() and panel.effect.id == "test_boom"
    # The timeline's context menu has an Effects submenu.
    m = QMenu(w)
    w._extend_menu(m, "timeline")  # what the timeline's context menu adds
    sub = next(a.menu() for a in m.actions() if a.menu() is not None and a.text() == "Effects")
    next(a for a in sub.actions() if a.text() == "Test split…").trigger()
    assert panel.effect.id == "test_split" and not panel.mode.isEnabled()
    m.deleteLater()


# --------------------------------------------------------------------------- preview


def test_preview_plays_without_touching_the_document_and_ab_switches(qtbot, window, store):
    w = window
    require_audio(w.player)
    data = _load(qtbot, w, store, seconds=10.0, tracks=1)
    project0, entries0 = w.project, len(w.document.history.entries)
    before = mix(project0)
    w.move_cursor(5 * RATE)
    _pick(qtbot, w, "test_gain")
    with qtbot.waitSignal(w.effects.preview_ready, timeout=20000) as sig:
        qtbot.mouseClick(w.effect_panel.preview_button, Qt.MouseButton.LeftButton)
    ps = sig.args[0]
    assert (ps.start, ps.stop) == (2 * RATE, 8 * RATE)  # preview_seconds (6 s) around the cursor
    assert w.player.playing and w.effects.previewing
    assert w.player._project is ps.processed
    assert w.effect_panel.preview_button.text() == "Stop preview"
    a = ps.processed.tracks[0].clips[0].audio
    np.testing.assert_array_equal(a.read(ps.start, ps.stop), data[0][:, ps.start:ps.stop] * np.float32(0.5))

    panel = w.effect_panel
    qtbot.mouseClick(panel.variant_buttons["original"], Qt.MouseButton.LeftButton)
    assert w.player._project is ps.original and w.player.playing
    qtbot.mouseClick(panel.ab_button, Qt.MouseButton.LeftButton)
    assert w.player._project is ps.processed and panel.variant_buttons["processed"].isChecked()
    qtbot.mouseClick(panel.ab_button, Qt.MouseButton.LeftButton)
    assert w.player._project is ps.original and panel.variant_buttons["original"].isChecked()
    qtbot.mouseClick(panel.variant_buttons["removed"], Qt.MouseButton.LeftButton)
    assert w.player._project is ps.removed
    r = ps.removed.tracks[0].clips[0]
    np.testing.assert_allclose(r.audio.read(0, r.length), data[0][:, ps.start:ps.stop] * 0.5, atol=1e-7)

    with qtbot.waitSignal(w.playback_stopped, timeout=5000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert w.player._project is w.project
    # The document never changed.
    assert w.project is project0 and len(w.document.history.entries) == entries0
    assert not w.document.modified
    np.testing.assert_array_equal(mix(w.project), before)


def test_preview_loops_shows_what_plays_reverts_when_playback_ends_and_is_reused(qtbot, window, store):
    """One audition state: the A/B buttons show what plays, the preview loops over the
    selection until stopped, "Stop preview" turns back into "Preview" whoever stops the
    playback, and previewing again with the same settings replays the processed audio."""
    w = window
    require_audio(w.player)
    _load(qtbot, w, store, seconds=4.0, tracks=1)
    tid = w.project.tracks[0].id
    w.state.set_selection(RATE // 2, RATE, (tid,))
    _pick(qtbot, w, "test_gain")
    panel = w.effect_panel
    previews = []
    w.jobs.job_added.connect(previews.append)  # emitted on the GUI thread, by submit()
    with qtbot.waitSignal(w.effects.preview_ready, timeout=20000) as sig:
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    ps = sig.args[0]
    assert (ps.start, ps.stop) == (RATE // 2, RATE)
    st = w.audition.state
    assert (st.owner, st.variant, st.start, st.stop, st.loop) == ("effects", "processed", RATE // 2, RATE, True)
    assert panel.preview_button.text() == "Stop preview" and panel.variant_buttons["processed"].isChecked()

    # It loops: the playhead comes back to the start of the half-second selection.
    heard = []
    w.state.playhead_changed.connect(heard.append)
    wait_until(qtbot, lambda: any(b < a for a, b in zip(heard, heard[1:], strict=False)), timeout=10)
    assert w.effects.previewing and all(RATE // 2 <= f <= RATE for f in heard if f >= 0)

    qtbot.mouseClick(panel.variant_buttons["original"], Qt.MouseButton.LeftButton)
    assert w.audition.state.variant == "original" and panel.variant_buttons["original"].isChecked()
    assert not panel.variant_buttons["processed"].isChecked()

    # The transport's Stop ends the preview: the panel follows.
    w.act_stop.trigger()
    assert w.audition.state.owner == "" and panel.preview_button.text() == "Preview"
    assert w.player._project is w.project

    # Again, nothing changed: no new processing, the same audio plays at once.
    n = len([j for j in previews if j.kind == "preview"])
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert len([j for j in previews if j.kind == "preview"]) == n
    assert w.effects.previewing and w.player._project is ps.original  # still on A, as chosen
    assert panel.preview_button.text() == "Stop preview"
    # Another setting is processed anew.
    w.act_stop.trigger()
    _spin(panel, "gain").setValue(0.25)
    with qtbot.waitSignal(w.effects.preview_ready, timeout=20000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert len([j for j in previews if j.kind == "preview"]) == n + 1
    w.stop()


# --------------------------------------------------------------------------- cancel, errors, OOM, models


def test_cancel_mid_job_stops_at_the_next_step_and_leaves_the_project_unchanged(qtbot, window, store):
    w = window
    _load(qtbot, w, store, tracks=1)
    project0, entries0 = w.project, len(w.document.history.entries)
    before = mix(project0)
    blocks0 = set(store.folder.glob("*.f32"))
    w.select_all()
    _pick(qtbot, w, "test_slow")
    _spin(w.effect_panel, "seconds").setValue(20.0)
    qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
    job = w.effect_panel.job
    wait_until(qtbot, lambda: job.fraction > 0.01, timeout=10)
    # The project stays editable while the job runs.
    w.document.apply(lambda p: edits.set_master_gain(p, -1.0), "Master gain")
    w.document.undo()
    assert w.project is project0
    row = w.jobs_panel.row(job)
    assert row.state.text().startswith("Thinking slowly")
    with qtbot.waitSignal(w.effects.run_finished, timeout=20000):
        steps_at_cancel = SlowFx.steps_after_cancel
        qtbot.mouseClick(w.effect_panel.cancel_button, Qt.MouseButton.LeftButton)
        assert job.wait(20.0)
    assert SlowFx.steps_after_cancel == steps_at_cancel, "no step begins after a cancel"
    assert job.state is JobState.CANCELLED
    assert w.project is project0 and len(w.document.history.entries) == entries0 + 1  # the master-gain step
    assert w.document.history.index == entries0 - 1
    np.testing.assert_array_equal(mix(w.project), before)
    assert set(store.folder.glob("*.f32")) == blocks0
    row.refresh()
    assert row.state.text() == "Cancelled" and not row.cancel.isVisible()

    # The same from the jobs panel, which also shows the time left.
    qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
    job = w.effect_panel.job
    row = w.jobs_panel.row(job)
    # The estimate appears once a second or so of progress has been measured (editor.core.eta).
    wait_until(qtbot, lambda: (row.refresh(), row.eta.text().endswith("left"))[1], timeout=10)
    assert row.cancel.isEnabled()
    with qtbot.waitSignal(w.effects.run_finished, timeout=20000):
        steps_at_cancel = SlowFx.steps_after_cancel
        qtbot.mouseClick(row.cancel, Qt.MouseButton.LeftButton)
        assert job.wait(20.0)
    assert SlowFx.steps_after_cancel == steps_at_cancel
    assert job.state is JobState.CANCELLED and w.project is project0


def test_an_effect_that_raises_shows_a_message_and_the_app_lives_on(qtbot, window, store):
    w = window
    _load(qtbot, w, store, tracks=1)
    project0 = w.project
    w.select_all()
    _pick(qtbot, w, "test_boom")
    job = _apply(qtbot, w)
    assert job.state is JobState.FAILED
    assert "boom: the effect fell over" in w._last_error
    assert "boom" in w.effect_panel.status.text()
    row = w.jobs_panel.row(job)
    assert "Error: RuntimeError: boom" in row.note.text() and "Traceback" in row.toolTip()
    assert w.project is project0
    # The app goes on working.
    _pick(qtbot, w, "test_gain")
    assert _apply(qtbot, w).state is JobState.DONE and w.project is not project0


def test_cuda_out_of_memory_falls_back_and_the_user_is_told(qtbot, window, store, monkeypatch):
    w = window
    fake = devices.DeviceReport(True, False, "Fake GPU")
    monkeypatch.setattr(devices, "detect", lambda: fake)
    monkeypatch.setattr(devices, "last_report", lambda: fake)
    monkeypatch.setattr("tests.effect_fixtures.OomFx.limit_seconds", 0.1)  # too big even in small chunks
    data = _load(qtbot, w, store, seconds=12.0, tracks=1)
    w.select_all()
    _pick(qtbot, w, "test_oom")
    job = _apply(qtbot, w, timeout=60000)
    assert job.gpu, "a GPU effect queues for the GPU slot"
    assert job.state is JobState.DONE
    meta = w.document.history.entry.meta
    assert meta["device"] == "cuda" and meta["device_fallback"] == "cpu"
    clip = w.project.tracks[0].clips[0]
    np.testing.assert_allclose(clip.audio.read(0, clip.length), data[0], atol=1e-6)
    # Told: in the jobs panel, the effect panel and the status bar.
    note = w.jobs_panel.row(job).note.text()
    assert "ran out of memory" in note and "finishing on the CPU" in note
    assert "finishing on the CPU" in w.effect_panel.status.text()
    assert "out of memory" in w.statusBar().currentMessage()
    # With the device policy set to CPU, GPU effects run on the CPU slots.
    w.settings.set("ai/device", "cpu")
    try:
        assert not w.effects.uses_gpu_slot(w.effects.registry.get("test_oom"))
    finally:
        w.settings.set("ai/device", "auto")


def test_missing_model_gives_the_message_and_importing_it_fixes_it(qtbot, window, store, monkeypatch, tmp_path):
    w = window
    _load(qtbot, w, store, seconds=2.0, tracks=1)
    w.select_all()
    _pick(qtbot, w, "test_model")
    note = w.effect_panel.model_note
    assert note.isVisible() and "Needs test-model" in note.text()
    job = _apply(qtbot, w)
    assert job.state is JobState.FAILED
    assert "Test model needs the model 'test-model'" in w._last_error
    assert "Import model file… with test-model.bin" in w._last_error

    src = tmp_path / "downloaded-weights.bin"
    src.write_bytes(MODEL_BYTES)
    monkeypatch.setattr("editor.qt.dialogs.models.QFileDialog.getOpenFileName", lambda *a, **k: (str(src), ""))
    with qtbot.waitSignal(w.jobs.job_ended, timeout=10000):
        w.act_import_model.trigger()
    wait_until(qtbot, lambda: "installed" in note.text())
    job = _apply(qtbot, w)
    assert job.state is JobState.DONE
    assert w.document.history.entry.meta["model_sha256"] == MODEL_SPEC.sha256


def test_model_manager_lists_and_downloads_from_a_local_server(qtbot, window, monkeypatch):
    from dataclasses import replace

    from .effect_fixtures import ModelFx
    from .test_models import ModelServer

    w = window
    with ModelServer({"m.bin": MODEL_BYTES}) as server:
        spec = replace(MODEL_SPEC, url=server.base + "m.bin")
        monkeypatch.setattr(ModelFx, "models", (spec,))
        assert w.act_models in w.menu_effects.actions() and w.act_import_model in w.menu_effects.actions()
        w.act_models.trigger()
        dlg = w.models_dialog
        try:
            assert dlg.isVisible()
            row = dlg.rows.index(spec)
            assert dlg.table.item(row, 4).text() == "Not installed"
            assert dlg.table.item(row, 1).text() == "Test model"
            dlg.select_model(spec.filename)
            assert dlg.download_button.isEnabled()
            with qtbot.waitSignal(w.jobs.job_ended, timeout=10000):
                qtbot.mouseClick(dlg.download_button, Qt.MouseButton.LeftButton)
            wait_until(qtbot, lambda: dlg.table.item(row, 4).text() == "Installed")
            assert "Installed test-model.bin" in dlg.message.text()
            dlg.select_model(spec.filename)
            qtbot.mouseClick(dlg.remove_button, Qt.MouseButton.LeftButton)
            assert dlg.table.item(row, 4).text() == "Not installed"
        finally:
            dlg.close()


# --------------------------------------------------------------------------- new tracks, concurrent edits, close


def test_apply_into_a_new_track_leaves_the_original_and_stems_get_a_track_each(qtbot, window, store):
    w = window
    data = _load(qtbot, w, store, tracks=2)
    project0 = w.project
    _select(qtbot, w, RATE, 2 * RATE)
    sel = w.state.selection
    _pick(qtbot, w, "test_gain")
    panel = w.effect_panel
    panel.mode.setCurrentIndex(panel.mode.findData("new_track"))
    job = _apply(qtbot, w)
    assert job.state is JobState.DONE
    names = [t.name for t in w.project.tracks]
    assert names == ["Voice 1", "Voice 1 (Test gain)", "Voice 2"]
    assert w.project.tracks[0] is project0.tracks[0] and w.project.tracks[2] is project0.tracks[1]
    c = w.project.tracks[1].clips[0]
    assert (c.position, c.length) == (sel.start, sel.length)
    np.testing.assert_array_equal(c.audio.read(0, c.length), data[0][:, sel.start:sel.stop] * np.float32(0.5))
    assert w.document.history.entry.meta["effect"] == "test_gain"

    # A multi-output effect puts each output on its own track.
    w.document.undo()
    w.state.set_selection(0, 0, ())
    w.state.set_clips(())
    w.state.set_selection(0, 0, (project0.tracks[1].id,))
    _pick(qtbot, w, "test_split")
    panel.scope.setCurrentIndex(panel.scope.findData("tracks"))
    _apply(qtbot, w)
    names = [t.name for t in w.project.tracks]
    assert names == ["Voice 1", "Voice 2", "Voice 2 – Low", "Voice 2 – High"]
    low, high = (w.project.tracks[i].clips[0] for i in (2, 3))
    total = low.audio.read(0, low.length) + high.audio.read(0, high.length)
    np.testing.assert_allclose(total, data[1], atol=1e-6)
    assert w.document.history.entry.label == "Test split → new tracks"


def test_result_applies_after_an_edit_elsewhere_and_asks_if_the_target_changed(qtbot, window, store, monkeypatch):
    w = window
    data = _load(qtbot, w, store, tracks=2)
    t1, t2 = (t.id for t in w.project.tracks)
    _select(qtbot, w, RATE // 2, 2 * RATE, track=0)
    sel = w.state.selection
    _pick(qtbot, w, "test_slow")
    _spin(w.effect_panel, "seconds").setValue(0.6)
    with qtbot.waitSignal(w.effects.run_finished, timeout=20000):
        qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
        w.document.apply(lambda p: edits.rename_track(p, t2, "Other"), "Rename")  # elsewhere, meanwhile
        w.document.apply(lambda p: edits.silence(p, Selection(0, RATE, (t2,))), "Silence")
    labels = [e.label for e in w.document.history.entries]
    assert labels[-3:] == ["Rename", "Silence", "Test slow (seconds=0.6)"]
    assert w.project.track(t2).name == "Other"
    t2_audio = w.project.track(t2).clips
    assert sum(c.length for c in t2_audio) == 4 * RATE
    got = w.project.track(t1).clips[0].audio.read(0, 4 * RATE)
    expected = data[0].copy()
    expected[:, sel.start:sel.stop] *= np.float32(0.5)
    np.testing.assert_array_equal(got, expected)

    # The same track changed meanwhile: the user is asked; "No" discards the result.
    asked = []

    def no(*_a, **_k):
        asked.append(True)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", no)
    w.select_none()
    _select(qtbot, w, 5 * RATE // 2, 7 * RATE // 2, track=0)
    with qtbot.waitSignal(w.effects.run_finished, timeout=20000):
        qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
        w.document.apply(lambda p: edits.rename_track(p, t1, "Changed"), "Rename target")
        after_edit = w.project
    assert asked and w.project is after_edit


def test_closing_the_window_cancels_a_running_effect_and_waits(qtbot, store):
    w = make_window(qtbot, effects=registry_with(*ALL))
    try:
        _load(qtbot, w, store, tracks=1)
        project0 = w.project
        w.select_all()
        job = w.effects.apply("test_slow", {"seconds": 30.0})
        wait_until(qtbot, lambda: job.fraction > 0.01, timeout=10)
    finally:
        steps_at_close = SlowFx.steps_after_cancel
        close_window(w)
    assert SlowFx.steps_after_cancel == steps_at_close, "closing cancels the job (no step begins after), then waits"
    assert job.state is JobState.CANCELLED and not w.jobs.active_jobs()
    assert w.project is project0
    QApplication.processEvents()


def test_apply_without_a_target_says_what_to_do(qtbot, window):
    w = window
    _pick(qtbot, w, "test_gain")
    qtbot.mouseClick(w.effect_panel.apply_button, Qt.MouseButton.LeftButton)
    assert "Select a time range" in w.statusBar().currentMessage()
    assert not w.jobs.active_jobs()


def test_denoise_from_the_panel_preview_what_is_removed_then_apply_and_undo(qtbot, window, store):
    from .audiogen import sines

    w = window
    require_audio(w.player)
    x = sines((440.0,), 4.0, RATE, channels=2, amp=0.3) + noise(4.0, RATE, 2, 0.05, seed=3)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    w.set_project(edits.add_track(Project(sample_rate=RATE), "Noisy", (Clip(seq, 0),)))
    qtbot.wait(50)
    w.fit_project()
    project0 = w.project
    _select(qtbot, w, RATE // 2, 3 * RATE)
    sel = w.state.selection
    _pick(qtbot, w, "denoise")
    panel = w.effect_panel
    engine = panel.form.fields["engine"]
    # The menu names the engines as a user knows them; the parameter keeps its id.
    assert [engine.itemText(i) for i in range(engine.count())] == ["DeepFilterNet3", "RNNoise", "spectral gating"]
    engine.setCurrentIndex(engine.findData("spectral"))
    assert panel.variant_buttons["removed"].isVisible()

    with qtbot.waitSignal(w.effects.preview_ready, timeout=60000) as sig:
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    ps = sig.args[0]
    qtbot.mouseClick(panel.variant_buttons["removed"], Qt.MouseButton.LeftButton)
    assert w.player._project is ps.removed
    r = ps.removed.tracks[0].clips[0]
    processed = ps.processed.tracks[0].clips[0].audio.read(r.position, r.position + r.length)
    np.testing.assert_allclose(r.audio.read(0, r.length), x[:, r.position:r.position + r.length] - processed,
                               atol=1e-6)
    with qtbot.waitSignal(w.playback_stopped, timeout=5000):
        qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    assert w.project is project0

    job = _apply(qtbot, w, timeout=60000)
    assert job.state is JobState.DONE, job.error
    entry = w.document.history.entry
    assert entry.label == "Denoise (engine=spectral)"
    assert entry.meta["effect"] == "denoise" and entry.meta["engine"] == "spectral"
    got = w.project.tracks[0].clips[0].audio.read(0, 4 * RATE)
    np.testing.assert_array_equal(got[:, : sel.start], x[:, : sel.start])
    np.testing.assert_array_equal(got[:, sel.stop:], x[:, sel.stop:])
    assert np.std(got[:, sel.start:sel.stop] - x[:, sel.start:sel.stop]) > 0.01, "noise was removed"
    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
