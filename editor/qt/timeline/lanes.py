"""The track lanes: clips with waveforms or spectrograms, selection, cursor, playhead.

Mouse, as in Audition's multitrack view and Ardour:

- drag a clip by its name strip to move it (to another track too); Ctrl- or
  Shift-click name strips to select several clips, which then move together;
- drag a clip's left or right edge to trim it (the hidden audio stays available);
- drag the small squares at a clip's top corners to set its fades;
- drag the gain line across a clip up or down to change its gain;
- drag the bottom edge of a track to resize it;
- drag on the audio to select a time range (across tracks by moving up or
  down); Shift-click extends the range; a click sets the cursor;
- Ctrl+drag draws a rubber band that selects the clips it touches.

Moves and trims snap to the grid, clip edges, the cursor and markers (see
:mod:`.snapping`) unless snapping is off or Alt is held. Every drag is shown
live and applied once, on release, as one undo step (see :mod:`.drags`).
Ctrl+wheel zooms around the mouse, the wheel scrolls time, Shift+wheel
scrolls tracks.

Why this module is long: it is one widget, its painting and its mouse handling;
drags, snapping, handles, waveforms, spectrograms and menus already live in their
own modules, and splitting one QWidget's paint code from its event code would
only add indirection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from ...core.errors import SeedwaveError
from ...core.fades import fade_in_gain, fade_out_gain
from ...core.model import Clip, Project, Track
from . import drags
from .handles import (
    CLIP_HEADER,
    DEFAULT_TRACK_HEIGHT,
    GAIN_KNOB,
    MAX_TRACK_HEIGHT,
    MIN_TRACK_HEIGHT,
    Hit,
    clip_geometry,
    hit_test,
)
from .spectrogram import TILE as SPEC_TILE
from .spectrogram import SpectroCache, SpectroSettings
from .state import ViewState
from .waveform import PeakCache, draw_clip_waveform

__all__ = ["CLIP_HEADER", "Lanes", "TrackDisplay"]

ZERO_CROSS_SEARCH = 2000
SNAP_COLOUR = QColor("#40e0ff")
GAIN_COLOUR = QColor(235, 160, 0)
EDGE_COLOUR = QColor(255, 150, 0)

CURSORS = {
    "resize": Qt.CursorShape.SizeVerCursor,
    "fade_in": Qt.CursorShape.SizeHorCursor,
    "fade_out": Qt.CursorShape.SizeHorCursor,
    "trim_left": Qt.CursorShape.SplitHCursor,
    "trim_right": Qt.CursorShape.SplitHCursor,
    "move": Qt.CursorShape.OpenHandCursor,
    "gain": Qt.CursorShape.SizeVerCursor,
}


def label_x(head: QRectF) -> float:
    """Where a clip's name starts: its left edge, or the view's left edge (0) when the
    clip begins off screen, so the name stays readable while scrolling."""
    return max(head.left(), 0.0) + 4


@dataclass
class TrackDisplay:
    """Per-track view settings (not part of the document)."""

    mode: str = "waveform"  # waveform | spectrogram | both
    db: bool = False
    spectro: SpectroSettings = SpectroSettings()
    height: int | None = None  # pixels; None: the view's default height


class Lanes(QWidget):
    """Paints and edits the stacked tracks of a project."""

    edit_requested = Signal(object, str)  # fn(Project) -> Project, undo label
    clip_menu = Signal(str, QPointF)  # clip id, global position
    context_menu = Signal(QPointF)
    preview_changed = Signal()  # the shown project changed during a drag (layout may differ)
    vertical_scroll = Signal(int)
    horizontal_scroll = Signal(float)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.base = Project()  # the document's project
        self.project = self.base  # what is shown: the base, or a drag's preview of its edit
        self.display: dict[str, TrackDisplay] = {}
        self.peaks = PeakCache()
        self.spectra = SpectroCache()
        self.spectra.updated.connect(self.update)
        self.y_offset = 0
        self.default_height = DEFAULT_TRACK_HEIGHT  # for tracks the user has not resized
        self.fitted: int | None = None  # Fit Tracks: the largest height, while the tracks follow the view
        self.snap_enabled = True
        self._drag: drags.Drag | None = None
        self._click_clip: str | None = None  # a plain click on a selected clip selects only it
        self._hover = Hit("none")
        self._mouse = QPointF()
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Tracks")
        self.setMinimumHeight(60)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        state.view_changed.connect(self.update)
        state.selection_changed.connect(self.update)
        state.cursor_changed.connect(self.update)
        state.playhead_changed.connect(self._playhead_moved)
        self._last_playhead_x: float | None = None

    # -- data ----------------------------------------------------------------------
    def set_project(self, project: Project) -> None:
        self.base = project
        for t in project.tracks:
            self.display.setdefault(t.id, TrackDisplay())
        if self._drag is not None:
            self._drag.base = project
            self._refresh_preview()
        else:
            self.project = project
        self.update()

    def display_for(self, track_id: str) -> TrackDisplay:
        return self.display.setdefault(track_id, TrackDisplay())

    def height_of(self, track_id: str) -> int:
        """A track's height on screen: view state, never part of the project or its history."""
        h = self.display_for(track_id).height
        return self.default_height if h is None else h

    def set_height(self, track_id: str, height: int | None) -> None:
        """Resize one track (``None``: back to the default height); no undo step."""
        self.display_for(track_id).height = None if height is None else \
            max(MIN_TRACK_HEIGHT, min(MAX_TRACK_HEIGHT, int(height)))
        self.fitted = None
        self.preview_changed.emit()
        self.update()

    def fit_heights(self, available: int, largest: int = DEFAULT_TRACK_HEIGHT) -> None:
        """Give every track the same height so they all fit in ``available`` pixels."""
        n = max(1, len(self.project.tracks))
        self.default_height = max(MIN_TRACK_HEIGHT, min(largest, available // n))
        for t in self.project.tracks:
            self.display_for(t.id).height = None
        self.fitted = largest  # the tracks follow the view's height until one is resized
        self.preview_changed.emit()
        self.update()

    def resizeEvent(self, e) -> None:  # noqa: N802, ANN001 - Qt API
        super().resizeEvent(e)
        if self.fitted is not None and e.size().height() != e.oldSize().height():
            self.fit_heights(self.height(), self.fitted)

    def track_rows(self, project: Project | None = None) -> list[tuple[Track, int, int]]:
        """(track, top y, height) in widget coordinates, for the shown project or ``project``."""
        out = []
        y = -self.y_offset
        for t in (project or self.project).tracks:
            h = self.height_of(t.id)
            out.append((t, y, h))
            y += h
        return out

    def content_height(self) -> int:
        return sum(self.height_of(t.id) for t in self.project.tracks)

    def track_at(self, y: float, project: Project | None = None) -> int | None:
        for i, (_t, top, h) in enumerate(self.track_rows(project)):
            if top <= y < top + h:
                return i
        return None

    def clip_at(self, track: Track, frame: int) -> Clip | None:
        hit = None
        for c in track.clips:
            if c.position <= frame < c.end:
                hit = c
        return hit

    def hit(self, pos: QPointF) -> Hit:
        """The handle, clip or track under ``pos``."""
        return hit_test(self.track_rows(), self.state, pos, self.width())

    # -- drags -----------------------------------------------------------------------
    @property
    def dragging(self) -> drags.Drag | None:
        return self._drag

    def begin_drag(self, drag: drags.Drag) -> None:
        """Start a gesture (track headers start theirs here too)."""
        self._drag = drag

    def drag_to(self, pos: QPointF, mods: Qt.KeyboardModifier) -> None:
        """Follow the mouse (``pos`` in lanes coordinates)."""
        if self._drag is None:
            return
        self._mouse = QPointF(pos)
        self._drag.update(pos, mods)
        self._refresh_preview()

    def end_drag(self) -> None:
        """Finish the gesture: its edit goes to the document as one undo step."""
        d, self._drag = self._drag, None
        if d is None:
            return
        self.project = self.base
        edit = d.edit()
        if d.changes_layout:
            self.preview_changed.emit()
        if edit is not None:
            self.edit_requested.emit(*edit)
        self.update()

    def cancel_drag(self) -> None:
        d, self._drag = self._drag, None
        self.project = self.base
        if d is not None:
            d.cancel()
        if d is not None and d.changes_layout:
            self.preview_changed.emit()
        self.update()

    def _refresh_preview(self) -> None:
        d = self._drag
        edit = d.edit() if d is not None else None
        shown = self.base
        if edit is not None:
            try:
                shown = edit[0](self.base)
            except (SeedwaveError, KeyError, ValueError):
                shown = self.project  # keep the last valid preview
        changed = shown is not self.project
        self.project = shown
        if changed and d is not None and d.changes_layout:
            self.preview_changed.emit()
        self.update()

    # -- painting --------------------------------------------------------------------
    def _playhead_moved(self, frame: int) -> None:
        x = None if frame < 0 else self.state.x_of(frame)
        old = self._last_playhead_x
        self._last_playhead_x = x
        # Repaint only the strips the playhead left and entered.
        for v in (old, x):
            if v is not None:
                self.update(int(v) - 2, 0, 5, self.height())

    def paintEvent(self, e: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        pal = self.palette()
        base = pal.base().color()
        alt = pal.alternateBase().color()
        p.fillRect(e.rect(), pal.window().color().darker(110))
        st = self.state
        clip_rect = QRectF(e.rect())
        f0 = st.left + clip_rect.left() * st.fpp
        f1 = st.left + (clip_rect.right() + 1) * st.fpp
        sel = set(st.track_ids)
        wanted: set[tuple] = set()
        for i, (track, top, h) in enumerate(self.track_rows()):
            if top + h < clip_rect.top() or top > clip_rect.bottom():
                continue
            lane = QRectF(clip_rect.left(), top, clip_rect.width(), h)
            p.fillRect(lane, base if i % 2 == 0 else alt)
            if track.id in sel:
                p.fillRect(lane, QColor(80, 140, 255, 22))
            disp = self.display_for(track.id)
            for clip in track.clips:
                if clip.end < f0 or clip.position > f1:
                    continue
                self._paint_clip(p, clip, track, top, h, disp, clip_rect, wanted)
            p.setPen(QPen(pal.mid().color()))
            p.drawLine(QPointF(clip_rect.left(), top + h - 0.5), QPointF(clip_rect.right(), top + h - 0.5))
        if e.rect().contains(self.rect()):
            # Only a whole repaint knows what is on screen: a strip (the playhead moving)
            # must not drop the tiles the rest of the view still waits for.
            self.spectra.forget_unwanted(wanted)
        self._paint_drag_extras(p)
        # Selection
        if st.has_range and st.mask is None:  # a spectral selection draws itself (spectral_tool.py)
            x0, x1 = st.x_of(st.sel_start), st.x_of(st.sel_stop)
            for track, top, h in self.track_rows():
                if track.id in sel:
                    p.fillRect(QRectF(x0, top, max(1.0, x1 - x0), h), QColor(120, 170, 255, 70))
        # Markers
        for m in self.project.markers:
            x = st.x_of(m.position)
            if clip_rect.left() - 1 <= x <= clip_rect.right() + 1:
                pen = QPen(QColor("#ffb000"))
                pen.setStyle(Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        # Cursor and playhead
        x = st.x_of(st.cursor)
        p.setPen(QPen(pal.text().color()))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        if st.playhead is not None:
            x = st.x_of(st.playhead)
            pen = QPen(QColor("#40d070"))
            pen.setWidthF(1.5)
            p.setPen(pen)
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def _paint_clip(self, p: QPainter, clip: Clip, track: Track, top: float, h: float, disp: TrackDisplay,
                    visible: QRectF, wanted: set) -> None:
        st = self.state
        g = clip_geometry(clip, top, h, st, self.width())
        rect, body, head = g.rect, g.body, g.head
        x0 = rect.left()
        colour = QColor(track.colour)
        selected = clip.id in st.clip_ids
        bg = QColor(colour)
        bg.setAlpha(70)
        p.fillRect(rect, bg)
        hc = QColor(colour).darker(130 if not selected else 90)
        p.fillRect(head, hc)
        p.setPen(QPen(QColor(255, 255, 255) if selected else QColor(235, 235, 235)))
        label = clip.name or track.name
        if clip.gain_db:
            label += f"  {clip.gain_db:+.1f} dB"
        p.save()
        p.setClipRect(head.intersected(visible))
        # The name sits at the clip's left edge, or the view's when the clip starts off
        # screen: never at the repainted rectangle's (a strip repaint would paint pieces).
        p.drawText(QPointF(label_x(head), head.top() + 12), label)
        p.restore()
        vis = body.intersected(visible)
        if vis.width() > 0 and body.height() > 4:
            audio_x0 = x0 - clip.offset / st.fpp
            wave_rect, spec_rect = body, None
            if disp.mode == "spectrogram":
                wave_rect, spec_rect = None, body
            elif disp.mode == "both":
                half = body.height() / 2
                spec_rect = QRectF(body.left(), body.top(), body.width(), half)
                wave_rect = QRectF(body.left(), body.top() + half, body.width(), half)
            if spec_rect is not None:
                self._paint_spectrogram(p, clip, spec_rect.intersected(visible), audio_x0, disp, wanted)
            if wave_rect is not None:
                p.save()
                p.setClipRect(wave_rect.intersected(visible))
                wave_col = QColor(colour).lighter(150)
                draw_clip_waveform(p, wave_rect.intersected(visible), self.peaks, clip.audio, clip.offset,
                                   clip.offset + clip.length, audio_x0, st.fpp, wave_col,
                                   10 ** (clip.gain_db / 20), disp.db,
                                   envelope=clip if (clip.fade_in or clip.fade_out) else None)
                p.restore()
            p.save()
            p.setClipRect(body.intersected(visible))
            self._paint_fades(p, clip, body)
            self._paint_handles(p, clip, g)
            p.restore()
        pen = QPen(self.palette().highlight().color() if selected else colour.darker(150))
        pen.setWidthF(2.0 if selected else 1.0)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        hov = self._hover
        if self._drag is None and hov.clip is not None and hov.clip.id == clip.id and hov.kind.startswith("trim"):
            x = rect.left() if hov.kind == "trim_left" else rect.right()
            edge = QPen(EDGE_COLOUR)
            edge.setWidthF(3.0)
            p.setPen(edge)
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))

    def _paint_fades(self, p: QPainter, clip: Clip, body: QRectF) -> None:
        """Shade what a fade takes away and draw its curve."""
        st = self.state
        fo_start = clip.end + clip.fade_out_offset - clip.fade_out
        for fade_in, length, start, t0, t1 in (
            (True, clip.fade_in_visible, clip.position, clip.fade_in_offset / max(1, clip.fade_in),
             (clip.fade_in_offset + clip.fade_in_visible) / max(1, clip.fade_in)),
            (False, clip.fade_out_visible, clip.end - clip.fade_out_visible,
             (clip.end - clip.fade_out_visible - fo_start) / max(1, clip.fade_out),
             (clip.end - fo_start) / max(1, clip.fade_out)),
        ):
            if not length:
                continue
            xa, xb = st.x_of(start), st.x_of(start + length)
            n = int(min(256, max(2, xb - xa)))
            t = np.linspace(t0, t1, n)
            gains = fade_in_gain(clip.fade_in_shape, t) if fade_in else fade_out_gain(clip.fade_out_shape, t)
            xs = np.linspace(xa, xb, n)
            ys = body.bottom() - gains.astype(np.float64) * body.height()
            curve = arrayToQPath(xs, ys, connect="all")
            shade = QPainterPath(curve)
            shade.lineTo(QPointF(xs[-1], body.top()))
            shade.lineTo(QPointF(xs[0], body.top()))
            shade.closeSubpath()
            p.fillPath(shade, QColor(0, 0, 0, 90))
            pen = QPen(QColor(255, 255, 255, 200))
            pen.setWidthF(1.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(curve)

    def _paint_handles(self, p: QPainter, clip: Clip, g) -> None:  # noqa: ANN001 - ClipGeometry
        hov = self._hover if self._drag is None else Hit("none")
        mine = hov.clip is not None and hov.clip.id == clip.id
        dragging_gain = isinstance(self._drag, drags.ClipGain) and self._drag.clip_id == clip.id
        if g.body.height() >= 20:
            active = dragging_gain or (mine and hov.kind == "gain")
            faint = QColor(GAIN_COLOUR)
            faint.setAlpha(150)
            pen = QPen(GAIN_COLOUR if active else faint)
            pen.setWidthF(1.5 if active else 1.0)
            p.setPen(pen)
            p.drawLine(QPointF(g.rect.left(), g.gain_y), QPointF(g.rect.right(), g.gain_y))
            if g.rect.width() >= 3 * GAIN_KNOB:
                p.setPen(QPen(QColor(40, 30, 0)))
                p.setBrush(GAIN_COLOUR.lighter(130) if active else GAIN_COLOUR)
                p.drawEllipse(g.gain_knob, GAIN_KNOB / 2, GAIN_KNOB / 2 - 1)
        if g.rect.width() < 3 * 8 or g.body.height() < 10:
            return
        for kind, centre in (("fade_in", g.fade_in), ("fade_out", g.fade_out)):
            active = mine and hov.kind == kind
            p.setPen(QPen(QColor(20, 20, 20)))
            p.setBrush(QColor(255, 255, 255) if active else QColor(220, 220, 220, 200))
            p.drawRect(g.handle_rect(centre))
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_spectrogram(self, p: QPainter, clip: Clip, rect: QRectF, audio_x0: float, disp: TrackDisplay,
                           wanted: set) -> None:
        if rect.width() <= 0:
            return
        st = self.state
        fpp = st.fpp
        c0 = max(int(math.floor(rect.left() - audio_x0)), int(clip.offset / fpp))
        c1 = min(int(math.ceil(rect.right() - audio_x0)) + 1, int((clip.offset + clip.length) / fpp) + 1)
        p.save()
        p.setClipRect(rect)
        p.fillRect(rect, QColor(10, 10, 20))
        rate = self.project.sample_rate
        for t in range(max(0, c0 // SPEC_TILE), c1 // SPEC_TILE + 1):
            key = (id(clip.audio), fpp, t, disp.spectro)
            wanted.add(key)
            img = self.spectra.tile(clip.audio, rate, fpp, t, disp.spectro)
            if img is None:
                continue
            x = audio_x0 + t * SPEC_TILE
            p.drawImage(QRectF(x, rect.top(), SPEC_TILE, rect.height()), img)
        p.restore()

    def _paint_drag_extras(self, p: QPainter) -> None:
        """Where moved clips came from, the snap line, the rubber band, the readout."""
        d = self._drag
        if d is None or not d.moved:
            return
        st = self.state
        if isinstance(d, drags.MoveClips):
            where = QColor(self.palette().text().color())
            where.setAlpha(160)
            pen = QPen(where)
            pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            rows = {t.id: (top, h) for t, top, h in self.track_rows(self.base)}
            for cid in d.clip_ids:
                try:
                    track, clip = self.base.find_clip(cid)
                except KeyError:
                    continue
                top, h = rows[track.id]
                p.drawRect(clip_geometry(clip, top, h, st).rect)
        if isinstance(d, drags.RubberBand):
            p.setPen(QPen(QColor(120, 170, 255)))
            p.setBrush(QColor(120, 170, 255, 40))
            p.drawRect(d.rect)
            p.setBrush(Qt.BrushStyle.NoBrush)
        if d.snapped_to is not None:
            pen = QPen(SNAP_COLOUR)
            pen.setWidthF(1.5)
            p.setPen(pen)
            x = st.x_of(d.snapped_to)
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        text = d.readout()
        if text:
            fm = p.fontMetrics()
            w = fm.horizontalAdvance(text) + 10
            x = min(self._mouse.x() + 14, self.width() - w - 2)
            box = QRectF(x, max(2.0, self._mouse.y() - 24), w, fm.height() + 4)
            p.fillRect(box, QColor(20, 20, 20, 220))
            p.setPen(QPen(QColor(255, 255, 255)))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    # -- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        if e.button() != Qt.MouseButton.LeftButton or self._drag is not None:
            return
        pos = e.position()
        self._mouse = QPointF(pos)
        st = self.state
        frame = st.frame_at(pos.x())
        mods = e.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        hit = self.hit(pos)
        if hit.kind == "none":
            st.set_selection(frame, frame, ())
            st.set_clips(())
            return
        track = hit.track
        if hit.kind == "resize":
            self.begin_drag(drags.ResizeTrack(self, pos, track.id))
            return
        clip = hit.clip
        if clip is not None and hit.kind in ("fade_in", "fade_out", "trim_left", "trim_right", "gain"):
            self._select_clip(clip, track, toggle=False)
            if hit.kind in ("fade_in", "fade_out"):
                centre = hit.geometry.fade_in if hit.kind == "fade_in" else hit.geometry.fade_out
                self.begin_drag(drags.FadeHandle(self, pos, clip.id, hit.kind == "fade_in", centre.x()))
            elif hit.kind == "gain":
                self.begin_drag(drags.ClipGain(self, pos, clip.id, hit.geometry.body))
            else:
                self.begin_drag(drags.TrimClip(self, pos, clip.id, hit.kind == "trim_left"))
            return
        if hit.kind == "move":
            ids = self._select_clip(clip, track, toggle=ctrl or shift)
            ids = tuple(i for i in ids if any(c.id == i for t in self.base.tracks for c in t.clips))
            if ids:
                self.begin_drag(drags.MoveClips(self, pos, ids, hit.track_index))
                self._click_clip = None if (ctrl or shift) else clip.id
            return
        if ctrl:
            self.begin_drag(drags.RubberBand(self, pos))
            return
        if shift:
            anchor = st.sel_start if abs(frame - st.sel_start) > abs(frame - st.sel_stop) else st.sel_stop
            if not st.has_range:
                anchor = st.cursor
            a, b = sorted((anchor, frame))
            tids = st.track_ids or (track.id,)
            if track.id not in tids:
                tids = self._track_span(tids, track.id)
            st.set_selection(a, b, tids)
            return
        st.set_clips(())
        st.set_cursor(frame)
        st.set_selection(frame, frame, (track.id,))
        self.begin_drag(drags.SelectRange(self, pos, frame, hit.track_index))

    def _select_clip(self, clip: Clip, track: Track, toggle: bool) -> tuple[str, ...]:
        """Select ``clip`` (Ctrl/Shift: toggle it in the selection); the time range is
        cleared so Delete acts on clips. Returns the selected clip ids."""
        st = self.state
        ids = list(st.clip_ids)
        if toggle:
            if clip.id in ids:
                ids.remove(clip.id)
            else:
                ids.append(clip.id)
        elif clip.id not in ids:
            ids = [clip.id]
        st.set_clips(tuple(ids))
        tids = []
        for cid in ids:
            try:
                tid = self.base.find_clip(cid)[0].id
            except KeyError:
                continue
            if tid not in tids:
                tids.append(tid)
        st.set_selection(st.cursor, st.cursor, tuple(tids) or (track.id,))
        return tuple(ids)

    def _track_span(self, tids: tuple[str, ...], other: str) -> tuple[str, ...]:
        ids = [t.id for t in self.project.tracks]
        idx = [ids.index(t) for t in tids if t in ids] + [ids.index(other)]
        return tuple(ids[min(idx) : max(idx) + 1])

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        pos = e.position()
        if self._drag is None:
            self._mouse = QPointF(pos)
            self._update_hover(pos)
            return
        self.drag_to(pos, e.modifiers())

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        d = self._drag
        if d is None or e.button() != Qt.MouseButton.LeftButton:
            return
        st = self.state
        if isinstance(d, drags.SelectRange):
            self._drag = None
            if st.has_range and st.snap_zero_crossings:
                a = self.nearest_zero_crossing(st.sel_start)
                b = self.nearest_zero_crossing(st.sel_stop)
                st.set_selection(a, b)
            if not st.has_range:
                st.set_cursor(d.frame)
            else:
                st.set_cursor(st.sel_start)
            self.update()
            return
        if isinstance(d, drags.MoveClips) and not d.moved and self._click_clip:
            st.set_clips((self._click_clip,))  # a plain click on one of several selected clips
        self._click_clip = None
        self.end_drag()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        ti = self.track_at(e.position().y())
        if ti is None:
            return
        track = self.project.tracks[ti]
        clip = self.clip_at(track, self.state.frame_at(e.position().x()))
        if clip is not None:
            self.state.set_clips(())
            self.state.set_selection(clip.position, clip.end, (track.id,))

    def leaveEvent(self, _e) -> None:  # noqa: N802, ANN001
        if self._hover.kind != "none":
            self._hover = Hit("none")
            self.update()

    def _update_hover(self, pos: QPointF) -> None:
        hit = self.hit(pos)
        shape = CURSORS.get(hit.kind, Qt.CursorShape.IBeamCursor)
        mods = QGuiApplication.keyboardModifiers()
        if hit.kind == "move" and mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            shape = Qt.CursorShape.PointingHandCursor
        self.setCursor(shape)
        tips = {
            "fade_in": "Drag to set the fade-in; right-click for its shape",
            "fade_out": "Drag to set the fade-out; right-click for its shape",
            "gain": "Drag up or down to change the clip gain (Shift: fine)",
            "trim_left": "Drag to trim the start of the clip",
            "trim_right": "Drag to trim the end of the clip",
            "move": "Drag to move the clip (Alt: no snapping)",
            "resize": "Drag to resize the track",
        }
        self.setToolTip(tips.get(hit.kind, ""))
        old = self._hover
        self._hover = hit
        if (old.kind, old.clip and old.clip.id) != (hit.kind, hit.clip and hit.clip.id):
            self.update()

    def nearest_zero_crossing(self, frame: int) -> int:
        """The closest frame (within a few ms) where the selected tracks' audio
        crosses zero."""
        best, best_d = frame, None
        for tid in self.state.track_ids:
            try:
                track = self.project.track(tid)
            except KeyError:
                continue
            clip = self.clip_at(track, frame)
            if clip is None:
                continue
            a = max(clip.position, frame - ZERO_CROSS_SEARCH)
            b = min(clip.end, frame + ZERO_CROSS_SEARCH)
            x = clip.audio.read(clip.offset + a - clip.position, clip.offset + b - clip.position).mean(axis=0)
            s = np.signbit(x)
            idx = np.flatnonzero(s[1:] != s[:-1]) + 1
            if idx.size:
                k = idx[np.argmin(np.abs(idx + a - frame))]
                d = abs(k + a - frame)
                if best_d is None or d < best_d:
                    best, best_d = int(k + a), d
        return best

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        mods = e.modifiers()
        dy = e.angleDelta().y()
        dx = e.angleDelta().x()
        if mods & Qt.KeyboardModifier.ControlModifier:
            factor = 1.25 ** (dy / 120.0)
            self.state.zoom(factor, e.position().x())
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            self.vertical_scroll.emit(-int(dy / 2 or dx / 2))
        else:
            step = -(dy or dx) / 120.0 * 80 * self.state.fpp
            self.horizontal_scroll.emit(step)
        e.accept()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape and self._drag is not None:
            self.cancel_drag()
            e.accept()
            return
        e.ignore()  # shortcuts live on the main window's actions

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:  # noqa: N802
        hit = self.hit(QPointF(e.pos()))
        if hit.clip is not None:
            if hit.clip.id not in self.state.clip_ids:
                self._select_clip(hit.clip, hit.track, toggle=False)
            self.clip_menu.emit(hit.clip.id, QPointF(e.globalPos()))
            return
        self.context_menu.emit(QPointF(e.globalPos()))
