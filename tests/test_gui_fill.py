"""Fill and Extend in the main window, driven as a user would: select a gap with the mouse,
press Ctrl+Alt+F, wait for the takes, audition them A/B, apply one, undo; extend a clip;
cancel a long neural fill; the messages for regions that cannot be filled."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu
from seedwave_plugins.fill.prior import PRIOR_STEPS
from seedwave_plugins.fill.ui.fill_session import ORIGINAL

from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.effects import device as devices
from editor.jobs.runner import JobState

from .audiogen import sines
from .gui_helpers import close_window, drag, lane_point, make_window, mix, require_audio, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def music_loop(seconds: float = 8.0, bpm: float = 120.0) -> np.ndarray:
    """Stereo one-bar loop (kick, hats, a bass riff), repeated: every bar is the same, so material to match exists."""
    beat = int(RATE * 60 / bpm)
    bar = np.zeros(4 * beat)
    t = np.arange(beat) / RATE
    kick = np.sin(2 * np.pi * (50 * t + 2 * (1 - np.exp(-t * 30)))) * np.exp(-t * 12) * 0.6
    hat = np.random.default_rng(1).standard_normal(beat // 8) * np.exp(-np.arange(beat // 8) / 300) * 0.08
    for i, f in enumerate((55.0, 65.41, 73.42, 82.41)):
        s = i * beat
        bar[s:s + beat] += kick + 0.2 * np.sin(2 * np.pi * f * t) * np.exp(-t * 3)
        bar[s + beat // 2:s + beat // 2 + hat.size] += hat
    y = np.tile(bar, int(np.ceil(seconds * RATE / bar.size)))[: int(seconds * RATE)]
    return np.stack([y, np.roll(y, 24) * 0.9]).astype(np.float32)


def _panel(w):
    """The fill plugin's panel, through the host API (the window has no attribute for it)."""
    return w.host.ui.panel("fill.panel")


def _session(w):
    return _panel(w).s


def _action(w, command: str):
    return w.plugin_ui.actions[command]


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    yield w
    w.settings.set("ai/device", "auto")
    close_window(w)


def _load(qtbot, w, store, clips: list[tuple[np.ndarray, int]]) -> Project:
    """One track holding ``clips`` ((audio, position) pairs), fitted to the view."""
    p = Project(sample_rate=RATE)
    cs = tuple(Clip(AudioSeq.from_blocks(store.blocks_from_array(x), x.shape[0]), pos, name=f"clip {i + 1}")
               for i, (x, pos) in enumerate(clips))
    p = edits.add_track(p, "Music", cs)
    w.set_project(p)
    qtbot.wait(50)
    w.fit_project()
    return w.project


def _point(w, frame: int) -> QPoint:
    """On the track's audio, below the clip's name strip and clear of its gain line."""
    return lane_point(w, frame, below_header=75)


def _select(qtbot, w, a: int, b: int) -> tuple[int, int]:
    drag(qtbot, w.timeline.lanes, _point(w, a), _point(w, b))
    assert w.state.has_range
    return w.state.sel_start, w.state.sel_stop


def _find(qtbot, w, timeout: int = 60000):
    """Press Ctrl+Alt+F and wait for the takes."""
    with qtbot.waitSignal(_session(w).run_finished, timeout=timeout) as sig:
        shortcut(qtbot, w, Qt.Key.Key_F, CTRL_ALT)
    job = sig.args[0]
    assert job.state is JobState.DONE, job.error
    return _session(w).take_set


def _click_row(qtbot, w, row: int) -> None:
    lst = _panel(w).list
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(lst.item(row)).center())
    assert lst.currentRow() == row


def _clip_audio(project: Project, index: int = 0) -> np.ndarray:
    c = project.tracks[0].clips[index]
    return c.audio.read(c.offset, c.offset + c.length)


# --------------------------------------------------------------------------- fill: takes, A/B, apply, undo


