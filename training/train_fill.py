"""Pretrain the generative fill prior (plugins/fill/prior.py) on the generated corpus.

    nice -n 19 .venv/bin/python -m training.train_fill --steps 6000     # resumes if a checkpoint exists
    .venv/bin/python -m training.train_fill --export                    # write the shipped weights

Resumable and reproducible: the checkpoint (training/checkpoints/fill.pt, every
``--save-every`` steps, every few minutes and at exit) holds the model, the
optimiser and the step; the batch of step ``k`` is drawn from
``numpy.random.default_rng([seed, k])``, so a run stopped and resumed gives the
same weights as an uninterrupted one (same machine, torch version and thread
count). ``--device cuda`` trains on a GPU when one is lent.

Corpus (:func:`fill_corpus`, one mono channel per clip, 44.1 kHz, 12 s each; every
clip depends only on its seed):

* music: the stem corpus of training/train_stems.py (songs 0-159, FluidR3 GM and
  the Csound GM bank): per song the full mix (left), the mix without vocals
  (right) and one stem on its own; and 40 beatless orchestral pieces (seeds
  200-239, the same two soundfonts);
* speech: 100 espeak-ng clips (seeds 200-299: 24 languages and accents, voice
  variants, pitch and speed from the seed);
* noise: 60 noises and room tones (seeds 200-259: coloured noise, hum, drops, swells).

A quarter of the clips are band-limited through 16, 22.05 or 32 kHz and back, as
clips recorded at those rates look after the fill resamples them to 44.1 kHz.

Objective: random 256-frame crops (3 s), a span of 1-180 frames (12 ms to 2.1 s,
log-uniform) masked with at least 12 known frames each side; L1 between the
predicted and the true normalised log magnitude on the masked frames, plus 0.05
times it on the known frames. AdamW, warm-up then cosine decay.

Dev (never trained on): the held-out-soundfont songs of the splitter
(TimGM6mb, MuseScore General; seeds 2000-2005), speech seeds 900-905 and noise
seeds 900-905; masked L1 on fixed spans of 100 ms, 500 ms and 2 s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .checkpoint import load_checkpoint, resume, save_weights

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
CKPT = ROOT / "checkpoints" / "fill.pt"
LOG = ROOT / "checkpoints" / "fill-log.jsonl"
CKPT_RETRIEVAL = ROOT / "checkpoints" / "fill-retrieval.pt"
LOG_RETRIEVAL = ROOT / "checkpoints" / "fill-retrieval-log.jsonl"
CLIP_SECONDS = 12.0
FRAMES = 256
STAGE1_SCHEDULE = 10000  # the stage-1 run's schedule length (it stopped at 7000 steps)
LONG_FRAMES = 768  # with retrieval: the context (8.9 s) the copy is searched in, around the 256-frame crop
MAX_SPAN = 180
MIN_CONTEXT = 12
SONGS = range(160)
ORCHESTRAL_SEEDS = range(200, 240)
SPEECH_SEEDS = range(200, 300)
NOISE_SEEDS = range(200, 260)
DEV_SPEECH, DEV_NOISE = range(900, 906), range(900, 906)
DEV_SPANS = (9, 43, 172)  # 100 ms, 500 ms, 2 s in frames


def _band_limit(x: np.ndarray, seed: int) -> np.ndarray:
    """A quarter of the clips (by seed) through a lower rate and back."""
    import soxr

    from .corpus import RATE

    rng = np.random.default_rng(70_000 + seed)
    if rng.random() >= 0.25:
        return x
    low = int(rng.choice([16000, 22050, 32000]))
    y = soxr.resample(soxr.resample(x, RATE, low), low, RATE)
    return y[: x.size].astype(np.float32)


def _cached(path: Path, make) -> np.ndarray:
    if path.exists():
        return np.load(path)
    x = np.asarray(make(), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, x.astype(np.float16))
    tmp.rename(path)
    return x.astype(np.float16)


def fill_corpus(folder: Path = DATA / "fill") -> tuple[list[np.ndarray], list[str]]:
    """The training clips (mono float16 at 44.1 kHz) and their kinds; rendered once, then read from ``folder``."""
    from .corpus import STEMS, TRAIN_SOUNDFONTS, build_stem_corpus, noise_clip, orchestral_piece, speech_clip
    from .train_stems import SONG_SECONDS

    clips: list[np.ndarray] = []
    kinds: list[str] = []
    song_paths = build_stem_corpus(DATA / "stems", SONGS, SONG_SECONDS, TRAIN_SOUNDFONTS)
    for seed, p in zip(SONGS, song_paths):
        def songs(seed=seed, p=p):
            z = np.load(p)
            stems = {k: z[k].astype(np.float32) for k in STEMS}
            rng = np.random.default_rng(80_000 + seed)
            one = stems[STEMS[1 + int(rng.integers(3))]][int(rng.integers(2))]
            mix = sum(stems.values())
            inst = stems["drums"] + stems["bass"] + stems["other"]
            return np.stack([_band_limit(mix[0], seed), _band_limit(inst[1], seed + 1000),
                             _band_limit(one, seed + 2000)])
        arr = _cached(folder / f"song{seed:05d}.npy", songs)
        clips += list(arr)
        kinds += ["music"] * len(arr)
    for seed in ORCHESTRAL_SEEDS:
        sfont = TRAIN_SOUNDFONTS[seed % len(TRAIN_SOUNDFONTS)]
        arr = _cached(folder / f"orch{seed:05d}.npy",
                      lambda s=seed, f=sfont: _band_limit(orchestral_piece(s, CLIP_SECONDS, f)[0], s + 3000)[None])
        clips.append(arr[0])
        kinds.append("music")
    for seed in SPEECH_SEEDS:
        arr = _cached(folder / f"speech{seed:05d}.npy",
                      lambda s=seed: _band_limit(speech_clip(s, CLIP_SECONDS)[0], s + 4000)[None])
        clips.append(arr[0])
        kinds.append("speech")
    for seed in NOISE_SEEDS:
        arr = _cached(folder / f"noise{seed:05d}.npy",
                      lambda s=seed: _band_limit(noise_clip(s, CLIP_SECONDS)[0], s + 5000)[None])
        clips.append(arr[0])
        kinds.append("noise")
    return clips, kinds


def dev_corpus() -> list[tuple[str, np.ndarray]]:
    """Held-apart clips for the dev loss: other soundfonts, unseen voices and noises."""
    from .corpus import HELD_OUT_SOUNDFONTS, STEMS, build_stem_corpus, noise_clip, speech_clip
    from .train_stems import HELD_OUT_SEEDS, SONG_SECONDS

    out = []
    for p in build_stem_corpus(DATA / "stems-heldout", HELD_OUT_SEEDS, SONG_SECONDS, HELD_OUT_SOUNDFONTS):
        z = np.load(p)
        out.append(("music", sum(z[k].astype(np.float32) for k in STEMS)[0]))
    out += [("speech", speech_clip(s, CLIP_SECONDS)[0]) for s in DEV_SPEECH]
    out += [("noise", noise_clip(s, CLIP_SECONDS)[0]) for s in DEV_NOISE]
    return out


def make_batch(clips: list[np.ndarray], kinds: list[str], rng: np.random.Generator, batch: int,
               frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """(batch, samples) float32 crops and (batch, frames) float32 masks (1 = masked)."""
    from seedwave_plugins.fill.prior import HOP

    samples = (frames - 1) * HOP
    by_kind = {k: [i for i, kk in enumerate(kinds) if kk == k] for k in ("music", "speech", "noise")}
    weights = {"music": 0.55, "speech": 0.3, "noise": 0.15}
    names = list(weights)
    x = np.zeros((batch, samples), np.float32)
    m = np.zeros((batch, frames), np.float32)
    for i in range(batch):
        kind = names[int(rng.choice(len(names), p=[weights[k] for k in names]))]
        clip = clips[by_kind[kind][int(rng.integers(len(by_kind[kind])))]]
        a = int(rng.integers(0, max(1, clip.size - samples)))
        seg = clip[a:a + samples].astype(np.float32)
        x[i, :seg.size] = seg * float(10 ** (rng.uniform(-24, 6) / 20))
        span = int(np.clip(round(np.exp(rng.uniform(0, np.log(MAX_SPAN)))), 1, frames - 2 * MIN_CONTEXT))
        s0 = int(rng.integers(MIN_CONTEXT, frames - MIN_CONTEXT - span + 1))
        m[i, s0:s0 + span] = 1.0
    return x, m


def make_long_batch(clips: list[np.ndarray], kinds: list[str], rng: np.random.Generator, batch: int,
                    frames: int = FRAMES, long: int = LONG_FRAMES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a network with retrieval: each item is ``long`` frames of context (what the copy is
    searched in, as the fill searches the clip around the gap) with a ``frames`` crop the network
    sees; the masked span lies in the crop. ``(x (batch, samples), masks (batch, long), crop starts)``."""
    x, m = make_batch(clips, kinds, rng, batch, long)
    starts = np.zeros(batch, np.int64)
    for i in range(batch):
        span = min(int(m[i].sum()), frames - 2 * MIN_CONTEXT)
        # Move the span into a random crop: the crop starts anywhere, and the span lies inside it
        # with MIN_CONTEXT frames each side.
        c0 = int(rng.integers(0, long - frames + 1))
        s0 = int(rng.integers(c0 + MIN_CONTEXT, c0 + frames - MIN_CONTEXT - span + 1))
        m[i] = 0.0
        m[i, s0:s0 + span] = 1.0
        starts[i] = c0
    return x, m, starts


