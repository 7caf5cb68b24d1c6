"""Batch processing: one chain over many files, locally or on a Ray cluster.

Qt-free: ``seedwave batch`` and the window's File > Batch… dialog both drive a
:class:`BatchRunner`::

    runner = BatchRunner(spec, ["in/"], "out/", workers=4,
                         on_progress=show, on_item=add_row)
    report = runner.run()          # blocking: call it from a background job
    runner.cancel()                # from any thread; stops within a chunk

``on_progress(BatchProgress)`` and ``on_item(ItemResult)`` are called on the
thread that runs :meth:`BatchRunner.run`. Throughput (audio hours per hour) and
the ETA are measured from finished files, not extrapolated from the first
percent of the first file.

Backends: one worker runs in the calling thread; several are worker processes
(spawned, so safe from a GUI process), each holding its own model instances and
taking turns on the GPU (one GPU step at a time per GPU); ``ray_address`` sends
each file, or each chunk of a long file, to a Ray cluster as a task (see
:mod:`.batch_ray`).

At the end the report goes to ``DIR/seedwave-batch.json`` (or ``.csv``): for
each input its status, error, seconds, output and the provenance of every effect.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import SeedwaveError
from ..core.task import TaskContext
from ..effects.chainfile import ChainSpec, dumps, resolve
from ..effects.chainfile import digest as chain_digest
from .batch_plan import REPORT_NAME, BatchItem, ItemResult, Journal, is_done, plan_items, read_journal
from .batch_worker import process_item


@dataclass
class BatchProgress:
    """Where a run stands; what a progress bar or the dialog shows."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    audio_seconds_done: float = 0.0  # processed this run (skipped files not counted)
    audio_seconds_left: float = 0.0
    elapsed: float = 0.0
    running: dict[str, float] = field(default_factory=dict)  # input -> fraction (local backends)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def speed(self) -> float | None:
        """Audio hours processed per hour of wall time, once a file has finished."""
        if self.audio_seconds_done <= 0 or self.elapsed <= 0:
            return None
        return self.audio_seconds_done / self.elapsed

    @property
    def eta(self) -> float | None:
        """Seconds left at the measured throughput (None until a file has finished)."""
        s = self.speed
        return None if s is None else self.audio_seconds_left / s

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1], counting the running files' own progress."""
        if not self.total:
            return 1.0
        return min(1.0, (self.finished + sum(self.running.values())) / self.total)

    def text(self) -> str:
        """``12/40 files, 1 failed · 6.2 audio h/h · ETA 0:03:10``."""
        text = f"{self.finished}/{self.total} files"
        if self.failed:
            text += f", {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        speed = self.speed
        text += f" · {speed:.1f} audio h/h" if speed else " · measuring speed"
        eta = self.eta
        if eta is not None and self.finished < self.total:
            text += f" · ETA {_clock(eta)}"
        return text


