"""Denoise: quality and speed of Seedwave's engines on a generated dev set.

    python -m bench.run denoise          # full run, a few minutes
    python -m bench.denoise --quick      # a smoke run (not written to docs)

Dev set, made here and nowhere else: sentences spoken by several espeak-ng
voices (English accents and variants, German, French), each mixed with six
noise types (white, pink, babble of four other voices, 50/60 Hz mains hum,
HVAC-like rumble with fan tones, and music rendered by FluidSynth from a
generated MIDI file) at -5, 0, 5 and 10 dB SNR.

Metrics: SI-SDR (48 kHz), PESQ wide-band and STOI (both at 16 kHz), and the
real-time factor (processing time / audio time, one clip at a time through
the effect runner). Systems: the unprocessed mixture, Seedwave's default
(DeepFilterNet3, 30 dB reduction limit), DeepFilterNet3 without a limit, and
the anchors RNNoise and noisereduce (spectral gating), both without a limit.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import struct
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .common import ensure_apt, stamp, table, workdir, write_section

RATE = 48000
SNRS = (-5, 0, 5, 10)
TALKERS_PER_CONDITION = 3
NOISES = ("white", "pink", "babble", "hum", "hvac", "music")
TARGETS = (
    ("en-us", "Please check the microphone levels before we start recording the interview."),
    ("en-gb+f3", "The quarterly report shows steady growth across all three regions."),
    ("en-gb-scotland+m4", "Turn left at the old church and follow the river for two miles."),
    ("en-029+f2", "She bought fresh bread, a jar of honey and some bright yellow flowers."),
    ("de+m3", "Der Zug nach Berlin hat heute leider zwanzig Minuten Verspätung."),
    ("fr+f4", "Nous avons rendez-vous demain matin devant la grande bibliothèque."),
)
BABBLE = (
    ("en-us-nyc+m7", "I told him the meeting was moved to Thursday but he never listens to anyone."),
    ("en-gb-x-rp+f4", "Would you like another cup of tea, or shall we go for a walk in the park."),
    ("it+f2", "Domani andiamo al mare con tutta la famiglia se il tempo resta bello."),
    ("es", "El restaurante de la esquina tiene la mejor paella de toda la ciudad."),
)
SYSTEMS = (
    ("noisy", None),
    ("dfn3 (default, 30 dB)", {"engine": "dfn3"}),
    ("dfn3 (no limit)", {"engine": "dfn3", "strength": 100}),
    ("rnnoise", {"engine": "rnnoise", "strength": 100}),
    ("spectral (noisereduce)", {"engine": "spectral", "strength": 100}),
)
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


# --------------------------------------------------------------------------- signals


def say(text: str, voice: str, out: Path) -> np.ndarray:
    """espeak-ng speech at 48 kHz, peak 0.5, leading/trailing silence trimmed to 0.1 s."""
    wav = out / f"say-{voice}-{hashlib.sha1(text.encode()).hexdigest()[:10]}.wav"
    if not wav.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), text], check=True,
                       capture_output=True)
    x, r = sf.read(wav, dtype="float32")
    x = soxr.resample(x, r, RATE).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
    x = x[max(0, loud[0] - RATE // 10): loud[-1] + RATE // 10]
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def _shape(white: np.ndarray, gain_of_f) -> np.ndarray:
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(white.shape[0], 1 / RATE)
    return np.fft.irfft(spec * gain_of_f(f), white.shape[0])


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    return _shape(rng.standard_normal(n), lambda f: np.where(f > 20, 1 / np.sqrt(np.maximum(f, 1)), 0))


def hum(n: int, rng: np.random.Generator, f0: float) -> np.ndarray:
    """Mains hum and buzz: f0 and its harmonics up to 2 kHz, odd ones stronger, slight wobble."""
    t = np.arange(n) / RATE
    wobble = 0.002 * np.sin(2 * np.pi * 0.3 * t)
    out = np.zeros(n)
    for k in range(1, int(2000 / f0) + 1):
        amp = (1.0 if k % 2 else 0.4) / k
        out += amp * np.sin(2 * np.pi * f0 * k * (t + wobble) + rng.uniform(0, 2 * np.pi))
    return out


def hvac(n: int, rng: np.random.Generator) -> np.ndarray:
    """Air handling: low-passed brown rumble, fan tones with slow beating, and a little hiss."""
    brown = _shape(rng.standard_normal(n), lambda f: np.where(f > 15, 1 / np.maximum(f, 1), 0)
                   / np.sqrt(1 + (f / 800) ** 4))
    brown /= brown.std()
    t = np.arange(n) / RATE
    tones = sum(a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
                for f, a in ((117.0, 0.5), (234.0, 0.3), (351.5, 0.2), (1180.0, 0.05)))
    return brown + tones + 0.05 * rng.standard_normal(n)


def _midi(path: Path, bars: int = 16) -> None:
    """A small format-0 MIDI file: piano chords, bass and drums, 120 bpm (no MIDI library needed)."""
    tpq = 480
    events: list[tuple[int, bytes]] = []

    def note(t: int, dur: int, ch: int, key: int, vel: int) -> None:
        events.append((t, bytes([0x90 | ch, key, vel])))
        events.append((t + dur, bytes([0x80 | ch, key, 0])))

    events += [(0, bytes([0xC0, 0])), (0, bytes([0xC1, 33]))]  # piano, fingered bass
    chords = ((60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60))  # C G Am F
    for bar in range(bars):
        t0 = bar * 4 * tpq
        chord = chords[bar % 4]
        for beat in range(4):
            for key in chord:
                note(t0 + beat * tpq, tpq - 40, 0, key + (12 if beat % 2 else 0), 70)
            note(t0 + beat * tpq, tpq // 2, 1, chord[0] - 24, 90)
            note(t0 + beat * tpq, tpq // 4, 9, 36 if beat % 2 == 0 else 38, 100)
            note(t0 + beat * tpq + tpq // 2, tpq // 4, 9, 42, 70)
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))
    body, last = bytearray([0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20]), 0  # tempo 500000 us/quarter
    for t, msg in events:
        delta, last = t - last, t
        var = [delta & 0x7F]
        while delta > 0x7F:
            delta >>= 7
            var.insert(0, (delta & 0x7F) | 0x80)
        body += bytes(var) + msg
    body += bytes([0x00, 0xFF, 0x2F, 0x00])
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + b"MTrk" + struct.pack(">I", len(body)) + body)


def music(n: int, rng: np.random.Generator, out: Path) -> np.ndarray:
    wav = out / "music.wav"
    if not wav.exists():
        mid = out / "music.mid"
        _midi(mid)
        subprocess.run(["fluidsynth", "-ni", "-g", "0.6", "-r", str(RATE), "-F", str(wav), str(SOUNDFONT),
                        str(mid)], check=True, capture_output=True)
    x, r = sf.read(wav, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if r != RATE:
        x = soxr.resample(x, r, RATE)
    x = x[np.argmax(np.abs(x) > 1e-3):]
    return np.tile(x, -(-n // x.shape[0]))[:n]


def noise_beds(seconds: float, out: Path, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    babble = np.zeros(n)
    for voice, text in BABBLE:
        s = say(text, voice, out)
        s = np.tile(s, -(-n // s.shape[0]))[:n]
        babble += np.roll(s, int(rng.integers(n))) / s.std()
    beds = {
        "white": rng.standard_normal(n),
        "pink": pink(n, rng),
        "babble": babble,
        "hum": np.concatenate([hum(n // 2, rng, 50.0), hum(n - n // 2, rng, 60.0)]),
        "hvac": hvac(n, rng),
        "music": music(n, rng, out),
    }
    return {k: (v / v.std()).astype(np.float32) for k, v in beds.items()}


def mix(clean: np.ndarray, bed: np.ndarray, snr_db: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``clean`` plus a random stretch of ``bed`` at ``snr_db``; also the gain applied to both."""
    start = int(rng.integers(bed.shape[0] - clean.shape[0]))
    noise = bed[start: start + clean.shape[0]]
    g = np.sqrt(np.mean(clean**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
    x = clean + g * noise
    scale = min(1.0, 0.9 / np.abs(x).max())  # keep the mixture below full scale
    return (x * scale).astype(np.float32), scale


# --------------------------------------------------------------------------- metrics


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref.astype(np.float64), est.astype(np.float64)
    target = np.dot(est, ref) / np.dot(ref, ref) * ref
    return float(10 * np.log10(np.sum(target**2) / max(1e-20, np.sum((est - target) ** 2))))


def metrics(clean: np.ndarray, est: np.ndarray) -> dict[str, float]:
    from pesq import pesq
    from pystoi import stoi

    c16 = soxr.resample(clean, RATE, 16000)
    e16 = soxr.resample(est, RATE, 16000)
    try:
        p = float(pesq(16000, c16, e16, "wb"))
    except Exception:  # noqa: BLE001 - pesq refuses some signals (no utterance found)
        p = float("nan")
    return {"si_sdr": si_sdr(clean, est), "pesq": p, "stoi": float(stoi(c16, e16, 16000, extended=False))}


# --------------------------------------------------------------------------- runs


def run_quality(quick: bool, out: Path) -> tuple[list[dict], dict[str, tuple[float, float]], float]:
    from seedwave_plugins.denoise import DenoiseEffect

    from editor.effects.runner import run_on_array

    effect = DenoiseEffect()
    targets = TARGETS[:1] if quick else TARGETS
    snrs = (0,) if quick else SNRS
    clean_clips = [say(text, voice, out) for voice, text in targets]
    beds = noise_beds(40.0, out)
    warm = clean_clips[0][None, : RATE // 2]
    for _name, params in SYSTEMS:
        if params:
            run_on_array(effect, warm, RATE, params)  # imports, first-load costs out of the timing
    rng = np.random.default_rng(1)
    rows: list[dict] = []
    busy: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    audio_seconds = 0.0
    cell = 0
    for noise in NOISES:
        for snr in snrs:
            # Each condition gets TALKERS_PER_CONDITION talkers, rotating so every talker meets every noise.
            picks = [(cell + k) % len(targets) for k in range(min(TALKERS_PER_CONDITION, len(targets)))]
            cell += 1
            for i in picks:
                voice, clean = targets[i][0], clean_clips[i]
                noisy, scale = mix(clean, beds[noise], snr, rng)
                ref = clean * scale
                audio_seconds += clean.shape[0] / RATE
                for name, params in SYSTEMS:
                    if params is None:
                        est = noisy
                    else:
                        t, c = time.perf_counter(), time.process_time()
                        est = run_on_array(effect, noisy[None], RATE, params).audio[0]
                        busy[name] += time.perf_counter() - t
                        cpu[name] += time.process_time() - c
                    rows.append({"system": name, "noise": noise, "snr": snr, "voice": voice, **metrics(ref, est)})
            print(f"  {noise} {snr:+d} dB done", flush=True)
    rtf = {name: (busy[name] / audio_seconds, cpu[name] / audio_seconds) for name in busy}
    return rows, rtf, audio_seconds


def run_parallel(seconds: float) -> list[tuple[int, float, float]]:
    """(workers, wall s, CPU s) for one long mono clip with one worker and with all cores."""
    from seedwave_plugins.denoise.engines import load_engine
    from seedwave_plugins.denoise.segments import cpu_count, denoise

    rng = np.random.default_rng(2)
    x = (0.1 * rng.standard_normal((1, int(seconds * RATE)))).astype(np.float32)
    engine = load_engine("dfn3")
    runs = []
    for workers in (1, cpu_count()):
        t, c = time.perf_counter(), time.process_time()
        denoise(engine, x, RATE, lambda f: None, workers=workers)
        runs.append((workers, time.perf_counter() - t, time.process_time() - c))
    return runs


def _mean(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if not np.isnan(r[key])]
    return float(np.mean(vals)) if vals else float("nan")


def report(rows: list[dict], rtf: dict[str, tuple[float, float]], parallel: list[tuple[int, float, float]] | None,
           n_clips: int, audio_seconds: float, load: str) -> str:
    names = [n for n, _ in SYSTEMS]
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by[(r["system"], "noise", r["noise"])].append(r)
        by[(r["system"], "snr", r["snr"])].append(r)
        by[(r["system"], "all", "")].append(r)
    snrs = sorted({r["snr"] for r in rows})
    parts = [
        "## Denoise",
        "",
        stamp(),
        "",
        f"Dev set generated by `bench/denoise.py`: {n_clips} mixtures, {audio_seconds / 60:.1f} min in all. "
        f"Noise types {', '.join(NOISES)} × SNR {', '.join(f'{s:+d}' for s in snrs)} dB × {TALKERS_PER_CONDITION} "
        f"of {len(TARGETS)} espeak-ng talkers (en-us, en-gb female, en-gb-scotland, en-029 female, German, French; "
        "rotating, so each talker meets each noise type). Babble is four other "
        "espeak voices (en, it, es); hum is 50 Hz then 60 Hz with harmonics; HVAC is brown rumble with fan tones; "
        "music is FluidSynth (FluidR3_GM) playing a generated piano/bass/drums MIDI file. "
        "SI-SDR at 48 kHz; PESQ-WB and STOI at 16 kHz. Higher is better everywhere.",
        "",
        "Systems: *noisy* is the unprocessed mixture; *dfn3 (default, 30 dB)* is `seedwave apply denoise` with "
        "its defaults (DeepFilterNet3, reduction limited to 30 dB); the others run with no limit "
        "(`strength=100`). RNNoise and noisereduce are the anchors.",
        "",
        "### Averages",
        "",
        table(["system", "SI-SDR dB", "ΔSI-SDR dB", "PESQ-WB", "STOI", "real-time factor", "CPU s per audio s"],
              [[n, _mean(by[(n, "all", "")], "si_sdr"),
                _mean(by[(n, "all", "")], "si_sdr") - _mean(by[("noisy", "all", "")], "si_sdr"),
                _mean(by[(n, "all", "")], "pesq"), _mean(by[(n, "all", "")], "stoi"),
                *rtf.get(n, ("-", "-"))] for n in names]),
    ]
    for key, title in (("si_sdr", "SI-SDR (dB)"), ("pesq", "PESQ-WB"), ("stoi", "STOI")):
        parts += ["", f"### {title} by noise type and by SNR", ""]
        body = [[noise] + [_mean(by[(n, "noise", noise)], key) for n in names] for noise in NOISES]
        body += [[f"{snr:+d} dB SNR"] + [_mean(by[(n, "snr", snr)], key) for n in names] for snr in snrs]
        body += [["all"] + [_mean(by[(n, "all", "")], key) for n in names]]
        parts.append(table(["condition", *names], body))
    parts += [
        "",
        "Real-time factor: wall time / audio time; CPU s per audio s counts only this process's work. "
        f"Load average during the run: {load} (the machine was shared with other jobs, so the real-time "
        f"factors are upper bounds). Clips average {audio_seconds / n_clips:.1f} s, so each ran on one core, and each "
        "run includes the engine's start-up (about 0.4 s to load DeepFilterNet3).",
    ]
    if parallel is not None:
        parts += [
            "",
            "### Long input on several cores",
            "",
            "A long clip is cut into segments (1 s warm-up each, 50 ms cross-fades) that run in parallel "
            "threads; the C runtime releases the GIL. Each extra segment costs one more warm-up and model load "
            "in CPU time; the wall time falls only when cores are free (this kernel schedules by session, so on "
            "a busy machine extra threads get no extra share).",
            "",
            table(["DeepFilterNet3, 60 s mono", "wall s", "CPU s", "real-time factor"],
                  [[f"{w} worker{'s' if w > 1 else ''}", wall, cpu, wall / 60] for w, wall, cpu in parallel]),
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.denoise", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one talker, 0 dB only; print, do not write docs")
    args = ap.parse_args(argv if argv is not None else [])
    ensure_apt("espeak-ng", "fluidsynth", "fluid-soundfont-gm")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba"))
    out = workdir("denoise")
    started = time.perf_counter()
    rows, rtf, audio_seconds = run_quality(args.quick, out)
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    parallel = None if args.quick else run_parallel(60.0)
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = report(rows, rtf, parallel, len(rows) // len(SYSTEMS), audio_seconds, load)
    md += f"\n\nWhole benchmark: {time.perf_counter() - started:.0f} s. Per-clip results: `{out / 'results.csv'}`."
    if args.quick:
        print(md)
    else:
        write_section("denoise", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
