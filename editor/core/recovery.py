"""Crash recovery: a small journal of the open project, written after changes.

The journal (``recovery.json`` in this process's cache session folder) holds the
project model with each block described by where its samples live (a cache file,
a source file alias or a saved project file) *and* how to know they are still
the same samples: the block's SHA-256 where it is known, and always the identity
of the file it lives in (device, inode, size, modification time), which changes
whenever the file is replaced or rewritten. Writing it costs a few milliseconds
whatever the length of the audio, so it can run every few seconds.

Two rules make recovery exact:

* **Autosave keeps alive what it references.** The store holds every block of the
  last journal, so an undo and a new edit cannot delete a cache file the journal
  still needs; and a block whose file is no longer at its path (a project file
  saved over, a source file replaced) is first copied into the cache, so the
  journal never names a path whose bytes are not the block's.
* **Recovery is all or nothing.** :func:`recover` checks every block (content hash,
  or file identity where no hash is known) before it moves or maps anything. If
  all check, the project comes back exactly. If not, nothing is substituted
  silently: :class:`RecoveryIncomplete` says what is missing, what could be kept is
  saved as a project whose damaged clips sit on tracks marked "(damaged)", and
  the broken session is not offered again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .blocks import (
    Backing,
    Block,
    F32Backing,
    MappedFile,
    PcmAliasBacking,
    SourceFile,
    compute_summaries,
    digest_of,
    file_identity,
)
from .errors import ProjectFileError, SeedwaveError
from .model import Clip, Project, Track
from .projectcheck import check_project_dict
from .sequence import AudioSeq, Segment
from .serialize import project_from_dict, project_to_dict
from .store import BlockStore, BlockWriter, cache_root

JOURNAL = "recovery.json"
REFUSED = "recovery.refused.json"
FORMAT = 2


class RecoveryError(ProjectFileError):
    """A crashed session cannot be recovered at all (its journal is unreadable)."""


class RecoveryIncomplete(ProjectFileError):
    """Some audio of a crashed session is missing or changed: not recovered exactly.

    ``missing`` lists what is lost, one line each; ``project`` is what could be
    kept (intact clips in place, the surviving parts of damaged clips on tracks
    marked "(damaged)"), already saved to ``salvage_path`` when that worked.
    """

    def __init__(self, problem: str, path: str | Path | None, missing: list[str],
                 project: Project | None, salvage_path: Path | None) -> None:
        super().__init__(problem, path)
        self.missing = missing
        self.project = project
        self.salvage_path = salvage_path


# --------------------------------------------------------------------------- writing


def write_journal(store: BlockStore, project: Project, path: Path | None, modified: bool) -> Path:
    """Atomically write the journal for ``project`` into the store's folder."""
    with store.journal_lock:
        return _write_journal(store, project, path, modified)


