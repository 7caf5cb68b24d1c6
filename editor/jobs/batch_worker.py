"""The work of one batch input (or one chunk of a long input), wherever it runs.

The same functions run in the batch's own thread (one worker), in local worker
processes, and in Ray tasks. They take the chain as its JSON text, never raise
for a bad input (a failure comes back as data with the usual one-line reason),
and write outputs only by atomic rename, so running one twice (a Ray retry after
a node died) gives the same files and never a half file.

Per process, each chain is checked once and effects keep their engines loaded
between inputs: one model instance per worker.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import Cancelled, SeedwaveError
from ..core.task import TaskContext
from ..effects.chainfile import ChainSpec, ResolvedStep, loads, resolve
from ..effects.chainrun import apply_chain_to_file, export_settings, run_chain, write_result

_chains: dict[str, tuple[ChainSpec, list[ResolvedStep]]] = {}


def chain_from_json(text: str) -> tuple[ChainSpec, list[ResolvedStep]]:
    """The chain and its checked steps (cached per process)."""
    hit = _chains.get(text)
    if hit is None:
        spec = loads(text)
        hit = (spec, resolve(spec))
        _chains[text] = hit
    return hit


def _failure(exc: BaseException, src: str) -> str:
    if isinstance(exc, SeedwaveError):
        msg = str(exc)
        return msg if src in msg else f"{src}: {msg}"
    if isinstance(exc, MemoryError):
        return f"{src}: ran out of memory"
    return f"{src}: unexpected {type(exc).__name__}: {exc}"


def process_item(spec_json: str, src: str, out: str, device: str = "auto", ctx: TaskContext | None = None,
                 gpu_slot: Callable[[], AbstractContextManager[Any]] | None = None) -> dict[str, Any]:
    """Run the chain on one file; the outcome as a dict (see :class:`ItemResult`)."""
    ctx = ctx or TaskContext()
    t0 = time.monotonic()
    res: dict[str, Any] = {"input": src, "output": out, "node": socket.gethostname(), "pid": os.getpid()}
    try:
        spec, steps = chain_from_json(spec_json)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fr = apply_chain_to_file(spec, Path(src), Path(out), device, ctx, steps=steps, gpu_slot=gpu_slot)
        res.update(status="done", audio_seconds=fr.audio_seconds, provenance=fr.provenance, warnings=fr.warnings,
                   output_size=Path(out).stat().st_size)
    except Cancelled:
        res.update(status="cancelled", error=f"{src}: cancelled")
    except Exception as exc:  # noqa: BLE001 - a bad input fails alone, with one line
        res.update(status="failed", error=_failure(exc, src))
        if not isinstance(exc, SeedwaveError | MemoryError):
            res["traceback"] = traceback.format_exc(limit=8)
    res["seconds"] = round(time.monotonic() - t0, 3)
    return res


# --------------------------------------------------------------------------- chunks of long files (Ray)


def chunkable(steps: list[ResolvedStep]) -> bool:
    """Whether the chain can run on pieces of a file: every active step works
    window by window (no whole-signal steps but a final loudness, which the
    assembling step does while writing)."""
    active = [s for s in steps if not s.step.bypass and s.step.wet > 0.0]
    if active and active[-1].is_loudness:
        active = active[:-1]
    return all(not s.is_loudness and s.effect.chunk_seconds is not None and not s.effect.changes_length
               for s in active)


def _atomic_save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "wb") as fh:
        np.save(fh, arr)
    os.replace(tmp, path)


def process_chunk(spec_json: str, src: str, start: int, stop: int, pad: int, part: str,
                  device: str = "auto") -> dict[str, Any]:
    """Run the chain on frames [start, stop) of ``src`` (seeing ``pad`` frames of
    context each side) and save them to ``part`` (a .npy file, atomically)."""
    import soundfile as sf

    from ..core.sequence import AudioSeq
    from ..core.store import default_store

    t0 = time.monotonic()
    res: dict[str, Any] = {"part": part, "node": socket.gethostname()}
    try:
        spec, steps = chain_from_json(spec_json)
        with sf.SoundFile(src) as f:
            a = max(0, start - pad)
            b = min(f.frames, stop + pad)
            f.seek(a)
            x = f.read(b - a, dtype="float32", always_2d=True).T
            rate = f.samplerate
        if not np.isfinite(x).all():
            x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        seq = AudioSeq.from_blocks(default_store().blocks_from_array(np.ascontiguousarray(x)), x.shape[0])
        result = run_chain(steps, seq, rate, TaskContext(), device)
        _atomic_save(Path(part), result.audio.read(start - a, start - a + (stop - start)))
        res.update(ok=True, provenance=result.provenance, warnings=result.warnings)
    except Exception as exc:  # noqa: BLE001
        res.update(ok=False, error=_failure(exc, src))
    res["seconds"] = round(time.monotonic() - t0, 3)
    return res


def assemble(spec_json: str, src: str, out: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Join the chunks of one file and write its output (with a final loudness step)."""
    import soundfile as sf

    from ..core.sequence import AudioSeq
    from ..core.store import default_store

    t0 = time.monotonic()
    res: dict[str, Any] = {"input": src, "output": out, "node": socket.gethostname()}
    try:
        bad = [p for p in parts if not p.get("ok")]
        if bad:
            raise SeedwaveError(bad[0].get("error", "a chunk failed").removeprefix(f"{src}: "), src)
        spec, steps = chain_from_json(spec_json)
        info = sf.info(src)
        w = default_store().writer(info.channels)
        try:
            for p in parts:
                w.write(np.ascontiguousarray(np.load(p["part"], mmap_mode="r")))
        except BaseException:
            w.abort()
            raise
        seq = AudioSeq.from_blocks(w.finish(), info.channels)
        active = [s for s in steps if not s.step.bypass and s.step.wet > 0.0]
        loud = dict(active[-1].params) if active and active[-1].is_loudness else None
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        report = write_result(seq, info.samplerate, Path(out),
                              export_settings(spec.output, Path(out), info.channels, info.subtype, loud))
        provenance = [dict(p, chunks=len(parts)) for p in parts[0].get("provenance", [])]
        for p in parts[1:]:
            for a, b in zip(provenance, p.get("provenance", []), strict=False):
                a["seconds"] = round(a.get("seconds", 0.0) + b.get("seconds", 0.0), 3)
        if loud is not None:
            provenance.append({"effect": "loudness", "version": "1", "params": loud, "device": "cpu",
                               "lufs": None if report.lufs is None else round(report.lufs, 2),
                               "gain_db": round(report.gain_db, 2)})
        warnings = list(dict.fromkeys(w for p in parts for w in p.get("warnings", []))) + report.warnings
        res.update(status="done", audio_seconds=info.frames / info.samplerate, provenance=provenance,
                   warnings=warnings, output_size=Path(out).stat().st_size)
    except Exception as exc:  # noqa: BLE001
        res.update(status="failed", error=_failure(exc, src))
    # The chunk files stay until the driver has recorded this input (it removes
    # them then), so a retry of this task after its node died finds them again.
    res["seconds"] = round(time.monotonic() - t0 + sum(p.get("seconds", 0.0) for p in parts), 3)
    return res


def probe_paths(inputs: list[str], out_dir: str) -> list[str]:
    """Problems a worker would meet: inputs it cannot read, an output folder it cannot write."""
    problems: list[str] = []
    for p in inputs:
        if not os.access(p, os.R_OK):
            problems.append(f"{p}: {'not readable' if os.path.exists(p) else 'not found'}")
            if len(problems) >= 3:
                break
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        probe = Path(out_dir) / f".seedwave-probe-{socket.gethostname()}-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        problems.append(f"{out_dir}: cannot write ({exc.strerror or exc})")
    return problems
