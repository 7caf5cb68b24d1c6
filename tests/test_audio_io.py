"""Audio import: every format libsndfile reads, bad input, resampling, channels,
chunked import with progress and cancel, and source files left untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from editor.core.audio_io import import_audio, probe, read_all
from editor.core.blocks import BLOCK_FRAMES
from editor.core.errors import AudioFileError, Cancelled
from editor.core.store import BlockStore
from editor.core.task import TaskContext

ROOT = Path(__file__).resolve().parent.parent


def _signal(frames: int = 20000, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Planar float32 noise plus a sine in [-1, 1), different in each channel."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 48000
    x = 0.3 * rng.standard_normal((channels, frames)) + 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.clip(x, -1.0, 0.999).astype(np.float32)


def _whole(seq) -> np.ndarray:
    return seq.read(0, seq.frames)


def _kinds(seq) -> set[str]:
    return {s.block.backing.describe()["kind"] for s in seq.segments}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cache_files(store: BlockStore) -> list[Path]:
    return sorted(store.folder.glob("*.f32"))


def _import_threads() -> list[threading.Thread]:
    """Decoder threads still alive (import must always stop and join its reader)."""
    return [t for t in threading.enumerate() if t.name == "seedwave-import"]


# --------------------------------------------------------------------------- lossless formats

# (container, subtype, extension, quantisation step of the subtype)
LOSSLESS = [
    ("WAV", "PCM_U8", "wav", 2.0**-7),
    ("WAV", "PCM_16", "wav", 2.0**-15),
    ("WAV", "PCM_24", "wav", 2.0**-23),
    ("WAV", "PCM_32", "wav", 2.0**-31),
    ("WAV", "FLOAT", "wav", 0.0),
    ("WAV", "DOUBLE", "wav", 0.0),
    ("WAVEX", "PCM_16", "wav", 2.0**-15),
    ("WAVEX", "PCM_24", "wav", 2.0**-23),
    ("RF64", "PCM_24", "rf64", 2.0**-23),
    ("RF64", "FLOAT", "rf64", 0.0),
    ("W64", "PCM_16", "w64", 2.0**-15),
    ("W64", "DOUBLE", "w64", 0.0),
    ("FLAC", "PCM_S8", "flac", 2.0**-7),
    ("FLAC", "PCM_16", "flac", 2.0**-15),
    ("FLAC", "PCM_24", "flac", 2.0**-23),
    ("AIFF", "PCM_S8", "aiff", 2.0**-7),
    ("AIFF", "PCM_16", "aiff", 2.0**-15),
    ("AIFF", "PCM_24", "aif", 2.0**-23),
    ("AIFF", "PCM_32", "aiff", 2.0**-31),
    ("AIFF", "FLOAT", "aifc", 0.0),  # libsndfile writes float AIFF as AIFC
    ("CAF", "PCM_16", "caf", 2.0**-15),
    ("CAF", "PCM_24", "caf", 2.0**-23),
    ("CAF", "FLOAT", "caf", 0.0),
    ("CAF", "DOUBLE", "caf", 0.0),
    ("CAF", "ALAC_16", "caf", 2.0**-15),
]


@pytest.mark.parametrize(("fmt", "subtype", "ext", "step"), LOSSLESS, ids=[f"{f}-{s}" for f, s, _e, _q in LOSSLESS])
def test_lossless_formats_import_exactly(tmp_path, fmt, subtype, ext, step):
    x = _signal()
    path = tmp_path / f"in.{ext}"
    sf.write(path, x.T, 48000, format=fmt, subtype=subtype)
    imp = import_audio(path)
    assert imp.info.format == fmt and imp.info.subtype == subtype
    assert imp.sample_rate == 48000
    assert len(imp.sequences) == 1 and imp.names == ["in"]
    seq = imp.sequences[0]
    assert seq.channels == 2 and seq.frames == x.shape[1]
    got = _whole(seq)
    # Bit-exact against libsndfile's own float decoding of the file ...
    ref, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(got, ref.T)
    # ... and within one quantisation step of what was written.
    assert np.abs(got - x).max() <= step
    if subtype in ("FLOAT", "DOUBLE"):
        np.testing.assert_array_equal(got, x)
    assert not imp.warnings


def test_float_aiff_is_an_aifc_file(tmp_path):
    """The AIFC variant is covered: libsndfile writes float AIFF with an AIFC header."""
    path = tmp_path / "in.aifc"
    sf.write(path, _signal().T, 48000, format="AIFF", subtype="FLOAT")
    assert path.read_bytes()[8:12] == b"AIFC"
    np.testing.assert_array_equal(_whole(import_audio(path).sequences[0]), _signal())


def test_uncompressed_files_are_aliased_and_compressed_ones_cached(tmp_path, store):
    ints = (_signal() * 32767).astype(np.int16)  # the same integers in both files
    wav, flac = tmp_path / "a.wav", tmp_path / "a.flac"
    sf.write(wav, ints.T, 48000, subtype="PCM_16")
    sf.write(flac, ints.T, 48000, subtype="PCM_16")
    aliased = import_audio(wav)
    assert _kinds(aliased.sequences[0]) == {"alias"}
    assert _cache_files(store) == []  # an aliased import writes nothing to the cache
    decoded = import_audio(flac)
    assert _kinds(decoded.sequences[0]) == {"f32"}
    assert len(_cache_files(store)) == 1
    np.testing.assert_array_equal(_whole(aliased.sequences[0]), _whole(decoded.sequences[0]))
    del decoded
    assert _cache_files(store) == []  # the cache file goes with its last block


def test_cache_aliases_keeps_samples_and_frees_the_source(tmp_path, store):
    x = _signal(frames=BLOCK_FRAMES + 5000)
    path = tmp_path / "a.wav"
    sf.write(path, x.T, 48000, subtype="PCM_16")
    imp = import_audio(path)
    seq = imp.sequences[0]
    before = _whole(seq)
    store.cache_aliases(imp.blocks())
    assert _kinds(seq) == {"f32"}
    # The source can now go away: the project no longer depends on it.
    path.unlink()
    np.testing.assert_array_equal(_whole(seq), before)


# --------------------------------------------------------------------------- lossy formats

LOSSY = [("OGG", "VORBIS", "ogg"), ("OGG", "OPUS", "opus"), ("MP3", "MPEG_LAYER_III", "mp3")]


@pytest.mark.parametrize(("fmt", "subtype", "ext"), LOSSY, ids=[s for _f, s, _e in LOSSY])
def test_lossy_formats_import_approximately(tmp_path, fmt, subtype, ext):
    t = np.arange(96000) / 48000
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t + 1)]).astype(np.float32)
    path = tmp_path / f"in.{ext}"
    sf.write(path, x.T, 48000, format=fmt, subtype=subtype)
    imp = import_audio(path)
    seq = imp.sequences[0]
    assert seq.channels == 2
    assert abs(seq.frames - x.shape[1]) <= 2048
    n = min(seq.frames, x.shape[1])
    got = _whole(seq)[:, :n]
    err = got - x[:, :n]
    snr = 10 * np.log10(np.sum(x[:, :n] ** 2) / np.sum(err**2))
    assert snr > 20, f"{subtype}: decoded audio differs from the original (SNR {snr:.1f} dB)"
    ref, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(_whole(seq), ref.T)


# --------------------------------------------------------------------------- rates and channels


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 96000, 192000, 384000])
def test_sample_rates_8k_to_384k(tmp_path, rate):
    x = _signal(frames=rate // 10)
    path = tmp_path / "r.wav"
    sf.write(path, x.T, rate, subtype="PCM_24")
    imp = import_audio(path)
    assert imp.sample_rate == rate == imp.info.sample_rate
    ref, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(_whole(imp.sequences[0]), ref.T)


@pytest.mark.parametrize("rate", [4000, 7999, 384001, 768000])
def test_rates_outside_the_range_are_refused(tmp_path, rate):
    path = tmp_path / "r.wav"
    sf.write(path, _signal(frames=1000).T, rate, subtype="PCM_16")
    with pytest.raises(AudioFileError, match="sample rate") as info:
        import_audio(path)
    assert str(path) in str(info.value)


def test_resampled_to_the_project_rate(tmp_path):
    rate = 44100
    t = np.arange(rate * 2) / rate
    x = np.stack([0.5 * np.sin(2 * np.pi * 1000 * t), 0.25 * np.sin(2 * np.pi * 3000 * t)]).astype(np.float32)
    path = tmp_path / "cd.flac"
    sf.write(path, x.T, rate, subtype="PCM_24")
    imp = import_audio(path, target_rate=48000)
    assert imp.sample_rate == 48000 and imp.info.sample_rate == rate
    seq = imp.sequences[0]
    assert seq.frames == round(x.shape[1] * 48000 / rate)
    got = _whole(seq)
    # Matches soxr's one-shot HQ resampling of the decoded file.
    dec, _ = sf.read(path, dtype="float32")
    ref = soxr.resample(dec, rate, 48000, quality="HQ").T
    assert np.abs(got - ref).max() < 1e-4
    # And the tones are where they were: 1 kHz and 3 kHz at 48 kHz.
    for ch, f in ((0, 1000), (1, 3000)):
        spec = np.abs(np.fft.rfft(got[ch, 4800:52800]))
        assert abs(np.argmax(spec) - f) <= 1  # one-second window: bin k is k Hz


def test_long_file_is_resampled_in_a_stream(tmp_path):
    """More than one read chunk: the streamed resampler joins chunks seamlessly."""
    rate = 96000
    x = _signal(frames=2 * BLOCK_FRAMES + 777, channels=1, seed=3)
    path = tmp_path / "hi.w64"
    sf.write(path, x.T, rate, subtype="FLOAT")
    seq = import_audio(path, target_rate=48000).sequences[0]
    ref = soxr.resample(x[0], rate, 48000, quality="HQ")
    assert seq.frames == len(ref)
    assert np.abs(_whole(seq)[0] - ref).max() < 1e-4


@pytest.mark.parametrize("channels", [1, 2])
def test_mono_and_stereo_stay_one_sequence(tmp_path, channels):
    x = _signal(channels=channels)
    path = tmp_path / "s.wav"
    sf.write(path, x.T, 48000, subtype="FLOAT")
    imp = import_audio(path)
    assert len(imp.sequences) == 1 and imp.sequences[0].channels == channels
    np.testing.assert_array_equal(_whole(imp.sequences[0]), x)


@pytest.mark.parametrize(("channels", "fmt"), [(3, "WAV"), (6, "FLAC"), (8, "WAVEX"), (32, "WAV")])
def test_more_than_two_channels_become_one_mono_sequence_each(tmp_path, channels, fmt):
    x = _signal(frames=5000, channels=channels, seed=channels)
    path = tmp_path / f"multi.{'flac' if fmt == 'FLAC' else 'wav'}"
    sf.write(path, x.T, 48000, format=fmt, subtype="PCM_24")
    imp = import_audio(path)
    assert len(imp.sequences) == channels
    assert imp.names == [f"multi (ch {i + 1})" for i in range(channels)]
    ref, _ = sf.read(path, dtype="float32", always_2d=True)
    for c, seq in enumerate(imp.sequences):
        assert seq.channels == 1
        np.testing.assert_array_equal(_whole(seq)[0], ref[:, c])


def test_many_channels_at_another_rate(tmp_path):
    """Resampling and splitting channels together (each channel its own track)."""
    x = _signal(frames=44100, channels=4)
    path = tmp_path / "quad.wav"
    sf.write(path, x.T, 44100, subtype="FLOAT")
    imp = import_audio(path, target_rate=48000)
    assert [s.channels for s in imp.sequences] == [1, 1, 1, 1]
    ref = soxr.resample(x.T, 44100, 48000, quality="HQ").T
    for c, seq in enumerate(imp.sequences):
        assert seq.frames == ref.shape[1]
        assert np.abs(_whole(seq)[0] - ref[c]).max() < 1e-4


def test_33_channels_are_refused(tmp_path):
    path = tmp_path / "many.wav"
    sf.write(path, np.zeros((100, 33), np.float32), 48000, subtype="PCM_16")
    with pytest.raises(AudioFileError, match="33 channels"):
        import_audio(path)


# --------------------------------------------------------------------------- bad input


def _one_clear_error(path: Path, *words: str) -> AudioFileError:
    with pytest.raises(AudioFileError) as info:
        import_audio(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    low = text.lower()
    assert any(w in low for w in words), text
    assert _import_threads() == []
    return info.value


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _one_clear_error(path, "empty")


def test_valid_header_but_no_frames(tmp_path):
    """The editor's import refuses it in one line; the command line reads it as the valid,
    empty file it is."""
    path = tmp_path / "none.wav"
    sf.write(path, np.zeros((0, 2), np.float32), 48000)
    _one_clear_error(path, "no audio")
    assert probe(path, allow_empty=True).duration == 0.0
    imp = import_audio(path, allow_empty=True)
    assert imp.info.frames == 0 and [(s.channels, s.frames) for s in imp.sequences] == [(2, 0)]
    wide = tmp_path / "none6.wav"
    sf.write(wide, np.zeros((0, 6), np.float32), 48000)
    assert [(s.channels, s.frames) for s in import_audio(wide, allow_empty=True).sequences] == [(1, 0)] * 6


def _stderr_of(code: str) -> str:
    """What a fresh interpreter running ``code`` writes to file descriptor 2 (C libraries included)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    return proc.stderr


