"""The effects framework without Qt: plugin discovery, the runner (chunks, cross-fades,
resampling, out-of-memory fallback, cancel), models, presets, and effect runs on projects.

Model download, resume and checksums are covered by test_models.py.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time

import numpy as np
import pytest

from editor.core import edits
from editor.core.errors import Cancelled, SeedwaveError
from editor.core.model import Clip, Project
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.effects import device as devices
from editor.effects.base import EffectContext, EffectError
from editor.effects.models import ModelManager, ModelMissingError
from editor.effects.presets import PresetStore
from editor.effects.registry import Registry
from editor.effects.runner import Source, run_effect, run_on_array
from editor.jobs import effect_job as ej

from .audiogen import noise, sines
from .effect_fixtures import (
    MODEL_BYTES,
    MODEL_SPEC,
    GainFx,
    IdentityFx,
    LengthenFx,
    ModelFx,
    NativeRateFx,
    OomFx,
    SlowFx,
    SplitFx,
)

RATE = 8000


# --------------------------------------------------------------------------- plugin discovery


def _write_distribution(site, name: str, module_src: str, entry_points: dict[str, str]) -> None:
    """A tiny installed distribution: a module plus a dist-info folder with entry points."""
    (site / f"{name}.py").write_text(textwrap.dedent(module_src))
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[seedwave.effects]\n{lines}\n")


def test_third_party_plugin_is_found_runs_and_a_broken_one_is_reported(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _write_distribution(site, "seedwave_thirdparty_fx", """
        import numpy as np
        from editor.effects.base import Effect, Param

        class Tremble(Effect):
            id = "thirdparty_invert"
            title = "Invert (third party)"
            params = (Param("mix", "float", 1.0, min=0.0, max=1.0),)

            def process(self, audio, sample_rate, params, context):
                return audio * np.float32(1.0 - 2.0 * params["mix"])
        """, {"thirdparty_invert": "seedwave_thirdparty_fx:Tremble"})
    _write_distribution(site, "seedwave_broken_fx", """
        raise ImportError("this plugin needs a library that is not installed")
        """, {"broken_fx": "seedwave_broken_fx:Nothing"})
    _write_distribution(site, "seedwave_notaneffect", """
        class NotAnEffect:
            pass
        """, {"not_an_effect": "seedwave_notaneffect:NotAnEffect"})
    monkeypatch.syspath_prepend(str(site))

    reg = Registry()
    reg.load()
    assert "thirdparty_invert" in reg.ids()
    assert "denoise" in reg.ids(), "built-in effects still load next to the plugins"
    assert "broken_fx" in reg.errors and "not installed" in reg.errors["broken_fx"]
    assert "not_an_effect" in reg.errors and "not an Effect" in reg.errors["not_an_effect"]
    assert "broken_fx" not in reg.ids() and "not_an_effect" not in reg.ids()

    x = noise(1.0, RATE, 2)
    out = run_on_array(reg.get("thirdparty_invert"), x, RATE, {"mix": 1.0})
    np.testing.assert_array_equal(out.audio, -x)
    assert out.provenance["effect"] == "thirdparty_invert"
    with pytest.raises(EffectError, match="no effect named"):
        reg.get("nope")


# --------------------------------------------------------------------------- runner


@pytest.mark.parametrize("frames", [int(10.3 * RATE), int(1.2 * RATE), 17])
def test_chunked_identity_and_gain_match_unchunked(frames):
    x = noise(frames / RATE, RATE, 2)[:, :frames]
    fx = IdentityFx()
    out = run_on_array(fx, x, RATE)
    assert out.audio.shape == x.shape
    np.testing.assert_allclose(out.audio, x, atol=1e-6, rtol=0)
    if frames > 5 * RATE:
        assert len(fx.windows) >= 9, "long input goes through many windows"
        assert max(fx.windows) <= int(1.25 * RATE) + int(0.25 * RATE)
    g = run_on_array(GainFx(), x, RATE, {"gain": 0.3})
    np.testing.assert_allclose(g.audio, x * np.float32(0.3), atol=1e-6, rtol=0)


def test_chunked_output_streams_into_blocks_and_multi_output(store):
    x = noise(5.5, RATE, 1)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 1)
    ctx = EffectContext(TaskContext())
    res = run_effect(GainFx(), Source.from_seq(seq, RATE, 1000, 1000 + 4 * RATE), {"gain": 2.0}, ctx, store)
    assert isinstance(res.audio, AudioSeq) and res.audio.frames == 4 * RATE
    np.testing.assert_allclose(res.audio.read(0, 4 * RATE), 2 * x[:, 1000:1000 + 4 * RATE], atol=1e-6)
    assert res.provenance["params"] == {"gain": 2.0} and res.provenance["version"] == "3"

    split = run_on_array(SplitFx(), x, RATE)
    assert set(split.audio) == {"low", "high"}
    np.testing.assert_allclose(split.audio["low"] + split.audio["high"], x, atol=1e-6)


def test_resampling_to_the_native_rate_and_back():
    rate = 48000
    x = sines((200.0, 1000.0), 5.0, rate, channels=2)
    fx = NativeRateFx()
    out = run_on_array(fx, x, rate)
    assert {r for r, _n in fx.seen} == {16000}, "process() sees audio at its native rate"
    assert fx.seen[0][1] == pytest.approx(2.5 * 16000, abs=2)
    assert out.audio.shape == x.shape
    inner = slice(rate // 10, -rate // 10)  # the resampler's edges aside
    np.testing.assert_allclose(out.audio[:, inner], x[:, inner], atol=2e-3)


def test_long_single_window_resamples_in_pieces_bit_identically():
    import soxr

    from editor.effects.runner import _resample

    x = noise(23.0, 48000, 2)
    one = np.ascontiguousarray(soxr.resample(x.T, 48000, 16000, quality="HQ").T)
    np.testing.assert_array_equal(_resample(x, 48000, 16000, TaskContext()), one)


def _oom_run(fx, x, device="cuda"):
    ctx = EffectContext(TaskContext(), device)
    return run_effect(fx, Source.from_array(x, RATE), {}, ctx, to_memory=True), ctx


def test_out_of_memory_retries_with_smaller_chunks_then_succeeds_on_the_gpu():
    x = noise(20.0, RATE, 1)
    res, ctx = _oom_run(OomFx(), x)
    np.testing.assert_allclose(res.audio, x, atol=1e-6)
    assert ctx.device == "cuda" and "device_fallback" not in res.provenance
    assert any("ran out of memory" in w and "retrying with 2 s chunks" in w for w in res.warnings), res.warnings


def test_out_of_memory_even_with_small_chunks_moves_to_the_cpu(monkeypatch):
    monkeypatch.setattr(OomFx, "limit_seconds", 0.1)
    x = noise(20.0, RATE, 1)
    res, ctx = _oom_run(OomFx(), x)
    np.testing.assert_allclose(res.audio, x, atol=1e-6)
    assert res.provenance["device"] == "cpu" and res.provenance["device_fallback"] == "cpu"
    assert any("finishing on the CPU" in w for w in res.warnings)


def test_out_of_memory_in_a_whole_input_effect_goes_straight_to_the_cpu(monkeypatch):
    class WholeOom(OomFx):
        chunk_seconds = None

    x = noise(10.0, RATE, 1)
    res, _ctx = _oom_run(WholeOom(), x)
    np.testing.assert_allclose(res.audio, x, atol=1e-6)
    assert not any("retrying" in w for w in res.warnings), "a whole-input effect is never cut into chunks"
    assert res.provenance["device_fallback"] == "cpu"


def test_is_out_of_memory_recognises_torch_errors():
    from .effect_fixtures import OutOfMemoryError

    assert devices.is_out_of_memory(OutOfMemoryError("x"))
    assert devices.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 1 GiB"))
    assert not devices.is_out_of_memory(RuntimeError("out of cheese"))


def _run_in_thread(fn):
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            box["error"] = exc
        box["end"] = time.monotonic()

    t = threading.Thread(target=target)
    t.start()
    return t, box


def test_cancel_during_a_long_single_window_stops_at_the_next_step(store):
    x = noise(2.0, RATE, 2)
    seq = AudioSeq.from_blocks(store.blocks_from_array(x), 2)
    before = set(store.folder.glob("*.f32"))
    parent = TaskContext()
    ctx = EffectContext(parent)
    t, box = _run_in_thread(lambda: run_effect(SlowFx(), Source.from_seq(seq, RATE), {"seconds": 30}, ctx, store))
    deadline = time.monotonic() + 10
    while parent.fraction < 0.005 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert parent.fraction > 0, "the effect reports progress"
    steps_at_cancel = SlowFx.steps_after_cancel
    ctx.cancel()
    t.join(30)
    assert isinstance(box.get("error"), Cancelled)
    assert SlowFx.steps_after_cancel == steps_at_cancel, "no step begins after a cancel"
    assert set(store.folder.glob("*.f32")) == before, "a cancelled run leaves no new blocks behind"


def test_resampling_a_long_window_checks_for_cancel_between_pieces():
    from editor.effects.runner import _resample

    class CancelOnThirdCheck(TaskContext):
        checks = 0

        def check(self) -> None:
            self.checks += 1
            if self.checks == 3:
                self.cancel()
            super().check()

    ctx = CancelOnThirdCheck()
    with pytest.raises(Cancelled):
        _resample(noise(60.0, 48000, 1), 48000, 16000, ctx)
    assert ctx.checks == 3


# --------------------------------------------------------------------------- devices and models


def test_device_policy():
    none = devices.DeviceReport(False, False)
    cuda = devices.DeviceReport(True, False, "Fake GPU")
    mps = devices.DeviceReport(False, True)
    assert devices.pick_device("cpu", cuda) == "cpu"
    assert devices.pick_device("auto", cuda) == "cuda"
    assert devices.pick_device("auto", mps) == "mps"
    assert devices.pick_device("cuda", mps) == "cpu"
    assert devices.pick_device("auto", none) == "cpu"
    with pytest.raises(ValueError):
        devices.pick_device("tpu", none)
    assert "Fake GPU" in cuda.describe()


def test_missing_model_stops_the_run_early_with_a_clear_message(tmp_path):
    models = ModelManager(tmp_path / "models")
    x = noise(1.0, RATE, 1)
    with pytest.raises(ModelMissingError) as err:
        run_on_array(ModelFx(), x, RATE, models=models)
    text = str(err.value)
    assert "Test model needs the model 'test-model'" in text and "Import model file… with test-model.bin" in text

    src = tmp_path / "weights.bin"
    src.write_bytes(MODEL_BYTES)
    assert models.import_file(src, [MODEL_SPEC]) == MODEL_SPEC
    res = run_on_array(ModelFx(), x, RATE, models=models)
    np.testing.assert_allclose(res.audio, x * 0.5, atol=1e-7)
    assert res.provenance["model"] == "test-model" and res.provenance["model_sha256"] == MODEL_SPEC.sha256
    assert models.remove(MODEL_SPEC) and not models.is_installed(MODEL_SPEC)
    assert not models.remove(MODEL_SPEC)


# --------------------------------------------------------------------------- presets


def test_presets_save_load_delete_and_survive_a_changed_effect(tmp_path):
    ps = PresetStore(tmp_path / "presets")
    assert ps.names("test_gain") == []
    ps.save(GainFx, "Quiet", {"gain": 0.25})
    ps.save(GainFx, "loud", {"gain": 1.5})
    assert ps.names("test_gain") == ["loud", "Quiet"]
    values, notes = ps.load(GainFx, "Quiet")
    assert values == {"gain": 0.25} and notes == []
    with pytest.raises(EffectError):
        ps.save(GainFx, "bad", {"gain": 5.0})  # out of range: not saved
    with pytest.raises(SeedwaveError, match="needs a name"):
        ps.save(GainFx, "  ", {"gain": 1.0})

    # A preset from an older version: an unknown parameter and an out-of-range value.
    path = ps.path("test_gain")
    data = json.loads(path.read_text())
    data["presets"]["old"] = {"gain": 9.0, "removed_param": 1}
    path.write_text(json.dumps(data))
    values, notes = ps.load(GainFx, "old")
    assert values == {"gain": 0.5} and len(notes) == 2

    ps.delete(GainFx, "loud")
    assert "loud" not in ps.names("test_gain")
    with pytest.raises(SeedwaveError):
        ps.load(GainFx, "loud")
    path.write_text("{not json")
    with pytest.raises(SeedwaveError, match="cannot read presets"):
        ps.names("test_gain")


# --------------------------------------------------------------------------- runs on a project


def _project(store, seconds: float = 3.0, tracks: int = 2) -> tuple[Project, list[np.ndarray]]:
    p = Project(sample_rate=RATE)
    data = []
    for i in range(tracks):
        x = noise(seconds, RATE, 2, seed=i)
        data.append(x)
        p = edits.add_track(p, f"T{i + 1}", (Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 2), 0),))
    return p, data


def test_in_place_new_track_and_removed_projects(store):
    p, data = _project(store)
    t1 = p.tracks[0]
    parts = ej.parts_for_range(p, RATE // 2, 2 * RATE, (t1.id,))
    assert parts == [ej.Part(t1.id, t1.clips[0].id, RATE // 2, 2 * RATE, RATE // 2)]
    assert ej.parts_for_tracks(p, [t1.id]) == ej.parts_for_clips(p, [t1.clips[0].id])

    ctx = EffectContext(TaskContext())
    res = ej.process_parts(p, parts, GainFx(), {"gain": 0.5}, ctx, store)
    assert res.provenance["effect"] == "test_gain" and res.provenance["device"] == "cpu"

    new = ej.apply_in_place(p, res)
    got = new.tracks[0].clips[0].audio.read(0, 3 * RATE)
    expected = data[0].copy()
    expected[:, RATE // 2: 2 * RATE] *= np.float32(0.5)
    np.testing.assert_array_equal(got, expected)
    assert new.tracks[1] is p.tracks[1]

    added, ids = ej.add_result_tracks(p, res, GainFx())
    assert [t.name for t in added.tracks] == ["T1", "T1 (Test gain)", "T2"] and ids == (added.tracks[1].id,)
    assert added.tracks[0] is p.tracks[0]
    clip = added.tracks[1].clips[0]
    assert clip.position == RATE // 2
    np.testing.assert_array_equal(clip.audio.read(0, clip.length), data[0][:, RATE // 2: 2 * RATE] * 0.5)

    removed = ej.removed_project(p, res, store)
    assert [t.id for t in removed.tracks] == [t1.id]
    rc = removed.tracks[0].clips[0]
    np.testing.assert_allclose(rc.audio.read(0, rc.length), data[0][:, RATE // 2: 2 * RATE] * 0.5, atol=1e-7)


def test_multi_output_effect_makes_one_track_per_output(store):
    p, data = _project(store, tracks=1)
    parts = ej.parts_for_tracks(p, [p.tracks[0].id])
    res = ej.process_parts(p, parts, SplitFx(), {}, EffectContext(TaskContext()), store)
    new, ids = ej.add_result_tracks(p, res, SplitFx())
    assert [t.name for t in new.tracks] == ["T1", "T1 – Low", "T1 – High"] and len(ids) == 2
    low, high = (new.track(i).clips[0] for i in ids)
    np.testing.assert_allclose(low.audio.read(0, low.length) + high.audio.read(0, high.length), data[0], atol=1e-6)


def test_processing_a_part_uses_context_around_it(store):
    """Each part is processed with up to a second of its clip's audio around it."""
    seen = []

    class Spy(IdentityFx):
        chunk_seconds = 10.0
        overlap_seconds = 2.0

        def process(self, audio, sample_rate, params, context):
            seen.append(audio.shape[1])
            return audio.copy()

    p, _data = _project(store, seconds=4.0, tracks=1)
    parts = ej.parts_for_range(p, RATE, 2 * RATE, (p.tracks[0].id,))
    res = ej.process_parts(p, parts, Spy(), {}, EffectContext(TaskContext()), store)
    assert seen == [3 * RATE]  # 1 s before + 1 s part + 1 s after
    assert res.parts[0][1][""].frames == RATE


def test_an_empty_target_is_a_clear_error(store):
    p, _ = _project(store, tracks=1)
    with pytest.raises(SeedwaveError, match="no audio"):
        ej.process_parts(p, [], GainFx(), {}, EffectContext(TaskContext()), store)


def test_an_effect_that_changes_the_length_grows_the_clip_and_moves_later_clips(store):
    x = noise(1.0, RATE, 1)
    a = Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 0, name="a")
    b = Clip(AudioSeq.from_blocks(store.blocks_from_array(x), 1), 2 * RATE, name="b")
    p = edits.add_track(Project(sample_rate=RATE), "T", (a, b))
    res = ej.process_parts(p, ej.parts_for_clips(p, [a.id]), LengthenFx(), {}, EffectContext(TaskContext()), store)
    assert ej.length_change(res) == RATE // 2
    new = ej.apply_in_place(p, res)
    ca, cb = new.tracks[0].clips
    assert (ca.length, cb.position) == (RATE + RATE // 2, 2 * RATE + RATE // 2)
    np.testing.assert_array_equal(ca.audio.read(0, ca.length)[:, :RATE], x)
    assert not ca.audio.read(RATE, ca.length).any()
