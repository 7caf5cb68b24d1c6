"""Edits of insert chains (the live effects of a track or of the master).

Each function is a pure ``Project -> Project`` edit, so each is one undo step.
A chain's owner is a track id, or :data:`MASTER` (``None``) for the master chain.

Dragging a control sends many edits; :func:`insert_merge_key` gives the key that
makes the history merge them into one step (pass it as ``merge_key`` to
``History.push`` / ``Document.apply``, as the faders do).

:func:`bake_chain` replaces a track's clips by processed audio and empties its
chain in one step; the processing itself (running effects) belongs to the effect
layer (:func:`editor.effects.live.bake_track`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .chain import Chain, ChainStep
from .errors import EditError
from .model import Clip, Project

MASTER: None = None  # the owner id of the master chain


def chain_of(project: Project, owner: str | None) -> Chain:
    """The insert chain of track ``owner`` (or the master's for ``None``)."""
    if owner is MASTER:
        return project.master_inserts
    try:
        return project.track(owner).inserts
    except KeyError:
        raise EditError(f"no track with id {owner!r}") from None


def with_chain(project: Project, owner: str | None, chain: Chain) -> Project:
    """``project`` with the chain of ``owner`` replaced."""
    if owner is MASTER:
        return project.with_(master_inserts=chain)
    chain_of(project, owner)  # names a missing track
    return project.replace_track(project.track(owner).with_(inserts=chain))


def _step(project: Project, owner: str | None, step_id: str) -> tuple[Chain, ChainStep]:
    chain = chain_of(project, owner)
    try:
        return chain, chain.step(step_id)
    except KeyError:
        where = "the master" if owner is MASTER else f"track {project.track(owner).name!r}"
        raise EditError(f"{where} has no insert effect with id {step_id!r}") from None


def add_insert(project: Project, owner: str | None, step: ChainStep | str,
               params: Mapping[str, Any] | None = None, at: int | None = None) -> Project:
    """Add an effect (a :class:`ChainStep`, or an effect id with ``params``) at
    position ``at`` of the chain (default: the end)."""
    if isinstance(step, str):
        step = ChainStep.make(step, params)
    chain = chain_of(project, owner)
    if any(s.id == step.id for s in chain):
        raise EditError(f"the chain already has a step with id {step.id!r}")
    return with_chain(project, owner, chain.added(step, at))


def remove_insert(project: Project, owner: str | None, step_id: str) -> Project:
    chain, _ = _step(project, owner, step_id)
    return with_chain(project, owner, chain.removed(step_id))


def move_insert(project: Project, owner: str | None, step_id: str, index: int) -> Project:
    """Move a step to ``index`` (clamped to the chain) — reordering."""
    chain, _ = _step(project, owner, step_id)
    return with_chain(project, owner, chain.moved(step_id, index))


def set_insert_bypass(project: Project, owner: str | None, step_id: str, bypass: bool) -> Project:
    chain, step = _step(project, owner, step_id)
    return with_chain(project, owner, chain.replaced(step.with_(bypass=bool(bypass))))


def set_insert_wet(project: Project, owner: str | None, step_id: str, wet: float) -> Project:
    """Wet/dry mix of one step: 0 = dry only, 1 = effect only (clamped)."""
    if not math.isfinite(wet):
        raise EditError("wet/dry must be a number between 0 and 1")
    chain, step = _step(project, owner, step_id)
    return with_chain(project, owner, chain.replaced(step.with_(wet=min(1.0, max(0.0, float(wet))))))


def set_insert_params(project: Project, owner: str | None, step_id: str, **params: Any) -> Project:
    """Change some parameters of one step (others keep their values).

    Values are checked against the effect's schema by the effect layer when the
    chain runs; here they must only be plain values (numbers, booleans, text)."""
    chain, step = _step(project, owner, step_id)
    try:
        new = step.with_params(**params)
    except (TypeError, ValueError) as exc:
        raise EditError(str(exc)) from None
    return with_chain(project, owner, chain.replaced(new))


def set_chain(project: Project, owner: str | None, chain: Chain) -> Project:
    """Replace a whole chain (load a preset or a chain file onto a track)."""
    return with_chain(project, owner, chain)


def insert_merge_key(owner: str | None, step_id: str, control: str) -> str:
    """History merge key for dragging one control (a parameter name, or ``"wet"``)
    of one step: consecutive pushes with the same key make one undo step."""
    return f"insert:{owner or 'master'}:{step_id}:{control}"


def bake_chain(project: Project, track_id: str, clips: Mapping[str, Clip]) -> Project:
    """Replace clips of a track by their processed versions (``clips`` maps an old
    clip id to its new clip) and take the baked steps out of the track's chain
    (bypassed steps stay): one undo step.

    Every clip of the track must be given, so nothing is left that the chain
    would have changed."""
    track = project.track(track_id)
    missing = [c.id for c in track.clips if c.id not in clips]
    if missing:
        raise EditError(f"baking the effects of track {track.name!r} left out {len(missing)} clip(s)")
    new = tuple(clips[c.id] for c in track.clips)
    kept = Chain(tuple(s for s in track.inserts if s not in track.inserts.active))  # bypassed steps stay
    return project.replace_track(track.with_(clips=new, inserts=kept))
