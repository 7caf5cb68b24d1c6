"""Recorded takes on disk, written as they arrive so a crash keeps them.

A take is two files in a ``recordings`` folder of the cache:

* ``<id>.f32``: interleaved float32 samples, appended as the input delivers them
  and flushed to the operating system at least once a second;
* ``<id>.json``: what the samples mean (rate, channels), where they belong (track,
  timeline position, latency compensation) and which process is recording.

Nothing else is needed to read a take back, so after a crash (the recording
process is gone, the sidecar says the take never finished) every sample that
reached the file is offered for recovery. A finished take is turned into
ordinary blocks (:func:`take_to_seq`) and its files are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .errors import SeedwaveError
from .sequence import AudioSeq
from .store import BlockStore, cache_root, default_store
from .task import TaskContext

TAKE_FORMAT = 1
#: Bytes between flushes to the operating system (and at most this many seconds).
FLUSH_SECONDS = 1.0


def recordings_root(root: Path | None = None) -> Path:
    folder = Path(root) if root is not None else cache_root() / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class TakeInfo:
    """The sidecar of a take."""

    id: str
    sample_rate: int
    channels: int
    position: int  # timeline frame where the take's first sample belongs (after compensation)
    track_id: str = ""  # the armed track, or "" for a new track
    track_name: str = "Recording"
    latency_frames: int = 0  # compensation already applied to ``position``
    pid: int = 0
    started: float = 0.0
    finished: bool = False
    format: int = TAKE_FORMAT

    def with_(self, **changes) -> TakeInfo:
        return replace(self, **changes)


def _sidecar(folder: Path, take_id: str) -> Path:
    return folder / f"{take_id}.json"


def _samples(folder: Path, take_id: str) -> Path:
    return folder / f"{take_id}.f32"


def _write_sidecar(folder: Path, info: TakeInfo) -> None:
    path = _sidecar(folder, info.id)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(info)))
    os.replace(tmp, path)


class TakeWriter:
    """Appends interleaved input to a take file; safe to kill at any moment."""

    def __init__(self, sample_rate: int, channels: int, position: int = 0, track_id: str = "",
                 track_name: str = "Recording", latency_frames: int = 0, root: Path | None = None) -> None:
        if channels < 1 or sample_rate < 1:
            raise ValueError("a take has at least one channel and a positive rate")
        self.folder = recordings_root(root)
        self.info = TakeInfo(uuid.uuid4().hex[:12], int(sample_rate), int(channels), int(position), track_id,
                             track_name, int(latency_frames), os.getpid(), time.time())
        _write_sidecar(self.folder, self.info)
        self.path = _samples(self.folder, self.info.id)
        self._fh = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._last_flush = time.monotonic()
        self.frames = 0

    def write(self, interleaved: np.ndarray) -> None:
        """Append frames × channels float32 samples."""
        data = np.ascontiguousarray(interleaved, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.info.channels:
            raise ValueError(f"expected frames × {self.info.channels}, got {data.shape}")
        try:
            self._fh.write(memoryview(data).cast("B"))
        except OSError as exc:
            raise SeedwaveError(f"cannot write the recording ({exc.strerror or exc})", self.path) from exc
        self.frames += data.shape[0]
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_SECONDS:
            self.flush()
            self._last_flush = now

    def flush(self) -> None:
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())

    def close(self) -> TakeInfo:
        """Finish the take (its samples stay until :func:`take_to_seq` or :func:`discard_take`)."""
        if not self._fh.closed:
            self.flush()
            self._fh.close()
            self.info = self.info.with_(finished=True)
            _write_sidecar(self.folder, self.info)
        return self.info


def take_frames(folder: Path, info: TakeInfo) -> int:
    """Whole frames on disk (a crash can leave a partial last frame: it is ignored)."""
    try:
        size = _samples(folder, info.id).stat().st_size
    except FileNotFoundError:
        return 0
    return size // (4 * info.channels)


def take_to_seq(folder: Path, info: TakeInfo, store: BlockStore | None = None,
                ctx: TaskContext | None = None) -> AudioSeq | None:
    """The take's samples as ordinary blocks (None when it holds no whole frame)."""
    frames = take_frames(folder, info)
    if frames == 0:
        return None
    store = store or default_store()
    raw = np.memmap(_samples(folder, info.id), np.float32, "r", shape=(frames, info.channels))
    writer = store.writer(info.channels)
    chunk = 1 << 18
    try:
        for pos in range(0, frames, chunk):
            part = np.array(raw[pos : pos + chunk].T, dtype=np.float32)
            bad = ~np.isfinite(part)
            if bad.any():
                part[bad] = 0.0
            writer.write(part)
            if ctx is not None:
                ctx.progress(min(1.0, (pos + chunk) / frames), "Storing the recording")
    except BaseException:
        writer.abort()
        raise
    finally:
        del raw
    return AudioSeq.from_blocks(writer.finish(), info.channels)


def discard_take(folder: Path, take_id: str) -> None:
    for p in (_samples(folder, take_id), _sidecar(folder, take_id)):
        with contextlib.suppress(OSError):
            p.unlink()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_info(path: Path) -> TakeInfo | None:
    """A sidecar, or None when it is not one of ours (never raises on a bad file)."""
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or raw.get("format") != TAKE_FORMAT:
            return None
        info = TakeInfo(**{k: raw[k] for k in TakeInfo.__dataclass_fields__ if k in raw})
        if info.channels < 1 or info.sample_rate < 1 or not info.id.isalnum():
            return None
        return info
    except (OSError, ValueError, TypeError, KeyError):
        return None


def orphaned_takes(root: Path | None = None) -> list[TakeInfo]:
    """Takes whose recording process is gone before they were turned into a clip:
    what a crash mid-recording left, for recovery to offer."""
    folder = recordings_root(root)
    out = []
    for side in sorted(folder.glob("*.json")):
        info = read_info(side)
        if info is None or (info.pid == os.getpid() or _alive(info.pid)):
            continue
        if take_frames(folder, info) == 0:
            discard_take(folder, info.id)
            continue
        out.append(info)
    return out
