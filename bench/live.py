"""Playback with live insert effects on every track (issue 13): dropouts under load.

The render benchmark's 16 ten-minute tracks, each with an EQ + compressor +
reverb insert chain, play through the real player (feeder thread, ring
buffer, PortAudio callback) to the PulseAudio null sink, paced in real time.
The main thread stands in for a busy GUI thread: every 1/60 s frame it runs
``--gui-ms`` of pure-Python work holding the GIL (what repainting a timeline
costs), which is what competes with the feeder and the audio callback.

A second row also drags a reverb parameter of the first track the whole time:
25 edits a second (the mixer's rate for a dragged control), merged into one
undo step by their merge key (as a control drag in the mixer will be); each
edit reaches the playing renderer, which sets the new value on the running
reverb (its tail carries on).

Counting is :mod:`bench.playback`'s: PortAudio underflow flags plus callbacks
that found the ring buffer short; the null sink's start-up stall is reported apart.

    python -m bench.live [--seconds S] [--minutes M] [--tracks N] [--gui-ms MS]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from .common import stamp, table, workdir, write_section

RATE = 48000
FRAME_S = 1 / 60
EDIT_S = 0.04  # the mixer's throttle for drag edits (editor/qt/panels/mixer.py, EDIT_MS)


def _busy(ms: float) -> None:
    """Pure-Python work holding the GIL for about ``ms`` milliseconds."""
    end = time.perf_counter() + ms / 1000
    x = 0
    while time.perf_counter() < end:
        for i in range(200):
            x += i * i


def play_under_load(player, project, seconds: float, gui_ms: float, drag=None) -> dict:  # noqa: ANN001
    """Play from the start for ``seconds`` with a busy main thread; the counts."""
    from .playback import startup_end

    player.set_project(project)
    player.reset_counts()
    ru0, t_play = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    player.play(0)
    frames = 0
    next_frame = time.monotonic()
    while time.monotonic() < t_play + seconds:
        if drag is not None:
            drag(frames)
        _busy(gui_ms)
        frames += 1
        next_frame += FRAME_S
        delay = next_frame - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_frame = time.monotonic()
    wall = time.monotonic() - t_play
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    played = player.position / RATE
    player.stop()
    times, events = list(player.times), list(player.events)
    steady = startup_end(times)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if a >= steady]
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {
        "played": played,
        "latency_ms": 1000 * player.stream_latency,
        "steady_callbacks": sum(1 for t in times if t > steady),
        "expected": (t_play + wall - steady) * RATE / player.blocksize,
        "underruns": player.underruns,
        "startup": sum(1 for t, _k in events if t <= steady),
        "steady": sum(1 for t, _k in events if t > steady),
        "steady_flags": sum(1 for t, k in events if t > steady and k == "flag"),
        "max_gap_ms": 1000 * max(gaps, default=0.0),
        "cpu_pct": 100 * cpu / wall,
        "fps": frames / wall,
        "load": os.getloadavg()[0],
        "error": player.error,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bench.live")
    ap.add_argument("--seconds", type=float, default=30.0, help="how long each scenario plays")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of each track")
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--blocksize", type=int, default=1024)
    ap.add_argument("--gui-ms", type=float, default=8.0, help="Python work per 1/60 s frame on the main thread")
    args = ap.parse_args(argv)  # None: the command line (so --help helps instead of running)

    import editor.effects  # noqa: F401 - the renderer's insert factory
    from editor.core.history import History
    from editor.core.insert_edits import insert_merge_key, set_insert_params
    from editor.core.store import BlockStore, set_default_store
    from editor.engine.playback import Player, default_output

    from .playback import counting_player, set_latency
    from .render import EQ_SETTINGS, build_project, make_tracks, with_inserts

    set_default_store(BlockStore(workdir("live") / "blocks"))
    player = counting_player(default_output(), args.blocksize)
    if not player.available:
        raise SystemExit(f"no audio output: {player.reason}")
    set_latency(None)  # sounddevice's default, as the app
    paths = make_tracks(workdir("render"), args.tracks, args.minutes * 60)
    project = with_inserts(build_project(paths))
    results = []
    label = f"{args.tracks} tracks × {args.minutes:g} min, EQ + compressor + reverb on each"
    results.append((label, play_under_load(player, project, args.seconds, args.gui_ms)))

    history = History(project)
    first = project.tracks[0]
    step = first.inserts.steps[2]
    key = insert_merge_key(first.id, step.id, "room_size")
    history.hold_merge(key)

    last = [0.0]
    edits = [0]

    def drag(frame: int) -> None:
        now = time.monotonic()
        if now - last[0] < EDIT_S:  # the mixer sends a dragged control's edits at most this often
            return
        last[0] = now
        room = 0.5 + 0.4 * ((frame % 120) / 120)
        history.push(set_insert_params(history.current, first.id, step.id, room_size=room), "Reverb room size", key)
        player.set_project(history.current)
        edits[0] += 1

    results.append((label + ", dragging a reverb parameter",
                    play_under_load(player, project, args.seconds, args.gui_ms, drag)))
    history.end_merge()
    steps_added = len(history.entries) - 1

    rows = []
    for label, r in results:
        rows.append([label, f"{r['latency_ms']:.0f}", f"{r['played']:.1f}",
                     f"{r['steady_callbacks']} / {r['expected']:.0f}", r["underruns"], r["startup"],
                     f"{r['steady']} ({r['steady_flags']} flagged by PortAudio)",
                     f"{r['max_gap_ms']:.0f}", f"{r['cpu_pct']:.0f}", f"{r['fps']:.0f}", f"{r['load']:.1f}"])
    errors = [r["error"] for _l, r in results if r["error"]]
    md = [
        "## Playback with live insert effects",
        "",
        stamp(),
        "",
        f"The player plays {args.tracks} stereo tracks of {args.minutes:g} min, each with an insert chain of EQ "
        f"({', '.join(f'{k}={v}' for k, v in EQ_SETTINGS.items())}), compressor and reverb, to the PulseAudio null "
        f"sink (PortAudio block {args.blocksize} frames, the app's default latency) for {args.seconds:g} s per row, "
        f"while the main thread holds the GIL for {args.gui_ms:g} ms of every 1/60 s frame, as a GUI thread "
        "repainting a scrolling timeline does. Goal: zero underruns after start-up.",
        "",
        table(["scenario", "stream latency ms", "played s", "callbacks / expected", "underruns (all)",
               "at start-up", "after start-up", "longest callback gap ms", "CPU % of one core", "main-thread frames/s",
               "load avg"], rows),
        "",
        f"- The drag made {edits[0]} edits ({1 / EDIT_S:.0f} a second, the rate at which the mixer sends a dragged "
        f"control's edits); the history gained {steps_added} step for all of them (one merge key). The first "
        f"edit of the drag makes the player drop what it rendered beyond its {Player.KEEP_SECONDS:g} s head start "
        f"(heard after that plus the device buffer); while the drag goes on it renders only "
        f"{Player.EDIT_AHEAD_SECONDS:g} s beyond the head start, and each new value is set on the running reverb "
        "and heard once what is buffered has played, with nothing thrown away.",
        "- CPU % is the whole process per second of wall time (feeder, insert worker threads, callback, main "
        "thread's stand-in work); the machine is shared, so the load average is context.",
        *([f"- Player errors: {'; '.join(errors)}"] if errors else []),
    ]
    write_section("live", "\n".join(md))


if __name__ == "__main__":
    main()