def test_fill_a_gap_in_a_loop_choose_a_take_apply_and_undo_bit_exact(qtbot, window, store):
    w = window
    x = music_loop()
    x[:, int(3.37 * RATE):int(3.62 * RATE)] = 0.0  # a dropout
    project0 = _load(qtbot, w, store, [(x, 0)])
    entries0 = len(w.document.history.entries)
    a, b = _select(qtbot, w, int(3.37 * RATE), int(3.62 * RATE))

    ts = _find(qtbot, w)
    panel = _panel(w)
    assert w.host.ui.dock("fill.panel").isVisible() and panel.tabs.currentIndex() == 0
    assert len(ts.takes) >= 3 and {p.engine for p in ts.takes} == {"match"}
    assert "Auto chose Context match" in panel.header.text()
    assert panel.list.count() == len(ts.takes) + 1 and panel.list.item(0).text().startswith("A")
    assert w.project is project0 and len(w.document.history.entries) == entries0  # nothing applied yet
    for p in ts.takes:  # each take covers the selection (plus its short cross-fades)
        assert p.start <= a and p.stop >= b and p.seq.frames == p.stop - p.start

    # The takes differ from each other, and take N is the same every time (here: the engine on its own).
    t1, t2 = ts.takes[0].take.audio, ts.takes[1].take.audio
    assert not np.array_equal(t1, t2)
    from seedwave_plugins.fill import candidates

    tg = ts.target
    direct = candidates(x[:, tg.w0:tg.w1], RATE, (tg.start - tg.w0) / RATE, (tg.stop - tg.w0) / RATE, "auto", 5)
    np.testing.assert_array_equal(direct[1].audio, t2)

    # Choose take 2 and apply it: one undo step that records engine, take and parameters.
    _click_row(qtbot, w, 2)
    assert _session(w).choice == 1 and panel.apply_button.text() == "Apply Take 2"
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    entry = w.document.history.entry
    assert len(w.document.history.entries) == entries0 + 1
    assert entry.label.startswith("Fill 0.") and "Context match, take 2" in entry.label
    assert entry.meta["effect"] == "fill" and entry.meta["engine"] == "match" and entry.meta["take"] == 2
    assert entry.meta["params"]["engine"] == "auto" and entry.meta["auto"]["chose"] == "match"
    p = ts.takes[1]
    got = _clip_audio(w.project)
    np.testing.assert_array_equal(got[:, p.start:p.stop], t2)  # the region holds the chosen take
    np.testing.assert_array_equal(got[:, :p.start], x[:, :p.start])  # the rest is untouched
    np.testing.assert_array_equal(got[:, p.stop:], x[:, p.stop:])
    assert "Applied take 2" in panel.status.text()

    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
    assert "Applied take" not in panel.status.text()  # no longer true after the undo
    np.testing.assert_array_equal(_clip_audio(w.project), x)


def test_audition_switches_takes_and_the_original_without_touching_the_document(qtbot, window, store):
    w = window
    require_audio(w.player)
    x = music_loop()
    x[:, int(4.6 * RATE):int(5.0 * RATE)] = 0.0
    project0 = _load(qtbot, w, store, [(x, 0)])
    entries0 = len(w.document.history.entries)
    before = mix(project0)
    _select(qtbot, w, int(4.6 * RATE), int(5.0 * RATE))
    ts = _find(qtbot, w)
    panel = _panel(w)
    # The preview range is the region with context either side.
    lo = min(ts.target.timeline(p.start) for p in ts.takes)
    assert ts.start == lo - int(1.5 * RATE) and ts.stop - ts.start < 4 * RATE

    with qtbot.waitSignal(w.playback_started, timeout=5000):
        qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert w.player.playing and w.player._project is ts.projects[0] and panel.play_button.text() == "Stop"
    # Take 3, while playing: the player switches at the playhead to audio that differs from take 1.
    _click_row(qtbot, w, 3)
    assert w.player.playing and w.player._project is ts.projects[2]
    heard = [mix(ts.projects[i])[:, ts.start:ts.stop] for i in (0, 2)]
    assert not np.array_equal(heard[0], heard[1])
    # A/B: original, then back to take 3.
    qtbot.mouseClick(panel.ab_button, Qt.MouseButton.LeftButton)
    assert w.player._project is project0 and panel.list.currentRow() == 0 and _session(w).choice == ORIGINAL
    qtbot.mouseClick(panel.ab_button, Qt.MouseButton.LeftButton)
    assert w.player._project is ts.projects[2] and panel.list.currentRow() == 3

    with qtbot.waitSignal(w.playback_stopped, timeout=5000):
        qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    assert w.player._project is w.project and panel.play_button.text() == "Play"
    assert w.project is project0 and len(w.document.history.entries) == entries0 and not w.document.modified
    np.testing.assert_array_equal(mix(w.project), before)


