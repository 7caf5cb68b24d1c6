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
        tuple((t.id, t.name, t.colour, t.gain_db, t.pan, t.mute, t.solo,
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
              gain_db=-3.0, pan=0.25, colour="#e0823d"),
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


# --------------------------------------------------------------------------- validation at load


def _rewrite_index(path: Path, change) -> None:  # noqa: ANN001 - change(doc) edits the index in place
    import json

    doc = read_index(path)
    for k in ("_size", "_index_offset"):
        doc.pop(k, None)
    change(doc)
    body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    data = bytearray(path.read_bytes())
    _magic, _v, _f, ioff, _ilen = struct.unpack_from("<8sIIQQ", data, 0)
    data = data[:ioff] + body
    struct.pack_into("<8sIIQQ", data, 0, b"SEEDWAVE", FORMAT_VERSION, 0, ioff, len(body))
    path.write_bytes(bytes(data))


def _first_clip(doc):  # noqa: ANN001, ANN202
    return doc["project"]["tracks"][0]["clips"][0]


def _first_seg(doc):  # noqa: ANN001, ANN202
    return next(s for s in _first_clip(doc)["audio"]["segments"] if s[0] != "zero")


BAD_INDEXES = {
    "clip at 2^64": (lambda d: _first_clip(d).update(position=2**64), "limit"),
    "segment past its block": (lambda d: _first_seg(d).__setitem__(2, 10**9), "outside its block"),
    "segment backwards": (lambda d: _first_seg(d).__setitem__(1, _first_seg(d)[2]), "outside its block"),
    "negative block offset": (lambda d: next(iter(d["blocks"].values())).update(offset=-64), "outside the file"),
    "gain 2^31 dB": (lambda d: _first_clip(d).update(gain_db=2.0**31), "gain_db"),
    "NaN gain": (lambda d: d["project"]["tracks"][0].update(gain_db=float("nan")), "finite"),
    "pan 5": (lambda d: d["project"]["tracks"][0].update(pan=5), "pan"),
    "unknown field": (lambda d: d["project"]["tracks"][0].update(volume=3), "unknown field"),
    "unknown fade shape": (lambda d: _first_clip(d).update(fade_in_shape="wobble"), "fade shape"),
    "10^12 frames of silence": (lambda d: _first_clip(d)["audio"]["segments"].append(["zero", 10**12]), "limit"),
    "clip window past its audio": (lambda d: _first_clip(d).update(length=10**7), "outside its"),
    "length as text": (lambda d: _first_clip(d).update(length="100"), "whole number"),
    "tracks missing": (lambda d: d["project"].pop("tracks"), "missing"),
    "block of 0 channels": (lambda d: next(iter(d["blocks"].values())).update(channels=0), "channels"),
    "sample rate 0": (lambda d: d["project"].update(sample_rate=0), "sample_rate"),
    "segment naming no block": (lambda d: _first_seg(d).__setitem__(0, "nope"), "not in the file"),
}


@pytest.mark.parametrize("case", sorted(BAD_INDEXES))
def test_a_damaged_or_crafted_index_gives_one_clear_line(saved, case):
    change, words = BAD_INDEXES[case]
    _rewrite_index(saved, change)
    text = _clear_error(saved, words)
    assert "Traceback" not in text


def test_deep_nesting_and_huge_numbers_are_refused_cleanly(saved):
    data = bytearray(saved.read_bytes())
    _magic, _v, _f, ioff, _ilen = struct.unpack_from("<8sIIQQ", data, 0)
    for body in (b"[" * 200_000 + b"]" * 200_000, b'{"project": ' + b"9" * 100_000 + b"}"):
        out = data[:ioff] + body
        struct.pack_into("<8sIIQQ", out, 0, b"SEEDWAVE", FORMAT_VERSION, 0, ioff, len(body))
        saved.write_bytes(bytes(out))
        _clear_error(saved, "damaged")


def test_the_length_limit_can_be_raised(tmp_path, store, monkeypatch):
    from editor.core.limits import set_max_project_hours

    seq = AudioSeq.from_blocks(store.blocks_from_array(_noise(1, 1000, 1)), 1)
    far = Project(sample_rate=8000, tracks=(Track("far", (Clip(seq, 8000 * 3600 * 30),)),))
    path = tmp_path / "far.seedwave"
    save_project(far, path)
    _clear_error(path, "limit")
    monkeypatch.setenv("SEEDWAVE_MAX_PROJECT_HOURS", "48")
    assert load_project(path).end == far.end
    monkeypatch.delenv("SEEDWAVE_MAX_PROJECT_HOURS")
    set_max_project_hours(31)
    try:
        assert load_project(path).end == far.end
    finally:
        set_max_project_hours(None)


def test_export_refuses_a_range_past_the_limit_before_writing(tmp_path, store):
    from editor.core.errors import SeedwaveError
    from editor.engine.export import ExportSettings, export_mix, export_stems

    seq = AudioSeq.from_blocks(store.blocks_from_array(_noise(1, 1000, 1)), 1)
    far = Project(sample_rate=8000, tracks=(Track("far", (Clip(seq, 8000 * 3600 * 30),)),))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SeedwaveError, match="project length limit"):
        export_mix(far, out / "mix.wav", ExportSettings(format="wav"))
    with pytest.raises(SeedwaveError, match="project length limit"):
        export_stems(far, out / "stems", ExportSettings(format="wav"))
    assert list(out.iterdir()) == []


