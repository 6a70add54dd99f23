"""The engine's own parameters: blackout, motion and effect amounts on top of any scene.

Scenes declare what they control; these are what a VJ wants whatever scene
runs: a blackout fader, the speed of motion, a manual push along the first
PCA directions, and effect amounts that trim the scene's look. They live in
the same registry as the scene's parameters, so OSC, presets, keys and the
HUD treat them alike, and they are applied to the scene's Target in one pure
function, after the scene and before the latent integrator and the renderer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from engine.messages import Target
from engine.params import ParamRegistry, ParamSpec

MANUAL_DIRECTIONS = 8  # motion.dir.0 … motion.dir.7 (fewer if the model has fewer)

ENGINE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("engine.blackout", 0.0, 0.0, 1.0, "fade the picture to black: 0 = shown, 1 = black"),
    ParamSpec("motion.speed", 1.0, 0.0, 4.0, "scales the latent's speed bound (1 = [latent] speed)"),
    ParamSpec("motion.drift", 1.0, 0.0, 4.0, "scales the idle drift the scene asks for (0 = hold still)"),
    ParamSpec("fx.hue_shift", 0.0, -1.0, 1.0, "added to the scene's hue rotation, in turns"),
    ParamSpec("fx.saturation", 1.0, 0.0, 3.0, "multiplies the scene's saturation"),
    ParamSpec("fx.contrast", 1.0, 0.0, 3.0, "multiplies the scene's contrast"),
    ParamSpec("fx.brightness", 0.0, -1.0, 1.0, "added to the scene's brightness"),
    ParamSpec("fx.trails", 0.0, 0.0, 0.95, "added to the scene's feedback trails"),
    *(
        ParamSpec(f"fx.{name}", 0.0, -1.0, 1.0, f"added to the scene's {doc} (negative takes it away)")
        for name, doc in (
            ("sharpen", "contrast-adaptive sharpening"),
            ("grain", "film grain"),
            ("paper", "canvas texture"),
            ("kuwahara", "painterly Kuwahara brush size"),
        )
    ),
)
DETAIL = ("sharpen", "grain", "paper", "kuwahara")  # render uniforms 0..1 that fx.<name> adds to


def direction_specs(directions: int) -> tuple[ParamSpec, ...]:
    return tuple(
        ParamSpec(
            f"motion.dir.{i}", 0.0, -3.0, 3.0, f"push along PCA direction {i}, in σ, added to the scene's"
        )
        for i in range(min(MANUAL_DIRECTIONS, directions))
    )


def declare(registry: ParamRegistry, directions: int) -> None:
    for spec in (*ENGINE_PARAMS, *direction_specs(directions)):
        registry.declare(spec)


def apply(target: Target, p: Mapping[str, float]) -> Target:
    """The scene's target with the engine's parameters laid over it (identity at the defaults)."""
    dirs = dict(target.directions)
    for i in range(MANUAL_DIRECTIONS):
        push = p.get(f"motion.dir.{i}", 0.0)
        if push:
            dirs[i] = dirs.get(i, 0.0) + push
    u = dict(target.uniforms)
    u["blackout"] = max(u.get("blackout", 0.0), p["engine.blackout"])
    if p["fx.hue_shift"]:
        u["hue_shift"] = u.get("hue_shift", 0.0) + p["fx.hue_shift"]
    if p["fx.saturation"] != 1.0:
        u["saturation"] = u.get("saturation", 1.0) * p["fx.saturation"]
    if p["fx.contrast"] != 1.0:
        u["contrast"] = u.get("contrast", 1.0) * p["fx.contrast"]
    if p["fx.brightness"]:
        u["brightness"] = u.get("brightness", 0.0) + p["fx.brightness"]
    if p["fx.trails"]:
        u["trails"] = min(0.95, u.get("trails", 0.0) + p["fx.trails"])
    for name in DETAIL:
        if p[f"fx.{name}"]:
            u[name] = min(1.0, max(0.0, u.get(name, 0.0) + p[f"fx.{name}"]))
    return dataclasses.replace(
        target,
        directions=dirs,
        speed=target.speed * p["motion.speed"],
        drift=target.drift * p["motion.drift"],
        uniforms=u,
    )
