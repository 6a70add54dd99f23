"""What a training checkpoint holds and leaves behind.

Resume is only exact if the checkpoint holds every random stream the next step
draws from, at its current position, not a seed: reseeding a stream at the
resume step replays a different sequence than the run that never stopped. The
loop draws latents from torch's global generator and picks and flips real
images with its own data generator. numpy's and Python's global generators are
not drawn from today; they are kept too, so an augmentation added later that
uses them does not silently break resume.

Beside the state, each checkpoint leaves what a person watching a run looks at:
the loss plot and a grid of samples from the EMA generator.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch


def rng_states(data_gen: torch.Generator) -> dict[str, Any]:
    """Every random stream's position, as plain picklable objects."""
    return {
        "torch": torch.get_rng_state(),
        "data": data_gen.get_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def restore_rng(states: dict[str, Any], data_gen: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    data_gen.set_state(states["data"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write through a temporary file, so a run killed mid-write keeps its previous checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def save_grid(images: torch.Tensor, path: Path, cols: int = 8) -> None:
    from PIL import Image

    imgs = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n, h, w, _ = imgs.shape
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, im in enumerate(imgs):
        grid[(i // cols) * h : (i // cols + 1) * h, (i % cols) * w : (i % cols + 1) * w] = im
    Image.fromarray(grid).save(path)


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(8, 4))
    for key in ("loss_g", "loss_d"):
        vals = np.array([h[key] for h in history])
        k = max(1, len(vals) // 50)
        smooth = np.convolve(vals, np.ones(k) / k, mode="same")
        ax.plot(steps, smooth, label=key)
    for h in history:
        if h.get("phase_start"):
            ax.axvline(h["step"], color="grey", lw=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (smoothed)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
