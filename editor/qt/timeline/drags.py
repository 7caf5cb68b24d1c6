"""Mouse gestures on the timeline, one class per kind of drag.

A drag follows the mouse and says what edit it stands for so far
(:meth:`Drag.edit`): the lanes paint that edit applied to the document's project
as a live preview, and apply it to the document once, on release, so a whole
drag is one undo step. Escape cancels a drag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt

from ...core import edits
from ...core.model import Project
from .handles import (
    GAIN_BOTTOM_DB,
    GAIN_TOP_DB,
    MAX_TRACK_HEIGHT,
    MIN_TRACK_HEIGHT,
    clip_geometry,
    db_per_pixel,
)
from .snapping import snap_targets

if TYPE_CHECKING:
    from .lanes import Lanes

Edit = tuple[Callable[[Project], Project], str]
Mods = Qt.KeyboardModifier
DRAG_START_PX = 3.0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class Drag:
    """Base class: ``update`` on every mouse move, ``edit`` for the result."""

    changes_layout = False  # True if the preview can change track order or heights

    def __init__(self, lanes: Lanes, pos: QPointF) -> None:
        self.lanes = lanes
        self.base = lanes.base
        self.press = QPointF(pos)
        self.moved = False
        self.snapped_to: int | None = None  # frame of the snap line to draw

    def _started(self, pos: QPointF) -> bool:
        """True once the mouse has moved a few pixels from where it was pressed."""
        if not self.moved:
            self.moved = max(abs(pos.x() - self.press.x()), abs(pos.y() - self.press.y())) >= DRAG_START_PX
        return self.moved

    def _snapping(self, mods: Mods) -> bool:
        return self.lanes.snap_enabled and not mods & Mods.AltModifier

    def update(self, pos: QPointF, mods: Mods) -> None:
        raise NotImplementedError

    def edit(self) -> Edit | None:
        """The edit the drag stands for now (None: nothing to apply)."""
        return None

    def readout(self) -> str:
        """A short text shown by the mouse while dragging (a time, a gain)."""
        return ""

    def cancel(self) -> None:
        """Escape: undo whatever the drag changed in the view (most change nothing)."""

    def _seconds(self, frames: int) -> str:
        return f"{frames / self.lanes.state.rate:.3f} s"


class MoveClips(Drag):
    """Drag clips by their name strips, in time and across tracks."""

    def __init__(self, lanes: Lanes, pos: QPointF, clip_ids: tuple[str, ...], track_index: int) -> None:
        super().__init__(lanes, pos)
        self.clip_ids = clip_ids
        self.track_index = track_index
        self.delta = 0
        self.track_delta = 0
        clips = [self.base.find_clip(c)[1] for c in clip_ids]
        self.edges = sorted({c.position for c in clips} | {c.end for c in clips})
        self.min_position = min(c.position for c in clips)

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        st = self.lanes.state
        delta = int(round((pos.x() - self.press.x()) * st.fpp))
        delta = max(delta, -self.min_position)
        self.snapped_to = None
        if self._snapping(mods):
            targets = snap_targets(self.base, st.fpp, st.cursor, self.clip_ids)
            delta, self.snapped_to = targets.snap_delta(self.edges, delta)
            delta = max(delta, -self.min_position)
        self.delta = delta
        ti = self.lanes.track_at(pos.y(), self.base)
        if ti is not None:
            self.track_delta = ti - self.track_index

    def edit(self) -> Edit | None:
        if not self.moved or not (self.delta or self.track_delta):
            return None
        ids, delta, td = list(self.clip_ids), self.delta, self.track_delta
        return (lambda p: edits.move_clips(p, ids, delta, td)), f"Move {_plural(len(ids), 'clip')}"

    def readout(self) -> str:
        return f"Start {self._seconds(self.min_position + self.delta)}" if self.moved else ""


class TrimClip(Drag):
    """Drag a clip's left or right edge: changes its start (and source offset) or end."""

    def __init__(self, lanes: Lanes, pos: QPointF, clip_id: str, left: bool) -> None:
        super().__init__(lanes, pos)
        self.clip_id = clip_id
        self.left = left
        clip = self.base.find_clip(clip_id)[1]
        self.edge = clip.position if left else clip.end
        self.value = self.edge

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        st = self.lanes.state
        value = max(0, self.edge + int(round((pos.x() - self.press.x()) * st.fpp)))
        self.snapped_to = None
        if self._snapping(mods):
            value, hit = snap_targets(self.base, st.fpp, st.cursor, (self.clip_id,)).snap(value)
            self.snapped_to = value if hit else None
        self.value = value

    def edit(self) -> Edit | None:
        if not self.moved or self.value == self.edge:
            return None
        cid, v = self.clip_id, self.value
        if self.left:
            return (lambda p: edits.trim_clip(p, cid, start=v)), "Trim clip start"
        return (lambda p: edits.trim_clip(p, cid, end=v)), "Trim clip end"

    def readout(self) -> str:
        return f"{'Start' if self.left else 'End'} {self._seconds(self.value)}" if self.moved else ""


