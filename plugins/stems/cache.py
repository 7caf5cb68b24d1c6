"""The on-disk cache of separated stems, so a clip is separated once per model.

Entries live under ``cache_root()/"stems"``, one ``.npy`` file (stems × channels
× frames, float32) and one ``.json`` file (stem names, model, checksums) per
key. The key hashes the audio window itself (its samples, rate and shape) with
the model's name and checksums and the pipeline version, so the same audio gives
the same stems in any project or session, and a changed model never returns
stale stems. Least recently used entries are deleted once the total passes the
size limit. Files are written under a temporary name and renamed, so a crash
never leaves a half entry, and two processes can share the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from pathlib import Path

import numpy as np

from editor.core.store import cache_root

DEFAULT_LIMIT = 8 * 2**30  # an hour of 4 stereo stems at 44.1 kHz is about 5 GiB
ENV_LIMIT = "SEEDWAVE_STEM_CACHE_MB"


def audio_key(audio: np.ndarray, rate: int, *parts: str) -> str:
    """A hex key for ``audio`` (planar float32) at ``rate`` with extra key ``parts``."""
    a = np.ascontiguousarray(audio, dtype=np.float32)
    h = hashlib.sha256()
    h.update(f"{a.shape[0]}x{a.shape[1]}@{rate}|{'|'.join(parts)}|".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()[:40]


class StemCache:
    """A size-limited, least-recently-used folder of separations."""

    def __init__(self, folder: Path | None = None, limit_bytes: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_root() / "stems"
        if limit_bytes is None:
            env = os.environ.get(ENV_LIMIT)
            limit_bytes = int(float(env) * 2**20) if env else DEFAULT_LIMIT
        self.limit_bytes = int(limit_bytes)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.npy", self.folder / f"{key}.json"

    def get(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """The stems stored under ``key`` and their metadata, or None."""
        data_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            data = np.load(data_path, allow_pickle=False)
        except (OSError, ValueError):
            self.misses += 1
            return None
        names = meta.get("stems", [])
        if data.ndim != 3 or len(names) != data.shape[0]:
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(data_path)  # mark as recently used
        self.hits += 1
        return {n: data[i] for i, n in enumerate(names)}, meta

    def put(self, key: str, stems: dict[str, np.ndarray], meta: dict) -> None:
        """Store ``stems`` (equal-shaped planar arrays) under ``key``, then evict to the limit."""
        if self.limit_bytes <= 0:
            return
        names = list(stems)
        data = np.stack([np.asarray(stems[n], dtype=np.float32) for n in names])
        if data.nbytes > self.limit_bytes:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        data_path, meta_path = self._paths(key)
        tag = uuid.uuid4().hex[:8]
        tmp_data = data_path.with_name(f".{key}.{tag}.npy")
        tmp_meta = meta_path.with_name(f".{key}.{tag}.json")
        try:
            np.save(tmp_data, data, allow_pickle=False)
            tmp_meta.write_text(json.dumps({**meta, "stems": names}))
            os.replace(tmp_meta, meta_path)
            os.replace(tmp_data, data_path)
        except OSError:
            for p in (tmp_data, tmp_meta):
                p.unlink(missing_ok=True)
            return  # a full disk must not fail the separation itself
        self.evict(keep=key)

    def entries(self) -> list[tuple[float, int, str]]:
        """(last use, bytes, key) for every entry, oldest first."""
        out = []
        if not self.folder.is_dir():
            return out
        for p in self.folder.glob("*.npy"):
            if p.name.startswith("."):
                continue
            try:
                st = p.stat()
                meta_size = p.with_suffix(".json").stat().st_size
            except OSError:
                continue
            out.append((st.st_mtime, st.st_size + meta_size, p.stem))
        out.sort()
        return out

    def size_bytes(self) -> int:
        return sum(e[1] for e in self.entries())

    def evict(self, keep: str | None = None) -> int:
        """Delete least recently used entries until the cache fits its limit; returns bytes freed."""
        with self._lock:
            entries = self.entries()
            total = sum(e[1] for e in entries)
            freed = 0
            for _mtime, size, key in entries:
                if total <= self.limit_bytes:
                    break
                if key == keep:
                    continue
                for p in self._paths(key):
                    with contextlib.suppress(OSError):
                        p.unlink()
                total -= size
                freed += size
            return freed

    def clear(self) -> None:
        """Delete every cached separation (Settings > Clear stem cache)."""
        with self._lock:
            if not self.folder.is_dir():
                return
            for p in self.folder.iterdir():
                if p.suffix in (".npy", ".json"):
                    with contextlib.suppress(OSError):
                        p.unlink()


_cache: StemCache | None = None
_cache_lock = threading.Lock()


def stem_cache() -> StemCache:
    """The process-wide stem cache (created on first use, under the current cache root)."""
    global _cache
    with _cache_lock:
        if _cache is None or _cache.folder != cache_root() / "stems":
            limit = _cache.limit_bytes if _cache is not None else None
            _cache = StemCache(limit_bytes=limit)
        return _cache
