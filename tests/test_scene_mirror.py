"""The mirror scene: declared mapping, presence, closeness, uniforms in range."""

from __future__ import annotations

import pytest

from engine.messages import Viewer
from engine.params import ParamRegistry
from engine.perception.features import FEATURES, neutral_features
from engine.scene import SceneInputs, scene_class, scene_names
from scenes.mirror import MAPPING, FeatureMapping, push


def inputs(**features: float) -> SceneInputs:
    cls = scene_class("mirror")
    reg = ParamRegistry(cls.params)
    f = neutral_features()
    f.update(features)
    return SceneInputs(Viewer(f, 1.0, 3), t=1.0, dt=1 / 30, params=reg.snapshot(), directions=16)


def test_registered() -> None:
    assert "mirror" in scene_names()


def test_mapping_names_real_features() -> None:
    for m in MAPPING:
        assert m.feature in FEATURES


def test_nobody_there_drifts_without_pushes() -> None:
    t = scene_class("mirror")().update(inputs(presence=0.0, smile=1.0))
    assert t.directions == {} and t.drift >= 1.0 and t.uniforms["mask_mix"] == 0.0


def test_features_push_their_directions_with_sign() -> None:
    scene = scene_class("mirror")()
    left = scene.update(inputs(presence=1.0, head_yaw=-0.8))
    right = scene.update(inputs(presence=1.0, head_yaw=0.8))
    assert left.directions[0] < 0 < right.directions[0]
    smile = scene.update(inputs(presence=1.0, smile=1.0)).directions[1]
    neutral = scene.update(inputs(presence=1.0, smile=0.0)).directions[1]
    assert smile > 0 > neutral or smile > neutral


def test_stepping_closer_intensifies() -> None:
    scene = scene_class("mirror")()
    far = scene.update(inputs(presence=1.0, head_yaw=0.5, distance=0.1)).directions[0]
    near = scene.update(inputs(presence=1.0, head_yaw=0.5, distance=0.9)).directions[0]
    assert near > far > 0


def test_uniforms_are_render_names() -> None:
    from engine.render.uniforms import UNIFORMS

    t = scene_class("mirror")().update(inputs(presence=1.0, motion_energy=1.0, smile=1.0))
    for name, value in t.uniforms.items():
        assert name in UNIFORMS, name
        _, lo, hi, _ = UNIFORMS[name]
        assert lo <= value <= hi, (name, value)


def test_pushes_are_symmetric_around_each_centre() -> None:
    # A smile below its centre pushes the other way by as much as one above it: the shared curves
    # are applied to |offset| with the offset's sign (an unsigned ease_in would push both ways alike).
    for m in MAPPING:
        for d in (0.1, 0.4, 0.7):
            assert push(m, m.center - d) == pytest.approx(-push(m, m.center + d)), (m.feature, d)
            assert push(m, m.center + d) * m.gain > 0, (m.feature, d)


def test_unknown_curve_is_named() -> None:
    with pytest.raises(ValueError, match="smile: unknown curve 'wobbly'"):
        FeatureMapping("smile", 1, 2.0, "wobbly")
