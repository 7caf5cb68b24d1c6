"""The host API's Qt implementation (private: plugins see only :mod:`editor.host`).

:class:`QtHost` is built once by the main window and handed to every plugin
command, panel and settings page. Each service wraps one part of the window;
none hands out the window itself (``ui.window()`` is only a parent for dialogs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from ..effects import device as devices
from ..effects.base import Effect
from ..effects.models import ModelManager
from ..effects.plugins import Plugins
from ..effects.registry import Registry
from ..host.api import ContextInfo
from ..host.selection import HostSelection
from ..jobs.runner import Job, JobRunner
from .audition import Audition
from .document import Document
from .job_relay import JobRelay
from .settings import DEFAULTS, Settings
from .timeline.state import ViewState

if TYPE_CHECKING:
    from .main_window import MainWindow


class SelectionService:
    """:class:`editor.host.SelectionApi` over the timeline's view state."""

    def __init__(self, state: ViewState, document: Document) -> None:
        self._state = state
        self._document = document
        self.changed = state.selection_changed
        self.cursor_changed = state.cursor_changed
        self.playhead_changed = state.playhead_changed

    def current(self) -> HostSelection:
        st = self._state
        start, stop = (st.sel_start, st.sel_stop) if st.has_range else (st.cursor, st.cursor)
        return HostSelection(start, stop, st.track_ids, st.clip_ids, st.cursor, st.low_hz, st.high_hz, st.mask)

    def set(self, start: int, stop: int, track_ids: tuple[str, ...] | None = None) -> None:
        self._state.set_selection(start, stop, track_ids)

    def set_clips(self, clip_ids: tuple[str, ...]) -> None:
        self._state.set_clips(clip_ids)

    def set_band(self, low_hz: float | None, high_hz: float | None, mask: Any = None) -> None:
        self._state.set_band(low_hz, high_hz, mask)

    def target_tracks(self) -> tuple[str, ...]:
        if self._state.track_ids:
            return self._state.track_ids
        return tuple(t.id for t in self._document.project.tracks)

    @property
    def playhead(self) -> int | None:
        return self._state.playhead


class JobsService:
    """:class:`editor.host.JobsApi` over the window's job runner."""

    def __init__(self, runner: JobRunner, owner: QObject) -> None:
        self._runner = runner
        self._owner = owner
        self.job_added = runner.job_added
        self.job_ended = runner.job_ended

    def submit(self, job: Job) -> Job:
        return self._runner.submit(job)

    def run(self, title: str, fn: Callable[..., Any], gpu: bool = False, kind: str = "task") -> Job:
        return self._runner.run(title, fn, gpu=gpu, kind=kind)

    def relay(self, job: Job, ok: Callable[[Any], None], fail: Callable[[str], None],
              cancelled: Callable[[], None] | None = None, warned: Callable[[str], None] | None = None) -> None:
        JobRelay(self._owner, job, ok, fail, cancelled, warned)

    def active(self) -> list[Job]:
        return self._runner.active_jobs()


class SettingsService:
    """:class:`editor.host.SettingsApi`: typed by the host's defaults or by ``default``."""

    def __init__(self, settings: Settings) -> None:
        self._s = settings

    def get(self, key: str, default: Any = None) -> Any:
        if key in DEFAULTS or default is None:
            return self._s.get(key)
        value = self._s.q.value(key, default)
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        self._s.set(key, value)

    def contains(self, key: str) -> bool:
        return bool(self._s.q.contains(key))


