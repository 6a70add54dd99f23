"""The conditional generator and discriminator, built from the project's StyleGAN parts.

The style enters only through the mapping network, so the synthesis network, its
ONNX export and the engine's w-space contract stay exactly those of an
unconditional model: the engine steers a style by where in w it walks. The style
is given as a vector of weights (one-hot picks a family, a mix blends), and its
embedding is linear in those weights, so a crossfade between styles is a
crossfade of embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from models.networks import DiscriminatorBlock, EqualConv2d, EqualLinear, GeneratorConfig, SynthesisNetwork


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class StyleMapping(nn.Module):
    """(z, style weights) → w, StyleGAN2-ADA's conditioning: both normalised, concatenated, an MLP."""

    def __init__(self, z_dim: int, n_styles: int, w_dim: int, layers: int) -> None:
        super().__init__()
        self.z_dim, self.n_styles = z_dim, n_styles
        self.embed = EqualLinear(n_styles, z_dim)
        dims = [2 * z_dim] + [w_dim] * layers
        self.fcs = nn.ModuleList(EqualLinear(a, b, lr_mul=0.01) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        x = torch.cat([_normalise(z), _normalise(self.embed(styles))], dim=1)
        for fc in self.fcs:
            x = F.leaky_relu(fc(x), 0.2) * math.sqrt(2)
        return x


class PackedMapping(nn.Module):
    """The mapping with one input, z ⊕ style weights, as the engine's manifest contract asks."""

    def __init__(self, mapping: StyleMapping) -> None:
        super().__init__()
        self.mapping = mapping

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        z_dim = self.mapping.z_dim
        return self.mapping(packed[:, :z_dim], packed[:, z_dim:])


@dataclass(frozen=True)
class StyleGANConfig:
    """A generator's shape plus its styles, in the order of the dataset's labels."""

    styles: tuple[str, ...]
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    d_channels: dict[int, int] = field(
        default_factory=lambda: {512: 16, 256: 32, 128: 64, 64: 128, 32: 256, 16: 256, 8: 256, 4: 256}
    )

    def to_dict(self) -> dict:
        return {
            "styles": list(self.styles),
            "generator": self.generator.to_dict(),
            "d_channels": {str(k): v for k, v in self.d_channels.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> StyleGANConfig:
        return cls(
            styles=tuple(d["styles"]),
            generator=GeneratorConfig.from_dict(d["generator"]),
            d_channels={int(k): int(v) for k, v in d["d_channels"].items()},
        )


# The CPU student: one ONNX Runtime thread renders a 256² frame in about 19 ms (budget 25); twice
# the old model's channels at 256², where fine detail is drawn, for the same cost.
STUDENT = GeneratorConfig(
    z_dim=128,
    w_dim=256,
    resolution=256,
    channels={4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 16},
    double_conv=(4, 8, 16),
)
# The GPU teacher at 512², distilled into the student; same w space size, so it shares the mapping.
TEACHER = GeneratorConfig(
    z_dim=128,
    w_dim=256,
    resolution=512,
    channels={4: 256, 8: 256, 16: 256, 32: 192, 64: 128, 128: 64, 256: 32, 512: 16},
    double_conv=(4, 8, 16, 32, 64, 128, 256, 512),
)


class StyleGenerator(nn.Module):
    """(z, style weights) → w → image in about [-1, 1]; w_avg holds each style's centre in w."""

    def __init__(self, cfg: StyleGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        g = cfg.generator
        self.mapping = StyleMapping(g.z_dim, len(cfg.styles), g.w_dim, g.mapping_layers)
        self.synthesis = SynthesisNetwork(g)
        self.register_buffer("w_avg", torch.zeros(len(cfg.styles), g.w_dim))

    def forward(self, z: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z, styles))


class StyleDiscriminator(nn.Module):
    """Residual discriminator, projection-conditioned, with FastGAN's reconstruction head.

    The projection term (⟨embed(style), φ(x)⟩) asks "is this a good image of that
    style", so a generator cannot pass by painting only the easiest family. The
    decoder must rebuild a real image from the 16² features: a discriminator that
    has to describe its input cannot get by on a few memorised cues, the failure
    of GANs on small data that FastGAN fixes this way.
    """

    def __init__(self, resolution: int, n_styles: int, channels: dict[int, int]) -> None:
        super().__init__()
        ch = channels
        self.fromrgb = EqualConv2d(3, ch[resolution], 1)
        self.blocks = nn.ModuleList()
        res = resolution
        while res > 4:
            self.blocks.append(DiscriminatorBlock(ch[res], ch[res // 2]))
            res //= 2
        self.recon_at = self.blocks_until(resolution, 16)
        c16 = ch[16]
        self.decoder = nn.Sequential(
            *(self._up(c16 // 2**i, c16 // 2 ** (i + 1)) for i in range(2)),  # 16² → 64²
            EqualConv2d(c16 // 4, 3, 3),
        )
        self.final_conv = EqualConv2d(ch[4], ch[4], 3)
        self.fc = EqualLinear(ch[4] * 16, ch[4])
        self.out = EqualLinear(ch[4], 1)
        self.embed = EqualLinear(n_styles, ch[4])

    @staticmethod
    def blocks_until(resolution: int, res: int) -> int:
        return int(math.log2(resolution // res))

    @staticmethod
    def _up(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), EqualConv2d(cin, cout, 3), nn.GELU()
        )

    def features(self, img: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Activations after fromrgb and each block: the distillation's feature space."""
        x = F.leaky_relu(self.fromrgb(img), 0.2)
        feats = [x]
        for block in self.blocks[: upto if upto is not None else len(self.blocks)]:
            x = block(x)
            feats.append(x)
        return feats

    def forward(
        self, img: torch.Tensor, styles: torch.Tensor, reconstruct: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = F.leaky_relu(self.fromrgb(img), 0.2)
        recon = None
        for i, block in enumerate(self.blocks):
            if i == self.recon_at and reconstruct:
                recon = self.decoder(x)
            x = block(x)
        x = F.leaky_relu(self.final_conv(x), 0.2)
        phi = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        logit = self.out(phi) + (self.embed(styles) * phi).sum(dim=1, keepdim=True) / math.sqrt(phi.shape[1])
        return logit, recon
