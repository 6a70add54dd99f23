"""Sliced Wasserstein distance per Laplacian-pyramid level (Karras et al. 2018, ProGAN).

One number per scale says where a generator departs from its data: a model that misses fine detail
(blur, smeared brush strokes) scores high at the finest levels and well at the coarse ones. Each
level's 7×7×3 patches (128 random ones per image) form a distribution; the distance between the
two distributions is estimated from 1-D Wasserstein distances along random unit directions.

Normalisation differs from ProGAN on purpose: ProGAN standardises each set by its own per-level
mean and std, which hides a level that simply has less energy (exactly what blur does). Here both
sets are standardised by the reference (training) set's statistics, so lost detail shows in full.
Values are reported ×1000, as in the paper.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PATCH = 7
PATCHES_PER_IMAGE = 128
PROJECTIONS = 128
REPEATS = 1  # ProGAN averages 4 draws of 128; one draw keeps a 1000-sample run to seconds
SMALLEST = 16

_KERNEL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
_K2 = (_KERNEL[:, None] * _KERNEL[None, :]).expand(3, 1, 5, 5).contiguous()


def _blur(x: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), _K2, groups=3)


def _down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def _up(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    z = torch.zeros(b, c, h * 2, w * 2, dtype=x.dtype)
    z[:, :, ::2, ::2] = x
    return _blur(z) * 4.0


def levels_for(size: int) -> list[int]:
    """Pyramid resolutions from `size` down to 16 px (256 → [256, 128, 64, 32, 16])."""
    out = [size]
    while out[-1] // 2 >= SMALLEST:
        out.append(out[-1] // 2)
    return out


def laplacian_pyramid(x: torch.Tensor, n_levels: int) -> list[torch.Tensor]:
    """Band-pass levels, finest first; the last level is the low-pass residual."""
    pyramid = []
    for _ in range(n_levels - 1):
        low = _down(x)
        pyramid.append(x - _up(low))
        x = low
    pyramid.append(x)
    return pyramid


def descriptors(
    images: np.ndarray, rng: np.random.Generator, per_image: int = PATCHES_PER_IMAGE, batch: int = 64
) -> dict[int, np.ndarray]:
    """uint8 [N, S, S, 3] → {level resolution: float32 [N·per_image, 3·7·7] random patches}."""
    size = images.shape[1]
    if images.shape[2] != size or size < SMALLEST:
        raise ValueError(f"SWD needs square images of at least {SMALLEST} px, got {images.shape[1:3]}")
    resolutions = levels_for(size)
    n_levels = len(resolutions)
    out: list[list[np.ndarray]] = [[] for _ in range(n_levels)]
    for s in range(0, len(images), batch):
        x = torch.from_numpy(images[s : s + batch]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        for level, band in enumerate(laplacian_pyramid(x, n_levels)):
            b, c, h, w = band.shape
            ys = rng.integers(0, h - PATCH + 1, size=(b, per_image))
            xs = rng.integers(0, w - PATCH + 1, size=(b, per_image))
            patches = band.unfold(2, PATCH, 1).unfold(3, PATCH, 1)  # [b, c, h-6, w-6, 7, 7], a view
            idx = torch.arange(b)[:, None]
            picked = patches[idx, :, torch.from_numpy(ys), torch.from_numpy(xs)]  # [b, per, c, 7, 7]
            out[level].append(picked.reshape(b * per_image, c * PATCH * PATCH).numpy())
    return {res: np.concatenate(parts) for res, parts in zip(resolutions, out)}


def _standardise(desc: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per channel (the 49 values of one colour share a mean and std)."""
    d = desc.reshape(len(desc), 3, PATCH * PATCH)
    return ((d - mean[None, :, None]) / std[None, :, None]).reshape(len(desc), -1)


def _channel_stats(desc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = desc.reshape(len(desc), 3, PATCH * PATCH)
    return d.mean(axis=(0, 2)), d.std(axis=(0, 2)) + 1e-8


def sliced_wasserstein(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, projections: int = PROJECTIONS
) -> float:
    """Mean over `REPEATS` × `projections` random unit directions of the 1-D Wasserstein-1 distance.

    Sorted projections are compared index by index, so the larger set is subsampled to the smaller."""
    n = min(len(a), len(b))
    a = a[rng.choice(len(a), n, replace=False)] if len(a) > n else a
    b = b[rng.choice(len(b), n, replace=False)] if len(b) > n else b
    dists = []
    for _ in range(REPEATS):
        dirs = rng.standard_normal((a.shape[1], projections)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        pa = np.sort(a @ dirs, axis=0)
        pb = np.sort(b @ dirs, axis=0)
        dists.append(float(np.abs(pa - pb).mean()))
    return float(np.mean(dists))


def swd_per_level(
    reference: dict[int, np.ndarray], other: dict[int, np.ndarray], seed: int = 0
) -> dict[str, float]:
    """{"256": …, "128": …, …, "16": …, "mean": …} ×1000 from two `descriptors` results."""
    if reference.keys() != other.keys():
        raise ValueError(f"pyramid levels differ: {list(reference)} vs {list(other)} (images of one size?)")
    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    for res, r in reference.items():
        mean, std = _channel_stats(r)
        d = sliced_wasserstein(_standardise(r, mean, std), _standardise(other[res], mean, std), rng)
        out[str(res)] = round(d * 1e3, 2)
    out["mean"] = round(float(np.mean(list(out.values()))), 2)
    return out
