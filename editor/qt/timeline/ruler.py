"""The time ruler: adaptive tick labels, markers, loop range and playhead.

Click or drag to set the cursor or a time range. Markers show as flags with
their names: click one to put the cursor there, drag it to move it (one undo
step), double-click it to rename it in place, right-click it to rename or
delete it. Edits go out through :attr:`Ruler.edit_requested`.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from ...core import edits
from ...core.model import Marker, Project
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
    edit_requested = Signal(object, str)  # fn(Project) -> Project, undo label

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.project: Project | None = None
        self.setFixedHeight(30)
        self.setAccessibleName("Time ruler")
        self.setMouseTracking(True)
        self._press: int | None = None
        self._marker_drag: tuple[Marker, float, int | None] | None = None  # marker, press x, new frame
        self.editor: QLineEdit | None = None
        self.last_menu: QMenu | None = None
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
        w = self.width()
        text = pal.windowText().color()
        p.setPen(QPen(text))
        for x, label in self.ticks():
            p.drawLine(QPointF(x, self.height()), QPointF(x, self.height() - (4 if label is None else 10)))
            if label:
                p.drawText(QPointF(x + 3, 12), label)
        if st.has_range:
            x0, x1 = st.x_of(st.sel_start), st.x_of(st.sel_stop)
            p.fillRect(QRectF(x0, self.height() - 6, x1 - x0, 6), QColor(80, 160, 255, 150))
        if st.loop:
            x0, x1 = st.x_of(st.loop[0]), st.x_of(st.loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, 4), QColor(255, 200, 60, 180))
        if self.project is not None:
            drag = self._marker_drag
            for m in self.project.markers:
                pos = drag[2] if drag is not None and drag[0].id == m.id and drag[2] is not None else m.position
                x = st.x_of(pos)
                if -200 <= x <= w:
                    p.setPen(QPen(QColor("#ffb000")))
                    p.setBrush(QColor("#ffb000"))
                    p.drawPolygon(QPolygonF([QPointF(x, 14), QPointF(x + 6, 17), QPointF(x, 20)]))
                    p.drawLine(QPointF(x, 14), QPointF(x, self.height()))
                    p.drawText(QPointF(x + 8, 24), m.name)
            p.setBrush(Qt.BrushStyle.NoBrush)
        x = st.x_of(st.cursor)
        p.setPen(QPen(text))
        p.drawLine(QPointF(x, 14), QPointF(x, self.height()))
        if st.playhead is not None:
            x = st.x_of(st.playhead)
            p.setBrush(QColor("#40d070"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([QPointF(x - 5, 16), QPointF(x + 5, 16), QPointF(x, 26)]))

    def ticks(self) -> list[tuple[float, str | None]]:
        """The ticks across the ruler as (x, label): major ticks carry a time label
        ("" before 0), minor ones None. The interval adapts to the zoom (finer when
        zoomed in), and so do the decimals of the labels."""
        st = self.state
        rate = st.rate
        spp = st.fpp / rate
        step = tick_step(spp)
        minor = step / 5
        t0 = st.left / rate
        t1 = t0 + self.width() * spp
        first = math.floor(t0 / minor) * minor
        n = int((t1 - first) / minor) + 2
        out: list[tuple[float, str | None]] = []
        for i in range(n):
            t = first + i * minor
            x = (t * rate - st.left) / st.fpp
            major = abs(t / step - round(t / step)) < 1e-6
            out.append((x, (format_time(t, step) if t >= 0 else "") if major else None))
        return out

    # -- markers -------------------------------------------------------------------------
    def marker_at(self, x: float) -> Marker | None:
        """The marker whose flag or name is under ``x``."""
        if self.project is None:
            return None
        fm = self.fontMetrics()
        hit = None
        for m in self.project.markers:
            xm = self.state.x_of(m.position)
            if xm - 4 <= x <= xm + 10 + fm.horizontalAdvance(m.name):
                hit = m
                if abs(x - xm) <= 4:
                    return m  # the flag itself wins over a neighbour's name
        return hit

    def start_rename(self, marker_id: str) -> None:
        """Rename a marker in place (Enter confirms, Escape cancels)."""
        if self.project is None:
            return
        marker = next((m for m in self.project.markers if m.id == marker_id), None)
        if marker is None:
            return
        if self.editor is not None:
            self.editor.deleteLater()
        ed = _MarkerEditor(marker.name, self)
        ed.setAccessibleName("Marker name")
        x = int(self.state.x_of(marker.position)) + 6
        ed.setGeometry(max(0, min(x, self.width() - 160)), 3, 160, self.height() - 6)
        ed.selectAll()
        ed.show()
        ed.setFocus()
        self.editor = ed

        def done() -> None:
            if self.editor is not ed:
                return
            self.editor = None
            text = ed.text().strip()
            ed.deleteLater()
            if text and text != marker.name and not ed.cancelled:
                self.edit_requested.emit(lambda p: edits.set_marker(p, marker_id, name=text),
                                         f"Rename marker to {text}")

        ed.editingFinished.connect(done)
        ed.escaped.connect(done)

    def delete_marker(self, marker_id: str) -> None:
        self.edit_requested.emit(lambda p: edits.remove_marker(p, marker_id), "Delete marker")

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            return
        x = e.position().x()
        marker = self.marker_at(x)
        if marker is not None:
            self._marker_drag = (marker, x, None)
            return
        f = self.state.frame_at(x)
        self._press = f
        self.state.set_cursor(f)
        self.state.set_selection(f, f)
        self.seek_requested.emit(f)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        x = e.position().x()
        if self._marker_drag is not None:
            marker, px, frame = self._marker_drag
            if frame is not None or abs(x - px) >= 3:
                new = max(0, marker.position + int(round((x - px) * self.state.fpp)))
                self._marker_drag = (marker, px, new)
                self.update()
            return
        if self._press is not None and e.buttons() & Qt.MouseButton.LeftButton:
            f = self.state.frame_at(x)
            self.state.set_selection(min(self._press, f), max(self._press, f))
            return
        over = self.marker_at(x)
        self.setCursor(Qt.CursorShape.SizeHorCursor if over is not None else Qt.CursorShape.ArrowCursor)
        self.setToolTip(f"{over.name}: drag to move, double-click to rename, right-click for more"
                        if over is not None else "")

    def mouseReleaseEvent(self, _e: QMouseEvent) -> None:  # noqa: N802
        self._press = None
        drag, self._marker_drag = self._marker_drag, None
        if drag is None:
            return
        marker, _px, frame = drag
        if frame is None:  # a click: go to the marker
            self.state.set_cursor(marker.position)
            self.state.set_selection(marker.position, marker.position)
            self.seek_requested.emit(marker.position)
            self.marker_clicked.emit(marker.id)
        elif frame != marker.position:
            self.edit_requested.emit(lambda p: edits.set_marker(p, marker.id, position=frame),
                                     f"Move marker {marker.name}")
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        marker = self.marker_at(e.position().x())
        if marker is not None:
            self._marker_drag = None
            self.start_rename(marker.id)

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:  # noqa: N802
        marker = self.marker_at(e.pos().x())
        frame = self.state.frame_at(e.pos().x())
        m = QMenu(self)
        if marker is not None:
            m.addAction(f"Rename “{marker.name}”…", lambda: self.start_rename(marker.id))
            m.addAction(f"Delete “{marker.name}”", lambda: self.delete_marker(marker.id))
            m.addSeparator()
        m.addAction("Add Marker Here", lambda: self.edit_requested.emit(
            lambda p: edits.add_marker(p, frame), "Add marker"))
        if self.last_menu is not None:
            self.last_menu.deleteLater()
        self.last_menu = m
        m.popup(e.globalPos())


class _MarkerEditor(QLineEdit):
    """A line edit that reports Escape (the rename is then dropped)."""

    escaped = Signal()

    def __init__(self, text: str, parent: QWidget) -> None:
        super().__init__(text, parent)
        self.cancelled = False

    def keyPressEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.key() == Qt.Key.Key_Escape:
            self.cancelled = True
            self.escaped.emit()
            return
        super().keyPressEvent(e)
