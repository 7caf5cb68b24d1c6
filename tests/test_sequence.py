"""AudioSeq: a rope of block segments. Structure, samples and exact summaries."""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.blocks import SUMMARY_LEVELS
from editor.core.sequence import AudioSeq, Segment
from editor.core.store import BlockStore


def _noise(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (channels, frames)).astype(np.float32)


def _seq(store: BlockStore, data: np.ndarray, block_frames: int = 100_000) -> AudioSeq:
    w = store.writer(data.shape[0])
    w.block_frames = block_frames
    w._buf = np.empty((data.shape[0], block_frames), np.float32)
    w.write(data)
    return AudioSeq.from_blocks(w.finish(), data.shape[0])


@pytest.fixture
def ragged(store):
    """A sequence whose segment edges fall mid-bin at every summary level, with loud
    spikes just outside each segment (inside the same bins) that must never leak
    into statistics of the visible frames, plus a silent run."""
    pieces, parts = [], []
    for i in range(5):
        frames = 70_000 + 33_333 * i
        data = _noise(2, frames, seed=i)
        a, b = 1000 + 97 * i, frames - 3000 - 131 * i
        data[:, a - 1] = 0.99  # just outside the segment
        data[:, b] = -0.99
        block = store.blocks_from_array(data)[0]
        pieces.append(AudioSeq((Segment(block, a, b),), 2))
        parts.append(data[:, a:b])
        if i == 2:
            pieces.append(AudioSeq.silence(2, 12_345))
            parts.append(np.zeros((2, 12_345), np.float32))
    return AudioSeq.concat(*pieces), np.concatenate(parts, axis=1)


# --------------------------------------------------------------------------- structure


def test_slice_splice_concat_match_numpy(store):
    data = _noise(2, 350_000, seed=1)
    seq = _seq(store, data)
    assert seq.frames == len(seq) == 350_000 and len(seq.segments) == 4
    ref = data
    rng = np.random.default_rng(2)
    for _ in range(40):
        a, b = sorted(rng.integers(0, seq.frames + 1, 2))
        op = rng.integers(3)
        if op == 0:
            seq, ref = seq.slice(a, b) if b > a else seq, ref[:, a:b] if b > a else ref
        elif op == 1:
            c, d = sorted(rng.integers(0, seq.frames + 1, 2))
            ins = seq.slice(c, d)
            seq = seq.splice(a, b, ins)
            ref = np.concatenate([ref[:, :a], ref[:, c:d], ref[:, b:]], axis=1)
        else:
            seq = seq.splice(a, b)
            ref = np.concatenate([ref[:, :a], ref[:, b:]], axis=1)
        assert seq.frames == ref.shape[1]
        np.testing.assert_array_equal(seq.read(0, seq.frames), ref)


def test_structural_operations_copy_no_samples(store):
    data = _noise(1, 300_000)
    seq = _seq(store, data)
    original = seq.blocks()
    result = AudioSeq.concat(seq.slice(5000, 100_000), AudioSeq.silence(1, 777), seq.slice(0, 3))
    result = result.splice(10, 20, seq.slice(250_000, 260_000))
    new = {b for b in result.blocks() if not b.is_silent}
    assert new <= original


def test_cut_then_paste_gives_an_equal_sequence(store):
    seq = _seq(store, _noise(2, 250_000))
    a, b = 12_345, 203_456
    cut = seq.slice(a, b)
    rest = seq.splice(a, b)
    back = rest.splice(a, a, cut)
    assert back == seq
    assert back.segments == seq.segments  # adjacent pieces of one block merge again


def test_adjacent_silence_merges_and_compares_equal(store):
    s = AudioSeq.concat(AudioSeq.silence(1, 10), AudioSeq.silence(1, 20))
    assert len(s.segments) == 1 and s.frames == 30
    assert s == AudioSeq.silence(1, 30)
    assert s != AudioSeq.silence(1, 31) and s != AudioSeq.silence(2, 30)


