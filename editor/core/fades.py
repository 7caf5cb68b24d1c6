"""Fade curves shared by clip fades (rendered live) and destructive range fades."""

from __future__ import annotations

import numpy as np

from .model import FadeShape


def fade_in_gain(shape: FadeShape | str, x: np.ndarray) -> np.ndarray:
    """Gain of a fade-in at relative positions ``x`` in [0, 1] (0 → silent, 1 → unity)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    shape = FadeShape(shape)
    if shape is FadeShape.LINEAR:
        g = x
    elif shape is FadeShape.EQUAL_POWER:
        g = np.sin(0.5 * np.pi * x)
    elif shape is FadeShape.EXPONENTIAL:  # slow start, fast finish
        g = x * x
    elif shape is FadeShape.LOGARITHMIC:  # fast start, slow finish
        g = 1.0 - (1.0 - x) ** 2
    else:  # S_CURVE
        g = 0.5 - 0.5 * np.cos(np.pi * x)
    return g.astype(np.float32)


def fade_out_gain(shape: FadeShape | str, x: np.ndarray) -> np.ndarray:
    """Gain of a fade-out at relative positions ``x`` in [0, 1] (0 → unity, 1 → silent)."""
    return fade_in_gain(shape, 1.0 - np.asarray(x, dtype=np.float64))


def fade_envelope(shape: FadeShape | str, length: int, start: int, count: int, fade_in: bool) -> np.ndarray:
    """Gains for frames [start, start+count) of a ``length``-frame fade.

    Frame i of a fade-in of length L has gain curve((i + 0.5) / L), so the curve is
    symmetric and never exactly silent or unity inside the fade.
    """
    x = (np.arange(start, start + count, dtype=np.float64) + 0.5) / max(1, length)
    return fade_in_gain(shape, x) if fade_in else fade_out_gain(shape, x)
