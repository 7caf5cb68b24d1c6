"""Live insert effects on tracks and the master: model, undo, files, renderer, bake.

The effects here are small pedalboard boards registered the way a plugin
registers its effects (``make_board``), so the real streaming path runs.
"""

from __future__ import annotations

import json

import numpy as np
import pedalboard
import pytest
import soundfile as sf

from editor.core import insert_edits as ie
from editor.core.chain import Chain, ChainStep
from editor.core.errors import EditError, ProjectFileError
from editor.core.history import History
from editor.core.model import Clip, Project, Track
from editor.core.projectfile import load_project, save_project
from editor.core.sequence import AudioSeq
from editor.core.serialize import project_from_dict, project_to_dict
from editor.effects.base import Effect, EffectContext, Param
from editor.effects.live import BoardProcessor, bake_track, check_insert, processor_factory
from editor.effects.registry import registry
from editor.engine.export import ExportSettings, export_mix
from editor.engine.inserts import InsertError
from editor.engine.playback import Player
from editor.engine.renderer import Renderer, render, render_chunks

RATE = 48000
LATENCY = 1000  # frames of the lookahead effect below


class TestEq(Effect):
    id = "test_eq"
    title = "Test EQ"
    params = (Param("cutoff_hz", "float", 200.0, 20.0, 20000.0), Param("gain_db", "float", 4.0, -24.0, 24.0))

    def make_board(self, params, sample_rate):
        return pedalboard.Pedalboard([pedalboard.HighpassFilter(params["cutoff_hz"]),
                                      pedalboard.PeakFilter(2000.0, params["gain_db"], 1.0)])


class TestComp(Effect):
    id = "test_comp"
    title = "Test compressor"
    params = (Param("threshold_db", "float", -20.0, -60.0, 0.0), Param("ratio", "float", 4.0, 1.0, 20.0))

    def make_board(self, params, sample_rate):
        return pedalboard.Compressor(threshold_db=params["threshold_db"], ratio=params["ratio"],
                                     attack_ms=5.0, release_ms=80.0)


class TestReverb(Effect):
    id = "test_reverb"
    title = "Test reverb"
    params = (Param("room_size", "float", 0.5, 0.0, 1.0),)

    def make_board(self, params, sample_rate):
        return pedalboard.Pedalboard([pedalboard.Reverb(room_size=params["room_size"], wet_level=0.4)])


class TestLookahead(Effect):
    """Stands for a lookahead limiter: its output lags its input by LATENCY frames."""

    id = "test_lookahead"
    title = "Test lookahead"

    def make_board(self, params, sample_rate):
        return pedalboard.Delay(delay_seconds=LATENCY / sample_rate, feedback=0.0, mix=1.0)

    def board_latency(self, params, sample_rate):
        return LATENCY


class TestLimiter(Effect):
    """A real lookahead limiter (pedalboard holds its latency back at the start of a stream)."""

    id = "test_limiter"
    title = "Test limiter"

    def make_board(self, params, sample_rate):
        return pedalboard.Pedalboard([pedalboard.BrickwallLimiter(ceiling_db=-0.5, lookahead_ms=5.0)])

    def board_latency(self, params, sample_rate):
        return int(round(5.0 * sample_rate / 1000))


class TestWholeFile(Effect):
    """An effect that needs the whole recording (like the AI effects)."""

    id = "test_wholefile"
    title = "Whole-file effect"

    def process(self, audio, sample_rate, params, context):
        return audio[:, ::-1].copy()


@pytest.fixture(autouse=True)
def _effects():
    reg = registry()
    for cls in (TestEq, TestComp, TestReverb, TestLookahead, TestLimiter, TestWholeFile):
        reg.register(cls)


