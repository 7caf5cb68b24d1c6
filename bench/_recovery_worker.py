"""Randomized crash-recovery trials: random edits, saves, reopens, undos and
autosaves in a real process that is killed with SIGKILL at a random moment;
then recovery must give back exactly the last journalled state, or refuse and
say why.

The child (``python -m bench._recovery_worker CACHE WORK WAV SEED``) edits a small
project forever, pausing a random few milliseconds between steps so the kill
lands anywhere: inside a save, inside a journal write, inside a cache write.
Before each journal it records the fingerprint of the project it journals
(``WORK/expected-<serial>.json``), so the parent knows what recovery must give.

Used by ``tests/test_recovery.py`` (a few trials) and ``bench/recovery.py``
(hundreds).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def fingerprint(project) -> str:  # noqa: ANN001 - a Project
    """A hash of everything a user hears and sees of the project: each clip's place,
    settings and the exact samples it plays; track settings; markers."""
    h = hashlib.sha256()
    h.update(f"{project.sample_rate}|{project.master_gain_db}|{project.name}|".encode())
    for m in project.markers:
        h.update(f"m{m.position}|{m.name}|".encode())
    for t in project.tracks:
        h.update(f"t{t.name}|{t.gain_db}|{t.pan}|{t.mute}|{t.solo}|".encode())
        for c in t.clips:
            h.update(f"c{c.position}|{c.length}|{c.gain_db}|{c.fade_in}|{c.fade_out}|{c.fade_in_offset}|"
                     f"{c.fade_out_offset}|{c.fade_in_shape}|{c.fade_out_shape}|{c.channels}|".encode())
            h.update(np.ascontiguousarray(c.visible_audio().read(0, c.length)).tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- child


def child(cache: Path, work: Path, wav: Path, seed: int) -> None:
    os.environ["SEEDWAVE_CACHE"] = str(cache)
    import gc

    from editor.core import edits
    from editor.core.audio_io import import_audio
    from editor.core.errors import SeedwaveError
    from editor.core.history import History
    from editor.core.model import Clip, Project, Selection
    from editor.core.projectfile import load_project, save_project
    from editor.core.recovery import write_journal
    from editor.core.sequence import AudioSeq
    from editor.core.store import default_store

    rng = np.random.default_rng(seed)
    store = default_store()
    rate = 48000
    imp = import_audio(wav)  # aliases the WAV until cached
    if rng.random() < 0.5:
        store.cache_aliases(sorted(imp.sequences[0].blocks(), key=lambda b: b.uid))
    noise = (0.2 * rng.standard_normal((2, rate * 2))).astype(np.float32)
    p = Project(sample_rate=rate, name="Crash test")
    p = edits.add_track(p, "Voice", (Clip(imp.sequences[0], 0, name="voice"),))
    p = edits.add_track(p, "Noise", (Clip(AudioSeq.from_blocks(store.blocks_from_array(noise), 2), 4000,
                                          name="noise"),))
    h = History(p)
    paths = [work / "song.seedwave", work / "other.seedwave"]
    path = None

    def sel() -> Selection:
        pr = h.current
        tids = [t.id for t in pr.tracks if t.clips]
        if not tids:
            return Selection(0, 1, ())
        end = max(1, pr.end)
        a = int(rng.integers(0, end))
        b = min(end, a + int(rng.integers(1, rate)))
        k = int(rng.integers(1, len(tids) + 1))
        return Selection(a, max(a + 1, b), tuple(rng.choice(tids, size=k, replace=False)))

    def clip_ids() -> list[str]:
        return [c.id for t in h.current.tracks for c in t.clips]

    serial = 0
    while True:
        op = rng.choice(["amplify", "delete", "split", "move", "delete_clip", "paste", "reverse", "undo",
                         "undo", "redo", "save", "save", "reopen", "journal", "journal", "journal", "gc"])
        try:
            pr = h.current
            if op == "amplify":
                h.push(edits.amplify(pr, sel(), float(rng.uniform(-6, 6)), store), "Amplify")
            elif op == "reverse":
                h.push(edits.reverse(pr, sel(), store), "Reverse")
            elif op == "delete":
                h.push(edits.delete(pr, sel()), "Delete")
            elif op == "split":
                s = sel()
                h.push(edits.split(pr, s.start, s.track_ids), "Split")
            elif op == "move" and clip_ids():
                cid = str(rng.choice(clip_ids()))
                h.push(edits.move_clip(pr, cid, int(rng.integers(0, rate * 3))), "Move")
            elif op == "delete_clip" and clip_ids():
                h.push(edits.delete_clips(pr, [str(rng.choice(clip_ids()))]), "Delete clip")
            elif op == "paste":
                s = sel()
                board = edits.copy(pr, s)
                h.push(edits.paste(pr, board, int(rng.integers(0, max(1, pr.end))), s.track_ids), "Paste")
            elif op == "undo":
                h.undo()
            elif op == "redo":
                h.redo()
            elif op == "save":
                path = paths[int(rng.integers(0, 2))] if path is None or rng.random() < 0.2 else path
                save_project(h.current, path)
                h.mark_saved()
            elif op == "reopen" and path is not None and path.exists():
                h = History(load_project(path))
            elif op == "journal":
                serial = store.journal_serial + 1
                tmp = work / f"expected-{serial}.json.tmp"
                tmp.write_text(json.dumps({"fingerprint": fingerprint(h.current)}))
                os.replace(tmp, work / f"expected-{serial}.json")
                write_journal(store, h.current, path, modified=True)
            elif op == "gc":
                gc.collect()
        except (SeedwaveError, ValueError):
            pass  # an edit that does not apply here (empty selection and so on)
        time.sleep(float(rng.uniform(0, 0.01)))


# --------------------------------------------------------------------------- parent


@dataclass
class Trial:
    seed: int
    outcome: str  # "exact", "nothing" (killed before any journal), "refused", "wrong", "error"
    detail: str = ""
    journals: int = 0
    tmp_left: int = 0
    notes: list[str] = field(default_factory=list)


def make_wav(path: Path) -> Path:
    import soundfile as sf

    if not path.exists():
        rate = 48000
        t = np.arange(rate * 2) / rate
        x = (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.5 * t)).astype(np.float32)
        sf.write(str(path), x, rate, subtype="PCM_16")
    return path


def trial(seed: int, root: Path, store, wav: Path, max_s: float = 3.0) -> Trial:  # noqa: ANN001 - a BlockStore
    """Run one child, kill it with SIGKILL after a random time, recover, compare."""
    from editor.core import recovery
    from editor.core.projectfile import load_project

    rng = np.random.default_rng(seed + 7_000_000)
    cache = root / f"cache-{seed}"
    work = root / f"work-{seed}"
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bench._recovery_worker", str(cache), str(work), str(wav),
                             str(seed)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Let it get going (imports), then kill at a random moment of its editing.
    deadline = time.monotonic() + 30
    while not (cache / "sessions").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(float(rng.uniform(0.05, max_s)))
    os.kill(proc.pid, signal.SIGKILL)
    _out, err = proc.communicate()
    if proc.returncode != -signal.SIGKILL:
        return Trial(seed, "error", f"child ended with {proc.returncode}: {err.decode()[-300:]}")
    sessions = cache / "sessions"
    result = Trial(seed, "nothing")
    found = recovery.find_recoverable(sessions)
    expected = {int(p.name.split("-")[1].split(".")[0]): p for p in work.glob("expected-*.json")}
    result.journals = len(expected)
    if found:
        journal = found[0].folder / recovery.JOURNAL
        serial = json.loads(journal.read_text())["serial"]
        # A save rewrites the last journal (same state, new serial): the state is the last one recorded.
        want = json.loads(expected[max(k for k in expected if k <= serial)].read_text())["fingerprint"]
        try:
            project, _path = recovery.recover(found[0], store)
        except recovery.RecoveryIncomplete as exc:
            result.outcome, result.detail = "refused", exc.problem
        except Exception as exc:  # noqa: BLE001 - any other failure is a finding
            result.outcome, result.detail = "error", f"{type(exc).__name__}: {exc}"
        else:
            got = fingerprint(project)
            result.outcome = "exact" if got == want else "wrong"
            if got != want:
                result.detail = f"serial {serial}: recovered audio differs from the journalled state"
        if recovery.find_recoverable(sessions):
            result.notes.append("the session is still offered after recovery")
    elif len(expected) > 1:  # one: killed between recording the first expectation and its journal
        result.outcome, result.detail = "error", "journals were written but nothing is offered"
    # The next start cleans what killed saves left behind, and every saved file still opens.
    recovery.sweep_stale(sessions)
    result.tmp_left = len(list(work.glob(".*.tmp")))
    for p in work.glob("*.seedwave"):
        try:
            load_project(p)
        except Exception as exc:  # noqa: BLE001
            result.notes.append(f"{p.name} does not open: {exc}")
    return result


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
