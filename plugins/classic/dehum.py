"""Mains hum removal: find 50 or 60 Hz hum and its harmonics, then subtract a
tracked model of the hum.

Written here because no well-kept Python library removes hum by itself:
scipy offers notch and comb filters, which need the frequency given and cut
the music at every harmonic too (a 60 Hz comb takes the low E of a bass with
it). This module measures instead of filtering:

1. Detection: a long-term spectrum (0.25 Hz resolution) of the audio; for 50
   and 60 Hz, how far each harmonic's peak stands above its neighbourhood. The
   base with the stronger harmonic series wins; harmonics that stand out are
   kept; the exact frequency (mains runs a little off, 49.97 or 60.02 Hz) comes
   from the peaks of the strongest harmonics.
2. Removal: in overlapping one-second frames, a weighted least-squares fit of
   sinusoids at the kept harmonics (amplitude and phase per frame, with the
   frequency re-tuned per frame to follow mains drift), cross-faded into one
   hum estimate and subtracted. Everything that is not hum is left as it was,
   apart from whatever lies within about a hertz of a hum harmonic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FRAME_SECONDS = 1.5
ANALYSIS_SECONDS = 60.0
USUAL_PERCENTILE = 30  # a harmonic's usual level across frames
CAP = 1.5  # a frame's fit may exceed the usual level by this factor
TOLERANCE = 0.004  # mains stays within 0.4% of nominal (50 ± 0.2 Hz)
DRIFT_HZ = (-0.12, -0.06, -0.03, 0.0, 0.03, 0.06, 0.12)  # per-frame re-tuning of the base frequency


@dataclass
class Hum:
    """What detection found."""

    base: float  # the exact base frequency (Hz)
    mains: int  # 50 or 60
    harmonics: tuple[int, ...]  # which multiples stand out
    prominence_db: dict[int, float] = field(default_factory=dict)


def _spectrum(mono: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.signal import welch

    n = len(mono)
    limit = int(ANALYSIS_SECONDS * sample_rate)
    if n > limit:  # spread the analysis over the whole input
        pieces = 6
        size = limit // pieces
        starts = np.linspace(0, n - size, pieces).astype(int)
        mono = np.concatenate([mono[s:s + size] for s in starts])
    nper = min(len(mono), 4 * sample_rate)
    return welch(mono, sample_rate, nperseg=nper, noverlap=nper // 2, window="hann", detrend=False)


def _prominence(f: np.ndarray, p: np.ndarray, centre: float) -> tuple[float, float]:
    """(dB above the neighbourhood, exact peak frequency) of a peak near ``centre``."""
    df = f[1] - f[0]
    near = np.abs(f - centre) <= max(TOLERANCE * centre, 2 * df)
    hood = (np.abs(f - centre) <= 12.0) & (np.abs(f - centre) > max(0.02 * centre, 2.5))
    if not near.any() or not hood.any():
        return 0.0, centre
    i = int(np.flatnonzero(near)[np.argmax(p[near])])
    peak = p[i]
    if 0 < i < len(p) - 1:  # parabolic interpolation of the log spectrum
        a, b, c = np.log(p[i - 1] + 1e-30), np.log(p[i] + 1e-30), np.log(p[i + 1] + 1e-30)
        den = a - 2 * b + c
        shift = 0.5 * (a - c) / den if den < 0 else 0.0
        freq = f[i] + shift * df
    else:
        freq = f[i]
    return float(10 * np.log10((peak + 1e-30) / (np.median(p[hood]) + 1e-30))), float(freq)


def detect(audio: np.ndarray, sample_rate: int, min_prominence_db: float = 8.0,
           max_harmonics: int = 40, mains: int | None = None) -> Hum | None:
    """Find mains hum in planar ``audio``; None when there is none."""
    mono = np.mean(np.asarray(audio, dtype=np.float64), axis=0)
    if len(mono) < sample_rate // 2 or not np.any(mono):
        return None
    f, p = _spectrum(mono, sample_rate)
    best: tuple[float, int, dict[int, float], dict[int, float]] | None = None
    for base_hz in ((50, 60) if mains is None else (mains,)):
        top = min(max_harmonics, int((0.45 * sample_rate) // base_hz))
        prom, freq = {}, {}
        for k in range(1, top + 1):
            prom[k], freq[k] = _prominence(f, p, k * base_hz)
        # the low harmonics decide which mains it is (higher ones are shared: 300 Hz = 6x50 = 5x60)
        score = sum(max(0.0, prom[k] - 3.0) for k in range(1, min(top, 8) + 1))
        if best is None or score > best[0]:
            best = (score, base_hz, prom, freq)
    assert best is not None
    _score, found, prom, freq = best
    present = [k for k, v in prom.items() if v >= min_prominence_db]
    # hum is a series: at least two of the first four harmonics stand out ...
    if sum(1 for k in present if k <= 4) < 2:
        return None
    # ... and its peaks agree on one base frequency (music near 200 or 250 Hz does not)
    strong = sorted(present, key=lambda k: -prom[k])[:8]
    estimates = np.array([freq[k] / k for k in strong])
    centre = float(np.median(estimates))
    agree = [k for k, e in zip(strong, estimates) if abs(e - centre) <= 0.03]
    if len(agree) < 2:
        return None
    weights = np.array([prom[k] * k for k in agree])  # higher harmonics pin the frequency down better
    base = float(np.sum(weights * np.array([freq[k] / k for k in agree])) / np.sum(weights))
    present = [k for k in present if abs(freq[k] / k - base) <= 0.1]
    return Hum(base, found, tuple(present), {k: round(prom[k], 1) for k in present})


def _basis(n: int, base: float, harmonics: np.ndarray, sample_rate: int) -> np.ndarray:
    t = np.arange(n) / sample_rate
    ph = 2 * np.pi * base * t[:, None] * harmonics[None, :]
    return np.concatenate([np.cos(ph), np.sin(ph)], axis=1)


def hum_estimate(x: np.ndarray, sample_rate: int, hum: Hum,
                 tick: Callable[[float], None] | None = None) -> np.ndarray:
    """The hum in mono ``x``: per-frame weighted least squares, cross-faded."""
    n = len(x)
    size = int(FRAME_SECONDS * sample_rate) // 2 * 2
    hop = size // 2
    harmonics = np.array(hum.harmonics, dtype=np.float64)
    pad = hop
    total = n + 2 * pad
    count = int(np.ceil((total - size) / hop)) + 1
    buf = np.zeros((count - 1) * hop + size)
    buf[pad:pad + n] = x
    valid = np.zeros_like(buf)
    valid[pad:pad + n] = 1.0
    win = np.hanning(size + 1)[:-1]  # periodic Hann: sums to 1 at 50% overlap
    starts = np.arange(count) * hop
    idx = starts[:, None] + np.arange(size)[None, :]
    frames = buf[idx]
    weights = win[None, :] * valid[idx]
    full = np.all(valid[idx] > 0, axis=1)
    K = len(harmonics)
    best_coef = np.zeros((count, 2 * K))
    best_drift = np.zeros(count, dtype=int)
    best_energy = np.full(count, -1.0)
    for j, drift in enumerate(DRIFT_HZ):
        B = _basis(size, hum.base + drift, harmonics, sample_rate)
        # frames lying wholly inside the audio share one Gram matrix
        G = (B * win[:, None]).T @ B + 1e-9 * np.eye(B.shape[1])
        coef = np.zeros((count, B.shape[1]))
        if full.any():
            coef[full] = np.linalg.solve(G, (B.T @ (frames[full] * win[None, :]).T)).T
        for i in np.flatnonzero(~full):
            Bw = B * weights[i][:, None]
            Gi = Bw.T @ B + 1e-9 * np.eye(B.shape[1])
            coef[i] = np.linalg.solve(Gi, Bw.T @ frames[i])
        fit = coef @ B.T
        energy = np.sum(weights * fit * (2 * frames - fit), axis=1)  # reduction of the weighted error
        better = energy > best_energy
        best_energy[better] = energy[better]
        best_coef[better] = coef[better]
        best_drift[better] = j
        if tick is not None:
            tick((j + 1) / len(DRIFT_HZ))
    # Hum is steady; music is not. Where a frame's fit of a harmonic is much louder
    # than that harmonic usually is (a note sitting near it), keep its phase but
    # bring it down to the hum's usual level, so the note is not taken with it.
    amp = np.hypot(best_coef[:, :K], best_coef[:, K:])
    usual = np.percentile(amp[full] if full.any() else amp, USUAL_PERCENTILE, axis=0)
    scale = np.minimum(1.0, CAP * usual[None, :] / np.maximum(amp, 1e-30))
    best_coef *= np.concatenate([scale, scale], axis=1)
    best_fit = np.zeros_like(frames)
    for j, drift in enumerate(DRIFT_HZ):
        rows = best_drift == j
        if rows.any():
            best_fit[rows] = best_coef[rows] @ _basis(size, hum.base + drift, harmonics, sample_rate).T
    out = np.zeros_like(buf)
    np.add.at(out, idx.ravel(), (best_fit * win[None, :]).ravel())
    return out[pad:pad + n]


def dehum(audio: np.ndarray, sample_rate: int, hum: Hum,
          progress: Callable[[float], None] | None = None) -> np.ndarray:
    """``audio`` with ``hum`` subtracted (planar, float32)."""
    out = np.array(audio, dtype=np.float32, copy=True)
    channels = out.shape[0]
    for ch in range(channels):
        def tick(f: float, ch: int = ch) -> None:
            if progress is not None:
                progress((ch + f) / channels)

        x = out[ch].astype(np.float64)
        out[ch] = (x - hum_estimate(x, sample_rate, hum, tick)).astype(np.float32)
    return out


def comb_dehum(audio: np.ndarray, sample_rate: int, mains: int, q: float = 35.0) -> np.ndarray:
    """The classic anchor: a zero-phase notch comb at the nominal mains frequency."""
    from scipy.signal import filtfilt, iircomb

    b, a = iircomb(float(mains), q, ftype="notch", fs=float(sample_rate))
    return filtfilt(b, a, np.asarray(audio, dtype=np.float64), axis=1).astype(np.float32)
