"""Transport: play, pause, stop, loop, the playhead tick, and the audition service.

A part of :class:`~editor.qt.main_window.MainWindow` (a mixin: it uses the
window's ``player``, ``state``, ``tick`` timer, ``audition`` and transport actions).
Previews never play through here directly: panels ask ``window.audition``
(:class:`~editor.qt.audition.Audition`, the host's ``audition`` service), which
calls :meth:`start_player` and :meth:`stop`, so there is one "what is playing" state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.model import Project
from ..core.timefmt import format_hms
from .resources import icon

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QAction

    from ..engine.playback import Player
    from .audition import Audition
    from .timeline.state import ViewState


class Transport:
    """Playback of the document, and the player under the audition service."""

    player: Player
    state: ViewState
    tick: QTimer
    audition: Audition
    act_play: QAction
    act_loop: QAction

    @property
    def preview_project(self) -> Project | None:
        """The scratch project being played instead of the document, if any."""
        return self.audition.preview_project

    def start_player(self, start: int, stop: int | None, loop: bool) -> bool:
        """Start the player on whatever project it holds; False (and a message) on failure."""
        try:
            self.player.play(start, stop, loop)
        except RuntimeError as exc:
            self.show_error(f"Playback: {exc}")
            return False
        self.tick.start()
        self.act_play.setIcon(icon("pause"))
        self.playback_started.emit()
        return True

    def _play_document(self, start: int, stop: int | None, loop: bool) -> None:
        if self.start_player(start, stop, loop):
            self.audition.document_started(start, stop, loop)
        else:
            self.audition.ended()

    def play_pause(self) -> None:
        if not self.player.available:
            return
        if self.player.playing:
            self.pause()
            return
        st = self.state
        if st.has_range:
            self._play_document(st.sel_start, st.sel_stop, self.act_loop.isChecked())
        else:
            start = st.playhead if st.playhead is not None else st.cursor
            self._play_document(start, None, False)

    def play_selection(self) -> None:
        if self.state.has_range and self.player.available:
            self.stop()
            self._play_document(self.state.sel_start, self.state.sel_stop, self.act_loop.isChecked())

    def toggle_loop(self, on: bool) -> None:
        self.state.loop = (self.state.sel_start, self.state.sel_stop) if on and self.state.has_range else None
        self.timeline.ruler.update()

    def pause(self) -> None:
        """Stop where we are; the next Play continues from here."""
        pos = self.player.position
        self.player.stop()
        self.tick.stop()
        self.state.set_playhead(pos)
        self.act_play.setIcon(icon("play"))
        self.meter.reset()
        self.audition.ended()
        self.playback_stopped.emit()

    def stop(self) -> None:
        was = self.player.playing
        self.player.stop()
        self.tick.stop()
        self.state.set_playhead(None)
        self.act_play.setIcon(icon("play"))
        self.audition.ended()
        self.reset_transport_display()
        if was:
            self.playback_stopped.emit()

    def _cursor_moved(self, frame: int) -> None:
        """Stopped, the transport time says where Play starts: it follows the cursor."""
        if not self.player.playing:
            self.time_label.setText(format_hms(frame, self.project.sample_rate))

    def reset_transport_display(self) -> None:
        """After stop (or opening another project): the time shows where the next Play
        starts (the cursor), and the meter falls to silence instead of keeping old peaks."""
        self.time_label.setText(format_hms(self.state.cursor, self.project.sample_rate))
        self.meter.reset()

    def move_cursor(self, frame: int) -> None:
        self.state.set_cursor(frame)
        self.state.set_selection(frame, frame)
        self.timeline.ensure_visible(frame)

    def _tick(self) -> None:
        if not self.player.playing and not self.player.finished:
            return
        pos = self.player.position
        self.state.set_playhead(pos)
        self.time_label.setText(format_hms(pos, self.project.sample_rate))
        lv = self.player.levels_at(pos)
        if lv is not None:
            self.meter.set_peaks(*lv.master)
        if self.state.follow and self.audition.preview_project is None:
            self.timeline.ensure_visible(pos)
        if self.player.finished or not self.player.playing:
            self.stop()
