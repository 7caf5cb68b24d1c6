"""Stem separation: quality, speed and memory of Seedwave's engines on a generated dev set.

    python -m bench.run separation        # full run, several minutes
    python -m bench.separation --quick    # a smoke run (not written to docs)

Dev set, made here: songs written as MIDI with pretty_midi (a random key, tempo
and chord progression; drums on channel 10, a bass line, piano chords and a
guitar arpeggio) and rendered stem by stem with FluidSynth and the FluidR3 General
MIDI soundfont; the vocals are espeak-ng speech in a different voice per song.
The mix is the sum of the stems, so the stems are exact references.

Metrics per stem: SDR (10·log10 |s|²/|s − ŝ|², the MDX-challenge definition;
no BSS-eval projection) and SI-SDR, averaged over songs; the real-time factor
(processing time / audio time, one song at a time, cache off). Systems: the
mixture itself as every stem's estimate (the floor any engine must beat);
a DSP-only split (REPET-SIM vocals, then the same HPSS/low-band split); and
Seedwave's default, Spleeter 2-stem vocals + the DSP split. HTDemucs runs only
when its checkpoints are installed (they are not in any wheel).

Memory: peak RSS of ``seedwave apply stems`` (a separate process, the CLI path:
file in, four files out) on long files, to show that it does not grow with the
input length.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .common import ensure_apt, stamp, table, workdir, write_section

RATE = 44100
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
STEMS = ("vocals", "drums", "bass", "other")
VOICES = ("en-us+m3", "en-gb+f3", "en-us+f2", "en-gb-scotland+m4", "en-029+m7", "en-us-nyc+f4")
LYRICS = (
    "Walking down the river in the morning light, every little shadow running out of sight.",
    "Hold on to the feeling, never let it go, all the summer evenings that we used to know.",
    "Tell me where the road goes when the city sleeps, I will follow gladly through the valleys deep.",
    "Every time the rain falls I remember you, singing on the platform when the trains came through.",
    "Light another candle, open up the door, we have been here many times and we will be here more.",
    "Over on the hillside where the wild wind blows, nobody is listening and nobody knows.",
)


# --------------------------------------------------------------------------- dev set


def _midi_song(seed: int, seconds: float, out: Path) -> dict[str, Path]:
    """One MIDI file per stem (drums, bass, other) for a random song."""
    import pretty_midi

    rng = np.random.default_rng(seed)
    tempo = float(rng.integers(88, 128))
    beat = 60.0 / tempo
    key = int(rng.integers(0, 12))
    progression = [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")]
    rng.shuffle(progression)
    bars = int(np.ceil(seconds / (4 * beat)))

    def pm(program: int, drum: bool = False):
        m = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        inst = pretty_midi.Instrument(program=program, is_drum=drum)
        m.instruments.append(inst)
        return m, inst

    def note(inst, pitch: int, start: float, length: float, vel: int) -> None:
        if start < seconds:
            inst.notes.append(pretty_midi.Note(vel, int(pitch), start, min(seconds, start + length)))

    drums, d = pm(0, drum=True)
    bass, b = pm(int(rng.choice([33, 34, 38])))  # fingered, picked or synth bass
    other, o = pm(int(rng.choice([0, 4, 1])))  # piano, electric piano
    guitar = pretty_midi.Instrument(program=int(rng.choice([24, 25, 27])))  # nylon, steel, clean guitar
    other.instruments.append(guitar)
    for bar in range(bars):
        t0 = bar * 4 * beat
        root, quality = progression[bar % 4]
        base = 48 + (key + root) % 12
        third = 3 if quality == "min" else 4
        for k in range(8):  # eighth-note hats, kick on 1 and 3, snare on 2 and 4
            t = t0 + k * beat / 2
            note(d, 42, t, 0.1, int(rng.integers(60, 90)))
            if k in (0, 4) or (k == 5 and rng.random() < 0.4):
                note(d, 36, t, 0.2, 110)
            if k in (2, 6):
                note(d, 38, t, 0.2, 100)
        for k, off in enumerate((0, 0, 7, 0)):
            note(b, base - 12 + off, t0 + k * beat, beat * 0.9, 100)
        for p in (base + 12, base + 12 + third, base + 19):
            note(o, p, t0, 4 * beat * 0.95, 70)
        for k in range(8):
            p = (base + 24, base + 24 + third, base + 31, base + 36)[k % 4]
            note(guitar, p, t0 + k * beat / 2, beat / 2, 65)
    paths = {}
    for name, m in (("drums", drums), ("bass", bass), ("other", other)):
        p = out / f"song{seed}-{name}.mid"
        m.write(str(p))
        paths[name] = p
    return paths


def _render(mid: Path, wav: Path) -> np.ndarray:
    if not wav.exists():
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", str(wav), str(SOUNDFONT),
                        str(mid)], check=True, capture_output=True)
    x, r = sf.read(wav, dtype="float32", always_2d=True)
    assert r == RATE
    return x.T.copy()


def _vocals(seed: int, seconds: float, out: Path) -> np.ndarray:
    wav = out / f"song{seed}-vocals-raw.wav"
    voice = VOICES[seed % len(VOICES)]
    text = " ".join(LYRICS[(seed + k) % len(LYRICS)] for k in range(3))
    if not wav.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-p", str(40 + 7 * seed % 30), "-w", str(wav), text],
                       check=True, capture_output=True)
    x, r = sf.read(wav, dtype="float32")
    x = soxr.resample(x, r, RATE).astype(np.float32)
    n = int(seconds * RATE)
    v = np.zeros(n, np.float32)
    start = int(0.5 * RATE)
    take = min(n - start, x.shape[0])
    v[start:start + take] = x[:take]
    v /= np.abs(v).max() + 1e-9
    return np.stack([v, 0.9 * v])  # slightly off-centre, like a real mix


def make_song(seed: int, seconds: float, out: Path) -> dict[str, np.ndarray]:
    mids = _midi_song(seed, seconds, out)
    n = int(seconds * RATE)
    stems = {}
    for name, mid in mids.items():
        x = _render(mid, out / f"song{seed}-{name}.wav")
        x = x[:, :n] if x.shape[1] >= n else np.pad(x, ((0, 0), (0, n - x.shape[1])))
        stems[name] = x
    stems["vocals"] = _vocals(seed, seconds, out)
    # Balance: vocals and band at similar loudness, then leave headroom.
    rms = {k: float(np.sqrt(np.mean(v ** 2))) + 1e-9 for k, v in stems.items()}
    target = {"vocals": 0.10, "drums": 0.08, "bass": 0.07, "other": 0.07}
    stems = {k: (stems[k] * (target[k] / rms[k])).astype(np.float32) for k in STEMS}
    mix = sum(stems.values())
    peak = float(np.abs(mix).max())
    if peak > 0.95:
        stems = {k: (v * (0.95 / peak)).astype(np.float32) for k, v in stems.items()}
    stems["mix"] = sum(stems[k] for k in STEMS).astype(np.float32)
    return stems


# --------------------------------------------------------------------------- metrics


def sdr(est: np.ndarray, ref: np.ndarray) -> float:
    ref = ref.astype(np.float64)
    err = ref - est.astype(np.float64)
    return float(10 * np.log10((np.sum(ref ** 2) + 1e-12) / (np.sum(err ** 2) + 1e-12)))


def si_sdr(est: np.ndarray, ref: np.ndarray) -> float:
    est = est.ravel().astype(np.float64)
    ref = ref.ravel().astype(np.float64)
    target = np.dot(est, ref) / (np.dot(ref, ref) + 1e-12) * ref
    return float(10 * np.log10((np.dot(target, target) + 1e-12) / (np.dot(est - target, est - target) + 1e-12)))


# --------------------------------------------------------------------------- systems


def run_mixture(mix: np.ndarray) -> dict[str, np.ndarray]:
    return {k: mix for k in STEMS}


def run_dsp_only(mix: np.ndarray) -> dict[str, np.ndarray]:
    from seedwave_plugins.stems.dsp_split import repet_sim_vocals, split_accompaniment

    out: dict[str, list[np.ndarray]] = {k: [] for k in STEMS}
    step = 60 * RATE  # the same window length as the effects, without cross-fades (songs are shorter)
    for a in range(0, mix.shape[1], step):
        x = mix[:, a:a + step]
        v = repet_sim_vocals(x, RATE)
        parts = split_accompaniment(x - v, RATE)
        out["vocals"].append(v)
        for k in ("drums", "bass", "other"):
            out[k].append(parts[k])
    return {k: np.concatenate(v, axis=1) for k, v in out.items()}


def run_model(model: str):
    def run(mix: np.ndarray) -> dict[str, np.ndarray]:
        from seedwave_plugins.stems import separate
        from seedwave_plugins.stems.engine import fold_to

        return fold_to(separate(mix, RATE, model, use_cache=False).read(), STEMS)

    return run


def run_old_default(mix: np.ndarray) -> dict[str, np.ndarray]:
    """The default before the learned splitter: Spleeter vocals, then the HPSS/low-band DSP split."""
    from seedwave_plugins.stems.dsp_split import split_accompaniment
    from seedwave_plugins.stems.spleeter import SpleeterModel

    global _SPLEETER
    if _SPLEETER is None:
        _SPLEETER = SpleeterModel("cpu")
    out: dict[str, list[np.ndarray]] = {k: [] for k in STEMS}
    step = 60 * RATE
    for a in range(0, mix.shape[1], step):
        x = mix[:, a:a + step]
        v = _SPLEETER.vocals(x)
        parts = split_accompaniment(x - v, RATE)
        out["vocals"].append(v)
        for k in ("drums", "bass", "other"):
            out[k].append(parts[k])
    return {k: np.concatenate(v, axis=1) for k, v in out.items()}


_SPLEETER = None


def run_splitter_only(mix: np.ndarray) -> dict[str, np.ndarray]:
    """Seedwave's learned splitter alone, all four stems (no Spleeter)."""
    from seedwave_plugins.stems.splitter import separate

    return separate(mix)


