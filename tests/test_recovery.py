"""Autosave, crash recovery after kill -9, and full disks during save and autosave."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from editor.core import recovery
from editor.core.errors import ProjectFileError
from editor.core.projectfile import save_project
from editor.core.store import BlockStore

from .audiogen import sines, write
from .gui_helpers import close_window, make_window, mix, wait_until

RATE = 48000

CRASHER = textwrap.dedent(
    """
    import os, signal, sys
    os.environ["SEEDWAVE_CACHE"] = sys.argv[1]
    from editor.core.audio_io import import_audio
    from editor.core import edits
    from editor.core.model import Clip, Project, Selection
    from editor.core.recovery import write_journal
    from editor.core.store import default_store
    imp = import_audio(sys.argv[2])
    p = Project(sample_rate=imp.sample_rate)
    p = edits.add_track(p, "Take", (Clip(imp.sequences[0], 0, name="Take"),))
    tid = p.tracks[0].id
    p = edits.amplify(p, Selection(1000, 30000, (tid,)), -6.0)   # new cache blocks
    p = edits.delete(p, Selection(50000, 60000, (tid,)))        # structural edit
    write_journal(default_store(), p, None, modified=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _expected(path: Path):
    from editor.core import edits
    from editor.core.audio_io import import_audio
    from editor.core.model import Clip, Project, Selection

    imp = import_audio(path)
    p = Project(sample_rate=imp.sample_rate)
    p = edits.add_track(p, "Take", (Clip(imp.sequences[0], 0, name="Take"),))
    tid = p.tracks[0].id
    p = edits.amplify(p, Selection(1000, 30000, (tid,)), -6.0)
    return edits.delete(p, Selection(50000, 60000, (tid,)))


def _crash(tmp_path: Path) -> tuple[Path, Path]:
    """Run a process that edits, autosaves and is killed with SIGKILL."""
    cache = tmp_path / "crashed-cache"
    wav = write(tmp_path / "take.wav", sines(seconds=2.0, channels=2), RATE, "PCM_16")
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(cache), str(wav)], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    return cache / "sessions", wav


def test_kill_9_then_recover(tmp_path, store):
    sessions, wav = _crash(tmp_path)
    found = recovery.find_recoverable(sessions)
    assert len(found) == 1 and found[0].tracks == 1
    project, path = recovery.recover(found[0], store)
    assert path is None
    np.testing.assert_array_equal(mix(project), mix(_expected(wav)))
    # The crashed session's folder is gone; its audio now lives in our session.
    assert not found[0].folder.exists()
    assert recovery.find_recoverable(sessions) == []


def test_clean_sessions_are_not_offered(tmp_path):
    base = tmp_path / "sessions"
    s = BlockStore(base)
    from editor.core.model import Project

    recovery.write_journal(s, Project(), None, modified=True)
    # Our own live session is never offered.
    assert recovery.find_recoverable(base) == []


def test_gui_offers_recovery_after_crash(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from editor.qt import app as app_mod

    sessions, wav = _crash(tmp_path)
    monkeypatch.setattr(recovery, "cache_root", lambda: sessions.parent)
    monkeypatch.setattr(app_mod, "find_recoverable", lambda: recovery.find_recoverable(sessions))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    w = make_window(qtbot)
    try:
        assert app_mod.offer_recovery(w)
        assert asked and "did not close properly" in asked[0][2]
        np.testing.assert_array_equal(mix(w.project), mix(_expected(wav)))
        assert w.document.modified, "recovered work is unsaved until the user saves it"
    finally:
        close_window(w)


def test_autosave_writes_journal_within_interval(qtbot, tmp_path, store):
    from editor.core import edits

    w = make_window(qtbot)
    try:
        w.set_autosave_interval(2)
        w.document.apply(lambda p: edits.add_track(p, "New"), "Add track")
        journal = store.folder / recovery.JOURNAL
        wait_until(qtbot, journal.exists, timeout=6)
        found_after = journal.stat().st_mtime
        # No change: no rewrite. A change: rewritten at the next tick.
        assert not w.write_recovery()
        w.document.apply(lambda p: edits.add_track(p, "Another"), "Add track")
        wait_until(qtbot, lambda: journal.stat().st_mtime > found_after, timeout=6)
    finally:
        close_window(w)
    assert not (store.folder / recovery.JOURNAL).exists(), "a clean close removes the journal"


@pytest.fixture
def full_disk(tmp_path):
    """A tiny tmpfs that fills up; falls back to injected ENOSPC where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True).returncode == 0
    yield mnt, ok
    if ok:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_disk_full_during_save_keeps_previous_file(full_disk, tmp_path, monkeypatch):
    from editor.core import edits
    from editor.core.model import Clip, Project
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store

    mnt, mounted = full_disk
    seq = AudioSeq.from_blocks(default_store().blocks_from_array(sines(seconds=0.2, channels=1)), 1)
    small = edits.add_track(Project(), "a", (Clip(seq, 0),))
    target = mnt / "song.seedwave"
    save_project(small, target)
    good = target.read_bytes()
    big_seq = AudioSeq.from_blocks(default_store().blocks_from_array(sines(seconds=3.0, channels=2)), 2)
    big = edits.add_track(small, "b", (Clip(big_seq, 0),))
    if mounted:
        _fill(mnt)
    else:
        real = os.fsync

        def fsync(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(ProjectFileError, match="disk is full"):
        save_project(big, target)
    if not mounted:
        monkeypatch.setattr(os, "fsync", real)
    assert target.read_bytes() == good
    assert [p.name for p in mnt.iterdir() if p.name.endswith(".tmp")] == []


def test_disk_full_during_autosave_keeps_previous_journal(full_disk, monkeypatch):
    from editor.core import edits
    from editor.core.model import Project

    mnt, mounted = full_disk
    s = BlockStore(mnt / "sessions")
    recovery.write_journal(s, Project(), None, True)
    journal = s.folder / recovery.JOURNAL
    before = journal.read_text()
    big = Project()
    for i in range(400):  # a model big enough not to fit in what is left
        big = edits.add_track(big, f"Track with a long name number {i:04d}")
    if mounted:
        _fill(mnt)
    else:
        def fsync(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(ProjectFileError, match="disk is full"):
        recovery.write_journal(s, big, None, True)
    assert journal.read_text() == before


def test_gui_save_to_full_disk_shows_message(qtbot, full_disk, tmp_path):
    mnt, mounted = full_disk
    if not mounted:
        pytest.skip("needs a tmpfs mount (root)")
    from editor.core import edits

    w = make_window(qtbot)
    try:
        w.document.apply(lambda p: edits.add_track(p, "x"), "Add track")
        _fill(mnt)
        assert not w._save_to(mnt / "x.seedwave", wait=True)
        assert "disk is full" in w.statusBar().currentMessage()
        assert w.document.modified
    finally:
        close_window(w)
