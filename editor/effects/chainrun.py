"""Running a chain: its steps one after another, as one operation, and writing the result.

Each effect step goes through the effect runner (:func:`~editor.effects.runner.run_effect`),
so a chain gets what a single effect gets: chunking with cross-fades and bounded
memory, resampling to the effect's rate, progress, cancel within a chunk, and
the out-of-memory fallback (smaller chunks, then the CPU). A step's wet/dry mix
and the loudness step are applied here, streaming, block by block.

:func:`apply_chain_to_file` is what ``seedwave apply CHAIN.swchain`` and every
batch worker run: read a file, run the chain, write the output atomically with
the chain's output format (the exporter's temporary file and rename; its
loudness normalisation and true-peak limiter for a final loudness step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.audio_io import import_audio
from ..core.errors import SeedwaveError
from ..core.loudness import LoudnessMeter, db_to_gain, gain_to_db
from ..core.sequence import AudioSeq
from ..core.store import BlockStore, default_store
from ..core.task import TaskContext
from ..engine.export import FORMATS, ExportReport, ExportSettings, export_mix
from ..engine.limiter import TruePeakLimiter
from .base import EffectContext, EffectError
from .chainfile import ChainSpec, OutputFormat, ResolvedStep, resolve
from .device import pick_device
from .models import ModelManager
from .runner import Source, run_effect

CHUNK = 1 << 16


@dataclass
class ChainResult:
    """The processed audio, the loudness target left for the writer, and what each step did."""

    audio: AudioSeq
    final_loudness: dict[str, Any] | None
    provenance: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class FileResult:
    """What :func:`apply_chain_to_file` wrote."""

    output: Path
    audio_seconds: float
    provenance: list[dict[str, Any]]
    warnings: list[str]
    report: ExportReport | None = None


def _device_for(step: ResolvedStep, policy: str) -> str:
    return pick_device(policy) if step.effect.uses_gpu else "cpu"


def _mix(dry: AudioSeq, wet: AudioSeq, amount: float, store: BlockStore, ctx: TaskContext) -> AudioSeq:
    """dry + amount·(wet − dry), streamed."""
    w = store.writer(dry.channels)
    a = np.float32(amount)
    try:
        for pos, d in dry.iter_chunks(0, dry.frames, CHUNK):
            ctx.check()
            y = wet.read(pos, pos + d.shape[1])
            w.write(d + (y - d) * a)
    except BaseException:
        w.abort()
        raise
    return AudioSeq.from_blocks(w.finish(), dry.channels)


def normalise_loudness(seq: AudioSeq, rate: int, lufs: float, true_peak: float, store: BlockStore,
                       ctx: TaskContext) -> tuple[AudioSeq, dict[str, Any]]:
    """``seq`` brought to ``lufs`` with true peaks under ``true_peak`` dBTP (one
    measuring pass, then gain and the exporter's lookahead limiter)."""
    meter = LoudnessMeter(rate, seq.channels)
    for _pos, x in seq.iter_chunks(0, seq.frames, CHUNK):
        ctx.check()
        meter.feed(x)
    measured = meter.integrated()
    info: dict[str, Any] = {"measured_lufs": None if measured == -math.inf else round(measured, 2)}
    if measured == -math.inf:
        ctx.warn("Loudness: the audio is silent or too short to measure; not normalised")
        return seq, info
    gain = np.float32(db_to_gain(lufs - measured))
    limiter = TruePeakLimiter(rate, seq.channels, true_peak)
    w = store.writer(seq.channels)
    try:
        for _pos, x in seq.iter_chunks(0, seq.frames, CHUNK):
            ctx.check()
            y = limiter.process(np.ascontiguousarray((x * gain).T))
            if y.shape[0]:
                w.write(np.ascontiguousarray(y.T))
        y = limiter.process(np.zeros((0, seq.channels), np.float32), last=True)
        if y.shape[0]:
            w.write(np.ascontiguousarray(y.T))
    except BaseException:
        w.abort()
        raise
    info.update(gain_db=round(gain_to_db(float(gain)), 2), limiter_db=round(limiter.max_reduction_db, 2))
    return AudioSeq.from_blocks(w.finish(), seq.channels), info


def run_chain(steps: list[ResolvedStep], seq: AudioSeq, rate: int, ctx: TaskContext,
              device: str = "auto", models: ModelManager | None = None, store: BlockStore | None = None,
              defer_final_loudness: bool = True,
              gpu_slot: Callable[[], AbstractContextManager[Any]] | None = None) -> ChainResult:
    """Run the active steps of a chain over ``seq``, one after another.

    ``device`` is the policy for GPU effects ("auto", "cuda", "cpu"); CPU effects
    always run on the CPU. With ``defer_final_loudness`` a loudness step at the
    end is not applied but returned for the writer, which normalises while it
    writes (and checks the result on the written file). ``gpu_slot`` (a context
    manager factory) is held while a step runs on a GPU, so that worker
    processes sharing one GPU take turns on it.
    """
    store = store or default_store()
    models = models if models is not None else ModelManager()
    active = [s for s in steps if not s.step.bypass and s.step.wet > 0.0]
    final: dict[str, Any] | None = None
    if defer_final_loudness and active and active[-1].is_loudness and active[-1].step.wet >= 1.0:
        final = dict(active[-1].params)
        active = active[:-1]
    provenance: list[dict[str, Any]] = []
    n = max(1, len(active))
    for i, step in enumerate(active):
        sub = ctx.sub(i / n, (i + 1) / n)
        ectx = EffectContext(sub, _device_for(step, device), models)
        dry = seq
        t0 = time.monotonic()
        if step.is_loudness:
            seq, info = normalise_loudness(seq, rate, step.params["lufs"], step.params["true_peak"], store, sub)
            prov = {"effect": step.effect.id, "version": step.effect.version, "params": dict(step.params),
                    "device": "cpu", "seconds": round(time.monotonic() - t0, 3), **info}
        else:
            slot = gpu_slot() if (gpu_slot is not None and ectx.device != "cpu") else nullcontext()
            with slot:
                result = run_effect(step.effect, Source.from_seq(seq, rate), step.params, ectx, store)
            if not isinstance(result.audio, AudioSeq):
                raise EffectError(f"{step.effect.title} makes several outputs; a chain cannot hold it")
            seq = result.audio
            prov = dict(result.provenance)
        if step.step.wet < 1.0:
            if seq.frames != dry.frames:
                raise EffectError(f"{step.effect.title} changes the length; it cannot be mixed with the dry signal")
            seq = _mix(dry, seq, step.step.wet, store, sub)
            prov["wet"] = step.step.wet
        provenance.append(prov)
    return ChainResult(seq, final, provenance, list(dict.fromkeys(ctx.warnings)))


# --------------------------------------------------------------------------- files


def output_extension(src: Path, output: OutputFormat) -> str:
    """The extension the chain's output gets for input ``src``."""
    if output.format is not None:
        return FORMATS[output.format].extensions[0]
    ext = src.suffix.lower()
    for spec in FORMATS.values():
        if ext in spec.extensions:
            return ext
    return ".wav"


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    for spec in FORMATS.values():
        if ext in spec.extensions:
            return spec.name
    raise SeedwaveError(f"cannot tell the output format from the extension {ext or '(none)'!r}; "
                        f"use one of {', '.join(e for s in FORMATS.values() for e in s.extensions)}", path)


def _source_bits(subtype: str, fmt: str) -> int | str | None:
    """The input's bit depth where the output format has it (else the format's default)."""
    depths = FORMATS[fmt].depths
    if not depths:
        return None
    want: int | str | None = {"PCM_16": 16, "PCM_S8": 16, "PCM_U8": 16, "PCM_24": 24, "PCM_32": 32,
                              "FLOAT": "float", "DOUBLE": "float"}.get(subtype)
    return want if want in depths else FORMATS[fmt].default_bits


def export_settings(output: OutputFormat, out: Path, channels: int, subtype: str,
                    loudness: dict[str, Any] | None) -> ExportSettings:
    """Export settings for writing a chain's result to ``out``: the output file's
    extension names the format; unset fields follow the input."""
    fmt = _format_of(out)
    bits = output.bits if (output.bits is not None and output.format in (None, fmt)) else None
    if output.format is None and bits not in FORMATS[fmt].depths:
        bits = None  # following the input's format: a depth it cannot hold gives way to the input's
    if bits is None:
        bits = _source_bits(subtype, fmt)
    if FORMATS[fmt].lossy:
        bits = None
    kw: dict[str, Any] = {"format": fmt, "bits": bits, "sample_rate": output.sample_rate,
                          "channels": output.channels or (1 if channels == 1 else 2),
                          "mp3_bitrate": output.mp3_bitrate}
    if loudness is not None:
        kw.update(normalize="lufs", lufs=float(loudness["lufs"]), true_peak_db=float(loudness["true_peak"]))
    return ExportSettings(**kw)


def write_result(seq: AudioSeq, rate: int, out: Path, settings: ExportSettings,
                 ctx: TaskContext | None = None) -> ExportReport:
    """Write ``seq`` to ``out`` through the exporter (temporary file, then rename)."""
    from ..core.edits import add_track
    from ..core.model import Clip, Project

    project = add_track(Project(sample_rate=rate, name=out.stem), out.stem, (Clip(seq, 0, name=out.stem),))
    return export_mix(project, out, settings, 0, None, ctx or TaskContext())


def load_audio(src: Path, ctx: TaskContext | None = None) -> tuple[AudioSeq, int, Any, list[str]]:
    """(audio, rate, info, warnings) of an input file that a chain can process."""
    imp = import_audio(src, ctx=ctx)
    if len(imp.sequences) != 1:
        raise EffectError(f"effects take mono or stereo files; this one has {imp.info.channels} channels", src)
    return imp.sequences[0], imp.sample_rate, imp.info, list(imp.warnings)


def apply_chain_to_file(spec: ChainSpec, src: Path, out: Path, device: str = "auto",
                        ctx: TaskContext | None = None, models: ModelManager | None = None,
                        steps: list[ResolvedStep] | None = None,
                        gpu_slot: Callable[[], AbstractContextManager[Any]] | None = None) -> FileResult:
    """Read ``src``, run the chain, write ``out`` atomically in the chain's output format.

    Errors are :class:`SeedwaveError` s naming the file; a cancel raises
    :class:`~editor.core.errors.Cancelled`. Either way ``out`` is untouched.
    """
    ctx = ctx or TaskContext()
    steps = steps if steps is not None else resolve(spec)
    if Path(src).resolve() == Path(out).resolve():
        raise SeedwaveError("the output would overwrite the input; choose another output folder or name", out)
    seq, rate, info, warnings = load_audio(src, ctx.sub(0.0, 0.05))
    if seq.frames == 0:
        raise EffectError("the file has no audio", src)
    try:
        result = run_chain(steps, seq, rate, ctx.sub(0.05, 0.9), device, models, gpu_slot=gpu_slot)
    except EffectError as exc:
        raise EffectError(exc.problem if exc.path else str(exc), exc.path or src) from None
    settings = export_settings(spec.output, out, seq.channels, info.subtype, result.final_loudness)
    report = write_result(result.audio, rate, out, settings, ctx.sub(0.9, 1.0))
    provenance = list(result.provenance)
    if result.final_loudness is not None:
        provenance.append({"effect": "loudness", "version": "1", "params": dict(result.final_loudness),
                           "device": "cpu", "lufs": None if report.lufs is None else round(report.lufs, 2),
                           "true_peak_db": None if report.true_peak_db is None else round(report.true_peak_db, 2),
                           "gain_db": round(report.gain_db, 2), "limiter_db": round(report.limiter_db, 2)})
    warnings += result.warnings + report.warnings
    return FileResult(out, seq.frames / rate, provenance, list(dict.fromkeys(warnings)), report)
