"""Click and crackle removal: autoregressive detection and least-squares AR interpolation.

Written here because no well-kept Python library does it: pedalboard, librosa,
scipy and noisereduce have no click detector or gap interpolator. The method
is the classic one (Vaseghi and Rayner; Godsill and Rayner, *Digital Audio
Restoration*, ch. 5):

1. In blocks of about 80 ms, fit an AR model (order 32, autocorrelation method).
2. Filter the block forward and backward with the model's prediction-error
   filter. Music and speech are predictable; a click is not, so it shows as a
   burst in both errors, near its edges. Where both (their local maxima) stand
   far above the block's RMS error, a click is marked. The RMS, not a median,
   is the yardstick on purpose: the glottal pulses of voiced speech are sparse
   and large in the error too, and they raise the RMS, so they are not taken
   for clicks.
3. Each marked run is rebuilt by least-squares AR interpolation (order 64,
   fitted by the covariance method to the audio on both sides): the samples
   that minimise the model's prediction error. The stretch starts short and
   doubles (a click's decay is quieter than its edge and slips past detection)
   until the repaired audio is as predictable as clean audio there; a stretch
   across which the level jumps (an attack) or that no width explains is left alone.
4. Detection runs again on the repaired audio to catch what the first pass's
   model, fitted with the clicks inside, missed.

Only marked samples change: clean audio comes back bit for bit identical.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.ndimage import maximum_filter1d
from scipy.signal import lfilter

ORDER = 32  # detection model
BLOCK_SECONDS = 0.08
INTERP_ORDER = 64  # interpolation model (covariance method on CONTEXT * INTERP_ORDER samples each side)
CONTEXT = 8
FIRST_WIDTH = 16  # samples: the first stretch tried; it doubles up to the longest click
ACCEPT = 4.0  # a repaired stretch's prediction error may be this many times the clean level (power)
CONTINUITY = 3.0  # a level change larger than this across a stretch marks an attack, not a click
LEVEL_SPAN = 240  # samples each side over which that level is measured


def ar_coefficients(x: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter [1, -a1, ..., -ap] of an AR(order) model of ``x`` (autocorrelation method)."""
    w = x * np.hanning(len(x))
    n = 1 << int(np.ceil(np.log2(2 * len(w))))
    spec = np.fft.rfft(w, n)
    r = np.fft.irfft(spec * np.conj(spec), n)[: order + 1]
    if r[0] <= 1e-20:
        return np.r_[1.0, np.zeros(order)]
    r = r.copy()
    r[0] *= 1.0 + 1e-9
    r[1:] *= np.exp(-0.5 * (0.002 * np.arange(1, order + 1)) ** 2)  # slight lag window for stability
    try:
        a = solve_toeplitz(r[:order], r[1: order + 1])
    except np.linalg.LinAlgError:
        return np.r_[1.0, np.zeros(order)]
    return np.r_[1.0, -a]


def ar_covariance(segments: list[np.ndarray], order: int) -> np.ndarray:
    """Prediction-error filter of an AR(order) model fitted by least squares
    (covariance method) to the predictions that lie wholly inside each segment:
    sharper than the autocorrelation method on the short context around a click."""
    rows, targets = [], []
    for seg in segments:
        seg = np.asarray(seg, dtype=np.float64)
        if len(seg) <= order:
            continue
        win = np.lib.stride_tricks.sliding_window_view(seg, order + 1)
        rows.append(win[:, :order][:, ::-1])  # x[n-1], ..., x[n-order]
        targets.append(win[:, order])
    if not rows:
        return np.r_[1.0, np.zeros(order)]
    A, t = np.concatenate(rows), np.concatenate(targets)
    reg = 1e-6 * (np.mean(t ** 2) + 1e-20) * len(t)
    a = np.linalg.solve(A.T @ A + reg * np.eye(order), A.T @ t)
    return np.r_[1.0, -a]


