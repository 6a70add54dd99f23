"""Memorisation: are generated images closer to training images than new real images are?

A generator that copies its training set produces samples whose nearest training image is far
closer than a fresh real image's nearest training image. The ratio of the two medians is ~1 for a
model that generalises and ≪ 1 for one that copies. Distances are RMS differences in two spaces:
`pixels` (64² RGB in 0..1, sensitive to near-exact copies) and `features` (the classifier's 64-d
penultimate activations, sensitive to copies that moved or recoloured a little).

Blur confounds the pixel space: a smooth image is nearer everything, so a blurry model scores below
1 there without copying anything. The report therefore also shows the closest generated/training
pairs for a person to judge.
"""

from __future__ import annotations

import numpy as np

from models.metrics.data import resize

SIZE = 64


def pixel_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] → float32 [N, 64·64·3] in 0..1."""
    return resize(images, SIZE).reshape(len(images), -1).astype(np.float32) / 255.0


def nearest_distances(
    queries: np.ndarray, reference: np.ndarray, chunk: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the RMS (per component) distance to its nearest reference row, and that row."""
    ref = reference.astype(np.float64)
    ref_sq = (ref**2).sum(1)
    dist, index = np.empty(len(queries)), np.empty(len(queries), np.int64)
    for s in range(0, len(queries), chunk):
        q = queries[s : s + chunk].astype(np.float64)
        d2 = (q**2).sum(1)[:, None] + ref_sq[None] - 2 * q @ ref.T
        index[s : s + chunk] = d2.argmin(1)
        dist[s : s + chunk] = np.sqrt(np.maximum(d2.min(1), 0) / queries.shape[1])
    return dist, index


def memorisation(generated: np.ndarray, held: np.ndarray, train: np.ndarray) -> dict:
    """Vectors [N, D] of generated, held-out real and training images → nearest-distance statistics."""
    dg, nearest = nearest_distances(generated, train)
    dh, _ = nearest_distances(held, train)
    med_h = float(np.median(dh))
    return {
        "median_generated": round(float(np.median(dg)), 5),
        "median_held_out": round(med_h, 5),
        "ratio": round(float(np.median(dg)) / med_h, 4) if med_h > 0 else float("nan"),
        "distances_generated": dg,
        "distances_held_out": dh,
        "nearest_train": nearest,  # row in `train` nearest each generated image, for the closest-pairs strip
    }
