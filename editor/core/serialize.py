"""Project model <-> plain dicts (JSON-ready), with pluggable block references.

The project file stores blocks by uid with byte offsets; the crash-recovery
journal stores them by where they already live (cache file, source alias). Both use
these functions and differ only in how a block is written and resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .blocks import Block
from .chain import Chain
from .model import Clip, FadeShape, Marker, Project, Track
from .provenance import Step
from .sequence import AudioSeq, Segment

BlockResolver = Callable[[str], Block]


def seq_to_dict(seq: AudioSeq, on_block: Callable[[Block], None]) -> dict[str, Any]:
    segs: list[list[Any]] = []
    for s in seq.segments:
        if s.block.is_silent:
            segs.append(["zero", s.frames])
        else:
            on_block(s.block)
            segs.append([s.block.uid, s.start, s.stop])
    return {"channels": seq.channels, "segments": segs}


def seq_from_dict(d: dict[str, Any], resolve: BlockResolver) -> AudioSeq:
    channels = int(d["channels"])
    parts: list[AudioSeq] = []
    for seg in d["segments"]:
        if seg[0] == "zero":
            parts.append(AudioSeq.silence(channels, int(seg[1])))
        else:
            parts.append(AudioSeq((Segment(resolve(seg[0]), int(seg[1]), int(seg[2])),), channels))
    return AudioSeq.concat(*parts) if parts else AudioSeq.empty(channels)


def project_to_dict(project: Project, on_block: Callable[[Block], None]) -> dict[str, Any]:
    return {
        "name": project.name,
        "sample_rate": project.sample_rate,
        "master_gain_db": project.master_gain_db,
        "master_inserts": project.master_inserts.to_data(),
        **({"steps": [s.to_data() for s in project.steps]} if project.steps else {}),
        "markers": [{"id": m.id, "position": m.position, "name": m.name} for m in project.markers],
        "tracks": [
            {
                "id": t.id,
                "name": t.name,
                "colour": t.colour,
                "gain_db": t.gain_db,
                "pan": t.pan,
                "mute": t.mute,
                "solo": t.solo,
                "inserts": t.inserts.to_data(),
                "clips": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "position": c.position,
                        "offset": c.offset,
                        "length": c.length,
                        "gain_db": c.gain_db,
                        "fade_in": c.fade_in,
                        "fade_out": c.fade_out,
                        "fade_in_shape": c.fade_in_shape.value,
                        "fade_out_shape": c.fade_out_shape.value,
                        "fade_in_offset": c.fade_in_offset,
                        "fade_out_offset": c.fade_out_offset,
                        "audio": seq_to_dict(c.audio, on_block),
                    }
                    for c in t.clips
                ],
            }
            for t in project.tracks
        ],
    }


def project_from_dict(d: dict[str, Any], resolve: BlockResolver) -> Project:
    tracks = []
    for t in d["tracks"]:
        clips = tuple(
            Clip(
                audio=seq_from_dict(c["audio"], resolve),
                position=int(c["position"]),
                offset=int(c["offset"]),
                length=int(c["length"]),
                gain_db=float(c["gain_db"]),
                fade_in=int(c["fade_in"]),
                fade_out=int(c["fade_out"]),
                fade_in_shape=FadeShape(c["fade_in_shape"]),
                fade_out_shape=FadeShape(c["fade_out_shape"]),
                fade_in_offset=int(c.get("fade_in_offset", 0)),
                fade_out_offset=int(c.get("fade_out_offset", 0)),
                name=c.get("name", ""),
                id=c["id"],
            )
            for c in t["clips"]
        )
        tracks.append(
            Track(
                name=t["name"],
                clips=clips,
                colour=t.get("colour", "#4f9dde"),
                gain_db=float(t.get("gain_db", 0.0)),
                pan=float(t.get("pan", 0.0)),
                mute=bool(t.get("mute", False)),
                solo=bool(t.get("solo", False)),
                id=t["id"],
                inserts=_chain(t.get("inserts"), f"track {t.get('name', '')!r}"),
            )
        )
    return Project(
        sample_rate=int(d["sample_rate"]),
        tracks=tuple(tracks),
        markers=tuple(Marker(int(m["position"]), m.get("name", ""), m["id"]) for m in d.get("markers", [])),
        master_gain_db=float(d.get("master_gain_db", 0.0)),
        name=d.get("name", "Untitled"),
        master_inserts=_chain(d.get("master_inserts"), "the master"),
        steps=tuple(Step.from_data(s) for s in d.get("steps", [])),
    )


def _chain(data: Any, owner: str) -> Chain:
    """An insert chain from its saved form; a malformed one names its owner and the problem."""
    try:
        return Chain.from_data(data)
    except ValueError as exc:
        raise ValueError(f"insert effects of {owner}: {exc}") from None
