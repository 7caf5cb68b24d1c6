"""What the user has selected, as plugins see it: time, tracks, clips, and
optionally a frequency band or a painted time x frequency mask (spectral editing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.model import Selection


@dataclass(frozen=True)
class HostSelection:
    """Frames [start, stop) on ``track_ids``; ``clip_ids`` are the selected clips.

    ``low_hz``/``high_hz`` narrow the selection to a frequency band (None: all
    frequencies). ``mask`` is a painted time x frequency mask (an object of the
    spectral layer, e.g. a 2-D array over the band); None when nothing is painted.
    """

    start: int
    stop: int
    track_ids: tuple[str, ...] = ()
    clip_ids: tuple[str, ...] = ()
    cursor: int = 0
    low_hz: float | None = None
    high_hz: float | None = None
    mask: Any = None

    @property
    def has_range(self) -> bool:
        return self.stop > self.start

    @property
    def has_band(self) -> bool:
        return self.low_hz is not None or self.high_hz is not None or self.mask is not None

    @property
    def length(self) -> int:
        return max(0, self.stop - self.start)

    def time(self) -> Selection:
        """The time part, as the edit functions of ``editor.core.edits`` take it."""
        return Selection(self.start, self.stop, self.track_ids)