def test_empty_and_out_of_range(store):
    seq = _seq(store, _noise(1, 1000))
    assert seq.slice(500, 400).frames == 0
    assert seq.slice(-50, 5000) is seq
    assert AudioSeq.empty(2).frames == 0 and AudioSeq.silence(2, 0).frames == 0
    out = seq.read(990, 1010)
    np.testing.assert_array_equal(out[:, 10:], 0)
    np.testing.assert_array_equal(out[:, :10], seq.read(990, 1000))
    assert seq.read(-10, 0).shape == (1, 10)


def test_read_into_a_caller_buffer(store):
    data = _noise(2, 3000)
    seq = _seq(store, data, block_frames=1000)
    buf = np.full((2, 4000), 7.0, np.float32)
    got = seq.read(2500, 3500, out=buf)
    assert got is buf
    np.testing.assert_array_equal(buf[:, :500], data[:, 2500:])
    np.testing.assert_array_equal(buf[:, 500:1000], 0.0)


def test_channel_mismatch_is_refused(store):
    mono = _seq(store, _noise(1, 100))
    stereo = _seq(store, _noise(2, 100))
    with pytest.raises(ValueError):
        AudioSeq.concat(mono, stereo)
    with pytest.raises(ValueError):
        AudioSeq(stereo.segments, 1)


def test_iter_chunks_covers_the_range(store):
    data = _noise(1, 10_000)
    seq = _seq(store, data, block_frames=3000)
    chunks = list(seq.iter_chunks(123, 9000, size=1000))
    assert [p for p, _c in chunks] == list(range(123, 9000, 1000))
    np.testing.assert_array_equal(np.concatenate([c for _p, c in chunks], axis=1), data[:, 123:9000])


# --------------------------------------------------------------------------- summaries


@pytest.mark.parametrize(("start", "stop"), [
    (0, None), (1, None), (12_345, 12_346), (5000, 5300), (70_000, 400_000), (100, 65_636 + 17), (250_000, 260_001),
])
def test_stats_are_exact_over_any_range(ragged, start, stop):
    seq, ref = ragged
    stop = seq.frames if stop is None else stop
    mn, mx, sq = seq.stats(start, stop)
    part = ref[:, start:stop]
    np.testing.assert_array_equal(mn, part.min(axis=1))
    np.testing.assert_array_equal(mx, part.max(axis=1))
    np.testing.assert_allclose(sq, (part.astype(np.float64) ** 2).sum(axis=1), rtol=1e-5)
    assert seq.peak(start, stop) == pytest.approx(np.abs(part).max())


def test_spikes_outside_segments_never_leak(ragged):
    seq, ref = ragged
    assert np.abs(ref).max() < 0.5
    assert seq.peak() < 0.5
    mins, maxs = seq.peaks(0, seq.frames, 300)
    assert maxs.max() < 0.5 and mins.min() > -0.5


@pytest.mark.parametrize("columns", [1, 7, 100, 1000, 3000])
@pytest.mark.parametrize(("start", "stop"), [(0, None), (3333, 600_000), (40_000, 41_000)])
def test_peaks_match_numpy(ragged, start, stop, columns):
    seq, ref = ragged
    stop = seq.frames if stop is None else stop
    mins, maxs = seq.peaks(start, stop, columns)
    assert mins.shape == maxs.shape == (2, columns)
    part = ref[:, start:stop]
    n = stop - start
    fpp = n / columns
    # Together the columns show exactly the range: nothing lost, nothing from outside.
    np.testing.assert_array_equal(mins.min(axis=1), part.min(axis=1))
    np.testing.assert_array_equal(maxs.max(axis=1), part.max(axis=1))
    edges = (np.arange(columns + 1) * fpp).astype(np.int64)
    if fpp < SUMMARY_LEVELS[0] or n <= 4 * SUMMARY_LEVELS[0]:
        # Close zoom reads samples: exact per column.
        np.testing.assert_array_equal(mins, np.minimum.reduceat(part, edges[:-1], axis=1))
        np.testing.assert_array_equal(maxs, np.maximum.reduceat(part, edges[:-1], axis=1))
        return
    # Far zoom reads summary bins (at most one bin wide, <= fpp): each column's
    # extremes come from its own frames or the first bin reaching into the next column.
    width = max(w for w in SUMMARY_LEVELS if w <= fpp)
    for i in range(columns):
        lo, hi = edges[i], min(n, edges[i + 1] + width)
        assert np.all(mins[:, i] >= part[:, lo:hi].min(axis=1))
        assert np.all(maxs[:, i] <= part[:, lo:hi].max(axis=1))
        inner_lo, inner_hi = edges[i] + width, edges[i + 1]
        if inner_hi > inner_lo:
            assert np.all(mins[:, i] <= part[:, inner_lo:inner_hi].min(axis=1))
            assert np.all(maxs[:, i] >= part[:, inner_lo:inner_hi].max(axis=1))


