"""The time ruler: adaptive tick labels, markers, loop range and playhead."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from ...core.model import Project
from ...core.timefmt import format_time
from .state import ViewState

STEPS = (
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
)


def tick_step(seconds_per_pixel: float, min_px: float = 80.0) -> float:
    """The smallest 'nice' label interval at least ``min_px`` pixels wide."""
    for s in STEPS:
        if s / seconds_per_pixel >= min_px:
            return s
    return STEPS[-1]


class Ruler(QWidget):
    """Shows time; click or drag sets the cursor or a time range on the selected tracks."""

    seek_requested = Signal(int)
    marker_clicked = Signal(str)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.project: Project | None = None
        self.setFixedHeight(30)
        self.setAccessibleName("Time ruler")
        self.setMouseTracking(True)
        self._press: int | None = None
        state.view_changed.connect(self.update)
        state.cursor_changed.connect(self.update)
        state.playhead_changed.connect(self.update)
        state.selection_changed.connect(self.update)

    def set_project(self, project: Project) -> None:
        self.project = project
        self.update()

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.window().color().darker(115))
        st = self.state
        rate = st.rate
        spp = st.fpp / rate
        step = tick_step(spp)
        minor = step / 5
        w = self.width()
        t0 = st.left / rate
        t1 = t0 + w * spp
        text = pal.windowText().color()
        p.setPen(QPen(text))
        first = math.floor(t0 / minor) * minor
        n = int((t1 - first) / minor) + 2
        for i in range(n):
            t = first + i * minor
            x = (t * rate - st.left) / st.fpp
            major = abs(t / step - round(t / step)) < 1e-6
            p.drawLine(QPointF(x, self.height()), QPointF(x, self.height() - (10 if major else 4)))
            if major and t >= 0:
                p.drawText(QPointF(x + 3, 12), format_time(t, step))
        if st.has_range:
            x0, x1 = st.x_of(st.sel_start), st.x_of(st.sel_stop)
            p.fillRect(QRectF(x0, self.height() - 6, x1 - x0, 6), QColor(80, 160, 255, 150))
        if st.loop:
            x0, x1 = st.x_of(st.loop[0]), st.x_of(st.loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, 4), QColor(255, 200, 60, 180))
        if self.project is not None:
            for m in self.project.markers:
                x = st.x_of(m.position)
                if -50 <= x <= w:
                    p.setPen(QPen(QColor("#ffb000")))
                    p.drawLine(QPointF(x, 14), QPointF(x, self.height()))
                    p.drawText(QPointF(x + 3, 24), m.name)
        x = st.x_of(st.cursor)
        p.setPen(QPen(text))
        p.drawLine(QPointF(x, 14), QPointF(x, self.height()))
        if st.playhead is not None:
            x = st.x_of(st.playhead)
            p.setBrush(QColor("#40d070"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([QPointF(x - 5, 16), QPointF(x + 5, 16), QPointF(x, 26)]))

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton:
            f = self.state.frame_at(e.position().x())
            if self.project is not None:
                for m in self.project.markers:
                    if abs(self.state.x_of(m.position) - e.position().x()) < 4:
                        self.marker_clicked.emit(m.id)
            self._press = f
            self.state.set_cursor(f)
            self.state.set_selection(f, f)
            self.seek_requested.emit(f)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is not None and e.buttons() & Qt.MouseButton.LeftButton:
            f = self.state.frame_at(e.position().x())
            self.state.set_selection(min(self._press, f), max(self._press, f))

    def mouseReleaseEvent(self, _e: QMouseEvent) -> None:  # noqa: N802
        self._press = None
