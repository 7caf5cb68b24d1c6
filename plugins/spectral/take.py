"""A take: one candidate spectral repair the user can audition before committing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SpectralTake:
    """One candidate repair: ``audio`` replaces samples ``[start, stop)`` of the input.

    Outside ``[start, stop)`` (the overlap-add neighbourhood of the selection's
    frames) nothing changes. ``score`` is the engine's estimated error (lower is
    better; for Auto, the log-spectral distance it measured on nearby boxes whose
    content is known). ``index`` is the rank, 0 the best.
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
        """A copy of planar ``audio`` with this take spliced in."""
        out = np.array(audio, dtype=np.float32, copy=True)
        out[:, self.start:self.stop] = self.audio
        return out
