"""Running an effect over audio of any length, with bounded memory.

The runner cuts the input into windows of ``chunk_seconds`` plus
``overlap_seconds``, runs the effect on each, and joins consecutive windows with a
linear cross-fade over the overlap, where each window is least sure of itself (a
window's first frames lack left context, its last frames right context). Output
streams into new blocks, so an hour of audio never sits in memory.

Also here: resampling to and from the effect's native rate with soxr, running
torch effects under ``torch.inference_mode()``, and the device policy. When a
window fails on a GPU:

* out of memory, for an effect whose memory shrinks with the window: retry
  with half the chunk size, down to a floor, then move to the CPU;
* out of memory for a model that works in fixed segments whatever the window
  (``Effect.memory_scales_with_window`` is False: HTDemucs), or any other error
  on the device (a driver error, a failed kernel, a GPU build that is missing):
  move to the CPU straight away and say why. If the window fails on the CPU
  too, that error is the run's error.

Whatever the outcome, the GPU memory torch caches for the run is given back when
it ends, and models idle for a while are dropped (:mod:`.resident`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from ..core.errors import Cancelled, SeedwaveError
from ..core.sequence import AudioSeq
from ..core.store import BlockStore, default_store
from ..core.task import TaskContext
from .base import Effect, EffectContext, EffectError, EffectResult, ModelSpec
from .device import is_out_of_memory
from .models import ModelManager
from .resident import end_of_run, release_device_memory, resident

MIN_CHUNK_SECONDS = 2.0
RESAMPLE_PIECE_SECONDS = 5.0  # long windows are resampled in pieces, checking for cancel between them


@dataclass
class Source:
    """Audio to process: ``read(a, b)`` returns planar float32 frames [a, b)."""

    channels: int
    frames: int
    rate: int
    read: Callable[[int, int], np.ndarray]

    @classmethod
    def from_seq(cls, seq: AudioSeq, rate: int, start: int = 0, stop: int | None = None) -> Source:
        stop = seq.frames if stop is None else stop
        return cls(seq.channels, stop - start, rate, lambda a, b: seq.read(start + a, start + b))

    @classmethod
    def from_array(cls, audio: np.ndarray, rate: int) -> Source:
        audio = np.asarray(audio, dtype=np.float32)
        return cls(audio.shape[0], audio.shape[1], rate, lambda a, b: audio[:, a:b])


class _Sink:
    """Collects one output stream into blocks or into memory."""

    def __init__(self, channels: int, store: BlockStore | None) -> None:
        self.writer = store.writer(channels) if store is not None else None
        self.parts: list[np.ndarray] = []

    def write(self, x: np.ndarray) -> None:
        if x.shape[1] == 0:
            return
        if self.writer is not None:
            self.writer.write(np.ascontiguousarray(x, dtype=np.float32))
        else:
            self.parts.append(np.array(x, dtype=np.float32))

    def finish(self, channels: int) -> Any:
        if self.writer is not None:
            return AudioSeq.from_blocks(self.writer.finish(), channels)
        return np.concatenate(self.parts, axis=1) if self.parts else np.zeros((channels, 0), np.float32)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[1] == n:
        return x
    if x.shape[1] > n:
        return x[:, :n]
    return np.pad(x, ((0, 0), (0, n - x.shape[1])))


def _inference_guard(effect: Effect):
    if not effect.uses_gpu:
        return nullcontext()
    import torch

    return torch.inference_mode()


def _resample(x: np.ndarray, src: int, dst: int, ctx: TaskContext) -> np.ndarray:
    """Planar ``x`` from ``src`` to ``dst`` Hz. A long window goes through soxr's
    stream API in pieces (bit-identical to one call) so that a cancel is noticed
    between pieces rather than after minutes of resampling."""
    piece = int(RESAMPLE_PIECE_SECONDS * src)
    if x.shape[1] <= 2 * piece:
        return np.ascontiguousarray(soxr.resample(x.T, src, dst, quality="HQ").T)
    stream = soxr.ResampleStream(src, dst, x.shape[0], dtype="float32", quality="HQ")
    parts = []
    for a in range(0, x.shape[1], piece):
        ctx.check()
        b = min(x.shape[1], a + piece)
        parts.append(stream.resample_chunk(np.ascontiguousarray(x[:, a:b].T, dtype=np.float32),
                                           last=b >= x.shape[1]))
    return np.ascontiguousarray(np.concatenate(parts).T)


def _call(
    effect: Effect, x: np.ndarray, rate: int, params: dict[str, Any], ctx: EffectContext
) -> dict[str, np.ndarray]:
    """Run ``process`` once on a window, at the effect's native rate."""
    n = x.shape[1]
    native = effect.native_rate or rate
    xin = x if native == rate else _resample(x, rate, native, ctx)
    with _inference_guard(effect):
        y = effect.process(np.ascontiguousarray(xin, dtype=np.float32), native, params, ctx)
    ctx.check()  # a cancel during process() wins over its result
    outs = y if isinstance(y, dict) else {"": y}
    result = {}
    for name, arr in outs.items():
        arr = np.asarray(arr, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != x.shape[0]:
            raise EffectError(f"effect {effect.id!r} returned audio of shape {arr.shape} for input {x.shape}")
        if native != rate:
            arr = _resample(arr, native, rate, ctx)
        result[name] = arr if effect.changes_length else _fit(arr, n)
    return result


def check_models(effect: Effect, params: dict[str, Any], models: ModelManager | None) -> dict[str, str]:
    """Make sure the models this run needs are installed, before any audio is read.

    Raises :class:`~editor.effects.models.ModelMissingError` (a clear message
    naming the files and how to get them); returns provenance facts (model
    names and checksums) for the history entry.
    """
    specs: tuple[ModelSpec, ...] = tuple(effect.required_models(params))
    if not specs:
        return {}
    manager = models if models is not None else ModelManager()
    missing = [s for s in specs if not manager.is_installed(s)]
    if missing:
        name = ""
        if len(missing) > 1:  # "htdemucs_ft (drums model, 1 of 4)", ... -> "htdemucs_ft"
            name = os.path.commonprefix([s.name for s in missing]).split(" (")[0].strip()
        manager.require_all(missing, effect.title, model_name=name)
    return {"model": ", ".join(s.name for s in specs), "model_sha256": ", ".join(s.sha256 for s in specs)}


def run_effect(
    effect: Effect,
    source: Source,
    params: dict[str, Any],
    ctx: EffectContext,
    store: BlockStore | None = None,
    to_memory: bool = False,
) -> EffectResult:
    """Run ``effect`` over all of ``source``.

    Returns an :class:`EffectResult` whose ``audio`` is an AudioSeq (or a dict of
    them for multi-output effects), or numpy arrays with ``to_memory``.
    """
    params = effect.resolve_params(params)
    rate = source.rate
    n_total = source.frames
    if n_total <= 0:
        raise EffectError("there is no audio to process")
    for key, value in check_models(effect, params, ctx.models).items():
        ctx.info.setdefault(key, value)
    store = None if to_memory else (store or default_store())
    if effect.chunk_seconds is None:
        hop = n_total
        overlap = 0
    else:
        hop = max(1, int(effect.chunk_seconds * rate))
        overlap = int(effect.overlap_seconds * rate)
    min_hop = min(hop, max(1, int(MIN_CHUNK_SECONDS * rate)))
    names = effect.outputs or ("",)
    sinks = {name: _Sink(source.channels, store) for name in names}
    tails: dict[str, np.ndarray] | None = None
    started = time.monotonic()
    pos = 0
    start_device = ctx.device
    try:
        with resident.busy():
            while pos < n_total:
                ctx.check()
                w_end = min(n_total, pos + hop + overlap)
                if w_end + overlap >= n_total and effect.chunk_seconds is not None:
                    w_end = n_total  # absorb a short last window
                x = source.read(pos, w_end)
                sub = ctx.scoped(ctx.sub(pos / n_total, w_end / n_total)) if hasattr(ctx, "sub") else ctx
                try:
                    y = _call(effect, x, rate, params, sub)
                except (SeedwaveError, Cancelled):
                    raise
                except Exception as exc:  # noqa: BLE001 - the device policy (module docstring)
                    if ctx.device == "cpu":
                        if is_out_of_memory(exc) or isinstance(exc, MemoryError):
                            raise EffectError("ran out of memory even on the CPU") from None
                        raise
                    release_device_memory()
                    oom = is_out_of_memory(exc)
                    if (oom and hop > min_hop and effect.chunk_seconds is not None
                            and effect.memory_scales_with_window(params)):
                        hop = max(min_hop, hop // 2)
                        ctx.warn(f"{effect.title}: the GPU ran out of memory; retrying with "
                                 f"{hop / rate:.0f} s chunks")
                        continue
                    if oom:
                        why = ("the GPU ran out of memory even with small chunks"
                               if effect.memory_scales_with_window(params) else
                               "the GPU ran out of memory (this model needs the same memory for any window)")
                    else:
                        first = (str(exc).strip().splitlines() or [""])[0][:200]
                        why = f"the GPU failed ({type(exc).__name__}{': ' + first if first else ''})"
                    ctx.info["device_fallback"] = "cpu"
                    ctx.info["device_error"] = why
                    ctx.device = "cpu"
                    ctx.warn(f"{effect.title}: {why}; finishing on the CPU")
                    continue
                if tails is not None:
                    for name in names:
                        t = tails[name]
                        k = min(t.shape[1], y[name].shape[1])
                        ramp = ((np.arange(k, dtype=np.float32) + 0.5) / k)[None, :]
                        head = y[name][:, :k]
                        # head + (tail - head)·(1 − ramp): the linear cross-fade, written so
                        # that windows which agree (a pointwise effect) give their value exactly.
                        y[name][:, :k] = head + (t[:, :k] - head) * (1.0 - ramp)
                if w_end < n_total:
                    keep = hop
                    for name in names:
                        sinks[name].write(y[name][:, :keep])
                    tails = {name: y[name][:, keep:].copy() for name in names}
                    pos += hop
                else:
                    for name in names:
                        sinks[name].write(y[name])
                    pos = n_total
                ctx.progress(pos / n_total, effect.title)
    except BaseException:
        for s in sinks.values():
            s.abort()
        raise
    finally:
        end_of_run(start_device)
    outs = {name: s.finish(source.channels) for name, s in sinks.items()}
    audio = outs[""] if not effect.outputs else outs
    provenance = {
        "effect": effect.id,
        "version": effect.version,
        "params": dict(params),
        "device": ctx.device,
        "seconds": round(time.monotonic() - started, 3),
        **ctx.info,
    }
    return EffectResult(audio, provenance, list(ctx.warnings))


def run_on_array(effect: Effect, audio: np.ndarray, rate: int, params: dict[str, Any] | None = None,
                 device: str = "cpu", models: Any = None, parent: TaskContext | None = None) -> EffectResult:
    """Convenience for scripts, previews and tests: arrays in, arrays out."""
    ctx = EffectContext(parent or TaskContext(), device, models)
    return run_effect(effect, Source.from_array(audio, rate), params or {}, ctx, to_memory=True)
