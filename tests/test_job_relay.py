"""A job's outcome reaches plain functions on the GUI thread exactly once, even when
the job ended before anyone asked for it (a short job started, then relayed)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from editor.core.errors import Cancelled, SeedwaveError
from editor.jobs.runner import JobRunner, JobState
from editor.qt.job_relay import JobRelay


def _ended(runner: JobRunner, fn):
    job = runner.run("short", fn)
    assert job.wait(10)
    return job


def _relay_and_collect(qtbot, job):
    owner = QObject()
    got: list[tuple[str, object]] = []
    JobRelay(owner, job, lambda r: got.append(("ok", r)), lambda m: got.append(("fail", m)),
             lambda: got.append(("cancelled", None)))
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    qtbot.wait(50)  # a late signal must not deliver a second time
    return got


def test_a_job_that_ended_before_the_relay_still_delivers_once(qtbot):
    runner = JobRunner()
    try:
        job = _ended(runner, lambda ctx: 42)
        assert job.state is JobState.DONE
        assert _relay_and_collect(qtbot, job) == [("ok", 42)]

        def boom(ctx):
            raise SeedwaveError("the file is gone")

        job = _ended(runner, boom)
        assert _relay_and_collect(qtbot, job) == [("fail", "the file is gone")]

        def stop(ctx):
            raise Cancelled()

        job = _ended(runner, stop)
        assert _relay_and_collect(qtbot, job) == [("cancelled", None)]
    finally:
        runner.shutdown()
