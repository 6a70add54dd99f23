"""Azimuthally averaged power spectrum: how much energy a set of images has at each spatial frequency.

Generators that blur lose power at high frequencies; transposed convolutions and upsampling leave
excess power (checkerboards) there (Durall et al. 2020). Comparing the generated curve with the
data's on a log scale shows both, independent of where in the image the detail sits. Images are
grey (Rec. 601 luma), mean-subtracted and Hann-windowed so the image border does not add a cross of
spurious power; the power is averaged over images before the log.
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def radial_profile(images: np.ndarray, batch: int = 64) -> np.ndarray:
    """uint8 [N, S, S, 3] → log10 mean power per integer radius 0..S/2 (cycles per image)."""
    size = images.shape[1]
    if images.shape[2] != size:
        raise ValueError(f"the spectrum needs square images, got {images.shape[1:3]}")
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    power = np.zeros((size, size), np.float64)
    for s in range(0, len(images), batch):
        grey = images[s : s + batch].astype(np.float32) @ LUMA / 255.0
        grey -= grey.mean(axis=(1, 2), keepdims=True)
        f = np.fft.fftshift(np.fft.fft2(grey * window), axes=(1, 2))
        power += (np.abs(f) ** 2).sum(axis=0)
    power /= len(images)
    yy, xx = np.indices((size, size)) - size // 2
    radius = np.round(np.hypot(yy, xx)).astype(int).ravel()
    keep = radius <= size // 2  # corners hold frequencies only some directions reach
    total = np.bincount(radius[keep], weights=power.ravel()[keep], minlength=size // 2 + 1)
    count = np.bincount(radius[keep], minlength=size // 2 + 1)
    return np.log10(total / np.maximum(count, 1) + 1e-12)


def spectrum_gap(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Mean |Δ log10 power| (decades) over the high-frequency half and over all non-zero frequencies.

    `signed_high` tells which way: negative is missing high-frequency energy (blur), positive excess
    (noise, checkerboards)."""
    if reference.shape != other.shape:
        raise ValueError(f"spectra of different sizes: {reference.shape} vs {other.shape}")
    diff = other - reference
    nyquist = len(reference) - 1
    high = diff[nyquist // 2 + 1 :]
    return {
        "high": round(float(np.abs(high).mean()), 4),
        "all": round(float(np.abs(diff[1:]).mean()), 4),
        "signed_high": round(float(high.mean()), 4),
    }
