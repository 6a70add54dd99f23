"""conductor: hands steer two directions each, arm span intensifies, holding still freezes the
picture (through the real integrator), both hands up jumps to the next keyframe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import engine_params
from engine.generator.onnx_generator import OnnxGenerator
from engine.keyframes import keyframe
from engine.latent import LatentIntegrator
from engine.params import ParamRegistry
from engine.render.uniforms import UNIFORMS
from engine.scene import scene_class, scene_names
from scenes.conductor import HANDS, hand_reach

from .scene_io import fresh, inputs, offline, params, vector

HERE = dict(presence=1.0, motion_energy=0.3)  # someone there, moving


def once(**features: float):
    return fresh("conductor").update(inputs(1.0, p=params("conductor"), **{**HERE, **features}))


def test_registered_with_its_parameters() -> None:
    assert "conductor" in scene_names()
    assert {"conductor.hold_s", "conductor.up", "conductor.span"} <= set(params("conductor"))


def test_each_hand_steers_two_directions() -> None:
    low, high = once(left_hand_height=0.2), once(left_hand_height=0.7)
    change = vector(high) - vector(low)
    assert change[HANDS["left"].height] > 0.5 and not np.delete(change, HANDS["left"].height).any()
    change = vector(once(right_hand_height=0.7)) - vector(once(right_hand_height=0.2))
    assert change[HANDS["right"].height] > 0.5 and not np.delete(change, HANDS["right"].height).any()
    # sideways: the body's x moves both hands' reach; opening the arms moves them apart
    right, left = vector(once(x=0.5)), vector(once(x=-0.5))
    assert right[1] > left[1] and right[3] > left[3]
    assert hand_reach({"x": 0.0, "arm_span": 0.8}, "left") == pytest.approx(0.4)
    assert hand_reach({"x": 0.0, "arm_span": 0.8}, "right") == pytest.approx(-0.4)
    # a perception that measures each hand's x is used as it is
    assert hand_reach({"x": 0.9, "arm_span": 1.0, "left_hand_x": -0.3}, "left") == -0.3


def test_arm_span_sets_intensity() -> None:
    pose = dict(left_hand_height=0.9, right_hand_height=0.1, x=0.3)
    narrow, wide = once(arm_span=0.0, **pose), once(arm_span=1.0, **pose)
    keys = vector(once(arm_span=0.0, **pose, presence=0.0))  # the keyframe alone
    assert np.linalg.norm(vector(wide) - keys) > 2 * np.linalg.norm(vector(narrow) - keys)
    assert wide.uniforms["saturation"] > narrow.uniforms["saturation"]
    assert wide.speed > narrow.speed


def run(scene, frames: list[dict], dt: float = 0.1, t0: float = 0.0) -> list:
    p = params("conductor")
    return [scene.update(inputs(t0 + i * dt, dt=dt, p=p, **f)) for i, f in enumerate(frames)]


def test_holding_still_freezes_and_moving_releases() -> None:
    scene = fresh("conductor")
    still = {**HERE, "motion_energy": 0.02, "left_hand_height": 0.6}
    out = run(scene, [HERE] * 5 + [still] * 20)  # hold_s 1.5 at 10 fps: frozen from the 15th still frame
    assert all(t.speed > 0 for t in out[:19]) and all(t.speed == 0 and t.drift == 0 for t in out[20:])
    frozen = out[20]
    # hands drifting a little, motion below twice the threshold: the picture stays as it froze
    fidget = {**still, "motion_energy": 0.1, "left_hand_height": 0.75}
    out = run(scene, [fidget] * 5, t0=2.5)
    assert all(t.speed == 0 and t.directions == frozen.directions for t in out)
    assert all(t.uniforms == frozen.uniforms for t in out)
    moved = run(scene, [{**fidget, "motion_energy": 0.3}], t0=3.0)[0]  # moving again: released
    assert moved.speed > 0 and vector(moved)[0] > vector(frozen)[0]  # and heading where the hand is
    # nobody there: nothing to freeze for
    absent = run(fresh("conductor"), [{"presence": 0.0}] * 30)
    assert all(t.speed > 0 and t.drift == params("conductor")["conductor.idle_drift"] for t in absent)
    assert all(set(t.directions) == set(range(8)) for t in absent)  # the keyframe, no hands


def test_frozen_means_the_latent_stops(shipped_model: Path) -> None:
    """Through the engine's parameters and the real integrator: speed 0 holds the latent exactly."""
    gen = OnnxGenerator(shipped_model, provider="cpu")
    m = gen.manifest
    integ = LatentIntegrator(gen.sample_latents, m.latent_mean, m.directions, m.sigma, m.latent_space)
    reg = ParamRegistry(scene_class("conductor").params)
    engine_params.declare(reg, len(m.directions))
    reg.set("motion.speed", 2.0)
    scene, p, dt = fresh("conductor"), reg.snapshot(), 0.1
    latents = []
    for i in range(40):  # moving for 1 s, then still: frozen from 2.5 s on
        f = {**HERE, "left_hand_height": 0.2 + 0.05 * i} if i < 10 else {**HERE, "motion_energy": 0.0}
        tgt = engine_params.apply(scene.update(inputs(i * dt, dt=dt, p=p, **f)), p)
        latents.append(integ.step(tgt.directions, dt, drift=tgt.drift, speed=tgt.speed).copy())
    assert np.linalg.norm(latents[10] - latents[5]) > 0.1
    assert all(np.array_equal(latents[25], x) for x in latents[26:])


