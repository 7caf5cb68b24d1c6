"""The timeline: ruler on top, a header per track on the left, lanes, scroll bars.

Tracks are stacked in one scrolling view; the headers scroll with the lanes.
The view reads the document's project and the shared :class:`ViewState`, and
turns gestures into edits on the document (moving, trimming and fading clips,
mute/solo, renaming, reordering and resizing tracks, markers).

Track headers: drag one up or down to reorder the tracks, drag its bottom edge
to resize the track, double-click the name to rename, right-click for the
track menu (rename, colour, height, move, add, remove).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import edits
from ...core.model import FadeShape, Project, Track
from ..document import Document
from . import drags
from .axes import AxisOverlay
from .clip_menu import build_clip_menu
from .handles import RESIZE_PX
from .lanes import Lanes
from .ruler import Ruler
from .state import ViewState
from .track_menu import build_track_menu

HEADER_WIDTH = 170
# Pressed mute and solo look the same as on the mixer strips (yellow M, green S).
BUTTON_STYLE = ("QToolButton#mute:checked { background: #d9a21b; color: black; }"
                "QToolButton#solo:checked { background: #4fbf5f; color: black; }"
                "QToolButton#arm:checked { background: #d32f2f; color: white; }")
MODES = (("Wave", "waveform"), ("Spectrum", "spectrogram"), ("Both", "both"))


class TrackHeader(QFrame):
    """Name, mute, solo and display mode of one track."""

    def __init__(self, view: TimelineView, track: Track) -> None:
        super().__init__(view.header_area)
        self.view = view
        self.track_id = track.id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"Track {track.name}")
        self.setMouseTracking(True)
        self.setToolTip("Drag to reorder, drag the bottom edge to resize, right-click for more")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(3, 2, 3, int(RESIZE_PX) + 1)
        lay.setSpacing(2)
        top = QHBoxLayout()
        self.colour = QLabel()
        self.colour.setFixedSize(6, 16)
        top.addWidget(self.colour)
        self.name = QLabel(track.name)
        self.name.setAccessibleName("Track name")
        self.name.setToolTip("Double-click to rename")
        top.addWidget(self.name, 1)
        # Armed for recording (beside the name: the button row needs its room for the view mode).
        self.arm = QToolButton(text="●", checkable=True)
        self.arm.setObjectName("arm")
        self.arm.setStyleSheet(BUTTON_STYLE)
        self.arm.setToolTip("Arm for recording: Record (R) records onto this track")
        self.arm.setAccessibleName(f"Arm {track.name} for recording")
        self.arm.setFixedSize(20, 18)
        top.addWidget(self.arm)
        lay.addLayout(top)
        row = QHBoxLayout()
        self.mute = QToolButton(text="M", checkable=True)
        self.mute.setObjectName("mute")
        self.mute.setStyleSheet(BUTTON_STYLE)
        self.mute.setToolTip("Mute")
        self.mute.setAccessibleName(f"Mute {track.name}")
        self.solo = QToolButton(text="S", checkable=True)
        self.solo.setObjectName("solo")
        self.solo.setStyleSheet(BUTTON_STYLE)
        self.solo.setToolTip("Solo")
        self.solo.setAccessibleName(f"Solo {track.name}")
        self.db = QToolButton(text="dB", checkable=True)
        self.db.setToolTip("Waveform scale: dB instead of linear")
        self.db.setAccessibleName(f"dB scale {track.name}")
        self.mode = QComboBox()
        for label, value in MODES:
            self.mode.addItem(label, value)
        self.mode.setAccessibleName(f"View mode {track.name}")
        self.mode.setToolTip("Show this track as waveform, spectrogram or both")
        for w in (self.mute, self.solo, self.db):
            # Only as wide as their text: the view-mode box needs the room to show "Spectrum" whole.
            w.setFixedWidth(max(20, w.fontMetrics().horizontalAdvance(w.text()) + 10))
            row.addWidget(w)
        row.addWidget(self.mode, 1)
        lay.addLayout(row)
        lay.addStretch(1)
        self.mute.toggled.connect(self._mute)
        self.solo.toggled.connect(self._solo)
        self.db.toggled.connect(self._db)
        self.arm.toggled.connect(lambda on: self.view.set_armed(self.track_id, on))
        self.mode.currentIndexChanged.connect(self._mode)
        self._editor: QLineEdit | None = None
        self.refresh(track)

    def refresh(self, track: Track) -> None:
        self.name.setText(track.name)
        self.setAccessibleName(f"Track {track.name}")
        self.colour.setStyleSheet(f"background: {track.colour}; border-radius: 2px;")
        self.arm.setAccessibleName(f"Arm {track.name} for recording")
        for w, v in ((self.mute, track.mute), (self.solo, track.solo),
                     (self.arm, track.id in self.view.armed_tracks)):
            w.blockSignals(True)
            w.setChecked(v)
            w.blockSignals(False)
        selected = track.id in self.view.state.track_ids
        self.setProperty("selected", selected)
        self.setStyleSheet("TrackHeader { background: palette(highlight); }" if selected else "")
        disp = self.view.lanes.display_for(track.id)
        self.db.blockSignals(True)
        self.db.setChecked(disp.db)
        self.db.blockSignals(False)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex([m for _l, m in MODES].index(disp.mode))
        self.mode.blockSignals(False)

    def _mute(self, on: bool) -> None:
        self.view.document.apply(lambda p: edits.set_track(p, self.track_id, mute=on),
                                 f"{'Mute' if on else 'Unmute'} {self.name.text()}")

    def _solo(self, on: bool) -> None:
        self.view.document.apply(lambda p: edits.set_track(p, self.track_id, solo=on),
                                 f"{'Solo' if on else 'Unsolo'} {self.name.text()}")

    def _db(self, on: bool) -> None:
        self.view.lanes.display_for(self.track_id).db = on
        self.view.lanes.update()

    def _mode(self, _i: int) -> None:
        self.view.set_track_mode(self.track_id, self.mode.currentData())

    def _lanes_pos(self, e) -> QPointF:  # noqa: ANN001
        return QPointF(self.view.lanes.mapFromGlobal(e.globalPosition()))

    def mousePressEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(e)
            return
        lanes = self.view.lanes
        if e.position().y() >= self.height() - RESIZE_PX:
            lanes.begin_drag(drags.ResizeTrack(lanes, self._lanes_pos(e), self.track_id))
            return
        st = self.view.state
        if e.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            ids = list(st.track_ids)
            if self.track_id in ids:
                ids.remove(self.track_id)
            else:
                ids.append(self.track_id)
            st.set_selection(st.sel_start, st.sel_stop, tuple(ids))
        else:
            st.set_selection(st.sel_start, st.sel_stop, (self.track_id,))
        lanes.begin_drag(drags.ReorderTrack(lanes, self._lanes_pos(e), self.track_id))
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, e) -> None:  # noqa: N802, ANN001
        lanes = self.view.lanes
        if lanes.dragging is not None:
            lanes.drag_to(self._lanes_pos(e), e.modifiers())
            return
        edge = e.position().y() >= self.height() - RESIZE_PX
        self.setCursor(Qt.CursorShape.SizeVerCursor if edge else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.button() == Qt.MouseButton.LeftButton:
            self.view.lanes.end_drag()
            self.setCursor(Qt.CursorShape.ArrowCursor)

    def contextMenuEvent(self, e) -> None:  # noqa: N802, ANN001
        menu = self.view.extend_menu(build_track_menu(self.view, self.track_id), "track", track_id=self.track_id)
        self.view.show_menu(menu, e.globalPos())

    def mouseDoubleClickEvent(self, _e) -> None:  # noqa: N802, ANN001
        self.start_rename()

    def start_rename(self) -> None:
        """Rename in place (Enter confirms)."""
        ed = QLineEdit(self.name.text(), self)
        ed.setAccessibleName("Rename track")
        ed.setGeometry(self.name.geometry())
        ed.selectAll()
        ed.show()
        ed.setFocus()
        self._editor = ed

        def done() -> None:
            text = ed.text().strip()
            ed.deleteLater()
            self._editor = None
            if text and text != self.name.text():
                self.view.document.apply(lambda p: edits.rename_track(p, self.track_id, text),
                                         f"Rename track to {text}")

        ed.editingFinished.connect(done)


class TimelineView(QWidget):
    """Ruler, track headers and lanes with shared scrolling."""

    context_menu = Signal(QPointF)
    armed_changed = Signal()

    def __init__(self, document: Document, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = state
        self.setAccessibleName("Timeline")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        corner = QWidget()
        corner.setFixedWidth(HEADER_WIDTH)
        self.ruler = Ruler(state)
        self.header_area = QWidget()
        self.header_area.setFixedWidth(HEADER_WIDTH)
        self.lanes = Lanes(state)
        self.axes = AxisOverlay(self.lanes)  # amplitude and Hz scales at the lanes' left edge
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.hbar.setAccessibleName("Scroll time")
        self.vbar = QScrollBar(Qt.Orientation.Vertical)
        self.vbar.setAccessibleName("Scroll tracks")
        grid.addWidget(corner, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.header_area, 1, 0)
        grid.addWidget(self.lanes, 1, 1)
        grid.addWidget(self.vbar, 1, 2)
        grid.addWidget(self.hbar, 2, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(1, 1)
        self.headers: dict[str, TrackHeader] = {}
        self.armed_tracks: set[str] = set()  # tracks Record records onto (view state, not in the model)
        self.ripple_clips = False  # Delete on selected clips closes the gaps
        self.last_menu: QMenu | None = None  # the context menu shown last (tests use it)
        # Adds the host's and plugins' entries: (menu, target, clip_id, track_id).
        self.menu_extender: Callable[[QMenu, str, str, str], None] | None = None
        self.hbar.valueChanged.connect(self._hbar_moved)
        self.vbar.valueChanged.connect(self._vbar_moved)
        self.lanes.vertical_scroll.connect(lambda d: self.vbar.setValue(self.vbar.value() + d))
        self.lanes.horizontal_scroll.connect(self.scroll_frames)
        self.lanes.edit_requested.connect(self.apply_edit)
        self.lanes.clip_menu.connect(self._clip_menu)
        self.lanes.preview_changed.connect(self._preview_layout)
        self.lanes.context_menu.connect(self.context_menu)
        self.ruler.edit_requested.connect(self.apply_edit)
        state.view_changed.connect(self._sync_hbar)
        state.selection_changed.connect(self._refresh_headers)
        document.changed.connect(self.set_project)
        self.set_project(document.project)

    # -- project ---------------------------------------------------------------------
    def set_project(self, project: Project) -> None:
        self.state.rate = project.sample_rate
        self.state.prune(project)
        self.lanes.set_project(project)
        self.ruler.set_project(project)
        ids = {t.id for t in project.tracks}
        for tid in list(self.headers):
            if tid not in ids:
                self.headers.pop(tid).deleteLater()
        self.armed_tracks &= ids
        for t in project.tracks:
            if t.id not in self.headers:
                h = TrackHeader(self, t)
                h.show()
                self.headers[t.id] = h
        self._layout_headers()
        self._refresh_headers()
        self._sync_hbar()
        self._sync_vbar()

    def _refresh_headers(self) -> None:
        for t in self.lanes.project.tracks:
            h = self.headers.get(t.id)
            if h is not None:
                h.refresh(t)

    def _layout_headers(self) -> None:
        for track, top, height in self.lanes.track_rows():
            h = self.headers.get(track.id)
            if h is not None:
                h.setGeometry(0, top, HEADER_WIDTH, height)

    def set_armed(self, track_id: str, on: bool) -> None:
        """Arm (or disarm) a track for recording; its header's ● button shows it."""
        if on:
            self.armed_tracks.add(track_id)
        else:
            self.armed_tracks.discard(track_id)
        self._refresh_headers()
        self.armed_changed.emit()

    def set_track_mode(self, track_id: str, mode: str) -> None:
        self.lanes.display_for(track_id).mode = mode
        self._refresh_headers()  # the header's view-mode box says what the lane shows
        self.lanes.update()

    # -- scrolling ---------------------------------------------------------------------
    def total_frames(self) -> int:
        return max(self.lanes.project.end, self.state.rate * 10)

    def _sync_hbar(self) -> None:
        st = self.state
        page = max(1, int(self.lanes.width() * st.fpp))
        total = self.total_frames() + page // 2
        scale = max(1, total // 1_000_000_000 + 1)  # keep within int range
        self.hbar.blockSignals(True)
        self.hbar.setRange(0, max(0, (total - page) // scale))
        self.hbar.setPageStep(max(1, page // scale))
        self.hbar.setSingleStep(max(1, page // scale // 20))
        self.hbar.setValue(int(st.left) // scale)
        self.hbar.blockSignals(False)
        self._hscale = scale

    def _hbar_moved(self, v: int) -> None:
        self.state.set_view(float(v * getattr(self, "_hscale", 1)), self.state.fpp)

    def _sync_vbar(self) -> None:
        total = self.lanes.content_height()
        page = self.lanes.height()
        self.vbar.setRange(0, max(0, total - page))
        self.vbar.setPageStep(max(1, page))
        self.vbar.setSingleStep(20)

    def _vbar_moved(self, v: int) -> None:
        self.lanes.y_offset = v
        self._layout_headers()
        self.lanes.update()

    def scroll_frames(self, frames: float) -> None:
        self.state.set_view(self.state.left + frames, self.state.fpp)

    def ensure_visible(self, frame: int, page: bool = True) -> None:
        """Scroll so ``frame`` is on screen (by pages, as when following the playhead)."""
        st = self.state
        width = self.lanes.width()
        x = st.x_of(frame)
        if x < 0 or x > width - 10:
            st.set_view(frame - (width * 0.05 if page else width / 2) * st.fpp, st.fpp)

    def resizeEvent(self, e) -> None:  # noqa: N802, ANN001
        super().resizeEvent(e)
        if self.state.fit_frames is not None:
            self.state.fit(self.state.fit_frames, max(100, self.lanes.width()))
        self._sync_hbar()
        self._sync_vbar()

    # -- edits -----------------------------------------------------------------------------
    @property
    def snap_enabled(self) -> bool:
        return self.lanes.snap_enabled

    @snap_enabled.setter
    def snap_enabled(self, on: bool) -> None:
        self.lanes.snap_enabled = bool(on)

    def apply_edit(self, fn: Callable[[Project], Project], label: str) -> bool:
        """Apply a gesture's edit to the document as one undo step."""
        return self.document.apply(fn, label)

    def _preview_layout(self) -> None:
        """A drag reorders or resizes tracks: headers follow the preview."""
        self._layout_headers()
        self._sync_vbar()

    def _clip_menu(self, clip_id: str, global_pos: QPointF) -> None:
        self.show_menu(self.extend_menu(build_clip_menu(self, clip_id), "clip", clip_id=clip_id), global_pos)

    def extend_menu(self, menu: QMenu, target: str, clip_id: str = "", track_id: str = "") -> QMenu:
        if self.menu_extender is not None:
            self.menu_extender(menu, target, clip_id, track_id)
        return menu

    def show_menu(self, menu: QMenu, global_pos) -> None:  # noqa: ANN001 - QPoint or QPointF
        if self.last_menu is not None and self.last_menu is not menu:
            self.last_menu.close()
            self.last_menu.deleteLater()
        self.last_menu = menu
        menu.popup(global_pos.toPoint() if isinstance(global_pos, QPointF) else global_pos)

    def set_fade_shape(self, clip_ids: tuple[str, ...], fade_in: bool, shape: FadeShape) -> None:
        key = "fade_in_shape" if fade_in else "fade_out_shape"

        def do(p: Project) -> Project:
            for cid in clip_ids:
                p = edits.set_clip(p, cid, **{key: shape})
            return p

        self.apply_edit(do, f"Fade {'in' if fade_in else 'out'} shape: {shape.value.replace('_', ' ')}")

    def clip_gain_dialog(self, clip_ids: tuple[str, ...]) -> None:
        """Clip Gain…: one value for all the given clips."""
        from ..dialogs.clip_gain import ClipGainDialog

        clips = [self.document.project.find_clip(c)[1] for c in clip_ids]
        if not clips:
            return
        dlg = ClipGainDialog(clips[0].gain_db, len(clips), self)
        accepted = dlg.exec()
        db = dlg.gain_db()
        dlg.deleteLater()
        if not accepted:
            return

        def do(p: Project) -> Project:
            for cid in clip_ids:
                p = edits.set_clip(p, cid, gain_db=db)
            return p

        self.apply_edit(do, f"Clip gain {db:+.1f} dB")

    def rename_clip(self, clip_id: str) -> None:
        clip = self.document.project.find_clip(clip_id)[1]
        name, ok = QInputDialog.getText(self, "Rename clip", "Name:", text=clip.name)
        if ok and name.strip() and name.strip() != clip.name:
            self.apply_edit(lambda p: edits.set_clip(p, clip_id, name=name.strip()), f"Rename clip to {name.strip()}")

    def delete_clips(self, clip_ids: tuple[str, ...], ripple: bool | None = None) -> None:
        """Delete clips; ``ripple`` (default: the Ripple Delete Clips option) closes the gaps."""
        ripple = self.ripple_clips if ripple is None else ripple
        ids = list(clip_ids)
        n = len(ids)
        label = f"{'Ripple delete' if ripple else 'Delete'} {n} clip{'s' if n != 1 else ''}"
        if self.apply_edit(lambda p: edits.delete_clips(p, ids, ripple=ripple), label):
            self.state.set_clips(())

    def recolour_track(self, track_id: str) -> None:
        track = self.document.project.track(track_id)
        colour = QColorDialog.getColor(QColor(track.colour), self, f"Colour of {track.name}")
        if colour.isValid() and colour.name() != track.colour:
            self.apply_edit(lambda p: edits.set_track(p, track_id, colour=colour.name()), f"Colour {track.name}")

    def move_track_by(self, track_id: str, step: int) -> None:
        index = self.document.project.track_index(track_id) + step
        if 0 <= index < len(self.document.project.tracks):
            self.apply_edit(lambda p: edits.move_track(p, track_id, index), "Move track")
