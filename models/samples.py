"""samples.png for a model card: an 8×8 grid of random samples and a row of interpolations.

Rendered through the engine's own runtime, so the card shows what the shipped
ONNX file really produces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.generator.onnx_generator import OnnxGenerator


def interpolation_path(gen: OnnxGenerator, a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    if gen.manifest.latent_space == "w":
        return (1 - t) * a + t * b
    omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def write_samples(model_dir: Path, path: Path, tile: int = 128, seed: int = 7) -> None:
    gen = OnnxGenerator(model_dir, provider="cpu", threads=2)
    rng = np.random.default_rng(seed)
    grid = gen.generate_rgb(gen.sample_latents(64, rng))
    ends = gen.sample_latents(2, rng)
    interp = gen.generate_rgb(interpolation_path(gen, ends[0], ends[1], 8))
    rows = [grid[i * 8 : (i + 1) * 8] for i in range(8)] + [interp]
    canvas = Image.new("RGB", (8 * tile, 9 * tile + 8), (20, 20, 20))
    for r, row in enumerate(rows):
        y = r * tile + (8 if r == 8 else 0)  # a gap marks the interpolation row
        for c, img in enumerate(row):
            canvas.paste(Image.fromarray(img).resize((tile, tile), Image.LANCZOS), (c * tile, y))
    canvas.save(path, optimize=True)
