"""Which scene is on, and why: an operator's switch, the show's playlist, or the idle fallback.

Three voices can ask for a scene: an operator (key N/P, `/scene/select`, a preset, `/show/next`),
the show when an entry is due, and the idle fallback when the room has been empty for a while.
They meet here, on the render thread, and every change goes through the one crossfade of
engine.transition. An operator wins: their choice ends idle (the empty room is counted again from
then). While idle, a show entry that comes due does not take the picture away from the idle scene;
when someone arrives the show's current entry (or, without a show, the scene idle replaced) comes
back. `/scene/changed <name>` goes out as a switch starts and `/scene/changed <name> end` when its
crossfade is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.control.osc.safety import LogThrottle
from engine.idle import IdleFallback
from engine.presets import Preset, PresetError, Presets
from engine.scene import Scene, SceneInputs, scene_class, scene_names
from engine.scene_settings import ScenesSettings, ShowEntry, ShowSettings
from engine.show import Show
from engine.transition import Mixed, SceneMixer

log = logging.getLogger(__name__)


class Director:
    def __init__(
        self,
        scenes: ScenesSettings,
        show: ShowSettings,
        first: str,
        *,
        presets: Presets,
        apply_values: Callable[[Preset], None],
        event: Callable[..., None],
        warn: LogThrottle,
    ) -> None:
        self.settings = scenes
        self.show = Show(show.entries, show.paused)
        start = self.show.current.scene if self.show else first  # with a show, its first entry
        self.mixer = SceneMixer(scene_class(start)(), scenes.transition_s, self._settled)
        self.idle = IdleFallback(scenes.idle_after_s) if scenes.idle else None
        self.presets, self.apply_values, self.event, self.warn = presets, apply_values, event, warn
        self._resume: str | None = None  # the scene idle replaced (without a show)
        self._started = False
        self.t = 0.0  # the latest frame time: status and HUD read progress at it

    @property
    def scene(self) -> Scene:
        return self.mixer.scene

    # ------------------------------------------------------------ switches
    def select(self, name: str, t: float, manual: bool = True) -> None:
        """Switch to `name` (crossfading); the same name only says `/scene/changed` again."""
        if manual and self.idle is not None:
            self.idle.reset(t)
            self._resume = None
        if name != self.scene.name:
            try:
                scene = scene_class(name)()  # fresh: nothing from an earlier visit, so no reset hook
            except Exception as e:  # noqa: BLE001 - its file removed while running (--watch), a bad __init__
                why = e.args[0] if isinstance(e, KeyError) and e.args else repr(e)
                self.warn(f"scene-gone:{name}", "scene %s: %s; %s stays on", name, why, self.scene.name)
                return
            self.mixer.switch(scene, t)
            log.info("scene: %s", name)
        self.event("/scene/changed", name)

    def step(self, delta: int, t: float) -> None:
        """Keys N (+1) and P (-1): the show's next or previous entry, else the next scene by name."""
        if self.show:
            self.play(self.show.skip(delta), t)
            return
        names = scene_names()
        i = names.index(self.scene.name) if self.scene.name in names else -1
        self.select(names[(i + delta) % len(names)], t)

    def command(self, what: str, value: bool | None, t: float) -> None:
        """/show/next, /show/prev, /show/pause (value None toggles)."""
        if not self.show:
            self.warn("show-none", "show: the config has no [[show.entries]]; /show/%s ignored", what)
        elif what == "pause":
            paused = self.show.pause(value)
            log.info("show %s", "paused" if paused else "playing")
        else:
            self.play(self.show.skip(1 if what == "next" else -1), t)

    def play(self, entry: ShowEntry, t: float, manual: bool = True) -> None:
        """A show entry: its scene and, if it names one, its preset's values. An entry broken since
        the start (its preset deleted, its scene file gone) is said once and skipped: the picture
        stays with the scene on screen until the next entry."""
        try:
            scene_class(entry.scene)
            preset = self._preset(entry)
        except (KeyError, PresetError) as e:
            self.warn(
                f"show:{entry.scene}:{entry.preset}",
                "show entry %d: %s; %s stays on",
                self.show.index + 1,
                e.args[0] if e.args else e,
                self.scene.name,
            )
            return
        self.select(entry.scene, t, manual)
        if preset is not None:
            self.apply_values(preset)

    def _preset(self, entry: ShowEntry) -> Preset | None:
        if not entry.preset:
            return None
        preset = self.presets.load(entry.preset)
        if preset.scene and preset.scene != entry.scene:
            raise PresetError(f"preset {entry.preset} is now a preset of scene '{preset.scene}'")
        return preset

    # ------------------------------------------------------------ per frame
    def tick(self, present: bool, t: float) -> None:
        """Before the scenes update: the show's clock and the idle fallback, at frame time t."""
        self.t = t
        if not self._started:  # the first entry is on from the start: only its preset to apply
            self._started = True
            if self.show and self.show.current.preset:
                try:
                    self.apply_values(self._preset(self.show.current))  # type: ignore[arg-type]
                except PresetError as e:
                    self.warn("show:first", "show entry 1: %s", e)
        due = self.show.tick(t) if self.show else None
        if due is not None and not (self.idle is not None and self.idle.active):
            self.play(due, t, manual=False)
        if self.idle is None:
            return
        change = self.idle.update(present, t)
        idle = self.settings.idle
        if change is True and self.scene.name != idle:
            log.info("idle: nobody for %g s, %s falls back to %s", self.idle.after_s, self.scene.name, idle)
            self._resume = self.scene.name
            self.select(idle, t, manual=False)
        elif change is False:
            if self.show and self.show.current.scene != self.scene.name:
                self.play(self.show.current, t, manual=False)
            elif not self.show and self._resume and self._resume != self.scene.name:
                self.select(self._resume, t, manual=False)
            self._resume = None

    def update(self, inputs: SceneInputs) -> Mixed:
        return self.mixer.update(inputs)

    def _settled(self, name: str) -> None:
        self.event("/scene/changed", name, "end")

    # ------------------------------------------------------------ state out
    def status(self) -> dict:
        p = self.mixer.progress(self.t)
        return {
            "scene": self.scene.name,
            "transition": round(p, 2) if p < 1.0 else None,
            "idle": bool(self.idle is not None and self.idle.active),
            "show": self.show.status() if self.show else None,
        }

    def hud_line(self) -> str:
        """What is on and what comes next, for the HUD ("" when there is nothing to say)."""
        parts = [self.show.hud()] if self.show else []
        if self.idle is not None and self.idle.active:
            parts.append(f"idle: {self.settings.idle}")
        p = self.mixer.progress(self.t)
        if p < 1.0:
            parts.append(f"crossfade to {self.scene.name} {100 * p:.0f}%")
        return "  ".join(parts)
