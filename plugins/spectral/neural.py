"""Neural engine: a network trained on the clip's own spectrogram with time x frequency masks.

No weights are shipped. For each repair a small dilated 1-D convolutional network
over STFT frames (the log-magnitude of every bin of the selected band and of a
margin above and below it — at least as wide as the band — as input channels,
plus one mask channel per bin) learns, from the clip's context (``train_seconds`` each side of
the region), to predict masked cells from everything around them: the same
frames outside the band, and the band before and after. Training masks are the
selection's own shape moved to random times (so the network learns exactly the
task it will be asked) and random boxes. Cells of the region (and of the boxes
Auto uses to validate) are never seen as targets. Each channel is an example of
its own. Progress is reported and cancel honoured between steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from editor.core.spectral_selection import StftGrid
from editor.core.spectral_stft import stft_frames
from editor.core.task import TaskContext
from editor.effects.base import EffectError


@dataclass(frozen=True)
class NeuralSettings:
    steps: int = 300
    device: str = "cpu"
    hidden: int = 64
    batch: int = 4
    crop_frames: int = 160
    lr: float = 2e-3
    train_seconds: float = 15.0
    seed: int = 0


def _model(torch, bins: int, hidden: int):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, dilation: int) -> None:
            super().__init__()
            self.conv = nn.Conv1d(hidden, hidden, 3, padding=dilation, dilation=dilation)
            self.mix = nn.Conv1d(hidden, hidden, 1)
            self.norm = nn.GroupNorm(1, hidden)

        def forward(self, x):
            return x + self.mix(nn.functional.gelu(self.norm(self.conv(x))))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Conv1d(2 * bins, hidden, 1)
            self.blocks = nn.Sequential(*[Block(d) for d in (1, 2, 4, 8, 16, 32, 1, 2, 4, 8)])
            self.out = nn.Conv1d(hidden, bins, 1)

        def forward(self, feat, mask):
            return self.out(self.blocks(self.inp(torch.cat([feat * (1 - mask), mask], dim=1))))

    return Net()


PREDICT_CONTEXT = 64  # frames of context each side the network sees when predicting
BAND_MARGIN_BINS = 48  # bins of context above and below the selected band, at least
MIN_TRAIN_FRAMES = 16  # frames outside the region (about 0.2 s) the network needs to learn anything


class SpectrogramNet:
    """A trained network and the normalisation it learnt; :meth:`predict` fills a region."""

    def __init__(self, torch, net, mu: float, sd: float, steps: int, final_loss: float, device,
                 bins: tuple[int, int]) -> None:
        self.torch, self.net, self.mu, self.sd, self.bins = torch, net, mu, sd, bins
        self.steps, self.final_loss, self.device = steps, final_loss, device

    @classmethod
    def train(cls, x: np.ndarray, grid: StftGrid, avoid: list[tuple[int, int]], shape: np.ndarray,
              ctx: TaskContext, st: NeuralSettings) -> SpectrogramNet:
        """Train on ``x`` around the region ``avoid[0]`` (frames); ``shape`` is the region's mask
        (frames x bins); no cell of an ``avoid`` span is ever a target."""
        ctx.check()
        import torch

        threads = torch.get_num_threads()
        try:
            if st.device == "cpu":
                torch.set_num_threads(1)  # small network: one thread is as fast, and kinder to a busy machine
            with torch.inference_mode(False), torch.enable_grad(), torch.random.fork_rng(devices=[]):
                torch.manual_seed(st.seed)
                return cls._train(torch, x, grid, avoid, np.asarray(shape, bool), ctx, st)
        finally:
            torch.set_num_threads(threads)

    @classmethod
    def _train(cls, torch, x, grid, avoid, shape, ctx, st) -> SpectrogramNet:
        device = torch.device(st.device)
        n_all = grid.n_frames(x.shape[1])
        r0, r1 = avoid[0]  # the region itself
        keep = int(st.train_seconds / grid.frame_seconds)
        ka, kb = max(0, r0 - keep), min(n_all, r1 + keep)
        # Only the selected band and a margin either side (at least as wide as the band): the
        # network's width, and so its cost, follows the selection, not the whole spectrum.
        rows = np.flatnonzero(shape.any(axis=0))
        lo_b, hi_b = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, shape.shape[1])
        margin = max(BAND_MARGIN_BINS, hi_b - lo_b)
        band = (max(0, lo_b - margin), min(shape.shape[1], hi_b + margin))
        shape = shape[:, band[0]:band[1]]
        lo_b, hi_b = lo_b - band[0], hi_b - band[0]
        spec = np.abs(stft_frames(x, grid, ka, kb))[:, :, band[0]:band[1]]  # (C, K, band bins)
        logmag = np.log(spec + 1e-5).astype(np.float32)
        hole = np.zeros(kb - ka, bool)
        for a, b in avoid:
            hole[max(0, a - ka):max(0, min(kb, b) - ka)] = True
        if (~hole).sum() < MIN_TRAIN_FRAMES:
            raise EffectError("too little audio around the selection for the neural engine to learn from "
                              "(use interpolation, or select less)")
        mu = float(logmag[:, ~hole].mean())
        sd = float(logmag[:, ~hole].std() + 1e-6)
        feat = torch.from_numpy((logmag - mu) / sd).transpose(1, 2).contiguous().to(device)  # (C, B, K)
        n_ch, n_bins, n_k = feat.shape
        region_frames = r1 - r0
        crop = int(min(n_k, max(st.crop_frames, region_frames + 64)))
        net = _model(torch, n_bins, st.hidden).to(device)
        opt = torch.optim.AdamW(net.parameters(), lr=st.lr, weight_decay=1e-4)
        rng = np.random.default_rng(st.seed)
        shp = shape.T.astype(np.float32)  # bins x frames
        loss_v = 0.0
        ctx.progress(0.1, "Spectral repair (neural): training on the clip")
        for step in range(st.steps):
            ctx.check()
            for g in opt.param_groups:
                g["lr"] = st.lr * 0.5 * (1 + math.cos(math.pi * step / max(1, st.steps)))
            feats, masks, weights = [], [], []
            for _ in range(st.batch):
                c0 = int(rng.integers(0, max(1, n_k - crop + 1)))
                ch = int(rng.integers(0, n_ch))
                m = np.zeros((n_bins, crop), np.float32)
                span = int(np.clip(round(region_frames * rng.uniform(0.5, 1.3)), 1, crop - 2))
                s0 = int(rng.integers(0, crop - span + 1))
                if rng.random() < 0.7:
                    w = min(shp.shape[1], crop - s0)
                    m[:, s0:s0 + w] = shp[:, :w]
                else:
                    width = int(np.clip((hi_b - lo_b) * rng.uniform(0.5, 1.5), 2, n_bins))
                    b0 = int(rng.integers(0, max(1, n_bins - width)))
                    m[b0:b0 + width, s0:s0 + span] = 1.0
                h = hole[c0:c0 + crop]
                full = np.maximum(m, h[None].astype(np.float32))
                wt = np.where(h[None], 0.0, np.where(m > 0, 1.0, 0.02)).astype(np.float32)
                feats.append(feat[ch, :, c0:c0 + crop])
                masks.append(torch.from_numpy(full))
                weights.append(torch.from_numpy(wt))
            f = torch.stack(feats)
            mk = torch.stack(masks).to(device)
            wt = torch.stack(weights).to(device)
            pred = net(f, mk)
            loss = ((pred - f).abs() * wt).sum() / (wt.sum() + 1e-9)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_v = float(loss.detach().cpu())
            if step % 10 == 0:
                ctx.progress(0.1 + 0.7 * step / st.steps, "Spectral repair (neural): training on the clip")
        net.eval()
        return cls(torch, net, mu, sd, st.steps, loss_v, device, band)

    def predict(self, x: np.ndarray, grid: StftGrid, ka: int, region: np.ndarray) -> np.ndarray:
        """Magnitudes (channels, frames, bins) predicted for ``region`` (frames, bins) on frames ``ka ..``
        of planar ``x``; the network sees ``PREDICT_CONTEXT`` more frames each side, as in training."""
        torch = self.torch
        pad = PREDICT_CONTEXT
        n_all = grid.n_frames(x.shape[1])
        k0, k1 = max(0, ka - pad), min(n_all, ka + region.shape[0] + pad)
        b0, b1 = self.bins
        X = stft_frames(x, grid, k0, k1)
        n_own = region.shape[0]
        full = np.abs(X[:, ka - k0:ka - k0 + n_own]).astype(np.float64)
        X = X[:, :, b0:b1]
        wide = np.zeros((k1 - k0, region.shape[1]), bool)
        wide[ka - k0:ka - k0 + n_own] = region
        region = wide[:, b0:b1]
        logmag = (np.log(np.abs(X) + 1e-5).astype(np.float32) - self.mu) / self.sd
        with torch.no_grad():
            f = torch.from_numpy(logmag).transpose(1, 2).contiguous().to(self.device)
            m = torch.from_numpy(region.T.astype(np.float32)).to(self.device)[None].expand(f.shape[0], -1, -1)
            out = self.net(f, m).transpose(1, 2).cpu().numpy()
        mag = np.maximum(np.exp(out * self.sd + self.mu) - 1e-5, 0.0)
        full[:, :, b0:b1] = mag[:, ka - k0:ka - k0 + n_own]
        return full
