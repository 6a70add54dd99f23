"""Shared painting primitives: a seeded canvas, fractal noise, warps and palettes.

Every random draw goes through the canvas' torch.Generator on the canvas' device, and
no draw depends on the image size (noise grids have a fixed number of cells), so an
image painted at 512² is the same picture as at 256², only sharper, and the GPU can
paint the large set without a round trip to the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

Palette = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass
class Canvas:
    """The state one family call paints with: batch size, side, device and random stream."""

    gen: torch.Generator
    b: int
    size: int
    device: torch.device
    _grid: torch.Tensor | None = field(default=None, repr=False)

    def rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=self.gen, device=self.device)

    def randn(self, *shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=self.gen, device=self.device)

    def uniform(self, lo: float, hi: float, *shape: int) -> torch.Tensor:
        """Per-image scalars [B, 1, 1, 1] unless a shape is given."""
        return lo + (hi - lo) * self.rand(*(shape or (self.b, 1, 1, 1)))

    def px(self, n: float) -> float:
        """A length given in pixels of a 256² image, at this canvas' size."""
        return n * self.size / 256

    def grid(self, side: int | None = None) -> torch.Tensor:
        """Pixel-centre coordinates in [-1, 1] as grid_sample wants them: [B, H, W, 2] (x, y)."""
        if side is not None and side != self.size:
            return coords(self.b, side, self.device)
        if self._grid is None:
            self._grid = coords(self.b, self.size, self.device)
        return self._grid

    def full(self, value: float | torch.Tensor, c: int = 1) -> torch.Tensor:
        out = torch.zeros(self.b, c, self.size, self.size, device=self.device)
        return out + value


def coords(b: int, side: int, device: torch.device) -> torch.Tensor:
    lin = (torch.arange(side, device=device, dtype=torch.float32) + 0.5) / side * 2 - 1
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    return torch.stack([xx, yy], dim=-1).expand(b, side, side, 2)


