"""Running the Chains panel's chain on the document: apply (one undo step) and preview.

A mixin of :class:`~.chains.ChainPanel` (which holds the widgets it reads and
sets): "Apply Chain" runs the whole chain on the scope's audio with
:func:`~editor.jobs.chain_apply.apply_chain_in_place` inside
``document.apply_async`` (one background job, one history step carrying every
step's provenance); "Preview" processes a few seconds the same way into a
scratch project and loops it through the audition service (owner "chains"),
never touching the document.
"""

from __future__ import annotations

from typing import Any

from ...core.errors import SeedwaveError
from ...core.model import Project
from ...core.task import TaskContext
from ...effects.chainfile import resolve
from ...jobs.chain_apply import apply_chain_in_place, chain_label, process_parts_chain
from ...jobs.effect_job import apply_in_place, track_ids_of
from ...jobs.runner import Job
from ..job_relay import JobRelay

PREVIEW_OWNER = "chains"  # this panel's name in the audition service
PREVIEW_SECONDS = 6.0


class _Seconds:
    """What :meth:`EffectController.preview_parts` reads of an effect: how long a preview is."""

    def __init__(self, seconds: float) -> None:
        self.preview_seconds = seconds


class ChainRunning:
    """Apply and preview for the Chains panel (see the module docstring)."""

    job: Job | None
    preview_job: Job | None

    # -- applying -------------------------------------------------------------------------------------------
    def _running(self) -> bool:
        return self.job is not None and self.job.active

    def apply(self, scope: str | None = None) -> Job | None:
        """Run the chain on the scope's audio as one undo step (in the background)."""
        w = self.w
        spec = self.spec
        if not spec.chain.active:
            w.show_message("The chain has no active steps: add effects with “Add to Chain”")
            return None
        try:
            steps = resolve(spec)
        except SeedwaveError as exc:
            w.show_error(str(exc))
            return None
        scope = scope or self.scope.currentData()
        parts = w.effects.parts(scope)
        if not parts:
            w.show_message("Select a time range, a clip or a track with audio first")
            return None
        w.effects.stop_preview()
        self.stop_preview()
        policy = w.host.models.device_policy()
        models = w.host.models.manager()
        gpu = any(w.host.models.uses_gpu_slot(s.effect) for s in steps if not s.step.bypass)
        meta: dict[str, Any] = {}

        def fn(base: Project, ctx: TaskContext) -> Project:
            return apply_chain_in_place(base, parts, steps, ctx, device=policy, models=models, meta=meta)

        job = w.document.apply_async(fn, chain_label(spec), track_ids=track_ids_of(parts), meta=meta,
                                     on_done=lambda _ok: None, gpu=gpu, kind="effect")
        self.job = job
        JobRelay(self, job, lambda _r: self._ended(job, "done"), lambda m: self._ended(job, f"failed: {m}"),
                 lambda: self._ended(job, "cancelled"), w.show_message)
        self.cancel_button.setEnabled(True)
        self.apply_button.setEnabled(False)
        self.status.setText(f"Running {job.title}…")
        self.status.setStyleSheet("")
        return job

    # -- preview -------------------------------------------------------------------------------------------
    def toggle_preview(self) -> Job | None:
        """Start a preview, or stop the one processing or playing."""
        w = self.w
        if self.preview_job is not None or w.audition.is_playing(PREVIEW_OWNER):
            self.stop_preview()
            return None
        if not self.spec.chain.active:
            w.show_message("The chain has no active steps to preview")
            return None
        try:
            steps = resolve(self.spec)
        except SeedwaveError as exc:
            w.show_error(str(exc))
            return None
        seconds = max([s.effect.preview_seconds for s in steps if not s.is_loudness] or [PREVIEW_SECONDS])
        parts, start, stop = w.effects.preview_parts(_Seconds(seconds), self.scope.currentData())
        if not parts:
            w.show_message("Nothing to preview here: put the cursor or a selection on audio")
            return None
        w.effects.stop_preview()
        original = w.project
        policy, models = w.host.models.device_policy(), w.host.models.manager()
        gpu = any(w.host.models.uses_gpu_slot(s.effect) for s in steps if not s.step.bypass)

        def work(ctx: TaskContext) -> Project:
            return apply_in_place(original, process_parts_chain(original, parts, steps, ctx, policy, models))

        job = Job(f"Preview {chain_label(self.spec)}", work, gpu=gpu, kind="preview")
        self.preview_job = job

        def ok(processed: Project) -> None:
            if self.preview_job is job:
                self.preview_job = None
                if not w.player.available:
                    w.show_message(f"Preview ready, but there is no audio output: {w.player.reason}")
                else:
                    w.audition.play(PREVIEW_OWNER, processed, start, stop, loop=True, variant="processed")
            self._preview_state()

        def fail(message: str) -> None:
            if self.preview_job is job:
                self.preview_job = None
            w.show_error(f"Preview of the chain: {message}")
            self._preview_state()

        def cancelled() -> None:
            if self.preview_job is job:
                self.preview_job = None
            self._preview_state()

        JobRelay(self, job, ok, fail, cancelled, w.show_message)
        w.jobs.submit(job)
        self._preview_state()
        return job

    def stop_preview(self) -> None:
        if self.preview_job is not None:
            self.preview_job.cancel()
            self.preview_job = None
        self.w.audition.stop(PREVIEW_OWNER)
        self._preview_state()

    def _preview_state(self, *_a: Any) -> None:
        busy = self.preview_job is not None or self.w.audition.is_playing(PREVIEW_OWNER)
        self.preview_button.setText("Stop Preview" if busy else "Preview")

    def cancel(self) -> None:
        if self._running():
            self.job.cancel()
            self.status.setText("Cancelling…")

    def _ended(self, job: Job, outcome: str) -> None:
        if job is not self.job:
            return
        self.job = None
        self.cancel_button.setEnabled(False)
        self.apply_button.setEnabled(bool(self.spec.chain))
        self.status.setText(f"{job.title}: {outcome}")
        self.status.setStyleSheet("color: #d04040;" if outcome.startswith("failed") else "")
