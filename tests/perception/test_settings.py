"""PerceptionSettings: built in code or read from [perception], a bad value fails by name and range."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, load_config
from engine.perception import PerceptionSettings
from engine.perception.settings import bundled_pose_complexities


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("pose_every", 0, "is out of range 1..30"),
        ("face_every", 31, "is out of range 1..30"),
        ("min_cutoff", 0.0, "is out of range 0.001..100"),  # the One Euro filter divides by it
        ("beta", -1.0, "is out of range 0.0..100"),
        ("d_cutoff", float("nan"), "is out of range 0.001..100"),
        ("presence_on_frames", 0, "is out of range 1..1000"),
        ("presence_off_frames", 1.5, "must be an integer"),
        ("max_faces", 0, "is out of range 1..10"),
        ("mask_width", 1024, "is out of range 16..256"),
        ("min_detection_confidence", 2.0, "is out of range 0.0..1.0"),
        ("segmentation_model", "magic", "must be one of pose, selfie"),
        ("pose_model_complexity", 7, "is out of range 0..2"),
        ("pose_model_complexity", True, "must be an integer"),
        ("face_mesh", "yes", "must be true or false"),
    ],
)
def test_bad_value_named_with_its_range(field: str, value: object, why: str) -> None:
    """The same line from validate() (the tracker's settings built in code) and from the config file."""
    with pytest.raises(ValueError, match=rf"^perception\.{field} = .* {why}$"):
        PerceptionSettings(**{field: value}).validate()
    with pytest.raises(ConfigError, match=rf"^perception\.{field} = .* {why}$"):
        load_config(None, {"perception": {field: value}})


def test_defaults_and_edges_are_valid() -> None:
    assert PerceptionSettings().validate() == PerceptionSettings()
    edges = PerceptionSettings(pose_every=30, min_cutoff=0.001, beta=0.0, mask_width=16, max_faces=10)
    assert edges.validate() is edges
    cfg = load_config(None, {"perception": {"min_cutoff": 2, "segmentation_model": "selfie"}})
    assert cfg.perception.min_cutoff == 2.0 and isinstance(cfg.perception.min_cutoff, float)


def test_pose_model_must_be_bundled_in_the_installed_wheel() -> None:
    """A cross-field check beyond the range: 0..2 exist, but only the bundled ones work offline."""
    missing = [c for c in (0, 1, 2) if c not in bundled_pose_complexities()]
    if not missing:
        pytest.skip("this mediapipe wheel bundles every pose model")
    message = rf"^perception\.pose_model_complexity = {missing[0]} must be one of .*others need a download\)$"
    with pytest.raises(ValueError, match=message):
        PerceptionSettings(pose_model_complexity=missing[0]).validate()
    with pytest.raises(ConfigError, match=message):  # named once, not "perception: perception...."
        load_config(None, {"perception": {"pose_model_complexity": missing[0]}})
