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