def masked_loss(net, x, m, window, known_weight: float = 0.05, starts=None, frames: int = FRAMES):
    """Mean L1 on the masked frames (plus ``known_weight`` of it elsewhere) of one batch."""
    import torch
    from seedwave_plugins.fill.prior import HOP, N_FFT, features, net_input

    spec = torch.stft(x, N_FFT, HOP, window=window, center=True, return_complex=True)
    feat, _, _ = features(spec.abs(), m < 0.5)
    if getattr(net, "retrieve", False):
        from seedwave_plugins.fill.prior import retrieval

        starts = np.zeros(x.shape[0], np.int64) if starts is None else starts
        frames = min(frames, feat.shape[2])
        retr = torch.stack([retrieval(feat[i:i + 1], m[i] > 0.5, span=(int(c0), int(c0) + frames))[0]
                            for i, c0 in enumerate(starts)])
        pick = torch.as_tensor(starts, device=x.device)[:, None] + torch.arange(frames, device=x.device)[None]
        feat = torch.gather(feat, 2, pick[:, None, :].expand(-1, feat.shape[1], -1))
        retr = torch.gather(retr, 2, pick[:, None, :].expand(-1, retr.shape[1], -1))
        m = torch.gather(m, 1, pick)
        pred = net(net_input(feat, m), retr)
    else:
        pred = net(net_input(feat, m))
    err = (pred - feat).abs().mean(dim=1)  # (B, T)
    w = m + known_weight * (1 - m)
    return (err * w).sum() / w.sum(), (err * m).sum() / m.sum().clamp_min(1.0)


