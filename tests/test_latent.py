"""The latent integrator: bounded speed, convergence, drift, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from engine.latent import LatentIntegrator, LatentSettings, slerp

D = 16


def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((n, D)).astype(np.float32)


def make(space: str = "w", **kw) -> LatentIntegrator:
    dirs = np.eye(D, dtype=np.float32)[:4]
    sigma = np.array([2.0, 1.0, 1.0, 0.5], np.float32)
    return LatentIntegrator(sampler, np.zeros(D, np.float32), dirs, sigma, space, LatentSettings(**kw))


@pytest.mark.parametrize("space", ["w", "z"])
def test_never_exceeds_step_bound(space: str) -> None:
    integ = make(space, speed=1.5, smoothing=0.05)
    rng = np.random.default_rng(0)
    prev = integ.current.copy()
    for i in range(600):
        offsets = {int(rng.integers(0, 4)): float(rng.uniform(-8, 8))}  # wild, jumpy targets
        dt = float(rng.uniform(0.001, 0.1))
        cur = integ.step(offsets, dt, drift=float(rng.uniform(0, 3)), speed=float(rng.uniform(0, 2)))
        moved = float(np.linalg.norm(cur - prev))
        assert moved <= integ.max_step(dt, 2.0) * (1 + 1e-4) + 1e-6, f"step {i} moved {moved}"
        prev = cur.copy()


def test_converges_to_target_offset() -> None:
    integ = make(speed=5.0, smoothing=0.1)
    for _ in range(400):
        integ.step({0: 1.5}, 1 / 60, drift=0.0)
    expected = integ.base() + 1.5 * 2.0 * integ.directions[0]
    np.testing.assert_allclose(integ.current, expected, atol=1e-3)
    np.testing.assert_allclose(
        integ.coordinates(4)[0], (integ.base() @ integ.directions[0]) / 2.0 + 1.5, atol=1e-3
    )


def test_idle_drift_moves_and_stays_smooth() -> None:
    integ = make(drift_period=2.0)
    start = integ.current.copy()
    steps = [np.linalg.norm(integ.step({}, 1 / 30, drift=1.0) - start) for _ in range(300)]
    assert max(steps) > 0.5  # it wandered
    frames = [integ.step({}, 1 / 30, drift=1.0).copy() for _ in range(120)]
    jumps = [np.linalg.norm(b - a) for a, b in zip(frames, frames[1:])]
    assert max(jumps) <= integ.max_step(1 / 30) + 1e-6


def test_zero_drift_holds_base() -> None:
    integ = make()
    b0 = integ.base().copy()
    for _ in range(100):
        integ.step({}, 1 / 30, drift=0.0)
    np.testing.assert_array_equal(integ.base(), b0)


def test_deterministic_for_seed() -> None:
    a, b = make(seed=3), make(seed=3)
    for i in range(50):
        off = {i % 4: np.sin(i)}
        np.testing.assert_array_equal(a.step(off, 1 / 30), b.step(off, 1 / 30))
    assert not np.array_equal(make(seed=4).current, make(seed=3).current)


def test_slerp_endpoints_and_norm() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(D), rng.standard_normal(D)
    np.testing.assert_allclose(slerp(x, y, 0.0), x, atol=1e-6)
    np.testing.assert_allclose(slerp(x, y, 1.0), y, atol=1e-6)
    mid = slerp(x / np.linalg.norm(x), y / np.linalg.norm(y), 0.5)
    assert abs(np.linalg.norm(mid) - 1.0) < 1e-6