def test_auto_interpolates_a_short_gap_in_sines_and_the_engine_menu_picks_another(qtbot, window, store):
    w = window
    clean = sines(seconds=2.0, rate=RATE, channels=2)
    x = clean.copy()
    g0, g1 = int(1.0 * RATE), int(1.02 * RATE)
    x[:, g0:g1] = 0.0
    project0 = _load(qtbot, w, store, [(x, 0)])
    w.state.zoom_to(int(0.98 * RATE), int(1.04 * RATE), w.lanes_width())  # zoom in to drag over 20 ms
    a, b = _select(qtbot, w, g0, g1)
    assert abs(a - g0) < 40 and abs(b - g1) < 40

    ts = _find(qtbot, w)
    # Auto's engine makes one take; context match fills the list with alternatives after it.
    assert len(ts.takes) >= 1 and ts.takes[0].engine == "ar"
    assert all(t.engine != "ar" for t in ts.takes[1:])
    assert "Auto chose Interpolation (AR)" in _panel(w).header.text()
    qtbot.mouseClick(_panel(w).apply_button, Qt.MouseButton.LeftButton)
    got = _clip_audio(w.project)
    err = got[:, g0:g1] - clean[:, g0:g1]
    snr = 10 * np.log10(np.sum(clean[:, g0:g1] ** 2) / np.sum(err ** 2))
    assert snr > 15.0  # the hole is rebuilt, not just smoothed over
    assert w.document.history.entry.meta["engine"] == "ar"
    w.document.undo()
    assert w.project is project0

    # Choosing Context match in the panel gives that engine's takes for the same region.
    panel = _panel(w)
    panel.engine.setCurrentIndex(panel.engine.findData("match"))
    assert not panel.steps.isEnabled() and panel.n_takes.isEnabled()
    with qtbot.waitSignal(_session(w).run_finished, timeout=60000):
        qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    assert {p.engine for p in _session(w).take_set.takes} <= {"match", "ar"}
    assert "Auto chose" not in panel.header.text()


def test_regions_that_cannot_be_filled_give_a_clear_message_and_change_nothing(qtbot, window, store):
    w = window
    x = music_loop(4.0)
    project0 = _load(qtbot, w, store, [(x, 0)])
    panel = _panel(w)
    submitted = []
    w.jobs.job_added.connect(submitted.append)

    # Nothing selected.
    w.select_none()
    shortcut(qtbot, w, Qt.Key.Key_F, CTRL_ALT)
    assert "Select the region to fill first" in panel.status.text()
    # At the very start of the clip: drag from inside it to the left edge of the view.
    drag(qtbot, w.timeline.lanes, _point(w, int(0.3 * RATE)), QPoint(0, _point(w, 0).y()))
    assert w.state.has_range and w.state.sel_start == 0
    assert "reaches the clip's start" in panel.region.text()  # said before anything runs
    shortcut(qtbot, w, Qt.Key.Key_F, CTRL_ALT)
    assert "reaches the clip's start" in w._last_error and "Extend Clip" in w._last_error
    assert "reaches the clip's start" in panel.status.text()
    # Too long for the material around it.
    _select(qtbot, w, int(0.5 * RATE), int(3.5 * RATE))
    shortcut(qtbot, w, Qt.Key.Key_F, CTRL_ALT)
    assert "too long for the audio around it" in w._last_error
    assert not submitted and _session(w).take_set is None
    assert w.project is project0 and not w.document.modified

    # The menus offer Fill and Extend.
    fill, extend = _action(w, "fill.fill_selection"), _action(w, "fill.extend_clip")
    assert fill in w.menus["Audio"].actions() and extend in w.menus["Audio"].actions()
    m = QMenu(w)
    w._extend_menu(m, "timeline")  # what the timeline's context menu adds
    assert _action(w, "fill.fill_selection") in m.actions() and _action(w, "fill.extend_clip") in m.actions()
    m.deleteLater()