@dataclass
class BatchReport:
    """The outcome of a run (also written to the report file)."""

    chain: ChainSpec
    chain_sha256: str
    out_dir: Path
    items: list[ItemResult]
    started: str
    seconds: float
    backend: str
    report_path: Path | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.items if r.status == status)

    @property
    def failures(self) -> list[ItemResult]:
        return [r for r in self.items if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled

    @property
    def audio_seconds(self) -> float:
        return sum(r.audio_seconds for r in self.items if r.status == "done")

    def summary(self) -> str:
        parts = [f"{self.count('done')} done", f"{self.count('failed')} failed"]
        if self.count("skipped"):
            parts.append(f"{self.count('skipped')} skipped (unchanged)")
        if self.cancelled:
            parts.append(f"{self.count('cancelled')} cancelled")
        speed = self.audio_seconds / self.seconds if self.seconds > 0 and self.audio_seconds else 0.0
        text = (f"{len(self.items)} inputs: {', '.join(parts)}; "
                f"{_clock(self.audio_seconds)} of audio in {_clock(self.seconds)}")
        if speed:
            text += f" ({speed:.1f} audio hours per hour)"
        return "; ".join([text, *self.notes])

    def to_dict(self) -> dict[str, Any]:
        return {
            "seedwave_batch_report": 1,
            "chain": json.loads(dumps(self.chain)),
            "chain_sha256": self.chain_sha256,
            "out_dir": str(self.out_dir),
            "backend": self.backend,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "counts": {s: self.count(s) for s in ("done", "failed", "skipped", "cancelled")},
            "items": [r.to_dict() for r in self.items],
        }


def _check_output(spec: ChainSpec) -> None:
    """Refuse an output format the writer cannot make (MP3 at 24 bits...) once, before any file."""
    from ..effects.chainrun import export_settings
    from ..engine.export import FORMATS, plan_export

    out = spec.output
    if out.format is None:
        return
    settings = export_settings(out, Path("check" + FORMATS[out.format].extensions[0]), out.channels or 2,
                               "PCM_24", None)
    if out.bits is not None and FORMATS[out.format].lossy:
        raise SeedwaveError(f"{FORMATS[out.format].title} has no bit depth; leave the bit depth unset")
    plan_export(settings, out.sample_rate or 48000)


def run_batch_task(runner: BatchRunner, ctx: TaskContext) -> BatchReport:
    """Run ``runner`` as a background job's function: its progress goes to ``ctx``
    (fraction and :meth:`BatchProgress.text`) and cancelling ``ctx`` cancels the
    run, which still ends with its report (done files kept, the rest "cancelled")::

        job = Job("Batch", lambda ctx: run_batch_task(runner, ctx))
    """
    from ..core.errors import Cancelled

    user = runner.on_progress

    def forward(p: BatchProgress) -> None:
        if user is not None:
            user(p)
        try:
            ctx.progress(p.fraction, p.text())
        except Cancelled:
            runner.cancel()

    runner.on_progress = forward
    try:
        return runner.run()
    finally:
        runner.on_progress = user


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_report(report: BatchReport, fmt: str = "json") -> Path:
    """Write the report into the output folder (atomically); returns its path."""
    path = report.out_dir / f"{REPORT_NAME}.{fmt}"
    if fmt == "json":
        text = json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["input", "status", "error", "seconds", "audio_seconds", "output", "provenance", "warnings"])
        for r in report.items:
            w.writerow([r.input, r.status, r.error, r.seconds, round(r.audio_seconds, 3), r.output,
                        json.dumps(r.provenance, ensure_ascii=False), " | ".join(r.warnings)])
        text = buf.getvalue()
    else:
        raise SeedwaveError(f"unknown report format {fmt!r}; use json or csv")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    report.report_path = path
    return path


# --------------------------------------------------------------------------- local worker processes


class _RunnerContext(TaskContext):
    """A task context that also stops when the runner is cancelled."""

    def __init__(self, stop: threading.Event, on_progress: Callable[[float, str], None] | None = None) -> None:
        super().__init__(on_progress)
        self._stop = stop

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set() or super().cancelled

    def check(self) -> None:
        if self._stop.is_set():
            self.cancel()
        super().check()


_worker: dict[str, Any] = {}


class _WorkerContext(TaskContext):
    """Cancel from the parent's event; progress to the parent's queue (throttled)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return _worker["cancel"].is_set()

    def check(self) -> None:
        if _worker["cancel"].is_set():
            self.cancel()
        super().check()

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last > 0.25:
            self._last = now
            with contextlib.suppress(Exception):  # progress is best effort
                _worker["queue"].put_nowait((self._key, float(fraction)))
        self.check()


def _init_worker(cancel: Any, progress: Any, gpu_slots: Any, threads: int, counter: Any) -> None:
    """Set up a worker process: its share of the cores (effects that use threads see
    only those, so workers do not fight over cores), cancel, progress and GPU slot."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > threads:
            start = (index * threads) % len(cores)
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cores[(start + k) % len(cores)] for k in range(threads)})
    _worker.update(cancel=cancel, queue=progress, gpu=gpu_slots)


def _worker_task(spec_json: str, src: str, out: str, device: str) -> dict[str, Any]:
    return process_item(spec_json, src, out, device, _WorkerContext(src), gpu_slot=lambda: _worker["gpu"])


# --------------------------------------------------------------------------- the runner


