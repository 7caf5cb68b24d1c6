"""File > Export… driven through its widgets on the real main window: every format
read back, a loudness preset measured on the file, stems, the selection, cancel,
and the replace question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from editor.core.loudness import measure
from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq
from editor.engine.renderer import render
from editor.engine.writers import read_tags

from .gui_helpers import wait_until

pytestmark = pytest.mark.gui
RATE = 48000


def _music(seconds: float, seed: int, amp: float = 0.1) -> np.ndarray:
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    chord = sum(np.sin(2 * np.pi * f * t + k) for k, f in enumerate((220.0, 277.2, 329.6)))
    rng = np.random.default_rng(seed)
    return (amp * (0.5 * chord + 0.05 * rng.standard_normal((2, n)))).astype(np.float32)


def _load(w, store, seconds: float = 2.0) -> None:
    a = _music(seconds, 1)
    b = _music(seconds, 2)[:1]
    tracks = (
        Track("Guitar", (Clip(AudioSeq.from_blocks(store.blocks_from_array(a), 2), 0),), pan=-0.3),
        Track("Voice", (Clip(AudioSeq.from_blocks(store.blocks_from_array(b), 1), 0),), pan=0.4, gain_db=-2.0),
    )
    w.set_project(Project(RATE, tracks, name="Song"))


def _dialog(w):
    w.act_export.trigger()
    dlg = w.export_dlg
    assert dlg.isVisible() and not dlg.isModal()
    return dlg


def _choose(combo, data) -> None:
    i = combo.findData(data)
    assert i >= 0, data
    combo.setCurrentIndex(i)


def _run(qtbot, dlg, timeout: int = 30000):
    with qtbot.waitSignal(dlg.export_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def _read(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), rate


@pytest.mark.parametrize(("fmt", "bits"), [("wav", 24), ("flac", 16), ("ogg", None), ("opus", None), ("mp3", None),
                                         ("aiff", 24)])
def test_export_each_format(qtbot, window, store, tmp_path, fmt, bits):
    w = window
    _load(w, store)
    dlg = _dialog(w)
    _choose(dlg.format_combo, fmt)
    if bits is not None:
        _choose(dlg.bits_combo, bits)
        assert dlg.dither_check.isEnabled() and dlg.dither_check.isChecked()
    else:
        assert not dlg.bits_combo.isEnabled()
    assert dlg.bitrate_combo.isVisibleTo(dlg) == (fmt == "mp3")
    if fmt == "mp3":
        _choose(dlg.bitrate_combo, 256)
    dlg.path_edit.clear()
    qtbot.keyClicks(dlg.path_edit, str(tmp_path / "song"))  # no extension: the dialog adds it
    qtbot.keyClicks(dlg.tag_edits["title"], "Song")
    qtbot.keyClicks(dlg.tag_edits["artist"], "Band")
    qtbot.keyClicks(dlg.tag_edits["date"], "2024")
    report = _run(qtbot, dlg)
    out = tmp_path / f"song.{fmt}"
    assert report.path == out and out.is_file()
    assert dlg.path_edit.text() == str(out)
    mix = render(w.project, 0, w.project.end)
    data, rate = _read(out)
    assert rate == RATE and data.shape == mix.shape
    if bits is not None:
        assert sf.info(str(out)).subtype == f"PCM_{bits}"
        assert np.abs(data - mix).max() <= 1.5 * 2.0 ** (1 - bits) + 1e-7
    else:
        for c in range(2):
            assert np.corrcoef(data[c], mix[c])[0, 1] > 0.98
    tags = read_tags(out)
    assert (tags["title"], tags["artist"], tags["date"]) == ("Song", "Band", "2024")
    if fmt == "mp3":
        import mutagen

        assert mutagen.File(str(out)).info.bitrate == 256000
    assert "Wrote" in dlg.status.text() and dlg.progress.value() == 1000
    assert w.settings.get("export/format") == fmt and w.settings.get("export/folder") == str(tmp_path)
    assert not list(tmp_path.glob(".*.part"))


def test_loudness_preset_mono_and_resample(qtbot, window, store, tmp_path):
    w = window
    _load(w, store, seconds=6.0)
    dlg = _dialog(w)
    _choose(dlg.format_combo, "flac")
    _choose(dlg.bits_combo, 24)
    _choose(dlg.rate_combo, 44100)
    _choose(dlg.channels_combo, 1)
    dlg.set_preset("Podcast")
    assert dlg.lufs_spin.value() == -16.0 and dlg.tp_spin.value() == -1.0
    assert dlg.lufs_spin.isVisibleTo(dlg) and not dlg.peak_spin.isVisibleTo(dlg)
    dlg.path_edit.setText(str(tmp_path / "podcast.flac"))
    report = _run(qtbot, dlg, timeout=60000)
    data, rate = _read(report.path)
    assert rate == 44100 and data.shape[0] == 1
    assert abs(data.shape[1] - w.project.end * 44100 / RATE) <= 1
    lufs, tp = measure(data, rate)
    assert abs(lufs - -16.0) < 0.5 and tp <= -1.0 + 0.05
    # Changing the target by hand makes the preset "Custom"; choosing Broadcast sets it back.
    dlg.lufs_spin.setValue(-18.0)
    assert dlg.preset_combo.currentData() is None
    dlg.set_preset("Broadcast")
    assert dlg.settings().lufs == -23.0 and dlg.settings().normalize == "lufs"


def test_stems_of_the_selection(qtbot, window, store, tmp_path):
    w = window
    _load(w, store)
    a, b = RATE // 2, RATE + RATE // 4
    w.state.set_selection(a, b, (w.project.tracks[0].id,))
    dlg = _dialog(w)
    _choose(dlg.range_combo, "selection")
    assert "00:00:00.500 – 00:00:01.250" in dlg.range_label.text()
    _choose(dlg.format_combo, "wav")
    _choose(dlg.bits_combo, "float")
    assert not dlg.dither_check.isEnabled()
    dlg.stems_radio.setChecked(True)
    assert dlg.folder_edit.isVisibleTo(dlg) and not dlg.path_edit.isVisibleTo(dlg)
    folder = tmp_path / "stems"
    dlg.folder_edit.setText(str(folder))
    paths = _run(qtbot, dlg)
    assert [p.name for p in paths] == ["01 Guitar.wav", "02 Voice.wav"]
    total = np.zeros((2, b - a), np.float32)
    outs: dict[str, np.ndarray] = {}
    mix = render(w.project, a, b - a, track_outputs=outs)
    for p, t in zip(paths, w.project.tracks, strict=True):
        data, _ = _read(p)
        np.testing.assert_array_equal(data, outs[t.id])  # 32-bit float: exact
        assert read_tags(p)["title"] == t.name
        total += data
    np.testing.assert_allclose(total, mix, atol=1e-6)  # the stems add up to the mix
    assert "Wrote 2 track files" in dlg.status.text()

    # Mixed to one file: just the selected range.
    dlg.mix_radio.setChecked(True)
    dlg.path_edit.setText(str(tmp_path / "sel.wav"))
    _run(qtbot, dlg)
    data, _ = _read(tmp_path / "sel.wav")
    np.testing.assert_array_equal(data, mix)


def test_loop_range_is_offered_only_with_a_loop(qtbot, window, store):
    w = window
    _load(w, store)
    dlg = _dialog(w)
    model = dlg.range_combo.model()
    assert not model.item(dlg.range_combo.findData("loop")).isEnabled()
    assert not model.item(dlg.range_combo.findData("selection")).isEnabled()
    w.state.set_selection(1000, 5000, (w.project.tracks[0].id,))
    assert model.item(dlg.range_combo.findData("selection")).isEnabled()
    w.act_loop.trigger()
    assert w.state.loop == (1000, 5000)
    assert model.item(dlg.range_combo.findData("loop")).isEnabled()
    _choose(dlg.range_combo, "loop")
    assert dlg.export_range() == (1000, 5000)
    w.state.set_selection(0, 0, ())
    assert dlg.range_combo.currentData() == "loop"  # the loop stays when the selection goes
    w.act_loop.trigger()
    assert dlg.range_combo.currentData() == "all" and dlg.export_range() == (0, w.project.end)
    # The range follows the project while the dialog is open.
    assert "(00:00:02.000)" in dlg.range_label.text()
    _load(w, store, seconds=1.0)
    assert "(00:00:01.000)" in dlg.range_label.text()


def _long_project(store, minutes: float = 30.0) -> Project:
    """A long project from one block repeated (little memory, slow to encode)."""
    x = _music(4.0, 3)
    blocks = store.blocks_from_array(x)
    seq = AudioSeq.from_blocks(blocks * int(minutes * 15), 2)
    return Project(RATE, (Track("Long", (Clip(seq, 0),)),), name="Long")


def test_cancel_leaves_no_file_and_app_stays_usable(qtbot, window, store, tmp_path, monkeypatch):
    w = window
    w.set_project(_long_project(store))
    dlg = _dialog(w)
    _choose(dlg.format_combo, "flac")
    out = tmp_path / "long.flac"
    out.write_bytes(b"old")  # an existing file: the user allows replacing it, then cancels
    dlg.path_edit.setText(str(out))
    asked = []

    def yes(*a, **k):
        asked.append(a[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(yes))
    qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    assert asked and "long.flac already exists" in asked[0]
    job = dlg.job
    wait_until(qtbot, lambda: job.fraction > 0.01, timeout=20)
    # While it runs: the status bar shows it, and the window still edits.
    # (in the status bar's message or its running-jobs label, whichever spoke last)
    wait_until(qtbot, lambda: "Export long.flac" in w.statusBar().currentMessage() + w.status_jobs.text(),
               timeout=10)
    assert not dlg.export_btn.isEnabled() and dlg.cancel_btn.isEnabled()
    w.state.set_selection(0, RATE, (w.project.tracks[0].id,))
    w.delete()
    assert w.project.end == _long_project(store).end - RATE
    with qtbot.waitSignal(dlg.export_cancelled, timeout=5000):
        qtbot.mouseClick(dlg.cancel_btn, Qt.MouseButton.LeftButton)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "blocks") == ["long.flac"]
    assert "cancelled" in dlg.status.text() and dlg.export_btn.isEnabled()


def test_replace_asks(qtbot, window, store, tmp_path, monkeypatch):
    w = window
    _load(w, store, seconds=1.0)
    dlg = _dialog(w)
    _choose(dlg.format_combo, "wav")
    out = tmp_path / "mix.wav"
    out.write_bytes(b"keep me")
    dlg.path_edit.setText(str(out))
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []

    def question(*a, **k):
        asked.append(a[2])
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and dlg.job is None
    assert out.read_bytes() == b"keep me" and "kept" in dlg.status.text()
    report = _run(qtbot, dlg)
    assert len(asked) == 2 and report.path == out
    data, _ = _read(out)
    assert data.shape[1] == w.project.end

    # Stems: one question for all existing files; No keeps them.
    folder = tmp_path / "st"
    folder.mkdir()
    (folder / "02 Voice.wav").write_bytes(b"old stem")
    dlg.stems_radio.setChecked(True)
    dlg.folder_edit.setText(str(folder))
    answers.append(QMessageBox.StandardButton.No)
    qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    assert len(asked) == 3 and "02 Voice.wav" in asked[2] and "01 Guitar.wav" not in asked[2]
    assert sorted(p.name for p in folder.iterdir()) == ["02 Voice.wav"]
    assert (folder / "02 Voice.wav").read_bytes() == b"old stem"


def test_bad_settings_are_explained(qtbot, window, store, tmp_path):
    w = window
    _load(w, store, seconds=1.0)
    dlg = _dialog(w)
    _choose(dlg.format_combo, "wav")
    dlg.path_edit.setText(str(tmp_path / "missing folder" / "x.wav"))
    with qtbot.waitSignal(dlg.export_failed, timeout=10000) as blocker:
        qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    assert "folder does not exist" in blocker.args[0]
    assert "Export failed" in dlg.status.text()
    # Everything muted: refused before starting.
    from editor.core.edits import set_track

    for t in w.project.tracks:
        w.document.apply(lambda p, tid=t.id: set_track(p, tid, mute=True), "Mute")
    dlg.path_edit.setText(str(tmp_path / "x.wav"))
    qtbot.mouseClick(dlg.export_btn, Qt.MouseButton.LeftButton)
    assert "no track is audible" in dlg.status.text() and not (tmp_path / "x.wav").exists()
