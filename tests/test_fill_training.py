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


def test_a_run_stopped_and_resumed_gives_the_same_weights_as_an_uninterrupted_one(tmp_path):
    clips, kinds = _clips()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net, opt = _fresh()
        assert train_fill.train_steps(net, opt, clips, kinds, 0, 6, batch=2, frames=48) == 6
        straight = {k: v.clone() for k, v in net.state_dict().items()}

        ckpt = tmp_path / "fill.pt"
        net, opt = _fresh()
        assert train_fill.train_steps(net, opt, clips, kinds, 0, 6, batch=2, frames=48, checkpoint=ckpt,
                                      stop_at=3) == 3
        del net, opt  # the session ends
        net, opt = _fresh(seed=99)  # a new process: other initial weights, restored from the checkpoint
        from training.checkpoint import resume

        assert resume(ckpt, net, opt) == 3
        assert train_fill.train_steps(net, opt, clips, kinds, 3, 6, batch=2, frames=48, checkpoint=ckpt) == 6
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