def test_random_bytes_mp3_gives_one_line_and_no_decoder_chatter(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes())
    err = _stderr_of(f"from editor.cli import main; main(['info', {str(path)!r}])")
    assert err.strip().splitlines() == [
        f"seedwave: error: {path}: not an audio file Seedwave can read, or its header is damaged"]


def test_damaged_mp3_keeps_its_audio_with_one_warning_and_no_decoder_chatter(tmp_path):
    good = tmp_path / "good.mp3"
    sf.write(good, _signal(48000 * 4).T, 48000, format="MP3")
    data = bytearray(good.read_bytes())
    mid = len(data) // 2
    data[mid: mid + 3000] = np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path = tmp_path / "damaged.mp3"
    path.write_bytes(bytes(data))
    code = (f"import sys; from editor.cli import main; main(['info', {str(path)!r}]); "
            "print('passed on', file=sys.stderr)")
    lines = _stderr_of(code).strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"seedwave: warning: {path}: the file is ")
    assert lines[1] == "passed on"  # stderr written by others is not swallowed


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg", "aiff"])
def test_text_file_with_an_audio_extension(tmp_path, ext):
    path = tmp_path / f"notes.{ext}"
    path.write_text("These are my shopping notes, not audio.\n" * 50)
    _one_clear_error(path, "not an audio file", "cannot be read")


