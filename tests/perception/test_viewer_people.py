"""Several people on real photographs: MediaPipe's multi-pose, ids, and a handover between viewers.

No package ships a photo of two people, so two real portraits stand side by side: the astronaut
(left) and Grace Hopper (right), on a 960×480 black frame (engine.perception.bench.two_people).
A person stepping nearer or back is that photo growing or shrinking between frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from engine.messages import Frame, Viewer
from engine.perception import Perceiver, PerceptionSettings
from engine.perception.bench import two_people
from engine.perception.landmarks import VISIBLE
from engine.perception.pose_model import MultiPose
from tests.perception import photos
from tests.perception.conftest import Landmarker

SIZE = (960, 480)
HOLD_S, FADE_S, FPS = 0.5, 0.3, 30


def scene(left: float, right: float) -> np.ndarray:
    return two_people(photos.astronaut(), photos.grace_hopper()[:, 40:-40], left, right, SIZE)


class Clip:
    """Feeds frames to one video-mode Perceiver at 30 fps and keeps what came out."""

    def __init__(self, perceiver: Perceiver) -> None:
        self.p = perceiver
        self.views: list[Viewer] = []

    def __call__(self, left: float, right: float, frames: int = 1) -> list[Viewer]:
        out = []
        for _ in range(frames):
            i = len(self.views)
            out.append(self.p.process(Frame(scene(left, right), i / FPS, i, "test")))
            self.views.append(out[-1])
        return out

    def ramp(self, start: tuple[float, float], end: tuple[float, float], frames: int) -> list[Viewer]:
        return [
            v
            for k in range(1, frames + 1)
            for v in self(*np.add(start, np.subtract(end, start) * k / frames))
        ]


@pytest.fixture()
def clip() -> Iterator[Clip]:
    settings = PerceptionSettings(
        max_people=2, switch_after_s=HOLD_S, crossfade_s=FADE_S, presence_on_frames=2
    )
    with Perceiver(settings) as p:
        yield Clip(p)


def test_multi_pose_bundle_matches_the_legacy_single_pose(landmarker: Landmarker) -> None:
    """The bundle made from the wheel's networks reads the portrait as the legacy API does."""
    image = photos.astronaut()
    legacy = landmarker.pose(image)
    multi = MultiPose(
        complexity=1,
        num_poses=1,
        video=False,
        segmentation=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )
    try:
        (pose, mask), *rest = multi.detect(image, 0.0)
    finally:
        multi.close()
    assert not rest and legacy is not None
    seen = (legacy[:, 3] >= VISIBLE) & (pose[:, 3] >= VISIBLE)
    assert seen.sum() >= 11  # head, shoulders, arms
    assert np.abs(pose[seen, :2] - legacy[seen, :2]).max() < 0.04  # 20 px on a 512 px portrait
    assert mask is not None and mask.shape == image.shape[:2] and mask.mean() > 0.2


def test_two_people_are_counted_and_the_viewer_has_a_small_id(clip: Clip) -> None:
    v = clip(1.0, 1.0, 6)[-1]
    f = v.features
    assert f["presence"] == 1.0 and f["count"] == 2.0
    assert f["viewer_id"] in (1.0, 2.0)
    assert [p.id for p in clip.p._people.people] == [1, 2]
    # The viewer's features are that person's: x on their side of the frame.
    viewer = next(p for p in clip.p._people.people if p.id == f["viewer_id"])
    assert np.sign(f["x"]) == np.sign(viewer.centre[0] - 0.5)


def test_handover_is_sticky_then_glides(clip: Clip) -> None:
    start = clip(1.0, 1.0, 6)
    first = start[-1].features["viewer_id"]
    side = np.sign(start[-1].features["x"])  # -1: the astronaut is the viewer, +1: Grace Hopper
    full = (1.0, 1.0)
    back = (0.6, 1.0) if side < 0 else (1.0, 0.6)  # the viewer steps back; the other is now larger

    # A short step back (under HOLD_S with the other clearly larger) keeps the viewer.
    brief = clip.ramp(full, back, 4) + clip(*back, 3) + clip.ramp(back, full, 4) + clip(*full, 3)
    assert {v.features["viewer_id"] for v in brief} == {first}

    # Staying back hands the piece to the other person, after HOLD_S, without a jump.
    held = clip.ramp(full, back, 4) + clip(*back, round((HOLD_S + FADE_S) * FPS) + 10)
    ids = [v.features["viewer_id"] for v in held]
    assert ids[0] == first and ids[-1] not in (first, 0.0)
    switch = ids.index(ids[-1])
    assert ids[switch:] == [ids[-1]] * (len(ids) - switch)  # once, no flipping back
    assert HOLD_S * FPS - 2 <= switch <= HOLD_S * FPS + 6  # ratio crossed during the 4-frame ramp

    xs = np.array([v.features["x"] for v in held])
    before, after = xs[switch - 1], xs[-1]
    assert np.sign(before) == side and np.sign(after) == -side
    fade = xs[switch - 1 : switch + round(FADE_S * FPS) + 1]
    steps = np.abs(np.diff(fade))
    assert steps.max() < 0.3 * abs(after - before)  # a glide, not a cut
    assert np.any(np.abs(fade - before) > 0.3 * abs(after - before))  # ...that goes somewhere
    assert [v.features["presence"] for v in clip.views[:2]] == [0.0, 1.0]  # presence_on_frames
    assert all(v.features["count"] == 2.0 for v in clip.views[1:])
    assert {p.id for p in clip.p._people.people} == {1, 2}  # the same two ids all along


def test_allowed_hook_keeps_the_viewer_in_a_zone() -> None:
    """A zone (here: the left half) plugs in as `allowed`; the larger person outside it is ignored."""
    settings = PerceptionSettings(max_people=2, presence_on_frames=2, switch_after_s=HOLD_S)
    with Perceiver(settings, allowed=lambda p: p.centre[0] < 0.5) as p:
        clip = Clip(p)
        clip(1.0, 1.0, 3)
        views = clip.ramp((1.0, 1.0), (0.6, 1.0), 4) + clip(0.6, 1.0, round(2 * HOLD_S * FPS))
    assert all(v.features["count"] == 1.0 for v in views)  # the person outside is not counted either
    # The astronaut's x all along, though Grace Hopper was far larger for twice HOLD_S.
    assert all(v.features["x"] < -0.2 for v in views)
    assert len({v.features["viewer_id"] for v in views}) == 1
