"""Fluid families: combed paper marbling, domain-warped noise, and glowing nebulae.

All three are continuous fields, but they read differently at a glance: marbling is
crisp discrete colour bands dragged by combs, domain warp is soft continuous
gradients folded on themselves, a nebula is additive light on black.
"""

from __future__ import annotations

import math

import torch

from models.paint.noise import Canvas, fbm, normalise, palette, shade, smoothstep, warp
from models.paint.splat import resolve, splat, to_image


def _pixel_gradient(s: torch.Tensor, size: int) -> torch.Tensor:
    """|∇s| per pixel (s is a field over the canvas), for analytic anti-aliasing."""
    gx = torch.zeros_like(s)
    gy = torch.zeros_like(s)
    gx[..., :, 1:] = s[..., :, 1:] - s[..., :, :-1]
    gy[..., 1:, :] = s[..., 1:, :] - s[..., :-1, :]
    gx[..., :, 0] = gx[..., :, 1]
    gy[..., 0, :] = gy[..., 1, :]
    return torch.sqrt(gx * gx + gy * gy) + 1e-6


def marble(cv: Canvas) -> torch.Tensor:
    """Paper marbling (ebru): parallel pigment bands dragged by combs and a swirl."""
    g = cv.grid().permute(0, 3, 1, 2)
    ang = cv.uniform(0, math.pi)
    x = g[:, :1] * torch.cos(ang) - g[:, 1:] * torch.sin(ang)
    y = g[:, :1] * torch.sin(ang) + g[:, 1:] * torch.cos(ang)
    for _ in range(2):  # two comb passes, across and along
        x = x + cv.uniform(0.04, 0.2) * torch.sin(cv.uniform(2, 6) * math.pi * y + cv.uniform(0, 6.3))
        y = y + cv.uniform(0.02, 0.15) * torch.sin(cv.uniform(1, 4) * math.pi * x + cv.uniform(0, 6.3))
    cx, cy = cv.uniform(-0.6, 0.6), cv.uniform(-0.6, 0.6)
    dx, dy = x - cx, y - cy
    turn = cv.uniform(-4, 4) * torch.exp(-(dx * dx + dy * dy) / cv.uniform(0.05, 0.4))
    x, y = cx + dx * torch.cos(turn) - dy * torch.sin(turn), cy + dx * torch.sin(turn) + dy * torch.cos(turn)
    w = fbm(cv, 2, 3, 4) * cv.uniform(0.02, 0.07)
    y = y + w[:, 1:]
    bands = cv.uniform(5, 11)
    s = (y + 2) * bands + 0.6 * torch.sin(3.1 * y + cv.uniform(0, 6.3))
    idx = torch.floor(s)
    frac = s - idx
    ramp = ((frac - 1) / _pixel_gradient(s, cv.size) + 1).clamp(0, 1)  # one-pixel blend at each edge
    k = 5
    pal = palette(cv)
    t = torch.linspace(0, 0.8, k, device=cv.device).view(1, 1, k, 1) + 0.1 * cv.randn(cv.b, 1, k, 1)
    table = shade(t, pal).squeeze(-1).transpose(1, 2)  # [B, K, 3]
    table[:, 0] = 0.9 + 0.08 * cv.rand(cv.b, 3)  # one band of pale ground
    i0 = (idx.long() % k).view(cv.b, -1)
    i1 = ((idx.long() + 1) % k).view(cv.b, -1)
    c0 = torch.gather(table, 1, i0[..., None].expand(-1, -1, 3))
    c1 = torch.gather(table, 1, i1[..., None].expand(-1, -1, 3))
    r = ramp.view(cv.b, -1, 1)
    img = (c0 * (1 - r) + c1 * r).transpose(1, 2).reshape(cv.b, 3, cv.size, cv.size)
    return img * (0.92 + 0.08 * fbm(cv, 1, 8, 3))


def domain_warp(cv: Canvas) -> torch.Tensor:
    """Inigo Quilez' f(p + 4·q(p + 4·r(p))): noise folded through itself into smoke and silk."""
    g = cv.grid()
    amt = cv.uniform(0.25, 0.5)
    q = fbm(cv, 2, 2, 5)
    r = warp(fbm(cv, 2, 2, 5), amt * q, g)
    f = warp(fbm(cv, 1, 3, 6), amt * r, g)
    pal = palette(cv)
    lq = normalise(q.square().sum(1, keepdim=True).sqrt())
    col = shade(normalise(f) * cv.uniform(0.6, 1.2) + 0.35 * lq, pal)
    glow = smoothstep(0.4, 1.0, normalise(r[:, :1]))
    col = col * (0.55 + 0.6 * normalise(f)) + glow * 0.25
    return col


def nebula(cv: Canvas) -> torch.Tensor:
    """Additive coloured gas over black, cut by dark dust lanes, with anti-aliased stars."""
    g = cv.grid()
    pal = palette(cv)
    img = cv.full(0.0, 3)
    for layer in range(2):
        n = warp(fbm(cv, 1, 3, 6, gain=0.55), 0.3 * fbm(cv, 2, 2, 4), g)
        density = torch.exp(cv.uniform(2.0, 3.0) * (n - cv.uniform(0.3, 0.9)))
        glow = 1 - torch.exp(-0.5 * density)  # saturates to the gas' colour, never to white
        img = img + glow * shade(n * 0.4 + 0.45 * layer, pal).clamp(0, 1)
    dust = smoothstep(-0.1, 0.5, fbm(cv, 1, 3, 5) + cv.uniform(-0.2, 0.4))
    img = img * (0.1 + 0.9 * dust) * (0.75 + 0.25 * fbm(cv, 1, 12, 3))
    img = 1.5 * img / (1 + 0.5 * img)
    side = cv.size
    n_stars = 90
    rad = cv.px(1.6) * (1 + 1.2 * cv.rand(cv.b, n_stars) ** 8)
    keys = splat(
        cv.rand(cv.b, n_stars) * side,
        cv.rand(cv.b, n_stars) * side,
        rad,
        torch.arange(n_stars, device=cv.device).expand(cv.b, -1),
        side,
    )
    tint = 0.75 + 0.25 * cv.rand(cv.b, n_stars, 3)
    table = torch.cat([tint, 0.3 + 0.7 * cv.rand(cv.b, n_stars, 1), rad[..., None]], -1)
    rows, pay = resolve(keys, table, torch.zeros(cv.b, 5, device=cv.device))
    stars = to_image(rows[..., :4], side, (1 - pay) * rows[..., 4])
    a = stars[:, 3:]
    return img * (1 - a) + stars[:, :3] * a
