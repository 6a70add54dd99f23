"""Adversarial training of the style-based generator, progressive in resolution.

On a 2-core CPU a 256² GAN step costs seconds, so most of the steps are spent at
64² and 128² where the same network is 4–16× cheaper, and higher resolutions fade
in (ProGAN-style) once the coarse structure is learned. The stabilisers are
the StyleGAN2 ones: non-saturating logistic loss, lazy R1 on reals, an EMA of
the generator for sampling. Resume is exact: everything lives in one checkpoint.

    python -m models.train --data data/painterly --out models/painterly
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from models.networks import Generator, GeneratorConfig
from models.progressive import ProgressiveDiscriminator, synthesize_at


@dataclass(frozen=True)
class Phase:
    resolution: int
    steps: int
    fade_steps: int


def parse_schedule(text: str) -> list[Phase]:
    """'64:1200,128:900:300,256:900:300' → phases (resolution:steps[:fade])."""
    phases = []
    for part in text.split(","):
        bits = [int(b) for b in part.split(":")]
        phases.append(Phase(bits[0], bits[1], bits[2] if len(bits) > 2 else 0))
    return phases


def phase_at(schedule: list[Phase], step: int) -> tuple[Phase, float]:
    start = 0
    for ph in schedule:
        if step < start + ph.steps:
            local = step - start
            alpha = 1.0 if ph.fade_steps == 0 else min(1.0, (local + 1) / ph.fade_steps)
            return ph, alpha
        start += ph.steps
    return schedule[-1], 1.0


def load_images(folder: Path, size: int) -> torch.Tensor:
    """All training images as uint8 NCHW in memory (4000 × 256² × 3 is 0.8 GB)."""
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not files:
        raise SystemExit(f"error: no .png/.jpg images in --data {folder}")
    arr = np.zeros((len(files), size, size, 3), np.uint8)
    for i, f in enumerate(tqdm(files, desc="loading", unit="img", leave=False)):
        img = Image.open(f).convert("RGB")
        if img.size != (size, size):
            img = img.resize((size, size), Image.LANCZOS)
        arr[i] = np.asarray(img)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def real_batch(data: torch.Tensor, batch: int, res: int, gen: torch.Generator) -> torch.Tensor:
    idx = torch.randint(0, data.shape[0], (batch,), generator=gen)
    x = data[idx].float() / 127.5 - 1
    flip = torch.rand(batch, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    if x.shape[-1] != res:
        x = F.adaptive_avg_pool2d(x, res)
    return x


def save_grid(images: torch.Tensor, path: Path, cols: int = 8) -> None:
    from PIL import Image

    imgs = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n, h, w, _ = imgs.shape
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, im in enumerate(imgs):
        grid[(i // cols) * h : (i // cols + 1) * h, (i % cols) * w : (i % cols + 1) * w] = im
    Image.fromarray(grid).save(path)


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(8, 4))
    for key in ("loss_g", "loss_d"):
        vals = np.array([h[key] for h in history])
        k = max(1, len(vals) // 50)
        smooth = np.convolve(vals, np.ones(k) / k, mode="same")
        ax.plot(steps, smooth, label=key)
    for h in history:
        if h.get("phase_start"):
            ax.axvline(h["step"], color="grey", lw=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (smoothed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mode_seeking(images: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """MSGAN's term (Mao et al. 2019): penalise images that differ less than their latents.

    Short CPU trainings collapse easily onto one layout painted in many colours;
    asking two latents' images to stay apart in proportion to the latents keeps
    the whole data's variety in play.
    """
    h = images.shape[0] // 2
    # Compare structure, not colour: luminance with each image's mean and contrast removed. On raw RGB
    # the generator met the term by recolouring one shared layout.
    lum = images.mean(dim=1)
    lum = (lum - lum.mean(dim=(1, 2), keepdim=True)) / (lum.std(dim=(1, 2), keepdim=True) + 1e-4)
    d_img = (lum[:h] - lum[h : 2 * h]).abs().mean(dim=(1, 2))
    d_w = (w[:h] - w[h : 2 * h]).abs().mean(dim=1)
    return 1.0 / ((d_img / (d_w + 1e-5)).mean() + 1e-5)


def update_ema(ema: Generator, g: Generator, beta: float) -> None:
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), g.parameters()):
            pe.lerp_(p, 1 - beta)
        for be, b in zip(ema.buffers(), g.buffers()):
            be.copy_(b)


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out: Path = args.out
    (out / "progress").mkdir(parents=True, exist_ok=True)
    schedule = parse_schedule(args.schedule)
    total = sum(p.steps for p in schedule)
    cfg = GeneratorConfig()
    G = Generator(cfg)
    D = ProgressiveDiscriminator(cfg.resolution)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.0, 0.99), eps=1e-8)
    r1_ratio = args.r1_every / (args.r1_every + 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr * r1_ratio, betas=(0.0, 0.99**r1_ratio), eps=1e-8)
    step, history, seconds = 0, [], 0.0
    ckpt_path = out / "checkpoint.pt"
    if ckpt_path.exists() and not args.restart:
        ck = torch.load(ckpt_path, weights_only=False)
        G.load_state_dict(ck["G"])
        D.load_state_dict(ck["D"])
        G_ema.load_state_dict(ck["G_ema"])
        opt_g.load_state_dict(ck["opt_g"])
        opt_d.load_state_dict(ck["opt_d"])
        step, history, seconds = ck["step"], ck["history"], ck.get("seconds", 0.0)
        torch.set_rng_state(ck["rng"])
        print(f"resumed from {ckpt_path} at step {step}")
    data = load_images(args.data, cfg.resolution)
    data_gen = torch.Generator().manual_seed(args.seed + step)
    fixed_z = torch.Generator().manual_seed(1234)
    fixed_z = torch.randn(32, cfg.z_dim, generator=fixed_z)
    bs = args.batch

    def checkpoint() -> None:
        torch.save(
            {
                "G": G.state_dict(),
                "D": D.state_dict(),
                "G_ema": G_ema.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "step": step,
                "history": history,
                "seconds": seconds,
                "rng": torch.get_rng_state(),
                "config": cfg.to_dict(),
                "schedule": args.schedule,
            },
            out / "checkpoint.tmp",
        )
        (out / "checkpoint.tmp").replace(ckpt_path)
        plot_losses(history, out / "loss.png")
        with torch.no_grad():
            ph, alpha = phase_at(schedule, max(step - 1, 0))
            imgs = synthesize_at(G_ema, G_ema.mapping(fixed_z), ph.resolution, alpha)
            imgs = F.interpolate(imgs, size=128, mode="bilinear", align_corners=False)
        save_grid(imgs, out / "progress" / f"step_{step:06d}.png")

    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True)
    prev_res = None
    while step < total:
        t0 = time.perf_counter()
        ph, alpha = phase_at(schedule, step)
        res = ph.resolution
        # discriminator step
        z = torch.randn(bs, cfg.z_dim)
        with torch.no_grad():
            fake = synthesize_at(G, G.mapping(z), res, alpha)
        real = real_batch(data, bs, res, data_gen)
        do_r1 = step % args.r1_every == 0
        real.requires_grad_(do_r1)
        d_real = D(real, alpha)
        d_fake = D(fake, alpha)
        loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        if do_r1:
            gamma = args.r1_gamma * (res / 256) ** 2
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss_d = loss_d + r1 * (gamma / 2) * args.r1_every
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # generator step
        z = torch.randn(bs, cfg.z_dim)
        w = G.mapping(z)
        fake = synthesize_at(G, w, res, alpha)
        loss_g = F.softplus(-D(fake, alpha)).mean()
        if args.diversity > 0:
            loss_g = loss_g + args.diversity * mode_seeking(fake, w)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        with torch.no_grad():
            G.w_avg.lerp_(w.mean(0), 0.005)
        nimg = (step + 1) * bs
        ema_nimg = min(args.ema_kimg * 1000, nimg * 0.1)
        update_ema(G_ema, G, 0.5 ** (bs / max(ema_nimg, 1e-8)))
        step += 1
        seconds += time.perf_counter() - t0
        history.append(
            {
                "step": step,
                "loss_g": float(loss_g.detach()),
                "loss_d": float(loss_d.detach()),
                "res": res,
                "phase_start": prev_res is not None and prev_res != res,
            }
        )
        prev_res = res
        bar.set_postfix(res=res, a=f"{alpha:.2f}", g=f"{float(loss_g):.2f}", d=f"{float(loss_d):.2f}")
        bar.update(1)
        if step % args.checkpoint_every == 0 or step == total:
            checkpoint()
    bar.close()
    summary = {
        "steps": step,
        "images_seen": step * bs,
        "train_seconds": round(seconds, 1),
        "schedule": args.schedule,
        "batch": bs,
        "threads": args.threads,
    }
    (out / "training.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))


def main() -> None:
    ap = argparse.ArgumentParser(description="Train the style-based GAN on a folder of images.")
    ap.add_argument("--data", type=Path, required=True, help="folder of .png/.jpg training images")
    ap.add_argument("--out", type=Path, required=True, help="run folder: checkpoint, samples, loss plot")
    ap.add_argument(
        "--schedule",
        default="64:1400,128:1100:300,256:1500:300",
        help="progressive phases res:steps[:fade_steps], comma separated",
    )
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--diversity", type=float, default=2.0, help="weight of the mode-seeking term (0 = off)")
    ap.add_argument("--r1-gamma", type=float, default=1.0, help="R1 weight at 256² (scaled by res²)")
    ap.add_argument("--r1-every", type=int, default=16, help="lazy R1 interval")
    ap.add_argument("--ema-kimg", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    train(ap.parse_args())


if __name__ == "__main__":
    main()
