"""Batch throughput: audio hours processed per hour of wall time.

    python -m bench.batch            # a few minutes; writes docs/benchmarks/batch.md
    python -m bench.batch --quick    # fewer, shorter files (not written to docs)

Chains: denoise (Seedwave's default, DeepFilterNet3) and, where the classic
effects are installed, a classic chain (high-pass, compressor) with loudness
normalisation. Each runs over the same generated files: serially (one worker,
the anchor), with 2 local worker processes, and on a local Ray cluster (a head
node with 2 CPUs on 127.0.0.1, started here, start-up not counted), all in this
run. Then many short files through a near-no-op chain give the scheduling
overhead per file of each backend.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from .common import stamp, table, workdir, write_section

RATE = 48000


def _files(folder: Path, n: int, seconds: float) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * RATE)) / RATE
    for i in range(n):
        x = 0.2 * np.sin(2 * np.pi * (180 + 20 * i) * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
        x = x + 0.03 * rng.standard_normal(t.size)
        sf.write(str(folder / f"f{i:03d}.wav"), x.astype(np.float32), RATE, subtype="PCM_16")
    return folder


def _run(spec, inputs: Path, out: Path, **kw) -> tuple[float, float, int]:
    from editor.jobs.batch import BatchRunner

    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    rep = BatchRunner(spec, [inputs], out, resume=False, **kw).run()
    wall = time.perf_counter() - t
    assert rep.ok, [r.error for r in rep.failures]
    return wall, rep.audio_seconds, len(rep.items)


@contextlib.contextmanager
def _ray_cluster(cpus: int):
    ray = str(Path(sys.executable).parent / "ray")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="sw-ray-", dir="/tmp")
    try:
        subprocess.run([ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                        f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats",
                        f"--temp-dir={tmp}"], check=True, timeout=180, capture_output=True)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], timeout=120, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.batch")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from editor.core.chain import Chain, ChainStep
    from editor.effects.chainfile import ChainSpec
    from editor.effects.registry import registry

    load0 = os.getloadavg()[0]
    n, seconds = (4, 5.0) if args.quick else (8, 15.0)
    n_short = 12 if args.quick else 40
    root = workdir("batch")
    files = {15.0: _files(root / "in", n, seconds)}
    short_in = _files(root / "short", n_short, 0.5)
    chains = {"denoise (DeepFilterNet3)": (ChainSpec.single("denoise"), seconds)}
    ids = registry().ids()
    note = ""
    if "highpass" in ids and "compressor" in ids:
        classic_s = seconds * 4  # the classic chain is fast: longer files, so start-up does not dominate
        files[classic_s] = _files(root / "in-long", n, classic_s)
        chains["classic: high-pass, compressor, loudness −16 LUFS"] = (ChainSpec(Chain((
            ChainStep.make("highpass"), ChainStep.make("compressor"), ChainStep.make("loudness", {"lufs": -16.0})))),
            classic_s)
    else:
        note = "The classic effects (high-pass, compressor) were not installed when this ran; that chain is missing."
    noop = ChainSpec.single("denoise", {"strength": 0.0})  # returns its input: what is left is scheduling
    rows = []
    overhead = []
    with _ray_cluster(os.cpu_count() or 2) as address:
        for title, (spec, length) in chains.items():
            inputs = files[length]
            serial = _run(spec, inputs, root / "out-serial", workers=1)
            local2 = _run(spec, inputs, root / "out-local2", workers=2)
            rayr = _run(spec, inputs, root / "out-ray", ray_address=address)
            for name, (wall, audio, _k) in (("serial (anchor)", serial), ("local, 2 workers", local2),
                                            ("local Ray cluster", rayr)):
                rows.append([title, f"{n} × {length:g} s", name, round(audio / wall, 1), round(serial[0] / wall, 2),
                             round(wall, 1)])
        backends = (("serial", {"workers": 1}), ("local, 2 workers", {"workers": 2}), ("Ray", {"ray_address": address}))
        for name, kw in backends:
            wall, _a, k = _run(noop, short_in, root / "out-short", **kw)
            overhead.append([name, k, round(1000 * wall / k, 1)])
    md = [
        "## Batch throughput",
        "",
        stamp(),
        "",
        "Files: mono, 48 kHz, 16-bit. Audio hours processed per hour of wall "
        "time (higher is better), and speed-up over the serial run of the same chain in this run. The Ray "
        "cluster is one head node on this machine (its start-up is not counted; connecting is). Every run "
        "includes reading, writing and the report. Denoise already runs its segments on all cores in the serial "
        "run, so on 2 cores the parallel backends gain little there; the classic chain is single-threaded. "
        f"Other work shared the cores while this ran (load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end), which caps what parallel backends can gain.",
        "",
        table(["chain", "files", "backend", "audio h / h", "× serial", "wall s"], rows),
        "",
        f"Scheduling overhead: {n_short} files of 0.5 s through a chain that returns its input "
        "(milliseconds of wall time per file, start-up of worker processes or the Ray connection included).",
        "",
        table(["backend", "files", "ms per file"], overhead),
    ]
    if note:
        md += ["", note]
    text = "\n".join(md)
    if args.quick or os.environ.get("SEEDWAVE_BENCH_NO_DOCS"):
        print(text)
    else:
        write_section("batch", text)


if __name__ == "__main__":
    main(sys.argv[1:])
