"""Spectral repair: replace a time x frequency region with what its surroundings say belongs there.

Engines (each predicts the region's STFT from the rest of the recording):

* ``interp`` — per bin, log-magnitude interpolated across time from the region's
  edges; phase carried from the edges at each bin's instantaneous frequency.
* ``match`` — the best-matching stretch elsewhere in the recording (context
  match on log band energies), level-matched per bin; several ranked takes.
* ``neural`` — a small network trained on the clip's own spectrogram to fill
  randomly masked boxes, then asked for the region (:mod:`.neural`).
* ``auto`` — tries the engines on boxes of the same shape next to the region,
  whose content is known, and ranks them by the log-spectral distance measured
  there; take 0 is the winner's, the other engines (and match's runners-up)
  follow as further takes.

Modes: ``attenuate`` (default) lowers each bin of the region to the prediction
when it is louder than that (plus ``tolerance_db``) and keeps it otherwise, so
what lies under a cough or a tone stays; ``replace`` puts the prediction itself
(magnitude and phase) in the region, for holes and dropouts.

Only the frames the selection touches are resynthesised (see
:func:`editor.core.spectral_stft.apply_tf_edit`); every other sample is returned
bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from editor.core.spectral_selection import SpectralSelection, StftGrid
from editor.core.spectral_stft import apply_tf_edit, frame_span, stft_frames
from editor.core.task import TaskContext
from editor.effects.base import EffectError

from .interp import interpolate
from .region import grid_for, region_mask
from .take import SpectralTake

ENGINES = ("auto", "interp", "match", "neural")
MODES = ("attenuate", "replace")
PHASE_SWAP_GAIN = 0.1  # attenuate: below this gain the input's phase is the interferer's
CONTEXT_SECONDS = 0.5  # STFT frames kept each side of the region (edges for interp, level match)


@dataclass(frozen=True)
class RepairOptions:
    """``mode``: attenuate | replace; ``tolerance_db``: how far above the prediction a bin may stay
    (attenuate); ``neural_steps``/``device``: the neural engine; ``auto_neural``: let Auto try it."""

    mode: str = "attenuate"
    tolerance_db: float = 0.0
    neural_steps: int = 300
    device: str = "cpu"
    auto_neural: bool | None = None  # None: only where training is quick (a GPU)


@dataclass
class _Problem:
    x: np.ndarray
    grid: StftGrid
    ka: int  # first STFT frame of X
    X: np.ndarray  # (channels, frames, bins) complex
    mask: np.ndarray  # (frames, bins) soft mask, zero outside the region
    k0: int  # first frame of the region
    k_n: int  # frames of the region

    @property
    def region(self) -> np.ndarray:
        return self.mask > 0


def _problem(x: np.ndarray, grid: StftGrid, k0: int, m: np.ndarray) -> _Problem:
    c = max(8, int(CONTEXT_SECONDS / grid.frame_seconds))
    n_all = grid.n_frames(x.shape[1])
    ka, kb = max(0, k0 - c), min(n_all, k0 + m.shape[0] + c)
    mask = np.zeros((kb - ka, grid.n_bins), np.float32)
    mask[k0 - ka:k0 - ka + m.shape[0]] = m[: kb - k0]
    return _Problem(x, grid, ka, stft_frames(x, grid, ka, kb), mask, k0, m.shape[0])


def _shifted(p: _Problem, d: int) -> _Problem | None:
    """The same region shape ``d`` frames away (None when it falls off the audio)."""
    k0 = p.k0 + d
    n_all = p.grid.n_frames(p.x.shape[1])
    if k0 < 0 or k0 + p.k_n > n_all:
        return None
    m = p.mask[p.k0 - p.ka:p.k0 - p.ka + p.k_n]
    return _problem(p.x, p.grid, k0, m)


def _combine(p: _Problem, mag: np.ndarray, z: np.ndarray | None, opts: RepairOptions) -> np.ndarray:
    """The change to X inside the region for a prediction."""
    X = p.X
    if opts.mode == "replace":
        y = z if z is not None else mag * np.exp(1j * np.angle(X))
    else:
        cap = mag * 10 ** (opts.tolerance_db / 20)
        ax = np.abs(X)
        g = np.where(ax > cap, cap / np.maximum(ax, 1e-12), 1.0)
        y = X * g
        if z is not None:
            # A bin lowered by more than 20 dB was nearly all interferer, and so is its phase: take the
            # predicted phase there. (Blending it in where less was removed measured worse on the dev set.)
            y = np.where(g < PHASE_SWAP_GAIN, np.abs(y) * z / np.maximum(np.abs(z), 1e-12), y)
    return (y - X) * p.mask[None]


def _predict(engine: str, p: _Problem, ctx: TaskContext, opts: RepairOptions, state: dict[str, Any],
             n_takes: int = 1, exclude: list[tuple[int, int]] | None = None) -> list[tuple[np.ndarray, Any, dict]]:
    """``[(magnitude, complex or None, info)]`` predictions of ``engine`` for ``p``."""
    if engine == "interp":
        mag, z = interpolate(p.X, p.region, p.grid.hop, p.grid.n_fft)
        return [(mag, z, {})]
    if engine == "match":
        from .match import MatchIndex

        if "match" not in state:
            ctx.progress(0.1, "Spectral repair: indexing the recording")
            state["match"] = MatchIndex(p.x, p.grid, ctx.check)
        index: MatchIndex = state["match"]
        found = index.search(p.k0, p.region[p.k0 - p.ka:p.k0 - p.ka + p.k_n], n_takes, exclude or [])
        out = []
        for d, cost in found:
            mag, z = index.patch(p.ka, p.ka + p.X.shape[1], d, p.X, p.region)
            out.append((mag, z, {"offset_s": round(d * p.grid.frame_seconds, 3), "cost": round(cost, 4)}))
        return out
    if engine == "neural":
        from .neural import NeuralSettings, SpectrogramNet

        if "neural" not in state:
            shape = p.region[p.k0 - p.ka:p.k0 - p.ka + p.k_n]
            state["neural"] = SpectrogramNet.train(p.x, p.grid, state["avoid"], shape, ctx,
                                                   NeuralSettings(steps=opts.neural_steps, device=opts.device))
        net: SpectrogramNet = state["neural"]
        mag = net.predict(p.x, p.grid, p.ka, p.region)
        return [(mag, None, {"steps": net.steps, "final_loss": round(net.final_loss, 4)})]
    raise EffectError(f"unknown spectral repair engine {engine!r}")


def _lsd(p: _Problem, mag: np.ndarray) -> float:
    """Log-spectral distance (dB) between a prediction and the truth over the region."""
    w = p.mask[None] * np.ones((p.X.shape[0], 1, 1))
    ax = np.abs(p.X)
    # Bins far below the music are inaudible: errors count only down to 60 dB under its peaks.
    floor = max(float(np.percentile(ax[:, ~p.region], 99.5)) * 1e-3, 1e-7) if (~p.region).any() else 1e-7
    err = (20 * np.log10(np.maximum(mag, floor)) - 20 * np.log10(np.maximum(ax, floor))) ** 2
    return float(np.sqrt((err * w).sum() / max(w.sum(), 1e-9)))


def _validation(p: _Problem) -> list[_Problem]:
    """Up to two boxes of the region's shape just before and after it (content known)."""
    gap = max(4, p.k_n // 4)
    out = []
    for d in (-(p.k_n + gap), p.k_n + gap, -2 * (p.k_n + gap), 2 * (p.k_n + gap)):
        q = _shifted(p, d)
        if q is not None:
            out.append(q)
        if len(out) == 2:
            break
    return out


def candidates(audio: np.ndarray, rate: int, selection: SpectralSelection, engine: str = "auto",
               n_takes: int = 3, ctx: TaskContext | None = None, options: RepairOptions | None = None,
               ) -> list[SpectralTake]:
    """Ranked candidate repairs of ``selection`` (seconds from the start of planar ``audio``)."""
    ctx = ctx or TaskContext()
    opts = options or RepairOptions()
    if engine not in ENGINES:
        raise EffectError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    if opts.mode not in MODES:
        raise EffectError(f"mode must be one of {', '.join(MODES)} (got {opts.mode!r})")
    x = np.asarray(audio, np.float32)
    if x.ndim != 2:
        raise EffectError("audio must be planar (channels, frames)")
    grid = grid_for(rate)
    k0, m = region_mask(selection, grid, x.shape[1])
    n_all = grid.n_frames(x.shape[1])
    if k0 == 0 and k0 + m.shape[0] >= n_all and np.all(m > 0):
        raise EffectError("the selection covers all the audio: there is nothing around it to repair from")
    p = _problem(x, grid, k0, m)
    state: dict[str, Any] = {"avoid": [(k0, k0 + m.shape[0])]}
    ctx.progress(0.02, "Spectral repair")
    ranked: list[tuple[float, str, np.ndarray, Any, dict]] = []
    auto_info: dict[str, Any] | None = None
    if engine == "auto":
        use_neural = opts.auto_neural if opts.auto_neural is not None else opts.device != "cpu"
        pool = ["interp", "match"] + (["neural"] if use_neural else [])
        vals = _validation(p)
        state["avoid"] += [(q.k0, q.k0 + q.k_n) for q in vals]
        scores: dict[str, float] = {}
        for i, eng in enumerate(pool):
            ctx.check()
            ctx.progress(0.05 + 0.8 * i / len(pool), f"Spectral repair: trying {eng}")
            errs = []
            for q in vals:
                try:
                    pred = _predict(eng, q, ctx, opts, state, 1, [state["avoid"][0]])
                except EffectError as exc:  # e.g. too little audio for the network: Auto goes on without it
                    ctx.warn(f"Spectral repair: {eng} left out ({exc})")
                    break
                if pred:
                    errs.append(_lsd(q, pred[0][0]))
            scores[eng] = float(np.mean(errs)) if errs else float("inf")
        order = sorted(pool, key=lambda e: scores[e])
        auto_info = {"validation_lsd_db": {e: round(s, 2) for e, s in scores.items()}, "chose": order[0]}
        preds: dict[str, list] = {}
        for eng in order:
            try:
                preds[eng] = _predict(eng, p, ctx, opts, state, max(3, n_takes - len(pool) + 1))
            except EffectError:
                preds[eng] = []
        order = [e for e in order if preds[e]] or ["interp"]
        auto_info["chose"] = order[0]
        if opts.mode == "attenuate" and preds.get(order[0]):
            # The winner's take caps each bin at the highest of: the winner's prediction, the best three
            # patches (match) and the interpolation from the edges, so that music the winner did not foresee
            # is kept (measured on the dev set: +0.3 to +2 dB over the winner alone; docs/SPECTRAL.md).
            caps = [preds[order[0]][0][0], preds["interp"][0][0]] + [q[0] for q in preds.get("match", [])[:3]]
            mag0, z0, info0 = preds[order[0]][0]
            ranked.append((scores[order[0]], order[0], np.maximum.reduce(caps), z0,
                           {**info0, "capped_by": sorted({order[0], "interp"} | ({"match"} if "match" in preds
                                                                              else set()))}))
        for eng in order:
            for mag, z, info in preds.get(eng, []):
                ranked.append((scores[eng], eng, mag, z, info))
    else:
        for mag, z, info in _predict(engine, p, ctx, opts, state, n_takes):
            ranked.append((float(info.get("cost", 0.0)), engine, mag, z, info))
    if not ranked:
        ctx.warn("Spectral repair: no match in the recording; interpolating instead")
        mag, z, info = _predict("interp", p, ctx, opts, state)[0]
        ranked.append((0.0, "interp", mag, z, info))
    takes = []
    for i, (score, eng, mag, z, info) in enumerate(ranked[: max(1, n_takes)]):
        change = _combine(p, mag, z, opts)
        y = apply_tf_edit(x, grid, p.ka, change)
        a, b = frame_span(grid, p.ka, p.ka + p.X.shape[1])
        a, b = max(0, a), min(x.shape[1], b)
        params = {"mode": opts.mode, **info}
        if auto_info is not None:
            params["auto"] = auto_info
        label = {"interp": "Interpolation across time", "match": "Patch from elsewhere in the recording",
                 "neural": "Network trained on the clip"}[eng]
        if "offset_s" in info:
            label += f" ({info['offset_s']:+.2f} s)"
        if "capped_by" in info:
            label = f"Auto: {label.lower()}, kept above the other engines' predictions"
        takes.append(SpectralTake(i, eng, a, b, y[:, a:b].copy(), score, label, params))
    ctx.progress(1.0, "Spectral repair: done")
    return takes


def repair(audio: np.ndarray, rate: int, selection: SpectralSelection, engine: str = "auto", take: int = 0,
           ctx: TaskContext | None = None, options: RepairOptions | None = None) -> tuple[np.ndarray, SpectralTake]:
    """``audio`` with the selection repaired by take number ``take`` (clamped to those available)."""
    ctx = ctx or TaskContext()
    takes = candidates(audio, rate, selection, engine, take + 1, ctx, options)
    chosen = takes[min(take, len(takes) - 1)]
    if take >= len(takes):
        ctx.warn(f"Spectral repair: only {len(takes)} take(s) for this selection; using take {chosen.index}")
    return chosen.apply(audio), chosen
