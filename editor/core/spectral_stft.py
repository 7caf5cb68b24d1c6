"""Local STFT edits that leave everything else bit-exact.

A spectral edit changes a few STFT frames. Rather than resynthesising the whole
signal (which perturbs every sample by float rounding), :func:`apply_tf_edit`
takes the *change* ``D`` of those frames only, overlap-adds ``istft(D)`` (the
STFT is linear, so this equals ``istft(X + D) - istft(X)``) and adds it to the
input. Samples that no changed frame touches get exactly ``x + 0``: bit-exact.

Frame ``k`` is centred on sample ``k * hop`` with a periodic Hann window; the
synthesis divides by the sum of squared windows of every frame of the whole
signal, so an edit of all frames reproduces the usual weighted overlap-add.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .spectral_selection import StftGrid

__all__ = ["apply_tf_edit", "frame_span", "stft_frames"]


@lru_cache(maxsize=8)
def _window(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float64)


def frame_span(grid: StftGrid, k0: int, k1: int) -> tuple[int, int]:
    """Samples ``[a, b)`` read by frames ``[k0, k1)`` (may run past the audio's ends)."""
    return k0 * grid.hop - grid.n_fft // 2, (k1 - 1) * grid.hop + grid.n_fft // 2 + (grid.n_fft % 2)


def _segment(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """``x[:, a:b]`` with zeros where ``[a, b)`` runs past the ends."""
    n = x.shape[1]
    out = np.zeros((x.shape[0], b - a), np.float64)
    lo, hi = max(a, 0), min(b, n)
    if hi > lo:
        out[:, lo - a:hi - a] = x[:, lo:hi]
    return out


def stft_frames(x: np.ndarray, grid: StftGrid, k0: int, k1: int) -> np.ndarray:
    """Complex STFT of planar ``x`` on frames ``[k0, k1)``: shape (channels, k1 - k0, bins)."""
    from scipy.fft import rfft

    a, b = frame_span(grid, k0, k1)
    seg = _segment(np.asarray(x), a, b).astype(np.float32)
    out = np.empty((seg.shape[0], k1 - k0, grid.n_bins), np.complex64)
    win = _window(grid.n_fft).astype(np.float32)
    step = max(1, (1 << 22) // grid.n_fft)  # frames per FFT call: bounded memory for long spans
    for i in range(0, k1 - k0, step):
        j = min(k1 - k0, i + step)
        view = np.lib.stride_tricks.sliding_window_view(seg[:, i * grid.hop:(j - 1) * grid.hop + grid.n_fft],
                                                        grid.n_fft, axis=-1)[:, ::grid.hop]
        out[:, i:j] = rfft(view * win, axis=-1)
    return out


def _window_power(grid: StftGrid, n_total: int, a: int, b: int) -> np.ndarray:
    """Sum over all frames of the whole signal of the squared window, at samples ``[a, b)``."""
    w2 = _window(grid.n_fft) ** 2
    half = grid.n_fft // 2
    k_all = grid.n_frames(n_total)
    ka = max(0, (a - half) // grid.hop - 1)
    kb = min(k_all, (b + half) // grid.hop + 2)
    acc = np.zeros(b - a, np.float64)
    for k in range(ka, kb):
        s = k * grid.hop - half
        lo, hi = max(s, a), min(s + grid.n_fft, b)
        if hi > lo:
            acc[lo - a:hi - a] += w2[lo - s:hi - s]
    return acc


def apply_tf_edit(x: np.ndarray, grid: StftGrid, k0: int, change: np.ndarray) -> np.ndarray:
    """``x`` plus the overlap-added inverse STFT of ``change`` (channels, frames, bins) on
    frames ``k0 ..``; a new float32 array. Frames whose change is all zero add nothing."""
    x = np.asarray(x, np.float32)
    out = x.copy()
    change = np.asarray(change)
    if change.size == 0:
        return out
    nonzero = np.flatnonzero(np.any(change != 0, axis=(0, 2)))
    if nonzero.size == 0:
        return out
    f0, f1 = int(nonzero[0]), int(nonzero[-1]) + 1
    change = change[:, f0:f1]
    k0 += f0
    k1 = k0 + change.shape[1]
    a, b = frame_span(grid, k0, k1)
    frames = np.fft.irfft(change.astype(np.complex128), n=grid.n_fft, axis=-1) * _window(grid.n_fft)
    acc = np.zeros((x.shape[0], b - a), np.float64)
    for i in range(change.shape[1]):
        if np.any(change[:, i] != 0):
            s = i * grid.hop
            acc[:, s:s + grid.n_fft] += frames[:, i]
    lo, hi = max(a, 0), min(b, x.shape[1])
    if hi <= lo:
        return out
    norm = _window_power(grid, x.shape[1], lo, hi)
    delta = acc[:, lo - a:hi - a] / np.maximum(norm, 1e-3)
    out[:, lo:hi] = (x[:, lo:hi].astype(np.float64) + delta).astype(np.float32)
    return out
