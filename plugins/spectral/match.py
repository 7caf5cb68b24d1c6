"""Patch-match engine: the best-matching stretch elsewhere in the recording, in the TF domain.

The context of the region — the same frames outside the selected band, and the
selected band before and after the region — is compared with the context of
every other position of the recording on log band energies (48 bands), all
positions at once by FFT correlation. The region's bins are then taken from the
best positions (distinct takes, non-maximum suppressed) at full STFT resolution,
level-matched bin by bin to the region's surroundings.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from editor.core.spectral_selection import StftGrid
from editor.core.spectral_stft import stft_frames

N_BANDS = 48
CHUNK_FRAMES = 2048
MAX_GAIN_DB = 12.0


class MatchIndex:
    """Log band energies of the mono mix on every frame of ``x``, for searching."""

    def __init__(self, x: np.ndarray, grid: StftGrid, check=lambda: None) -> None:
        self.x = x
        self.grid = grid
        n_frames = grid.n_frames(x.shape[1])
        freqs = grid.freqs()
        edges = np.geomspace(30.0, grid.sample_rate / 2, N_BANDS + 1)
        self.band_of = np.clip(np.searchsorted(edges, freqs) - 1, 0, N_BANDS - 1)
        bm = np.zeros((grid.n_bins, N_BANDS), np.float32)
        bm[np.arange(grid.n_bins), self.band_of] = 1.0
        bm /= np.maximum(bm.sum(axis=0, keepdims=True), 1)
        self.edges = edges
        mono = x.mean(axis=0, keepdims=True)
        feats = np.empty((N_BANDS, n_frames), np.float32)
        for a in range(0, n_frames, CHUNK_FRAMES):
            check()
            b = min(n_frames, a + CHUNK_FRAMES)
            p = np.abs(stft_frames(mono, grid, a, b)[0]) ** 2
            feats[:, a:b] = np.log(p @ bm + 1e-10).T
        self.features = feats

    def search(self, k0: int, region: np.ndarray, n_takes: int,
               exclude: list[tuple[int, int]]) -> list[tuple[int, float]]:
        """Up to ``n_takes`` ``(offset_frames, cost)`` for the region at frame ``k0``, best first.

        ``region`` is the (frames, bins) boolean mask; ``exclude`` lists frame spans no
        candidate may touch (the region itself, other corrupted spans)."""
        feats = self.features
        n_frames = feats.shape[1]
        k_n = region.shape[0]
        c = int(np.clip(k_n, 10, int(1.0 / self.grid.frame_seconds)))
        q0, q1 = max(0, k0 - c), min(n_frames, k0 + k_n + c)
        lw = q1 - q0
        if lw >= n_frames:
            return []
        rb = np.zeros((N_BANDS, lw), bool)
        for b in range(N_BANDS):
            cols = self.band_of == b
            if cols.any():
                rb[b, k0 - q0:k0 - q0 + k_n] = region[:, cols].any(axis=1)
        hit = np.flatnonzero(rb.any(axis=1))
        band_w = np.full(N_BANDS, 0.3)
        band_w[max(0, hit[0] - 6):hit[-1] + 7] = 1.0  # an octave either side of the selected band counts most
        w = (~rb) * band_w[:, None]
        t = feats[:, q0:q1]
        f2 = feats.astype(np.float64) ** 2
        num = (fftconvolve(f2, w[:, ::-1], mode="valid", axes=1)
               - 2 * fftconvolve(feats.astype(np.float64), (w * t)[:, ::-1], mode="valid", axes=1)).sum(axis=0)
        cost = (num + float((w * t.astype(np.float64) ** 2).sum())) / max(float(w.sum()), 1e-9)
        starts = np.arange(cost.size)
        bad = np.zeros(cost.size, bool)
        p0 = starts + (k0 - q0)  # where each candidate's patch starts
        for e0, e1 in exclude + [(k0, k0 + k_n)]:
            # the patch must not overlap a corrupted span or the region itself
            bad |= (p0 < e1) & (p0 + k_n > e0)
        cost = np.where(bad, np.inf, cost)
        out: list[tuple[int, float]] = []
        sep = max(4, k_n // 2)
        order = np.argsort(cost)
        for s in order:
            if not np.isfinite(cost[s]) or len(out) >= n_takes:
                break
            d = int(s) - q0
            if all(abs(d - e) >= sep for e, _ in out):
                out.append((d, float(cost[s])))
        return out

    def patch(self, ka: int, kb: int, d: int, X: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(magnitude, complex)`` for frames ``[ka, kb)`` taken from ``[ka + d, kb + d)``, level-matched
        per bin to ``X`` on the known frames of the selected bins."""
        xs = stft_frames(self.x, self.grid, ka + d, kb + d)
        known = ~region
        rows = region.any(axis=0)
        la = np.log(np.abs(X) + 1e-9)
        lb = np.log(np.abs(xs) + 1e-9)
        cnt = known.sum(axis=0)
        diff = ((la - lb) * known[None]).sum(axis=1) / np.maximum(cnt, 1)[None]  # (channels, bins)
        # Smooth over about a third of an octave of bins; bins without known frames borrow from neighbours.
        valid = (cnt > 0) & rows
        g = np.zeros_like(diff)
        if valid.any():
            for ch in range(diff.shape[0]):
                idx = np.flatnonzero(valid)
                g[ch] = np.interp(np.arange(diff.shape[1]), idx, diff[ch, idx])
            k = 9
            ker = np.ones(k) / k
            g = np.stack([np.convolve(np.pad(r, k // 2, mode="edge"), ker, mode="valid") for r in g])
        lim = MAX_GAIN_DB / 20 * np.log(10)
        gain = np.exp(np.clip(g, -lim, lim))[:, None, :]
        z = xs * gain
        return np.abs(z), z
