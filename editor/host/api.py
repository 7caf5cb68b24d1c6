"""The services the host gives a plugin, as typed protocols.

A plugin's commands, panels and settings pages are called with one :class:`Host`.
Its attributes are the services; each does one thing:

==================  ===================================================================
``host.document``   the project and its history: every change is one undo step
``host.selection``  time range, tracks, clips, optional frequency band and mask
``host.jobs``       background work with progress, cancel and results on the GUI thread
``host.audition``   playback of scratch projects (previews, takes, A/B): one "what is
                    playing" state for the whole app
``host.ui``         messages, menus, context menus, dock panels, the parent window
``host.settings``   persistent settings (namespace your keys: ``"myplugin/key"``)
``host.models``     model folder, device choice, the models dialog
``host.effects``    the effect registry, and the effect panel
==================  ===================================================================

Signals are Qt signals (``SignalInstance``): connect them to methods of your
widgets. Job signals arrive on a worker thread: use :meth:`JobsApi.relay`,
which calls plain functions on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..core.edits import Clipboard
from ..core.model import Project
from ..core.task import TaskContext
from ..effects.base import Effect
from ..effects.models import ModelManager
from ..effects.plugins import Plugins
from ..effects.registry import Registry
from ..jobs.runner import Job
from .selection import HostSelection

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu, QWidget


@runtime_checkable
class DocumentApi(Protocol):
    """The open project. Edits are pure functions ``Project -> Project``."""

    changed: SignalInstance  # (Project) after any change, undo or redo
    history_changed: SignalInstance
    saved: SignalInstance  # (Path) when a save has finished
    error: SignalInstance  # (str) an edit was refused (the message the user sees)

    @property
    def project(self) -> Project: ...
    @property
    def path(self) -> Path | None: ...
    @property
    def modified(self) -> bool: ...
    @property
    def clipboard(self) -> Clipboard | None: ...

    def apply(self, fn: Callable[[Project], Project], label: str, merge_key: str | None = None,
              meta: dict[str, Any] | None = None) -> bool:
        """Run an instant edit as one undo step; a SeedwaveError becomes a message."""
    def apply_async(self, fn: Callable[[Project, TaskContext], Project], label: str,
                    track_ids: tuple[str, ...] = (), meta: dict[str, Any] | None = None,
                    on_done: Callable[[bool], None] | None = None, gpu: bool = False,
                    kind: str = "edit") -> Job:
        """Run a slow edit on a snapshot as a job; its result becomes one undo step
        (merged onto later edits of other tracks; the user decides on a conflict)."""
    def push(self, project: Project, label: str, merge_key: str | None = None,
             meta: dict[str, Any] | None = None) -> None:
        """Make ``project`` the current state as one undo step (``merge_key`` merges
        consecutive pushes of one control, a fader drag, into one)."""
    def undo(self) -> None: ...
    def redo(self) -> None: ...


@runtime_checkable
class SelectionApi(Protocol):
    changed: SignalInstance  # () selection, clips or band changed
    cursor_changed: SignalInstance  # (int)
    playhead_changed: SignalInstance  # (int)

    def current(self) -> HostSelection: ...
    def set(self, start: int, stop: int, track_ids: tuple[str, ...] | None = None) -> None: ...
    def set_clips(self, clip_ids: tuple[str, ...]) -> None: ...
    def set_band(self, low_hz: float | None, high_hz: float | None, mask: Any = None) -> None:
        """Narrow the selection to a frequency band / painted mask (None, None: all)."""
    def target_tracks(self) -> tuple[str, ...]:
        """The selected tracks, or every track when none is selected."""
    @property
    def playhead(self) -> int | None: ...


@runtime_checkable
class JobsApi(Protocol):
    job_added: SignalInstance  # (Job)
    job_ended: SignalInstance  # (Job)

    def submit(self, job: Job) -> Job: ...
    def run(self, title: str, fn: Callable[[TaskContext], Any], gpu: bool = False, kind: str = "task") -> Job: ...
    def relay(self, job: Job, ok: Callable[[Any], None], fail: Callable[[str], None],
              cancelled: Callable[[], None] | None = None, warned: Callable[[str], None] | None = None) -> None:
        """Call these on the GUI thread when ``job`` ends (never connect lambdas to job signals)."""
    def active(self) -> list[Job]: ...


@dataclass(frozen=True)
class AuditionState:
    """What is playing: ``owner`` "" is nothing, "document" is the project itself,
    anything else is a preview (an effect preview, a fill take, a remix)."""

    owner: str = ""
    variant: str = ""  # e.g. "original", "processed", "removed", a take number
    start: int = 0
    stop: int | None = None
    loop: bool = False

    @property
    def playing(self) -> bool:
        return bool(self.owner)


@runtime_checkable
class AuditionApi(Protocol):
    """Playback and audition: one player, one state (:class:`AuditionState`)."""

    state_changed: SignalInstance  # (AuditionState) whenever what plays changes, stops included

    @property
    def state(self) -> AuditionState: ...
    @property
    def available(self) -> bool: ...
    @property
    def reason(self) -> str:
        """Why there is no audio output ("" when there is)."""
    @property
    def position(self) -> int: ...
    @property
    def preview_project(self) -> Project | None:
        """The scratch project being heard instead of the document, if any."""

    def play(self, owner: str, project: Project, start: int, stop: int, loop: bool = True,
             variant: str = "") -> bool:
        """Play ``project`` (not the document) over [start, stop), looping by default."""
    def switch(self, owner: str, project: Project, variant: str = "") -> bool:
        """While ``owner`` plays: hear ``project`` from the playhead on (A/B)."""
    def take_over(self, owner: str, project: Project, variant: str = "") -> bool:
        """While anything plays: hear ``project`` from the playhead on (live preview);
        stop returns to the document."""
    def stop(self, owner: str | None = None) -> None:
        """Stop playback (only if ``owner`` is what plays, when given)."""
    def is_playing(self, owner: str) -> bool: ...


@dataclass(frozen=True)
class ContextInfo:
    """Where a context menu was opened: ``target`` is "timeline", "clip" or "track"."""

    target: str
    clip_id: str = ""
    track_id: str = ""


@runtime_checkable
class UiApi(Protocol):
    def message(self, text: str) -> None:
        """A one-line note in the status bar."""
    def error(self, text: str) -> None:
        """A one-line error naming what failed."""
    def window(self) -> QWidget:
        """The main window: the parent for your dialogs."""
    def add_action(self, menu: str, text: str, callback: Callable[[], None], shortcut: str | Sequence[str] = "",
                   tip: str = "", checkable: bool = False, enabled_when: str = "always") -> QAction:
        """Add an item to a top-level menu (File, Edit, Audio, Effects, View, Tracks,
        Transport, Help) with a window-wide shortcut; listed in Help > Keyboard Shortcuts."""
    def add_context_items(self, target: str, provider: Callable[[QMenu, ContextInfo], None]) -> None:
        """Call ``provider`` to add entries whenever a ``target`` context menu opens."""
    def panel(self, panel_id: str) -> QWidget | None:
        """A dock panel's widget by its id ("effects", "history", "mixer", "jobs", a plugin's)."""
    def show_panel(self, panel_id: str) -> QWidget | None:
        """Show and raise a dock panel; returns its widget."""
    def lanes_width(self) -> int:
        """The width of the timeline's audio area, in pixels."""
    def visible_range(self) -> tuple[int, int]:
        """The timeline frames [start, stop) shown now."""


