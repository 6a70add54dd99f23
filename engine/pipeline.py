"""The stages built from one Config, and the per-frame step they share.

Realtime and offline mode call the very same `Pipeline` methods; only who
calls them, and with which clock, differs. That is what makes an offline run
a faithful, deterministic rendition of the installation.

Control from outside (OSC, keys, presets) arrives as `Command`s on a queue
that `advance` drains at the start of each frame, on the render thread: the
scene, the integrator and the registry's listeners never see another thread.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from calibration.learn import Rescaler
from engine import engine_params
from engine.config import Config, ConfigError
from engine.control.commands import Command, CommandQueue
from engine.control.osc.safety import LogThrottle
from engine.control.osc.sender import FrameState
from engine.control.osc.surface import OscIO
from engine.director import Director
from engine.generator import build_generator
from engine.generator.manifest import load_manifest
from engine.idle import someone_there
from engine.latent import LatentIntegrator
from engine.messages import RenderInput, Target, Viewer
from engine.metrics import Metrics
from engine.params import ParamRegistry
from engine.perception.features import neutral_features
from engine.presets import Preset, PresetError, Presets
from engine.scene import Scene, SceneInputs, scene_class, scene_names
from engine.show import check_show
from engine.styles import from_manifest
from engine.sync import SyncTracker

log = logging.getLogger(__name__)

COALESCED = frozenset({"jump", "seed", "scene", "preset_load", "refresh"})


def absent_viewer(t: float, index: int = -1) -> Viewer:
    """What the scene sees when no frame has been perceived (no camera yet, attract mode)."""
    return Viewer(features=neutral_features(), capture_time=t, frame_index=index)


def calibration_line(room: object) -> str:
    """The HUD's line of calibration files in use ("calibration: camera screen zone"); "none" only
    when a folder was given and holds none, nothing when no calibration was asked for."""
    active = room.active() if hasattr(room, "active") else []
    if active:
        return "calibration: " + " ".join(active)
    return "calibration: none" if getattr(room, "folder", None) is not None else ""


@dataclass
class Step:
    latent: np.ndarray
    target: Target
    viewer: Viewer
    t: float = 0.0  # the clock time `advance` ran at
    dissolve: float = 1.0  # share of the live picture over the one held at the last switch (1 = none)
    cut: int = 0  # counts scene switches: a new value holds the picture on screen for the dissolve


class Pipeline:
    def __init__(
        self, cfg: Config, metrics: Metrics | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.cfg = cfg
        self.clock = clock or time.monotonic  # realtime clock: when commands are due
        self.metrics = metrics or Metrics()
        # [params] is checked before the models load (only the manifest's direction count is needed):
        # a typo there is the start's one line, not the third after the providers' log lines.
        self.params = ParamRegistry()
        manifest = load_manifest(cfg.run.model)
        self.styles = from_manifest(manifest)  # a class-conditional model's styles: style.<name> params
        engine_params.declare(self.params, len(manifest.directions))
        for spec in self.styles.specs():
            self.params.declare(spec)
        for name in scene_names():  # every scene's parameters: set the next scene's before switching
            for spec in scene_class(name).params:
                self.params.declare(spec)
        try:
            style = self.styles.config_values(cfg.run.style, cfg.params)  # names the style, not every param
            self.params.check(cfg.params)
            check_show(cfg.show, cfg.scenes, scene_names(), Presets(cfg.osc.presets))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        for name, value in {**cfg.params, **style}.items():
            self.params.set(name, value, origin="config")
        self.generator = build_generator(cfg)  # here, or on the Triton server [generator] remote names
        m = self.generator.manifest
        self.metrics.info["provider"] = self.generator.provider
        self.metrics.info["model"] = m.name
        self.integrator = LatentIntegrator(
            self.generator.sample_latents,
            m.latent_mean,
            m.directions,
            m.sigma,
            m.latent_space,
            cfg.latent,
            self.styles,
        )
        self.commands = CommandQueue()
        self.sync = SyncTracker()
        self.presets = Presets(cfg.osc.presets)
        self.osc = OscIO(cfg.osc, self.params, self.commands, self.clock, scene_names())
        self.midi = None  # MIDI controllers (engine.control.midi), only when [midi] names ports
        if cfg.midi.inputs or cfg.midi.outputs:
            from engine.control.midi import MidiIO

            try:
                self.midi = MidiIO(cfg.midi, self.params, self.commands, self.clock, scene_names())
            except ValueError as e:
                raise ConfigError(str(e)) from None
        self.link = None  # Ableton Link (engine.control.link): the session's beats and tempo as sync commands
        if cfg.link.enabled:
            from engine.control.link import LinkSync

            try:
                self.link = LinkSync(cfg.link, self.commands, self.clock, offline=cfg.run.offline)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        self.warn = LogThrottle(log)
        # which scene is on (switches, the show, the idle fallback) and the crossfades between them
        self.director = Director(
            cfg.scenes,
            cfg.show,
            cfg.run.scene,
            presets=self.presets,
            apply_values=lambda preset: self.apply_preset_values(preset),
            event=lambda *args: self.osc.out.event(*args),
            warn=self.warn,
        )
        self._last_save = -1e9
        self.latent_speed = 0.0  # σ per second, of the latest step
        self.hud = cfg.run.hud
        self.sleep_request: bool | None = None  # /engine/sleep (True) or /engine/wake (False), once
        self.on_reload: Callable[[str, str], None] | None = None  # --watch: engine.watch.Watcher.apply
        self._hud_latency: dict[str, float] = {}
        # ranges.json: features rescaled to this room before the scenes see them (raw_<name> kept)
        self.rescale = Rescaler(getattr(cfg.room, "ranges", None))
        self.calibration = calibration_line(cfg.room)

    @property
    def scene(self) -> Scene:
        """The scene on screen (during a crossfade: the one fading in)."""
        return self.director.scene

    @scene.setter
    def scene(self, scene: Scene) -> None:  # a fresh instance of the same scene, no crossfade
        self.director.mixer.replace(scene)

    def start(self) -> None:
        """Open the OSC ports and announce the scene; called once the loop is about to run."""
        self.osc.start()
        if self.midi is not None:
            self.midi.start()
        if self.link is not None:
            self.link.start()
        self.osc.out.event("/scene/changed", self.scene.name)

    def advance(self, viewer: Viewer, t: float, dt: float, dim: float = 0.0) -> Step:
        """Commands → scene → target → one bounded latent step. Runs at render rate.

        `dim` (0..1) darkens the picture on top of any blackout: the opening-hours fade."""
        viewer = self.rescale(viewer)
        self.director.t = t  # a switch in this frame's commands starts its crossfade now
        self.apply_commands(t)
        self.director.tick(someone_there(viewer), t)
        params = self.params.snapshot()
        inputs = SceneInputs(
            viewer=viewer,
            t=t,
            dt=dt,
            params=params,
            directions=len(self.generator.manifest.directions),
            sync=self.sync.snapshot(t),
        )
        mixed = self.director.update(inputs)
        target = engine_params.apply(mixed.target, params)
        if dim > 0:
            u = dict(target.uniforms)
            u["blackout"] = max(u.get("blackout", 0.0), min(1.0, dim))
            target = dataclasses.replace(target, uniforms=u)
        style = self.styles.weights(params) if len(self.styles) else None
        latent = self.integrator.step(
            target.directions, dt, drift=target.drift, speed=target.speed, style=style
        )
        if dt > 0:
            self.latent_speed = self.integrator.last_step / max(self.integrator.unit, 1e-9) / dt
        return Step(latent.copy(), target, viewer, t, mixed.dissolve, mixed.cut)

    # ------------------------------------------------------------ repairs (the watchdog's steps)
    def reset_latent(self) -> None:
        """Start the wander afresh from a new seed: clears a latent gone bad (NaN, a dead corner)."""
        self.integrator.reseed(int(np.random.default_rng().integers(0, 2**31 - 1)))

    def rebuild_generator(self) -> None:
        """A fresh ONNX Runtime session (or Triton client) for the same model (a wedged session)."""
        old = self.generator
        self.generator = build_generator(self.cfg)
        self.integrator.sampler = self.generator.sample_latents
        del old

    # ------------------------------------------------------------ commands
    def apply_commands(self, t: float) -> None:
        batch = self.commands.drain(self.clock())
        # Repeats of a costly command within one frame collapse to the last one (the end state is the
        # same): a controller hammering /latent/jump must not run the mapping network 500 times a frame.
        last = {cmd.kind: i for i, cmd in enumerate(batch) if cmd.kind in COALESCED}
        for i, cmd in enumerate(batch):
            if cmd.kind in COALESCED and last[cmd.kind] != i:
                continue
            try:
                self._apply(cmd, t)
            except Exception as e:  # noqa: BLE001 - a bad command must never end the loop
                self.warn(f"cmd:{cmd.kind}", "%s %s failed: %s", cmd.kind, cmd.args[:1], e)

    def _apply(self, cmd: Command, t: float) -> None:
        # offline time is the frame's; realtime time is when the message arrived (or its bundle time)
        at = t if self.cfg.run.offline else min(cmd.at, t)
        kind, args = cmd.kind, cmd.args
        if kind == "param":
            self.params.set(args[0], args[1], origin=cmd.origin)
        elif kind == "scene":
            self.select_scene(args[0], t)
        elif kind == "scene_step":  # keys N/P
            self.director.step(int(args[0]), t)
        elif kind == "show":  # /show/next, /show/prev, /show/pause
            self.director.command(args[0], args[1] if len(args) > 1 else None, t)
        elif kind == "jump":
            self.integrator.jump()
        elif kind == "seed":
            self.integrator.reseed(int(args[0]))
        elif kind == "beat":
            self.sync.beat(at, args[0])
        elif kind == "bpm":
            self.sync.set_bpm(at, args[0])
        elif kind == "tap":
            self.sync.tap(at)
        elif kind == "level":
            self.sync.set_level(at, args[0])
        elif kind == "bands":
            self.sync.set_bands(at, args[0])
        elif kind == "preset_save":
            self.save_preset(args[0])
        elif kind == "preset_load":
            self.load_preset(args[0], cmd.origin)
        elif kind == "refresh":
            self.osc.out.refresh()
        elif kind == "sleep":  # the runner applies it to the opening hours
            self.sleep_request = bool(args[0])
        elif kind == "midi_learn" and self.midi is not None:  # /midi/learn <param>: the next control moved
            self.midi.learn(args[0])
        elif kind == "reload" and self.on_reload is not None:  # an edited file, on the GL thread
            self.on_reload(args[0], args[1])

    def select_scene(self, name: str, t: float | None = None) -> None:
        """Crossfade to `name` (a fresh instance: nothing from an earlier visit, so no reset hook)."""
        self.director.select(name, self.director.t if t is None else t)

    def save_preset(self, name: str) -> None:
        now = self.clock()
        if now - self._last_save < 0.2:  # a stuck button must not write files at frame rate
            raise PresetError(f"preset {name}: saves come too fast; skipped")
        self._last_save = now
        path = self.presets.save(Preset(name, self.scene.name, self.params.snapshot()))
        log.info("preset %s saved to %s", name, path)
        self.osc.out.event("/preset/saved", name)

    def load_preset(self, name: str, origin: str = "preset") -> None:
        preset = self.presets.load(name)
        if preset.scene and preset.scene not in self.osc.scenes:
            # saved by another version of the piece, or hand-edited: the values still apply, the picture
            # keeps its scene, and the operator learns which name is wrong (once, however often it's loaded)
            self.warn(
                f"preset-scene:{name}",
                "preset %s: unknown scene '%s', the scene stays '%s'",
                name,
                preset.scene,
                self.scene.name,
            )
        elif preset.scene and preset.scene != self.scene.name:
            self.select_scene(preset.scene)
        self.apply_preset_values(preset)
        log.info("preset %s loaded", name)
        self.osc.out.event("/preset/loaded", name)

    def apply_preset_values(self, preset: Preset) -> None:
        """A preset's values into the registry (each echoed as feedback); unknown names are skipped."""
        name = preset.name
        unknown = [k for k in preset.params if not self.params.has(k)]
        for k, v in preset.params.items():
            if k not in unknown:
                self.params.set(k, v, origin="preset")
        if unknown:
            log.warning("preset %s: skipped unknown parameters %s", name, ", ".join(sorted(unknown)[:10]))

    # ------------------------------------------------------------ state out
    def style_status(self) -> dict[str, float]:
        """The blend the picture is heading to, style → normalised weight ({} for a model without)."""
        return {n: round(float(w), 3) for n, w in zip(self.styles.names, self.integrator.weights)}

    def publish(self, step: Step, fps: float, now: float) -> None:
        """Send this presented frame's state to the OSC targets (rate-limited per target)."""
        pcs = self.integrator.coordinates(self.cfg.osc.pcs) if self.cfg.osc.pcs else ()
        state = FrameState(
            features=step.viewer.features,
            latent_speed=self.latent_speed,
            pcs=[float(v) for v in pcs],
            fps=fps,
            skeleton=step.viewer.skeleton if self.cfg.osc.send_landmarks else None,
            crowd=step.viewer.crowd,
        )
        self.osc.publish(state, now)

    def render_input(
        self, image: np.ndarray, step: Step, note: str = "", recording: bool = False
    ) -> RenderInput:
        """`recording`: the picture goes to --record right now; the overlay then shows its red dot."""
        v = step.viewer
        return RenderInput(
            image=image,
            uniforms=step.target.uniforms,
            mask=v.mask if v.features.get("presence", 0.0) >= 0.5 else None,
            skeleton=v.skeleton if self.hud else None,
            hud_lines=self.hud_lines(v) if self.hud else (),
            note=note,
            recording=recording,
            t=step.t,
            dissolve=step.dissolve,
            cut=step.cut,
        )

    def hud_lines(self, viewer: Viewer) -> tuple[str, ...]:
        m = self.metrics
        f = viewer.features
        if m.presented % 15 == 0 or not self._hud_latency:  # percentiles over the ring: not every frame
            self._hud_latency = m.summary()["latency_ms"]
        lat = self._hud_latency
        show = self.director.hud_line()  # the show's entry and the next, idle, a crossfade under way
        return (
            f"{self.scene.name}  {m.recent_fps(self.clock()):5.1f} fps  {self.generator.provider}",
            *((show,) if show else ()),
            *((self.calibration,) if self.calibration else ()),
            f"perception {m.recent_ms('perception'):5.1f} ms  generator {m.recent_ms('generator'):5.1f} ms"
            f"  render {m.recent_ms('render'):5.1f} ms",
            f"latency p50 {lat.get('p50', 0):5.0f} ms  p95 {lat.get('p95', 0):5.0f} ms",
            f"presence {f.get('presence', 0):.0f}  smile {f.get('smile', 0):.2f}"
            f"  yaw {f.get('head_yaw', 0):+.2f}"
            f"  dist {f.get('distance', 0):.2f}",
        )

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        if self.midi is not None:
            self.midi.close()
        self.osc.close()