def _seq(store, data: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(store.blocks_from_array(np.ascontiguousarray(data, np.float32)), data.shape[0])


def _music(seconds: float, seed: int, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    tone = 0.3 * np.sin(2 * np.pi * (220 + 40 * seed) * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
    return (tone + 0.05 * rng.standard_normal((channels, t.size))).astype(np.float32)


def _chain(*ids: str, **kw) -> Chain:
    return Chain(tuple(ChainStep.make(i, **kw) for i in ids))


def _project(store, seconds: float = 1.5) -> Project:
    a = Track("a", (Clip(_seq(store, _music(seconds, 1)), 0),), inserts=_chain("test_eq", "test_comp", "test_reverb"),
              gain_db=-3.0, pan=-0.4)
    b = Track("b", (Clip(_seq(store, _music(seconds, 2, channels=1)), 3000, gain_db=-2.0, fade_in=2000),),
              inserts=Chain((ChainStep.make("test_reverb", {"room_size": 0.8}, wet=0.5),)), pan=0.5)
    c = Track("c", (Clip(_seq(store, _music(seconds, 3)), 500),))  # no inserts
    return Project(RATE, (a, b, c), master_inserts=_chain("test_comp"))


# --------------------------------------------------------------------------- model and undo


def test_chain_edits_are_undo_steps_and_undo_all_gives_back_the_project(store):
    p0 = _project(store)
    tid = p0.tracks[2].id
    h = History(p0)
    eq = ChainStep.make("test_eq")
    h.push(ie.add_insert(h.current, tid, eq), "Add EQ")
    h.push(ie.add_insert(h.current, tid, "test_reverb", {"room_size": 0.3}, at=0), "Add reverb")
    assert [s.effect_id for s in h.current.track(tid).inserts] == ["test_reverb", "test_eq"]
    h.push(ie.move_insert(h.current, tid, eq.id, 0), "Move EQ up")
    assert [s.effect_id for s in h.current.track(tid).inserts] == ["test_eq", "test_reverb"]
    h.push(ie.set_insert_bypass(h.current, tid, eq.id, True), "Bypass EQ")
    assert h.current.track(tid).inserts.step(eq.id).bypass
    assert [s.effect_id for s in h.current.track(tid).inserts.active] == ["test_reverb"]
    h.push(ie.remove_insert(h.current, ie.MASTER, h.current.master_inserts.steps[0].id), "Remove master comp")
    assert not h.current.master_inserts
    assert len(h.entries) == 6
    for _ in range(5):
        h.undo()
    assert h.current == p0


def test_a_drag_on_a_control_merges_into_one_step(store):
    p0 = _project(store)
    tid = p0.tracks[0].id
    step = p0.tracks[0].inserts.steps[2]
    h = History(p0)
    key = ie.insert_merge_key(tid, step.id, "room_size")
    h.hold_merge(key)
    for v in np.linspace(0.5, 0.9, 12):
        h.push(ie.set_insert_params(h.current, tid, step.id, room_size=float(v)), "Reverb room size", key)
    h.end_merge()
    wet_key = ie.insert_merge_key(tid, step.id, "wet")
    assert wet_key != key
    for w in (0.9, 0.8, 0.7):
        h.push(ie.set_insert_wet(h.current, tid, step.id, w), "Reverb wet", wet_key)
    assert h.labels() == ["Open", "Reverb room size", "Reverb wet"]
    assert h.current.track(tid).inserts.step(step.id).param_dict["room_size"] == pytest.approx(0.9)
    assert h.current.track(tid).inserts.step(step.id).wet == pytest.approx(0.7)
    h.undo()
    h.undo()
    assert h.current == p0


def test_bad_chain_edits_are_user_errors(store):
    p = _project(store)
    tid = p.tracks[0].id
    with pytest.raises(EditError, match="no insert effect"):
        ie.remove_insert(p, tid, "nope")
    with pytest.raises(EditError, match="no track"):
        ie.add_insert(p, "nope", "test_eq")
    with pytest.raises(ValueError, match="wet"):
        ChainStep.make("test_eq", wet=1.5)


# --------------------------------------------------------------------------- files


def test_chains_survive_save_and_load_and_the_journal_form(store, tmp_path):
    p = _project(store)
    p = ie.set_insert_bypass(p, p.tracks[0].id, p.tracks[0].inserts.steps[1].id, True)
    path = tmp_path / "song.seedwave"
    save_project(p, path)
    back = load_project(path)
    assert [t.inserts for t in back.tracks] == [t.inserts for t in p.tracks]
    assert back.master_inserts == p.master_inserts
    blocks = {}
    d = json.loads(json.dumps(project_to_dict(p, lambda b: blocks.setdefault(b.uid, b))))
    again = project_from_dict(d, blocks.__getitem__)
    assert again.tracks[1].inserts.steps[0].wet == 0.5 and again.master_inserts == p.master_inserts
    assert np.array_equal(render(again, 0, 4096), render(p, 0, 4096))


def test_a_damaged_chain_in_a_project_file_is_one_clear_error(store, tmp_path):
    p = _project(store)
    blocks = {}
    d = project_to_dict(p, lambda b: blocks.setdefault(b.uid, b))
    d["tracks"][0]["inserts"][1]["wet"] = "loud"
    with pytest.raises(ValueError, match="insert effects of track 'a'.*wet"):
        project_from_dict(d, blocks.__getitem__)
    path = tmp_path / "x.seedwave"
    save_project(p, path)
    raw = path.read_bytes()
    assert b'"effect": "test_comp"' in raw or b'"effect":"test_comp"' in raw


def test_loading_a_file_with_a_broken_chain_names_the_file(store, tmp_path, monkeypatch):
    import editor.core.projectfile as pf

    p = _project(store)
    path = tmp_path / "y.seedwave"
    save_project(p, path)
    real = pf.project_from_dict

    def tamper(d, resolve):
        d["master_inserts"] = {"not": "a list"}
        return real(d, resolve)

    monkeypatch.setattr(pf, "project_from_dict", tamper)
    with pytest.raises(ProjectFileError, match="y.seedwave.*insert effects of the master"):
        load_project(path)


# --------------------------------------------------------------------------- renderer


def test_one_pass_and_1024_frame_blocks_give_the_same_audio(store):
    p = _project(store)
    total = p.end + RATE // 2  # into the tails
    with Renderer(p) as r:
        whole = r.render(0, total).copy()
    with Renderer(p) as r:
        blocks = np.concatenate([r.render(pos, min(1024, total - pos)).copy()
                                 for pos in range(0, total, 1024)], axis=1)
    assert np.abs(whole).max() > 0.05
    assert np.abs(whole - blocks).max() < 1e-6
    # The chains really act: a dry render differs clearly.
    dry = p.with_(master_inserts=Chain(), tracks=tuple(t.with_(inserts=Chain()) for t in p.tracks))
    assert np.abs(render(dry, 0, total) - whole).max() > 0.05
    # render_chunks (export's path) and the stateless render from 0 agree too.
    chunks = np.concatenate([c.copy() for _pos, c in render_chunks(p, 0, total, chunk=4099)], axis=1)
    assert np.abs(chunks - whole).max() < 1e-6
    assert np.abs(render(p, 0, total) - whole).max() < 1e-6


@pytest.mark.parametrize(("effect", "latency"), [("test_lookahead", LATENCY), ("test_limiter", 240)])
def test_chains_with_latency_are_compensated_so_tracks_stay_aligned(store, effect, latency):
    data = 0.5 * _music(0.5, 7)  # under the limiter's ceiling: it only delays
    seq = _seq(store, data)
    plain = Track("plain", (Clip(seq, 1000),))
    late = Track("late", (Clip(seq, 1000),), inserts=_chain(effect))
    p = Project(RATE, (plain, late))
    total = p.end + 2000
    out = np.concatenate([c.copy() for _pos, c in render_chunks(p, 0, total, chunk=1024)], axis=1)
    alone = render(Project(RATE, (plain,)), 0, total)
    assert np.abs(out - 2 * alone).max() < 1e-5  # sample-aligned: the two copies add up exactly
    with Renderer(p) as r:
        # Boards with latency run on fixed blocks, which adds up to one block less a frame.
        assert r.latency == latency + BoardProcessor.FIXED_BLOCK - 1
    # Without compensation the copies would be ``latency`` frames apart and not double.
    shifted = alone.copy()
    shifted[:, latency:] += alone[:, :-latency]
    assert np.abs(out - shifted).max() > 0.05
    # A latency on the master chain keeps the mix on the timeline too.
    pm = Project(RATE, (plain,), master_inserts=_chain(effect))
    assert np.abs(render(pm, 0, total) - alone).max() < 1e-6


def test_a_parameter_change_is_heard_at_once_and_keeps_the_effect_state(store):
    p = _project(store)
    tid = p.tracks[0].id
    step = p.tracks[0].inserts.steps[2]
    with Renderer(p, threads=1) as r:
        r.render(0, 20000)
        slot = r._runners[tid].slots[2]
        board = slot.proc.board
        p2 = ie.set_insert_params(p, tid, step.id, room_size=0.95)
        r.set_project(p2)
        assert r._runners[tid].slots[2].proc.board is board  # updated in place
        assert board[0].room_size == pytest.approx(0.95)
        after = r.render(20000, 4096).copy()
    # Fresh effects started at 20000 (no tail carried) sound different ...
    with Renderer(p2, threads=1) as r:
        fresh = r.render(20000, 4096).copy()
    assert np.abs(after - fresh).max() > 1e-3
    # ... and the old setting would sound different too: the change is heard in this block.
    with Renderer(p, threads=1) as r:
        r.render(0, 20000)
        old = r.render(20000, 4096).copy()
    assert np.abs(after - old).max() > 1e-4


def test_effects_that_need_the_whole_file_are_refused_as_inserts(store):
    with pytest.raises(InsertError, match="cannot run live on a track.*apply it to clips"):
        check_insert("test_wholefile")
    p = _project(store)
    p = ie.add_insert(p, p.tracks[2].id, "test_wholefile")
    with pytest.raises(InsertError, match="Whole-file effect cannot run live"):
        render(p, 0, 1024)
    with pytest.raises(InsertError, match="ratio must be between 1 and 20"):
        processor_factory(ChainStep.make("test_comp", {"ratio": 50.0}), RATE)


# --------------------------------------------------------------------------- bake and export


def test_bake_applies_the_chain_to_the_clips_as_one_step(store):
    p = _project(store)
    p = p.with_(master_inserts=Chain())
    b = p.tracks[1]
    h = History(p)
    h.push(bake_track(p, b.id, EffectContext()), "Apply effects of b")
    baked = h.current
    assert len(h.entries) == 2 and not baked.track(b.id).inserts
    clip = baked.track(b.id).clips[0]
    assert clip.position == b.clips[0].position and clip.length == b.clips[0].length
    assert clip.gain_db == 0.0 and clip.fade_in == 0 and clip.channels == 2
    # The track sounds as it did (over its clip) with the chain now in the audio.
    before = render(p.with_(tracks=(b,)), 0, p.end)
    after = render(baked.with_(tracks=(baked.track(b.id),)), 0, p.end)
    assert np.abs(after - before).max() < 1e-5
    assert np.abs(b.clips[0].audio.read(0, 4096)).max() > 0  # source audio untouched
    h.undo()
    assert h.current == p


def test_export_writes_what_playback_plays(store, tmp_path):
    p = _project(store, seconds=1.0)
    out = tmp_path / "mix.wav"
    export_mix(p, out, ExportSettings(format="wav", bits="float"))
    exported, rate = sf.read(out, dtype="float32", always_2d=True)
    player = Player()
    player.set_project(p)
    player._start_ring(0, None, False)
    try:
        heard = []
        while player._render_pos < p.end:
            player._fill(player._write - player._read + Player.CHUNK)
            n = player._write - player._read
            size = player._ring.shape[1]
            idx = (np.arange(n) + player._read) % size
            heard.append(player._ring[:, idx].copy())
            player._read = player._write
    finally:
        player.stop()
    played = np.concatenate(heard, axis=1)[:, : p.end]
    assert rate == RATE and exported.shape[0] == p.end
    assert np.abs(exported.T - played).max() < 1e-6


def test_a_parameter_change_while_playing_is_heard_after_the_head_start(store):
    """The feeder drops what it rendered ahead (beyond KEEP_SECONDS, well inside the
    device buffer) and renders again with the new setting on the same running reverb."""
    p = _project(store, seconds=2.0)
    tid = p.tracks[0].id
    step = p.tracks[0].inserts.steps[2]
    player = Player()
    player.set_project(p)
    player._start_ring(0, None, False)
    try:
        player._fill(int(Player.AHEAD_SECONDS * RATE))
        board = player._renderer._runners[tid].slots[2].proc.board
        player._playing = True  # what play() sets once the stream runs
        louder = ie.set_insert_params(p, tid, step.id, room_size=0.99)
        player.set_project(louder)
        keep = int(Player.KEEP_SECONDS * RATE)
        assert player._write - player._read == keep
        player._fill(int(Player.AHEAD_SECONDS * RATE))
        assert player._renderer._runners[tid].slots[2].proc.board is board  # state kept, not rebuilt
        assert board[0].room_size == pytest.approx(0.99)
        heard = player._ring[:, player._read:player._write].copy()
    finally:
        player._playing = False
        player.stop()
    n = heard.shape[1]
    with Renderer(p, threads=1) as r:
        before = r.render(0, n)
    assert np.abs(heard[:, :keep] - before[:, :keep]).max() < 1e-6  # the head start: old setting
    assert np.abs(heard[:, keep:] - before[:, keep:]).max() > 1e-3  # then the new one


def test_during_a_drag_later_edits_keep_what_is_buffered(store):
    """The first edit of a burst drops what was rendered ahead; the next ones (a drag)
    drop nothing and are heard once the short buffer has played, on the same effect."""
    p = _project(store, seconds=2.0)
    tid = p.tracks[0].id
    step = p.tracks[0].inserts.steps[2]
    player = Player()
    player.set_project(p)
    player._start_ring(0, None, False)
    try:
        player._fill(int(Player.AHEAD_SECONDS * RATE))
        player._playing = True
        player.set_project(ie.set_insert_params(p, tid, step.id, room_size=0.7))
        keep = int(Player.KEEP_SECONDS * RATE)
        assert player._write - player._read == keep
        player._fill(int(Player.AHEAD_SECONDS * RATE))
        buffered = player._write - player._read
        # While the drag goes on the feeder renders only a little beyond the head start.
        assert keep < buffered <= keep + int(Player.EDIT_AHEAD_SECONDS * RATE) + Player.CHUNK
        player.set_project(ie.set_insert_params(p, tid, step.id, room_size=0.9))
        assert player._write - player._read == buffered  # nothing thrown away
        player._read += buffered - Player.CHUNK  # the device plays most of it
        player._fill(int(Player.AHEAD_SECONDS * RATE))
        assert player._renderer._runners[tid].slots[2].proc.board[0].room_size == pytest.approx(0.9)
    finally:
        player._playing = False
        player.stop()


def test_effects_that_cannot_stream_are_refused_as_inserts_with_one_line():
    from editor.effects.live import InsertError, check_insert, live_effect_ids

    ids = live_effect_ids()
    assert "eq" in ids and "reverb" in ids
    for effect_id in ("pitch", "tempo", "denoise"):
        assert effect_id not in ids
        with pytest.raises(InsertError) as err:
            check_insert(effect_id)
        assert "\n" not in str(err.value) and "apply it to clips" in str(err.value)
