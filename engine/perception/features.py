"""The viewer feature catalogue, and pure functions from landmarks to features.

Scenes, OSC and the HUD only ever see these named floats, never landmarks, so
the catalogue is the contract: every name is always present, always inside its
range, and falls back to a documented neutral value when the body part it
comes from is not seen (a scene should not lurch because a face was lost for a
frame). Calibration constants of the expression mappings were fitted on real
photographs (skimage's astronaut portrait and its Labeled Faces in the Wild
subset, labelled by eye); see tests/perception for the checks that hold them.

Conventions (camera image as delivered by the source, not mirrored):
x right, y down. "Left"/"right" in a feature name mean the person's own side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.perception.landmarks import body_measures, face_measures, pose_head_angles


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One named feature: its range, its meaning, and its value when unseen."""

    name: str
    lo: float
    hi: float
    doc: str
    neutral: float = 0.0

    def clamp(self, value: float) -> float:
        """Clamp into range; NaN (a degenerate measurement) reads as neutral."""
        if math.isnan(value):
            return float(self.neutral)
        return float(min(self.hi, max(self.lo, value)))


_SPECS = (
    FeatureSpec("presence", 0, 1, "1 while a person is seen (with hysteresis), else 0. Not filtered."),
    FeatureSpec(
        "count",
        0,
        10,
        "People in view: poses tracked, at most [perception] max_people, only those inside the zone "
        "where zone.json exists; 0 while presence is 0. "
        "Not filtered.",
    ),
    FeatureSpec(
        "viewer_id",
        0,
        16,
        "The viewer's id, a small integer (1..16) that stays with that person while they are in view: "
        "a new value means a new viewer (the other features then glide over [perception] crossfade_s). "
        "0 while nobody is there. Not filtered.",
    ),
    FeatureSpec("x", -1, 1, "Head position across the camera image: -1 left edge, +1 right edge. Neutral 0."),
    FeatureSpec("y", -1, 1, "Head position down the camera image: -1 top edge, +1 bottom edge. Neutral 0."),
    FeatureSpec(
        "distance",
        0,
        1,
        "Closeness from face (or head/shoulder) size relative to the frame's long side, log scale: "
        "about 0 at 6 m, 0.4 at 2 m, 0.65 at 1 m, 1 at 40 cm for a 60-degree camera. Neutral 0.",
    ),
    FeatureSpec(
        "distance_m",
        0,
        20,
        "Distance from the camera in metres, from the face's width in px and the calibrated focal "
        "length (pinhole: f_px × 0.15 m / face px; an adult face is ~0.15 m wide at the cheeks), "
        "so about ±15 % from one face to another. Needs camera.json (python -m calibration camera); "
        "0 without it, and while nobody is there.",
    ),
    FeatureSpec(
        "head_yaw",
        -1,
        1,
        "Head turn, +/-1 at +/-45 degrees: + when the nose points to the image's right edge "
        "(the person's own left, for an un-mirrored camera). Neutral 0.",
    ),
    FeatureSpec("head_pitch", -1, 1, "Head nod, +/-1 at +/-45 degrees: + looking up. Neutral 0."),
    FeatureSpec(
        "head_roll",
        -1,
        1,
        "Head tilt, +/-1 at +/-45 degrees: + when the top of the head tilts toward the image's "
        "right edge (clockwise as seen in the image). Neutral 0.",
    ),
    FeatureSpec("smile", 0, 1, "Mouth widened with corners raised: ~0 relaxed, ~1 broad smile. Neutral 0."),
    FeatureSpec("mouth_open", 0, 1, "Lip gap: 0 closed, ~0.4 talking, 1 wide open. Neutral 0."),
    FeatureSpec("brow_raise", 0, 1, "Brows above their relaxed height: 0 relaxed or lowered. Neutral 0."),
    FeatureSpec(
        "eye_open",
        0,
        1,
        "Eyelid opening: 0 closed, ~0.6 relaxed, 1 wide open. Neutral 0.6.",
        neutral=0.6,
    ),
    FeatureSpec(
        "left_hand_height",
        0,
        1,
        "Person's left wrist along the torso: 0 at/below the hip, 0.5 shoulder, 1 well above the head. "
        "Neutral 0 (also when the wrist is not seen).",
    ),
    FeatureSpec("right_hand_height", 0, 1, "As left_hand_height, for the person's right wrist. Neutral 0."),
    FeatureSpec(
        "arm_span",
        0,
        1,
        "Wrist distance relative to shoulder width: 0 arms down, 1 arms spread wide. Neutral 0.",
    ),
    FeatureSpec(
        "lean",
        -1,
        1,
        "Sideways torso tilt, +/-1 at +/-30 degrees: + when the shoulders lean toward the image's "
        "right edge. Neutral 0.",
    ),
    FeatureSpec(
        "motion_energy",
        0,
        1,
        "Mean upper-body landmark speed in shoulder widths per second: 0 still, 1 at 2 per second "
        "(dancing). Neutral 0.",
    ),
)

