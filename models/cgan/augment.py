"""DiffAugment (Zhao et al. 2020): the same differentiable augmentations on real and fake.

With a few thousand images a discriminator memorises the data and its gradient stops
teaching the generator anything. Augmenting both sides, differentiably so the
generator's gradient passes through, keeps it honest without leaking the
augmentations into the generated images (they would leak if only reals were
augmented). Colour, translation by up to 1/8 and a cutout of 1/4, as in the paper.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _color(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    rand = torch.rand(b, 3, 1, 1, device=x.device, dtype=x.dtype)
    x = x + (rand[:, :1] - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (rand[:, 1:2] * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (rand[:, 2:3] + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy.unsqueeze(0) + ty + 1).clamp(0, h + 1)
    gx = (gx.unsqueeze(0) + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1))  # the border row/column is zero: shifted-in pixels are black
    idx = (gy * (w + 2) + gx).view(b, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, idx).view_as(x)


def _cutout(x: torch.Tensor, ratio: float = 0.25) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    gy = torch.arange(h, device=x.device).view(1, h, 1)
    gx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((gy - cy).abs() <= ch // 2) & ((gx - cx).abs() <= cw // 2)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...] = POLICIES) -> torch.Tensor:
    for name in policy:
        x = _OPS[name](x)
    return x


def parse_policy(text: str) -> tuple[str, ...]:
    """'color,translation,cutout' → the ops; '' or 'none' → no augmentation."""
    if text.strip().lower() in ("", "none"):
        return ()
    names = tuple(p.strip() for p in text.split(","))
    bad = [n for n in names if n not in _OPS]
    if bad:
        raise ValueError(f"unknown DiffAugment op(s) {bad}; known: {', '.join(POLICIES)}")
    return names
