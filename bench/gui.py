"""Main-window drawing speed on a 1-hour stereo file (issue 3 targets).

* each repaint of the track lanes takes at most 16 ms, at full view, at a 10 s
  view and at sample level, while scrolling (so caches are not simply reused);
* the first paint comes at most 1 s after the import's summaries are ready.

Runs the real MainWindow offscreen; timings are of synchronous ``repaint()``.
Usage: ``python -m bench.gui [--minutes N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from .common import stamp, table, workdir, write_section  # noqa: E402

RATE = 48000


def make_file(minutes: int) -> str:
    path = workdir("gui") / f"{minutes}min.wav"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(0)
    chunk = RATE * 60
    t = np.arange(chunk) / RATE
    with sf.SoundFile(str(path), "w", RATE, 2, "PCM_16") as f:
        for i in range(minutes):
            env = 0.2 + 0.6 * (0.5 + 0.5 * np.sin(2 * np.pi * t / (7 + i % 5)))
            x = env * np.sin(2 * np.pi * (110 + 20 * i) * t)
            f.write(np.stack([x, 0.7 * x], 1) + 0.03 * rng.standard_normal((chunk, 2)))
    return str(path)


def repaint_times(app, lanes, state, left0: float, fpp: float, n: int, step_px: float,
                  busy=lambda: False) -> tuple[list[float], list[bool]]:
    """Repaint times (ms) while scrolling, and for each whether background work
    (a job, or a spectrogram tile worker) was running at the time."""
    times, busies = [], []
    state.set_view(left0, fpp)
    app.processEvents()
    for i in range(n):
        state.set_view(left0 + i * step_px * fpp, fpp)
        b = busy()
        t = time.perf_counter()
        lanes.repaint()
        times.append((time.perf_counter() - t) * 1000)
        busies.append(b or busy())
    return times, busies


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--frames", type=int, default=60, help="repaints per view")
    args = ap.parse_args(argv)
    from editor.qt.app import make_app
    from editor.qt.main_window import MainWindow
    from editor.qt.settings import Settings

    os.environ.setdefault("SEEDWAVE_CONFIG", str(workdir("gui") / "settings.ini"))
    path = make_file(args.minutes)
    app = make_app()
    w = MainWindow(Settings())
    w.modal_errors = False
    w.resize(1600, 900)
    w.show()
    app.processEvents()
    lanes = w.timeline.lanes
    paints: list[float] = []
    orig_paint = lanes.paintEvent

    def timed_paint(e):
        orig_paint(e)
        paints.append(time.perf_counter())

    lanes.paintEvent = timed_paint
    done: dict[str, float] = {}
    w.import_finished.connect(lambda _j: done.setdefault("t", time.perf_counter()))
    t0 = time.perf_counter()
    w.open_paths([path])
    while "t" not in done:
        app.processEvents()
        time.sleep(0.001)
    summaries = done["t"] - t0
    first_paint = None
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:
        app.processEvents()
        later = [p for p in paints if p >= done["t"]]
        if later:
            first_paint = later[0] - done["t"]
            break
        time.sleep(0.001)
    w.fit_project()
    app.processEvents()
    width = lanes.width()
    frames_total = w.project.end
    rows = []
    views = [
        ("full view (1 h)", 0.0, frames_total / width, 0.0),
        ("10 s view", RATE * 1800.0, RATE * 10.0 / width, 7.0),
        ("sample level (8 px/sample)", RATE * 1800.0, 1.0 / 8.0, 7.0),
    ]
    def busy() -> bool:
        return bool(w.jobs.active_jobs()) or lanes.spectra.pool.activeThreadCount() > 0

    for label, left, fpp, step in views:
        for mode in ("waveform", "spectrogram"):
            for tid in [t.id for t in w.project.tracks]:
                w.timeline.set_track_mode(tid, mode)
            times, busies = repaint_times(app, lanes, w.state, left, fpp, args.frames, step, busy)
            warm = times[1:]
            slow = [i for i, t in enumerate(times) if i and t > 16.0]
            rows.append([label, mode, round(statistics.median(warm), 2), round(max(warm), 2), round(times[0], 2),
                         len(slow), sum(busies[i] for i in slow)])
    # Spectrogram: time until the visible tiles of the full view have arrived.
    for tid in [t.id for t in w.project.tracks]:
        w.timeline.set_track_mode(tid, "spectrogram")
    lanes.spectra.shutdown()
    from editor.qt.timeline.spectrogram import SpectroCache

    lanes.spectra = SpectroCache()
    lanes.spectra.updated.connect(lanes.update)
    w.state.set_view(RATE * 600.0, RATE * 30.0 / width)
    t = time.perf_counter()
    lanes.repaint()
    lanes.spectra.wait_idle(60000)
    spectro_fill = time.perf_counter() - t
    w.document.history.saved_index = w.document.history.index
    w.shutdown()
    w.close()
    md = [
        "## Drawing (main window, 1-hour stereo file)",
        "",
        stamp(),
        "",
        f"Import of {args.minutes} min of 48 kHz stereo 16-bit WAV until the track is in the project: "
        f"**{summaries:.2f} s**; first paint after that: **{(first_paint or float('nan')) * 1000:.0f} ms** "
        "(target ≤ 1 s).",
        "",
        f"Repaints of the {width} px wide track lanes while scrolling ({args.frames} per view; "
        "target ≤ 16 ms each). 'first' is the first repaint at that zoom (cold caches).",
        "",
        table(["view", "mode", "median ms", "max ms", "first ms", "repaints over 16 ms",
               "of those, with background work running"], rows),
        "",
        "Background work: a job (the import's copy of the file into the block cache runs for a few "
        "seconds after the import) or a spectrogram tile worker (tiles of the view before are "
        "abandoned within 64 reads once they leave the screen). Both are Python threads, so they "
        "compete with the GUI thread for the GIL on this 2-core machine.",
        "",
        f"Spectrogram tiles for a 30 s view in the middle of the hour, all computed in the background: "
        f"{spectro_fill * 1000:.0f} ms (the lanes stay interactive meanwhile; tiles show as they arrive).",
    ]
    write_section("gui", "\n".join(md))


if __name__ == "__main__":
    main()
