"""Interpolation engine: each bin's log-magnitude interpolated across time from the
region's edges, phase carried forward and backward from the edges at each bin's
instantaneous frequency and cross-faded in between."""

from __future__ import annotations

import numpy as np

EDGE_FRAMES = 3  # frames averaged at each edge


def _edge_index(known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each (frame, bin): the nearest known frame before (-1: none) and after (K: none)."""
    k = np.arange(known.shape[0])[:, None]
    left = np.maximum.accumulate(np.where(known, k, -1), axis=0)
    right = np.minimum.accumulate(np.where(known, k, known.shape[0])[::-1], axis=0)[::-1]
    return left, right


def _edge_mean(logmag: np.ndarray, known: np.ndarray, idx: np.ndarray, direction: int) -> np.ndarray:
    """Mean log-magnitude of up to EDGE_FRAMES known frames ending at ``idx`` going away from the region."""
    c, k, b = logmag.shape
    acc = np.zeros((c, k, b))
    cnt = np.zeros((k, b))
    cols = np.arange(b)[None, :]
    for i in range(EDGE_FRAMES):
        j = idx - direction * i
        ok = (j >= 0) & (j < k)
        jj = np.clip(j, 0, k - 1)
        ok &= known[jj, cols]
        acc += np.where(ok[None], logmag[:, jj, cols], 0.0)
        cnt += ok
    return acc / np.maximum(cnt, 1)[None]


def interpolate(X: np.ndarray, region: np.ndarray, hop: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """``(magnitude, complex)`` predictions for the ``region`` cells of ``X`` (channels, frames, bins)."""
    known = ~region
    logmag = np.log(np.abs(X).astype(np.float64) + 1e-9)
    left, right = _edge_index(known)
    k_n, n_bins = region.shape
    kk = np.arange(k_n)[:, None]
    has_l, has_r = left >= 0, right < k_n
    lv = _edge_mean(logmag, known, np.clip(left, 0, k_n - 1), +1)
    rv = _edge_mean(logmag, known, np.clip(right, 0, k_n - 1), -1)
    w = np.where(has_l & has_r, (kk - left) / np.maximum(right - left, 1), np.where(has_r, 1.0, 0.0))
    pred = lv * (1 - w)[None] + rv * w[None]
    none = ~(has_l | has_r) & region
    if none.any():  # the region spans the whole context in these bins: interpolate across frequency
        for c in range(X.shape[0]):
            for k in np.flatnonzero(none.any(axis=1)):
                ok = ~region[k]
                if ok.any():
                    pred[c, k, none[k]] = np.interp(np.flatnonzero(none[k]), np.flatnonzero(ok), logmag[c, k, ok])
    mag = np.exp(pred) - 1e-9
    # Phase: advance at the instantaneous frequency measured at each edge.
    omega = 2 * np.pi * hop * np.arange(n_bins) / n_fft
    ang = np.angle(X)
    cols = np.arange(n_bins)[None, :]

    def inst(idx: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
        j = np.clip(idx, 0, k_n - 1)
        j2 = np.clip(j - d, 0, k_n - 1)
        ok = known[j2, cols] & (j2 != j)
        dev = ang[:, j, cols] - ang[:, j2, cols] - d * omega[None, None, :]
        dev = np.mod(dev + np.pi, 2 * np.pi) - np.pi
        rate = np.where(ok[None], omega[None, None, :] + d * dev, omega[None, None, :])
        return ang[:, j, cols], rate

    phl, rl = inst(left, +1)
    phr, rr = inst(right, -1)
    fwd = phl + rl * (kk - left)[None]
    bwd = phr - rr * (right - kk)[None]
    wl = np.where(has_l, 1 - w, 0.0)
    wr = np.where(has_r, w, 0.0)
    u = wl[None] * np.exp(1j * fwd) + wr[None] * np.exp(1j * bwd)
    u = np.where(np.abs(u) > 1e-9, u / np.maximum(np.abs(u), 1e-9), np.exp(1j * ang))
    return mag, mag * u
