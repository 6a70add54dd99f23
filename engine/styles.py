"""Styles: the visual families of a class-conditional model, as weights the engine can blend.

A model with styles takes z ⊕ style weights in its mapping network, and the manifest gives each
style's centre in w. The weights are ordinary registry parameters (`style.<name>`, 0..1), so OSC,
presets, feedback and the config reach them like any other; this module only turns the registry's
values into the vector the sampler appends to z and the centre that vector stands for. Weights are
normalised here, once: all zero (nothing chosen) means every style equally, the model's own mix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.params import ParamSpec

if TYPE_CHECKING:
    from engine.generator.manifest import Manifest

PREFIX = "style."  # registry names: style.<name>


@dataclass(frozen=True)
class Styles:
    names: tuple[str, ...]
    means: np.ndarray  # [S, D] each style's centre in w

    def __len__(self) -> int:
        return len(self.names)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(PREFIX + n for n in self.names)

    def specs(self) -> tuple[ParamSpec, ...]:
        return tuple(
            ParamSpec(PREFIX + n, 0.0, 0.0, 1.0, f"weight of the model's style '{n}' (all 0: every style)")
            for n in self.names
        )

    def uniform(self) -> np.ndarray:
        return np.full(len(self), 1.0 / max(1, len(self)), np.float32)

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Non-negative, summing to 1; all zero (or nothing finite) → uniform."""
        w = np.nan_to_num(np.asarray(raw, np.float64), nan=0.0, posinf=0.0, neginf=0.0).clip(0.0, None)
        total = float(w.sum())
        return (w / total).astype(np.float32) if total > 1e-12 else self.uniform()

    def weights(self, values: Mapping[str, float]) -> np.ndarray:
        """The normalised weight vector from registry values (a snapshot, or any name → weight)."""
        return self.normalise(np.array([values.get(p, 0.0) for p in self.params]))

    def centre(self, weights: np.ndarray) -> np.ndarray:
        """Where in w a blend of styles sits: the weights' mix of the centres."""
        return (np.asarray(weights, np.float32) @ self.means).astype(np.float32)

    def append(self, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The mapping network's input: noise [B, z_dim] ⊕ the weights on every row."""
        rows = np.broadcast_to(np.asarray(weights, np.float32), (len(z), len(self)))
        return np.concatenate([z.astype(np.float32), rows], axis=1)

    def unknown(self, name: str) -> str:
        """The one message for a style this model does not have (config, OSC and reload alike)."""
        if not self.names:
            return f"no style '{name}': this model has no styles"
        return f"no style '{name}' in this model (its styles: {', '.join(sorted(self.names))})"

    def config_values(self, style: Mapping[str, float], params: Mapping[str, float]) -> dict[str, float]:
        """Every style parameter's value as the config gives it: `[run] style` or `[params] style.*`,
        styles not named at 0 (so a reload from "marble" to "glass" ends marble, not blends it).

        Raises ValueError naming the key for a style the model lacks: a typo stops the start."""
        named = [k for k in params if k.startswith(PREFIX)]
        for key in named:
            if key not in self.params:
                raise ValueError(f"params.{key}: {self.unknown(key[len(PREFIX) :])}")
        for name in style:
            if name not in self.names:
                raise ValueError(f"run.style: {self.unknown(name)}")
        if style and named:
            raise ValueError("run.style and params.style.* both set the style: keep one of them")
        if style:
            return {PREFIX + n: float(style.get(n, 0.0)) for n in self.names}
        return {p: float(params.get(p, 0.0)) for p in self.params}


NO_STYLES = Styles((), np.zeros((0, 0), np.float32))


def from_manifest(manifest: Manifest) -> Styles:
    """The styles a loaded manifest declares (NO_STYLES for a model without them)."""
    if not manifest.styles:
        return NO_STYLES
    return Styles(manifest.styles, manifest.style_means)
