"""The Perceiver end to end on real photographs: presence, direction of features, robustness."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from engine.messages import Frame, Viewer
from engine.perception import FEATURES, Perceiver, PerceptionSettings, PresenceGate
from tests.perception import photos

ON, OFF = 2, 4


class Feed:
    """Hands photos to one Perceiver as consecutive camera frames at 30 fps."""

    def __init__(self, perceiver: Perceiver) -> None:
        self.p = perceiver
        self.index = 0

    def __call__(self, image: np.ndarray, times: int = 1) -> list[Viewer]:
        out = []
        for _ in range(times):
            self.index += 1
            out.append(self.p.process(Frame(image, self.index / 30.0, self.index, "test")))
        return out

    def still(self, image: np.ndarray) -> dict[str, float]:
        """Features of one photo alone: fresh filters, enough frames for presence to switch on."""
        self.p.reset()
        return dict(self(image, ON)[-1].features)


@pytest.fixture(scope="module")
def perceiver() -> Iterator[Perceiver]:
    p = Perceiver(PerceptionSettings(static_images=True, presence_on_frames=ON, presence_off_frames=OFF))
    yield p
    p.close()


@pytest.fixture()
def feed(perceiver: Perceiver) -> Feed:
    perceiver.reset()
    return Feed(perceiver)


def assert_viewer_ok(v: Viewer) -> None:
    assert set(v.features) == set(FEATURES)
    for name, value in v.features.items():
        assert FEATURES[name].lo <= value <= FEATURES[name].hi, (name, value)
    assert v.mask is not None and v.mask.dtype == np.float32 and v.mask.ndim == 2
    assert v.mask.shape[1] <= 256 and v.mask.min() >= 0.0 and v.mask.max() <= 1.0
    assert v.skeleton is None or (v.skeleton.shape == (33, 3) and v.skeleton.dtype == np.float32)


def test_finds_the_portrait(feed: Feed) -> None:
    v = feed(photos.astronaut(), ON)[-1]
    assert_viewer_ok(v)
    f = v.features
    assert f["presence"] == 1.0
    assert 0.6 < f["distance"] < 0.95  # a head-and-shoulders portrait: close to the camera
    assert -0.3 < f["x"] < 0.1 and -0.7 < f["y"] < -0.3  # her face: a little left of centre, high up
    assert f["smile"] > 0.8 and f["mouth_open"] < 0.4
    assert v.skeleton is not None and v.mask is not None
    assert v.mask.mean() > 0.2  # she fills a good part of the picture


def test_presence_needs_on_frames_and_holds_for_off_frames(feed: Feed) -> None:
    got = [v.features["presence"] for v in feed(photos.astronaut(), ON + 1)]
    assert got == [0.0] * (ON - 1) + [1.0, 1.0]
    cat = photos.no_people()[0]
    got = [v.features["presence"] for v in feed(cat, OFF + 1)]
    assert got == [1.0] * (OFF - 1) + [0.0, 0.0]


@pytest.mark.parametrize("index", range(3))
def test_no_person_in_photos_without_people(feed: Feed, index: int) -> None:
    views = feed(photos.no_people()[index], ON + OFF)
    assert all(v.features["presence"] == 0.0 for v in views)
    assert views[-1].skeleton is None
    assert dict(views[-1].features) == {n: s.neutral for n, s in FEATURES.items()}


def test_mirrored_portrait_mirrors_x_yaw_and_roll(feed: Feed) -> None:
    tilted = photos.rotated(photos.astronaut(), -12)  # tilt her head clockwise so roll is clearly > 0
    a, b = feed.still(tilted), feed.still(photos.mirrored(tilted))
    assert a["x"] == pytest.approx(-b["x"], abs=0.05)
    assert a["y"] == pytest.approx(b["y"], abs=0.05)
    assert a["head_roll"] > 0.2 and b["head_roll"] < -0.2
    assert a["head_roll"] == pytest.approx(-b["head_roll"], abs=0.06)
    assert a["head_yaw"] == pytest.approx(-b["head_yaw"], abs=0.1)
    assert a["smile"] == pytest.approx(b["smile"], abs=0.1)


def test_profile_yaw_flips_with_the_mirror(feed: Feed) -> None:
    a, b = feed.still(photos.cameraman()), feed.still(photos.mirrored(photos.cameraman()))
    assert a["presence"] == b["presence"] == 1.0
    assert a["head_yaw"] > 0.5 and b["head_yaw"] < -0.5  # he faces the image's right edge


@pytest.mark.parametrize("degrees", [15, -15])
def test_rotation_changes_roll_with_the_right_sign(feed: Feed, degrees: int) -> None:
    upright = feed.still(photos.astronaut())["head_roll"]
    turned = feed.still(photos.rotated(photos.astronaut(), degrees))["head_roll"]
    # OpenCV's positive angle turns the picture counter-clockwise: roll goes negative.
    assert turned - upright == pytest.approx(-degrees / 45, abs=0.08)


def test_farther_person_reads_as_more_distant(feed: Feed) -> None:
    near = feed.still(photos.astronaut())
    far = feed.still(photos.shrunk(photos.astronaut(), 2.5))
    assert far["presence"] == 1.0
    assert far["distance"] < near["distance"] - 0.2
    # Her face is now too small for the face detector on the whole frame; read in a crop
    # around the pose's head, her smile still is.
    assert far["smile"] > 0.8


def test_motion_energy_rises_while_she_moves_and_settles_after(feed: Feed) -> None:
    img = photos.in_frame(photos.astronaut())
    still = feed(img, 10)[-1].features
    moving = [feed(np.roll(img, 8 * k, axis=1))[0].features for k in range(1, 11)]  # 240 px/s
    after = feed(np.roll(img, 80, axis=1), 20)[-1].features
    assert still["motion_energy"] < 0.05
    assert max(f["motion_energy"] for f in moving) > 0.3
    assert after["motion_energy"] < 0.1
    assert moving[-1]["x"] > still["x"] + 0.15  # and x followed her to the right


def test_repeated_frame_index_returns_the_same_viewer(feed: Feed) -> None:
    first = feed(photos.astronaut())[0]
    again = feed.p.process(Frame(photos.astronaut(), first.capture_time, first.frame_index, "test"))
    assert again is first


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((480, 640, 3), np.uint8),  # black
        np.zeros((4, 3, 3), np.uint8),  # tiny
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((0, 0, 3), np.uint8),
        np.ones((2, 2), np.uint8),  # 2-D
        np.zeros((10, 10, 5), np.uint8),  # nonsense channel count
    ],
    ids=["black", "tiny", "one-pixel", "empty", "2x2-gray", "5-channel"],
)
def test_odd_frames_do_not_crash(feed: Feed, image: np.ndarray) -> None:
    views = feed(image, ON + 1)
    assert all(v.features["presence"] == 0.0 for v in views)
    assert set(views[-1].features) == set(FEATURES)
    assert views[-1].mask is not None and views[-1].mask.dtype == np.float32


def test_grayscale_portrait_still_finds_her(feed: Feed) -> None:
    gray = cv2.cvtColor(photos.astronaut(), cv2.COLOR_RGB2GRAY)
    for image in (gray, gray[:, :, None], np.stack([gray] * 3, axis=-1)):
        feed.p.reset()
        v = feed(image, ON)[-1]
        assert_viewer_ok(v)
        assert v.features["presence"] == 1.0 and v.features["smile"] > 0.6


def test_features_stay_in_range_on_real_photos(feed: Feed) -> None:
    images = [
        photos.in_frame(photos.astronaut()),
        photos.rotated(photos.astronaut(), 30),
        photos.cameraman(),
        photos.lfw_face(53),
        *photos.no_people(),
    ]
    for image in images:
        for v in feed(image, 2):
            assert_viewer_ok(v)


def test_presence_gate_hysteresis() -> None:
    gate = PresenceGate(on_frames=3, off_frames=2)
    seq = [True, True, False, True, True, True, False, True, False, False, False]
    got = [gate.update(s) for s in seq]
    assert got == [False, False, False, False, False, True, True, True, True, False, False]


def test_video_mode_perceivers_run_side_by_side_in_their_own_threads() -> None:
    """Each Perceiver built and used in its own thread, with other model choices in each."""
    results: dict[str, Viewer] = {}
    errors: list[BaseException] = []
    image = photos.in_frame(photos.astronaut())
    variants = {
        "default": PerceptionSettings(),
        "selfie, half rate": PerceptionSettings(segmentation_model="selfie", pose_every=2, face_every=2),
        "no mask, whole-frame faces": PerceptionSettings(segmentation=False, face_from_pose=False),
    }

    def worker(name: str) -> None:
        try:
            with Perceiver(variants[name]) as p:
                results[name] = [p.process(Frame(image, i / 30.0, i, name)) for i in range(8)][-1]
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(name,)) for name in variants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    for name, settings in variants.items():
        v = results[name]
        if settings.segmentation:
            assert_viewer_ok(v)
        else:
            assert v.mask is None, name
        assert v.features["presence"] == 1.0 and v.features["smile"] > 0.8, name
