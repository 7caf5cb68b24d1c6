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
    The 24-bit result array is reused by the next call: write it out first.
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
        # fractional dither; 24-bit values are split into an integer part and a
        # fraction (both exact in float32, see _quantise_24); 32-bit needs float64.
        self._work = np.float64 if bits == 32 else np.float32
        self._bufs: dict[str, np.ndarray] = {}  # work arrays reused from chunk to chunk

    def _buf(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:  # noqa: ANN001
        """A reused work array (fresh memory costs page faults on every chunk)."""
        b = self._bufs.get(name)
        if b is None or b.shape != shape or b.dtype != dtype:
            b = self._bufs[name] = np.empty(shape, dtype)
        return b

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Quantise ``x`` (interleaved frames × channels, or any float array)."""
        s = np.multiply(x, self._work(self.scale), dtype=self._work, out=self._buf("s", x.shape, self._work))
        if self.bits == 24:
            return self._quantise_24(s)
        if self.dither and not _on_grid(s):
            d = self._tpdf(s.shape)
            d *= np.not_equal(s, 0.0, out=self._buf("mask", s.shape, np.bool_))  # silence stays silent
            s += d
            self.dithered_chunks += 1
        np.rint(s, out=s)
        hi = self.scale - 1.0
        lo = -self.scale
        if s.size and (s.max() > hi or s.min() < lo):
            self.clipped += int(np.count_nonzero(s > hi) + np.count_nonzero(s < lo))
            np.clip(s, lo, hi, out=s)
        if self.bits == 16:
            return s.astype(np.int16)
        return s.astype(np.int32)

    def _quantise_24(self, s: np.ndarray) -> np.ndarray:
        """24-bit quantisation in float32: ``floor(s) + rint(frac + dither)``.

        ``s`` is a float32 sample times 2**23, so it is exact; its floor and the
        fraction ``s - floor(s)`` are exact too, and the fraction plus the dither
        is small enough to round correctly. The sum of the two integer parts is
        below 2**24, so the result equals ``rint(s + dither)`` computed in float64,
        at half the memory traffic."""
        if not self.dither:
            whole, frac = np.rint(s), None  # exact in float32
        else:
            whole = np.floor(s, out=self._buf("whole", s.shape, s.dtype))
            frac = np.subtract(s, whole, out=self._buf("frac", s.shape, s.dtype))
        if frac is not None and not frac.any():
            frac = None  # on the grid already: bit-exact, no dither
        elif frac is not None:
            d = self._tpdf(s.shape)
            d *= np.not_equal(s, 0.0, out=self._buf("mask", s.shape, np.bool_))
            frac += d
            self.dithered_chunks += 1
        if frac is not None:
            np.rint(frac, out=frac)
            whole += frac
        hi = self.scale - 1.0
        lo = -self.scale
        if whole.size and (whole.max() > hi or whole.min() < lo):
            self.clipped += int(np.count_nonzero(whole > hi) + np.count_nonzero(whole < lo))
            np.clip(whole, lo, hi, out=whole)
        q = self._buf("q", s.shape, np.int32)  # handed to the writer before the next call
        np.copyto(q, whole, casting="unsafe")
        q <<= 8
        return q

    def _tpdf(self, shape: tuple[int, ...]) -> np.ndarray:
        """Triangular noise in (-1, 1) LSB: the difference of two uniform values.

        Each uniform value is 16 random bits (plenty below one LSB), four to each
        64-bit word the generator makes, so the noise costs a fraction of what
        two floating-point uniform draws per sample would."""
        n = int(np.prod(shape))
        words = self._rng.bit_generator.random_raw((n + 1) // 2)
        u = np.asarray(words, np.uint64).view(np.uint16)[: 2 * n]
        d = self._buf("d", (n,), self._work)
        np.subtract(u[0::2], u[1::2], out=d, dtype=self._work)
        d *= self._work(1.0 / 65536.0)
        return d.reshape(shape)


def _on_grid(s: np.ndarray) -> bool:
    """True if every scaled sample is already an integer (no rounding needed)."""
    head = s.reshape(-1)[:256]
    if np.any(head != np.rint(head)):  # a mix almost never is: decide on a few samples
        return False
    frac = np.rint(s)
    np.subtract(s, frac, out=frac)
    return not np.any(frac)
