"""The picture watchdog's decisions, on exact times: which fault, which step, when it escalates."""

from __future__ import annotations

import numpy as np

from engine.config import WatchdogSettings
from engine.watchdog import PictureSample, Watchdog

S = WatchdogSettings(black_s=4.0, frozen_s=4.0, stage_s=4.0, memory_mb=1000.0)
AGES = {"perception": 0.1, "generator": 0.1, "render": 0.0}


def picture(level: float, seed: int = 0) -> PictureSample:
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(level, 20 if level else 1, (64, 64, 3)), 0, 255).astype(np.uint8)
    return PictureSample.of(img)


def drive(w: Watchdog, until: float, sample_fn, speed: float = 1.0, ages=AGES, stale=False, rss=100.0):
    """Feed a picture and a check every 0.5 s from the watchdog's current time to `until`."""
    steps = []
    t = getattr(w, "_t", 0.0)
    while t <= until:
        w.picture(sample_fn(t), speed, t)
        steps += [(t, s) for s in w.check(t, ages, camera_stale=stale, rss_mb=rss)]
        t += 0.5
    w._t = t
    return steps


def test_a_living_picture_needs_no_step() -> None:
    w = Watchdog(S)
    assert drive(w, 60, lambda t: picture(120, seed=int(t * 2))) == []
    assert w.ok and w.status()["steps"]["reset_latent"] == 0


def test_black_escalates_reset_rebuild_exit_with_a_window_between() -> None:
    w = Watchdog(S)
    steps = drive(w, 40, lambda t: picture(0, seed=int(t * 2)))
    names = [s for _, s in steps]
    assert names[:3] == ["reset_latent", "rebuild_generator", "exit"]
    times = [t for t, _ in steps]
    assert times[0] >= S.black_s and times[1] - times[0] >= S.black_s  # each step gets time to work
    assert w.faults["black"] >= 1 and not w.ok


def test_a_repair_that_works_resets_the_ladder() -> None:
    w = Watchdog(S)
    steps = drive(w, 6, lambda t: picture(0, seed=int(t * 2)))
    assert [s for _, s in steps] == ["reset_latent"]
    assert drive(w, 30, lambda t: picture(120, seed=int(t * 2))) == []
    assert w.ok
    steps = drive(w, 40, lambda t: picture(0, seed=int(t * 2)))
    assert steps[0][1] == "reset_latent"  # a new fault starts at the bottom again


def test_nan_is_acted_on_within_a_second() -> None:
    w = Watchdog(S)
    nan = PictureSample(False, 0.0, np.zeros((4, 4), np.float32))
    steps = drive(w, 3, lambda t: picture(120, seed=int(t * 2)) if t < 1 else nan)
    assert steps and steps[0][1] == "reset_latent" and steps[0][0] <= 2.5
    assert w.faults["nan"] >= 1


def test_frozen_only_while_the_latent_moves() -> None:
    still = picture(120, seed=7)
    w = Watchdog(S)
    assert drive(w, 20, lambda t: still, speed=0.0) == []  # a still latent may show a still picture
    w = Watchdog(S)
    steps = drive(w, 10, lambda t: still, speed=1.0)
    assert steps and steps[0][1] == "reset_latent" and w.faults["frozen"] >= 1


def test_a_silent_generator_starts_at_rebuild_once_it_stays_silent() -> None:
    w = Watchdog(S)
    ages = dict(AGES, generator=30.0)
    steps = drive(w, 6, lambda t: picture(120, seed=int(t * 2)), ages=ages)
    assert steps[0] == (S.stage_s, "rebuild_generator")


def test_perception_silent_while_frames_arrive_exits() -> None:
    w = Watchdog(S)
    ages = dict(AGES, perception=30.0)
    sample = picture(120)
    assert w.check(0.0, ages, camera_stale=False, rss_mb=100.0) == []  # not expected: no live camera
    steps = []
    for i in range(1, 20):  # held for stage_s first: a wake-up or a reopened camera is not a fault
        w.picture(sample, 1.0, i * 0.5)
        steps += [(i * 0.5, s) for s in w.check(i * 0.5, ages, False, 100.0, expect_perception=True)]
    assert steps[0] == (0.5 + S.stage_s, "exit") and w.faults["perception_silent"] >= 1


def test_memory_past_the_ceiling_exits_at_once() -> None:
    w = Watchdog(S)
    steps = drive(w, 1, lambda t: picture(120, seed=int(t * 2)), rss=1500.0)
    assert [s for _, s in steps] == ["exit"]


def test_a_stale_camera_is_reopened_but_never_ends_the_process() -> None:
    w = Watchdog(S)
    steps = drive(w, 120, lambda t: picture(120, seed=int(t * 2)), stale=True)
    names = {s for _, s in steps}
    assert names == {"reopen_camera"}
    gaps = np.diff([t for t, _ in steps])
    assert len(steps) >= 2 and gaps.min() >= 4 * S.stage_s  # with backoff, not every check
