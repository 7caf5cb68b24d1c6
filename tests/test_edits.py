"""Edits: every function in editor.core.edits, checked on rendered samples.

Edits are pure functions of a frozen project: each test also relies on the
``original_unchanged`` fixture, which fingerprints the starting project (its whole
structure, the blocks it references and its rendered audio) and checks after the
test that nothing about it changed.
"""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pyloudnorm
import pytest

from editor.core import edits
from editor.core.blocks import BLOCK_FRAMES
from editor.core.errors import EditError
from editor.core.fades import fade_envelope
from editor.core.loudness import LoudnessMeter, db_to_gain
from editor.core.model import Clip, FadeShape, Project, Selection, Track
from editor.core.sequence import AudioSeq
from editor.engine.renderer import render

RATE = 48000


def _noise(channels: int, frames: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (channels, frames)).astype(np.float32)


def _seq(store, data: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(store.blocks_from_array(data), data.shape[0])


def _track_audio(project: Project, index: int, frames: int | None = None) -> np.ndarray:
    """Rendered stereo samples of one track alone (centre pan passes audio unchanged)."""
    frames = project.end if frames is None else frames
    return render(project, 0, frames, tracks=[project.tracks[index]], master=False)


def _sample_blocks(project: Project) -> set:
    return {b for b in project.blocks() if not b.is_silent}


def _fingerprint(project: Project):
    """Everything about a project, with blocks by identity and the mix by value."""
    def seq(s: AudioSeq):
        return (s.channels, s.frames, tuple((id(g.block), g.block.is_silent, g.start, g.stop) for g in s.segments))

    tracks = tuple(
        (t.id, t.name, t.colour, t.gain_db, t.pan, t.mute, t.solo,
         tuple((c.id, c.position, c.offset, c.length, c.gain_db, c.fade_in, c.fade_out, c.fade_in_shape,
                c.fade_out_shape, c.name, seq(c.audio)) for c in t.clips))
        for t in project.tracks
    )
    mix = render(project, 0, project.end + 100)
    return (project.sample_rate, project.name, project.master_gain_db, project.markers, tracks), mix


@pytest.fixture
def data():
    return {"a1": _noise(2, 200_000, 1), "a2": _noise(2, 60_000, 2), "b": _noise(1, 150_000, 3)}


@pytest.fixture
def project(store, data):
    """Track A (stereo): clip a1 at 1000, clip a2 at 300_000 (offset 5000 into its audio).
    Track B (mono): clip b at 50_000."""
    a1 = Clip(_seq(store, data["a1"]), position=1000, name="a1")
    a2 = Clip(_seq(store, data["a2"]), position=300_000, offset=5000, length=50_000, name="a2")
    b = Clip(_seq(store, data["b"]), position=50_000, name="b")
    return Project(sample_rate=RATE, tracks=(Track("A", (a1, a2)), Track("B", (b,))))


@pytest.fixture(autouse=True)
def original_unchanged(request):
    """After each test, the project fixture (if used) is exactly as it was made."""
    if "project" not in request.fixturenames:
        yield
        return
    proj = request.getfixturevalue("project")
    before_model, before_mix = _fingerprint(proj)
    yield
    after_model, after_mix = _fingerprint(proj)
    assert after_model == before_model, "an edit changed the original project"
    np.testing.assert_array_equal(after_mix, before_mix)


def _ids(project: Project) -> tuple[str, str]:
    return project.tracks[0].id, project.tracks[1].id


def _timeline(data: dict, project: Project) -> tuple[np.ndarray, np.ndarray]:
    """Reference stereo renders of tracks A and B of the ``project`` fixture."""
    end = project.end
    a = np.zeros((2, end), np.float32)
    a[:, 1000:201_000] = data["a1"]
    a[:, 300_000:350_000] = data["a2"][:, 5000:55_000]
    b = np.zeros((2, end), np.float32)
    b[:, 50_000:200_000] = data["b"]
    return a, b


# --------------------------------------------------------------------------- the fixture itself


def test_reference_render_matches(project, data):
    a, b = _timeline(data, project)
    np.testing.assert_array_equal(_track_audio(project, 0), a)
    np.testing.assert_array_equal(_track_audio(project, 1), b)


def test_projects_are_frozen(project):
    with pytest.raises(FrozenInstanceError):
        project.tracks[0].name = "x"
    with pytest.raises(FrozenInstanceError):
        project.tracks[0].clips[0].position = 5


# --------------------------------------------------------------------------- cut, copy, delete, paste


def test_copy_holds_the_range_of_each_track(project, data):
    ta, tb = _ids(project)
    board = edits.copy(project, Selection(150_000, 320_000, (ta, tb)))
    assert board.length == 170_000 and board.sample_rate == RATE and len(board.tracks) == 2
    (c1, c2), (c3,) = board.tracks
    assert (c1.position, c1.length, c2.position, c2.length) == (0, 51_000, 150_000, 20_000)
    np.testing.assert_array_equal(c1.visible_audio().read(0, c1.length), data["a1"][:, 149_000:])
    np.testing.assert_array_equal(c2.visible_audio().read(0, c2.length), data["a2"][:, 5000:25_000])
    np.testing.assert_array_equal(c3.visible_audio().read(0, c3.length), data["b"][:, 100_000:])
    assert {c.id for c in (c1, c2, c3)}.isdisjoint({c.id for t in project.tracks for c in t.clips})


def test_delete_ripples_the_selected_tracks_only(project, data):
    ta, _tb = _ids(project)
    a, b = _timeline(data, project)
    out = edits.delete(project, Selection(100_000, 310_000, (ta,)))
    expect = np.concatenate([a[:, :100_000], a[:, 310_000:]], axis=1)
    np.testing.assert_array_equal(_track_audio(out, 0, expect.shape[1]), expect)
    assert out.tracks[1] is project.tracks[1]
    np.testing.assert_array_equal(_track_audio(out, 1, b.shape[1]), b)
    # a1 was cut short, a2 starts inside the range: it moves to the cut and loses its head.
    (c1, c2) = out.tracks[0].clips
    assert (c1.position, c1.length) == (1000, 99_000)
    assert (c2.position, c2.offset, c2.length) == (100_000, 15_000, 40_000)


def test_delete_inside_one_clip_splices_its_audio(project, data):
    ta, _ = _ids(project)
    out = edits.delete(project, Selection(20_000, 30_001, (ta,)))
    c = out.tracks[0].clips[0]
    assert c.length == 200_000 - 10_001 and c.id == project.tracks[0].clips[0].id
    want = np.concatenate([data["a1"][:, :19_000], data["a1"][:, 29_001:]], axis=1)
    np.testing.assert_array_equal(c.visible_audio().read(0, c.length), want)
    assert out.tracks[0].clips[1].position == 300_000 - 10_001


def test_delete_removes_clips_wholly_inside(project):
    ta, tb = _ids(project)
    out = edits.delete(project, Selection(0, 400_000, (ta, tb)))
    assert out.tracks[0].clips == () and out.tracks[1].clips == ()


@pytest.mark.parametrize(("start", "stop", "tracks"), [
    (100_000, 310_000, (0,)),
    (12_345, 12_346, (0, 1)),
    (0, 1001, (0,)),
    (199_999, 300_001, (0, 1)),
    (40_000, 260_000, (1, 0)),
    (330_000, 360_000, (0,)),
])
def test_cut_then_paste_at_the_same_place_gives_back_identical_samples(project, start, stop, tracks):
    ids = tuple(project.tracks[i].id for i in tracks)
    before = render(project, 0, project.end)
    cut, board = edits.cut(project, Selection(start, stop, ids))
    assert not _sample_blocks(cut) - _sample_blocks(project)  # no sample copies
    back = edits.paste(cut, board, start, ids)
    assert back.end == project.end
    np.testing.assert_array_equal(render(back, 0, back.end), before)
    for i in range(2):
        np.testing.assert_array_equal(_track_audio(back, i, project.end), _track_audio(project, i))


def test_cut_and_paste_across_a_clip_fade_gives_back_identical_samples(project):
    ta, _ = _ids(project)
    faded = edits.set_clip(project, project.tracks[0].clips[0].id, fade_out=20_000)
    cut, board = edits.cut(faded, Selection(190_000, 250_000, (ta,)))  # splits the fade-out
    back = edits.paste(cut, board, 190_000, (ta,))
    np.testing.assert_array_equal(render(back, 0, faded.end), render(faded, 0, faded.end))


def test_cut_and_paste_inside_one_clip_restores_the_same_sequence(project):
    ta, _ = _ids(project)
    cut, board = edits.cut(project, Selection(10_000, 90_000, (ta,)))
    back = edits.paste(cut, board, 10_000, (ta,))
    before, after = project.tracks[0].clips[0], back.tracks[0].clips[0]
    assert len(back.tracks[0].clips) == 2  # pasted into the clip: still one clip
    assert after.audio == before.audio and after.length == before.length


def test_paste_into_a_clip_keeps_one_clip(project, data):
    ta, _ = _ids(project)
    board = edits.copy(project, Selection(300_000, 300_500, (ta,)))
    out = edits.paste(project, board, 1500, (ta,))
    clips = out.tracks[0].clips
    assert len(clips) == 2 and clips[0].length == 200_500 and clips[1].position == 300_500
    want = np.concatenate([data["a1"][:, :500], data["a2"][:, 5000:5500], data["a1"][:, 500:]], axis=1)
    np.testing.assert_array_equal(clips[0].visible_audio().read(0, clips[0].length), want)
    assert not _sample_blocks(out) - _sample_blocks(project)


def test_paste_with_different_gain_splits_the_clip(project, data):
    ta, _ = _ids(project)
    quiet = edits.set_clip(project, project.tracks[0].clips[1].id, gain_db=-6.0)
    board = edits.copy(quiet, Selection(300_000, 300_500, (ta,)))
    out = edits.paste(quiet, board, 1500, (ta,))
    assert len(out.tracks[0].clips) == 4
    a, _b = _timeline(data, project)
    got = _track_audio(out, 0, 1000 + 200_500)
    np.testing.assert_array_equal(got[:, :1500], a[:, :1500])
    np.testing.assert_allclose(got[:, 1500:2000], data["a2"][:, 5000:5500] * db_to_gain(-6.0), atol=1e-7)
    np.testing.assert_array_equal(got[:, 2000:], a[:, 1500:201_000])


def test_paste_into_a_gap_and_onto_more_tracks_than_selected(project, data):
    ta, tb = _ids(project)
    board = edits.copy(project, Selection(60_000, 61_000, (ta, tb)))
    out = edits.paste(project, board, 250_000, (tb,))
    # Track B gets clipboard track 1 (audio of A); the second clipboard track makes a new track.
    assert [t.name for t in out.tracks] == ["A", "B", "Pasted 1"]
    got_b = _track_audio(out, 1, 251_000)[:, 250_000:]
    np.testing.assert_array_equal(got_b, data["a1"][:, 59_000:60_000])
    got_new = _track_audio(out, 2, 251_000)[:, 250_000:]
    np.testing.assert_array_equal(got_new, np.repeat(data["b"][:, 10_000:11_000], 2, axis=0))
    assert out.tracks[0] is project.tracks[0]


def test_paste_moves_later_audio_right(project, data):
    ta, _ = _ids(project)
    a, _b = _timeline(data, project)
    board = edits.copy(project, Selection(0, 777, (ta,)))  # 777 frames of leading silence + audio
    out = edits.paste(project, board, 250_000, (ta,))
    got = _track_audio(out, 0)
    expect = np.concatenate([a[:, :250_000], a[:, :777], a[:, 250_000:]], axis=1)
    np.testing.assert_array_equal(got, expect)


def test_paste_errors(project):
    ta, _ = _ids(project)
    board = edits.copy(project, Selection(0, 10, (ta,)))
    with pytest.raises(EditError, match="Hz"):
        edits.paste(project.with_(sample_rate=44100), board, 0, (ta,))
    with pytest.raises(EditError):
        edits.paste(project, board, 0, ())
    with pytest.raises(EditError):
        edits.paste(project, board, -1, (ta,))


def test_empty_selection_is_refused(project):
    ta, _ = _ids(project)
    for fn in (edits.copy, edits.delete, edits.silence, edits.trim_to_selection):
        with pytest.raises(EditError, match="select"):
            fn(project, Selection(10, 10, (ta,)))
        with pytest.raises(EditError):
            fn(project, Selection(0, 10, ()))


# --------------------------------------------------------------------------- silence, trim, split, duplicate


def test_insert_silence_inside_a_clip_and_in_a_gap(project, data):
    ta, tb = _ids(project)
    a, b = _timeline(data, project)
    out = edits.insert_silence(project, 100_000, 12_000, (ta, tb))
    np.testing.assert_array_equal(_track_audio(out, 0), np.insert(a, [100_000] * 12_000, 0.0, axis=1))
    np.testing.assert_array_equal(_track_audio(out, 1, b.shape[1] + 12_000),
                                  np.insert(b, [100_000] * 12_000, 0.0, axis=1))
    assert len(out.tracks[0].clips) == 2  # the clip grew rather than split
    gap = edits.insert_silence(project, 250_000, 5, (ta,))
    assert gap.tracks[0].clips[1].position == 300_005
    assert not _sample_blocks(out) - _sample_blocks(project)
    with pytest.raises(EditError):
        edits.insert_silence(project, 0, 0, (ta,))


def test_silence_replaces_the_range_and_moves_nothing(project, data):
    ta, _ = _ids(project)
    a, _b = _timeline(data, project)
    out = edits.silence(project, Selection(150_000, 310_000, (ta,)))
    a[:, 150_000:310_000] = 0.0
    np.testing.assert_array_equal(_track_audio(out, 0), a)
    assert [(c.position, c.length) for c in out.tracks[0].clips] == [(1000, 200_000), (300_000, 50_000)]
    assert not _sample_blocks(out) - _sample_blocks(project)


def test_trim_to_selection_keeps_only_the_range(project, data):
    ta, _ = _ids(project)
    a, _b = _timeline(data, project)
    out = edits.trim_to_selection(project, Selection(150_000, 310_000, (ta,)))
    want = np.zeros_like(a)
    want[:, 150_000:310_000] = a[:, 150_000:310_000]
    np.testing.assert_array_equal(_track_audio(out, 0, a.shape[1]), want)
    assert out.tracks[1] is project.tracks[1]


def test_split_makes_two_clips_and_sounds_the_same(project):
    ta, tb = _ids(project)
    faded = edits.set_clip(project, project.tracks[0].clips[0].id, fade_in=500, fade_out=700)
    out = edits.split(faded, 100_000, (ta, tb))
    left, right = out.tracks[0].clips[:2]
    assert (left.end, right.position) == (100_000, 100_000)
    assert (left.fade_in, left.fade_out, right.fade_in, right.fade_out) == (500, 0, 0, 700)
    assert len(out.tracks[1].clips) == 2
    np.testing.assert_array_equal(render(out, 0, out.end), render(faded, 0, faded.end))
    assert not _sample_blocks(out) - _sample_blocks(project)
    with pytest.raises(EditError, match="no clip"):
        edits.split(project, 250_000, (ta,))
    with pytest.raises(EditError):
        edits.split(project, 1000, (ta,))  # a clip edge is not inside a clip


def test_duplicate_puts_a_copy_of_the_range_below(project, data):
    ta, tb = _ids(project)
    out = edits.duplicate(project, Selection(100_000, 320_000, (ta, tb)))
    assert [t.name for t in out.tracks] == ["A", "A (copy)", "B", "B (copy)"]
    a, b = _timeline(data, project)
    want = np.zeros_like(a)
    want[:, 100_000:320_000] = a[:, 100_000:320_000]
    np.testing.assert_array_equal(_track_audio(out, 1, a.shape[1]), want)
    want = np.zeros_like(b)
    want[:, 100_000:320_000] = b[:, 100_000:320_000]
    np.testing.assert_array_equal(_track_audio(out, 3, b.shape[1]), want)
    assert out.tracks[0] is project.tracks[0]


# --------------------------------------------------------------------------- sample-changing edits


def test_amplify_changes_exactly_the_range(project, data):
    ta, tb = _ids(project)
    a, b = _timeline(data, project)
    out = edits.amplify(project, Selection(100_000, 310_000, (ta, tb)), -6.0)
    g = np.float32(db_to_gain(-6.0))
    a[:, 100_000:310_000] *= g
    b[:, 100_000:310_000] *= g
    np.testing.assert_array_equal(_track_audio(out, 0), a)
    np.testing.assert_array_equal(_track_audio(out, 1), b)


def test_amplify_makes_new_blocks_only_where_audio_changed(store):
    data = _noise(2, 10 * BLOCK_FRAMES, 7)
    clip = Clip(_seq(store, data), position=0)
    proj = Project(tracks=(Track("long", (clip,)),))
    tid = proj.tracks[0].id
    before = _sample_blocks(proj)
    assert len(before) == 10
    one_second = Selection(4 * BLOCK_FRAMES + 1000, 4 * BLOCK_FRAMES + 1000 + RATE, (tid,))
    out = edits.amplify(proj, one_second, 3.0)
    new = _sample_blocks(out) - before
    assert len(new) == 1 and sum(b.frames for b in new) == RATE
    # The old block under the range still provides the audio either side of it.
    assert _sample_blocks(out) - new == before and len(out.tracks[0].clips[0].audio.segments) == 12
    # Straddling a block boundary touches two old blocks, still one new block.
    out2 = edits.amplify(proj, Selection(2 * BLOCK_FRAMES - 100, 2 * BLOCK_FRAMES + 100, (tid,)), 1.0)
    assert len(_sample_blocks(out2) - before) == 1 and len(before - _sample_blocks(out2)) == 0
    got = out.tracks[0].clips[0].audio.read(0, data.shape[1])
    want = data.copy()
    want[:, one_second.start : one_second.stop] *= np.float32(db_to_gain(3.0))
    np.testing.assert_array_equal(got, want)


def test_structural_edits_make_no_sample_blocks(project):
    ta, tb = _ids(project)
    before = _sample_blocks(project)
    sel = Selection(123_456, 234_567, (ta, tb))
    cut, board = edits.cut(project, sel)
    results = [
        cut, edits.paste(cut, board, 77, (tb, ta)), edits.delete(project, sel),
        edits.split(project, 150_000, (ta, tb)), edits.insert_silence(project, 100, 10_000, (ta, tb)),
        edits.silence(project, sel), edits.trim_to_selection(project, sel), edits.duplicate(project, sel),
        edits.move_clip(project, project.tracks[1].clips[0].id, 0, ta),
        edits.trim_clip(project, project.tracks[0].clips[0].id, start=5000, end=9000),
    ]
    for r in results:
        assert _sample_blocks(r) <= before


def test_amplify_on_a_range_without_audio(project):
    ta, _ = _ids(project)
    with pytest.raises(EditError, match="no audio"):
        edits.amplify(project, Selection(250_000, 260_000, (ta,)), 3.0)


@pytest.mark.parametrize("shape", list(FadeShape))
@pytest.mark.parametrize("fade_in", [True, False])
def test_range_fades_follow_the_curve(project, data, shape, fade_in):
    ta, _ = _ids(project)
    a, _b = _timeline(data, project)
    sel = Selection(180_000, 320_000, (ta,))  # across the end of a1, a gap and into a2
    out = edits.fade(project, sel, fade_in, shape)
    env = fade_envelope(shape, sel.length, 0, sel.length, fade_in)
    a[:, sel.start : sel.stop] *= env
    np.testing.assert_allclose(_track_audio(out, 0), a, atol=1e-7, rtol=0)
    # The curve runs from (near) silence to (near) unity, monotonic.
    d = np.diff(env)
    assert (d >= -1e-7).all() if fade_in else (d <= 1e-7).all()
    assert min(env[0], env[-1]) < 0.01 and max(env[0], env[-1]) > 0.99


def test_fade_shapes_differ():
    curves = {s: fade_envelope(s, 11, 0, 11, True) for s in FadeShape}
    assert len({c.tobytes() for c in curves.values()}) == len(FadeShape)
    assert curves[FadeShape.EXPONENTIAL][3] < curves[FadeShape.LINEAR][3] < curves[FadeShape.LOGARITHMIC][3]
    assert curves[FadeShape.EQUAL_POWER][5] == pytest.approx(math.sqrt(0.5), abs=1e-6)


def test_reverse_reverses_each_clip_part(project, data):
    ta, _ = _ids(project)
    a, _b = _timeline(data, project)
    out = edits.reverse(project, Selection(150_000, 320_000, (ta,)))
    a[:, 150_000:201_000] = a[:, 150_000:201_000][:, ::-1]
    a[:, 300_000:320_000] = a[:, 300_000:320_000][:, ::-1]
    np.testing.assert_array_equal(_track_audio(out, 0), a)
    twice = edits.reverse(out, Selection(150_000, 320_000, (ta,)))
    np.testing.assert_array_equal(_track_audio(twice, 0), _track_audio(project, 0))


def test_normalize_to_peak(project):
    ta, tb = _ids(project)
    gained = edits.set_clip(project, project.tracks[1].clips[0].id, gain_db=-3.0)
    sel = Selection(0, gained.end, (ta, tb))
    out = edits.normalize(gained, sel, target=-1.0, mode="peak")
    for i in range(2):
        peak = np.abs(_track_audio(out, i)).max()
        assert 20 * math.log10(peak) == pytest.approx(-1.0, abs=1e-4)
    assert edits.measure_peak(out, sel)[tb] == pytest.approx(db_to_gain(-1.0), rel=1e-5)


def test_normalize_to_loudness_agrees_with_pyloudnorm(store):
    t = np.arange(RATE * 5) / RATE
    tone = np.stack([0.1 * np.sin(2 * np.pi * 997 * t), 0.05 * np.sin(2 * np.pi * 440 * t)]).astype(np.float32)
    proj = Project(tracks=(Track("s", (Clip(_seq(store, tone), position=RATE),)),))
    tid = proj.tracks[0].id
    sel = Selection(RATE, 6 * RATE, (tid,))
    meter = pyloudnorm.Meter(RATE)
    before = edits.measure_loudness(proj, sel)[tid]
    assert before == pytest.approx(meter.integrated_loudness(tone.T.astype(np.float64)), abs=0.01)
    out = edits.normalize(proj, sel, target=-23.0, mode="lufs")
    got = out.tracks[0].clips[0].audio.read(0, tone.shape[1])
    assert meter.integrated_loudness(got.T.astype(np.float64)) == pytest.approx(-23.0, abs=0.05)


def test_streaming_loudness_meter_matches_pyloudnorm():
    x = _noise(2, RATE * 7, 11) * np.linspace(0.1, 1, RATE * 7, dtype=np.float32)
    m = LoudnessMeter(RATE, 2)
    for s in range(0, x.shape[1], 10_007):  # odd chunks: filter state must carry over
        m.feed(x[:, s : s + 10_007])
    ref = pyloudnorm.Meter(RATE).integrated_loudness(x.T.astype(np.float64))
    assert m.integrated() == pytest.approx(ref, abs=0.01)


def test_normalize_skips_silence_and_refuses_unknown_modes(store, project):
    ta, _ = _ids(project)
    silent = Project(tracks=(Track("z", (Clip(AudioSeq.silence(1, 1000), position=0),)),))
    sel = Selection(0, 1000, (silent.tracks[0].id,))
    assert edits.normalize(silent, sel) is silent
    with pytest.raises(EditError, match="mode"):
        edits.normalize(project, Selection(0, 10, (ta,)), mode="rms")


def test_replace_clip_audio_checks_length_and_channels(project, store):
    cid = project.tracks[0].clips[0].id
    new = _seq(store, np.zeros((2, 100), np.float32))
    out = edits.replace_clip_audio(project, cid, 50, 150, new)
    np.testing.assert_array_equal(out.tracks[0].clips[0].audio.read(50, 150), 0.0)
    with pytest.raises(EditError, match="length"):
        edits.replace_clip_audio(project, cid, 50, 151, new)
    with pytest.raises(EditError, match="channel"):
        edits.replace_clip_audio(project, cid, 0, 100, _seq(store, np.zeros((1, 100), np.float32)))


# --------------------------------------------------------------------------- clips


def test_move_clip_along_and_to_another_track(project, data):
    ta, tb = _ids(project)
    cid = project.tracks[0].clips[1].id
    out = edits.move_clip(project, cid, 400_000)
    assert out.tracks[0].clip(cid).position == 400_000
    out = edits.move_clip(project, cid, -50, tb)
    assert [c.id for c in out.tracks[0].clips] == [project.tracks[0].clips[0].id]
    moved = out.tracks[1].clips[0]
    assert moved.id == cid and moved.position == 0  # clamped to the start; clips stay sorted
    np.testing.assert_array_equal(_track_audio(out, 1, 50_000)[:, :50_000], data["a2"][:, 5000:55_000])


def test_move_clips_together(project):
    ta, tb = _ids(project)
    ids = [project.tracks[0].clips[0].id, project.tracks[1].clips[0].id]
    out = edits.move_clips(project, ids, -5000)
    # The earliest clip hits 0, so the group moves by only -1000 and keeps its spacing.
    assert out.tracks[0].clip(ids[0]).position == 0 and out.tracks[1].clip(ids[1]).position == 49_000
    out = edits.move_clips(project, ids[:1], 10, track_delta=5)
    assert out.tracks[1].clip(ids[0]).position == 1010  # clamped to the last track
    assert edits.move_clips(project, [], 10) is project


def test_set_clip_gain_and_fades_are_rendered(project, data):
    cid = project.tracks[1].clips[0].id
    out = edits.set_clip(project, cid, gain_db=6.0, fade_in=1000, fade_out=2000,
                         fade_in_shape=FadeShape.LINEAR, fade_out_shape=FadeShape.S_CURVE)
    got = _track_audio(out, 1)[0, 50_000:200_000]
    want = data["b"][0] * np.float32(db_to_gain(6.0))
    want[:1000] *= fade_envelope(FadeShape.LINEAR, 1000, 0, 1000, True)
    want[-2000:] *= fade_envelope(FadeShape.S_CURVE, 2000, 0, 2000, False)
    np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(EditError):
        edits.set_clip(project, cid, length=150_001)


def test_trim_clip_edges_keep_the_hidden_audio(project, data):
    cid = project.tracks[0].clips[1].id  # a2: position 300_000, offset 5000, length 50_000
    out = edits.trim_clip(project, cid, start=310_000, end=320_000)
    c = out.tracks[0].clip(cid)
    assert (c.position, c.offset, c.length) == (310_000, 15_000, 10_000)
    back = edits.trim_clip(out, cid, start=0, end=10**9)  # clamped to the audio that exists
    c = back.tracks[0].clip(cid)
    assert (c.position, c.offset, c.length) == (295_000, 0, 60_000)
    np.testing.assert_array_equal(_track_audio(back, 0)[:, 295_000:355_000], data["a2"])
    tiny = edits.trim_clip(project, cid, start=10**9)
    assert tiny.tracks[0].clip(cid).length == 1


def test_delete_clips_with_and_without_ripple(project):
    ta, _ = _ids(project)
    first, second = project.tracks[0].clips
    out = edits.delete_clips(project, [first.id])
    assert out.tracks[0].clips == (second,)
    out = edits.delete_clips(project, [first.id], ripple=True)
    assert out.tracks[0].clips[0].position == 300_000 - 200_000
    assert out.tracks[1] is project.tracks[1]


def test_add_clip(project, store):
    clip = Clip(_seq(store, np.ones((1, 10), np.float32)), position=5)
    out = edits.add_clip(project, project.tracks[1].id, clip)
    assert out.tracks[1].clips[0] is clip


# --------------------------------------------------------------------------- tracks, markers


def test_track_edits(project):
    ta, tb = _ids(project)
    out = edits.add_track(project)
    assert out.tracks[-1].name == "Track 3" and out.tracks[-1].clips == ()
    out = edits.add_track(out, "Drums", index=0)
    assert [t.name for t in out.tracks] == ["Drums", "A", "B", "Track 3"]
    out = edits.move_track(out, ta, 99)
    assert [t.name for t in out.tracks] == ["Drums", "B", "Track 3", "A"]
    out = edits.rename_track(out, tb, "  Bass ")
    assert out.track(tb).name == "Bass"
    with pytest.raises(EditError):
        edits.rename_track(out, tb, "   ")
    out = edits.set_track(out, tb, pan=-7, gain_db=-3.0, mute=True, solo=True, colour="#123456")
    t = out.track(tb)
    assert (t.pan, t.gain_db, t.mute, t.solo, t.colour) == (-1.0, -3.0, True, True, "#123456")
    out = edits.remove_track(out, ta)
    assert ta not in [t.id for t in out.tracks]
    with pytest.raises(KeyError):
        edits.remove_track(out, ta)
    assert edits.set_master_gain(project, -2).master_gain_db == -2.0


def test_track_gain_pan_mute_are_heard(project, data):
    _ta, tb = _ids(project)
    out = edits.set_track(project, tb, pan=1.0, gain_db=-6.0)
    mix = render(out, 50_000, 1000, tracks=[out.tracks[1]])
    g = db_to_gain(-6.0) * math.sqrt(2.0)
    np.testing.assert_allclose(mix[1], data["b"][0, :1000] * g, atol=1e-6)
    assert np.abs(mix[0]).max() < 1e-6
    muted = edits.set_track(project, project.tracks[0].id, mute=True)
    np.testing.assert_array_equal(render(muted, 0, muted.end), _track_audio(project, 1, muted.end))


def test_markers(project):
    out = edits.add_marker(project, 500, "b")
    out = edits.add_marker(out, 100)
    out = edits.add_marker(out, -5, "start")
    assert [(m.position, m.name) for m in out.markers] == [(0, "start"), (100, "Marker 2"), (500, "b")]
    mid = out.markers[1].id
    out = edits.set_marker(out, mid, position=1000, name="end")
    assert [m.name for m in out.markers] == ["start", "b", "end"]
    out = edits.remove_marker(out, mid)
    assert [m.name for m in out.markers] == ["start", "b"]
    assert project.markers == ()


@pytest.mark.parametrize("at", [50, 150_000, 199_900])
def test_split_through_fades_sounds_the_same(project, at):
    ta, _ = _ids(project)
    cid = project.tracks[0].clips[0].id
    faded = edits.set_clip(project, cid, fade_in=100_000, fade_out=120_000,
                           fade_in_shape=FadeShape.S_CURVE, fade_out_shape=FadeShape.EXPONENTIAL)
    clip = faded.tracks[0].clips[0]
    cut_at = clip.position + at
    split = edits.split(faded, cut_at, (ta,))
    assert len(split.tracks[0].clips) == len(faded.tracks[0].clips) + 1
    np.testing.assert_array_equal(render(split, 0, faded.end), render(faded, 0, faded.end))


def test_trim_to_selection_keeps_the_fade_curve_of_what_remains(project):
    ta, _ = _ids(project)
    cid = project.tracks[0].clips[0].id
    faded = edits.set_clip(project, cid, fade_in=80_000)
    clip = faded.tracks[0].clips[0]
    sel = Selection(clip.position + 30_000, clip.position + 60_000, (ta,))
    trimmed = edits.trim_to_selection(faded, sel)
    full = render(faded, sel.start, sel.length)
    np.testing.assert_array_equal(render(trimmed, sel.start, sel.length), full)
    piece = trimmed.tracks[0].clips[0]
    assert piece.fade_in_offset == 30_000 and piece.fade_in_visible == 30_000
