"""Driving a scene by hand (synthetic features and sync) and offline end to end, for the scene tests."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.messages import Target, Viewer
from engine.params import ParamRegistry
from engine.perception.features import neutral_features
from engine.scene import Scene, SceneInputs, scene_class

DIRECTIONS = 16  # the shipped model's


def params(scene: str, **values: float) -> dict[str, float]:
    """The scene's parameters at their defaults, with `values` (dots written as __) set through the
    registry, so a value out of range is clamped as OSC would clamp it."""
    reg = ParamRegistry(scene_class(scene).params)
    for k, v in values.items():
        reg.set(k.replace("__", "."), v, origin="test")
    return reg.snapshot()


def inputs(
    t: float,
    dt: float = 1 / 30,
    p: Mapping[str, float] | None = None,
    sync: Mapping[str, float] | None = None,
    directions: int = DIRECTIONS,
    **features: float,
) -> SceneInputs:
    f = neutral_features()
    f.update(features)
    return SceneInputs(
        Viewer(f, t, int(t * 30)), t=t, dt=dt, params=p or {}, directions=directions, sync=sync or {}
    )


def vector(target: Target, directions: int = DIRECTIONS) -> np.ndarray:
    return np.array([target.directions.get(i, 0.0) for i in range(directions)])


@dataclass
class Run:
    digests: list[str] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    steps: list = field(default_factory=list)
    app: object = None


def offline(
    tmp_path: Path, scene: str, frames: int, source: str = "demo", on_frame=None, **param_values: float
) -> Run:
    """`frames` offline frames of `scene` at 160x90 through the real App (MediaPipe, generator, EGL)."""
    from engine.app import App
    from engine.config import load_config

    cfg = load_config(
        None,
        {
            "run": dict(
                source=source,
                headless=True,
                offline=True,
                frames=frames,
                size="160x90",
                scene=scene,
                stats=str(tmp_path / f"{scene}.json"),
            ),
            "osc": {"listen": "off"},
            "params": {k.replace("__", "."): v for k, v in param_values.items()},
        },
    )
    app = App(cfg)
    run = Run(app=app)

    def keep(rgb: np.ndarray, step) -> None:
        run.digests.append(hashlib.sha1(rgb.tobytes()).hexdigest())
        run.images.append(rgb.astype(np.float32))
        run.steps.append(step)
        if on_frame is not None:
            on_frame(app, len(run.steps) - 1)

    app.on_frame = keep
    assert app.run() == 0
    return run


def fresh(name: str) -> Scene:
    return scene_class(name)()
