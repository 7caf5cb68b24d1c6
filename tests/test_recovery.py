"""Autosave, crash recovery after kill -9, and full disks during save and autosave."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bench._recovery_worker import fingerprint, make_wav, trial
from editor.core import recovery
from editor.core.errors import ProjectFileError
from editor.core.projectfile import save_project
from editor.core.store import BlockStore

from .audiogen import sines, write
from .gui_helpers import close_window, make_window, mix, wait_until

RATE = 48000
ROOT = Path(__file__).resolve().parent.parent

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


# Saved, a clip deleted, saved again (the file now holds other audio), undo brings
# the clip back, autosave, kill -9: the clip's audio lived only in the first save.
SAVED_OVER = textwrap.dedent(
    """
    import json, os, signal, sys
    os.environ["SEEDWAVE_CACHE"] = sys.argv[1]
    import numpy as np
    from editor.core import edits
    from editor.core.history import History
    from editor.core.model import Clip, Project
    from editor.core.projectfile import save_project
    from editor.core.recovery import write_journal
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store
    from bench._recovery_worker import fingerprint
    work = sys.argv[2]
    store = default_store()
    rng = np.random.default_rng(5)
    def seq():
        x = rng.uniform(-.5, .5, (2, 90000)).astype(np.float32)
        return AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    p = Project(sample_rate=48000)
    p = edits.add_track(p, "A", (Clip(seq(), 0, name="a"),))
    p = edits.add_track(p, "B", (Clip(seq(), 0, name="b"),))
    h = History(p)
    path = os.path.join(work, "song.seedwave")
    save_project(h.current, path)
    h.push(edits.delete_clips(h.current, [h.current.tracks[1].clips[0].id]), "Delete clip")
    save_project(h.current, path)
    h.undo()
    write_journal(store, h.current, path, modified=True)
    open(os.path.join(work, "expected"), "w").write(fingerprint(h.current))
    os.kill(os.getpid(), signal.SIGKILL)
    """
)

# Journal written; undo and a new edit drop the journalled blocks (their cache
# file would be deleted); kill -9 before the next journal.
UNDO_NEW_EDIT = textwrap.dedent(
    """
    import gc, os, signal, sys
    os.environ["SEEDWAVE_CACHE"] = sys.argv[1]
    import numpy as np
    from editor.core import edits
    from editor.core.history import History
    from editor.core.model import Clip, Project, Selection
    from editor.core.recovery import write_journal
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store
    from bench._recovery_worker import fingerprint
    work = sys.argv[2]
    store = default_store()
    x = np.random.default_rng(6).uniform(-.5, .5, (1, 120000)).astype(np.float32)
    p = edits.add_track(Project(), "A", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),))
    h = History(p)
    tid = p.tracks[0].id
    h.push(edits.amplify(h.current, Selection(1000, 80000, (tid,)), -6.0, store), "Amplify")
    write_journal(store, h.current, None, modified=True)
    open(os.path.join(work, "expected"), "w").write(fingerprint(h.current))
    files = sorted(f.name for f in store.folder.glob("*.f32"))
    h.undo()
    h.push(edits.amplify(h.current, Selection(5000, 9000, (tid,)), 3.0, store), "Amplify")
    gc.collect()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


