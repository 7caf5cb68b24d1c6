"""The .seedwave project file: round trips, one movable file, atomic saves that
survive crashes and full disks, clear errors for bad files, sources left alone."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from editor.core import edits
from editor.core.audio_io import import_audio
from editor.core.blocks import BLOCK_FRAMES
from editor.core.errors import Cancelled, ProjectFileError
from editor.core.model import Clip, FadeShape, Project, Selection, Track
from editor.core.projectfile import FORMAT_VERSION, HEADER_SIZE, load_project, read_index, save_project
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.engine.renderer import render

ROOT = Path(__file__).resolve().parent.parent
RATE = 48000


def _noise(channels: int, frames: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (channels, frames)).astype(np.float32)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model(project: Project):
    """The whole model, each segment by the samples it plays (a save stores only the
    used part of a block, so block ids and offsets may change; the audio may not)."""
    def seq(s: AudioSeq):
        return (s.channels, s.frames,
                tuple(("zero", g.frames) if g.block.is_silent else
                      (hashlib.sha256(np.ascontiguousarray(g.block.read(g.start, g.stop)).tobytes()).hexdigest(),
                       g.frames) for g in s.segments))

    return (
        project.sample_rate, project.name, project.master_gain_db, project.markers,
        tuple((t.id, t.name, t.colour, t.gain_db, t.pan, t.mute, t.solo, t.height,
               tuple((c.id, c.name, c.position, c.offset, c.length, c.gain_db, c.fade_in, c.fade_out,
                      c.fade_in_shape, c.fade_out_shape, seq(c.audio)) for c in t.clips))
              for t in project.tracks),
    )


def _mix(project: Project) -> np.ndarray:
    return render(project, 0, project.end)


@pytest.fixture
def sources(tmp_path):
    """Source files in their own folder: a WAV (aliased), a FLAC at 44.1 kHz (decoded
    and resampled) and a 3-channel WAV (split)."""
    folder = tmp_path / "sources"
    folder.mkdir()
    sf.write(folder / "take.wav", _noise(2, BLOCK_FRAMES + 5000, 1).T, RATE, subtype="PCM_24")
    sf.write(folder / "cd.flac", _noise(2, 60_000, 2).T, 44100, subtype="PCM_16")
    sf.write(folder / "three.wav", _noise(3, 30_000, 3).T, RATE, subtype="FLOAT")
    return folder


@pytest.fixture
def rich(sources, store):
    """A project using every model feature: aliased, cached and edited audio, silence,
    fades of each shape, clip and track gain, pan, mute, solo, markers, names."""
    take = import_audio(sources / "take.wav").sequences[0]
    cd = import_audio(sources / "cd.flac", target_rate=RATE).sequences[0]
    three = import_audio(sources / "three.wav").sequences
    gen = AudioSeq.from_blocks(store.blocks_from_array(_noise(1, 20_000, 4)), 1)
    p = Project(sample_rate=RATE, name="Rich", master_gain_db=-1.5, tracks=(
        Track("Take", (Clip(take, 0, name="take"), Clip(cd, 300_000, offset=100, length=50_000, gain_db=-2.0,
                                                          fade_in=1000, fade_out=3000,
                                                          fade_in_shape=FadeShape.LINEAR,
                                                          fade_out_shape=FadeShape.S_CURVE)),
              gain_db=-3.0, pan=0.25, colour="#e0823d", height=90),
        Track("Three", tuple(Clip(s, 20_000 * i) for i, s in enumerate(three)), mute=True),
        Track("Gen", (Clip(gen, 1234),), solo=True, pan=-1.0),
    ))
    t0, _t1, t2 = (t.id for t in p.tracks)
    p = edits.amplify(p, Selection(100_000, 120_000, (t0,)), 4.0)
    p = edits.insert_silence(p, 5000, 7777, (t2,))
    p = edits.fade(p, Selection(0, 40_000, (t0,)), True, FadeShape.EXPONENTIAL)
    p = edits.add_marker(p, 48_000, "Verse")
    p = edits.add_marker(p, 96_000, "Chorus")
    return p


# --------------------------------------------------------------------------- round trips


def test_save_and_load_round_trip(tmp_path, rich):
    path = tmp_path / "song.seedwave"
    before_mix = _mix(rich)
    before_model = _model(rich)
    save_project(rich, path)
    loaded = load_project(path)
    assert _model(loaded) == before_model
    np.testing.assert_array_equal(_mix(loaded), before_mix)
    # Every track, soloed or not, sounds the same.
    for a, b in zip(rich.tracks, loaded.tracks, strict=True):
        np.testing.assert_array_equal(render(loaded, 0, loaded.end, tracks=[b]),
                                      render(rich, 0, rich.end, tracks=[a]))
    # Summaries come back too: the waveform overview is identical.
    for a, b in zip(rich.tracks[0].clips, loaded.tracks[0].clips, strict=True):
        for cols in (50, 5000):
            for x, y in zip(a.audio.peaks(0, a.audio.frames, cols), b.audio.peaks(0, b.audio.frames, cols),
                            strict=True):
                np.testing.assert_array_equal(x, y)
        assert all(seg.block.summaries is not None for seg in b.audio.segments if not seg.block.is_silent)


def test_the_saved_project_reads_from_its_own_file(tmp_path, rich, sources, store):
    path = tmp_path / "song.seedwave"
    before = _mix(rich)
    save_project(rich, path)
    # Blocks the clips use whole now read from the file (parts of blocks are saved
    # as just those parts, and the open project keeps reading the rest where it was).
    used_whole = [b for b in rich.blocks() if not b.is_silent
                  and all((s.start, s.stop) == (0, b.frames) for t in rich.tracks for c in t.clips
                          for s in c.audio.segments if s.block is b)]
    assert used_whole and {b.backing.describe()["path"] for b in used_whole} == {str(path)}
    loaded = load_project(path)
    assert {b.backing.describe()["path"] for b in loaded.blocks() if not b.is_silent} == {str(path)}
    # Neither the sources nor the cache are needed by the saved file.
    shutil.rmtree(sources)
    del rich
    gc.collect()
    assert list(store.folder.glob("*.f32")) == []
    np.testing.assert_array_equal(_mix(loaded), before)


def test_the_file_can_move_to_another_folder(tmp_path, rich, sources):
    first = tmp_path / "a" / "song.seedwave"
    first.parent.mkdir()
    before = _mix(rich)
    save_project(rich, first)
    assert sorted(os.listdir(first.parent)) == ["song.seedwave"]  # one file, nothing beside it
    del rich
    gc.collect()
    moved = tmp_path / "elsewhere" / "renamed.seedwave"
    moved.parent.mkdir()
    shutil.move(first, moved)
    shutil.rmtree(first.parent)
    shutil.rmtree(sources)
    np.testing.assert_array_equal(_mix(load_project(moved)), before)


def test_save_again_over_the_file_the_project_was_loaded_from(tmp_path, rich):
    path = tmp_path / "song.seedwave"
    save_project(rich, path)
    loaded = load_project(path)
    tid = loaded.tracks[0].id
    edited = edits.amplify(loaded, Selection(0, 50_000, (tid,)), -6.0)
    edited = edits.delete(edited, Selection(200_000, 210_000, (tid,)))
    want = _mix(edited)
    save_project(edited, path)
    np.testing.assert_array_equal(_mix(edited), want)
    again = load_project(path)
    assert _model(again) == _model(edited)
    np.testing.assert_array_equal(_mix(again), want)
    # The first load still plays what it held (its blocks map the replaced file).
    np.testing.assert_array_equal(_mix(loaded), _mix(rich))


def test_empty_project_round_trip(tmp_path):
    p = Project(sample_rate=44100, name="Nothing", tracks=(Track("empty"),))
    path = tmp_path / "empty.seedwave"
    save_project(p, path)
    q = load_project(path)
    assert _model(q) == _model(p) and q.sample_rate == 44100


def test_save_reports_progress(tmp_path, rich):
    seen: list[float] = []
    save_project(rich, tmp_path / "p.seedwave", TaskContext(lambda f, _m: seen.append(f)))
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1] == 1.0


def test_index_records_the_format_version(tmp_path, rich):
    path = tmp_path / "p.seedwave"
    save_project(rich, path)
    doc = read_index(path)
    assert doc["format_version"] == FORMAT_VERSION
    assert path.read_bytes()[:8] == b"SEEDWAVE"


def test_saved_file_gets_normal_permissions(tmp_path, rich):
    """Regression: the temporary file's private 0600 mode leaked into saved projects."""
    path = tmp_path / "p.seedwave"
    old = os.umask(0o022)
    try:
        save_project(rich, path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o664)  # saving over a file keeps the mode it has
    save_project(rich, path)
    assert path.stat().st_mode & 0o777 == 0o664


