"""Crash recovery under kill -9, and project size over edit-save cycles.

1. Randomized kill -9 trials (see :mod:`bench._recovery_worker`): a real process
   makes random edits, saves, reopens, undos, redos and autosaves, and is killed
   with SIGKILL at a random moment; then recovery must give back exactly the
   last journalled state (compared sample by sample through a fingerprint of
   every clip), or refuse and say why. Also counted: temporary files of killed
   saves left after the next start, saved files that no longer open.
2. Project size over 40 edit-and-save cycles with the same audio (reopen,
   amplify one second somewhere, save): with compaction (only the used ranges
   of each block are written) and, as the anchor in the same run, the old way
   (whole blocks written whenever a clip uses part of one).

    python -m bench.recovery [--trials N] [--max-seconds S] [--cycles C]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ._recovery_worker import make_wav, trial
from .common import stamp, table, workdir, write_section


def kill_trials(n: int, max_s: float, root: Path) -> tuple[collections.Counter, list, float]:
    from editor.core.store import BlockStore

    store = BlockStore(root / "recovering")
    wav = make_wav(root / "voice.wav")
    counts: collections.Counter = collections.Counter()
    odd = []
    journals = 0
    t0 = time.perf_counter()
    for seed in range(n):
        t = trial(seed, root, store, wav, max_s=max_s)
        counts[t.outcome] += 1
        journals += t.journals
        if t.outcome not in ("exact", "nothing") or t.tmp_left or t.notes:
            odd.append(t)
        print(f"trial {seed}: {t.outcome} ({t.journals} journals, {t.tmp_left} tmp left) {t.detail} {t.notes or ''}",
              flush=True)
        for p in root.glob(f"*-{seed}"):
            shutil.rmtree(p, ignore_errors=True)
    return counts, odd, journals / max(1, n), time.perf_counter() - t0


def growth(cycles: int, root: Path, compact: bool) -> list[int]:
    from editor.core import edits, projectfile
    from editor.core.model import Clip, Project, Selection
    from editor.core.projectfile import load_project, save_project
    from editor.core.sequence import AudioSeq
    from editor.core.store import BlockStore, set_default_store

    store = BlockStore(root / ("cache-c" if compact else "cache-w"))
    set_default_store(store)
    rate = 48000
    rng = np.random.default_rng(3)
    x = (0.2 * rng.standard_normal((2, rate * 30))).astype(np.float32)
    p = edits.add_track(Project(sample_rate=rate), "Take", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 2),
                                                                  0),))
    path = root / ("compact.seedwave" if compact else "whole.seedwave")
    real = projectfile._referenced
    if not compact:
        def whole(project):  # noqa: ANN001, ANN202 - the old way: every used block in full
            return {u: (b, [(0, b.frames)]) for u, (b, _s) in real(project).items()}

        projectfile._referenced = whole
    sizes = []
    try:
        save_project(p, path)
        for _ in range(cycles):
            p = load_project(path)
            tid = p.tracks[0].id
            a = int(rng.integers(0, p.end - rate))
            p = edits.amplify(p, Selection(a, a + rate, (tid,)), float(rng.uniform(-3, 3)), store)
            save_project(p, path)
            sizes.append(path.stat().st_size)
    finally:
        projectfile._referenced = real
        set_default_store(None)
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--max-seconds", type=float, default=2.0, help="kill within this long after start")
    ap.add_argument("--cycles", type=int, default=40)
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="recovery-", dir=workdir("recovery")))
    os.environ["SEEDWAVE_CACHE"] = str(root / "cache-parent")  # salvage files and sweeps stay in here
    try:
        whole = growth(args.cycles, root, compact=False)
        compact = growth(args.cycles, root, compact=True)
        counts, odd, mean_journals, seconds = kill_trials(args.trials, args.max_seconds, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    mb = 1 / 2**20
    rows = [[c, f"{whole[c - 1] * mb:.1f}", f"{compact[c - 1] * mb:.1f}"]
            for c in sorted({1, 10, 20, 30, args.cycles}) if c <= args.cycles]
    refusals = collections.Counter(t.detail for t in odd if t.outcome == "refused")
    md = [
        "## Crash recovery (kill -9) and project size",
        "",
        stamp(),
        "",
        f"### Randomized kill -9 trials ({args.trials} trials, killed 0–{args.max_seconds:g} s into editing)",
        "",
        "Each trial: a fresh process makes random edits (amplify, reverse, delete, split, move, delete clip, "
        "paste), undos and redos, saves (sometimes to a second file), reopens its saved file, and writes the "
        "recovery journal, with random pauses of 0–10 ms; it is killed with SIGKILL at a random moment. Recovery "
        "must then give back the last journalled state exactly (every clip's samples and settings) or refuse "
        "with a reason.",
        "",
        table(["outcome", "trials"], [
            ["recovered exactly", counts["exact"]],
            ["nothing to recover (killed before the first autosave)", counts["nothing"]],
            ["refused (says what is missing)", counts["refused"]],
            ["recovered but different (must be 0)", counts["wrong"]],
            ["other error (must be 0)", counts["error"]],
        ]),
        "",
        f"Journals written per trial: {mean_journals:.1f} on average. Trials with `.tmp` files left after the "
        f"next start: {sum(1 for t in odd if t.tmp_left)}. Saved files that did not open: "
        f"{sum(1 for t in odd if any('does not open' in n for n in t.notes))}. Wall time {seconds:.0f} s.",
    ]
    if refusals:
        md += ["", "Refusals by reason:", ""] + [f"* {r} ({n})" for r, n in refusals.most_common()]
    bad = [t for t in odd if t.outcome in ("wrong", "error")]
    if bad:
        md += ["", "Failures:", ""] + [f"* seed {t.seed}: {t.outcome}: {t.detail}" for t in bad[:20]]
    md += [
        "",
        f"### Project size over {args.cycles} edit-and-save cycles",
        "",
        "30 s of stereo audio at 48 kHz (11 MB of float32); each cycle reopens the file, amplifies one second "
        "at a random place and saves. Anchor: the same run with whole blocks written (the behaviour before "
        "compaction).",
        "",
        table(["cycle", "whole blocks (MB)", "compacted (MB)"], rows),
    ]
    write_section("recovery", "\n".join(md))
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