def fbm(
    cv: Canvas, c: int, base: int, octaves: int, gain: float = 0.5, res: int | None = None
) -> torch.Tensor:
    """Fractal value noise [B, c, S, S] with unit-ish std; `base` cells across the coarsest octave.

    Octaves are summed coarse to fine on their own small grids (each upsampled ×2) and
    only the sum is brought to the canvas size once, which is what keeps it cheap.
    """
    cells = base
    acc = cv.randn(cv.b, c, cells, cells)
    amp, var = 1.0, 1.0
    for _ in range(octaves - 1):
        cells *= 2
        amp *= gain
        acc = F.interpolate(acc, size=(cells, cells), mode="bicubic", align_corners=False)
        acc = acc + amp * cv.randn(cv.b, c, cells, cells)
        var += amp * amp
    out = acc / math.sqrt(var)
    side = res or cv.size
    if side >= 4 * cells and side % 2 == 0:  # bicubic to half size, then bilinear: smooth, 3× cheaper
        half = F.interpolate(out, size=(side // 2, side // 2), mode="bicubic", align_corners=False)
        return F.interpolate(half, size=(side, side), mode="bilinear", align_corners=False)
    if side > cells:
        return F.interpolate(out, size=(side, side), mode="bicubic", align_corners=False)
    if side < cells:
        return F.interpolate(out, size=(side, side), mode="area")
    return out


def warp(img: torch.Tensor, offset: torch.Tensor, grid: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample img at grid + offset; offset [B, 2, H, W] in grid units (2 = the image width)."""
    g = grid[: img.shape[0]] + offset.permute(0, 2, 3, 1)
    return F.grid_sample(img, g, mode=mode, padding_mode="reflection", align_corners=False)


def blur(img: torch.Tensor, radius_px: float) -> torch.Tensor:
    """Separable Gaussian blur (reflect-padded); radius is one sigma in pixels.

    Wide blurs run on a 2× or 4× box-downsampled copy and come back bilinearly: the
    result is smooth anyway, and it costs a sixteenth.
    """
    if radius_px < 0.3:
        return img
    side = img.shape[-1]
    for f in (4, 2):
        if radius_px >= 1.5 * f and side % f == 0:
            small = blur(F.avg_pool2d(img, f), radius_px / f)
            return F.interpolate(small, size=img.shape[-2:], mode="bilinear", align_corners=False)
    r = max(1, int(math.ceil(radius_px * 2.5)))
    x = torch.arange(-r, r + 1, device=img.device, dtype=img.dtype)
    k = torch.exp(-0.5 * (x / radius_px) ** 2)
    k = k / k.sum()
    c = img.shape[1]
    pad = F.pad(img, (r, r, 0, 0), mode="reflect")
    img = F.conv2d(pad, k.view(1, 1, 1, -1).expand(c, 1, 1, -1).contiguous(), groups=c)
    pad = F.pad(img, (0, 0, r, r), mode="reflect")
    return F.conv2d(pad, k.view(1, 1, -1, 1).expand(c, 1, -1, 1).contiguous(), groups=c)


def normalise(t: torch.Tensor) -> torch.Tensor:
    """Stretch each image to [0, 1]."""
    lo = t.amin(dim=(1, 2, 3), keepdim=True)
    hi = t.amax(dim=(1, 2, 3), keepdim=True)
    return (t - lo) / (hi - lo + 1e-6)


def smoothstep(e0: float | torch.Tensor, e1: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    t = ((x - e0) / (e1 - e0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


# Hand-tuned cosine palettes (a, b, c, d per RGB) spanning warm, cold, earthy and
# neon schemes; each image jitters one so no two sets of colours are the same, and
# none of them are left to chance, which is how purely random palettes drift to
# the same muddy purple-green.
_PALETTES = torch.tensor(
    [
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.00, 0.33, 0.67]],  # rainbow
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.00, 0.10, 0.20]],  # sunset
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.30, 0.20, 0.20]],  # coral-teal
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 1.0, 0.5], [0.80, 0.90, 0.30]],  # lime-rose
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.0, 0.7, 0.4], [0.00, 0.15, 0.20]],  # ochre-blue
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [2.0, 1.0, 0.0], [0.50, 0.20, 0.25]],  # fire
        [[0.8, 0.5, 0.4], [0.2, 0.4, 0.2], [2.0, 1.0, 1.0], [0.00, 0.25, 0.25]],  # terracotta
        [[0.55, 0.4, 0.3], [0.45, 0.35, 0.3], [1.0, 1.0, 1.0], [0.0, 0.1, 0.2]],  # earth
        [[0.4, 0.5, 0.6], [0.4, 0.35, 0.35], [1.0, 1.0, 1.0], [0.55, 0.45, 0.35]],  # sea
        [[0.6, 0.45, 0.5], [0.4, 0.4, 0.35], [1.0, 1.0, 1.0], [0.95, 0.1, 0.4]],  # rose-gold
        [[0.45, 0.55, 0.45], [0.4, 0.4, 0.45], [1.0, 1.0, 1.0], [0.2, 0.0, 0.6]],  # forest
        [[0.5, 0.5, 0.5], [0.55, 0.5, 0.45], [0.7, 0.9, 1.1], [0.6, 0.3, 0.0]],  # candy
    ]
)


def palette(cv: Canvas, jitter: float = 0.08) -> Palette:
    """One jittered palette per image, each term [B, 3, 1, 1]."""
    table = _PALETTES.to(cv.device)
    pick = (cv.rand(cv.b) * len(table)).long().clamp(max=len(table) - 1)
    p = table[pick]  # [B, 4, 3]
    a, b, c, d = (p[:, i].view(cv.b, 3, 1, 1) for i in range(4))
    d = d + cv.rand(cv.b, 1, 1, 1) + jitter * cv.randn(cv.b, 3, 1, 1)  # hue shift + jitter
    c = c * cv.uniform(0.8, 1.2)
    return a, b, c, d


def shade(t: torch.Tensor, pal: Palette) -> torch.Tensor:
    """Colour a field t [B, 1, H, W] through the palette into [B, 3, H, W]."""
    a, b, c, d = pal
    return a + b * torch.cos(2 * math.pi * (c * t + d))


def vignette(cv: Canvas, strength: float = 0.2) -> torch.Tensor:
    r2 = cv.grid()[:1].square().sum(-1).unsqueeze(1)
    return 1 - strength * r2 / 2
