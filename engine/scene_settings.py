"""The config sections that say which scene is on when: `[scenes]` (crossfades, idle fallback) and
`[show]` (a playlist that loops).

Only the shape of the values is checked here, with the key named; whether a scene or a preset of a
playlist exists is known once the scenes load, and is checked by `engine.show.check_show` before
the models load, so a typo is still the start's one line (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config_meta import rng
from engine.presets import check_name


@dataclass(frozen=True)
class ScenesSettings:
    # 3 s: measured offline (tests/test_transition.py), mirror → drift at 3 s changes the picture no
    # faster per frame than mirror's own play (1.65 vs 2.07 mean levels); at 2 s the latent's glide
    # between the scenes' targets runs at its speed bound on an undimmed picture and is a little faster
    transition_s: float = field(default=3.0, metadata=rng(0, 60, "crossfade between scenes (0 = cut)"))
    # the scene any scene falls back to while nobody is there; "" = no fallback
    idle: str = "drift"
    idle_after_s: float = field(
        default=60.0, metadata=rng(0, 86400, "seconds without anybody before the idle scene")
    )


@dataclass(frozen=True)
class ShowEntry:
    scene: str
    duration_s: float = field(default=60.0, metadata=rng(1, 604800, "seconds this entry plays"))
    preset: str = ""  # a preset (of this scene) loaded as the entry starts; "" = the values as they are

    def validate(self) -> None:
        if not self.scene:
            raise ValueError("scene must name a scene")
        if self.preset:
            check_name(self.preset)


@dataclass(frozen=True)
class ShowSettings:
    """`[[show.entries]]` tables, played in order and looped; an empty list is no show."""

    entries: tuple[ShowEntry, ...] = ()
    paused: bool = False  # start held on the first entry until /show/pause 0
