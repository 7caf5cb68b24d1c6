"""Applying a background result onto a project that changed meanwhile."""

from __future__ import annotations

from .errors import EditError
from .model import Project


def merge_result(base: Project, result: Project, current: Project, track_ids: tuple[str, ...],
                 force: bool = False) -> Project | None:
    """Apply ``result``'s version of ``track_ids`` onto ``current``.

    Returns None (unless ``force``) if those tracks changed between ``base`` and
    ``current``: then the user must decide.
    """
    if not track_ids:
        return result if (force or current is base) else None
    out = current
    for tid in track_ids:
        try:
            before = base.track(tid)
            new = result.track(tid)
        except KeyError:
            raise EditError("the track this result belongs to no longer exists") from None
        try:
            now = current.track(tid)
        except KeyError:
            if not force:
                return None
            continue
        if now != before and not force:
            return None
        # Keep the current mixer settings; take the result's clips.
        out = out.replace_track(now.with_(clips=new.clips))
    return out