def test_search_the_whole_track_lets_a_short_clip_borrow_material(qtbot, window, store):
    w = window
    loop = music_loop(8.0)
    short = loop[:, :2 * RATE].copy()
    short[:, int(0.6 * RATE):int(1.4 * RATE)] = 0.0
    project0 = _load(qtbot, w, store, [(short, 0), (loop[:, 2 * RATE:], 3 * RATE)])
    _select(qtbot, w, int(0.6 * RATE), int(1.4 * RATE))
    w.host.ui.dock("fill.panel").raise_()  # the user clicks the Fill tab
    panel = _panel(w)
    assert "too long for the audio around it" in panel.region.text() and "whole track" in panel.region.text()
    box = panel.whole_track
    assert box.isVisible()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the tick box
    assert box.isChecked() and "in “clip 1”" in panel.region.text()
    ts = _find(qtbot, w)
    assert ts.target.extra_frames == 6 * RATE
    borrowed = [p.take for p in ts.takes if p.take.params["source_clip"] == "clip 2"]
    assert borrowed, "some takes copy from the other clip"
    t = borrowed[0]  # labelled by where the material is on the timeline
    assert t.label == f"Material from {t.params['source_timeline_s']:.3f} s (“clip 2”)"
    assert 3.0 <= t.params["source_timeline_s"] < 9.0
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert w.document.history.entry.meta["params"]["whole_track"] is True
    assert w.project.tracks[0].clips[1] is project0.tracks[0].clips[1]


def test_apply_is_refused_when_the_clip_changed_since_the_takes(qtbot, window, store):
    w = window
    x = sines(seconds=2.0, rate=RATE)
    _load(qtbot, w, store, [(x, 0)])
    w.state.zoom_to(int(0.9 * RATE), int(1.1 * RATE), w.lanes_width())
    _select(qtbot, w, int(1.0 * RATE), int(1.01 * RATE))
    _find(qtbot, w)
    sel = w.state.selection
    w.document.apply(lambda p: edits.amplify(p, sel, -6.0), "Gain")
    changed = w.project
    qtbot.mouseClick(_panel(w).apply_button, Qt.MouseButton.LeftButton)
    assert w.project is changed
    assert "changed since these takes were made" in _panel(w).status.text()
    w.document.undo()  # back to the audio the takes were made from: now it applies
    qtbot.mouseClick(_panel(w).apply_button, Qt.MouseButton.LeftButton)
    assert w.document.history.entry.meta["effect"] == "fill"


# --------------------------------------------------------------------------- extend


def test_extend_a_clip_at_its_end_moves_only_what_it_must_then_undo(qtbot, window, store):
    w = window
    x = music_loop(6.0)
    other = sines(seconds=1.0, rate=RATE, channels=2)
    project0 = _load(qtbot, w, store, [(x, 0), (other, 7 * RATE)])  # 1 s of room after the first clip
    qtbot.mouseClick(w.timeline.lanes, Qt.MouseButton.LeftButton, pos=_point(w, 3 * RATE))  # cursor in clip 1
    shortcut(qtbot, w, Qt.Key.Key_X, CTRL_ALT)
    panel = _panel(w)
    assert w.host.ui.dock("fill.panel").isVisible() and panel.tabs.currentIndex() == 1
    assert "clip 1" in panel.clip_label.text()
    panel.seconds.setValue(2.5)
    assert "move right by 00:00:01.500" in panel.placement.text()  # in the selection bar's time format
    with qtbot.waitSignal(_session(w).run_finished, timeout=30000):
        qtbot.mouseClick(panel.extend_button, Qt.MouseButton.LeftButton)
    ts = _session(w).take_set
    assert ts.kind == "extend" and len(ts.takes) >= 2 and ts.moved[0] == int(1.5 * RATE)
    assert "Extensions of “clip 1” by 00:00:02.500 at the end" in panel.header.text()
    assert w.project is project0  # found, not applied

    _click_row(qtbot, w, 2)
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    c1, c2 = w.project.tracks[0].clips
    assert c1.length == x.shape[1] + int(2.5 * RATE) and c1.position == 0
    assert c2.position == int(8.5 * RATE) and c2.length == other.shape[1]
    got = _clip_audio(w.project)
    p = ts.takes[1]
    np.testing.assert_array_equal(got[:, :p.start], x[:, :p.start])
    np.testing.assert_array_equal(got[:, p.start:], p.take.audio)
    meta = w.document.history.entry.meta
    assert meta["effect"] == "extend" and meta["take"] == 2 and meta["moved_s"] == 1.5
    assert meta["params"] == {"seconds": 2.5, "direction": "end"}

    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0


