"""Streaming loudness (ITU-R BS.1770-4 / EBU R 128) and true-peak measurement.

pyloudnorm's meter needs the whole signal in memory, which for an hour of stereo
is gigabytes. :class:`LoudnessMeter` uses pyloudnorm's own K-weighting filters but
runs them chunk by chunk (carrying filter state) and keeps only 100 ms energies,
then gates exactly as the standard (and pyloudnorm) does. :class:`TruePeakMeter`
oversamples 4× with soxr, as BS.1770-4 Annex 2 describes.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)


class LoudnessMeter:
    """Integrated loudness of planar audio fed in chunks."""

    def __init__(self, rate: int, channels: int) -> None:
        import pyloudnorm  # imported here: it pulls in scipy (about a second) and start-up needs neither

        self.rate = rate
        self.channels = channels
        meter = pyloudnorm.Meter(rate)
        self._stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self._zi = [
            np.zeros((channels, max(len(a), len(b)) - 1)) for b, a, _g in self._stages
        ]
        self._step = int(round(0.1 * rate))  # 100 ms sub-blocks; 4 make one 400 ms block
        self._carry = np.zeros((channels, 0))
        self._energies: list[np.ndarray] = []  # per sub-block, per channel sum of squares

    def feed(self, planar: np.ndarray) -> None:
        import scipy.signal

        x = np.asarray(planar, dtype=np.float64)
        for k, (b, a, gain) in enumerate(self._stages):
            x, self._zi[k] = scipy.signal.lfilter(b, a, x, axis=1, zi=self._zi[k])
            if gain != 1.0:
                x = x * gain
        x = np.concatenate([self._carry, x], axis=1) if self._carry.shape[1] else x
        full = x.shape[1] // self._step
        if full:
            body = x[:, : full * self._step].reshape(self.channels, full, self._step)
            self._energies.append(np.einsum("ijk,ijk->ji", body, body))
        self._carry = x[:, full * self._step :].copy()

    def integrated(self) -> float:
        """Integrated loudness in LUFS (-inf for silence or under 400 ms)."""
        if not self._energies:
            return -math.inf
        sub = np.concatenate(self._energies, axis=0)  # (subblocks, channels)
        if sub.shape[0] < 4:
            return -math.inf
        block_len = 4 * self._step
        z = (sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]) / block_len  # mean square per 400 ms block
        g = np.array(_CHANNEL_WEIGHTS[: self.channels] + (1.0,) * max(0, self.channels - 5))
        power = z @ g
        with np.errstate(divide="ignore"):
            lk = -0.691 + 10.0 * np.log10(power)
        gated = lk >= -70.0
        if not gated.any():
            return -math.inf
        rel = -0.691 + 10.0 * np.log10(z[gated].mean(axis=0) @ g) - 10.0
        keep = (lk > rel) & (lk > -70.0)
        if not keep.any():
            return -math.inf
        return float(-0.691 + 10.0 * np.log10(z[keep].mean(axis=0) @ g))


class TruePeakMeter:
    """Maximum absolute value of the signal oversampled 4× (dBTP via :meth:`dbtp`)."""

    def __init__(self, rate: int, channels: int) -> None:
        self.channels = channels
        factor = 4 if rate < 96000 else 2
        self._rs = soxr.ResampleStream(rate, rate * factor, channels, dtype="float32", quality="HQ")
        self.peak = 0.0

    def feed(self, planar: np.ndarray, last: bool = False) -> None:
        x = np.ascontiguousarray(np.asarray(planar, dtype=np.float32).T)
        y = self._rs.resample_chunk(x, last=last)
        if y.size:
            self.peak = max(self.peak, float(np.abs(y).max()))
        if x.size:
            self.peak = max(self.peak, float(np.abs(x).max()))

    def finish(self) -> float:
        self.feed(np.zeros((self.channels, 0), np.float32), last=True)
        return self.peak

    def dbtp(self) -> float:
        return 20.0 * math.log10(self.peak) if self.peak > 0 else -math.inf


def measure(planar: np.ndarray, rate: int) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a planar array."""
    lm = LoudnessMeter(rate, planar.shape[0])
    tp = TruePeakMeter(rate, planar.shape[0])
    for s in range(0, planar.shape[1], 1 << 18):
        chunk = planar[:, s : s + (1 << 18)]
        lm.feed(chunk)
        tp.feed(chunk)
    tp.finish()
    return lm.integrated(), tp.dbtp()


def db_to_gain(db: float) -> float:
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf
