"""Putting recorded takes into a project (pure edits: one undo step each in the window).

A take recorded onto an armed track replaces what that track held where the take
lies (a punch-in, like Audacity's); a take recorded without an armed track, and a
take recovered after a crash, becomes a new track named after the take.
"""

from __future__ import annotations

from collections.abc import Sequence

from .edits import _window, add_track
from .model import Clip, Project
from .sequence import AudioSeq
from .takefile import TakeInfo


def place_take(project: Project, clip: Clip, track_id: str = "", track_name: str = "Recording") -> Project:
    """``clip`` on the track ``track_id`` (overwriting what it covers there) or, when that
    track is not in the project, on a new track called ``track_name``."""
    if track_id and any(t.id == track_id for t in project.tracks):
        track = project.track(track_id)
        kept: list[Clip] = []
        for c in track.clips:
            for part in (_window(c, c.position, clip.position), _window(c, clip.end, c.end)):
                if part is not None:
                    kept.append(part)
        return project.replace_track(track.with_(clips=(*kept, clip)))
    return add_track(project, track_name, (clip,))


def restore_takes(project: Project, takes: Sequence[tuple[TakeInfo, AudioSeq]]) -> Project:
    """Recovered takes as new tracks, named after each take, at the positions they were recorded at.
    An empty project takes the rate of the first take."""
    if not project.tracks and takes:
        project = project.with_(sample_rate=takes[0][0].sample_rate)
    for info, seq in takes:
        project = add_track(project, info.track_name or "Recording", (Clip(seq, info.position, name=info.track_name),))
    return project
