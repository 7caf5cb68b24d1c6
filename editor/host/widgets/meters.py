"""A peak meter with hold and a clip indicator."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
HOLD_S = 1.5


def _frac(db: float) -> float:
    return max(0.0, min(1.0, (db - FLOOR_DB) / -FLOOR_DB))


class PeakMeter(QWidget):
    """Two bars (L/R) in dBFS; click to reset the clip indicator."""

    def __init__(self, orientation: Qt.Orientation = Qt.Orientation.Horizontal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.orientation = orientation
        self.levels = [FLOOR_DB, FLOOR_DB]
        self.holds = [FLOOR_DB, FLOOR_DB]
        self._hold_t = [0.0, 0.0]
        self.clipped = False
        self.setAccessibleName("Level meter")
        if orientation == Qt.Orientation.Horizontal:
            self.setMinimumSize(120, 14)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        else:
            self.setMinimumSize(16, 100)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

    def set_peaks(self, left: float, right: float) -> None:
        now = time.monotonic()
        for i, v in enumerate((left, right)):
            db = 20 * math.log10(v) if v > 1e-6 else FLOOR_DB
            # Fall back smoothly (about 20 dB/s) instead of jumping down.
            self.levels[i] = db if db > self.levels[i] else max(db, self.levels[i] - 1.0)
            if db >= self.holds[i] or now - self._hold_t[i] > HOLD_S:
                self.holds[i] = db
                self._hold_t[i] = now
            if v >= 1.0:
                self.clipped = True
        self.setToolTip(f"Peak L {self.holds[0]:.1f} dBFS, R {self.holds[1]:.1f} dBFS")
        self.update()

    def reset(self) -> None:
        self.levels = [FLOOR_DB, FLOOR_DB]
        self.holds = [FLOOR_DB, FLOOR_DB]
        self.clipped = False
        self.setToolTip("No signal")
        self.update()

    def mousePressEvent(self, _e) -> None:  # noqa: N802, ANN001
        self.clipped = False
        self.update()

    def paintEvent(self, _e) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(0, 0, -1, -1)
        p.fillRect(r, QColor(20, 20, 22))
        horizontal = self.orientation == Qt.Orientation.Horizontal
        clip_box = 8.0
        if horizontal:
            area = QRectF(r.left(), r.top(), r.width() - clip_box - 2, r.height())
            grad = QLinearGradient(area.left(), 0, area.right(), 0)
        else:
            area = QRectF(r.left(), r.top() + clip_box + 2, r.width(), r.height() - clip_box - 2)
            grad = QLinearGradient(0, area.bottom(), 0, area.top())
        grad.setColorAt(0.0, QColor("#2e9d4f"))
        grad.setColorAt(0.8, QColor("#d8c84a"))
        grad.setColorAt(1.0, QColor("#e04040"))
        for i in range(2):
            f = _frac(self.levels[i])
            h = _frac(self.holds[i])
            if horizontal:
                bar_h = area.height() / 2 - 1
                y = area.top() + i * (bar_h + 2)
                p.fillRect(QRectF(area.left(), y, area.width() * f, bar_h), grad)
                p.fillRect(QRectF(area.left() + area.width() * h - 1, y, 2, bar_h), QColor(240, 240, 240))
            else:
                bar_w = area.width() / 2 - 1
                x = area.left() + i * (bar_w + 2)
                p.fillRect(QRectF(x, area.bottom() - area.height() * f, bar_w, area.height() * f), grad)
                p.fillRect(QRectF(x, area.bottom() - area.height() * h - 1, bar_w, 2), QColor(240, 240, 240))
        box = QRectF(r.right() - clip_box, r.top(), clip_box, r.height()) if horizontal else \
            QRectF(r.left(), r.top(), r.width(), clip_box)
        p.fillRect(box, QColor("#ff3030") if self.clipped else QColor(60, 30, 30))
