"""A show: the `[show]` playlist of scenes (each for its duration, optionally with a preset), looped.

The show keeps its own clock, advanced by the frame times the pipeline passes in (the injected
clock), so an offline render of a show is exact and a paused show simply stops counting. What it
decides is only which entry is due; the director (engine.director) plays it, through the same
crossfade as any switch. Entries are checked at the start (`check_show`): an unknown scene or a
preset saved for another scene stops the start with one line naming the key.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from engine.config_meta import ConfigError
from engine.presets import PresetError, Presets
from engine.scene_settings import ScenesSettings, ShowEntry, ShowSettings


class Show:
    def __init__(self, entries: Sequence[ShowEntry], paused: bool = False) -> None:
        self.entries = tuple(entries)
        self.index = 0
        self.elapsed = 0.0  # seconds the current entry has played (paused time does not count)
        self.paused = paused
        self._t: float | None = None

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def current(self) -> ShowEntry:
        return self.entries[self.index]

    @property
    def upcoming(self) -> ShowEntry:
        return self.entries[(self.index + 1) % len(self.entries)]

    @property
    def remaining(self) -> float:
        return max(0.0, self.current.duration_s - self.elapsed)

    def tick(self, t: float) -> ShowEntry | None:
        """Count the time since the last tick; the entry to play now when one is due, else None."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        if not self.entries or self.paused:
            return None
        self.elapsed += dt
        due = None
        while self.elapsed >= self.current.duration_s:  # the overshoot carries: no drift over a day
            self.elapsed -= self.current.duration_s
            self.index = (self.index + 1) % len(self.entries)
            due = self.current
        return due

    def skip(self, delta: int) -> ShowEntry:
        """/show/next (+1) and /show/prev (-1): that entry from its start."""
        self.index = (self.index + delta) % len(self.entries)
        self.elapsed = 0.0
        return self.current

    def pause(self, value: bool | None = None) -> bool:
        """Hold (True), play on (False) or toggle (None); returns whether the show is paused now."""
        self.paused = (not self.paused) if value is None else bool(value)
        return self.paused

    def status(self) -> dict:
        e = self.current
        return {
            "entry": self.index + 1,
            "of": len(self.entries),
            "scene": e.scene,
            "preset": e.preset,
            "remaining_s": round(self.remaining, 1),
            "next": self.upcoming.scene,
            "paused": self.paused,
        }

    def hud(self) -> str:
        s = self.remaining
        left = f"{int(s // 60)}:{int(s % 60):02d}"
        held = "  (paused)" if self.paused else ""
        preset = f" [{self.current.preset}]" if self.current.preset else ""
        return (
            f"show {self.index + 1}/{len(self.entries)} {self.current.scene}{preset} {left} left"
            f"  next: {self.upcoming.scene}{held}"
        )


def check_show(show: ShowSettings, scenes: ScenesSettings, known: Collection[str], presets: Presets) -> None:
    """Every playlist entry names a scene that exists and a preset (if any) of that scene; the idle
    scene exists. ConfigError naming the key otherwise."""
    available = ", ".join(sorted(known))
    for i, e in enumerate(show.entries):
        key = f"show.entries[{i}]"
        if e.scene not in known:
            raise ConfigError(f"{key}.scene = '{e.scene}': unknown scene (available: {available})")
        if e.preset:
            try:
                preset = presets.load(e.preset)
            except PresetError as err:
                raise ConfigError(f"{key}.preset = '{e.preset}': {err}") from None
            if preset.scene and preset.scene != e.scene:
                raise ConfigError(
                    f"{key}.preset = '{e.preset}' is a preset of scene '{preset.scene}', not '{e.scene}'"
                )
    if scenes.idle and scenes.idle not in known:
        raise ConfigError(f"scenes.idle = '{scenes.idle}': unknown scene (available: {available})")
