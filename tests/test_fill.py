"""Generative fill and extend (issue 7): what a user would hear, measured."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from scipy import signal
from seedwave_plugins.fill import ExtendEffect, FillEffect, FillOptions, candidates, extend_candidates
from seedwave_plugins.fill.metrics import boundary_discontinuity, gap_snr, log_spectral_distance

from editor.core.errors import Cancelled
from editor.core.task import TaskContext
from editor.effects.base import EffectError
from editor.effects.registry import registry
from editor.effects.runner import run_on_array

from .audiogen import have_espeak, sines, speech

RATE = 48000


def drum_bass_loop(seconds: float = 8.0, rate: int = RATE, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """A two-bar drum and bass pattern at 120 bpm: kick, snare, hats (fresh noise each hit), a saw bass line."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    y = np.zeros(n)
    beat = 60.0 / bpm

    def add(at: float, sig: np.ndarray) -> None:
        i = int(at * rate)
        if i < n:
            m = min(sig.size, n - i)
            y[i:i + m] += sig[:m]

    t = np.arange(int(0.3 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 * t + 2 * (1 - np.exp(-t * 30)))) * np.exp(-t * 12) * 0.7
    notes = [55.0, 55.0, 65.41, 73.42, 55.0, 55.0, 82.41, 73.42]
    i, at = 0, 0.0
    while at < seconds:
        add(at, kick)
        if i % 2:
            ts = np.arange(int(0.15 * rate)) / rate
            add(at, rng.standard_normal(ts.size) * np.exp(-ts * 25) * 0.35)
        for h in (0.0, 0.5):
            ts = np.arange(int(0.05 * rate)) / rate
            add(at + h * beat, np.diff(rng.standard_normal(ts.size + 1)) * np.exp(-ts * 80) * 0.08)
        tb = np.arange(int(beat * 0.9 * rate)) / rate
        saw = sum(np.sin(2 * np.pi * k * notes[i % 8] * tb) / k for k in range(1, 7))  # band-limited saw
        add(at, 0.25 * saw * np.minimum(1, tb * 200) * np.exp(-tb * 2))
        i += 1
        at += beat
    return y.astype(np.float32)[None, :]


def gapped(x: np.ndarray, a: int, b: int) -> np.ndarray:
    y = x.copy()
    y[:, a:b] = 0.0
    return y


@pytest.fixture(scope="module")
def loop() -> np.ndarray:
    return drum_bass_loop()


QUICK_NEURAL = FillOptions(neural_steps=25)


def test_ar_fills_a_20ms_gap_in_sinusoids():
    x = sines(seconds=1.0, rate=RATE)
    a = RATE // 2
    b = a + int(0.020 * RATE)
    y = gapped(x, a, b)
    take = candidates(y, RATE, a / RATE, b / RATE, "ar")[0]
    out = take.apply(y)
    assert take.engine == "ar"
    assert gap_snr(x, out, a, b) >= 20.0
    assert gap_snr(x, y, a, b) < 1.0  # the gap really was a hole


@pytest.mark.parametrize("inset", [1, 3, 40])
def test_a_selection_a_little_inside_a_dropout_still_fills_all_of_it(inset):
    """Selecting a dropout by eye lands a few samples inside it: the zeros left at
    the edges must be filled too, not continued as if they were the signal."""
    x = sines(seconds=1.0, rate=RATE)
    a = RATE // 2
    b = a + int(0.020 * RATE)
    y = gapped(x, a, b)
    take = candidates(y, RATE, (a + inset) / RATE, (b - inset) / RATE, "ar")[0]
    out = take.apply(y)
    assert take.start <= a and take.stop >= b
    assert gap_snr(x, out, a, b) >= 20.0


def test_a_pause_next_to_a_short_selection_is_left_alone():
    x = sines(seconds=1.0, rate=RATE)
    pause0, pause1 = RATE // 4, RATE // 2  # a quarter second of true silence
    x[:, pause0:pause1] = 0.0
    a, b = pause1 + 100, pause1 + 300
    take = candidates(x, RATE, a / RATE, b / RATE, "ar")[0]
    assert take.start >= pause1 - int(0.02 * RATE)  # not grown back across the pause


