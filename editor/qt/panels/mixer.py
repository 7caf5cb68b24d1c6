"""The mixer: a dock with one strip per track and a master strip, as in a DAW.

Each strip has the track's name and colour, a pan knob, mute and solo buttons, a
fader in dB (double-click it to type a value) and a peak meter with hold and clip
indicator. Every control is an edit through :meth:`Document.apply`, so the
player (which follows the document) plays the change at once. A fader or pan
drag is one undo step: each push carries a per-track, per-control merge key and
the history's merge ends when the mouse is released.

Which tracks sound comes from the renderer's own rule
(:func:`~editor.engine.renderer.audible_tracks`): strips of tracks that are
silent (muted, or left out because another track is soloed) are dimmed.

The meters show :meth:`Player.levels_at` at the playhead: peaks of the chunks
the renderer produced for playback, post-fader and post-pan per track and the
master bus, i.e. exactly what is heard. They are never computed separately.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.edits import set_master_gain, set_track
from ...core.model import Project, Track
from ...engine.renderer import audible_tracks
from ...host.widgets.fader import DbFader, PanKnob, StripMeter, format_pan
from .inserts import InsertSection

METER_MS = 33  # about 30 updates a second
EDIT_MS = 40  # at most 25 drag edits a second
STRIP_WIDTH = 92
DIM_OPACITY = 0.45

_STRIP_STYLE = """
QToolButton { min-width: 22px; min-height: 20px; font-weight: bold; border: 1px solid palette(mid);
              border-radius: 3px; }
QToolButton#mute:checked { background: #d9a21b; color: black; }
QToolButton#solo:checked { background: #4fbf5f; color: black; }
QToolButton#mute[implicit="true"] { border: 2px dashed #d9a21b; }
QLineEdit { border: 1px solid palette(mid); border-radius: 2px; }
"""


class _ColourBar(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setFixedHeight(5)
        self.set_colour("#808080")

    def set_colour(self, colour: str) -> None:
        self.setStyleSheet(f"background: {QColor(colour).name()}; border: none;")


class _Strip(QFrame):
    """What track and master strips share: name, fader, meter."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(STRIP_WIDTH)
        self.setStyleSheet(_STRIP_STYLE)
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(4, 4, 4, 4)
        self.lay.setSpacing(3)
        self.colour_bar = _ColourBar()
        self.name_label = QLabel(name)
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label.setAccessibleName("Strip name")
        self.lay.addWidget(self.colour_bar)
        self.lay.addWidget(self.name_label)
        self.body = QWidget()  # the part that dims
        self.body_lay = QVBoxLayout(self.body)
        self.body_lay.setContentsMargins(0, 0, 0, 0)
        self.body_lay.setSpacing(3)
        self.lay.addWidget(self.body, 1)
        self.fader = DbFader(name)
        self.meter = StripMeter(name)
        self.fader.row.addWidget(self.meter)
        self.peak_label = QLabel("-inf")
        self.peak_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.peak_label.setToolTip("Highest peak (dBFS); click the meter to reset")
        self.peak_label.setAccessibleName(f"{name} highest peak")

    def set_name(self, name: str) -> None:
        metrics = self.name_label.fontMetrics()
        self.name_label.setText(metrics.elidedText(name, Qt.TextElideMode.ElideRight, STRIP_WIDTH - 10))
        self.name_label.setToolTip(name)

    def feed(self, left: float, right: float, position: int | None) -> None:
        self.meter.feed(left, right, position)
        m = self.meter.max_db
        text = "-inf" if m <= -60.0 else f"{m:+.1f}"
        if self.peak_label.text() != text:
            self.peak_label.setText(text)
            self.peak_label.setStyleSheet("color: #ff4040;" if m >= 0.0 else "")