def test_extend_before_the_start_grows_into_free_space(qtbot, window, store):
    w = window
    x = music_loop(4.0)
    project0 = _load(qtbot, w, store, [(x, 3 * RATE)])
    cid = project0.tracks[0].clips[0].id
    w.state.set_clips((cid,))
    _action(w, "fill.extend_clip").trigger()
    panel = _panel(w)
    panel.seconds.setValue(2.0)
    panel.direction.setCurrentIndex(panel.direction.findData("start"))
    assert "start at 00:00:01.000; nothing else moves" in panel.placement.text()
    with qtbot.waitSignal(_session(w).run_finished, timeout=30000):
        qtbot.mouseClick(panel.extend_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    c = w.project.tracks[0].clips[0]
    assert c.position == 1 * RATE and c.length == x.shape[1] + 2 * RATE
    # The clip's own audio stays where it was on the timeline.
    p = _session(w).take_set.takes[0]
    got = _clip_audio(w.project)
    np.testing.assert_array_equal(got[:, 2 * RATE + p.stop:], x[:, p.stop:])
    w.document.undo()
    assert w.project is project0


# --------------------------------------------------------------------------- the fill prior (issue 16)


def test_a_neural_fill_from_the_prior_records_the_prior_in_the_history(qtbot, window, store):
    from seedwave_plugins.fill import prior

    w = window
    x = music_loop(3.0)
    a0, b0 = int(1.5 * RATE), int(1.6 * RATE)
    x[:, a0:b0] = 0.0  # a 100 ms dropout
    _load(qtbot, w, store, [(x, 0)])
    _select(qtbot, w, a0, b0)
    panel = _panel(w)
    panel.engine.setCurrentIndex(panel.engine.findData("neural"))
    assert "fill prior" in panel.engine.currentText() and panel.prior.isEnabled()

    # Starting from the prior: a few fine-tuning steps; training from scratch: many more.
    assert panel.prior.isChecked() and panel.prior.accessibleName() == "Start from the fill prior"
    assert panel.prior.focusPolicy() & Qt.FocusPolicy.TabFocus and panel.prior.toolTip()
    assert panel.steps_label.text() == "Fine-tuning steps:" and panel.steps.value() == PRIOR_STEPS
    panel.prior.setFocus()
    qtbot.keyClick(panel.prior, Qt.Key.Key_Space)  # unticked from the keyboard
    assert not panel.prior.isChecked()
    assert panel.steps_label.text() == "Training steps:" and panel.steps.value() == 200
    assert panel.steps.accessibleName() == "Neural training steps"
    qtbot.keyClick(panel.prior, Qt.Key.Key_Space)
    assert panel.prior.isChecked() and panel.steps.value() == PRIOR_STEPS
    panel.steps.setValue(2)  # the user's own number stays when the mode changes
    panel.prior.setChecked(False)
    assert panel.steps.value() == 2 and panel.steps_label.text() == "Training steps:"
    panel.prior.setChecked(True)
    assert panel.steps.value() == 2 and panel.steps.accessibleName() == "Neural fine-tuning steps"

    with qtbot.waitSignal(_session(w).run_finished, timeout=60000) as sig:
        qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].state is JobState.DONE, sig.args[0].error
    ts = _session(w).take_set
    assert [p.engine for p in ts.takes] == ["neural"] and ts.takes[0].take.params["prior"] is True
    assert "fill prior" in panel.list.item(1).text()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)

    entry = w.document.history.entry
    info = prior.provenance()
    assert entry.meta["effect"] == "fill" and entry.meta["engine"] == "neural"
    assert entry.meta["params"]["neural_steps"] == 2 and entry.meta["params"]["neural_prior"] is True
    assert entry.meta["model_sha256"] == prior.sha256() == entry.meta["model"]["sha256"]
    assert entry.meta["model"]["training_commit"] == info["training_commit"]
    assert entry.meta["model"]["step"] == info["step"]
    assert entry.meta["model"]["model_card"] == "seedwave_plugins/fill/weights/fill_prior.md"
    step = w.project.steps[-1].data  # the project's own provenance (saved with it)
    assert step["model_sha256"] == prior.sha256() and step["model"]["training_commit"] == info["training_commit"]
    details = w.history_panel.details.text()  # what the history panel shows for the step
    assert prior.sha256() in details and "fill_prior.md" in details and info["training_commit"] in details


