"""Running an effect on parts of a project, and turning the result into a project.

Qt-free (the GUI glue is :mod:`editor.qt.effect_apply`), so it is tested without a
display. An effect run works on :class:`Part` s: the frames of one clip's audio
that a selection, a clip or a whole track covers. Each part is processed with up
to a second of context on both sides (where the clip's audio has it), so effects
that look around (denoise, separation) behave at the edges as they do in the
middle; only the part itself is kept.

The results then go:

* in place (:func:`apply_in_place`): each part's audio replaced, one undo step;
* to new tracks (:func:`add_result_tracks`): one new track per source track and
  output, the original left as it was (multi-output effects always go here);
* into scratch projects for preview (:func:`preview_project`,
  :func:`removed_project`), which the player plays without touching the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import edits
from ..core.errors import EditError
from ..core.model import Clip, Project, Track
from ..core.sequence import AudioSeq
from ..core.store import BlockStore, default_store
from ..effects.base import Effect, EffectContext
from ..effects.runner import Source, run_effect

MAX_CONTEXT_SECONDS = 1.0

Outputs = dict[str, AudioSeq]  # output name ("" for single-output effects) -> audio of the part


@dataclass(frozen=True)
class Part:
    """Frames [start, stop) of a clip's audio (audio coordinates), heard from timeline frame ``position``."""

    track_id: str
    clip_id: str
    start: int
    stop: int
    position: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


@dataclass
class RunResult:
    """Processed audio per part, plus what the history records about the run."""

    parts: list[tuple[Part, Outputs]]
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- choosing parts


def parts_for_range(project: Project, start: int, stop: int, track_ids: Iterable[str]) -> list[Part]:
    """Every clip part inside timeline frames [start, stop) of the given tracks."""
    out = []
    for tid in track_ids:
        track = project.track(tid)
        for c in track.clips:
            a, b = max(start, c.position), min(stop, c.end)
            if b > a:
                out.append(Part(tid, c.id, c.offset + a - c.position, c.offset + b - c.position, a))
    return out


def parts_for_clips(project: Project, clip_ids: Iterable[str]) -> list[Part]:
    out = []
    for cid in clip_ids:
        track, c = project.find_clip(cid)
        out.append(Part(track.id, c.id, c.offset, c.offset + c.length, c.position))
    return out


def parts_for_tracks(project: Project, track_ids: Iterable[str]) -> list[Part]:
    out = []
    for tid in track_ids:
        out.extend(parts_for_clips(project, [c.id for c in project.track(tid).clips]))
    return out


def track_ids_of(parts: Iterable[Part]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.track_id for p in parts))


# --------------------------------------------------------------------------- running


def _context_frames(effect: Effect, rate: int) -> int:
    if effect.chunk_seconds is None:
        return 0  # an effect that sees the whole input wants exactly the input
    return int(min(effect.overlap_seconds, MAX_CONTEXT_SECONDS) * rate)


def process_parts(project: Project, parts: list[Part], effect: Effect, params: dict[str, Any],
                  ctx: EffectContext, store: BlockStore | None = None) -> RunResult:
    """Run ``effect`` on each part (progress spread by length); nothing is applied."""
    if not parts:
        raise EditError("there is no audio to process here")
    store = store or default_store()
    rate = project.sample_rate
    pad = _context_frames(effect, rate)
    total = sum(p.frames for p in parts)
    done = 0
    requested = ctx.device
    out: list[tuple[Part, Outputs]] = []
    provenance: dict[str, Any] = {}
    for part in parts:
        _track, clip = project.find_clip(part.clip_id)
        a = max(0, part.start - pad)
        b = min(clip.audio.frames, part.stop + pad)
        sub = ctx.scoped(ctx.sub(done / total, (done + part.frames) / total))
        result = run_effect(effect, Source.from_seq(clip.audio, rate, a, b), params, sub, store)
        ctx.device = sub.device  # after an out-of-memory fallback, later parts start on the CPU
        audio = result.audio if isinstance(result.audio, dict) else {"": result.audio}
        if effect.changes_length:  # the whole output replaces the part (no context: chunk_seconds is None)
            out.append((part, dict(audio)))
        else:
            out.append((part, {name: seq.slice(part.start - a, part.stop - a) for name, seq in audio.items()}))
        if not provenance:
            provenance = dict(result.provenance)
        else:
            provenance["seconds"] = round(provenance.get("seconds", 0.0) + result.provenance.get("seconds", 0.0), 3)
        done += part.frames
    provenance.update(ctx.info)
    provenance["device"] = requested  # "device_fallback" (from ctx.info) says where it finished
    return RunResult(out, provenance, list(dict.fromkeys(ctx.warnings)))


