"""Playback through sounddevice, fed ahead of time by a renderer thread.

The audio callback only copies from a ring buffer; a feeder thread renders the
mix (with the same :func:`~editor.engine.renderer.render` as export) about half a
second ahead. Every chunk's levels are kept with its timeline position, so meters
show what is actually heard at the playhead. When the project changes (an edit, a
fader move) the feeder throws away what it rendered but has not played and
renders again from the playhead, so changes are heard at once.

The feeder renders through one :class:`~editor.engine.renderer.Renderer`
session per play, so insert effects keep their state from chunk to chunk. After
an edit the chains keep their state too (``seamless``): a parameter change is
heard from the next chunk without a break in reverb tails or envelopes. A seek
or a loop starts the chains fresh, as export does at its start.

With no usable audio device (PortAudio missing, no output device), ``Player``
reports ``available = False`` and a reason; nothing else in the app depends on it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..core.chain import Chain
from ..core.errors import SeedwaveError
from ..core.model import Project
from .renderer import OUT_CHANNELS, Renderer, render


@dataclass(frozen=True)
class Levels:
    """Peak levels (linear) of one rendered chunk."""

    position: int
    master: tuple[float, float]
    tracks: dict[str, tuple[float, float]]


def probe_output() -> tuple[bool, str]:
    """(available, reason) for audio output on this machine."""
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        return False, f"no audio library (PortAudio): {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure means no playback, never a crash
        return False, f"audio output unavailable: {exc}"
    try:
        devices = sd.query_devices()
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot list audio devices: {exc}"
    outs = [d for d in devices if d.get("max_output_channels", 0) > 0]
    if not outs:
        return False, "no audio output device found"
    return True, ""


def default_output() -> str | int | None:
    """The device to use when none is chosen: PulseAudio's if present (it paces
    correctly where ALSA's "default" can stall), else the system default."""
    names = output_devices()
    return "pulse" if "pulse" in names else None


def output_devices() -> list[str]:
    try:
        import sounddevice as sd

        return [d["name"] for d in sd.query_devices() if d.get("max_output_channels", 0) > 0]
    except Exception:  # noqa: BLE001
        return []


