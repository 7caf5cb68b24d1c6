"""Models kept loaded between runs, and giving their memory back.

Loading a model takes seconds, so plugins keep one loaded between runs. Kept
for ever, it holds hundreds of megabytes of RAM or GPU memory that other
programs (and other models) need. So:

* a plugin that keeps a model registers it here (:meth:`ResidentModels.keep`)
  with a function that drops it, and marks it used on every use
  (:meth:`ResidentModels.touch`);
* the effect runner marks a run busy while it works (:meth:`ResidentModels.busy`)
  and calls :func:`end_of_run` when it ends, whether it finished, failed or was
  cancelled: that frees the GPU memory torch still caches for the finished run
  and drops models idle for longer than ``idle_seconds``;
* a daemon timer drops idle models too, so a model used once and never again
  does not stay loaded until the next run. Nothing is dropped while a run is busy.

``idle_seconds`` defaults to 300 (five minutes); ``SEEDWAVE_MODEL_IDLE_SECONDS``
changes it.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .device import free_gpu_memory

DEFAULT_IDLE_SECONDS = 300.0


def release_device_memory() -> None:
    """Give back the memory torch caches on CUDA and Apple MPS devices (no-op without torch)."""
    free_gpu_memory()
    torch = sys.modules.get("torch")
    mps = getattr(torch, "mps", None) if torch is not None else None
    backend = getattr(getattr(torch, "backends", None), "mps", None)
    if mps is not None and backend is not None and backend.is_available():
        mps.empty_cache()


def _idle_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get("SEEDWAVE_MODEL_IDLE_SECONDS", DEFAULT_IDLE_SECONDS)))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


@dataclass
class _Entry:
    release: Callable[[], None]
    device: str
    last_used: float


class ResidentModels:
    """Loaded models by key, with when each was last used."""

    def __init__(self, idle_seconds: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = _idle_from_env() if idle_seconds is None else idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._busy = 0
        self._timer: threading.Timer | None = None

    # -- plugins ------------------------------------------------------------------
    def keep(self, key: str, release: Callable[[], None], device: str = "cpu") -> None:
        """``key`` is loaded now (on ``device``); ``release()`` drops it."""
        with self._lock:
            self._entries[key] = _Entry(release, device, self._clock())
        self._schedule()

    def touch(self, key: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.last_used = self._clock()

    def forget(self, key: str) -> None:
        """``key`` was dropped by its owner (nothing to release any more)."""
        with self._lock:
            self._entries.pop(key, None)

    def loaded(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    # -- runs -----------------------------------------------------------------------
    @contextmanager
    def busy(self) -> Iterator[None]:
        """While a run works: nothing is released under it."""
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1

    # -- releasing --------------------------------------------------------------------
    def _release(self, keys: list[str], entries: list[_Entry]) -> list[str]:
        for entry in entries:
            entry.release()
        if entries:
            gc.collect()  # the model's tensors go now, so the cache below can be emptied
            if any(e.device != "cpu" for e in entries):
                release_device_memory()
        return keys

    def release_idle(self) -> list[str]:
        """Drop models unused for ``idle_seconds`` (none while a run is busy); returns their keys."""
        now = self._clock()
        with self._lock:
            if self._busy:
                return []
            keys = [k for k, e in self._entries.items() if now - e.last_used >= self.idle_seconds]
            entries = [self._entries.pop(k) for k in keys]
        return self._release(keys, entries)

    def release_all(self) -> list[str]:
        """Drop every model (settings change, memory pressure, shutdown)."""
        with self._lock:
            keys = list(self._entries)
            entries = [self._entries.pop(k) for k in keys]
        return self._release(keys, entries)

    def _schedule(self) -> None:
        with self._lock:
            if self._timer is not None or not self._entries:
                return
            oldest = min(e.last_used for e in self._entries.values())
            delay = max(1.0, oldest + self.idle_seconds - self._clock())
            self._timer = threading.Timer(delay, self._tick)
            self._timer.daemon = True
            self._timer.name = "seedwave-model-idle"
            self._timer.start()

    def _tick(self) -> None:
        with self._lock:
            self._timer = None
        self.release_idle()
        self._schedule()


#: The process-wide set of loaded models.
resident = ResidentModels()


def end_of_run(device: str) -> None:
    """After a run on ``device`` ended (finished, failed or cancelled): give back the GPU
    memory torch caches for it, and drop models that have been idle too long."""
    if device != "cpu":
        gc.collect()
        release_device_memory()
    resident.release_idle()
