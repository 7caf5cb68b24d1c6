"""Export: every format read back, normalisation measured on the written file,
dither, resampling, mono, stems, tags, cancel and errors."""

from __future__ import annotations

import os
import re
import subprocess
import tracemalloc
from pathlib import Path

import mutagen
import mutagen.mp3
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from editor.core.errors import Cancelled, SeedwaveError
from editor.core.loudness import measure
from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.engine.export import ExportSettings, export_mix, export_stems, format_for_path
from editor.engine.renderer import render

RATE = 48000


def seq(store, data: np.ndarray) -> AudioSeq:
    return AudioSeq.from_blocks(store.blocks_from_array(np.asarray(data, np.float32)), data.shape[0])


def music(seconds: float, seed: int = 0, amp: float = 0.15) -> np.ndarray:
    """Stereo test signal that lossy codecs keep well: a chord plus noise below 5 kHz."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    chord = sum(np.sin(2 * np.pi * f * t + k) for k, f in enumerate((220.0, 277.2, 329.6, 440.0)))
    sos = scipy.signal.butter(4, 5000, fs=RATE, output="sos")
    noise = scipy.signal.sosfilt(sos, np.random.default_rng(seed).standard_normal((2, n)), axis=1)
    return (amp * (0.5 * chord + noise)).astype(np.float32)


def project_of(store, *tracks_audio: np.ndarray, rate: int = RATE, **kw) -> Project:
    tracks = tuple(Track(f"track {i}", (Clip(seq(store, a), 0),), pan=(0.0, -0.3, 0.5)[i % 3])
                   for i, a in enumerate(tracks_audio))
    return Project(rate, tracks, **kw)


@pytest.fixture
def outdir(tmp_path) -> Path:
    """An empty folder for outputs (tmp_path also holds the test's block cache)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def project(store) -> Project:
    return project_of(store, music(3.0, 1, amp=0.08), music(3.0, 2, amp=0.08)[:1])


def read(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), rate


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("ext", "bits", "lsb"), [
    ("wav", 16, 2.0**-15), ("wav", 24, 2.0**-23), ("wav", 32, 2.0**-31),
    ("aiff", 16, 2.0**-15), ("aiff", 24, 2.0**-23), ("flac", 16, 2.0**-15), ("flac", 24, 2.0**-23),
])
def test_integer_formats_round_trip_within_dithered_quantisation(tmp_path, project, ext, bits, lsb):
    mix = render(project, 0, project.end)
    out = tmp_path / f"mix.{ext}"
    report = export_mix(project, out, ExportSettings(format=ext, bits=bits))
    data, rate = read(out)
    assert rate == RATE and data.shape == mix.shape
    assert sf.info(str(out)).subtype == f"PCM_{bits}"
    err = np.abs(data - mix).max()
    # TPDF dither of ±1 LSB plus rounding of ½ LSB (float32 read-back adds a hair for 32-bit).
    assert err <= 1.5 * lsb + 1e-7
    assert report.frames == mix.shape[1] and f"{bits}-bit" in report.summary()


@pytest.mark.parametrize("ext", ["wav", "aiff"])
def test_float_export_is_bit_exact(tmp_path, project, ext):
    out = tmp_path / f"mix.{ext}"
    export_mix(project, out, ExportSettings(format=ext, bits="float"))
    data, _ = read(out)
    assert np.array_equal(data, render(project, 0, project.end))


@pytest.mark.parametrize(("ext", "settings"), [
    ("ogg", {}), ("opus", {}), ("mp3", {"mp3_bitrate": 192}), ("mp3", {"mp3_bitrate": 96}),
])
def test_lossy_formats_round_trip(tmp_path, project, ext, settings):
    mix = render(project, 0, project.end)
    out = tmp_path / f"mix.{ext}"
    export_mix(project, out, ExportSettings(format=ext, **settings))
    data, rate = read(out)
    assert rate == RATE and data.shape[0] == 2
    # Exact length and no delay: Ogg streams carry it; the MP3 carries a LAME Info frame (gapless).
    assert data.shape[1] == mix.shape[1]
    dec = data
    for c in range(2):
        assert np.corrcoef(dec[c], mix[c])[0, 1] > 0.98
        level = 20 * np.log10(np.sqrt(np.mean(dec[c] ** 2)) / np.sqrt(np.mean(mix[c] ** 2)))
        assert abs(level) < 0.5


