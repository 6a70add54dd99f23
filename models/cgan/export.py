"""A conditional checkpoint → a model folder the engine loads, styles listed in its manifest.

Everything goes through the project's one exporter (models/export.py), which writes
each style's centre, the mapping's style_dim and steering directions found within
styles; this only unpacks the checkpoint: the synthesis, the mapping packed into
one input (z ⊕ style weights), and the per-style w centres the trainer measured.
"""

from __future__ import annotations

from pathlib import Path

import torch

from models.cgan.networks import PackedMapping
from models.cgan.trainer import load_generator
from models.export import export_generator

LICENSE = "MIT (weights and procedural training data made by this project)"


def export_style_model(
    checkpoint: Path, out: Path, *, name: str | None = None, truncation: float = 0.8, n_directions: int = 16
) -> Path:
    g = load_generator(checkpoint)
    steps = torch.load(checkpoint, map_location="cpu", weights_only=False).get("step", 0)
    cfg, styles = g.cfg.generator, g.cfg.styles
    centres = g.w_avg.detach().numpy()
    return export_generator(
        g.synthesis,
        out,
        cfg.w_dim,
        name=name,
        mapping=PackedMapping(g.mapping),
        mapping_input_dim=cfg.z_dim + len(styles),
        styles=list(zip(styles, centres)),
        truncation=truncation,
        n_directions=n_directions,
        license=LICENSE,
        training_data=f"procedural families {', '.join(styles)} (python -m models.paint), labelled",
        description=f"class-conditional style GAN, {len(styles)} styles, {cfg.resolution}², {steps} steps",
    )
