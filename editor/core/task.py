"""Progress and cancellation for long operations, without Qt.

Long operations (import, export, effects) take a :class:`TaskContext`. They call
``ctx.progress(fraction, message)`` between chunks and ``ctx.check()``, which
raises :class:`~editor.core.errors.Cancelled` once the user has cancelled. The jobs
layer supplies a context wired to the UI; scripts and tests use the plain one here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import Cancelled

ProgressFn = Callable[[float, str], None]


class TaskContext:
    """Progress reporting and a cancel flag shared between a task and its owner."""

    def __init__(self, on_progress: ProgressFn | None = None) -> None:
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self.fraction = 0.0
        self.message = ""
        self.warnings: list[str] = []

    # -- owner side -------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    # -- task side --------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the task was cancelled."""
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1] and check for cancellation."""
        self.fraction = min(1.0, max(0.0, float(fraction)))
        if message:
            self.message = message
        if self._on_progress is not None:
            self._on_progress(self.fraction, self.message)
        self.check()

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def sub(self, start: float, stop: float) -> SubTask:
        """A view of this context that maps [0, 1] onto [start, stop]."""
        return SubTask(self, start, stop)


class SubTask(TaskContext):
    """A slice of a parent task's progress range; shares its cancel flag."""

    def __init__(self, parent: TaskContext, start: float, stop: float) -> None:
        self._parent = parent
        self._start = start
        self._span = stop - start
        self.warnings = parent.warnings

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def cancel(self) -> None:
        self._parent.cancel()

    def check(self) -> None:
        self._parent.check()

    def progress(self, fraction: float, message: str = "") -> None:
        self._parent.progress(self._start + self._span * min(1.0, max(0.0, fraction)), message)

    def warn(self, text: str) -> None:
        self._parent.warn(text)

    def sub(self, start: float, stop: float) -> SubTask:
        return SubTask(self, start, stop)

    @property
    def fraction(self) -> float:  # type: ignore[override]
        return self._parent.fraction

    @fraction.setter
    def fraction(self, value: float) -> None:
        pass

    @property
    def message(self) -> str:  # type: ignore[override]
        return self._parent.message

    @message.setter
    def message(self, value: str) -> None:
        pass


class Throttle:
    """Limits how often a progress callback fires (at most every ``interval`` s)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self._last = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False


def never_cancelled() -> TaskContext:
    """A context for callers that have no UI: no progress, never cancelled."""
    return TaskContext()


__all__ = ["Cancelled", "ProgressFn", "SubTask", "TaskContext", "Throttle", "never_cancelled"]