def test_mp3_bitrate_is_the_one_asked_for(tmp_path, project):
    for kbps in (128, 256):
        out = tmp_path / f"m{kbps}.mp3"
        export_mix(project, out, ExportSettings(format="mp3", mp3_bitrate=kbps))
        info = mutagen.File(str(out)).info
        assert info.bitrate == kbps * 1000 and info.bitrate_mode == mutagen.mp3.BitrateMode.CBR
        assert round(info.length * RATE) == project.end  # from the Info frame, as players show it


# --------------------------------------------------------------------------- normalisation


@pytest.fixture
def peaky(store) -> Project:
    """Quiet material with sharp transients: gain alone cannot reach -14 LUFS under -1 dBTP."""
    x = music(6.0, 3, amp=0.03)
    x[:, :: RATE // 3] = 0.9
    x[1, 7 :: RATE // 2] = -0.95
    return project_of(store, x)


@pytest.mark.parametrize(("ext", "bits"), [("flac", 24), ("wav", 16), ("mp3", None), ("ogg", None), ("opus", None)])
def test_loudness_target_and_true_peak_ceiling_on_the_written_file(tmp_path, peaky, ext, bits):
    before, tp_before = measure(render(peaky, 0, peaky.end), RATE)
    assert tp_before - before > 13.0  # really peaky: plain gain would overshoot the ceiling
    out = tmp_path / f"loud.{ext}"
    report = export_mix(peaky, out, ExportSettings(format=ext, bits=bits, normalize="lufs", lufs=-14.0,
                                                   true_peak_db=-1.0))
    data, rate = read(out)
    lufs, tp = measure(data, rate)
    assert abs(lufs - -14.0) <= 0.5
    assert tp <= -1.0
    assert report.limiter_db > 1.0 and "LUFS" in report.summary()


def test_loudness_normalisation_without_limiting_is_plain_gain(tmp_path, store):
    x = music(4.0, 5, amp=0.05)
    p = project_of(store, x)
    out = tmp_path / "l.wav"
    report = export_mix(p, out, ExportSettings(format="wav", bits="float", normalize="lufs", lufs=-20.0,
                                               true_peak_db=-1.0))
    data, _ = read(out)
    lufs, _tp = measure(data, RATE)
    assert abs(lufs + 20.0) < 0.05
    mix = render(p, 0, p.end)
    ratio = data[mix != 0] / mix[mix != 0]
    assert np.allclose(ratio, ratio[0], rtol=1e-5)  # one gain everywhere: no limiting
    assert report.limiter_db == 0.0


def test_peak_normalisation(tmp_path, project):
    out = tmp_path / "p.wav"
    export_mix(project, out, ExportSettings(format="wav", bits=24, normalize="peak", peak_db=-3.0))
    data, _ = read(out)
    assert 20 * np.log10(np.abs(data).max()) == pytest.approx(-3.0, abs=0.01)


# --------------------------------------------------------------------------- dither


def test_dither_keeps_a_signal_below_one_lsb(tmp_path, store):
    lsb = 2.0**-15
    t = np.arange(RATE * 2) / RATE
    quiet = (0.4 * lsb * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[None]
    p = project_of(store, quiet)
    plain, dithered = tmp_path / "plain.wav", tmp_path / "dithered.wav"
    export_mix(p, plain, ExportSettings(format="wav", bits=16, channels=1, dither=False))
    export_mix(p, dithered, ExportSettings(format="wav", bits=16, channels=1))
    a, _ = read(plain)
    b, _ = read(dithered)
    assert not a.any()  # truncated to silence
    assert b.any()
    # The sine survives under the dither noise: project the output onto it.
    s = quiet[0] / np.abs(quiet[0]).max()
    amp = 2 * np.dot(b[0], s) / len(s)
    assert amp == pytest.approx(0.4 * lsb, rel=0.2)


def test_no_dither_when_no_depth_is_lost(tmp_path, store):
    """A 16-bit source exported at 16 bits with no gain change stays bit-identical."""
    src = tmp_path / "src.wav"
    x = music(1.0, 7)
    sf.write(str(src), x.T, RATE, subtype="PCM_16")
    y, _ = read(src)
    p = project_of(store, y)
    out = tmp_path / "out.flac"
    export_mix(p, out, ExportSettings(format="flac", bits=16))
    assert np.array_equal(sf.read(str(out), dtype="int16")[0], sf.read(str(src), dtype="int16")[0])
    silent = project_of(store, np.zeros((2, 1000), np.float32))
    export_mix(silent, tmp_path / "silence.wav", ExportSettings(format="wav", bits=16))
    assert not read(tmp_path / "silence.wav")[0].any()


# --------------------------------------------------------------------------- rate, channels, range


def test_rate_conversion(tmp_path, store):
    t = np.arange(RATE * 2) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    p = project_of(store, np.vstack([tone, tone]))
    out = tmp_path / "r.wav"
    report = export_mix(p, out, ExportSettings(format="wav", bits="float", sample_rate=44100))
    data, rate = read(out)
    assert rate == 44100 and abs(data.shape[1] - 2 * 44100) <= 1
    spec = np.abs(np.fft.rfft(data[0, 4410:-4410] * np.hanning(data.shape[1] - 8820)))
    freqs = np.fft.rfftfreq(data.shape[1] - 8820, 1 / 44100)
    assert freqs[np.argmax(spec)] == pytest.approx(1000, abs=2)
    assert np.abs(data[:, 1000:-1000]).max() == pytest.approx(0.5, abs=0.005)
    assert "resampled" in report.summary()


def test_opus_resamples_to_a_rate_it_supports(tmp_path, store):
    p = project_of(store, music(2.0, 4)[:, : 2 * 44100], rate=44100)
    out = tmp_path / "o.opus"
    report = export_mix(p, out, ExportSettings(format="opus"))
    assert sf.info(str(out)).samplerate == 48000
    assert "resampled to 48000 Hz" in report.summary()


def test_mono_is_the_average_of_left_and_right(tmp_path, store):
    x = music(1.0, 9)
    p = project_of(store, x)
    mix = render(p, 0, p.end)
    out = tmp_path / "m.wav"
    export_mix(p, out, ExportSettings(format="wav", bits="float", channels=1))
    data, _ = read(out)
    assert data.shape == (1, mix.shape[1])
    assert np.allclose(data[0], (mix[0] + mix[1]) / 2, atol=1e-7)


def test_range_export(tmp_path, project):
    out = tmp_path / "r.wav"
    export_mix(project, out, ExportSettings(format="wav", bits="float"), start=12345, stop=67890)
    data, _ = read(out)
    assert np.array_equal(data, render(project, 12345, 67890 - 12345))


# --------------------------------------------------------------------------- stems and tags


def test_stems_one_file_per_audible_track(tmp_path, store):
    a, b, c = music(1.0, 1), music(1.0, 2), music(1.0, 3)
    p = project_of(store, a, b, c, master_gain_db=-2.0)
    p = p.replace_track(p.tracks[2].with_(mute=True))
    p = p.replace_track(p.tracks[0].with_(gain_db=-6.0))
    paths = export_stems(p, tmp_path / "stems", ExportSettings(format="wav", bits="float"))
    assert [x.name for x in paths] == ["01 track 0.wav", "02 track 1.wav"]
    stems = [read(x)[0] for x in paths]
    for stem, track in zip(stems, p.tracks[:2], strict=True):
        assert np.array_equal(stem, render(p, 0, p.end, tracks=[track]))
        with sf.SoundFile(str(paths[0])) as f:
            assert f.title == "track 0"
    assert np.abs(sum(stems) - render(p, 0, p.end)).max() < 1e-6


TAGS = {"title": "Song", "artist": "Band", "album": "Record", "date": "2024", "comment": "hello",
        "genre": "Rock", "tracknumber": "3"}


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "opus", "mp3", "aiff"])
def test_tags_read_back(tmp_path, project, ext):
    out = tmp_path / f"t.{ext}"
    export_mix(project, out, ExportSettings(format=ext, tags=TAGS))
    if ext in ("wav", "aiff"):
        with sf.SoundFile(str(out)) as f:
            meta = f.copy_metadata()
        for k in ("title", "artist", "comment"):
            assert meta[k] == TAGS[k]
    if ext == "wav":
        assert meta == TAGS
    if ext in ("flac", "ogg", "opus"):
        tags = mutagen.File(str(out)).tags
        for k, v in TAGS.items():
            assert tags[k] == [v]
    if ext in ("mp3", "aiff"):
        id3 = mutagen.File(str(out)).tags
        assert str(id3["TIT2"]) == "Song" and str(id3["TPE1"]) == "Band" and str(id3["TALB"]) == "Record"
        assert str(id3["TDRC"]) == "2024" and str(id3["TCON"]) == "Rock" and str(id3["TRCK"]) == "3"
        assert str(id3.getall("COMM")[0]) == "hello"
    assert sf.info(str(out)).frames > 0  # tags did not break the audio


# --------------------------------------------------------------------------- safety


def _cancelling_ctx(at: float) -> TaskContext:
    ctx = TaskContext()
    ctx._on_progress = lambda fraction, _msg: ctx.cancel() if fraction >= at else None
    return ctx


@pytest.mark.parametrize("ext", ["flac", "mp3"])
def test_cancel_leaves_no_partial_file_and_keeps_the_old_one(outdir, store, ext):
    p = project_of(store, music(20.0, 1))
    out = outdir / f"song.{ext}"
    with pytest.raises(Cancelled):
        export_mix(p, out, ExportSettings(format=ext), ctx=_cancelling_ctx(0.3))
    assert list(outdir.iterdir()) == []
    out.write_bytes(b"the previous export")
    with pytest.raises(Cancelled):
        export_mix(p, out, ExportSettings(format=ext, normalize="lufs"), ctx=_cancelling_ctx(0.5))
    assert out.read_bytes() == b"the previous export"
    assert list(outdir.iterdir()) == [out]


def test_overwrite_false_refuses(tmp_path, project):
    out = tmp_path / "a.wav"
    out.write_bytes(b"keep")
    with pytest.raises(SeedwaveError, match="already exists"):
        export_mix(project, out, ExportSettings(), overwrite=False)
    assert out.read_bytes() == b"keep"
    export_mix(project, out, ExportSettings(), overwrite=True)
    assert sf.info(str(out)).frames == project.end


def test_new_files_follow_the_umask(tmp_path, project):
    old = os.umask(0o027)
    try:
        export_mix(project, tmp_path / "a.flac", ExportSettings(format="flac"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.flac").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("settings", "message"), [
    (ExportSettings(format="flac", bits="float"), "FLAC cannot store 32-bit float"),
    (ExportSettings(format="mp3", mp3_bitrate=100), "cannot use 100 kbit/s"),
    (ExportSettings(format="ogg", bits=16), "no bit depth"),
    (ExportSettings(format="wma"), "unknown export format"),
    (ExportSettings(channels=6), "mono (1) or stereo (2)"),
    (ExportSettings(tags={"mood": "sad"}), "unknown tag 'mood'"),
    (ExportSettings(normalize="lufs", lufs=5.0), "outside -70 to 0 LUFS"),
])
def test_unsupported_settings_are_one_line_errors(outdir, project, settings, message):
    with pytest.raises(SeedwaveError, match=re.escape(message)) as info:
        export_mix(project, outdir / "x.out", settings)
    assert "\n" not in str(info.value)
    assert list(outdir.iterdir()) == []


def test_bad_targets(tmp_path, project):
    with pytest.raises(SeedwaveError, match="folder does not exist"):
        export_mix(project, tmp_path / "missing" / "a.wav", ExportSettings())
    with pytest.raises(SeedwaveError, match="is a folder"):
        export_mix(project, tmp_path, ExportSettings())
    with pytest.raises(SeedwaveError, match="extension"):
        format_for_path(tmp_path / "a.xyz")
    with pytest.raises(SeedwaveError, match="nothing to export"):
        export_mix(Project(), tmp_path / "e.wav", ExportSettings())


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("ext", ["wav", "mp3"])
def test_disk_full_is_reported_and_harmless(tiny_disk, store, ext):
    p = project_of(store, music(30.0, 1))
    out = tiny_disk / f"a.{ext}"
    out.write_bytes(b"old")
    with pytest.raises(SeedwaveError, match="disk is full") as info:
        export_mix(p, out, ExportSettings(format=ext, bits=24 if ext == "wav" else None))
    assert "\n" not in str(info.value)
    assert out.read_bytes() == b"old"
    assert list(tiny_disk.iterdir()) == [out]


# --------------------------------------------------------------------------- long projects


def test_export_memory_stays_bounded(tmp_path, store):
    """Five minutes of stereo (115 MB as float32) export in a few MB of working memory."""
    minute = music(60.0, 11)
    blocks = seq(store, minute)
    clips = tuple(Clip(blocks, i * minute.shape[1]) for i in range(5))
    p = Project(RATE, (Track("long", clips),))
    out = tmp_path / "long.flac"
    tracemalloc.start()
    try:
        export_mix(p, out, ExportSettings(format="flac", bits=16))
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20
    info = sf.info(str(out))
    assert info.frames == 5 * minute.shape[1]
    with sf.SoundFile(str(out)) as f:
        f.seek(3 * minute.shape[1] + 1000)
        chunk = f.read(2000, dtype="float32").T
    assert np.abs(chunk - minute[:, 1000:3000]).max() < 2.0**-14
