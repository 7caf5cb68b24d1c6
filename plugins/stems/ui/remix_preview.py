"""Live preview of a remix: what the player plays while the remix panel's controls move.

The player plays a scratch project (never the document) whose clip holds the
remix of a region of about half a minute around the playhead, computed in memory
from the stems (:meth:`StemSession.preview_project`). Every change of a stem's
settings rebuilds that project (a weighted sum of arrays already in memory, a
few milliseconds) and hands it to the player with the host's
``audition.switch``, which keeps the playhead and re-renders
what has not been heard yet, so a slider move is heard at once. As the playhead
nears the end of the region, the region moves on.

A/B switches between the remix (B) and the original (A) the same way. If the
document is playing when a control moves, the preview takes over the playback
at the playhead (``audition.take_over``); Stop returns the player to the document.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from editor.core.errors import SeedwaveError
from editor.core.model import Project
from editor.host import AuditionState, Host

from .remix_model import StemSession

SPAN_SECONDS = 30.0  # length of the remixed region
LEAD_SECONDS = 2.0  # of it, before the playhead
MARGIN_SECONDS = 5.0  # move the region on when the playhead is this close to its end
VARIANTS = ("original", "remix")
OWNER = "remix"  # this preview's name in the host's audition service


class RemixPreview(QObject):
    """Plays the current session's remix and keeps the player's project up to date."""

    state_changed = Signal()  # started, stopped, variant changed
    updated = Signal(object)  # the scratch project just handed to the player

    def __init__(self, host: Host, session: Callable[[], StemSession | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self._session = session
        self.variant = "remix"
        self.region: tuple[int, int] | None = None  # timeline frames remixed in the scratch project
        self.project: Project | None = None  # the scratch project last handed to the player
        self.loop: tuple[int, int] | None = None  # what a preview started here loops over
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # coalesce a burst of slider events into one rebuild
        self._timer.timeout.connect(self.update_now)
        host.audition.state_changed.connect(self._audition)
        host.selection.playhead_changed.connect(self._playhead)

    # -- state ----------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """True while the player plays this preview."""
        return self.host.audition.is_playing(OWNER)

    def _frames(self, seconds: float) -> int:
        return int(seconds * self.host.document.project.sample_rate)

    def region_around(self, session: StemSession, frame: int) -> tuple[int, int]:
        """The timeline region to remix: the preview's loop, or the visible part of the
        clip, if that is short and holds ``frame``; else half a minute from just before ``frame``."""
        clip = session.clip(self.host.document.project)
        if clip is None:
            return frame, frame
        view_a, view_b = self.host.ui.visible_range()
        a, b = max(clip.position, view_a), min(clip.end, view_b)
        if self.loop is not None and self.loop[0] <= frame < self.loop[1]:
            a, b = self.loop  # a short loop: remix all of it, so wrapping around needs no rebuild
        if b - a > self._frames(SPAN_SECONDS) or not a <= frame < b:
            a = max(clip.position, min(frame, clip.end - 1) - self._frames(LEAD_SECONDS))
            b = min(clip.end, a + self._frames(SPAN_SECONDS))
        return a, b

    def build(self, session: StemSession) -> Project:
        """The project to hear now (variant and region as they are)."""
        if self.variant == "original":
            return session.original_project(self.host.document.project)
        if self.region is None:
            self.region = self.region_around(session, self.host.audition.position)
        return session.preview_project(self.host.document.project, *self.region)

    # -- transport -------------------------------------------------------------------
    def play(self) -> bool:
        """Loop the preview: over the selected range if one lies on the clip, else from the
        playhead (or the cursor, or the clip's start) to the clip's end."""
        session = self._session()
        project = self.host.document.project
        if session is None or not session.usable(project):
            self.host.ui.message("Separate the clip first")
            return False
        if not self.host.audition.available:
            self.host.ui.message(f"No audio output: {self.host.audition.reason}")
            return False
        clip = session.clip(project)
        assert clip is not None
        st = self.host.selection.current()
        playhead = self.host.selection.playhead
        start, stop = playhead if playhead is not None else st.cursor, clip.end
        if st.has_range and max(st.start, clip.position) < min(st.stop, clip.end):
            start, stop = max(st.start, clip.position), min(st.stop, clip.end)
        elif not clip.position <= start < clip.end:
            start = clip.position
        self.loop = (start, stop)
        self.region = self.region_around(session, start)
        try:
            project = self.build(session)
        except SeedwaveError as exc:
            self.host.ui.error(str(exc))
            return False
        self.project = project
        ok = self.host.audition.play(OWNER, project, start, stop, loop=True, variant=self.variant)
        self.loop = (start, stop) if ok else None  # (starting stopped whatever played before)
        self.state_changed.emit()
        return ok

    def stop(self) -> None:
        self.host.audition.stop(OWNER)
        self.loop = None
        self.state_changed.emit()

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def set_variant(self, variant: str) -> None:
        """Original (A) or remix (B); switches a playing preview at the playhead."""
        if variant not in VARIANTS:
            raise ValueError(variant)
        self.variant = variant
        self.changed()
        self.state_changed.emit()

    def toggle_ab(self) -> None:
        self.set_variant("original" if self.variant == "remix" else "remix")

    # -- following changes ---------------------------------------------------------------
    def changed(self) -> None:
        """The settings (or the stems) changed: rebuild soon (once per burst of events)."""
        self._timer.start()

    def update_now(self) -> None:
        """Hand the player a project with the current settings, if anything is playing."""
        self._timer.stop()
        session = self._session()
        audition = self.host.audition
        if session is None or not audition.state.playing:
            return
        if not session.usable(self.host.document.project):
            if self.playing:
                self.stop()
            return
        if self.playing:
            self._hand_over(session, lambda p: audition.switch(OWNER, p, self.variant))
        elif audition.preview_project is None:
            # The document is playing: the remix takes over from the playhead.
            self.loop = None
            self.region = self.region_around(session, audition.position)
            if self._hand_over(session, lambda p: audition.take_over(OWNER, p, self.variant)):
                self.state_changed.emit()

    def _hand_over(self, session: StemSession, to_player: Callable[[Project], object]) -> bool:
        try:
            project = self.build(session)
        except SeedwaveError as exc:
            self.host.ui.error(str(exc))
            return False
        self.project = project
        to_player(project)
        self.updated.emit(project)
        return True

    def _playhead(self, frame: int | None) -> None:
        if frame is None or not self.playing or self.variant != "remix" or self.region is None:
            return
        session = self._session()
        clip = session.clip(self.host.document.project) if session is not None else None
        if clip is None:
            return
        a, b = self.region
        if (b < clip.end and frame > b - self._frames(MARGIN_SECONDS)) or frame < a:
            self.region = self.region_around(session, frame)
            self.update_now()

    def _audition(self, state: AuditionState) -> None:
        if state.owner != OWNER and self.loop is not None:
            self.loop = None  # stopped, or something else plays now
        self.state_changed.emit()