class FadeHandle(Drag):
    """Drag a fade handle sideways to set the fade-in or fade-out length."""

    def __init__(self, lanes: Lanes, pos: QPointF, clip_id: str, fade_in: bool, handle_x: float) -> None:
        super().__init__(lanes, pos)
        self.clip_id = clip_id
        self.fade_in = fade_in
        self.clip = self.base.find_clip(clip_id)[1]
        self.start = self.clip.fade_in_visible if fade_in else self.clip.fade_out_visible
        self.value = self.start

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        c = self.clip
        frames = int(round((pos.x() - self.press.x()) * self.lanes.state.fpp))
        if self.fade_in:
            value = min(self.start + frames, c.length - c.fade_out_visible)
        else:
            value = min(self.start - frames, c.length - c.fade_in_visible)
        self.value = max(0, value)

    def edit(self) -> Edit | None:
        if not self.moved or self.value == self.start:
            return None
        cid, v = self.clip_id, self.value
        key = "fade_in" if self.fade_in else "fade_out"
        # Dragging a handle draws a fresh, whole fade inside the clip.
        return (lambda p: edits.set_clip(p, cid, **{key: v, f"{key}_offset": 0})), \
            "Fade in" if self.fade_in else "Fade out"

    def readout(self) -> str:
        return f"Fade {'in' if self.fade_in else 'out'} {self._seconds(self.value)}" if self.moved else ""


class ClipGain(Drag):
    """Drag the gain line up or down (Shift: fine steps; it sticks at 0 dB unless Alt is held)."""

    def __init__(self, lanes: Lanes, pos: QPointF, clip_id: str, body: QRectF) -> None:
        super().__init__(lanes, pos)
        self.clip_id = clip_id
        self.start = self.base.find_clip(clip_id)[1].gain_db
        self.value = self.start
        self.per_px = db_per_pixel(body)

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        scale = 0.1 if mods & Mods.ShiftModifier else 1.0
        db = self.start + (self.press.y() - pos.y()) * self.per_px * scale
        if not mods & Mods.AltModifier and abs(db) < 0.5 * scale:
            db = 0.0
        self.value = round(min(GAIN_TOP_DB, max(GAIN_BOTTOM_DB, db)), 1)

    def edit(self) -> Edit | None:
        if not self.moved or self.value == self.start:
            return None
        cid, v = self.clip_id, self.value
        return (lambda p: edits.set_clip(p, cid, gain_db=v)), f"Clip gain {v:+.1f} dB"

    def readout(self) -> str:
        return f"{self.value:+.1f} dB" if self.moved else ""


class ResizeTrack(Drag):
    """Drag a track's bottom edge (in the lanes or the header) to change its height."""

    changes_layout = True

    def __init__(self, lanes: Lanes, pos: QPointF, track_id: str) -> None:
        super().__init__(lanes, pos)
        self.track_id = track_id
        self.start = lanes.height_of(track_id)
        self.value = self.start

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        h = self.start + int(round(pos.y() - self.press.y()))
        self.value = max(MIN_TRACK_HEIGHT, min(MAX_TRACK_HEIGHT, h))
        # Heights are view state: the track resizes as the mouse moves, and no undo step is made.
        self.lanes.set_height(self.track_id, self.value)

    def edit(self) -> Edit | None:
        return None

    def cancel(self) -> None:
        self.lanes.set_height(self.track_id, self.start)

    def readout(self) -> str:
        return f"{self.value} px" if self.moved else ""


class ReorderTrack(Drag):
    """Drag a track header up or down; the tracks make room as it moves."""

    changes_layout = True

    def __init__(self, lanes: Lanes, pos: QPointF, track_id: str) -> None:
        super().__init__(lanes, pos)
        self.track_id = track_id
        self.start = self.base.track_index(track_id)
        self.index = self.start

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self._started(pos):
            return
        # Where the mouse falls among the other tracks (as laid out before the drag).
        y = pos.y() + self.lanes.y_offset
        others = [t for t in self.base.tracks if t.id != self.track_id]
        top, index = 0, len(others)
        for i, t in enumerate(others):
            h = self.lanes.height_of(t.id)
            if y < top + h / 2:
                index = i
                break
            top += h
        self.index = index

    def edit(self) -> Edit | None:
        if not self.moved or self.index == self.start:
            return None
        tid, i = self.track_id, self.index
        return (lambda p: edits.move_track(p, tid, i)), "Move track"


class RubberBand(Drag):
    """Ctrl+drag over the lanes: select every clip the rectangle touches (added to
    the clips already selected)."""

    def __init__(self, lanes: Lanes, pos: QPointF) -> None:
        super().__init__(lanes, pos)
        self.before = tuple(lanes.state.clip_ids)
        self.rect = QRectF(pos, pos)

    def update(self, pos: QPointF, mods: Mods) -> None:
        self.moved = True
        self.rect = QRectF(self.press, pos).normalized()
        st = self.lanes.state
        ids = list(self.before)
        tids: list[str] = []
        for track, top, h in self.lanes.track_rows():
            for c in track.clips:
                if clip_geometry(c, top, h, st).rect.intersects(self.rect):
                    if c.id not in ids:
                        ids.append(c.id)
                    if track.id not in tids:
                        tids.append(track.id)
        st.set_clips(tuple(ids))
        if tids:
            st.set_selection(st.cursor, st.cursor, tuple(tids))
        self.lanes.update()


class SelectRange(Drag):
    """Drag over audio: select a time range, across tracks by moving up or down."""

    def __init__(self, lanes: Lanes, pos: QPointF, frame: int, track_index: int) -> None:
        super().__init__(lanes, pos)
        self.frame = frame
        self.track_index = track_index

    def update(self, pos: QPointF, mods: Mods) -> None:
        if not self.moved and abs(pos.x() - self.press.x()) < 2:
            return
        self.moved = True
        st = self.lanes.state
        ti = self.lanes.track_at(pos.y())
        ti = self.track_index if ti is None else ti
        lo, hi = sorted((self.track_index, ti))
        tids = tuple(t.id for t in self.base.tracks[lo : hi + 1])
        a, b = sorted((self.frame, st.frame_at(pos.x())))
        st.set_selection(a, b, tids)
