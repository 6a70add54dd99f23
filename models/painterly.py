"""Procedural painterly imagery: the training data of the default model.

The project cannot download a dataset at run time, and images an artist would
project (fluid marbling, watercolour blots, stained glass, contour paintings,
brushed flow fields) can be painted by code. Every image is a deterministic
function of its seed, so `python -m models.painterly --out DIR --count N --seed S`
rebuilds the exact training set; its license is the project's own.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

STYLES = ("marble", "watercolour", "glass", "contour", "brushed")


def fbm(
    gen: torch.Generator, b: int, c: int, size: int, base: int, octaves: int, gain: float = 0.5
) -> torch.Tensor:
    """Fractal noise in about [-1, 1] from bicubically upsampled random grids."""
    out = torch.zeros(b, c, size, size)
    amp, total, cells = 1.0, 0.0, base
    for _ in range(octaves):
        grid = torch.randn(b, c, cells + 3, cells + 3, generator=gen)
        up = F.interpolate(grid, size=(size + size // cells * 3,) * 2, mode="bicubic", align_corners=False)
        off = size // cells
        out += amp * up[:, :, off : off + size, off : off + size]
        total += amp
        amp *= gain
        cells *= 2
        if cells > size // 2:
            break
    return out / total


def identity_grid(b: int, size: int) -> torch.Tensor:
    lin = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    return torch.stack([xx, yy], dim=-1).expand(b, size, size, 2).clone()


def warp(img: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Sample img at identity + offset (offset: [B, 2, H, W])."""
    grid = identity_grid(img.shape[0], img.shape[-1]) + offset.permute(0, 2, 3, 1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def cosine_palette(gen: torch.Generator, b: int) -> tuple[torch.Tensor, ...]:
    """Random cosine palettes (a + b·cos(2π(c·t + d))), biased toward rich colour."""
    a = 0.35 + 0.3 * torch.rand(b, 3, 1, 1, generator=gen)
    bb = 0.2 + 0.3 * torch.rand(b, 3, 1, 1, generator=gen)
    c = 0.5 + 1.0 * torch.rand(b, 3, 1, 1, generator=gen)
    d = torch.rand(b, 3, 1, 1, generator=gen)
    return a, bb, c, d


def apply_palette(t: torch.Tensor, pal: tuple[torch.Tensor, ...]) -> torch.Tensor:
    a, b, c, d = pal
    return a + b * torch.cos(2 * math.pi * (c * t + d))


def normalise(t: torch.Tensor) -> torch.Tensor:
    lo = t.amin(dim=(1, 2, 3), keepdim=True)
    hi = t.amax(dim=(1, 2, 3), keepdim=True)
    return (t - lo) / (hi - lo + 1e-6)


def marble(gen: torch.Generator, b: int, s: int) -> torch.Tensor:
    base = fbm(gen, b, 1, s, 3, 6)
    q = fbm(gen, b, 2, s, 2, 4)
    strength = 0.3 + 0.5 * torch.rand(b, 1, 1, 1, generator=gen)
    r = warp(fbm(gen, b, 2, s, 2, 5), strength * q)
    t = warp(base, strength * 1.5 * r)
    return apply_palette(normalise(t) * 1.5, cosine_palette(gen, b))


def watercolour(gen: torch.Generator, b: int, s: int) -> torch.Tensor:
    paper = 0.85 + 0.1 * torch.rand(b, 3, 1, 1, generator=gen)
    img = paper.expand(b, 3, s, s).clone()
    pal = cosine_palette(gen, b)
    for layer in range(4):
        n = warp(fbm(gen, b, 1, s, 2, 6), 0.2 * fbm(gen, b, 2, s, 3, 3))
        thr = 0.05 + 0.2 * torch.rand(b, 1, 1, 1, generator=gen)
        mask = torch.sigmoid((n - thr) * 25)
        edge = torch.sigmoid((n - thr) * 60) - torch.sigmoid((n - thr - 0.04) * 60)
        colour = apply_palette(
            torch.full((b, 1, 1, 1), layer / 4.0) + 0.3 * torch.rand(b, 1, 1, 1, generator=gen), pal
        )
        alpha = (0.35 + 0.3 * mask * (1 + 0.5 * fbm(gen, b, 1, s, 16, 3))) * mask + 0.25 * edge
        img = img * (1 - alpha) + img * colour * alpha  # multiplicative glaze, like pigment
    return img


def glass(gen: torch.Generator, b: int, s: int) -> torch.Tensor:
    n = int(12 + 30 * torch.rand(1, generator=gen).item())
    pts = torch.rand(b, n, 2, generator=gen) * 2 - 1
    grid = identity_grid(b, s) + 0.15 * fbm(gen, b, 2, s, 3, 4).permute(0, 2, 3, 1)
    d = torch.cdist(grid.reshape(b, -1, 2), pts)  # [B, HW, n]
    two = d.topk(2, dim=-1, largest=False).values
    idx = d.argmin(dim=-1)
    cell_t = torch.rand(b, n, generator=gen)
    t = torch.gather(cell_t, 1, idx).reshape(b, 1, s, s)
    colour = apply_palette(t, cosine_palette(gen, b))
    shade = 0.85 + 0.15 * fbm(gen, b, 1, s, 8, 4)
    lead = torch.sigmoid(((two[..., 1] - two[..., 0]).reshape(b, 1, s, s) - 0.02) * 200)
    return colour * shade * (0.1 + 0.9 * lead)


def contour(gen: torch.Generator, b: int, s: int) -> torch.Tensor:
    t = normalise(warp(fbm(gen, b, 1, s, 2, 5), 0.3 * fbm(gen, b, 2, s, 2, 4)))
    bands = 5 + torch.randint(0, 10, (b, 1, 1, 1), generator=gen).float()
    stepped = torch.floor(t * bands) / bands
    frac = t * bands - torch.floor(t * bands)
    line = torch.sigmoid((0.08 - torch.minimum(frac, 1 - frac)) * 60)
    colour = apply_palette(stepped, cosine_palette(gen, b))
    return colour * (1 - 0.6 * line)


def brushed(gen: torch.Generator, b: int, s: int) -> torch.Tensor:
    flow = fbm(gen, b, 1, s, 2, 3) * math.pi * 2
    direction = torch.cat([torch.cos(flow), torch.sin(flow)], dim=1) * (2.0 / s)
    colour = apply_palette(normalise(fbm(gen, b, 1, s, 2, 4)) * 1.2, cosine_palette(gen, b))
    bristles = fbm(gen, b, 1, s, 64, 2)
    paint = torch.cat([colour, bristles], dim=1)
    acc = torch.zeros_like(paint)
    steps = 12
    for k in range(-steps, steps + 1):  # smear along the flow: strokes
        acc += warp(paint, direction * k * 1.5)
    acc /= 2 * steps + 1
    return acc[:, :3] * (0.8 + 0.5 * acc[:, 3:4])


PAINTERS = {
    "marble": marble,
    "watercolour": watercolour,
    "glass": glass,
    "contour": contour,
    "brushed": brushed,
}


def paint_batch(seed: int, count: int, size: int = 256) -> tuple[np.ndarray, list[str]]:
    """`count` images of one batch seed as uint8 [N, H, W, 3], and their style names."""
    gen = torch.Generator().manual_seed(seed)
    styles = [STYLES[int(i)] for i in torch.randint(0, len(STYLES), (count,), generator=gen)]
    out = np.zeros((count, size, size, 3), np.uint8)
    for style in set(styles):
        idx = [i for i, s in enumerate(styles) if s == style]
        img = PAINTERS[style](gen, len(idx), size)
        vignette = 1 - 0.25 * identity_grid(1, size).square().sum(-1).unsqueeze(1)
        img = (img * vignette).clamp(0, 1)
        out[idx] = (img.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    return out, styles


def main() -> None:
    from PIL import Image
    from tqdm import tqdm

    ap = argparse.ArgumentParser(description="Paint the procedural training set.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=4000)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    batch = 40
    with tqdm(total=args.count, unit="img") as bar:
        for start in range(0, args.count, batch):
            n = min(batch, args.count - start)
            imgs, styles = paint_batch(args.seed * 1_000_003 + start, n, args.size)
            for i, (img, style) in enumerate(zip(imgs, styles)):
                Image.fromarray(img).save(args.out / f"{start + i:06d}_{style}.png")
            bar.update(n)


if __name__ == "__main__":
    main()
