"""Brush families: colour dragged along a flow field, and discrete stamped strokes.

`brushed` is line-integral convolution: paint and bristle noise smeared along the
flow, made cheap by smearing twice as far each pass (six passes ≈ a 64-tap filter).
`brush_stamps` is stroke-based painterly rendering (after Hertzmann 1998): strokes
that follow the flow, coarse brushes first and fine on top, each stroke one colour
with bristle streaks and darker edges where the paint ridges.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from models.paint.noise import Canvas, fbm, normalise, palette, shade, warp
from models.paint.splat import resolve, splat, to_image


def _flow(cv: Canvas, res: int | None = None) -> torch.Tensor:
    """A smooth angle field [B, 1, S, S]: the direction strokes travel."""
    return fbm(cv, 1, 2, 3, res=res) * cv.uniform(1.5, 3.5) + cv.uniform(0, 2 * math.pi)


def brushed(cv: Canvas) -> torch.Tensor:
    """Line-integral convolution at half size (streaks are ≥ 4 px, so nothing is lost)."""
    h = cv.size // 2
    theta = _flow(cv, res=h)
    step = torch.cat([torch.cos(theta), torch.sin(theta)], 1) * (2.0 / h) * (cv.px(1.0) / 2)
    # smear the palette coordinate, not the colour: 3 channels through the filter instead of 5
    t = normalise(fbm(cv, 1, 2, 4, res=h)) * cv.uniform(0.7, 1.3) + 0.12 * fbm(cv, 1, 16, 2, res=h)
    bristle = fbm(cv, 1, 64, 1, res=h)  # 4-px cells at 256²: streaks, never hairlines
    clumps = fbm(cv, 1, 12, 2, res=h)
    paint = torch.cat([t, bristle, clumps], 1)
    g = cv.grid(h)
    for i in range(6):
        d = step * (2**i)
        paint = 0.5 * (warp(paint, d, g) + warp(paint, -d, g))
    paint = F.interpolate(paint, size=(cv.size, cv.size), mode="bilinear", align_corners=False)
    t, br, cl = paint[:, :1], paint[:, 1:2], paint[:, 2:3]
    br = br / (br.std(dim=(2, 3), keepdim=True) + 1e-6)
    cl = cl / (cl.std(dim=(2, 3), keepdim=True) + 1e-6)
    return shade(t, palette(cv)) * (0.85 + 0.2 * br + 0.1 * cl)


def _trace(flow: torch.Tensor, x: torch.Tensor, y: torch.Tensor, size: int, step: float, k: int):
    """k points per stroke following the flow from (x, y) pixels; returns xs, ys, tangent [B, N, k, 2]."""
    xs, ys, tans = [], [], []
    for _ in range(k):
        g = torch.stack([x / size * 2 - 1, y / size * 2 - 1], -1)[:, :, None, :]
        th = F.grid_sample(flow, g, mode="bilinear", padding_mode="border", align_corners=False)[:, 0, :, 0]
        tan = torch.stack([torch.cos(th), torch.sin(th)], -1)
        xs.append(x)
        ys.append(y)
        tans.append(tan)
        x = x + step * tan[..., 0]
        y = y + step * tan[..., 1]
    return torch.stack(xs, 2), torch.stack(ys, 2), torch.stack(tans, 2)


def brush_stamps(cv: Canvas) -> torch.Tensor:
    b = cv.b
    side = cv.size
    pal = palette(cv)
    src = shade(normalise(fbm(cv, 1, 2, 4)) * cv.uniform(0.6, 1.1), pal)  # the "motif" being painted
    flow = _flow(cv)
    ground = 0.85 + 0.1 * cv.rand(b, 3)
    keys = None
    tables = []
    rank0 = 0
    for radius, count, k in ((12.0, 50, 5), (7.0, 120, 5), (4.0, 200, 4)):  # radii in 256² pixels
        r = cv.px(radius)
        x0 = cv.rand(b, count) * side
        y0 = cv.rand(b, count) * side
        xs, ys, tan = _trace(flow, x0, y0, side, r * 0.9, k)
        colour = F.grid_sample(
            src, torch.stack([x0 / side * 2 - 1, y0 / side * 2 - 1], -1)[:, :, None, :], align_corners=False
        )[..., 0].transpose(1, 2)
        colour = colour * (0.88 + 0.24 * cv.rand(b, count, 1))
        order = cv.rand(b, count).argsort(1) + rank0
        rad = r * (0.8 + 0.4 * cv.rand(b, count, 1)).expand(-1, -1, k)
        key = order[..., None].expand(-1, -1, k)
        keys = splat(
            xs.reshape(b, -1),
            ys.reshape(b, -1),
            rad.reshape(b, -1),
            key.reshape(b, -1),
            side,
            axis=tan.reshape(b, -1, 2),
            out=keys,
        )
        # bristles ~5 px apart at 256² whatever the brush: wide brushes get more of them
        freq = torch.full((b, count, 1), 2 * math.pi * radius / 5.0, device=cv.device)
        row = torch.cat([colour, cv.rand(b, count, 1) * 6.3, freq, rad[..., :1]], -1)
        tables.append(torch.empty_like(row).scatter_(1, (order - rank0)[..., None].expand(-1, -1, 6), row))
        rank0 += count
    table = torch.cat(tables, 1)
    rows, pay = resolve(keys, table, torch.cat([ground, torch.zeros(b, 3, device=cv.device)], -1))
    across = pay * 2 - 1
    phase, freq = rows[..., 3], rows[..., 4]
    bristles = torch.sin(across * freq + phase) * 0.07 + torch.sin(across * freq * 0.37 + 2 * phase) * 0.05
    ridge = 1 - 0.28 * across.abs() ** 6
    lit = (1 + bristles) * ridge
    hit = (keys >= 0).float()
    lit = lit * hit + (1 - hit)
    edge = torch.where(keys >= 0, (1 - across.abs()) * rows[..., 5], torch.full_like(pay, 9.0))
    img = to_image(rows[..., :3] * lit[..., None], side, edge)
    canvas = 1 + 0.04 * fbm(cv, 1, 48, 2)
    return img * canvas
