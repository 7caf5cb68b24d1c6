"""Fuzzing project files and audio files: mutants must give a result or one clean line.

Seeds: project files (several tracks, fades, silence, markers, partial blocks,
a processing step) and audio files (16-bit and float WAV, 6-channel WAV, a
zero-frame WAV, FLAC, Ogg Vorbis, MP3 where libsndfile writes it). Mutants:
bit flips (anywhere, or in the first bytes where headers live), truncation,
overwritten, inserted and duplicated ranges, header fields set to extreme values,
random bytes; for projects also structure-aware changes of the index (a field set
to 2^64, NaN, a string, a list, nested 5000 deep; fields removed or added) and
NaN/Inf written into the audio.

Each mutant goes through what the app does with such a file: open it, draw its
waveform (peaks), play a second of it (render), export a quarter of a second; an
audio file is imported, its peaks read and its first second decoded. A worker
process does the work under a memory cap; the parent kills it when one mutant
takes longer than the time limit (a hang) and starts another.

Outcomes: ``ok`` (worked), ``clean`` (a user error: one line, naming the file for
open/import errors), ``traceback`` (any other exception), ``misleading`` (worked
but produced NaN/Inf audio), ``hang``, ``crash`` (the worker died).

    python -m bench.fuzz [--mutants N] [--seed S] [--timeout T]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP = 6 << 30
OUTCOMES = ("ok", "clean", "traceback", "misleading", "hang", "crash")


# --------------------------------------------------------------------------- seeds


def make_seeds(folder: Path) -> dict[str, list[Path]]:
    """Seed files to mutate (made on the spot, nothing downloaded)."""
    import soundfile as sf

    from editor.core import edits
    from editor.core.history import History
    from editor.core.model import Clip, FadeShape, Project, Selection, Track
    from editor.core.projectfile import save_project
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rate = 48000
    t = np.arange(rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = []
    for name, data, kw in [
        ("pcm16.wav", tone, {"subtype": "PCM_16"}),
        ("float.wav", np.stack([tone, -tone], 1), {"subtype": "FLOAT"}),
        ("six.wav", np.tile(tone[:, None], (1, 6)) * 0.5, {"subtype": "PCM_24"}),
        ("empty.wav", np.zeros((0, 2), np.float32), {"subtype": "PCM_16"}),
        ("tone.flac", tone, {}),
        ("tone.ogg", tone, {"format": "OGG", "subtype": "VORBIS"}),
        ("tone.mp3", tone, {"format": "MP3"}),
    ]:
        p = folder / name
        try:
            sf.write(str(p), data, rate, **kw)
            audio.append(p)
        except Exception:  # noqa: BLE001 - a format this libsndfile cannot write
            p.unlink(missing_ok=True)
    store = default_store()
    projects = []
    seq = AudioSeq.from_blocks(store.blocks_from_array((0.2 * rng.standard_normal((2, 300_000)))
                                                       .astype(np.float32)), 2)
    mono = AudioSeq.from_blocks(store.blocks_from_array(tone[None, :]), 1)
    p = Project(sample_rate=rate, name="Fuzz", tracks=(
        Track("A", (Clip(seq, 0, fade_in=1000, fade_out=2000, fade_out_shape=FadeShape.S_CURVE),),
              gain_db=-3.0, pan=0.3),
        Track("B", (Clip(mono, 10_000, offset=100, length=20_000, gain_db=2.0),), mute=True),
    ))
    h = History(p)
    tid = p.tracks[0].id
    h.push(edits.amplify(h.current, Selection(50_000, 60_000, (tid,)), -6.0, store), "Denoise",
           meta={"effect": "denoise", "model": "x", "params": {"seed": 1}})
    h.push(edits.insert_silence(h.current, 20_000, 5000, (tid,)), "Silence")
    h.push(edits.add_marker(h.current, 1000, "M"), "Marker")
    for name, proj in [("rich.seedwave", h.current), ("cut.seedwave", edits.delete(h.current, Selection(
            1000, 200_000, (tid,)))), ("empty.seedwave", Project())]:
        path = folder / name
        save_project(proj, path)
        projects.append(path)
    return {"project": projects, "audio": audio}


# --------------------------------------------------------------------------- mutation

SPECIAL_INTS = [0, -1, 1, 2**31, 2**32, 2**63, 2**64, -(2**63), 10**12, 10**30, 255, 65535]
SPECIAL_VALUES = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 2.0**31, "x", "", None, True, [], {},
                  [[]], {"a": 1}, "9" * 50] + SPECIAL_INTS


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    if not b:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    op = rng.choice(["flip", "flip_head", "truncate", "overwrite", "zero", "insert", "dup", "field", "random"])
    if op in ("flip", "flip_head"):
        span = min(len(b), 128) if op == "flip_head" else len(b)
        for _ in range(rng.choice([1, 2, 4, 8, 16, 64])):
            i = rng.randrange(span)
            b[i] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        b = b[: rng.randrange(len(b))]
    elif op in ("overwrite", "zero"):
        i = rng.randrange(len(b))
        n = rng.randint(1, min(4096, len(b) - i))
        b[i : i + n] = bytes(n) if op == "zero" else bytes(rng.getrandbits(8) for _ in range(n))
    elif op == "insert":
        i = rng.randrange(len(b) + 1)
        b[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 256)))
    elif op == "dup":
        i = rng.randrange(len(b))
        n = rng.randint(1, min(8192, len(b) - i))
        j = rng.randrange(len(b))
        b[j:j] = b[i : i + n]
    elif op == "field":  # a 1/2/4/8-byte little-endian field near the start set to an extreme value
        size = rng.choice([1, 2, 4, 8])
        i = rng.randrange(0, max(1, min(len(b), 96) - size + 1))
        v = rng.choice([0, 1, 2**(8 * size) - 1, 2**(8 * size - 1) - 1, 2**(8 * size - 1), rng.getrandbits(8 * size)])
        b[i : i + size] = v.to_bytes(size, "little")
    else:
        b = bytearray(rng.getrandbits(8) for _ in range(rng.randint(1, 8192)))
    return bytes(b)


def _leaves(obj, path=()):  # noqa: ANN001, ANN202
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))


def mutate_project(data: bytes, rng: random.Random) -> bytes:
    """A structure-aware change of the index, the header fields, or the audio payload."""
    magic, version, flags, ioff, ilen = struct.unpack_from("<8sIIQQ", data, 0)
    op = rng.choice(["index", "index", "index", "header", "payload_nan"])
    if op == "header":
        fields = [magic, version, flags, ioff, ilen]
        k = rng.randrange(1, 5)
        fields[k] = rng.choice([0, 1, 2**32 - 1, 2**64 - 1, rng.getrandbits(32), ioff + rng.randint(-100, 100)]) \
            % (2**32 if k < 3 else 2**64)
        out = bytearray(data)
        struct.pack_into("<8sIIQQ", out, 0, *fields)
        return bytes(out)
    if op == "payload_nan":
        out = bytearray(data)
        for _ in range(rng.randint(1, 50)):
            i = rng.randrange(64, max(65, ioff - 4)) // 4 * 4
            out[i : i + 4] = struct.pack("<f", rng.choice([float("nan"), float("inf"), -float("inf"), 3e38]))
        return bytes(out)
    doc = json.loads(data[ioff : ioff + ilen])
    items = list(_leaves(doc))
    path, _v = rng.choice(items[1:] or items)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1] if path else None
    action = rng.choice(["set", "set", "set", "delete", "add", "nest"])
    if key is None:
        doc = rng.choice(SPECIAL_VALUES)
    elif action == "set":
        parent[key] = rng.choice(SPECIAL_VALUES)
    elif action == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    elif action == "add" and isinstance(parent, dict):
        parent[f"zz{rng.randrange(100)}"] = rng.choice(SPECIAL_VALUES)
    else:  # nested deeper than any parser's recursion limit (written as text)
        depth = rng.choice([10, 1000, 5000, 100_000])
        inner = json.dumps(parent[key])
        parent[key] = "__NEST__"
        body = json.dumps(doc).replace('"__NEST__"', "[" * depth + inner + "]" * depth, 1).encode()
        out = bytearray(data[:ioff] + body)
        struct.pack_into("<8sIIQQ", out, 0, magic, version, flags, ioff, len(body))
        return bytes(out)
    body = json.dumps(doc).encode()
    out = bytearray(data[:ioff] + body)
    struct.pack_into("<8sIIQQ", out, 0, magic, version, flags, ioff, len(body))
    return bytes(out)


def make_mutants(seeds: dict[str, list[Path]], n: int, seed: int, folder: Path) -> list[tuple[str, Path]]:
    """``n`` mutants, alternating projects and audio, written to ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        kind = "project" if i % 2 == 0 else "audio"
        src = rng.choice(seeds[kind])
        data = src.read_bytes()
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            if kind == "project" and len(data) >= 64 and rng.random() < 0.6:
                try:
                    data = mutate_project(data, rng)
                    continue
                except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError, TypeError,
                        RecursionError):
                    pass
            data = mutate_bytes(data, rng)
        p = folder / f"m{i:05d}{src.suffix}"
        p.write_bytes(data)
        out.append((kind, p))
    return out