def _runs(mask: np.ndarray) -> np.ndarray:
    """[start, stop) pairs of the True runs of ``mask``."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)], axis=1)


def detect(x: np.ndarray, sample_rate: int, threshold: float,
           order: int = ORDER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean mask of the samples of mono ``x`` that look like clicks; the
    prediction-error level (RMS) of the block each sample lies in; and its
    click-free level (median based), what a repaired stretch should come down to."""
    n = len(x)
    block = max(4 * order, int(BLOCK_SECONDS * sample_rate))
    mask = np.zeros(n, dtype=bool)
    level = np.full(n, np.inf)
    quiet = np.zeros(n)
    for a in range(0, n, block):
        b = min(n, a + block)
        lo, hi = max(0, a - order), min(n, b + order)
        seg = x[lo:hi].astype(np.float64)
        if len(seg) <= 2 * order or not np.any(seg):
            continue
        c = ar_coefficients(seg, order)
        fwd = lfilter(c, [1.0], seg)
        bwd = lfilter(c, [1.0], seg[::-1])[::-1]
        fwd[:order] = 0.0
        bwd[-order:] = 0.0
        # both errors jump at a click's edges, a sample or a few apart: compare their local maxima
        err = np.minimum(maximum_filter1d(np.abs(fwd), 9), maximum_filter1d(np.abs(bwd), 9))
        # A click must stand out from the block's RMS error: the excitation pulses of
        # voiced speech (sparse, large) raise the RMS and so are not taken for clicks.
        scale = float(np.sqrt(np.mean(fwd[order:] ** 2))) + 1e-9
        mask[a:b] |= (err > threshold * scale)[a - lo: a - lo + (b - a)]
        level[a:b] = scale
        quiet[a:b] = 1.4826 * float(np.median(np.abs(fwd[order:])))
    return mask, level, quiet


def interpolate(x: np.ndarray, start: int, stop: int, order: int = ORDER) -> tuple[np.ndarray, float]:
    """Least-squares AR interpolation of x[start:stop] from ``order``·2 samples of context
    each side; also returns the mean square prediction error of the repaired stretch."""
    ctx = 2 * order
    lo, hi = max(0, start - ctx), min(len(x), stop + ctx)
    seg = x[lo:hi].astype(np.float64)
    if hi - lo <= stop - start + order:
        return x[start:stop].copy(), np.inf
    c = ar_covariance([x[max(0, start - CONTEXT * order):start], x[stop:stop + CONTEXT * order]], order)
    m = len(seg)
    # Prediction-error matrix E (rows: every full prediction inside the segment): e = E @ seg.
    rows = m - order
    idx = np.arange(rows)[:, None] + np.arange(order + 1)[None, ::-1]
    E = np.zeros((rows, m))
    np.put_along_axis(E, idx, np.broadcast_to(c, (rows, order + 1)), axis=1)
    unknown = np.zeros(m, dtype=bool)
    unknown[start - lo: stop - lo] = True
    Eu, Ek = E[:, unknown], E[:, ~unknown]
    rhs = -Ek @ seg[~unknown]
    sol, *_ = np.linalg.lstsq(Eu, rhs, rcond=None)
    resid = Eu @ sol - rhs
    near = np.any(Eu != 0.0, axis=1)  # the predictions that involve the repaired samples
    return sol, float(np.mean(resid[near] ** 2)) if near.any() else 0.0


