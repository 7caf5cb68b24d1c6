"""Mix rendering and export speed.

* 16 stereo tracks of 10 minutes (48 kHz, 16-bit WAV, different content each):
  import (aliased), then render the whole mix; the same 16 files mixed by
  ``sox -m`` in the same run for comparison.
* A 1-hour stereo project (six of those files end to end on one track, cached
  float32 blocks as after a save) exported to WAV, FLAC and MP3, and to FLAC
  normalised to -14 LUFS / -1 dBTP.

* The same 16 tracks saved as a project and rendered by ``seedwave render
  PROJECT OUT.wav`` as a whole process (start-up, loading, mixing, dither,
  writing), against ``sox -m`` writing the same mix in the same run.
* Live inserts: an EQ + compressor + reverb chain on every one of the 16
  tracks, rendered with the chains' state carried from block to block, on one
  thread and on the renderer's worker threads.

Audacity's reference on its own benchmark machine: 6.0 s to mix 16 ten-minute
tracks, 32 s to export an hour to FLAC.

Every timing is taken warm (after one untimed run), because on this machine the
first touch of fresh memory pages and the first read of a file dominate: a cold
run mostly measures the kernel (see the notes written with the results).

    python -m bench.render [--minutes M] [--tracks N] [--insert-minutes M] [--skip-hour]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from .common import ensure_apt, peak_rss_mb, stamp, table, time_command, workdir, write_section

RATE = 48000


def make_track(path: Path, index: int, seconds: float) -> None:
    """A different 16-bit stereo signal per index: a chord, pulsed noise and a sweep."""
    rng = np.random.default_rng(index)
    base = 110.0 * 2 ** (index / 12)
    step = RATE * 10
    total = int(seconds * RATE)
    with sf.SoundFile(str(path), "w", RATE, 2, "PCM_16") as f:
        for s in range(0, total, step):
            n = min(step, total - s)
            t = (s + np.arange(n)) / RATE
            tone = sum(np.sin(2 * np.pi * base * m * t + index) / m for m in (1, 1.5, 2, 3))
            pulse = (np.sin(2 * np.pi * (0.5 + index / 8) * t) > 0.3).astype(np.float64)
            noise = rng.standard_normal((2, n)) * pulse
            sweep = np.sin(2 * np.pi * (200 + 50 * index) * t * (1 + 0.001 * (t % 10)))
            left = 0.08 * tone + 0.05 * noise[0] + 0.04 * sweep
            right = 0.08 * tone + 0.05 * noise[1] - 0.04 * sweep
            f.write(np.stack([left, right], axis=1).astype(np.float32))


def make_tracks(folder: Path, count: int, seconds: float) -> list[Path]:
    paths = []
    for i in range(count):
        p = folder / f"track{i:02d}_{int(seconds)}s.wav"
        if not p.exists() or sf.info(str(p)).frames != int(seconds * RATE):
            make_track(p, i, seconds)
        paths.append(p)
    return paths


def build_project(paths: list[Path]):
    """One track per file (aliased import), each with its own gain and pan."""
    from editor.core.audio_io import import_audio
    from editor.core.edits import add_track, set_track
    from editor.core.model import Clip, Project

    project = Project(sample_rate=RATE, name="bench")
    for i, p in enumerate(paths):
        imp = import_audio(p)
        project = add_track(project, p.stem, (Clip(imp.sequences[0], 0),))
        tid = project.tracks[-1].id
        project = set_track(project, tid, gain_db=-12.0 - (i % 3), pan=-0.8 + 1.6 * i / max(1, len(paths) - 1))
    return project


def hour_project(paths: list[Path], store):
    """Files end to end on one track to make an hour, blocks cached as after a save."""
    from editor.core.audio_io import import_audio
    from editor.core.edits import add_track
    from editor.core.model import Clip, Project

    clips = []
    pos = 0
    for p in paths:
        imp = import_audio(p)
        store.cache_aliases(imp.blocks())
        clips.append(Clip(imp.sequences[0], pos))
        pos += imp.sequences[0].frames
    return add_track(Project(sample_rate=RATE, name="hour"), "hour", tuple(clips))


def _rss_anon_mb() -> float:
    """Current private (anonymous) resident memory, without mapped files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def time_render(project) -> tuple[float, float]:
    """(wall, CPU) seconds to render the whole mix, discarding the output."""
    from editor.engine.renderer import render_chunks

    t, c = time.perf_counter(), time.process_time()
    for _pos, _chunk in render_chunks(project, 0, project.end):
        pass
    return time.perf_counter() - t, time.process_time() - c


