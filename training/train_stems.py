"""Train the four-stem splitter (plugins/stems/splitter.py) on the generated corpus.

    nice -n 19 .venv/bin/python -m training.train_stems --steps 3000          # resumes if a checkpoint exists
    .venv/bin/python -m training.train_stems --export                          # write the shipped weights

Resumable and reproducible: the checkpoint (training/checkpoints/stems.pt, every
``--save-every`` steps and at exit) holds the model, the optimiser and the step;
the batch of step ``k`` is drawn from ``numpy.random.default_rng([seed, k])``,
so a run stopped and resumed gives the same weights as an uninterrupted one (on
the same machine, torch version and thread count).

Data (training/corpus.py): songs ``0 .. --songs-1`` rendered with FluidR3 and
the Csound GM bank (alternating by seed), each 12 s, four stems; batches are
random 2.4 s crops, half from one song, half remixed from stems of different
songs, with random gains, channel swaps and silent stems. Dev: songs 1000-1005
(training soundfonts, unseen seeds); held out: songs 2000-2005 with TimGM6mb and
MuseScore General (see docs/SEPARATION.md).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .checkpoint import resume, save_weights
from .corpus import HELD_OUT_SOUNDFONTS, STEMS, TRAIN_SOUNDFONTS, build_stem_corpus

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
CKPT = ROOT / "checkpoints" / "stems.pt"
LOG = ROOT / "checkpoints" / "stems-log.jsonl"
SONG_SECONDS = 12.0
DEV_SEEDS = range(1000, 1006)
HELD_OUT_SEEDS = range(2000, 2006)


def load_corpus(paths: list[Path]) -> np.ndarray:
    """(songs, 4 stems, 2, samples) float16."""
    return np.stack([np.stack([np.load(p)[k] for k in STEMS]) for p in paths])


def make_batch(data: np.ndarray, rng: np.random.Generator, batch: int, samples: int) -> np.ndarray:
    """(batch, 4, 2, samples) float32 stems of random crops (half remixed across songs)."""
    n_songs, _, _, length = data.shape
    out = np.empty((batch, len(STEMS), 2, samples), np.float32)
    for i in range(batch):
        same = rng.random() < 0.5
        song = int(rng.integers(n_songs))
        for k in range(len(STEMS)):
            s = song if same else int(rng.integers(n_songs))
            a = int(rng.integers(0, length - samples))
            x = data[s, k, :, a:a + samples].astype(np.float32)
            if rng.random() < 0.5:
                x = x[::-1]
            gain = 10 ** (rng.uniform(-6, 6) / 20)
            if rng.random() < (0.25 if k == 0 else 0.08):
                gain = 0.0  # instrumental passages, songs without a part
            out[i, k] = x * gain
    return out


def sdr(est: np.ndarray, ref: np.ndarray) -> float:
    ref = ref.astype(np.float64)
    err = ref - est.astype(np.float64)
    return float(10 * np.log10((np.sum(ref ** 2) + 1e-12) / (np.sum(err ** 2) + 1e-12)))


def evaluate(net, songs: list[Path]) -> dict[str, float]:
    from seedwave_plugins.stems.splitter import separate

    per: dict[str, list[float]] = {k: [] for k in STEMS}
    for p in songs:
        z = np.load(p)
        stems = {k: z[k].astype(np.float32) for k in STEMS}
        mix = sum(stems.values())
        est = separate(mix, net)
        for k in STEMS:
            if np.sum(stems[k] ** 2) > 1e-6:
                per[k].append(sdr(est[k], stems[k]))
    res = {k: float(np.mean(v)) for k, v in per.items()}
    res["mean"] = float(np.mean(list(res.values())))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="training.train_stems")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--songs", type=int, default=240)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--export", action="store_true", help="write plugins/stems/weights/splitter.safetensors")
    args = ap.parse_args(argv)

    import torch
    from seedwave_plugins.stems.splitter import DEFAULT_CONFIG, HOP, N_FFT, build

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    net = build()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step = resume(CKPT, net, opt)
    if args.export:
        return export(net, step)

    t0 = time.time()
    train_paths = build_stem_corpus(DATA / "stems", range(args.songs), SONG_SECONDS, TRAIN_SOUNDFONTS)
    dev_paths = build_stem_corpus(DATA / "stems-dev", DEV_SEEDS, SONG_SECONDS, TRAIN_SOUNDFONTS)
    held_paths = build_stem_corpus(DATA / "stems-heldout", HELD_OUT_SEEDS, SONG_SECONDS, HELD_OUT_SOUNDFONTS)
    print(f"corpus ready in {time.time() - t0:.0f} s", flush=True)
    data = load_corpus(train_paths)
    samples = (args.frames - 1) * HOP
    window = torch.hann_window(N_FFT)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"{n_params / 1e6:.2f} M parameters, config {DEFAULT_CONFIG}", flush=True)

    def lr_at(k: int) -> float:
        warm = 100
        if k < warm:
            return args.lr * (k + 1) / warm
        return float(args.lr * 0.5 * (1 + np.cos(np.pi * min(1.0, (k - warm) / max(1, args.steps - warm)))))

    def save() -> None:
        CKPT.parent.mkdir(parents=True, exist_ok=True)
        tmp = CKPT.with_suffix(".tmp")
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
        tmp.replace(CKPT)

    CKPT.parent.mkdir(parents=True, exist_ok=True)
    last_save = time.time()
    t_start, losses = time.time(), []
    net.train()
    while step < args.steps:
        rng = np.random.default_rng([args.seed, step])
        stems = torch.from_numpy(make_batch(data, rng, args.batch, samples))  # (B, S, 2, N)
        b = stems.shape[0]
        spec = torch.stft(stems.reshape(-1, samples), N_FFT, HOP, window=window, center=True, return_complex=True)
        spec = spec.reshape(b, len(STEMS), 2, spec.shape[-2], spec.shape[-1])
        mix = spec.sum(dim=1)
        mix_mag = mix.abs()
        target = spec.abs()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        masks = net(mix_mag)  # (B, S, F, T)
        est = masks[:, :, None] * mix_mag[:, None]
        ref = mix_mag.mean(dim=(1, 2, 3), keepdim=True)[:, None] + 1e-6
        loss = ((est - target).abs() / ref).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % 25 == 0:
            rate = (time.time() - t_start) / len(losses)
            rec = {"step": step, "loss": float(np.mean(losses[-25:])), "s_per_step": round(rate, 3),
                   "lr": lr_at(step), "time": time.time()}
            print(json.dumps(rec), flush=True)
            with LOG.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
        if step % args.save_every == 0 or time.time() - last_save > 180:
            save()
            last_save = time.time()
        if step % args.eval_every == 0 or step == args.steps:
            net.eval()
            rec = {"step": step, "dev": evaluate(net, dev_paths), "held_out": evaluate(net, held_paths)}
            net.train()
            print(json.dumps(rec), flush=True)
            with LOG.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
    save()
    return 0


def export(net, step: int) -> int:
    """Write the shipped weights (safetensors, with the config and step as metadata) and print the hash."""
    from seedwave_plugins.stems.splitter import DEFAULT_CONFIG, WEIGHTS

    digest, commit = save_weights(net, WEIGHTS, DEFAULT_CONFIG, step, "training/train_stems.py")
    write_card(digest, step, commit, sum(v.numel() for v in net.state_dict().values()))
    print(WEIGHTS, digest, f"step {step}")
    return 0


def write_card(digest: str, step: int, commit: str, n_params: int) -> None:
    """The model card next to the weights: data, objective, steps, loss, timings, licence, figures."""
    from seedwave_plugins.stems.splitter import CARD, DEFAULT_CONFIG, WEIGHTS

    recs = [json.loads(line) for line in LOG.read_text().splitlines()] if LOG.exists() else []
    train = [r for r in recs if "loss" in r and r["step"] <= step]
    evals = [r for r in recs if "dev" in r and r["step"] <= step]
    loss = f"{train[-1]['loss']:.4f} (mean of steps {train[-1]['step'] - 24}-{train[-1]['step']})" if train else "n/a"
    rate = float(np.median([r["s_per_step"] for r in train])) if train else 0.0
    wall = (train[-1]["time"] - train[0]["time"]) / 60 if len(train) > 1 else 0.0

    def fmt(d: dict) -> str:
        return ", ".join(f"{k} {v:.2f}" for k, v in d.items())

    ev = (f"- dev (training soundfonts, unseen seeds 1000-1005), SDR dB: {fmt(evals[-1]['dev'])}\n"
          f"- held out (TimGM6mb, MuseScore General; seeds 2000-2005), SDR dB: {fmt(evals[-1]['held_out'])}"
          if evals else "- (no evaluation logged)")
    CARD.write_text(f"""# Seedwave four-stem splitter: model card

