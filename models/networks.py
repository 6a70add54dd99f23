"""A small style-based GAN sized for real time on one CPU thread.

The generator follows StyleGAN2's ideas (mapping network z → w, modulated and
demodulated convolutions, skip-connected RGB outputs) but keeps the channel
counts thin at high resolution: on a CPU the cost of a 3×3 convolution grows
with H·W·Cin·Cout, so every resolution gets roughly the same budget. The
modulation is written as scale → plain conv → scale instead of per-sample
grouped weights, which exports to ONNX as ordinary Conv nodes and runs fast in
ONNX Runtime.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    z_dim: int = 128
    w_dim: int = 256
    mapping_layers: int = 4
    resolution: int = 256
    # channels per resolution; resolutions listed in `double_conv` get two convolutions
    channels: dict[int, int] = field(
        default_factory=lambda: {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}
    )
    double_conv: tuple[int, ...] = (4, 8, 16)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = {str(k): v for k, v in self.channels.items()}
        d["double_conv"] = list(self.double_conv)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        d = dict(d)
        d["channels"] = {int(k): int(v) for k, v in d["channels"].items()}
        d["double_conv"] = tuple(d["double_conv"])
        return cls(**d)


class EqualLinear(nn.Module):
    """Linear layer with runtime weight scaling (equalized learning rate)."""

    def __init__(self, cin: int, cout: int, bias_init: float = 0.0, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(cin)
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """Conv with runtime weight scaling, so Adam sees every layer at the same scale."""

    def __init__(self, cin: int, cout: int, kernel: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale = 1.0 / math.sqrt(cin * kernel * kernel)
        self.padding = kernel // 2
        self.in_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.fcs = nn.ModuleList(EqualLinear(a, b, lr_mul=0.01) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        for fc in self.fcs:
            x = F.leaky_relu(fc(x), 0.2) * math.sqrt(2)
        return x


class ModulatedConv(nn.Module):
    """Conv whose input channels are scaled by a style from w, output re-normalised."""

    def __init__(self, cin: int, cout: int, w_dim: int, kernel: int, demodulate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.scale = 1.0 / math.sqrt(cin * kernel * kernel)
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)
        self.demodulate = demodulate
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # [B, Cin]
        weight = self.weight * self.scale
        x = x * styles[:, :, None, None]
        x = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum over the kernel as a matmul: the ONNX exporter folds it into one small constant
            ones = torch.ones(weight.shape[2] * weight.shape[3], 1, dtype=weight.dtype, device=weight.device)
            wsq = (weight.square().flatten(2) @ ones).squeeze(2)  # [Cout, Cin]
            dcoef = torch.rsqrt(styles.square() @ wsq.t() + 1e-8)  # [B, Cout]
            x = x * dcoef[:, :, None, None]
        return x


class StyleLayer(nn.Module):
    def __init__(self, cin: int, cout: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(cin, cout, w_dim, 3)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = self.conv(x, w) + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * math.sqrt(2)


class ToRGB(nn.Module):
    def __init__(self, cin: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(cin, 3, w_dim, 1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.resolutions = [2**i for i in range(2, int(math.log2(cfg.resolution)) + 1)]
        c4 = cfg.channels[4]
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        # w also writes the 4×4 input, not only the styles: with a constant input alone,
        # short trainings give every sample the same layout in different colours.
        self.input_fc = EqualLinear(cfg.w_dim, c4 * 16)
        self.blocks = nn.ModuleList()
        self.torgbs = nn.ModuleList()
        cprev = c4
        for res in self.resolutions:
            c = cfg.channels[res]
            layers = [StyleLayer(cprev, c, cfg.w_dim)]
            if res in cfg.double_conv:
                layers.append(StyleLayer(c, c, cfg.w_dim))
            self.blocks.append(nn.ModuleList(layers))
            self.torgbs.append(ToRGB(c, cfg.w_dim))
            cprev = c

    def initial(self, w: torch.Tensor) -> torch.Tensor:
        return self.const + self.input_fc(w).view(w.shape[0], -1, 4, 4)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        x = self.initial(w)
        img = None
        for i, (layers, torgb) in enumerate(zip(self.blocks, self.torgbs)):
            if i > 0:
                x = upsample2x(x)
            for layer in layers:
                x = layer(x, w)
            rgb = torgb(x, w)
            img = rgb if img is None else upsample2x(img) + rgb
        return img


class Generator(nn.Module):
    """z → w → image in roughly [-1, 1], NCHW."""

    def __init__(self, cfg: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or GeneratorConfig()
        self.mapping = MappingNetwork(self.cfg.z_dim, self.cfg.w_dim, self.cfg.mapping_layers)
        self.synthesis = SynthesisNetwork(self.cfg)
        self.register_buffer("w_avg", torch.zeros(self.cfg.w_dim))

    def forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        w = self.mapping(z)
        if psi != 1.0:
            w = self.w_avg + psi * (w - self.w_avg)
        return self.synthesis(w)


class DiscriminatorBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = EqualConv2d(cin, cin, 3)
        self.conv2 = EqualConv2d(cin, cout, 3)
        self.skip = EqualConv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.leaky_relu(self.conv1(x), 0.2)
        y = F.avg_pool2d(y, 2)
        y = F.leaky_relu(self.conv2(y), 0.2)
        s = self.skip(F.avg_pool2d(x, 2))
        return (y + s) / math.sqrt(2)


class Discriminator(nn.Module):
    """Residual discriminator with a minibatch-stddev head (StyleGAN2 style)."""

    def __init__(self, resolution: int = 256, channels: dict[int, int] | None = None) -> None:
        super().__init__()
        ch = channels or {256: 8, 128: 16, 64: 32, 32: 64, 16: 128, 8: 256, 4: 256}
        self.fromrgb = EqualConv2d(3, ch[resolution], 1)
        blocks = []
        res = resolution
        while res > 4:
            blocks.append(DiscriminatorBlock(ch[res], ch[res // 2]))
            res //= 2
        self.blocks = nn.Sequential(*blocks)
        self.final_conv = EqualConv2d(ch[4] + 1, ch[4], 3)
        self.fc = EqualLinear(ch[4] * 16, ch[4])
        self.out = EqualLinear(ch[4], 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.fromrgb(img), 0.2)
        return self.head(self.blocks(x))

    def head(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        g = min(4, b)
        while b % g:
            g -= 1
        y = x.reshape(g, -1, *x.shape[1:])
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))
        std = std.reshape(-1, 1, 1, 1).repeat(g, 1, *x.shape[2:])
        x = torch.cat([x, std], dim=1)
        x = F.leaky_relu(self.final_conv(x), 0.2)
        x = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        return self.out(x)
