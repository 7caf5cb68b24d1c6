"""Polish from a day of real use (issue 17): what looked wrong in the real window, and opening files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QRegion

from editor.core import edits
from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq
from editor.core.serialize import project_from_dict, project_to_dict
from editor.core.store import default_store

from .audiogen import sines, write
from .gui_helpers import shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000


def _project(n_tracks: int = 2, seconds: float = 4.0, names: tuple[str, ...] = ()) -> Project:
    p = Project(sample_rate=RATE)
    for i in range(n_tracks):
        x = sines((220.0 * (i + 1),), seconds, RATE, channels=1)
        name = names[i] if i < len(names) else f"Track {i + 1}"
        seq = AudioSeq.from_blocks(default_store().blocks_from_array(x), x.shape[0])
        p = edits.add_track(p, name, (Clip(seq, 0, name=f"{name} clip"),))
    return p


def _load(w, project: Project) -> None:
    w.set_project(project, None, "Open")
    w.document.mark_saved()


def _mixer_strip(w, track_id: str):
    strips = getattr(w.mixer, "strips", None)
    return strips[track_id] if isinstance(strips, dict) else None


# --------------------------------------------------------------------------- track headers


def test_mute_and_solo_buttons_show_their_pressed_state(qtbot, window):
    w = window
    _load(w, _project(2))
    t0 = w.project.tracks[0].id
    header = w.timeline.headers[t0]
    plain = header.mute.grab().toImage().pixelColor(3, 3)
    qtbot.mouseClick(header.mute, Qt.MouseButton.LeftButton)
    assert w.project.track(t0).mute and header.mute.isChecked()
    pressed = header.mute.grab().toImage().pixelColor(3, 3)
    # Pressed is the mixer's yellow, unmistakably unlike the plain button.
    assert abs(pressed.red() - plain.red()) + abs(pressed.green() - plain.green()) > 120
    assert pressed.red() > 180 and pressed.blue() < 80
    w.document.undo()
    assert not w.timeline.headers[t0].mute.isChecked()
    # Solo from the project (a file loaded, or the mixer) shows in the header too.
    _load(w, edits.set_track(w.project, t0, solo=True))
    assert w.timeline.headers[t0].solo.isChecked() and not w.timeline.headers[t0].mute.isChecked()
    green = w.timeline.headers[t0].solo.grab().toImage().pixelColor(3, 3)
    assert green.green() > 150 and green.red() < 120


# --------------------------------------------------------------------------- clip names


def test_a_partial_repaint_draws_the_clip_name_where_a_full_repaint_does(qtbot, window):
    w = window
    _load(w, _project(1, seconds=8.0, names=("Speech with a long clip name",)))
    from editor.qt.timeline.lanes import CLIP_HEADER

    lanes = w.timeline.lanes
    w.fit_project()
    qtbot.wait(50)
    full = lanes.grab().toImage()
    _t, top, _h = lanes.track_rows()[0]
    # A strip like the one the playhead repaints, cutting through the name.
    for x in (20, 37, 55):
        strip = QRect(x, int(top), 30, CLIP_HEADER)
        img = QImage(full.size(), full.format())
        img.fill(QColor("black"))
        lanes.render(img, strip.topLeft(), QRegion(strip))  # paints with the strip as the dirty rect
        for yy in range(strip.top(), strip.bottom()):
            for xx in range(strip.left(), strip.right()):
                assert img.pixel(xx, yy) == full.pixel(xx, yy), (x, xx, yy)


# --------------------------------------------------------------------------- heights are view state


def test_track_heights_are_view_state_not_history_or_file(qtbot, window):
    w = window
    _load(w, _project(2))
    tv = w.timeline
    t0 = w.project.tracks[0].id
    steps0, p0 = len(w.document.history.entries), w.project
    tv.lanes.set_height(t0, 220)
    assert tv.lanes.height_of(t0) == 220
    assert tv.headers[w.project.tracks[1].id].geometry().top() == 220 - tv.lanes.y_offset
    assert len(w.document.history.entries) == steps0 and w.project is p0 and not w.document.modified
    d = project_to_dict(w.project, lambda b: None)
    assert all("height" not in t for t in d["tracks"])
    # A project file written before heights left the model still loads (the field is ignored).
    d["tracks"][0]["height"] = 90
    blocks = {}
    d = project_to_dict(w.project, lambda b: blocks.setdefault(b.uid, b))
    d["tracks"][0]["height"] = 90
    old = project_from_dict(d, lambda bid: blocks[bid])
    assert [t.name for t in old.tracks] == [t.name for t in w.project.tracks]


def test_track_heights_come_back_with_their_project_file(qtbot, window, tmp_path):
    w = window
    _load(w, _project(2))
    t0 = w.project.tracks[0].id
    w.timeline.lanes.set_height(t0, 200)
    out = tmp_path / "heights.seedwave"
    assert w._save_to(out, wait=True)
    w.set_project(Project(), None, "New project")
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(out)])
    assert w.timeline.lanes.height_of(t0) == 200
    assert len(w.document.history.entries) == 1 and not w.document.modified


# --------------------------------------------------------------------------- stale values


def test_transport_time_and_meter_reset_after_stop_and_open(qtbot, window):
    w = window
    _load(w, _project(1))
    # What a playback tick leaves behind.
    w.time_label.setText("00:00:03.250")
    w.meter.set_peaks(0.9, 0.8)
    assert max(w.meter.levels) > -3
    w.state.set_cursor(RATE)
    w.stop()
    assert w.time_label.text() == "00:00:01.000"  # where Play starts again
    w.state.set_cursor(2 * RATE)  # stopped, a click elsewhere moves it too
    assert w.time_label.text() == "00:00:02.000"
    w.state.set_cursor(RATE)
    assert max(w.meter.levels) <= -60 and not w.meter.clipped
    w.time_label.setText("00:00:03.250")
    w.meter.set_peaks(1.0, 1.0)
    _load(w, _project(2))
    assert w.time_label.text() == "00:00:00.000"
    assert max(w.meter.levels) <= -60 and not w.meter.clipped


def test_selection_length_agrees_with_start_and_end(qtbot, window):
    w = window
    _load(w, _project(1))
    bar = w.selection_bar
    tid = w.project.tracks[0].id
    # 19 .. 29 samples: start rounds to .000 ms, end to .001 ms; the length must not say 0.
    w.state.set_selection(19, 29, (tid,))
    start, end, length = (bar.fields[k].text() for k in ("start", "end", "length"))
    assert start != end
    assert length == "00:00:00.001"
    w.state.set_selection(RATE + 10, 3 * RATE - 10, (tid,))
    assert [bar.fields[k].text() for k in ("start", "end", "length")] == ["00:00:01.000", "00:00:03.000",
                                                                          "00:00:02.000"]
    # A field being edited still follows a selection made elsewhere once the user left it unchanged.
    bar.fields["length"].setFocus()
    w.state.set_selection(0, RATE, (tid,))
    assert bar.fields["length"].text() == "00:00:01.000"


def test_the_time_format_is_one_choice_for_the_window_and_the_fill_panel(qtbot, window):
    w = window
    _load(w, _project(1, seconds=6.0))
    tid = w.project.tracks[0].id
    cid = w.project.tracks[0].clips[0].id
    panel = w.host.ui.show_panel("fill.panel")
    w.state.set_selection(2 * RATE, 2 * RATE + RATE // 10, (tid,))
    w.state.set_clips((cid,))
    panel.refresh_target()
    assert "2.000" in panel.region.text() or "00:00:02.000" in panel.region.text()
    bar = w.selection_bar
    bar.unit.setCurrentIndex(bar.unit.findData("samples"))
    assert w.settings.get("view/time_format") == "samples"
    panel.refresh_target()
    assert str(2 * RATE) in panel.region.text() and " s " not in panel.region.text()
    assert str(6 * RATE) in panel.clip_label.text()


# --------------------------------------------------------------------------- undo and selection


def test_undo_gives_back_the_selection_the_edit_had(qtbot, window):
    w = window
    _load(w, _project(2))
    t0, t1 = (t.id for t in w.project.tracks)
    w.state.set_selection(RATE, 2 * RATE, (t0,))
    w.state.set_cursor(RATE)
    shortcut(qtbot, w, Qt.Key.Key_Delete)
    assert w.project.track(t0).end < 4 * RATE  # the range is gone
    w.state.set_selection(0, RATE // 2, (t1,))  # the user selects something else
    w.document.undo()
    assert (w.state.sel_start, w.state.sel_stop, w.state.track_ids) == (RATE, 2 * RATE, (t0,))
    w.document.redo()
    assert w.state.track_ids == (t0,) and w.project.track(t0).end < 4 * RATE  # the selection it was made with


# --------------------------------------------------------------------------- names agree


def test_the_denoise_control_has_one_name(qtbot, window):
    from seedwave_plugins.denoise.effect import DenoiseEffect as Denoise

    p = {q.name: q for q in Denoise.params}["strength"]
    assert p.label == "Strength"
    guide = (Path(__file__).resolve().parent.parent / "docs" / "USER_GUIDE.md").read_text()
    assert "**Strength**" in guide and "Reduction limit" not in guide
    w = window
    w.host.effects.show("denoise")
    labels = [lbl.text() for lbl in w.effect_panel.findChildren(type(w.time_label)) if lbl.isVisible()]
    assert any(t.startswith("Strength") for t in labels), labels
    assert not any("Reduction limit" in t for t in labels)


# --------------------------------------------------------------------------- layout


@pytest.fixture
def big_window(qtbot):
    """The real window at the size of the report: 1280x800."""
    from .gui_helpers import close_window, make_window

    w = make_window(qtbot)
    w.resize(1280, 800)
    qtbot.wait(50)
    yield w
    close_window(w)


def test_docks_never_resize_the_window(qtbot, big_window):
    from PySide6.QtWidgets import QLabel

    w = big_window
    assert (w.width(), w.height()) == (1280, 800)
    # A job list (or any panel) growing far past its dock scrolls inside the dock.
    lay = w.jobs_panel.layout()
    for i in range(60):
        lay.addWidget(QLabel(f"Job {i}: Denoise speech.wav, 10 s left"))
    w.jobs_dock.show()
    w.jobs_dock.raise_()
    qtbot.wait(50)
    assert (w.width(), w.height()) == (1280, 800)
    for preset in ("mix", "repair", "edit", "compact"):
        w.layouts.apply(preset)
        qtbot.wait(20)
        assert (w.width(), w.height()) == (1280, 800), preset


def test_layout_presets_and_quick_collapse(qtbot, big_window):
    w = big_window
    lay = w.layouts
    lay.apply("mix")
    assert w.mixer_dock.isVisible() and not w.effects_dock.isVisible()
    lay.apply("edit")
    assert not w.mixer_dock.isVisible() and w.effects_dock.isVisible() and w.history_dock.isVisible()
    # Ctrl+Alt+M brings the mixer back and collapses it again; Ctrl+Alt+P collapses the effect
    # column and restores it.
    ca = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    shortcut(qtbot, w, Qt.Key.Key_M, ca)
    assert w.mixer_dock.isVisible()
    shortcut(qtbot, w, Qt.Key.Key_M, ca)
    assert not w.mixer_dock.isVisible()
    shortcut(qtbot, w, Qt.Key.Key_P, ca)
    assert not w.effects_dock.isVisible() and not w.history_dock.isVisible()
    shortcut(qtbot, w, Qt.Key.Key_P, ca)
    assert w.effects_dock.isVisible() and w.history_dock.isVisible()
    # The menu lists the presets.
    titles = [a.text().replace("&", "") for a in lay.menu.actions()]
    assert {"Edit", "Mix", "Repair", "Compact"} <= set(titles)
    # A preset the user arranged and saved comes back as saved (QMainWindow.saveState).
    lay.apply("repair")
    w.history_dock.hide()
    lay.save_current()
    lay.apply("edit")
    assert w.history_dock.isVisible()
    lay.apply("repair")
    assert not w.history_dock.isVisible() and w.effects_dock.isVisible()
    lay.reset_presets()
    lay.apply("repair")
    assert w.history_dock.isVisible()


def test_compact_layout_fits_more_tracks(qtbot, big_window):
    w = big_window
    _load(w, _project(9, seconds=1.0))
    lanes = w.timeline.lanes
    w.layouts.apply("edit")
    qtbot.wait(20)
    edit_rows = sum(1 for _t, top, h in lanes.track_rows() if top + h <= lanes.height())
    w.layouts.apply("compact")
    qtbot.wait(20)
    compact_rows = sum(1 for _t, top, h in lanes.track_rows() if top + h <= lanes.height())
    assert compact_rows > edit_rows and compact_rows >= 5


def test_the_demo_fits_at_1280x800_with_its_tips(qtbot, big_window):
    from editor.qt.app import _set_demo, load_demo  # noqa: F401

    w = big_window
    with qtbot.waitSignal(w.document.history_changed, timeout=30000):
        load_demo(w)
    w.tips_panel.open()
    qtbot.wait(100)
    lanes = w.timeline.lanes
    rows = lanes.track_rows()
    assert len(rows) == 5 and any("Speech" in t.name for t, _top, _h in rows)
    assert all(top >= 0 and top + h <= lanes.height() for _t, top, h in rows), \
        [(t.name, top, h, lanes.height()) for t, top, h in rows]
    # The tips take a row of their own: they hide no track.
    from PySide6.QtCore import QPoint, QRect

    banner = QRect(w.tips_panel.mapTo(w, QPoint(0, 0)), w.tips_panel.size())
    assert not banner.intersects(QRect(lanes.mapTo(w, QPoint(0, 0)), lanes.size()))


# --------------------------------------------------------------------------- status bar


def test_the_status_bar_names_the_audio_output(qtbot, window):
    w = window
    text = w.status_audio.text()
    assert w.status_audio.isVisible()
    if not w.player.available:
        assert text.startswith("No audio output: ") and w.player.reason in text
        return
    assert text.startswith("Output: ") and len(text) > len("Output: ")
    # Choosing another output in Settings shows at once.
    from editor.qt.dialogs.settings import apply_settings

    w.settings.set("audio/device", "Studio monitors")
    apply_settings(w, {"audio/device"})
    assert w.status_audio.text() == "Output: Studio monitors"


# --------------------------------------------------------------------------- quitting


def test_closing_leaves_no_worker_and_ends_the_process_right_after(qtbot, monkeypatch):
    """Discard and close: jobs are cancelled and joined, no playback feeder or spectrogram
    worker is left, and the app ends the process straight after its clean shutdown
    (Python's teardown of torch and model libraries took seconds after the window was gone)."""
    import threading
    import time as _time

    from editor.core.task import TaskContext
    from editor.jobs.runner import JobState
    from editor.qt import app as app_module

    from .gui_helpers import make_window

    w = make_window(qtbot)
    _load(w, _project(2))
    w.set_view_mode("both")  # spectrogram tiles being computed
    w.document.apply(lambda p: edits.rename_track(p, p.tracks[0].id, "Edited"), "Rename")
    started = threading.Event()

    def busy(ctx: TaskContext) -> None:  # a long job that checks for cancel as real ones do
        started.set()
        while True:
            ctx.check()
            _time.sleep(0.01)

    job = w.jobs.run("Long job", busy)
    assert started.wait(10)
    _asks(monkeypatch)  # Discard
    w.close()
    assert not w.isVisible()
    assert job.state is JobState.CANCELLED
    assert w.jobs.active_threads() == 0
    assert w.timeline.lanes.spectra.pool.activeThreadCount() == 0
    assert not any(t.name.startswith("seedwave-feeder") and t.is_alive() for t in threading.enumerate())
    # After app.exec() returns and the store is closed, the process ends at once.
    ended: list[int] = []
    monkeypatch.setattr(app_module.os, "_exit", lambda code: ended.append(code))
    app_module.end_process(0)
    assert ended == [0]


# --------------------------------------------------------------------------- opening files


def _wav(tmp_path: Path, name: str = "a.wav", seconds: float = 2.0) -> Path:
    return write(tmp_path / name, sines((330.0,), seconds, RATE, channels=1), RATE, "PCM_16")


def _asks(monkeypatch, answer=None) -> list[str]:
    """Record every "save changes?" question (answered with ``answer``, default Discard)."""
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []
    answer = answer or QMessageBox.StandardButton.Discard
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or answer)
    return asked