def evaluate(net, dev: list[tuple[str, np.ndarray]], device) -> dict[str, float]:
    """Masked L1 (normalised log magnitude) per kind on fixed spans centred in fixed crops."""
    import torch
    from seedwave_plugins.fill.prior import HOP, N_FFT

    window = torch.hann_window(N_FFT, device=device)
    samples = (FRAMES - 1) * HOP
    long = LONG_FRAMES if getattr(net, "retrieve", False) else FRAMES
    per: dict[str, list[float]] = {}
    with torch.no_grad():
        for kind, clip in dev:
            for k, span in enumerate(DEV_SPANS):
                a = int((k + 1) * (clip.size - samples) / (len(DEV_SPANS) + 1))
                # With retrieval the network gets the same crop with the context around it to copy from.
                a_long = int(np.clip(a - (long - FRAMES) // 2 * HOP, 0, max(0, clip.size - (long - 1) * HOP)))
                a_long = a - (a - a_long) // HOP * HOP
                c0 = (a - a_long) // HOP
                seg = np.zeros((long - 1) * HOP, np.float32)
                part = clip[a_long:a_long + seg.size]
                seg[:part.size] = part
                x = torch.from_numpy(seg)
                m = torch.zeros(1, long, device=device)
                s0 = c0 + (FRAMES - span) // 2
                m[0, s0:s0 + span] = 1.0
                per.setdefault(kind, []).append(
                    float(masked_loss(net, x[None].to(device), m, window, starts=np.array([c0]))[1]))
    res = {k: round(float(np.mean(v)), 4) for k, v in per.items()}
    res["mean"] = round(float(np.mean(list(res.values()))), 4)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="training.train_fill")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--log", type=Path, default=None)
    ap.add_argument("--corpus", type=Path, default=DATA / "fill")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--stop-at", type=int, default=None,
                    help="stop (with a checkpoint) at this step; the schedule still runs to --steps")
    ap.add_argument("--export", action="store_true", help="write plugins/fill/weights/fill_prior.safetensors")
    ap.add_argument("--no-retrieval", action="store_true",
                    help="stage 1: the network without retrieval inputs (checkpoint fill.pt)")
    ap.add_argument("--init-from", type=Path, default=CKPT,
                    help="stage 2 starts from this stage-1 checkpoint (when it has no checkpoint of its own)")
    args = ap.parse_args(argv)

    import torch
    from seedwave_plugins.fill.prior import DEFAULT_CONFIG, build, upgraded

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    config = {**DEFAULT_CONFIG, "retrieval": not args.no_retrieval}
    net = build(config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    ckpt = args.checkpoint or (CKPT if args.no_retrieval else CKPT_RETRIEVAL)
    log = args.log or (LOG if args.no_retrieval else LOG_RETRIEVAL)
    step = resume(ckpt, net, opt)
    init = None
    if not args.no_retrieval:
        stage1 = load_checkpoint(args.init_from) if args.init_from.exists() else None
        init = {"path": str(args.init_from.name), "step": int(stage1["step"])} if stage1 else None
        if step == 0 and stage1 is not None:
            net.load_state_dict(upgraded(stage1["model"]))
            print(f"stage 2 starts from {args.init_from} (step {stage1['step']})", flush=True)
    if args.export:
        return export(net, step, log, total=args.steps, config=config, init=init)

    t0 = time.time()
    clips, kinds = fill_corpus(args.corpus)
    dev = [] if args.no_eval else dev_corpus()
    print(f"corpus: {len(clips)} clips ({', '.join(f'{k} {kinds.count(k)}' for k in sorted(set(kinds)))}) "
          f"ready in {time.time() - t0:.0f} s", flush=True)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"{n_params / 1e6:.2f} M parameters, config {config}", flush=True)

    train_steps(net, opt, clips, kinds, step, args.steps, seed=args.seed, batch=args.batch, lr=args.lr,
                device=device, checkpoint=ckpt, log=log, save_every=args.save_every,
                eval_every=args.eval_every, dev=dev, stop_at=args.stop_at)
    return 0


