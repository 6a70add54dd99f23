"""Crossfades between scenes, in the latent and in the picture, and scenes that fail.

A switch never cuts. For `transition_s` both scenes keep updating and their targets are blended
with a smoothstep weight (engine.curves "smooth": it starts and ends at zero speed, so the latent's
glide has no kink at either end); the renderer meanwhile dissolves the last picture shown before
the switch into the live one with the same weight (`Mixed.dissolve`, `Mixed.cut`). A switch during
a crossfade starts from where things are: the running crossfade becomes the old side of the new
one, and the picture held is the one on screen, so nothing jumps however fast a VJ presses N.

A scene that raises in `update` is said once in the log, with its file and line; it keeps its
last good target. One that fails before it ever produced a target is dropped and the previous
side stays on: the picture goes on with the last good scene.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from engine.curves import CURVES
from engine.messages import Target
from engine.render.uniforms import UNIFORMS
from engine.scene import Scene, SceneInputs

log = logging.getLogger(__name__)

EASE = CURVES["smooth"]
NEUTRAL = Target(directions={}, drift=1.0)  # nothing ever worked: the idle wander at its usual pace
STEPPED = frozenset({"mirror"})  # on/off uniforms: the new scene's at once, the dissolve hides the flip
MAX_DEPTH = 3  # crossfades inside crossfades kept live; deeper ones are held at their last target


def blend_targets(a: Target, b: Target, w: float) -> Target:
    """`a` at w = 0, `b` at w = 1. A direction or uniform one side lacks counts as its neutral value
    (offset 0, the renderer's default), so what only one scene sets fades in or out with it."""
    w = min(max(float(w), 0.0), 1.0)
    dirs = {}
    for k in set(a.directions) | set(b.directions):
        v = (1.0 - w) * a.directions.get(k, 0.0) + w * b.directions.get(k, 0.0)
        if v:
            dirs[k] = v
    uniforms = {}
    for name in set(a.uniforms) | set(b.uniforms):
        default = UNIFORMS[name][0] if name in UNIFORMS else 0.0
        if name in STEPPED or name not in UNIFORMS:
            uniforms[name] = b.uniforms.get(name, default)
        else:
            uniforms[name] = (1.0 - w) * a.uniforms.get(name, default) + w * b.uniforms.get(name, default)
    return Target(
        directions=dirs,
        speed=(1.0 - w) * a.speed + w * b.speed,
        drift=(1.0 - w) * a.drift + w * b.drift,
        uniforms=uniforms,
        capture_time=b.capture_time,
    )


def ease(t: float, start: float, duration: float) -> float:
    """The crossfade's weight of the new side at time t (1 once it is over, or with no duration)."""
    if duration <= 0:
        return 1.0
    return EASE(min(max((t - start) / duration, 0.0), 1.0))


class GuardedScene:
    """A scene whose exceptions never reach the loop: said once, its last good target kept."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.last: Target | None = None
        self.failures = 0

    def update(self, inputs: SceneInputs) -> Target | None:
        try:
            target = self.scene.update(inputs)
            if not isinstance(target, Target):
                raise TypeError(f"update returned {type(target).__name__}, not a Target")
        except Exception as e:  # noqa: BLE001 - a scene's bug must not end the show
            self.failures += 1
            if self.failures == 1:
                frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
                where = f" ({frame.filename}:{frame.lineno})" if frame else ""
                then = "its last good target stays" if self.last else "the previous scene stays on"
                log.error("scene %s raised in update%s: %r; %s", self.scene.name, where, e, then)
            return self.last
        self.last = target
        return target


class Held:
    """A side frozen at its last target: the bottom of a deep stack of crossfades."""

    def __init__(self, target: Target) -> None:
        self.last: Target | None = target

    def update(self, inputs: SceneInputs) -> Target | None:
        return self.last


class Transition:
    """The old side (a scene, or a crossfade still running) blended into a new scene."""

    def __init__(self, old: Side, new: GuardedScene, start: float, duration: float) -> None:
        self.old, self.new = old, new
        self.start, self.duration = start, duration
        self.last: Target | None = None

    def weight(self, t: float) -> float:
        return ease(t, self.start, self.duration)

    def done(self, t: float) -> bool:
        return t >= self.start + self.duration

    def update(self, inputs: SceneInputs) -> Target | None:
        a, b = self.old.update(inputs), self.new.update(inputs)
        out = a if b is None else b if a is None else blend_targets(a, b, self.weight(inputs.t))
        self.last = out or self.last
        return out

    def prune(self, t: float, depth: int = 1) -> None:
        """Finished inner crossfades become their new scene; below MAX_DEPTH the rest is held."""
        inner = self.old
        if not isinstance(inner, Transition):
            return
        if inner.done(t):
            self.old = inner.new
        elif depth >= MAX_DEPTH:
            self.old = Held(inner.last) if inner.last is not None else inner.new
        else:
            inner.prune(t, depth + 1)


Side = GuardedScene | Held | Transition


@dataclass(frozen=True)
class Mixed:
    target: Target
    dissolve: float  # share of the live picture over the held one; 1 = no dissolve
    cut: int  # counts switches: a new value tells the renderer to hold the picture on screen now


class SceneMixer:
    """The scene on screen and the crossfades into it. `on_settled(name)` is called once when a
    crossfade is over (also after a cut, `transition_s` = 0): the second `/scene/changed`."""

    def __init__(
        self, scene: Scene, duration: float, on_settled: Callable[[str], None] = lambda name: None
    ) -> None:
        self.source: GuardedScene | Transition = GuardedScene(scene)
        self.duration = max(0.0, float(duration))
        self.on_settled = on_settled
        self.cut = 0
        self._cut_at = -math.inf
        self._settling = False

    @property
    def scene(self) -> Scene:
        """The scene switched to last (the one fading in, during a crossfade)."""
        src = self.source
        return src.new.scene if isinstance(src, Transition) else src.scene

    def progress(self, t: float) -> float:
        """How far the latest crossfade is, 0..1 (1: none running)."""
        return ease(t, self._cut_at, self.duration)

    def switch(self, scene: Scene, t: float) -> None:
        new = GuardedScene(scene)
        if self.duration > 0:
            self.source = Transition(self.source, new, t, self.duration)
            self.source.prune(t)
        else:
            self.source = new
        self.cut += 1
        self._cut_at = t
        self._settling = True

    def replace(self, scene: Scene) -> None:
        """A fresh instance of the scene on screen (an edited file) without a crossfade."""
        if isinstance(self.source, Transition):
            self.source.new = GuardedScene(scene)
        else:
            self.source = GuardedScene(scene)

    def update(self, inputs: SceneInputs) -> Mixed:
        t = inputs.t
        target = self.source.update(inputs)
        src = self.source
        if isinstance(src, Transition):
            if src.new.last is None and src.new.failures:  # never ran: back to the side before it
                self.source = src.old if not isinstance(src.old, Held) else src.new
            elif src.done(t):
                self.source = src.new
            else:
                src.prune(t)
        if self._settling and self.progress(t) >= 1.0:
            self._settling = False
            self.on_settled(self.scene.name)
        return Mixed(target or NEUTRAL, self.progress(t), self.cut)
