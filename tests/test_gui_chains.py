"""Chains and batch in the window, driven as a user would: build a chain from the
effect panel ("Add to Chain"), reorder it from the keyboard, save and reload it,
apply it to a selection as one undo step, save a track's inserts as a chain and
load a chain as inserts, and run File > Batch… over a folder with a bad file
(per-file rows, the report, cancel)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QToolButton,
    QWidget,
)

from editor.core import edits, insert_edits
from editor.core.chain import Chain, ChainStep
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.effects.chainfile import chains_dir, list_saved_chains
from editor.jobs.runner import JobState
from editor.qt.panels.chain_actions import (
    load_chain_as_inserts,
    mixer_menu,
    open_batch_dialog,
    save_inserts_as_chain,
)
from editor.qt.timeline.track_menu import build_track_menu

from .audiogen import noise, sines, write
from .gui_helpers import drag, lane_point, mix, shortcut, wait_until

pytestmark = pytest.mark.gui
RATE = 48000


def _load(qtbot, w, store, seconds: float = 3.0) -> np.ndarray:
    p = Project(sample_rate=RATE)
    x = noise(seconds, RATE, 2, 0.3, seed=3)
    p = edits.add_track(p, "Voice", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 2), 0, name="take"),))
    w.set_project(p)
    qtbot.wait(50)
    w.fit_project()
    return x


def _pick(qtbot, w, effect_id: str) -> None:
    panel = w.effect_panel
    w.effects_dock.show()
    w.effects_dock.raise_()
    panel.search.clear()
    qtbot.keyClicks(panel.search, effect_id)
    items = [panel.list.item(i) for i in range(panel.list.count())]
    item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == effect_id)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=panel.list.visualItemRect(item).center())
    assert panel.effect is not None and panel.effect.id == effect_id


def _ids(panel) -> list[str]:
    return [s.effect_id for s in panel.spec.chain.steps]


def test_build_from_the_effect_panel_reorder_save_reload_apply_and_undo(qtbot, window, store):
    w = window
    data = _load(qtbot, w, store)
    project0 = w.project
    before = mix(w.project)
    chains = w.chain_panel

    # Add to Chain takes the effect panel's current values; the effect panel stays in front.
    _pick(qtbot, w, "highpass")
    w.effect_panel.set_values({"cutoff": 400.0})
    qtbot.mouseClick(w.effect_panel.chain_button, Qt.MouseButton.LeftButton)
    _pick(qtbot, w, "compressor")
    w.effect_panel.set_values({"threshold": -30.0, "ratio": 6.0})
    qtbot.mouseClick(w.effect_panel.chain_button, Qt.MouseButton.LeftButton)
    assert _ids(chains) == ["highpass", "compressor"]
    assert chains.spec.chain.steps[0].param_dict["cutoff"] == 400.0
    assert chains.spec.chain.steps[1].param_dict["ratio"] == 6.0
    assert "2 steps" in w.statusBar().currentMessage()
    assert chains.steps.count() == 2 and chains.steps.item(1).text().startswith("2. ")

    # The keyboard reorders: Ctrl+Up on the selected (last) step, then Ctrl+Down puts it back.
    w.chains_dock.show()
    w.chains_dock.raise_()
    chains.steps.setFocus()
    chains.steps.setCurrentRow(1)
    qtbot.keyClick(chains.steps, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert _ids(chains) == ["compressor", "highpass"] and chains.steps.currentRow() == 0
    qtbot.keyClick(chains.steps, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert _ids(chains) == ["highpass", "compressor"] and chains.steps.currentRow() == 1
    # The selected step's form edits its parameters.
    chains.form.set_values({"ratio": 4.0})
    assert chains.spec.chain.steps[1].param_dict["ratio"] == 4.0

    # Save under a name: it is in the saved list, and reloads the same after New.
    path = chains.save_as_saved("Voice test")
    assert path is not None and path.parent == chains_dir() and path.is_file()
    assert json.loads(path.read_text())["steps"][0]["effect"] == "highpass"
    assert [chains.saved.item(i).text() for i in range(chains.saved.count())] == ["Voice test"]
    saved_spec = chains.spec
    qtbot.mouseClick(chains.new_button, Qt.MouseButton.LeftButton)
    assert not chains.spec.chain and chains.steps.count() == 0 and not chains.apply_button.isEnabled()
    item = chains.saved.item(0)
    chains.saved.setCurrentItem(item)
    chains.saved.itemActivated.emit(item)  # Enter or double-click
    assert _ids(chains) == ["highpass", "compressor"] and chains.spec.name == "Voice test"
    assert [s.params for s in chains.spec.chain.steps] == [s.params for s in saved_spec.chain.steps]

    # Apply to a selection: one undo step named for the chain, with every step's provenance.
    pa, pb = lane_point(w, RATE // 2), lane_point(w, 2 * RATE)
    drag(qtbot, w.timeline.lanes, pa, pb)
    sel = w.state.selection
    assert w.state.has_range
    chains.scope.setCurrentIndex(chains.scope.findData("selection"))
    n_history = len(w.document.history.entries)
    qtbot.mouseClick(chains.apply_button, Qt.MouseButton.LeftButton)
    job = chains.job
    assert job is not None and job.kind == "effect"
    wait_until(qtbot, lambda: not job.active and chains.job is None, 30)
    assert job.state is JobState.DONE
    assert len(w.document.history.entries) == n_history + 1
    entry = w.document.history.entry
    assert entry.label == "Chain: Voice test"
    assert [p["effect"] for p in entry.meta["chain"]] == ["highpass", "compressor"]
    clip = w.project.tracks[0].clips[0]
    got = clip.audio.read(0, clip.audio.frames)
    np.testing.assert_array_equal(got[:, :sel.start], data[:, :sel.start])  # outside: untouched
    np.testing.assert_array_equal(got[:, sel.stop:], data[:, sel.stop:])
    assert not np.allclose(got[:, sel.start:sel.stop], data[:, sel.start:sel.stop], atol=1e-3)
    assert "Chain: Voice test" in chains.status.text()

    shortcut(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.project is project0
    np.testing.assert_array_equal(mix(w.project), before)


def test_bypass_remove_loudness_and_output_then_save_to_a_file(qtbot, window, tmp_path, monkeypatch):
    w = window
    chains = w.chain_panel
    chains.add_step("highpass", {"cutoff": 100.0})
    chains.add_step("lowpass", {})
    qtbot.mouseClick(chains.loudness_button, Qt.MouseButton.LeftButton)
    assert _ids(chains) == ["highpass", "lowpass", "loudness"]
    assert chains.spec.chain.steps[2].param_dict == {"lufs": -16.0, "true_peak": -1.0}
    # The check box in the list bypasses; the wet spin box sets the mix.
    item = chains.steps.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert chains.spec.chain.steps[0].bypass and chains.bypass.isChecked()
    chains.steps.setCurrentRow(1)
    chains.wet.setValue(50)
    assert chains.spec.chain.steps[1].wet == 0.5 and "50 % wet" in chains.steps.item(1).text()
    chains.steps.setFocus()
    qtbot.keyClick(chains.steps, Qt.Key.Key_Delete)
    assert _ids(chains) == ["highpass", "loudness"]
    chains.out_format.setCurrentIndex(chains.out_format.findData("flac"))
    chains.out_format.activated.emit(chains.out_format.currentIndex())
    chains.out_bits.setCurrentIndex(chains.out_bits.findData(24))
    chains.out_bits.activated.emit(chains.out_bits.currentIndex())
    assert (chains.spec.output.format, chains.spec.output.bits) == ("flac", 24)

    saved = chains.save_to_file(tmp_path / "mine")
    assert saved == tmp_path / "mine.swchain"
    doc = json.loads(saved.read_text())
    assert doc["output"] == {"format": "flac", "bits": 24}
    assert doc["steps"][0]["bypass"] is True and doc["name"] == "mine"
    chains.add_step("lowpass", {})  # an unsaved change: New asks first
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: next(answers))
    chains.new_chain()
    assert _ids(chains) == ["highpass", "loudness", "lowpass"]
    chains.new_chain()
    assert not chains.spec.chain
    assert chains.open_file(saved)
    assert _ids(chains) == ["highpass", "loudness"] and chains.out_format.currentData() == "flac"
    # A file that is not a chain: one line naming it, the chain stays.
    bad = tmp_path / "bad.swchain"
    bad.write_text("{not json")
    assert not chains.open_file(bad)
    assert "bad.swchain" in w.statusBar().currentMessage()
    assert _ids(chains) == ["highpass", "loudness"]


def test_every_new_control_has_an_accessible_name_and_a_menu_path(qtbot, window):
    w = window
    kinds = (QPushButton, QToolButton, QComboBox, QLineEdit, QListWidget, QAbstractSpinBox, QCheckBox,
             QTableWidget, QPlainTextEdit)
    dlg = open_batch_dialog(w)
    for root in (w.chain_panel, dlg):
        for wdg in root.findChildren(QWidget):
            if isinstance(wdg, kinds) and not wdg.objectName().startswith("qt_"):
                assert wdg.accessibleName(), (type(wdg).__name__, getattr(wdg, "text", lambda: "")())
                assert wdg.focusPolicy() != Qt.FocusPolicy.NoFocus, wdg.accessibleName()
    dlg.close()
    assert w.effect_panel.chain_button.accessibleName() == "Add to chain"
    texts = [a.text() for a in w.menus["File"].actions()]
    assert "&Batch…" in texts and w.act_batch.shortcut().toString() == "Ctrl+Alt+B"
    assert "&Chain Panel" in [a.text() for a in w.menus["Effects"].actions()]
    tracks = [a.text() for a in w.menus["Tracks"].actions()]
    assert "Save Inserts as &Chain…" in tracks and "&Load Chain as Inserts…" in tracks
    w.effects_dock.raise_()
    w.act_chain_panel.trigger()  # Ctrl+Shift+K: the panel comes to the front with the steps focused
    qtbot.wait(20)
    assert w.chains_dock.isVisible() and not w.chains_dock.isHidden()
    keys = [k for _name, k in w.shortcut_table()]
    assert keys.count("Ctrl+Alt+B") == 1 and keys.count("Ctrl+Shift+K") == 1


def test_track_inserts_save_as_chain_and_load_chain_as_inserts(qtbot, window, store):
    w = window
    _load(qtbot, w, store)
    tid = w.project.tracks[0].id
    inserts = Chain((ChainStep.make("highpass", {"cutoff": 250.0}), ChainStep.make("compressor", {}, wet=0.5)))
    w.document.apply(lambda p: insert_edits.set_chain(p, tid, inserts), "inserts")

    # The track's context menu has both entries.
    menu = w.timeline.extend_menu(build_track_menu(w.timeline, tid), "track", track_id=tid)
    texts = [a.text() for a in menu.actions()]
    assert "Save Inserts as &Chain…" in texts and "&Load Chain as Inserts…" in texts
    menu.deleteLater()
    # And in the mixer: a right-click on the track's strip.
    strip = w.mixer.strips[tid]
    pos = strip.mapTo(w.mixer, strip.rect().topLeft() + QPoint(3, 3))
    mmenu = mixer_menu(w, pos)
    assert mmenu is not None
    assert {"Save Inserts as &Chain…", "&Load Chain as Inserts…"} <= {a.text() for a in mmenu.actions()}
    mmenu.close()

    path = save_inserts_as_chain(w, tid, "Voice inserts")
    assert path is not None
    names = [s.name for _p, s in list_saved_chains()]
    assert names == ["Voice inserts"]
    assert [w.chain_panel.saved.item(i).text() for i in range(w.chain_panel.saved.count())] == ["Voice inserts"]

    # Loading a chain with a loudness step as inserts: loudness is left out and said so; one undo step.
    w.chain_panel.add_step("lowpass", {"cutoff": 5000.0})
    w.chain_panel.add_loudness()
    n = len(w.document.history.entries)
    assert load_chain_as_inserts(w, tid, w.chain_panel.spec)
    track = w.project.track(tid)
    assert [s.effect_id for s in track.inserts] == ["lowpass"]
    assert "loudness" in w.statusBar().currentMessage()
    assert len(w.document.history.entries) == n + 1
    w.document.undo()
    assert [(s.effect_id, s.wet) for s in w.project.track(tid).inserts] == [("highpass", 1.0), ("compressor", 0.5)]


def _batch_tree(tmp_path, n: int, seconds: float):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    names = []
    for i in range(n):
        rel = f"sub/f{i:02d}.wav" if i % 2 else f"f{i:02d}.wav"
        write(src / rel, sines(seconds=seconds) + noise(seconds, channels=1, amp=0.05, seed=i))
        names.append(rel)
    (src / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    return src, names


def test_file_batch_runs_a_chain_over_a_folder_with_a_bad_file(qtbot, window, tmp_path):
    w = window
    src, names = _batch_tree(tmp_path, 3, 1.0)
    w.chain_panel.add_step("highpass", {"cutoff": 120.0})
    w.chain_panel.add_loudness()
    w.act_batch.trigger()
    dlg = w.batch_dialog
    assert dlg is not None and dlg.isVisible()
    dlg.refresh_chains(select_current=True)
    assert dlg.chain.currentData() == "current:"
    # Folders and files dropped on the input list are added (once each).
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(src)), QUrl.fromLocalFile(str(src))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    dlg.inputs.dropEvent(drop)
    assert dlg.input_paths() == [str(src)] and dlg.out_dir.text()
    out = tmp_path / "out"
    dlg.out_dir.setText(str(out))
    dlg.workers.setValue(1)
    dlg.out_format.setCurrentIndex(dlg.out_format.findData("flac"))
    qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
    job = dlg.job
    assert job is not None and not dlg.run_button.isEnabled() and dlg.cancel_button.isEnabled()
    wait_until(qtbot, lambda: dlg.report is not None, 60)
    assert job.state is JobState.DONE
    keys = dict(dlg.rows)  # input path -> row
    assert len(keys) == 4 == dlg.table.rowCount()
    shown = sorted(dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount()))
    assert shown == sorted(["in/broken.wav", *(f"in/{rel}" for rel in names)])
    for rel in names:
        key = next(k for k in keys if k.endswith(rel))
        assert dlg.status_of(key) == "done"
        assert float(dlg.table.item(keys[key], 2).text()) >= 0.0
        assert (out / rel).with_suffix(".flac").is_file()
    bad = next(k for k in keys if k.endswith("broken.wav"))
    assert dlg.status_of(bad) == "failed" and dlg.table.item(keys[bad], 3).text()
    assert "3 done" in dlg.summary.text() and "1 failed" in dlg.summary.text()
    assert dlg.failures.isVisible() and "broken.wav" in dlg.failures.toPlainText()
    report = dlg.report.report_path
    assert report is not None and report.is_file() and str(report) in dlg.report_label.text()
    assert dlg.open_report_button.isEnabled() and dlg.run_button.isEnabled()
    doc = json.loads(report.read_text())
    assert doc["counts"]["done"] == 3 and doc["counts"]["failed"] == 1

    # An effect on its own, through the same dialog; "As the chain says" keeps each input's format.
    dlg.select_chain("effect", "lowpass")
    dlg.out_format.setCurrentIndex(0)
    dlg.out_dir.setText(str(tmp_path / "out2"))
    dlg.start()
    wait_until(qtbot, lambda: dlg.report is not None and not dlg.running, 60)
    assert (tmp_path / "out2" / names[0]).is_file()
    dlg.close()


@pytest.mark.parametrize("where", ["dialog", "jobs panel"])
def test_file_batch_cancel_stops_the_run_and_still_writes_the_report(qtbot, window, tmp_path, where):
    w = window
    src, names = _batch_tree(tmp_path, 6, 5.0)
    dlg = open_batch_dialog(w)
    dlg.select_chain("effect", "compressor")
    dlg.add_inputs([str(src)])
    dlg.out_dir.setText(str(tmp_path / "out"))
    dlg.workers.setValue(1)
    # The run waits after its first finished file until the user has pressed cancel, so that
    # a busy machine cannot finish every file before the click arrives.
    gate = threading.Event()

    def hold(r) -> None:  # on the batch's thread, as each input is recorded
        if r.status == "done" and not gate.is_set():
            gate.wait(60)

    dlg.bridge.item.connect(hold, Qt.ConnectionType.DirectConnection)
    dlg.start()
    try:
        wait_until(qtbot, lambda: any(dlg.status_of(k) == "done" for k in dlg.rows), 120)
        if where == "dialog":
            qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
        else:
            dlg.job.cancel()  # what the Jobs panel's cancel button does
            wait_until(qtbot, lambda: dlg.runner.cancelled, 10)  # reaches the runner without progress
    finally:
        gate.set()
    wait_until(qtbot, lambda: not dlg.running, 60)
    report = dlg.report
    assert report is not None and report.cancelled
    done = report.count("done")
    assert done == 1 < len(names)
    statuses = [dlg.status_of(k) for k in dlg.rows]
    assert statuses.count("cancelled") >= 1 and len(statuses) == len(names) + 1
    assert "Cancelled" in dlg.summary.text()
    assert report.report_path is not None and report.report_path.is_file()
    outputs = [p for p in (tmp_path / "out").rglob("*.wav")]
    assert len(outputs) == done  # no half files left by the cancelled ones


def test_preview_processes_a_few_seconds_without_touching_the_document(qtbot, window, store):
    w = window
    _load(qtbot, w, store, seconds=3.0)
    project0 = w.project
    n = len(w.document.history.entries)
    chains = w.chain_panel
    chains.add_step("lowpass", {"cutoff": 500.0})
    w.state.set_selection(RATE // 2, 2 * RATE, (project0.tracks[0].id,))
    qtbot.mouseClick(chains.preview_button, Qt.MouseButton.LeftButton)
    job = chains.preview_job
    assert job is not None and job.kind == "preview" and chains.preview_button.text() == "Stop Preview"
    wait_until(qtbot, lambda: chains.preview_job is None, 30)
    assert job.state is JobState.DONE
    processed = job.result
    got = processed.tracks[0].clips[0].audio
    assert not np.allclose(got.read(RATE, RATE + 1000), project0.tracks[0].clips[0].audio.read(RATE, RATE + 1000))
    assert w.project is project0 and len(w.document.history.entries) == n  # only heard, never applied
    if w.player.available:
        assert w.audition.is_playing("chains")
    else:
        assert "no audio output" in w.statusBar().currentMessage()
    qtbot.mouseClick(chains.preview_button, Qt.MouseButton.LeftButton)
    assert not w.audition.is_playing("chains") and chains.preview_button.text() == "Preview"