def lr_at(k: int, total: int, lr: float, warm: int = 200) -> float:
    """Learning rate of step ``k`` of ``total``: linear warm-up, then cosine decay to 5 %."""
    if k < warm:
        return lr * (k + 1) / warm
    done = min(1.0, (k - warm) / max(1, total - warm))
    return float(lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * done))))


def save_checkpoint(path: Path, net, opt, step: int) -> None:
    """Model, optimiser and step, written atomically."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
    tmp.replace(path)


def train_steps(net, opt, clips: list[np.ndarray], kinds: list[str], step: int, total: int, *, seed: int = 0,
                batch: int = 8, lr: float = 1e-3, device=None, checkpoint: Path | None = None,
                log: Path | None = None, save_every: int = 100, eval_every: int = 500,
                dev: list | None = None, frames: int = FRAMES, stop_at: int | None = None,
                warm: int = 200, long_frames: int = LONG_FRAMES) -> int:
    """Train from ``step`` towards ``total`` (the schedule's length), stopping at ``stop_at`` (default
    ``total``); the batch of step ``k`` depends only on ``seed`` and ``k``. Returns the step reached."""
    import torch
    from seedwave_plugins.fill.prior import N_FFT

    device = device or torch.device("cpu")
    window = torch.hann_window(N_FFT, device=device)
    end = total if stop_at is None else min(total, stop_at)
    last_save = time.time()
    t_start, losses = time.time(), []
    net.train()
    while step < end:
        rng = np.random.default_rng([seed, step])
        starts = None
        if getattr(net, "retrieve", False):
            xb, mb, starts = make_long_batch(clips, kinds, rng, batch, frames, long_frames)
        else:
            xb, mb = make_batch(clips, kinds, rng, batch, frames)
        x, m = torch.from_numpy(xb).to(device), torch.from_numpy(mb).to(device)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, lr, warm)
        loss, masked = masked_loss(net, x, m, window, starts=starts, frames=frames)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        losses.append(float(masked.detach()))
        if log is not None and step % 25 == 0:
            rate = (time.time() - t_start) / len(losses)
            rec = {"step": step, "loss": round(float(np.mean(losses[-25:])), 4), "s_per_step": round(rate, 3),
                   "lr": lr_at(step, total, lr, warm), "time": time.time(), "device": str(device)}
            print(json.dumps(rec), flush=True)
            with log.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
        if checkpoint is not None and (step % save_every == 0 or time.time() - last_save > 180):
            save_checkpoint(checkpoint, net, opt, step)
            last_save = time.time()
        if dev and (step % eval_every == 0 or step == total):
            net.eval()
            rec = {"step": step, "dev": evaluate(net, dev, device), "time": time.time()}
            net.train()
            print(json.dumps(rec), flush=True)
            if log is not None:
                with log.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
    if checkpoint is not None:
        save_checkpoint(checkpoint, net, opt, step)
    return step


def export(net, step: int, log: Path = LOG, total: int | None = None, compare: bool = True,
           config: dict | None = None, init: dict | None = None) -> int:
    """Write the shipped weights (safetensors, float16, with the config and step as metadata).

    ``init``: the stage-1 checkpoint a retrieval network started from (``path``, ``step``), for the card.
    """
    from seedwave_plugins.fill.prior import DEFAULT_CONFIG, WEIGHTS

    config = config or DEFAULT_CONFIG
    digest, commit = save_weights(net, WEIGHTS, config, step, "training/train_fill.py", half=True)
    ablation = ""
    if compare:
        # What pretraining adds: the dev loss of these weights against the untrained network's
        # (its baselines alone) and, for stage 2, against the stage-1 network it started from.
        import torch
        from seedwave_plugins.fill.prior import build

        dev = dev_corpus()
        cpu = torch.device("cpu")
        net.eval()
        trained, untrained = evaluate(net, dev, cpu), evaluate(build(config), dev, cpu)
        ablation = ("- Against the same network untrained (its baselines alone), same dev clips: "
                    f"{_scores(untrained)}; trained: {_scores(trained)}.\n")
        if init is not None and CKPT.exists():
            stage1 = build({**config, "retrieval": False})
            stage1.load_state_dict(load_checkpoint(CKPT)["model"])
            stage1.eval()
            ablation += (f"- The stage-1 network (step {init['step']}, no retrieval) on the same dev clips: "
                         f"{_scores(evaluate(stage1, dev, cpu))}.\n")
    write_card(digest, step, commit, sum(v.numel() for v in net.state_dict().values()), log, total, ablation,
               config, init)
    record_in_manifest(digest)
    print(WEIGHTS, digest, f"step {step}")
    return 0


def _scores(res: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in res.items())


def record_in_manifest(digest: str, manifest: Path | None = None) -> None:
    """Put ``digest`` in the fill plugin's manifest entry for the prior (``sha256 = [...]``)."""
    import re

    from seedwave_plugins.fill.prior import WEIGHTS

    manifest = manifest or WEIGHTS.parent.parent / "plugin.toml"
    if not manifest.is_file():
        print(f"no plugin manifest at {manifest}: SHA-256 not recorded there", flush=True)
        return
    text = manifest.read_text()
    new, n = re.subn(r'(id = "fill_prior"\n(?:(?!\[\[|\[)[^\n]*\n)*?sha256 = \[")[0-9a-f]{64}("\])',
                     lambda m: m.group(1) + digest + m.group(2), text)
    if n != 1:
        raise RuntimeError(f"{manifest}: no sha256 line in the fill_prior entry to update")
    manifest.write_text(new)