FEATURES: dict[str, FeatureSpec] = {s.name: s for s in _SPECS}
FACTS = ("presence", "count", "viewer_id")  # counted, not measured: never filtered nor crossfaded
EXPRESSION = ("smile", "mouth_open", "brow_raise", "eye_open")  # only the face mesh can tell these

# Fitted on real photographs with the refined face mesh (refine_landmarks=True, whose lip
# points are better): (measure read as 0, measure read as 1).
SMILE_SCORE = (0.50, 0.82)  # mouth width / eye span + 2 × corner lift / eye span
MOUTH_GAP = (0.05, 0.50)  # inner lip gap / eye span
EYE_RATIO = (0.08, 0.40)  # lid gap / eye width
BROW_HEIGHT = (0.25, 0.37)  # brow above the eye-corner line / eye span
FACE_SIZE = (0.02, 0.30)  # face width / long side of the frame (log scale), ~6 m .. 40 cm
FACE_WIDTH_M = 0.15  # mean adult face width across the cheeks (mesh points 234-454), for distance_m
HEAD_FULL_SCALE_DEG = 45.0
LEAN_FULL_SCALE_DEG = 30.0
HAND_TOP = 2.0  # wrist height in torso lengths above the hip that reads as 1
ARM_SPAN = (1.3, 3.6)  # wrist distance / shoulder width
MOTION_FLOOR = 0.1  # shoulder widths per second of landmark jitter, read as 0
MOTION_FULL = 2.0  # shoulder widths per second read as 1


def neutral_features() -> dict[str, float]:
    """Every feature at its neutral value: what a scene sees when nobody is there."""
    return {name: float(spec.neutral) for name, spec in FEATURES.items()}


def clamp_features(values: Mapping[str, float]) -> dict[str, float]:
    """Complete a partial dict to the full catalogue and clamp every value into its range."""
    return {
        name: spec.clamp(values[name]) if name in values else float(spec.neutral)
        for name, spec in FEATURES.items()
    }


