"""Choosing the viewer among several people: prominence, ids across frames, hysteresis, crossfade.

Pure logic with the clock injected; the same behaviour on real photographs is in
test_viewer_people.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.perception.features import FACTS
from engine.perception.landmarks import VISIBLE
from engine.perception.people import MAX_ID, PeopleTracker, Person, pose_box, prominence
from engine.perception.viewer_select import FeatureCrossfade, ViewerSelector, smoothstep

FPS = 30


def box(cx: float, size: float, cy: float = 0.5) -> tuple[float, float, float, float]:
    return cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2


def person(pid: int, prom: float, seen: bool = True) -> Person:
    return Person(pid, box(0.5, 0.2), prom, seen)


def run(selector: ViewerSelector, frames: list[list[Person]], t0: float = 0.0) -> list[int | None]:
    return [selector.update(people, t0 + i / FPS) for i, people in enumerate(frames)]


# --- prominence and boxes ---------------------------------------------------------------------


def test_prominence_prefers_larger_and_more_central() -> None:
    assert prominence(box(0.5, 0.4)) > prominence(box(0.5, 0.2))
    assert prominence(box(0.5, 0.2)) > prominence(box(0.85, 0.2))
    assert prominence(box(0.5, 0.4)) == pytest.approx(2 * prominence(box(0.5, 0.2)))  # linear in size
    # A corner costs at most half: a person twice as large there still wins over the centre.
    assert prominence((0.0, 0.0, 0.4, 0.4)) > prominence(box(0.5, 0.2)) * 1.2


def test_pose_box_uses_only_landmarks_seen_and_clips_to_the_frame() -> None:
    pose = np.zeros((33, 4))
    pose[:, 3] = 0.9
    pose[:, 0] = np.linspace(0.3, 0.6, 33)
    pose[:, 1] = np.linspace(0.2, 1.4, 33)  # legs guessed below the frame
    pose[30:, 3] = VISIBLE / 2  # ...and the last few unseen, far to the right
    pose[30:, 0] = 0.95
    x0, y0, x1, y1 = pose_box(pose)
    assert x0 == pytest.approx(0.3) and x1 < 0.6 and y0 == pytest.approx(0.2) and y1 == 1.0
    pose[:, 3] = 0.0
    assert pose_box(pose) is None
    assert pose_box(np.zeros((33, 2))) is None


# --- ids across frames ------------------------------------------------------------------------


def test_ids_follow_people_whatever_order_mediapipe_returns_them_in() -> None:
    tr = PeopleTracker(forget_after=5)
    a, b = box(0.25, 0.3), box(0.75, 0.3)
    assert tr.update([a, b], 0) == [1, 2]
    for frame in range(1, 20):  # both walk right, MediaPipe's order flips every frame
        step = 0.005 * frame
        moved = [box(0.25 + step, 0.3), box(0.75 - step, 0.3)]
        order = [1, 0] if frame % 2 else [0, 1]
        ids = tr.update([moved[i] for i in order], frame)
        assert [ids[order.index(0)], ids[order.index(1)]] == [1, 2]


def test_a_tall_person_dropping_out_does_not_hand_their_id_to_someone_across_the_frame() -> None:
    """Full-height people are most of the frame tall: a reach measured by height let a newcomer half a
    frame away inherit the missing person's id, so the viewer changed with no crossfade."""
    tr = PeopleTracker(forget_after=5)
    tall = (0.15, 0.05, 0.3, 0.95)  # x0, y0, x1, y1
    assert tr.update([tall], 0) == [1]
    across = (0.6, 0.05, 0.75, 0.95)
    assert tr.update([across], 1) == [2]  # the first one's pose dropped out this frame
    assert tr.update([tall, across], 2) == [1, 2]


def test_a_short_miss_keeps_the_id_a_long_one_frees_it() -> None:
    tr = PeopleTracker(forget_after=3)
    tr.update([box(0.3, 0.3), box(0.7, 0.3)], 0)
    tr.update([box(0.7, 0.3)], 1)  # the first person is missed for a moment
    assert [(p.id, p.seen) for p in tr.people] == [(1, False), (2, True)]
    assert tr.update([box(0.3, 0.3), box(0.7, 0.3)], 3) == [1, 2]  # ...and back: same id
    for frame in range(4, 9):
        tr.update([box(0.7, 0.3)], frame)
    assert [p.id for p in tr.people] == [2]
    assert tr.update([box(0.7, 0.3), box(0.3, 0.3)], 9) == [2, 1]  # a newcomer gets the smallest free id


def test_a_far_jump_is_a_new_person_and_ids_stay_small() -> None:
    tr = PeopleTracker(forget_after=1000)
    assert tr.update([box(0.1, 0.1)], 0) == [1]
    assert tr.update([box(0.9, 0.1)], 1) == [2]  # too far for one step of a person that small
    for frame in range(2, 100):  # a stream of strangers: ids never leave 1..MAX_ID
        ids = tr.update([box((frame * 0.37) % 1.0, 0.05, cy=(frame * 0.61) % 1.0)], frame)
        assert 1 <= ids[0] <= MAX_ID
    assert len(tr.people) <= MAX_ID


# --- hysteresis -------------------------------------------------------------------------------


def test_the_most_prominent_becomes_the_viewer_at_once_when_there_is_none() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    assert sel.update([], 0.0) is None
    assert sel.update([person(1, 0.2), person(2, 0.3)], 0.1) == 2


