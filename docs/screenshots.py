"""Make the user-guide screenshots from the real Seedwave window.

Run it from the repository root under a virtual X server, so that Qt draws with
its normal xcb backend (not the offscreen one)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots.py

It opens the built-in demo project in a 1600x1000 main window, sets up one scene
per picture (selections, zoom, panels, separation and fill jobs), waits until
the jobs and the background spectrogram tiles are done, grabs the window (or the
screen, for a dialog over the window) and writes the PNGs to ``docs/images/``.
Settings, caches and models go to a temporary folder, so the script neither
reads nor changes the user's own. ``--only NAME`` makes just one picture.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
WIDTH, HEIGHT = 1600, 1000
MAX_BYTES = 400_000

# Before anything imports Qt or Seedwave: real X11, and a throwaway settings file,
# cache and model folder (bundled models only, so every run looks the same).
if os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb" or not os.environ.get("DISPLAY"):
    sys.exit("docs/screenshots.py draws on X11: unset QT_QPA_PLATFORM and run it under xvfb-run "
             "(see its docstring)")
os.environ["QT_QPA_PLATFORM"] = "xcb"
_TMP = Path(tempfile.mkdtemp(prefix="seedwave-screenshots-"))
atexit.register(shutil.rmtree, _TMP, True)
os.environ["SEEDWAVE_CONFIG"] = str(_TMP / "config" / "seedwave.ini")
os.environ["SEEDWAVE_CACHE"] = str(_TMP / "cache")
os.environ["SEEDWAVE_MODELS"] = str(_TMP / "models")
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPoint  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPen, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from editor.core import edits  # noqa: E402
from editor.core.demo import demo_project  # noqa: E402
from editor.core.model import Project  # noqa: E402
from editor.core.store import default_store  # noqa: E402
from editor.host.widgets.fader import db_to_pos  # noqa: E402
from editor.jobs.runner import Job, JobState  # noqa: E402
from editor.qt.app import make_app  # noqa: E402
from editor.qt.main_window import MainWindow  # noqa: E402
from editor.qt.settings import Settings  # noqa: E402
from editor.qt.theme import apply_theme  # noqa: E402
from editor.qt.timeline.handles import DEFAULT_TRACK_HEIGHT  # noqa: E402

JOB_TIMEOUT = 300.0  # s: the first separation also imports torch and loads Spleeter
EXPORT_PATH = "/home/you/Music/Demo.wav"  # shown in the export dialog instead of this machine's home


# --------------------------------------------------------------------------- waiting


def pump(ms: int = 50) -> None:
    """Let Qt handle events (paints, queued signals, timers) for ``ms`` milliseconds."""
    app = QApplication.instance()
    end = time.monotonic() + ms / 1000
    while True:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if time.monotonic() >= end:
            return
        time.sleep(0.005)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = JOB_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        pump(20)


def wait_job(job: Job | None, what: str) -> None:
    if job is None:
        raise RuntimeError(f"{what}: no job was started")
    wait_for(lambda: not job.active, what)
    pump(100)  # the job's result is applied through queued signals
    if job.state is not JobState.DONE:
        raise RuntimeError(f"{what}: {job.state.value} {job.error or ''}")


def settle(w: MainWindow) -> None:
    """Wait for running jobs, the AI device probe (status bar) and every spectrogram tile
    on screen, then for the paints."""
    wait_for(lambda: not w.jobs.active_jobs(), "jobs")
    wait_for(lambda: "detecting" not in w.status_device.text(), "the AI device probe", 120)
    lanes = w.timeline.lanes
    spectra = lanes.spectra
    for _ in range(200):
        pump(30)
        lanes.repaint()  # asks for the tiles it lacks
        if spectra.pool.waitForDone(0):
            break  # nothing was missing
        spectra.wait_idle(60_000)
    else:
        raise TimeoutError("spectrogram tiles")
    pump(150)


# --------------------------------------------------------------------------- grabbing


def save(pixmap: QPixmap, name: str) -> Path:
    """Write ``docs/images/NAME.png``, made smaller with ImageMagick when it is there."""
    path = IMAGES / f"{name}.png"
    if not pixmap.save(str(path), "PNG", 0):  # quality 0: the strongest zlib compression
        raise OSError(f"could not write {path}")
    magick = shutil.which("magick") or shutil.which("convert")
    if magick:
        small = path.with_suffix(".tmp.png")
        # A palette (8-bit) PNG when the picture survives it; UI screenshots usually do.
        subprocess.run([magick, str(path), "-strip", "+dither", "-colors", "256", f"PNG8:{small}"],
                       check=True)
        if small.stat().st_size < path.stat().st_size:
            small.replace(path)
        else:
            small.unlink()
    size = path.stat().st_size
    flag = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1000} KB)"
    print(f"{path.relative_to(ROOT)}: {pixmap.width()}x{pixmap.height()}, {size / 1000:.0f} KB{flag}")
    return path


def grab_window(w: MainWindow, name: str) -> Path:
    settle(w)
    return save(w.grab(), name)


def grab_screen_with(dialog: QWidget, name: str) -> Path:
    """The whole screen, with a dialog over the window. Xvfb runs no window manager, so the
    dialog gets a thin border and a soft shadow here, where a desktop would draw its frame."""
    pix = QGuiApplication.primaryScreen().grabWindow(0)
    r = dialog.frameGeometry()
    p = QPainter(pix)
    for i in range(1, 15):
        p.setPen(QPen(QColor(0, 0, 0, int(70 * (1 - i / 15) ** 2)), 1))
        p.drawRect(r.adjusted(-i, -i, i - 1, i - 1))
    p.setPen(QPen(QColor("#6a6e76"), 1))
    p.drawRect(r.adjusted(-1, -1, 0, 0))
    p.end()
    return save(pix, name)


# --------------------------------------------------------------------------- scene helpers


def seconds(w: MainWindow, s: float) -> int:
    return int(round(s * w.project.sample_rate))


def track_id(w: MainWindow, name: str) -> str:
    return next(t.id for t in w.project.tracks if t.name.startswith(name))


def reset(w: MainWindow, demo: Project, modes: dict[str, str] | None = None) -> None:
    """The demo project as it was opened: history, selection, view, panels."""
    wait_for(lambda: "detecting" not in w.status_device.text(), "the AI device probe", 120)
    w.stop()
    w.host.ui.panel("fill.panel").s.clear()
    w.set_project(demo, None, "Open demo project")
    w.document.mark_saved()
    w.jobs_panel.clear_finished()
    pump(50)
    lanes = w.timeline.lanes
    lanes.fitted = None
    lanes.default_height = DEFAULT_TRACK_HEIGHT
    for t in demo.tracks:
        w.timeline.set_track_mode(t.id, (modes or {}).get(t.name, "waveform"))
        lanes.set_height(t.id, None)  # heights are view state: back to the default
    w.tips_panel.dismiss()
    w.mixer_dock.show()
    w.history_dock.raise_()
    w.effects_dock.raise_()
    w.statusBar().clearMessage()
    w.fit_project()
    w.timeline.vbar.setValue(0)
    pump(50)


def select(w: MainWindow, start: float, stop: float, *tracks: str) -> None:
    tids = tuple(track_id(w, t) for t in tracks)
    w.state.set_clips(())
    w.state.set_selection(seconds(w, start), seconds(w, stop), tids)
    w.state.set_cursor(seconds(w, start))
    pump(50)


def show_range(w: MainWindow, start: float, stop: float) -> None:
    w.state.zoom_to(seconds(w, start), seconds(w, stop), w.lanes_width())
    pump(50)


def edit(w: MainWindow, fn: Callable[[Project], Project], label: str) -> None:
    if not w.document.apply(fn, label):
        raise RuntimeError(f"{label} failed")
    pump(50)


# --------------------------------------------------------------------------- scenes


def scene_main_window(w: MainWindow, demo: Project) -> None:
    """The window as a user meets it: speech selected, Denoise chosen, mixer below."""
    reset(w, demo, {"Speech (noisy)": "both"})
    w.tips_panel.open()  # the first start's tips, in their banner above the tracks
    pump(50)
    w.layouts.fit_tracks()  # as the demo opens: all five tracks on screen
    select(w, 3.0, 9.5, "Speech")
    w.effect_panel.select_effect("denoise")
    grab_window(w, "main-window")
    w.tips_panel.dismiss()


def scene_editing(w: MainWindow, demo: Project) -> None:
    """Clip editing close up: a clip split and its second part moved, a fade-in, a selection."""
    reset(w, demo)
    w.mixer_dock.hide()  # View > Panels > Mixer: the tracks get the height
    flute = track_id(w, "Flute")
    w.timeline.lanes.set_height(flute, 220)  # drag the header's bottom edge (view only, no undo step)
    w.state.set_selection(seconds(w, 12.0), seconds(w, 12.0), (flute,))
    w.state.set_cursor(seconds(w, 12.0))
    w.split()
    pump(50)
    right = max(w.project.track(flute).clips, key=lambda c: c.position)
    edit(w, lambda p: edits.move_clip(p, right.id, seconds(w, 13.0)), "Move clip")
    edit(w, lambda p: edits.set_clip(p, right.id, fade_in=seconds(w, 1.5)), "Fade in")
    select(w, 6.0, 9.0, "Keys", "Flute")
    show_range(w, 5.0, 17.0)
    grab_window(w, "editing")


def scene_spectrogram(w: MainWindow, demo: Project) -> None:
    """The speech track as a spectrogram, a few seconds of it, in a tall lane."""
    reset(w, demo, {"Speech (noisy)": "spectrogram"})
    w.mixer_dock.hide()  # View > Panels > Mixer: the tracks get the height
    speech = track_id(w, "Speech")
    w.timeline.lanes.set_height(speech, 360)
    select(w, 2.6, 3.4, "Speech")
    show_range(w, 1.0, 7.0)
    w.timeline.vbar.setValue(w.timeline.vbar.maximum())
    grab_window(w, "spectrogram")


def scene_remix(w: MainWindow, demo: Project) -> None:
    """The Remix panel after separating a music clip, with some stems rebalanced."""
    reset(w, demo)
    select(w, 5.0, 5.0, "Flute")
    w.state.set_clips((w.project.track(track_id(w, "Flute")).clips[0].id,))
    panel = w.host.ui.panel("stems.remix")
    w.plugin_ui.actions["stems.show_remix"].trigger()
    panel.models.select("spleeter")
    wait_for(lambda: panel.clip_id is not None, "the remix panel to find the clip", 10)
    wait_job(panel.separate(), "separation")
    wait_for(lambda: panel.session is not None, "the stems", 10)
    rows = panel.rows
    rows["vocals"].gain.setValue(db_to_pos(3.0))
    rows["drums"].mute_btn.setChecked(True)
    rows["bass"].gain.setValue(db_to_pos(-6.0))
    rows["other"].gain.setValue(db_to_pos(-3.0))
    rows["other"].pan.setValue(-30)
    grab_window(w, "remix")


def scene_fill(w: MainWindow, demo: Project) -> None:
    """Fill: a half-second dropout made in a music track, selected, takes found."""
    reset(w, demo)
    select(w, 10.0, 10.5, "Keys")
    w.silence()
    pump(50)
    select(w, 10.0, 10.5, "Keys")
    wait_job(w.plugin_ui.actions["fill.fill_selection"].trigger() or w.host.ui.panel("fill.panel").s.job, "fill")
    w.host.ui.panel("fill.panel").list.setCurrentRow(1)
    w.history_dock.raise_()
    show_range(w, 7.0, 13.5)
    grab_window(w, "fill")


def scene_export(w: MainWindow, demo: Project) -> None:
    """File > Export… over the window, set for a streaming master."""
    reset(w, demo)
    w.export_dialog()
    dlg: QWidget = w.export_dlg
    dlg.path_edit.setText(EXPORT_PATH)
    dlg.set_preset("Streaming")
    settle(w)
    dlg.adjustSize()
    pump(100)
    dlg.move(w.geometry().center() - QPoint(dlg.width() // 2, dlg.height() // 2))
    pump(300)
    grab_screen_with(dlg, "export")
    dlg.close()
    pump(50)


SCENES: dict[str, Callable[[MainWindow, Project], None]] = {
    "main-window": scene_main_window,
    "editing": scene_editing,
    "spectrogram": scene_spectrogram,
    "remix": scene_remix,
    "fill": scene_fill,
    "export": scene_export,
}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(SCENES), action="append", help="make only this picture (repeatable)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    IMAGES.mkdir(parents=True, exist_ok=True)
    app = make_app(["seedwave"])
    apply_theme(app, "dark")
    w = MainWindow(Settings())
    w.modal_errors = False  # errors go to the status bar (and make the script fail below)
    w.move(0, 0)
    w.resize(WIDTH, HEIGHT)
    w.show()
    pump(300)
    try:
        demo = demo_project(default_store())
        for name, scene in SCENES.items():
            if args.only and name not in args.only:
                continue
            scene(w, demo)
            err = getattr(w, "_last_error", None)
            if err:
                raise RuntimeError(f"{name}: the window reported an error: {err}")
    finally:
        w.document.history.saved_index = w.document.history.index  # no "save changes?" question
        w.shutdown()
        w.close()
        pump(50)
        default_store().close()
    print(f"done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
