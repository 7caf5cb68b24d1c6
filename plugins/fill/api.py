"""The Qt-free fill API: candidate takes for a region, and extension.

The GUI calls :func:`candidates` on a worker thread with the audio around the
selection (the selection plus context on both sides), lets the user audition and
switch between the returned :class:`~.take.Take` objects, and commits the chosen
one with :func:`~.take.apply_take` (or runs the ``fill`` effect with ``take=N``,
which gives the same audio: every engine is deterministic).

Engines:

* ``ar`` — autoregressive interpolation from both sides (:mod:`.ar`); short gaps.
* ``match`` — the best-continuing stretch of the clip (:mod:`.match`); ranked takes.
* ``neural`` — Seedwave's pretrained fill prior fine-tuned on the clip's own context, or
  (``neural_prior=False``) a network trained on the clip alone (:mod:`.neural`).
* ``auto`` — by gap length and material (:mod:`.auto`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from editor.core.task import TaskContext
from editor.effects.base import EffectError

from .take import Take

ENGINES = ("auto", "ar", "match", "neural")


@dataclass(frozen=True)
class FillOptions:
    """Settings shared by the engines.

    ``context``: seconds of context each side used to judge matches (0 = automatic).
    ``neural_steps``: fine-tuning steps of the neural engine on the clip (training steps from
    scratch when ``neural_prior`` is off; None: 24 with the prior, 200 without).
    ``neural_prior``: start from the shipped fill prior. ``neural_match_level``: raise a neural fill
    that came out quieter than the audio around the gap (at most 6 dB). ``device``: torch device
    for the neural engine. ``janssen``: Janssen refinement iterations for ``ar``.
    """

    context: float = 0.0
    neural_steps: int | None = None
    device: str = "cpu"
    neural_prior: bool = True
    neural_match_level: bool = True
    janssen: int = 1


def region_frames(rate: int, frames: int, start: float, end: float) -> tuple[int, int]:
    """The gap ``[a, b)`` in frames for ``start``/``end`` seconds; raises EffectError if empty."""
    a = int(round(max(0.0, start) * rate))
    b = int(round(max(0.0, end) * rate))
    a, b = min(a, frames), min(b, frames)
    if b <= a:
        raise EffectError("select the region to fill (its end must come after its start, inside the audio)")
    if a == 0 and b == frames:
        raise EffectError("the region covers all the audio: there is nothing around it to continue from")
    return a, b


def snap_to_dropout(x: np.ndarray, a: int, b: int, rate: int) -> tuple[int, int]:
    """Widen ``[a, b)`` over digital silence (exact zeros in every channel) touching it.

    A user selects a dropout by eye, often a few samples inside it; the zeros left
    at the edges would then count as context, and an interpolation that continues
    them is badly wrong. Each side grows by at most the gap's length (and at least
    5 ms may be taken), so a real pause next to a short selection is left alone.
    """
    limit = max(b - a, int(0.005 * rate))
    silent = ~np.any(x != 0.0, axis=0)
    lo = max(0, a - limit)
    left = silent[lo:a][::-1]
    grow_left = int(np.argmin(left)) if left.size and not left.all() else left.size
    hi = min(x.shape[1], b + limit)
    right = silent[b:hi]
    grow_right = int(np.argmin(right)) if right.size and not right.all() else right.size
    if grow_left == limit or a - grow_left == 0:
        grow_left = 0  # silence runs on beyond the limit (or to the start): a pause, not a dropout
    if grow_right == limit or b + grow_right == x.shape[1]:
        grow_right = 0
    return a - grow_left, b + grow_right


def candidates(audio: np.ndarray, rate: int, start: float, end: float, engine: str = "auto",
               n_takes: int = 5, ctx: TaskContext | None = None, *, options: FillOptions | None = None,
               extra: np.ndarray | None = None) -> list[Take]:
    """Ranked candidate fills for the region ``[start, end)`` (seconds) of planar ``audio``.

    ``extra``: optional wider material (same rate and channels) that ``match`` may
    copy from as well. ``match`` returns up to ``n_takes`` distinct takes; ``ar``
    and ``neural`` return one. With ``auto`` the engine is chosen per gap length
    and material, and each take records the choice in ``take.params["auto"]``.
    """
    ctx = ctx or TaskContext()
    opts = options or FillOptions()
    x = np.asarray(audio, np.float32)
    if x.ndim != 2:
        raise EffectError("audio must be planar (channels, frames)")
    if engine not in ENGINES:
        raise EffectError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    a, b = region_frames(rate, x.shape[1], start, end)
    a, b = snap_to_dropout(x, a, b, rate)
    auto_info: dict[str, Any] | None = None
    if engine == "auto":
        from .auto import bucket, choose

        engine, material = choose(x, rate, a, b)
        auto_info = {"material": material, "gap_bucket": bucket((b - a) / rate), "chose": engine}
    takes = _run(engine, x, rate, a, b, max(1, n_takes), ctx, opts, extra)
    if not takes and engine == "match":
        # Too little material to search (a short clip): fall back to interpolation.
        ctx.warn("Fill: not enough material around the region to match; interpolating instead")
        takes = _run("ar", x, rate, a, b, 1, ctx, opts, extra)
        if auto_info is not None:
            auto_info["fallback"] = "ar"
    wanted = max(1, n_takes)
    if auto_info is not None and len(takes) < wanted and engine != "match":
        # Auto's engine gives one take: the context match supplies the alternatives.
        more = _run("match", x, rate, a, b, wanted - len(takes), ctx, opts, extra)
        takes += [Take(len(takes) + i, t.engine, t.start, t.stop, t.audio, t.score,
                       f"{t.label} (alternative)", t.params) for i, t in enumerate(more)]
    if len(takes) < wanted:
        ctx.warn(_why_fewer(engine, len(takes), wanted))
    takes = [_sealed(x, rate, t) for t in takes]
    if auto_info is not None:
        takes = [Take(t.index, t.engine, t.start, t.stop, t.audio, t.score, t.label,
                      {**t.params, "auto": auto_info}) for t in takes]
    ctx.progress(1.0, "Fill: done")
    return takes


def _why_fewer(engine: str, got: int, wanted: int) -> str:
    if engine in ("ar", "neural"):
        name = "Interpolation" if engine == "ar" else "The neural engine"
        return (f"Fill: {name} makes one take (it is deterministic); choose Auto or Context match for "
                f"{wanted} alternatives")
    return (f"Fill: only {got} of {wanted} takes: the clip has no more distinct material that continues "
            "both sides of the region (give a longer clip, or the rest of the track, for more)")


def _sealed(x: np.ndarray, rate: int, take: Take) -> Take:
    """``take`` with its joins guarded against clicks (:func:`.splice.seal_joins`), whatever the engine."""
    from .splice import seal_joins, smooth_edges

    audio = seal_joins(x, take.start, take.stop, take.audio, rate)
    audio = smooth_edges(x, take.start, take.stop, audio, rate)
    return Take(take.index, take.engine, take.start, take.stop, audio, take.score, take.label, take.params)


def _run(engine: str, x: np.ndarray, rate: int, a: int, b: int, n_takes: int, ctx: TaskContext,
         opts: FillOptions, extra: np.ndarray | None) -> list[Take]:
    if engine == "ar":
        from .ar import ar_interpolate, default_order

        ctx.progress(0.1, "Fill: interpolating")
        fill = ar_interpolate(x, a, b, rate, janssen_iterations=opts.janssen)
        order = default_order(b - a, rate)
        return [Take(0, "ar", a, b, fill, 0.0, f"Interpolation (LPC order {order})",
                     {"order": order, "janssen_iterations": opts.janssen})]
    if engine == "match":
        from .match import MatchSettings, match_takes

        return match_takes(x, rate, a, b, n_takes, ctx, MatchSettings(context=opts.context), extra)
    if engine == "neural":
        from .neural import NeuralSettings, neural_fill
        from .prior import PRIOR_STEPS, SCRATCH_STEPS

        steps = opts.neural_steps
        if steps is None:
            steps = PRIOR_STEPS if opts.neural_prior else SCRATCH_STEPS
        return [neural_fill(x, rate, a, b, ctx, NeuralSettings(steps=steps, device=opts.device,
                                                                prior=opts.neural_prior,
                                                                match_level=opts.neural_match_level))]
    raise EffectError(f"unknown fill engine {engine!r}")


def fill(audio: np.ndarray, rate: int, start: float, end: float, engine: str = "auto", take: int = 0,
         ctx: TaskContext | None = None, *, options: FillOptions | None = None,
         extra: np.ndarray | None = None) -> tuple[np.ndarray, Take]:
    """``audio`` with ``[start, end)`` filled by take number ``take`` (clamped to those available)."""
    ctx = ctx or TaskContext()
    takes = candidates(audio, rate, start, end, engine, take + 1, ctx, options=options, extra=extra)
    if not takes:
        raise EffectError("no fill could be made for this region")
    chosen = takes[min(take, len(takes) - 1)]
    if take >= len(takes):
        ctx.warn(f"Fill: only {len(takes)} take(s) for this region; using take {chosen.index}")
    return chosen.apply(np.asarray(audio, np.float32)), chosen
