"""Labelled training images held on the training device as uint8, batches drawn from there.

20k images at 256² are 3.9 GB as uint8: on a GPU they live in its memory, so a
step never waits on the host; on a CPU they are plain RAM. Batches are drawn
with their own generator, so a run's data order is a function of its seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class StyleData:
    images: torch.Tensor  # uint8 [N, 3, H, W] on the device
    labels: torch.Tensor  # int64 [N] on the device
    families: tuple[str, ...]

    @classmethod
    def from_arrays(
        cls, images: np.ndarray, labels: np.ndarray, families: tuple[str, ...], device: torch.device
    ) -> StyleData:
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 [N, H, W, 3], got {images.dtype} {images.shape}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must be [N] for {images.shape[0]} images, got {labels.shape}")
        if labels.min() < 0 or labels.max() >= len(families):
            raise ValueError(
                f"labels must index the {len(families)} families, got {labels.min()}..{labels.max()}"
            )
        imgs = torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).contiguous()
        return cls(imgs, torch.from_numpy(labels.astype(np.int64)).to(device), tuple(families))

    @classmethod
    def load(cls, folder: Path, device: torch.device) -> StyleData:
        from models.paint.dataset import load_dataset

        images, labels, families = load_dataset(folder)
        return cls.from_arrays(images, labels, families, device)

    @classmethod
    def paint(
        cls, count: int, size: int, seed: int, device: torch.device, chunk: int = 500, seconds: float = 0.0
    ) -> StyleData:
        """Paint the dataset straight onto the device: on a lent GPU, no disk and no host round trip.

        `seconds` > 0 caps the painting (whole chunks, so at least one): on a lease, minutes spent
        painting are minutes not training, and the painting speed of an untried GPU is a guess.
        """
        from models.paint import FAMILIES, paint_batch

        t0 = time.monotonic()
        images = torch.empty((count, 3, size, size), dtype=torch.uint8, device=device)
        labels = torch.empty(count, dtype=torch.int64, device=device)
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            imgs, labs = paint_batch(seed * 1_000_003 + start, n, size, device=device)
            images[start : start + n] = torch.as_tensor(imgs, device=device).permute(0, 3, 1, 2)
            labels[start : start + n] = torch.as_tensor(labs, device=device)
            if seconds > 0 and time.monotonic() - t0 > seconds and start + n < count:
                print(f"painting stopped at {start + n} of {count} images after {seconds:.0f} s", flush=True)
                return cls(images[: start + n].clone(), labels[: start + n].clone(), tuple(FAMILIES))
        return cls(images, labels, tuple(FAMILIES))

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    def batch(self, n: int, res: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n images in [-1, 1] at res (area-downsampled), randomly flipped, and their one-hot styles."""
        dev = self.images.device
        idx = torch.randint(0, self.images.shape[0], (n,), generator=gen, device=gen.device).to(dev)
        x = self.images[idx].float() / 127.5 - 1
        flip = (torch.rand(n, generator=gen, device=gen.device) < 0.5).to(dev)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        if x.shape[-1] != res:
            x = F.adaptive_avg_pool2d(x, res)
        return x, F.one_hot(self.labels[idx], len(self.families)).float()


def random_styles(n: int, n_styles: int, device: torch.device) -> torch.Tensor:
    """One-hot styles drawn uniformly: each family gets the same share of the generator's steps."""
    return F.one_hot(torch.randint(0, n_styles, (n,), device=device), n_styles).float()


def paired_styles(n: int, n_styles: int, device: torch.device) -> torch.Tensor:
    """Styles whose two halves match row for row (row i and row i + n//2): mode seeking compares
    exactly those pairs, so it asks two noises of one style for two layouts, and a change of style
    cannot pass for variety."""
    half = random_styles(n // 2, n_styles, device)
    return torch.cat([half, half, random_styles(n - 2 * (n // 2), n_styles, device)])
