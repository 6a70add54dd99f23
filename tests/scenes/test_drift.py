"""drift: a seamless loop of a set length through keyframes, breathing, a pure function of t."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.generator.onnx_generator import OnnxGenerator
from engine.keyframes import keyframe
from engine.latent import LatentIntegrator, LatentSettings
from engine.render.uniforms import UNIFORMS
from engine.scene import scene_names
from scenes.drift import breath_directions, breath_harmonics

from .scene_io import fresh, inputs, offline, params, vector


def test_registered_with_its_parameters() -> None:
    assert "drift" in scene_names()
    assert {"drift.loop_s", "drift.keys", "drift.breath"} <= set(params("drift"))


@pytest.mark.parametrize("loop_s", [10.0, 37.0, 120.0])
def test_the_loop_is_seamless(loop_s: float) -> None:
    p = params("drift", drift__loop_s=loop_s)
    scene = fresh("drift")
    for t in (0.0, 1.3, loop_s / 3, loop_s * 0.77, 1234.5):
        now, later = scene.update(inputs(t, p=p)), scene.update(inputs(t + loop_s, p=p))
        assert vector(later) == pytest.approx(vector(now), abs=1e-6), t
        assert later.uniforms == pytest.approx(now.uniforms, abs=1e-6)
        assert now.drift == 0.0  # the integrator's own wander holds still: only the loop moves


def test_a_pure_function_of_time() -> None:
    p = params("drift")
    times = np.linspace(0, 200, 37)
    a = [vector(fresh("drift").update(inputs(t, p=p))) for t in times]
    scene = fresh("drift")
    b = [vector(scene.update(inputs(t, p=p))) for t in times[::-1]][::-1]  # any history, same target
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_tour_rests_on_each_keyframe_in_turn() -> None:
    p = params("drift", drift__breath=0.0, drift__keys=4, drift__loop_s=100.0)
    scene = fresh("drift")
    for k in range(4):
        at = vector(scene.update(inputs(25.0 * k + 1.0, p=p)))  # in the rest before the leg's glide
        np.testing.assert_allclose(at[:8], keyframe(7, k, 8, 1.6), atol=1e-9)
    middle = vector(scene.update(inputs(20.0, p=p)))[:8]  # gliding from key 0 to key 1
    assert min(np.linalg.norm(middle - keyframe(7, k, 8, 1.6)) for k in (0, 1)) > 0.5
    # slerp, not a straight line: the middle of a leg keeps the keyframes' distance from the base
    mid = vector(scene.update(inputs(12.5 + 25 * 0.15, p=p)))[:8]
    assert np.linalg.norm(mid) > 0.8 * min(np.linalg.norm(keyframe(7, k, 8, 1.6)) for k in (0, 1))


def test_breathing_periods_divide_the_loop() -> None:
    assert breath_harmonics(120.0, 12.0) == (10, 11, 12)
    assert breath_harmonics(10.0, 60.0) == (1, 2, 3)
    assert breath_directions(16) == (8, 9, 10) and breath_directions(4) == (0, 1, 2)
    p = params("drift", drift__depth=0.0, drift__hue=0.0)  # breathing alone
    scene = fresh("drift")
    series = np.array([vector(scene.update(inputs(t, p=p)))[8:11] for t in np.arange(0, 120, 0.25)])
    assert np.ptp(series, axis=0) == pytest.approx([1.0, 1.0, 1.0], abs=0.02)  # ±drift.breath
    assert not np.allclose(series[:, 0], series[:, 1])  # not in unison


def test_small_models_and_render_names() -> None:
    p = params("drift")
    small = fresh("drift").update(inputs(17.0, p=p, directions=3))
    assert set(small.directions) <= {0, 1, 2} and small.directions
    t = fresh("drift").update(inputs(17.0, p=p))
    for name, value in t.uniforms.items():
        assert name in UNIFORMS, name
        assert UNIFORMS[name][1] <= value <= UNIFORMS[name][2], (name, value)


def test_the_latent_comes_back_round(shipped_model: Path) -> None:
    """Through the real integrator (the shipped model's sampler, PCA and σ): after the first glide,
    one loop later the latent is where it was, while half a loop away it is somewhere else."""
    gen = OnnxGenerator(shipped_model, provider="cpu")
    m = gen.manifest
    integ = LatentIntegrator(gen.sample_latents, m.latent_mean, m.directions, m.sigma, m.latent_space)
    assert integ.settings == LatentSettings()
    p, scene, dt, loop = params("drift", drift__loop_s=20.0), fresh("drift"), 1 / 30, 20.0
    latents = []
    for i in range(int(3 * loop / dt)):
        tgt = scene.update(inputs(i * dt, dt=dt, p=p))
        latents.append(integ.step(tgt.directions, dt, drift=tgt.drift, speed=tgt.speed).copy())
    per_loop = int(loop / dt)
    a, b, c = latents[per_loop], latents[2 * per_loop], latents[per_loop + per_loop // 2]
    assert np.linalg.norm(a - b) < 0.01 * np.linalg.norm(a - c)


@pytest.mark.slow
def test_offline_frames_change_over_time(tmp_path: Path) -> None:
    run = offline(tmp_path, "drift", 24, drift__loop_s=10.0)
    assert len(run.digests) == 24 and len(set(run.digests)) == 24
    steps = [np.mean(np.abs(a - b)) for a, b in zip(run.images, run.images[1:])]
    assert np.mean(steps) > 0.2 and np.abs(run.images[0] - run.images[-1]).mean() > 3
    assert all(s.target.drift == 0.0 for s in run.steps)
