"""High-pass and low-pass filters with a choice of slope, on pedalboard.

pedalboard's ``HighpassFilter``/``LowpassFilter`` are first-order (6 dB/octave).
A steeper slope is a cascade of n such stages (6·n dB/octave); each stage's
corner is moved so that the cascade is still exactly -3 dB at the cutoff the
user asked for. The cascade is critically damped (no overshoot or ringing),
which suits cleanup of rumble and hiss.

``stage_coefficients`` gives the exact digital filter pedalboard runs (JUCE's
bilinear first-order design), so :mod:`.response` can draw the curve.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from editor.effects.base import Param

from .board import BoardEffect

SLOPES = ("6", "12", "24", "48")  # dB per octave
SLOPE_LABELS = ("6 dB/oct", "12 dB/oct", "24 dB/oct", "48 dB/oct")


def stages(slope: str) -> int:
    """First-order stages for a slope in dB/octave ("off" or "0" gives none)."""
    if slope in ("off", "0", ""):
        return 0
    return max(1, int(slope) // 6)


def safe_frequency(freq: float, sample_rate: int) -> float:
    """Keep a corner frequency where a digital filter can place it."""
    return float(min(max(freq, 1.0), 0.49 * sample_rate))


def stage_corner(cutoff: float, n: int, sample_rate: int, kind: str) -> float:
    """The corner of each of ``n`` identical stages so the cascade is -3 dB at ``cutoff``.

    Solved in the bilinear-warped domain, where a first-order stage has
    |H|² = w²/(1+w²) (high-pass) or 1/(1+w²) (low-pass), w = tan(πf/fs)/tan(πf_c/fs).
    """
    cutoff = safe_frequency(cutoff, sample_rate)
    if n <= 1:
        return cutoff
    k = 2.0 ** (-1.0 / n)  # each stage's |H|² at the cutoff
    ratio = math.sqrt(k / (1.0 - k)) if kind == "highpass" else math.sqrt((1.0 - k) / k)
    # ratio = tan(pi*f_cut/fs) / tan(pi*f_stage/fs), the warped frequency of the cutoff seen by a stage
    t = math.tan(math.pi * cutoff / sample_rate)
    t_stage = t / ratio
    return safe_frequency(math.atan(t_stage) * sample_rate / math.pi, sample_rate)


def cut_plugins(kind: str, cutoff: float, slope: str, sample_rate: int) -> list[Any]:
    """pedalboard stages for a high-pass (``kind="highpass"``) or low-pass filter."""
    import pedalboard

    n = stages(slope)
    if n == 0:
        return []
    corner = stage_corner(cutoff, n, sample_rate, kind)
    cls = pedalboard.HighpassFilter if kind == "highpass" else pedalboard.LowpassFilter
    return [cls(cutoff_frequency_hz=corner) for _ in range(n)]


def stage_coefficients(kind: str, corner: float, sample_rate: int) -> tuple[list[float], list[float]]:
    """(b, a) of one first-order stage as pedalboard runs it."""
    n = math.tan(math.pi * corner / sample_rate)
    if kind == "highpass":
        return [1.0, -1.0], [n + 1.0, n - 1.0]
    return [n, n], [n + 1.0, n - 1.0]


def cut_curve(kind: str, cutoff: float, slope: str, sample_rate: int,
              points: int = 256) -> tuple[Any, Any]:
    """(Hz, dB) of a high- or low-pass cut as :func:`cut_plugins` builds it, for the form's curve."""
    import numpy as np

    f = np.geomspace(20.0, min(20000.0, 0.5 * sample_rate), points)
    z = np.exp(-2j * np.pi * f / sample_rate)
    db = np.zeros(points)
    n = stages(slope)
    if n:
        b, a = stage_coefficients(kind, stage_corner(cutoff, n, sample_rate, kind), sample_rate)
        h = np.abs(np.polyval(b[::-1], z)) / np.maximum(np.abs(np.polyval(a[::-1], z)), 1e-300)
        db += n * 20.0 * np.log10(np.maximum(h, 1e-12))
    return f, db


def _cut_params(kind: str, default: float) -> tuple[Param, ...]:
    what = "below" if kind == "highpass" else "above"
    return (
        Param("cutoff", "float", default, 10.0, 22000.0, step=1.0, unit="Hz", label="Cutoff",
              help=f"frequencies {what} this are attenuated (-3 dB here)"),
        Param("slope", "choice", "24", choices=SLOPES, choice_labels=SLOPE_LABELS, label="Slope",
              help="how steeply the filter attenuates past the cutoff"),
    )


class HighpassEffect(BoardEffect):
    """Remove rumble and low frequencies below a cutoff."""

    id: ClassVar[str] = "highpass"
    title: ClassVar[str] = "High-pass filter"
    category: ClassVar[str] = "Filter"
    description: ClassVar[str] = "Remove rumble, handling noise and other low frequencies below a cutoff."
    params: ClassVar[tuple[Param, ...]] = _cut_params("highpass", 80.0)

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        return cut_plugins("highpass", params["cutoff"], params["slope"], sample_rate)

    @classmethod
    def curve(cls, params: dict[str, Any], sample_rate: int) -> tuple[Any, Any]:
        """The response curve the host's parameter form draws: (Hz, dB)."""
        p = cls.resolve_params(params)
        return cut_curve("highpass", p["cutoff"], p["slope"], sample_rate)


class LowpassEffect(BoardEffect):
    """Remove hiss and high frequencies above a cutoff."""

    id: ClassVar[str] = "lowpass"
    title: ClassVar[str] = "Low-pass filter"
    category: ClassVar[str] = "Filter"
    description: ClassVar[str] = "Remove hiss and other high frequencies above a cutoff."
    params: ClassVar[tuple[Param, ...]] = _cut_params("lowpass", 8000.0)

    def plugins(self, params: dict[str, Any], sample_rate: int) -> list[Any]:
        return cut_plugins("lowpass", params["cutoff"], params["slope"], sample_rate)

    @classmethod
    def curve(cls, params: dict[str, Any], sample_rate: int) -> tuple[Any, Any]:
        """The response curve the host's parameter form draws: (Hz, dB)."""
        p = cls.resolve_params(params)
        return cut_curve("lowpass", p["cutoff"], p["slope"], sample_rate)
