"""``seedwave batch`` on this machine: a folder tree with a bad file, the report,
resume, worker processes, and the runner API the File > Batch dialog uses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from editor.cli import main
from editor.core.chain import Chain, ChainStep
from editor.effects.chainfile import ChainSpec, save_chain
from editor.jobs.batch import BatchProgress, BatchRunner
from tests.audiogen import noise, sines, write

CHAIN = {"seedwave_chain": 1, "name": "clean", "steps": [
    {"effect": "denoise", "params": {"engine": "rnnoise", "strength": 20.0}},
    {"effect": "loudness", "params": {"lufs": -20.0, "true_peak": -1.0}},
]}


def make_tree(root: Path) -> dict[str, Path]:
    """in/one.wav, in/sub/two.flac (stereo), in/sub/deeper/three.wav, a corrupt file and a text file."""
    (root / "in" / "sub" / "deeper").mkdir(parents=True)
    files = {
        "one.wav": write(root / "in" / "one.wav", sines(seconds=1.5) + noise(1.5, channels=1, amp=0.02)),
        "sub/two.flac": write(root / "in" / "sub" / "two.flac", sines(seconds=1.0, channels=2) + noise(1.0)),
        "sub/deeper/three.wav": write(root / "in" / "sub" / "deeper" / "three.wav",
                                      sines(freqs=(440.0,), seconds=2.0), subtype="PCM_16"),
    }
    (root / "in" / "sub" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (root / "in" / "notes.txt").write_text("not audio")
    return files


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process, from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out.append((int(d.name), ppid, cmd))
    return out


def report(out: Path) -> dict:
    return json.loads((out / "seedwave-batch.json").read_text())


def outputs(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_folder_tree_bad_file_fails_alone_and_resume_skips_done(tmp_path, capsys):
    make_tree(tmp_path)
    chain = tmp_path / "clean.swchain"
    chain.write_text(json.dumps(CHAIN))
    out = tmp_path / "out"
    args = ["batch", str(chain), str(tmp_path / "in"), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 1
    cap = capsys.readouterr()
    broken = str(tmp_path / "in" / "sub" / "broken.wav")
    assert f"seedwave: error: {broken}: " in cap.err and "3 done, 1 failed" in cap.out
    # Relative paths kept; only audio files taken from folders; the report sits in DIR.
    assert outputs(out) == ["one.wav", "seedwave-batch.json", "sub/deeper/three.wav", "sub/two.flac"]
    rep = report(out)
    by_input = {Path(i["input"]).relative_to(tmp_path / "in").as_posix(): i for i in rep["items"]}
    assert set(by_input) == {"one.wav", "sub/two.flac", "sub/deeper/three.wav", "sub/broken.wav"}
    bad = by_input["sub/broken.wav"]
    assert bad["status"] == "failed" and broken in bad["error"] and "\n" not in bad["error"]
    for name in ("one.wav", "sub/two.flac", "sub/deeper/three.wav"):
        item = by_input[name]
        assert item["status"] == "done" and item["error"] == "" and item["seconds"] > 0
        assert item["output"] == str(out / name)
        assert [p["effect"] for p in item["provenance"]] == ["denoise", "loudness"]
        assert item["provenance"][0]["engine"] == "rnnoise"
    # Formats and depths follow the inputs: stereo FLAC stays stereo FLAC, 16-bit WAV stays 16-bit.
    assert sf.info(str(out / "sub" / "two.flac")).channels == 2
    assert sf.info(str(out / "sub" / "deeper" / "three.wav")).subtype == "PCM_16"

    # Second run: nothing redone but the failure; outputs untouched.
    mtimes = {p: (out / p).stat().st_mtime_ns for p in ("one.wav", "sub/two.flac", "sub/deeper/three.wav")}
    assert main(args) == 1
    assert "3 skipped" in capsys.readouterr().out
    assert {p: (out / p).stat().st_mtime_ns for p in mtimes} == mtimes
    assert [i["status"] for i in report(out)["items"]].count("skipped") == 3

    # A changed input is redone; so is everything when the chain changes.
    write(tmp_path / "in" / "one.wav", sines(seconds=1.0))
    os.utime(tmp_path / "in" / "one.wav", ns=(1, 1))
    (tmp_path / "in" / "sub" / "broken.wav").unlink()
    assert main(args) == 0
    statuses = {Path(i["input"]).name: i["status"] for i in report(out)["items"]}
    assert statuses == {"one.wav": "done", "two.flac": "skipped", "three.wav": "skipped"}
    assert sf.info(str(out / "one.wav")).frames == 48000
    assert main([*args, "--set", "strength=10"]) == 0
    assert {i["status"] for i in report(out)["items"]} == {"done"}


def test_worker_processes_and_csv_report(tmp_path, capsys):
    files = make_tree(tmp_path)
    out = tmp_path / "out"
    code = main(["batch", "denoise", str(tmp_path / "in" / "sub"), str(files["one.wav"]), "--out", str(out),
                 "--set", "engine=rnnoise", "--workers", "2", "--format", "flac", "--report", "csv", "--quiet"])
    assert code == 1
    assert outputs(out) == ["deeper/three.flac", "one.flac", "seedwave-batch.csv", "two.flac"]
    import csv

    rows = list(csv.DictReader((out / "seedwave-batch.csv").open()))
    assert sorted(r["status"] for r in rows) == ["done", "done", "done", "failed"]
    assert all(json.loads(r["provenance"])[0]["effect"] == "denoise" for r in rows if r["status"] == "done")
    assert not list(out.rglob("*.part"))


def test_runner_api_progress_cancel_and_no_half_files(tmp_path):
    """What the File > Batch dialog drives: progress callbacks, per-file results, cancel, report."""
    (tmp_path / "in").mkdir()
    for i in range(4):
        write(tmp_path / "in" / f"f{i}.wav", sines(seconds=1.0) + noise(1.0, channels=1))
    spec = ChainSpec(Chain((ChainStep.make("denoise", {"engine": "rnnoise"}),)))
    seen: list[BatchProgress] = []
    items = []

    def on_item(r):
        items.append(r)
        if len(items) == 2:
            runner.cancel()

    runner = BatchRunner(spec, [tmp_path / "in"], tmp_path / "out", workers=1,
                         on_progress=lambda p: seen.append(BatchProgress(**vars(p))), on_item=on_item)
    rep = runner.run()
    assert rep.cancelled and not rep.ok
    assert [r.status for r in rep.items] == ["done", "done", "cancelled", "cancelled"]
    assert seen[-1].done == 2 and seen[-1].total == 4 and seen[-1].speed is not None and seen[-1].eta is not None
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == \
           ["f0.wav", "f1.wav", "seedwave-batch.json"]
    # Resuming finishes only what is left.
    rep2 = BatchRunner(spec, [tmp_path / "in"], tmp_path / "out", workers=1).run()
    assert [r.status for r in rep2.items] == ["skipped", "skipped", "done", "done"] and rep2.ok


def test_missing_ray_or_bad_arguments_are_one_line(tmp_path, capsys):
    write(tmp_path / "a.wav", sines(seconds=0.5))
    assert main(["batch", "no-such-effect", str(tmp_path / "a.wav"), "--out", str(tmp_path / "o")]) == 2
    assert "neither an effect" in capsys.readouterr().err
    chain = save_chain(ChainSpec.single("denoise"), tmp_path / "x.swchain")
    assert main(["batch", str(chain), str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "-q"]) == 1
    assert "nope: no such file or folder" in capsys.readouterr().err
    # An output the writer cannot make is refused once, before any file is read or folder made.
    assert main(["batch", "denoise", str(tmp_path / "a.wav"), "--out", str(tmp_path / "o2"), "--format", "flac",
                 "--bits", "float"]) == 2
    assert "FLAC cannot store 32-bit float samples" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


def test_output_over_input_is_refused(tmp_path, capsys):
    src = write(tmp_path / "a.wav", sines(seconds=0.5))
    before = src.read_bytes()
    assert main(["batch", "denoise", str(src), "--out", str(tmp_path), "-q"]) == 1
    assert "would overwrite the input" in capsys.readouterr().err
    assert src.read_bytes() == before and np.isfinite(sf.read(str(src))[0]).all()


def test_a_worker_process_killed_mid_file_is_retried_and_nothing_is_lost(tmp_path):
    import signal
    import threading

    # Files long enough that each takes about a second here, several progress reports (workers
    # report at most every 0.25 s): with 3 s files a fast run could finish a file between two
    # reports, and no worker was ever seen mid-file.
    LONG = 20.0  # noqa: N806
    (tmp_path / "in").mkdir()
    for i in range(6):
        write(tmp_path / "in" / f"f{i}.wav", sines(seconds=LONG) + noise(LONG, channels=1, seed=i))
    spec = ChainSpec(Chain((ChainStep.make("denoise", {"engine": "rnnoise"}),)))
    killed: list[int] = []
    lock = threading.Lock()

    def on_progress(p: BatchProgress) -> None:
        with lock:
            if killed or not any(0.1 < f < 0.9 for f in p.running.values()):
                return
            workers = [pid for pid, ppid, cmd in processes() if ppid == os.getpid() and "spawn_main" in cmd]
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    rep = BatchRunner(spec, [tmp_path / "in"], tmp_path / "out", workers=2, on_progress=on_progress).run()
    assert killed, "no worker was seen mid-file"
    assert [r.status for r in rep.items] == ["done"] * 6 and rep.ok
    assert sorted(p.name for p in (tmp_path / "out").glob("*.wav")) == [f"f{i}.wav" for i in range(6)]
    assert not list((tmp_path / "out").rglob("*.part"))


def test_without_ray_installed_the_message_says_how_to_get_it(tmp_path):
    import subprocess
    import sys

    write(tmp_path / "a.wav", sines(seconds=0.5))
    code = ("import sys; sys.modules['ray'] = None  # as if Ray were not installed\n"
            "from editor.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "batch", "denoise", str(tmp_path / "a.wav"), "--out",
                        str(tmp_path / "o"), "--ray", "auto", "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == ("seedwave: error: --ray needs Ray, which is not installed; "
                                                 "install it with: pip install 'seedwave[cluster]'")


def test_progress_line_shows_files_failures_throughput_and_eta():
    from editor.jobs.batch_cli import ProgressBar

    p = BatchProgress(total=10, done=3, failed=1, audio_seconds_done=3 * 3600.0, audio_seconds_left=6 * 3600.0,
                      elapsed=1800.0)
    assert p.speed == 6.0 and p.eta == 3600.0  # measured over finished files: 3 h of audio in half an hour
    line = ProgressBar().line(p)
    assert "4/10 files, 1 failed" in line and "6.0 audio h/h" in line and "ETA 1:00:00" in line
    first = BatchProgress(total=10, elapsed=5.0, running={"a.wav": 0.01})
    assert first.eta is None and "measuring speed" in ProgressBar().line(first)  # no guess from the first percent


def test_classic_effects_chain_over_files(tmp_path, capsys):
    """High-pass, compressor and loudness (classic effects and the loudness step) in one chain."""
    from editor.core.loudness import measure

    rate = 48000
    t = np.arange(3 * rate) / rate
    (tmp_path / "in").mkdir()
    for i in range(2):
        x = 0.3 * np.sin(2 * np.pi * 30 * t) + 0.1 * np.sin(2 * np.pi * (1000 + 100 * i) * t)
        write(tmp_path / "in" / f"take{i}.wav", x[None, :].astype(np.float32), subtype="FLOAT")
    chain = save_chain(ChainSpec(Chain((ChainStep.make("highpass", {"cutoff": 150.0, "slope": "48"}),
                                        ChainStep.make("compressor", {"threshold": -30.0}),
                                        ChainStep.make("loudness", {"lufs": -16.0})))),
                       tmp_path / "classic.swchain")
    assert main(["batch", str(chain), str(tmp_path / "in"), "--out", str(tmp_path / "out"), "-q", "-j", "1"]) == 0
    for i in range(2):
        y, _ = sf.read(str(tmp_path / "out" / f"take{i}.wav"), always_2d=True)
        spec = np.abs(np.fft.rfft(y[rate:, 0]))  # after the filters settle
        freqs = np.fft.rfftfreq(2 * rate, 1 / rate)
        rumble = spec[np.argmin(np.abs(freqs - 30))]
        tone = spec[np.argmin(np.abs(freqs - (1000 + 100 * i)))]
        assert rumble < tone / 10  # 30 Hz rumble 20 dB under the tone (it started 10 dB above)
        assert abs(measure(y.T.astype(np.float32), rate)[0] - -16.0) < 0.5
    rep = report(tmp_path / "out")
    assert [p["effect"] for p in rep["items"][0]["provenance"]] == ["highpass", "compressor", "loudness"]


def test_as_a_background_job_function_progress_and_cancel_go_through_the_task_context(tmp_path):
    """The File > Batch dialog's job: ``run_batch_task(runner, ctx)``; cancelling the job's context stops
    the run, which still returns (and writes) its report."""
    from editor.core.task import TaskContext
    from editor.jobs.batch import run_batch_task

    (tmp_path / "in").mkdir()
    for i in range(3):
        write(tmp_path / "in" / f"f{i}.wav", sines(seconds=1.0))
    messages: list[tuple[float, str]] = []
    ctx = TaskContext(lambda f, m: messages.append((f, m)))
    runner = BatchRunner(ChainSpec.single("denoise", {"engine": "rnnoise"}), [tmp_path / "in"], tmp_path / "out",
                         workers=1, on_item=lambda r: ctx.cancel())
    rep = run_batch_task(runner, ctx)
    assert rep.cancelled and [r.status for r in rep.items] == ["done", "cancelled", "cancelled"]
    assert rep.report_path is not None and rep.report_path.exists()
    assert any(m.startswith("1/3 files") for _f, m in messages)
    assert all(0.0 <= f <= 1.0 for f, _m in messages)


def test_an_unreachable_ray_address_fails_fast_in_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    write(tmp_path / "a.wav", sines(seconds=0.5))
    assert main(["batch", "denoise", str(tmp_path / "a.wav"), "--out", str(tmp_path / "o"), "--ray",
                 f"127.0.0.1:{port}", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"seedwave: error: cannot connect to the Ray cluster at '127.0.0.1:{port}'")
    assert "\n" not in err
