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


SEAL_SPLIT_HZ = 3000.0  # low / high band split of the join envelope guard
SEAL_HEADROOM_DB = 3.0


def _moving_rms(x: np.ndarray, n: int) -> np.ndarray:
    """RMS over a centred window of ``n`` samples of mono ``x`` (same length)."""
    k = np.ones(max(1, n)) / max(1, n)
    return np.sqrt(np.maximum(np.convolve(x * x, k, mode="same"), 0.0))


def _guard_gain(env: np.ndarray, ctx_level: float, inner_level: float, t_len: int) -> np.ndarray:
    """Gain (<= 1) for the first ``t_len`` samples of a fill, seen from its join at index 0.

    The ceiling starts at the context's level and moves (raised cosine) to the
    fill's own level further in, with a little headroom; the gain pulls the
    envelope ``env`` under it. Never above 1: a fill is never boosted, so nothing dips.
    """
    r = (0.5 - 0.5 * np.cos(np.pi * np.clip(np.arange(t_len) / max(1, t_len - 1), 0.0, 1.0))) ** 2
    ceiling = (ctx_level + (inner_level - ctx_level) * r) * 10 ** (SEAL_HEADROOM_DB / 20) + 1e-9
    g = np.minimum(1.0, ceiling / (env[:t_len] + 1e-12))
    return g


def _smooth_min(g: np.ndarray, n: int) -> np.ndarray:
    """A running minimum over ``n`` samples then a moving average: a gain curve without sudden steps."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    return uniform_filter1d(minimum_filter1d(g, size=max(1, n), mode="nearest"), size=max(1, n), mode="nearest")


def seal_joins(audio: np.ndarray, start: int, stop: int, fill: np.ndarray, rate: int,
               transition_s: float = 0.015) -> np.ndarray:
    """``fill`` (replacing ``audio[:, start:stop]``) made to meet its context without a click.

    A fill can begin or end with more energy than the material it joins: a burst
    where an extrapolation or a copied stretch starts, or sound where the context
    is silent (a pause in speech, digital silence next to a dropout). Both are
    heard as a click. For each join that touches the context, in two bands
    (below and above ``SEAL_SPLIT_HZ``: a high-frequency burst can hide under a
    steady low band), the fill's envelope over its first ``transition_s`` is
    held under a ceiling that starts at the context's level at the join and
    moves smoothly to the fill's own level further in. Only attenuation, only
    where the fill overshoots; the gain is smoothed, and 1 at the join's far side,
    so value and slope stay continuous and the level never dips below both sides.
    Same gain for every channel (the stereo image is kept).
    """
    y = np.asarray(fill, np.float64)
    x = np.asarray(audio, np.float64)
    n = x.shape[1]
    length = y.shape[1]
    t_len = min(int(transition_s * rate), length // 3)
    if t_len < 16:
        return np.asarray(fill, np.float32)
    pad = int(0.012 * rate)
    left_ctx = x[:, max(0, start - pad):start]
    right_ctx = x[:, stop:min(n, stop + pad)]
    whole = np.concatenate([left_ctx, y, right_ctx], axis=1)
    sos = signal.butter(2, SEAL_SPLIT_HZ, "lowpass", fs=rate, output="sos")
    low = signal.sosfiltfilt(sos, whole, axis=1)
    bands = [low, whole - low]
    o = left_ctx.shape[1]
    # Envelope and context windows per band: long enough to hold a period of the band's
    # lowest frequencies (a short RMS of a low tone follows its phase, not its level).
    windows = [(max(8, int(0.008 * rate)), max(8, int(0.010 * rate))),
               (max(8, int(0.001 * rate)), max(8, int(0.003 * rate)))]
    # The guard lets go smoothly over the last third of the transition (no gain step).
    taper = np.zeros(length)
    k = np.arange(t_len)
    hold = int(0.66 * t_len)
    taper[:t_len] = np.where(k < hold, 1.0, np.cos(0.5 * np.pi * (k - hold) / max(1, t_len - hold)) ** 2)
    out_bands = []
    for band, (win, ctx_n) in zip(bands, windows):
        mono = np.sqrt(np.mean(band ** 2, axis=0))
        env = _moving_rms(mono, win)
        gain = np.ones(length)
        for side in ("left", "right"):
            has_ctx = (start > 0) if side == "left" else (stop < n)
            if not has_ctx:
                continue
            if side == "left":
                ctx_seg = mono[max(0, o - ctx_n):o]
                f_env = env[o:o + length]
            else:
                ctx_seg = mono[o + length:o + length + ctx_n]
                f_env = env[o:o + length][::-1]
            if ctx_seg.size == 0:
                continue
            ctx_level = float(np.sqrt(np.mean(ctx_seg ** 2)))
            inner = f_env[t_len:min(length, 3 * t_len)]
            inner_level = float(np.sqrt(np.mean(inner ** 2))) if inner.size else ctx_level
            g = _guard_gain(f_env, ctx_level, inner_level, t_len)
            full = np.ones(length)
            full[:t_len] = g
            full = _smooth_min(full, win)
            full = 1.0 - (1.0 - np.minimum(full, 1.0)) * taper
            gain = np.minimum(gain, full if side == "left" else full[::-1])
        out_bands.append(band[:, o:o + length] * gain[None, :])
    return (out_bands[0] + out_bands[1]).astype(np.float32)


def smooth_edges(audio: np.ndarray, start: int, stop: int, fill: np.ndarray, rate: int,
                 blend_s: float = 0.002) -> np.ndarray:
    """``fill`` corrected so that it leaves the context with the context's value and slope.

    At each join that touches the context, a short LPC model (order 32, 20 ms) of
    the context predicts the first two samples past the join. The difference
    between the fill and that prediction, in value and in slope, is removed by a
    smooth correction that fades out over ``blend_s`` (a raised cosine, flat at the
    join). A fill that already continues the context is left as it is; one that
    starts with a step or a kink loses it. Nothing is faded, so the level cannot dip.
    """
    from .ar import extrapolate

    y = np.array(fill, np.float64, copy=True)
    x = np.asarray(audio, np.float64)
    n_ch, length = y.shape
    k = min(int(blend_s * rate), length // 4)
    if k < 4:
        return np.asarray(fill, np.float32)
    ctx = int(0.02 * rate)
    t = np.arange(k, dtype=np.float64)
    h = 0.5 + 0.5 * np.cos(np.pi * t / k)  # 1 at the join, 0 after k samples, flat at both ends
    for ch in range(n_ch):
        if start > 8:
            cont = extrapolate(x[ch, max(0, start - ctx):start], 2, 32)
            dv = y[ch, 0] - cont[0]
            ds = (y[ch, 1] - y[ch, 0]) - (cont[1] - cont[0])
            y[ch, :k] -= (dv + ds * t) * h
        if x.shape[1] - stop > 8:
            cont = extrapolate(x[ch, stop:stop + ctx][::-1], 2, 32)
            dv = y[ch, -1] - cont[0]
            ds = (y[ch, -2] - y[ch, -1]) - (cont[1] - cont[0])
            y[ch, length - k:] -= ((dv + ds * t) * h)[::-1]
    return y.astype(np.float32)
