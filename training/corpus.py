"""The generated corpus: songs rendered stem by stem, voices, noises. Deterministic from a seed.

A song is procedurally written MIDI (pretty_midi): a random tempo, key, metre,
chord progression and style (straight, swing, half-time, four-on-the-floor,
waltz, sparse ballad), drums on channel 10, a bass line, one to three "other"
parts drawn from most of the General MIDI families (keys, organ, guitar,
strings, brass, reeds, pipes, synth leads and pads, mallets) playing chords,
arpeggios or melodies. Each group is rendered on its own by FluidSynth with a
soundfont chosen by the caller, so the stems are exact references and the mix is
their sum. Vocals are espeak-ng speech (many languages and voices, varied pitch
and speed), placed in phrases with pauses.

Everything depends only on ``seed`` (numpy Generator, espeak-ng and FluidSynth
are deterministic), so the corpus, and the models trained on it, can be rebuilt
bit for bit. The split by seed and soundfont is in docs/SEPARATION.md.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 44100
SF_DIR = Path("/usr/share/sounds/sf2")
SOUNDFONTS = {
    "fluidr3": SF_DIR / "FluidR3_GM.sf2",
    "musescore": Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    "timgm6mb": SF_DIR / "TimGM6mb.sf2",
    "csound": SF_DIR / "sf_GMbank.sf2",
}
#: Soundfonts the models are trained on (FluidR3 GM, the Csound GM bank); TimGM6mb and
#: MuseScore General are held out for evaluation.
TRAIN_SOUNDFONTS = ("fluidr3", "csound")
HELD_OUT_SOUNDFONTS = ("timgm6mb", "musescore")
STEMS = ("vocals", "drums", "bass", "other")
GAP = 4.0

# General MIDI families for "other" (program ranges) and bass programs.
OTHER_PROGRAMS = (list(range(0, 8)) + list(range(8, 16)) + list(range(16, 24)) + list(range(24, 32))
                  + list(range(40, 52)) + list(range(56, 72)) + list(range(72, 80)) + list(range(80, 96)))
BASS_PROGRAMS = (32, 33, 34, 35, 36, 37, 38, 39, 43)
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-us-nyc", "de", "fr-fr", "es", "it", "pt", "nl", "sv",
          "pl", "cs", "fi", "hu", "ro", "tr", "el", "ru", "id", "sw", "cy", "eo")
VARIANTS = ("", "+m1", "+m3", "+m5", "+f1", "+f2", "+f3", "+f4", "+klatt", "+croak", "+whisper")
WORDS = ["morning", "river", "light", "shadow", "summer", "evening", "rain", "window", "city", "road", "valley",
         "candle", "door", "hillside", "wind", "follow", "remember", "singing", "trains", "platform", "gladly",
         "nobody", "listening", "every", "little", "time", "night", "across", "over", "under", "home", "heart", "away",
         "again", "always", "never", "tomorrow", "yesterday", "dancing", "falling", "rising", "golden", "silver",
         "ocean", "mountain", "fire", "stone", "paper", "letter", "story", "song", "voice", "dream"]

KICK, SNARE, CLAP, HAT, OPEN_HAT, PEDAL_HAT, RIDE, CRASH, TOMS = 36, 38, 39, 42, 46, 44, 51, 49, (41, 45, 47, 50)
QUALITIES = {"maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11),
             "sus4": (0, 5, 7), "dim": (0, 3, 6)}
PROGRESSIONS = (((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")), ((9, "min"), (5, "maj"), (0, "maj"), (7, "maj")),
                ((2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")), ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),
                ((0, "maj"), (5, "maj"), (0, "maj"), (7, "7")), ((0, "min"), (5, "min"), (7, "7"), (0, "min")),
                ((4, "min"), (9, "min"), (2, "maj"), (7, "maj")), ((0, "sus4"), (0, "maj"), (10, "maj"), (5, "maj")))


def _write_song(seed: int, seconds: float, style_seed_offset: int = 0) -> dict[str, object]:
    """PrettyMIDI objects for drums, bass and other of song ``seed``."""
    import pretty_midi

    rng = np.random.default_rng(10_000 + seed + style_seed_offset)
    style = str(rng.choice(["straight", "swing", "halftime", "four", "waltz", "ballad", "busy"]))
    tempo = float(rng.uniform(70, 150))
    beats_per_bar = 3 if style == "waltz" else 4
    beat = 60.0 / tempo
    key = int(rng.integers(0, 12))
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    bars = int(np.ceil(seconds / (beats_per_bar * beat))) + 1
    swing = 0.16 if style == "swing" else 0.0

    def song(program: int, drum: bool = False):
        m = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        inst = pretty_midi.Instrument(program=program, is_drum=drum)
        m.instruments.append(inst)
        return m, inst

    def add(inst, pitch: int, at_beat: float, length_beats: float, vel: int) -> None:
        frac = at_beat % 1.0
        if swing and abs(frac - 0.5) < 1e-6:
            at_beat += swing
        t = at_beat * beat + float(rng.normal(0, 0.006))
        if t >= seconds or not 0 <= pitch < 128:
            return
        v = int(np.clip(vel + rng.integers(-10, 11), 15, 127))
        end = min(seconds + 1, max(t + 0.03, t + length_beats * beat))
        inst.notes.append(pretty_midi.Note(v, int(pitch), max(0.0, t), end))

    drums, d = song(0, drum=True)
    bass, b = song(int(rng.choice(BASS_PROGRAMS)))
    n_other = int(rng.integers(1, 4))
    other, o0 = song(int(rng.choice(OTHER_PROGRAMS)))
    others = [o0]
    for _ in range(n_other - 1):
        inst = pretty_midi.Instrument(program=int(rng.choice(OTHER_PROGRAMS)))
        other.instruments.append(inst)
        others.append(inst)
    roles = [str(rng.choice(["chords", "arp", "melody", "pad"])) for _ in others]
    octaves = [int(rng.integers(0, 3)) for _ in others]
    hat_div = int(rng.choice([2, 4])) if style in ("straight", "four", "busy") else 2
    drums_on = rng.random() > 0.05
    for bar in range(bars):
        b0 = bar * beats_per_bar
        root, quality = prog[bar % len(prog)]
        base = 48 + (key + root) % 12
        chord = [base + s for s in QUALITIES[quality]]
        fill = bar % 4 == 3 and rng.random() < 0.6
        if drums_on:
            for k in range(beats_per_bar * hat_div):
                pos = b0 + k / hat_div
                in_beat = k % hat_div == 0
                beat_no = k // hat_div
                if fill and beat_no >= beats_per_bar - 1:
                    add(d, TOMS[int(rng.integers(4))], pos, 0.2, 100)
                    continue
                hat = RIDE if style in ("ballad", "swing") else (OPEN_HAT if rng.random() < 0.08 else HAT)
                if style != "ballad" or in_beat:
                    add(d, hat, pos, 0.1, 75 if in_beat else 55)
                if style == "four" and in_beat:
                    add(d, KICK, pos, 0.2, 112)
                    if beat_no % 2 == 1:
                        add(d, CLAP if rng.random() < 0.5 else SNARE, pos, 0.2, 100)
                elif style == "waltz":
                    if k == 0:
                        add(d, KICK, pos, 0.2, 100)
                    elif in_beat:
                        add(d, SNARE if rng.random() < 0.3 else PEDAL_HAT, pos, 0.2, 70)
                elif style == "halftime":
                    if k == 0 or (rng.random() < 0.15 and not in_beat):
                        add(d, KICK, pos, 0.2, 108)
                    if in_beat and beat_no == 2:
                        add(d, SNARE, pos, 0.2, 110)
                else:
                    if (in_beat and beat_no in (0, 2)) or (style == "busy" and rng.random() < 0.2):
                        add(d, KICK, pos, 0.2, 108)
                    if in_beat and beat_no in (1, 3):
                        add(d, SNARE, pos, 0.2, 104)
            if bar % 8 == 0:
                add(d, CRASH, b0, 1.0, 100)
        # bass
        pattern = int(rng.integers(4))
        for k in range(beats_per_bar * 2):
            pos = b0 + k / 2
            if pattern == 0 and k % 2:
                continue
            if pattern == 1 and k % 4 == 3:
                continue
            off = (0, 0, 7, 12, 0, 5, 7, 10)[int(rng.integers(8))] if pattern >= 2 else (0 if k % 4 < 2 else 7)
            add(b, base - 24 + off if base - 24 + off >= 28 else base - 12 + off, pos,
                0.45 if pattern != 0 else 0.9, 100)
        # others
        for inst, role, octv in zip(others, roles, octaves):
            shift = 12 * octv
            if role == "chords":
                hits = (0, 2) if beats_per_bar == 4 else (0,)
                for h in hits:
                    for p in chord:
                        add(inst, p + shift, b0 + h + (0.5 if style == "busy" else 0), 1.8, 72)
            elif role == "pad":
                for p in chord:
                    add(inst, p + shift, b0, beats_per_bar * 0.98, 60)
            elif role == "arp":
                for k in range(beats_per_bar * 2):
                    add(inst, chord[k % len(chord)] + shift + 12 * (k // len(chord) % 2), b0 + k / 2, 0.5, 68)
            else:  # melody from the scale, chord tones on strong beats
                scale = (0, 2, 4, 5, 7, 9, 11) if quality in ("maj", "maj7", "7", "sus4") else (0, 2, 3, 5, 7, 8, 10)
                pos = 0.0
                while pos < beats_per_bar:
                    length = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
                    if rng.random() < 0.85:
                        pitch = (chord[int(rng.integers(len(chord)))] if pos % 2 == 0
                                 else base + scale[int(rng.integers(7))])
                        add(inst, pitch + 12 + shift, b0 + pos, length * 0.95, 80)
                    pos += length
    return {"drums": drums, "bass": bass, "other": other}


def render_midi(pms: list, soundfont: str, seconds: float) -> list[np.ndarray]:
    """Each PrettyMIDI of ``pms`` rendered (planar stereo float32 at RATE, exactly ``seconds`` long).

    One FluidSynth run for all of them (loading a compressed soundfont takes seconds):
    the parts are laid end to end with ``GAP`` seconds of silence between them for
    the release tails, and cut apart afterwards.
    """
    import pretty_midi

    n = int(round(seconds * RATE))
    hop = seconds + GAP
    joined = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    for k, pm in enumerate(pms):
        for inst in pm.instruments:
            new = pretty_midi.Instrument(program=inst.program, is_drum=inst.is_drum)
            for note in inst.notes:
                if note.start < seconds:
                    new.notes.append(pretty_midi.Note(note.velocity, note.pitch, note.start + k * hop,
                                                      min(note.end, seconds + GAP / 2) + k * hop))
            joined.instruments.append(new)
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "x.mid", Path(tmp) / "x.wav"
        joined.write(str(mid))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(RATE), "-F", str(wav),
                        str(SOUNDFONTS[soundfont]), str(mid)], check=True, capture_output=True)
        x, r = sf.read(str(wav), dtype="float32", always_2d=True)
    assert r == RATE
    x = x.T
    need = int(round((len(pms) - 1) * hop * RATE)) + n
    if x.shape[1] < need:
        x = np.pad(x, ((0, 0), (0, need - x.shape[1])))
    return [np.ascontiguousarray(x[:, int(round(k * hop * RATE)):int(round(k * hop * RATE)) + n])
            for k in range(len(pms))]


def espeak(text: str, voice: str, pitch: int, speed: int, rate: int = RATE) -> np.ndarray:
    """Mono float32 speech at ``rate``."""
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "v.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        x, r = sf.read(str(wav), dtype="float32")
    return soxr.resample(x, r, rate).astype(np.float32) if r != rate else x


def voice_track(seed: int, seconds: float) -> np.ndarray:
    """Phrases of espeak-ng speech with pauses, planar stereo with a random pan."""
    rng = np.random.default_rng(20_000 + seed)
    n = int(round(seconds * RATE))
    out = np.zeros(n, np.float32)
    pos = int(rng.uniform(0, 1.5) * RATE)
    while pos < n:
        voice = str(rng.choice(VOICES)) + str(rng.choice(VARIANTS))
        words = " ".join(rng.choice(WORDS, int(rng.integers(4, 12))))
        x = espeak(words, voice, int(rng.integers(20, 90)), int(rng.integers(110, 190)))
        x = x / (np.abs(x).max() + 1e-9) * float(rng.uniform(0.5, 1.0))
        k = min(n - pos, x.size)
        out[pos:pos + k] += x[:k]
        pos += k + int(rng.uniform(0.1, 1.5) * RATE)
    pan = float(rng.uniform(-0.3, 0.3))
    return np.stack([out * np.sqrt(0.5 - pan / 2) * 1.41, out * np.sqrt(0.5 + pan / 2) * 1.41]).astype(np.float32)


def make_songs(seeds: list[int], seconds: float, soundfont: str,
               with_vocals: bool = True) -> list[dict[str, np.ndarray]]:
    """Stems (planar stereo float32 at RATE) of songs ``seeds`` rendered with ``soundfont``; levels balanced."""
    written = [_write_song(seed, seconds) for seed in seeds]
    parts = [w[k] for w in written for k in ("drums", "bass", "other")]
    audio = render_midi(parts, soundfont, seconds)
    songs = []
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(30_000 + seed)
        stems = dict(zip(("drums", "bass", "other"), audio[3 * i:3 * i + 3]))
        stems["vocals"] = voice_track(seed, seconds) if with_vocals else np.zeros_like(stems["drums"])
        target_db = {"vocals": rng.uniform(-22, -16), "drums": rng.uniform(-26, -18),
                     "bass": rng.uniform(-26, -19), "other": rng.uniform(-26, -18)}
        out = {}
        for k in STEMS:
            x = stems[k]
            r = float(np.sqrt(np.mean(x ** 2)))
            out[k] = (x * (10 ** (target_db[k] / 20) / r)).astype(np.float32) if r > 1e-6 else x
        songs.append(out)
    return songs


def make_song(seed: int, seconds: float, soundfont: str, with_vocals: bool = True) -> dict[str, np.ndarray]:
    """One song's stems (see :func:`make_songs`)."""
    return make_songs([seed], seconds, soundfont, with_vocals)[0]


