"""Starting the GUI: application object, theme, recovery offer, first project."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from ..core.demo import demo_project
from ..core.recovery import find_recoverable, recover, sweep_stale
from ..core.store import default_store
from ..core.task import TaskContext
from ..core.timefmt import format_hms
from .main_window import MainWindow
from .resources import icon
from .settings import Settings
from .theme import apply_theme


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Seedwave")
    app.setOrganizationName("Seedwave")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("seedwave")  # packaging/linux/seedwave.desktop: taskbar icon and grouping on Wayland
    app.setWindowIcon(icon("seedwave"))
    return app


def load_demo(window: MainWindow) -> None:
    """Open the demo project (decoded in the background)."""

    def work(ctx: TaskContext):
        return demo_project(default_store(), ctx)

    job = window.jobs.run("Open demo project", work, kind="import")
    # Job signals come from a worker thread: the relay calls these on the GUI thread.
    window.host.jobs.relay(job, lambda p: _set_demo(window, p), window.show_error)


def _set_demo(window: MainWindow, project) -> None:  # noqa: ANN001
    window.set_project(project, None, "Open demo project")
    window.document.mark_saved()
    tids = [t.id for t in project.tracks]
    if tids:
        window.timeline.set_track_mode(tids[-1], "both")
    # All five tracks on screen, the noisy speech included, without scrolling.
    QTimer.singleShot(0, window.layouts.fit_tracks)
    window.show_message("Demo project: press Space to play; select the speech track and try Effects")


def offer_recovery(window: MainWindow) -> bool:
    items = find_recoverable()
    if not items:
        return False
    item = items[0]
    when = __import__("datetime").datetime.fromtimestamp(item.saved_at).strftime("%Y-%m-%d %H:%M:%S")
    answer = QMessageBox.question(
        window, "Recover unsaved work?",
        f"Seedwave did not close properly. Recover “{item.name}” ({item.tracks} tracks, last autosaved {when})?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
    )
    from ..core.recovery import discard

    if answer != QMessageBox.StandardButton.Yes:
        for it in items:
            discard(it)
        return False
    from ..core.recovery import RecoveryIncomplete

    try:
        project, path = recover(item, default_store())
    except RecoveryIncomplete as exc:
        # Not exact: open what could be kept (damaged parts on their own marked tracks)
        # and say what is missing; the session is not offered again.
        if exc.project is None:
            window.show_error(f"Recovery failed: {exc}")
            return False
        lost = "\n".join(exc.missing[:12]) + ("\n…" if len(exc.missing) > 12 else "")
        QMessageBox.warning(window, "Recovered with damage",
                            "Some audio of the crashed session is missing or changed, so it could not be "
                            "recovered exactly. What could be kept is open now, damaged parts on tracks "
                            f"marked “(damaged)”.\n\nMissing:\n{lost}")
        window.set_project(exc.project, None, "Recovered (damaged)")
        window.document.mark_unsaved()
        window.show_message(f"Recovered with damage: {len(exc.missing)} part(s) missing")
        return True
    except Exception as exc:  # noqa: BLE001 - a damaged journal must not stop the app
        window.show_error(f"Recovery failed: {exc}")
        return False
    window.set_project(project, Path(path) if path else None, "Recovered")
    window.document.mark_unsaved()
    for it in items[1:]:
        discard(it)
    return True


def end_process(code: int) -> None:
    """Leave at once after a clean shutdown.

    By now the window has stopped playback, cancelled and joined its jobs, written the
    settings and cleared the recovery journal, and the block store is closed: nothing is
    left to save. What Python's own teardown would still do is unload torch and the
    models' native libraries, seconds of waiting after the window is gone (longest with a
    model loaded on a GPU), so the process ends here instead."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run_app(files: list[str], debug: bool = False, exit_process: bool = True) -> int:
    """The editor until its window closes; ``exit_process`` ends the process right after
    a clean shutdown (see :func:`end_process`) instead of returning."""
    app = make_app()
    settings = Settings()
    apply_theme(app, settings.get("ui/theme"))

    def excepthook(etype, value, tb):  # noqa: ANN001
        text = "".join(traceback.format_exception(etype, value, tb))
        print(text, file=sys.stderr)
        if QApplication.instance() is not None and not debug:
            QMessageBox.critical(None, "Seedwave: unexpected error",
                                 f"{etype.__name__}: {value}\n\nYour project is still open; please save it.")

    sys.excepthook = excepthook
    sweep_stale()
    window = MainWindow(settings)
    window.show()
    if files:
        QTimer.singleShot(0, lambda: window.open_paths(files))
    else:
        from .recording import offer_take_recovery

        recovered = offer_recovery(window)
        # Takes a crash mid-recording left: added to the recovered project (or an empty one).
        if not offer_take_recovery(window) and not recovered:
            load_demo(window)
    if not settings.get("first_run_done"):
        QTimer.singleShot(300, lambda: _first_run(window, settings))
    window.status_cursor.setText(f"Cursor {format_hms(0, 48000)}")
    code = app.exec()
    default_store().close()
    if exit_process:
        end_process(code)
    return code


def _first_run(window: MainWindow, settings: Settings) -> None:
    window.tips_panel.open()
    settings.set("first_run_done", True)
