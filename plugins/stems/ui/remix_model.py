"""What the remix panel works on: one clip's stems, their mix settings, and the projects made from them.

No Qt here, so the rules are easy to test. A :class:`StemSession` holds the
stems of one clip's visible audio (as separated, straight from the stem cache),
the per-stem :class:`StemMix` settings and any stems the user processed with
another effect (those replace the separated stem in the *working set* only; the
cache keeps the original). From a session come:

* :meth:`StemSession.preview_project`: a scratch project for the player whose
  clip holds the remix of a short region, in memory (nothing written to disk,
  so it is cheap enough to rebuild on every slider move);
* :meth:`StemSession.remixed_project`: the clip's audio replaced by the remix
  (the Apply step);
* :meth:`StemSession.extracted_project`: each stem on its own track below the
  source track, sample-aligned, the source track muted.

Stem frame ``i`` is frame ``clip.offset + i`` of the clip's audio. A session
stays valid while the clip's visible audio is what was separated (or what this
session last applied); any other edit of the clip makes it stale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from editor.core import edits
from editor.core.errors import EditError
from editor.core.memory import memory_seq
from editor.core.model import Clip, Project, new_id
from editor.core.sequence import AudioSeq
from editor.core.store import BlockStore
from editor.core.task import TaskContext

from ..api import Stems, remix_to_seq
from ..mixing import UNITY, StemMix, remix_arrays

PANEL_VERSION = "1"


@dataclass
class ProcessedStem:
    """A stem replaced in the working set by the output of other effects (applied in
    turn: ``steps`` holds each run's provenance)."""

    audio: AudioSeq
    title: str
    steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StemSession:
    """The stems of one clip and how they are mixed. See the module docstring."""

    track_id: str
    clip_id: str
    source: AudioSeq  # the clip's visible audio that was separated
    stems: Stems
    settings: dict[str, StemMix] = field(default_factory=dict)
    processed: dict[str, ProcessedStem] = field(default_factory=dict)
    applied: AudioSeq | None = None  # the clip's visible audio after this session's last Apply
    _region: tuple[int, int, dict[str, np.ndarray]] | None = field(default=None, repr=False)

    # -- the stems ----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return self.stems.names

    @property
    def rate(self) -> int:
        return self.stems.rate

    @property
    def frames(self) -> int:
        return self.source.frames

    def is_approximate(self, name: str) -> bool:
        return name in self.stems.approximate_stems

    def setting(self, name: str) -> StemMix:
        return self.settings.get(name, UNITY)

    def set_setting(self, name: str, mix: StemMix) -> None:
        if name not in self.names:
            raise KeyError(name)
        self.settings[name] = mix

    def reset(self) -> None:
        self.settings.clear()

    @property
    def is_unity(self) -> bool:
        """True when the remix is the plain sum of the separated stems, i.e. the original."""
        return not self.processed and all(self.setting(n) == UNITY for n in self.names)

    def audio(self, name: str) -> AudioSeq:
        """The working stem: processed if the user processed it, else as separated."""
        p = self.processed.get(name)
        return p.audio if p is not None else self.stems.seq(name)

    def working(self) -> Stems:
        """The stems the remix uses (processed ones replacing the separated ones)."""
        if not self.processed:
            return self.stems
        return replace(self.stems, audio={n: self.audio(n) for n in self.names})

    def set_processed(self, name: str, stem: ProcessedStem | None) -> None:
        if stem is None:
            self.processed.pop(name, None)
        else:
            if stem.audio.frames != self.frames or stem.audio.channels != self.source.channels:
                raise EditError("the processed stem has a different length or channel count")
            self.processed[name] = stem
        self._region = None

    # -- validity ----------------------------------------------------------------------
    def clip(self, project: Project) -> Clip | None:
        try:
            return project.find_clip(self.clip_id)[1]
        except KeyError:
            return None

    def state(self, project: Project) -> str:
        """"original" (the clip holds the separated audio), "applied" (it holds this
        session's last Apply), "stale" (edited otherwise) or "gone" (clip removed)."""
        clip = self.clip(project)
        if clip is None:
            return "gone"
        visible = clip.visible_audio()
        if visible == self.source:
            return "original"
        if self.applied is not None and visible == self.applied:
            return "applied"
        return "stale"

    def usable(self, project: Project) -> bool:
        return self.state(project) in ("original", "applied")

    def _require(self, project: Project) -> Clip:
        if not self.usable(project):
            raise EditError("the clip changed since it was separated: separate it again")
        clip = self.clip(project)
        assert clip is not None
        return clip

    # -- remixing ------------------------------------------------------------------------
    def remix_region(self, start: int, stop: int) -> np.ndarray:
        """The remix of stem frames [start, stop), float32; the region's stems are kept in
        memory, so moving a slider over the same region reads nothing again."""
        start, stop = max(0, start), min(self.frames, stop)
        r = self._region
        if r is None or r[0] > start or r[1] < stop:
            w = self.working()
            r = (start, stop, w.read(start, stop))
            self._region = r
        a = start - r[0]
        arrays = {n: x[:, a:a + stop - start] for n, x in r[2].items()}
        return remix_arrays(arrays, self.settings)

    def drop_region(self) -> None:
        """Forget the preview region's arrays (memory); the next preview reads them again."""
        self._region = None

    def original_project(self, project: Project) -> Project:
        """``project`` with the clip holding the separated (original) audio: the A of A/B."""
        clip = self._require(project)
        if clip.visible_audio() == self.source:
            return project
        return edits.replace_clip_audio(project, clip.id, clip.offset, clip.offset + clip.length, self.source)

    def preview_project(self, project: Project, start: int, stop: int) -> Project:
        """A scratch project (for the player only) whose clip plays the remix over
        timeline frames [start, stop) and the original elsewhere."""
        base = self.original_project(project)
        clip = self.clip(base)
        assert clip is not None
        a = max(0, start - clip.position)
        b = min(clip.length, stop - clip.position)
        if b <= a:
            return base
        seq = memory_seq(self.remix_region(a, b))
        return edits.replace_clip_audio(base, clip.id, clip.offset + a, clip.offset + b, seq)

    def remix_seq(self, store: BlockStore | None = None, ctx: TaskContext | None = None) -> AudioSeq:
        """The whole remix as new blocks; at unity it is the original audio itself (bit-exact)."""
        if self.is_unity:
            return self.source
        return remix_to_seq(self.working(), self.settings, store=store, ctx=ctx)

    def remixed_project(self, project: Project, new: AudioSeq) -> Project:
        """``project`` with the clip's visible audio replaced by ``new`` (from :meth:`remix_seq`)."""
        clip = self._require(project)
        return edits.replace_clip_audio(project, clip.id, clip.offset, clip.offset + clip.length, new)

    # -- extracting ------------------------------------------------------------------------
    def extracted_project(self, project: Project, names: Mapping[str, str] | None = None) -> tuple[Project, list[str]]:
        """Each working stem on a new track right below the source track, named
        "<track> — <stem>", coloured like it, with the clip's position, offset, length,
        gain and fades; the source track is muted. The stem tracks carry the remix
        settings (gain, mute, solo as mutes, pan where the source is centred), so they
        sound like the remix; at unity they sum to the original. Returns the project
        and notes about settings that could not be carried over."""
        clip = self._require(project)
        track = project.find_clip(clip.id)[0]  # where the clip is now (it may have moved)
        notes: list[str] = []
        any_solo = any(self.setting(n).solo for n in self.names)
        index = project.track_index(track.id) + 1
        before, after = clip.offset, clip.audio.frames - clip.offset - clip.length
        for name in self.names:
            mix = self.setting(name)
            stem = self.audio(name)
            padded = AudioSeq.concat(AudioSeq.silence(stem.channels, before), stem,
                                     AudioSeq.silence(stem.channels, after))
            stem_clip = replace(clip, audio=padded, name=name, id=new_id())
            label = (names or {}).get(name, name)
            project = edits.add_track(project, f"{track.name} — {label}", (stem_clip,), index=index)
            new_track = project.tracks[index]
            pan = track.pan
            if mix.pan != 0.0:
                if track.pan == 0.0 and stem.channels == 2:
                    pan = mix.pan
                else:
                    notes.append(f"{name}: pan not carried over")
            gain = track.gain_db + mix.gain_db if mix.gain_db != -math.inf else -math.inf
            project = edits.set_track(project, new_track.id, colour=track.colour, gain_db=gain, pan=pan,
                                      solo=track.solo, mute=track.mute or mix.mute or (any_solo and not mix.solo))
            index += 1
        project = edits.set_track(project, track.id, mute=True)
        return project, notes

    # -- history ----------------------------------------------------------------------------
    def provenance(self) -> dict[str, Any]:
        """What the history records about an Apply or an Extract from this session."""
        s = self.stems
        meta: dict[str, Any] = {
            "effect": "remix",
            "version": f"panel-{PANEL_VERSION}",
            "model": s.model,
            "engine": s.engine,
            "model_sha256": ", ".join(s.checksums),
            "approximate_stems": list(s.approximate_stems),
            "params": {n: _mix_dict(self.setting(n)) for n in self.names},
        }
        if self.processed:
            meta["stem_effects"] = {n: {"title": p.title, "steps": p.steps} for n, p in self.processed.items()}
        for key in ("device", "device_fallback"):
            if key in s.provenance:
                meta[key] = s.provenance[key]
        return meta


def _mix_dict(mix: StemMix) -> dict[str, Any]:
    return {"gain_db": mix.gain_db if mix.gain_db != -math.inf else "-inf", "mute": mix.mute, "solo": mix.solo,
            "pan": mix.pan}


def describe(session: StemSession) -> str:
    """The settings in a few words, for the history: "vocals -6.0 dB, drums +2.0 dB"."""
    parts = []
    for n in session.names:
        m = session.setting(n)
        bits = []
        if m.gain_db != 0.0:
            bits.append("-inf dB" if m.gain_db == -math.inf else f"{m.gain_db:+.1f} dB")
        if m.pan != 0.0:
            bits.append(f"pan {m.pan:+.2f}")
        if m.mute:
            bits.append("muted")
        if m.solo:
            bits.append("solo")
        if n in session.processed:
            bits.append(session.processed[n].title)
        if bits:
            parts.append(f"{n} {' '.join(bits)}")
    return ", ".join(parts) or "unity"
