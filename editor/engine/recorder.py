"""Recording from an input device into a take file.

The PortAudio callback only copies the input into a preallocated ring and keeps
peak levels for the meter; a writer thread drains the ring into a
:class:`~editor.core.takefile.TakeWriter`, which reaches the disk at least once a
second. Opening the input without a take (``monitor``) drives the level meter
before recording starts.

Latency: a sample recorded at stream time *t* was played (when overdubbing) at
*t - output latency - input latency*. :func:`compensation_frames` turns the
latencies the devices report, plus a manual offset from Settings, into the
frames to move the take earlier so it lines up with what the performer heard.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import SeedwaveError
from ..core.takefile import TakeInfo, TakeWriter


class RecordingError(SeedwaveError):
    """No input device, or the input failed."""


@dataclass(frozen=True)
class InputDevice:
    name: str
    channels: int
    default_rate: int


def input_devices() -> list[InputDevice]:
    """Devices that can record (empty when PortAudio is missing or lists none)."""
    try:
        import sounddevice as sd

        return [InputDevice(d["name"], int(d["max_input_channels"]), int(d["default_samplerate"]))
                for d in sd.query_devices() if d.get("max_input_channels", 0) > 0]
    except Exception:  # noqa: BLE001 - no audio library means no devices, never a crash
        return []


def probe_input(device: str | int | None = None) -> tuple[bool, str]:
    """(available, reason) for recording from ``device`` (None: the default)."""
    devices = input_devices()
    if not devices:
        return False, "no audio input device found"
    if device is not None and not isinstance(device, int) and device not in [d.name for d in devices]:
        return False, f"the input device {device!r} is not connected"
    return True, ""


def default_input() -> str | None:
    """PulseAudio's input when present (its default source), else the system default."""
    names = [d.name for d in input_devices()]
    return "pulse" if "pulse" in names else None


def compensation_frames(rate: int, input_latency: float, output_latency: float = 0.0,
                        manual_ms: float = 0.0) -> int:
    """Frames to move a take earlier: reported latencies plus the manual offset."""
    return max(0, int(round((input_latency + output_latency + manual_ms / 1000.0) * rate)))


class Recorder:
    """One input stream; ``start_take`` / ``stop_take`` record while it runs."""

    def __init__(self, device: str | int | None = None, channels: int = 2, sample_rate: int = 48000,
                 ring_seconds: float = 4.0, latency: float = 0.1) -> None:
        self.device = device if device is not None else default_input()
        self.channels = int(channels)
        self.sample_rate = int(sample_rate)
        self.latency_request = latency
        self._ring = np.zeros((int(ring_seconds * sample_rate), self.channels), np.float32)
        self._write = 0  # absolute frame counters
        self._read = 0
        self._lock = threading.Lock()  # ring counters and peaks (held briefly, also by the callback)
        self._io = threading.Lock()  # one drain at a time, so a stopping take gets every frame once
        self._skip = 0
        self._data = threading.Event()
        self._stream = None
        self._writer: TakeWriter | None = None
        self._thread: threading.Thread | None = None
        self._stop_thread = threading.Event()
        self._peaks = np.zeros(self.channels, np.float32)
        self.overruns = 0
        self.error = ""
        self.input_latency = 0.0

    # -- stream -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def recording(self) -> bool:
        return self._writer is not None

    def open(self) -> None:
        """Open the input (the meter starts moving); raises RecordingError with a reason."""
        if self._stream is not None:
            return
        ok, reason = probe_input(self.device)
        if not ok:
            raise RecordingError(reason)
        import sounddevice as sd

        try:
            stream = sd.InputStream(device=self.device, channels=self.channels, samplerate=self.sample_rate,
                                    dtype="float32", latency=self.latency_request, callback=self._callback)
            stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio raises many kinds; one line for the user
            raise RecordingError(f"cannot open the input device: {exc}") from None
        self._stream = stream
        self.input_latency = float(stream.latency)
        self._stop_thread.clear()
        self._thread = threading.Thread(target=self._drain_loop, name="seedwave-recorder", daemon=True)
        self._thread.start()

    def close(self) -> TakeInfo | None:
        """Stop the input; a take in progress is finished first."""
        info = self.stop_take() if self._writer is not None else None
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - closing a failed device must not raise
                pass
        self._stop_thread.set()
        self._data.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        return info

    # -- takes --------------------------------------------------------------------
    def start_take(self, position: int, latency_frames: int = 0, track_id: str = "",
                   track_name: str = "Recording", root: Path | None = None) -> TakeInfo:
        """Record from now on; the take belongs at ``position - latency_frames``."""
        if self._stream is None:
            self.open()
        with self._lock:
            self._read = self._write  # what came before the press is not part of the take
            self._writer = TakeWriter(self.sample_rate, self.channels, max(0, position - latency_frames),
                                      track_id, track_name, latency_frames, root)
            # Frames that would land before the timeline's start are dropped.
            self._skip = max(0, latency_frames - position)
        return self._writer.info

    def stop_take(self) -> TakeInfo | None:
        """Finish the take: everything captured so far is on disk when this returns."""
        with self._io:
            with self._lock:
                writer = self._writer
            if writer is None:
                return None
            self._drain_locked(final=True)
            with self._lock:
                self._writer = None
        return writer.close()

    @property
    def take_frames(self) -> int:
        w = self._writer
        return w.frames if w is not None else 0

    def levels(self, reset: bool = True) -> np.ndarray:
        """Peak level of each channel since the last call (linear)."""
        with self._lock:
            out = self._peaks.copy()
            if reset:
                self._peaks[:] = 0
        return out

    # -- threads ------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:  # noqa: ANN001 - sounddevice signature
        if status and status.input_overflow:
            self.overruns += 1
        size = self._ring.shape[0]
        with self._lock:
            if self._write - self._read + frames > size:
                self.overruns += 1  # the writer fell behind by a whole ring: drop the oldest
                self._read = self._write + frames - size
            i = self._write % size
            first = min(frames, size - i)
            self._ring[i : i + first] = indata[:first]
            if first < frames:
                self._ring[: frames - first] = indata[first:]
            self._write += frames
            np.maximum(self._peaks, np.abs(indata).max(axis=0), out=self._peaks)
        self._data.set()

    def _drain_loop(self) -> None:
        while not self._stop_thread.is_set():
            self._data.wait(0.1)
            self._data.clear()
            try:
                self._drain()
            except SeedwaveError as exc:  # disk full: stop writing, keep what is on disk
                self.error = str(exc)
                with self._lock:
                    self._writer = None

    def _drain(self, final: bool = False) -> None:
        with self._io:
            self._drain_locked(final)

    def _drain_locked(self, final: bool) -> None:
        size = self._ring.shape[0]
        with self._lock:
            writer = self._writer
            start, stop = self._read, self._write
            self._read = stop
            chunks = []
            if writer is not None and stop > start:
                i, n = start % size, stop - start
                first = min(n, size - i)
                chunks.append(self._ring[i : i + first].copy())
                if first < n:
                    chunks.append(self._ring[: n - first].copy())
        if writer is None:
            return
        for c in chunks:
            if self._skip:
                drop = min(self._skip, c.shape[0])
                self._skip -= drop
                c = c[drop:]
            if c.shape[0]:
                writer.write(c)
        if final:
            writer.flush()