class Player:
    """Plays a project from a position, optionally a range or a loop."""

    AHEAD_SECONDS = 0.5
    CHUNK = 2048
    KEEP_SECONDS = 0.1  # rendered audio kept when the project changes (feeder's head start)
    # While edits keep coming (a control being dragged), the feeder renders only this
    # much beyond the head start, and later edits of the drag throw nothing away: they
    # are heard once what is buffered has played (at most about this plus the head
    # start), the effects' state runs on without a jump, and no work is wasted (with
    # insert effects, re-rendering half a second on every edit would cost more than
    # playing). The drag ends when no edit came for EDIT_QUIET_SECONDS.
    EDIT_AHEAD_SECONDS = 0.2
    EDIT_QUIET_SECONDS = 0.25

    def __init__(self, device: str | int | None = None, blocksize: int = 1024, ring_seconds: float = 2.0,
                 latency: float = 0.2) -> None:
        self.available, self.reason = probe_output()
        self.device = device
        self.blocksize = blocksize
        # Device buffer in seconds. The callback is Python and needs the GIL: with
        # PortAudio's default (~40 ms) any GUI stall that long underflows, so the
        # default is 0.2 s (see docs/benchmarks/playback.md).
        self.latency = latency
        self._project: Project | None = None
        self._rate = 48000
        self._ring_seconds = ring_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop_feeder = threading.Event()
        self._stream = None
        self._feeder: threading.Thread | None = None
        self._ring = np.zeros((OUT_CHANNELS, 1), np.float32)
        self._ring_pos = np.zeros(1, np.int64)  # timeline frame of each ring slot
        self._read = 0  # absolute counters (ring index = counter % size)
        self._write = 0
        self._render_pos = 0  # next timeline frame to render
        self._range: tuple[int, int] | None = None
        self._loop = False
        self._playing = False
        self._finished = False
        self._levels: deque[Levels] = deque(maxlen=256)
        self._played_pos = 0
        self._anchor: tuple[int, float] | None = None  # (timeline frame, monotonic time it sounds)
        self.underruns = 0
        self.error = ""
        self._renderer: Renderer | None = None  # used by the feeder thread only
        self._seamless = False  # the next chunk follows an edit: keep insert state
        self._last_edit = -1e9  # monotonic time of the last project change while playing

    # -- state -------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def finished(self) -> bool:
        """True once a non-looping play reached its end."""
        return self._finished

    def set_project(self, project: Project) -> None:
        """Use ``project`` from now on; unplayed audio is rendered again."""
        with self._lock:
            rate_changed = project.sample_rate != self._rate
            self._project = project
            if self._playing and not rate_changed:
                now = time.monotonic()
                if now - self._last_edit >= self.EDIT_QUIET_SECONDS:
                    self._discard_ahead()  # the first edit of a burst is heard after the head start
                self._last_edit = now
        if self._playing and rate_changed:
            pos = self.position
            self.stop()
            self.play(pos, *(self._range or (None,)), loop=self._loop)
        self._wake.set()

    def _discard_ahead(self) -> None:
        """Drop rendered-but-unplayed audio beyond a short head start, and the
        levels measured on it (caller holds the lock)."""
        keep = min(self._write - self._read, max(self.blocksize, int(self.KEEP_SECONDS * self._rate)))
        if self._write > self._read + keep:
            size = self._ring.shape[1]
            self._render_pos = int(self._ring_pos[(self._read + keep) % size])
            self._write = self._read + keep
            self._seamless = True
            while self._levels and self._levels[-1].position >= self._render_pos:
                self._levels.pop()

    @property
    def position(self) -> int:
        """Timeline frame being heard now, from the stream's own timing."""
        with self._lock:
            anchor = self._anchor
            if not self._playing or anchor is None:
                return self._played_pos
            frame, at = anchor
            est = frame + int((time.monotonic() - at) * self._rate)
            lo = self._range[0] if self._range else 0
            return int(min(max(est, lo), self._played_pos))

    def levels_at(self, frame: int | None = None) -> Levels | None:
        """Levels of the chunk containing ``frame`` (default: the playhead)."""
        frame = self.position if frame is None else frame
        best = None
        for lv in reversed(list(self._levels)):  # newest first: right after a loop wraps, too
            if lv.position <= frame < lv.position + self.CHUNK:
                return lv
            if lv.position <= frame and (best is None or lv.position > best.position):
                best = lv
        return best

    # -- transport ---------------------------------------------------------------
    def play(self, start: int, stop: int | None = None, loop: bool = False) -> None:
        if not self.available:
            raise RuntimeError(self.reason)
        if self._project is None:
            raise RuntimeError("no project to play")
        self.stop()
        import sounddevice as sd

        self._start_ring(start, stop, loop)
        self._fill(int(self.AHEAD_SECONDS * self._rate))
        self._playing = True
        self._feeder = threading.Thread(target=self._feed_loop, name="seedwave-feeder", daemon=True)
        self._feeder.start()
        try:
            self._stream = sd.OutputStream(
                samplerate=self._rate, channels=OUT_CHANNELS, dtype="float32", blocksize=self.blocksize,
                device=self.device if self.device is not None else default_output(), callback=self._callback,
                finished_callback=self._on_finished, latency=self.latency,
            )
            self._stream.start()
        except Exception as exc:  # noqa: BLE001 - a device error must not crash the app
            self._playing = False
            self._stop_feeder.set()
            self._wake.set()
            self.error = f"cannot open the audio device: {exc}"
            raise RuntimeError(self.error) from exc

    def _start_ring(self, start: int, stop: int | None, loop: bool) -> None:
        """An empty ring buffer and feeder state for playing from ``start``."""
        assert self._project is not None
        self._rate = self._project.sample_rate
        size = max(int(self._ring_seconds * self._rate), 4 * self.CHUNK)
        self._ring = np.zeros((OUT_CHANNELS, size), np.float32)
        self._ring_pos = np.zeros(size, np.int64)
        self._read = self._write = 0
        self._anchor = None
        self._render_pos = self._played_pos = max(0, start)
        end = stop if stop is not None else max(start + 1, self._project.end)
        self._range = (max(0, start), end)
        self._loop = loop
        self._finished = False
        self._levels.clear()
        self.underruns = 0
        self.error = ""
        self._seamless = False
        if self._renderer is not None:
            self._renderer.close()
        self._renderer = None
        self._stop_feeder.clear()

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        was = self._playing
        self._playing = False
        self._stop_feeder.set()
        self._wake.set()
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # noqa: BLE001
                pass
        if self._feeder is not None:
            self._feeder.join(timeout=2.0)
            self._feeder = None
        if self._renderer is not None and self._feeder is None:
            self._renderer.close()
            self._renderer = None
        if was and self._anchor is not None:
            frame, at = self._anchor
            self._played_pos = int(min(max(frame + (time.monotonic() - at) * self._rate, 0), self._played_pos))
        self._anchor = None

    def seek(self, frame: int) -> None:
        """Jump while playing (or set the start position while stopped)."""
        if self._playing:
            rng, loop = self._range, self._loop
            self.stop()
            self.play(frame, rng[1] if rng else None, loop)
        else:
            self._played_pos = frame

    # -- feeder ------------------------------------------------------------------
    def _feed_loop(self) -> None:
        ahead = int(self.AHEAD_SECONDS * self._rate)
        while not self._stop_feeder.is_set():
            self._fill(ahead)
            self._wake.wait(0.02)
            self._wake.clear()

    def _fill(self, ahead: int) -> None:
        size = self._ring.shape[1]
        dragging = int((self.KEEP_SECONDS + self.EDIT_AHEAD_SECONDS) * self._rate)
        while not self._stop_feeder.is_set():
            with self._lock:
                project = self._project
                buffered = self._write - self._read
                pos = self._render_pos
                target = ahead
                if time.monotonic() - self._last_edit < self.EDIT_QUIET_SECONDS:
                    target = min(ahead, dragging)
                if buffered >= min(target, size - self.CHUNK) or project is None:
                    return
                n = self.CHUNK
                if self._range is not None:
                    a, b = self._range
                    if pos >= b:
                        if not self._loop:
                            return
                        pos = a
                    n = min(n, b - pos)
                seamless, self._seamless = self._seamless, False
            tracks: dict[str, np.ndarray] = {}
            chunk = self._render(project, pos, n, tracks, seamless)
            master_peak = np.abs(chunk).max(axis=1) if n else np.zeros(OUT_CHANNELS)
            track_peaks = {k: tuple(float(v) for v in np.abs(x).max(axis=1)) for k, x in tracks.items()}
            with self._lock:
                if pos != self._render_pos and not (self._range is not None and pos == self._range[0]):
                    continue  # a seek, or an edit that dropped what was rendered ahead, happened meanwhile
                # An edit that left the write position alone (less than KEEP_SECONDS was buffered)
                # still gets this chunk of the previous project: throwing it away is what would
                # run the buffer dry while a fader is dragged; the edit is heard from the next chunk.
                w = self._write % size
                first = min(n, size - w)
                self._ring[:, w : w + first] = chunk[:, :first]
                self._ring[:, : n - first] = chunk[:, first:]
                idx = (np.arange(n) + w) % size
                self._ring_pos[idx] = np.arange(pos, pos + n)
                self._write += n
                self._render_pos = pos + n
                self._levels.append(Levels(pos, (float(master_peak[0]), float(master_peak[1])), track_peaks))

    def _render(self, project: Project, pos: int, n: int, tracks: dict[str, np.ndarray],
                seamless: bool) -> np.ndarray:
        """One chunk through the session renderer (feeder thread only). An insert
        that cannot run is reported in :attr:`error` and the mix plays without inserts."""
        if not project.has_inserts:  # nothing keeps state: the plain mix
            if self._renderer is not None:
                self._renderer.close()
                self._renderer = None
            return render(project, pos, n, track_outputs=tracks)
        try:
            if self._renderer is None:
                self._renderer = Renderer(project)
            elif self._renderer.project is not project:
                self._renderer.set_project(project)
            return self._renderer.render(pos, n, track_outputs=tracks, seamless=seamless)
        except SeedwaveError as exc:
            self.error = str(exc)
            if self._renderer is not None:
                self._renderer.close()
            self._renderer = None
            dry = project.with_(master_inserts=Chain(), tracks=tuple(t.with_(inserts=Chain()) for t in project.tracks))
            tracks.clear()
            return render(dry, pos, n, track_outputs=tracks)

    # -- audio thread --------------------------------------------------------------
    def _callback(self, outdata, frames, stream_time, status) -> None:  # noqa: ANN001 - sounddevice signature
        if status.output_underflow:
            self.underruns += 1
        delay = max(0.0, stream_time.outputBufferDacTime - stream_time.currentTime)
        with self._lock:
            size = self._ring.shape[1]
            avail = self._write - self._read
            n = min(frames, avail)
            r = self._read % size
            if n:
                self._anchor = (int(self._ring_pos[r]), time.monotonic() + delay)
            first = min(n, size - r)
            outdata[:first] = self._ring[:, r : r + first].T
            if n > first:
                outdata[first:n] = self._ring[:, : n - first].T
            if n:
                self._played_pos = int(self._ring_pos[(self._read + n - 1) % size]) + 1
            self._read += n
            ended = n < frames and self._range is not None and not self._loop and self._render_pos >= self._range[1]
        if n < frames:
            outdata[n:] = 0.0
            if ended:
                self._finished = True
                import sounddevice as sd

                raise sd.CallbackStop
            if self._playing:
                self.underruns += 1
        self._wake.set()

    def _on_finished(self) -> None:
        self._playing = False

    def wait_until(self, predicate, timeout: float) -> bool:
        """Poll ``predicate()`` until true or ``timeout`` seconds (for scripts/tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())