def noise_clip(seed: int, seconds: float) -> np.ndarray:
    """A noise or room tone (coloured noise, hum, rain-like drops, slow swells), planar stereo."""
    rng = np.random.default_rng(40_000 + seed)
    n = int(round(seconds * RATE))
    white = rng.standard_normal((2, n))
    spec = np.fft.rfft(white, axis=1)
    f = np.fft.rfftfreq(n, 1 / RATE)
    slope = float(rng.uniform(0.0, 2.0))  # 0 white, 1 pink, 2 brown
    spec /= np.maximum(f, 20.0)[None, :] ** (slope / 2)
    lo, hi = float(rng.uniform(20, 400)), float(rng.uniform(2000, 20000))
    spec *= ((f > lo) & (f < hi))[None, :] + 0.05
    x = np.fft.irfft(spec, n, axis=1)
    x /= np.std(x) + 1e-9
    x *= 1.0 + float(rng.uniform(0, 0.4)) * np.sin(2 * np.pi * np.arange(n) / RATE * rng.uniform(0.05, 0.5))
    if rng.random() < 0.4:
        hz = float(rng.choice([50.0, 60.0]))
        t = np.arange(n) / RATE
        x += float(rng.uniform(0.2, 1.0)) * sum(np.sin(2 * np.pi * hz * h * t) / h for h in (1, 2, 3))
    if rng.random() < 0.4:
        for _ in range(int(seconds * rng.uniform(5, 40))):
            at = int(rng.integers(0, max(1, n - 2000)))
            t = np.arange(2000) / RATE
            x[:, at:at + 2000] += (rng.uniform(1, 4) * np.sin(2 * np.pi * rng.uniform(800, 5000) * t)
                                   * np.exp(-t * rng.uniform(100, 500)))
    return (x / np.abs(x).max() * rng.uniform(0.05, 0.5)).astype(np.float32)


