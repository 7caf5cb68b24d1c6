"""Clipping repair: find the clipping level, then rebuild the flattened peaks.

Written here because no well-kept Python library repairs clipping (pedalboard,
librosa and scipy have nothing for it). The method is sparse, consistent
reconstruction in the short-time Fourier domain, in the spirit of A-SPADE
(Kitić, Bertin and Gribonval 2015; Záviška et al. 2019): music and speech are
sparse in time-frequency, clipping is not. Each iteration keeps the k largest
coefficients of every frame (k grows as it goes), returns to the time domain,
and projects onto the set of signals consistent with what was recorded:
unclipped samples exactly as recorded, clipped samples at or beyond the
clipping level, on the same side. It stops when the estimate is consistent and
sparse enough. Only the clipped samples change.

The clipping level is found per channel and polarity: the largest magnitude is
a clipping level when many samples sit on it (within a small tolerance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WINDOW = 1024
HOP = 256
MIN_CLIPPED = 3  # fewer samples at the maximum than this: a natural peak, not clipping
STEPS = 512  # the sparsity k grows by bins/STEPS each iteration


def clip_levels(x: np.ndarray, tolerance: float = 1e-4,
                min_fraction: float = 2e-4) -> tuple[float | None, float | None]:
    """(positive, negative) clipping levels of mono ``x``, None where that side is not clipped."""
    out: list[float | None] = []
    n = len(x)
    for side in (1.0, -1.0):
        peak = float(np.max(side * x)) if n else 0.0
        if peak <= 1e-4:
            out.append(None)
            continue
        at = side * x >= peak * (1.0 - tolerance) - 1e-7
        count = int(at.sum())
        runs = int(np.sum(at[1:] & at[:-1]))  # neighbours both on the level: flat tops, not lone peaks
        if count >= max(MIN_CLIPPED, min_fraction * n) and runs >= 1:
            out.append(side * peak)
        else:
            out.append(None)
    return out[0], out[1]


def _frames(n: int) -> tuple[int, np.ndarray]:
    pad = WINDOW
    total = n + 2 * pad
    count = int(np.ceil((total - WINDOW) / HOP)) + 1
    return pad, np.arange(count) * HOP


def _stft(x: np.ndarray, win: np.ndarray, starts: np.ndarray) -> np.ndarray:
    idx = starts[:, None] + np.arange(WINDOW)[None, :]
    return np.fft.rfft(x[idx] * win, axis=1)


def _istft(spec: np.ndarray, win: np.ndarray, starts: np.ndarray, length: int, norm: np.ndarray) -> np.ndarray:
    frames = np.fft.irfft(spec, WINDOW, axis=1) * win
    out = np.zeros(length)
    idx = starts[:, None] + np.arange(WINDOW)[None, :]
    np.add.at(out, idx.ravel(), frames.ravel())
    return out / norm


def reconstruct(y: np.ndarray, clipped_hi: np.ndarray, clipped_lo: np.ndarray, hi: float, lo: float,
                max_iter: int = 500, tick: Callable[[float], None] | None = None) -> np.ndarray:
    """Consistent sparse reconstruction of mono ``y`` whose samples ``clipped_hi``
    (``clipped_lo``) were clipped at ``hi`` (``lo``)."""
    n = len(y)
    pad, starts = _frames(n)
    length = int(starts[-1]) + WINDOW
    win = np.sqrt(np.hanning(WINDOW + 1)[:-1])  # periodic sqrt-Hann: tight frame at hop WINDOW/4
    norm = np.zeros(length)
    np.add.at(norm, (starts[:, None] + np.arange(WINDOW)[None, :]).ravel(), np.tile(win ** 2, len(starts)))
    norm = np.maximum(norm, 1e-9)
    ybuf = np.zeros(length)
    ybuf[pad:pad + n] = y
    mhi = np.zeros(length, bool)
    mhi[pad:pad + n] = clipped_hi
    mlo = np.zeros(length, bool)
    mlo[pad:pad + n] = clipped_lo
    reliable = ~(mhi | mlo)
    x = ybuf.copy()
    # only frames that hold clipped samples need work; the rest already agree with the recording
    busy = np.flatnonzero(np.add.reduceat((mhi | mlo).astype(np.int32), starts) > 0) if len(starts) else starts
    idx = starts[:, None] + np.arange(WINDOW)[None, :]
    touched = np.zeros(length, bool)
    touched[idx[busy].ravel()] = True
    bins = WINDOW // 2 + 1
    k = 1
    step = max(1, bins // STEPS)
    bidx = idx[busy]
    flat = bidx.ravel()
    for it in range(max_iter):
        if tick is not None and it % 10 == 0:
            tick(it / max_iter)
        # Frames without clipped samples are left as they are (they reproduce x exactly),
        # so z = x + the change that thresholding makes to the busy frames.
        frames = x[bidx] * win
        sub = np.fft.rfft(frames, axis=1)
        mag = np.abs(sub)
        kk = min(k, bins)
        thresh = -np.partition(-mag, kk - 1, axis=1)[:, kk - 1:kk]
        sparse = np.fft.irfft(np.where(mag >= thresh, sub, 0.0), WINDOW, axis=1)
        delta = np.zeros(length)
        np.add.at(delta, flat, ((sparse - frames) * win).ravel())
        z = x + delta / norm
        # project onto the consistent set
        proj = z.copy()
        proj[reliable] = ybuf[reliable]
        proj[mhi] = np.maximum(z[mhi], hi)
        proj[mlo] = np.minimum(z[mlo], lo)
        gap = np.abs(proj[touched] - z[touched])
        x = proj
        if it > 10 and gap.size and np.sqrt(np.mean(gap ** 2)) < 1e-4 * np.sqrt(np.mean(ybuf[touched] ** 2) + 1e-12):
            break
        k += step
    return x[pad:pad + n]


def declip(audio: np.ndarray, max_iter: int = 500, tolerance: float = 1e-4,
           progress: Callable[[float], None] | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Repair clipped peaks in planar ``audio``. Returns the repaired copy and
    facts for the history (levels found, share of samples clipped)."""
    out = np.array(audio, dtype=np.float32, copy=True)
    facts: dict[str, float] = {}
    for ch in range(out.shape[0]):
        y = out[ch].astype(np.float64)
        hi, lo = clip_levels(y, tolerance)
        mhi = (y >= hi * (1 - tolerance) - 1e-7) if hi is not None else np.zeros(len(y), bool)
        mlo = (y <= lo * (1 - tolerance) + 1e-7) if lo is not None else np.zeros(len(y), bool)
        if hi is not None:
            facts[f"ch{ch + 1}_clip_level_pos"] = round(hi, 5)
        if lo is not None:
            facts[f"ch{ch + 1}_clip_level_neg"] = round(lo, 5)
        facts[f"ch{ch + 1}_clipped_percent"] = round(100.0 * float((mhi | mlo).mean()), 3) if len(y) else 0.0
        if mhi.any() or mlo.any():
            def tick(f: float, ch: int = ch, channels: int = out.shape[0]) -> None:
                if progress is not None:
                    progress((ch + f) / channels)

            x = reconstruct(y, mhi, mlo, hi if hi is not None else np.inf, lo if lo is not None else -np.inf,
                            max_iter, tick)
            changed = mhi | mlo
            out[ch, changed] = x[changed].astype(np.float32)
        if progress is not None:
            progress((ch + 1) / out.shape[0])
    return out, facts


def cubic_declip(audio: np.ndarray, tolerance: float = 1e-4, context: int = 4) -> np.ndarray:
    """The classic anchor: each clipped run replaced by a cubic spline through a
    few unclipped samples on either side."""
    from scipy.interpolate import CubicSpline

    out = np.array(audio, dtype=np.float32, copy=True)
    for ch in range(out.shape[0]):
        y = out[ch].astype(np.float64)
        hi, lo = clip_levels(y, tolerance)
        mask = np.zeros(len(y), bool)
        if hi is not None:
            mask |= y >= hi * (1 - tolerance) - 1e-7
        if lo is not None:
            mask |= y <= lo * (1 - tolerance) + 1e-7
        d = np.diff(np.r_[0, mask.astype(np.int8), 0])
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
            left = np.arange(max(0, a - context), a)
            right = np.arange(b, min(len(y), b + context))
            knots = np.r_[left, right]
            if len(left) == 0 or len(right) == 0 or len(knots) < 4:
                continue
            out[ch, a:b] = CubicSpline(knots, y[knots])(np.arange(a, b)).astype(np.float32)
    return out