def test_a_brief_more_prominent_person_does_not_steal_the_viewer() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    calm = [person(1, 0.3), person(2, 0.2)]
    passing = [person(1, 0.3), person(2, 0.6)]  # twice as prominent, for 0.9 s
    got = run(sel, [calm] * 10 + [passing] * 27 + [calm] * 10 + [passing] * 27)
    assert set(got) == {1}


def test_a_sustained_more_prominent_person_takes_over_after_hold_s() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    got = run(sel, [[person(1, 0.3), person(2, 0.2)]] * 10 + [[person(1, 0.3), person(2, 0.45)]] * 60)
    switch = got.index(2)
    assert got[:switch] == [1] * switch and set(got[switch:]) == {2}
    assert (switch - 10) / FPS == pytest.approx(1.0, abs=1.5 / FPS)


def test_two_people_of_about_the_same_size_never_flip() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    rng = np.random.default_rng(0)
    frames = [
        [person(1, 0.3 + rng.normal(0, 0.03)), person(2, 0.3 + rng.normal(0, 0.03))] for _ in range(600)
    ]
    assert len(set(run(sel, frames))) == 1
    # A rival a little larger (1.2×, under the ratio) for 20 s does not take over either.
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    assert set(run(sel, [[person(1, 0.3)]] + [[person(1, 0.3), person(2, 0.36)]] * 600)) == {1}


def test_an_interrupted_lead_restarts_the_clock() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    lead, tie = [person(1, 0.3), person(2, 0.5)], [person(1, 0.3), person(2, 0.35)]
    got = run(sel, [[person(1, 0.3)]] + ([lead] * 20 + [tie] * 2) * 5)  # 0.67 s leads, broken up
    assert set(got) == {1}


def test_a_viewer_held_through_a_miss_stays_and_one_who_left_is_replaced_at_once() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    assert sel.update([person(1, 0.4), person(2, 0.3)], 0.0) == 1
    assert sel.update([person(1, 0.4, seen=False), person(2, 0.3)], 0.1) == 1
    assert sel.update([person(2, 0.3)], 0.2) == 2  # the tracker forgot 1: they left


def test_a_restarted_clock_does_not_hand_over_early() -> None:
    sel = ViewerSelector(ratio=1.3, hold_s=1.0)
    sel.update([person(1, 0.3)], 100.0)
    sel.update([person(1, 0.3), person(2, 0.6)], 100.5)
    assert sel.update([person(1, 0.3), person(2, 0.6)], 0.0) == 1  # the source restarted at 0
    assert sel.update([person(1, 0.3), person(2, 0.6)], 0.5) == 1
    assert sel.update([person(1, 0.3), person(2, 0.6)], 1.0) == 2


def test_allowed_hook_limits_who_may_be_the_viewer() -> None:
    in_zone = {1: True, 2: True}
    sel = ViewerSelector(ratio=1.3, hold_s=1.0, allowed=lambda p: in_zone[p.id])
    in_zone[2] = False
    assert sel.update([person(1, 0.2), person(2, 0.9)], 0.0) == 1  # 2 is larger but outside
    assert set(run(sel, [[person(1, 0.2), person(2, 0.9)]] * 60, 0.1)) == {1}
    in_zone[1], in_zone[2] = False, True
    assert sel.update([person(1, 0.2), person(2, 0.9)], 3.0) == 2  # the viewer left the zone
    in_zone[2] = False
    assert sel.update([person(1, 0.2), person(2, 0.9)], 3.1) is None


def test_bad_selector_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="ratio"):
        ViewerSelector(ratio=0.5)


# --- crossfade --------------------------------------------------------------------------------


def test_crossfade_glides_smoothly_and_passes_facts_through() -> None:
    fade = FeatureCrossfade(0.5, keep=FACTS)
    old = {"x": -0.6, "smile": 0.9, "viewer_id": 1.0, "count": 2.0, "presence": 1.0}
    new = {"x": 0.6, "smile": 0.1, "viewer_id": 2.0, "count": 2.0, "presence": 1.0}
    fade.start(old, 10.0)
    out = [fade(new, 10.0 + i / FPS) for i in range(20)]
    xs = [f["x"] for f in out]
    assert xs[0] == pytest.approx(-0.6) and xs[-1] == pytest.approx(0.6)
    assert all(b >= a for a, b in zip(xs, xs[1:]))  # monotonic: no overshoot, no way back
    steps = np.diff(xs)
    # smoothstep's steepest slope is 1.5× the mean: no frame carries more than ~2 frames' share
    assert steps.max() <= 1.5 * 1.2 / (0.5 * FPS) + 1e-9
    assert steps[0] < steps.max() / 3 and steps[14] < steps.max() / 3  # eases in and out
    assert all(f["viewer_id"] == 2.0 and f["count"] == 2.0 for f in out)
    assert not fade.active
    assert fade(new, 11.0) == new


def test_crossfade_of_zero_length_is_a_cut() -> None:
    fade = FeatureCrossfade(0.0)
    fade.start({"x": -1.0}, 0.0)
    assert fade({"x": 1.0}, 0.0) == {"x": 1.0}


def test_smoothstep_ends() -> None:
    assert smoothstep(-1) == 0 and smoothstep(0.5) == 0.5 and smoothstep(2) == 1


def test_feature_ranges_hold_every_id_and_count() -> None:
    from dataclasses import fields

    from engine.perception.features import FEATURES
    from engine.perception.settings import PerceptionSettings

    most = next(f for f in fields(PerceptionSettings) if f.name == "max_people").metadata["hi"]
    assert FEATURES["count"].hi == most and FEATURES["viewer_id"].hi == MAX_ID
    assert FEATURES["count"].neutral == FEATURES["viewer_id"].neutral == 0.0
