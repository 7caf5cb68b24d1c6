"""Delivering a background job's outcome to plain functions on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from ..jobs.runner import Job, JobState


class JobRelay(QObject):
    """Receives one job's outcome on the GUI thread and calls plain functions.

    A job emits its signals from a worker thread; connecting them to lambdas would
    run those on the worker. The slots here are methods of a QObject that lives on
    the GUI thread, so Qt queues the calls to it (see :mod:`editor.jobs.runner`).
    The relay deletes itself once the job has ended. A job that ended before the
    relay was made (a short job started, then relayed) is delivered too, once.
    """

    def __init__(self, parent: QObject, job: Job, ok: Callable[[Any], None], fail: Callable[[str], None],
                 cancelled: Callable[[], None] | None = None, warned: Callable[[str], None] | None = None) -> None:
        super().__init__(parent)
        self._ok, self._fail, self._cancelled, self._warned = ok, fail, cancelled, warned
        self._delivered = False
        self._job = job
        job.finished.connect(self.ok)
        job.failed.connect(self.fail)
        job.cancelled.connect(self.cancelled)
        if warned is not None:
            job.warned.connect(self.warned)
        if job.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED):
            # It ended before we connected (its signals may have gone already): deliver
            # from its recorded outcome on the next turn of the event loop.
            QTimer.singleShot(0, self, self._deliver_ended)

    def _deliver_ended(self) -> None:
        job = self._job
        if job.state is JobState.DONE:
            self.ok(job.result)
        elif job.state is JobState.FAILED:
            self.fail(job.error)
        else:
            self.cancelled()

    def _first(self) -> bool:
        if self._delivered:
            return False
        self._delivered = True
        return True

    def ok(self, result: object) -> None:
        if not self._first():
            return
        try:
            self._ok(result)
        finally:
            self.deleteLater()

    def fail(self, message: str) -> None:
        if not self._first():
            return
        try:
            self._fail(message)
        finally:
            self.deleteLater()

    def cancelled(self) -> None:
        if not self._first():
            return
        try:
            if self._cancelled is not None:
                self._cancelled()
        finally:
            self.deleteLater()

    def warned(self, text: str) -> None:
        if self._warned is not None:
            self._warned(text)
