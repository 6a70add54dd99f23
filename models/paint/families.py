"""The family registry and `paint_batch`: balanced, labelled, deterministic batches.

Images are painted in chunks of CHUNK of one family, and each chunk draws from its
own generator seeded by (seed, family, chunk), so an image depends only on those and
on `count`, not on the other families, the painting order, or the output size: the
same call at 512² paints the same pictures as at 256², sharper.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from models.paint.fluid import domain_warp, marble, nebula
from models.paint.geometry import contour, dead_leaves, glass
from models.paint.noise import Canvas
from models.paint.pigment import watercolour
from models.paint.reaction import reaction_diffusion
from models.paint.strokes import brush_stamps, brushed

PAINTERS: dict[str, Callable[[Canvas], torch.Tensor]] = {
    "marble": marble,
    "watercolour": watercolour,
    "glass": glass,
    "contour": contour,
    "brushed": brushed,
    "reaction_diffusion": reaction_diffusion,
    "domain_warp": domain_warp,
    "dead_leaves": dead_leaves,
    "brush_stamps": brush_stamps,
    "nebula": nebula,
}
FAMILIES: tuple[str, ...] = tuple(PAINTERS)
CHUNK = 8


def substream(*parts: int) -> int:
    """A 63-bit seed from integers, well mixed (neighbouring seeds give unrelated streams)."""
    words = [w for p in parts for w in (p & 0xFFFFFFFF, (p >> 32) & 0xFFFFFFFF)]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0]) >> 1


def balanced_labels(seed: int, count: int) -> np.ndarray:
    """Family indices cycling through FAMILIES (counts differ by at most one), shuffled by seed."""
    labels = np.arange(count, dtype=np.int64) % len(FAMILIES)
    return np.random.default_rng(substream(seed, 0x1AB)).permutation(labels)


def paint_family(name: str, seed: int, count: int, size: int, device: torch.device) -> torch.Tensor:
    """`count` images of one family as float [N, 3, S, S] in [0, 1] on `device`."""
    if name not in PAINTERS:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}")
    fam = FAMILIES.index(name)
    parts = []
    for c, start in enumerate(range(0, count, CHUNK)):
        gen = torch.Generator(device=device).manual_seed(substream(seed, fam, c))
        cv = Canvas(gen, min(CHUNK, count - start), size, device)
        parts.append(PAINTERS[name](cv).clamp(0, 1))
    return torch.cat(parts) if parts else torch.zeros(0, 3, size, size, device=device)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    return (img * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def paint_batch(
    seed: int, count: int, size: int = 256, device: str | torch.device = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """`count` images as uint8 [N, H, W, 3] and their int64 family labels [N] (indices into FAMILIES)."""
    if count < 0 or size < 16:
        raise ValueError(f"need count >= 0 and size >= 16, got count={count} size={size}")
    dev = torch.device(device)
    labels = balanced_labels(seed, count)
    out = np.zeros((count, size, size, 3), np.uint8)
    for fam, name in enumerate(FAMILIES):
        where = np.flatnonzero(labels == fam)
        if len(where):
            out[where] = to_uint8(paint_family(name, seed, len(where), size, dev))
    return out, labels