def repair_run(x: np.ndarray, start: int, stop: int, level: float, quiet: float, max_stop: int,
               order: int = ORDER) -> tuple[int, np.ndarray] | None:
    """Rebuild a detected click at [start, stop), growing the stretch to the right
    (a click's decay is quieter than its edge and slips past detection) until
    the rebuilt audio is as predictable as the music around it. Returns the
    stretch's end and its new samples, or None when no width up to
    ``max_stop`` explains the disturbance (an attack, not a click)."""
    lo, hi = max(0, start - 2 * order), min(len(x), max_stop + 2 * order)
    context_peak = max(np.max(np.abs(x[lo:start]), initial=0.0), np.max(np.abs(x[max_stop:hi]), initial=0.0))
    tries: list[tuple[int, np.ndarray, float]] = []
    end = min(stop, start + FIRST_WIDTH)
    while True:
        span = max(2 * order, LEVEL_SPAN)
        before = x[max(0, start - span):start]
        after = x[end:end + span]
        steady = True
        if len(before) and len(after):  # a sound that changes level here is an attack, not a click
            rb, ra = np.median(np.abs(before)) + 1e-7, np.median(np.abs(after)) + 1e-7  # robust to other clicks
            steady = max(rb / ra, ra / rb) <= CONTINUITY
        if steady:
            sol, mse = interpolate(x, start, end, INTERP_ORDER)
            if np.max(np.abs(sol), initial=0.0) <= 1.5 * context_peak + 1e-6:
                tries.append((end, sol, mse))
        if end >= max_stop:
            break
        end = min(max_stop, start + 2 * (end - start))
    if not tries:
        return None
    # the narrowest stretch after which the audio is as predictable as clean audio ...
    for end, sol, mse in tries:
        if mse <= ACCEPT * quiet ** 2:
            return end, sol
    # ... or else the best one, if it explains the disturbance at all
    end, sol, mse = min(tries, key=lambda t: t[2])
    return (end, sol) if mse <= ACCEPT * level ** 2 else None


def declick(audio: np.ndarray, sample_rate: int, sensitivity: float = 5.0, max_width_ms: float = 1.5,
            passes: int = 2, progress: Callable[[float], None] | None = None) -> tuple[np.ndarray, int]:
    """Repair clicks in planar ``audio``; returns (repaired copy, samples changed)."""
    out = np.array(audio, dtype=np.float32, copy=True)
    threshold = 14.0 - sensitivity  # sensitivity 1..10 -> 13..4 times the robust error level
    max_width = max(1, int(max_width_ms * sample_rate / 1000.0))
    margin = max(1, int(0.0002 * sample_rate))  # 0.2 ms each side: a click's edges are part of it
    changed = 0
    steps = audio.shape[0] * passes
    for ch in range(audio.shape[0]):
        x = out[ch].astype(np.float64)
        for p in range(passes):
            mask, level, quiet = detect(x, sample_rate, threshold)
            if not mask.any():
                break
            # widen and join nearby marks
            wide = np.convolve(mask, np.ones(2 * margin + 1), mode="same") > 0
            for start, stop in _runs(wide):
                if stop - start > max_width + 2 * margin:
                    continue  # too long to be a click: an attack or a loud sound, leave it
                fixed = repair_run(x, int(start), int(stop), float(level[start]), float(quiet[start]),
                                   min(len(x), int(start) + max_width + 2 * margin))
                if fixed is not None:
                    end, sol = fixed
                    x[start:end] = sol
            if progress is not None:
                progress((ch * passes + p + 1) / steps)
        diff = x.astype(np.float32) != out[ch]
        changed += int(diff.sum())
        out[ch, diff] = x[diff].astype(np.float32)
    return out, changed


def median_declick(audio: np.ndarray, sample_rate: int, width: int = 9, threshold: float = 8.0) -> np.ndarray:
    """The classic anchor: samples far from a running median are replaced by the median."""
    from scipy.ndimage import median_filter

    out = np.array(audio, dtype=np.float32, copy=True)
    for ch in range(out.shape[0]):
        med = median_filter(out[ch], size=width, mode="reflect")
        r = out[ch] - med
        scale = 1.4826 * np.median(np.abs(r)) + 1e-9
        bad = np.abs(r) > threshold * scale
        bad = np.convolve(bad, np.ones(3), mode="same") > 0
        out[ch, bad] = med[bad]
    return out

