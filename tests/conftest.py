"""Shared test set-up: isolated cache/config folders, offscreen Qt, leak checks."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="seedwave-tests-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SEEDWAVE_CACHE"] = str(_SESSION_TMP / "cache")
os.environ["SEEDWAVE_MODELS"] = str(_SESSION_TMP / "models")
# Settings go to a throwaway file. (XDG_CONFIG_HOME is left alone: PulseAudio
# finds its server through it, and playback tests need the null sink.)
os.environ["SEEDWAVE_CONFIG"] = str(_SESSION_TMP / "config" / "seedwave.ini")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "numba"))
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402

from editor.core.store import BlockStore, set_default_store  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_settings(tmp_path_factory, monkeypatch):
    """Each test starts with its own settings file: window layouts and choices that
    one test saves (hidden docks, devices) never leak into the next."""
    monkeypatch.setenv("SEEDWAVE_CONFIG", str(tmp_path_factory.mktemp("settings") / "seedwave.ini"))


@pytest.fixture(autouse=True)
def _fresh_store(tmp_path):
    """Each test gets its own block cache folder as the default store."""
    store = BlockStore(tmp_path / "blocks")
    set_default_store(store)
    yield store
    set_default_store(None)


@pytest.fixture
def store(_fresh_store):
    return _fresh_store


def _job_workers() -> int:
    """Worker threads of every live JobRunner (QThreadPool threads: not in threading.enumerate)."""
    import sys

    runner = sys.modules.get("editor.jobs.runner")
    if runner is None:
        return 0
    from shiboken6 import isValid

    return sum(r.active_threads() for r in runner.live_runners() if isValid(r))


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """Fail a test that leaves threads running (napari does the same): non-daemon threads,
    the playback feeder (a daemon, "seedwave-feeder") and job runners' worker threads."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()
                 and (not t.daemon or t.name.startswith("seedwave-feeder"))]
        workers = _job_workers()
        if (not extra and not workers) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"test left threads running: {[t.name for t in extra]}"
    assert not workers, f"test left {workers} job worker thread(s) running"


@pytest.fixture(autouse=True)
def _no_leaked_windows(request):
    """Fail a test that leaves visible windows behind (they would catch the next
    test's mouse events); close them either way."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    managed = {id(ref()) for ref, _f in getattr(request.node, "qt_widgets", []) if ref() is not None}
    leaked = [w for w in app.topLevelWidgets() if w.isVisible() and id(w) not in managed]
    for w in leaked:
        w.close()
    app.processEvents()
    assert not leaked, f"test left windows open: {[type(w).__name__ for w in leaked]}"


@pytest.fixture
def window(qtbot):
    """The real main window, closed after the test (GUI test files may override it)."""
    from .gui_helpers import close_window, make_window

    w = make_window(qtbot)
    yield w
    close_window(w)
