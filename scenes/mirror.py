"""mirror: a mirrored, living GAN image that answers the viewer.

Head turn, smile, mouth, raised hands and arm span each push one PCA direction
of the generator; stepping closer intensifies every push. The viewer's
silhouette shows the generated image at full strength against a darker,
desaturated field of the same image: the person "cuts a window" into the
painting. That reads better than the reverse (a dark silhouette on a bright
painting) because the viewer's own body is where the image is most alive, so
the eye goes to the interaction. When nobody is there, the painting drifts.
With a sound system sending sync over OSC, the picture pulses on the beat and
moves faster when the music is louder (`mirror.sync` scales both; 0 = off).

The mapping from features to directions is declared data (MAPPING), not code; its curves are
the ones OSC mappings use (engine/curves.py), applied symmetrically around each feature's centre.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.curves import CURVES, signed
from engine.messages import Target
from engine.params import ParamSpec
from engine.scene import Scene, SceneInputs, register


@dataclass(frozen=True)
class FeatureMapping:
    feature: str
    direction: int  # PCA direction index
    gain: float  # σ at full feature value
    curve: str = "linear"  # a name in engine.curves.CURVES, applied symmetrically around `center`
    center: float = 0.0  # feature value that means "no push"

    def __post_init__(self) -> None:
        if self.curve not in CURVES:
            raise ValueError(
                f"mirror mapping {self.feature}: unknown curve '{self.curve}'; one of {', '.join(CURVES)}"
            )


MAPPING: tuple[FeatureMapping, ...] = (
    FeatureMapping("head_yaw", 0, 2.2, "linear"),
    FeatureMapping("head_pitch", 3, 1.6, "linear"),
    FeatureMapping("head_roll", 5, 1.6, "linear"),
    FeatureMapping("smile", 1, 2.4, "smooth", center=0.2),
    FeatureMapping("mouth_open", 2, 2.4, "ease_out", center=0.05),
    FeatureMapping("left_hand_height", 4, 2.0, "smooth", center=0.2),
    FeatureMapping("right_hand_height", 6, -2.0, "smooth", center=0.2),
    FeatureMapping("arm_span", 7, 1.8, "ease_in", center=0.3),
    FeatureMapping("lean", 8, 1.4, "linear"),
    FeatureMapping("x", 9, 1.2, "linear"),
)


def push(m: FeatureMapping, value: float) -> float:
    return m.gain * signed(m.curve, value - m.center)


@register
class MirrorScene(Scene):
    name = "mirror"
    description = "the GAN image mirrors the viewer: head, smile, mouth, hands push latent directions"
    params = (
        ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "overall strength of the viewer's pushes"),
        ParamSpec("mirror.closeness", 0.8, 0.0, 2.0, "extra strength when the viewer steps close"),
        ParamSpec("mirror.silhouette", 0.85, 0.0, 1.0, "how strongly the silhouette cuts the image"),
        ParamSpec("mirror.field_dim", 0.65, 0.0, 1.0, "darkness of the field outside the silhouette"),
        ParamSpec("mirror.trails", 0.35, 0.0, 0.95, "feedback trails at rest; motion adds more"),
        ParamSpec("mirror.idle_drift", 1.0, 0.0, 3.0, "drift speed when nobody is there"),
        ParamSpec("mirror.present_drift", 0.15, 0.0, 1.0, "drift speed while someone is there"),
        ParamSpec("mirror.mirror", 1.0, 0.0, 1.0, "flip horizontally like a mirror", kind="bool"),
        ParamSpec("mirror.sync", 1.0, 0.0, 2.0, "beat pulse and level-driven speed from OSC sync; 0 = off"),
    )

    def update(self, inputs: SceneInputs) -> Target:
        f = inputs.viewer.features
        p = inputs.params
        present = f.get("presence", 0.0) >= 0.5
        intensity = p["mirror.gain"] * (1.0 + p["mirror.closeness"] * (f.get("distance", 0.0) - 0.3))
        offsets: dict[int, float] = {}
        if present:
            for m in MAPPING:
                if m.direction < inputs.directions and m.feature in f:
                    offsets[m.direction] = offsets.get(m.direction, 0.0) + intensity * push(m, f[m.feature])
        energy = f.get("motion_energy", 0.0)
        sync = p["mirror.sync"]
        pulse = sync * inputs.sync.get("beat_pulse", 0.0)  # 0 without a sound system
        level = sync * inputs.sync.get("level", 0.0)
        uniforms = {
            "mirror": p["mirror.mirror"],
            "mask_mix": p["mirror.silhouette"] if present else 0.0,
            "field_dim": p["mirror.field_dim"],
            "trails": min(0.95, p["mirror.trails"] + 0.4 * energy),
            "saturation": 1.0 + 0.4 * f.get("smile", 0.0),
            "contrast": 1.0 + 0.15 * f.get("distance", 0.0),
            "brightness": 0.0,
            "hue_shift": 0.08 * f.get("head_roll", 0.0),
            "intensity": 1.0 + 0.25 * pulse,
        }
        drift = p["mirror.present_drift"] if present else p["mirror.idle_drift"]
        return Target(
            directions=offsets,
            speed=(1.0 + energy) * (1.0 + level),
            drift=drift * (1.0 + level),
            uniforms=uniforms,
            capture_time=inputs.viewer.capture_time,
        )
