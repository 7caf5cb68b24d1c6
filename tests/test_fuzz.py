"""Fuzzing in the suite: a few hundred seeded mutants of project and audio files.

Every mutant must open (and then draw, play and export) or give one clean line
naming the file: no traceback, no NaN audio out, no hang, no crash. The long
run with thousands of mutants is ``python -m bench.fuzz`` (docs/benchmarks/fuzz.md).
"""

from __future__ import annotations

from bench.fuzz import make_mutants, make_seeds, run


def test_three_hundred_mutants_open_or_fail_cleanly(tmp_path, store):
    seeds = make_seeds(tmp_path / "seeds")
    assert len(seeds["project"]) == 3 and len(seeds["audio"]) >= 5
    mutants = make_mutants(seeds, 300, seed=20261207, folder=tmp_path / "mutants")
    report = run(mutants, timeout=30.0, log=tmp_path / "worker-stderr.log")
    assert sum(report.counts.values()) == 300
    bugs = {k: report.findings.get(k, []) for k in ("traceback", "misleading", "hang", "crash")}
    assert not any(bugs.values()), bugs
    # The mutants really exercise both paths: many fail cleanly, many still work.
    for kind in ("project", "audio"):
        assert report.by_kind[kind]["clean"] > 20 and report.by_kind[kind]["ok"] > 10, report.by_kind[kind]


def test_mutated_recovery_journals_recover_or_refuse_cleanly(tmp_path, store):
    """A damaged journal never crashes the start-up offer: recovery works, or refuses
    with one line, and a refused session is not offered again."""
    import json
    import random
    import shutil

    import numpy as np

    from bench.fuzz import SPECIAL_VALUES, _leaves
    from editor.core import edits, recovery
    from editor.core.errors import SeedwaveError
    from editor.core.model import Clip, Project, Selection
    from editor.core.sequence import AudioSeq
    from editor.core.store import BlockStore

    template = tmp_path / "template"
    s = BlockStore(template)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 30000)).astype(np.float32)
    p = edits.add_track(Project(), "A", (Clip(AudioSeq.from_blocks(s.blocks_from_array(x), 2), 0),))
    p = edits.amplify(p, Selection(100, 9000, (p.tracks[0].id,)), -6.0, s)
    recovery.write_journal(s, p, None, True)
    (s.folder / "owner").write_text("999999999")
    original = json.loads((s.folder / recovery.JOURNAL).read_text())
    rng = random.Random(5)
    outcomes = {"recovered": 0, "refused": 0}
    for i in range(120):
        base = tmp_path / f"s{i}"
        folder = base / s.folder.name
        shutil.copytree(s.folder, folder)
        doc = json.loads(json.dumps(original).replace(str(s.folder), str(folder)))
        for _ in range(rng.choice([1, 2])):
            path, _v = rng.choice(list(_leaves(doc))[1:])
            parent = doc
            for k in path[:-1]:
                parent = parent[k]
            if rng.random() < 0.8:
                parent[path[-1]] = rng.choice(SPECIAL_VALUES)
            elif isinstance(parent, dict):
                del parent[path[-1]]
        (folder / recovery.JOURNAL).write_text(json.dumps(doc))
        items = recovery.find_recoverable(base)
        if not items:
            continue  # not offered at all (e.g. "modified" made false): also fine
        try:
            recovery.recover(items[0], store)
            outcomes["recovered"] += 1
        except SeedwaveError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
            assert recovery.find_recoverable(base) == []
    assert outcomes["refused"] > 20 and outcomes["recovered"] > 5, outcomes
