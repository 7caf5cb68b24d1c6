"""Blocks: summaries, the on-disk cache, memory mapping and bounded memory."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from editor.core.audio_io import import_audio
from editor.core.blocks import (
    BLOCK_FRAMES,
    SUMMARY_LEVELS,
    Block,
    F32Backing,
    MappedFile,
    compute_summaries,
    silent_block,
)
from editor.core.errors import Cancelled, SeedwaveError
from editor.core.store import BlockStore, BlockWriter
from editor.core.task import TaskContext

ROOT = Path(__file__).resolve().parent.parent


def _noise(channels: int, frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (channels, frames)).astype(np.float32)


def _numpy_level(data: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference min/max/sum of squares per ``width``-frame bin (last bin may be short)."""
    edges = np.arange(0, data.shape[1], width)
    d64 = data.astype(np.float64)
    return (np.minimum.reduceat(data, edges, axis=1), np.maximum.reduceat(data, edges, axis=1),
            np.add.reduceat(d64 * d64, edges, axis=1))


def _cache_files(store: BlockStore) -> list[Path]:
    return sorted(store.folder.glob("*.f32"))


# --------------------------------------------------------------------------- summaries


@pytest.mark.parametrize("frames", [1, 255, 256, 257, 1000, 65536, 65536 * 2 + 300, BLOCK_FRAMES])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_summaries_match_numpy_at_both_levels(frames, channels):
    data = _noise(channels, frames, seed=frames)
    levels = compute_summaries(data)
    assert tuple(lvl.bin_frames for lvl in levels) == SUMMARY_LEVELS == (256, 65536)
    for lvl in levels:
        mn, mx, sq = _numpy_level(data, lvl.bin_frames)
        bins = -(-frames // lvl.bin_frames)
        assert lvl.mins.shape == lvl.maxs.shape == lvl.sumsq.shape == (channels, bins)
        np.testing.assert_array_equal(lvl.mins, mn)
        np.testing.assert_array_equal(lvl.maxs, mx)
        np.testing.assert_allclose(lvl.sumsq, sq, rtol=1e-4)


def test_summaries_of_a_spike_land_in_the_right_bin():
    data = np.zeros((2, 3 * 65536 + 10), np.float32)
    data[1, 65536 + 300] = -0.75
    data[0, 3 * 65536 + 9] = 0.5  # in the short last bin
    fine, coarse = compute_summaries(data)
    assert fine.mins[1].argmin() == (65536 + 300) // 256 and fine.mins[1].min() == -0.75
    assert coarse.mins[1].argmin() == 1 and coarse.maxs[0].argmax() == 3 and coarse.maxs[0, 3] == 0.5
    assert fine.sumsq[0, -1] == pytest.approx(0.25)


# --------------------------------------------------------------------------- blocks


def test_block_reads_ranges_and_refuses_outside(store):
    data = _noise(2, 5000)
    (block,) = store.blocks_from_array(data)
    np.testing.assert_array_equal(block.read(), data)
    np.testing.assert_array_equal(block.read(100, 4000), data[:, 100:4000])
    assert block.read(7, 7).shape == (2, 0)
    with pytest.raises(IndexError):
        block.read(0, 5001)
    with pytest.raises(IndexError):
        block.read(10, 5)
    assert block.nbytes == 2 * 5000 * 4 and not block.is_silent
    with pytest.raises(ValueError):
        Block(1, 0, block.backing, None)


def test_block_samples_are_read_only_views_of_a_memory_map(store):
    (block,) = store.blocks_from_array(_noise(1, 4096))
    view = block.read()
    assert isinstance(view.base, np.memmap) or isinstance(getattr(view.base, "base", None), np.memmap)
    with pytest.raises(ValueError):
        view[0, 0] = 1.0


def test_silent_blocks_hold_no_storage():
    b = silent_block(2, 10_000_000)
    assert b.is_silent and b.nbytes == 0 and b.summaries is None
    np.testing.assert_array_equal(b.read(5, 9), np.zeros((2, 4), np.float32))


def test_blocks_compare_by_identity(store):
    data = _noise(1, 100)
    a, = store.blocks_from_array(data)
    b, = store.blocks_from_array(data)
    assert a != b and a == a and a.uid != b.uid


# --------------------------------------------------------------------------- writer and cache files


def test_writer_cuts_any_chunking_into_fixed_blocks(store):
    data = _noise(2, 10_000, seed=4)
    w = BlockWriter(store, 2, block_frames=3000)
    for a, b in [(0, 1), (1, 2999), (2999, 3001), (3001, 9000), (9000, 10_000)]:
        w.write(data[:, a:b])
    blocks = w.finish()
    assert [b.frames for b in blocks] == [3000, 3000, 3000, 1000]
    assert len({id(b.backing.file) for b in blocks}) == 1  # one cache file per writer
    np.testing.assert_array_equal(np.concatenate([b.read() for b in blocks], axis=1), data)
    for b, start in zip(blocks, range(0, 10_000, 3000), strict=True):
        mn, mx, _sq = _numpy_level(data[:, start : start + b.frames], 256)
        np.testing.assert_array_equal(b.level(256).mins, mn)
        np.testing.assert_array_equal(b.level(256).maxs, mx)


def test_write_block_keeps_the_given_boundaries(store):
    w = BlockWriter(store, 1, block_frames=1000)
    w.write(np.ones((1, 300), np.float32))
    w.write_block(np.full((1, 1700), 0.5, np.float32))
    w.write(np.zeros((1, 10), np.float32))
    assert [b.frames for b in w.finish()] == [300, 1700, 10]


def test_writer_refuses_the_wrong_channel_count(store):
    w = store.writer(2)
    with pytest.raises(ValueError, match="channels"):
        w.write(np.zeros((1, 10), np.float32))
    w.abort()
    assert _cache_files(store) == []


def test_empty_writer_and_abort_leave_no_file(store):
    assert store.writer(1).finish() == []
    w = store.writer(1)
    w.write(_noise(1, 5000))
    w.abort()
    assert _cache_files(store) == []


def test_cache_file_is_deleted_when_its_last_block_dies(store):
    blocks = store.blocks_from_array(_noise(1, 3 * BLOCK_FRAMES // 2))
    (path,) = _cache_files(store)
    assert path.stat().st_size == 3 * BLOCK_FRAMES // 2 * 4
    first = blocks[0]
    del blocks
    gc.collect()
    assert path.exists()  # one block still uses it
    del first
    gc.collect()
    assert not path.exists()


def test_project_files_are_never_deleted_by_blocks(tmp_path):
    path = tmp_path / "data.bin"
    np.arange(1000, dtype=np.float32).tofile(path)
    mf = MappedFile(path, temporary=False)
    b = Block(1, 1000, F32Backing(mf, 0, 1, 1000), None)
    np.testing.assert_array_equal(b.read(10, 13)[0], [10, 11, 12])
    del b, mf
    gc.collect()
    assert path.exists()


def test_store_close_removes_the_session_folder(tmp_path):
    store = BlockStore(tmp_path / "root")
    blocks = store.blocks_from_array(_noise(1, 100))
    assert store.folder.is_dir() and (store.folder / "owner").read_text() == str(os.getpid())
    del blocks
    store.close()
    assert not store.folder.exists()


def test_full_disk_while_caching_is_a_clear_error(tmp_path):
    """A real full disk: a 1 MiB tmpfs (needs root to mount), else skipped."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        store = BlockStore(mnt)
        with pytest.raises(SeedwaveError, match="cannot write audio cache") as info:
            store.blocks_from_array(_noise(2, BLOCK_FRAMES))  # 2 MiB
        assert str(store.folder) in str(info.value)
        assert _cache_files(store) == []
        # Small enough to fit: works after the failure.
        (b,) = store.blocks_from_array(np.ones((1, 1000), np.float32))
        assert b.read()[0, 999] == 1.0
        del b
        gc.collect()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# --------------------------------------------------------------------------- caching aliases


def _aliased(tmp_path: Path, frames: int) -> tuple[list[Block], np.ndarray, Path]:
    x = _noise(2, frames, seed=9) * 0.5
    path = tmp_path / "a.wav"
    sf.write(path, x.T, 48000, subtype="PCM_24")
    imp = import_audio(path)
    return imp.blocks(), imp.sequences[0].read(0, frames), path


def test_cache_aliases_reports_progress(tmp_path, store):
    blocks, before, _path = _aliased(tmp_path, 3 * BLOCK_FRAMES)
    seen: list[float] = []
    store.cache_aliases(blocks, TaskContext(lambda f, _m: seen.append(f)))
    assert seen == [1 / 3, 2 / 3, 1.0]
    assert all(b.backing.describe()["kind"] == "f32" for b in blocks)
    np.testing.assert_array_equal(np.concatenate([b.read() for b in blocks], axis=1), before)
    # Summaries are kept, not recomputed or lost.
    assert all(b.summaries is not None for b in blocks)


def test_cancelled_caching_keeps_the_aliases_and_no_file(tmp_path, store):
    blocks, before, path = _aliased(tmp_path, 4 * BLOCK_FRAMES)
    ctx = TaskContext()
    ctx._on_progress = lambda f, _m: ctx.cancel() if f >= 0.5 else None
    with pytest.raises(Cancelled):
        store.cache_aliases(blocks, ctx)
    assert all(b.backing.describe()["kind"] == "alias" for b in blocks)
    assert _cache_files(store) == []
    np.testing.assert_array_equal(np.concatenate([b.read() for b in blocks], axis=1), before)


# --------------------------------------------------------------------------- memory stays bounded

_RSS_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    import soundfile as sf
    from editor.core import edits
    from editor.core.audio_io import import_audio
    from editor.core.history import History
    from editor.core.model import Clip, Project, Selection, Track
    from editor.core.store import BlockStore, set_default_store

    def rss_anon_mb():
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024

    work = Path(sys.argv[1])
    minutes = float(sys.argv[2])
    set_default_store(BlockStore(work / "cache"))
    rate, frames = 48000, int(minutes * 60 * 48000)
    with sf.SoundFile(work / "long.wav", "w", rate, 2, subtype="PCM_16") as f:
        chunk = (0.25 * np.random.default_rng(0).standard_normal((rate * 10, 2))).astype(np.float32)
        for _ in range(frames // len(chunk)):
            f.write(chunk)
    base = rss_anon_mb()
    imp = import_audio(work / "long.wav")
    seq = imp.sequences[0]
    project = Project(tracks=(Track("t", (Clip(seq, 0),)),))
    tid = project.tracks[0].id
    history = History(project, limit_bytes=1 << 40)
    peak = rss_anon_mb()
    for i in range(8):
        everything = Selection(0, project.end, (tid,))
        if i % 2 == 0:
            project = edits.amplify(project, everything, -0.5)
        else:
            project = edits.fade(project, Selection(0, project.end // 2, (tid,)), True)
            project, board = edits.cut(project, Selection(1000, 50000, (tid,)))
            project = edits.paste(project, board, 7777, (tid,))
        history.push(project, f"edit {i}")
        peak = max(peak, rss_anon_mb())
    held = sum(b.nbytes for e in history.entries for b in e.blocks()) / 2**20
    print(f"{base:.1f} {peak:.1f} {held:.1f}")
""")


def test_memory_does_not_grow_with_audio_length_or_history_depth(tmp_path):
    """Import a long file and keep many full-length edits in history: private memory
    (RssAnon, which excludes memory-mapped file pages) stays far below the audio held."""
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(tmp_path), "2"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    base, peak, held = map(float, proc.stdout.split())
    assert held > 300, held  # history holds > 300 MB of audio blocks ...
    assert peak - base < 80, f"private memory grew by {peak - base:.0f} MB while history holds {held:.0f} MB"
