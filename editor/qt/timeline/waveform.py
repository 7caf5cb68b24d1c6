"""Waveform drawing from block summaries.

At wide zoom every pixel column is one min/max pair taken from the blocks'
summaries (see :meth:`~editor.core.sequence.AudioSeq.peaks`); columns are
computed in tiles of :data:`TILE` columns and cached per (sequence, zoom), so a
repaint after scrolling reuses what it already has. Below one frame per pixel
the samples themselves are drawn as a line with dots. Paths are built with
pyqtgraph's ``arrayToQPath`` (numpy in, QPainterPath out, no Python loop).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from ...core.fades import fade_in_gain, fade_out_gain
from ...core.model import Clip
from ...core.sequence import AudioSeq

TILE = 256
CLIP_LEVEL = 0.999


class PeakCache:
    """Per-pixel min/max tiles of sequences at given zooms (LRU)."""

    def __init__(self, max_tiles: int = 4000) -> None:
        self.max_tiles = max_tiles
        self._tiles: OrderedDict[tuple, tuple[np.ndarray, np.ndarray, AudioSeq]] = OrderedDict()

    def columns(self, seq: AudioSeq, fpp: float, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        """min, max (channels × (c1-c0)) of audio columns c0..c1, where column c
        covers audio frames [c·fpp, (c+1)·fpp)."""
        mins, maxs = [], []
        for t in range(c0 // TILE, (c1 - 1) // TILE + 1):
            mn, mx = self._tile(seq, fpp, t)
            a = max(c0, t * TILE) - t * TILE
            b = min(c1, (t + 1) * TILE) - t * TILE
            mins.append(mn[:, a:b])
            maxs.append(mx[:, a:b])
        return np.concatenate(mins, axis=1), np.concatenate(maxs, axis=1)

    def _tile(self, seq: AudioSeq, fpp: float, t: int) -> tuple[np.ndarray, np.ndarray]:
        key = (id(seq), fpp, t)
        hit = self._tiles.get(key)
        if hit is not None and hit[2] is seq:
            self._tiles.move_to_end(key)
            return hit[0], hit[1]
        start = int(t * TILE * fpp)
        stop = int((t + 1) * TILE * fpp)
        if start >= seq.frames:
            z = np.zeros((seq.channels, TILE), np.float32)
            mn = mx = z
        else:
            mn, mx = seq.peaks(start, stop, TILE)
        self._tiles[key] = (mn, mx, seq)
        if len(self._tiles) > self.max_tiles:
            self._tiles.popitem(last=False)
        return mn, mx

    def clear(self) -> None:
        self._tiles.clear()


def _scale(values: np.ndarray, db: bool, db_range: float) -> np.ndarray:
    """Map amplitudes in [-1, 1] to [-1, 1] display units (linear or dB)."""
    if not db:
        return np.clip(values, -1.0, 1.0)
    mag = np.abs(values)
    with np.errstate(divide="ignore"):
        d = 20.0 * np.log10(np.maximum(mag, 1e-12))
    return np.sign(values) * np.clip((d + db_range) / db_range, 0.0, 1.0)


def clip_fade_gains(clip: Clip, audio_frames: np.ndarray) -> np.ndarray:
    """The gain the clip's fades give at (fractional) frames of its audio: the curve the
    renderer applies (:func:`editor.engine.renderer.clip_envelope`), at any points."""
    tl = clip.position + (np.asarray(audio_frames, dtype=np.float64) - clip.offset)
    g = np.ones(tl.shape, np.float32)
    if clip.fade_in:
        start = clip.position - clip.fade_in_offset
        g *= fade_in_gain(clip.fade_in_shape, (tl - start + 0.5) / clip.fade_in)
    if clip.fade_out:
        start = clip.end + clip.fade_out_offset - clip.fade_out
        g *= fade_out_gain(clip.fade_out_shape, (tl - start + 0.5) / clip.fade_out)
    return g


def draw_clip_waveform(
    painter: QPainter,
    rect: QRectF,
    cache: PeakCache,
    audio: AudioSeq,
    audio_start: int,
    audio_stop: int,
    x_of_audio0: float,
    fpp: float,
    colour: QColor,
    gain: float = 1.0,
    db: bool = False,
    db_range: float = 60.0,
    envelope: Clip | None = None,
) -> None:
    """Draw frames [audio_start, audio_stop) of ``audio`` into ``rect``.

    ``x_of_audio0`` is the x position of audio frame 0, so frame f is at
    ``x_of_audio0 + f / fpp``. Only the part inside ``rect`` is drawn. Stereo
    gets two rows. Samples at or beyond full scale are marked red. ``envelope``: a
    clip whose fades scale the drawing as they scale the sound.
    """
    ch = audio.channels
    row_h = rect.height() / ch
    left_f = max(audio_start, int(math.floor((rect.left() - x_of_audio0) * fpp)))
    right_f = min(audio_stop, int(math.ceil((rect.right() - x_of_audio0) * fpp)) + 1)
    if right_f <= left_f:
        return
    pen = QPen(colour)
    pen.setWidthF(1.0)
    pen.setCosmetic(True)
    clip_pen = QPen(QColor("#ff4040"))
    clip_pen.setCosmetic(True)
    if fpp < 1.0:
        data = audio.read(left_f, right_f) * gain
        if envelope is not None:
            data = data * clip_fade_gains(envelope, np.arange(left_f, right_f))
        xs = x_of_audio0 + (np.arange(left_f, right_f) + 0.5) / fpp
        for c in range(ch):
            mid = rect.top() + row_h * (c + 0.5)
            ys = mid - _scale(data[c], db, db_range) * (row_h * 0.48)
            painter.setPen(pen)
            painter.drawPath(arrayToQPath(xs, ys, connect="all"))
            if fpp < 1.0 / 6.0:  # room for a dot per sample
                for x, y in zip(xs, ys, strict=True):
                    painter.drawEllipse(QPointF(x, y), 1.6, 1.6)
        return
    c0 = int(math.floor(left_f / fpp))
    c1 = max(c0 + 1, int(math.ceil(right_f / fpp)))
    mins, maxs = cache.columns(audio, fpp, c0, c1)
    if gain != 1.0:
        mins, maxs = mins * gain, maxs * gain
        if gain < 0:
            mins, maxs = maxs, mins
    if envelope is not None and (envelope.fade_in or envelope.fade_out):
        env = clip_fade_gains(envelope, (np.arange(c0, c1) + 0.5) * fpp)
        mins, maxs = mins * env, maxs * env
    xs = x_of_audio0 + np.arange(c0, c1) + 0.5
    keep = (xs >= rect.left() - 1) & (xs <= rect.right() + 1)
    xs = xs[keep]
    for c in range(ch):
        lo = mins[c][keep]
        hi = maxs[c][keep]
        mid = rect.top() + row_h * (c + 0.5)
        half = row_h * 0.48
        y_hi = mid - _scale(hi, db, db_range) * half
        y_lo = mid - _scale(lo, db, db_range) * half
        y_lo = np.maximum(y_lo, y_hi + 1.0)  # at least one pixel tall
        x2 = np.repeat(xs, 2)
        y2 = np.empty(2 * len(xs))
        y2[0::2] = y_hi
        y2[1::2] = y_lo
        painter.setPen(pen)
        painter.drawPath(arrayToQPath(x2, y2, connect="pairs"))
        clipped = (hi >= CLIP_LEVEL) | (lo <= -CLIP_LEVEL)
        if clipped.any():
            painter.setPen(clip_pen)
            cx = np.repeat(xs[clipped], 2)
            cy = np.empty(2 * int(clipped.sum()))
            cy[0::2] = rect.top() + row_h * c
            cy[1::2] = rect.top() + row_h * c + 3
            painter.drawPath(arrayToQPath(cx, cy, connect="pairs"))
    if ch > 1:
        painter.setPen(QPen(QColor(0, 0, 0, 60)))
        y = rect.top() + row_h
        painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
