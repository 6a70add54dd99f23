"""Metrics: the average frame rate and the current one are different numbers, and each is named so."""

from __future__ import annotations

import pytest

from engine.metrics import RECENT_S, Metrics


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
