"""One conditional GAN training run, bounded by steps or by wall-clock minutes.

A lent GPU comes with minutes, not steps, so a run can be given a time budget
and ends cleanly at it with a checkpoint. On a CPU the same code trains a toy at
64² (the tests); nothing here knows which device it is on beyond `device`.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from models.cgan.augment import diff_augment
from models.cgan.data import StyleData, paired_styles, random_styles
from models.cgan.networks import StyleDiscriminator, StyleGANConfig, StyleGenerator
from models.checkpoint import plot_losses, save_atomic, save_grid
from models.train import mode_seeking, update_ema


@dataclass(frozen=True)
class TrainSettings:
    batch: int = 32
    lr_g: float = 0.002
    lr_d: float = 0.002
    r1_gamma: float = 1.0  # at 256², scaled by resolution²
    r1_every: int = 16
    recon: float = 1.0  # weight of the discriminator's reconstruction loss
    augment: tuple[str, ...] = ("color", "translation", "cutout")
    ema_kimg: float = 10.0
    ema_rampup: float = 0.05
    # MSGAN's mode-seeking weight (0 = off), between pairs of one style. Without it the first GPU
    # students drew one cell layout in every style and recoloured it (docs/gpu/README.md), the same
    # collapse painterly met and this term cured there.
    diversity: float = 2.0
    steps: int = 10_000
    minutes: float = 0.0  # > 0: stop at this wall-clock budget, whichever comes first
    until: float = 0.0  # > 0: stop at this time.time(), a lease's hard end, painting included
    checkpoint_every: int = 1000
    seed: int = 0


class StyleTrainer:
    def __init__(self, cfg: StyleGANConfig, data: StyleData, out: Path, s: TrainSettings) -> None:
        if data.families != cfg.styles:
            raise ValueError(f"data families {data.families} differ from the model's styles {cfg.styles}")
        self.cfg, self.data, self.out, self.s = cfg, data, out, s
        self.device = data.images.device
        torch.manual_seed(s.seed)
        self.res = cfg.generator.resolution
        self.G = StyleGenerator(cfg).to(self.device)
        self.D = StyleDiscriminator(self.res, len(cfg.styles), cfg.d_channels).to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        ratio = s.r1_every / (s.r1_every + 1)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=(0.0, 0.99), eps=1e-8)
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=s.lr_d * ratio, betas=(0.0, 0.99**ratio), eps=1e-8
        )
        self.data_gen = torch.Generator(device=self.device).manual_seed(s.seed)
        self.step, self.seconds, self.history = 0, 0.0, []
        n = len(cfg.styles)
        fixed = torch.Generator().manual_seed(1234)
        self.fixed_z = torch.randn(n * 4, cfg.generator.z_dim, generator=fixed).to(self.device)
        self.fixed_c = F.one_hot(torch.arange(n * 4) % n, n).float().to(self.device)
        out.mkdir(parents=True, exist_ok=True)

    def d_step(self) -> dict[str, torch.Tensor]:
        s, bs = self.s, self.s.batch
        z = torch.randn(bs, self.cfg.generator.z_dim, device=self.device)
        c_fake = random_styles(bs, len(self.cfg.styles), self.device)
        with torch.no_grad():
            fake = self.G(z, c_fake)
        real, c_real = self.data.batch(bs, self.res, self.data_gen)
        do_r1 = self.step % s.r1_every == 0
        real_aug = diff_augment(real, s.augment).detach().requires_grad_(do_r1)
        d_real, recon = self.D(real_aug, c_real, reconstruct=s.recon > 0)
        d_fake, _ = self.D(diff_augment(fake, s.augment), c_fake)
        loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        out = {"loss_d": loss.detach()}
        if recon is not None:
            target = F.adaptive_avg_pool2d(real_aug.detach(), recon.shape[-1])
            rec = (recon - target).abs().mean()
            loss = loss + s.recon * rec
            out["recon"] = rec.detach()
        if do_r1:
            (grad,) = torch.autograd.grad(d_real.sum(), real_aug, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss = loss + r1 * (s.r1_gamma * (self.res / 256) ** 2 / 2) * s.r1_every
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return out

    def g_step(self) -> dict[str, torch.Tensor]:
        s, bs = self.s, self.s.batch
        z = torch.randn(bs, self.cfg.generator.z_dim, device=self.device)
        c = paired_styles(bs, len(self.cfg.styles), self.device)
        w = self.G.mapping(z, c)
        fake = self.G.synthesis(w)
        d_fake, _ = self.D(diff_augment(fake, s.augment), c)
        loss = F.softplus(-d_fake).mean()
        if s.diversity > 0 and bs >= 2:
            loss = loss + s.diversity * mode_seeking(fake, w)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        nimg = (self.step + 1) * bs
        ema_nimg = min(s.ema_kimg * 1000, nimg * s.ema_rampup)
        update_ema(self.G_ema, self.G, 0.5 ** (bs / max(ema_nimg, 1e-8)))
        return {"loss_g": loss.detach()}  # tensors: reading them would wait for the GPU each step

    def run(self) -> dict:
        s = self.s
        deadline = time.monotonic() + s.minutes * 60 if s.minutes > 0 else float("inf")
        if s.until > 0:
            deadline = min(deadline, time.monotonic() + s.until - time.time())
        log_every = 50
        while self.step < s.steps and time.monotonic() < deadline:
            t0 = time.perf_counter()
            row = self.d_step() | self.g_step()
            self.step += 1
            self.seconds += time.perf_counter() - t0
            if self.step % log_every == 0 or self.step == 1:
                row = {k: round(float(v), 4) for k, v in row.items()}
                self.history.append({"step": self.step, **row})
                print(json.dumps({"step": self.step, "s": round(self.seconds, 1), **row}), flush=True)
            if self.step % s.checkpoint_every == 0:
                self.checkpoint()
        self.compute_style_centres()
        self.checkpoint()
        return self.summary()

    @torch.no_grad()
    def compute_style_centres(self, per_style: int = 4096) -> None:
        """Each style's mean w: the engine's truncation centre and the point a style crossfade moves to."""
        n, zd = len(self.cfg.styles), self.cfg.generator.z_dim
        for k in range(n):
            z = torch.randn(per_style, zd, device=self.device)
            c = F.one_hot(torch.full((per_style,), k, device=self.device), n).float()
            self.G_ema.w_avg[k] = self.G_ema.mapping(z, c).mean(0)
        self.G.w_avg.copy_(self.G_ema.w_avg)

    def checkpoint(self) -> None:
        state = {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "history": self.history,
            "config": self.cfg.to_dict(),
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self.s).items()},
        }
        save_atomic(state, self.out / "checkpoint.pt")
        if self.history:
            plot_losses(self.history, self.out / "loss.png")
        with torch.no_grad():
            imgs = self.G_ema(self.fixed_z, self.fixed_c)
            imgs = F.interpolate(imgs, size=128, mode="area").float().cpu()
        save_grid(imgs, self.out / "progress.png", cols=len(self.cfg.styles))

    def summary(self) -> dict:
        info = {
            "steps": self.step,
            "images_seen": self.step * self.s.batch,
            "train_seconds": round(self.seconds, 1),
            "resolution": self.res,
            "batch": self.s.batch,
            "device": str(self.device),
            "styles": list(self.cfg.styles),
        }
        (self.out / "training.json").write_text(json.dumps(info, indent=2))
        return info


def load_generator(path: Path, device: str | torch.device = "cpu", ema: bool = True) -> StyleGenerator:
    ck = torch.load(path, map_location=device, weights_only=False)
    g = StyleGenerator(StyleGANConfig.from_dict(ck["config"])).to(device)
    g.load_state_dict({k: v.float() for k, v in ck["G_ema" if ema else "G"].items()})
    return g.eval()
