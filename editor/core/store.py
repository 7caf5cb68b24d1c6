"""The on-disk block cache: where new audio goes when an edit or import makes it.

Each process has a session folder under the user's cache directory. A
:class:`BlockWriter` streams audio into one file there, cutting it into blocks
and summarising each as it goes, so memory stays bounded however long the audio
is. A cache file is deleted when the last block in it is garbage (see
:class:`~editor.core.blocks.MappedFile`). After a crash the session folder stays
behind, which is what crash recovery reads.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np

from .blocks import BLOCK_FRAMES, Block, F32Backing, MappedFile, compute_summaries, digest_of
from .errors import SeedwaveError
from .task import TaskContext


def cache_root() -> Path:
    """The per-user cache folder (``$SEEDWAVE_CACHE``, else XDG cache)."""
    env = os.environ.get("SEEDWAVE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "seedwave"


class BlockWriter:
    """Streams planar float32 audio into a cache file, one block per ``BLOCK_FRAMES``."""

    def __init__(self, store: BlockStore, channels: int, block_frames: int = BLOCK_FRAMES) -> None:
        self.store = store
        self.channels = channels
        self.block_frames = block_frames
        self.path = store.new_file_path()
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in finish()/abort()
        self._buf = np.empty((channels, block_frames), np.float32)
        self._fill = 0
        self._pending: list[tuple[int, int, tuple, str]] = []  # (offset, frames, summaries, digest)
        self._offset = 0
        self.frames = 0

    def write(self, chunk: np.ndarray) -> None:
        """Append planar ``chunk`` (channels × n)."""
        if chunk.ndim != 2 or chunk.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got shape {chunk.shape}")
        pos = 0
        n = chunk.shape[1]
        while pos < n:
            take = min(n - pos, self.block_frames - self._fill)
            if self._fill == 0 and take == self.block_frames:
                # A whole block straight from the caller's buffer.
                self._emit(np.ascontiguousarray(chunk[:, pos : pos + take], dtype=np.float32))
            else:
                self._buf[:, self._fill : self._fill + take] = chunk[:, pos : pos + take]
                self._fill += take
                if self._fill == self.block_frames:
                    self._emit(self._buf)
                    self._fill = 0
            pos += take
        self.frames += n

    def write_block(self, data: np.ndarray) -> None:
        """Append ``data`` as exactly one block (after flushing any partial block)."""
        if self._fill:
            self._emit(np.ascontiguousarray(self._buf[:, : self._fill]))
            self._fill = 0
        self._emit(np.ascontiguousarray(data, dtype=np.float32))
        self.frames += data.shape[1]

    def _emit(self, data: np.ndarray) -> None:
        frames = data.shape[1]
        summaries = compute_summaries(data)
        try:
            self._fh.write(memoryview(data).cast("B"))
        except OSError as exc:
            self.abort()
            raise SeedwaveError(f"cannot write audio cache ({exc.strerror or exc})", self.path) from exc
        self._pending.append((self._offset, frames, summaries, digest_of(data)))
        self._offset += data.nbytes

    def finish(self) -> list[Block]:
        """Flush and return the written blocks, in order."""
        if self._fill:
            self._emit(np.ascontiguousarray(self._buf[:, : self._fill]))
            self._fill = 0
        self._fh.close()
        if not self._pending:
            os.unlink(self.path)
            return []
        mapped = MappedFile(self.path, temporary=True)
        blocks = [
            Block(self.channels, frames, F32Backing(mapped, off, self.channels, frames), summ, digest=digest)
            for off, frames, summ, digest in self._pending
        ]
        self._pending = []
        return blocks

    def abort(self) -> None:
        """Discard everything written so far."""
        try:
            self._fh.close()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


class BlockStore:
    """One process's cache session folder."""

    def __init__(self, root: Path | None = None) -> None:
        base = Path(root) if root is not None else cache_root() / "sessions"
        base.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
        (self.folder / "owner").write_text(str(os.getpid()))
        self._lock = threading.Lock()
        #: Blocks the last recovery journal refers to. Holding them keeps their cache
        #: files on disk until the next journal no longer needs them (an undo and a
        #: new edit would otherwise delete audio the journal still points at).
        self.journal_blocks: frozenset[Block] = frozenset()
        #: The files those blocks were in when journalled (a save may move a block to
        #: its project file; the journal still names the old one until rewritten).
        self.journal_files: frozenset[object] = frozenset()
        #: (project, path, modified) of the last journal, to rewrite it after a save.
        self.last_journal: tuple | None = None
        #: How many journals this session has written (recorded in each, as ``serial``).
        self.journal_serial = 0
        #: Held while a journal is written (autosave on the GUI thread, renewal after a save in a job).
        self.journal_lock = threading.RLock()

    def new_file_path(self) -> Path:
        return self.folder / f"{uuid.uuid4().hex}.f32"

    def writer(self, channels: int) -> BlockWriter:
        return BlockWriter(self, channels)

    def blocks_from_array(self, data: np.ndarray) -> list[Block]:
        """Store planar ``data`` as new blocks."""
        w = self.writer(data.shape[0])
        w.write(np.asarray(data, dtype=np.float32))
        return w.finish()

    def cache_aliases(self, blocks: list[Block], ctx: TaskContext | None = None) -> None:
        """Copy blocks that alias source files into the cache, so the project no
        longer depends on those files. Samples are unchanged."""
        todo = [b for b in blocks if b.backing.describe()["kind"] == "alias"]
        if not todo:
            return
        channels = todo[0].channels
        w = BlockWriter(self, channels)
        try:
            for i, b in enumerate(todo):
                if b.channels != channels:
                    raise ValueError("cache_aliases expects blocks with one channel count")
                w.write_block(b.read())
                if ctx is not None:
                    ctx.progress((i + 1) / len(todo), "Caching audio")
        except BaseException:
            w.abort()
            raise
        copies = w.finish()
        for b, c in zip(todo, copies, strict=True):
            b.replace_backing(c.backing)
            if b.digest is None:
                b.digest = c.digest

    def close(self) -> None:
        """Remove the session folder (at a clean exit; blocks must be dead by then)."""
        self.journal_blocks = frozenset()
        self.journal_files = frozenset()
        self.last_journal = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def close_unless_journal(self) -> None:
        """Remove the session folder at exit unless it holds a recovery journal
        (work to recover after an unclean exit)."""
        if not (self.folder / "recovery.json").exists():
            self.close()


_default: BlockStore | None = None
_default_lock = threading.Lock()


def default_store() -> BlockStore:
    """The process-wide store, created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = BlockStore()
            # Command-line runs and scripts leave no empty session folder behind;
            # a folder with a recovery journal stays (an unclean exit of the app).
            atexit.register(_default.close_unless_journal)
        return _default


def set_default_store(store: BlockStore | None) -> None:
    global _default
    with _default_lock:
        _default = store
