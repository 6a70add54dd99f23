"""pulse: for VJ sets — keyframes on the bar lines, effects on the beat, the sound's bands in the picture.

Nobody has to stand in front of it (no camera needed); the music plays it. The picture visits
`pulse.bars` keyframes, one per bar, and after that many bars is back at the first: a loop a VJ can
count on, like a sampler's. Each bar holds its keyframe, then glides (eased slerp) to the next one over
its last `pulse.glide` share, so the new picture lands on the next bar line, where a drop or a chord
change lands. The latent trails its target (`[latent] smoothing`, 0.35 s by default, and a speed
bound), so the target runs `pulse.lead_s` ahead and the bound is raised (`pulse.speed`): it is the
picture, not the target, that has to arrive on the bar line (at 120 bpm the latent is 4–17 % of a leg
short of the keyframe on the bar line, against 11–82 % with neither). Every beat kicks the effects
(brightness, contrast, colour, sharpening; the trails clear), harder on the bar's first beat, and decays
within an eighth of a beat: the picture breathes with the kick drum instead of wobbling on a sine. Audio
bands (low to high, folded into four groups) push four further directions, so the bass and the hats shape
the picture between the bar lines, and the overall level speeds up the glide.

Tempo: `/sync/bpm` and `/sync/beat` from a sound system, else a tap tempo (`/sync/tap`, key T), else
`pulse.bpm`. The scene counts beats itself and locks that count to the sync's beat phase, so the loop
neither stops when the beats pause nor drifts against them; an incoming beat index (`/sync/beat i`)
sets the count, so a sequencer's bar lines are the scene's bar lines. The integrator's own wander is
held still (drift 0): what moves is the loop, so it really comes back to where it started.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.keyframes import add_offsets, as_offsets, key_dims, keyframe, tour
from engine.messages import Target
from engine.params import ParamSpec
from engine.scene import Scene, SceneInputs, register

BAND_GROUPS = 4
OFF_BEAT = 0.65  # a beat that is not the bar's first kicks this much of a downbeat


def band_groups(sync: Mapping[str, float], groups: int = BAND_GROUPS) -> list[float]:
    """The bands sync carries folded into at most `groups` contiguous averages, lowest first."""
    n = int(sync.get("bands", 0.0))
    values = [sync.get(f"band_{i}", 0.0) for i in range(n)]
    if not values:
        return []
    k = min(groups, len(values))
    edges = [round(j * len(values) / k) for j in range(k + 1)]
    return [sum(values[a:b]) / (b - a) for a, b in zip(edges, edges[1:])]


def beat_pulse(pos: float, bpm: float) -> float:
    """1 on the beat, decaying with the tracker's time constant (at most an eighth of a beat)."""
    since = (pos - math.floor(pos)) * 60.0 / bpm
    return math.exp(-since / min(0.1, 7.5 / bpm))


