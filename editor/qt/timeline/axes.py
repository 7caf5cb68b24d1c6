"""Scales at the lanes' left edge (beside the track headers): amplitude for waveforms
(linear, or dB when the track's dB button is on) and frequency in Hz for spectrograms
(on the track's linear, log or mel axis).

:class:`AxisOverlay` is a see-through child of the lanes, repainted with them, so the
scales follow zoom, resizing, track heights, view modes and scrolling. The frequency
mapping is the one the spectrogram tiles are drawn with (:func:`row_edges` gives the
same row edges as :func:`editor.qt.timeline.spectrogram._row_matrix`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from .handles import CLIP_HEADER
from .spectrogram import ROWS

AXIS_WIDTH = 40
MIN_LABEL_GAP = 13.0  # pixels between labels
WAVE_HALF = 0.48  # draw_clip_waveform's half-height of a channel row
DB_RANGE = 60.0  # draw_clip_waveform's dB range
# Ticks in order of importance: where labels would crowd, the first ones stay.
LINEAR_TICKS = (1.0, 0.0, -1.0, 0.5, -0.5)
DB_TICKS = (0.0, -6.0, -12.0, -24.0, -48.0)
HZ_TICKS = (1000.0, 100.0, 10000.0, 500.0, 5000.0, 200.0, 2000.0, 50.0, 20000.0, 20.0)


def _mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _imel(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10 ** (m / 2595.0) - 1.0)


def row_edges(rate: int, scale: str, rows: int = ROWS) -> np.ndarray:
    """Frequency edges (Hz) of the spectrogram's display rows, bottom row first."""
    nyq = rate / 2.0
    if scale == "linear":
        return np.linspace(0.0, nyq, rows + 1)
    if scale == "mel":
        edges = _imel(np.linspace(_mel(20.0), _mel(nyq), rows + 1))
    else:
        edges = np.geomspace(20.0, nyq, rows + 1)
    edges[0] = 0.0
    return edges


def freq_fraction(hz: np.ndarray | float, rate: int, scale: str) -> np.ndarray:
    """Height (0 bottom .. 1 top) at which ``hz`` is drawn in a spectrogram rectangle."""
    nyq = rate / 2.0
    f = np.clip(np.asarray(hz, dtype=np.float64), 0.0, nyq)
    if scale == "linear":
        return f / nyq
    # Inside the first row (0 .. its upper edge) the rows are linear; above it, the curve.
    edges = row_edges(rate, scale)
    if scale == "mel":
        curve = (_mel(np.maximum(f, 20.0)) - _mel(20.0)) / (_mel(nyq) - _mel(20.0))
    else:
        curve = np.log(np.maximum(f, 20.0) / 20.0) / np.log(nyq / 20.0)
    first = f / edges[1] / ROWS
    return np.where(f < edges[1], first, curve)


def freq_at(fraction: np.ndarray | float, rate: int, scale: str) -> np.ndarray:
    """The frequency (Hz) drawn at ``fraction`` of a spectrogram rectangle's height (0: bottom)."""
    x = np.clip(np.asarray(fraction, dtype=np.float64), 0.0, 1.0)
    nyq = rate / 2.0
    if scale == "linear":
        return x * nyq
    edges = row_edges(rate, scale)
    if scale == "mel":
        curve = _imel(_mel(20.0) + x * (_mel(nyq) - _mel(20.0)))
    else:
        curve = 20.0 * (nyq / 20.0) ** x
    return np.where(x < 1.0 / ROWS, x * ROWS * edges[1], curve)