class TrackStrip(_Strip):
    """One track's strip. Calls ``edit(fn, label, merge_key)`` for every change."""

    def __init__(self, track: Track, edit: Callable[[Callable[[Project], Project], str, str | None], None],
                 end_merge: Callable[[], None], hold: Callable[[str], None] = lambda _k: None) -> None:
        super().__init__(track.name)
        self.track_id = track.id
        self.track = track
        self.audible = True
        self.implicit_mute = False  # silenced by another track's solo
        self._edit = edit
        self.pan = PanKnob(track.name)
        self.pan_label = QLabel("C")
        self.pan_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mute_btn = QToolButton()
        self.mute_btn.setObjectName("mute")
        self.mute_btn.setText("M")
        self.mute_btn.setCheckable(True)
        self.mute_btn.setAccessibleName(f"Mute {track.name}")
        self.solo_btn = QToolButton()
        self.solo_btn.setObjectName("solo")
        self.solo_btn.setText("S")
        self.solo_btn.setCheckable(True)
        self.solo_btn.setAccessibleName(f"Solo {track.name}")
        self.solo_btn.setToolTip("Solo: play only soloed tracks")
        pan_row = QHBoxLayout()
        pan_row.setContentsMargins(0, 0, 0, 0)
        pan_row.addWidget(self.pan)
        pan_row.addWidget(self.pan_label)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.mute_btn)
        buttons.addWidget(self.solo_btn)
        self.body_lay.addLayout(pan_row)
        self.body_lay.addLayout(buttons)
        self.body_lay.addWidget(self.fader, 1)
        self.body_lay.addWidget(self.peak_label)
        self._dim = QGraphicsOpacityEffect(self.body)
        self._dim.setOpacity(1.0)
        self._dim.setEnabled(False)
        self.body.setGraphicsEffect(self._dim)

        tid = track.id
        self.fader.moved.connect(lambda db: edit(lambda p: set_track(p, tid, gain_db=db),
                                                 f"Volume {self.track.name}", f"mixer:{tid}:gain"))
        self.fader.typed.connect(lambda db: edit(lambda p: set_track(p, tid, gain_db=db),
                                                 f"Volume {self.track.name}", None))
        self.fader.released.connect(end_merge)
        self.fader.slider.sliderPressed.connect(lambda: hold(f"mixer:{tid}:gain"))
        self.pan.sliderPressed.connect(lambda: hold(f"mixer:{tid}:pan"))
        self.pan.valueChanged.connect(self._panned)
        self.pan.sliderReleased.connect(end_merge)
        self.pan.centred.connect(lambda: edit(lambda p: set_track(p, tid, pan=0.0), f"Pan {self.track.name}", None))
        self.mute_btn.clicked.connect(lambda on: edit(lambda p: set_track(p, tid, mute=on),
                                                      f"{'Mute' if on else 'Unmute'} {self.track.name}", None))
        self.solo_btn.clicked.connect(lambda on: edit(lambda p: set_track(p, tid, solo=on),
                                                      f"{'Solo' if on else 'Unsolo'} {self.track.name}", None))
        self.update_from(track, True, force=True)

    def _panned(self, value: int) -> None:
        pan = value / 100.0
        self.pan_label.setText(format_pan(pan))
        self._edit(lambda p: set_track(p, self.track_id, pan=pan), f"Pan {self.track.name}",
                   f"mixer:{self.track_id}:pan")

    def set_name(self, name: str) -> None:
        super().set_name(name)
        self.fader.slider.setAccessibleName(f"{name} volume")
        self.fader.box.setAccessibleName(f"{name} volume in dB")
        self.pan.setAccessibleName(f"{name} pan")
        self.mute_btn.setAccessibleName(f"Mute {name}")
        self.solo_btn.setAccessibleName(f"Solo {name}")
        self.meter.setAccessibleName(f"{name} level")

    def update_from(self, track: Track, audible: bool, force: bool = False, busy: str | None = None) -> None:
        """Show ``track``'s settings; ``audible`` is False when mute or solo silence it.
        ``busy`` is the merge key of a control whose newer value is still to be applied
        (that control keeps what the user set).

        Tracks are immutable and shared between versions of the project, so an
        unchanged track (the same object) with unchanged audibility costs nothing."""
        if track is self.track and audible == self.audible and not force:
            return
        old, self.track = self.track, track
        if force or track.name != old.name:
            self.set_name(track.name)
        if force or track.colour != old.colour:
            self.colour_bar.set_colour(track.colour)
        if busy != f"mixer:{track.id}:gain":
            self.fader.set_db(track.gain_db)
        if busy != f"mixer:{track.id}:pan" and not self.pan.isSliderDown():
            self.pan.blockSignals(True)
            self.pan.setValue(round(track.pan * 100))
            self.pan.blockSignals(False)
            self.pan_label.setText(format_pan(track.pan))
        for btn, on in ((self.mute_btn, track.mute), (self.solo_btn, track.solo)):
            if btn.isChecked() != on:
                btn.setChecked(on)
        implicit = not audible and not track.mute
        if implicit != self.implicit_mute:
            self.implicit_mute = implicit
            self.mute_btn.setProperty("implicit", implicit)
            self.mute_btn.style().unpolish(self.mute_btn)
            self.mute_btn.style().polish(self.mute_btn)
        self.mute_btn.setToolTip("Muted by a solo on another track; mute it too with this button" if implicit
                                 else "Mute: silence this track")
        self.audible = audible
        self._dim.setOpacity(1.0 if audible else DIM_OPACITY)
        self._dim.setEnabled(not audible)
        self.setToolTip("" if audible else ("Muted" if track.mute else "Silent: another track is soloed"))


