"""Depth-ordered shape rasterisation: thousands of discs and brush stamps at once.

Painting shapes one at a time over the whole canvas costs shapes × pixels; here each
shape only touches its own bounding box, and a scatter with `amax` keeps, per pixel,
the shape with the highest key (the topmost), so overlap order is exact and the whole
batch is a handful of tensor ops on any device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PAYLOAD = 1024  # keys are rank * PAYLOAD + payload; payload is the across-stamp coordinate


def splat(
    cx: torch.Tensor,
    cy: torch.Tensor,
    r: torch.Tensor,
    key: torch.Tensor,
    side: int,
    axis: torch.Tensor | None = None,
    square: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rasterise shapes into a per-pixel key buffer [B, side²] (-1 where none lands).

    cx, cy, r: [B, N] centre and radius in pixels; key: int64 [B, N], higher is on top.
    Without `axis` the shapes are discs and the payload is the radial distance d/r;
    with `axis` ([B, N, 2] unit vectors along a stroke) the payload is the across
    coordinate v/r mapped to [0, 1], which brush stamps turn into bristle streaks.
    square ([B, N] bool) draws squares (side 1.7·r) instead of discs. `out` continues
    an earlier buffer, so shapes can be splatted in groups of similar size.
    """
    b, n = cx.shape
    dev = cx.device
    if out is None:
        out = torch.full((b, side * side), -1, dtype=torch.long, device=dev)
    if n == 0:
        return out
    span = min(int(math.ceil(2 * float(r.max()) + 2)), side + 2)
    steps = torch.arange(span, device=dev, dtype=torch.float32)
    xs = torch.floor(cx - span / 2 + 0.5)[..., None] + steps  # [B, N, L] pixel columns
    ys = torch.floor(cy - span / 2 + 0.5)[..., None] + steps
    inv_r = (1 / r)[..., None]
    # offsets in radii, on the small [B, N, L] tensors; off-canvas rows and columns are
    # pushed far away here, so the big [B, N, L, L] tensors need no bounds test
    far = torch.full_like(xs, 1e4)
    dx = torch.where((xs >= 0) & (xs < side), (xs + 0.5 - cx[..., None]) * inv_r, far)[:, :, None, :]
    dy = torch.where((ys >= 0) & (ys < side), (ys + 0.5 - cy[..., None]) * inv_r, far)[:, :, :, None]
    if axis is None:
        rad2 = dx * dx + dy * dy
        if square is not None:
            box = torch.maximum(dx.abs(), dy.abs()) / 0.85
            rad2 = torch.where(square[..., None, None], box * box, rad2)
        keep = rad2 < 1
        pay = torch.sqrt(rad2.clamp(max=1))
    else:
        ax, ay = axis[..., 0, None, None], axis[..., 1, None, None]
        u = ax * dx + ay * dy
        v = ax * dy - ay * dx
        keep = u * u + v * v < 1
        pay = (v * 0.5 + 0.5).clamp(0, 1)
    row = ys.clamp(0, side - 1).long() * side + torch.arange(b, device=dev).view(b, 1, 1) * side * side
    flat = row[..., None] + xs.clamp(0, side - 1).long()[:, :, None, :]
    flat = torch.where(keep, flat, b * side * side)
    k = (pay * (PAYLOAD - 1)).long() + key[..., None, None] * PAYLOAD
    buf = torch.cat([out.view(-1), out.new_full((1,), -1)])
    buf = buf.scatter_reduce(0, flat.reshape(-1), k.reshape(-1), "amax")
    return buf[:-1].view(b, side * side)


def resolve(
    keys: torch.Tensor, table: torch.Tensor, empty: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel rows of `table` [B, R, C] picked by rank (keys // PAYLOAD), and the payload in [0, 1].

    Pixels no shape covered take `empty` [B, C] and payload 0.
    """
    b, hw = keys.shape
    hit = keys >= 0
    rank = torch.where(hit, keys // PAYLOAD, torch.zeros_like(keys))
    rows = torch.gather(table, 1, rank[..., None].expand(b, hw, table.shape[-1]))
    rows = torch.where(hit[..., None], rows, empty[:, None, :])
    pay = torch.where(hit, (keys % PAYLOAD).float() / (PAYLOAD - 1), torch.zeros_like(rows[..., 0]))
    return rows, pay


def to_image(flat: torch.Tensor, side: int, edge_px: torch.Tensor | None = None) -> torch.Tensor:
    """[B, side², C] → [B, C, side, side], anti-aliased where edge_px ([B, side²], the distance
    inside the top shape's edge) is under a pixel: there the colour leans toward its 3×3 mean,
    which is what a supersampled edge would show at a quarter of the cost."""
    b, _, c = flat.shape
    img = flat.view(b, side, side, c).permute(0, 3, 1, 2)
    if edge_px is None:
        return img
    alpha = (edge_px.view(b, 1, side, side) + 0.5).clamp(0, 1)
    pad = F.pad(img, (1, 1, 1, 1), mode="replicate")
    rows = pad[..., :-2] + pad[..., 1:-1] + pad[..., 2:]
    mean = (rows[..., :-2, :] + rows[..., 1:-1, :] + rows[..., 2:, :]) / 9
    return mean + alpha * (img - mean)