@runtime_checkable
class SettingsApi(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def contains(self, key: str) -> bool: ...


@runtime_checkable
class SettingsPageApi(Protocol):
    """What a ``[[contributes.settings]]`` factory returns: one tab of Settings."""

    widget: QWidget

    def load(self) -> None:
        """Show the stored values."""
    def store(self) -> None:
        """Store (and apply) the values shown: OK and Apply."""


@runtime_checkable
class ModelsApi(Protocol):
    changed: SignalInstance  # () a model was installed or removed

    def manager(self) -> ModelManager:
        """The model folder the user chose (downloads, imports, checksums)."""
    def device_policy(self) -> str:
        """"auto", "cpu", "cuda" or "mps" as the user set it."""
    def uses_gpu_slot(self, effect: Effect) -> bool:
        """Whether a run of ``effect`` queues for the single GPU slot."""
    def open_dialog(self) -> None:
        """Effects > Models…"""


@runtime_checkable
class EffectsApi(Protocol):
    @property
    def registry(self) -> Registry: ...
    def show(self, effect_id: str) -> None:
        """Open the effect panel on an effect."""
    def apply(self, effect_id: str, params: dict[str, Any] | None = None, scope: str = "auto",
              mode: str = "in_place") -> Job | None:
        """Run an effect on the selection (one undo step)."""


@runtime_checkable
class Host(Protocol):
    document: DocumentApi
    selection: SelectionApi
    jobs: JobsApi
    audition: AuditionApi
    ui: UiApi
    settings: SettingsApi
    models: ModelsApi
    effects: EffectsApi
    plugins: Plugins
