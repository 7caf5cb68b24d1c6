"""The ``seedwave`` command line: info, render, convert, and one-line errors for bad input."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mutagen
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from editor.cli import main
from editor.core.edits import add_track, set_track
from editor.core.loudness import measure
from editor.core.model import Clip, Project
from editor.core.projectfile import save_project
from editor.core.sequence import AudioSeq

ROOT = Path(__file__).resolve().parent.parent
RATE = 48000
ERROR_LINE = re.compile(r"^seedwave: error: (.+?): (.+)$")


def tone(seconds: float, freq: float = 440.0, amp: float = 0.3, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = amp * np.sin(2 * np.pi * freq * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))
    return np.tile(x.astype(np.float32), (channels, 1))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, path: str | Path) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    m = ERROR_LINE.match(lines[0])
    assert m, lines[0]
    assert m.group(1) == str(path)
    assert "Traceback" not in err
    return m.group(2)


@pytest.fixture
def wav(tmp_path) -> Path:
    p = tmp_path / "good.wav"
    sf.write(str(p), tone(2.0).T, RATE, subtype="PCM_16")
    return p


@pytest.fixture
def saved_project(tmp_path, store) -> Path:
    """A two-track project saved with the core API."""
    a = AudioSeq.from_blocks(store.blocks_from_array(tone(3.0, 330.0, 0.05)), 2)
    b = AudioSeq.from_blocks(store.blocks_from_array(tone(2.0, 550.0, 0.1, channels=1)), 1)
    p = Project(sample_rate=RATE, name="song")
    p = add_track(p, "pad", (Clip(a, 0),))
    p = add_track(p, "lead", (Clip(b, RATE // 2),))
    p = set_track(p, p.tracks[1].id, pan=0.4, gain_db=-3.0)
    path = tmp_path / "song.seedwave"
    save_project(p, path)
    return path


# --------------------------------------------------------------------------- info


def test_info_prints_duration_rate_channels_format_peak_and_loudness(capsys, wav):
    code, out, err = run_cli(capsys, "info", wav)
    assert code == 0 and err == ""
    data, _ = sf.read(str(wav))
    assert "duration:    00:00:02.000 (96000 frames)" in out
    assert "sample rate: 48000 Hz" in out
    assert "channels:    2" in out
    assert "format:      WAV / PCM_16" in out
    peak = float(re.search(r"peak:\s+(-?[\d.]+) dBFS", out).group(1))
    assert peak == pytest.approx(20 * math.log10(np.abs(data).max()), abs=0.01)
    lufs = float(re.search(r"loudness:\s+(-?[\d.]+) LUFS", out).group(1))
    assert lufs == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(data), abs=0.05)


def test_version():
    r = subprocess.run([sys.executable, "-m", "editor", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0
    assert re.fullmatch(r"seedwave \d+\.\d+\S*\n", r.stdout)


# --------------------------------------------------------------------------- render and convert


def test_render_project_with_format_rate_bits_and_loudness(capsys, saved_project, tmp_path):
    out = tmp_path / "mix.bin"
    code, stdout, err = run_cli(capsys, "render", saved_project, out, "--format", "flac", "--rate", "44100",
                                "--bits", "16", "--lufs", "-16", "--true-peak", "-1.5", "--tag", "artist=Me")
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 1 and stdout.startswith(f"wrote {out}")
    info = sf.info(str(out))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("FLAC", "PCM_16", 44100, 2)
    assert info.frames == pytest.approx(3.0 * 44100, abs=1)
    data, rate = sf.read(str(out), always_2d=True)
    lufs, tp = measure(np.ascontiguousarray(data.T, np.float32), rate)
    assert abs(lufs + 16) <= 0.5 and tp <= -1.5
    assert mutagen.File(str(out)).tags["artist"] == ["Me"]


def test_render_range_and_mp3_bitrate(capsys, saved_project, tmp_path):
    out = tmp_path / "part.mp3"
    code, _, err = run_cli(capsys, "render", saved_project, out, "--start", "0.5", "--end", "2.5",
                           "--bitrate", "128", "-q")
    assert code == 0, err
    f = mutagen.File(str(out))
    assert f.info.bitrate == 128000 and f.info.length == pytest.approx(2.0, abs=0.1)


def test_render_stems(capsys, saved_project, tmp_path):
    folder = tmp_path / "stems"
    code, stdout, err = run_cli(capsys, "render", saved_project, folder, "--stems", "--format", "wav")
    assert code == 0, err
    names = sorted(Path(line).name for line in stdout.splitlines())
    assert names == ["01 pad.wav", "02 lead.wav"]
    lead, _ = sf.read(str(folder / "02 lead.wav"))
    assert not lead[: RATE // 2 - 10].any() and lead[RATE // 2 + 100 :].any()  # the lead clip starts at 0.5 s


def test_convert_keeps_depth_and_is_lossless_for_the_same_depth(capsys, wav, tmp_path):
    out = tmp_path / "good.flac"
    code, stdout, err = run_cli(capsys, "convert", wav, out)
    assert code == 0, err
    assert sf.info(str(out)).subtype == "PCM_16"
    assert np.array_equal(sf.read(str(out), dtype="int16")[0], sf.read(str(wav), dtype="int16")[0])
    mono = tmp_path / "mono.wav"
    code, _, err = run_cli(capsys, "convert", wav, mono, "--channels", "1", "--bits", "float", "--rate", "32000")
    assert code == 0, err
    info = sf.info(str(mono))
    assert (info.channels, info.samplerate, info.subtype) == (1, 32000, "FLOAT")
    code, _, err = run_cli(capsys, "convert", wav, tmp_path / "x.ogg")
    assert code == 0, err
    assert sf.info(str(tmp_path / "x.ogg")).subtype == "VORBIS"


def test_convert_refuses_unsupported_combination(capsys, wav, tmp_path):
    out = tmp_path / "bad.flac"
    code, _, err = run_cli(capsys, "convert", wav, out, "--bits", "float")
    assert code == 2 and not out.exists()
    lines = err.strip().splitlines()
    assert lines == ["seedwave: error: FLAC cannot store 32-bit float samples; choose 16-bit, 24-bit"]


def test_long_file_import_and_convert(capsys, tmp_path):
    """Ten minutes of stereo 16-bit audio: convert to FLAC and read it back."""
    src = tmp_path / "long.wav"
    rng = np.random.default_rng(5)
    minute = (rng.standard_normal((RATE * 60, 2)) * 3000).astype(np.int16)
    with sf.SoundFile(str(src), "w", RATE, 2, "PCM_16") as f:
        for i in range(10):
            f.write(np.roll(minute, i * 1000, axis=0))
    out = tmp_path / "long.flac"
    code, stdout, err = run_cli(capsys, "convert", src, out, "-q")
    assert code == 0, err
    assert "10:00.000" in stdout
    with sf.SoundFile(str(out)) as f:
        assert f.frames == 10 * 60 * RATE
        f.seek(7 * 60 * RATE)
        got = f.read(RATE, dtype="int16")
    assert np.array_equal(got, np.roll(minute, 7000, axis=0)[:RATE])


# --------------------------------------------------------------------------- bad input


def _bad_inputs(folder: Path) -> dict[str, Path]:
    good = folder / "src.wav"
    sf.write(str(good), tone(1.0).T, RATE, subtype="PCM_16")
    raw = good.read_bytes()
    files = {}
    files["corrupt"] = folder / "corrupt.wav"
    damaged = bytearray(raw)
    damaged[20:36] = b"\xff" * 16  # the fmt chunk
    files["corrupt"].write_bytes(bytes(damaged))
    files["truncated"] = folder / "truncated.wav"
    files["truncated"].write_bytes(raw[:30])
    files["empty"] = folder / "empty.flac"
    files["empty"].write_bytes(b"")
    files["not audio"] = folder / "notes.mp3"
    files["not audio"].write_text("these are my notes, not an MP3\n" * 40)
    files["folder"] = folder / "album.wav"
    files["folder"].mkdir()
    files["missing"] = folder / "missing.wav"
    return files


@pytest.mark.parametrize("case", ["corrupt", "truncated", "empty", "not audio", "folder", "missing"])
@pytest.mark.parametrize("command", ["info", "convert"])
def test_bad_input_is_one_line_error(capsys, tmp_path, case, command):
    path = _bad_inputs(tmp_path)[case]
    args = [command, path] + ([tmp_path / "out.wav"] if command == "convert" else [])
    code, _out, err = run_cli(capsys, *args)
    assert code != 0
    assert_one_error_line(err, path)
    assert not (tmp_path / "out.wav").exists()


def test_bad_project_file(capsys, tmp_path):
    fake = tmp_path / "fake.seedwave"
    fake.write_text("not a project")
    code, _, err = run_cli(capsys, "render", fake, tmp_path / "x.wav")
    assert code == 2
    assert "not a Seedwave project" in assert_one_error_line(err, fake)


def test_truncated_audio_data_is_kept_with_a_warning(capsys, tmp_path):
    src = tmp_path / "src.wav"
    sf.write(str(src), tone(2.0).T, RATE, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(src.read_bytes()[: 44 + RATE * 4])  # header plus one second
    code, out, err = run_cli(capsys, "info", cut)
    assert code == 0
    assert re.search(r"duration:\s+00:00:01\.0", out)
    assert err.startswith(f"seedwave: warning: {cut}") and "truncated" in err


def test_nan_and_inf_samples_become_silence_with_a_warning(capsys, tmp_path):
    x = tone(1.0)
    x[0, 100] = np.nan
    x[1, 200] = np.inf
    x[0, 300] = -np.inf
    src = tmp_path / "nan.wav"
    sf.write(str(src), x.T, RATE, subtype="FLOAT")
    code, out, err = run_cli(capsys, "info", src)
    assert code == 0 and "loudness" in out and "nan" not in out.lower().replace(str(src).lower(), "")
    assert re.search(r"warning: .*replaced 3 NaN/infinite samples with silence", err)
    dst = tmp_path / "clean.wav"
    code, _, err = run_cli(capsys, "convert", src, dst)
    assert code == 0 and "NaN" in err
    y, _ = sf.read(str(dst), always_2d=True)
    assert np.isfinite(y).all() and y[100, 0] == 0 and y[200, 1] == 0 and y[300, 0] == 0


def test_subcommand_typo(capsys, wav):
    code, _, err = run_cli(capsys, "infoo", wav)
    assert code == 2
    assert "did you mean 'seedwave info'" in assert_one_error_line(err, "infoo")


def test_debug_shows_a_traceback(tmp_path):
    bad = _bad_inputs(tmp_path)["corrupt"]
    env = {**os.environ, "SEEDWAVE_CACHE": str(tmp_path / "cache")}
    out = str(tmp_path / "out.wav")
    plain = subprocess.run([sys.executable, "-m", "editor", "convert", str(bad), out], capture_output=True,
                           text=True, cwd=ROOT, env=env)
    debug = subprocess.run([sys.executable, "-m", "editor", "--debug", "convert", str(bad), out],
                           capture_output=True, text=True, cwd=ROOT, env=env)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "AudioFileError" in debug.stderr


# --------------------------------------------------------------------------- permissions (as an unprivileged user)


def _as_nobody() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not available to drop root privileges")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_folder():
    """A folder any user can enter (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="seedwave-perm-"))
    d.chmod(0o755)
    (d / "cache").mkdir(mode=0o777)
    (d / "cache").chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _run_unprivileged(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEEDWAVE_CACHE": str(folder / "cache"), "HOME": str(folder / "cache"),
           "NUMBA_CACHE_DIR": str(folder / "cache"), "XDG_CONFIG_HOME": str(folder / "cache")}
    cmd = [*_as_nobody(), sys.executable, "-m", "editor", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if "Permission denied" in r.stderr and "Traceback" in r.stderr and "site-packages" in r.stderr:
        pytest.skip("the unprivileged user cannot read the Python environment")
    return r


def test_unreadable_file(open_folder):
    secret = open_folder / "secret.wav"
    sf.write(str(secret), tone(0.5).T, RATE)
    secret.chmod(0o600)
    r = _run_unprivileged(open_folder, "info", str(secret))
    assert r.returncode == 2
    assert "permission denied" in assert_one_error_line(r.stderr, secret)


def test_unwritable_output_folder(open_folder):
    src = open_folder / "src.wav"
    sf.write(str(src), tone(0.5).T, RATE)
    src.chmod(0o644)
    locked = open_folder / "locked"
    locked.mkdir(mode=0o755)
    r = _run_unprivileged(open_folder, "convert", str(src), str(locked / "out.flac"))
    assert r.returncode == 2
    assert "permission denied" in assert_one_error_line(r.stderr, locked)
    assert list(locked.iterdir()) == []


def test_apply_keeps_the_input_sample_format_and_says_what_it_wrote(tmp_path, capsys):
    src = tmp_path / "in16.wav"
    rate = 16000
    t = np.arange(rate // 2) / rate
    sf.write(src, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, subtype="PCM_16")
    out = tmp_path / "out.wav"
    assert main(["apply", "denoise", str(src), str(out), "--set", "engine=spectral", "-q"]) == 0
    assert sf.info(out).subtype == "PCM_16"
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}: WAV PCM_16, 16000 Hz, mono, 0:00.500")
    out2 = tmp_path / "out24.flac"
    assert main(["apply", "denoise", str(src), str(out2), "--set", "engine=spectral", "--bits", "24", "-q"]) == 0
    assert sf.info(out2).subtype == "PCM_24"


def test_demo_writes_a_project_that_render_reads(tmp_path, capsys):
    out = tmp_path / "demo.seedwave"
    assert main(["demo", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: the demo project, 5 tracks")
    mix = tmp_path / "mix.wav"
    assert main(["render", str(out), str(mix), "--end", "2", "-q"]) == 0
    data, rate = sf.read(mix)
    assert rate == 44100 and data.shape == (88200, 2) and np.abs(data).max() > 0.01


# -- seedwave models ---------------------------------------------------------------------------


@pytest.fixture
def catalogued_model(tmp_path, monkeypatch):
    """A model file declared by an effect in the real registry, and the model folder to use."""
    import hashlib

    from editor.effects.base import Effect, ModelSpec
    from editor.effects.registry import registry

    data = np.random.default_rng(5).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    spec = ModelSpec("cli_test_model", "cli-test-model.bin", hashlib.sha256(data).hexdigest(), len(data))

    class _UsesAModel(Effect):
        id = "cli_test_uses_a_model"
        title = "Uses a model"
        models = (spec,)

    registry().ids()  # loaded before the test adds its effect
    monkeypatch.setitem(registry()._classes, _UsesAModel.id, _UsesAModel)
    folder = tmp_path / "models"
    monkeypatch.setenv("SEEDWAVE_MODELS", str(folder))
    src = tmp_path / "downloaded.bin"
    src.write_bytes(data)
    return spec, src, folder


def test_models_list_import_and_verify(capsys, tmp_path, catalogued_model):
    spec, src, folder = catalogued_model
    code, out, _ = run_cli(capsys, "models", "list")
    row = next(line for line in out.splitlines() if line.startswith("cli_test_model "))
    assert code == 0 and "not installed" in row and "0.2 MB" in row and row.endswith(str(folder / spec.filename))

    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(src.read_bytes()[:-1] + b"\0")
    code, out, err = run_cli(capsys, "models", "import", wrong, "--model", "cli_test_model")
    assert code == 2 and "nothing was installed" in assert_one_error_line(err, wrong)
    assert not folder.exists()

    code, out, err = run_cli(capsys, "models", "import", wrong, "--model", "no_such_model")
    assert code == 2 and "no model named 'no_such_model'" in err and len(err.strip().splitlines()) == 1

    code, out, err = run_cli(capsys, "models", "import", src, "--model", "cli_test_model", "-q")
    assert code == 0 and err == "" and f"as cli_test_model: {folder / spec.filename}" in out
    assert (folder / spec.filename).read_bytes() == src.read_bytes()
    code, out, _ = run_cli(capsys, "models", "list")
    assert re.search(r"^cli_test_model\s+installed\s+0\.2 MB", out, re.MULTILINE)

    code, out, err = run_cli(capsys, "models", "verify")
    assert code == 0 and "cli_test_model: ok" in out and err == ""
    code, out, err = run_cli(capsys, "models", "verify", src, wrong)
    assert code == 2 and f"{src}: ok, cli_test_model" in out
    assert "is not a model file Seedwave knows" in assert_one_error_line(err, wrong)

    # Damage the installed copy without changing its size: verify hashes again and says so.
    installed = folder / spec.filename
    installed.write_bytes(wrong.read_bytes())
    code, out, err = run_cli(capsys, "models", "verify")
    assert code == 2 and "is damaged" in assert_one_error_line(err, installed)


def test_info_reports_a_file_with_no_frames_as_valid(capsys, tmp_path):
    path = tmp_path / "none.wav"
    sf.write(str(path), np.zeros((0, 2), np.float32), RATE, subtype="PCM_24")
    code, out, err = run_cli(capsys, "info", path)
    assert code == 0 and err == ""
    assert "duration:    00:00:00.000 (0 frames)" in out and "channels:    2" in out and "peak:        -inf" in out