@pytest.mark.parametrize("name", ["broken.wav", "broken.seedwave"])
def test_an_unreadable_file_never_costs_the_open_project(qtbot, window, tmp_path, monkeypatch, name):
    w = window
    _load(w, _project(2))
    w.document.apply(lambda p: edits.rename_track(p, p.tracks[0].id, "My work"), "Rename")  # unsaved work
    before = w.project
    asked = _asks(monkeypatch)
    bad = tmp_path / name
    bad.write_bytes(b"this is not audio, nor a project" * 10)
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(bad)])
    assert asked == []  # never asked to discard for a file that cannot open
    assert w.project is before and w.document.modified  # the work is still there, unsaved
    assert name in w._last_error  # one message naming the file


def test_open_asks_only_when_it_replaces_and_import_adds_tracks(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QMessageBox

    w = window
    _load(w, _project(2))
    w.document.apply(lambda p: edits.rename_track(p, p.tracks[0].id, "My work"), "Rename")
    asked = _asks(monkeypatch, QMessageBox.StandardButton.Cancel)
    a, b = _wav(tmp_path, "a.wav"), _wav(tmp_path, "b.wav", 1.0)
    # Import audio (Ctrl+Shift+I) adds tracks to this project: nothing to ask.
    assert w.act_import.shortcut() == QKeySequence("Ctrl+Shift+I")
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.import_paths([str(b)])
    assert [t.name for t in w.project.tracks] == ["My work", "Track 2", "b"] and asked == []
    # Open replaces it: asked once; Cancel keeps everything.
    kept = w.project
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(a)])
    assert len(asked) == 1 and w.project is kept
    asked.clear()
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or QMessageBox.StandardButton.Discard)
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(a)])
    assert len(asked) == 1 and [t.name for t in w.project.tracks] == ["a"] and not w.document.modified


