"""Time-left estimates come from measured throughput, not from the first percent."""

from __future__ import annotations

from editor.core.eta import EtaEstimator


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_slow_start_does_not_inflate_the_estimate():
    # An 8 s job that spends 3 s loading a model before progress moves, then runs evenly:
    # extrapolating from the start said ~50 s; the estimate must track the real 5 s of work.
    clock = Clock()
    eta = EtaEstimator(clock=clock)
    eta.update(0.0)
    clock.t = 3.0
    eta.update(0.0)  # still loading
    estimates = []
    for i in range(1, 21):
        clock.t = 3.0 + 0.25 * i
        eta.update(i / 20)
        e = eta.eta()
        if e is not None:
            estimates.append((clock.t, e))
    assert estimates, "an estimate appears once a second of progress was measured"
    for t, e in estimates:
        assert abs((8.0 - t) - e) < 0.5


def test_no_estimate_before_progress_moves_or_with_too_little_measured():
    clock = Clock()
    eta = EtaEstimator(clock=clock)
    for i in range(10):
        clock.t = i
        eta.update(0.0)
        assert eta.eta() is None
    clock.t = 9.2
    eta.update(0.05)
    assert eta.eta() is None  # 0.2 s of measured progress is not enough


def test_speed_change_is_followed_and_a_new_phase_restarts_the_measure():
    clock = Clock()
    eta = EtaEstimator(window_seconds=4.0, clock=clock)
    f = 0.0
    for _ in range(20):  # 1 % per second
        clock.t += 1.0
        f += 0.01
        eta.update(f)
    for _ in range(15):  # then 4 % per second
        clock.t += 1.0
        f += 0.04
        eta.update(f)
    left = (1.0 - f) / 0.04
    assert abs(eta.eta() - left) < 0.25 * left
    clock.t += 1.0
    eta.update(0.1)  # progress went back: a second phase
    assert eta.eta() is None
