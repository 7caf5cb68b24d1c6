"""Mixing stems back together with per-stem gain, mute, solo and pan.

The rules are the mixer's (:mod:`editor.engine.renderer`): gain in dB (−inf
silences), a constant-power pan normalised to unity at centre, and the usual
mute/solo logic (when any stem is soloed only soloed stems play; a muted stem
never plays). At unity (0 dB, centre, nothing muted or soloed) the remix is
the plain sum of the stems, which is the original audio. Pan acts on stereo
stems; a mono remix ignores it. Sums are taken in float64, so a unity remix
matches the input to float32 rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from editor.effects.base import EffectError

MAX_GAIN_DB = 12.0


def db_to_gain(db: float) -> float:
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def pan_gains(pan: float) -> tuple[float, float]:
    """The mixer's pan law (``editor.engine.renderer.pan_gains``), restated here because
    importing the renderer pulls in scipy (1.5 s) and this module must load fast."""
    theta = (min(1.0, max(-1.0, pan)) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


@dataclass(frozen=True)
class StemMix:
    """How one stem goes into the remix."""

    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False
    pan: float = 0.0  # −1 left … +1 right

    def __post_init__(self) -> None:
        if math.isnan(self.gain_db) or self.gain_db > MAX_GAIN_DB:
            raise EffectError(f"stem gain must be at most +{MAX_GAIN_DB:g} dB (got {self.gain_db:g})")
        if not -1.0 <= self.pan <= 1.0:
            raise EffectError(f"stem pan must be between -1 and 1 (got {self.pan:g})")


UNITY = StemMix()


def channel_gains(settings: Mapping[str, StemMix], names: tuple[str, ...] | list[str],
                  channels: int) -> dict[str, np.ndarray]:
    """Per-channel linear gains of the audible stems among ``names`` (silent ones left out)."""
    any_solo = any(settings.get(n, UNITY).solo for n in names)
    out = {}
    for n in names:
        s = settings.get(n, UNITY)
        if s.mute or (any_solo and not s.solo) or s.gain_db == -math.inf:
            continue
        g = 1.0 if s.gain_db == 0.0 else db_to_gain(s.gain_db)
        if channels == 2 and s.pan != 0.0:
            left, right = pan_gains(s.pan)
            out[n] = np.array([g * left, g * right])
        else:
            out[n] = np.full(channels, g)
    return out


def remix_arrays(stems: Mapping[str, np.ndarray], settings: Mapping[str, StemMix] | None = None) -> np.ndarray:
    """The remix of equal-shaped planar ``stems`` (a dict of arrays) as float32."""
    names = list(stems)
    if not names:
        raise EffectError("there are no stems to remix")
    first = np.asarray(stems[names[0]])
    unknown = set(settings or {}) - set(names)
    if unknown:
        raise EffectError(f"no stem named {', '.join(sorted(unknown))} (stems: {', '.join(names)})")
    gains = channel_gains(settings or {}, names, first.shape[0])
    acc = np.zeros(first.shape, np.float64)
    for n, g in gains.items():
        s = np.asarray(stems[n])
        if np.all(g == 1.0):
            acc += s
        else:
            acc += s * g[:, None]
    return acc.astype(np.float32)
