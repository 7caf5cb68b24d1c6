"""``seedwave batch --ray`` on a real local Ray cluster: a head and a second worker
node on 127.0.0.1, started once for this module and always stopped.

1. The cluster's outputs equal the local run's (whole files), and long files
   split into chunk tasks come back whole.
2. Killing the worker node mid-run: every file is still done exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audiogen import noise, sines, write
from tests.test_batch import processes

pytestmark = pytest.mark.slow
RAY = Path(sys.executable).parent / "ray"
CHAIN = {"seedwave_chain": 1, "name": "clean", "steps": [
    {"effect": "denoise", "params": {"engine": "rnnoise", "strength": 20.0}},
    {"effect": "loudness", "params": {"lufs": -20.0}},
], "output": {"bits": "float"}}  # float output: no dither noise, so runs compare sample for sample


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args: str, env: dict | None = None, timeout: float = 120) -> None:
    subprocess.run([str(RAY), *args], check=True, timeout=timeout, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cluster():
    """(address, worker node-manager port): head + one worker node, 1 CPU each."""
    pytest.importorskip("ray")
    port, nm_port = _free_port(), _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="sw-ray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    env = dict(os.environ, RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="4",
               RAY_health_check_initial_delay_ms="1000")
    try:
        _ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=1",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp}", env=env)
        _ray("start", f"--address=127.0.0.1:{port}", "--num-cpus=1", f"--node-manager-port={nm_port}",
             "--disable-usage-stats", env=env)
        yield f"127.0.0.1:{port}", nm_port
    finally:
        with contextlib.suppress(Exception):
            _ray("stop", "--force", timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def _batch(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "editor", "batch", *args, "--quiet"], capture_output=True,
                          text=True, timeout=timeout)


def _outputs(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_cluster_output_equals_local_and_chunks_join(tmp_path, cluster):
    address, _ = cluster
    (tmp_path / "in" / "sub").mkdir(parents=True)
    write(tmp_path / "in" / "a.wav", sines(seconds=3.0) + noise(3.0, channels=1, amp=0.02))
    write(tmp_path / "in" / "sub" / "b.flac", sines(seconds=2.5, channels=2) + noise(2.5, amp=0.02))
    (tmp_path / "in" / "sub" / "bad.wav").write_bytes(b"RIFFxxxxWAVE")
    chain = tmp_path / "clean.swchain"
    chain.write_text(json.dumps(CHAIN))
    local = _batch(str(chain), str(tmp_path / "in"), "--out", str(tmp_path / "local"), "--workers", "1")
    ray = _batch(str(chain), str(tmp_path / "in"), "--out", str(tmp_path / "ray"), "--ray", address)
    assert local.returncode == 1 and ray.returncode == 1, ray.stderr
    assert "bad.wav" in ray.stderr and "2 done, 1 failed" in ray.stdout
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local") == \
           ["a.wav", "seedwave-batch.json", "sub/b.flac"]
    x, _ = sf.read(str(tmp_path / "local" / "a.wav"))
    y, _ = sf.read(str(tmp_path / "ray" / "a.wav"))
    assert np.array_equal(x, y)  # float output: sample for sample
    x, _ = sf.read(str(tmp_path / "local" / "sub" / "b.flac"))
    y, _ = sf.read(str(tmp_path / "ray" / "sub" / "b.flac"))
    assert x.shape == y.shape and np.abs(x - y).max() <= 2 / 32768  # 16-bit FLAC: only the dither differs
    rep = json.loads((tmp_path / "ray" / "seedwave-batch.json").read_text())
    assert rep["backend"].startswith("ray") and len(rep["items"]) == 3
    assert all(i["node"] for i in rep["items"] if i["status"] == "done")

    # Long files as chunk tasks (1.2 s chunks here): whole, same length, close to the unsplit result.
    chunked = _batch(str(chain), str(tmp_path / "in"), "--out", str(tmp_path / "chunked"), "--ray", address,
                     "--chunk-minutes", "0.02")
    assert chunked.returncode == 1, chunked.stderr
    assert _outputs(tmp_path / "chunked") == _outputs(tmp_path / "local")
    assert not (tmp_path / "chunked" / ".seedwave-parts").exists() or \
           not any((tmp_path / "chunked" / ".seedwave-parts").rglob("*.npy"))
    rep = json.loads((tmp_path / "chunked" / "seedwave-batch.json").read_text())
    a = next(i for i in rep["items"] if i["input"].endswith("a.wav"))
    assert a["provenance"][0]["chunks"] == 3
    for name in ("a.wav", "sub/b.flac"):
        x, _ = sf.read(str(tmp_path / "local" / name))
        y, _ = sf.read(str(tmp_path / "chunked" / name))
        assert x.shape == y.shape
        assert np.sqrt(np.mean((x - y) ** 2)) < 0.1 * np.sqrt(np.mean(x ** 2))


def _raylet_of(nm_port: int) -> tuple[int, str] | None:
    """(pid, node id) of the raylet of the node with this node-manager port."""
    for pid, _ppid, cmd in processes():
        if "raylet" in cmd and f"--node_manager_port={nm_port}" in cmd:
            node = next(a.split("=", 1)[1] for a in cmd.split() if a.startswith("--node_id="))
            return pid, node
    return None


def test_worker_node_dies_mid_run_every_file_done_once(tmp_path, cluster):
    address, nm_port = cluster
    (tmp_path / "in").mkdir()
    n = 8
    for i in range(n):
        write(tmp_path / "in" / f"take{i}.wav", sines(seconds=4.0) + noise(4.0, channels=1, amp=0.02, seed=i))
    chain = tmp_path / "clean.swchain"
    chain.write_text(json.dumps(CHAIN))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "editor", "batch", str(chain), str(tmp_path / "in"), "--out",
                             str(out), "--ray", address, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        found = _raylet_of(nm_port)
        assert found is not None, "the worker node's raylet is not running"
        raylet, node = found
        journal = out / ".seedwave-batch.jsonl"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            # Wait until the worker node has finished a file: it is busy with the next one.
            if journal.exists() and f"/{node[:8]}" in journal.read_text():
                break
            time.sleep(0.1)
        killed_at = journal.read_text().count("\n") if journal.exists() else 0
        os.kill(raylet, signal.SIGKILL)  # the node dies with whatever it was running
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert killed_at < n, "the run finished before the node was killed"
    assert proc.returncode == 0, stderr
    rep = json.loads((out / "seedwave-batch.json").read_text())
    inputs = [i["input"] for i in rep["items"]]
    assert len(inputs) == n == len(set(inputs))
    assert {i["status"] for i in rep["items"]} == {"done"}
    on_worker = [i for i in rep["items"] if i["node"].endswith(node[:8])]
    assert 1 <= len(on_worker) < n  # it did some before it died; the head did the rest
    files = [p for p in out.rglob("*") if p.is_file()]
    audio = sorted(p.name for p in files if p.suffix == ".wav")
    assert audio == sorted(f"take{i}.wav" for i in range(n))
    assert not [p for p in files if p.name.endswith((".part", ".tmp"))]  # no half files
    for name in audio:
        assert sf.info(str(out / name)).frames == 4 * 48000
    done_lines = [json.loads(line) for line in (out / ".seedwave-batch.jsonl").read_text().splitlines()]
    assert len(done_lines) == n and len({d["input"] for d in done_lines}) == n
