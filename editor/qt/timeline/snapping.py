"""Snapping for timeline gestures (clip moves, trims, marker drags).

Targets are the ruler's grid (its minor ticks), the edges of other clips, the
cursor and the markers. A position snaps only when a target is within
:data:`SNAP_PX` pixels; objects (clip edges, cursor, markers) win over the grid,
as in Reaper and Ardour, so a clip lands flush against its neighbour even where
a grid line is nearby. Holding Alt (checked by the caller) turns snapping off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...core.model import Project
from .ruler import tick_step

SNAP_PX = 8.0


def grid_step(fpp: float, rate: int) -> float:
    """Frames between two grid lines: the ruler's minor tick interval at this zoom."""
    return tick_step(fpp / rate) / 5.0 * rate


@dataclass(frozen=True)
class SnapTargets:
    """What a gesture may snap to, in timeline frames."""

    points: np.ndarray  # sorted object frames: clip edges, markers, cursor
    grid: float  # frames between grid lines (0: no grid)
    tolerance: float  # frames (SNAP_PX at the current zoom)

    def nearest(self, frame: float) -> tuple[int, float] | None:
        """The snap point for ``frame`` and its distance, or None if nothing is close."""
        best: tuple[int, float] | None = None
        pts = self.points
        if pts.size:
            i = int(np.searchsorted(pts, frame))
            for j in (i - 1, i):
                if 0 <= j < pts.size:
                    d = abs(float(pts[j]) - frame)
                    if d <= self.tolerance and (best is None or d < best[1]):
                        best = (int(pts[j]), d)
        if best is not None or self.grid <= 0:
            return best
        g = int(round(round(frame / self.grid) * self.grid))
        d = abs(g - frame)
        return (g, d) if d <= self.tolerance else None

    def snap(self, frame: int) -> tuple[int, bool]:
        """``frame`` moved to its snap point if one is close; whether it snapped."""
        hit = self.nearest(frame)
        return (frame, False) if hit is None else (hit[0], True)

    def snap_delta(self, edges: Iterable[int], delta: int) -> tuple[int, int | None]:
        """Adjust a move of ``delta`` frames so that one of ``edges`` (the moving
        clips' starts and ends) lands on a target: the closest one wins. Returns
        the new delta and the frame snapped to (None if none)."""
        best: tuple[int, float, int] | None = None  # new delta, distance, target
        for edge in edges:
            hit = self.nearest(edge + delta)
            if hit is not None and (best is None or hit[1] < best[1]):
                best = (hit[0] - edge, hit[1], hit[0])
        if best is None:
            return delta, None
        return best[0], best[2]


def snap_targets(project: Project, fpp: float, cursor: int, exclude: Iterable[str] = (),
                 grid: bool = True) -> SnapTargets:
    """Targets for a gesture at zoom ``fpp``; clips in ``exclude`` (the ones being
    dragged) are not targets."""
    skip = set(exclude)
    pts: list[int] = [cursor, 0]
    for t in project.tracks:
        for c in t.clips:
            if c.id not in skip:
                pts += (c.position, c.end)
    pts += (m.position for m in project.markers)
    arr = np.unique(np.asarray(pts, dtype=np.int64))
    return SnapTargets(arr, grid_step(fpp, project.sample_rate) if grid else 0.0, SNAP_PX * fpp)
