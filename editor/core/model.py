"""The project model: plain frozen dataclasses.

A :class:`Project` holds its sample rate, tracks, markers and master gain. A
:class:`Track` holds its mixer settings and clips. A :class:`Clip` plays frames
``[offset, offset + length)`` of its :class:`~editor.core.sequence.AudioSeq` at
timeline frame ``position``, with its own gain and fades. All positions and
lengths are in frames at the project rate, so edits are sample-accurate.

Nothing here changes in place: every edit (see :mod:`editor.core.edits`) returns a
new project that shares all unchanged parts with the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from .chain import Chain
from .ids import new_id
from .provenance import Step
from .sequence import AudioSeq


class FadeShape(StrEnum):
    """Fade curve shapes; gains are defined in :mod:`editor.core.fades`."""

    LINEAR = "linear"
    EQUAL_POWER = "equal_power"
    EXPONENTIAL = "exponential"
    LOGARITHMIC = "logarithmic"
    S_CURVE = "s_curve"


TRACK_COLOURS = (
    "#4f9dde", "#e0823d", "#5fbf6a", "#c95fbf", "#d9c24a", "#4fc2c2", "#e05d5d", "#8f8fe0",
)


@dataclass(frozen=True)
class Clip:
    """A region of audio placed on a track."""

    audio: AudioSeq
    position: int
    offset: int = 0
    length: int = -1  # -1: to the end of ``audio`` (normalised in __post_init__)
    gain_db: float = 0.0
    fade_in: int = 0
    fade_out: int = 0
    fade_in_shape: FadeShape = FadeShape.EQUAL_POWER
    fade_out_shape: FadeShape = FadeShape.EQUAL_POWER
    name: str = ""
    id: str = field(default_factory=new_id)
    # Part of a fade can lie outside the clip after a cut or split: the fade-in
    # curve (``fade_in`` frames long) then starts ``fade_in_offset`` frames before
    # the clip, and the fade-out curve ends ``fade_out_offset`` frames after it.
    # That keeps every piece sounding exactly as it did in the whole clip.
    fade_in_offset: int = 0
    fade_out_offset: int = 0

    def __post_init__(self) -> None:
        if self.length < 0:
            object.__setattr__(self, "length", self.audio.frames - self.offset)
        if self.offset < 0 or self.offset + self.length > self.audio.frames:
            raise ValueError(
                f"clip window {self.offset}+{self.length} outside audio of {self.audio.frames} frames"
            )
        if self.length <= 0:
            raise ValueError("a clip is at least one frame long")
        for fade, off in (("fade_in", "fade_in_offset"), ("fade_out", "fade_out_offset")):
            f, o = max(0, getattr(self, fade)), max(0, getattr(self, off))
            if o >= f:  # the whole fade lies outside the clip
                f = o = 0
            object.__setattr__(self, fade, f)
            object.__setattr__(self, off, o)

    @property
    def fade_in_visible(self) -> int:
        """Frames of the clip that the fade-in covers."""
        return max(0, min(self.length, self.fade_in - self.fade_in_offset))

    @property
    def fade_out_visible(self) -> int:
        """Frames of the clip that the fade-out covers."""
        return max(0, min(self.length, self.fade_out - self.fade_out_offset))

    @property
    def end(self) -> int:
        """Timeline frame just after the clip."""
        return self.position + self.length

    @property
    def channels(self) -> int:
        return self.audio.channels

    def visible_audio(self) -> AudioSeq:
        """The frames the clip plays (its audio window)."""
        return self.audio.slice(self.offset, self.offset + self.length)

    def with_(self, **changes) -> Clip:
        return replace(self, **changes)


@dataclass(frozen=True)
class Track:
    """A lane of clips with its mixer settings."""

    name: str
    clips: tuple[Clip, ...] = ()
    colour: str = TRACK_COLOURS[0]
    gain_db: float = 0.0
    pan: float = 0.0  # -1 (left) .. +1 (right), constant-power law
    mute: bool = False
    solo: bool = False
    id: str = field(default_factory=new_id)
    inserts: Chain = Chain()  # effects heard live, before the fader and pan

    def __post_init__(self) -> None:
        # Clips are kept sorted by position, so lookups and rendering can bisect.
        ordered = tuple(sorted(self.clips, key=lambda c: (c.position, c.id)))
        if ordered != self.clips:
            object.__setattr__(self, "clips", ordered)

    @property
    def end(self) -> int:
        return max((c.end for c in self.clips), default=0)

    @property
    def channels(self) -> int:
        return max((c.channels for c in self.clips), default=1)

    def clip(self, clip_id: str) -> Clip:
        for c in self.clips:
            if c.id == clip_id:
                return c
        raise KeyError(clip_id)

    def with_(self, **changes) -> Track:
        return replace(self, **changes)


@dataclass(frozen=True)
class Marker:
    position: int
    name: str = ""
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Project:
    """A whole document."""

    sample_rate: int = 48000
    tracks: tuple[Track, ...] = ()
    markers: tuple[Marker, ...] = ()
    master_gain_db: float = 0.0
    name: str = "Untitled"
    master_inserts: Chain = Chain()  # effects on the mix, before the master gain
    steps: tuple[Step, ...] = ()  # provenance of processing steps applied (see editor.core.provenance)

    @property
    def end(self) -> int:
        """Frames to the end of the last clip."""
        return max((t.end for t in self.tracks), default=0)

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    def track_index(self, track_id: str) -> int:
        for i, t in enumerate(self.tracks):
            if t.id == track_id:
                return i
        raise KeyError(track_id)

    def find_clip(self, clip_id: str) -> tuple[Track, Clip]:
        for t in self.tracks:
            for c in t.clips:
                if c.id == clip_id:
                    return t, c
        raise KeyError(clip_id)

    @property
    def has_inserts(self) -> bool:
        """True if any track or the master has an insert that processes audio."""
        return bool(self.master_inserts.active) or any(t.inserts.active for t in self.tracks)

    def replace_track(self, track: Track) -> Project:
        return replace(self, tracks=tuple(track if t.id == track.id else t for t in self.tracks))

    def with_(self, **changes) -> Project:
        return replace(self, **changes)

    def blocks(self) -> set:
        """Every block the project references."""
        out: set = set()
        for t in self.tracks:
            for c in t.clips:
                out |= c.audio.blocks()
        return out


@dataclass(frozen=True)
class Selection:
    """A time range on some tracks: frames [start, stop) of each listed track."""

    start: int
    stop: int
    track_ids: tuple[str, ...]

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def empty(self) -> bool:
        return self.stop <= self.start or not self.track_ids
