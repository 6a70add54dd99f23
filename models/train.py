"""Adversarial training of the style-based generator, progressive in resolution.

On a 2-core CPU a 256² GAN step costs seconds, so most of the steps are spent at
64² and 128² where the same network is 4–16× cheaper, and higher resolutions fade
in (ProGAN-style) once the coarse structure is learned. The stabilisers are
the StyleGAN2 ones: non-saturating logistic loss, lazy R1 on reals, an EMA of
the generator for sampling. Resume is exact: the checkpoint holds the weights, the
optimisers and every random stream at its position (models/checkpoint.py), so a
resumed run ends with the same weights, bit for bit, as one that never stopped.

    python -m models.train --data data/painterly --out models/painterly
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from models.checkpoint import plot_losses, restore_rng, rng_states, save_atomic, save_grid
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


class Trainer:
    """One training run: networks, optimisers, data, random streams and progress, in named steps.

    Everything that decides the next step's numbers lives on this object and goes into the
    checkpoint, so a run stopped at a checkpoint and resumed ends with the same weights, bit for
    bit, as one that never stopped (tests/models/test_training.py holds that).
    """

    def __init__(self, args: argparse.Namespace, cfg: GeneratorConfig | None = None) -> None:
        torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        self.args = args
        self.out: Path = args.out
        (self.out / "progress").mkdir(parents=True, exist_ok=True)
        self.schedule = parse_schedule(args.schedule)
        self.total = sum(p.steps for p in self.schedule)
        self.cfg = cfg or GeneratorConfig()
        self.G = Generator(self.cfg)
        # The shipped 256² net always has entries at 64 and 128; a smaller net gets its schedule's.
        entries = {
            r for r in (64, 128, 256, *(p.resolution for p in self.schedule)) if r <= self.cfg.resolution
        }
        self.D = ProgressiveDiscriminator(self.cfg.resolution, tuple(sorted(entries)))
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=args.lr, betas=(0.0, 0.99), eps=1e-8)
        r1_ratio = args.r1_every / (args.r1_every + 1)
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=args.lr * r1_ratio, betas=(0.0, 0.99**r1_ratio), eps=1e-8
        )
        self.step, self.history, self.seconds = 0, [], 0.0
        self.data_gen = torch.Generator().manual_seed(args.seed)
        self.ckpt_path = self.out / "checkpoint.pt"
        if self.ckpt_path.exists() and not args.restart:
            self.resume()
        self.data = load_images(args.data, self.cfg.resolution)
        self.fixed_z = torch.randn(32, self.cfg.z_dim, generator=torch.Generator().manual_seed(1234))

    def resume(self) -> None:
        ck = torch.load(self.ckpt_path, weights_only=False)
        for name in ("G", "D", "G_ema", "opt_g", "opt_d"):
            getattr(self, name).load_state_dict(ck[name])
        self.step, self.history, self.seconds = ck["step"], ck["history"], ck.get("seconds", 0.0)
        if isinstance(ck["rng"], dict):
            restore_rng(ck["rng"], self.data_gen)
        else:  # a checkpoint from before exact resume held only torch's global state
            torch.set_rng_state(ck["rng"])
            self.data_gen.manual_seed(self.args.seed + self.step)
            print("note: old checkpoint without the data generator's state: resume is not exact")
        print(f"resumed from {self.ckpt_path} at step {self.step}")

    def checkpoint(self) -> None:
        state = {name: getattr(self, name).state_dict() for name in ("G", "D", "G_ema", "opt_g", "opt_d")}
        state |= {
            "step": self.step,
            "history": self.history,
            "seconds": self.seconds,
            "rng": rng_states(self.data_gen),
            "config": self.cfg.to_dict(),
            "schedule": self.args.schedule,
        }
        save_atomic(state, self.ckpt_path)
        self.save_progress()

    def save_progress(self) -> None:
        """The loss plot and the EMA generator's samples on fixed latents, at the current phase."""
        plot_losses(self.history, self.out / "loss.png")
        with torch.no_grad():
            ph, alpha = phase_at(self.schedule, max(self.step - 1, 0))
            imgs = synthesize_at(self.G_ema, self.G_ema.mapping(self.fixed_z), ph.resolution, alpha)
            imgs = F.interpolate(imgs, size=128, mode="bilinear", align_corners=False)
        save_grid(imgs, self.out / "progress" / f"step_{self.step:06d}.png")

    def d_step(self, res: int, alpha: float) -> torch.Tensor:
        """Discriminator: logistic loss on fakes and reals, lazy R1 on reals every r1_every steps."""
        a, bs = self.args, self.args.batch
        z = torch.randn(bs, self.cfg.z_dim)
        with torch.no_grad():
            fake = synthesize_at(self.G, self.G.mapping(z), res, alpha)
        real = real_batch(self.data, bs, res, self.data_gen)
        do_r1 = self.step % a.r1_every == 0
        real.requires_grad_(do_r1)
        d_real = self.D(real, alpha)
        d_fake = self.D(fake, alpha)
        loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        if do_r1:
            gamma = a.r1_gamma * (res / 256) ** 2
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss_d = loss_d + r1 * (gamma / 2) * a.r1_every
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return loss_d.detach()

    def g_step(self, res: int, alpha: float) -> torch.Tensor:
        """Generator: non-saturating loss plus mode seeking, then w_avg and the EMA copy."""
        a, bs = self.args, self.args.batch
        z = torch.randn(bs, self.cfg.z_dim)
        w = self.G.mapping(z)
        fake = synthesize_at(self.G, w, res, alpha)
        loss_g = F.softplus(-self.D(fake, alpha)).mean()
        if a.diversity > 0:
            loss_g = loss_g + a.diversity * mode_seeking(fake, w)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        with torch.no_grad():
            self.G.w_avg.lerp_(w.mean(0), 0.005)
        nimg = (self.step + 1) * bs
        ema_nimg = min(a.ema_kimg * 1000, nimg * 0.1)
        update_ema(self.G_ema, self.G, 0.5 ** (bs / max(ema_nimg, 1e-8)))
        return loss_g.detach()

    def run(self, until: int | None = None) -> None:
        """Train to the end of the schedule; `until` stops early, as a crash after that step would."""
        stop = self.total if until is None else min(until, self.total)
        bar = tqdm(total=self.total, initial=self.step, unit="step", dynamic_ncols=True)
        while self.step < stop:
            t0 = time.perf_counter()
            ph, alpha = phase_at(self.schedule, self.step)
            res = ph.resolution
            loss_d = self.d_step(res, alpha)
            loss_g = self.g_step(res, alpha)
            # From the schedule, not from the previous loop turn, so a resumed run logs the same.
            phase_start = self.step > 0 and phase_at(self.schedule, self.step - 1)[0].resolution != res
            self.step += 1
            self.seconds += time.perf_counter() - t0
            self.history.append(
                {
                    "step": self.step,
                    "loss_g": float(loss_g),
                    "loss_d": float(loss_d),
                    "res": res,
                    "phase_start": phase_start,
                }
            )
            bar.set_postfix(res=res, a=f"{alpha:.2f}", g=f"{float(loss_g):.2f}", d=f"{float(loss_d):.2f}")
            bar.update(1)
            if self.step % self.args.checkpoint_every == 0 or self.step == self.total:
                self.checkpoint()
        bar.close()
        if until is None:
            self.write_summary()

    def write_summary(self) -> None:
        a = self.args
        summary = {
            "steps": self.step,
            "images_seen": self.step * a.batch,
            "train_seconds": round(self.seconds, 1),
            "schedule": a.schedule,
            "batch": a.batch,
            "threads": a.threads,
        }
        (self.out / "training.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary))


def train(args: argparse.Namespace, cfg: GeneratorConfig | None = None) -> None:
    Trainer(args, cfg).run()


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