# --------------------------------------------------------------------------- atomic save


def _mount_tiny_tmpfs(mnt: Path, size: str) -> bool:
    mnt.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                          capture_output=True).returncode == 0


def test_full_disk_leaves_the_previous_file_intact(tmp_path, store):
    mnt = tmp_path / "tiny"
    if not _mount_tiny_tmpfs(mnt, "1m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        small = Project(tracks=(Track("t", (Clip(AudioSeq.from_blocks(
            store.blocks_from_array(_noise(1, 20_000, 5)), 1), 0),)),))
        path = mnt / "p.seedwave"
        save_project(small, path)
        good = path.read_bytes()
        big = edits.add_track(small, "big", (Clip(AudioSeq.from_blocks(
            store.blocks_from_array(_noise(2, 200_000, 6)), 2), 0),))  # 1.6 MB: does not fit
        with pytest.raises(ProjectFileError, match="disk is full") as info:
            save_project(big, path)
        assert str(path) in str(info.value) and "previous file is intact" in str(info.value)
        assert path.read_bytes() == good
        assert os.listdir(mnt) == ["p.seedwave"]  # no temporary file left behind
        np.testing.assert_array_equal(_mix(load_project(path)), _mix(small))
        # The blocks of the failed save still read from where they were.
        assert all(b.backing.describe()["path"] != str(path) for b in big.tracks[1].clips[0].audio.blocks())
        del small, big
        gc.collect()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_read_error_midway_leaves_the_previous_file_intact(tmp_path, store):
    """A real failure halfway through writing: the source file of an aliased clip was
    cut short by another program after import, so its second block cannot be read."""
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "p.seedwave"
    wav = tmp_path / "take.wav"
    sf.write(wav, _noise(2, 2 * BLOCK_FRAMES, 7).T, RATE, subtype="PCM_16")
    take = import_audio(wav).sequences[0]
    gen = AudioSeq.from_blocks(store.blocks_from_array(_noise(2, 3 * BLOCK_FRAMES, 8)), 2)
    p = Project(tracks=(Track("gen", (Clip(gen, 0),)),))
    save_project(p, path)
    good = _sha(path)
    p = edits.add_track(p, "take", (Clip(take, 0),))
    with open(wav, "r+b") as fh:
        fh.truncate(44 + 3 * BLOCK_FRAMES * 2)  # 1.5 blocks of 16-bit stereo left
    seen: list[float] = []
    with pytest.raises(ProjectFileError, match="previous file is intact") as info:
        save_project(p, path, TaskContext(lambda f, _m: seen.append(f)))
    assert str(path) in str(info.value) and "truncated" in str(info.value)
    assert 0 < seen[-1] < 1  # it failed partway through
    assert _sha(path) == good
    assert os.listdir(path.parent) == ["p.seedwave"]
    np.testing.assert_array_equal(_mix(load_project(path)), render(p, 0, p.end, tracks=[p.tracks[0]]))


