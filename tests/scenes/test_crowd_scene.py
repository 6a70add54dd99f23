"""The crowd scene answers as its docstring says: each person an attractor on their own pair of
directions, weighted by size; more people, more directions and a faster wander; the crowd grades
the picture. Synthetic crowds drive it; the last test runs it offline on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.messages import Viewer
from engine.perception.crowd_types import Person, summarise
from engine.perception.features import neutral_features
from engine.render.uniforms import UNIFORMS
from engine.scene import SceneInputs, scene_names
from scenes.crowd import pair_of
from tests.scenes.scene_io import DIRECTIONS, fresh, offline, params, vector

CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian opencv-doc


def person(pid: int, x: float = 0.5, y: float = 0.5, size: float = 0.004, speed: float = 0.0) -> Person:
    return Person(pid, x, y, 0.03, 0.08, size, speed)


def update(*people: Person, crowd: bool = True, **p: float):
    c = summarise(tuple(people)) if crowd else None
    viewer = Viewer(neutral_features(), 1.0, 30, crowd=c)
    inputs = SceneInputs(viewer, t=1.0, dt=1 / 30, params=params("crowd", **p), directions=DIRECTIONS)
    return fresh("crowd").update(inputs)


def test_registered_with_a_description() -> None:
    assert "crowd" in scene_names() and fresh("crowd").description


@pytest.mark.parametrize("crowd", [True, False])
def test_empty_hall_rests_in_the_idle_drift(crowd: bool) -> None:
    t = update(crowd=crowd)  # nobody, or crowd perception off
    assert t.directions == {} and t.drift == pytest.approx(1.0) and t.uniforms["hue_shift"] == 0.0


def test_where_a_person_stands_bends_their_pair() -> None:
    k = pair_of(1, 4)
    left, right = vector(update(person(1, x=0.1))), vector(update(person(1, x=0.9)))
    assert left[2 * k] < 0 < right[2 * k] and left[2 * k] == pytest.approx(-right[2 * k])
    far, near = vector(update(person(1, y=0.2))), vector(update(person(1, y=0.9)))
    assert far[2 * k + 1] < 0 < near[2 * k + 1]
    assert np.allclose(vector(update(person(1))), 0.0)  # the middle of the view: no push
    # only that person's pair moves
    assert np.count_nonzero(right) == 1 and np.count_nonzero(near) == 1


def test_a_person_keeps_their_pair_as_they_walk() -> None:
    k5, k6 = pair_of(5, 4), pair_of(6, 4)
    assert k5 != k6  # consecutive arrivals, different pairs
    alone = vector(update(person(6, x=0.2, y=0.2)))
    for x in np.linspace(0.05, 0.95, 7):
        v = vector(update(person(5, x=float(x), y=0.8), person(6, x=0.2, y=0.2))) - alone
        assert set(np.flatnonzero(np.abs(v) > 1e-9)) <= {2 * k5, 2 * k5 + 1}, x
        assert v[2 * k5] == pytest.approx(1.5 * (2 * x - 1))


def test_bigger_blobs_pull_harder_up_to_the_cap() -> None:
    k = 2 * pair_of(1, 4)
    pulls = [vector(update(person(1, x=0.9, size=s)))[k] for s in (0.001, 0.004, 0.016, 0.2)]
    assert pulls[0] < pulls[1] < pulls[2] and pulls[3] == pytest.approx(pulls[2])  # √16 = 4 → cap 2
    assert pulls[1] == pytest.approx(1.5 * 0.8)  # a typical person at x 0.9: gain × (2·0.9 − 1)


def test_more_people_more_directions_and_a_faster_wander() -> None:
    rng = np.random.default_rng(3)
    crowds = [[person(i + 1, *rng.uniform(0.05, 0.95, 2)) for i in range(n)] for n in (1, 2, 4, 8)]
    targets = [update(*c) for c in crowds]
    active = [np.count_nonzero(np.abs(vector(t)) > 1e-6) for t in targets]
    drifts = [t.drift for t in targets]
    assert active == [2, 4, 8, 8]  # a pair each, until the 4 pairs are taken and shared
    assert drifts == sorted(drifts) and drifts[-1] > 2 * drifts[0]


def test_the_crowd_grades_the_picture() -> None:
    calm = update(person(1, x=0.3), person(2, x=0.35))
    rush = update(person(1, x=0.3, speed=0.6), person(2, x=0.35, speed=0.6))
    assert rush.uniforms["trails"] > calm.uniforms["trails"] and rush.speed > calm.speed
    huddled = update(person(1, x=0.5), person(2, x=0.52))
    scattered = update(person(1, x=0.05, y=0.1), person(2, x=0.95, y=0.9))
    assert scattered.uniforms["saturation"] > huddled.uniforms["saturation"]
    on_left = update(person(1, x=0.1), person(2, x=0.2))
    on_right = update(person(1, x=0.8), person(2, x=0.9))
    assert on_left.uniforms["hue_shift"] < 0 < on_right.uniforms["hue_shift"]


def test_uniforms_stay_in_render_ranges() -> None:
    people = [person(i, x=0.0, y=1.0, size=0.5, speed=5.0) for i in range(1, 40)]
    for t in (update(*people), update(), update(person(1))):
        for name, value in t.uniforms.items():
            _, lo, hi, _ = UNIFORMS[name]
            assert lo <= value <= hi, (name, value)


def test_few_directions_do_not_break_it() -> None:
    c = summarise((person(1, x=0.9), person(7, x=0.1)))
    for directions in (0, 1, 3):
        viewer = Viewer(neutral_features(), 1.0, 30, crowd=c)
        t = fresh("crowd").update(SceneInputs(viewer, 1.0, 1 / 30, params("crowd"), directions))
        assert all(0 <= d < directions for d in t.directions)


@pytest.mark.skipif(not CLIP.is_file(), reason=f"{CLIP} missing: apt-get install opencv-doc")
def test_offline_on_a_real_clip_of_people_walking(tmp_path: Path) -> None:
    run = offline(tmp_path, "crowd", 120, source=str(CLIP))
    counts = [s.viewer.crowd.count for s in run.steps]
    print(f"crowd offline on vtest.avi: counts {min(counts)}..{max(counts)}")
    assert len(run.steps) == 120 and max(counts) >= 4  # the clip's people reach the scene
    assert len(set(run.digests)) > 100  # the picture moves
    moved = [np.abs(b - a).mean() for a, b in zip(run.images, run.images[1:])]
    print(f"mean abs change per frame: median {np.median(moved):.2f}, max {max(moved):.2f}")
    assert max(moved) < 40  # and glides: no frame jumps
