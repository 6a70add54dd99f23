"""Hard-edged families: stained glass, topographic contours, dead leaves.

Line widths are measured in pixels, not in noise units: glass leads use the exact
distance to the Voronoi bisector and contour lines divide by the field's pixel
gradient, so a line is as wide on a steep slope as on a flat one (never the 1-px
hairline a GAN learns as aliasing), and both scale with the canvas.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from models.paint.noise import Canvas, fbm, normalise, palette, shade, smoothstep, warp
from models.paint.splat import resolve, splat, to_image


def glass(cv: Canvas) -> torch.Tensor:
    """Stained glass: Voronoi panes, each lit from its centre, in lead came ~5 px wide.

    The search over all sites runs at half resolution and keeps each pixel's two
    nearest; at full resolution only those two are compared, which gives the exact
    edge distance (so lead and pane edges agree to the pixel) at a quarter of the cost.
    """
    n = 28
    b, s = cv.b, cv.size
    h = s // 2
    pts = cv.rand(b, n, 2) * 2.2 - 1.1
    wobble = F.interpolate(0.06 * fbm(cv, 2, 3, 3, res=h), size=(s, s), mode="bilinear", align_corners=False)
    g = cv.grid().permute(0, 3, 1, 2) + wobble  # [B, 2, S, S]
    coarse = F.avg_pool2d(g, 2).flatten(2).transpose(1, 2)  # [B, h², 2]
    d2 = torch.cdist(coarse, pts).square()
    _, i1 = d2.min(-1)
    _, i2 = d2.scatter(-1, i1[..., None], float("inf")).min(-1)
    pair = torch.stack([i1, i2], 1).view(b, 2, h, h).float()
    pair = F.interpolate(pair, size=(s, s), mode="nearest").long().flatten(2)  # [B, 2, S²]
    flat = g.flatten(2)  # [B, 2, S²]
    px = pts.transpose(1, 2)  # [B, 2, n]
    p1 = torch.gather(px, 2, pair[:, :1].expand(-1, 2, -1))
    p2 = torch.gather(px, 2, pair[:, 1:].expand(-1, 2, -1))
    e1 = (flat - p1).square().sum(1)
    e2 = (flat - p2).square().sum(1)
    first = e1 <= e2
    gap = (e2 - e1).abs() / (2 * (p1 - p2).norm(dim=1) + 1e-6)  # distance to the bisector
    edge_px = (gap * s / 2).view(b, 1, s, s)
    centre = torch.sqrt(torch.minimum(e1, e2)).view(b, 1, s, s)
    idx = torch.where(first, pair[:, 0], pair[:, 1])
    t = torch.gather(cv.rand(b, n), 1, idx).view(b, 1, s, s)
    half = cv.px(2.6)
    lead = smoothstep(half - 0.75, half + 0.75, edge_px)
    col = shade(t, palette(cv))
    light = 1.15 - 0.9 * centre + 0.15 * fbm(cv, 1, 10, 3)  # mottled pane, brighter at its heart
    rim = smoothstep(half + 3, half, edge_px) * 0.12  # a little shadow where glass meets lead
    came = 0.12 + 0.1 * smoothstep(half, 0, edge_px)  # rounded lead catches a highlight
    return (col * light.clamp(0.4, 1.3) - rim) * lead + came * (1 - lead)


def contour_layers(cv: Canvas) -> tuple[torch.Tensor, torch.Tensor]:
    """The hill-shaded colour bands [B, 3, S, S] and the ink line coverage [B, 1, S, S]."""
    h = warp(fbm(cv, 1, 2, 4, gain=0.45), 0.2 * fbm(cv, 2, 2, 3), cv.grid())
    h = normalise(h)
    bands = cv.uniform(5, 10)
    x = h * bands
    gx = torch.zeros_like(x)
    gy = torch.zeros_like(x)
    gx[..., 1:-1] = (x[..., 2:] - x[..., :-2]) / 2
    gy[..., 1:-1, :] = (x[..., 2:, :] - x[..., :-2, :]) / 2
    grad = torch.sqrt(gx * gx + gy * gy) + 1e-4
    frac = x - torch.floor(x)
    dist_px = torch.minimum(frac, 1 - frac) / grad  # distance to the nearest level line, in pixels
    half = cv.px(1.9)
    level = torch.round(x)
    inner = (level >= 1) & (level <= bands - 0.5)  # the minimum and the summit are points, not lines
    line = smoothstep(half + 0.8, half - 0.8, dist_px) * inner
    # hill shade: a light from the upper left, on the height in pixel units
    light = (-gx - gy) / bands * cv.size * 0.6
    shade_ = 1 + light.clamp(-0.3, 0.25)
    t = torch.floor(x) / bands * cv.uniform(0.5, 0.9)
    col = 0.25 + 0.75 * shade(t, palette(cv))
    return col * shade_, line


def contour(cv: Canvas) -> torch.Tensor:
    """A painted topographic map: hill-shaded bands of colour with ink contours ~3.8 px wide."""
    col, line = contour_layers(cv)
    ink = 0.1 + 0.1 * cv.rand(cv.b, 3, 1, 1)
    return col * (1 - line) + ink * line


def dead_leaves(cv: Canvas) -> torch.Tensor:
    """Matheron's dead leaves: opaque discs stacked at random, radii power-law (density ∝ r⁻³)."""
    b, side = cv.b, cv.size
    pal = palette(cv)
    r0 = cv.px(3.0)
    counts = (520, 160, 48, 15, 5)  # per octave of radius: ∝ r⁻² keeps each octave's coverage equal
    total = sum(counts)
    rank = cv.rand(b, total).argsort(dim=1)  # random stacking order across all sizes
    keys = None
    radii = []
    start = 0
    for octave, m in enumerate(counts):
        lo = r0 * 2**octave
        r = lo / torch.sqrt(1 - 0.75 * cv.rand(b, m))  # inverse CDF of r⁻³ on [lo, 2·lo)
        cx = cv.rand(b, m) * (side + 2 * lo) - lo
        cy = cv.rand(b, m) * (side + 2 * lo) - lo
        keys = splat(cx, cy, r, rank[:, start : start + m], side, out=keys)
        radii.append(r)
        start += m
    t = cv.rand(b, total, 1) * cv.uniform(0.5, 1.0).view(b, 1, 1)
    a, bb, c, d = (p.view(b, 1, 3) for p in pal)
    colour = (a + bb * torch.cos(2 * math.pi * (c * t + d))) * (0.75 + 0.35 * cv.rand(b, total, 1))
    by_shape = torch.cat([colour, torch.cat(radii, 1)[..., None]], -1)
    table = torch.empty_like(by_shape).scatter_(1, rank[..., None].expand(-1, -1, 4), by_shape)
    rows, pay = resolve(keys, table, table[:, 0])
    img = to_image(rows[..., :3], side, (1 - pay) * rows[..., 3])
    grain = fbm(cv, 1, 16, 2)
    return img * (0.95 + 0.05 * grain)
