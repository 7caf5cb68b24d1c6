"""Gain inside a spectral selection (−∞ allowed), with soft edges."""

from __future__ import annotations

import numpy as np

from editor.core.spectral_selection import SpectralSelection
from editor.core.spectral_stft import apply_tf_edit, stft_frames

from .region import grid_for, region_mask

#: gain_db at or below this is −∞ (silence inside the selection).
MINUS_INF_DB = -120.0


def spectral_gain(audio: np.ndarray, rate: int, selection: SpectralSelection, gain_db: float) -> np.ndarray:
    """``audio`` (planar) with the selection's bins scaled by ``gain_db`` (≤ -120: removed).

    Only the frames the selection touches are transformed; every other sample is
    returned bit-exact."""
    x = np.asarray(audio, np.float32)
    grid = grid_for(rate)
    k0, m = region_mask(selection, grid, x.shape[1])
    g = 0.0 if gain_db <= MINUS_INF_DB else 10.0 ** (gain_db / 20.0)
    X = stft_frames(x, grid, k0, k0 + m.shape[0])
    return apply_tf_edit(x, grid, k0, X * (m * (g - 1.0))[None])
