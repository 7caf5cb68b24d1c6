"""Running Fill and Extend in the app: the job, the takes, audition (A/B) and commit.

:class:`FillSession` takes its target from the host's selection on the GUI
thread, computes the takes in a :class:`~editor.jobs.runner.Job` on a snapshot
(the neural engine in the GPU slot when the AI device policy gives it a GPU), and
builds one scratch project per take. Auditioning plays a scratch project through
the host's audition service (owner "fill") over the region with context either side, so the
document is never touched; choosing another take (or the original) while it plays
switches at the playhead. :meth:`FillSession.apply` commits a take as one history
step whose meta records engine, take and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from editor.core.errors import SeedwaveError
from editor.core.model import Project
from editor.core.task import TaskContext
from editor.host import AuditionState, Host
from editor.jobs.runner import Job

from .fill_model import (
    ENGINE_NAMES,
    ExtendTarget,
    FillTarget,
    Prepared,
    apply_extend,
    apply_fill,
    compute_extend,
    compute_fill,
    extend_meta,
    extend_target,
    fill_meta,
    fill_target,
)

PREVIEW_CONTEXT_SECONDS = 1.5  # heard before and after the region
PREVIEW_MAX_EXTENSION_SECONDS = 15.0  # of an extension, at most this much is auditioned
ORIGINAL = -1  # the choice that plays the audio as it is
OWNER = "fill"  # this session's name in the host's audition service


@dataclass
class TakeSet:
    """The takes of one run, the scratch projects they sound in, and the range auditioned."""

    kind: str  # "fill" or "extend"
    target: FillTarget | ExtendTarget
    takes: list[Prepared]
    original: Project
    projects: list[Project]
    start: int
    stop: int
    settings: dict[str, Any] = field(default_factory=dict)
    moved: list[int] = field(default_factory=list)  # extend: how far later clips move, per take

    def project(self, choice: int) -> Project:
        return self.original if choice == ORIGINAL else self.projects[choice]


def _fill_range(base: Project, target: FillTarget, takes: list[Prepared]) -> tuple[int, int]:
    pad = int(PREVIEW_CONTEXT_SECONDS * target.rate)
    lo = min(target.timeline(p.start) for p in takes)
    hi = max(target.timeline(p.stop) for p in takes)
    return max(0, lo - pad), min(base.end, hi + pad)


def _extend_range(base: Project, target: ExtendTarget, projects: list[Project]) -> tuple[int, int]:
    rate = target.rate
    pad, most = int(PREVIEW_CONTEXT_SECONDS * rate), int(PREVIEW_MAX_EXTENSION_SECONDS * rate)
    _t, clip = base.find_clip(target.clip_id)
    grown = [p.find_clip(target.clip_id)[1] for p in projects]
    if target.direction == "end":
        start = max(clip.position, clip.end - pad)
        return start, min(max(c.end for c in grown), clip.end + most)
    first = min(c.position for c in grown)
    join = first + target.frames
    return max(first, join - most), join + pad


class FillSession(QObject):
    """Fill / Extend state of the app (one per host)."""

    run_started = Signal(object)  # the Job
    run_finished = Signal(object)  # the Job, after its takes were stored (or it failed or was cancelled)
    takes_changed = Signal()  # a new TakeSet (or none)
    choice_changed = Signal(int)  # the take being auditioned (ORIGINAL for the original)
    preview_changed = Signal()  # audition started or stopped
    applied = Signal(object)  # the Prepared take, once committed
    error = Signal(str)  # a message for the user (also shown by the window)

    def __init__(self, host: Host, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.job: Job | None = None
        self.take_set: TakeSet | None = None
        self.choice = 0
        self.last_take = 0  # what A/B switches back to from the original
        self.loop = True
        host.audition.state_changed.connect(self._audition)
        host.document.changed.connect(self._document_changed)

    # -- settings --------------------------------------------------------------------
    def device_policy(self) -> str:
        return self.host.models.device_policy()

    def _gpu_slot(self, engine: str) -> bool:
        """The neural engine queues for the single GPU slot when it may get a GPU."""
        from .. import FillEffect

        return engine == "neural" and self.host.models.uses_gpu_slot(FillEffect())

    # -- running -----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def start_fill(self, engine: str = "auto", n_takes: int = 5, whole_track: bool = False,
                   neural_steps: int | None = None, neural_prior: bool = True) -> Job | None:
        """Find takes for the time selection; errors become a message and return None.

        ``neural_steps``/``neural_prior``: the neural engine's fine-tuning of the fill prior
        (or, without the prior, its training from scratch); None steps: the mode's default."""
        base = self.host.document.project
        try:
            target = fill_target(base, self.host.selection.current().time(), whole_track)
        except SeedwaveError as exc:
            self._error(str(exc))
            return None
        policy = self.device_policy()
        settings = {"engine": engine, "n_takes": n_takes, "neural_steps": neural_steps, "neural_prior": neural_prior}

        def work(ctx: TaskContext) -> TakeSet:
            takes = compute_fill(base, target, engine, n_takes, ctx, neural_steps, policy, neural_prior=neural_prior)
            projects = [apply_fill(base, target, p) for p in takes]
            start, stop = _fill_range(base, target, takes)
            return TakeSet("fill", target, takes, base, projects, start, stop, settings)

        title = f"Fill {target.frames / target.rate:.3f} s ({ENGINE_NAMES.get(engine, engine)})"
        return self._submit(Job(title, work, gpu=self._gpu_slot(engine), kind="effect"))

    def start_extend(self, clip_id: str, seconds: float, direction: str = "end", n_takes: int = 3) -> Job | None:
        base = self.host.document.project
        try:
            target = extend_target(base, clip_id, seconds, direction)
        except SeedwaveError as exc:
            self._error(str(exc))
            return None

        def work(ctx: TaskContext) -> TakeSet:
            takes = compute_extend(target, n_takes, ctx)
            done = [apply_extend(base, target, p) for p in takes]
            projects = [d[0] for d in done]
            start, stop = _extend_range(base, target, projects)
            return TakeSet("extend", target, takes, base, projects, start, stop,
                           {"seconds": seconds, "direction": direction}, [d[1] for d in done])

        where = "end" if direction == "end" else "start"
        return self._submit(Job(f"Extend “{target.clip_name}” by {seconds:g} s at the {where}", work,
                                kind="effect"))

    def _submit(self, job: Job) -> Job:
        self.cancel()
        self.stop_preview()
        self.host.jobs.relay(job, lambda ts: self._done(job, ts), lambda _m: self._ended(job, failed=True),
                             lambda: self._ended(job), self.host.ui.message)
        self.job = job
        self.host.jobs.submit(job)
        self.run_started.emit(job)
        return job

    def cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.job.cancel()

    def _done(self, job: Job, take_set: TakeSet) -> None:
        try:
            self.host.document.project.find_clip(take_set.target.clip_id)
        except KeyError:
            self.host.ui.message(f"{job.title}: discarded, its clip is gone")
            self.run_finished.emit(job)
            return
        if job is self.job:
            self.take_set = take_set
            self.choice = self.last_take = 0
            self.takes_changed.emit()
            self.choice_changed.emit(0)
        self.run_finished.emit(job)

    def _ended(self, job: Job, failed: bool = False) -> None:
        if failed:
            self._error(f"{job.title}: {job.error}")
        self.run_finished.emit(job)

    def _error(self, text: str) -> None:
        self.error.emit(text)
        self.host.ui.error(text)

    def _document_changed(self, project: Project) -> None:
        """Forget takes whose clip is gone (another project opened, the track removed)."""
        ts = self.take_set
        if ts is not None:
            try:
                project.find_clip(ts.target.clip_id)
            except KeyError:
                self.clear()

    def clear(self) -> None:
        self.stop_preview()
        self.take_set = None
        self.takes_changed.emit()

    # -- audition ----------------------------------------------------------------------
    @property
    def previewing(self) -> bool:
        return self.host.audition.is_playing(OWNER)

    def choose(self, choice: int) -> None:
        """Audition ``choice`` (a take index, or ORIGINAL); switches a playing preview at the playhead."""
        ts = self.take_set
        if ts is None or not (choice == ORIGINAL or 0 <= choice < len(ts.takes)):
            return
        self.choice = choice
        if choice != ORIGINAL:
            self.last_take = choice
        if self.previewing:
            self.host.audition.switch(OWNER, ts.project(choice), str(choice))
        self.choice_changed.emit(choice)

    def toggle_ab(self) -> None:
        """A/B: the original against the last take chosen."""
        self.choose(self.last_take if self.choice == ORIGINAL else ORIGINAL)

    def play(self) -> bool:
        ts = self.take_set
        if ts is None:
            return False
        if not self.host.audition.available:
            self.host.ui.message(f"There is no audio output to audition on: {self.host.audition.reason}")
            return False
        ok = self.host.audition.play(OWNER, ts.project(self.choice), ts.start, ts.stop, loop=self.loop,
                                     variant=str(self.choice))
        self.preview_changed.emit()
        return ok

    def stop_preview(self) -> None:
        self.host.audition.stop(OWNER)
        self.preview_changed.emit()

    def toggle_play(self) -> None:
        if self.previewing:
            self.stop_preview()
        else:
            self.play()

    def _audition(self, _state: AuditionState) -> None:
        self.preview_changed.emit()  # started, stopped, or something else plays now

    # -- commit --------------------------------------------------------------------------
    def apply(self, choice: int | None = None) -> bool:
        """Commit a take (default: the one chosen) as one undo step."""
        ts = self.take_set
        if ts is None:
            self.host.ui.message("Find takes first")
            return False
        choice = self.choice if choice is None else choice
        if choice == ORIGINAL:
            choice = self.last_take
        p = ts.takes[choice]
        self.stop_preview()
        error = self.host.document.error
        error.connect(self.error)  # a refused edit (the clip changed since) shows in the panel too
        try:
            return self._commit(ts, choice, p)
        finally:
            error.disconnect(self.error)

    def _commit(self, ts: TakeSet, choice: int, p: Prepared) -> bool:
        engine = ENGINE_NAMES.get(p.engine, p.engine)
        if ts.kind == "fill":
            target = ts.target
            assert isinstance(target, FillTarget)
            meta = fill_meta(target, p, ts.settings["engine"], ts.settings["n_takes"], ts.settings["neural_steps"],
                             ts.settings.get("neural_prior", True))
            label = f"Fill {target.frames / target.rate:.3f} s ({engine}, take {choice + 1})"
            ok = self.host.document.apply(lambda pr: apply_fill(pr, target, p), label, meta=meta)
        else:
            target = ts.target
            assert isinstance(target, ExtendTarget)
            meta = extend_meta(target, p, 0)
            moved: list[int] = []

            def edit(pr: Project) -> Project:
                project, shift = apply_extend(pr, target, p)
                moved.append(shift)
                meta["moved_s"] = round(shift / target.rate, 4)  # the document reads meta after the edit
                return project

            label = (f"Extend “{target.clip_name}” by {target.frames / target.rate:g} s at the "
                     f"{target.direction} (take {choice + 1})")
            ok = self.host.document.apply(edit, label, meta=meta)
            if ok and moved and moved[0]:
                self.host.ui.message(f"{label}: later clips on the track moved by {moved[0] / target.rate:.3f} s")
        if ok:
            self.applied.emit(p)
        return ok