- **File**: `{WEIGHTS.name}` ({WEIGHTS.stat().st_size:,} bytes, safetensors, float32; loaded without pickle)
- **SHA-256**: `{digest}`
- **Parameters**: {n_params:,}; config `{json.dumps(DEFAULT_CONFIG)}`
- **What it does**: softmax masks over vocals, drums, bass and other for a 44.1 kHz stereo mix
  (2048-point STFT, 512 hop, 192 bands). In Seedwave's default separation the vocals come from
  Spleeter and this model's drums, bass and other masks split the rest (docs/SEPARATION.md).
- **Training code**: `training/train_stems.py` (data: `training/corpus.py`), commit `{commit or "uncommitted"}`
  when exported; regenerate with `python -m training.train_stems --steps {step} --songs 160 --batch 6 --frames 160`
  then `--export`.
- **Data**: 160 procedurally written songs of 12 s (pretty_midi: random tempo, key, metre, style, chord
  progression; drums, bass, one to three other parts from most General MIDI families), each group rendered
  on its own by FluidSynth with FluidR3 GM (even seeds) or the Csound GM bank (odd seeds); vocals: espeak-ng
  phrases in 24 languages and accents with voice variants. Random 1.9 s crops, half remixed across songs,
  random gains, channel swaps, silent stems.
