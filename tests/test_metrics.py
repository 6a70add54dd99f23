"""Metrics: the average frame rate and the current one are different numbers, and each is named so."""

from __future__ import annotations

import pytest

from engine.metrics import LATENCY_PATH, RECENT_S, Metrics, latency_legs


def present(m: Metrics, start: float, seconds: float, fps: float) -> float:
    """Present frames at `fps` for `seconds` from `start`; returns the time of the last one."""
    n = round(seconds * fps)
    for i in range(n):
        m.presented_frame(start + i / fps, capture_time=None, repeated=False)
    return start + (n - 1) / fps


def test_a_slow_start_shows_in_the_average_but_not_in_the_current_rate() -> None:
    m = Metrics()
    last = present(m, 0.0, 20.0, 10.0)  # a slow warm-up…
    last = present(m, last + 1 / 30, 10.0, 30.0)  # …then the piece runs at 30 fps
    assert m.fps() == pytest.approx(500 / 30, rel=0.02)  # the whole run's average: ~16.7
    assert m.recent_fps(last) == pytest.approx(30.0, rel=0.01)  # what a viewer sees now
    stats = m.summary()
    assert stats["fps"] == stats["fps_avg"] == round(m.fps(), 2)  # `fps` keeps its meaning for tools
    assert stats["fps_recent"] == pytest.approx(30.0, rel=0.01)


def test_a_frozen_picture_reads_zero_now_while_the_average_stays() -> None:
    m = Metrics()
    last = present(m, 0.0, 10.0, 30.0)
    assert m.recent_fps(last + RECENT_S + 0.1) == 0.0  # nothing presented in the window
    assert m.fps() == pytest.approx(30.0, rel=0.01)


def test_the_latency_path_adds_up_to_the_latency_leg_by_leg() -> None:
    legs = latency_legs(10.0, (10.010, 10.040), 10.045, (10.050, 10.070), (10.080, 10.095))
    assert list(legs) == list(LATENCY_PATH)
    assert legs["perception_wait"] == pytest.approx(10.0) and legs["perception"] == pytest.approx(30.0)
    assert legs["generator_wait"] == pytest.approx(5.0) and legs["render"] == pytest.approx(15.0)
    assert sum(legs.values()) == pytest.approx(95.0)


def test_without_perception_times_capture_to_step_is_one_leg() -> None:
    legs = latency_legs(1.0, None, 1.02, (1.03, 1.05), (1.06, 1.07))
    assert list(legs) == ["to_step", *LATENCY_PATH[3:]] and legs["to_step"] == pytest.approx(20.0)


def test_the_stats_carry_each_legs_percentiles() -> None:
    m = Metrics()
    for i in range(10):
        m.latency_path({"perception": 30.0 + i, "render": 10.0})
    path = m.summary()["latency_path_ms"]
    assert set(path) == {"perception", "render"} and path["render"]["p50"] == 10.0
