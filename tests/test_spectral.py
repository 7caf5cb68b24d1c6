"""Spectral effects (plugins/spectral): gain, repair, any effect inside a selection, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from editor.core.spectral_selection import SpectralSelection
from editor.effects.base import EffectError
from editor.effects.registry import registry
from editor.effects.runner import run_on_array

SR = 16000


def _music(seconds: float = 8.0, seed: int = 0) -> np.ndarray:
    """Stereo notes with harmonics, a repeating two-bar pattern (so patches recur)."""
    n = int(SR * seconds)
    t = np.arange(n) / SR
    out = np.zeros(n)
    notes = (196.0, 247.0, 294.0, 262.0)
    step = int(0.25 * SR)
    for i in range(n // step):
        f = notes[i % 4]
        seg = slice(i * step, (i + 1) * step)
        env = np.exp(-np.arange(step) / SR * 4.0)
        for h in range(1, 12):
            out[seg] += 0.12 / h * np.sin(2 * np.pi * f * h * t[seg]) * env
    rng = np.random.default_rng(seed)
    out += 0.002 * rng.standard_normal(n)
    return np.stack([out, 0.8 * out]).astype(np.float32)


def _tone(n: int, f: float, a: float, b: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(n) / SR
    x = level * np.sin(2 * np.pi * f * t) * ((t >= a) & (t < b))
    return np.stack([x, x]).astype(np.float32)


def _sdr(ref: np.ndarray, est: np.ndarray, a: float, b: float) -> float:
    s = slice(int(a * SR), int(b * SR))
    return float(10 * np.log10(np.sum(ref[:, s] ** 2) / np.sum((ref[:, s] - est[:, s]) ** 2)))


def _band_db(x: np.ndarray, lo: float, hi: float, a: float, b: float) -> float:
    seg = x[0, int(a * SR):int(b * SR)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size))) ** 2
    f = np.fft.rfftfreq(seg.size, 1 / SR)
    return float(10 * np.log10(spec[(f >= lo) & (f <= hi)].sum() + 1e-20))


def _changed_span(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    idx = np.flatnonzero(np.any(x != y, axis=0))
    return idx[0] / SR, idx[-1] / SR


def test_spectral_effects_are_registered_with_selection_params():
    reg = registry()
    for eid in ("spectral-gain", "spectral-repair", "spectral-apply"):
        names = {p.name for p in reg.get(eid).params}
        assert {"start", "end", "low_hz", "high_hz", "edge_ms", "edge_hz", "selection"} <= names


def test_gain_minus_inf_removes_a_tone_in_the_box_and_leaves_the_rest_bit_exact():
    x = _music(4.0) * 0.3
    x = x + _tone(x.shape[1], 3000.0, 1.0, 2.0, 0.2) + _tone(x.shape[1], 800.0, 1.0, 2.0, 0.05)
    eff = registry().get("spectral-gain")
    y = run_on_array(eff, x, SR, {"gain_db": -120, "start": 1.0, "end": 2.0, "low_hz": 2700,
                                  "high_hz": 3300}).audio
    assert _band_db(x, 2950, 3050, 1.2, 1.8) - _band_db(y, 2950, 3050, 1.2, 1.8) > 60  # the tone is gone
    assert abs(_band_db(x, 700, 900, 1.2, 1.8) - _band_db(y, 700, 900, 1.2, 1.8)) < 0.05  # the other one stays
    a, b = _changed_span(x, y)
    grid_half = 1024 // 2 / SR  # the overlap-add neighbourhood: half a window (plus a hop) either side
    assert a >= 1.0 - grid_half - 0.02 and b <= 2.0 + grid_half + 0.02
    before, after = int((1.0 - grid_half - 0.02) * SR), int((2.0 + grid_half + 0.02) * SR)
    assert np.array_equal(y[:, :before], x[:, :before]) and np.array_equal(y[:, after:], x[:, after:])


def test_gain_soft_edges_change_the_neighbourhood_gradually():
    x = _music(3.0) * 0.3 + _tone(SR * 3, 2000.0, 0.0, 3.0, 0.2)
    eff = registry().get("spectral-gain")
    hard = run_on_array(eff, x, SR, {"gain_db": -40, "start": 1.0, "end": 2.0, "low_hz": 2500,
                                     "high_hz": 4000}).audio
    soft = run_on_array(eff, x, SR, {"gain_db": -40, "start": 1.0, "end": 2.0, "low_hz": 2500,
                                     "high_hz": 4000, "edge_hz": 800}).audio
    # The 2 kHz tone is 500 Hz below the band: the hard box leaves it, the 800 Hz soft edge lowers it partly.
    drop_hard = _band_db(x, 1950, 2050, 1.2, 1.8) - _band_db(hard, 1950, 2050, 1.2, 1.8)
    drop_soft = _band_db(x, 1950, 2050, 1.2, 1.8) - _band_db(soft, 1950, 2050, 1.2, 1.8)
    assert drop_hard < 0.5 and 2.0 < drop_soft < 30.0


def test_gain_rejects_an_empty_band():
    eff = registry().get("spectral-gain")
    with pytest.raises(EffectError, match="band is empty"):
        run_on_array(eff, _music(1.0), SR, {"start": 0.2, "end": 0.5, "low_hz": 3000, "high_hz": 1000})


@pytest.mark.parametrize("engine", ["match", "auto"])
def test_repair_removes_a_tone_better_than_attenuating_the_box(engine):
    clean = _music(8.0)
    noisy = clean + _tone(clean.shape[1], 1400.0, 4.1, 4.9, 0.25)
    box = {"start": 4.0, "end": 5.0, "low_hz": 900.0, "high_hz": 2000.0}
    anchor = run_on_array(registry().get("spectral-gain"), noisy, SR, {"gain_db": -40, **box}).audio
    res = run_on_array(registry().get("spectral-repair"), noisy, SR, {"engine": engine, **box})
    y = res.audio
    s_in, s_anchor, s_rep = (_sdr(clean, v, 4.0, 5.0) for v in (noisy, anchor, y))
    assert s_rep > s_anchor + 3.0 and s_rep > s_in + 10.0
    # Only the region and its overlap-add neighbourhood (half a 64 ms window and a hop) change; the rest is
    # bit-exact.
    reach = 0.05
    a, b = _changed_span(noisy, y)
    assert a > 4.0 - reach and b < 5.0 + reach
    lo, hi = int((4.0 - reach) * SR), int((5.0 + reach) * SR)
    assert np.array_equal(y[:, :lo], noisy[:, :lo]) and np.array_equal(y[:, hi:], noisy[:, hi:])
    assert res.provenance["spectral_repair"]["engine"] == (engine if engine != "auto" else "match")


def test_interpolation_repairs_a_beep_over_a_sustained_chord():
    n = SR * 4
    t = np.arange(n) / SR
    chord = sum(0.1 / h * np.sin(2 * np.pi * f * h * t) for f in (220.0, 277.0, 330.0) for h in (1, 2, 3, 4, 5))
    clean = np.stack([chord, chord]).astype(np.float32)
    noisy = clean + _tone(n, 1200.0, 2.0, 2.15, 0.3)
    box = {"start": 1.95, "end": 2.2, "low_hz": 1000.0, "high_hz": 1400.0}  # four partials of the chord inside
    anchor = run_on_array(registry().get("spectral-gain"), noisy, SR, {"gain_db": -40, **box}).audio
    y = run_on_array(registry().get("spectral-repair"), noisy, SR, {"engine": "interp", **box}).audio
    s_in, s_anchor, s_rep = (_sdr(clean, v, 1.95, 2.2) for v in (noisy, anchor, y))
    assert s_rep > s_anchor + 3.0 and s_rep > s_in + 10.0


def test_repair_takes_are_distinct_and_reproducible():
    from seedwave_plugins.spectral import candidates

    clean = _music(8.0)
    noisy = clean + _tone(clean.shape[1], 1400.0, 4.1, 4.9, 0.25)
    sel = SpectralSelection.box(4.0, 5.0, 900.0, 2000.0)
    takes = candidates(noisy, SR, sel, "match", 3)
    assert len(takes) == 3 and len({t.params["offset_s"] for t in takes}) == 3
    again = candidates(noisy, SR, sel, "match", 3)
    assert all(np.array_equal(p.audio, q.audio) for p, q in zip(takes, again))
    eff = registry().get("spectral-repair")
    y = run_on_array(eff, noisy, SR, {"engine": "match", "take": 1, "start": 4.0, "end": 5.0,
                                      "low_hz": 900.0, "high_hz": 2000.0}).audio
    assert np.array_equal(y, takes[1].apply(noisy))


def test_auto_repair_picks_an_engine_and_says_why():
    from seedwave_plugins.spectral import RepairOptions, candidates

    clean = _music(8.0)
    noisy = clean + _tone(clean.shape[1], 1400.0, 4.1, 4.9, 0.25)
    sel = SpectralSelection.box(4.0, 5.0, 900.0, 2000.0)
    takes = candidates(noisy, SR, sel, "auto", 3, options=RepairOptions(auto_neural=False))
    auto = takes[0].params["auto"]
    assert auto["chose"] == takes[0].engine and set(auto["validation_lsd_db"]) == {"interp", "match"}
    assert _sdr(clean, takes[0].apply(noisy), 4.0, 5.0) > _sdr(clean, noisy, 4.0, 5.0) + 10


def test_neural_repair_trains_on_the_clip_and_removes_the_tone():
    clean = _music(6.0)
    noisy = clean + _tone(clean.shape[1], 1400.0, 3.1, 3.6, 0.25)
    res = run_on_array(registry().get("spectral-repair"), noisy, SR,
                       {"engine": "neural", "neural_steps": 40, "start": 3.0, "end": 3.7, "low_hz": 1200.0,
                        "high_hz": 1600.0})
    assert _sdr(clean, res.audio, 3.0, 3.7) > _sdr(clean, noisy, 3.0, 3.7) + 10
    assert res.provenance["spectral_repair"]["steps"] == 40


def test_a_harmonic_selection_reaches_the_effect_as_a_parameter():
    from seedwave_plugins.spectral import selection_params

    from editor.core.spectral_track import track_harmonic

    clean = _music(4.0) * 0.2
    n = clean.shape[1]
    t = np.arange(n) / SR
    f0 = 500.0 + 100.0 * t  # a gliding whistle with two partials
    ph = 2 * np.pi * np.cumsum(f0) / SR
    whistle = (0.2 * np.sin(ph) + 0.1 * np.sin(2 * ph)) * ((t > 1.0) & (t < 3.0))
    noisy = clean + np.stack([whistle, whistle]).astype(np.float32)
    h = track_harmonic(noisy, SR, 2.0, 700.0, n_harmonics=2)
    sel = SpectralSelection().add(h)
    params = {"gain_db": -120, **selection_params(sel)}
    y = run_on_array(registry().get("spectral-gain"), noisy, SR, params).audio
    assert _sdr(clean, y, 1.2, 2.8) > _sdr(clean, noisy, 1.2, 2.8) + 10


def test_gui_path_span_and_params_give_the_same_audio_as_the_whole_track():
    from seedwave_plugins.spectral import processing_span, selection_params

    track = _music(6.0) * 0.3 + _tone(SR * 6, 3000.0, 3.0, 3.5, 0.2)
    sel = SpectralSelection.box(3.0, 3.5, 2800.0, 3200.0, edge_s=0.02, edge_hz=50.0)  # in track seconds
    a, b = processing_span(sel, SR, track.shape[1], "spectral-gain")
    assert int(2.9 * SR) < a < int(2.96 * SR) and int(3.54 * SR) < b < int(3.6 * SR)
    eff = registry().get("spectral-gain")
    part = run_on_array(eff, track[:, a:b], SR, {"gain_db": -120, **selection_params(sel.shifted(-a / SR))}).audio
    spliced = track.copy()
    spliced[:, a:b] = part
    whole = run_on_array(eff, track, SR, {"gain_db": -120, **selection_params(sel)}).audio
    assert np.max(np.abs(spliced - whole)) < 1e-6
    assert _band_db(track, 2950, 3050, 3.1, 3.4) - _band_db(spliced, 2950, 3050, 3.1, 3.4) > 40


def test_any_effect_inside_the_selection_changes_only_that_band():
    rng = np.random.default_rng(3)
    n = SR * 3
    hiss = (0.05 * rng.standard_normal((1, n))).astype(np.float32)
    t = np.arange(n) / SR
    x = np.repeat(hiss + (0.2 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32), 2, axis=0)
    eff = registry().get("spectral-apply")
    res = run_on_array(eff, x, SR, {"effect": "denoise", "effect_params": "engine=spectral",
                                    "start": 1.0, "end": 2.0, "low_hz": 3000.0, "high_hz": 6000.0})
    y = res.audio
    # Denoised inside the band, untouched below it (the 440 Hz tone and the hiss under 3 kHz stay).
    assert _band_db(x, 3500, 5500, 1.2, 1.8) - _band_db(y, 3500, 5500, 1.2, 1.8) > 3.0
    assert abs(_band_db(x, 300, 2500, 1.2, 1.8) - _band_db(y, 300, 2500, 1.2, 1.8)) < 0.1
    a, b = _changed_span(x, y)
    assert a > 1.0 - 0.1 and b < 2.0 + 0.1
    assert res.provenance["inner_effect"]["effect"] == "denoise"
    with pytest.raises(EffectError, match="effect"):
        run_on_array(eff, x, SR, {"effect": "no-such-effect", "start": 1.0, "end": 2.0})


def test_cli_spectral_gain_and_repair(tmp_path):
    from editor.cli import main

    clean = _music(6.0)
    noisy = clean + _tone(clean.shape[1], 1400.0, 3.1, 3.9, 0.25)
    src = tmp_path / "in.wav"
    sf.write(src, noisy.T, SR, subtype="FLOAT")
    out_g, out_r = tmp_path / "gain.wav", tmp_path / "rep.wav"
    assert main(["apply", "spectral-gain", str(src), str(out_g), "--start", "3.0", "--end", "4.0",
                 "--low-hz", "1200", "--high-hz", "1600", "--set", "gain_db=-30", "-q"]) == 0
    assert main(["apply", "spectral-repair", str(src), str(out_r), "--start", "3.0", "--end", "4.0",
                 "--low-hz", "1200", "--high-hz", "1600", "--set", "engine=interp", "-q"]) == 0
    g, _ = sf.read(out_g, dtype="float32", always_2d=True)
    r, _ = sf.read(out_r, dtype="float32", always_2d=True)
    for y in (g.T, r.T):
        assert _sdr(clean, y, 3.0, 4.0) > _sdr(clean, noisy, 3.0, 4.0) + 10
        assert np.array_equal(y[:, :int(2.0 * SR)], noisy[:, :int(2.0 * SR)])
    # Any shape, as JSON in a file: a brush stroke along the tone.
    from editor.core.spectral_selection import Stroke

    shape = tmp_path / "stroke.json"
    shape.write_text(SpectralSelection().add(Stroke(((3.1, 1400.0), (3.9, 1400.0)), 0.05, 150.0)).to_json())
    out_s = tmp_path / "stroke.wav"
    assert main(["apply", "spectral-gain", str(src), str(out_s), "--set", f"selection=@{shape}",
                 "--set", "gain_db=-120", "-q"]) == 0
    st, _ = sf.read(out_s, dtype="float32", always_2d=True)
    assert _sdr(clean, st.T, 3.1, 3.9) > _sdr(clean, noisy, 3.1, 3.9) + 10
    a, b = _changed_span(noisy, st.T)
    assert a > 3.0 and b < 4.0
    assert main(["apply", "spectral-repair", str(src), str(tmp_path / "x.wav"), "--start", "4.0", "--end",
                 "3.0", "-q"]) == 2  # one clear line, not a traceback
