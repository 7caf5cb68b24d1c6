"""Time-left estimates from measured throughput.

A job's first percent is the worst guide to its length: models load, caches
warm, files open. Extrapolating from it gave "50 s left" for jobs that took 8 s.
:class:`EtaEstimator` instead measures progress per second over a recent window
(a few seconds of reports, ignoring the start-up before progress first moves),
smooths it, and says nothing until it has seen enough to be honest.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class EtaEstimator:
    """Feed it ``update(fraction)``; ask ``eta()`` for seconds left (or None)."""

    def __init__(self, window_seconds: float = 8.0, min_seconds: float = 1.0, min_fraction: float = 0.01,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.min_seconds = min_seconds
        self.min_fraction = min_fraction
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque()
        self._first_move: tuple[float, float] | None = None
        self._rate: float | None = None  # smoothed fraction per second

    def reset(self) -> None:
        self._samples.clear()
        self._first_move = None
        self._rate = None

    def update(self, fraction: float) -> None:
        now = self._clock()
        fraction = min(1.0, max(0.0, float(fraction)))
        if self._samples and fraction < self._samples[-1][1]:
            self.reset()  # progress went back (a new phase): start measuring again
        if self._first_move is None:
            if self._samples and fraction > self._samples[-1][1]:
                # Progress moved for the first time: measure from here, not from the start,
                # so loading time before the first report does not count as throughput.
                self._first_move = self._samples[-1]
                self._samples.clear()
                self._samples.append(self._first_move)
            elif not self._samples:
                self._samples.append((now, fraction))
                return
            else:
                self._samples[-1] = (now, fraction)
                return
        self._samples.append((now, fraction))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()
        t0, f0 = self._samples[0]
        if now - t0 > 0 and fraction > f0:
            rate = (fraction - f0) / (now - t0)
            self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate

    def eta(self) -> float | None:
        """Seconds left, or None while there is too little to measure."""
        if self._rate is None or self._first_move is None or not self._samples:
            return None
        now_t, now_f = self._samples[-1]
        measured_for = now_t - self._first_move[0]
        if measured_for < self.min_seconds or now_f - self._first_move[1] < self.min_fraction:
            return None
        if self._rate <= 0:
            return None
        # Time passed since the last report counts against the estimate.
        left = (1.0 - now_f) / self._rate - (self._clock() - now_t)
        return max(0.0, left)
