"""The one audition service: what the player plays, and who asked for it.

Effect previews, fill takes and the remix panel all play scratch projects through
here, so the app has a single "what is playing" state (:class:`AuditionState`):
an owner ("document" for ordinary playback, or the panel's name) and a variant
(original, processed, removed, a take). Panels show it (checked A/B buttons,
"Stop preview") by listening to ``state_changed``; when playback ends, for
whatever reason, the state goes back to nothing playing and they follow.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ..core.model import Project
from ..engine.playback import Player
from ..host.api import AuditionState

IDLE = AuditionState()


class Audition(QObject):
    """Implements :class:`editor.host.AuditionApi` over the window's player.

    ``start_player(start, stop, loop) -> bool`` and ``stop_player()`` are the
    transport's; ``document()`` returns the project to go back to after a preview.
    """

    state_changed = Signal(object)  # AuditionState

    def __init__(self, player: Player, document: Callable[[], Project],
                 start_player: Callable[[int, int | None, bool], bool], stop_player: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self._document = document
        self._start_player = start_player
        self._stop_player = stop_player
        self._state = IDLE
        self._preview: Project | None = None

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> AuditionState:
        return self._state

    @property
    def available(self) -> bool:
        return self.player.available

    @property
    def reason(self) -> str:
        return "" if self.player.available else str(self.player.reason)

    @property
    def position(self) -> int:
        return self.player.position

    @property
    def preview_project(self) -> Project | None:
        return self._preview

    def is_playing(self, owner: str) -> bool:
        return self._state.owner == owner and self.player.playing

    def _set(self, state: AuditionState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- playing -------------------------------------------------------------------------------
    def play(self, owner: str, project: Project, start: int, stop: int, loop: bool = True,
             variant: str = "") -> bool:
        self._stop_player()
        self._preview = project
        self.player.set_project(project)
        if not self._start_player(start, stop, loop):
            self.ended()
            return False
        self._set(AuditionState(owner, variant, start, stop, loop))
        return True

    def switch(self, owner: str, project: Project, variant: str = "") -> bool:
        if self._state.owner != owner or self._preview is None:
            return False
        self._preview = project
        self.player.set_project(project)
        self._set(AuditionState(owner, variant, self._state.start, self._state.stop, self._state.loop))
        return True

    def take_over(self, owner: str, project: Project, variant: str = "") -> bool:
        if not self.player.playing:
            return False
        self._preview = project
        self.player.set_project(project)
        self._set(AuditionState(owner, variant, self._state.start, self._state.stop, self._state.loop))
        return True

    def stop(self, owner: str | None = None) -> None:
        if owner is not None and self._state.owner != owner:
            return
        self._stop_player()

    # -- called by the transport ---------------------------------------------------------------
    def document_started(self, start: int, stop: int | None, loop: bool) -> None:
        """Ordinary playback of the document began."""
        self._set(AuditionState("document", "", start, stop, loop))

    def ended(self) -> None:
        """Playback stopped (by the user, at the end, or on an error): back to the document."""
        if self._preview is not None:
            self._preview = None
            self.player.set_project(self._document())
        self._set(IDLE)
