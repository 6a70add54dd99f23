"""A real, tiny class-conditional model exported with the project's exporter, for the style tests.

The shipped conditional model (models/paintbox) is 20 MB and 19 ms a frame; the engine's side of the
contract is tested on this one, which builds in a second: a mapping network fed noise ⊕ style
weights, a synthesis network, both through `models.export.export_generator` like any model, so
manifest, ONNX files and sampler are the real ones.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from models.export import export_generator

STYLES = ("marble", "watercolour", "glass")
Z_DIM, W_DIM, SIZE = 8, 16, 16
TRUNCATION = 0.7


def build_networks(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(mapping: [B, Z_DIM + len(STYLES)] → [B, W_DIM], synthesis: [B, W_DIM] → [B, 3, SIZE, SIZE])."""
    torch.manual_seed(seed)
    first = nn.Linear(Z_DIM + len(STYLES), W_DIM)
    with torch.no_grad():  # each style well apart from the others, as a trained model's families are
        first.weight[:, Z_DIM:] *= 6.0
    mapping = nn.Sequential(first, nn.LeakyReLU(0.2), nn.Linear(W_DIM, W_DIM)).eval()
    synthesis = nn.Sequential(
        nn.Linear(W_DIM, 3 * SIZE * SIZE), nn.Unflatten(1, (3, SIZE, SIZE)), nn.Tanh()
    ).eval()
    return mapping, synthesis


def export_styled_model(folder: Path, styles: list | None = None, seed: int = 0) -> Path:
    """Export the tiny model; `styles` as export_generator takes them (default: names, centres estimated)."""
    mapping, synthesis = build_networks(seed)
    return export_generator(
        synthesis,
        folder,
        W_DIM,
        mapping=mapping,
        mapping_input_dim=Z_DIM + len(STYLES),
        styles=list(STYLES) if styles is None else styles,
        truncation=TRUNCATION,
        n_directions=4,
        pca_samples=512,
        license="test",
    )
