"""The stages built from one Config, and the per-frame step they share.

Realtime and offline mode call the very same `Pipeline` methods; only who
calls them, and with which clock, differs. That is what makes an offline run
a faithful, deterministic rendition of the installation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from engine.config import Config
from engine.generator.onnx_generator import OnnxGenerator
from engine.latent import LatentIntegrator
from engine.messages import RenderInput, Target, Viewer
from engine.metrics import Metrics
from engine.osc import OscSender
from engine.params import ParamRegistry
from engine.perception.features import neutral_features
from engine.scene import Scene, SceneInputs, scene_class

log = logging.getLogger(__name__)


def absent_viewer(t: float, index: int = -1) -> Viewer:
    """What the scene sees when no frame has been perceived (no camera yet, attract mode)."""
    return Viewer(features=neutral_features(), capture_time=t, frame_index=index)


@dataclass
class Step:
    latent: np.ndarray
    target: Target
    viewer: Viewer


class Pipeline:
    def __init__(self, cfg: Config, metrics: Metrics | None = None) -> None:
        self.cfg = cfg
        self.metrics = metrics or Metrics()
        self.generator = OnnxGenerator(
            cfg.run.model, provider=cfg.generator.provider, threads=cfg.generator.threads
        )
        m = self.generator.manifest
        self.metrics.info["provider"] = self.generator.provider
        self.metrics.info["model"] = m.name
        self.integrator = LatentIntegrator(
            self.generator.sample_latents, m.latent_mean, m.directions, m.sigma, m.latent_space, cfg.latent
        )
        self.params = ParamRegistry()
        self.scene: Scene = self._make_scene(cfg.run.scene)
        for name, value in cfg.params.items():
            try:
                self.params.set(name, value, origin="config")
            except KeyError:
                known = ", ".join(s.name for s in self.params.specs())
                raise ValueError(f"params.{name}: unknown parameter (known: {known})") from None
        self.osc = OscSender(cfg.osc.out, cfg.osc.rate)
        self.hud = cfg.run.hud
        self._hud_latency: dict[str, float] = {}

    def _make_scene(self, name: str) -> Scene:
        cls = scene_class(name)
        for spec in cls.params:
            self.params.declare(spec)
        return cls()

    def advance(self, viewer: Viewer, t: float, dt: float) -> Step:
        """Scene → target → one bounded latent step. Runs at render rate."""
        inputs = SceneInputs(
            viewer=viewer,
            t=t,
            dt=dt,
            params=self.params.snapshot(),
            directions=len(self.generator.manifest.directions),
        )
        target = self.scene.update(inputs)
        latent = self.integrator.step(target.directions, dt, drift=target.drift, speed=target.speed)
        return Step(latent.copy(), target, viewer)

    def render_input(self, image: np.ndarray, step: Step, note: str = "") -> RenderInput:
        v = step.viewer
        return RenderInput(
            image=image,
            uniforms=step.target.uniforms,
            mask=v.mask if v.features.get("presence", 0.0) >= 0.5 else None,
            skeleton=v.skeleton if self.hud else None,
            hud_lines=self.hud_lines(v) if self.hud else (),
            note=note,
        )

    def hud_lines(self, viewer: Viewer) -> tuple[str, ...]:
        m = self.metrics
        f = viewer.features
        if m.presented % 15 == 0 or not self._hud_latency:  # percentiles over the ring: not every frame
            self._hud_latency = m.summary()["latency_ms"]
        lat = self._hud_latency
        return (
            f"{self.scene.name}  {m.fps():5.1f} fps  {self.generator.provider}",
            f"perception {m.recent_ms('perception'):5.1f} ms  generator {m.recent_ms('generator'):5.1f} ms"
            f"  render {m.recent_ms('render'):5.1f} ms",
            f"latency p50 {lat.get('p50', 0):5.0f} ms  p95 {lat.get('p95', 0):5.0f} ms",
            f"presence {f.get('presence', 0):.0f}  smile {f.get('smile', 0):.2f}"
            f"  yaw {f.get('head_yaw', 0):+.2f}"
            f"  dist {f.get('distance', 0):.2f}",
        )

    def close(self) -> None:
        self.osc.close()
