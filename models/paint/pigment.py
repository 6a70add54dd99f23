"""Watercolour on cold-pressed paper: transparent glazes, dark drying rims, granulation.

The paper is procedural (a fine fbm tooth plus stretched fibres), not a scanned
texture, so the family needs no third-party file and scales with the image size.
Pigment is multiplied into the paper, like real glazes, which is why overlaps go
darker and the white of the paper stays the lightest value.
"""

from __future__ import annotations

import torch

from models.paint.noise import Canvas, blur, fbm, palette, shade, smoothstep, warp


def paper(cv: Canvas) -> torch.Tensor:
    """Paper height [B, 1, S, S] in about [-1, 1]: tooth (pits of a few px) and long fibres."""
    tooth = fbm(cv, 1, 48, 2, gain=0.6)
    fib = fbm(cv, 1, 24, 2)
    # fibres: the same noise stretched along a random direction per image
    ang = cv.uniform(0, 3.1416)
    g = cv.grid()
    along = torch.stack([torch.cos(ang), torch.sin(ang)], -1).view(cv.b, 1, 1, 2)
    stretch = g + 3.0 * (g * along).sum(-1, keepdim=True) * along
    fibres = torch.nn.functional.grid_sample(fib, stretch * 0.3, mode="bilinear", align_corners=False)
    return 0.7 * tooth + 0.3 * fibres


def watercolour(cv: Canvas) -> torch.Tensor:
    height = paper(cv)
    white = 0.93 + 0.05 * cv.rand(cv.b, 3, 1, 1)
    img = white * (1 + 0.035 * height)
    pal = palette(cv)
    g = cv.grid()
    layers = 3
    for layer in range(layers):
        n = warp(fbm(cv, 1, 2, 5), 0.18 * fbm(cv, 2, 3, 3), g)
        thr = cv.uniform(-0.1, 0.7)
        wet = smoothstep(thr - 0.02, thr + 0.06, n)  # the shape the wash fills
        pooled = (wet - blur(wet, cv.px(3))).clamp(min=0)  # pigment flows to the drying edge
        bloom = fbm(cv, 1, 6, 3)
        density = wet * (0.35 + 0.2 * bloom) + 1.6 * pooled
        density = density * (1 + 0.45 * (-height).clamp(min=0) * wet)  # granulation in the pits
        hue = torch.full((cv.b, 1, 1, 1), layer / layers, device=cv.device) + 0.15 * cv.rand(cv.b, 1, 1, 1)
        pigment = shade(hue, pal).clamp(0.05, 1)
        absorb = 1 - pigment  # what the pigment takes out of white light
        img = img * (1 - (density * cv.uniform(0.6, 1.0)).clamp(0, 1) * absorb)
    return img
