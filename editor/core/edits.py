"""Edits: pure functions ``Project -> Project``.

Range edits act on a :class:`~editor.core.model.Selection` (frames [start, stop) of
some tracks). Structural edits (cut, paste, delete, split, trim, insert silence,
silence) only rearrange block segments and clip windows; they copy no samples and
run in time proportional to the number of blocks. Edits that change samples (gain
on a range, fades on a range, normalize, reverse) stream the affected range
through new blocks, so memory stays bounded.

Cut and delete ripple: audio after the range on the selected tracks moves left,
as in a wave editor. Paste inserts and moves later audio right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from .errors import EditError
from .fades import fade_envelope
from .loudness import LoudnessMeter, db_to_gain
from .model import TRACK_COLOURS, Clip, FadeShape, Marker, Project, Selection, Track, new_id
from .sequence import AudioSeq
from .store import BlockStore, default_store
from .task import TaskContext

CHUNK = 1 << 18


# --------------------------------------------------------------------------- clipboard


@dataclass(frozen=True)
class Clipboard:
    """Copied audio: for each source track, its clips with positions relative to 0."""

    length: int
    tracks: tuple[tuple[Clip, ...], ...]
    sample_rate: int


# --------------------------------------------------------------------------- helpers


def _check_selection(project: Project, sel: Selection) -> None:
    if sel.empty:
        raise EditError("select a time range on at least one track first")
    for tid in sel.track_ids:
        project.track(tid)


def _window(clip: Clip, start: int, stop: int) -> Clip | None:
    """The part of ``clip`` inside timeline frames [start, stop), or None.

    The part sounds exactly as it did inside the whole clip: a fade cut by the
    window keeps its curve, with the cut-off part recorded as a fade offset.
    """
    a = max(start, clip.position)
    b = min(stop, clip.end)
    if b <= a:
        return None
    left = a - clip.position
    right = clip.end - b
    return replace(
        clip,
        position=a,
        offset=clip.offset + left,
        length=b - a,
        fade_in_offset=clip.fade_in_offset + left if clip.fade_in else 0,
        fade_out_offset=clip.fade_out_offset + right if clip.fade_out else 0,
        id=clip.id if (left == 0 and right == 0) else new_id(),
    )


def _shift(clip: Clip, delta: int) -> Clip:
    return replace(clip, position=clip.position + delta)


def _delete_in_track(track: Track, start: int, stop: int) -> Track:
    length = stop - start
    out: list[Clip] = []
    for c in track.clips:
        if c.end <= start:
            out.append(c)
        elif c.position >= stop:
            out.append(_shift(c, -length))
        elif c.position >= start and c.end <= stop:
            continue
        elif c.position < start and c.end > stop:
            # The range is inside the clip: splice it out of the audio.
            a = c.offset + (start - c.position)
            audio = c.audio.splice(a, a + length)
            out.append(replace(c, audio=audio, length=c.length - length))
        elif c.position < start:
            out.append(_window(c, c.position, start))
        else:  # starts inside the range, ends after it
            out.append(_shift(_window(c, stop, c.end), -length))
    return track.with_(clips=tuple(out))


def _split_clip(clip: Clip, at: int) -> tuple[Clip, Clip]:
    """Split a clip at timeline frame ``at`` (strictly inside it); the two parts
    sound exactly as the whole did, fades included."""
    left = replace(_window(clip, clip.position, at), id=clip.id)
    right = replace(_window(clip, at, clip.end), id=new_id())
    return left, right


def _clip_at(track: Track, frame: int) -> Clip | None:
    """The clip strictly containing ``frame`` (position < frame < end)."""
    for c in track.clips:
        if c.position < frame < c.end:
            return c
    return None


def _mapped(track_ids: tuple[str, ...], project: Project) -> list[Track]:
    return [project.track(t) for t in track_ids]


# --------------------------------------------------------------------------- copy / cut / paste


def copy(project: Project, sel: Selection) -> Clipboard:
    _check_selection(project, sel)
    tracks = []
    for track in _mapped(sel.track_ids, project):
        clips = []
        for c in track.clips:
            w = _window(c, sel.start, sel.stop)
            if w is not None:
                clips.append(replace(w, position=w.position - sel.start, id=new_id()))
        tracks.append(tuple(clips))
    return Clipboard(sel.length, tuple(tracks), project.sample_rate)


def delete(project: Project, sel: Selection) -> Project:
    """Remove the range from the selected tracks; later audio moves left."""
    _check_selection(project, sel)
    for tid in sel.track_ids:
        project = project.replace_track(_delete_in_track(project.track(tid), sel.start, sel.stop))
    return project


def cut(project: Project, sel: Selection) -> tuple[Project, Clipboard]:
    board = copy(project, sel)
    return delete(project, sel), board


def _insert_gap(track: Track, at: int, length: int) -> tuple[Track, Clip | None]:
    """Move everything from ``at`` on right by ``length``; a clip straddling ``at``
    is returned separately (unchanged) so the caller decides how to fill it."""
    straddle = _clip_at(track, at)
    out = []
    for c in track.clips:
        if c is straddle:
            continue
        out.append(_shift(c, length) if c.position >= at else c)
    return track.with_(clips=tuple(out)), straddle


def paste(project: Project, board: Clipboard, position: int, track_ids: tuple[str, ...]) -> Project:
    """Insert the clipboard at ``position`` on ``track_ids`` (one clipboard track
    per target track, in order); later audio moves right."""
    if board.sample_rate != project.sample_rate:
        raise EditError(
            f"the clipboard holds {board.sample_rate} Hz audio; this project is {project.sample_rate} Hz"
        )
    if not track_ids:
        raise EditError("select a track to paste into")
    if position < 0:
        raise EditError("cannot paste before the start of the timeline")
    for tid, clips in zip(track_ids, board.tracks, strict=False):
        track, straddle = _insert_gap(project.track(tid), position, board.length)
        new_clips = list(track.clips)
        pieces = [replace(c, position=c.position + position, id=new_id()) for c in clips]
        if straddle is not None:
            one = pieces[0] if len(pieces) == 1 else None
            if (
                one is not None
                and one.position == position
                and one.length == board.length
                and one.channels == straddle.channels
                and one.gain_db == straddle.gain_db
                and one.fade_in == 0
                and one.fade_out == 0
            ):
                # Paste into the clip's audio: it stays one clip.
                a = straddle.offset + (position - straddle.position)
                audio = straddle.audio.splice(a, a, one.visible_audio())
                new_clips.append(replace(straddle, audio=audio, length=straddle.length + board.length))
                project = project.replace_track(track.with_(clips=tuple(new_clips)))
                continue
            left, right = _split_clip(straddle, position)
            new_clips += [left, _shift(right, board.length)]
        new_clips += pieces
        project = project.replace_track(track.with_(clips=tuple(new_clips)))
    if len(board.tracks) > len(track_ids):
        # Extra clipboard tracks become new tracks.
        for i, clips in enumerate(board.tracks[len(track_ids):]):
            pieces = tuple(replace(c, position=c.position + position, id=new_id()) for c in clips)
            project = project.with_(tracks=project.tracks + (_new_track(project, f"Pasted {i + 1}", pieces),))
    return project


# --------------------------------------------------------------------------- silence / trim / split


def insert_silence(project: Project, position: int, frames: int, track_ids: tuple[str, ...]) -> Project:
    if frames <= 0:
        raise EditError("the silence must be longer than zero")
    for tid in track_ids:
        track, straddle = _insert_gap(project.track(tid), position, frames)
        clips = list(track.clips)
        if straddle is not None:
            a = straddle.offset + (position - straddle.position)
            audio = straddle.audio.splice(a, a, AudioSeq.silence(straddle.channels, frames))
            clips.append(replace(straddle, audio=audio, length=straddle.length + frames))
        project = project.replace_track(track.with_(clips=tuple(clips)))
    return project


def silence(project: Project, sel: Selection) -> Project:
    """Replace the range with silence; nothing moves."""
    _check_selection(project, sel)
    for track in _mapped(sel.track_ids, project):
        clips = []
        for c in track.clips:
            a = max(sel.start, c.position)
            b = min(sel.stop, c.end)
            if b <= a:
                clips.append(c)
                continue
            x0 = c.offset + (a - c.position)
            audio = c.audio.splice(x0, x0 + (b - a), AudioSeq.silence(c.channels, b - a))
            clips.append(replace(c, audio=audio))
        project = project.replace_track(track.with_(clips=tuple(clips)))
    return project


def trim_to_selection(project: Project, sel: Selection) -> Project:
    """Keep only the range on the selected tracks (nothing moves)."""
    _check_selection(project, sel)
    for track in _mapped(sel.track_ids, project):
        clips = tuple(w for c in track.clips if (w := _window(c, sel.start, sel.stop)) is not None)
        project = project.replace_track(track.with_(clips=clips))
    return project


def split(project: Project, position: int, track_ids: tuple[str, ...]) -> Project:
    """Split clips under ``position`` on the given tracks into two clips."""
    changed = False
    for tid in track_ids:
        track = project.track(tid)
        c = _clip_at(track, position)
        if c is None:
            continue
        left, right = _split_clip(c, position)
        clips = tuple(x for x in track.clips if x is not c) + (left, right)
        project = project.replace_track(track.with_(clips=clips))
        changed = True
    if not changed:
        raise EditError("there is no clip under the cursor to split")
    return project


def duplicate(project: Project, sel: Selection) -> Project:
    """Copy the range of each selected track to a new track below it, in place."""
    board = copy(project, sel)
    tracks = list(project.tracks)
    for tid, clips in zip(reversed(sel.track_ids), reversed(board.tracks), strict=True):
        src = project.track(tid)
        idx = next(i for i, t in enumerate(tracks) if t.id == tid)
        pieces = tuple(replace(c, position=c.position + sel.start) for c in clips)
        dup = replace(src, name=f"{src.name} (copy)", clips=pieces, solo=False, id=new_id())
        tracks.insert(idx + 1, dup)
    return project.with_(tracks=tuple(tracks))


# --------------------------------------------------------------------------- sample-changing edits


def _ranges(project: Project, sel: Selection) -> Iterator[tuple[Track, Clip, int, int]]:
    """(track, clip, audio start, audio stop) for each clip part in the selection."""
    for track in _mapped(sel.track_ids, project):
        for c in track.clips:
            a = max(sel.start, c.position)
            b = min(sel.stop, c.end)
            if b > a:
                yield track, c, c.offset + (a - c.position), c.offset + (b - c.position)


def map_audio(
    audio: AudioSeq,
    start: int,
    stop: int,
    fn: Callable[[np.ndarray, int], np.ndarray],
    store: BlockStore | None = None,
    ctx: TaskContext | None = None,
    reverse: bool = False,
) -> AudioSeq:
    """A new sequence with frames [start, stop) replaced by ``fn(chunk, offset)``,
    streamed chunk by chunk through new blocks. ``offset`` is the chunk's position
    relative to ``start``. With ``reverse`` the range is also reversed in time."""
    store = store or default_store()
    w = store.writer(audio.channels)
    total = stop - start
    try:
        done = 0
        pos = stop if reverse else start
        while done < total:
            n = min(CHUNK, total - done)
            if reverse:
                chunk = audio.read(pos - n, pos)[:, ::-1]
                pos -= n
            else:
                chunk = audio.read(pos, pos + n)
                pos += n
            w.write(np.ascontiguousarray(fn(chunk, done), dtype=np.float32))
            done += n
            if ctx is not None:
                ctx.progress(done / total)
    except BaseException:
        w.abort()
        raise
    new = AudioSeq.from_blocks(w.finish(), audio.channels)
    return audio.splice(start, stop, new)


def _map_selection(
    project: Project,
    sel: Selection,
    fn_for: Callable[[Track, Clip, int, int], Callable[[np.ndarray, int], np.ndarray]],
    store: BlockStore | None,
    ctx: TaskContext | None,
    reverse: bool = False,
) -> Project:
    _check_selection(project, sel)
    parts = list(_ranges(project, sel))
    if not parts:
        raise EditError("the selection holds no audio")
    total = sum(b - a for _t, _c, a, b in parts)
    done = 0
    for track, clip, a, b in parts:
        sub = ctx.sub(done / total, (done + b - a) / total) if ctx is not None else None
        fn = fn_for(track, clip, a, b)
        if reverse:
            # Reverse within each clip part; the part keeps its place.
            audio = map_audio(clip.audio, a, b, fn, store, sub, reverse=True)
        else:
            audio = map_audio(clip.audio, a, b, fn, store, sub)
        track = project.track(track.id)
        clip_now = track.clip(clip.id)
        project = project.replace_track(
            track.with_(clips=tuple(replace(c, audio=audio) if c is clip_now else c for c in track.clips))
        )
        done += b - a
    return project


def amplify(project: Project, sel: Selection, gain_db: float, store: BlockStore | None = None,
            ctx: TaskContext | None = None) -> Project:
    """Change the level of the range by ``gain_db``."""
    g = np.float32(db_to_gain(gain_db))
    return _map_selection(project, sel, lambda *_: (lambda x, _o: x * g), store, ctx)


def fade(project: Project, sel: Selection, fade_in: bool, shape: FadeShape | str = FadeShape.LINEAR,
         store: BlockStore | None = None, ctx: TaskContext | None = None) -> Project:
    """Fade the range in (from silence) or out (to silence)."""
    length = sel.length

    def fn_for(_track: Track, clip: Clip, a: int, b: int):
        rel = (clip.position + (a - clip.offset)) - sel.start  # where this part starts in the fade

        def apply(x: np.ndarray, o: int) -> np.ndarray:
            return x * fade_envelope(shape, length, rel + o, x.shape[1], fade_in)

        return apply

    return _map_selection(project, sel, fn_for, store, ctx)


def reverse(project: Project, sel: Selection, store: BlockStore | None = None,
            ctx: TaskContext | None = None) -> Project:
    """Reverse the audio of each clip part in the range."""
    return _map_selection(project, sel, lambda *_: (lambda x, _o: x), store, ctx, reverse=True)


def measure_peak(project: Project, sel: Selection) -> dict[str, float]:
    """Peak (linear, after clip gain) of each selected track in the range."""
    out: dict[str, float] = {}
    for track, clip, a, b in _ranges(project, sel):
        p = clip.audio.peak(a, b) * db_to_gain(clip.gain_db)
        out[track.id] = max(out.get(track.id, 0.0), p)
    return out


def measure_loudness(project: Project, sel: Selection, ctx: TaskContext | None = None) -> dict[str, float]:
    """Integrated loudness (LUFS, after clip gain) of each selected track in the range."""
    out: dict[str, float] = {}
    for track in _mapped(sel.track_ids, project):
        parts = [(c, a, b) for t, c, a, b in _ranges(project, Selection(sel.start, sel.stop, (track.id,)))]
        if not parts:
            continue
        meter = LoudnessMeter(project.sample_rate, max(c.channels for c, _a, _b in parts))
        for c, a, b in parts:
            g = np.float32(db_to_gain(c.gain_db))
            for _pos, chunk in c.audio.iter_chunks(a, b):
                if chunk.shape[0] < meter.channels:
                    chunk = np.repeat(chunk, meter.channels, axis=0)
                meter.feed(chunk * g)
                if ctx is not None:
                    ctx.check()
        out[track.id] = meter.integrated()
    return out


def normalize(project: Project, sel: Selection, target: float = -1.0, mode: str = "peak",
              store: BlockStore | None = None, ctx: TaskContext | None = None) -> Project:
    """Scale each selected track's part of the range so its peak (dBFS) or
    integrated loudness (LUFS) reaches ``target``. Tracks are normalised
    independently; channels of a track keep their balance."""
    _check_selection(project, sel)
    if mode == "peak":
        levels = {k: (20 * math.log10(v) if v > 0 else -math.inf) for k, v in measure_peak(project, sel).items()}
    elif mode == "lufs":
        levels = measure_loudness(project, sel, ctx.sub(0, 0.5) if ctx else None)
    else:
        raise EditError(f"unknown normalize mode {mode!r}; use 'peak' or 'lufs'")
    sub = ctx.sub(0.5 if mode == "lufs" else 0.0, 1.0) if ctx else None
    for tid, level in levels.items():
        if level == -math.inf:
            continue
        project = amplify(project, Selection(sel.start, sel.stop, (tid,)), target - level, store, sub)
    return project


# --------------------------------------------------------------------------- clips


def move_clip(project: Project, clip_id: str, position: int, track_id: str | None = None) -> Project:
    """Move a clip to ``position`` (frames), optionally onto another track."""
    src, clip = project.find_clip(clip_id)
    if position < 0:
        position = 0
    moved = replace(clip, position=position)
    project = project.replace_track(src.with_(clips=tuple(c for c in src.clips if c.id != clip_id)))
    dest = project.track(track_id) if track_id else project.track(src.id)
    return project.replace_track(dest.with_(clips=dest.clips + (moved,)))


def move_clips(project: Project, clip_ids: list[str], delta: int, track_delta: int = 0) -> Project:
    """Move several clips by ``delta`` frames and ``track_delta`` tracks together."""
    if not clip_ids:
        return project
    found = [project.find_clip(cid) for cid in clip_ids]
    delta = max(delta, -min(c.position for _t, c in found))
    ntracks = len(project.tracks)
    idx = [project.track_index(t.id) for t, _c in found]
    track_delta = max(-min(idx), min(track_delta, ntracks - 1 - max(idx)))
    for (_track, clip), i in zip(found, idx, strict=True):
        dest = project.tracks[i + track_delta].id
        project = move_clip(project, clip.id, clip.position + delta, dest)
    return project


def set_clip(project: Project, clip_id: str, **changes) -> Project:
    """Change clip properties (gain_db, fades, name, trim via position/offset/length)."""
    track, clip = project.find_clip(clip_id)
    try:
        new = replace(clip, **changes)
    except ValueError as exc:
        raise EditError(str(exc)) from exc
    return project.replace_track(track.with_(clips=tuple(new if c.id == clip_id else c for c in track.clips)))


def trim_clip(project: Project, clip_id: str, start: int | None = None, end: int | None = None) -> Project:
    """Move a clip's left and/or right edge to timeline frames ``start``/``end``
    without touching its audio (the hidden part stays available)."""
    _track, clip = project.find_clip(clip_id)
    pos, off, length = clip.position, clip.offset, clip.length
    if start is not None:
        start = max(start, clip.position - clip.offset, 0)
        start = min(start, clip.end - 1)
        off += start - pos
        length -= start - pos
        pos = start
    if end is not None:
        max_end = pos + (clip.audio.frames - off)
        end = max(pos + 1, min(end, max_end))
        length = end - pos
    return set_clip(project, clip_id, position=pos, offset=off, length=length)


def delete_clips(project: Project, clip_ids: list[str], ripple: bool = False) -> Project:
    """Remove clips; with ``ripple`` later clips on the same track close the gap."""
    for cid in clip_ids:
        track, clip = project.find_clip(cid)
        rest = tuple(c for c in track.clips if c.id != cid)
        if ripple:
            rest = tuple(_shift(c, -clip.length) if c.position >= clip.end else c for c in rest)
        project = project.replace_track(track.with_(clips=rest))
    return project


def add_clip(project: Project, track_id: str, clip: Clip) -> Project:
    track = project.track(track_id)
    return project.replace_track(track.with_(clips=track.clips + (clip,)))


def replace_clip_audio(project: Project, clip_id: str, start: int, stop: int, new: AudioSeq) -> Project:
    """Replace frames [start, stop) of a clip's audio (audio coordinates) by ``new``
    (same length): how effect results are applied."""
    track, clip = project.find_clip(clip_id)
    if new.frames != stop - start:
        raise EditError("the processed audio has a different length from its source")
    if new.channels != clip.channels:
        raise EditError("the processed audio has a different channel count from its source")
    audio = clip.audio.splice(start, stop, new)
    return project.replace_track(track.with_(clips=tuple(replace(c, audio=audio) if c.id == clip_id else c
                                                          for c in track.clips)))


# --------------------------------------------------------------------------- tracks


def _new_track(project: Project, name: str, clips: tuple[Clip, ...] = ()) -> Track:
    colour = TRACK_COLOURS[len(project.tracks) % len(TRACK_COLOURS)]
    return Track(name=name, clips=clips, colour=colour)


def add_track(project: Project, name: str | None = None, clips: tuple[Clip, ...] = (),
              index: int | None = None) -> Project:
    track = _new_track(project, name or f"Track {len(project.tracks) + 1}", clips)
    tracks = list(project.tracks)
    tracks.insert(len(tracks) if index is None else index, track)
    return project.with_(tracks=tuple(tracks))


def remove_track(project: Project, track_id: str) -> Project:
    project.track(track_id)
    return project.with_(tracks=tuple(t for t in project.tracks if t.id != track_id))


def set_track(project: Project, track_id: str, **changes) -> Project:
    """Change track properties: name, colour, gain_db, pan, mute, solo (heights are view state)."""
    if "pan" in changes:
        changes["pan"] = float(min(1.0, max(-1.0, changes["pan"])))
    return project.replace_track(replace(project.track(track_id), **changes))


def rename_track(project: Project, track_id: str, name: str) -> Project:
    if not name.strip():
        raise EditError("a track name cannot be empty")
    return set_track(project, track_id, name=name.strip())


def move_track(project: Project, track_id: str, index: int) -> Project:
    """Reorder: put the track at ``index``."""
    tracks = [t for t in project.tracks if t.id != track_id]
    index = max(0, min(index, len(tracks)))
    tracks.insert(index, project.track(track_id))
    return project.with_(tracks=tuple(tracks))


def set_master_gain(project: Project, gain_db: float) -> Project:
    return project.with_(master_gain_db=float(gain_db))


# --------------------------------------------------------------------------- markers


def add_marker(project: Project, position: int, name: str = "") -> Project:
    marker = Marker(position=max(0, position), name=name or f"Marker {len(project.markers) + 1}")
    return project.with_(markers=tuple(sorted(project.markers + (marker,), key=lambda m: m.position)))


def remove_marker(project: Project, marker_id: str) -> Project:
    return project.with_(markers=tuple(m for m in project.markers if m.id != marker_id))


def set_marker(project: Project, marker_id: str, **changes) -> Project:
    markers = tuple(replace(m, **changes) if m.id == marker_id else m for m in project.markers)
    return project.with_(markers=tuple(sorted(markers, key=lambda m: m.position)))