def build_stem_corpus(folder: Path, seeds: range, seconds: float, soundfonts: tuple[str, ...],
                      with_vocals: bool = True, batch: int = 12) -> list[Path]:
    """Render (or reuse) one .npz per seed: the four stems as float16, planar stereo.

    Seed ``s`` is rendered with ``soundfonts[s % len(soundfonts)]``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[int, Path] = {s: folder / f"song{s:05d}-{soundfonts[s % len(soundfonts)]}.npz" for s in seeds}
    for sfont in soundfonts:
        todo = [s for s in seeds if soundfonts[s % len(soundfonts)] == sfont and not paths[s].exists()]
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            for seed, stems in zip(chunk, make_songs(chunk, seconds, sfont, with_vocals)):
                tmp = paths[seed].with_suffix(".tmp.npz")
                np.savez(tmp, **{k: v.astype(np.float16) for k, v in stems.items()})
                tmp.rename(paths[seed])
    return [paths[s] for s in seeds]


def orchestral_piece(seed: int, seconds: float, soundfont: str) -> np.ndarray:
    """Beatless orchestral music (strings, brass, woodwinds, harp, timpani rolls; slow, rubato), planar stereo.

    Material for judging Fill's Auto choice: no drum pulse, sustained notes, swells.
    """
    import pretty_midi

    rng = np.random.default_rng(50_000 + seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=60.0)
    families = [48, 49, 50, 42, 43, 60, 61, 57, 68, 71, 73, 70, 46, 52]
    chosen = rng.choice(families, int(rng.integers(2, 5)), replace=False)
    parts = [pretty_midi.Instrument(program=int(p)) for p in chosen]
    pm.instruments.extend(parts)
    key = int(rng.integers(0, 12))
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    t = 0.0
    i = 0
    while t < seconds:
        dur = float(rng.uniform(1.2, 3.5))  # rubato: every chord its own length
        root, quality = prog[i % len(prog)]
        chord = [48 + (key + root) % 12 + s for s in QUALITIES[quality]]
        for inst in parts:
            if inst.program == 46:  # harp: a rolled arpeggio
                for k, p in enumerate(chord + [c + 12 for c in chord]):
                    at = t + k * dur / 8
                    inst.notes.append(pretty_midi.Note(int(rng.integers(50, 80)), p + 12, at, at + dur))
                continue
            octave = 12 * int(rng.integers(-1, 2))
            for p in chord:
                v = int(rng.integers(40, 90))
                inst.notes.append(pretty_midi.Note(v, p + octave + 12, t + float(rng.uniform(0, 0.15)), t + dur + 0.2))
            if rng.random() < 0.5:  # a melody line over the chord
                m_t = t
                while m_t < t + dur:
                    ln = float(rng.uniform(0.3, 1.2))
                    inst.notes.append(pretty_midi.Note(int(rng.integers(55, 95)), chord[int(rng.integers(3))] + 24,
                                                       m_t, min(t + dur, m_t + ln)))
                    m_t += ln
        t += dur
        i += 1
    return render_midi([pm], soundfont, seconds)[0]


def speech_clip(seed: int, seconds: float) -> np.ndarray:
    """Mono read speech (espeak-ng; voice, language, pitch and speed from ``seed``), planar (1, n)."""
    rng = np.random.default_rng(60_000 + seed)
    voice = str(rng.choice(VOICES)) + str(rng.choice(VARIANTS))
    n = int(round(seconds * RATE))
    parts = []
    total = 0
    while total < n:
        words = " ".join(rng.choice(WORDS, int(rng.integers(6, 16)))) + "."
        x = espeak(words, voice, int(rng.integers(25, 80)), int(rng.integers(130, 180)))
        parts += [x, np.zeros(int(rng.uniform(0.15, 0.6) * RATE), np.float32)]
        total += x.size + parts[-1].size
    y = np.concatenate(parts)[:n]
    return (y / (np.abs(y).max() + 1e-9) * 0.6)[None].astype(np.float32)