def test_match_rebuilds_a_gap_in_a_drum_and_bass_loop(loop):
    a = int(3.37 * RATE)  # over a kick and a snare
    b = a + int(0.25 * RATE)
    y = gapped(loop, a, b)
    out = candidates(y, RATE, a / RATE, b / RATE, "match")[0].apply(y)
    n = b - a
    r = (np.arange(n) + 0.5) / n
    xfade = y.copy()
    xfade[:, a:b] = y[:, a - n:a] * (1 - r) + y[:, b:b + n] * r
    lsd = log_spectral_distance(loop, out, RATE, a, b)
    assert lsd <= log_spectral_distance(loop, y, RATE, a, b) - 5.0
    assert lsd <= log_spectral_distance(loop, xfade, RATE, a, b) - 3.0


@pytest.fixture(scope="module")
def chord() -> np.ndarray:
    """Sustained tones with a slow tremolo: smooth, so any hard edge stands out."""
    t = np.arange(4 * RATE) / RATE
    return (sines(seconds=4.0, rate=RATE) * (1.0 + 0.3 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)


@pytest.mark.parametrize("engine", ["ar", "match", "neural"])
def test_no_engine_clicks_at_the_joins(chord, engine):
    a = int(2.13 * RATE)
    b = a + int({"ar": 0.03, "match": 0.3, "neural": 0.15}[engine] * RATE)
    y = gapped(chord, a, b)
    assert boundary_discontinuity(y, y, RATE, a, b) > 5.0  # a hole clicks by this measure
    out = candidates(y, RATE, a / RATE, b / RATE, engine, options=QUICK_NEURAL)[0].apply(y)
    assert boundary_discontinuity(y, out, RATE, a, b) <= 1.0


def test_takes_are_distinct_and_each_is_deterministic(loop):
    a, b = int(4.6 * RATE), int(5.0 * RATE)
    y = gapped(loop, a, b)
    takes = candidates(y, RATE, a / RATE, b / RATE, "match", n_takes=4)
    assert len(takes) >= 3
    assert [t.index for t in takes] == list(range(len(takes)))
    assert all(t.score <= u.score for t, u in zip(takes, takes[1:]))  # ranked
    gaps = [t.apply(y)[:, a:b].astype(np.float64) for t in takes]
    for i in range(len(gaps)):
        for j in range(i + 1, len(gaps)):
            diff = np.sum((gaps[i] - gaps[j]) ** 2) / (np.sum(gaps[i] ** 2) + np.sum(gaps[j] ** 2))
            assert diff > 0.005, f"takes {i} and {j} are the same"
    again = candidates(y, RATE, a / RATE, b / RATE, "match", n_takes=4)
    assert np.array_equal(again[2].audio, takes[2].audio)
    # The effect with take=3 gives exactly what the GUI lists (and auditions) as take 3.
    res = run_on_array(FillEffect(), y, RATE, {"start": a / RATE, "end": b / RATE, "engine": "match", "take": 3})
    assert np.array_equal(res.audio, takes[2].apply(y))
    assert res.provenance["fill"]["take"] == 3
    assert res.provenance["fill"]["engine"] == "match"


def test_stereo_is_filled_from_one_place_for_both_channels(loop):
    # Left: the loop; right: a different mix of the same song (delayed 3 ms, other balance).
    right = np.roll(loop[0], int(0.003 * RATE)) * 0.5 + 0.3 * np.roll(loop[0], 1)
    x = np.stack([loop[0], right.astype(np.float32)])
    a, b = int(3.1 * RATE), int(3.5 * RATE)
    y = gapped(x, a, b)
    take = candidates(y, RATE, a / RATE, b / RATE, "match")[0]
    out = take.apply(y)
    inner = slice(a + int(0.04 * RATE), b - int(0.04 * RATE))  # away from the cross-fades
    shared = int(round(take.params["source_seconds"] * RATE)) + inner.start - a
    for ch in range(2):
        # Where in the clip does this channel's fill come from? The best waveform match over the whole clip.
        got = out[ch, inner].astype(np.float64)
        clip = y[ch].astype(np.float64)
        num = signal.correlate(clip, got, "valid", method="fft")
        energy = signal.fftconvolve(clip * clip, np.ones(got.size), "valid")
        found = int(np.argmax(num / np.sqrt(np.maximum(energy, 0.0) * np.dot(got, got) + 1e-12)))
        assert abs(found - shared) <= 2, f"channel {ch} comes from {found / RATE:.3f} s, not the shared position"


def test_match_can_copy_from_wider_material_the_caller_passes(loop):
    # The editor passes a short excerpt around the selection, plus the rest of the track to search.
    excerpt, rest = loop[:, : int(1.8 * RATE)], loop[:, int(1.8 * RATE):]
    a, b = int(0.8 * RATE), int(1.2 * RATE)
    y = gapped(excerpt, a, b)
    take = candidates(y, RATE, a / RATE, b / RATE, "match", extra=rest)[0]
    assert take.params["source"] == "wider range"
    assert take.params["source_seconds"] == pytest.approx(4.8 - 1.8, abs=0.02)  # two bars later, same notes
    out = take.apply(y)
    assert out.shape == excerpt.shape
    assert gap_snr(excerpt, out, a + int(0.04 * RATE), b - int(0.04 * RATE)) > 10.0


def test_extend_adds_exactly_the_length_and_continues_seamlessly(loop):
    x = loop[:, : int(6.3 * RATE)]
    n = x.shape[1]
    res = run_on_array(ExtendEffect(), x, RATE, {"seconds": 5.0})
    y = res.audio
    assert y.shape == (1, n + 5 * RATE)
    assert np.array_equal(y[:, : n - int(0.06 * RATE)], x[:, : n - int(0.06 * RATE)])  # only the seam changes
    before = np.concatenate([x, np.zeros((1, 5 * RATE), np.float32)], axis=1)
    assert boundary_discontinuity(before, y, RATE, n - 1, n) <= 1.0
    tail_db = 20 * np.log10(np.std(x[:, -2 * RATE:]))
    ext_db = 20 * np.log10(np.std(y[:, n:]))
    assert abs(ext_db - tail_db) < 3.0
    # Loop-aware: the pattern is two bars (4 s) long, and the clip carries on a whole number of bars back.
    info = res.provenance["extend"]
    assert info["loop_seconds"] == pytest.approx(round(info["loop_seconds"] / 2.0) * 2.0, abs=0.02)


def test_extend_before_the_start_keeps_the_clip_intact(loop):
    x = loop[:, : int(5.0 * RATE)]
    takes = extend_candidates(x, RATE, 2.5, "start", n_takes=2)
    y = takes[0].apply(x)
    assert y.shape[1] == x.shape[1] + int(2.5 * RATE)
    keep = int(0.06 * RATE)
    assert np.array_equal(y[:, int(2.5 * RATE) + keep:], x[:, keep:])
    assert len(takes) == 2 and not np.array_equal(takes[0].audio, takes[1].audio)


def test_neural_engine_runs_and_fills_with_sound():
    x = sines(seconds=3.0, rate=RATE) + 0.02 * np.random.default_rng(1).standard_normal((1, 3 * RATE)).astype(
        np.float32)
    a, b = int(1.5 * RATE), int(1.65 * RATE)
    y = gapped(x, a, b)
    seen: list[float] = []
    # Through the effect runner, as the editor runs it (torch inference mode around process()).
    res = run_on_array(FillEffect(), y, RATE, {"start": a / RATE, "end": b / RATE, "engine": "neural",
                                               "neural_steps": 25},
                       device="cpu", parent=TaskContext(lambda f, _m: seen.append(f)))
    out = res.audio
    assert res.provenance["fill"]["engine"] == "neural" and res.provenance["fill"]["device"] == "cpu"
    assert out.shape == y.shape and np.isfinite(out).all()
    assert log_spectral_distance(x, out, RATE, a, b) < log_spectral_distance(x, y, RATE, a, b) - 10.0
    assert len(seen) >= 3 and seen == sorted(seen)


def test_neural_engine_stops_when_cancelled():
    x = sines(seconds=2.0, rate=RATE)
    a, b = RATE, RATE + 4800
    holder: dict[str, TaskContext] = {}

    def on_progress(_f: float, message: str) -> None:
        if "training" in message or "fine-tuning" in message:
            holder["ctx"].cancel()  # the user presses Cancel once training (or fine-tuning) is under way

    ctx = holder["ctx"] = TaskContext(on_progress)
    with pytest.raises(Cancelled):
        candidates(gapped(x, a, b), RATE, a / RATE, b / RATE, "neural", ctx=ctx,
                   options=FillOptions(neural_steps=100000))


def test_auto_uses_interpolation_for_a_click_and_matching_for_a_long_hole(loop):
    a = int(2.5 * RATE)
    short = run_on_array(FillEffect(), gapped(loop, a, a + 480), RATE, {"start": a / RATE, "end": (a + 480) / RATE})
    long = run_on_array(FillEffect(), gapped(loop, a, a + RATE), RATE, {"start": a / RATE, "end": a / RATE + 1.0})
    assert short.provenance["fill"]["engine"] == "ar"
    assert long.provenance["fill"]["engine"] == "match"
    assert long.provenance["fill"]["auto"]["material"] == "music"


def test_classifier_tells_music_noise_and_speech_apart(loop):
    from seedwave_plugins.fill.features import classify

    assert classify(loop[0], RATE) == "music"
    rng = np.random.default_rng(0)
    assert classify(0.1 * rng.standard_normal(4 * RATE).astype(np.float32), RATE) == "noise"
    if have_espeak():
        assert classify(speech(rate=RATE)[0], RATE) == "speech"


def test_bad_regions_are_refused_with_a_message():
    x = sines(seconds=1.0, rate=RATE)
    with pytest.raises(EffectError, match="select the region"):
        run_on_array(FillEffect(), x, RATE, {"start": 0.5, "end": 0.5})
    with pytest.raises(EffectError, match="nothing around it"):
        run_on_array(FillEffect(), x, RATE, {"start": 0.0, "end": 1.0})


def test_effects_are_registered_and_cheap_to_import():
    assert registry().get("fill").id == "fill"
    assert registry().get("extend").changes_length
    code = ("import sys, seedwave_plugins.fill as f; f.FillEffect; "
            "assert not {'torch', 'librosa', 'scipy.signal'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_fill_and_extend(tmp_path, loop):
    from editor.cli import main

    src = tmp_path / "in.wav"
    sf.write(src, loop[0, : 6 * RATE], RATE, subtype="FLOAT")
    holed = loop[:, : 6 * RATE].copy()
    a, b = int(2.0 * RATE), int(2.4 * RATE)
    holed[:, a:b] = 0
    sf.write(src, holed[0], RATE, subtype="FLOAT")
    out = tmp_path / "filled.wav"
    assert main(["apply", "fill", str(src), str(out), "--start", "2.0", "--end", "2.4", "--set", "engine=match",
                 "--set", "take=1", "-q"]) == 0
    y, r = sf.read(out, dtype="float32")
    assert r == RATE and y.shape[0] == 6 * RATE
    assert log_spectral_distance(loop[:, : 6 * RATE], y[None], RATE, a, b) < log_spectral_distance(
        loop[:, : 6 * RATE], holed, RATE, a, b) - 5.0
    longer = tmp_path / "longer.wav"
    assert main(["apply", "extend", str(src), str(longer), "--seconds", "1.5", "-q"]) == 0
    z, _ = sf.read(longer, dtype="float32")
    assert z.shape[0] == int(7.5 * RATE)


# -- joins on speech, Auto on material it was not tuned on, takes, fade-outs (issue 16) ----------------------

SPEECH_TEXT = ("It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith, his chin "
               "nuzzled into his breast, slipped quickly through the glass doors.")


@pytest.fixture(scope="module")
def talk() -> np.ndarray:
    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    return speech(SPEECH_TEXT, rate=RATE)


def _level_dip_db(out: np.ndarray, joins: list[int], rate: int) -> float:
    """How far (dB) the 5 ms level around a join falls below the quieter of the 5 ms next to it."""
    w = int(0.005 * rate)
    worst = 0.0
    for j in joins:
        if j - 2 * w < 0 or j + 2 * w > out.shape[1]:
            continue
        lvl = [float(np.sqrt(np.mean(out[:, s:s + w].astype(np.float64) ** 2)) + 1e-6)
               for s in (j - 2 * w, j - w // 2, j + w)]
        worst = max(worst, 20 * np.log10(min(lvl[0], lvl[2]) / lvl[1]))
    return worst


@pytest.mark.parametrize("engine", ["ar", "match", "neural"])
def test_speech_fills_meet_their_edges_without_a_click(talk, engine):
    """Every engine's take joins speech with no burst of high frequencies at its edges (they were
    24 to 34 dB above the original's), no step in value or slope, and no dip in level."""
    from seedwave_plugins.fill.metrics import edge_hf_excess, joins_of, slope_discontinuity

    cases = [(0.1, 1.2), (0.1, 3.4), (0.5, 2.4)] if engine != "neural" else [(0.5, 2.4)]
    for gap, pos in cases:
        a, b = int(pos * RATE), int((pos + gap) * RATE)
        y = gapped(talk, a, b)
        take = candidates(y, RATE, pos, pos + gap, engine, 1, options=QUICK_NEURAL)[0]
        out = take.apply(y)
        joins = joins_of(y, out, take.start, take.stop)
        excess = edge_hf_excess(talk, out, RATE, [take.start, take.stop])
        assert excess <= 12.0, (engine, gap, pos, excess)
        assert boundary_discontinuity(y, out, RATE, a, b, reference=talk) <= 1.2, (engine, gap, pos)
        assert slope_discontinuity(talk, out, RATE, [take.start, take.stop]) <= 1.2, (engine, gap, pos)
        for j in joins:  # no dip in level at a join that the original did not have there
            assert _level_dip_db(out, [j], RATE) <= _level_dip_db(talk, [j], RATE) + 3.0, (engine, gap, pos, j)


def test_the_join_guard_does_not_touch_a_fill_that_continues_its_context():
    from seedwave_plugins.fill.splice import seal_joins, smooth_edges

    x = sines(seconds=1.0, rate=RATE)
    a, b = RATE // 2, RATE // 2 + 4800
    fill = x[:, a:b].copy()
    out = smooth_edges(x, a, b, seal_joins(x, a, b, fill, RATE), RATE)
    assert np.max(np.abs(out - fill)) < 1e-3


def test_the_join_guard_removes_a_click_at_the_edge():
    from seedwave_plugins.fill.metrics import edge_hf_excess
    from seedwave_plugins.fill.splice import seal_joins, smooth_edges

    x = sines(seconds=1.0, rate=RATE) + 0.01 * np.random.default_rng(0).standard_normal((1, RATE)).astype(np.float32)
    a, b = RATE // 2, RATE // 2 + 4800
    fill = x[:, a:b].copy()
    fill[:, :48] += 0.5 * np.sign(np.sin(np.arange(48)))  # a 1 ms burst right at the join
    fill[:, -1] += 0.2  # and a step in value at the other
    raw = x.copy()
    raw[:, a:b] = fill
    fixed = x.copy()
    fixed[:, a:b] = smooth_edges(x, a, b, seal_joins(x, a, b, fill, RATE), RATE)
    assert edge_hf_excess(x, raw, RATE, [a, b]) > 20.0
    assert edge_hf_excess(x, fixed, RATE, [a, b]) < 6.0
    assert boundary_discontinuity(x, fixed, RATE, a, b, reference=x) < 1.0


def _orchestral(seconds: float, rate: int) -> np.ndarray:
    """Beatless strings and brass rendered by FluidSynth (held-out material for Auto's classifier)."""
    pytest.importorskip("pretty_midi")
    import shutil

    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    try:
        from training.corpus import SOUNDFONTS, orchestral_piece
    except ImportError:
        pytest.skip("the training package is not importable here")
    if not SOUNDFONTS["timgm6mb"].exists():
        pytest.skip("the TimGM6mb soundfont is not installed")
    import soxr

    x = orchestral_piece(3, seconds, "timgm6mb")
    return soxr.resample(x.T, 44100, rate).T.astype(np.float32)


def test_auto_calls_orchestral_music_music_and_matches_it():
    """Orchestral music was called speech and sent to the slow neural engine (one smeared take)."""
    from seedwave_plugins.fill.features import classify

    x = _orchestral(10.0, RATE)
    assert classify(x.mean(axis=0), RATE) == "music"
    a = int(5 * RATE)
    y = gapped(x, a, a + RATE // 2)
    takes = candidates(y, RATE, 5.0, 5.5, "auto", 5)
    assert takes[0].params["auto"]["material"] == "music"
    assert takes[0].engine == "match"
    assert len(takes) == 5


def test_auto_gives_the_takes_asked_for_or_says_why(talk):
    ctx = TaskContext()
    takes = candidates(gapped(talk, int(1.2 * RATE), int(1.3 * RATE)), RATE, 1.2, 1.3, "auto", 4, ctx)
    assert takes[0].engine == "ar" and takes[0].params["auto"]["material"] == "speech"
    assert len(takes) == 4 and {t.engine for t in takes[1:]} == {"match"}
    assert [t.index for t in takes] == [0, 1, 2, 3]
    ctx = TaskContext()
    assert len(candidates(gapped(talk, RATE, RATE + 4800), RATE, 1.0, 1.1, "ar", 3, ctx)) == 1
    assert any("one take" in w for w in ctx.warnings)


def test_extend_after_a_fade_out_continues_the_silence(loop):
    """Extending a song that fades out to silence added repeating bursts of the loud part."""
    x = np.tile(loop, (1, 2))[:, : 12 * RATE].copy()
    t = np.arange(x.shape[1]) / RATE
    x *= np.clip((10.0 - t) / 3.0, 0.0, 1.0) ** 2  # fades out from 7 s, silent after 10 s
    ctx = TaskContext()
    take = extend_candidates(x, RATE, 5.0, "end", 3, ctx)[0]
    out = take.apply(x)
    assert out.shape[1] == x.shape[1] + 5 * RATE
    assert np.max(np.abs(out[:, x.shape[1]:])) == 0.0
    assert any("silence" in w for w in ctx.warnings)


def test_extend_after_a_fade_to_a_quiet_tail_stays_quiet(loop):
    x = np.tile(loop, (1, 2))[:, : 12 * RATE].copy()
    t = np.arange(x.shape[1]) / RATE
    x *= np.maximum(np.clip((9.0 - t) / 3.0, 0.0, 1.0) ** 2, 10 ** (-40 / 20))  # a tail 40 dB down
    take = extend_candidates(x, RATE, 5.0, "end", 1)[0]
    ext = take.apply(x)[:, x.shape[1]:]
    tail_peak = np.max(np.abs(x[:, -RATE // 2:]))
    assert np.max(np.abs(ext)) <= 2.0 * tail_peak  # no burst of the song's loud part


def test_extend_before_a_fade_in_from_silence_adds_silence(loop):
    x = np.tile(loop, (1, 2))[:, : 12 * RATE].copy()
    t = np.arange(x.shape[1]) / RATE
    x *= np.clip((t - 2.0) / 3.0, 0.0, 1.0) ** 2  # silent for 2 s, then fades in
    ctx = TaskContext()
    take = extend_candidates(x, RATE, 3.0, "start", 2, ctx)[0]
    out = take.apply(x)
    assert out.shape[1] == x.shape[1] + 3 * RATE
    assert np.max(np.abs(out[:, : 3 * RATE])) == 0.0 and np.array_equal(out[:, 3 * RATE:], x)
    assert any("starts in silence" in w for w in ctx.warnings)


# -- The fill prior (issue 16): shipped weights, fine-tuned on the clip -----------------------------


def test_fill_prior_weights_ship_in_the_package_and_load_without_pickle():
    from safetensors import safe_open
    from seedwave_plugins.fill import prior

    assert prior.WEIGHTS.is_file() and prior.WEIGHTS.suffix == ".safetensors"
    assert prior.WEIGHTS.stat().st_size < 8_000_000
    with safe_open(str(prior.WEIGHTS), "pt") as fh:  # safetensors: a header and raw tensors, no pickle
        meta = fh.metadata()
    assert int(meta["step"]) > 0 and meta["trained_by"] == "training/train_fill.py"
    config, state = prior.load()
    net = prior.build(config)
    net.load_state_dict(state)
    assert 500_000 <= sum(p.numel() for p in net.parameters()) <= 4_000_000
    card = prior.CARD.read_text()
    assert prior.sha256() in card and "licence" in card.lower()
    info = prior.provenance()
    assert info["sha256"] == prior.sha256() and info["step"] == int(meta["step"])
    assert info["training_commit"] == meta.get("training_commit", "")


def test_the_manifest_lists_the_shipped_prior_and_the_models_dialog_reads_it_from_the_file():
    import tomllib
    from pathlib import Path

    from seedwave_plugins.fill import prior

    from editor.effects.plugins import plugins
    from editor.effects.shipped import shipped_models

    manifest = tomllib.loads((Path(prior.__file__).parent / "plugin.toml").read_text())
    entry = next(m for m in manifest["models"] if m["id"] == "fill_prior")
    assert entry["files"] == ["weights/" + prior.WEIGHTS.name]
    assert entry["sha256"] == [prior.sha256()]  # re-exported weights need the manifest's sha256 updated
    assert (prior.CARD.parent / entry["model_card"].rsplit("/", 1)[-1]) == prior.CARD
    assert "mit" in entry["licence"].lower() and entry["shipped"]
    assert manifest["requires"]["models"] == ["fill_prior"]
    assert "no model weights" not in manifest["plugin"]["licence"].lower()

    shown = next(m for m in shipped_models(plugins()) if m.id == "fill_prior")
    info = prior.provenance()
    assert shown.path.name == prior.WEIGHTS.name and shown.sha256 == prior.sha256() and shown.verified
    assert shown.step == info["step"] and shown.training_commit == info["training_commit"]
    assert shown.card is not None and prior.sha256() in shown.card_text()


def _noisy_tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(3)
    x = [0.3 * np.sin(2 * np.pi * (220.0 + 110.0 * c) * t) + 0.02 * rng.standard_normal(t.size)
         for c in range(channels)]
    return np.asarray(x, np.float32)


PRIOR_QUICK = FillOptions(neural_steps=2)


@pytest.mark.parametrize("rate, channels", [(48000, 2), (32000, 1), (16000, 1)])
def test_the_prior_fills_any_rate_and_channel_count(rate, channels):
    from seedwave_plugins.fill import prior

    x = _noisy_tone(3.0, rate, channels)
    a, b = int(1.5 * rate), int(1.6 * rate)
    y = gapped(x, a, b)
    takes = candidates(y, rate, a / rate, b / rate, "neural", options=PRIOR_QUICK)
    assert len(takes) == 1
    t = takes[0]
    assert t.engine == "neural" and t.start <= a and t.stop >= b
    assert t.audio.shape == (channels, t.stop - t.start) and np.isfinite(t.audio).all()
    gap = t.audio[:, a - t.start:b - t.start]
    # Every channel's hole is filled at the level of the tone around it (not left silent, not louder),
    # with that channel's own pitch: one set of weights at any rate.
    level = 20 * np.log10(np.sqrt(np.mean(gap.astype(np.float64) ** 2, axis=1))
                          / np.sqrt(np.mean(x[:, a:b].astype(np.float64) ** 2, axis=1)))
    assert np.all(np.abs(level) < 2.0), level
    for c in range(channels):
        spectrum = np.abs(np.fft.rfft(gap[c] * np.hanning(gap.shape[1])))
        peak = np.fft.rfftfreq(gap.shape[1], 1 / rate)[int(np.argmax(spectrum))]
        assert abs(peak - (220.0 + 110.0 * c)) < 15.0
    assert t.params["prior"] is True and t.params["steps"] == 2 and t.params["internal_rate"] == prior.RATE
    assert t.params["model"]["sha256"] == prior.sha256()


def test_the_prior_continues_a_groove_from_the_bar_that_fits_at_48k(loop):
    """A 500 ms hole in a 48 kHz drum-and-bass loop: the prior copies a matching moment a whole
    number of beats away, keeps its hits, its level and its top octave (above the 22 kHz the
    network works to), and sounds far closer to the truth than a cross-fade of the edges."""
    a = int(5.1 * RATE)
    b = a + int(0.5 * RATE)
    y = gapped(loop, a, b)
    t = candidates(y, RATE, a / RATE, b / RATE, "neural")[0]
    out = t.apply(y)
    beats = abs(t.params["retrieved_from_s"] - a / RATE) / 0.5
    assert t.params["match_ratio"] < 0.3 and beats >= 1 and abs(beats - round(beats)) < 0.05, t.params
    assert "copy from" in t.label
    n = b - a
    r = (np.arange(n) + 0.5) / n
    xfade = y.copy()
    xfade[:, a:b] = y[:, a - n:a] * (1 - r) + y[:, b:b + n] * r
    assert log_spectral_distance(loop, out, RATE, a, b) <= log_spectral_distance(loop, xfade, RATE, a, b) - 3.0
    level = 20 * np.log10(np.sqrt(np.mean(out[:, a:b] ** 2.0)) / np.sqrt(np.mean(loop[:, a:b] ** 2.0)))
    assert abs(level) < 2.0
    # The hi-hats' energy above 22.05 kHz is there in the gap, at about the level around it.
    sos = signal.butter(8, 22500, "highpass", fs=RATE, output="sos")
    top, true_top = (signal.sosfiltfilt(sos, z[0].astype(np.float64)) for z in (out, loop))
    ratio = np.sqrt(np.mean(top[a:b] ** 2) / np.mean(true_top[a:b] ** 2))
    assert 0.5 < ratio < 2.0, ratio


def test_without_the_prior_weights_the_engine_trains_from_scratch_and_says_so(monkeypatch, tmp_path):
    from seedwave_plugins.fill import prior

    missing = tmp_path / prior.WEIGHTS.name
    monkeypatch.setattr(prior, "WEIGHTS", missing)
    monkeypatch.setattr(prior, "available", lambda path=missing: path.is_file())
    rate = 16000
    x = _noisy_tone(2.0, rate, 1)
    a, b = rate, rate + 1600
    ctx = TaskContext()
    takes = candidates(gapped(x, a, b), rate, a / rate, b / rate, "neural", ctx=ctx, options=PRIOR_QUICK)
    t = takes[0]
    assert t.params["prior"] is False and "model" not in t.params
    assert t.audio.shape == (1, t.stop - t.start) and np.isfinite(t.audio).all()
    assert any(prior.WEIGHTS.name in w and "scratch" in w for w in ctx.warnings), ctx.warnings


def test_a_prior_fill_is_the_same_every_time():
    rate = 16000
    x = _noisy_tone(2.0, rate, 1)
    a, b = rate, rate + 1600
    y = gapped(x, a, b)
    one = candidates(y, rate, a / rate, b / rate, "neural", options=PRIOR_QUICK)[0]
    two = candidates(y, rate, a / rate, b / rate, "neural", options=PRIOR_QUICK)[0]
    np.testing.assert_array_equal(one.audio, two.audio)
    assert (one.start, one.stop) == (two.start, two.stop)


def test_cancel_stops_fine_tuning_between_steps():
    rate = 16000
    x = _noisy_tone(2.0, rate, 1)
    a, b = rate, rate + 1600
    steps: list[int] = []
    holder: dict[str, TaskContext] = {}

    def on_progress(_f: float, message: str) -> None:
        step = re.search(r"fill prior.* step (\d+)$", message)
        if step:
            steps.append(int(step.group(1)))
            if len(steps) == 3:
                holder["ctx"].cancel()  # the user presses Cancel as the third step is reported

    ctx = holder["ctx"] = TaskContext(on_progress)
    with pytest.raises(Cancelled):
        candidates(gapped(x, a, b), rate, a / rate, b / rate, "neural", ctx=ctx,
                   options=FillOptions(neural_steps=5000))
    assert steps == [1, 2, 3]  # fine-tuning stopped at the next step: none ran after the cancel
