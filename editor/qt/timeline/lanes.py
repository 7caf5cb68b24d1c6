"""The track lanes: clips with waveforms or spectrograms, selection, cursor, playhead.

Mouse, as in Audacity 3: drag a clip by its name strip to move it (to another
track too); drag on the audio to select a time range (across tracks by moving
up or down); Shift-click extends the range; a click sets the cursor. Ctrl+wheel
zooms around the mouse, the wheel scrolls time, Shift+wheel scrolls tracks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from ...core.model import Clip, Project, Track
from ...engine.renderer import clip_envelope
from .spectrogram import TILE as SPEC_TILE
from .spectrogram import SpectroCache, SpectroSettings
from .state import ViewState
from .waveform import PeakCache, draw_clip_waveform

CLIP_HEADER = 16
ZERO_CROSS_SEARCH = 2000


@dataclass
class TrackDisplay:
    """Per-track view settings (not part of the document)."""

    mode: str = "waveform"  # waveform | spectrogram | both
    db: bool = False
    spectro: SpectroSettings = SpectroSettings()


@dataclass
class _Drag:
    kind: str  # "select" | "move"
    press_x: float
    press_frame: int
    press_track: int
    clip_ids: tuple[str, ...] = ()
    delta: int = 0
    track_delta: int = 0
    moved: bool = False


class Lanes(QWidget):
    """Paints and edits the stacked tracks of a project."""

    clips_moved = Signal(tuple, int, int)  # clip ids, frame delta, track delta
    context_menu = Signal(QPointF)
    vertical_scroll = Signal(int)
    horizontal_scroll = Signal(float)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.project = Project()
        self.display: dict[str, TrackDisplay] = {}
        self.peaks = PeakCache()
        self.spectra = SpectroCache()
        self.spectra.updated.connect(self.update)
        self.y_offset = 0
        self._drag: _Drag | None = None
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
        self.project = project
        for t in project.tracks:
            self.display.setdefault(t.id, TrackDisplay())
        self.update()

    def display_for(self, track_id: str) -> TrackDisplay:
        return self.display.setdefault(track_id, TrackDisplay())

    def track_rows(self) -> list[tuple[Track, int, int]]:
        """(track, top y, height) in widget coordinates."""
        out = []
        y = -self.y_offset
        for t in self.project.tracks:
            out.append((t, y, t.height))
            y += t.height
        return out

    def content_height(self) -> int:
        return sum(t.height for t in self.project.tracks)

    def track_at(self, y: float) -> int | None:
        for i, (_t, top, h) in enumerate(self.track_rows()):
            if top <= y < top + h:
                return i
        return None

    def clip_at(self, track: Track, frame: int) -> Clip | None:
        hit = None
        for c in track.clips:
            if c.position <= frame < c.end:
                hit = c
        return hit

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
            dragging = self._drag is not None and self._drag.kind == "move" and self._drag.moved
            for clip in track.clips:
                if clip.end < f0 or clip.position > f1:
                    continue
                if dragging and clip.id in self._drag.clip_ids:
                    continue
                self._paint_clip(p, clip, track, top, h, disp, clip_rect, wanted)
            p.setPen(QPen(pal.mid().color()))
            p.drawLine(QPointF(clip_rect.left(), top + h - 0.5), QPointF(clip_rect.right(), top + h - 0.5))
        if self._drag is not None and self._drag.kind == "move" and self._drag.moved:
            self._paint_drag_ghosts(p, clip_rect, wanted)
        self.spectra.forget_unwanted(wanted)
        # Selection
        if st.has_range:
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
                    visible: QRectF, wanted: set, dx: float = 0.0, ghost: bool = False) -> None:
        st = self.state
        x0 = st.x_of(clip.position) + dx
        x1 = st.x_of(clip.end) + dx
        rect = QRectF(x0, top + 2, max(1.0, x1 - x0), h - 4)
        colour = QColor(track.colour)
        selected = clip.id in st.clip_ids
        body = QRectF(rect.left(), rect.top() + CLIP_HEADER, rect.width(), rect.height() - CLIP_HEADER)
        bg = QColor(colour)
        bg.setAlpha(70 if not ghost else 40)
        p.fillRect(rect, bg)
        head = QRectF(rect.left(), rect.top(), rect.width(), CLIP_HEADER)
        hc = QColor(colour).darker(130 if not selected else 90)
        p.fillRect(head, hc)
        p.setPen(QPen(QColor(255, 255, 255) if selected else QColor(235, 235, 235)))
        label = clip.name or track.name
        if clip.gain_db:
            label += f"  {clip.gain_db:+.1f} dB"
        p.save()
        p.setClipRect(head.intersected(visible))
        p.drawText(QPointF(max(head.left(), visible.left()) + 4, head.top() + 12), label)
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
                                   10 ** (clip.gain_db / 20), disp.db)
                p.restore()
            self._paint_fades(p, clip, body, x0, visible)
        pen = QPen(QColor(255, 255, 255) if selected else colour.darker(150))
        pen.setWidthF(2.0 if selected else 1.0)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)

    def _paint_fades(self, p: QPainter, clip: Clip, body: QRectF, x0: float, visible: QRectF) -> None:
        st = self.state
        for length, start in ((clip.fade_in, clip.position), (clip.fade_out, clip.end - clip.fade_out)):
            if not length:
                continue
            xa, xb = st.x_of(start), st.x_of(start + length)
            n = int(min(64, max(2, xb - xa)))
            frames = [int(start + (length - 1) * k / (n - 1)) for k in range(n)]
            pts = []
            for f in frames:
                env = clip_envelope(clip, f, f + 1)
                g = 1.0 if env is None else float(env[0])
                pts.append(QPointF(st.x_of(f), body.bottom() - g * body.height()))
            p.setPen(QPen(QColor(255, 255, 255, 180)))
            for a, b in zip(pts, pts[1:], strict=False):
                p.drawLine(a, b)

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

    def _paint_drag_ghosts(self, p: QPainter, visible: QRectF, wanted: set) -> None:
        d = self._drag
        rows = self.track_rows()
        for cid in d.clip_ids:
            try:
                track, clip = self.project.find_clip(cid)
            except KeyError:
                continue
            idx = self.project.track_index(track.id)
            j = min(len(rows) - 1, max(0, idx + d.track_delta))
            dest, top, h = rows[j]
            dx = d.delta / self.state.fpp
            self._paint_clip(p, clip, dest, top, h, self.display_for(dest.id), visible, wanted, dx, ghost=False)

    # -- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        if e.button() != Qt.MouseButton.LeftButton:
            return
        pos = e.position()
        st = self.state
        frame = st.frame_at(pos.x())
        ti = self.track_at(pos.y())
        if ti is None:
            st.set_selection(frame, frame, ())
            st.set_clips(())
            return
        track, top, _h = self.track_rows()[ti]
        clip = self.clip_at(track, frame)
        mods = e.modifiers()
        if clip is not None and pos.y() < top + 2 + CLIP_HEADER:
            ids = set(st.clip_ids)
            if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
                ids ^= {clip.id}
            elif clip.id not in ids:
                ids = {clip.id}
            st.set_clips(tuple(sorted(ids)))
            self._drag = _Drag("move", pos.x(), frame, ti, tuple(sorted(ids)))
            return
        if mods & Qt.KeyboardModifier.ShiftModifier:
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
        self._drag = _Drag("select", pos.x(), frame, ti)

    def _track_span(self, tids: tuple[str, ...], other: str) -> tuple[str, ...]:
        ids = [t.id for t in self.project.tracks]
        idx = [ids.index(t) for t in tids if t in ids] + [ids.index(other)]
        return tuple(ids[min(idx) : max(idx) + 1])

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        d = self._drag
        pos = e.position()
        if d is None:
            self._update_cursor_shape(pos)
            return
        st = self.state
        frame = st.frame_at(pos.x())
        if d.kind == "select":
            if abs(pos.x() - d.press_x) < 2 and not d.moved:
                return
            d.moved = True
            ti = self.track_at(pos.y())
            ti = d.press_track if ti is None else ti
            lo, hi = sorted((d.press_track, ti))
            tids = tuple(t.id for t in self.project.tracks[lo : hi + 1])
            a, b = sorted((d.press_frame, frame))
            st.set_selection(a, b, tids)
        else:
            if abs(pos.x() - d.press_x) < 3 and not d.moved:
                return
            d.moved = True
            d.delta = int(round((pos.x() - d.press_x) * st.fpp))
            ti = self.track_at(pos.y())
            if ti is not None:
                d.track_delta = ti - d.press_track
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        d, self._drag = self._drag, None
        if d is None:
            return
        st = self.state
        if d.kind == "select":
            if st.has_range and st.snap_zero_crossings:
                a = self.nearest_zero_crossing(st.sel_start)
                b = self.nearest_zero_crossing(st.sel_stop)
                st.set_selection(a, b)
            if not st.has_range:
                st.set_cursor(d.press_frame)
            else:
                st.set_cursor(st.sel_start)
        elif d.moved and (d.delta or d.track_delta):
            self.clips_moved.emit(d.clip_ids, d.delta, d.track_delta)
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        ti = self.track_at(e.position().y())
        if ti is None:
            return
        track = self.project.tracks[ti]
        clip = self.clip_at(track, self.state.frame_at(e.position().x()))
        if clip is not None:
            self.state.set_selection(clip.position, clip.end, (track.id,))

    def _update_cursor_shape(self, pos: QPointF) -> None:
        ti = self.track_at(pos.y())
        shape = Qt.CursorShape.IBeamCursor
        if ti is not None:
            track, top, _h = self.track_rows()[ti]
            clip = self.clip_at(track, self.state.frame_at(pos.x()))
            if clip is not None and pos.y() < top + 2 + CLIP_HEADER:
                shape = Qt.CursorShape.OpenHandCursor
        self.setCursor(shape)

    def nearest_zero_crossing(self, frame: int) -> int:
        """The closest frame (within a few ms) where the selected tracks' audio
        crosses zero."""
        import numpy as np

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
        e.ignore()  # shortcuts live on the main window's actions

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:  # noqa: N802
        self.context_menu.emit(QPointF(e.globalPos()))