def hz_label(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def amplitude_ticks(db: bool) -> list[tuple[float, str]]:
    """(display position in -1..1, label) of the waveform scale of one channel row."""
    if not db:
        return [(v, f"{v:g}") for v in LINEAR_TICKS]
    out: list[tuple[float, str]] = [(1.0, "0"), (-1.0, "0"), (0.0, "-∞")]
    for d in DB_TICKS[1:]:
        pos = (d + DB_RANGE) / DB_RANGE
        out.append((pos, f"{d:g}"))
        out.append((-pos, f"{d:g}"))
    return out


def body_rect(top: float, h: float, width: float) -> QRectF:
    """A track row's audio area (below the clip name strip), as clip_geometry places it."""
    return QRectF(0.0, top + 2 + CLIP_HEADER, width, max(0.0, h - 4 - CLIP_HEADER))


class AxisOverlay(QWidget):
    """The amplitude and frequency scales of every track, at the lanes' left edge."""

    def __init__(self, lanes: QWidget) -> None:
        super().__init__(lanes)
        self.lanes = lanes
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAccessibleName("Track scales")
        self.setGeometry(0, 0, AXIS_WIDTH, lanes.height())
        lanes.installEventFilter(self)
        self.show()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.lanes and e.type() == QEvent.Type.Resize:
            self.setGeometry(0, 0, AXIS_WIDTH, self.lanes.height())
        return False

    # -- what is drawn (tests read these) ----------------------------------------------------------
    def areas(self) -> list[tuple[str, str, QRectF]]:
        """(track id, "wave" or "spec", rectangle) of each scale, in this widget's coordinates."""
        out = []
        for track, top, h in self.lanes.track_rows():
            body = body_rect(top, h, AXIS_WIDTH)
            if body.height() < 12 or body.bottom() < 0 or body.top() > self.height():
                continue
            mode = self.lanes.display_for(track.id).mode
            if mode == "spectrogram":
                out.append((track.id, "spec", body))
            elif mode == "both":
                half = body.height() / 2
                out.append((track.id, "spec", QRectF(body.left(), body.top(), body.width(), half)))
                out.append((track.id, "wave", QRectF(body.left(), body.top() + half, body.width(), half)))
            else:
                out.append((track.id, "wave", body))
        return out

    def labels(self) -> list[tuple[str, str, float, str]]:
        """(track id, kind, y, text) of every label drawn."""
        out = []
        rate = self.lanes.project.sample_rate
        for tid, kind, rect in self.areas():
            disp = self.lanes.display_for(tid)
            ticks: list[tuple[float, str]] = []
            if kind == "spec":
                nyq = rate / 2.0
                step = [f for f in HZ_TICKS if f < nyq]
                if disp.spectro.scale == "linear":
                    step = sorted({float(k) * 1000.0 for k in range(1, int(nyq // 1000.0) + 1)},
                                  key=lambda f: (f % 10000 != 0, f % 5000 != 0, f % 2000 != 0, f))
                for f in step:
                    y = rect.bottom() - float(freq_fraction(f, rate, disp.spectro.scale)) * rect.height()
                    ticks.append((y, hz_label(f)))
            else:
                track = self.lanes.project.track(tid)
                ch = max(1, track.channels)
                row_h = rect.height() / ch
                for c in range(ch):
                    mid = rect.top() + row_h * (c + 0.5)
                    for pos, text in amplitude_ticks(disp.db):
                        ticks.append((mid - pos * row_h * WAVE_HALF, text))
            kept: list[float] = []
            for y, text in ticks:
                if rect.top() - 0.5 <= y <= rect.bottom() + 0.5 and all(abs(y - k) >= MIN_LABEL_GAP for k in kept):
                    kept.append(y)
                    out.append((tid, kind, y, text))
        return out

    def paintEvent(self, _e) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        areas = {}
        for tid, kind, rect in self.areas():
            p.fillRect(rect, QColor(0, 0, 0, 110))
            areas[(tid, kind)] = rect
        tick_pen = QPen(QColor(255, 255, 255, 200))
        for tid, kind, y, text in self.labels():
            p.setPen(tick_pen)
            p.drawLine(AXIS_WIDTH - 5, int(round(y)), AXIS_WIDTH, int(round(y)))
            p.setPen(QColor(255, 255, 255) if kind == "wave" else QColor(255, 240, 200))
            # Text centred on its tick, kept inside the scale's own area.
            rect = areas[(tid, kind)]
            top = min(max(y - 7, rect.top()), rect.bottom() - 14)
            p.drawText(QRectF(1, top, AXIS_WIDTH - 7, 14),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        p.end()
