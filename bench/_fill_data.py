"""Dev set for the fill benchmark: rendered music, synthetic speech, noise, all made offline.

* Music: four short pieces written here with pretty_midi (drums, bass, harmony,
  some with a lead), in different tempi, meters and styles, with section changes
  and drum fills so that not every bar repeats, humanised with a fixed seed, and
  rendered by FluidSynth with the FluidR3 General MIDI soundfont (stereo, 44.1 kHz).
* Speech: espeak-ng reading short paragraphs in two voices (mono, resampled to 44.1 kHz).
* Noise: a rain-like texture (pink noise with slow swells and random drops) made with numpy.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 44100
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

# General MIDI drum notes
KICK, SNARE, CLAP, HAT, OPEN_HAT, RIDE, CRASH, TOM_LO, TOM_HI = 36, 38, 39, 42, 46, 51, 49, 45, 50


@dataclass(frozen=True)
class Clip:
    name: str
    kind: str  # "music" | "speech" | "noise"
    audio: np.ndarray  # planar float32
    rate: int


def _chord(root: int, quality: str) -> list[int]:
    steps = {"maj": (0, 4, 7), "min": (0, 3, 7), "m7": (0, 3, 7, 10), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
             "5": (0, 7, 12)}[quality]
    return [root + s for s in steps]


class _Writer:
    """A few instruments and a helper that adds notes with seeded humanisation."""

    def __init__(self, bpm: float, seed: int) -> None:
        import pretty_midi

        self.pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
        self.beat = 60.0 / bpm
        self.rng = np.random.default_rng(seed)
        self._pm = pretty_midi
        self.parts: dict[str, object] = {}

    def part(self, name: str, program: int, drum: bool = False):
        if name not in self.parts:
            inst = self._pm.Instrument(program=program, is_drum=drum, name=name)
            self.pm.instruments.append(inst)
            self.parts[name] = inst
        return self.parts[name]

    def note(self, part: str, pitch: int, beat: float, length: float, vel: int, program: int = 0,
             drum: bool = False) -> None:
        inst = self.part(part, program, drum)
        t = beat * self.beat + float(self.rng.normal(0, 0.004))
        v = int(np.clip(vel + self.rng.integers(-8, 9), 20, 127))
        inst.notes.append(self._pm.Note(velocity=v, pitch=pitch, start=max(0.0, t),
                                        end=max(0.01, t + length * self.beat)))


def _funk(seed: int) -> _Writer:
    w = _Writer(100.0, seed)
    prog = [(52, "m7"), (57, "7"), (50, "m7"), (55, "7")]
    for bar in range(13):
        b0 = bar * 4
        root, q = prog[bar % 4]
        fill = bar % 4 == 3
        for s in range(16):
            beat = b0 + s / 4
            if s in (0, 6, 10) or (s == 14 and bar % 2):
                w.note("drums", KICK, beat, 0.2, 105, drum=True)
            if s in (4, 12):
                w.note("drums", SNARE, beat, 0.2, 110, drum=True)
            if fill and s >= 12:
                w.note("drums", TOM_HI if s % 2 else TOM_LO, beat, 0.2, 95, drum=True)
            elif s % 2 == 0:
                w.note("drums", OPEN_HAT if s == 14 else HAT, beat, 0.1, 70 + 15 * (s % 4 == 0), drum=True)
        for s, off in ((0, 0), (3, 12), (6, 0), (8, 7), (10, 10), (11, 12), (14, 7)):
            w.note("bass", root - 24 + off, b0 + s / 4, 0.22, 100, program=33)
        for beat in (1.5, 3.5) if bar % 2 == 0 else (1.5, 2.75, 3.5):
            for p in _chord(root, q):
                w.note("keys", p, b0 + beat, 0.35, 80, program=4)
    return w


def _house(seed: int) -> _Writer:
    w = _Writer(124.0, seed)
    prog = [(57, "min"), (53, "maj"), (48, "maj"), (55, "maj")]
    for bar in range(16):
        b0 = bar * 4
        root, q = prog[bar % 4]
        section_b = (bar // 8) % 2 == 1
        for beat in range(4):
            w.note("drums", KICK, b0 + beat, 0.2, 112, drum=True)
            w.note("drums", OPEN_HAT if section_b else HAT, b0 + beat + 0.5, 0.1, 80, drum=True)
            if beat in (1, 3):
                w.note("drums", CLAP, b0 + beat, 0.2, 100, drum=True)
        if bar % 8 == 0:
            w.note("drums", CRASH, b0, 1.0, 100, drum=True)
        for e in range(8):
            w.note("bass", root - 24 + (12 if e % 2 else 0), b0 + e / 2, 0.4, 96, program=38)
        for p in _chord(root, q):
            w.note("pad", p, b0, 3.9, 60, program=89)
        if section_b:
            arp = _chord(root + 12, q)
            for s in range(16):
                w.note("lead", arp[s % len(arp)], b0 + s / 4, 0.2, 75, program=81)
    return w


def _ballad(seed: int) -> _Writer:
    w = _Writer(78.0, seed)  # 3/4
    prog = [(48, "maj7"), (57, "min"), (53, "maj7"), (55, "7"), (52, "min"), (57, "min"), (50, "m7"), (55, "7")]
    for bar in range(14):
        b0 = bar * 3
        root, q = prog[bar % 8]
        ch = _chord(root, q)
        w.note("drums", KICK, b0, 0.3, 70, drum=True)
        for beat in range(3):
            w.note("drums", RIDE, b0 + beat, 0.3, 55 + 10 * (beat == 0), drum=True)
        w.note("drums", SNARE, b0 + 2, 0.2, 50, drum=True)
        w.note("bass", root - 12, b0, 1.9, 90, program=32)
        w.note("bass", root - 12 + 7, b0 + 2, 0.9, 80, program=32)
        for i, s in enumerate((0, 0.5, 1, 1.5, 2, 2.5)):
            w.note("piano", ch[[0, 1, 2, 1, len(ch) - 1, 1][i]] + 12, b0 + s, 0.6, 72, program=0)
        if bar >= 4:
            for p in ch:
                w.note("strings", p, b0, 2.95, 55, program=48)
    return w


def _rock(seed: int) -> _Writer:
    w = _Writer(140.0, seed)
    riff = [(40, 0), (40, 1.5), (43, 2), (45, 3)]
    for bar in range(18):
        b0 = bar * 4
        shift = [0, 0, 5, 3][(bar // 2) % 4]
        for beat in range(4):
            w.note("drums", KICK if beat in (0, 2) else SNARE, b0 + beat, 0.2, 110, drum=True)
            if bar % 4 == 3 and beat >= 2:
                for s in range(4):
                    w.note("drums", TOM_HI if s < 2 else TOM_LO, b0 + beat + s / 4, 0.2, 100, drum=True)
            else:
                for h in (0, 0.5):
                    w.note("drums", HAT, b0 + beat + h, 0.1, 75, drum=True)
        if bar % 4 == 0:
            w.note("drums", CRASH, b0, 1.5, 105, drum=True)
        for note, at in riff:
            for p in _chord(note + shift, "5"):
                w.note("guitar", p + 12, b0 + at, 0.9 if at < 3 else 0.45, 95, program=30)
        for e in range(8):
            w.note("bass", 28 + shift + (riff[min(3, e // 2)][0] - 40), b0 + e / 2, 0.45, 100, program=34)
    return w


PIECES = {"funk": _funk, "house": _house, "ballad": _ballad, "rock": _rock}


def render_music(name: str, folder: Path, seed: int = 1) -> Clip:
    folder.mkdir(parents=True, exist_ok=True)
    mid, wav = folder / f"{name}.mid", folder / f"{name}.wav"
    if not wav.exists():
        PIECES[name](seed).pm.write(str(mid))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", str(wav), str(SOUNDFONT),
                        str(mid)], check=True, capture_output=True)
    x, r = sf.read(str(wav), dtype="float32", always_2d=True)
    x = x.T / (np.abs(x).max() + 1e-9) * 0.7
    return Clip(name, "music", np.ascontiguousarray(x[:, : int(28 * r)]), r)


TEXTS = [
    "It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith, his chin nuzzled "
    "into his breast in an effort to escape the vile wind, slipped quickly through the glass doors of Victory "
    "Mansions, though not quickly enough to prevent a swirl of gritty dust from entering along with him.",
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and "
    "nothing particular to interest me on shore, I thought I would sail about a little and see the watery part "
    "of the world. It is a way I have of driving off the spleen and regulating the circulation.",
]


def render_speech(i: int, folder: Path) -> Clip:
    import soxr

    folder.mkdir(parents=True, exist_ok=True)
    voice = ("en-us", "en-gb+f3")[i % 2]
    wav = folder / f"speech{i}.wav"
    if not wav.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), TEXTS[i % len(TEXTS)]], check=True,
                       capture_output=True)
    x, r = sf.read(str(wav), dtype="float32")
    x = soxr.resample(x, r, RATE).astype(np.float32)
    x = x / (np.abs(x).max() + 1e-9) * 0.6
    return Clip(f"speech{i}", "speech", x[None, : int(20 * RATE)], RATE)


def make_noise(seed: int = 3, seconds: float = 20.0) -> Clip:
    """Rain-like: pink noise, slow swells, and scattered drops."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    white = rng.standard_normal((2, n))
    spec = np.fft.rfft(white, axis=1)
    f = np.fft.rfftfreq(n, 1 / RATE)
    spec /= np.sqrt(np.maximum(f, 20.0))[None, :]
    pink = np.fft.irfft(spec, n, axis=1)
    pink /= np.std(pink)
    swell = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(n) / RATE * 0.13 + np.array([[0.0], [0.7]]))
    x = 0.1 * pink * swell
    for _ in range(int(seconds * 25)):
        at = int(rng.integers(0, n - 2000))
        t = np.arange(2000) / RATE
        drop = np.sin(2 * np.pi * rng.uniform(1500, 4000) * t) * np.exp(-t * rng.uniform(150, 400))
        x[:, at:at + 2000] += rng.uniform(0.02, 0.12) * drop * rng.uniform(0.5, 1.0, (2, 1))
    x = x / np.abs(x).max() * 0.6
    return Clip("rain", "noise", x.astype(np.float32), RATE)


def dev_set(folder: Path, music: tuple[str, ...] = tuple(PIECES), speech: int = 2, noise: bool = True) -> list[Clip]:
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RuntimeError("the fill benchmark needs fluidsynth and fluid-soundfont-gm")
    clips = [render_music(name, folder) for name in music]
    clips += [render_speech(i, folder) for i in range(speech)]
    if noise:
        clips.append(make_noise())
    return clips