def test_peaks_of_silence_and_empty_ranges(store):
    s = AudioSeq.silence(2, 1_000_000)
    mins, maxs = s.peaks(0, s.frames, 500)
    assert not mins.any() and not maxs.any()
    mins, maxs = s.peaks(10, 10, 5)
    assert mins.shape == (2, 5) and not mins.any()
    assert s.peak() == 0.0


def test_columns_inside_a_long_silence_show_silence(store):
    """Regression: columns inside a silent run copied the column before them, so a
    gap looked like audio when zoomed out."""
    loud = _seq(store, np.full((1, 75_000), 0.8, np.float32))
    seq = AudioSeq.concat(loud, AudioSeq.silence(1, 1_000_000), loud)
    mins, maxs = seq.peaks(0, seq.frames, 115)  # 10_000 frames per column
    silent = slice(8, 107)  # columns wholly inside the gap
    assert not mins[0, silent].any() and not maxs[0, silent].any()
    assert maxs[0, :7].min() == pytest.approx(0.8) and maxs[0, -7:].min() == pytest.approx(0.8)


def test_far_zoom_reads_summaries_not_samples(store):
    """At one pixel per 65536 frames, peaks never touch the samples."""
    data = _noise(2, 1_000_000)
    seq = _seq(store, data)
    reads = []
    for seg in seq.segments:
        backing = seg.block.backing
        orig = backing.read

        def spy(a, b, orig=orig):
            reads.append(b - a)
            return orig(a, b)

        backing.read = spy
    seq.peaks(0, seq.frames, 15)
    assert reads == []  # whole blocks: every bin, even a block's short last one, comes from summaries
    seq.peaks(0, seq.frames, 400_000)  # closer than one bin per pixel: samples
    assert sum(reads) == seq.frames


STREAM_RSS = """
import os, sys, numpy as np
os.environ["SEEDWAVE_CACHE"] = sys.argv[1]
from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.store import default_store
from editor.engine.renderer import render_chunks

def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024

w = default_store().writer(2)
x = np.random.default_rng(0).standard_normal((2, 1 << 20)).astype(np.float32)
for _ in range(48):  # 384 MB of audio on disk
    w.write(x)
seq = AudioSeq.from_blocks(w.finish(), 2)
p = edits.add_track(Project(), "a", (Clip(seq, 0),))
base = rss_mb()
for _pos, _chunk in render_chunks(p, 0, p.end):
    pass
for _pos, _chunk in seq.iter_chunks(0, seq.frames):
    pass
print(rss_mb() - base)
"""


def test_streaming_reads_do_not_grow_resident_memory(tmp_path):
    """Rendering and reading all of a long sequence leaves resident memory flat:
    pages of the memory-mapped block files are released after each chunk."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", STREAM_RSS, str(tmp_path / "cache")], capture_output=True,
                         text=True, check=True)
    grew = int(out.stdout.strip().splitlines()[-1])
    assert grew < 64, f"resident memory grew by {grew} MB while streaming 384 MB"
