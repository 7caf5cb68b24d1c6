"""Denoise on a 10-minute file: ``seedwave apply denoise`` wall time, start-up included.

    python -m bench.run denoise_long --write-docs     # writes docs/benchmarks/denoise_long.md
    python -m bench.denoise_long --seconds 60          # a short smoke run (not written to docs)

The file: espeak-ng talkers reading sentences one after another (pauses between
them, as in a talk), under pink noise with mains hum at 5 dB SNR, 48 kHz 16-bit.
The stereo file has different noise in each channel and the speech 0.3 ms later
on the right, so the channels are not copies of each other (copies are
denoised once). Each run is a fresh ``seedwave apply denoise IN OUT -q``
process with the default engine (DeepFilterNet3): wall time from launch to exit,
and the CPU time of the process.

Anchors in the same run: the same command limited to one core (``taskset``), and
the engine alone on one core (DeepFilterNet3's C runtime over one channel, no
Seedwave around it), which is the floor: the work cannot be done with less CPU
time than that, so two cores cannot take less than half of it.
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

from .common import ROOT, stamp, table, workdir, write_section
from .denoise import RATE, TARGETS, hum, pink, say

SNR_DB = 5.0


def talk(seconds: float, out: Path, seed: int) -> np.ndarray:
    """Sentences by several talkers with short pauses, ``seconds`` long (mono, 48 kHz)."""
    rng = np.random.default_rng(seed)
    clips = [say(text, voice, out) for voice, text in TARGETS]
    parts, n, total = [], 0, int(seconds * RATE)
    while n < total:
        clip = clips[rng.integers(len(clips))]
        pause = np.zeros(int(rng.uniform(0.2, 0.8) * RATE), np.float32)
        parts += [clip, pause]
        n += clip.size + pause.size
    return np.concatenate(parts)[:total]


def noisy(clean: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bed = pink(clean.size, rng) + 0.3 * hum(clean.size, rng, 50.0)
    gain = np.sqrt(np.mean(clean ** 2) / np.mean(bed ** 2)) / 10 ** (SNR_DB / 20)
    return np.clip(clean + gain * bed, -1, 1).astype(np.float32)


def make_files(seconds: float, out: Path) -> dict[str, Path]:
    paths = {"mono": out / f"talk-{seconds:.0f}s-mono.wav", "stereo": out / f"talk-{seconds:.0f}s-stereo.wav"}
    if all(p.exists() for p in paths.values()):
        return paths
    clean = talk(seconds, out, seed=1)
    left = noisy(clean, seed=2)
    right = noisy(np.roll(clean, int(0.0003 * RATE)), seed=3)
    sf.write(paths["mono"], left, RATE, subtype="PCM_16")
    sf.write(paths["stereo"], np.stack([left, right]).T, RATE, subtype="PCM_16")
    return paths


def run_cli(src: Path, dst: Path, one_core: bool) -> tuple[float, float]:
    """(wall s, CPU s) of one ``seedwave apply denoise`` process."""
    cmd = [sys.executable, "-m", "editor", "apply", "denoise", str(src), str(dst), "-q"]
    if one_core:
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def engine_floor(src: Path, seconds: float = 60.0) -> float:
    """CPU seconds per second of one channel for DeepFilterNet3's C runtime alone."""
    from seedwave_plugins.denoise.engines import load_engine

    x, _ = sf.read(src, dtype="float32", frames=int(seconds * RATE))
    engine = load_engine("dfn3")
    c = time.process_time()
    engine.run(np.ascontiguousarray(x), lambda n: None)
    return (time.process_time() - c) / seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.denoise_long", description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0, help="length of the test file (default 600)")
    args = ap.parse_args(argv if argv is not None else [])
    if shutil.which("espeak-ng") is None:
        print("bench.denoise_long needs espeak-ng", file=sys.stderr)
        return 1
    out = workdir("denoise_long")
    paths = make_files(args.seconds, out)
    floor = engine_floor(paths["mono"], min(60.0, args.seconds))
    rows = []
    loads = []
    for label, key, one_core in (("mono, 2 cores", "mono", False), ("stereo, 2 cores", "stereo", False),
                                 ("mono, 1 core (anchor)", "mono", True)):
        if one_core and shutil.which("taskset") is None:
            continue
        wall, cpu = run_cli(paths[key], out / f"out-{key}.wav", one_core)
        loads.append(os.getloadavg()[0])
        channels = 2 if key == "stereo" else 1
        ideal = floor * args.seconds * channels / (1 if one_core else 2)
        rows.append([label, round(wall, 1), round(cpu, 1), round(cpu / (args.seconds * channels), 3),
                     round(ideal, 1), "yes" if wall < 60 else "no"])
    minutes = args.seconds / 60
    md = "\n".join([
        f"## Denoise on a {minutes:g}-minute file",
        "",
        stamp(),
        "",
        f"`seedwave apply denoise IN OUT -q` (DeepFilterNet3, the default), a fresh process per run, on a "
        f"{minutes:g}-minute talk (espeak-ng talkers, pink noise and 50 Hz hum at {SNR_DB:.0f} dB SNR, "
        "48 kHz 16-bit). Wall time includes start-up, reading and writing. *Engine floor* is the CPU time "
        "DeepFilterNet3's C runtime alone needs for the audio, divided by the cores: no scheduling can beat it.",
        "",
        table(["run", "wall s", "CPU s", "CPU s per channel-second", "engine floor s", "under 60 s"], rows),
        "",
        f"Engine alone: {floor:.3f} CPU s per second of one channel. Load average after each run: "
        + ", ".join(f"{v:.1f}" for v in loads) + " (this machine is shared; wall times are upper bounds "
        "when the load is above 2: with a load of 12 a process gets about a sixth of the two cores).",
        "",
        "Estimate for otherwise idle cores (CPU time divided by the cores; the parallel segments keep both "
        "cores busy except for the reading and writing between windows): "
        + ", ".join(f"{r[0]}: about {r[2] / (1 if '1 core' in r[0] else 2):.0f} s" for r in rows) + ".",
    ])
    if args.seconds == 600.0:
        write_section("denoise_long", md)
    else:
        print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
