"""The reported GUI sequence, through the real window: save, delete a clip, save
again, undo (the clip comes back), autosave; then the process dies. Recovery must
bring back the clip's own audio, not the newer save's.

The process cannot be killed here, so its session folder is copied as a crash
leaves it (owned by a dead process) and recovered from the copy; the real kill -9
runs of the same sequence are in test_recovery.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np

from bench._recovery_worker import fingerprint
from editor.core import edits, recovery
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.store import BlockStore

from .gui_helpers import close_window, make_window


def test_gui_save_delete_save_undo_autosave_recovers_the_clip_exactly(qtbot, tmp_path, store):
    rng = np.random.default_rng(3)
    seqs = [AudioSeq.from_blocks(store.blocks_from_array(rng.uniform(-0.5, 0.5, (2, 60000)).astype(np.float32)), 2)
            for _ in range(2)]
    p = edits.add_track(Project(), "A", (Clip(seqs[0], 0, name="a"),))
    p = edits.add_track(p, "B", (Clip(seqs[1], 0, name="b"),))
    w = make_window(qtbot)
    try:
        w.set_project(p, None, "New project")
        path = tmp_path / "song.seedwave"
        assert w._save_to(path, wait=True)
        clip_b = w.project.tracks[1].clips[0].id
        assert w.document.apply(lambda pr: edits.delete_clips(pr, [clip_b]), "Delete clip")
        assert w._save_to(path, wait=True)
        w.document.undo()
        assert [len(t.clips) for t in w.project.tracks] == [1, 1]
        assert w.write_recovery()
        expected = fingerprint(w.project)
        # The process dies here.
        crashed = tmp_path / "sessions" / "crashed"
        shutil.copytree(store.folder, crashed)
        journal = crashed / recovery.JOURNAL
        journal.write_text(journal.read_text().replace(str(store.folder), str(crashed)))
        (crashed / "owner").write_text("999999999")
        assert json.loads(journal.read_text())["path"] == str(path)
    finally:
        close_window(w)
    (item,) = recovery.find_recoverable(tmp_path / "sessions")
    project, saved_path = recovery.recover(item, BlockStore(tmp_path / "next-start"))
    assert saved_path == str(path)
    assert fingerprint(project) == expected, "the restored clip plays its own audio"