def held_out_songs(seconds: float, count: int) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Songs from the training generator (training/corpus.py) with seeds and soundfonts the splitter
    never saw: ``in-domain dev`` (FluidR3 / Csound GM, seeds 1000+) and ``held-out soundfonts``
    (TimGM6mb / MuseScore General, seeds 2000+)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.corpus import HELD_OUT_SOUNDFONTS, TRAIN_SOUNDFONTS, make_songs
    from training.corpus import STEMS as C_STEMS

    out = []
    for label, base, fonts in (("in-domain dev", 1000, TRAIN_SOUNDFONTS), ("held-out soundfonts", 2000,
                                                                          HELD_OUT_SOUNDFONTS)):
        for i, sfont in enumerate(fonts):
            seeds = [base + 100 + 2 * k + i for k in range(max(1, count // len(fonts)))]
            for song in make_songs(seeds, seconds, sfont):
                song = {k: song[k] for k in C_STEMS}
                peak = float(np.abs(sum(song.values())).max())
                if peak > 0.95:
                    song = {k: (v * 0.95 / peak).astype(np.float32) for k, v in song.items()}
                song["mix"] = sum(song[k] for k in STEMS).astype(np.float32)
                out.append((label, song))
    return out


def _installed(model: str) -> bool:
    from seedwave_plugins.stems import model_status

    return bool(model_status(model)["installed"])


# --------------------------------------------------------------------------- memory


def _long_file(songs: list[dict[str, np.ndarray]], minutes: float, path: Path) -> Path:
    """The dev songs looped to ``minutes``, each pass at a slightly different level (so
    no 60 s window repeats an earlier one exactly and none comes from the stem cache)."""
    if path.exists():
        return path
    loop = np.concatenate([s["mix"] for s in songs], axis=1)
    n = int(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 2, "PCM_16") as f:
        done = 0
        rep = 0
        while done < n:
            k = min(loop.shape[1], n - done)
            f.write((loop[:, :k] * (1.0 - 0.01 * rep)).T)
            done += k
            rep += 1
    return path


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) // 1024
    except OSError:
        pass
    return out


def _cli_peak(src: Path, outdir: Path, cache: Path) -> dict[str, float]:
    """Time and memory of ``seedwave apply stems`` in a fresh process, sampled from /proc every 0.2 s.

    Two phases: separating (stems stream into block files) and writing the WAV
    files (the CLI reads the stems back through memory-mapped blocks). RSS counts
    the mapped file pages too (page cache the kernel can reclaim); anonymous RSS
    is the memory the process really holds.
    """
    shutil.rmtree(cache, ignore_errors=True)  # nothing cached: every window is computed
    shutil.rmtree(outdir, ignore_errors=True)
    env = {**os.environ, "SEEDWAVE_CACHE": str(cache)}
    cmd = [sys.executable, "-m", "editor.cli", "apply", "stems", str(src), str(outdir), "-q", "--device", "cpu"]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"anon": 0, "rss_separating": 0, "rss_writing": 0}
    separated_at = None
    while proc.poll() is None:
        st = _status(proc.pid)
        writing = outdir.is_dir() and any(outdir.iterdir())
        if writing and separated_at is None:
            separated_at = time.perf_counter() - t
        key = "rss_writing" if writing else "rss_separating"
        peak[key] = max(peak[key], st.get("VmRSS", 0))
        peak["anon"] = max(peak["anon"], st.get("RssAnon", 0))
        time.sleep(0.2)
    secs = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "seedwave apply failed")
    return {"seconds": secs, "separating_seconds": separated_at or secs, **peak}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.separation")
    ap.add_argument("--quick", action="store_true", help="two short songs, no long files, no docs")
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--section", default="separation",
                    help="docs/benchmarks/<section>.md to write (a run without --long may use another name, "
                         "so the memory table of the last full run stays)")
    ap.add_argument("--held-out-songs", type=int, default=4, help="songs per held-out set")
    ap.add_argument("--held-out", action=argparse.BooleanOptionalAction, default=True,
                    help="also score on songs from the training generator (unseen seeds and soundfonts)")
    ap.add_argument("--song-minutes", type=float, default=3.5,
                    help="time the default on one stereo song this long (0 = skip)")
    ap.add_argument("--long", type=float, nargs="*", default=[2.0, 15.0],
                    help="minutes of audio for the memory test (--long 60 measures an hour, ~30 min of CPU)")
    args = ap.parse_args(argv)
    if args.quick:
        args.songs, args.seconds, args.long = 2, 12.0, []
    ensure_apt("fluidsynth", "fluid-soundfont-gm", "espeak-ng")
    os.environ.setdefault("SEEDWAVE_CACHE", str(workdir("separation") / "cache"))
    wd = workdir("separation")
    print(f"making {args.songs} songs of {args.seconds:g} s ...", flush=True)
    songs = [make_song(seed, args.seconds, wd) for seed in range(args.songs)]

    from seedwave_plugins.stems.splitter import available as splitter_available

    systems = [("mixture (no separation)", run_mixture), ("DSP only (REPET-SIM + HPSS)", run_dsp_only),
               ("Spleeter + DSP split (old default)", run_old_default)]
    if splitter_available():
        systems += [("Seedwave splitter alone (4 stems)", run_splitter_only),
                    ("Spleeter vocals + Seedwave splitter (default)", run_model("spleeter"))]
    unavailable = []
    for m in ("htdemucs", "htdemucs_ft", "htdemucs_6s"):
        if _installed(m):
            systems.append((m, run_model(m)))
        else:
            unavailable.append(m)
    run_model("spleeter")(songs[0]["mix"][:, :RATE])  # load the model and imports outside the timing

    rows_sdr, rows_si, rows_rtf = [], [], []
    audio_seconds = sum(s["mix"].shape[1] for s in songs) / RATE
    extra_sets = held_out_songs(args.seconds, 2 if args.quick else args.held_out_songs) if args.held_out else []
    set_names = list(dict.fromkeys(label for label, _ in extra_sets))
    rows_sets: dict[str, list] = {label: [] for label in set_names}
    for name, fn in systems:
        per: dict[str, list[float]] = {k: [] for k in STEMS}
        per_si: dict[str, list[float]] = {k: [] for k in STEMS}
        t = time.perf_counter()
        for s in songs:
            est = fn(s["mix"])
            for k in STEMS:
                per[k].append(sdr(est[k], s[k]))
                per_si[k].append(si_sdr(est[k], s[k]))
        secs = time.perf_counter() - t
        print(f"{name}: {secs:.1f} s", flush=True)
        mean = {k: float(np.mean(v)) for k, v in per.items()}
        mean_si = {k: float(np.mean(v)) for k, v in per_si.items()}
        rows_sdr.append([name, *[mean[k] for k in STEMS], float(np.mean(list(mean.values())))])
        rows_si.append([name, *[mean_si[k] for k in STEMS], float(np.mean(list(mean_si.values())))])
        if fn is not run_mixture:
            rows_rtf.append([name, "CPU", secs / audio_seconds])
        for label in set_names:
            per_set: dict[str, list[float]] = {k: [] for k in STEMS}
            for lab, s in extra_sets:
                if lab != label:
                    continue
                est = fn(s["mix"])
                for k in STEMS:
                    if np.sum(s[k] ** 2) > 1e-6:
                        per_set[k].append(sdr(est[k], s[k]))
            m = {k: float(np.mean(v)) for k, v in per_set.items()}
            rows_sets[label].append([name, *[m[k] for k in STEMS], float(np.mean(list(m.values())))])
            print(f"  {label}: {rows_sets[label][-1]}", flush=True)

    # Cached second run, and live-preview remix speed.
    from seedwave_plugins.stems import StemMix, remix, separate

    separate(songs[0]["mix"], RATE, "spleeter")
    t = time.perf_counter()
    stems = separate(songs[0]["mix"], RATE, "spleeter")
    cached = time.perf_counter() - t
    settings = {"vocals": StemMix(gain_db=-6.0, pan=0.3), "drums": StemMix(gain_db=3.0)}
    t = time.perf_counter()
    reps = 50
    for i in range(reps):
        remix(stems, settings, i * 100, i * 100 + 5 * RATE)
    remix_ms = (time.perf_counter() - t) / reps * 1000

    song_rows = []
    if args.song_minutes > 0:
        loop = np.concatenate([s["mix"] for s in songs], axis=1)
        n = int(args.song_minutes * 60 * RATE)
        long_song = np.tile(loop, (1, int(np.ceil(n / loop.shape[1]))))[:, :n].copy()
        timed = [("Spleeter + DSP split (old default)", run_old_default)]
        if splitter_available():
            timed += [("Seedwave splitter alone (4 stems)", run_splitter_only),
                      ("Spleeter vocals + Seedwave splitter (default)", run_model("spleeter"))]
        for name, fn in timed:
            t = time.perf_counter()
            fn(long_song)
            song_rows.append([name, time.perf_counter() - t])
            print(f"{args.song_minutes:g} min song, {name}: {song_rows[-1][1]:.1f} s", flush=True)

    mem_rows = []
    for minutes in args.long:
        src = _long_file(songs, minutes, wd / f"long-{minutes:g}min.wav")
        m = _cli_peak(src, wd / f"long-{minutes:g}min-stems", wd / "cache-long")
        print(f"{minutes:g} min: {m}", flush=True)
        mem_rows.append([f"{minutes:g} min stereo 44.1 kHz", m["seconds"], m["separating_seconds"] / (minutes * 60),
                         int(m["anon"]), int(m["rss_separating"]), int(m["rss_writing"])])

    head = ["system", *STEMS, "mean"]
    md = [
        "## Stem separation",
        "",
        stamp(),
        "",
        f"Load average when it finished: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other jobs shared "
        "the machine, so the times are pessimistic).",
        "",
        f"Dev set (other generator): {args.songs} songs of {args.seconds:g} s from this benchmark's own MIDI "
        "generator, never used in training (pretty_midi, rendered stem by stem with FluidSynth + FluidR3 GM: "
        "drums on channel 10, bass, piano + guitar as \"other\"; English espeak-ng speech as vocals), 44.1 kHz "
        "stereo. Mean over songs, dB, higher is better. SDR is 10·log10 of reference over error energy (no "
        "BSS-eval projection). Systems: the mixture as every estimate (the floor); REPET-SIM vocals + the "
        "HPSS/low-band split (no model); the old default, Spleeter vocals + that DSP split; Seedwave's splitter "
        "alone (all four stems from the network trained in training/, docs/SEPARATION.md); the new default, "
        "Spleeter vocals + the splitter's drums, bass and other.",
        "",
        "**SDR (dB)**",
        "",
        table(head, rows_sdr),
        "",
        *[line for label in set_names for line in (
            f"**SDR (dB), {label}** ({sum(1 for lab, _ in extra_sets if lab == label)} songs of "
            f"{args.seconds:g} s from the training generator, training/corpus.py: "
            + ("FluidR3 GM and the Csound GM bank, the training soundfonts, with seeds never trained on"
               if label == "in-domain dev" else
               "TimGM6mb and MuseScore General, soundfonts the splitter never heard")
            + "; espeak-ng voices in many languages as vocals)", "", table(head, rows_sets[label]), "")],
        "**SI-SDR (dB)**",
        "",
        table(head, rows_si),
        "",
        "**Speed** (real-time factor = processing time / audio time; one song at a time, cache off, model "
        "already loaded)",
        "",
        table(["system", "device", "RTF"], rows_rtf),
        "",
        *([f"**A {args.song_minutes:g}-minute stereo song** (the dev songs looped; cache off, model loaded; "
           "seconds on this CPU, shared with other jobs)", "",
           table(["system", "seconds"], song_rows), ""] if song_rows else []),
        f"GPU timings: not available this session (no GPU). Separating a {args.seconds:g} s song again takes "
        f"{cached * 1000:.0f} ms (every window from the stem cache, no model run). Remixing 5 s of 4 stereo "
        f"stems for preview takes {remix_ms:.1f} ms.",
        "",
    ]
    if unavailable:
        md += [f"Not measured: {', '.join(unavailable)}. Their official checkpoints are not in any wheel and "
               "this machine is offline; the HTDemucs path is tested end to end with a tiny random-weight "
               "model (tests/test_stems.py). Published MUSDB18-HQ SDR: htdemucs 9.0 dB, htdemucs_ft 9.2 dB.", ""]
    if mem_rows:
        md += [
            "**Memory on long files** (`seedwave apply stems IN OUTDIR`, Spleeter + DSP split, CPU, a fresh "
            "process; stems stream to disk in 60 s windows)",
            "",
            table(["input", "seconds in all", "RTF (separating)", "peak anonymous RSS (MB)",
                   "peak RSS separating (MB)", "peak RSS writing WAVs (MB)"], mem_rows),
            "",
            "Anonymous RSS is the memory the process holds; it depends on the 60 s window, not on the input "
            "length (it creeps up slowly from allocator fragmentation, then levels off). Total RSS also counts "
            "the pages of memory-mapped files: while the CLI reads the finished stems back from the block cache "
            "to write the WAV files, the mapped pages of all four stems count (page cache that the kernel "
            "reclaims under pressure, not memory the process needs), so that figure grows with the output size.",
        ]
    text = "\n".join(md)
    if args.quick:
        print(text)
    else:
        write_section(args.section, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
