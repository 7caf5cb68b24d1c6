"""What the timeline shows and what the user has selected: zoom, scroll, cursor,
time selection, selected tracks and clips, playhead. Shared by every view and
panel that needs it (ruler, lanes, selection bar, status bar, transport)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ...core.model import Project, Selection

MIN_FPP = 1.0 / 64.0  # 64 pixels per sample at the deepest zoom
MAX_FPP = 1 << 20


class ViewState(QObject):
    view_changed = Signal()  # zoom or scroll
    cursor_changed = Signal(int)
    selection_changed = Signal()
    playhead_changed = Signal(int)

    def __init__(self, rate: int = 48000) -> None:
        super().__init__()
        self.rate = rate
        self.fpp = 1024.0  # frames per pixel
        self.left = 0.0  # timeline frame at the left edge of the lanes
        self.cursor = 0
        self.sel_start = 0
        self.sel_stop = 0
        self.track_ids: tuple[str, ...] = ()
        self.clip_ids: tuple[str, ...] = ()
        self.playhead: int | None = None
        self.follow = True
        self.snap_zero_crossings = False
        self.loop: tuple[int, int] | None = None
        self.fit_frames: int | None = None
        # An optional frequency band / painted mask narrowing the time selection (spectral editing).
        self.low_hz: float | None = None
        self.high_hz: float | None = None
        self.mask: object = None

    # -- zoom / scroll ---------------------------------------------------------------
    def set_view(self, left: float, fpp: float, _keep_fit: bool = False) -> None:
        if not _keep_fit:
            self.fit_frames = None  # the user zoomed or scrolled: stop re-fitting on resize
        fpp = min(MAX_FPP, max(MIN_FPP, fpp))
        left = max(0.0, left)
        if fpp != self.fpp or left != self.left:
            self.fpp, self.left = fpp, left
            self.view_changed.emit()

    def zoom(self, factor: float, anchor_x: float) -> None:
        """Zoom by ``factor`` (>1 zooms in) keeping the frame under ``anchor_x`` still."""
        frame = self.left + anchor_x * self.fpp
        fpp = min(MAX_FPP, max(MIN_FPP, self.fpp / factor))
        self.set_view(frame - anchor_x * fpp, fpp)

    def fit(self, frames: int, width: int) -> None:
        """Show ``frames`` in ``width`` pixels; kept fitted when the view is resized."""
        self.set_view(0.0, max(frames, 1) / max(1, width - 4), _keep_fit=True)
        self.fit_frames = frames

    def zoom_to(self, start: int, stop: int, width: int) -> None:
        if stop > start:
            self.set_view(float(start), (stop - start) / max(1, width))

    def x_of(self, frame: float) -> float:
        return (frame - self.left) / self.fpp

    def frame_at(self, x: float) -> int:
        return max(0, int(round(self.left + x * self.fpp)))

    # -- selection -------------------------------------------------------------------
    @property
    def selection(self) -> Selection:
        return Selection(self.sel_start, self.sel_stop, self.track_ids)

    @property
    def has_range(self) -> bool:
        return self.sel_stop > self.sel_start

    def set_selection(self, start: int, stop: int, track_ids: tuple[str, ...] | None = None) -> None:
        start, stop = max(0, min(start, stop)), max(0, max(start, stop))
        tids = self.track_ids if track_ids is None else tuple(track_ids)
        if (start, stop, tids) != (self.sel_start, self.sel_stop, self.track_ids):
            self.sel_start, self.sel_stop, self.track_ids = start, stop, tids
            self.selection_changed.emit()

    def set_clips(self, clip_ids: tuple[str, ...]) -> None:
        if tuple(clip_ids) != self.clip_ids:
            self.clip_ids = tuple(clip_ids)
            self.selection_changed.emit()

    def set_cursor(self, frame: int) -> None:
        frame = max(0, int(frame))
        if frame != self.cursor:
            self.cursor = frame
            self.cursor_changed.emit(frame)

    def set_band(self, low_hz: float | None, high_hz: float | None, mask: object = None) -> None:
        if (low_hz, high_hz) != (self.low_hz, self.high_hz) or mask is not self.mask:
            self.low_hz, self.high_hz, self.mask = low_hz, high_hz, mask
            self.selection_changed.emit()

    def set_playhead(self, frame: int | None) -> None:
        if frame != self.playhead:
            self.playhead = frame
            self.playhead_changed.emit(-1 if frame is None else frame)

    def prune(self, project: Project) -> None:
        """Forget selected tracks and clips that no longer exist."""
        tids = {t.id for t in project.tracks}
        cids = {c.id for t in project.tracks for c in t.clips}
        keep_t = tuple(t for t in self.track_ids if t in tids)
        keep_c = tuple(c for c in self.clip_ids if c in cids)
        if keep_t != self.track_ids or keep_c != self.clip_ids:
            self.track_ids, self.clip_ids = keep_t, keep_c
            self.selection_changed.emit()

    def snapshot(self) -> tuple:
        """The selection and cursor, kept with each undo step (the view, not the project)."""
        return (self.sel_start, self.sel_stop, self.track_ids, self.clip_ids, self.cursor)

    def restore(self, snap: tuple, project: Project) -> None:
        """Give back a :meth:`snapshot` (after an undo or redo), less what no longer exists."""
        start, stop, tids, cids, cursor = snap
        self.set_cursor(cursor)
        self.set_selection(start, stop, tids)
        self.set_clips(cids)
        self.prune(project)
