"""The realtime loop's timing policy: react to news at once, never pass the fps cap on average."""

from __future__ import annotations

import pytest

from engine.cadence import MIN_GAP, Cadence

FPS = 30.0
P = 1.0 / FPS


def test_a_new_viewer_steps_at_once_and_otherwise_once_a_period() -> None:
    c = Cadence(FPS)
    c.stepped(1.0)
    assert c.wants_step(1.001, new_viewer=True)
    assert not c.wants_step(1.0 + 0.9 * P, new_viewer=False)
    assert c.wants_step(1.0 + P, new_viewer=False)


def on_time(c: Cadence, t: float) -> Cadence:
    """The state right after a present at t in a loop whose presents came on time: no credit left."""
    c.presented(t)
    c.credit = 0.0
    return c


def test_a_fresh_image_goes_out_before_the_tick_but_not_right_after_a_present() -> None:
    c = on_time(Cadence(FPS), 1.0)
    assert not c.wants_present(1.0 + 0.5 * P, fresh_image=True)  # too soon: the cap
    assert c.wants_present(1.0 + MIN_GAP * P, fresh_image=True)
    assert not c.wants_present(1.0 + MIN_GAP * P, fresh_image=False)  # a repeat waits the period
    assert c.wants_present(1.0 + P, fresh_image=False)


def test_early_presents_are_paid_back_so_the_average_stays_at_the_cap() -> None:
    """Images arriving every 0.8 periods must not be shown at 1.25× the cap."""
    c = Cadence(FPS)
    t, shown, arrival = 0.0, 0, 0.0
    fresh = False
    while t < 10.0:
        if t >= arrival:
            fresh, arrival = True, arrival + 0.8 * P
        if c.wants_present(t, fresh):
            c.presented(t)
            shown += 1
            fresh = False
        t += 0.0005
    assert shown / 10.0 == pytest.approx(FPS, abs=0.5)


def test_a_late_present_is_made_up_by_the_next_one() -> None:
    c = on_time(Cadence(FPS), 1.0)
    c.presented(1.0 + 1.2 * P)  # a fifth of a period late (the render thread was busy)
    assert c.wants_present(1.0 + 2.0 * P, fresh_image=False)  # back on the grid, not 1.2 periods on


def test_the_loop_is_told_when_to_look_again() -> None:
    c = Cadence(FPS)
    c.stepped(2.0)
    on_time(c, 2.0)
    assert c.next_due(fresh_image=False) == pytest.approx(2.0 + P)
    assert c.next_due(fresh_image=True) == pytest.approx(2.0 + MIN_GAP * P)
    c.stepped(2.0 + 0.1 * P)  # a viewer step: the next tick step counts from it
    assert c.next_due(fresh_image=False) == pytest.approx(2.0 + P)


def test_asleep_the_same_rules_run_at_the_sleep_rate() -> None:
    c = on_time(Cadence(FPS), 0.0)
    c.fps = 2.0
    assert not c.wants_present(0.3, fresh_image=False)
    assert c.wants_present(0.5, fresh_image=False)
