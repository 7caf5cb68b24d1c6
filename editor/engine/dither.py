"""Quantisation of float audio to integer PCM, with TPDF dither.

Rounding a float mix to 16 (or 24) bits without dither turns the rounding error
into distortion that follows the signal: a quiet fade-out ends in a buzz, or in a
hard cut to digital silence. Triangular (TPDF) dither of ±1 LSB (the sum of two
independent uniform ±½ LSB values) makes the error plain, signal-independent
noise instead, which is what mastering tools do by default.

Dither is added only where it changes something: a chunk whose samples already
sit exactly on the target grid (a 16-bit source exported at 16 bits with no gain
change) is written as is, so such conversions stay bit-exact, and samples that
are exactly zero (digital silence between clips) stay zero.
"""

from __future__ import annotations

import numpy as np


class Quantizer:
    """Float32 interleaved audio in [-1, 1) to integer PCM of ``bits`` bits.

    16-bit output is returned as ``int16``; 24- and 32-bit output as ``int32``
    holding the value in its top bits (libsndfile keeps the top 24 bits for
    PCM_24). Samples beyond full scale are clipped; :attr:`clipped` counts them.
    """

    def __init__(self, bits: int, dither: bool = True, seed: int | None = None) -> None:
        if bits not in (16, 24, 32):
            raise ValueError(f"cannot quantise to {bits} bits")
        self.bits = bits
        self.dither = dither
        self.scale = float(2 ** (bits - 1))
        self.clipped = 0
        self.dithered_chunks = 0
        self._rng = np.random.default_rng(seed)
        # float32 holds integers exactly up to 2**24, enough for 16-bit work with a
        # fractional dither; 24/32-bit values need float64.
        self._work = np.float32 if bits == 16 else np.float64

    def __call__(self, x: np.ndarray) -> np.ndarray:
        s = np.multiply(x, self._work(self.scale), dtype=self._work)
        if self.dither and not _on_grid(s):
            silent = s == 0.0
            d = self._rng.random(s.shape, dtype=self._work)
            d -= self._rng.random(s.shape, dtype=self._work)
            s += d
            s[silent] = 0.0  # digital silence stays silent (no dither hiss in gaps)
            self.dithered_chunks += 1
        np.rint(s, out=s)
        hi = self.scale - 1.0
        lo = -self.scale
        over = np.count_nonzero(s > hi) + np.count_nonzero(s < lo)
        if over:
            self.clipped += int(over)
            np.clip(s, lo, hi, out=s)
        if self.bits == 16:
            return s.astype(np.int16)
        q = s.astype(np.int32)
        if self.bits == 24:
            q <<= 8
        return q


def _on_grid(s: np.ndarray) -> bool:
    """True if every scaled sample is already an integer (no rounding needed)."""
    frac = np.rint(s)
    np.subtract(s, frac, out=frac)
    return not np.any(frac)
