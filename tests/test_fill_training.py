"""The fill prior's training (training/train_fill.py): resumable bit for bit, batches from the seed,
export to safetensors with a model card."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
train_fill = pytest.importorskip("training.train_fill")

from seedwave_plugins.fill import prior  # noqa: E402


def _clips() -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(5)
    t = np.arange(3 * prior.RATE) / prior.RATE
    music = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 331 * t)).astype(np.float16)
    speech = (0.2 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float16)
    noise = (0.05 * rng.standard_normal(t.size)).astype(np.float16)
    return [music, speech, noise], ["music", "speech", "noise"]


def _fresh(seed: int = 0):
    torch.manual_seed(seed)
    net = prior.build({"hidden": 16, "dilations": [1, 2]})
    return net, torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)


def test_batches_depend_only_on_the_seed_and_the_step():
    clips, kinds = _clips()
    x1, m1 = train_fill.make_batch(clips, kinds, np.random.default_rng([0, 7]), 4, 64)
    x2, m2 = train_fill.make_batch(clips, kinds, np.random.default_rng([0, 7]), 4, 64)
    x3, _ = train_fill.make_batch(clips, kinds, np.random.default_rng([0, 8]), 4, 64)
    assert np.array_equal(x1, x2) and np.array_equal(m1, m2) and not np.array_equal(x1, x3)
    # One masked span per crop, with known frames on both sides.
    for row in m1:
        idx = np.nonzero(row)[0]
        assert idx.size >= 1 and np.all(np.diff(idx) == 1)
        assert idx[0] >= train_fill.MIN_CONTEXT and idx[-1] < 64 - train_fill.MIN_CONTEXT


def test_long_batches_put_the_span_in_the_crop_the_network_sees():
    clips, kinds = _clips()
    x1, m1, c1 = train_fill.make_long_batch(clips, kinds, np.random.default_rng([0, 7]), 4, 48, 120)
    x2, m2, c2 = train_fill.make_long_batch(clips, kinds, np.random.default_rng([0, 7]), 4, 48, 120)
    assert np.array_equal(x1, x2) and np.array_equal(m1, m2) and np.array_equal(c1, c2)
    assert m1.shape == (4, 120) and x1.shape == (4, 119 * prior.HOP)
    for row, c0 in zip(m1, c1):
        idx = np.nonzero(row)[0]
        assert 0 <= c0 <= 120 - 48 and idx.size >= 1 and np.all(np.diff(idx) == 1)
        assert idx[0] >= c0 + train_fill.MIN_CONTEXT and idx[-1] < c0 + 48 - train_fill.MIN_CONTEXT


def test_a_run_stopped_and_resumed_gives_the_same_weights_as_an_uninterrupted_one(tmp_path):
    clips, kinds = _clips()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net, opt = _fresh()
        assert train_fill.train_steps(net, opt, clips, kinds, 0, 6, batch=2, frames=48, long_frames=96) == 6
        straight = {k: v.clone() for k, v in net.state_dict().items()}

        ckpt = tmp_path / "fill.pt"
        net, opt = _fresh()
        assert train_fill.train_steps(net, opt, clips, kinds, 0, 6, batch=2, frames=48, checkpoint=ckpt,
                                      stop_at=3, long_frames=96) == 3
        del net, opt  # the session ends
        net, opt = _fresh(seed=99)  # a new process: other initial weights, restored from the checkpoint
        from training.checkpoint import resume

        assert resume(ckpt, net, opt) == 3
        assert train_fill.train_steps(net, opt, clips, kinds, 3, 6, batch=2, frames=48, checkpoint=ckpt,
                                      long_frames=96) == 6
    finally:
        torch.set_num_threads(threads)
    resumed = net.state_dict()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert not all(torch.equal(straight[k], _fresh()[0].state_dict()[k]) for k in straight)  # it trained


def test_the_masked_loss_trains_the_network_beyond_its_interpolation_baseline():
    """An untrained prior is the per-bin interpolation across the gap; the loss's gradients
    must teach it to do better (here: fitting one fixed batch)."""
    clips, kinds = _clips()
    torch.manual_seed(0)
    net = prior.build({"hidden": 32, "dilations": [1, 2, 4]})
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    window = torch.hann_window(prior.N_FFT)
    x, m = train_fill.make_batch(clips, kinds, np.random.default_rng(123), 6, 48)
    xt, mt = torch.from_numpy(x), torch.from_numpy(m)
    with torch.no_grad():
        before = float(train_fill.masked_loss(net, xt, mt, window)[1])
    for _ in range(60):
        loss, _masked = train_fill.masked_loss(net, xt, mt, window)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = float(train_fill.masked_loss(net, xt, mt, window)[1])
    assert after < before - 0.1  # normalised log-magnitude units (the baseline sits near 0.8)


def test_an_untrained_prior_continues_a_steady_tone_exactly():
    t = np.arange(2 * prior.RATE) / prior.RATE
    x = torch.from_numpy((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))[None]
    spec = torch.stft(x, prior.N_FFT, prior.HOP, window=torch.hann_window(prior.N_FFT), center=True,
                      return_complex=True)
    mask = torch.zeros(1, spec.shape[2])
    mask[0, 60:90] = 1.0
    feat, _, _ = prior.features(spec.abs(), mask[0] < 0.5)
    with torch.no_grad():
        pred = prior.build()(prior.net_input(feat, mask))
    tone = int(round(440 * prior.N_FFT / prior.RATE))
    assert torch.allclose(pred[0, tone - 1:tone + 2, 60:90], feat[0, tone - 1:tone + 2, 60:90], atol=0.02)


def test_export_writes_safetensors_with_metadata_and_a_card_naming_its_hash(tmp_path, monkeypatch):
    import hashlib
    import shutil

    from safetensors import safe_open

    (tmp_path / "weights").mkdir()
    monkeypatch.setattr(prior, "WEIGHTS", tmp_path / "weights" / "fill_prior.safetensors")
    monkeypatch.setattr(prior, "CARD", tmp_path / "weights" / "fill_prior.md")
    shutil.copy(Path(prior.__file__).parent / "plugin.toml", tmp_path / "plugin.toml")
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"step": 25, "loss": 0.5, "s_per_step": 0.3, "time": 1.0, "device": "cpu"}) + "\n"
                   + json.dumps({"step": 25, "dev": {"music": 0.6, "mean": 0.6}, "time": 2.0}) + "\n")
    net = prior.build()
    assert train_fill.export(net, 25, log, compare=False) == 0
    digest = hashlib.sha256(prior.WEIGHTS.read_bytes()).hexdigest()
    with safe_open(str(prior.WEIGHTS), "pt") as fh:
        meta = fh.metadata()
        assert all(fh.get_tensor(k).dtype == torch.float16 for k in fh.keys())  # noqa: SIM118 (safe_open is not iterable)
    assert meta["step"] == "25" and meta["trained_by"] == "training/train_fill.py"
    card = prior.CARD.read_text()
    assert digest in card and "Licence" in card and "25" in card
    # The plugin's manifest names the new file's hash (Effects > Models checks the file against it).
    entry = next(m for m in tomllib.loads((tmp_path / "plugin.toml").read_text())["models"] if m["id"] == "fill_prior")
    assert entry["sha256"] == [digest]
    # The exported file loads back into the network the engine uses.
    cfg, state = prior.load(prior.WEIGHTS)
    again = prior.build(cfg)
    again.load_state_dict(state)


# -- Retrieval: the copy from the context that the network starts from --------------------------------


def _looped(channels: int = 1, period: int = 50, frames: int = 420, seed: int = 0):
    """Normalised log magnitudes that repeat every ``period`` frames (plus a little noise)."""
    g = torch.Generator().manual_seed(seed)
    bar = torch.randn(channels, 96, period, generator=g)
    reps = -(-frames // period)
    return bar.repeat(1, 1, reps)[:, :, :frames] + 0.05 * torch.randn(channels, 96, frames, generator=g)


def test_retrieval_copies_the_repeat_of_a_loop_and_never_an_unknown_frame():
    feat = _looped()
    unknown = torch.zeros(feat.shape[2], dtype=torch.bool)
    unknown[200:222] = True
    unknown[120:140] = True  # another hole (a training span, say): never a source
    feat[:, :, 120:140] = 99.0
    out = prior.retrieval(feat, unknown)
    bins = feat.shape[1]
    assert out.shape == (1, bins + 2, feat.shape[2])
    assert torch.all(out[0, bins, 200:222] == 1) and torch.all(out[0, bins, :120] == 0)
    copy = out[0, :bins, 200:222]
    assert not torch.any(copy == 99.0)
    # The copy is the same moment of the loop a whole number of periods away.
    truth = _looped()[0, :, 200:222]
    assert (copy - truth).abs().mean() < 0.15
    assert float(out[0, bins + 1, 205]) < 0.3  # a close match: far better than the median candidate


def test_retrieval_says_when_nothing_matches_better_than_chance():
    g = torch.Generator().manual_seed(3)
    feat = torch.randn(1, 96, 300, generator=g)  # nothing repeats
    unknown = torch.zeros(300, dtype=torch.bool)
    unknown[140:160] = True
    out = prior.retrieval(feat, unknown)
    assert float(out[0, 97, 150]) > 0.6


def test_retrieval_copies_one_moment_for_every_channel():
    feat = _looped(channels=2, seed=1)
    unknown = torch.zeros(feat.shape[2], dtype=torch.bool)
    unknown[260:290] = True
    cache: dict = {}
    out = prior.retrieval(feat, unknown, cache=cache)
    (start, ratio), = cache.values()
    assert (start - 260) % 50 == 0 and start != 260
    assert torch.equal(out[:, :96, 260:290], feat[:, :, start:start + 30])  # both channels, one source


def test_a_network_upgraded_to_retrieval_predicts_what_it_did_until_it_has_a_copy():
    torch.manual_seed(0)
    small = {"hidden": 16, "dilations": [1, 2], "bins": 96}
    old = prior.build({**small, "retrieval": False})
    torch.nn.init.normal_(old.out.weight, std=0.1)
    new = prior.build({**small, "retrieval": True})
    new.load_state_dict(prior.upgraded(old.state_dict(), bins=96))
    feat = _looped()[:, :, :120]
    mask = torch.zeros(1, 120)
    mask[0, 50:70] = 1.0
    with torch.no_grad():
        assert torch.allclose(old(prior.net_input(feat, mask)), new(prior.net_input(feat, mask)), atol=1e-6)
        # With a copy, the untrained gate takes it half way.
        retr = prior.retrieval(feat, mask[0] > 0.5)
        mixed = new(prior.net_input(feat, mask), retr)
    assert not torch.allclose(mixed[..., 50:70], old(prior.net_input(feat, mask))[..., 50:70])
