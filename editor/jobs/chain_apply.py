"""Applying a chain to a selection, a clip or a track, as one undo step.

Qt-free, like :mod:`.effect_job` whose parts and in-place apply it shares. The
window's "apply chain" runs, on a background job::

    steps = resolve(spec)                                   # check first, on the GUI thread
    fn = lambda base, ctx: apply_chain_in_place(base, parts, steps, ctx, meta=meta)
    document.apply_async(fn, chain_label(spec), track_ids=track_ids_of(parts), meta=meta)

Each part is processed with up to a second of context on both sides (as single
effects are); the whole chain runs on it, then only the part itself is kept. A
final loudness step normalises each part on its own (the chain's target for that
piece of audio).
"""

from __future__ import annotations

from typing import Any

from ..core.errors import EditError
from ..core.model import Project
from ..core.store import BlockStore, default_store
from ..core.task import TaskContext
from ..effects.chainfile import ChainSpec, ResolvedStep
from ..effects.chainrun import run_chain
from ..effects.models import ModelManager
from .effect_job import MAX_CONTEXT_SECONDS, Part, RunResult, apply_in_place


def chain_label(spec: ChainSpec) -> str:
    """The history entry's label: ``Chain: Podcast voice``."""
    return f"Chain: {spec.title}"


def process_parts_chain(project: Project, parts: list[Part], steps: list[ResolvedStep], ctx: TaskContext,
                        device: str = "auto", models: ModelManager | None = None,
                        store: BlockStore | None = None) -> RunResult:
    """Run the chain on each part (progress spread by length); nothing is applied yet."""
    if not parts:
        raise EditError("there is no audio to process here")
    if any(s.effect.changes_length for s in steps if not s.step.bypass):
        raise EditError("a chain applied in place cannot hold effects that change the length")
    store = store or default_store()
    rate = project.sample_rate
    pad = int(MAX_CONTEXT_SECONDS * rate)
    total = sum(p.frames for p in parts) or 1
    done = 0
    out: list[tuple[Part, dict[str, Any]]] = []
    provenance: list[dict[str, Any]] = []
    for part in parts:
        _track, clip = project.find_clip(part.clip_id)
        a = max(0, part.start - pad)
        b = min(clip.audio.frames, part.stop + pad)
        sub = ctx.sub(done / total, (done + part.frames) / total)
        result = run_chain(steps, clip.audio.slice(a, b), rate, sub, device, models, store,
                           defer_final_loudness=False)
        out.append((part, {"": result.audio.slice(part.start - a, part.stop - a)}))
        if not provenance:
            provenance = result.provenance
        done += part.frames
    return RunResult(out, {"chain": provenance}, list(dict.fromkeys(ctx.warnings)))


def apply_chain_in_place(project: Project, parts: list[Part], steps: list[ResolvedStep], ctx: TaskContext,
                         device: str = "auto", models: ModelManager | None = None,
                         meta: dict[str, Any] | None = None) -> Project:
    """The project with every part replaced by the chain's output: push it as one history step.
    ``meta`` (if given) receives the provenance of every step, for the history entry."""
    result = process_parts_chain(project, parts, steps, ctx, device, models)
    if meta is not None:
        meta.update(result.provenance)
    return apply_in_place(project, result)
