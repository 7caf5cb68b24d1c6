"""Regenerate the demo project's audio (run by hand; the results are committed).

    python resources/demo/make_demo.py

Music: a 32-bar groove written here with pretty_midi and rendered by FluidSynth
with the FluidR3 General MIDI soundfont (MIT licence; Debian fluid-soundfont-gm),
one file per instrument. Speech: espeak-ng (its output is not covered by its
GPL), mixed with synthetic room noise and mains hum, to try the denoiser on.
Everything is original and free to redistribute (CC0).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
RATE = 44100
BPM = 100.0
BARS = 12
SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
CHORDS = [(48, [0, 4, 7]), (45, [0, 3, 7]), (41, [0, 4, 7]), (43, [0, 4, 7])]  # C Am F G


def beat(b: float) -> float:
    return b * 60.0 / BPM


def drums() -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(0, is_drum=True, name="Drums")
    for bar in range(BARS):
        for i in range(8):
            t = beat(bar * 4 + i / 2)
            inst.notes.append(pretty_midi.Note(70 if i % 2 else 90, 42, t, t + 0.1))  # hats
            if i in (0, 5):
                inst.notes.append(pretty_midi.Note(110, 36, t, t + 0.2))  # kick
            if i in (2, 6):
                inst.notes.append(pretty_midi.Note(100, 38, t, t + 0.2))  # snare
    return inst


def bass() -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(33, name="Bass")
    for bar in range(BARS):
        root = CHORDS[bar % 4][0] - 12
        for i, step in enumerate((0, 0, 7, 12, 0, 7, 10, 7)):
            t = beat(bar * 4 + i / 2)
            inst.notes.append(pretty_midi.Note(100, root + step, t, t + beat(0.45)))
    return inst


def keys() -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(4, name="Keys")
    for bar in range(BARS):
        root, tri = CHORDS[bar % 4]
        for half in (0, 2):
            t = beat(bar * 4 + half)
            for iv in tri:
                inst.notes.append(pretty_midi.Note(70, root + 12 + iv, t, t + beat(1.9)))
    return inst


def lead() -> pretty_midi.Instrument:
    inst = pretty_midi.Instrument(73, name="Flute")
    melody = [76, 74, 72, 74, 76, 76, 76, None, 74, 74, 74, None, 76, 79, 79, None]
    for bar in range(4, BARS):
        for i in range(4):
            n = melody[((bar - 4) * 4 + i) % len(melody)]
            if n is not None:
                t = beat(bar * 4 + i)
                inst.notes.append(pretty_midi.Note(85, n, t, t + beat(0.9)))
    return inst


def render(inst: pretty_midi.Instrument, out: Path) -> np.ndarray:
    pm = pretty_midi.PrettyMIDI(initial_tempo=BPM)
    pm.instruments.append(inst)
    with tempfile.TemporaryDirectory() as d:
        mid = Path(d) / "x.mid"
        wav = Path(d) / "x.wav"
        pm.write(str(mid))
        subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", str(RATE), "-F", str(wav), SF2, str(mid)],
                       check=True, capture_output=True)
        x, _ = sf.read(str(wav), dtype="float32")
    n = int(beat(BARS * 4) * RATE)
    x = x[:n] if len(x) >= n else np.pad(x, ((0, n - len(x)), (0, 0)))
    return x * (0.5 / (np.abs(x).max() + 1e-9))  # peaks at -6 dBFS: clearly visible, room to mix


def speech() -> np.ndarray:
    text = ("Welcome to Seedwave. This track is a noisy recording of speech. Select it and try the denoise "
            "effect, then press A B to compare with the original. Every change can be undone.")
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", "en-us+m3", "-s", "150", "-w", str(wav), text], check=True)
        x, r = sf.read(str(wav), dtype="float32")
    x = soxr.resample(x, r, RATE).astype(np.float32)
    n = int(beat(BARS * 4) * RATE)
    out = np.zeros(n, np.float32)
    start = int(1.0 * RATE)
    out[start : start + min(len(x), n - start)] = x[: n - start] * 0.5 / (np.abs(x).max() + 1e-9)
    rng = np.random.default_rng(7)
    hiss = rng.standard_normal(n).astype(np.float32)
    brown = np.cumsum(rng.standard_normal(n)).astype(np.float32)
    brown -= np.convolve(brown, np.ones(2048) / 2048, mode="same")
    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3)).astype(np.float32)
    noise = 0.02 * hiss + 0.004 * brown / (np.abs(brown).max() + 1e-9) * 10 + 0.02 * hum
    return (out + noise)[:, None]


def main() -> None:
    if not shutil.which("fluidsynth") or not Path(SF2).exists():
        raise SystemExit("needs fluidsynth and fluid-soundfont-gm (apt install fluidsynth fluid-soundfont-gm)")
    for name, inst in (("drums", drums()), ("bass", bass()), ("keys", keys()), ("flute", lead())):
        x = render(inst, HERE / f"{name}.ogg")
        sf.write(str(HERE / f"{name}.ogg"), x, RATE, format="OGG", subtype="VORBIS")
    sf.write(str(HERE / "speech.ogg"), speech(), RATE, format="OGG", subtype="VORBIS")


if __name__ == "__main__":
    main()