- **Objective**: L1 between the masked mixture magnitude and each true stem's magnitude (relative to the
  mixture's mean magnitude). AdamW, lr 1e-3, cosine decay, batch 6.
- **Steps**: {step}; final training loss {loss}.
- **Timing**: {wall:.0f} min of wall-clock training, median {rate:.2f} s per step, one CPU thread at
  `nice -n 19` on a 2-core machine shared with seven other jobs (about 0.3 s per step when the core is free).
  No GPU.
- **Evaluation during training** (step {evals[-1]['step'] if evals else 'n/a'}, whole 12 s songs):
{ev}
- **Benchmark**: docs/benchmarks/separation-models.md (against the old DSP split, Spleeter, the mixture).
- **Limits**: trained only on General MIDI renders and synthetic speech; no recorded multitrack music was
  available offline, so quality on real recordings is unmeasured. Drums and vocals are its strongest stems,
  bass and other the weakest; in the default pipeline Spleeter gives the vocals.
- **Licence**: MIT, the same as Seedwave. Training audio was generated from FluidR3 GM (MIT) and the Csound
  GM bank (Debian csound-soundfont; LGPL-2.1+ per its copyright file) soundfonts and espeak-ng (GPL-3.0; the
  speech it produces is not covered); TimGM6mb (GPL-2) and MuseScore General (MIT) were used only for
  evaluation. No third-party recordings.
""")


if __name__ == "__main__":
    raise SystemExit(main())
