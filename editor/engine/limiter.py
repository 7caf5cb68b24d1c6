"""A streaming true-peak lookahead limiter.

Loudness normalisation often needs more gain than the peaks allow: a quiet
recording with a few sharp transients cannot reach −14 LUFS by gain alone and
stay under −1 dBTP. The limiter turns down just those moments.

How it works, per sample, in the dB domain (all vectorised, state carried
between chunks):

1. Detection: the signal is oversampled 4× with soxr (as a BS.1770 true-peak
   meter does) and the largest absolute value over all channels around each
   sample gives its true-peak envelope; the reduction needed there is
   ``max(0, envelope_dB − ceiling_dB)``. Channels are linked, so the stereo image
   does not move.
2. Lookahead hold: each sample takes the largest reduction needed in the next
   ``L`` samples (a sliding maximum).
3. Release: the reduction (in dB) decays exponentially with time constant
   ``release_s``, and never faster than needed: ``r[n] = max(h[n], a·r[n−1])``.
   In the log domain that is a running maximum of ``log h[n] − n·log a``, so it
   needs no Python loop.
4. Attack: a moving average over the same ``L`` samples. Every sample in the
   averaging window of a peak already holds at least that peak's reduction
   (step 2), so the average does too: the ceiling holds exactly, with an
   ``L``-sample fade into the gain reduction instead of a click.

Output is delayed by the lookahead plus soxr's latency; :meth:`process` returns
what is final so far and ``last=True`` flushes the rest, so the output has
exactly as many frames as the input.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

from ..core.loudness import db_to_gain

_FLOOR = 1e-9  # dB: reductions below this count as none


class TruePeakLimiter:
    """Keeps the true peak of interleaved float32 audio under ``ceiling_db`` dBTP."""

    def __init__(
        self,
        rate: int,
        channels: int,
        ceiling_db: float,
        lookahead_s: float = 0.002,
        release_s: float = 0.08,
        margin_db: float = 0.05,
    ) -> None:
        self.rate = rate
        self.channels = channels
        self.ceiling_db = ceiling_db
        self._c = db_to_gain(ceiling_db - margin_db)
        self._k = max(1, int(round(lookahead_s * rate / 2)))  # window L = 2k + 1
        self._decay = 1.0 / (release_s * rate)  # -log(a) per sample
        factor = 4 if rate < 96000 else 2
        self._factor = factor
        self._rs = soxr.ResampleStream(rate, rate * factor, channels, dtype="float32", quality="HQ")
        self._x = np.zeros((0, channels), np.float32)  # input not yet output
        self._env = np.zeros(0, np.float32)  # envelope of self._x (may be shorter)
        self._os_rest = np.zeros(0, np.float32)  # oversampled values of an incomplete group
        self._env_prev = 0.0
        self._tail = np.zeros(2 * self._k)  # last 2k held reductions (for the average)
        self.max_reduction_db = 0.0
        self.frames_in = 0
        self.frames_out = 0

    @property
    def latency(self) -> int:
        """Frames the limiter holds back between calls (lookahead)."""
        return 2 * self._k + 1

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed interleaved ``x`` (frames × channels); return the frames now final."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.frames_in += x.shape[0]
        self._x = np.concatenate([self._x, x]) if self._x.shape[0] else x
        y = self._rs.resample_chunk(x, last=last)
        if y.shape[0]:
            osamp = _absmax_rows(y)
            if self._os_rest.size:
                osamp = np.concatenate([self._os_rest, osamp])
            g = osamp.size // self._factor
            env = osamp[0 : g * self._factor : self._factor].copy()
            for j in range(1, self._factor):
                np.maximum(env, osamp[j : g * self._factor : self._factor], out=env)
            self._os_rest = osamp[g * self._factor :]
            self._env = np.concatenate([self._env, env]) if self._env.size else env
        n_x = self._x.shape[0]
        if last:
            env = np.zeros(n_x + 2 * self._k + 1, np.float32)
            m = min(n_x, self._env.size)
            env[:m] = self._env[:m]
            n_final = n_x
        else:
            env = self._env[:n_x]
            n_final = max(0, env.size - 1 - 2 * self._k)
        if n_final == 0:
            return np.zeros((0, self.channels), np.float32)
        xs = self._x[:n_final]
        # Sample values count too (the oversampler's passband ripple can miss them).
        e = env[: n_final + 2 * self._k + 1].astype(np.float64)
        m = min(e.size, n_x)
        e[:m] = np.maximum(e[:m], _absmax_rows(self._x[:m]))
        # True-peak envelope around each sample: its own interval and both neighbours'.
        around = np.maximum(e[:-1], np.concatenate(([self._env_prev], e[:-2])))
        around = np.maximum(around, e[1:])  # length n_final + 2k
        red = np.zeros(around.size)
        over = around > self._c
        if over.any():
            red[over] = 20.0 * np.log10(around[over] / self._c)
        # Forward hold over [i, i + 2k]: a centred filter of width 2k+1, shifted by k.
        k = self._k
        from scipy.ndimage import maximum_filter1d  # here, not at import: keeps start-up fast

        held = maximum_filter1d(red, size=2 * k + 1, mode="nearest")[k : k + n_final]
        # Release: rel[i] = max(held[i], a * rel[i-1]), computed on logarithms.
        idx = np.arange(n_final) * self._decay
        v = np.log(np.maximum(held, _FLOOR)) + idx
        v[0] = max(v[0], math.log(max(self._tail[-1], _FLOOR)) - self._decay)
        rel = np.exp(np.maximum.accumulate(v) - idx)
        rel[rel <= _FLOOR * 1.01] = 0.0
        if self.frames_out == 0:
            # Nothing before the stream to ramp over: start already turned down.
            self._tail[:] = rel[0]
        # Attack: moving average of width 2k+1 over the released reductions.
        both = np.concatenate([self._tail, rel])
        c = np.concatenate(([0.0], np.cumsum(both)))
        w = 2 * k + 1
        smooth = (c[w:] - c[:-w]) / w
        out = xs
        if smooth.max() > 0.0:
            self.max_reduction_db = max(self.max_reduction_db, float(smooth.max()))
            gain = np.power(10.0, -smooth / 20.0).astype(np.float32)
            out = xs * gain[:, None]
        else:
            out = xs.copy()
        self._tail = both[-2 * k :]
        self._env_prev = float(e[n_final - 1])
        self._x = self._x[n_final:]
        self._env = self._env[n_final:]
        self.frames_out += n_final
        return out


def _absmax_rows(a: np.ndarray) -> np.ndarray:
    """Largest absolute value in each row of a (frames × channels) array.

    A loop over the few channels: numpy's reduction along a short inner axis is
    several times slower.
    """
    out = np.abs(a[:, 0])
    for c in range(1, a.shape[1]):
        np.maximum(out, np.abs(a[:, c]), out=out)
    return out