_CRASH_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import numpy as np
    from editor.core import edits
    from editor.core.model import Selection
    from editor.core.projectfile import load_project, save_project
    from editor.core.store import BlockStore, set_default_store
    from editor.core.task import TaskContext

    path = Path(sys.argv[1])
    set_default_store(BlockStore(path.parent / "cache"))
    p = load_project(path)
    p = edits.amplify(p, Selection(0, p.end, tuple(t.id for t in p.tracks)), -12.0)

    def progress(fraction, _msg):
        if fraction > 0.5:
            os.kill(os.getpid(), signal.SIGKILL)  # the power goes out halfway through the save

    save_project(p, path, TaskContext(progress))
""")


def test_a_crash_during_save_leaves_the_previous_file_intact(tmp_path, rich):
    path = tmp_path / "p.seedwave"
    save_project(rich, path)
    good = _sha(path)
    proc = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr
    assert _sha(path) == good
    assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))  # the half-written file was not renamed
    np.testing.assert_array_equal(_mix(load_project(path)), _mix(rich))


def test_cancelled_save_leaves_the_previous_file_intact(tmp_path, rich):
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "p.seedwave"
    save_project(rich, path)
    good = _sha(path)
    ctx = TaskContext()
    ctx._on_progress = lambda f, _m: ctx.cancel() if f > 0.3 else None
    with pytest.raises(Cancelled):
        save_project(edits.set_master_gain(rich, 3), path, ctx)
    assert _sha(path) == good and os.listdir(path.parent) == ["p.seedwave"]


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def saved(tmp_path, rich) -> Path:
    path = tmp_path / "p.seedwave"
    save_project(rich, path)
    return path


def _clear_error(path: Path, *words: str) -> str:
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    text = str(info.value)
    assert text.startswith(str(path)) and "\n" not in text
    assert any(w in text for w in words), text
    return text


def test_a_newer_format_is_refused_with_a_clear_message(saved):
    data = bytearray(saved.read_bytes())
    struct.pack_into("<I", data, 8, FORMAT_VERSION + 1)
    saved.write_bytes(bytes(data))
    text = _clear_error(saved, "newer")
    assert f"format {FORMAT_VERSION + 1}" in text and "Update Seedwave" in text


@pytest.mark.parametrize("keep", [0.5, 0.99, 100 / 1e9])
def test_a_truncated_file_is_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: max(1, int(len(data) * keep))])
    _clear_error(saved, "truncated", "not a Seedwave project")


def test_a_damaged_index_is_refused(saved):
    data = bytearray(saved.read_bytes())
    _magic, _v, _f, ioff, ilen = struct.unpack_from("<8sIIQQ", data, 0)
    data[ioff + 10 : ioff + 30] = b"\xff" * 20
    saved.write_bytes(bytes(data))
    _clear_error(saved, "damaged")


def test_an_index_that_is_not_an_object_is_refused(saved):
    data = bytearray(saved.read_bytes())
    _magic, _v, _f, ioff, _ilen = struct.unpack_from("<8sIIQQ", data, 0)
    body = b"[1, 2, 3]"
    data = data[:ioff] + body
    struct.pack_into("<8sIIQQ", data, 0, b"SEEDWAVE", FORMAT_VERSION, 0, ioff, len(body))
    saved.write_bytes(bytes(data))
    _clear_error(saved, "damaged")


def test_an_index_with_missing_fields_is_refused(saved):
    data = bytearray(saved.read_bytes())
    _magic, _v, _f, ioff, _ilen = struct.unpack_from("<8sIIQQ", data, 0)
    body = b'{"format_version": 1, "project": {"tracks": [{"name": "x"}]}, "blocks": {}}'
    data = data[:ioff] + body
    struct.pack_into("<8sIIQQ", data, 0, b"SEEDWAVE", FORMAT_VERSION, 0, ioff, len(body))
    saved.write_bytes(bytes(data))
    _clear_error(saved, "damaged")


def test_a_block_past_the_end_is_refused(saved, tmp_path):
    import json

    doc = read_index(saved)
    uid = next(iter(doc["blocks"]))
    doc["blocks"][uid]["offset"] = 10**12
    del doc["_size"]
    body = json.dumps(doc).encode()
    data = bytearray(saved.read_bytes())
    _magic, _v, _f, ioff, _ilen = struct.unpack_from("<8sIIQQ", data, 0)
    data = data[:ioff] + body
    struct.pack_into("<8sIIQQ", data, 0, b"SEEDWAVE", FORMAT_VERSION, 0, ioff, len(body))
    saved.write_bytes(bytes(data))
    _clear_error(saved, "truncated")


def test_other_files_are_not_projects(tmp_path):
    wav = tmp_path / "song.seedwave"
    sf.write(wav, np.zeros((100, 1)), RATE, format="WAV")
    _clear_error(wav, "not a Seedwave project")
    empty = tmp_path / "empty.seedwave"
    empty.write_bytes(b"")
    _clear_error(empty, "not a Seedwave project")
    folder = tmp_path / "dir.seedwave"
    folder.mkdir()
    _clear_error(folder, "folder")
    _clear_error(tmp_path / "missing.seedwave", "no such file")
    assert HEADER_SIZE == 64


# --------------------------------------------------------------------------- sources are never modified


def test_source_files_are_never_modified(tmp_path, sources, store):
    files = sorted(sources.iterdir())
    before = {p.name: (_sha(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files}
    take = import_audio(sources / "take.wav")
    cd = import_audio(sources / "cd.flac", target_rate=RATE)
    p = Project(tracks=(Track("a", (Clip(take.sequences[0], 0),)), Track("b", (Clip(cd.sequences[0], 0),))))
    tids = tuple(t.id for t in p.tracks)
    p = edits.amplify(p, Selection(0, 100_000, tids), 6.0)
    p = edits.reverse(p, Selection(50_000, 150_000, tids))
    p, board = edits.cut(p, Selection(1000, 2000, tids))
    p = edits.paste(p, board, 0, tids)
    save_project(p, tmp_path / "p.seedwave")
    p = edits.silence(load_project(tmp_path / "p.seedwave"), Selection(0, 10, tids))
    save_project(p, tmp_path / "p.seedwave")
    store.cache_aliases(take.blocks())
    after = {q.name: (_sha(q), q.stat().st_mtime_ns, q.stat().st_size) for q in sorted(sources.iterdir())}
    assert after == before
