"""Harmonic selection: follow the partial the user clicked on over time.

:func:`track_harmonic` takes a click at ``(t, f)`` in the spectrogram, finds the
spectral peak nearest ``f`` at ``t`` and follows it frame by frame forwards and
backwards (a peak tracker: each frame looks for the strongest peak within
``max_step_semitones`` of the previous frame's frequency, refined by parabolic
interpolation on the dB spectrum). It stops where the partial fades below
``floor_db`` under its level at the click, or leaves the local spectrum (less than
``prominence_db`` above the median level of the octave around it) for longer than
``max_gap_s``. The result is a :class:`~editor.core.spectral_selection.Harmonic`
shape whose fundamental is the tracked frequency divided by ``partial`` (the
partial number the user clicked: 1 for the fundamental).
"""

from __future__ import annotations

import math

import numpy as np

from .spectral_selection import Harmonic, StftGrid
from .spectral_stft import stft_frames

__all__ = ["track_harmonic", "track_partial"]


def _peak(spec_db: np.ndarray, lo: int, hi: int) -> tuple[float, float, int]:
    """(fractional bin, level dB, integer bin) of the highest point of ``spec_db[lo:hi]``."""
    lo, hi = max(1, lo), min(spec_db.size - 1, hi)
    if hi <= lo:
        return float("nan"), -np.inf, -1
    j = lo + int(np.argmax(spec_db[lo:hi]))
    a, b, c = spec_db[j - 1], spec_db[j], spec_db[j + 1]
    den = a - 2 * b + c
    off = 0.5 * (a - c) / den if den < 0 else 0.0
    off = float(np.clip(off, -0.5, 0.5))
    return j + off, float(b - 0.25 * (a - c) * off), j


def track_partial(audio: np.ndarray, sample_rate: int, t: float, f: float, *, max_seconds: float = 15.0,
                  max_step_semitones: float = 0.7, floor_db: float = 30.0, prominence_db: float = 6.0,
                  max_gap_s: float = 0.05, window_s: float = 0.09) -> tuple[np.ndarray, np.ndarray]:
    """``(times, freqs)`` of the partial through the click ``(t s, f Hz)`` (NaN where lost inside the span).

    ``audio`` is planar (channels, frames) or mono; channels are mixed."""
    x = np.asarray(audio, np.float32)
    x = x.mean(axis=0) if x.ndim == 2 else x
    n = x.shape[0]
    grid = StftGrid.for_rate(sample_rate, window_s, overlap=8)
    k_all = grid.n_frames(n)
    kc = int(np.clip(round(t / grid.frame_seconds), 0, k_all - 1))
    span = int(max_seconds / grid.frame_seconds)
    k0, k1 = max(0, kc - span), min(k_all, kc + span + 1)
    spec = np.abs(stft_frames(x[None, :], grid, k0, k1)[0])
    db = 20 * np.log10(spec + 1e-9)
    bin_hz = grid.bin_hz
    ratio = 2 ** (1 / 12)
    # The clicked peak: within a semitone (at least two bins) of the click.
    w = max(2, int(math.ceil(f * (ratio - 1) / bin_hz)))
    jc = int(round(f / bin_hz))
    fb, level0, _ = _peak(db[kc - k0], jc - w, jc + w + 1)
    if not np.isfinite(fb):
        return np.array([t]), np.array([np.nan])
    freqs = np.full(k1 - k0, np.nan)
    freqs[kc - k0] = fb * bin_hz
    max_gap = max(1, int(round(max_gap_s / grid.frame_seconds)))
    step = 2 ** (max_step_semitones / 12)
    last = {+1: kc, -1: kc}
    for direction in (+1, -1):
        cur = fb * bin_hz
        misses = 0
        k = kc + direction
        while k0 <= k < k1:
            row = db[k - k0]
            lo = int(math.floor(cur / step / bin_hz)) - 1
            hi = int(math.ceil(cur * step / bin_hz)) + 2
            pb, lev, pj = _peak(row, lo, hi)
            octave = row[max(0, int(pj / 1.414)):max(int(pj * 1.414) + 1, pj + 3)] if pj > 0 else row
            ok = (np.isfinite(pb) and lev >= level0 - floor_db
                  and lev >= float(np.median(octave)) + prominence_db)
            if ok:
                cur = pb * bin_hz
                freqs[k - k0] = cur
                last[direction] = k
                misses = 0
            else:
                misses += 1
                if misses > max_gap:
                    break
            k += direction
    a, b = last[-1], last[+1] + 1
    times = np.arange(a, b) * grid.frame_seconds
    return times, freqs[a - k0:b - k0]


def track_harmonic(audio: np.ndarray, sample_rate: int, t: float, f: float, *, partial: int = 1,
                   n_harmonics: int = 8, width_hz: float | None = None, max_hz: float = float("inf"),
                   **kw: float) -> Harmonic:
    """A :class:`Harmonic` selection from a click on partial number ``partial`` at ``(t, f)``.

    ``width_hz``: half-width of each selected partial (default: 3 % of the median
    fundamental, at least 15 Hz). Further keywords go to :func:`track_partial`."""
    times, freqs = track_partial(audio, sample_rate, t, f, **kw)
    f0 = freqs / max(1, int(partial))
    if width_hz is None:
        med = float(np.nanmedian(f0)) if np.isfinite(f0).any() else f
        width_hz = max(15.0, 0.03 * med)
    return Harmonic(tuple(float(v) for v in times), tuple(float(v) for v in f0), int(n_harmonics),
                    float(width_hz), float(max_hz))
