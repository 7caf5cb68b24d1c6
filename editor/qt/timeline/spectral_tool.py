"""Spectral selection in the spectrogram view (issue 14): draw a time x frequency region.

With a spectral tool chosen (View > Spectral Selection: Box, Brush, Lasso, Harmonic;
Off gives the lanes back their usual time selection), a drag on a track shown as a
spectrogram makes a :class:`~editor.core.spectral_selection.SpectralSelection` in
project seconds and Hz. Shift adds to the selection, Alt or Ctrl subtracts from it;
a plain drag replaces it. Frequencies snap to the display rows of the track's axis
(linear, log or mel, the mapping of :mod:`.axes`), times to the cursor, clip edges
and markers while snapping is on. A harmonic click tracks the clicked partial and
its overtones over time as a background job.

The selection is stored in the view state through the host selection's
``set_band(low, high, mask=selection)`` with its time span as the time selection on
its track; it is drawn by :class:`SpectralOverlay` (a see-through child of the lanes)
by mapping seconds and Hz to pixels on every paint, so zooming and scrolling keep it
in place. Any other time selection (a click, an undo) drops the band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QActionGroup, QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QWidget

from ...core.model import Clip, Track
from ...core.spectral_selection import Box, Polygon, SpectralSelection, StftGrid, Stroke
from .axes import freq_at, freq_fraction, row_edges
from .handles import clip_geometry
from .snapping import snap_targets

if TYPE_CHECKING:
    from ..main_window import MainWindow
    from .lanes import Lanes

TOOLS = (("off", "&Off (time selection)", "Ctrl+Alt+5"), ("box", "&Box", "Ctrl+Alt+6"),
         ("brush", "B&rush", "Ctrl+Alt+7"), ("lasso", "&Lasso", "Ctrl+Alt+8"),
         ("harmonic", "&Harmonic", "Ctrl+Alt+9"))
BRUSH_PX = 8.0  # brush radius in pixels
FILL = QColor(90, 220, 255, 70)
OUTLINE = QColor(120, 235, 255)


def format_hz(hz: float) -> str:
    if not math.isfinite(hz):
        return "Nyquist"
    return f"{hz / 1000:.2f} kHz" if hz >= 1000 else f"{hz:.0f} Hz"


@dataclass
class Area:
    """The spectrogram of one clip on screen: its rectangle and the axis it is drawn on."""

    track: Track
    clip: Clip
    rect: QRectF
    scale: str
    rate: int

    def hz_at(self, y: float) -> float:
        return float(freq_at(1.0 - (y - self.rect.top()) / max(1.0, self.rect.height()), self.rate, self.scale))

    def y_of(self, hz: float) -> float:
        hz = min(hz, self.rate / 2.0)
        return self.rect.top() + (1.0 - float(freq_fraction(hz, self.rate, self.scale))) * self.rect.height()

    def snap_hz(self, hz: float) -> float:
        """The nearest row edge of the axis the spectrogram is drawn on."""
        edges = row_edges(self.rate, self.scale)
        return float(edges[int(np.argmin(np.abs(edges - hz)))])


def spectrogram_areas(lanes: Lanes, track_id: str | None = None) -> list[Area]:
    """Every clip drawn as a spectrogram (on ``track_id`` only, if given), as on screen now."""
    out = []
    rate = lanes.project.sample_rate
    for track, top, h in lanes.track_rows():
        if track_id is not None and track.id != track_id:
            continue
        disp = lanes.display_for(track.id)
        if disp.mode == "waveform":
            continue
        for clip in track.clips:
            body = clip_geometry(clip, top, h, lanes.state, lanes.width()).body
            if disp.mode == "both":
                body = QRectF(body.left(), body.top(), body.width(), body.height() / 2)
            if body.height() > 4:
                out.append(Area(track, clip, body, disp.spectro.scale, rate))
    return out


def area_at(lanes: Lanes, pos: QPointF) -> Area | None:
    for a in spectrogram_areas(lanes):
        if a.rect.contains(pos):
            return a
    return None


@dataclass
class Gesture:
    area: Area
    op: str  # replace | add | subtract
    points: list[tuple[float, float]] = field(default_factory=list)  # (seconds, Hz)
    pixels: list[QPointF] = field(default_factory=list)


class SpectralTool(QObject):
    """The spectral selection tools on the lanes (an event filter: the lanes' own code is untouched)."""

    changed = Signal()  # the spectral selection changed
    harmonic_ready = Signal(object)  # the Job of a harmonic tracking, once its selection is stored

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.lanes: Lanes = window.timeline.lanes
        self.state = window.state
        self.tool = "off"
        self.gesture: Gesture | None = None
        self._frames: tuple[int, int, tuple[str, ...]] | None = None
        self.harmonic_job = None
        self.overlay = SpectralOverlay(self)
        self.lanes.installEventFilter(self)
        self.state.selection_changed.connect(self._selection_changed)
        self.status = QLabel("")
        self.status.setAccessibleName("Spectral selection")
        self.status.setToolTip("The spectral selection: time span and frequency band")
        window.statusBar().addPermanentWidget(self.status)
        self.status.hide()

    # -- the selection ---------------------------------------------------------------
    @property
    def selection(self) -> SpectralSelection | None:
        m = self.state.mask
        return m if isinstance(m, SpectralSelection) else None

    @property
    def track_id(self) -> str | None:
        return self.state.track_ids[0] if self.selection is not None and self.state.track_ids else None

    def store(self, sel: SpectralSelection | None, track_id: str = "") -> None:
        """Make ``sel`` (project seconds) the selection on ``track_id`` (None or empty: clear it)."""
        st = self.state
        if sel is None or sel.empty:
            self.clear()
            return
        rate = self.w.project.sample_rate
        t0, t1, lo, hi = sel.bounds(with_edges=False)
        a, b = max(0, int(round(t0 * rate))), max(0, int(round(t1 * rate)))
        self._frames = (a, b, (track_id,))
        st.set_clips(())
        st.set_selection(a, b, (track_id,))
        st.set_band(lo, hi if math.isfinite(hi) else rate / 2.0, sel)
        self._update_status()
        self.changed.emit()

    def clear(self) -> bool:
        """Drop the spectral selection (the time selection stays). True if there was one."""
        if self.selection is None:
            return False
        self._frames = None
        self.state.set_band(None, None, None)
        self._update_status()
        self.changed.emit()
        return True

    def _selection_changed(self) -> None:
        st = self.state
        if self.selection is not None and (st.sel_start, st.sel_stop, st.track_ids) != self._frames:
            self._frames = None
            st.set_band(None, None, None)  # another selection replaced it
            self.changed.emit()
        self._update_status()
        self.overlay.update()

    def status_text(self) -> str:
        sel = self.selection
        if sel is None:
            return ""
        t0, t1, lo, hi = sel.bounds(with_edges=False)
        return f"Spectral: {t0:.3f}–{t1:.3f} s, {format_hz(lo)}–{format_hz(hi)}"

    def _update_status(self) -> None:
        text = self.status_text()
        act = getattr(self, "clear_action", None)
        if act is not None:
            act.setEnabled(bool(text))
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def band_from_time(self, low_hz: float, high_hz: float) -> bool:
        """A box over the time selection (first selected track) and ``low_hz .. high_hz``:
        the keyboard's way to a spectral selection. False if there is no time selection."""
        st = self.state
        if not (st.has_range and st.track_ids):
            self.w.show_message("Select a time range on a track first")
            return False
        rate = self.w.project.sample_rate
        lo, hi = sorted((max(0.0, low_hz), min(high_hz, rate / 2.0)))
        if hi <= lo:
            self.w.show_message("The band is empty: the high frequency must be above the low one")
            return False
        self.store(SpectralSelection().add(Box(st.sel_start / rate, st.sel_stop / rate, lo, hi)), st.track_ids[0])
        return True

    def band_dialog(self) -> None:
        """Ask for a band (Hz) and make it the spectral selection over the time selection."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout

        nyq = self.w.project.sample_rate / 2.0
        sel = self.selection
        dlg = QDialog(self.w)
        dlg.setWindowTitle("Spectral Band")
        form = QFormLayout(dlg)
        spins = []
        for label, value, name in (("&Low:", sel.bounds(False)[2] if sel else 1000.0, "Low frequency in Hz"),
                                   ("&High:", sel.bounds(False)[3] if sel else 4000.0, "High frequency in Hz")):
            sb = QDoubleSpinBox()
            sb.setRange(0.0, nyq)
            sb.setDecimals(1)
            sb.setSuffix(" Hz")
            sb.setValue(min(value, nyq))
            sb.setAccessibleName(name)
            form.addRow(label, sb)
            spins.append(sb)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(dlg.accept)
        box.rejected.connect(dlg.reject)
        form.addRow(box)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.band_from_time(spins[0].value(), spins[1].value())

    # -- tools ------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.tool = tool
        if tool != "off":
            self.w.show_message(f"Spectral {tool} tool: drag on a spectrogram (Shift adds, Alt or Ctrl subtracts)")

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is not self.lanes:
            return False
        t = e.type()
        if t == QEvent.Type.MouseButtonPress and isinstance(e, QMouseEvent):
            return self._press(e)
        if t == QEvent.Type.MouseButtonDblClick and isinstance(e, QMouseEvent):
            # The lanes' double click selects a whole clip: not while a spectral tool draws there.
            return self.tool != "off" and area_at(self.lanes, e.position()) is not None
        if t == QEvent.Type.MouseMove and self.gesture is not None and isinstance(e, QMouseEvent):
            self._move(e.position())
            return True
        if (t == QEvent.Type.MouseMove and self.tool != "off" and isinstance(e, QMouseEvent)
                and not e.buttons() and area_at(self.lanes, e.position()) is not None):
            self.lanes.setCursor(Qt.CursorShape.CrossCursor)  # a spectral tool draws here
            self.lanes.setToolTip(f"Spectral {self.tool}: drag to select (Shift adds, Alt or Ctrl subtracts)")
            return True
        if t == QEvent.Type.MouseButtonRelease and self.gesture is not None and isinstance(e, QMouseEvent):
            self._move(e.position())
            self._finish()
            return True
        if t == QEvent.Type.KeyPress and e.key() == Qt.Key.Key_Escape and not e.modifiers():
            # Esc: the gesture in progress, else the spectral selection (a lanes drag keeps its own Esc).
            if self.gesture is not None:
                self.gesture = None
                self.overlay.update()
                return True
            if self.lanes.dragging is None and self.clear():
                return True
        return False

    def _press(self, e: QMouseEvent) -> bool:
        if self.tool == "off" or e.button() != Qt.MouseButton.LeftButton or self.lanes.dragging is not None:
            return False
        area = area_at(self.lanes, e.position())
        if area is None:
            return False
        self.lanes.setFocus()
        mods = e.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier:
            op = "add"
        elif mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ControlModifier):
            op = "subtract"
        else:
            op = "replace"
        if op != "replace" and self.track_id not in (None, area.track.id):
            op = "replace"  # another track: a new selection there
        self.gesture = Gesture(area, op)
        if self.tool == "harmonic":
            self.gesture.points.append(self._point(area, e.position(), snap=False))
            self._harmonic()
            return True
        self._move(e.position())
        return True

    def _point(self, area: Area, pos: QPointF, snap: bool = True) -> tuple[float, float]:
        st = self.state
        rate = area.rate
        frame = st.frame_at(pos.x())
        if snap and self.lanes.snap_enabled:
            frame = snap_targets(self.lanes.project, st.fpp, st.cursor, grid=False).snap(frame)[0]
        y = min(max(pos.y(), area.rect.top()), area.rect.bottom())
        hz = area.hz_at(y)
        if snap:
            hz = area.snap_hz(hz)
        return frame / rate, hz

    def _move(self, pos: QPointF) -> None:
        g = self.gesture
        if g is None:
            return
        p = self._point(g.area, pos, snap=self.tool == "box")
        if self.tool == "box" and g.points:
            g.points[1:] = [p]
        else:
            g.points.append(p)
        g.pixels.append(QPointF(pos))
        self.overlay.update()

    def _shape(self, g: Gesture):  # noqa: ANN202 - Box | Stroke | Polygon | None
        pts = g.points
        if self.tool == "box":
            if len(pts) < 2:
                return None
            (t0, f0), (t1, f1) = pts[0], pts[-1]
            if abs(t1 - t0) * g.area.rate < 2 or abs(f1 - f0) <= 0:
                return None
            return Box(min(t0, t1), max(t0, t1), min(f0, f1), max(f0, f1))
        if self.tool == "brush":
            if not pts:
                return None
            st = self.state
            y = np.median([p.y() for p in g.pixels]) if g.pixels else g.area.rect.center().y()
            radius_hz = abs(g.area.hz_at(y - BRUSH_PX) - g.area.hz_at(y + BRUSH_PX)) / 2
            return Stroke(tuple(pts), BRUSH_PX * st.fpp / g.area.rate, max(1.0, radius_hz))
        if self.tool == "lasso":
            return Polygon(tuple(pts)) if len(pts) >= 3 else None
        return None

    def _finish(self) -> None:
        g, self.gesture = self.gesture, None
        shape = self._shape(g) if g is not None else None
        if g is None or shape is None:
            self.overlay.update()
            return
        self.combine(shape, g.op, g.area.track.id)

    def combine(self, shape, op: str, track_id: str) -> None:  # noqa: ANN001 - a shape of spectral_selection
        """Add ``shape`` to, subtract it from, or make it the selection on ``track_id``."""
        base = self.selection if op != "replace" and self.track_id == track_id else None
        if base is None:
            base = SpectralSelection()
            if op == "subtract":
                self.overlay.update()
                return
        sel = base.subtract(shape) if op == "subtract" else base.add(shape)
        self.store(sel, track_id)

    def _harmonic(self) -> None:
        """Track the clicked partial and its overtones (a background job); the result is stored when done."""
        from ...core.spectral_track import track_harmonic

        g = self.gesture
        self.gesture = None
        if g is None:
            return
        t, f = g.points[0]
        clip = g.area.clip
        rate = g.area.rate
        # Up to 15 s of the clip either side of the click.
        click = int(round(t * rate)) - clip.position + clip.offset
        a = max(clip.offset, click - 15 * rate)
        b = min(clip.offset + clip.length, click + 15 * rate)
        seq = clip.audio
        shift = (clip.position - clip.offset + a) / rate
        op, tid = g.op, g.area.track.id

        def work(ctx):  # noqa: ANN001, ANN202
            audio = seq.read(a, b).mean(axis=0)
            ctx.check()
            return track_harmonic(audio, rate, t - shift, f)

        job = self.w.host.jobs.run("Track harmonic", work, kind="task")
        self.harmonic_job = job

        def ok(shape) -> None:  # noqa: ANN001
            try:
                moved = SpectralSelection().add(shape).shifted(shift).parts[0].shape  # into project seconds
                self.combine(moved, op, tid)
            finally:
                self.harmonic_ready.emit(job)

        def fail(message: str) -> None:
            self.w.show_message(f"Harmonic selection: {message}")
            self.harmonic_ready.emit(job)

        self.w.host.jobs.relay(job, ok, fail)


class SpectralOverlay(QWidget):
    """The spectral selection (and the gesture in progress) drawn over the spectrograms."""

    def __init__(self, tool: SpectralTool) -> None:
        super().__init__(tool.lanes)
        self.tool = tool
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAccessibleName("Spectral selection overlay")
        self.setGeometry(tool.lanes.rect())
        tool.lanes.installEventFilter(self)
        tool.state.view_changed.connect(self.update)
        tool.lanes.preview_changed.connect(self.update)
        self.paints = 0  # how often it was drawn (tests: no repaint loop)
        self._cache: tuple | None = None  # (selection, (rows, scale, rate), fill image)
        self.raise_()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt API
        # Repainted with the lanes (a see-through child is redrawn wherever its parent is).
        if obj is self.tool.lanes and e.type() == QEvent.Type.Resize:
            self.setGeometry(self.tool.lanes.rect())
        return False

    def selection_rects(self) -> list[QRectF]:
        """Where the selection's bounding box is drawn now (one per clip it falls on)."""
        sel, tid = self.tool.selection, self.tool.track_id
        if sel is None or tid is None:
            return []
        t0, t1, lo, hi = sel.bounds(with_edges=False)
        st = self.tool.state
        out = []
        for area in spectrogram_areas(self.tool.lanes, tid):
            r = QRectF(QPointF(st.x_of(t0 * area.rate), area.y_of(hi)), QPointF(st.x_of(t1 * area.rate), area.y_of(lo)))
            r = r.intersected(area.rect)
            if r.width() > 0 and r.height() > 0:
                out.append(r)
        return out

    def paintEvent(self, _e) -> None:  # noqa: N802, ANN001 - Qt API
        tool = self.tool
        self.paints += 1
        p = QPainter(self)
        sel, tid = tool.selection, tool.track_id
        if sel is not None and tid is not None:
            for area in spectrogram_areas(tool.lanes, tid):
                self._paint_selection(p, sel, area)
        g = tool.gesture
        if g is not None and g.pixels:
            pen = QPen(OUTLINE)
            pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setClipRect(g.area.rect)
            if tool.tool == "box":
                a = self._xy(g.area, *g.points[0])
                b = self._xy(g.area, *g.points[-1])
                p.fillRect(QRectF(a, b).normalized(), FILL)
                p.drawRect(QRectF(a, b).normalized())
            else:
                path = QPainterPath(g.pixels[0])
                for q in g.pixels[1:]:
                    path.lineTo(q)
                if tool.tool == "brush":
                    pen = QPen(FILL, 2 * BRUSH_PX, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                    p.setPen(pen)
                p.drawPath(path)
        p.end()

    def _xy(self, area: Area, t: float, hz: float) -> QPointF:
        return QPointF(self.tool.state.x_of(t * area.rate), area.y_of(hz))

    def _fill_image(self, sel: SpectralSelection, area: Area, rows: int) -> tuple[QImage, float, float] | None:
        """The selection's soft mask as a translucent image ``rows`` tall on the track's frequency axis,
        and the seconds its left and right edges stand for. Rasterised once per selection on a
        grid of at most about 1500 columns (zooming only scales it) and cached per height and axis."""
        key = (rows, area.scale, area.rate)
        cached = self._cache
        if cached is not None and cached[0] is sel and cached[1] == key:
            return cached[2]
        t0, t1, _lo, _hi = sel.bounds()
        hop = max(32, int((t1 - t0) * area.rate / 1500))
        grid = StftGrid(area.rate, 1024, hop)
        k0, mask = sel.rasterise(grid)
        out = None
        if mask.size:
            ys = np.arange(rows) + 0.5
            hz = freq_at(1.0 - ys / rows, area.rate, area.scale)
            bins = np.clip(np.round(hz / grid.bin_hz).astype(int), 0, grid.n_bins - 1)
            alpha = (mask[:, bins].T * FILL.alpha()).astype(np.uint8)  # rows x frames
            img = np.zeros((rows, alpha.shape[1], 4), np.uint8)
            img[..., 0], img[..., 1], img[..., 2] = FILL.blue(), FILL.green(), FILL.red()  # BGRA in memory
            img[..., 3] = alpha
            img = np.ascontiguousarray(img)
            qimg = QImage(img.data, img.shape[1], rows, img.shape[1] * 4, QImage.Format.Format_ARGB32).copy()
            out = (qimg, (k0 - 0.5) * grid.frame_seconds, (k0 + mask.shape[0] - 0.5) * grid.frame_seconds)
        self._cache = (sel, key, out)
        return out

    def _paint_selection(self, p: QPainter, sel: SpectralSelection, area: Area) -> None:
        st = self.tool.state
        rate = area.rate
        visible = area.rect.intersected(QRectF(self.rect()))
        if visible.width() <= 0 or visible.height() <= 0:
            return
        rows = max(1, int(area.rect.height()))
        fill = self._fill_image(sel, area, rows)
        p.save()
        p.setClipRect(visible)
        if fill is not None:
            qimg, s0, s1 = fill
            x0, x1 = st.x_of(s0 * rate), st.x_of(s1 * rate)
            p.drawImage(QRectF(x0, area.rect.top(), x1 - x0, area.rect.height()), qimg)
        pen = QPen(OUTLINE)
        pen.setWidthF(1.5)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for part in sel.parts:
            shape = part.shape
            pen.setStyle(Qt.PenStyle.SolidLine if part.mode == "add" else Qt.PenStyle.DotLine)
            p.setPen(pen)
            if isinstance(shape, Box):
                p.drawRect(QRectF(self._xy(area, shape.start, shape.high_hz),
                                  self._xy(area, shape.end, shape.low_hz)).normalized())
            elif isinstance(shape, Polygon):
                # Edges are straight in seconds x Hz: curves on a log or mel axis.
                corners = list(shape.points) + [shape.points[0]]
                pts = [self._xy(area, t0 + (t1 - t0) * u, f0 + (f1 - f0) * u)
                       for (t0, f0), (t1, f1) in zip(corners[:-1], corners[1:], strict=True)
                       for u in np.linspace(0.0, 1.0, 16, endpoint=False)]
                path = QPainterPath(pts[0])
                for q in pts[1:]:
                    path.lineTo(q)
                path.closeSubpath()
                p.drawPath(path)
        p.restore()


def install(window: MainWindow) -> SpectralTool:
    """The spectral tools: View > Spectral Selection (tools, band, Clear Spectral Selection)."""
    tool = SpectralTool(window)
    window.spectral_tool = tool
    menu = window.menus["View"].addMenu("Spectral &Selection")
    menu.setAccessibleName("Spectral selection tools")
    group = QActionGroup(window)
    group.setExclusive(True)
    tool.actions = {}
    for key, text, keys in TOOLS:
        act = window.action(text, lambda _c=False, k=key: tool.set_tool(k), keys,
                            "Spectral selection tool: " + text.replace("&", ""), checkable=True)
        act.setChecked(key == "off")
        group.addAction(act)
        menu.addAction(act)
        tool.actions[key] = act
    # Esc in the lanes clears it too (spectral_tool's event filter; a window-wide Esc would take
    # the key from drags, dialogs and banners).
    clear = window.action("&Clear Spectral Selection", lambda: tool.clear(), None,
                          "Drop the spectral selection (the time selection stays); Esc in the tracks")
    menu.addSeparator()
    menu.addAction(window.action("Spectral &Band from Time Selection…", tool.band_dialog, "Ctrl+Alt+Shift+B",
                                 "Make the time selection a spectral selection of a band you type in Hz"))
    menu.addAction(clear)
    tool.clear_action = clear
    tool._update_status()
    return tool