def test_file_open_offers_every_supported_file_and_remembers_the_folder(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = window
    folder = tmp_path / "sessions"
    folder.mkdir()
    path = _wav(folder, "take.wav")
    calls: list[tuple] = []

    def fake(parent, caption, start, filters, *a, **k):
        calls.append((start, filters))
        return (str(path), filters.split(";;")[0])

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake))
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.act_open.trigger()
    first = calls[0][1].split(";;")[0]
    assert first.startswith("All supported files") and "*.seedwave" in first and "*.wav" in first
    w.act_open.trigger()
    wait_until(qtbot, lambda: not w.jobs.active_jobs())
    assert Path(calls[1][0]) == folder  # started where the last file was opened


_ = np


def test_a_project_with_damaged_samples_opens_with_them_silenced_and_says_so(qtbot, window, tmp_path):
    import struct

    from editor.core.projectfile import read_index, save_project

    w = window
    x = (0.1 * np.random.default_rng(5).standard_normal((2, 5000))).astype(np.float32)
    seq = AudioSeq.from_blocks(default_store().blocks_from_array(x), 2)
    path = tmp_path / "nan.seedwave"
    save_project(Project(tracks=(Track("t", (Clip(seq, 0),)),)), path)
    off = next(iter(read_index(path)["blocks"].values()))["offset"]
    data = bytearray(path.read_bytes())
    struct.pack_into("<2f", data, off + 400, float("nan"), float("inf"))
    path.write_bytes(bytes(data))
    with qtbot.waitSignal(w.import_finished, timeout=20000):
        w.open_paths([str(path)])
    assert w.document.path == path
    assert "replaced 2 NaN/infinite" in w.statusBar().currentMessage()
    assert np.isfinite(w.project.tracks[0].clips[0].audio.read(0, 5000)).all()
