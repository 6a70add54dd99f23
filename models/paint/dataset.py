"""The training set on disk: .npz shards of ~1000 images plus a dataset.json manifest.

Shard i is painted from its own seed (mixed from the set's seed and i), so shards can
be painted by any number of worker processes, in any order, and the bytes are the
same. The manifest lists every shard, so a missing or truncated one is named, not
silently skipped.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

from models.paint.families import FAMILIES, paint_batch, substream

SHARD_SIZE = 1000
MANIFEST = "dataset.json"
LICENCE = (
    "MIT, like the project: every image is painted by code in models/paint (no third-party "
    "images, textures or fonts); rebuild with `python -m models.paint` and the same seed."
)


class DatasetError(RuntimeError):
    """A dataset folder that cannot be read back as written; the message names the file."""


def shard_name(index: int) -> str:
    return f"shard_{index:05d}.npz"


def shard_plan(count: int, shard_size: int = SHARD_SIZE) -> list[tuple[int, int]]:
    """(index, images) for every shard of a `count`-image set."""
    return [(i, min(shard_size, count - start)) for i, start in enumerate(range(0, count, shard_size))]


def paint_shard(out: Path, seed: int, index: int, n: int, size: int, device: str) -> str:
    """Paint and write one shard (atomically: a crash leaves no half-written shard)."""
    images, labels = paint_batch(substream(seed, index, 0x5EED), n, size, device)
    path = out / shard_name(index)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, path)
    return path.name


def _worker(job: tuple[Path, int, int, int, int, str, int]) -> str:
    out, seed, index, n, size, device, threads = job
    torch.set_num_threads(threads)
    return paint_shard(out, seed, index, n, size, device)


def write_dataset(
    out: Path,
    count: int,
    size: int = 256,
    seed: int = 0,
    workers: int = 1,
    device: str = "cpu",
    shard_size: int = SHARD_SIZE,
    progress: bool = False,
) -> dict:
    """Paint `count` images into `out` and write the manifest; returns the manifest."""
    if count <= 0 or workers <= 0 or shard_size <= 0:
        raise ValueError(f"count, workers and shard_size must be positive: {count}, {workers}, {shard_size}")
    if workers > 1 and torch.device(device).type != "cpu":
        raise ValueError(f"--workers {workers} is for CPU painting; on {device} use one worker")
    out.mkdir(parents=True, exist_ok=True)
    plan = shard_plan(count, shard_size)
    threads = max(1, (os.cpu_count() or 1) // workers)
    jobs = [(out, seed, i, n, size, device, threads) for i, n in plan]
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=count, unit="img")
    with contextlib.ExitStack() as stack:
        if workers == 1:
            results = map(_worker, jobs)
        else:  # spawn: a forked torch can deadlock in its thread pool
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers))
            results = pool.imap(_worker, jobs)
        for job, _name in zip(jobs, results):
            if bar:
                bar.update(job[3])
    if bar:
        bar.close()
    manifest = {
        "families": list(FAMILIES),
        "count": count,
        "size": size,
        "seed": seed,
        "shard_size": shard_size,
        "shards": [{"file": shard_name(i), "count": n} for i, n in plan],
        "device": str(device),
        "seconds": round(time.perf_counter() - start, 2),
        "licence": LICENCE,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing (not a folder written by `python -m models.paint`?)") from None
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: unreadable ({e})") from None
    for key in ("families", "count", "size", "shards"):
        if key not in manifest:
            raise DatasetError(f"{path}: no '{key}' key")
    return manifest


def load_shard(path: Path, size: int, n_families: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as z:
            images, labels = z["images"], z["labels"]
    except FileNotFoundError:
        raise DatasetError(f"{path}: shard missing") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise DatasetError(f"{path}: corrupt shard ({type(e).__name__}: {e})") from None
    want = (count, size, size, 3)
    if images.dtype != np.uint8 or images.shape != want:
        raise DatasetError(f"{path}: images {images.dtype} {images.shape}, expected uint8 {want}")
    in_range = count == 0 or 0 <= labels.min() <= labels.max() < n_families
    if labels.shape != (count,) or labels.dtype != np.int64 or not in_range:
        raise DatasetError(f"{path}: labels must be int64 [{count}] in [0, {n_families})")
    return images, labels


def load_dataset(folder: str | Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """All images uint8 [N, H, W, 3], labels int64 [N] and the family names, checked against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    families = tuple(manifest["families"])
    images, labels = [], []
    for entry in manifest["shards"]:
        im, lb = load_shard(folder / entry["file"], manifest["size"], len(families), entry["count"])
        images.append(im)
        labels.append(lb)
    total = sum(len(lb) for lb in labels)
    if total != manifest["count"]:
        raise DatasetError(f"{folder / MANIFEST}: count {manifest['count']} but the shards hold {total}")
    return np.concatenate(images), np.concatenate(labels), families
