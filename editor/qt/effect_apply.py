"""Running effects on the document as jobs: apply (in place or to new tracks) and preview.

:class:`EffectController` is the one place the GUI starts effect runs. Every run
is a :class:`~editor.jobs.runner.Job` on ``window.jobs`` (GPU effects in the GPU
slot), works on a snapshot of the project, and never touches the document until
it has finished:

* in place: :meth:`Document.apply_async` applies the result as one undo step to
  the tracks it was computed from, even if the user edited other tracks meanwhile
  (and asks if those tracks changed);
* to new tracks: the new tracks are added to whatever the project is by then;
* preview: the result only goes into scratch projects that the audition service
  plays in a loop over the previewed range (``window.audition``, owner "effects");
  A/B switches between them while playing; previewing again with the same
  parameters on an unchanged project replays the audio already processed.

Errors become messages (``window.show_error``), warnings (an out-of-memory
fallback) show in the status bar and the jobs panel, a cancel leaves everything
as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.errors import SeedwaveError
from ..core.model import Project
from ..core.task import TaskContext
from ..effects import device as devices
from ..effects.base import Effect, EffectContext
from ..effects.models import ModelManager
from ..effects.presets import PresetStore
from ..effects.registry import Registry, registry
from ..jobs.effect_job import (
    Part,
    RunResult,
    add_result_tracks,
    apply_in_place,
    length_change,
    parts_for_clips,
    parts_for_range,
    parts_for_tracks,
    process_parts,
    removed_project,
    track_ids_of,
)
from ..jobs.runner import Job
from .job_relay import JobRelay

SCOPES = ("auto", "selection", "clips", "tracks")
OWNER = "effects"  # this controller's name in the audition service
VARIANTS = ("original", "processed", "removed")


@dataclass
class PreviewSet:
    """The scratch projects one preview run produced, and the range they cover."""

    effect_id: str
    params: dict[str, Any]
    start: int
    stop: int
    original: Project
    processed: Project
    removed: Project | None

    def project(self, variant: str) -> Project:
        if variant == "removed" and self.removed is not None:
            return self.removed
        return self.original if variant == "original" else self.processed


def resolve_device(effect: Effect, policy: str, ctx: TaskContext) -> str:
    """The torch device for this run (on the worker thread: may import torch)."""
    return devices.resolve_device(effect.uses_gpu, policy, ctx.warn, effect.title)


class EffectController(QObject):
    """Starts effect runs on the window's document and applies their results."""

    run_finished = Signal(object)  # the Job, after its result was applied (or it failed or was cancelled)
    preview_ready = Signal(object)  # PreviewSet, as it starts playing
    preview_finished = Signal(object)  # the preview Job, whatever its outcome
    warning = Signal(str)  # a warning from a running effect (out-of-memory fallback...)
    variant_changed = Signal(str)

    def __init__(self, window, reg: Registry | None = None) -> None:  # noqa: ANN001 - MainWindow (import cycle)
        super().__init__(window)
        self.w = window
        self.registry = reg or registry()
        self.presets = PresetStore()
        self.preview_set: PreviewSet | None = None
        self.variant = "processed"
        self.preview_job: Job | None = None
        self._preview_key: tuple | None = None  # what the current preview_set was computed from
        self.warning.connect(self.w.show_message)

    # -- settings ------------------------------------------------------------------
    def models(self) -> ModelManager:
        return self.w.host.models.manager()

    def device_policy(self) -> str:
        return self.w.host.models.device_policy()

    def uses_gpu_slot(self, effect: Effect) -> bool:
        """Whether a run of ``effect`` queues for the single GPU slot."""
        return self.w.host.models.uses_gpu_slot(effect)

    # -- targets ---------------------------------------------------------------------
    def scope(self, scope: str = "auto") -> str:
        st = self.w.state
        if scope == "auto":
            if st.has_range and st.track_ids:
                return "selection"
            return "clips" if st.clip_ids else "tracks"
        return scope

    def parts(self, scope: str = "auto") -> list[Part]:
        """The clip parts a run with ``scope`` works on (may be empty)."""
        st = self.w.state
        project = self.w.project
        scope = self.scope(scope)
        if scope == "selection":
            if not (st.has_range and st.track_ids):
                return []
            return parts_for_range(project, st.sel_start, st.sel_stop, st.track_ids)
        if scope == "clips":
            return parts_for_clips(project, st.clip_ids)
        return parts_for_tracks(project, self.w.target_tracks())

    def preview_parts(self, effect: Effect, scope: str = "auto") -> tuple[list[Part], int, int]:
        """A few seconds (``effect.preview_seconds``) of the selection, or around the cursor."""
        st = self.w.state
        project = self.w.project
        n = max(1, int(effect.preview_seconds * project.sample_rate))
        scope = self.scope(scope)
        if scope == "selection" and st.has_range:
            start, stop = st.sel_start, min(st.sel_stop, st.sel_start + n)
        else:
            around = st.playhead if st.playhead is not None else st.cursor
            stop = min(project.end, max(0, around - n // 2) + n)
            start = max(0, stop - n)
        tids = track_ids_of(self.parts(scope)) or self.w.target_tracks()
        return parts_for_range(project, start, stop, tids), start, stop

    # -- running -----------------------------------------------------------------------
    def _context(self, ctx: TaskContext, effect: Effect, policy: str, models: ModelManager) -> EffectContext:
        ectx = EffectContext(ctx, "cpu", models)
        ectx.device = resolve_device(effect, policy, ectx)
        return ectx

    def _watch(self, job: Job, ok: Callable[[Any], None], fail: Callable[[str], None],
               cancelled: Callable[[], None]) -> None:
        JobRelay(self, job, ok, fail, cancelled, self.warning.emit)

    def apply(self, effect_id: str, params: dict[str, Any] | None = None, scope: str = "auto",
              mode: str = "in_place") -> Job | None:
        """Run an effect on the scope's parts and apply it as one undo step.

        ``mode`` is "in_place" or "new_track"; effects with several outputs always
        put each output on a new track."""
        try:
            effect = self.registry.get(effect_id)
            values = effect.resolve_params(params or {})
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return None
        parts = self.parts(scope)
        if not parts:
            self.w.show_message("Select a time range, a clip or a track with audio first")
            return None
        self.stop_preview()
        label = effect.describe_run(values)
        policy, models, gpu = self.device_policy(), self.models(), self.uses_gpu_slot(effect)
        meta: dict[str, Any] = {}
        if effect.outputs or mode == "new_track":
            return self._apply_new_tracks(effect, values, parts, label, policy, models, gpu)

        def fn(base: Project, ctx: TaskContext) -> Project:
            result = process_parts(base, parts, effect, values, self._context(ctx, effect, policy, models))
            meta.update(result.provenance)  # read by the document when it applies the result
            return apply_in_place(base, result)

        holder: dict[str, Job] = {}
        job = self.w.document.apply_async(fn, label, track_ids=track_ids_of(parts), meta=meta,
                                          on_done=lambda _ok: self._finished(holder["job"]),
                                          gpu=gpu, kind="effect")
        holder["job"] = job
        # The document applies the result and reports errors; only warnings are ours to show.
        self._watch(job, lambda _r: None, lambda _m: None, lambda: None)
        return job

    def _apply_new_tracks(self, effect: Effect, values: dict[str, Any], parts: list[Part], label: str,
                          policy: str, models: ModelManager, gpu: bool) -> Job:
        base = self.w.project

        def work(ctx: TaskContext) -> RunResult:
            return process_parts(base, parts, effect, values, self._context(ctx, effect, policy, models))

        job = Job(label, work, gpu=gpu, kind="effect")

        def ok(result: RunResult) -> None:
            current = {t.id for t in self.w.project.tracks}
            if not current.intersection(track_ids_of(parts)):
                self.w.show_message(f"{label}: discarded, the tracks it was computed from are gone")
                self._finished(job)
                return
            what = "new tracks" if effect.outputs else "new track"
            self.w.document.apply(lambda p: add_result_tracks(p, result, effect)[0], f"{label} → {what}",
                                  meta=dict(result.provenance))
            self._finished(job)

        def fail(message: str) -> None:
            self.w.show_error(f"{label}: {message}")
            self._finished(job)

        def cancelled() -> None:
            self.w.show_message(f"{label}: cancelled")
            self._finished(job)

        self._watch(job, ok, fail, cancelled)
        self.w.jobs.submit(job)
        return job

    def _finished(self, job: Job) -> None:
        warnings = list(dict.fromkeys(job.ctx.warnings))
        if warnings and job.state.value == "done":
            self.w.show_message(f"{job.title} finished. " + " ".join(f"⚠ {w}" for w in warnings))
        self.run_finished.emit(job)

    # -- preview -----------------------------------------------------------------------
    def preview(self, effect_id: str, params: dict[str, Any] | None = None, scope: str = "auto",
                output: str = "") -> Job | None:
        """Process a few seconds in the background, then play them (the document is not touched)."""
        try:
            effect = self.registry.get(effect_id)
            values = effect.resolve_params(params or {})
        except SeedwaveError as exc:
            self.w.show_error(str(exc))
            return None
        parts, start, stop = self.preview_parts(effect, scope)
        if not parts:
            self.w.show_message("Nothing to preview here: put the cursor or a selection on audio")
            return None
        self.stop_preview()
        original = self.w.project
        key = (effect.id, repr(sorted(values.items())), output, start, stop, track_ids_of(parts), id(original))
        if self.preview_set is not None and self._preview_key == key and self.preview_set.original is original:
            self.play_preview()  # nothing changed: replay the audio already processed
            return None
        policy, models, gpu = self.device_policy(), self.models(), self.uses_gpu_slot(effect)
        name = output if output in effect.outputs else (effect.outputs[0] if effect.outputs else "")

        def work(ctx: TaskContext) -> PreviewSet:
            result = process_parts(original, parts, effect, values, self._context(ctx, effect, policy, models))
            processed = apply_in_place(original, result, name)
            removed = None if effect.outputs or effect.changes_length else removed_project(original, result)
            grown = max(0, length_change(result))  # an effect that lengthens: hear the added part too
            return PreviewSet(effect.id, values, start, stop + grown, original, processed, removed)

        job = Job(f"Preview {effect.title}", work, gpu=gpu, kind="preview")

        def ok(ps: PreviewSet) -> None:
            if self.preview_job is job:
                self.preview_job = None
                self.preview_set = ps
                self._preview_key = key
                self.play_preview()
            self.preview_finished.emit(job)

        def fail(message: str) -> None:
            if self.preview_job is job:
                self.preview_job = None
            self.w.show_error(f"Preview {effect.title}: {message}")
            self.preview_finished.emit(job)

        def cancelled() -> None:
            if self.preview_job is job:
                self.preview_job = None
            self.preview_finished.emit(job)

        self._watch(job, ok, fail, cancelled)
        self.preview_job = job
        self.w.jobs.submit(job)
        return job

    def play_preview(self) -> None:
        ps = self.preview_set
        if ps is None:
            return
        if not self.w.player.available:
            self.w.show_message(f"Preview ready, but there is no audio output: {self.w.player.reason}")
            self.preview_ready.emit(ps)
            return
        self.w.audition.play(OWNER, ps.project(self.variant), ps.start, ps.stop, loop=True, variant=self.variant)
        self.preview_ready.emit(ps)

    @property
    def previewing(self) -> bool:
        """True while one of this controller's previews is playing."""
        return self.w.audition.is_playing(OWNER)

    def set_variant(self, variant: str) -> None:
        """Original (A), processed (B) or removed; switches a playing preview at the playhead."""
        if variant not in VARIANTS:
            raise ValueError(variant)
        self.variant = variant
        if self.previewing and self.preview_set is not None:
            self.w.audition.switch(OWNER, self.preview_set.project(variant), variant)
        self.variant_changed.emit(variant)

    def toggle_ab(self) -> None:
        self.set_variant("original" if self.variant != "original" else "processed")

    def stop_preview(self) -> None:
        if self.preview_job is not None:
            self.preview_job.cancel()
            self.preview_job = None
        self.w.audition.stop(OWNER)