class BatchRunner:
    """Runs a chain over inputs into ``out_dir``; see the module docstring."""

    def __init__(self, spec: ChainSpec, inputs: list[str | Path], out_dir: str | Path, *,
                 workers: int | None = None, ray_address: str | None = None, device: str = "auto",
                 report_format: str = "json", resume: bool = True,
                 on_progress: Callable[[BatchProgress], None] | None = None,
                 on_item: Callable[[ItemResult], None] | None = None,
                 chunk_seconds: float = 600.0, gpus_per_task: float = 1.0, max_retries: int = 3) -> None:
        self.spec = spec
        self.steps = resolve(spec)
        self.chain_sha256 = chain_digest(spec, self.steps)
        self.spec_json = dumps(spec)
        self.inputs = [Path(p) for p in inputs]
        self.out_dir = Path(out_dir)
        self.workers = max(1, workers if workers is not None else _cores())
        self.ray_address = ray_address
        self.device = device
        self.report_format = report_format
        self.resume = resume
        self.on_progress = on_progress
        self.on_item = on_item
        self.chunk_seconds = chunk_seconds
        self.gpus_per_task = gpus_per_task
        self.max_retries = max_retries
        self._cancel = threading.Event()
        self.notes: list[str] = []  # things the whole run should say (e.g. GPU effects ran on CPUs)
        self.progress = BatchProgress(0)
        self._results: dict[str, ItemResult] = {}
        self._items: dict[str, BatchItem] = {}
        self._journal: Journal | None = None
        self._t0 = 0.0
        if report_format not in ("json", "csv"):
            raise SeedwaveError(f"unknown report format {report_format!r}; use json or csv")
        _check_output(spec)

    # -- control ---------------------------------------------------------------
    def cancel(self) -> None:
        """Stop: running inputs stop at their next chunk; nothing half-written stays."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def backend(self) -> str:
        if self.ray_address is not None:
            return f"ray ({self.ray_address})"
        return "local, 1 worker" if self.workers == 1 else f"local, {self.workers} worker processes"

    # -- bookkeeping (called on the run() thread) ------------------------------
    def _emit(self) -> None:
        self.progress.elapsed = time.monotonic() - self._t0
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def record(self, r: ItemResult) -> None:
        """Take one input's outcome (each input is recorded once)."""
        if r.input in self._results:
            return
        item = self._items.get(r.input)
        if item is not None:
            r.input_size, r.input_mtime_ns = item.size, item.mtime_ns
            self.progress.audio_seconds_left = max(0.0, self.progress.audio_seconds_left - item.duration)
        r.chain_sha256 = self.chain_sha256
        self._results[r.input] = r
        self.progress.running.pop(r.input, None)
        if r.status == "done":
            self.progress.done += 1
            self.progress.audio_seconds_done += r.audio_seconds
        elif r.status == "skipped":
            self.progress.skipped += 1
        elif r.status == "failed":
            self.progress.failed += 1
        if self._journal is not None and r.status in ("done", "failed"):
            self._journal.add(r)
        if self.on_item is not None:
            self.on_item(r)
        self._emit()

    def record_dict(self, d: dict[str, Any]) -> None:
        names = set(ItemResult.__dataclass_fields__)
        self.record(ItemResult(**{k: v for k, v in d.items() if k in names}))

    # -- run ---------------------------------------------------------------------
    def plan(self) -> tuple[list[BatchItem], list[ItemResult]]:
        return plan_items(self.inputs, self.out_dir, self.spec.output)

    def run(self) -> BatchReport:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.monotonic()
        if self.ray_address is not None:
            from .batch_ray import import_ray

            import_ray()  # a missing Ray is said before any file or folder is touched
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SeedwaveError(f"cannot create the output folder ({exc.strerror or exc})", self.out_dir) from None
        items, early = self.plan()
        self._items = {it.key: it for it in items}
        self.progress = BatchProgress(len(items) + len(early),
                                      audio_seconds_left=sum(it.duration for it in items))
        previous = read_journal(self.out_dir) if self.resume else {}
        self._journal = Journal(self.out_dir)
        try:
            for r in early:
                self.record(r)
            todo = []
            for it in items:
                prev = previous.get(it.key)
                if is_done(it, prev, self.chain_sha256):
                    assert prev is not None
                    self.record(ItemResult(it.key, str(it.out), "skipped", output_size=prev.output_size,
                                           audio_seconds=prev.audio_seconds, provenance=prev.provenance,
                                           warnings=["unchanged since the last run; output kept"]))
                else:
                    todo.append(it)
            self._emit()
            if todo and not self.cancelled:
                if self.ray_address is not None:
                    from .batch_ray import run_on_ray

                    run_on_ray(self, todo)
                elif self.workers == 1 or len(todo) == 1:
                    self._run_here(todo)
                else:
                    self._run_processes(todo)
        finally:
            self._journal.close()
            self._journal = None
        if not self.cancelled or self.ray_address is None:
            _remove_leftovers(self.out_dir, items)
        for it in items:
            if it.key not in self._results:
                self._results[it.key] = ItemResult(it.key, str(it.out), "cancelled", error=f"{it.key}: cancelled",
                                                   input_size=it.size, input_mtime_ns=it.mtime_ns,
                                                   chain_sha256=self.chain_sha256)
        ordered = [r for r in early] + [self._results[it.key] for it in items]
        report = BatchReport(self.spec, self.chain_sha256, self.out_dir, ordered, started,
                             time.monotonic() - self._t0, self.backend, cancelled=self.cancelled,
                             notes=list(self.notes))
        write_report(report, self.report_format)
        return report

    def _run_here(self, todo: list[BatchItem]) -> None:
        for it in todo:
            if self.cancelled:
                return
            def show(fraction: float, _message: str, key: str = it.key, last: list[float] = [0.0]) -> None:  # noqa: B006
                self.progress.running[key] = fraction
                now = time.monotonic()
                if now - last[0] >= 0.25:
                    last[0] = now
                    self._emit()

            d = process_item(self.spec_json, it.key, str(it.out), self.device, _RunnerContext(self._cancel, show))
            if d["status"] == "cancelled":
                return
            self.record_dict(d)

    def _run_processes(self, todo: list[BatchItem]) -> None:
        """Worker processes. If one dies (a crash in native code), the pool breaks and
        the inputs it still held go to a fresh pool, while that gets further; what is
        left then runs one input per pool, so the input that kills its worker fails
        with that reason and the others carry on."""
        mpctx = mp.get_context("spawn")
        cancel = mpctx.Event()
        progress_q = mpctx.Queue()
        gpu_slots = mpctx.Semaphore(1)  # the workers' GPU steps take turns on the (first) GPU
        try:
            suspects = self._pool_round(todo, self.workers, False, mpctx, cancel, progress_q, gpu_slots)
            while suspects and not self.cancelled:  # again, while each round gets further
                fewer = self._pool_round(suspects, self.workers, False, mpctx, cancel, progress_q, gpu_slots)
                if len(fewer) >= len(suspects):
                    break
                suspects = fewer
            for it in suspects:  # each alone now, so that a crash names its input
                if self.cancelled:
                    break
                self._pool_round([it], 1, True, mpctx, cancel, progress_q, gpu_slots)
        finally:
            progress_q.close()
            progress_q.join_thread()

    def _pool_round(self, todo: list[BatchItem], workers: int, last_try: bool, mpctx: Any, cancel: Any,
                    progress_q: Any, gpu_slots: Any) -> list[BatchItem]:
        """Run ``todo`` in one pool; returns the inputs it held when a worker died (unless ``last_try``)."""
        n = min(workers, len(todo))
        threads = max(1, _cores() // n)
        pending: dict[Future, BatchItem] = {}
        again: list[BatchItem] = []
        with ProcessPoolExecutor(n, mp_context=mpctx, initializer=_init_worker,
                                 initargs=(cancel, progress_q, gpu_slots, threads, mpctx.Value("i", 0))) as pool:
            for it in todo:
                pending[pool.submit(_worker_task, self.spec_json, it.key, str(it.out), self.device)] = it
            try:
                while pending:
                    if self.cancelled:
                        cancel.set()
                        for f in pending:
                            f.cancel()
                    done, _ = wait(list(pending), timeout=0.25, return_when=FIRST_COMPLETED)
                    self._drain(progress_q)
                    for f in done:
                        it = pending.pop(f)
                        if f.cancelled():
                            continue
                        exc = f.exception()
                        if exc is None:
                            d = f.result()
                            if d["status"] != "cancelled":
                                self.record_dict(d)
                            continue
                        if not last_try and not self.cancelled:
                            again.append(it)
                        else:
                            self.record(ItemResult(it.key, str(it.out), "failed",
                                                   error=f"{it.key}: the worker process died while processing "
                                                         f"it ({type(exc).__name__})"))
                    if not done:
                        self._emit()
            except BaseException:  # KeyboardInterrupt or a callback's error: stop the workers too
                cancel.set()
                raise
            finally:
                if self.cancelled:
                    cancel.set()
        return again

    def _drain(self, q: Any) -> None:
        while True:
            try:
                key, fraction = q.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if key not in self._results:
                self.progress.running[key] = fraction


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _remove_leftovers(out_dir: Path, items: list[BatchItem]) -> None:
    """Temporary files a killed worker or node left behind (every task has ended by now)."""
    import shutil

    for it in items:
        for tmp in it.out.parent.glob(f".{glob.escape(it.out.name)}.*.part"):
            with contextlib.suppress(OSError):
                tmp.unlink()
    shutil.rmtree(out_dir / ".seedwave-parts", ignore_errors=True)
