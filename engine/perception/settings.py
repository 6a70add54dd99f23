"""Perception settings: one frozen, validated record, so a bad value fails at start-up by name.

Ranges live in the fields' metadata, as in every other settings section (engine.config_meta), so
the config file and a record built in code (the tracker, tests) are checked by the same rule.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from engine.config_meta import ConfigError, check_fields, choices, rng

# Pose landmark model file per MediaPipe model_complexity. Only the files inside the
# wheel work offline; the others would be downloaded on first use, which an
# installation without network cannot do.
POSE_MODEL_FILES = {
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
    return tuple(c for c, name in POSE_MODEL_FILES.items() if (root / name).is_file())


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
    max_people: poses tracked at once. With more than one, MediaPipe's person detector runs on
    every frame until that many are tracked. Measured on the 2-core CPU (python -m
    engine.perception.bench, ms per frame with face mesh and mask): 1 → 30 with one person in
    view (as before it); 2 → 42 with one, 50 with two; 4 → 41 with one, 62-70 with two, past
    the 66 ms a 15 Hz perception allows. In the running engine perception shares the two cores
    with the generator and runs ~1.8× slower than alone (engine.bench: 55 ms a frame at 1), so
    2 would fall under 15 Hz there: 1 by default, 2-4 where there are cores to spare (a GPU box).
    switch_ratio / switch_after_s: another person becomes the viewer only after being this many
    times as prominent (larger, nearer the centre) for this long, so two people of about the
    same size do not make the viewer flip. crossfade_s: after a change of viewer the features
    glide from the old viewer's values to the new one's over this long.
    """

    pose_model_complexity: int = field(
        default=1, metadata=rng(0, 2, "MediaPipe pose model: lite, full, heavy")
    )
    face_mesh: bool = True
    refine_face: bool = True  # attention mesh: better lips and eyes for ~1 ms more
    face_from_pose: bool = True  # read the face in a crop around the pose's head: works ~2× farther
    segmentation: bool = True
    # "pose": the tracked person only, free with pose; "selfie": anyone
    segmentation_model: str = field(default="pose", metadata=choices(*SEGMENTATION_MODELS))
    pose_every: int = field(default=1, metadata=rng(1, 30))
    face_every: int = field(default=1, metadata=rng(1, 30))
    # One Euro cutoffs must be above 0 Hz (the filter divides by them)
    min_cutoff: float = field(default=1.0, metadata=rng(0.001, 100, "Hz"))
    beta: float = field(default=1.0, metadata=rng(0.0, 100))
    d_cutoff: float = field(default=1.0, metadata=rng(0.001, 100, "Hz"))
    presence_on_frames: int = field(default=3, metadata=rng(1, 1000))
    presence_off_frames: int = field(default=15, metadata=rng(1, 1000))
    max_faces: int = field(default=3, metadata=rng(1, 10))
    min_detection_confidence: float = field(default=0.5, metadata=rng(0.0, 1.0))
    min_tracking_confidence: float = field(default=0.5, metadata=rng(0.0, 1.0))
    static_images: bool = False
    mask_width: int = field(default=256, metadata=rng(16, 256))
    max_people: int = field(default=1, metadata=rng(1, 10, "poses tracked at once"))
    switch_ratio: float = field(default=1.3, metadata=rng(1.0, 10.0, "prominence over the viewer's"))
    switch_after_s: float = field(default=1.0, metadata=rng(0.0, 60.0, "s"))
    crossfade_s: float = field(default=0.5, metadata=rng(0.0, 10.0, "s"))
    # straighten the camera's picture before perception where camera.json exists (calibration/)
    undistort: bool = True

    def validate(self) -> PerceptionSettings:
        """Raise ConfigError (a ValueError) naming the first bad field and its allowed values; returns
        self. Beyond the fields' own ranges: the pose model must be one the installed wheel ships."""
        check_fields(self, "perception")
        bundled = bundled_pose_complexities()
        if self.pose_model_complexity not in bundled:
            allowed = ", ".join(map(str, bundled)) or "none (mediapipe is not installed)"
            raise ConfigError(
                f"perception.pose_model_complexity = {self.pose_model_complexity!r} must be one of {allowed} "
                "(the pose models bundled in the installed mediapipe; others need a download)"
            )
        return self
