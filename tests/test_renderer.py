"""The mix renderer against a plain numpy reference written from the rules alone.

The reference uses float64, its own fade curves and its own mute/solo logic, so
a mistake shared by the renderer and a helper it uses would still show.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from editor.core.model import Clip, FadeShape, Project, Track
from editor.core.sequence import AudioSeq
from editor.engine.renderer import render, render_chunks

RATE = 48000
TOL = 1e-6


def _curve(shape: str, x: np.ndarray) -> np.ndarray:
    return {
        "linear": x,
        "equal_power": np.sin(np.pi / 2 * x),
        "exponential": x**2,
        "logarithmic": 1 - (1 - x) ** 2,
        "s_curve": (1 - np.cos(np.pi * x)) / 2,
    }[shape]


def reference(project: Project, start: int, stop: int, only: list[Track] | None = None) -> np.ndarray:
    """The mix of [start, stop) from first principles (float64)."""
    n = stop - start
    out = np.zeros((2, n))
    if only is None:
        soloing = any(t.solo for t in project.tracks)
        only = [t for t in project.tracks if not t.mute and (t.solo or not soloing)]
    master = 10 ** (project.master_gain_db / 20)
    for t in only:
        theta = (t.pan + 1) * math.pi / 4
        pans = (math.sqrt(2) * math.cos(theta), math.sqrt(2) * math.sin(theta))
        tg = 10 ** (t.gain_db / 20)
        for c in t.clips:
            audio = c.audio.read(c.offset, c.offset + c.length).astype(np.float64)
            if audio.shape[0] == 1:
                audio = np.vstack([audio, audio])
            env = np.ones(c.length)
            i = np.arange(c.length)
            if c.fade_in:
                k = i < c.fade_in
                env[k] *= _curve(c.fade_in_shape.value, (i[k] + 0.5) / c.fade_in)
            if c.fade_out:
                j = i - (c.length - c.fade_out)
                k = j >= 0
                env[k] *= _curve(c.fade_out_shape.value, 1 - (j[k] + 0.5) / c.fade_out)
            sig = audio * env * 10 ** (c.gain_db / 20)
            a, b = max(start, c.position), min(stop, c.end)
            if b <= a:
                continue
            for ch in range(2):
                out[ch, a - start : b - start] += sig[ch, a - c.position : b - c.position] * pans[ch] * tg * master
    return out


def seq(store, data: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(store.blocks_from_array(data.astype(np.float32)), data.shape[0])


def signal(channels: int, frames: int, seed: int) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, frames))).astype(np.float32)


@pytest.fixture
def busy_project(store) -> Project:
    """Overlapping clips, mono and stereo, every fade shape, gains, pans and master gain."""
    shapes = list(FadeShape)
    tracks = []
    for ti in range(3):
        clips = []
        for ci, shape in enumerate(shapes):
            data = signal(1 if (ti + ci) % 2 else 2, 7000 + 913 * ci, seed=10 * ti + ci)
            clips.append(Clip(seq(store, data), position=ci * 4000 + ti * 777, offset=123 * ci,
                              length=data.shape[1] - 123 * ci - 50, gain_db=-3.0 + ci,
                              fade_in=500 + 100 * ci, fade_out=900 - 50 * ci,
                              fade_in_shape=shape, fade_out_shape=shapes[(ci + 2) % len(shapes)]))
        tracks.append(Track(f"t{ti}", tuple(clips), gain_db=-2.0 * ti + 1.5, pan=(-0.7, 0.0, 0.4)[ti]))
    return Project(RATE, tuple(tracks), master_gain_db=-4.5)


def test_mix_matches_reference_across_chunk_boundaries(busy_project):
    p = busy_project
    ref = reference(p, 0, p.end + 100)
    whole = render(p, 0, p.end + 100)
    assert np.abs(whole - ref).max() < TOL
    # Odd chunk sizes put boundaries inside fades and across clip edges.
    pieces = np.concatenate([c.copy() for _pos, c in render_chunks(p, 0, p.end + 100, chunk=997)], axis=1)
    assert np.abs(pieces - ref).max() < TOL
    # A window in the middle.
    assert np.abs(render(p, 3333, 5000) - reference(p, 3333, 8333)).max() < TOL


@pytest.mark.parametrize("shape", list(FadeShape))
def test_each_fade_shape(store, shape):
    data = np.full((1, 4000), 0.5, np.float32)
    clip = Clip(seq(store, data), 100, fade_in=1000, fade_out=1500, fade_in_shape=shape, fade_out_shape=shape)
    p = Project(RATE, (Track("a", (clip,)),))
    out = render(p, 0, 4200)
    assert np.abs(out - reference(p, 0, 4200)).max() < TOL
    # The fade starts near silence and reaches full level between the fades.
    assert abs(out[0, 100]) < 0.01 and out[0, 2000] == pytest.approx(0.5)


def test_centre_pan_and_unity_gains_pass_audio_unchanged(store):
    data = signal(2, 5000, 3)
    p = Project(RATE, (Track("a", (Clip(seq(store, data), 0),)),))
    assert np.array_equal(render(p, 0, 5000), data)


def test_hard_pan_is_plus_3_db_on_one_side(store):
    data = np.full((1, 100), 0.25, np.float32)
    p = Project(RATE, (Track("a", (Clip(seq(store, data), 0),), pan=-1.0),))
    out = render(p, 0, 100)
    assert out[0] == pytest.approx(np.full(100, 0.25 * math.sqrt(2)))
    assert np.abs(out[1]).max() < TOL


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([(False, False), (False, False), (False, False)], [0, 1, 2]),
        ([(True, False), (False, False), (False, False)], [1, 2]),  # muted
        ([(False, True), (False, False), (False, False)], [0]),  # solo
        ([(False, True), (True, True), (False, False)], [0]),  # muted beats solo
        ([(True, False), (True, False), (True, False)], []),
    ],
)
def test_mute_and_solo_rules(store, flags, expected):
    tracks = tuple(
        Track(f"t{i}", (Clip(seq(store, np.full((1, 50), 0.1 * 2**i, np.float32)), 0),), mute=m, solo=s)
        for i, (m, s) in enumerate(flags)
    )
    p = Project(RATE, tracks, master_gain_db=6.0)
    out = render(p, 0, 50)
    want = sum((0.1 * 2**i for i in expected), 0.0) * 10 ** (6 / 20)
    assert out[0] == pytest.approx(np.full(50, want), abs=TOL)
    assert np.abs(out - reference(p, 0, 50)).max() < TOL


def test_track_outputs_are_post_fader_post_pan_and_sum_to_the_mix(busy_project):
    p = busy_project
    outs: dict[str, np.ndarray] = {}
    mix = render(p, 0, p.end, track_outputs=outs)
    assert set(outs) == {t.id for t in p.tracks}
    for t in p.tracks:
        # Per-track output leaves out the master gain; the mix applies it.
        ref = reference(p.with_(master_gain_db=0.0), 0, p.end, only=[t])
        assert np.abs(outs[t.id] - ref).max() < TOL
    total = sum(outs.values()) * 10 ** (p.master_gain_db / 20)
    assert np.abs(total - mix).max() < TOL
    single = render(p, 0, p.end, tracks=[p.tracks[1]])
    assert np.abs(single - reference(p, 0, p.end, only=[p.tracks[1]])).max() < TOL