def test_effects_models_shows_the_shipped_fill_prior_with_card_licence_and_provenance(qtbot, window):
    from seedwave_plugins.fill import prior

    w = window
    assert w.act_models in w.menu_effects.actions()
    w.act_models.trigger()
    dlg = w.models_dialog
    try:
        assert dlg.isVisible() and dlg.shipped_table.accessibleName() and dlg.card.accessibleName()
        dlg.select_shipped("fill_prior")
        row = [m.id for m in dlg.shipped].index("fill_prior")
        cells = [dlg.shipped_table.item(row, c).text() for c in range(dlg.shipped_table.columnCount())]
        info = prior.provenance()
        assert cells[0] == "Seedwave fill prior" and cells[2].startswith(prior.WEIGHTS.name)
        assert cells[3] == prior.sha256()  # read from the file, and the manifest agrees (no warning)
        assert f"step {info['step']}" in cells[4] and info["training_commit"][:12] in cells[4]
        assert "MIT" in cells[5]
        card = dlg.card.toPlainText()
        assert prior.sha256() in card and "model card" in card.lower() and "licence" in card.lower()
        assert "stems" in {m.plugin.lower() for m in dlg.shipped}  # the splitter is listed the same way
    finally:
        dlg.close()


# --------------------------------------------------------------------------- cancel


def test_cancelling_a_long_neural_fill_leaves_the_project_unchanged(qtbot, window, store, monkeypatch):
    w = window
    fake = devices.DeviceReport(True, False, "Fake GPU")
    monkeypatch.setattr(devices, "last_report", lambda: fake)  # the policy would give a GPU: queue in its slot
    x = music_loop(6.0)
    project0 = _load(qtbot, w, store, [(x, 0)])
    blocks0 = set(store.folder.glob("*.f32"))
    _select(qtbot, w, int(2.0 * RATE), int(2.3 * RATE))
    panel = _panel(w)
    panel.engine.setCurrentIndex(panel.engine.findData("neural"))
    assert panel.steps.isEnabled()
    panel.steps.setValue(5000)
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    job = _session(w).job
    assert job.gpu and job.kind == "effect"
    wait_until(qtbot, lambda: "training" in job.message, timeout=60)  # mid-job: the network is training
    assert panel.cancel_button.isVisible() and panel.progress.isVisible()
    with qtbot.waitSignal(_session(w).run_finished, timeout=5000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        assert job.wait(30.0), "the neural engine stops between training steps"
    assert job.state is JobState.CANCELLED
    assert "cancelled; nothing changed" in panel.status.text() and not panel.cancel_button.isVisible()
    assert _session(w).take_set is None and w.project is project0 and not w.document.modified
    assert set(store.folder.glob("*.f32")) == blocks0

    # With the AI device set to the CPU, the neural engine does not queue for the GPU slot.
    w.settings.set("ai/device", "cpu")
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    job = _session(w).job
    assert not job.gpu
    with qtbot.waitSignal(_session(w).run_finished, timeout=5000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert job.state is JobState.CANCELLED and w.project is project0