def test_nan_audio_in_a_project_becomes_silence_and_is_reported(tmp_path, store):
    x = _noise(2, 5000, 2)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    path = tmp_path / "nan.seedwave"
    save_project(Project(tracks=(Track("t", (Clip(seq, 0),)),)), path)
    doc = read_index(path)
    off = next(iter(doc["blocks"].values()))["offset"]
    data = bytearray(path.read_bytes())
    struct.pack_into("<4f", data, off + 400, float("nan"), float("inf"), float("-inf"), 3e38)
    path.write_bytes(bytes(data))
    warnings: list[str] = []
    p = load_project(path, warnings)
    mixed = render(p, 0, p.end)
    assert np.isfinite(mixed).all()
    got = p.tracks[0].clips[0].audio.read(0, 5000)
    assert (got[0, 100:104] == 0).all() and got[0, 99] == x[0, 99] and got[0, 104] == x[0, 104]
    assert warnings == [f"{path}: replaced 4 NaN/infinite or out-of-range samples with silence"]
    assert np.isfinite(p.tracks[0].clips[0].audio.peak())


# --------------------------------------------------------------------------- saving: compaction, errors, leftovers


def test_a_save_writes_only_the_audio_in_use(tmp_path, store):
    x = _noise(2, BLOCK_FRAMES, 3)  # one whole block, 5.5 s
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    used = 48_000
    p = Project(tracks=(Track("t", (Clip(seq.slice(10_000, 10_000 + used), 0),)),))
    path = tmp_path / "small.seedwave"
    save_project(p, path)
    audio_bytes = used * 2 * 4
    assert path.stat().st_size < audio_bytes * 1.1, "about the second in use, not the whole block"
    np.testing.assert_array_equal(_mix(load_project(path)), _mix(p))


def test_size_stays_flat_over_edit_and_save_cycles(tmp_path, store):
    x = _noise(2, 3 * BLOCK_FRAMES, 5)
    p = Project(tracks=(Track("t", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 2), 0),)),))
    path = tmp_path / "cycles.seedwave"
    save_project(p, path)
    first = path.stat().st_size
    rng = np.random.default_rng(0)
    for _ in range(8):
        p = load_project(path)
        a = int(rng.integers(0, p.end - 48_000))
        p = edits.amplify(p, Selection(a, a + 48_000, (p.tracks[0].id,)), 2.0, store)
        save_project(p, path)
    assert path.stat().st_size < first * 1.02


@pytest.fixture
def read_only_dir(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mnt)],
                                              capture_output=True).returncode == 0
    yield mnt, ok
    if ok:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_saving_into_a_read_only_folder_gives_the_clean_error(read_only_dir, rich, monkeypatch):
    import errno

    mnt, mounted = read_only_dir
    if not mounted:
        real_open = os.open

        def ro_open(p, flags, *a, **k):
            if str(p).endswith(".tmp"):
                raise OSError(errno.EROFS, "Read-only file system")
            return real_open(p, flags, *a, **k)

        monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(ProjectFileError) as info:
        save_project(rich, mnt / "x.seedwave")
    assert "read-only" in str(info.value) and "\n" not in str(info.value)


def test_leftovers_of_killed_saves_are_removed_at_the_next_save_and_start(tmp_path, rich):
    from editor.core import recovery

    folder = tmp_path / "songs"
    folder.mkdir()
    dead = folder / ".p.seedwave.999999999-abcd.tmp"
    dead.write_bytes(b"x" * 1000)
    other = folder / ".other.seedwave.999999999-abcd.tmp"
    other.write_bytes(b"x")
    save_project(rich, folder / "p.seedwave")
    assert not dead.exists(), "a save removes leftovers of killed saves of the same file"
    assert other.exists()
    # A save killed midway: the next start removes its temporary file.
    path = folder / "q.seedwave"
    save_project(rich, path)
    proc = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr
    assert [n for n in os.listdir(folder) if n.startswith(".q.")], "the killed save left its .tmp"
    recovery.sweep_stale()
    assert not [n for n in os.listdir(folder) if n.startswith(".q.")]


def test_a_command_line_run_leaves_no_session_folder(tmp_path):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros((1000, 1), np.float32), RATE)
    cache = tmp_path / "cache"
    proc = subprocess.run([sys.executable, "-m", "editor.cli", "convert", str(wav), str(tmp_path / "b.flac")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "SEEDWAVE_CACHE": str(cache), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert not (cache / "sessions").exists() or list((cache / "sessions").iterdir()) == []


def test_render_of_a_project_with_nan_audio_warns_on_one_line(tmp_path, store):
    x = _noise(1, 4800, 9)
    path = tmp_path / "nan.seedwave"
    save_project(Project(tracks=(Track("t", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0),)),)),
                 path)
    off = next(iter(read_index(path)["blocks"].values()))["offset"]
    data = bytearray(path.read_bytes())
    struct.pack_into("<f", data, off + 40, float("nan"))
    path.write_bytes(bytes(data))
    out = tmp_path / "out.wav"
    proc = subprocess.run([sys.executable, "-m", "editor.cli", "render", str(path), str(out), "-q"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == f"seedwave: warning: {path}: replaced 1 NaN/infinite or out-of-range samples " \
                                  "with silence"
    assert np.isfinite(sf.read(out)[0]).all()


def test_files_from_older_versions_with_track_heights_still_open(saved):
    _rewrite_index(saved, lambda d: [t.update(height=90) for t in d["project"]["tracks"]])
    assert [t.name for t in load_project(saved).tracks] == ["Take", "Three", "Gen"]
    _rewrite_index(saved, lambda d: d["project"]["tracks"][0].update(height="tall"))
    _clear_error(saved, "height")