def test_random_bytes_with_an_audio_extension(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 50000, dtype=np.uint8).tobytes())
    _one_clear_error(path, "not an audio file")


@pytest.mark.parametrize("ext", ["wav", "flac", "caf", "aiff"])
def test_file_cut_inside_its_header(tmp_path, ext):
    full = tmp_path / f"full.{ext}"
    sf.write(full, _signal().T, 48000)
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(full.read_bytes()[:30])
    _one_clear_error(path, "damaged", "corrupt", "not an audio file")


def test_damaged_header_magic(tmp_path):
    full = tmp_path / "full.wav"
    sf.write(full, _signal().T, 48000)
    data = bytearray(full.read_bytes())
    data[0:4] = b"JUNK"
    path = tmp_path / "bad.wav"
    path.write_bytes(bytes(data))
    _one_clear_error(path, "not an audio file")


@pytest.mark.parametrize(("fmt", "ext"), [("WAV", "wav"), ("AIFF", "aiff"), ("W64", "w64"), ("RF64", "rf64")])
def test_truncated_pcm_file_keeps_what_is_there_with_a_warning(tmp_path, fmt, ext):
    x = _signal(frames=100000)
    full = tmp_path / f"full.{ext}"
    sf.write(full, x.T, 48000, format=fmt, subtype="PCM_16")
    data = full.read_bytes()
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(data[: len(data) // 2])
    ctx = TaskContext()
    imp = import_audio(path, ctx=ctx)
    seq = imp.sequences[0]
    assert 40000 < seq.frames < 60000
    ref, _ = sf.read(full, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(_whole(seq), ref[: seq.frames].T)
    assert len(imp.warnings) == 1 and "truncated" in imp.warnings[0] and str(path) in imp.warnings[0]
    assert ctx.warnings == imp.warnings


def test_truncated_flac_keeps_the_decodable_part_with_a_warning(tmp_path):
    x = _signal(frames=100000)
    full = tmp_path / "full.flac"
    sf.write(full, x.T, 48000, subtype="PCM_16")
    data = full.read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: len(data) // 2])
    imp = import_audio(path)
    seq = imp.sequences[0]
    # libsndfile stops at the last whole FLAC frame before the cut.
    assert 30000 < seq.frames < 50000
    ref, _ = sf.read(full, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(_whole(seq), ref[: seq.frames].T)
    assert len(imp.warnings) == 1 and "damaged" in imp.warnings[0]


def test_truncated_ogg_warns(tmp_path):
    full = tmp_path / "full.ogg"
    sf.write(full, _signal(frames=100000).T, 48000)
    data = full.read_bytes()
    path = tmp_path / "cut.ogg"
    path.write_bytes(data[: len(data) // 2])
    imp = import_audio(path)
    assert 0 < imp.sequences[0].frames < 100000
    assert imp.warnings and "truncated" in imp.warnings[0]


def test_flac_with_nothing_decodable(tmp_path):
    full = tmp_path / "full.flac"
    sf.write(full, _signal(frames=100000).T, 48000)
    path = tmp_path / "cut.flac"
    path.write_bytes(full.read_bytes()[:2000])  # header and a few bytes of the first frame
    _one_clear_error(path, "cannot be read", "damaged", "no decodable")


def test_complete_files_have_no_warning(tmp_path):
    for fmt, ext in (("WAV", "wav"), ("AIFF", "aiff"), ("OGG", "ogg"), ("FLAC", "flac")):
        path = tmp_path / f"ok.{ext}"
        sf.write(path, _signal().T, 48000, format=fmt)
        assert import_audio(path).warnings == []


@pytest.mark.parametrize(("fmt", "subtype", "rate", "channels"), [
    ("WAV", "FLOAT", 48000, 2),    # aliased: the damaged block is replaced by a cleaned copy
    ("W64", "DOUBLE", 44100, 1),   # resampled
    ("WAV", "FLOAT", 48000, 3),    # split into mono tracks
])
def test_nan_and_inf_become_silence_with_a_warning(tmp_path, fmt, subtype, rate, channels):
    x = _signal(frames=BLOCK_FRAMES + 1000, channels=channels)
    bad = [(0, 5), (channels - 1, 70000), (0, BLOCK_FRAMES + 999)]
    x[0, 5] = np.nan
    x[channels - 1, 70000] = np.inf
    x[0, BLOCK_FRAMES + 999] = -np.inf
    path = tmp_path / f"nan.{fmt.lower()}"
    sf.write(path, x.T, rate, format=fmt, subtype=subtype)
    imp = import_audio(path, target_rate=48000)
    assert len(imp.warnings) == 1 and "3 NaN/infinite" in imp.warnings[0]
    got = np.concatenate([_whole(s) for s in imp.sequences])
    assert np.isfinite(got).all()
    for s in imp.sequences:
        mn, mx, sq = s.stats()
        assert np.isfinite(mn).all() and np.isfinite(mx).all() and np.isfinite(sq).all()
    if rate == 48000:
        clean = x.copy()
        for c, i in bad:
            clean[c, i] = 0.0
        np.testing.assert_array_equal(got, clean)


def test_a_folder_named_like_audio(tmp_path):
    path = tmp_path / "song.wav"
    path.mkdir()
    _one_clear_error(path, "folder")


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.wav"
    os.mkfifo(path)
    _one_clear_error(path, "not a regular file")


def test_a_missing_file(tmp_path):
    _one_clear_error(tmp_path / "gone.wav", "no such file")


def test_unreadable_file_as_an_unprivileged_user():
    """Root ignores file permissions, so the check runs as 'nobody' in a subprocess."""
    if os.geteuid() != 0:
        base = Path(tempfile.mkdtemp())
        path = base / "secret.wav"
        sf.write(path, _signal().T, 48000)
        path.chmod(0)
        with pytest.raises(AudioFileError, match="permission denied"):
            import_audio(path)
        return
    setpriv = "/usr/bin/setpriv"
    if not Path(setpriv).exists():
        pytest.skip("setpriv is not installed")
    base = Path(tempfile.mkdtemp(prefix="seedwave-perm-"))
    try:
        base.chmod(0o777)
        path = base / "secret.wav"
        sf.write(path, _signal().T, 48000)
        path.chmod(0o600)  # owned by root: nobody cannot read it
        code = textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from editor.core.audio_io import import_audio
            from editor.core.errors import AudioFileError
            from editor.core.store import BlockStore
            try:
                import_audio({str(path)!r}, store=BlockStore(Path({str(base)!r}) / "cache"))
            except AudioFileError as exc:
                print(exc)
                sys.exit(3)
            sys.exit(0)
        """)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(base)}
        proc = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
            capture_output=True, text=True, env=env, cwd=str(base), timeout=120,
        )
        if proc.returncode not in (0, 3):
            pytest.skip(f"cannot run Python as an unprivileged user here: {proc.stderr.strip()[-300:]}")
        assert proc.returncode == 3, "an unreadable file was imported"
        assert proc.stdout.strip() == f"{path}: permission denied: you cannot read this file"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_probe_and_read_all_report_the_same_errors(tmp_path):
    path = tmp_path / "notes.flac"
    path.write_text("not audio")
    with pytest.raises(AudioFileError):
        probe(path)
    with pytest.raises(AudioFileError):
        read_all(path)
    good = tmp_path / "g.wav"
    x = _signal()
    sf.write(good, x.T, 32000, subtype="FLOAT")
    data, rate = read_all(good)
    assert rate == 32000
    np.testing.assert_array_equal(data, x)


# --------------------------------------------------------------------------- long imports


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_long_import_reports_progress_in_chunks(tmp_path, fmt):
    frames = 5 * BLOCK_FRAMES + 123
    x = _signal(frames=frames, channels=2)
    path = tmp_path / f"long.{fmt.lower()}"
    sf.write(path, x.T, 48000, format=fmt, subtype="PCM_16")
    seen: list[float] = []
    imp = import_audio(path, ctx=TaskContext(lambda f, _m: seen.append(f)))
    assert len(seen) >= 6
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0
    seq = imp.sequences[0]
    assert seq.frames == frames
    # Cut into blocks of bounded size, never one big array.
    assert max(s.frames for s in seq.segments) <= BLOCK_FRAMES
    assert len(seq.segments) == 6
    ref, _ = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(_whole(seq), ref.T)


@pytest.mark.parametrize(("fmt", "channels", "target"), [
    ("WAV", 2, None),      # aliased
    ("FLAC", 2, None),     # decoded into the cache
    ("WAV", 4, None),      # split into four cache writers
    ("WAV", 1, 44100),     # resampled
])
def test_cancel_stops_the_import_and_leaves_no_cache_files(tmp_path, store, fmt, channels, target):
    frames = 6 * BLOCK_FRAMES
    path = tmp_path / f"long.{fmt.lower()}"
    sf.write(path, _signal(frames=frames, channels=channels).T, 48000, format=fmt, subtype="PCM_16")
    ctx = TaskContext()
    seen: list[float] = []

    def progress(fraction: float, _msg: str) -> None:
        seen.append(fraction)
        if fraction > 0.4:
            ctx.cancel()

    ctx._on_progress = progress
    with pytest.raises(Cancelled):
        import_audio(path, ctx=ctx, target_rate=target)
    assert 0.4 < seen[-1] < 1.0
    assert _cache_files(store) == []
    assert _import_threads() == []
    # A later import of the same file works normally.
    assert import_audio(path, target_rate=target).sequences[0].frames > 0


# --------------------------------------------------------------------------- the source is read only


def test_source_files_are_never_written(tmp_path, store):
    paths = []
    for i, (fmt, subtype) in enumerate([("WAV", "PCM_16"), ("FLAC", "PCM_24"), ("AIFF", "FLOAT")]):
        p = tmp_path / f"src{i}.{fmt.lower()}"
        sf.write(p, _signal(frames=BLOCK_FRAMES + 10, seed=i).T, 44100 if i == 1 else 48000, format=fmt,
                 subtype=subtype)
        paths.append(p)
    before = {p: (_sha(p), p.stat().st_mtime_ns) for p in paths}
    imports = [import_audio(p, target_rate=48000) for p in paths]
    for imp in imports:
        store.cache_aliases(imp.blocks())
    assert {p: (_sha(p), p.stat().st_mtime_ns) for p in paths} == before


def test_replaced_source_file_is_reimported_with_its_new_contents(tmp_path):
    """A file replaced on disk (same name, new contents) must not be read through the
    handle opened for the old file, while blocks of the first import keep the old audio."""
    path = tmp_path / "take.wav"
    x = _signal()
    sf.write(path, x.T, 48000, subtype="FLOAT")
    first = import_audio(path).sequences[0]
    tmp = tmp_path / "new.wav"
    sf.write(tmp, (-x).T, 48000, subtype="FLOAT")
    os.replace(tmp, path)
    second = import_audio(path).sequences[0]
    np.testing.assert_array_equal(_whole(second), -x)
    np.testing.assert_array_equal(_whole(first), x)
