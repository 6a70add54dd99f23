"""The demo must show a real person who moves, the same way every time, and never leaves the frame."""

from __future__ import annotations

import numpy as np
import pytest

from engine.clock import RealtimeClock
from engine.sources import DemoSource
from engine.sources.demo import BACKDROP
from tests.sources.fakes import poll


@pytest.fixture(scope="module")
def demo() -> DemoSource:
    return DemoSource(fps=30.0)


def subject(image: np.ndarray) -> tuple[float, float, int]:
    """Centre x, top y and area of whatever is not backdrop: where the person is and how big."""
    mask = np.abs(image.astype(np.int16) - np.array(BACKDROP, np.int16)).max(axis=2) > 24
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.min()), int(mask.sum())


def test_same_index_gives_the_same_image(demo: DemoSource) -> None:
    other = DemoSource(fps=30.0)
    for index in (0, 1, 123, 599):
        assert np.array_equal(demo.render(index), other.render(index))
    frames = list(demo.frames(limit=3))
    assert [f.index for f in frames] == [0, 1, 2]
    assert [f.capture_time for f in frames] == [0.0, 1 / 30, 2 / 30]
    assert all(np.array_equal(f.image, demo.render(f.index)) for f in frames)
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8
    assert frames[0].source == "demo" and not frames[0].image.flags.writeable


def test_the_person_moves_and_the_loop_closes(demo: DemoSource) -> None:
    assert demo.loop_frames == 600  # 20 s at 30 fps
    assert np.array_equal(demo.render(0), demo.render(600))
    places = [subject(demo.render(i)) for i in range(0, 600, 25)]
    xs, tops, areas = zip(*places, strict=True)
    assert max(xs) - min(xs) > 120  # drifts left and right
    assert max(areas) > 1.4 * min(areas)  # comes closer and goes back
    assert min(tops) > 5  # the head never leaves the top of the frame
    assert all(80 < x < 560 for x in xs)
    step = np.abs(demo.render(100).astype(int) - demo.render(101).astype(int)).mean()
    assert 0.05 < step < 10  # moving smoothly, not jumping


def test_a_face_tracker_finds_the_face_all_along(demo: DemoSource) -> None:
    mp = pytest.importorskip("mediapipe")
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1) as mesh:
        for index in range(0, 600, 75):
            assert mesh.process(demo.render(index)).multi_face_landmarks, f"no face at frame {index}"


def test_realtime_demo_shows_the_frame_due_now() -> None:
    with DemoSource(RealtimeClock(), fps=30.0) as demo:
        demo.start()
        frame = poll(demo, lambda f: f is not None and f.index >= 3)
        assert frame is not None and np.array_equal(frame.image, demo.render(frame.index))
        assert demo.live and demo.status() == "demo (no camera) playing"
