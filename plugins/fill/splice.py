"""Joining new material into old: cross-fades, splice points, level and tone matching.

All functions work on planar float arrays. A splice replaces ``orig`` by ``src``
(both on the same timeline) between two cross-fades; each cross-fade is placed
where the two signals agree best within a search window, and its shape adapts to
their correlation (linear when they are in phase, equal-power when unrelated), so
the join neither clicks nor dips.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


def xfade_curves(n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Fade-out and fade-in gains of length ``n`` keeping power for correlation ``rho``."""
    t = (np.arange(n) + 0.5) / max(1, n)
    g_in, g_out = t, 1.0 - t
    rho = float(np.clip(rho, 0.0, 1.0))
    power = g_out ** 2 + g_in ** 2 + 2.0 * rho * g_out * g_in
    norm = 1.0 / np.sqrt(np.maximum(power, 1e-9))
    return g_out * norm, g_in * norm


def best_xfade_start(orig: np.ndarray, src: np.ndarray, lo: int, hi: int, n: int, prefer_late: bool) -> int:
    """Start in ``[lo, hi]`` of the ``n``-long window where mono ``orig`` and ``src`` differ least.

    Ties (silence, identical material) go to the latest start with ``prefer_late``
    (a join before a gap), else to the earliest, so the fill disturbs as little of
    the context as possible.
    """
    hi = max(lo, hi)
    seg_o = orig[lo:hi + n]
    seg_s = src[lo:hi + n]
    count = seg_o.size - n + 1
    if count <= 1:
        return lo
    d = np.concatenate([[0.0], np.cumsum((seg_o - seg_s) ** 2)])
    e = np.concatenate([[0.0], np.cumsum(seg_o ** 2 + seg_s ** 2)])
    err = (d[n:n + count] - d[:count]) / (e[n:n + count] - e[:count] + 1e-12)
    bias = np.linspace(1.0, 0.0, count) if prefer_late else np.linspace(0.0, 1.0, count)
    return lo + int(np.argmin(err + 0.02 * bias))


def correlation(u: np.ndarray, v: np.ndarray) -> float:
    num = float(np.dot(u, v))
    den = float(np.sqrt(np.dot(u, u) * np.dot(v, v))) + 1e-12
    return num / den


def splice(orig: np.ndarray, src: np.ndarray, left: int | None, right: int | None, n: int) -> np.ndarray:
    """``orig`` with ``src`` between a cross-fade starting at ``left`` and one starting at ``right``.

    ``left=None``: no left join (``src`` from the start); ``right=None``: no right join.
    """
    out = np.array(orig, np.float64, copy=True)
    src = np.asarray(src, np.float64)
    mono_o, mono_s = out.mean(axis=0), src.mean(axis=0)
    lo = 0 if left is None else left + n
    hi = out.shape[1] if right is None else right
    out[:, lo:hi] = src[:, lo:hi]
    if left is not None:
        w = slice(left, left + n)
        g_out, g_in = xfade_curves(n, correlation(mono_o[w], mono_s[w]))
        out[:, w] = orig[:, w] * g_out + src[:, w] * g_in
    if right is not None:
        w = slice(right, right + n)
        g_out, g_in = xfade_curves(n, correlation(mono_o[w], mono_s[w]))
        out[:, w] = src[:, w] * g_out + orig[:, w] * g_in
    return out


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))) if x.size else 0.0


def gain_ramp(n: int, start: int, stop: int, g_left: float, g_right: float) -> np.ndarray:
    """Gains for ``n`` frames: ``g_left`` before ``start``, ``g_right`` after ``stop``, a dB ramp between."""
    db_l, db_r = 20 * np.log10(g_left), 20 * np.log10(g_right)
    t = np.clip((np.arange(n) - start) / max(1, stop - start), 0.0, 1.0)
    return 10 ** ((db_l + (db_r - db_l) * t) / 20)


def level_gain(target: np.ndarray, source: np.ndarray, limit_db: float = 12.0) -> float:
    """Gain making ``source``'s RMS match ``target``'s, limited to +-``limit_db``."""
    rt, rs = rms(target), rms(source)
    if rt <= 1e-9 or rs <= 1e-9:
        return 1.0
    db = float(np.clip(20 * np.log10(rt / rs), -limit_db, limit_db))
    return 10 ** (db / 20)


def band_energies(x: np.ndarray, rate: int, n_fft: int, n_bands: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Average power in ``n_bands`` log-spaced bands (and the band centres in Hz)."""
    f, p = signal.welch(np.asarray(x, np.float64), rate, nperseg=min(n_fft, max(16, x.size)))
    edges = np.geomspace(40.0, rate / 2, n_bands + 1)
    centres = np.sqrt(edges[:-1] * edges[1:])
    e = np.array([p[(f >= lo) & (f < hi)].mean() if np.any((f >= lo) & (f < hi)) else np.nan
                  for lo, hi in zip(edges[:-1], edges[1:])])
    return e, centres


def tone_match_filter(target: np.ndarray, source: np.ndarray, rate: int, limit_db: float = 6.0,
                      min_db: float = 1.5) -> np.ndarray | None:
    """A linear-phase FIR that moves ``source``'s spectral envelope toward ``target``'s.

    Broadband level is left to :func:`level_gain`. Returns ``None`` when the
    envelopes already agree within ``min_db`` (no filtering is best then).
    """
    n_fft = 1 << int(np.ceil(np.log2(0.04 * rate)))
    if target.size < n_fft // 2 or source.size < n_fft // 2:
        return None
    et, centres = band_energies(target, rate, n_fft)
    es, _ = band_energies(source, rate, n_fft)
    ok = np.isfinite(et) & np.isfinite(es) & (et > 1e-14) & (es > 1e-14)
    if ok.sum() < 4:
        return None
    db = np.zeros_like(centres)
    db[ok] = 10 * np.log10(et[ok] / es[ok])
    weights = np.where(ok, es, 0.0)
    db[ok] -= np.average(db[ok], weights=weights[ok])
    db[~ok] = 0.0
    db = np.clip(np.convolve(np.pad(db, 1, mode="edge"), [0.25, 0.5, 0.25], "valid"), -limit_db, limit_db)
    if np.max(np.abs(db)) < min_db:
        return None
    freqs = np.concatenate([[0.0], centres, [rate / 2]])
    gains = 10 ** (np.concatenate([[db[0]], db, [db[-1]]]) / 20)
    taps = (int(0.01 * rate) // 2) * 2 + 1
    return signal.firwin2(taps, freqs, gains, fs=rate)


def apply_fir(x: np.ndarray, fir: np.ndarray) -> np.ndarray:
    """Zero-delay filtering of planar ``x`` with an odd-length linear-phase FIR."""
    return signal.fftconvolve(np.asarray(x, np.float64), fir[None, :], mode="same", axes=1)