# --------------------------------------------------------------------------- worker


def _exercise(kind: str, path: str, scratch: Path) -> tuple[str, str]:
    from editor.core.audio_io import import_audio
    from editor.core.errors import SeedwaveError

    try:
        if kind == "project":
            from editor.core.projectfile import load_project
            from editor.engine.export import ExportSettings, export_mix
            from editor.engine.renderer import render

            p = load_project(path, [])
            for t in p.tracks:
                for c in t.clips:
                    for arr in c.audio.peaks(0, c.audio.frames, 300):
                        if not np.isfinite(arr).all():
                            return "misleading", "peaks hold NaN/Inf"
            n = min(p.end, p.sample_rate)
            if n > 0:
                if not np.isfinite(render(p, 0, n)).all():
                    return "misleading", "render holds NaN/Inf"
                try:
                    export_mix(p, scratch / "out.wav", ExportSettings(format="wav"), 0, min(n, p.sample_rate // 4))
                except SeedwaveError as exc:
                    if "\n" in str(exc):
                        return "traceback", f"export: a multi-line error: {exc!s:.200}"
        else:
            imp = import_audio(path, allow_alias=True, allow_empty=True)
            for s in imp.sequences:
                s.peak()
                if not np.isfinite(s.read(0, min(s.frames, 48000))).all():
                    return "misleading", "decoded audio holds NaN/Inf"
        return "ok", ""
    except SeedwaveError as exc:
        text = str(exc)
        if "\n" in text or not text.strip():
            return "traceback", f"{type(exc).__name__} with a multi-line or empty message: {text[:200]!r}"
        if Path(path).name not in text:
            return "traceback", f"{type(exc).__name__} does not name the file: {text[:200]!r}"
        return "clean", text.replace(path, "FILE")[:200]
    except Exception as exc:  # noqa: BLE001 - the finding
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        return "traceback", f"{type(exc).__name__} at {where}: {str(exc)[:160]}"


def worker() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-worker-"))
    os.environ.setdefault("SEEDWAVE_CACHE", str(scratch / "cache"))
    try:
        for line in sys.stdin:
            job = json.loads(line)
            outcome, detail = _exercise(job["kind"], job["path"], scratch)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            sys.stdout.write(json.dumps({"outcome": outcome, "detail": detail, "rss_mb": rss}) + "\n")
            sys.stdout.flush()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- parent


@dataclass
class Report:
    counts: collections.Counter = field(default_factory=collections.Counter)
    findings: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    clean: collections.Counter = field(default_factory=collections.Counter)
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    stderr_lines: int = 0
    stderr_sample: list = field(default_factory=list)
    by_kind: dict[str, collections.Counter] = field(default_factory=lambda: collections.defaultdict(
        collections.Counter))


class _Worker:
    def __init__(self, log: Path) -> None:
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.fuzz", "--worker"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)

    def ask(self, kind: str, path: Path, timeout: float) -> dict | None:
        """The worker's answer, ``{"outcome": "hang"}`` after ``timeout`` s, None if it died."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps({"kind": kind, "path": str(path)}) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return {"outcome": "hang", "detail": f"no answer in {timeout:g} s"}
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()


def run(mutants: list[tuple[str, Path]], timeout: float, log: Path) -> Report:
    rep = Report()
    t0 = time.perf_counter()
    w = _Worker(log)
    try:
        for kind, path in mutants:
            ans = w.ask(kind, path, timeout)
            if ans is None or ans["outcome"] == "hang":
                rc = w.proc.poll()
                outcome = "hang" if ans is not None else "crash"
                detail = ans["detail"] if ans is not None else f"worker ended with {rc}"
                w.stop()
                w = _Worker(log)
                ans = {"outcome": outcome, "detail": detail}
            rep.peak_rss_mb = max(rep.peak_rss_mb, float(ans.get("rss_mb", 0.0)))
            rep.counts[ans["outcome"]] += 1
            rep.by_kind[kind][ans["outcome"]] += 1
            if ans["outcome"] == "clean":
                rep.clean[ans["detail"].split("FILE: ", 1)[-1][:70]] += 1
            elif ans["outcome"] != "ok":
                rep.findings[ans["outcome"]].append(f"{kind} {path.name}: {ans['detail']}")
    finally:
        w.stop()
    rep.seconds = time.perf_counter() - t0
    try:
        text = log.read_text(errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        rep.stderr_lines = len(lines)
        rep.stderr_sample = collections.Counter(ln[:80] for ln in lines).most_common(3)
    except OSError:
        pass
    return rep


def fuzz(n: int, seed: int, timeout: float, folder: Path) -> Report:
    seeds = make_seeds(folder / "seeds")
    mutants = make_mutants(seeds, n, seed, folder / "mutants")
    return run(mutants, timeout, folder / "worker-stderr.log")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mutants", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a mutant counts as a hang")
    args = ap.parse_args(argv)
    if args.worker:
        worker()
        return 0
    from .common import stamp, table, workdir, write_section

    folder = Path(tempfile.mkdtemp(prefix="fuzz-", dir=workdir("fuzz")))
    os.environ["SEEDWAVE_CACHE"] = str(folder / "cache")
    try:
        rep = fuzz(args.mutants, args.seed, args.timeout, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [[k, rep.by_kind["project"][k], rep.by_kind["audio"][k], rep.counts[k]] for k in OUTCOMES]
    md = [
        "## Fuzzing project and audio files",
        "",
        stamp(),
        "",
        f"{args.mutants} mutants (seed {args.seed}), half project files and half audio files, each opened, "
        "drawn, played for a second and (projects) exported for a quarter second in a worker process capped at "
        f"{MEMORY_CAP >> 30} GiB; a mutant taking more than {args.timeout:g} s counts as a hang. Wall time "
        f"{rep.seconds:.0f} s; peak worker memory {rep.peak_rss_mb:.0f} MB.",
        "",
        table(["outcome", "project files", "audio files", "all"], rows),
        "",
        "`clean`: a one-line error naming the file. `traceback`, `misleading` (NaN/Inf audio out), `hang` and "
        "`crash` are bugs (before the checks at load, issue 11 found 8 unexpected errors and 3 hangs in 700 "
        "mutated project files). Lines the decoders printed on stderr (outside Seedwave's messages): "
        f"{rep.stderr_lines}" + (" (most often: " + "; ".join(f"`{t}` × {n}" for t, n in rep.stderr_sample) + ")"
                                 if rep.stderr_sample else "") + ".",
        "",
        "Most frequent clean errors:",
        "",
    ]
    md += [f"* {n} × {msg}" for msg, n in rep.clean.most_common(12)]
    for outcome in ("traceback", "misleading", "hang", "crash"):
        items = rep.findings.get(outcome, [])
        if items:
            md += ["", f"{outcome.capitalize()}s ({len(items)}):", ""]
            common = collections.Counter(i.split(": ", 1)[1] for i in items).most_common(15)
            md += [f"* {n} × {msg}" for msg, n in common]
    write_section("fuzz", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