def _log_summary(log: Path, step: int) -> dict:
    """Training loss, timing and dev evaluations up to ``step`` from a run's log."""
    recs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    train = [r for r in recs if "loss" in r and r["step"] <= step]
    evals = [r for r in recs if "dev" in r and r["step"] <= step]
    return {
        "loss": f"{train[-1]['loss']:.4f} (mean of steps {train[-1]['step'] - 24}-{train[-1]['step']})" if train
        else "n/a",
        "rate": float(np.median([r["s_per_step"] for r in train])) if train else 0.0,
        "devices": ", ".join(sorted({r.get("device", "cpu") for r in train}) or ["cpu"]),
        "wall": sum(r["s_per_step"] * 25 for r in train) / 60 if train else 0.0,
        "evals": evals,
    }


def write_card(digest: str, step: int, commit: str, n_params: int, log: Path = LOG, total: int | None = None,
               ablation: str = "", config: dict | None = None, init: dict | None = None) -> None:
    """The model card next to the weights: data, objective, steps, loss, timings, licence."""
    from seedwave_plugins.fill.prior import CARD, DEFAULT_CONFIG, WEIGHTS

    config = config or DEFAULT_CONFIG
    run = _log_summary(log, step)
    evals = run["evals"]
    first = evals[0] if evals else None
    ev = (f"- masked L1 on held-apart clips (normalised log magnitude; lower is better), step {evals[-1]['step']}: "
          f"{_scores(evals[-1]['dev'])}"
          + (f" (step {first['step']}: mean {first['dev']['mean']:.3f})" if first is not evals[-1] else "")
          if evals else "- (no evaluation logged)")
    total = total if total is not None and total > step else step
    retrieval = bool(config.get("retrieval"))
    this = (f"python -m training.train_fill --steps {total}" + (f" --stop-at {step}" if total > step else ""))
    if retrieval and init is not None:
        s1 = _log_summary(LOG, init["step"])
        command = (f"`python -m training.train_fill --no-retrieval --steps {STAGE1_SCHEDULE} --stop-at {init['step']}`"
                   f" (stage 1), then `{this} --lr 5e-4 --threads 2` (stage 2), then the same with `--export`")
        steps = (f"stage 1 (no retrieval): {init['step']} steps, final loss {s1['loss']}, {s1['wall']:.0f} min on "
                 f"{s1['devices']} ({s1['rate']:.2f} s per step); stage 2 (retrieval, starting from stage 1 with the "
                 f"new inputs unused and the gate at one half): {step} steps, final loss {run['loss']}, "
                 f"{run['wall']:.0f} min on {run['devices']} ({run['rate']:.2f} s per step)")
    else:
        command = f"`{this}{'' if retrieval else ' --no-retrieval'}` then the same with `--export`"
        steps = (f"{step}; final training loss {run['loss']}; {run['wall']:.0f} min of training on {run['devices']}, "
                 f"median {run['rate']:.2f} s per step")
    what = ("as a learned correction to two baselines: each bin interpolated across the gap (settling towards "
            "the context's mean spectrum far from the edges, config `settle_frames`), and a copy of the stretch of "
            "the context whose surroundings match the gap's best (retrieval; the network also predicts a gate "
            "saying how far to trust the copy, from the copy, the context and the match's cost ratio)"
            if retrieval else
            "as a learned correction to a baseline: each bin interpolated across the gap, settling towards the "
            "context's mean spectrum far from the edges (config `settle_frames`)")
    CARD.write_text(f"""# Seedwave generative fill prior: model card

- **File**: `{WEIGHTS.name}` ({WEIGHTS.stat().st_size:,} bytes, safetensors, float16; loaded without pickle)
- **SHA-256**: `{digest}`
- **Parameters**: {n_params:,}; config `{json.dumps(config)}`
- **What it does**: predicts the log magnitude of masked STFT frames of one audio channel from the frames
  around them (44.1 kHz, 2048-point STFT, 512 hop; ±1.5 s receptive field), {what}. Fill's neural engine
  resamples each channel of a clip to 44.1 kHz, starts from these weights, fine-tunes a copy for a few steps
  on the clip's own context, predicts the gap's magnitudes and reconstructs phase against the known frames
  (plugins/fill/neural.py, docs/FILL.md).
- **Training code**: `training/train_fill.py` (data: `training/corpus.py`), commit `{commit or "uncommitted"}`
  when exported; regenerate with {command}.
  Deterministic from the seed and the thread count; resumable from `training/checkpoints/`.
- **Data** (all generated by the project, 12 s clips at 44.1 kHz, one channel each): 160 procedurally written
  songs rendered by FluidSynth with FluidR3 GM and the Csound GM bank (per song the mix, the mix without
  vocals and one stem), 40 beatless orchestral pieces, 100 espeak-ng speech clips in 24 languages and accents,
  60 noises and room tones; a quarter band-limited through 16, 22.05 or 32 kHz.
- **Objective**: masked-span inpainting: 3 s crops (with retrieval: inside 8.9 s of context that the copy is
  searched in), one span of 12 ms-2.1 s masked, L1 on the normalised log magnitude (masked frames, plus 0.05
  of it on the others). AdamW, warm-up and cosine decay, batch 8. No adversarial loss.
- **Steps**: {steps}.
{ev}
{ablation}
- **Held apart**: dev clips are songs rendered with TimGM6mb and MuseScore General (seeds 2000-2005),
  speech and noise seeds 900-905; the fill benchmark (bench/fill.py) uses other pieces, texts and noise.
- **Limits**: trained on General MIDI renders, synthetic speech and synthetic noise only; no recorded
  music or voices were available offline. Content above 22 kHz in clips at higher rates is not predicted by
  the network; the fill copies it from the retrieved stretch when there is one (docs/FILL.md).
- **Licence**: MIT, the same as Seedwave. Training audio was generated from FluidR3 GM (MIT) and the Csound
  GM bank (LGPL-2.1+) soundfonts and espeak-ng (GPL-3.0; the speech it produces is not covered); TimGM6mb
  (GPL-2) and MuseScore General (MIT) were used only for evaluation. No third-party recordings.
""")


if __name__ == "__main__":
    raise SystemExit(main())
