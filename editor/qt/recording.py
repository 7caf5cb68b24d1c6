"""Recording in the window: Transport > Record (R) and Record New Track (Shift+R).

Record takes the input chosen in Settings (device, channels) into a new track at
the playhead, or onto the armed track (the red ● in a track header, or Tracks >
Arm Track for Recording). The other tracks play while recording (overdub) and
the playhead moves; Stop (or Record again, or Space) ends both. The take grows on
the timeline as it is recorded (:class:`TakeOverlay` draws its extent and input
level, never its samples); when it ends, the take file becomes blocks in a
background job and then a clip, as one undo step "Record".

Alignment: :attr:`Player.position` is the frame being *heard*, so a sample that
reaches the input now was played at ``position - input latency``; the take is
placed ``compensation_frames(rate, input latency, 0, manual offset)`` earlier.
Recording starts once playback has begun to sound (a device that stalls at
start-up would otherwise shift the take by the stall).

A crash mid-recording leaves the take file (flushed every second);
:func:`offer_take_recovery` offers it at the next start.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from ..core.model import Clip
from ..core.store import default_store
from ..core.take_edits import place_take, restore_takes
from ..core.takefile import TakeInfo, discard_take, orphaned_takes, recordings_root, take_frames, take_to_seq
from ..core.task import TaskContext
from ..core.timefmt import format_hms
from ..engine.recorder import Recorder, RecordingError, compensation_frames
from ..host.widgets.meters import PeakMeter
from ..jobs.runner import Job

POLL_MS = 30
OPEN_END_S = 24 * 3600  # overdub playback runs past the project's end while recording
NEW_TRACK_HEIGHT = 100
SETTLE_S = 1.0
TAKE_COLOUR = QColor(200, 40, 40)


class TakeOverlay(QWidget):
    """Draws the take being recorded over the lanes: its extent so far and its input level."""

    def __init__(self, recording: Recording, lanes: QWidget) -> None:
        super().__init__(lanes)
        self.recording = recording
        self.lanes = lanes
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAccessibleName("Recording in progress")
        self.setGeometry(lanes.rect())
        lanes.installEventFilter(self)
        self.hide()

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.lanes and e.type() == QEvent.Type.Resize:
            self.setGeometry(self.lanes.rect())
        return False

    def row(self) -> tuple[float, float]:
        """(top, height) of the lane the take goes to: the armed track's, or a new one below the last."""
        rows = self.lanes.track_rows()
        for track, top, h in rows:
            if track.id == self.recording.track_id:
                return float(top), float(h)
        if rows:
            _t, top, h = rows[-1]
            return float(top + h), float(NEW_TRACK_HEIGHT)
        return 0.0, float(NEW_TRACK_HEIGHT)

    def take_rect(self) -> QRectF | None:
        rec = self.recording
        if rec.take is None:
            return None
        st = self.recording.window.state
        top, h = self.row()
        x0 = st.x_of(rec.live_position())
        x1 = st.x_of(rec.live_position() + rec.frames)
        return QRectF(x0, top + 1, max(1.0, x1 - x0), h - 2)

    def paintEvent(self, _e) -> None:  # noqa: N802, ANN001
        rect = self.take_rect()
        if rect is None:
            return
        rec = self.recording
        st = rec.window.state
        p = QPainter(self)
        fill = QColor(TAKE_COLOUR)
        fill.setAlpha(60)
        p.fillRect(rect, fill)
        p.setPen(QPen(TAKE_COLOUR, 1))
        p.drawRect(rect)
        # The input level as an envelope: one point per poll, at most one per pixel.
        frames, peaks = rec.level_frames, rec.level_peaks
        if frames:
            mid = rect.center().y()
            half = rect.height() / 2 - 2
            origin = rec.live_position()
            left = st.frame_at(max(0.0, rect.left())) - origin
            i0 = max(0, bisect.bisect_left(frames, int(left)) - 1)
            upper: list[QPointF] = []
            last_x = -1e9
            for f, v in zip(frames[i0:], peaks[i0:], strict=False):
                x = st.x_of(origin + f)
                if x > self.width():
                    break
                if x - last_x < 1.0:
                    continue
                last_x = x
                upper.append(QPointF(x, mid - min(1.0, v) * half))
            if upper:
                lower = [QPointF(q.x(), 2 * mid - q.y()) for q in reversed(upper)]
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(TAKE_COLOUR.red(), TAKE_COLOUR.green(), TAKE_COLOUR.blue(), 170))
                p.drawPolygon(QPolygonF(upper + lower))
        p.setPen(QColor(255, 255, 255))
        p.drawText(rect.adjusted(4, 2, -2, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   f"● {rec.track_name}")
        p.end()


class Recording(QObject):
    """The record transport of one window."""

    started = Signal()  # the take began (after the cue)
    stored = Signal(object)  # the recorded clip's id once it is in the document, or None (nothing recorded/failed)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.recorder: Recorder | None = None
        self.take: TakeInfo | None = None
        self.track_id = ""  # the armed track being recorded onto, or "" for a new track
        self.track_name = "Recording"
        self.start_pos = 0
        self.frames = 0  # frames in the take so far
        self.level_frames: list[int] = []  # take frame at each poll ...
        self.level_peaks: list[float] = []  # ... and the input peak since the one before
        self.playing = False  # overdub playback runs
        self.last_error = ""
        self.last_compensation = 0
        self.storing = 0
        self._stopping = False
        self._heard: deque[int] = deque(maxlen=200)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.overlay = TakeOverlay(self, window.timeline.lanes)
        window.playback_stopped.connect(self._playback_stopped)

    # -- state ------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """Recording, or about to (waiting for playback to sound)."""
        return self.recorder is not None

    @property
    def recording(self) -> bool:
        return self.take is not None

    def live_position(self) -> int:
        """Where the take being recorded will lie (its start frame), as well as known so far."""
        if self.take is None:
            return 0
        if self._heard:
            return int(np.median(self._heard)) - self.take.latency_frames
        return self.take.position

    def armed_track(self) -> str:
        """The first armed track (in track order) of the project, or ""."""
        armed = self.window.timeline.armed_tracks
        for t in self.window.project.tracks:
            if t.id in armed:
                return t.id
        return ""

    def input_settings(self) -> tuple[str | None, int, float]:
        s = self.window.settings
        return (s.get("record/device") or None, max(1, min(2, s.get("record/channels"))),
                float(s.get("record/latency_ms")))

    # -- record / stop ----------------------------------------------------------------------
    def toggle(self, new_track: bool = False) -> None:
        """Record (R) or Record New Track (Shift+R); while recording, stop."""
        if self.active:
            self.stop()
        else:
            self.record(new_track)

    def record(self, new_track: bool = False) -> bool:
        """Open the input and start overdub playback; the take starts once playback sounds."""
        if self.active:
            return False
        w = self.window
        device, channels, _manual = self.input_settings()
        project = w.project
        rec = Recorder(device, channels, project.sample_rate)
        try:
            rec.open()
        except RecordingError as exc:
            self.last_error = f"Cannot record: {exc}"
            w.show_error(self.last_error)
            return False
        self.track_id = "" if new_track else self.armed_track()
        if self.track_id:
            self.track_name = project.track(self.track_id).name
        else:
            names = {t.name for t in project.tracks}
            n = 1
            while f"Recording {n}" in names:
                n += 1
            self.track_name = f"Recording {n}"
        st = w.state
        self.start_pos = st.playhead if st.playhead is not None else st.cursor
        w.stop()
        self.recorder = rec
        self.frames = 0
        self.level_frames, self.level_peaks = [], []
        self._heard.clear()
        self.playing = False
        if w.player.available and any(t.clips for t in project.tracks):
            w.player.set_project(project)
            self.playing = w.start_player(self.start_pos, self.start_pos + OPEN_END_S * project.sample_rate, False)
            if self.playing:
                w.audition.document_started(self.start_pos, None, False)
        w.act_record.setChecked(True)
        w.act_record_new.setEnabled(False)
        self._begin_take(self.start_pos)
        self.timer.start()
        return True

    def _begin_take(self, position: int) -> None:
        rec = self.recorder
        assert rec is not None
        w = self.window
        _d, _c, manual = self.input_settings()
        # Player.position is what is heard: input latency alone separates it from what arrives now.
        self.last_compensation = compensation_frames(rec.sample_rate, rec.input_latency, 0.0, manual)
        self.take = rec.start_take(position, self.last_compensation, self.track_id, self.track_name)
        self.overlay.setGeometry(w.timeline.lanes.rect())
        self.overlay.show()
        self.overlay.raise_()
        w.show_message(f"Recording into {self.track_name} (input latency "
                       f"{rec.input_latency * 1000:.0f} ms compensated); press R or Space to stop")
        self.started.emit()

    def _poll(self) -> None:
        rec = self.recorder
        if rec is None:
            self.timer.stop()
            return
        w = self.window
        if self.take is None:
            return
        if rec.error:  # the disk filled up: keep what is on disk
            w.show_error(f"Recording stopped: {rec.error}")
            self.stop()
            return
        self.frames = rec.take_frames
        if self.playing and w.player.playing:
            # Where the take's frame 0 was heard, from the playhead now and the frames arrived so
            # far; measured once the output has settled (a device may stall or start late, and the
            # playhead is only estimated until then), the median of many polls for the take.
            heard = w.player.position
            if heard - self.start_pos > SETTLE_S * w.project.sample_rate:
                self._heard.append(heard - self.frames)
        peaks = rec.levels()
        if peaks.size:
            self.level_frames.append(self.frames)
            self.level_peaks.append(float(peaks.max()))
            w.input_meter.set_peaks(float(peaks[0]), float(peaks[-1]))
        if not self.playing:
            pos = self.take.position + self.frames
            w.state.set_playhead(pos)
            w.time_label.setText(format_hms(pos, w.project.sample_rate))
            if w.state.follow:
                w.timeline.ensure_visible(pos)
        self.overlay.update()

    def _playback_stopped(self) -> None:
        if self.active and not self._stopping:
            self.stop()

    def stop(self) -> None:
        """End the take and the overdub playback; the take becomes a clip in the background."""
        rec = self.recorder
        if rec is None or self._stopping:
            return
        self._stopping = True
        try:
            self.timer.stop()
            info = rec.stop_take()  # the take is complete on disk when this returns (about a millisecond)
            close_in_background(rec)
            self.recorder = None
            self.take = None
            self.overlay.hide()
            w = self.window
            w.act_record.setChecked(False)
            w.act_record_new.setEnabled(True)
            w.input_meter.reset()
            if self.playing:
                self.playing = False
                w.stop()
            else:
                w.state.set_playhead(None)
            if info is not None:
                heard = int(np.median(self._heard)) if self._heard else None
                self._store(info, self.track_id, self.track_name, heard)
            else:
                self.stored.emit(None)
        finally:
            self._stopping = False

    def placement(self, info: TakeInfo, frames: int, heard: int | None) -> tuple[int, int]:
        """(timeline position, frames to skip at the take's start) of a finished take.

        Overdubbing, ``heard`` is the timeline frame that was being heard as the take's first
        frame arrived (less the input latency); the part recorded before playback reached the
        playhead is left out."""
        if heard is None:
            return info.position, 0
        position = heard - info.latency_frames
        skip = max(0, self.start_pos - position)
        return position + skip, min(skip, frames)

    def _store(self, info: TakeInfo, track_id: str, name: str, heard: int | None = None) -> None:
        w = self.window
        folder = recordings_root()
        frames = take_frames(folder, info)
        position, skip = self.placement(info, frames, heard)
        if frames - skip <= 0:
            discard_take(folder, info.id)
            w.show_message("Nothing was recorded")
            self.stored.emit(None)
            return
        store = default_store()

        def work(ctx: TaskContext):
            return take_to_seq(folder, info, store, ctx)

        def ok(seq) -> None:  # noqa: ANN001
            self.storing -= 1
            if seq is None:
                self.stored.emit(None)
                return
            clip = Clip(seq, position, offset=skip, length=seq.frames - skip, name=name)
            if w.document.apply(lambda p: place_take(p, clip, track_id, name), "Record"):
                discard_take(folder, info.id)
                w.show_message(f"Recorded {format_hms(seq.frames, info.sample_rate)} into {name}")
                self.stored.emit(clip.id)
            else:
                self.stored.emit(None)

        def fail(msg: str) -> None:
            self.storing -= 1
            w.show_error(f"The recording could not be stored ({msg}); it is kept for recovery")
            self.stored.emit(None)

        self.storing += 1
        # Relayed before it is submitted: a short take can be stored before a later connect.
        job = Job("Store the recording", work, kind="import")
        w.host.jobs.relay(job, ok, fail, lambda: fail("cancelled"))
        w.jobs.submit(job)

    def shutdown(self) -> None:
        """The window closes: a take in progress is kept (finished on disk) for the next start."""
        rec, self.recorder = self.recorder, None
        self.timer.stop()
        if rec is not None:
            rec.close()
        self.take = None


def close_in_background(rec: Recorder) -> None:
    """Close an input whose take (if any) is finished: stopping a PortAudio stream and its
    writer thread takes about half a second, too long for the GUI thread."""
    threading.Thread(target=rec.close, name="seedwave-recorder-close", daemon=True).start()


def offer_take_recovery(window: Any, root: Any = None) -> bool:
    """After a crash mid-recording: offer the takes it left. Yes: they become tracks (one undo
    step, in the background); No: they are deleted. True when the user chose to restore."""
    takes = orphaned_takes(root)
    if not takes:
        return False
    folder = recordings_root(root)
    seconds = sum(take_frames(folder, t) / t.sample_rate for t in takes)
    names = ", ".join(dict.fromkeys(t.track_name for t in takes))
    answer = QMessageBox.question(
        window, "Recover recordings?",
        f"Seedwave stopped while recording. Recover {len(takes)} recording{'s' if len(takes) != 1 else ''} "
        f"({names}, {seconds:.1f} s) as new tracks?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        for t in takes:
            discard_take(folder, t.id)
        return False
    store = default_store()

    def work(ctx: TaskContext):
        out = []
        for i, t in enumerate(takes):
            ctx.check()
            ctx.progress(i / len(takes), f"Recovering {t.track_name}")
            seq = take_to_seq(folder, t, store)
            if seq is not None:
                out.append((t, seq))
        return out

    def ok(found) -> None:  # noqa: ANN001
        if found and window.document.apply(lambda p: restore_takes(p, found), "Recover recordings"):
            for t in takes:
                discard_take(folder, t.id)
            window.show_message(f"Recovered {len(found)} recording(s) as new tracks")

    job = Job("Recover recordings", work, kind="import")
    window.host.jobs.relay(job, ok, lambda msg: window.show_error(f"Recovering recordings failed: {msg}"))
    window.jobs.submit(job)
    return True


def _arm_selected(window: Any) -> None:
    view = window.timeline
    tids = window.state.track_ids or tuple(t.id for t in window.project.tracks[:1])
    for tid in tids:
        view.set_armed(tid, tid not in view.armed_tracks)


def install(window: Any) -> None:
    """Transport > Record (R), Record New Track (Shift+R); Tracks > Arm Track for Recording;
    the record button and the input meter in the transport toolbar."""
    rec = Recording(window)
    window.recording = rec
    window.act_record = window.action("&Record", lambda: rec.toggle(False), "R",
                                      "Record from the input (Settings > Recording) at the playhead: onto the "
                                      "armed track, or into a new track; R again stops", checkable=True,
                                      icon_name="record")
    window.act_record_new = window.action("Record &New Track", lambda: rec.toggle(True), "Shift+R",
                                          "Record into a new track at the playhead, even with a track armed")
    window.act_arm = window.action("&Arm Track for Recording", lambda: _arm_selected(window), "Ctrl+Shift+R",
                                   "Record onto the selected track (toggles its ● button)")
    window.act_record.triggered.connect(lambda _on: window.act_record.setChecked(rec.active))
    window.act_stop.triggered.connect(rec.stop)  # Stop ends a take even when nothing plays
    m = window.menu_transport
    first = m.actions()[2] if len(m.actions()) > 2 else None
    m.insertAction(first, window.act_record)
    m.insertAction(first, window.act_record_new)
    window.menu_tracks.addSeparator()
    window.menu_tracks.addAction(window.act_arm)
    tb = window.transport_bar
    acts = tb.actions()
    tb.insertAction(acts[2] if len(acts) > 2 else None, window.act_record)
    label = QLabel("In")
    label.setToolTip("Input level")
    tb.addSeparator()
    tb.addWidget(label)
    window.input_meter = PeakMeter()
    window.input_meter.setMaximumWidth(160)
    window.input_meter.setAccessibleName("Input level")
    window.input_meter.setToolTip("Input level while recording (Settings > Recording shows it before)")
    tb.addWidget(window.input_meter)
    btn = tb.widgetForAction(window.act_record)
    if btn is not None:
        btn.setAccessibleName("Record")
        btn.setStyleSheet("QToolButton:checked { background: #c62828; }")