def time_export(project, out: Path, **settings) -> tuple[float, float, str]:
    """(wall, CPU, report summary) of one export."""
    from editor.engine.export import ExportSettings, export_mix

    t, c = time.perf_counter(), time.process_time()
    report = export_mix(project, out, ExportSettings(**settings))
    return time.perf_counter() - t, time.process_time() - c, report.summary()


def time_child(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time_command(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _best(runs: list[tuple[float, ...]]) -> tuple[float, ...]:
    return min(runs, key=lambda r: r[0])


def saved_project(project, path: Path) -> Path:
    """The project saved as a .seedwave file (kept between runs: saving copies every block)."""
    from editor.core.projectfile import save_project

    if not path.exists():
        save_project(project, path)
    return path


def time_cli_render(project_path: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU) of ``seedwave render PROJECT OUT`` as a fresh process."""
    cmd = [sys.executable, "-m", "editor", "render", str(project_path), str(out), "--quiet", *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # warm: page cache, bytecode
    runs = [time_child(cmd) for _ in range(2)]
    out.unlink(missing_ok=True)
    return _best(runs)


_STAGES = """
import resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0 = cpu()
from editor.core.projectfile import load_project
from editor.engine.export import ExportSettings, export_mix
c1 = cpu()
p = load_project(sys.argv[1])
c2 = cpu()
export_mix(p, sys.argv[2], ExportSettings(format="wav", bits=int(sys.argv[3])))
c3 = cpu()
print(c1 - c0, c2 - c1, c3 - c2)
"""


def stage_breakdown(project_path: Path, out: Path, bits: int) -> tuple[float, float, float]:
    """CPU seconds of a fresh process's imports, project loading and export (warm)."""
    cmd = [sys.executable, "-c", _STAGES, str(project_path), str(out), str(bits)]
    runs = [tuple(float(v) for v in subprocess.run(cmd, check=True, capture_output=True, text=True)
                  .stdout.split()) for _ in range(2)]
    out.unlink(missing_ok=True)
    return min(runs, key=sum)


EQ_SETTINGS = {"low_cut": 40.0, "low_cut_slope": "12", "band2_gain": -3.0, "band4_gain": 2.5, "band6_gain": 2.0}


def ensure_classic_effects() -> None:
    """The classic effects in the registry (registered directly when their plugin
    is present but not yet installed as an entry point)."""
    from editor.effects.registry import registry

    reg = registry()
    if {"eq", "compressor", "reverb"} <= set(reg.ids()):
        return
    from seedwave_plugins.classic.dynamics import CompressorEffect
    from seedwave_plugins.classic.eq import EqEffect
    from seedwave_plugins.classic.space import ReverbEffect

    for cls in (EqEffect, CompressorEffect, ReverbEffect):
        reg.register(cls)


def with_inserts(project, reverb: bool = True):
    """Every track with an EQ + compressor (+ reverb) insert chain."""
    from editor.core.chain import Chain, ChainStep
    from editor.effects.registry import registry

    ensure_classic_effects()
    eq = registry().get("eq")
    eq_params = {k: v for k, v in EQ_SETTINGS.items() if k in {p.name for p in eq.params}}
    steps = [ChainStep.make("eq", eq_params), ChainStep.make("compressor", {})]
    if reverb:
        steps.append(ChainStep.make("reverb", {}))
    return project.with_(tracks=tuple(t.with_(inserts=Chain(tuple(ChainStep.make(s.effect_id, s.param_dict)
                                                                    for s in steps)))
                                      for t in project.tracks))


def time_insert_render(project, seconds: float, threads: int | None) -> tuple[float, float]:
    """(wall, CPU) to render the first ``seconds`` of a project with inserts, block by block."""
    import editor.effects  # noqa: F401 - installs the insert factory
    from editor.engine.renderer import Renderer

    stop = int(seconds * RATE)
    chunk = 1 << 16
    t, c = time.perf_counter(), time.process_time()
    with Renderer(project, threads=threads) as r:
        for pos in range(0, stop, chunk):
            r.render(pos, min(chunk, stop - pos))
    return time.perf_counter() - t, time.process_time() - c


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bench.render")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of each mix track")
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--hour-files", type=int, default=6, help="files end to end for the long export")
    ap.add_argument("--insert-minutes", type=float, default=2.0,
                    help="minutes of the mix rendered with insert chains on every track")
    ap.add_argument("--skip-hour", action="store_true", help="leave out the hour-long exports")
    args = ap.parse_args(argv)  # None: the command line
    ensure_apt("sox")
    from editor.core.store import BlockStore, set_default_store

    wd = workdir("render")
    store = BlockStore(wd / "blocks")
    set_default_store(store)
    seconds = args.minutes * 60
    t = time.perf_counter()
    paths = make_tracks(wd, args.tracks, seconds)
    gen_s = time.perf_counter() - t

    t = time.perf_counter()
    project = build_project(paths)
    import_s = time.perf_counter() - t
    audio_s = project.end / RATE
    cold = time_render(project)
    warm = _best([time_render(project) for _ in range(2)])

    def row(label: str, wall_cpu: tuple[float, ...], seconds: float) -> list:
        wall, cpu = wall_cpu[0], wall_cpu[1]
        return [label, wall, seconds / wall, cpu, seconds / cpu]

    sox = shutil.which("sox")
    sox_rows = []
    if sox:
        mixed = wd / "sox_mix.wav"
        cmd_null = [sox, "-m", *map(str, paths), "-n"]
        cmd_file = [sox, "-m", *map(str, paths), "-b", "16", str(mixed)]
        time_command(cmd_null)
        sox_null = _best([time_child(cmd_null) for _ in range(2)])
        sox_file = _best([time_child(cmd_file) for _ in range(2)])
        mixed.unlink(missing_ok=True)
        sox_rows = [
            row(f"sox -m, {args.tracks} files, null output", sox_null, audio_s),
            row(f"sox -m, {args.tracks} files, to 16-bit WAV", sox_file, audio_s),
        ]
    mix_wav = wd / "mix.wav"
    time_export(project, mix_wav, format="wav", bits=16)
    mix_export = time_export(project, mix_wav, format="wav", bits=16)
    mix_wav.unlink(missing_ok=True)

    proj_path = saved_project(project, wd / f"mix_{args.tracks}x{args.minutes:g}min.seedwave")
    cli_rows = [
        row("seedwave render PROJECT mix.wav (whole process, 24-bit)", time_cli_render(proj_path, mix_wav),
            audio_s),
        row("seedwave render PROJECT mix.wav --bits 16 (whole process)",
            time_cli_render(proj_path, mix_wav, "--bits", "16"), audio_s),
    ]
    if sox:
        cli_rows.append(row(f"sox -m, {args.tracks} files, to 16-bit WAV (same run, from above)", sox_file, audio_s))
    stages = {bits: stage_breakdown(proj_path, mix_wav, bits) for bits in (24, 16)}

    ins_s = min(args.insert_minutes * 60, audio_s)
    live = with_inserts(project)
    live_dry = with_inserts(project, reverb=False)
    n = args.tracks
    ins = [
        row(f"EQ + compressor + reverb on all {n} tracks, worker threads",
            time_insert_render(live, ins_s, None), ins_s),
        row(f"EQ + compressor + reverb on all {n} tracks, one thread", time_insert_render(live, ins_s, 1), ins_s),
        row(f"EQ + compressor on all {n} tracks, worker threads", time_insert_render(live_dry, ins_s, None), ins_s),
        row(f"no inserts, same {ins_s / 60:g} min", time_insert_render(project, ins_s, None), ins_s),
    ]
    from editor.engine.renderer import default_threads

    eq_text = ", ".join(f"{k}={v}" for k, v in EQ_SETTINGS.items())
    notes, bound = _insert_notes()

    rows = [
        row(f"render {args.tracks} tracks × {args.minutes:g} min (first run)", cold, audio_s),
        row(f"render {args.tracks} tracks × {args.minutes:g} min (warm)", warm, audio_s),
        row("export that mix to 16-bit WAV (warm)", mix_export, audio_s),
        *sox_rows,
        ["Audacity reference: mix 16 × 10 min", 6.0, 600 / 6.0, "-", "-"],
    ]

    if args.skip_hour:
        hour_rows, summaries = [], []
    else:
        hour_rows, summaries = hour_exports(paths[: args.hour_files], store, wd, row)
    cols = ["what", "wall s", "× real time (wall)", "CPU s", "× real time (CPU)"]
    md = [
        "## Mix rendering and export",
        "",
        stamp(),
        "",
        f"{args.tracks} stereo WAV files of {args.minutes:g} min at 48 kHz/16-bit (generated in "
        f"{gen_s:.0f} s, imported as aliases in {import_s:.1f} s); each track has its own gain and pan.",
        "",
        table(cols, rows),
        "",
        "### The whole `seedwave render` process",
        "",
        f"The same {args.tracks} tracks saved as a project (every block copied into the file as float32, "
        f"{proj_path.stat().st_size / 2**30:.1f} GiB, in the page cache after a first run) and rendered to WAV "
        "by a fresh `seedwave render` process: Python start-up, imports, loading, mixing on two threads, "
        "dither and writing overlapped with the mixing. CPU is the process's user + system time. "
        "Target: at most 1.5 s wall.",
        "",
        table(cols, cli_rows),
        "",
        "Where a fresh process spends its CPU (best of two): "
        + "; ".join(f"{bits}-bit: imports {a:.2f} s, loading the project {b:.2f} s, rendering and writing {c:.2f} s"
                    for bits, (a, b, c) in stages.items())
        + ". Loading reads every sample once to replace NaN or infinite values (project-file safety), so it "
        f"touches all {proj_path.stat().st_size / 2**30:.1f} GiB before the mix reads it again. "
        "Mixing runs on two threads and encoding on a "
        "third, so on an otherwise idle 2-core machine wall time is about half the CPU time of the export "
        "stage plus the rest; on a busy machine the threads wait for a core.",
        "",
        "### Live inserts",
        "",
        f"The first {ins_s / 60:g} min of the mix with an insert chain on every track: EQ ({eq_text}), "
        "compressor (defaults) and reverb (defaults), the classic effects on pedalboard, streamed in 65536-frame "
        f"blocks with their state carried across (`Renderer`, {default_threads()} worker threads here). "
        "Target: at least 100× real time.",
        "",
        table(cols, ins),
        "",
        *notes,
        "",
        *_against_targets(cli_rows, stages, ins, bound),
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the machine is shared: "
        "wall times rise with other work; CPU times much less).",
    ]
    if hour_rows:
        md += _hour_section(args, hour_rows, summaries, cols)
    else:
        md += _previous_hour_section()
    write_section("render", "\n".join(md))


def _previous_hour_section() -> list[str]:
    """With --skip-hour: the hour exports of the last full run, kept with their date."""
    from .common import SECTIONS

    try:
        old = (SECTIONS / "render.md").read_text()
    except OSError:
        return []
    at = old.find("Export of a")
    if at < 0:
        return []
    before = old[:at]
    marker = "from the earlier run ("
    if marker in before:  # carried over already: keep the date of the run that measured it
        when = before[before.rindex(marker) + len(marker):].split(")\n", 1)[0]
    else:
        when = next((line for line in old.splitlines() if line.startswith("_Measured")), "").strip("_")
    body = old[at:].split("\n### ")[0].rstrip()
    return ["", f"Hour-long exports, not repeated in this run; {marker}{when})", "", body]


def _against_targets(cli_rows: list[list], stages: dict, ins: list[list], bound: float) -> list[str]:
    """How the rows compare with the issue's targets, in plain words."""
    wall24, cpu24 = cli_rows[0][1], cli_rows[0][3]
    imports, load, export = stages[24]
    cores = os.cpu_count() or 1
    idle = imports + load + export / min(2, cores) + 0.05  # + interpreter start
    return [
        "### Against the targets",
        "",
        f"- Whole `seedwave render` of 16 × 10 min to WAV, target ≤ 1.5 s: {wall24:.1f} s wall here, {cpu24:.2f} s of "
        f"CPU. On an idle {cores}-core machine the wall time would be about {idle:.1f} s (start-up, imports and "
        "loading run on one thread; mixing and encoding share the cores). The largest single part after the mix "
        f"is loading ({load:.2f} s), which reads all audio once to screen it for NaN; without that the whole "
        f"process would be about {idle - load + 0.1:.1f} s.",
        f"- Insert chains (EQ + compressor + reverb) on all 16 tracks, target ≥ 100× real time: {ins[0][4]:.0f}× "
        f"real time per CPU second ({ins[0][2]:.1f}× wall on this busy machine). The effects themselves bound it "
        f"(at most {bound:.0f}× on these cores): with one reverb per track, 100× needs about {100 / bound:.0f} times "
        "the cores. Playback "
        "of the same chains needs well under one core (see docs/benchmarks/live.md).",
        "- Wall times in this run are inflated by other work on the shared machine (load average in the notes); "
        "CPU columns and the stage breakdown are the comparable numbers.",
    ]


def _insert_notes() -> tuple[list[str], float]:
    """What bounds the insert rows: the effects' own cost, measured here on one block."""
    import numpy as np

    from editor.core.chain import ChainStep
    from editor.effects.live import processor_factory

    x = (np.random.default_rng(0).random((2, 10 * RATE), np.float32) - 0.5) * 0.3
    costs = []
    for eid, params in (("eq", {k: v for k, v in EQ_SETTINGS.items()}), ("compressor", {}), ("reverb", {})):
        try:
            proc = processor_factory(ChainStep.make(eid, params), RATE)
        except Exception:  # noqa: BLE001 - parameters of another version of the effect
            proc = processor_factory(ChainStep.make(eid, {}), RATE)
        c = time.process_time()
        for i in range(0, x.shape[1], 1 << 16):
            proc.process(x[:, i : i + (1 << 16)])
        costs.append((eid, (time.process_time() - c) / 10))
    per_track = sum(c for _e, c in costs)
    cores = os.cpu_count() or 1
    return [
        "What one instance of each effect costs on its own (CPU seconds per second of stereo audio): "
        + ", ".join(f"{e} {c * 1000:.1f} ms" for e, c in costs)
        + f". One chain is {per_track * 1000:.1f} ms per second, so {16} chains need "
        f"{16 * per_track * 1000:.0f} ms of CPU per second of audio: on {cores} cores the effects alone allow at most "
        f"{cores / (16 * per_track):.0f}× real time, whatever the renderer does. The renderer's own share is the "
        "difference between the rows above and that bound (the 'no inserts' row is the mixing itself).",
    ], cores / (16 * per_track)


def hour_exports(paths, store, wd, row):
    """Rows of the hour-long exports (WAV, FLAC, MP3, loudness-normalised FLAC)."""
    hour = hour_project(paths, store)
    hour_s = hour.end / RATE
    exports = [
        ("WAV 16-bit", "wav", {"format": "wav", "bits": 16}),
        ("WAV 24-bit", "wav", {"format": "wav", "bits": 24}),
        ("FLAC 16-bit", "flac", {"format": "flac", "bits": 16}),
        ("MP3 192 kbit/s", "mp3", {"format": "mp3", "mp3_bitrate": 192}),
        ("FLAC 16-bit, -14 LUFS / -1 dBTP", "flac", {"format": "flac", "bits": 16, "normalize": "lufs",
                                                      "lufs": -14.0, "true_peak_db": -1.0}),
    ]
    time_render(hour)  # warm the page cache for the hour's blocks
    hour_rows = []
    summaries = []
    for label, ext, kw in exports:
        out = wd / f"hour.{ext}"
        wall, cpu, summary = time_export(hour, out, **kw)
        hour_rows.append([*row(label, (wall, cpu), hour_s), out.stat().st_size / 2**20])
        summaries.append(summary)
        out.unlink(missing_ok=True)
    hour_rows.append(["Audacity reference: FLAC", 32.0, 3600 / 32.0, "-", "-", "-"])
    return hour_rows, summaries


def _hour_section(args, hour_rows, summaries, cols) -> list[str]:
    hour_s = args.hour_files * args.minutes * 60
    return [
        "",
        f"Export of a {hour_s / 60:.0f}-minute stereo project ({args.hour_files} files end to end, "
        "cached float32 blocks):",
        "",
        table([*cols, "MiB"], hour_rows),
        "",
        f"Peak RSS of the benchmark process: {peak_rss_mb():.0f} MB, nearly all of it the memory-mapped "
        f"block files (shared, reclaimable page cache); private memory after the exports: {_rss_anon_mb():.0f} MB "
        "(export streams 65536-frame chunks; tests/test_export.py bounds its working memory). "
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the "
        "machine slows every row alike).",
        "",
        "Notes: timings are warm (best of two after an untimed run). Wall time depends on what else "
        "runs on the machine; CPU time (this process, or sox's) does much less, so the CPU columns are "
        "the fairer comparison on a shared machine. The first render reads every "
        "file from disk (or page cache) and touches fresh memory; on this machine the kernel's "
        "first-touch cost is large (writing 1.4 GB to new pages takes about 5 s), so a cold run "
        "measures the kernel more than the mixer. The renderer reuses one 65536-frame buffer, so a "
        "warm render touches no new memory. sox mixes 16-bit integers in C in one pass; the "
        "Audacity figures come from its own benchmark on other hardware and are shown for scale only.",
        "",
        "Reports of the hour exports:",
        "",
        *[f"- {s}" for s in summaries],
    ]


if __name__ == "__main__":
    main()