def test_both_hands_up_jumps_to_the_next_keyframe_once() -> None:
    scene = fresh("conductor")
    down = {**HERE, "left_hand_height": 0.3, "right_hand_height": 0.3}
    one = {**HERE, "left_hand_height": 0.95, "right_hand_height": 0.3}
    both = {**HERE, "left_hand_height": 0.95, "right_hand_height": 0.9}
    out = run(scene, [down, one, one, both, both, both, down, both])
    np.testing.assert_allclose(vector(out[0])[4:8], keyframe(3, 0, 8, 1.6)[4:])  # past the hands' four
    assert scene.key == 2  # one hand is not a jump; holding both up is one; down and up again, another
    # the same pose before and after the first jump: what changed is the keyframe underneath
    np.testing.assert_allclose(
        vector(out[6]) - vector(out[0]), np.pad(keyframe(3, 1, 8, 1.6) - keyframe(3, 0, 8, 1.6), (0, 8))
    )
    assert out[3].uniforms["intensity"] > 1.35 > out[5].uniforms["intensity"] > 1.0  # a flash, fading
    assert out[2].uniforms["intensity"] == 1.0


def test_uniforms_are_render_names_in_range() -> None:
    for f in ({}, {"arm_span": 1.0, "left_hand_height": 1.0, "right_hand_height": 1.0}, {"presence": 0}):
        for name, value in once(**f).uniforms.items():
            assert name in UNIFORMS, name
            assert UNIFORMS[name][1] <= value <= UNIFORMS[name][2], (name, value)


@pytest.mark.slow
def test_offline_frames_follow_the_demo_viewer(tmp_path: Path) -> None:
    run_ = offline(tmp_path, "conductor", 30)
    assert len(set(run_.digests)) == 30
    present = [s for s in run_.steps[5:] if s.viewer.features["presence"] >= 0.5]
    assert len(present) >= 20  # the demo viewer is seen…
    reach = [s.target.directions[HANDS["left"].reach] for s in present]
    assert np.ptp(reach) > 0.01  # …and her sideways drift moves the hands' reach
    steps = [np.mean(np.abs(a - b)) for a, b in zip(run_.images, run_.images[1:])]
    assert np.mean(steps) > 0.2
