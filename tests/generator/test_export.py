"""Any user's PyTorch generator exports to the contract and runs in the engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.generator.onnx_generator import OnnxGenerator
from models.export import export_generator
from models.networks import Generator, GeneratorConfig


class DCGANGenerator(nn.Module):
    """A different architecture from the shipped one: transposed convs, batch norm, tanh, z input."""

    def __init__(self, z_dim: int = 64) -> None:
        super().__init__()
        self.fc = nn.Linear(z_dim, 128 * 4 * 4)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 128, 4, 4))


def test_second_architecture_exports_and_runs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = DCGANGenerator().eval()
    folder = export_generator(g, tmp_path / "dcgan", 64, n_directions=4, pca_samples=512, license="test")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["latent"]["space"] == "z" and manifest["output"]["height"] == 32
    gen = OnnxGenerator(folder, provider="cpu")
    z = gen.sample_latents(2, np.random.default_rng(0))
    with torch.no_grad():
        expected = g(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(gen.generate(z), expected, atol=1e-4)
    assert gen.manifest.directions.shape == (4, 64)
    norms = np.linalg.norm(gen.manifest.directions, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-4)


def test_style_generator_exports_with_mapping(tmp_path: Path) -> None:
    torch.manual_seed(1)
    cfg = GeneratorConfig(
        z_dim=16, w_dim=32, mapping_layers=2, resolution=16, channels={4: 16, 8: 8, 16: 8}, double_conv=(4,)
    )
    g = Generator(cfg).eval()
    folder = export_generator(
        g.synthesis,
        tmp_path / "tiny",
        32,
        mapping=g.mapping,
        mapping_input_dim=16,
        truncation=0.5,
        n_directions=3,
        pca_samples=256,
    )
    gen = OnnxGenerator(folder, provider="cpu")
    assert gen.manifest.sampler.kind == "mapping" and (folder / "mapping.onnx").is_file()
    z = np.random.default_rng(0).standard_normal((1, 16)).astype(np.float32)
    with torch.no_grad():
        w = g.mapping(torch.from_numpy(z)).numpy()
        expected = g.synthesis(torch.from_numpy(w)).clamp(-1, 1).numpy()
    np.testing.assert_allclose(gen.generate(w), expected, atol=1e-4)


def test_rejects_non_image_output(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must output \[B, 3, H, W\]"):
        export_generator(nn.Linear(8, 8), tmp_path / "bad", 8)
