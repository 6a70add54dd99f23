"""Perception settings: one frozen, validated record, so a bad value fails at start-up by name."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, fields
from pathlib import Path

# Pose landmark model file per MediaPipe model_complexity. Only the files inside the
# wheel work offline; the others would be downloaded on first use, which an
# installation without network cannot do.
_POSE_MODEL_FILES = {
    0: "pose_landmark_lite.tflite",
    1: "pose_landmark_full.tflite",
    2: "pose_landmark_heavy.tflite",
}
SEGMENTATION_MODELS = ("pose", "selfie")


def bundled_pose_complexities() -> tuple[int, ...]:
    """Pose model complexities whose model ships inside the installed mediapipe wheel."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return ()
    root = Path(next(iter(spec.submodule_search_locations))) / "modules" / "pose_landmark"
    return tuple(c for c, name in _POSE_MODEL_FILES.items() if (root / name).is_file())


@dataclass(frozen=True, slots=True)
class PerceptionSettings:
    """How perception runs. Defaults measured to run at ≥ 15 Hz on a 2-core CPU.

    pose_every / face_every: run that model on every N-th frame only (the other
    frames reuse its last result), so a slow model can run at its own, lower rate.
    min_cutoff (Hz) / beta / d_cutoff (Hz): the One Euro filters on the features.
    presence_on_frames / presence_off_frames: consecutive frames with / without a
    person before presence switches, so a passer-by's glance or one missed
    detection does not flip the scene.
    face_from_pose: while the pose sees a head, run the face mesh on a crop
    around it (that person's face, readable up to ~3-4 m instead of ~1.5 m);
    otherwise on the whole frame, keeping the largest of max_faces faces.
    static_images: detect from scratch on every frame (stills, tests) instead
    of tracking between video frames.
    """

    pose_model_complexity: int = 1
    face_mesh: bool = True
    refine_face: bool = True  # attention mesh: better lips and eyes for ~1 ms more
    face_from_pose: bool = True  # read the face in a crop around the pose's head: works ~2× farther
    segmentation: bool = True
    segmentation_model: str = "pose"  # "pose": the tracked person only, free with pose; "selfie": anyone
    pose_every: int = 1
    face_every: int = 1
    min_cutoff: float = 1.0
    beta: float = 1.0
    d_cutoff: float = 1.0
    presence_on_frames: int = 3
    presence_off_frames: int = 15
    max_faces: int = 3
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_images: bool = False
    mask_width: int = 256

    def validate(self) -> PerceptionSettings:
        """Raise ValueError naming the first bad field and its allowed range; returns self."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "bool" and not isinstance(value, bool):
                _fail(f.name, value, "True or False")
        _int(self, "pose_every", 1, 30)
        _int(self, "face_every", 1, 30)
        _int(self, "presence_on_frames", 1, 1000)
        _int(self, "presence_off_frames", 1, 1000)
        _int(self, "max_faces", 1, 10)
        _int(self, "mask_width", 16, 256)
        _float(self, "min_cutoff", 0.0, 100.0, open_lo=True)
        _float(self, "beta", 0.0, 100.0)
        _float(self, "d_cutoff", 0.0, 100.0, open_lo=True)
        _float(self, "min_detection_confidence", 0.0, 1.0)
        _float(self, "min_tracking_confidence", 0.0, 1.0)
        if self.segmentation_model not in SEGMENTATION_MODELS:
            _fail("segmentation_model", self.segmentation_model, " or ".join(map(repr, SEGMENTATION_MODELS)))
        bundled = bundled_pose_complexities()
        if self.pose_model_complexity not in bundled or isinstance(self.pose_model_complexity, bool):
            allowed = ", ".join(map(str, bundled)) or "none (mediapipe is not installed)"
            _fail(
                "pose_model_complexity",
                self.pose_model_complexity,
                f"{allowed} (the pose models bundled in the installed mediapipe; others need a download)",
            )
        return self


def _fail(name: str, value: object, allowed: str) -> None:
    raise ValueError(f"PerceptionSettings.{name} = {value!r} is not allowed: allowed {allowed}")


def _int(s: PerceptionSettings, name: str, lo: int, hi: int) -> None:
    value = getattr(s, name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        _fail(name, value, f"an integer in {lo}..{hi}")


def _float(s: PerceptionSettings, name: str, lo: float, hi: float, open_lo: bool = False) -> None:
    value = getattr(s, name)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > hi or value < lo or (open_lo and value == lo):
        _fail(name, value, f"a number in {'(' if open_lo else '['}{lo:g}, {hi:g}]")