# --------------------------------------------------------------------------- using the result


def _replace_resized(project: Project, part: Part, new: AudioSeq) -> Project:
    """Replace a part by audio of another length (an effect with ``changes_length``):
    the clip grows or shrinks, and later clips on its track move by the difference."""
    track, clip = project.find_clip(part.clip_id)
    delta = new.frames - part.frames
    audio = clip.audio.splice(part.start, part.stop, new)
    end_before = part.position + part.frames
    clips = []
    for c in track.clips:
        if c.id == clip.id:
            clips.append(c.with_(audio=audio, length=c.length + delta))
        elif c.position >= end_before:
            clips.append(c.with_(position=c.position + delta))
        else:
            clips.append(c)
    return project.replace_track(track.with_(clips=tuple(clips)))


def apply_in_place(project: Project, result: RunResult, output: str = "") -> Project:
    """Each part's audio replaced by the effect's output (one history step for the caller)."""
    # Later parts first, so that a part that changes length does not move the ones still to come.
    for part, outs in sorted(result.parts, key=lambda item: -item[0].position):
        new = outs[output]
        if new.frames == part.frames:
            project = edits.replace_clip_audio(project, part.clip_id, part.start, part.stop, new)
        else:
            project = _replace_resized(project, part, new)
    return project


def length_change(result: RunResult) -> int:
    """The largest number of frames a part grew by (0 for most effects)."""
    return max((max(s.frames for s in outs.values()) - part.frames for part, outs in result.parts), default=0)


def _result_track_name(source: Track, effect: Effect, output: str) -> str:
    return f"{source.name} – {output.capitalize()}" if output else f"{source.name} ({effect.title})"


def _clip_gain(project: Project, clip_id: str) -> float:
    try:
        return project.find_clip(clip_id)[1].gain_db
    except KeyError:
        return 0.0


def add_result_tracks(project: Project, result: RunResult, effect: Effect) -> tuple[Project, tuple[str, ...]]:
    """New tracks holding the output(s), each right below its source track; the
    source stays as it was. Returns the project and the new tracks' ids."""
    by_track: dict[str, list[tuple[Part, Outputs]]] = {}
    for part, outs in result.parts:
        by_track.setdefault(part.track_id, []).append((part, outs))
    new_ids: list[str] = []
    for tid, items in by_track.items():
        try:
            source = project.track(tid)
            index = project.track_index(tid) + 1
        except KeyError:  # the source track was removed while the effect ran
            source = Track(name="Track")
            index = len(project.tracks)
        for output in items[0][1]:
            clips = tuple(Clip(outs[output], part.position, name=output or effect.title,
                               gain_db=_clip_gain(project, part.clip_id)) for part, outs in items)
            project = edits.add_track(project, _result_track_name(source, effect, output), clips, index=index)
            track = project.tracks[index]
            project = edits.set_track(project, track.id, gain_db=source.gain_db, pan=source.pan)
            new_ids.append(track.id)
            index += 1
    return project, tuple(new_ids)


def preview_project(project: Project, result: RunResult, output: str = "") -> Project:
    """The project with the processed parts in place: what Apply would sound like."""
    return apply_in_place(project, result, output)


def removed_project(project: Project, result: RunResult, store: BlockStore | None = None,
                    output: str = "") -> Project:
    """Only the processed tracks, holding original − processed: what the effect takes away."""
    store = store or default_store()
    tracks: dict[str, list[Clip]] = {}
    for part, outs in result.parts:
        _track, clip = project.find_clip(part.clip_id)
        diff = clip.audio.read(part.start, part.stop) - outs[output].read(0, part.frames)
        seq = AudioSeq.from_blocks(store.blocks_from_array(np.ascontiguousarray(diff, dtype=np.float32)),
                                   clip.channels)
        tracks.setdefault(part.track_id, []).append(Clip(seq, part.position, name="Removed"))
    kept = tuple(t.with_(clips=tuple(tracks[t.id]), mute=False, solo=False) for t in project.tracks if t.id in tracks)
    return project.with_(tracks=kept)
