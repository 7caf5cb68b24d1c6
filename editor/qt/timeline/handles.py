"""Where a clip's handles are, and what the mouse is over.

A clip on screen has a name strip on top (drag it to move the clip), a body
with the waveform, a fade handle at each top corner of the body (drag it
sideways to set the fade length), a trim zone at each edge (drag to trim) and a
gain line across the body with a knob in the middle of the clip's visible part
(drag the knob up or down to change the clip's gain; only the knob, so clicks
on the audio still select time). The bottom few pixels of a track resize it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF

from ...core.model import Clip, Track
from .state import ViewState

CLIP_HEADER = 16
HANDLE = 8.0  # fade handle size (pixels)
HANDLE_HIT = 7.0
EDGE_PX = 6.0  # trim zone width inside each clip edge
RESIZE_PX = 4.0  # track resize zone at the bottom of each track
GAIN_HIT_PX = 5.0  # vertical reach of the gain knob
GAIN_KNOB = 9.0  # gain knob width (pixels)
GAIN_TOP_DB = 12.0  # dB at the top of the clip body
GAIN_BOTTOM_DB = -48.0  # dB at the bottom
MIN_TRACK_HEIGHT = 40
DEFAULT_TRACK_HEIGHT = 100  # compact enough for five tracks at 1280x800
MAX_TRACK_HEIGHT = 800


def gain_to_y(db: float, body: QRectF) -> float:
    """The y of the gain line for ``db`` in a clip body (linear in dB)."""
    f = (GAIN_TOP_DB - db) / (GAIN_TOP_DB - GAIN_BOTTOM_DB)
    return body.top() + min(1.0, max(0.0, f)) * body.height()


def y_to_gain(y: float, body: QRectF) -> float:
    f = (y - body.top()) / max(1.0, body.height())
    return GAIN_TOP_DB - f * (GAIN_TOP_DB - GAIN_BOTTOM_DB)


def db_per_pixel(body: QRectF) -> float:
    return (GAIN_TOP_DB - GAIN_BOTTOM_DB) / max(1.0, body.height())


@dataclass(frozen=True)
class ClipGeometry:
    rect: QRectF  # the whole clip
    head: QRectF  # the name strip
    body: QRectF  # waveform area
    fade_in: QPointF  # centre of the fade-in handle
    fade_out: QPointF  # centre of the fade-out handle
    gain_y: float
    gain_knob: QPointF  # centre of the gain knob (on the gain line, mid-way across the visible clip)

    def handle_rect(self, centre: QPointF) -> QRectF:
        return QRectF(centre.x() - HANDLE / 2, centre.y() - HANDLE / 2, HANDLE, HANDLE)


def clip_geometry(clip: Clip, top: float, h: float, state: ViewState,
                  view_width: float | None = None) -> ClipGeometry:
    """Where the parts of ``clip`` are in a track at ``top`` of height ``h``;
    ``view_width`` (the lanes' width) places the gain knob on the visible part."""
    x0 = state.x_of(clip.position)
    x1 = state.x_of(clip.end)
    rect = QRectF(x0, top + 2, max(1.0, x1 - x0), h - 4)
    head = QRectF(rect.left(), rect.top(), rect.width(), CLIP_HEADER)
    body = QRectF(rect.left(), rect.top() + CLIP_HEADER, rect.width(), max(0.0, rect.height() - CLIP_HEADER))
    lo, hi = x0 + HANDLE / 2, max(x0 + HANDLE / 2, x1 - HANDLE / 2)
    y = body.top() + HANDLE / 2 + 1
    fi = QPointF(min(hi, max(lo, x0 + clip.fade_in_visible / state.fpp)), y)
    fo = QPointF(min(hi, max(lo, x1 - clip.fade_out_visible / state.fpp)), y)
    gy = gain_to_y(clip.gain_db, body)
    va, vb = (x0, x1) if view_width is None else (max(x0, 0.0), min(x1, view_width))
    return ClipGeometry(rect, head, body, fi, fo, gy, QPointF((va + vb) / 2, gy))


@dataclass(frozen=True)
class Hit:
    """What is under the mouse.

    ``kind`` is one of: resize, fade_in, fade_out, trim_left, trim_right, move
    (the name strip), gain, body (a clip's audio), lane (a track without a clip
    there) or none (below the last track).
    """

    kind: str
    track_index: int | None = None
    track: Track | None = None
    clip: Clip | None = None
    geometry: ClipGeometry | None = None


def _dist(a: QPointF, b: QPointF) -> float:
    return max(abs(a.x() - b.x()), abs(a.y() - b.y()))


def hit_test(rows: list[tuple[Track, int, int]], state: ViewState, pos: QPointF,
             view_width: float | None = None) -> Hit:
    """Find the handle, clip or track under ``pos`` (lanes coordinates)."""
    x, y = pos.x(), pos.y()
    for i, (track, top, h) in enumerate(rows):
        if not top <= y < top + h:
            continue
        if y >= top + h - RESIZE_PX:
            return Hit("resize", i, track)
        # The clip drawn last is on top: search from the end.
        for clip in reversed(track.clips):
            g = clip_geometry(clip, top, h, state, view_width)
            if not (g.rect.left() <= x <= g.rect.right() and g.rect.top() <= y <= g.rect.bottom()):
                continue
            if g.body.height() >= HANDLE + 2:
                d_in, d_out = _dist(pos, g.fade_in), _dist(pos, g.fade_out)
                if min(d_in, d_out) <= HANDLE_HIT:
                    return Hit("fade_in" if d_in <= d_out else "fade_out", i, track, clip, g)
            edge = min(EDGE_PX, g.rect.width() / 3)
            if x <= g.rect.left() + edge:
                return Hit("trim_left", i, track, clip, g)
            if x >= g.rect.right() - edge:
                return Hit("trim_right", i, track, clip, g)
            if y < g.head.bottom():
                return Hit("move", i, track, clip, g)
            knob = g.gain_knob
            if g.body.height() >= 20 and abs(y - knob.y()) <= GAIN_HIT_PX and abs(x - knob.x()) <= GAIN_KNOB:
                return Hit("gain", i, track, clip, g)
            return Hit("body", i, track, clip, g)
        return Hit("lane", i, track)
    return Hit("none")