class MasterStrip(_Strip):
    """The master bus: fader (project master gain) and meter."""

    def __init__(self, edit: Callable[[Callable[[Project], Project], str, str | None], None],
                 end_merge: Callable[[], None], hold: Callable[[str], None] = lambda _k: None) -> None:
        super().__init__("Master")
        self.colour_bar.set_colour("#c8c8c8")
        f = self.name_label.font()
        f.setBold(True)
        self.name_label.setFont(f)
        self.body_lay.addStretch(0)
        self.body_lay.addWidget(self.fader, 1)
        self.body_lay.addWidget(self.peak_label)
        self.fader.moved.connect(lambda db: edit(lambda p: set_master_gain(p, db), "Master volume", "mixer:master"))
        self.fader.slider.sliderPressed.connect(lambda: hold("mixer:master"))
        self.fader.typed.connect(lambda db: edit(lambda p: set_master_gain(p, db), "Master volume", None))
        self.fader.released.connect(end_merge)

    def update_from(self, project: Project, busy: str | None = None) -> None:
        if busy != "mixer:master":
            self.fader.set_db(project.master_gain_db)


class MixerPanel(QWidget):
    """All strips; follows the document and meters the player."""

    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow (import cycle)
        super().__init__()
        self.main = window
        self.document = window.document
        self.player = window.player
        self.setAccessibleName("Mixer")
        self.strips: dict[str, TrackStrip] = {}
        self._order: list[str] = []

        self.strip_area = QWidget()
        self.strip_lay = QHBoxLayout(self.strip_area)
        self.strip_lay.setContentsMargins(2, 2, 2, 2)
        self.strip_lay.setSpacing(2)
        self.strip_lay.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.strip_area)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.empty_label = QLabel("No tracks yet: import audio to mix it here.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.master = MasterStrip(self._edit, self._end_merge, self._hold)
        self.master.inserts = InsertSection(self, None, "Master")
        self.master.lay.insertWidget(2, self.master.inserts)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.scroll, 1)
        lay.addWidget(self.empty_label, 1)
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.VLine)
        lay.addWidget(sep)
        lay.addWidget(self.master)
        self.setMinimumHeight(240)

        self._pending: tuple[Callable[[Project], Project], str, str] | None = None
        self._throttle = QTimer(self)
        self._throttle.setInterval(EDIT_MS)
        self._throttle.timeout.connect(self._throttled)
        self.timer = QTimer(self)
        self.timer.setInterval(METER_MS)
        self.timer.timeout.connect(self.update_meters)
        self.document.changed.connect(self.sync)
        window.playback_started.connect(self._started)
        window.playback_stopped.connect(self.timer.start)  # let the meters fall back
        self.sync(self.document.project)

    # -- edits -------------------------------------------------------------------------
    def _edit(self, fn: Callable[[Project], Project], label: str, merge_key: str | None) -> None:
        """Apply a mixer edit. Drag edits (with a merge key) are throttled to one per
        ``EDIT_MS``: the first at once, then the latest value each interval, so a fast
        drag neither floods the history and the views nor makes the player throw away
        and render its buffer again at mouse rate. Clicks and typed values apply at once."""
        if merge_key is None:
            self._flush()
            self.document.apply(fn, label, None)
            return
        if self._pending is not None and self._pending[2] != merge_key:
            self._flush()
        self._pending = (fn, label, merge_key)
        if not self._throttle.isActive():
            self._flush()
            self._throttle.start()

    def _edit_now(self, fn: Callable[[Project], Project], label: str) -> bool:
        """Apply a one-off edit at once (after any pending drag edit); False if it was refused."""
        self._flush()
        return self.document.apply(fn, label, None)

    def _flush(self) -> None:
        """Apply the pending drag edit, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.document.apply(*pending)

    def _throttled(self) -> None:
        if self._pending is None:
            self._throttle.stop()
        else:
            self._flush()

    def _hold(self, merge_key: str) -> None:
        """A fader or pan drag started: it stays one undo step however long it lasts."""
        self.document.history.hold_merge(merge_key)

    def _end_merge(self) -> None:
        """A drag ended: apply its last value and close its undo step."""
        self._flush()
        self._throttle.stop()
        self.document.history.end_merge()

    # -- model -> view ---------------------------------------------------------------

    def sync(self, project: Project) -> None:
        """Strips follow the tracks: added, removed, reordered, renamed, recoloured."""
        ids = [t.id for t in project.tracks]
        if ids != self._order:
            for tid in [t for t in self.strips if t not in ids]:
                strip = self.strips.pop(tid)
                self.strip_lay.removeWidget(strip)
                strip.inserts.close_editors()
                strip.hide()  # not setParent(None): that would make it a window until deleted
                strip.deleteLater()
            for t in project.tracks:
                if t.id not in self.strips:
                    strip = TrackStrip(t, self._edit, self._end_merge, self._hold)
                    strip.inserts = InsertSection(self, t.id, t.name)
                    strip.lay.insertWidget(2, strip.inserts)
                    self.strips[t.id] = strip
            self.strips = {tid: self.strips[tid] for tid in ids}
            for i, tid in enumerate(ids):
                self.strip_lay.insertWidget(i, self.strips[tid])
            self._order = ids
        audible = {t.id for t in audible_tracks(project)}
        busy = self._pending[2] if self._pending is not None else None
        for t in project.tracks:
            self.strips[t.id].update_from(t, t.id in audible, busy=busy)
            if self.strips[t.id].inserts.name != t.name:
                self.strips[t.id].inserts.set_name(t.name)
            self.strips[t.id].inserts.update_from(project, busy)
        self.master.update_from(project, busy)
        self.master.inserts.update_from(project, busy)
        self.scroll.setVisible(bool(ids))
        self.empty_label.setVisible(not ids)

    # -- meters ------------------------------------------------------------------------
    def _started(self) -> None:
        for s in self._all_strips():
            s.meter.reset()
            s.feed(0.0, 0.0, None)
        self.timer.start()

    def _all_strips(self) -> list:
        return [*self.strips.values(), self.master]

    def update_meters(self) -> None:
        """Show the levels of what is being heard at the playhead (about 30 times a second)."""
        if not self.isVisible():  # a closed or tabbed-away dock draws nothing
            if not self.player.playing:
                self.timer.stop()
            return
        lv = self.player.levels_at() if self.player.playing else None
        if lv is None:
            for s in self._all_strips():
                s.feed(0.0, 0.0, None)
            if not self.player.playing and all(s.meter.idle for s in self._all_strips()):
                self.timer.stop()
            return
        self.master.feed(*lv.master, lv.position)
        for tid, s in self.strips.items():
            left, right = lv.tracks.get(tid, (0.0, 0.0))
            s.feed(left, right, lv.position)


def install(window) -> None:  # noqa: ANN001 - MainWindow (import cycle)
    """Add the Mixer dock (View > Panels > Mixer) to the main window."""
    panel = MixerPanel(window)
    window.mixer = panel
    window.mixer_dock = window.add_dock("Mixer", panel, Qt.DockWidgetArea.BottomDockWidgetArea)


__all__ = ["MasterStrip", "MixerPanel", "TrackStrip", "install"]
