"""Chain files (.swchain): format, versioning, errors, the saved-chains folder,
``seedwave apply CHAIN``, and applying a chain to a selection as one undo step."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from editor.cli import main
from editor.core.chain import Chain, ChainStep
from editor.core.edits import add_track
from editor.core.history import History
from editor.core.loudness import measure
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.effects.chainfile import (
    ChainFileError,
    ChainSpec,
    OutputFormat,
    digest,
    find_chain,
    load_chain,
    resolve,
    save_chain,
    save_user_chain,
    with_overrides,
)
from editor.jobs.chain_apply import apply_chain_in_place, chain_label
from editor.jobs.effect_job import parts_for_range
from tests.audiogen import noise, sines, write


def _spec() -> ChainSpec:
    steps = (
        ChainStep.make("denoise", {"engine": "rnnoise", "strength": 24.0}),
        ChainStep.make("denoise", {"engine": "spectral"}, bypass=True),
        ChainStep.make("loudness", {"lufs": -20.0, "true_peak": -2.0}, wet=1.0),
    )
    return ChainSpec(Chain(steps), name="Voice", description="clean and level",
                     output=OutputFormat(format="flac", bits=16))


def test_round_trip_keeps_steps_params_bypass_and_output(tmp_path):
    spec = _spec()
    path = save_chain(spec, tmp_path / "voice.swchain")
    doc = json.loads(path.read_text())
    assert doc["seedwave_chain"] == 1  # versioned, readable JSON
    assert [s["effect"] for s in doc["steps"]] == ["denoise", "denoise", "loudness"]
    back = load_chain(path)
    assert [(s.effect_id, s.params, s.bypass, s.wet) for s in back.chain] == \
           [(s.effect_id, s.params, s.bypass, s.wet) for s in spec.chain]
    assert back.output == spec.output and back.name == "Voice" and back.description == "clean and level"
    assert digest(back, resolve(back)) == digest(spec, resolve(spec))


def test_digest_follows_what_shapes_the_output():
    spec = _spec()
    base = digest(spec, resolve(spec))
    renamed = ChainSpec(spec.chain, name="Other")
    assert digest(renamed, resolve(renamed)) != base  # output format differs
    same = ChainSpec(spec.chain, name="Other", output=spec.output)
    assert digest(same, resolve(same)) == base
    louder = with_overrides(spec, {"lufs": "-14"})
    assert digest(louder, resolve(louder)) != base
    explicit = with_overrides(spec, {"1.strength": "24"})
    assert digest(explicit, resolve(explicit)) == base


def test_newer_version_and_foreign_files_are_refused_in_one_line(tmp_path):
    newer = tmp_path / "new.swchain"
    newer.write_text(json.dumps({"seedwave_chain": 99, "steps": []}))
    with pytest.raises(ChainFileError) as e:
        load_chain(newer)
    msg = str(e.value)
    assert "\n" not in msg and str(newer) in msg and "newer Seedwave" in msg
    for text, words in [("{not json", "not a readable chain file"),
                        ('{"steps": []}', "not a Seedwave chain file"),
                        ('{"seedwave_chain": 1, "steps": [{"params": {}}]}', "step 1"),
                        ('{"seedwave_chain": 1, "steps": [{"effect": "denoise", "bypass": "no"}]}',
                         '"bypass" must be true or false'),
                        ('{"seedwave_chain": 1, "steps": [{"effect": "denoise", "wet": 2}]}', "wet must be between"),
                        ('{"seedwave_chain": 1, "steps": [], "output": {"format": "xyz"}}', "output format")]:
        p = tmp_path / "bad.swchain"
        p.write_text(text)
        with pytest.raises(ChainFileError) as e:
            load_chain(p)
        assert words in str(e.value) and str(p) in str(e.value) and "\n" not in str(e.value)


def test_unknown_effect_or_parameter_names_the_step(tmp_path):
    p = tmp_path / "c.swchain"
    p.write_text(json.dumps({"seedwave_chain": 1, "steps": [
        {"effect": "denoise", "params": {}}, {"effect": "no-such-fx", "params": {}}]}))
    with pytest.raises(ChainFileError, match=r"step 2 \(no-such-fx\): no effect named"):
        find_chain(str(p))
    p.write_text(json.dumps({"seedwave_chain": 1, "steps": [{"effect": "denoise", "params": {"strength": 500}}]}))
    with pytest.raises(ChainFileError, match=r"step 1 \(denoise\): strength must be between"):
        find_chain(str(p))
    with pytest.raises(ChainFileError, match="several outputs"):
        resolve(ChainSpec.single("stems"))


def test_set_picks_the_step_or_asks_which():
    spec = ChainSpec(Chain((ChainStep.make("denoise"), ChainStep.make("denoise"))))
    with pytest.raises(ChainFileError, match="steps 1, 2 all have 'strength'"):
        with_overrides(spec, {"strength": "10"})
    two = with_overrides(spec, {"2.strength": "10"})
    assert [s.param_dict.get("strength") for s in two.chain] == [None, "10"]
    assert resolve(two)[1].params["strength"] == 10.0
    with pytest.raises(ChainFileError, match="no step of the chain has a parameter 'nope'"):
        with_overrides(spec, {"nope": "1"})


def test_saved_chains_are_listed_and_usable_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEEDWAVE_CHAINS", str(tmp_path / "chains"))
    assert main(["chains"]) == 0
    assert "no saved chains" in capsys.readouterr().out
    save_user_chain(_spec(), "Podcast voice")
    (tmp_path / "chains" / "broken.swchain").write_text("{")
    assert main(["chains"]) == 0
    cap = capsys.readouterr()
    assert "Podcast voice: denoise(engine=rnnoise, strength=24.0)" in cap.out
    assert "broken.swchain" in cap.err  # an unreadable file is named, the rest still listed
    spec, path = find_chain("Podcast voice")
    assert path == tmp_path / "chains" / "Podcast voice.swchain" and spec.name == "Podcast voice"
    # The command line saves a chain file into the folder, shows and deletes saved chains.
    save_chain(ChainSpec.single("denoise", {"strength": 9.0}), tmp_path / "soft.swchain")
    assert main(["chains", "save", str(tmp_path / "soft.swchain"), "--name", "Soft"]) == 0
    assert main(["chains", "show", "Soft"]) == 0
    shown = capsys.readouterr().out
    assert '"strength": 9.0' in shown and '"seedwave_chain": 1' in shown
    assert main(["chains", "delete", "Soft"]) == 0 and not (tmp_path / "chains" / "Soft.swchain").exists()
    assert main(["chains", "delete", "Soft"]) == 2
    assert "no saved chain named 'Soft'" in capsys.readouterr().err


def test_apply_accepts_a_chain_file(tmp_path, capsys):
    src = write(tmp_path / "in.wav", sines(seconds=3.0) + noise(3.0, channels=1, amp=0.02), subtype="PCM_24")
    chain = save_chain(_spec(), tmp_path / "voice.swchain")
    out = tmp_path / "out.flac"
    assert main(["apply", str(chain), str(src), str(out), "--quiet"]) == 0
    y, rate = sf.read(str(out), always_2d=True)
    assert rate == 48000 and y.shape == (3 * 48000, 1)
    assert sf.info(str(out)).subtype == "PCM_16"  # the chain's output bits
    lufs, tp = measure(y.T.astype(np.float32), rate)
    assert abs(lufs - -20.0) < 0.5 and tp <= -2.0 + 0.2
    # A bad chain is one line and exit status 2; nothing is written.
    (tmp_path / "bad.swchain").write_text('{"seedwave_chain": 1, "steps": [{"effect": "nope"}]}')
    assert main(["apply", str(tmp_path / "bad.swchain"), str(src), str(tmp_path / "x.wav")]) == 2
    assert "step 1 (nope): no effect named" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_chain_on_a_selection_is_one_undo_step(store):
    rate = 48000
    audio = sines(seconds=4.0, amp=0.05)
    seq = AudioSeq.from_blocks(store.blocks_from_array(audio), 1)
    project = add_track(Project(sample_rate=rate), "Voice", (Clip(seq, 0),))
    history = History(project)
    tid = project.tracks[0].id
    parts = parts_for_range(project, rate, 3 * rate, [tid])
    spec = ChainSpec(Chain((ChainStep.make("loudness", {"lufs": -14.0}),)), name="Level")
    meta: dict = {}
    new = apply_chain_in_place(project, parts, resolve(spec), TaskContext(), meta=meta)
    history.push(new, chain_label(spec), meta=meta)
    clip = history.current.tracks[0].clips[0]
    out = clip.audio.read(0, clip.audio.frames)
    assert np.array_equal(out[:, :rate], audio[:, :rate])  # outside the selection: untouched
    assert np.array_equal(out[:, 3 * rate:], audio[:, 3 * rate:])
    assert np.abs(out[:, rate + rate // 2: 2 * rate]).max() > 2 * np.abs(audio[:, rate + rate // 2: 2 * rate]).max()
    assert meta["chain"][0]["effect"] == "loudness" and history.entry.label == "Chain: Level"
    assert len(history.entries) == 2  # one step
    history.undo()
    back = history.current.tracks[0].clips[0].audio
    assert np.array_equal(back.read(0, back.frames), audio)


def test_track_inserts_save_as_a_chain_and_load_back_as_inserts(tmp_path):
    from editor.effects.chainfile import chain_for_inserts, spec_from_inserts

    inserts = Chain((ChainStep.make("denoise", {"engine": "rnnoise"}, wet=0.5),
                     ChainStep.make("denoise", {"strength": 6.0}, bypass=True)))
    path = save_chain(spec_from_inserts(inserts, "Vocal bus"), tmp_path / "bus.swchain")
    back, notes = chain_for_inserts(load_chain(path))
    assert notes == []
    assert [(s.effect_id, s.params, s.bypass, s.wet) for s in back] == \
           [(s.effect_id, s.params, s.bypass, s.wet) for s in inserts]
    assert not {s.id for s in back} & {s.id for s in inserts}  # fresh step ids
    live, notes = chain_for_inserts(_spec())
    assert [s.effect_id for s in live] == ["denoise", "denoise"] and "loudness" in notes[0]