# The files the audio lives in are deleted or replaced by the user before the
# autosave: the journal must not point at them (the autosave copies what it needs).
FILES_GONE = textwrap.dedent(
    """
    import os, signal, sys
    os.environ["SEEDWAVE_CACHE"] = sys.argv[1]
    import numpy as np
    import soundfile as sf
    from editor.core import edits
    from editor.core.audio_io import import_audio
    from editor.core.model import Clip, Project
    from editor.core.projectfile import load_project, save_project
    from editor.core.recovery import write_journal
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store
    from bench._recovery_worker import fingerprint
    work = sys.argv[2]
    store = default_store()
    rng = np.random.default_rng(8)
    wav = os.path.join(work, "take.wav")
    sf.write(wav, rng.uniform(-.5, .5, 30000).astype(np.float32), 48000, subtype="PCM_16")
    x = rng.uniform(-.5, .5, (1, 40000)).astype(np.float32)
    p = edits.add_track(Project(), "A", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),))
    path = os.path.join(work, "song.seedwave")
    save_project(p, path)
    p = load_project(path)
    p = edits.add_track(p, "Take", (Clip(import_audio(wav).sequences[0], 0),))   # read in place (alias)
    os.unlink(path)                                                               # the project file is deleted
    os.unlink(wav)
    sf.write(wav, rng.uniform(-.5, .5, 30000).astype(np.float32), 48000, subtype="PCM_16")  # and the take replaced
    write_journal(store, p, None, modified=True)
    open(os.path.join(work, "expected"), "w").write(fingerprint(p))
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _run_crash(tmp_path: Path, script: str) -> tuple[Path, Path]:
    cache, work = tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-c", script, str(cache), str(work)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr
    return cache / "sessions", work


def test_saved_over_then_undo_then_kill_recovers_the_clip_exactly(tmp_path, store):
    sessions, work = _run_crash(tmp_path, SAVED_OVER)
    (item,) = recovery.find_recoverable(sessions)
    project, path = recovery.recover(item, store)
    assert path == str(work / "song.seedwave")
    assert [len(t.clips) for t in project.tracks] == [1, 1], "the clip the undo brought back is there"
    assert fingerprint(project) == (work / "expected").read_text(), "and it plays its own audio, not the newer save's"


def test_undo_and_new_edit_after_a_journal_then_kill_recovers_exactly(tmp_path, store):
    sessions, work = _run_crash(tmp_path, UNDO_NEW_EDIT)
    (item,) = recovery.find_recoverable(sessions)
    project, _ = recovery.recover(item, store)
    assert fingerprint(project) == (work / "expected").read_text()
    assert recovery.find_recoverable(sessions) == []


def test_files_deleted_or_replaced_before_the_autosave_do_not_matter(tmp_path, store):
    sessions, work = _run_crash(tmp_path, FILES_GONE)
    (item,) = recovery.find_recoverable(sessions)
    project, _ = recovery.recover(item, store)
    assert fingerprint(project) == (work / "expected").read_text()


def test_missing_audio_is_refused_and_what_is_left_is_kept_as_damaged_tracks(tmp_path, store):
    sessions, work = _run_crash(tmp_path, UNDO_NEW_EDIT)
    (item,) = recovery.find_recoverable(sessions)
    journal = json.loads((item.folder / recovery.JOURNAL).read_text())
    referenced = sorted({Path(d["path"]) for d in journal["blocks"].values()}, key=lambda f: f.stat().st_size)
    referenced[0].unlink()  # the smaller file: the amplified range
    before = sorted(f.name for f in item.folder.iterdir())
    with pytest.raises(recovery.RecoveryIncomplete) as info:
        recovery.recover(item, store)
    exc = info.value
    assert "cannot be recovered exactly" in str(exc) and "missing" in str(exc) and "\n" not in str(exc)
    assert exc.missing and "0:00.0" in exc.missing[0], "it says which time range is lost"
    # Nothing of ours was substituted: the damaged clip's surviving parts sit on a
    # track marked damaged, and the lost range is absent, not silence in the real track.
    names = [t.name for t in exc.project.tracks]
    assert any(n.endswith("(damaged)") for n in names)
    damaged = [t for t in exc.project.tracks if t.name.endswith("(damaged)")][0]
    assert damaged.clips and all(c.name.endswith("(damaged)") for c in damaged.clips)
    lost = sum(c.length for c in damaged.clips)
    assert lost < 120000
    # The salvage is a project file that opens; the broken session is not offered again.
    from editor.core.projectfile import load_project

    assert exc.salvage_path is not None and exc.salvage_path.exists()
    reopened = load_project(exc.salvage_path)
    assert fingerprint(reopened) == fingerprint(exc.project)
    assert recovery.find_recoverable(sessions) == []
    assert before, "files were there to check"


def test_changed_audio_is_detected_by_its_hash(tmp_path, store):
    sessions, work = _run_crash(tmp_path, UNDO_NEW_EDIT)
    (item,) = recovery.find_recoverable(sessions)
    f = max(item.folder.glob("*.f32"), key=lambda f: f.stat().st_size)
    data = bytearray(f.read_bytes())
    data[4000:4004] = np.float32(0.123).tobytes()  # same size, same name, one sample changed
    f.write_bytes(bytes(data))
    with pytest.raises(recovery.RecoveryIncomplete, match="changed since the last autosave"):
        recovery.recover(item, store)
    assert recovery.find_recoverable(sessions) == []


def test_nothing_moves_until_every_block_is_checked(tmp_path, store):
    sessions, work = _run_crash(tmp_path, UNDO_NEW_EDIT)
    (item,) = recovery.find_recoverable(sessions)
    journal = json.loads((item.folder / recovery.JOURNAL).read_text())
    referenced = sorted({Path(d["path"]) for d in journal["blocks"].values()})
    assert len(referenced) == 2
    # One file checks, the other is cut short: the good one must not have moved either.
    victim = referenced[-1]
    victim.write_bytes(victim.read_bytes()[:100])
    ours_before = set(store.folder.iterdir())
    with pytest.raises(recovery.RecoveryIncomplete):
        recovery.recover(item, store)
    moved_in = {p for p in set(store.folder.iterdir()) - ours_before if p.suffix == ".f32"}
    assert not moved_in, "no cache file of the crashed session was moved into ours"


def test_a_damaged_journal_is_refused_once_and_not_offered_again(tmp_path, store):
    sessions, _ = _crash(tmp_path)
    (item,) = recovery.find_recoverable(sessions)
    (item.folder / recovery.JOURNAL).write_text('{"modified": true, "project": [[[[')
    (item,) = recovery.find_recoverable(sessions) or [item]
    with pytest.raises(recovery.RecoveryError, match="damaged"):
        recovery.recover(item, store)
    assert recovery.find_recoverable(sessions) == []
    recovery.sweep_stale(sessions)
    assert not item.folder.exists()


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_edits_saves_undos_and_autosaves_killed_at_random(tmp_path, store, seed):
    """A real process killed with SIGKILL at a random moment (bench/recovery.py runs hundreds)."""
    t = trial(seed, tmp_path, store, make_wav(tmp_path / "voice.wav"), max_s=1.5)
    assert t.outcome in ("exact", "nothing"), (t.outcome, t.detail)
    assert t.outcome == "exact" or t.journals == 0
    assert t.tmp_left == 0, "a start after the crash removes what killed saves left"
    assert not t.notes, t.notes


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


def test_gui_opens_what_could_be_kept_and_names_what_is_missing(qtbot, tmp_path, monkeypatch, store):
    from PySide6.QtWidgets import QMessageBox

    from editor.qt import app as app_mod

    sessions, work = _run_crash(tmp_path, UNDO_NEW_EDIT)
    (item,) = recovery.find_recoverable(sessions)
    journal = json.loads((item.folder / recovery.JOURNAL).read_text())
    referenced = sorted({Path(d["path"]) for d in journal["blocks"].values()}, key=lambda f: f.stat().st_size)
    referenced[0].unlink()
    monkeypatch.setattr(app_mod, "find_recoverable", lambda: recovery.find_recoverable(sessions))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]) or QMessageBox.StandardButton.Ok)
    w = make_window(qtbot)
    try:
        assert app_mod.offer_recovery(w)
        assert warned and "Missing:" in warned[0] and "0:00.0" in warned[0]
        assert any(t.name.endswith("(damaged)") for t in w.project.tracks)
        assert w.document.modified
        assert recovery.find_recoverable(sessions) == [], "the broken session is not offered again"
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


def test_ai_step_provenance_survives_save_reopen_and_recovery(tmp_path, store):
    from editor.core import edits
    from editor.core.history import History
    from editor.core.model import Clip, Project, Selection
    from editor.core.projectfile import load_project
    from editor.core.sequence import AudioSeq

    x = sines(seconds=0.5, channels=1)
    p = edits.add_track(Project(), "Voice", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),))
    h = History(p)
    facts = {"effect": "denoise", "model": "deepfilternet3", "model_sha256": "ab" * 32,
             "params": {"strength": 0.8}, "seed": 1234, "device": "cpu"}
    tid = p.tracks[0].id
    h.push(edits.amplify(h.current, Selection(0, 1000, (tid,)), -3.0, store), "Denoise", meta=facts)
    h.push(edits.set_master_gain(h.current, -1.0), "Master gain")  # not a processing step
    (step,) = h.current.steps
    assert step.label == "Denoise" and {k: step.data[k] for k in facts} == facts
    assert step.data["versions"]["seedwave"] and step.data["applied_at"]
    # Saved and reopened.
    path = tmp_path / "p.seedwave"
    save_project(h.current, path)
    assert load_project(path).steps == h.current.steps
    # Journalled, the process gone, recovered.
    session = BlockStore(tmp_path / "sessions")
    recovery.write_journal(session, h.current, path, True)
    (session.folder / "owner").write_text("999999999")
    (item,) = recovery.find_recoverable(tmp_path / "sessions")
    project, _ = recovery.recover(item, store)
    assert project.steps == h.current.steps
    # Undoing the step takes its provenance with it.
    h.undo()
    h.undo()
    assert h.current.steps == ()