def _write_journal(store: BlockStore, project: Project, path: Path | None, modified: bool) -> Path:
    keep_alive(store, project)
    blocks: dict[str, dict[str, Any]] = {}
    used: list[Block] = []

    def on_block(b: Block) -> None:
        if b.uid not in blocks:
            d = b.backing.describe()
            d.update(channels=b.channels, frames=b.frames)
            if b.digest is not None:
                d["digest"] = b.digest
            blocks[b.uid] = d
            used.append(b)

    doc = {
        "format": FORMAT,
        "serial": store.journal_serial + 1,
        "saved_at": time.time(),
        "pid": os.getpid(),
        "path": str(path) if path else None,
        "modified": modified,
        "project": project_to_dict(project, on_block),
        "blocks": blocks,
    }
    target = store.folder / JOURNAL
    tmp = target.with_name(JOURNAL + ".tmp")
    try:
        with open(tmp, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        what = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        raise ProjectFileError(f"cannot write the recovery file ({what}); the previous one is kept",
                               target) from None
    # From now on these blocks and the files they were in live at least until the next journal.
    store.journal_blocks = frozenset(used)
    store.journal_files = frozenset(f for b in used for f in _files_of(b.backing))
    store.last_journal = (project, path, modified)
    store.journal_serial += 1
    return target


def keep_alive(store: BlockStore, project: Project) -> int:
    """Copy into the cache every block of ``project`` whose file is no longer at
    its path (a project file saved over or deleted, a source file replaced), so a
    journal never points at a path holding other bytes. Returns how many blocks
    were copied. The samples do not change: this process still maps the old file."""
    state: dict[int, bool] = {}
    todo: dict[int, list[Block]] = {}
    for b in project.blocks():
        if b.is_silent:
            continue
        backing = b.backing
        if isinstance(backing, F32Backing):
            key, check = id(backing.file), backing.file.still_at_path
        elif isinstance(backing, PcmAliasBacking):
            src = backing.source
            key = id(src)

            def check(src: SourceFile = src) -> bool:
                try:
                    return file_identity(os.stat(src.path)) == file_identity(src.stat)
                except OSError:
                    return False
        else:
            continue
        if key not in state:
            state[key] = check()
        if not state[key]:
            todo.setdefault(b.channels, []).append(b)
    copied = 0
    for channels, blocks in todo.items():
        w = BlockWriter(store, channels)
        try:
            for b in blocks:
                w.write_block(b.read())
        except BaseException:
            w.abort()
            raise
        for b, c in zip(blocks, w.finish(), strict=True):
            b.replace_backing(c.backing)
            if b.digest is None:
                b.digest = c.digest
            copied += 1
    return copied


def _files_of(backing: Backing) -> list[object]:
    if isinstance(backing, F32Backing):
        return [backing.file]
    if isinstance(backing, PcmAliasBacking):
        return [backing.source]
    return []


def rewrite_journal(store: BlockStore) -> None:
    """Write the last journal again (after a save moved blocks into the project file)."""
    with store.journal_lock:
        if store.last_journal is not None and (store.folder / JOURNAL).exists():
            project, path, modified = store.last_journal
            with contextlib.suppress(SeedwaveError):
                _write_journal(store, project, path, modified)


def clear_journal(store: BlockStore) -> None:
    with store.journal_lock:
        (store.folder / JOURNAL).unlink(missing_ok=True)
        store.journal_blocks = frozenset()
        store.journal_files = frozenset()
        store.last_journal = None


# --------------------------------------------------------------------------- finding


@dataclass
class Recoverable:
    folder: Path
    saved_at: float
    path: str | None
    name: str
    tracks: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _dead_owner(folder: Path) -> bool:
    try:
        pid = int((folder / "owner").read_text().strip())
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and pid > 0 and not _alive(pid)


def _sessions(root: Path | None) -> Path:
    return Path(root) if root is not None else cache_root() / "sessions"


def find_recoverable(root: Path | None = None) -> list[Recoverable]:
    """Sessions of processes that ended without closing cleanly, newest first."""
    base = _sessions(root)
    out: list[Recoverable] = []
    if not base.is_dir():
        return out
    for folder in base.iterdir():
        journal = folder / JOURNAL
        if not journal.is_file() or not _dead_owner(folder):
            continue
        try:
            doc = json.loads(journal.read_text())
            if not isinstance(doc, dict) or not doc.get("modified", True):
                continue
            proj = doc.get("project", {})
            tracks = proj.get("tracks", [])
            out.append(Recoverable(folder, float(doc.get("saved_at", 0)), _str_or_none(doc.get("path")),
                                   str(proj.get("name", "Untitled"))[:200],
                                   len(tracks) if isinstance(tracks, list) else 0))
        except (OSError, ValueError, TypeError, AttributeError, RecursionError):
            continue
    out.sort(key=lambda r: r.saved_at, reverse=True)
    return out


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


# --------------------------------------------------------------------------- checking


@dataclass
class _Checked:
    """A block of the journal that matched: where it is, and its summaries."""

    kind: str
    path: Path
    where: int  # byte offset (f32) or frame offset (alias)
    channels: int
    frames: int
    digest: str | None
    summaries: tuple


def _check_block(d: Any, session: Path) -> _Checked | str:
    """Verify one journalled block; a :class:`_Checked` or the reason it cannot be used."""
    if not isinstance(d, dict):
        return "its description is damaged"
    kind = d.get("kind")
    ch, frames, path = d.get("channels"), d.get("frames"), d.get("path")
    if not (_int(ch, 1, 1024) and _int(frames, 1, 1 << 40) and isinstance(path, str)):
        return "its description is damaged"
    p = Path(path)
    ident = d.get("file")
    digest = d.get("digest")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        return "its description is damaged"
    if kind == "f32":
        return _check_f32(d, p, ch, frames, ident, digest, session)
    try:
        st = os.stat(p)
    except OSError:
        where = "in the crashed session's cache" if p.parent == session else "at its path"
        return f"its file {p.name} is no longer {where}"
    if kind == "alias":
        off = d.get("frame_offset")
        if not _int(off, 0, 1 << 50):
            return "its description is damaged"
        if not isinstance(ident, list) or tuple(ident) != file_identity(st):
            return f"its source file {p.name} was replaced or changed since the last autosave"
        try:
            src = SourceFile.get(p)
            if src.channels != ch:
                return f"its source file {p.name} has changed"
            data = src.read(off, off + frames)
        except (OSError, RuntimeError, ValueError):
            return f"its source file {p.name} cannot be read"
        if digest is not None and digest_of(data) != digest:
            return f"its audio in {p.name} has changed since the last autosave"
        return _Checked("alias", p, off, ch, frames, digest, compute_summaries(data))
    return "its description is damaged"


def _check_f32(d: dict[str, Any], p: Path, ch: int, frames: int, ident: Any, digest: str | None,
               session: Path) -> _Checked | str:
    """A block in a cache or project file: at its path, or, when a save replaced the
    file there after the journal, in the copy the session kept (found by identity)."""
    off = d.get("offset")
    if not _int(off, 0, 1 << 50):
        return "its description is damaged"
    ident_t = tuple(ident) if isinstance(ident, list) else None
    candidates: list[tuple[Path, os.stat_result]] = []
    with contextlib.suppress(OSError):
        candidates.append((p, os.stat(p)))
    if ident_t is not None and (not candidates or file_identity(candidates[0][1]) != ident_t or digest):
        for kept in session.glob("kept-*"):
            with contextlib.suppress(OSError):
                kst = os.stat(kept)
                if file_identity(kst) == ident_t:
                    candidates.append((kept, kst))
    if not candidates:
        where = "in the crashed session's cache" if p.parent == session else "at its path"
        return f"its file {p.name} is no longer {where}"
    reason = ""
    nbytes = ch * frames * 4
    for path, st in candidates:
        if off + nbytes > st.st_size:
            reason = reason or f"its file {p.name} is shorter than the audio it should hold"
            continue
        if digest is None and file_identity(st) != ident_t:
            reason = reason or f"its file {p.name} was replaced or changed since the last autosave"
            continue
        try:
            data = np.fromfile(path, dtype=np.float32, count=ch * frames, offset=off).reshape(ch, frames)
        except (OSError, ValueError):
            reason = reason or f"its file {p.name} cannot be read"
            continue
        if digest is not None and digest_of(data) != digest:
            reason = reason or f"its audio in {p.name} has changed since the last autosave"
            continue
        return _Checked("f32", path, off, ch, frames, digest, compute_summaries(data))
    return reason


def _int(v: Any, lo: int, hi: int) -> bool:
    return type(v) is int and lo <= v <= hi


class _MissingBacking(Backing):
    """Stands for audio that could not be recovered while the salvage is built."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.zeros((self.channels, stop - start), np.float32)

    def describe(self) -> dict[str, Any]:
        return {"kind": "missing"}


# --------------------------------------------------------------------------- recovering


def _read_journal(item: Recoverable) -> dict[str, Any]:
    journal = item.folder / JOURNAL
    try:
        doc = json.loads(journal.read_text())
    except FileNotFoundError:
        raise RecoveryError("the recovery file is gone (recovered or discarded elsewhere)", journal) from None
    except (OSError, ValueError, RecursionError):
        _refuse(item)
        raise RecoveryError("the recovery file is damaged; this session will not be offered again",
                            journal) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("blocks"), dict) or "project" not in doc:
        _refuse(item)
        raise RecoveryError("the recovery file is damaged; this session will not be offered again", journal)
    return doc


def recover(item: Recoverable, store: BlockStore) -> tuple[Project, str | None]:
    """Rebuild the project of a crashed session, exactly, or raise.

    Every block is checked first; only then are the session's cache files moved
    into ``store``'s folder (they are deleted once no longer used), a fresh journal
    written there, and the old session folder removed. Raises
    :class:`RecoveryIncomplete` when some audio is missing or changed (see its
    docs) and :class:`RecoveryError` when the journal cannot be read; in both cases
    the session is not offered again.
    """
    doc = _read_journal(item)
    journal = item.folder / JOURNAL
    described: dict[str, Any] = doc["blocks"]
    try:
        check_project_dict(doc["project"], {u: (d.get("channels"), d.get("frames")) for u, d in described.items()
                                            if isinstance(d, dict)})
    except ValueError as exc:
        _refuse(item)
        raise RecoveryError(f"the recovery file is damaged ({exc}); this session will not be offered again",
                            journal) from None
    checked: dict[str, _Checked] = {}
    problems: dict[str, str] = {}
    for uid, d in described.items():
        r = _check_block(d, item.folder)
        if isinstance(r, str):
            problems[uid] = r
        else:
            checked[uid] = r
    saved_path = _str_or_none(doc.get("path"))
    if problems:
        _salvage(item, store, doc, checked, problems, saved_path)  # raises
    # Everything checked: now move the session's cache files (all or none).
    moved = _move_files(item, store, checked)
    files: dict[Path, MappedFile] = {}
    made: dict[str, Block] = {}
    resolve = _resolver(checked, moved, files, made, store)
    try:
        project = project_from_dict(doc["project"], resolve)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        _unmove(moved)
        _refuse(item)
        raise RecoveryError(f"the recovery file is damaged ({exc}); this session will not be offered again",
                            journal) from None
    # A crash right after this must still find the work: journal it in our session first.
    with contextlib.suppress(SeedwaveError):
        write_journal(store, project, Path(saved_path) if saved_path else None, True)
    discard(item)
    return project, saved_path


def _resolver(checked: dict[str, _Checked], moved: dict[Path, Path], files: dict[Path, MappedFile],
              made: dict[str, Block], store: BlockStore | None) -> Callable[[str], Block]:
    def resolve(uid: str) -> Block:
        if uid in made:
            return made[uid]
        c = checked[uid]
        if c.kind == "f32":
            path = moved.get(c.path, c.path)
            if path not in files:
                temporary = store is not None and path.parent == store.folder
                files[path] = MappedFile(path, temporary=temporary)
            backing: Backing = F32Backing(files[path], c.where, c.channels, c.frames)
        else:
            backing = PcmAliasBacking(SourceFile.get(c.path), c.where)
        block = Block(c.channels, c.frames, backing, c.summaries, uid=uid, digest=c.digest)
        made[uid] = block
        return block

    return resolve


def _move_files(item: Recoverable, store: BlockStore, checked: dict[str, _Checked]) -> dict[Path, Path]:
    """Move the session's cache files into ``store``; on any failure, move them back."""
    moved: dict[Path, Path] = {}
    for c in checked.values():
        if c.kind == "f32" and c.path.parent == item.folder and c.path not in moved:
            dest = store.folder / c.path.name
            try:
                os.replace(c.path, dest)
            except OSError as exc:
                _unmove(moved)
                raise RecoveryError(f"cannot move recovered audio ({exc.strerror or exc}); nothing was changed",
                                    item.folder / JOURNAL) from None
            moved[c.path] = dest
    return moved


def _unmove(moved: dict[Path, Path]) -> None:
    for src, dest in moved.items():
        with contextlib.suppress(OSError):
            os.replace(dest, src)


def _salvage(item: Recoverable, store: BlockStore, doc: dict[str, Any], checked: dict[str, _Checked],
             problems: dict[str, str], saved_path: str | None) -> None:
    """Keep what can be kept, say what is lost, stop offering the session; always raises."""
    from .projectfile import save_project

    missing_blocks: dict[str, Block] = {}
    files: dict[Path, MappedFile] = {}
    made: dict[str, Block] = {}
    good = _resolver(checked, {}, files, made, None)
    described = doc["blocks"]

    def resolve(uid: str) -> Block:
        if uid in checked:
            return good(uid)
        if uid not in missing_blocks:
            d = described.get(uid) if isinstance(described.get(uid), dict) else {}
            ch = d.get("channels") if _int(d.get("channels"), 1, 1024) else 1
            fr = d.get("frames") if _int(d.get("frames"), 1, 1 << 40) else 1
            missing_blocks[uid] = Block(ch, fr, _MissingBacking(ch), None, uid=uid)
        return missing_blocks[uid]

    where = saved_path or str(item.folder / JOURNAL)
    try:
        full = project_from_dict(doc["project"], resolve)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        _refuse(item)
        raise RecoveryError(f"the recovery file is damaged ({exc}); this session will not be offered again",
                            where) from None
    salvage, lost = damaged_project(full, {id(b) for b in missing_blocks.values()})
    reasons = sorted(set(problems.values()))
    salvage_path: Path | None = None
    kept = None
    if any(t.clips for t in salvage.tracks):
        folder = cache_root() / "recovered"
        stamp = time.strftime("%Y-%m-%d %H-%M-%S", time.localtime(float(doc.get("saved_at", time.time()))))
        name = "".join(ch for ch in str(full.name) if ch.isalnum() or ch in " -_")[:60] or "Untitled"
        target = folder / f"{name} (damaged, {stamp}).seedwave"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            save_project(salvage, target)
            salvage_path, kept = target, salvage
        except (OSError, SeedwaveError):
            salvage_path = None
    _refuse(item)
    if salvage_path is not None:
        discard(item)
    summary = "; ".join(lost[:3]) + (f"; and {len(lost) - 3} more" if len(lost) > 3 else "")
    because = "; ".join(reasons[:2]) + (f" ({len(reasons) - 2} more reasons)" if len(reasons) > 2 else "")
    kept_msg = (f"what could be kept is in {salvage_path}, on tracks marked (damaged)" if salvage_path
                else "nothing could be kept")
    raise RecoveryIncomplete(
        f"cannot be recovered exactly: {summary} is missing ({because}); {kept_msg}; "
        "this session will not be offered again", where, lost, kept, salvage_path)


def damaged_project(project: Project, missing: set[int]) -> tuple[Project, list[str]]:
    """Split ``project`` into intact clips (left in place) and the surviving parts
    of clips that use a missing block (``id()`` in ``missing``), which go on a new
    track "<name> (damaged)" after their own. Returns the project and one line per
    damaged clip saying which time range is lost."""
    rate = project.sample_rate
    tracks: list[Track] = []
    lost: list[str] = []
    for t in project.tracks:
        intact: list[Clip] = []
        pieces: list[Clip] = []
        for c in t.clips:
            segs = list(c.visible_audio().iter_segments(0, c.length))
            if not any(id(s.block) in missing for _p, s in segs):
                intact.append(c)
                continue
            runs: list[tuple[int, list[Segment], bool]] = []
            for pos, s in segs:
                bad = id(s.block) in missing
                if runs and runs[-1][2] == bad:
                    runs[-1][1].append(s)
                else:
                    runs.append((pos, [s], bad))
            gaps = []
            for pos, run, bad in runs:
                n = sum(s.frames for s in run)
                if bad:
                    gaps.append(f"{_hms(c.position + pos, rate)}–{_hms(c.position + pos + n, rate)}")
                    continue
                pieces.append(Clip(
                    AudioSeq(run, c.channels), c.position + pos, gain_db=c.gain_db,
                    fade_in=c.fade_in, fade_in_offset=c.fade_in_offset + pos, fade_in_shape=c.fade_in_shape,
                    fade_out=c.fade_out, fade_out_offset=c.fade_out_offset + (c.length - pos - n),
                    fade_out_shape=c.fade_out_shape, name=f"{c.name or 'clip'} (damaged)"))
            lost.append(f"track “{t.name}”, clip “{c.name or 'clip'}”: {', '.join(gaps)}")
        tracks.append(t.with_(clips=tuple(intact)))
        if pieces or len(intact) < len(t.clips):
            tracks.append(Track(f"{t.name} (damaged)", tuple(pieces), colour=t.colour, gain_db=t.gain_db,
                                pan=t.pan, mute=t.mute, solo=t.solo))
    return project.with_(tracks=tuple(tracks)), lost


def _hms(frame: int, rate: int) -> str:
    s = frame / rate
    return f"{int(s // 60)}:{s % 60:06.3f}"


def _refuse(item: Recoverable) -> None:
    """Never offer this session again (its folder goes at the next sweep)."""
    with contextlib.suppress(OSError):
        os.replace(item.folder / JOURNAL, item.folder / REFUSED)


def discard(item: Recoverable) -> None:
    """Delete a crashed session's folder (after recovery or when declined)."""
    shutil.rmtree(item.folder, ignore_errors=True)


def sweep_stale(root: Path | None = None) -> int:
    """At start: remove folders of dead sessions that have nothing to recover
    (no journal, a refused one, or one with no unsaved work), and the ``.tmp``
    files of saves that a crash cut short."""
    base = _sessions(root)
    n = 0
    if base.is_dir():
        for folder in base.iterdir():
            if not folder.is_dir() or not _dead_owner(folder):
                continue
            journal = folder / JOURNAL
            if journal.is_file():
                try:
                    doc = json.loads(journal.read_text())
                    if isinstance(doc, dict) and doc.get("modified", True):
                        continue
                except (OSError, ValueError, RecursionError):
                    pass
            shutil.rmtree(folder, ignore_errors=True)
            n += 1
    from .projectfile import sweep_interrupted_saves

    sweep_interrupted_saves(base.parent if root is not None else None)
    return n
