"""Distil a 512² teacher into the CPU-sized 256² student.

A GAN as small as the student learns slowly and unstably against a discriminator;
a regression onto a trained teacher's images is a far easier problem (paired
latent → image). The student keeps the teacher's mapping network, so both share
one w space and the same style centres, and learns only the synthesis: L1 on
pixels at 256² plus a feature loss in the teacher discriminator's early layers,
which weights edges and texture the way the adversarial game did, where plain L1
would settle for the blur that averages them.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from models.cgan.data import random_styles
from models.cgan.networks import StyleDiscriminator, StyleGANConfig, StyleGenerator
from models.checkpoint import save_atomic, save_grid
from models.networks import GeneratorConfig, SynthesisNetwork


def distil(
    teacher_ckpt: Path,
    student_cfg: GeneratorConfig,
    out: Path,
    *,
    steps: int = 2000,
    minutes: float = 0.0,
    until: float = 0.0,
    batch: int = 16,
    lr: float = 0.002,
    feature_weight: float = 1.0,
    feature_blocks: int = 3,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> dict:
    ck = torch.load(teacher_ckpt, map_location=device, weights_only=False)
    tcfg = StyleGANConfig.from_dict(ck["config"])
    teacher = StyleGenerator(tcfg).to(device)
    teacher.load_state_dict({k: v.float() for k, v in ck["G_ema"].items()})
    teacher.eval().requires_grad_(False)
    disc = StyleDiscriminator(tcfg.generator.resolution, len(tcfg.styles), tcfg.d_channels).to(device)
    disc.load_state_dict({k: v.float() for k, v in ck["D"].items()})
    disc.eval().requires_grad_(False)
    if student_cfg.w_dim != tcfg.generator.w_dim or student_cfg.z_dim != tcfg.generator.z_dim:
        raise ValueError("the student must share the teacher's z and w sizes to share its mapping")

    torch.manual_seed(seed)
    scfg = StyleGANConfig(styles=tcfg.styles, generator=student_cfg, d_channels=tcfg.d_channels)
    student = StyleGenerator(scfg).to(device)
    student.mapping.load_state_dict(teacher.mapping.state_dict())
    student.w_avg.copy_(teacher.w_avg)
    student.mapping.requires_grad_(False)
    syn: SynthesisNetwork = student.synthesis
    ema = copy.deepcopy(syn).eval().requires_grad_(False)
    opt = torch.optim.Adam(syn.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8)
    tres, sres = tcfg.generator.resolution, student_cfg.resolution
    n = len(tcfg.styles)
    deadline = time.monotonic() + minutes * 60 if minutes > 0 else float("inf")
    if until > 0:
        deadline = min(deadline, time.monotonic() + until - time.time())
    history, step, seconds = [], 0, 0.0
    out.mkdir(parents=True, exist_ok=True)
    while step < steps and time.monotonic() < deadline:
        t0 = time.perf_counter()
        z = torch.randn(batch, tcfg.generator.z_dim, device=device)
        with torch.no_grad():
            w = teacher.mapping(z, random_styles(batch, n, device))
            target = teacher.synthesis(w)
            t_feats = disc.features(target, feature_blocks)
        img = syn(w)
        pix = (img - F.adaptive_avg_pool2d(target, sres)).abs().mean()
        up = F.interpolate(img, size=tres, mode="bilinear", align_corners=False) if sres != tres else img
        feat = sum((a - b).abs().mean() for a, b in zip(disc.features(up, feature_blocks), t_feats))
        loss = pix + feature_weight * feat
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), syn.parameters()):
                pe.lerp_(p, 1 - 0.999 if step > 500 else 1 - 0.9)
        step += 1
        seconds += time.perf_counter() - t0
        if step % 50 == 0 or step == 1:
            row = {"step": step, "pixel_l1": float(pix.detach()), "feature_l1": float(feat.detach())}
            history.append(row)
            print(json.dumps({**row, "s": round(seconds, 1)}), flush=True)
    student.synthesis = ema
    state = {
        "G_ema": student.state_dict(),
        "config": scfg.to_dict(),
        "step": step,
        "seconds": seconds,
        "history": history,
        "teacher": str(teacher_ckpt),
    }
    save_atomic(state, out / "checkpoint.pt")
    with torch.no_grad():
        fz = torch.randn(n * 4, tcfg.generator.z_dim, generator=torch.Generator().manual_seed(1234)).to(
            device
        )
        fc = F.one_hot(torch.arange(n * 4) % n, n).float().to(device)
        wf = teacher.mapping(fz, fc)
        pair = torch.cat(
            [F.adaptive_avg_pool2d(teacher.synthesis(wf), 128), F.adaptive_avg_pool2d(ema(wf), 128)]
        )
    save_grid(pair.float().cpu(), out / "distil_pairs.png", cols=n)  # teacher rows above student rows
    info = {
        "distil_steps": step,
        "distil_seconds": round(seconds, 1),
        "batch": batch,
        "teacher": str(teacher_ckpt),
    }
    (out / "training.json").write_text(json.dumps(info, indent=2))
    return info
