"""Undo history: labels, undo/redo/jump, merging, the memory cap, speed, and a
hypothesis state machine of random edits, undos and redos."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from editor.core import edits
from editor.core import history as history_mod
from editor.core.audio_io import import_audio
from editor.core.blocks import BLOCK_FRAMES, Block
from editor.core.errors import EditError
from editor.core.history import History
from editor.core.model import Clip, FadeShape, Project, Selection, Track
from editor.core.sequence import AudioSeq
from editor.core.store import BlockStore, set_default_store
from editor.engine.renderer import render

RATE = 48000


def _noise(channels: int, frames: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (channels, frames)).astype(np.float32)


def _project(store: BlockStore, frames: int = 100_000) -> Project:
    seq = AudioSeq.from_blocks(store.blocks_from_array(_noise(2, frames, 0)), 2)
    return Project(tracks=(Track("A", (Clip(seq, position=0),)),))


def _cache_files(store: BlockStore) -> set[Path]:
    return set(store.folder.glob("*.f32"))


def _files_in_use(h: History) -> set[Path]:
    out = set()
    for e in h.entries:
        for b in e.project.blocks():
            d = b.backing.describe()
            if d["kind"] == "f32":
                out.add(Path(d["path"]))
    return out


# --------------------------------------------------------------------------- basics


def test_labels_undo_redo_jump(store):
    p0 = _project(store)
    tid = p0.tracks[0].id
    h = History(p0)
    p1 = edits.rename_track(p0, tid, "one")
    h.push(p1, "Rename")
    p2 = edits.delete(p1, Selection(0, 1000, (tid,)))
    h.push(p2, "Delete")
    assert h.labels() == ["Open", "Rename", "Delete"] and h.index == 2
    assert h.can_undo and not h.can_redo
    assert h.undo() is p1 and h.undo() is p0 and h.undo() is p0
    assert not h.can_undo and h.can_redo
    assert h.redo() is p1 and h.redo() is p2 and h.redo() is p2
    assert h.jump(0) is p0 and h.jump(2) is p2
    with pytest.raises(IndexError):
        h.jump(3)
    # A new edit after undo drops the redo branch.
    h.undo()
    p3 = edits.add_track(p1)
    h.push(p3, "Add track")
    assert h.labels() == ["Open", "Rename", "Add track"] and not h.can_redo
    assert h.current is p3


def test_pushing_the_current_project_is_not_a_step(store):
    p = _project(store)
    h = History(p)
    h.push(p, "Nothing")
    assert h.labels() == ["Open"]


def test_listeners_hear_every_change(store):
    p = _project(store)
    h = History(p)
    seen = []
    h.subscribe(lambda hist: seen.append(hist.index))
    h.push(edits.add_track(p), "Add")
    h.undo()
    h.redo()
    h.jump(0)
    h.jump(0)  # no change, no event
    h.undo()  # nothing to undo: no event
    assert seen == [1, 0, 1, 0]
    h.unsubscribe(h._listeners[0])
    h.redo()
    assert seen == [1, 0, 1, 0]


def test_modified_and_saved_state(store):
    p = _project(store)
    h = History(p)
    assert not h.modified
    h.push(edits.add_track(p), "Add")
    assert h.modified
    h.mark_saved()
    assert not h.modified
    h.undo()
    assert h.modified
    h.redo()
    assert not h.modified
    h.undo()
    h.push(edits.set_master_gain(p, -1), "Gain")  # the saved state is gone for good
    assert h.modified and h.saved_index is None


def test_merge_key_collapses_a_fader_drag(store):
    p = _project(store)
    tid = p.tracks[0].id
    h = History(p)
    for g in (-1.0, -2.0, -3.0, -4.5):
        p = edits.set_track(p, tid, gain_db=g)
        h.push(p, "Track gain", merge_key=f"gain:{tid}")
    assert h.labels() == ["Open", "Track gain"]
    assert h.current.tracks[0].gain_db == -4.5
    h.push(edits.set_track(p, tid, pan=0.5), "Pan", merge_key=f"pan:{tid}")
    assert h.labels() == ["Open", "Track gain", "Pan"]
    assert h.undo().tracks[0].gain_db == -4.5 and h.undo().tracks[0].gain_db == 0.0


def test_merging_stops_at_end_merge_a_save_or_a_pause(store, monkeypatch):
    p = _project(store)
    tid = p.tracks[0].id
    h = History(p)
    key = f"gain:{tid}"
    h.push(edits.set_track(p, tid, gain_db=-1), "Gain", merge_key=key)
    h.end_merge()  # the drag ended
    h.push(edits.set_track(p, tid, gain_db=-2), "Gain", merge_key=key)
    assert len(h.entries) == 3
    h.mark_saved()
    h.push(edits.set_track(p, tid, gain_db=-3), "Gain", merge_key=key)
    assert len(h.entries) == 4  # the saved state stays reachable
    monkeypatch.setattr(history_mod, "MERGE_WINDOW_S", 0.01)
    time.sleep(0.02)
    h.push(edits.set_track(p, tid, gain_db=-4), "Gain", merge_key=key)
    assert len(h.entries) == 5


def test_no_merging_into_a_step_reached_by_undo(store):
    """Regression: a fader change after undo merged into the older step with the same
    key, so that step silently changed and the redo branch was lost with no new step."""
    p = _project(store)
    tid = p.tracks[0].id
    key = f"gain:{tid}"
    h = History(p)
    p1 = edits.set_track(p, tid, gain_db=-1)
    h.push(p1, "Gain", merge_key=key)
    h.push(edits.add_track(p1), "Add track")
    assert h.undo() is p1
    p2 = edits.set_track(p1, tid, gain_db=-5)
    h.push(p2, "Gain", merge_key=key)
    assert h.labels() == ["Open", "Gain", "Gain"]
    assert h.undo() is p1  # the state the user undid to is still there
    h.redo()
    h.undo()
    h.push(edits.set_track(p1, tid, gain_db=-7), "Gain", merge_key=key)  # after redo + undo, likewise
    assert len(h.entries) == 3 and h.undo() is p1


def test_reset(store):
    p = _project(store)
    h = History(p)
    h.push(edits.add_track(p), "Add")
    q = edits.add_track(p, "other")
    h.reset(q, "Open other")
    assert h.labels() == ["Open other"] and h.current is q and not h.modified


# --------------------------------------------------------------------------- the memory cap


def test_cap_counts_only_audio_that_history_alone_holds(store):
    p0 = _project(store)  # 100_000 stereo frames = 800_000 bytes
    tid = p0.tracks[0].id
    h = History(p0, limit_bytes=1 << 40)
    p1 = edits.add_track(p0)
    h.push(p1, "Add")
    assert h.history_only_bytes() == 0  # structure changes share all audio
    p2 = edits.amplify(p1, Selection(0, 100_000, (tid,)), -3)
    h.push(p2, "Amplify")
    assert h.history_only_bytes() == 800_000  # the original audio is now only in history
    h.undo()
    assert h.history_only_bytes() == 800_000  # now the amplified copy is history-only


def test_cap_drops_old_steps_and_their_cache_files(store):
    p = _project(store)
    tid = p.tracks[0].id
    sel = Selection(0, 100_000, (tid,))
    step = 800_000
    h = History(p, limit_bytes=int(2.5 * step))  # room for two whole-audio edits
    for i in range(6):
        p = edits.amplify(p, sel, -0.5)
        h.push(p, f"Amplify {i}")
        assert h.history_only_bytes() <= h.limit_bytes
    assert h.labels() == ["Amplify 3", "Amplify 4", "Amplify 5"]
    assert h.current is p and h.index == 2
    del p
    gc.collect()
    # Cache files of dropped steps are deleted once nothing reaches them.
    assert _cache_files(store) == _files_in_use(h)
    assert len(_cache_files(store)) == 3
    # What is left still undoes.
    assert h.undo() is h.entries[1].project


def test_cap_keeps_the_saved_index_consistent(store):
    p = _project(store)
    sel = Selection(0, 100_000, (p.tracks[0].id,))
    h = History(p, limit_bytes=1_000_000)
    p = edits.amplify(p, sel, 1)
    h.push(p, "A")
    h.mark_saved()
    for _ in range(3):
        p = edits.amplify(p, sel, 1)
        h.push(p, "B")
    assert h.saved_index is None or h.entries[h.saved_index].label == "A"
    assert h.modified


# --------------------------------------------------------------------------- speed


def _hour_of_aliases(path: Path) -> AudioSeq:
    """Over an hour of 48 kHz stereo as alias blocks of a WAV file, the way an import
    of a long WAV holds it, without writing 700 MB: every block aliases the same
    block-long file (each is still its own block)."""
    sf.write(path, _noise(2, BLOCK_FRAMES, 4).T, RATE, subtype="PCM_16")
    (block,) = import_audio(path).blocks()
    assert block.backing.describe()["kind"] == "alias"
    count = -(-3600 * RATE // BLOCK_FRAMES)
    blocks = [Block(2, BLOCK_FRAMES, block.backing, block.summaries) for _ in range(count)]
    return AudioSeq.from_blocks(blocks, 2)


def test_undo_redo_on_an_hour_of_audio_never_read_it(tmp_path, store, monkeypatch):
    """Undo and redo swap snapshots: they never read a sample, whatever the length.
    (Their speed, microseconds, is a benchmark: docs/benchmarks/io.md.)"""
    seq = _hour_of_aliases(tmp_path / "block.wav")
    assert seq.frames >= 3600 * RATE and len(seq.segments) > 600
    p = Project(tracks=(Track("hour", (Clip(seq, position=0),)),))
    tid = p.tracks[0].id
    h = History(p)
    p, board = edits.cut(p, Selection(10 * RATE, 20 * 60 * RATE, (tid,)))
    h.push(p, "Cut")
    p = edits.paste(p, board, 30 * 60 * RATE, (tid,))
    h.push(p, "Paste")
    p = edits.amplify(p, Selection(RATE, 2 * RATE, (tid,)), 6.0)
    h.push(p, "Amplify")
    reads: list[str] = []

    def no_read(self, start: int, stop: int) -> np.ndarray:
        reads.append(type(self).__name__)
        raise AssertionError("undo/redo read audio")

    for cls in {type(b.backing) for e in h.entries for b in e.project.blocks()}:
        monkeypatch.setattr(cls, "read", no_read)  # every backing in the history now raises if read
    for _ in range(10):
        for op in (h.undo, h.undo, h.undo, h.redo, h.redo, h.redo):
            op()
    assert h.current is p and not reads


# --------------------------------------------------------------------------- random edits, undo, redo


def _digest(project: Project) -> np.ndarray:
    return render(project, 0, project.end + 10)


def _check_valid(project: Project) -> None:
    for t in project.tracks:
        assert list(t.clips) == sorted(t.clips, key=lambda c: (c.position, c.id))
        for c in t.clips:
            assert c.position >= 0 and c.length > 0 and c.offset >= 0
            assert c.offset + c.length <= c.audio.frames
            # Fades may overlap after a cut shortens a clip (their gains multiply), and a piece
            # of a clip may hold part of a fade (offset < fade length).
            assert c.fade_in >= 0 and c.fade_out >= 0
            assert 0 <= c.fade_in_offset < max(1, c.fade_in) and 0 <= c.fade_out_offset < max(1, c.fade_out)


positions = st.integers(min_value=0, max_value=9000)
lengths = st.integers(min_value=1, max_value=4000)


class EditHistoryMachine(RuleBasedStateMachine):
    """Random edits, undos, redos and jumps against a mirror of what history must hold."""

    _tmp = "/tmp"  # the running test's tmp_path, set by the test

    @initialize()
    def start(self) -> None:
        self.store = BlockStore(Path(self._tmp) / "cache")
        set_default_store(self.store)
        a1 = AudioSeq.from_blocks(self.store.blocks_from_array(_noise(2, 3000, 1)), 2)
        a2 = AudioSeq.from_blocks(self.store.blocks_from_array(_noise(2, 2000, 2)), 2)
        b = AudioSeq.from_blocks(self.store.blocks_from_array(_noise(1, 2500, 3)), 1)
        self.original = Project(tracks=(
            Track("A", (Clip(a1, position=100), Clip(a2, position=4000, offset=300, length=1500))),
            Track("B", (Clip(b, position=500),), pan=-0.3),
        ))
        self.original_digest = _digest(self.original)
        self.history = History(self.original, limit_bytes=1 << 40)
        self.mirror = [(self.original, self.original_digest)]
        self.index = 0
        self.board = None
        self.last_key: str | None = None

    # -- helpers ----------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.history.current

    def _tracks(self, data, at_least: int = 1) -> tuple[str, ...]:
        ids = [t.id for t in self.project.tracks]
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=at_least, max_size=len(ids), unique=True))
        return tuple(chosen)

    def _selection(self, data) -> Selection:
        start = data.draw(positions)
        return Selection(start, start + data.draw(lengths), self._tracks(data))

    def _clip_id(self, data) -> str | None:
        ids = [c.id for t in self.project.tracks for c in t.clips]
        return data.draw(st.sampled_from(ids)) if ids else None

    def _apply(self, fn, label: str, merge_key: str | None = None) -> None:
        try:
            new = fn(self.project)
        except EditError:
            return
        _check_valid(new)
        index = self.history.index
        self.history.push(new, label, merge_key=merge_key)
        if new is self.mirror[self.index][0]:
            return  # no change, no step
        del self.mirror[self.index + 1 :]
        if self.history.index == index:
            # Merged into the current step: only right for the same control changed
            # again straight after its previous change.
            assert merge_key is not None and merge_key == self.last_key and index > 0
            self.mirror[self.index] = (new, _digest(new))
        else:
            self.mirror.append((new, _digest(new)))
            self.index += 1
        self.last_key = merge_key

    # -- edits --------------------------------------------------------------------
    @rule(data=st.data())
    def cut(self, data):
        sel = self._selection(data)
        boards = []

        def fn(p):
            out, board = edits.cut(p, sel)
            boards.append(board)
            return out

        self._apply(fn, "Cut")
        if boards:
            self.board = boards[0]

    @precondition(lambda self: self.board is not None)
    @rule(data=st.data())
    def paste(self, data):
        pos = data.draw(positions)
        self._apply(lambda p: edits.paste(p, self.board, pos, self._tracks(data)), "Paste")

    @rule(data=st.data())
    def delete(self, data):
        sel = self._selection(data)
        self._apply(lambda p: edits.delete(p, sel), "Delete")

    @rule(data=st.data())
    def structural(self, data):
        kind = data.draw(st.sampled_from(["silence", "insert_silence", "trim", "split", "duplicate"]))
        sel = self._selection(data)
        fns = {
            "silence": lambda p: edits.silence(p, sel),
            "insert_silence": lambda p: edits.insert_silence(p, sel.start, sel.length, sel.track_ids),
            "trim": lambda p: edits.trim_to_selection(p, sel),
            "split": lambda p: edits.split(p, sel.start, sel.track_ids),
            "duplicate": lambda p: edits.duplicate(p, sel),
        }
        self._apply(fns[kind], kind)

    @rule(data=st.data())
    def change_samples(self, data):
        kind = data.draw(st.sampled_from(["amplify", "fade", "reverse", "normalize"]))
        sel = self._selection(data)
        shape = data.draw(st.sampled_from(list(FadeShape)))
        fns = {
            "amplify": lambda p: edits.amplify(p, sel, data.draw(st.floats(-12, 6))),
            "fade": lambda p: edits.fade(p, sel, data.draw(st.booleans()), shape),
            "reverse": lambda p: edits.reverse(p, sel),
            "normalize": lambda p: edits.normalize(p, sel, -3.0),
        }
        self._apply(fns[kind], kind)

    @rule(data=st.data())
    def clip_edit(self, data):
        cid = self._clip_id(data)
        if cid is None:
            return
        kind = data.draw(st.sampled_from(["move", "move_track", "gain_fades", "trim", "delete", "ripple"]))
        tids = [t.id for t in self.project.tracks]
        fns = {
            "move": lambda p: edits.move_clip(p, cid, data.draw(positions)),
            "move_track": lambda p: edits.move_clips(p, [cid], data.draw(st.integers(-500, 500)),
                                                     data.draw(st.integers(-2, 2))),
            "gain_fades": lambda p: edits.set_clip(p, cid, gain_db=data.draw(st.floats(-20, 6)),
                                                   fade_in=data.draw(st.integers(0, 800)),
                                                   fade_out=data.draw(st.integers(0, 800)),
                                                   fade_in_shape=data.draw(st.sampled_from(list(FadeShape)))),
            "trim": lambda p: edits.trim_clip(p, cid, start=data.draw(st.none() | positions),
                                              end=data.draw(st.none() | positions)),
            "delete": lambda p: edits.delete_clips(p, [cid]),
            "ripple": lambda p: edits.delete_clips(p, [cid], ripple=True),
        }
        if kind == "move_track" and data.draw(st.booleans()):
            dest = data.draw(st.sampled_from(tids))
            self._apply(lambda p: edits.move_clip(p, cid, data.draw(positions), dest), "Move to track")
            return
        self._apply(fns[kind], kind)

    @rule(data=st.data())
    def track_edit(self, data):
        tid = data.draw(st.sampled_from([t.id for t in self.project.tracks]))
        kind = data.draw(st.sampled_from(["add", "remove", "rename", "move", "gain", "pan", "mute", "marker"]))
        if kind == "remove" and len(self.project.tracks) == 1:
            return
        fns = {
            "add": lambda p: edits.add_track(p),
            "remove": lambda p: edits.remove_track(p, tid),
            "rename": lambda p: edits.rename_track(p, tid, data.draw(st.sampled_from(["x", "Vox", "  Gtr "]))),
            "move": lambda p: edits.move_track(p, tid, data.draw(st.integers(0, 4))),
            "gain": lambda p: edits.set_track(p, tid, gain_db=data.draw(st.floats(-24, 6))),
            "pan": lambda p: edits.set_track(p, tid, pan=data.draw(st.floats(-1, 1))),
            "mute": lambda p: edits.set_track(p, tid, mute=data.draw(st.booleans()),
                                              solo=data.draw(st.booleans())),
            "marker": lambda p: edits.add_marker(p, data.draw(positions)),
        }
        key = f"{kind}:{tid}" if kind in ("gain", "pan") else None
        self._apply(fns[kind], kind, merge_key=key)

    @rule(data=st.data())
    def fader(self, data):
        """A fader drag on one of the first two tracks: consecutive moves merge."""
        tid = data.draw(st.sampled_from([t.id for t in self.project.tracks[:2]]))
        gain = data.draw(st.sampled_from([-12.0, -6.0, -1.5, 3.0]))
        self._apply(lambda p: edits.set_track(p, tid, gain_db=gain), "Gain", merge_key=f"gain:{tid}")

    # -- navigation -----------------------------------------------------------------
    @rule()
    def undo(self):
        self.history.undo()
        self.index = max(0, self.index - 1)
        self.last_key = None

    @rule()
    def redo(self):
        self.history.redo()
        self.index = min(len(self.mirror) - 1, self.index + 1)
        self.last_key = None

    @rule(data=st.data())
    def jump(self, data):
        i = data.draw(st.integers(0, len(self.mirror) - 1))
        self.history.jump(i)
        self.index = i
        self.last_key = None

    # -- checks -------------------------------------------------------------------
    @invariant()
    def history_matches_the_mirror(self):
        assert self.history.index == self.index
        assert len(self.history.entries) == len(self.mirror)
        project, digest = self.mirror[self.index]
        assert self.history.current == project
        np.testing.assert_array_equal(_digest(self.history.current), digest)

    def teardown(self):
        if not hasattr(self, "history"):
            return
        h = self.history
        while h.can_undo:
            h.undo()
        assert h.current == self.original
        np.testing.assert_array_equal(_digest(h.current), self.original_digest)
        # Edits never touched the original: it still renders as it did.
        np.testing.assert_array_equal(_digest(self.original), self.original_digest)
        while h.can_redo:
            h.redo()
        final, final_digest = self.mirror[-1]
        assert h.current == final
        np.testing.assert_array_equal(_digest(h.current), final_digest)
        set_default_store(None)


def test_random_edits_undo_and_redo(tmp_path, store):
    EditHistoryMachine._tmp = str(tmp_path)
    runner = EditHistoryMachine.TestCase
    runner.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                               suppress_health_check=list(HealthCheck))
    runner().runTest()


def test_a_held_drag_is_one_step_however_long_it_pauses(monkeypatch):
    from editor.core import history as history_mod
    from editor.core.edits import add_track, set_track
    from editor.core.model import Project

    now = [1000.0]
    monkeypatch.setattr(history_mod.time, "monotonic", lambda: now[0])
    p = add_track(Project(), "a")
    tid = p.tracks[0].id
    h = history_mod.History(p)
    h.hold_merge("fader")
    for i in range(5):
        now[0] += 10.0  # the user holds the fader still for 10 s between moves
        h.push(set_track(h.current, tid, gain_db=-i), "Volume", merge_key="fader")
    assert len(h.entries) == 2 and h.current.tracks[0].gain_db == -4
    h.end_merge()
    now[0] += 0.1
    h.push(set_track(h.current, tid, gain_db=-9), "Volume", merge_key="fader")
    assert len(h.entries) == 3, "after the drag ends, the next change is a new step"
    # Without a hold, pauses longer than the merge window split steps (keyboard nudges).
    now[0] += 10.0
    h.push(set_track(h.current, tid, gain_db=-10), "Volume", merge_key="fader")
    assert len(h.entries) == 4
