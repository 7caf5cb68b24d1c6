"""A take: one candidate fill the user can audition before committing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Take:
    """One candidate fill of a region.

    ``audio`` replaces frames ``[start, stop)`` of the input. For a fill it has
    ``stop - start`` frames: the selected gap plus the short cross-fades into the
    context on each side, so a little wider than the selection. For an extension
    it is longer than ``[start, stop)`` by the added material (``engine="loop"``).
    ``score`` is the engine's cost (lower is better; comparable only between
    takes of the same engine and gap); ``index`` is the rank, 0 the best.
    """

    index: int
    engine: str
    start: int
    stop: int
    audio: np.ndarray
    score: float
    label: str
    params: dict[str, Any] = field(default_factory=dict)

    def apply(self, audio: np.ndarray) -> np.ndarray:
        """A copy of ``audio`` with this take spliced in (same shape)."""
        return apply_take(audio, self)


def apply_take(audio: np.ndarray, take: Take) -> np.ndarray:
    """Planar ``audio`` with frames ``[take.start, take.stop)`` replaced by ``take.audio`` (a new array)."""
    audio = np.asarray(audio, np.float32)
    if take.audio.shape[1] == take.stop - take.start:
        out = audio.copy()
        out[:, take.start:take.stop] = take.audio
        return out
    return np.concatenate([audio[:, :take.start], take.audio.astype(np.float32), audio[:, take.stop:]], axis=1)
