"""Feature catalogue and the pure landmark → feature functions, on landmarks of real photographs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.perception.features import (
    FEATURES,
    clamp_features,
    face_features,
    features_from_landmarks,
    motion_energy,
    neutral_features,
    pose_features,
)
from engine.perception.landmarks import body_speed
from tests.perception import photos
from tests.perception.conftest import Landmarker

EXPECTED_RANGES = {
    "presence": (0, 1),
    "count": (0, 10),
    "viewer_id": (0, 16),
    "x": (-1, 1),
    "y": (-1, 1),
    "distance": (0, 1),
    "distance_m": (0, 20),
    "head_yaw": (-1, 1),
    "head_pitch": (-1, 1),
    "head_roll": (-1, 1),
    "smile": (0, 1),
    "mouth_open": (0, 1),
    "brow_raise": (0, 1),
    "eye_open": (0, 1),
    "left_hand_height": (0, 1),
    "right_hand_height": (0, 1),
    "arm_span": (0, 1),
    "lean": (-1, 1),
    "motion_energy": (0, 1),
}


def assert_in_ranges(features: dict[str, float]) -> None:
    assert set(features) == set(FEATURES)
    for name, value in features.items():
        spec = FEATURES[name]
        assert isinstance(value, float) and math.isfinite(value), name
        assert spec.lo <= value <= spec.hi, (name, value)


def test_catalogue_names_and_ranges() -> None:
    assert {n: (s.lo, s.hi) for n, s in FEATURES.items()} == EXPECTED_RANGES
    for name, spec in FEATURES.items():
        assert spec.name == name and spec.doc
        assert spec.lo <= spec.neutral <= spec.hi


def test_nothing_seen_is_neutral_with_presence_zero() -> None:
    out = features_from_landmarks(None, None, 640, 480)
    assert out == neutral_features()
    assert out["presence"] == 0.0
    assert face_features(None, 640, 480) == {} and pose_features(None, 640, 480) == {}


def test_clamp_completes_and_clamps() -> None:
    out = clamp_features({"x": 7.0, "smile": -3.0, "lean": float("nan"), "distance": float("inf")})
    assert out["x"] == 1.0 and out["smile"] == 0.0 and out["lean"] == 0.0 and out["distance"] == 1.0
    assert out["eye_open"] == FEATURES["eye_open"].neutral
    assert_in_ranges(out)


def test_garbage_landmarks_cannot_leave_the_ranges() -> None:
    """Whatever MediaPipe might return (points off-frame, collapsed meshes), ranges hold."""
    rng = np.random.default_rng(0)
    for scale in (0.0, 0.01, 1.0, 50.0):
        face = rng.normal(0.5, scale, (478, 3))
        pose = np.concatenate([rng.normal(0.5, scale, (33, 3)), rng.uniform(0, 1, (33, 1))], axis=1)
        assert_in_ranges(features_from_landmarks(face, pose, 640, 480, speed=scale * 10))


def _faces(lm: Landmarker, indices: tuple[int, ...]) -> dict[int, dict[str, float]]:
    out = {}
    for i in indices:
        face = lm.face(photos.lfw_face(i))
        if face is not None:
            out[i] = features_from_landmarks(face, None, 320, 320)
    assert len(out) >= 0.8 * len(indices), "the face mesh should find most LFW faces"
    return out


def test_smile_separates_smiling_from_neutral_faces(landmarker: Landmarker) -> None:
    smiling = [f["smile"] for f in _faces(landmarker, photos.LFW_SMILING).values()]
    neutral = [f["smile"] for f in _faces(landmarker, photos.LFW_NEUTRAL).values()]
    assert np.median(neutral) < 0.15
    assert np.mean(smiling) - np.mean(neutral) > 0.3
    astronaut = features_from_landmarks(landmarker.face(photos.astronaut()), None, 512, 512)
    assert astronaut["smile"] > 0.8  # a broad smile


def test_mouth_open_separates_talking_from_closed_mouths(landmarker: Landmarker) -> None:
    talking = [f["mouth_open"] for f in _faces(landmarker, photos.LFW_MOUTH_OPEN).values()]
    closed = [f["mouth_open"] for f in _faces(landmarker, photos.LFW_NEUTRAL).values()]
    assert np.median(closed) < 0.1
    assert np.mean(talking) - np.mean(closed) > 0.25


def test_expression_is_stable_and_pose_flips_under_mirroring(landmarker: Landmarker) -> None:
    for i in photos.LFW_TURNED_TO_IMAGE_LEFT:
        img = photos.lfw_face(i)
        a = features_from_landmarks(landmarker.face(img), None, 320, 320)
        b = features_from_landmarks(landmarker.face(photos.mirrored(img)), None, 320, 320)
        assert a["head_yaw"] < -0.25 < 0.25 < b["head_yaw"], i
        assert a["head_yaw"] == pytest.approx(-b["head_yaw"], abs=0.15)
        assert a["x"] == pytest.approx(-b["x"], abs=0.05)
        for name in ("smile", "mouth_open", "eye_open", "head_pitch"):
            assert a[name] == pytest.approx(b[name], abs=0.15), (i, name)


def test_all_real_faces_give_in_range_features(landmarker: Landmarker) -> None:
    for f in _faces(landmarker, tuple(range(0, 100, 3))).values():
        assert_in_ranges(f)


def test_body_features_from_real_poses(landmarker: Landmarker) -> None:
    astro = pose_features(landmarker.pose(photos.astronaut()), 512, 512)
    man = pose_features(landmarker.pose(photos.cameraman()), 512, 512)
    man_flipped = pose_features(landmarker.pose(photos.mirrored(photos.cameraman())), 512, 512)
    # Her hands rest at her waist; his are up at his face, holding the camera.
    assert astro["left_hand_height"] < 0.3 and astro["right_hand_height"] < 0.3
    assert man["left_hand_height"] > 0.4 and man["right_hand_height"] > 0.4
    # He bends toward the camera on the image's right; the mirror image leans left.
    assert man["lean"] > 0.3 and man_flipped["lean"] < -0.3
    # In profile the face mesh finds no face; the pose still tells which way he looks.
    assert man["head_yaw"] > 0.5 and man_flipped["head_yaw"] < -0.5


def test_motion_energy_from_real_pose_velocity(landmarker: Landmarker) -> None:
    img = photos.astronaut()
    still = landmarker.pose(img)
    moved = landmarker.pose(np.ascontiguousarray(np.roll(img, 60, axis=1)))  # 60 px to the right
    assert still is not None and moved is not None
    assert motion_energy(body_speed(still, still, 1 / 30, 512, 512)) <= 0.0
    # 60 px in 0.1 s is about three shoulder widths per second: a fast move.
    fast = motion_energy(body_speed(still, moved, 0.1, 512, 512))
    slow = motion_energy(body_speed(still, moved, 2.0, 512, 512))
    assert fast > 0.8 and 0.0 < slow < 0.3
