"""Background jobs: every long operation runs here, never on the GUI thread.

A :class:`Job` wraps a function ``fn(ctx) -> result`` that runs on a worker
thread with a :class:`~editor.core.task.TaskContext`. The job reports progress,
ETA, warnings and its outcome through Qt signals, which arrive on the GUI thread
(queued connections), so workers never touch widgets. Cancel sets the context's
flag; the function stops at its next ``ctx.progress``/``ctx.check`` call, which
long loops make between chunks, so a cancel takes effect within a fraction of a
second. A cancelled or failed job never returns a result, so nothing is applied
half-done.

Connect job signals to methods of QObjects that live on the GUI thread (they
are then queued there); a plain lambda would run on the worker thread.

The runner has CPU slots and one GPU slot: GPU jobs (torch effects on CUDA/MPS)
queue for the single GPU slot, so two models never fight for GPU memory, while
CPU jobs run alongside.
"""

from __future__ import annotations

import enum
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..core.errors import Cancelled, SeedwaveError
from ..core.eta import EtaEstimator
from ..core.task import TaskContext


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class _JobContext(TaskContext):
    """Routes progress to the job's throttled signal."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        self._job._report(self.fraction, self.message)

    def warn(self, text: str) -> None:
        super().warn(text)
        self._job.warned.emit(text)


class Job(QObject):
    """One unit of background work with progress, cancel and a result."""

    progressed = Signal(float, str)
    state_changed = Signal(object, object)  # (job, state)
    finished = Signal(object)  # the result
    failed = Signal(str)  # one-line message
    cancelled = Signal()
    warned = Signal(str)

    _ids = 0

    def __init__(self, title: str, fn: Callable[[TaskContext], Any], gpu: bool = False,
                 kind: str = "task") -> None:
        super().__init__()
        Job._ids += 1
        self.id = Job._ids
        self.title = title
        self.fn = fn
        self.gpu = gpu
        self.kind = kind
        self.ctx = _JobContext(self)
        self.state = JobState.QUEUED
        self.fraction = 0.0
        self.message = ""
        self.error = ""
        self.details = ""
        self.result: Any = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._last_emit = 0.0
        self._eta = EtaEstimator()
        self._done_event = threading.Event()

    # -- owner API ---------------------------------------------------------------
    def cancel(self) -> None:
        self.ctx.cancel()
        if self.state is JobState.QUEUED:
            self._set_state(JobState.CANCELLED)
            self.cancelled.emit()
            self._done_event.set()

    @property
    def active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    def eta(self) -> float | None:
        """Seconds left, from the throughput measured over the last few seconds of progress
        (None until enough has been seen to be honest; see :mod:`editor.core.eta`)."""
        if self.state is not JobState.RUNNING:
            return None
        return self._eta.eta()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (for tests and shutdown)."""
        return self._done_event.wait(timeout)

    # -- worker side ---------------------------------------------------------------
    def _report(self, fraction: float, message: str) -> None:
        self._eta.update(fraction)
        self.fraction = fraction
        self.message = message
        now = time.monotonic()
        if now - self._last_emit >= 0.05 or fraction >= 1.0:
            self._last_emit = now
            self.progressed.emit(fraction, message)

    def _set_state(self, state: JobState) -> None:
        self.state = state
        self.state_changed.emit(self, state)

    def run(self) -> None:
        if self.ctx.cancelled or self.state is JobState.CANCELLED:
            if self.state is not JobState.CANCELLED:
                self._set_state(JobState.CANCELLED)
                self.cancelled.emit()
            self._done_event.set()
            return
        self.started_at = time.monotonic()
        self._set_state(JobState.RUNNING)
        try:
            result = self.fn(self.ctx)
            if self.ctx.cancelled:
                raise Cancelled()
        except Cancelled:
            self.ended_at = time.monotonic()
            self._set_state(JobState.CANCELLED)
            self.cancelled.emit()
        except SeedwaveError as exc:
            self._fail(str(exc), "")
        except MemoryError:
            self._fail("ran out of memory", traceback.format_exc())
        except Exception as exc:  # noqa: BLE001 - any error becomes a message, never a crash
            self._fail(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.ended_at = time.monotonic()
            self.result = result
            self.fraction = 1.0
            self._set_state(JobState.DONE)
            self.finished.emit(result)
        finally:
            self._done_event.set()

    def _fail(self, message: str, details: str) -> None:
        self.ended_at = time.monotonic()
        self.error = message
        self.details = details
        self._set_state(JobState.FAILED)
        self.failed.emit(message)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job.run()


class JobRunner(QObject):
    """Queues jobs on CPU worker threads and one GPU slot."""

    job_added = Signal(object)
    job_ended = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, cpu_slots: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cpu = QThreadPool(self)
        self._cpu.setMaxThreadCount(max(1, cpu_slots))
        self._gpu = QThreadPool(self)
        self._gpu.setMaxThreadCount(1)
        self.jobs: list[Job] = []
        self._lock = threading.Lock()
        self._closing = False
        _runners.add(self)

    def submit(self, job: Job) -> Job:
        if self._closing:
            job.cancel()
            return job
        with self._lock:
            self.jobs.append(job)
        job.state_changed.connect(self._state)  # a bound method: queued to the GUI thread
        self.job_added.emit(job)
        (self._gpu if job.gpu else self._cpu).start(_Runnable(job))
        self.busy_changed.emit(True)
        return job

    def run(self, title: str, fn: Callable[[TaskContext], Any], gpu: bool = False, kind: str = "task") -> Job:
        return self.submit(Job(title, fn, gpu, kind))

    def _state(self, job: Job, _state: JobState) -> None:
        if not job.active:
            self.job_ended.emit(job)
            if not self.active_jobs():
                self.busy_changed.emit(False)

    def active_threads(self) -> int:
        """Worker threads running a job now (tests check that none outlive a test)."""
        return self._cpu.activeThreadCount() + self._gpu.activeThreadCount()

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return [j for j in self.jobs if j.active]

    def clear_finished(self) -> None:
        with self._lock:
            self.jobs = [j for j in self.jobs if j.active]

    def cancel_all(self) -> None:
        for j in self.active_jobs():
            j.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait for the workers (on close)."""
        self._closing = True
        self.cancel_all()
        ok = self._cpu.waitForDone(timeout_ms)
        ok = self._gpu.waitForDone(timeout_ms) and ok
        return ok


_runners: weakref.WeakSet[JobRunner] = weakref.WeakSet()


def live_runners() -> list[JobRunner]:
    """Every JobRunner not yet garbage-collected."""
    return list(_runners)
