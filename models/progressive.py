"""Pieces that let the same generator and discriminator train at lower resolutions.

The skip-connected generator already builds its image as a sum of per-resolution
RGB contributions, so stopping early gives a valid lower-resolution image; the
discriminator gets one RGB entry per resolution and blends the new, finer one
in (ProGAN fade) while it is still untrained.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from models.networks import Discriminator, EqualConv2d, Generator, upsample2x


def synthesize_at(g: Generator, w: torch.Tensor, resolution: int, alpha: float = 1.0) -> torch.Tensor:
    """Image at `resolution`, with the finest RGB contribution scaled by `alpha`."""
    syn = g.synthesis
    x = syn.initial(w)
    img = None
    for i, (res, layers, torgb) in enumerate(zip(syn.resolutions, syn.blocks, syn.torgbs)):
        if res > resolution:
            break
        if i > 0:
            x = upsample2x(x)
        for layer in layers:
            x = layer(x, w)
        rgb = torgb(x, w)
        if res == resolution and alpha < 1.0:
            rgb = rgb * alpha
        img = rgb if img is None else upsample2x(img) + rgb
    return img


class ProgressiveDiscriminator(Discriminator):
    def __init__(self, resolution: int = 256, entry_resolutions: tuple[int, ...] = (64, 128, 256)) -> None:
        super().__init__(resolution)
        self.resolution = resolution
        self.entries = nn.ModuleDict()
        for res in entry_resolutions:
            if res == resolution:
                continue
            block = self.blocks[int(math.log2(resolution // res))]
            self.entries[str(res)] = EqualConv2d(3, block.conv1.in_channels, 1)

    def fromrgb_at(self, res: int) -> nn.Module:
        return self.fromrgb if res == self.resolution else self.entries[str(res)]

    def forward(self, img: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:  # type: ignore[override]
        res = img.shape[-1]
        first = int(math.log2(self.resolution // res))
        x = F.leaky_relu(self.fromrgb_at(res)(img), 0.2)
        if alpha < 1.0 and str(res // 2) in self.entries:
            x = self.blocks[first](x)
            coarse = F.leaky_relu(self.fromrgb_at(res // 2)(F.avg_pool2d(img, 2)), 0.2)
            x = alpha * x + (1 - alpha) * coarse
            first += 1
        for block in self.blocks[first:]:
            x = block(x)
        return self.head(x)
