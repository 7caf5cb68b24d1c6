"""Classic effects (plugins/classic): what a user hears, measured on real audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from editor.cli import main
from editor.core import edits
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.effects.base import EffectContext, EffectError
from editor.effects.presets import PresetStore
from editor.effects.registry import registry
from editor.effects.runner import run_on_array
from editor.jobs import effect_job as ej

from .audiogen import noise, sines, write

RATE = 48000
CLASSIC = ("eq", "compressor", "limiter", "gate", "reverb", "delay", "chorus", "highpass", "lowpass",
           "pitch", "tempo", "declick", "declip", "dehum", "noisereduce")


def run(effect_id: str, audio: np.ndarray, rate: int = RATE, **params) -> tuple[np.ndarray, dict, list[str]]:
    res = run_on_array(registry().get(effect_id), audio, rate, params)
    return res.audio, res.provenance, res.warnings


def tone(freq: float, seconds: float = 1.0, amp: float = 0.2, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t))[None].astype(np.float32)


def level_at(x: np.ndarray, freq: float, rate: int = RATE) -> float:
    """dB level of the component at ``freq`` (Hann-windowed spectrum peak)."""
    mono = x.mean(axis=0)
    spec = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    f = np.fft.rfftfreq(len(mono), 1 / rate)
    near = np.abs(f - freq) <= 3 * rate / len(mono)
    return float(20 * np.log10(spec[near].max() + 1e-12))


def f0(x: np.ndarray, rate: int = RATE, lo: float = 50.0, hi: float = 2000.0) -> float:
    """Frequency of the strongest spectral peak, parabolic-interpolated."""
    mono = x.mean(axis=0)
    n = len(mono)
    spec = np.abs(np.fft.rfft(mono * np.hanning(n), 8 * n))
    f = np.fft.rfftfreq(8 * n, 1 / rate)
    band = (f >= lo) & (f <= hi)
    i = int(np.flatnonzero(band)[np.argmax(spec[band])])
    a, b, c = np.log(spec[i - 1:i + 2])
    return float(f[i] + 0.5 * (a - c) / (a - 2 * b + c) * (f[1] - f[0]))


def cents(a: float, b: float) -> float:
    return float(1200 * np.log2(a / b))


def snr(ref: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref ** 2) / np.sum((ref - x) ** 2)))


# --------------------------------------------------------------------------- schema, presets, errors


def test_every_classic_effect_is_registered_with_a_valid_schema(tmp_path):
    ids = set(registry().ids())
    assert set(CLASSIC) <= ids, registry().errors
    store = PresetStore(tmp_path)
    for eid in CLASSIC:
        cls = type(registry().get(eid))
        for p in cls.params:
            assert p.coerce(p.default) == p.default, (eid, p.name)
            assert p.help, (eid, p.name)
        store.save(cls, "mine", {})
        values, notes = store.load(cls, "mine")
        assert values == cls.resolve_params({}) and not notes


def test_out_of_range_names_the_parameter_and_its_range():
    with pytest.raises(EffectError, match=r"band2_gain must be between -24 and 24 dB \(got 30\)"):
        run("eq", tone(1000, 0.1), band2_gain=30)
    with pytest.raises(EffectError, match=r"stretch must be between 0.25 and 4"):
        run("tempo", tone(1000, 0.1), stretch=9)


def test_cli_apply_with_set_and_one_line_errors(tmp_path, capsys):
    src = write(tmp_path / "in.wav", np.tile(tone(220, 1.0), (2, 1)))
    out = tmp_path / "out.wav"
    assert main(["apply", "tempo", str(src), str(out), "--set", "stretch=1.5"]) == 0
    y, rate = sf.read(out)
    assert rate == RATE and y.shape == (int(1.5 * RATE), 2)
    assert main(["apply", "highpass", str(src), str(out), "--set", "cutoff=5"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "seedwave: error: cutoff must be between 10 and 22000 Hz (got 5)"
    assert main(["apply", "noisereduce", str(src), str(out)]) != 0
    assert "profile_start" in capsys.readouterr().err


# --------------------------------------------------------------------------- EQ and filters


def test_eq_boost_raises_its_band_by_the_gain_and_leaves_others():
    x = tone(100, 1.0) + tone(1000, 1.0) + tone(8000, 1.0)
    y, prov, _ = run("eq", x, band3_freq=1000, band3_gain=9.0, band3_q=2.0)
    assert level_at(y, 1000) - level_at(x, 1000) == pytest.approx(9.0, abs=0.3)
    assert abs(level_at(y, 100) - level_at(x, 100)) < 0.3
    assert abs(level_at(y, 8000) - level_at(x, 8000)) < 0.3
    assert prov["effect"] == "eq" and prov["params"]["band3_gain"] == 9.0


def test_eq_response_curve_matches_a_sweep_through_the_effect():
    from seedwave_plugins.classic import eq_response, response_curve

    params = {"low_cut_slope": "24", "low_cut": 60.0, "band1_gain": 4.0, "band2_gain": -8.0, "band2_q": 4.0,
              "band4_type": "peak", "band4_gain": 6.0, "band5_type": "high_shelf", "band5_gain": -5.0,
              "band6_type": "off", "band6_gain": 12.0, "high_cut_slope": "12", "high_cut": 15000.0,
              "output_gain": -1.5}
    rate = 44100
    n = 1 << 16
    t = np.arange(n) / rate
    f1, f2 = 10.0, 21000.0
    k = np.log(f2 / f1)
    sweep = (0.5 * np.sin(2 * np.pi * f1 * n / rate / k * (np.exp(t * k * rate / n) - 1)))[None].astype(np.float32)
    y, _, _ = run("eq", sweep, rate, **params)
    f = np.fft.rfftfreq(n, 1 / rate)
    measured = 20 * np.log10(np.abs(np.fft.rfft(y[0])) / np.abs(np.fft.rfft(sweep[0])))
    band = (f > 30) & (f < 18000)
    predicted = eq_response(params, f[band], rate)
    assert np.max(np.abs(measured[band] - predicted)) < 0.25
    hz, db = response_curve(params, rate, points=128)
    assert len(hz) == len(db) == 128 and hz[0] == 20.0 and db[0] < -12  # the low cut shows in the curve


@pytest.mark.parametrize("slope, min_drop", [("12", 20.0), ("24", 35.0), ("48", 60.0)])
def test_highpass_removes_a_low_tone_and_keeps_the_rest(slope, min_drop):
    x = tone(40, 1.0) + tone(2000, 1.0)
    y, _, _ = run("highpass", x, cutoff=320, slope=slope)
    assert level_at(x, 40) - level_at(y, 40) > min_drop
    assert abs(level_at(y, 2000) - level_at(x, 2000)) < 0.5


def test_lowpass_removes_a_high_tone_and_is_3_db_down_at_the_cutoff():
    x = tone(300, 1.0) + tone(12000, 1.0)
    y, _, _ = run("lowpass", x, cutoff=2000, slope="24")
    assert level_at(x, 12000) - level_at(y, 12000) > 40
    assert abs(level_at(y, 300) - level_at(x, 300)) < 0.5
    z, _, _ = run("lowpass", tone(2000, 1.0), cutoff=2000, slope="48")
    assert level_at(z, 2000) - level_at(tone(2000, 1.0), 2000) == pytest.approx(-3.0, abs=0.2)


# --------------------------------------------------------------------------- dynamics


def test_compressor_narrows_the_gap_between_loud_and_quiet():
    x = np.concatenate([tone(440, 0.5, 0.02), tone(440, 0.5, 0.6)], axis=1)
    y, _, _ = run("compressor", x, threshold=-30, ratio=8, attack=1, release=50)

    def rms(a):
        return 20 * np.log10(np.sqrt(np.mean(a ** 2)))

    gap_in = rms(x[:, 30000:]) - rms(x[:, :20000])
    gap_out = rms(y[:, 30000:]) - rms(y[:, :20000])
    assert gap_in - gap_out > 15


def test_limiter_holds_peaks_at_the_ceiling_without_moving_the_audio():
    x = np.tile(sines((110, 220, 660), 1.0, RATE, amp=0.25), (2, 1))
    y, _, _ = run("limiter", x, input_gain=12, ceiling=-1.0)
    assert np.max(np.abs(y)) <= 10 ** (-1.0 / 20) + 1e-3
    assert np.max(np.abs(y)) > 0.85  # louder than the input's 0.5-0.75 peaks
    lag = np.argmax(np.correlate(y[0, 10000:12000], x[0, 10000 - 300:12000 + 300], "valid")) - 300
    assert lag == 0
    lim = registry().get("limiter")
    assert lim.board_latency({"lookahead": 5.0}, RATE) == 240


def test_gate_silences_the_noise_between_notes():
    quiet = noise(0.5, RATE, 1, amp=0.003, seed=1)
    loud = tone(330, 0.5, 0.3) + quiet
    x = np.concatenate([loud, quiet, loud], axis=1)
    y, _, _ = run("gate", x, threshold=-30, ratio=50, release=20)
    mid = slice(int(0.65 * RATE), int(0.95 * RATE))
    drop = 20 * np.log10(np.std(x[:, mid]) / (np.std(y[:, mid]) + 1e-12))
    assert drop > 20
    assert abs(level_at(y[:, 5000:20000], 330) - level_at(x[:, 5000:20000], 330)) < 1.0


# --------------------------------------------------------------------------- space


def test_reverb_leaves_a_tail_and_delay_an_echo_at_its_time():
    x = np.zeros((2, RATE), np.float32)
    x[:, :2400] = tone(500, 0.05, 0.5)
    y, _, _ = run("reverb", x, room_size=80, mix=40)
    assert np.sqrt(np.mean(y[:, 12000:24000] ** 2)) > 1e-3 > np.sqrt(np.mean(x[:, 12000:24000] ** 2))
    imp = np.zeros((1, RATE), np.float32)
    imp[0, 1000] = 1.0
    z, _, _ = run("delay", imp, time=250, feedback=0, mix=50)
    peaks = np.flatnonzero(np.abs(z[0]) > 0.2)
    assert list(peaks) == [1000, 1000 + RATE // 4]


def test_chorus_changes_the_sound_and_mix_zero_keeps_it():
    x = tone(440, 0.5)
    y, _, _ = run("chorus", x, mix=50, depth=50)
    assert snr(x, y) < 20
    dry, _, _ = run("chorus", x, mix=0)
    np.testing.assert_allclose(dry, x, atol=1e-5)


def test_boards_streamed_in_small_blocks_match_a_whole_run():
    """The live renderer streams make_board() with reset=False: block edges are inaudible."""
    x = np.tile(sines((110, 440, 3000), 1.0, RATE, amp=0.2), (2, 1)) + noise(1.0, RATE, 2, amp=0.02)
    for eid, params in (("eq", {"band2_gain": 6.0, "low_cut_slope": "12"}), ("compressor", {"threshold": -30}),
                        ("reverb", {}), ("delay", {"time": 100})):
        effect = registry().get(eid)
        whole, _, _ = run(eid, x, **params)
        board = effect.make_board(params, RATE)
        parts = [board.process(x[:, a:a + 1024], float(RATE), reset=False) for a in range(0, x.shape[1], 1024)]
        np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, atol=1e-5, err_msg=eid)


# --------------------------------------------------------------------------- pitch and tempo


@pytest.mark.parametrize("semitones", [12.0, -5.0])
def test_pitch_moves_the_pitch_and_keeps_the_duration(semitones):
    x = sines((220.0, 440.0, 660.0), 1.0, RATE, amp=0.15)
    y, _, _ = run("pitch", x, semitones=semitones)
    assert y.shape == x.shape
    mid = slice(RATE // 4, 3 * RATE // 4)
    assert abs(cents(f0(y[:, mid], hi=300 * 2 ** (semitones / 12)), 220 * 2 ** (semitones / 12))) < 10


@pytest.mark.parametrize("stretch", [1.25, 0.8])
def test_tempo_changes_the_duration_and_keeps_the_pitch(stretch):
    x = sines((220.0, 440.0), 1.0, RATE, amp=0.2)
    y, prov, _ = run("tempo", x, stretch=stretch)
    assert y.shape == (1, round(RATE * stretch))
    mid = slice(y.shape[1] // 4, 3 * y.shape[1] // 4)
    assert abs(cents(f0(y[:, mid], hi=300), 220.0)) < 10
    assert prov["params"]["stretch"] == stretch


def test_tempo_on_a_selection_replaces_it_with_the_longer_audio(_fresh_store):
    store = _fresh_store
    x = np.tile(sines((220.0,), 3.0, RATE, amp=0.2), (2, 1))
    p = Project(sample_rate=RATE)
    p = edits.add_track(p, "T", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 2), 0),
                                 Clip(AudioSeq.from_blocks(store.blocks_from_array(x[:, :RATE]), 2), 4 * RATE)))
    track = p.tracks[0]
    parts = ej.parts_for_range(p, RATE, 2 * RATE, (track.id,))
    effect = registry().get("tempo")
    res = ej.process_parts(p, parts, effect, {"stretch": 1.5}, EffectContext(TaskContext()), store)
    new = ej.apply_in_place(p, res)
    first, second = new.tracks[0].clips
    assert first.length == 3 * RATE + RATE // 2
    assert second.position == 4 * RATE + RATE // 2  # the later clip moved by the growth
    got = first.audio.read(0, first.length)
    np.testing.assert_array_equal(got[:, :RATE], x[:, :RATE])  # audio before the selection untouched
    np.testing.assert_array_equal(got[:, -RATE:], x[:, -RATE:])  # and after it
    assert res.provenance["effect"] == "tempo"


# --------------------------------------------------------------------------- repair


def _music(seconds: float = 1.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = sum(a * np.sin(2 * np.pi * f * t + i) for i, (f, a) in
            enumerate(((196, 0.2), (294, 0.1), (392, 0.08), (587, 0.04), (880, 0.03))))
    x = x * (0.7 + 0.3 * np.sin(2 * np.pi * 1.3 * t)) + 0.001 * np.random.default_rng(3).standard_normal(len(t))
    return x[None].astype(np.float32)


def test_declick_removes_clicks_and_leaves_clean_audio_bit_identical():
    x = _music(1.0)
    clean_out, prov, _ = run("declick", x)
    np.testing.assert_array_equal(clean_out, x)
    assert prov["declick_samples_repaired"] == 0
    rng = np.random.default_rng(7)
    y = x.copy()
    for p in rng.integers(2000, x.shape[1] - 2000, 15):
        w = int(rng.integers(1, 12))
        y[0, p:p + w] += rng.choice([-1, 1]) * 0.4 * np.exp(-np.arange(w) / 4)
    z, prov, _ = run("declick", y)
    assert snr(x, z) - snr(x, y) > 10
    assert prov["declick_samples_repaired"] > 15
    untouched = z == y
    assert untouched.mean() > 0.99  # only the clicks' samples changed


def test_declip_finds_the_level_and_rebuilds_peaks():
    x = _music(0.5)
    level = 0.6 * np.abs(x).max()
    y = np.clip(x, -level, level)
    z, prov, _ = run("declip", y, output_gain=0.0)
    facts = prov["declip"]
    assert facts["ch1_clip_level_pos"] == pytest.approx(level, rel=1e-3)
    assert facts["ch1_clipped_percent"] > 1
    assert snr(x, z) - snr(x, y) > 8
    reliable = np.abs(y) < level * 0.999
    np.testing.assert_array_equal(z[reliable], y[reliable])
    assert np.abs(z).max() > level  # peaks rebuilt above the old clipping level


@pytest.mark.parametrize("mains", [50, 60])
def test_dehum_detects_50_or_60_hz_and_removes_the_hum(mains):
    rate = 44100
    t = np.arange(3 * rate) / rate
    music = _music(3.0, rate)[0]
    hum = sum(0.03 / k * np.sin(2 * np.pi * (mains + 0.02) * k * t + k) for k in range(1, 8))
    y = (music + hum)[None].astype(np.float32)
    z, prov, _ = run("dehum", y, rate)
    assert prov["dehum"]["mains"] == mains
    assert abs(prov["dehum"]["base_hz"] - (mains + 0.02)) < 0.01
    assert snr(music[None], z) - snr(music[None], y) > 15
    assert level_at(z, 3 * mains, rate) - level_at(y, 3 * mains, rate) < -20


def test_dehum_leaves_audio_without_hum_alone():
    x = _music(2.0)
    z, prov, warnings = run("dehum", x)
    np.testing.assert_array_equal(z, x)
    assert prov["dehum"] == "no hum found" and any("no mains hum" in w for w in warnings)


def test_noisereduce_with_a_profile_lowers_the_noise_floor():
    from seedwave_plugins.classic import capture_noise_profile

    n = noise(2.0, RATE, 1, amp=0.02, seed=5)
    signal = np.zeros_like(n)
    signal[:, RATE:] = tone(440, 1.0, 0.3)
    y = signal + n
    z, prov, _ = run("noisereduce", y, reduction=24, profile_start=0.1, profile_end=0.9)
    floor = slice(int(0.2 * RATE), int(0.8 * RATE))
    assert 20 * np.log10(np.std(y[:, floor]) / np.std(z[:, floor])) > 15
    assert abs(level_at(z[:, RATE:], 440) - level_at(y[:, RATE:], 440)) < 1.0
    assert prov["noise_profile"] == "0.1-0.9 s"
    # the editor's way: a profile captured from a noise-only selection, applied to another stretch
    profile = capture_noise_profile(y[:, : RATE // 2], RATE)
    assert profile.startswith("nr1:48000:") and len(profile) < 6000
    w, prov2, _ = run("noisereduce", y[:, RATE:], reduction=24, profile=profile)
    assert prov2["noise_profile"] == "captured"
    assert abs(level_at(w, 440) - level_at(y[:, RATE:], 440)) < 1.0
    effect = registry().get("noisereduce")
    assert "profile=" not in effect.describe_run(effect.resolve_params({"profile": profile, "reduction": 24}))
    with pytest.raises(EffectError, match="profile: not a noise profile"):
        run("noisereduce", y, profile="garbage")


def test_factory_presets_are_valid_parameter_sets():
    seen = 0
    for eid in CLASSIC:
        cls = type(registry().get(eid))
        for name, values in getattr(cls, "factory_presets", {}).items():
            assert cls.resolve_params(values), (eid, name)
            seen += 1
    assert seen >= 10


def test_form_hooks_eq_curve_and_noise_profile_from_selection():
    """What the host's parameter form uses: the EQ's drawn curve and "Use selection" for the profile."""
    from seedwave_plugins.classic import response_curve
    from seedwave_plugins.classic.noiseprofile import NoiseProfile

    eq = type(registry().get("eq"))
    hz, db = eq.curve({"band3_gain": 6.0, "band3_freq": 1000.0}, RATE)
    ref_hz, ref_db = response_curve({"band3_gain": 6.0, "band3_freq": 1000.0}, RATE)
    np.testing.assert_array_equal(hz, ref_hz)
    np.testing.assert_array_equal(db, ref_db)
    assert db[np.argmin(np.abs(hz - 1000.0))] == pytest.approx(6.0, abs=0.05)
    nr = type(registry().get("noisereduce"))
    assert "profile" in nr.selection_params
    text = nr.from_selection("profile", noise(0.5, RATE, 2, amp=0.01), RATE)
    assert NoiseProfile.decode(text).sample_rate == RATE
    with pytest.raises(EffectError, match="too short"):
        nr.from_selection("profile", noise(0.01, RATE, 1), RATE)
