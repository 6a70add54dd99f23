"""Labelled training images for evaluation: shard sets (`shard_*.npz` + `dataset.json`) or PNG folders.

The metrics compare a generator with the images it learned from, and coverage needs each image's
family, so both formats give images, labels and family names. A shard set stores `images` (uint8
NHWC) and `labels` (int64) per shard and the family names in `dataset.json`; the old painterly
folders name each file `NNNNNN_<family>.png`. Very large sets are subsampled (seeded) while loading,
so memory stays bounded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


@dataclass(frozen=True)
class LabelledImages:
    images: np.ndarray  # [N, H, W, 3] uint8
    labels: np.ndarray  # [N] int64, index into families
    families: list[str]
    source: str  # "shards" | "png"


@dataclass(frozen=True)
class Split:
    """Indices of the images the classifier learns from (and memorisation compares against) and the rest."""

    train: np.ndarray
    held: np.ndarray


def _pick(total: int, limit: int | None, seed: int) -> np.ndarray:
    if limit is None or total <= limit:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=limit, replace=False))


def _load_shards(folder: Path, limit: int | None, seed: int) -> LabelledImages:
    """Through models.paint's own reader, which checks every shard against dataset.json.

    The manifest holds each shard's count, so a subsample loads only the shards it draws from.
    """
    from models.paint.dataset import DatasetError, load_shard, read_manifest

    try:
        meta = read_manifest(folder)
        families, size = list(meta["families"]), int(meta["size"])
        counts = [int(e["count"]) for e in meta["shards"]]
        keep = _pick(sum(counts), limit, seed)
        images, labels, start = [], [], 0
        for entry, n in zip(meta["shards"], counts):
            local = keep[(keep >= start) & (keep < start + n)] - start
            start += n
            if len(local):
                imgs, labs = load_shard(folder / entry["file"], size, len(families), n)
                images.append(imgs[local])
                labels.append(labs[local])
    except DatasetError as e:
        raise ValueError(str(e)) from None
    return LabelledImages(np.concatenate(images), np.concatenate(labels), families, "shards")


def _load_pngs(folder: Path, limit: int | None, seed: int) -> LabelledImages:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    names = []
    for f in files:
        _, sep, family = f.stem.partition("_")
        if not sep or not family:
            raise ValueError(f"{f}: an image folder's files must be named NNNNNN_<family>.png")
        names.append(family)
    families = sorted(set(names))
    keep = _pick(len(files), limit, seed)
    first = Image.open(files[keep[0]]).convert("RGB")
    size = first.size
    images = np.zeros((len(keep), size[1], size[0], 3), np.uint8)
    for j, i in enumerate(keep):
        img = Image.open(files[i]).convert("RGB")
        images[j] = np.asarray(img if img.size == size else img.resize(size, Image.LANCZOS))
    labels = np.array([families.index(names[i]) for i in keep], np.int64)
    return LabelledImages(images, labels, families, "png")


def load_labelled(folder: str | Path, limit: int | None = None, seed: int = 0) -> LabelledImages:
    """Images, labels and family names from a shard set or a PNG folder; at most `limit` images."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: data folder not found")
    try:
        if any(folder.glob("shard_*.npz")):
            return _load_shards(folder, limit, seed)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{folder}: unreadable shard: {e}") from None
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
        return _load_pngs(folder, limit, seed)
    raise ValueError(f"{folder}: holds neither shard_*.npz (+ dataset.json) nor NNNNNN_<family>.png images")


def split(n: int, held_fraction: float = 0.15, seed: int = 0) -> Split:
    """A fixed seeded split, so a cached classifier and its held-out accuracy stay honest across runs."""
    order = np.random.default_rng(seed).permutation(n)
    held = max(1, int(round(n * held_fraction)))
    return Split(train=np.sort(order[held:]), held=np.sort(order[:held]))


def resize(images: np.ndarray, size: int, batch: int = 256) -> np.ndarray:
    """uint8 [N, H, W, 3] → uint8 [N, size, size, 3], antialiased so downsizing does not alias detail."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    out = np.empty((len(images), size, size, 3), np.uint8)
    for s in range(0, len(images), batch):
        x = torch.from_numpy(images[s : s + batch]).permute(0, 3, 1, 2).float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[s : s + batch] = y.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    return out
