"""The render parameters a scene may set, in one table.

Scenes, OSC mappings and presets write these names into `Target.uniforms`; the
renderer reads them through `resolve`, so a typo or an out-of-range value from
a controller can never break a frame: unknown names are ignored, values are
clamped, non-finite values fall back to the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# name: (default, lo, hi, doc)
UNIFORMS: dict[str, tuple[float, float, float, str]] = {
    "mirror": (0.0, 0.0, 1.0, "flip image, mask and skeleton horizontally (>= 0.5 = on), like a mirror"),
    "mask_mix": (0.0, 0.0, 1.0, "silhouette effect: 0 = none, 1 = full field treatment outside the person"),
    "field_dim": (0.6, 0.0, 1.0, "how dark the field outside the silhouette is: 0 = as bright, 1 = black"),
    "field_desat": (0.7, 0.0, 1.0, "how desaturated the field outside the silhouette is: 0 = full colour"),
    "mask_edge": (0.25, 0.0, 0.5, "softness of the silhouette edge (half-width of the mask ramp)"),
    "trails": (0.0, 0.0, 1.0, "feedback: share of the previous frame kept; 0 = none, 1 = frozen picture"),
    "brightness": (0.0, -1.0, 1.0, "added to every channel after contrast (lifts or crushes blacks)"),
    "contrast": (1.0, 0.0, 3.0, "scales around mid-gray: 1 = unchanged, 0 = flat gray"),
    "saturation": (1.0, 0.0, 3.0, "0 = grayscale, 1 = unchanged, > 1 = more vivid"),
    "hue_shift": (0.0, -1.0, 1.0, "hue rotation in turns (0.5 = opposite colours)"),
    "intensity": (1.0, 0.0, 2.0, "output gain applied after the grade: 0 = black, 1 = unchanged"),
    "blackout": (0.0, 0.0, 1.0, "fade the picture to black (HUD and note stay visible for the operator)"),
    "kuwahara": (0.0, 0.0, 1.0, "painterly anisotropic Kuwahara: brush size, 1 = 1.5 generator texels"),
    "sharpen": (0.0, 0.0, 1.0, "contrast-adaptive sharpening of the upscale (no halos): 1 = strongest"),
    "paper": (0.0, 0.0, 1.0, "canvas texture multiplied in, fixed to the screen: the most it darkens"),
    "grain": (0.0, 0.0, 1.0, "film grain, strongest in mid-tones, new every frame: 1 = heavy"),
}


def defaults() -> dict[str, float]:
    """Every uniform at its default, for scenes that want a starting point."""
    return {name: spec[0] for name, spec in UNIFORMS.items()}


def resolve(values: Mapping[str, float]) -> dict[str, float]:
    """Merge a scene's values over the defaults, dropping unknown names and clamping to range."""
    out = defaults()
    for name, value in values.items():
        spec = UNIFORMS.get(name)
        if spec is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(v):
            continue
        out[name] = min(max(v, spec[1]), spec[2])
    return out
