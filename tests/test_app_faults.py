"""Faults inside a running engine (real loop, real model, real EGL): each is repaired and the
picture goes on. Times to recover are printed (`pytest -s`) for the fault matrix."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.config import load_config

from .osc.conftest import RunningApp

pytestmark = pytest.mark.slow


def config(tmp_path, **watchdog):
    return load_config(
        None,
        {
            "run": {"source": "demo", "headless": True, "size": "320x180"},
            "osc": {"listen": "off"},
            "watchdog": {"black_s": 2.0, "frozen_s": 4.0, "stage_s": 2.0, "check_every_s": 0.25, **watchdog},
        },
    )


def wait_for(cond, timeout: float) -> float:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - t0


def test_nan_from_the_generator_is_never_shown_and_the_latent_is_reset(tmp_path) -> None:
    running = RunningApp(config(tmp_path))
    app = running.app
    shown: list[float] = []
    app.on_frame = lambda rgb, step: shown.append(float(rgb.mean()))
    gen = app.pipeline.generator
    real = gen.generate
    gen.generate = lambda latents: np.full_like(real(latents), np.nan)  # a poisoned session
    try:
        took = wait_for(lambda: app.watchdog.steps["reset_latent"] >= 1, 10)
        before = app.presented
        wait_for(lambda: app.presented > before + 10, 10)
        assert min(shown) > 5, "a black (NaN) frame reached the projector"
        assert app.watchdog.faults["nan"] >= 1 and app.errors["generator"].count > 0
        gen.generate = real
        wait_for(lambda: app.watchdog.ok, 10)
        print(f"\nNaN: latent reset {took:.2f} s after the first NaN; no frame lost or black")
    finally:
        gen.generate = real
        running.close()


def test_a_generator_that_raises_is_rebuilt(tmp_path) -> None:
    running = RunningApp(config(tmp_path))
    app = running.app
    broken = app.pipeline.generator

    def fail(_latents):
        raise RuntimeError("session wedged")

    broken.generate = fail
    t0 = time.monotonic()
    try:
        wait_for(lambda: app.pipeline.generator is not broken, 20)
        took = wait_for(lambda: app.metrics.stage_age("generator", app.wall.now()) < 0.5, 10)
        assert app.watchdog.steps["rebuild_generator"] == 1 and app.watchdog.steps["exit"] == 0
        print(
            f"\ngenerator raising: rebuilt and producing again after {time.monotonic() - t0:.2f} s "
            f"({took:.2f} s after the rebuild)"
        )
    finally:
        running.close()


def test_a_slow_rebuild_does_not_hold_up_the_projector(tmp_path, monkeypatch) -> None:
    """A new session can take seconds (a TensorRT engine, a Triton handshake): the render loop goes on
    presenting the held picture meanwhile, since the rebuild runs off its thread."""
    import engine.pipeline

    build, spans = engine.pipeline.build_generator, []

    def slow_build(cfg):
        t0 = time.monotonic()
        time.sleep(2.0)
        gen = build(cfg)
        spans.append((t0, time.monotonic()))
        return gen

    running = RunningApp(config(tmp_path))
    monkeypatch.setattr(engine.pipeline, "build_generator", slow_build)  # the rebuild's, not the start's
    app = running.app
    shown: list[float] = []
    app.on_frame = lambda rgb, step: shown.append(time.monotonic())
    broken = app.pipeline.generator

    def fail(_latents):
        raise RuntimeError("session wedged")

    broken.generate = fail
    try:
        wait_for(lambda: app.pipeline.generator is not broken, 30)
        (t0, t1), fps = spans[0], app.cfg.run.fps
        during = sum(t0 <= t <= t1 for t in shown)
        assert during >= 0.5 * fps * (t1 - t0), f"{during} frames presented in the {t1 - t0:.1f} s rebuild"
        wait_for(lambda: app.metrics.stage_age("generator", app.wall.now()) < 0.5, 10)
        print(f"\nslow rebuild ({t1 - t0:.1f} s): {during} frames presented meanwhile")
    finally:
        running.close()


def test_a_lost_gl_context_is_rebuilt(tmp_path) -> None:
    running = RunningApp(config(tmp_path))
    app = running.app
    output = app.output
    old = output.surface
    before = app.presented
    t0 = time.monotonic()
    old.ctx.release()  # what a driver reset leaves behind: every GL call now fails
    try:
        wait_for(lambda: output.surface is not old, 20)
        wait_for(lambda: app.presented > before + 10, 20)
        lost = app.errors["render"].count
        assert output.rebuilds == 1 and lost >= 30
        took = time.monotonic() - t0
        print(f"\nGL context lost: rebuilt, presenting again after {took:.2f} s, {lost} frames lost")
    finally:
        running.close()


def test_memory_past_the_ceiling_ends_the_run_with_the_watchdog_code(tmp_path) -> None:
    from engine.app import App

    app = App(config(tmp_path, memory_mb=64.0))  # the engine needs far more than this
    t0 = time.monotonic()
    assert app.run() == 3
    assert app.watchdog.steps["exit"] == 1 and app.watchdog.faults["memory"] == 1
    print(f"\nmemory ceiling: clean exit 3 after {time.monotonic() - t0:.2f} s")