def _ramp(value: float, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return (value - lo) / (hi - lo)


def face_features(
    face: np.ndarray | None, width: int, height: int, focal_px: float = 0.0
) -> dict[str, float]:
    """Features a face mesh (468/478 × 3 normalised landmarks) can tell; {} without a face.

    Ratios are taken in 3-D (pixel-scaled x, y and the mesh's z), so turning
    the head changes the pose features but hardly the expression ones.
    `focal_px`: the calibrated focal length at this frame size (0: none, no distance_m).
    """
    if face is None:
        return {}
    m = face_measures(face, width, height)
    if m is None:
        return {}
    return {
        "x": 2.0 * m["nose_x"] - 1.0,
        "y": 2.0 * m["nose_y"] - 1.0,
        "distance": _size_to_distance(m["face_width"] / max(width, height, 1)),
        **_metres(m["face_width"], focal_px),
        "head_yaw": m["yaw"] / HEAD_FULL_SCALE_DEG,
        "head_pitch": m["pitch"] / HEAD_FULL_SCALE_DEG,
        "head_roll": m["roll"] / HEAD_FULL_SCALE_DEG,
        "smile": _ramp(m["mouth_width"] + 2.0 * m["corner_lift"], SMILE_SCORE),
        "mouth_open": _ramp(m["lip_gap"], MOUTH_GAP),
        "brow_raise": _ramp(m["brow_height"], BROW_HEIGHT),
        "eye_open": _ramp(m["eye_ratio"], EYE_RATIO),
    }


def pose_features(
    pose: np.ndarray | None, width: int, height: int, focal_px: float = 0.0
) -> dict[str, float]:
    """Features a pose (33 × 4: normalised x, y, z, visibility) can tell; {} without a pose.

    Besides the body features it gives position, distance and a coarse head
    yaw/roll, used when the face mesh misses (a profile, a face too small).
    """
    if pose is None:
        return {}
    out: dict[str, float] = {}
    head = pose_head_angles(pose, width, height)
    if head is not None:
        out["head_yaw"] = head[0] / HEAD_FULL_SCALE_DEG
        out["head_roll"] = head[1] / HEAD_FULL_SCALE_DEG
    b = body_measures(pose, width, height)
    if b is None:
        return out
    out["x"] = 2.0 * b["head_x"] - 1.0
    out["y"] = 2.0 * b["head_y"] - 1.0
    out["distance"] = _size_to_distance(b["face_width"] / max(width, height, 1))
    out.update(_metres(b["face_width"], focal_px))
    out["left_hand_height"] = b["left_wrist_up"] / HAND_TOP
    out["right_hand_height"] = b["right_wrist_up"] / HAND_TOP
    if b["wrist_span"] > 0:
        out["arm_span"] = _ramp(b["wrist_span"], ARM_SPAN)
    out["lean"] = b["lean"] / LEAN_FULL_SCALE_DEG
    return out


def _size_to_distance(face_fraction: float) -> float:
    if not face_fraction > 0:
        return 0.0
    lo, hi = FACE_SIZE
    return math.log(face_fraction / lo) / math.log(hi / lo)


def distance_m(face_width_px: float, focal_px: float) -> float:
    """Pinhole distance (m) of a face `face_width_px` wide through a lens of `focal_px`; 0 if unknown."""
    if not (face_width_px > 0 and focal_px > 0):
        return 0.0
    return focal_px * FACE_WIDTH_M / face_width_px


def _metres(face_width_px: float, focal_px: float) -> dict[str, float]:
    return {"distance_m": distance_m(face_width_px, focal_px)} if focal_px > 0 and face_width_px > 0 else {}


def motion_energy(speed: float) -> float:
    """Map a landmark speed (shoulder widths per second, see landmarks.body_speed) onto the
    motion_energy scale; unclamped, like the other raw values until combine() clamps them."""
    return (speed - MOTION_FLOOR) / (MOTION_FULL - MOTION_FLOOR)


def combine(
    face: Mapping[str, float], pose: Mapping[str, float], motion: float = 0.0, present: bool = True
) -> dict[str, float]:
    """Merge face and pose features into the full, clamped catalogue.

    The face mesh is the finer instrument, so its head angles, position and
    distance win where both saw the viewer; the pose fills in what it cannot.
    Without presence everything is neutral, so scenes see calm, not stale data.
    """
    if not present:
        return neutral_features()
    merged: dict[str, float] = {**pose, **face, "motion_energy": motion}
    merged.update(presence=1.0, count=1.0, viewer_id=1.0)  # one person; the tracker counts crowds
    return clamp_features(merged)


def features_from_landmarks(
    face: np.ndarray | None,
    pose: np.ndarray | None,
    width: int,
    height: int,
    speed: float = 0.0,
) -> dict[str, float]:
    """The full catalogue from one frame's landmarks (presence = anything seen)."""
    present = face is not None or pose is not None
    return combine(
        face_features(face, width, height), pose_features(pose, width, height), motion_energy(speed), present
    )