class ModelsService(QObject):
    """:class:`editor.host.ModelsApi`: the model folder and the device policy, from settings."""

    changed = Signal()  # a model was installed or removed (the models dialog says so)

    def __init__(self, settings: Settings, open_dialog: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._s = settings
        self._open = open_dialog

    def manager(self) -> ModelManager:
        folder = self._s.get("models/folder")
        return ModelManager(Path(folder) if folder else None)

    def device_policy(self) -> str:
        policy = str(self._s.get("ai/device") or "auto")
        return policy if policy in devices.POLICIES else "auto"

    def uses_gpu_slot(self, effect: Effect) -> bool:
        return devices.uses_gpu_slot(effect.uses_gpu, self.device_policy())

    def open_dialog(self) -> None:
        self._open()


class EffectsService:
    """:class:`editor.host.EffectsApi` over the effect controller and panel."""

    def __init__(self, window: MainWindow) -> None:
        self._w = window

    @property
    def registry(self) -> Registry:
        return self._w.effects.registry

    def show(self, effect_id: str) -> None:
        from .panels.effects import show_effect

        show_effect(self._w, effect_id)

    def apply(self, effect_id: str, params: dict[str, Any] | None = None, scope: str = "auto",
              mode: str = "in_place") -> Job | None:
        return self._w.effects.apply(effect_id, params, scope, mode)


class UiService:
    """:class:`editor.host.UiApi`: menus, context menus and docks of the main window."""

    def __init__(self, window: MainWindow) -> None:
        self._w = window
        self._providers: dict[str, list[Callable[[QMenu, ContextInfo], None]]] = {}
        self._panels: dict[str, QWidget] = {}
        self._docks: dict[str, Any] = {}

    def message(self, text: str) -> None:
        self._w.show_message(text)

    def error(self, text: str) -> None:
        self._w.show_error(text)

    def window(self) -> QWidget:
        return self._w

    def menu(self, name: str) -> QMenu:
        return self._w.menus[name]

    def add_action(self, menu: str, text: str, callback: Callable[[], None], shortcut: str | Sequence[str] = "",
                   tip: str = "", checkable: bool = False, enabled_when: str = "always") -> QAction:
        a = make_action(self._w, text, callback, shortcut, tip, checkable)
        if menu:
            self.menu(menu).addAction(a)
        self._w.commands.track(a, enabled_when)
        return a

    def add_context_items(self, target: str, provider: Callable[[QMenu, ContextInfo], None]) -> None:
        self._providers.setdefault(target, []).append(provider)

    def fill_context_menu(self, menu: QMenu, info: ContextInfo) -> None:
        """Let every provider for ``info.target`` add its entries (the timeline calls this)."""
        for provider in self._providers.get(info.target, []):
            try:
                provider(menu, info)
            except Exception as exc:  # noqa: BLE001 - a plugin's menu must not break the menu
                self.error(f"Context menu: {type(exc).__name__}: {exc}")

    def register_panel(self, panel_id: str, widget: QWidget, dock: Any) -> None:
        self._panels[panel_id] = widget
        self._docks[panel_id] = dock

    def panel(self, panel_id: str) -> QWidget | None:
        return self._panels.get(panel_id)

    def dock(self, panel_id: str) -> Any:
        return self._docks.get(panel_id)

    def show_panel(self, panel_id: str) -> QWidget | None:
        dock = self._docks.get(panel_id)
        if dock is None:
            return None
        dock.show()
        dock.raise_()
        return self._panels[panel_id]

    def lanes_width(self) -> int:
        return self._w.lanes_width()

    def visible_range(self) -> tuple[int, int]:
        st = self._w.state
        return int(st.left), int(st.left + self._w.lanes_width() * st.fpp)


def make_action(parent: QWidget, text: str, slot: Callable, shortcut: Any = None, tip: str = "",
                checkable: bool = False) -> QAction:
    """A window-wide action with its shortcut(s) named in its tooltip."""
    a = QAction(text, parent)
    if shortcut:
        if isinstance(shortcut, (list, tuple)):
            a.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            a.setShortcut(QKeySequence(shortcut))
    a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        a.setStatusTip(tip)
        keys = a.shortcut().toString()
        a.setToolTip(f"{tip} ({keys})" if keys else tip)
    a.setCheckable(checkable)
    a.triggered.connect(slot)
    parent.addAction(a)
    return a


class QtHost:
    """The :class:`editor.host.Host` the window gives to plugins."""

    def __init__(self, window: MainWindow, audition: Audition, plugins: Plugins) -> None:
        self.document = window.document
        self.selection = SelectionService(window.state, window.document)
        self.jobs = JobsService(window.jobs, window)
        self.audition = audition
        self.ui = UiService(window)
        self.settings = SettingsService(window.settings)
        self.models = ModelsService(window.settings, window.open_models_dialog, window)
        self.effects = EffectsService(window)
        self.plugins = plugins