@register
class PulseScene(Scene):
    name = "pulse"
    description = "VJ loop: keyframes on bar lines, effects kick on the beat, audio bands push directions"
    params = (
        ParamSpec("pulse.bpm", 120.0, 40.0, 240.0, "tempo when neither sync nor a tap tempo gives one"),
        ParamSpec("pulse.bars", 4, 1, 16, "bars per loop: one keyframe on each bar line", kind="int"),
        ParamSpec("pulse.beats", 4, 1, 16, "beats per bar", kind="int"),
        ParamSpec("pulse.glide", 0.5, 0.05, 1.0, "share of a bar spent gliding into the next bar's keyframe"),
        ParamSpec("pulse.seed", 11, 0, 9999, "which keyframes: another seed, another loop", kind="int"),
        ParamSpec("pulse.depth", 1.8, 0.0, 3.0, "keyframes' distance from the base picture, σ per direction"),
        ParamSpec("pulse.kick", 1.0, 0.0, 2.0, "how hard each beat kicks the effects; 0 = no pulse"),
        ParamSpec("pulse.bands", 1.5, 0.0, 3.0, "σ a band group at full level pushes its direction"),
        ParamSpec("pulse.speed", 4.0, 0.5, 8.0, "latent speed bound (× [latent] speed): sharper glides"),
        ParamSpec("pulse.lead_s", 0.35, 0.0, 2.0, "aim this far ahead, so the picture lands on the bar line"),
        ParamSpec("pulse.hue", 0.1, 0.0, 0.5, "hue swing over the loop, in turns"),
        ParamSpec("pulse.trails", 0.25, 0.0, 0.95, "feedback trails between beats; each beat clears them"),
    )

    def __init__(self) -> None:
        self.pos: float | None = None  # beats counted since the scene started (or the sequencer's index)
        self.count_seen: float | None = None  # the sync's beat_count at the previous update

    def beats(self, inputs: SceneInputs) -> tuple[float, float]:
        """(position in beats, bpm) for this frame: counted here, locked to the sync's beat."""
        s = inputs.sync
        bpm = s.get("bpm", 0.0)
        synced = bpm > 0
        if not synced:
            bpm = inputs.params["pulse.bpm"]
        expected = 0.0 if self.pos is None else self.pos + max(0.0, inputs.dt) * bpm / 60.0
        count = s.get("beat_count", 0.0)
        if synced:
            phase = s.get("beat_phase", 0.0)
            if self.count_seen is None or count != self.count_seen:
                # a beat arrived (or the first frame of a synced run): its index is the count, so the
                # bar lines follow the sender's (Link's bar) from the first frame on
                pos = count + phase
            else:  # between beats, or a tempo without beats: keep counting, on the sync's phase
                pos = round(expected - phase) + phase
        else:
            pos = expected
        self.pos, self.count_seen = pos, count
        # what is read from it is rounded to a millionth of a beat: a beat computed as 3.9999999 is the
        # 4th beat's downbeat, not the end of the 3rd (the count itself keeps every digit, so no drift)
        return round(pos, 6), bpm

    def update(self, inputs: SceneInputs) -> Target:
        p = inputs.params
        pos, bpm = self.beats(inputs)
        per_bar, bars = int(p["pulse.beats"]), int(p["pulse.bars"])
        offsets: dict[int, float] = {}
        dims = key_dims(inputs.directions)
        if dims:
            seed = int(p["pulse.seed"])
            keys = [keyframe(seed, i, dims, p["pulse.depth"]) for i in range(bars)]
            ahead = p["pulse.lead_s"] * bpm / 60.0  # the latent trails its target by its smoothing
            offsets = as_offsets(tour(keys, (pos + ahead) / per_bar, p["pulse.glide"]))
        first = dims if dims + BAND_GROUPS <= inputs.directions else 0
        for j, level in enumerate(band_groups(inputs.sync)):
            if first + j < inputs.directions:
                sign = 1.0 if j % 2 == 0 else -1.0  # alternate, so a loud mix does not tilt one way
                add_offsets(offsets, {first + j: sign * p["pulse.bands"] * level})
        downbeat = math.floor(pos) % per_bar == 0
        kick = p["pulse.kick"] * beat_pulse(pos, bpm) * (1.0 if downbeat else OFF_BEAT)
        loop = 2 * math.pi * pos / (per_bar * bars)
        uniforms = {
            "mirror": 0.0,
            "mask_mix": 0.0,
            "trails": p["pulse.trails"] * (1.0 - 0.8 * min(kick, 1.0)),
            "intensity": 1.0 + 0.3 * kick,
            "contrast": 1.0 + 0.25 * kick,
            "saturation": 1.1 + 0.4 * kick,
            "sharpen": min(1.0, 0.5 * kick),
            "brightness": 0.0,
            "hue_shift": p["pulse.hue"] * math.sin(loop),
        }
        level = inputs.sync.get("level", 0.0)
        return Target(
            directions=offsets,
            speed=p["pulse.speed"] * (1.0 + level),
            drift=0.0,
            uniforms=uniforms,
            capture_time=inputs.viewer.capture_time,
        )
