"""Per-family coverage: which of the data's families a generator's samples are judged to belong to.

A GAN that drops modes still scores well on per-image quality; the histogram of the classifier's
verdicts over many samples shows the families it never paints. A family is "empty" when it gets
less than a quarter of its uniform share (1/K). The confidence-weighted shares (mean softmax
probability) count an unsure sample partly to each family, which is kinder to blends.
"""

from __future__ import annotations

import numpy as np

EMPTY_FRACTION = 0.25


def coverage(probs: np.ndarray, families: list[str]) -> dict:
    """probs [N, K] softmax outputs → shares per family, confidence-weighted shares, empty families."""
    if probs.ndim != 2 or probs.shape[1] != len(families):
        raise ValueError(f"probabilities must be [N, {len(families)}], got {list(probs.shape)}")
    k = len(families)
    hard = np.bincount(probs.argmax(1), minlength=k) / len(probs)
    soft = probs.mean(0)
    threshold = EMPTY_FRACTION / k
    empty = [f for f, s in zip(families, hard) if s < threshold]
    return {
        "shares": {f: round(float(s), 4) for f, s in zip(families, hard)},
        "weighted_shares": {f: round(float(s), 4) for f, s in zip(families, soft)},
        "empty_families": len(empty),
        "empty": empty,
        "empty_threshold": round(threshold, 4),
        "mean_confidence": round(float(probs.max(1).mean()), 4),
    }
