"""The camera must survive what real cameras do in a gallery over months, without ever making
its caller wait: reads that hang, devices that vanish, drivers that freeze on one image."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import cv2
import pytest

from engine.clock import RealtimeClock
from engine.sources import CameraSource
from tests.sources.fakes import FakeDevice, poll, poll_status

QUICK = dict(
    stale_after_s=0.2,
    repeat_after_s=0.3,
    open_timeout_s=0.5,
    backoff_s=(0.05, 0.2),
    healthy_after_s=0.1,
    poll_s=0.01,
)


@pytest.fixture
def device() -> Iterator[FakeDevice]:
    dev = FakeDevice()
    yield dev
    dev.unplug_done.set()  # let blocked reader threads finish
    if dev.open_gate is not None:
        dev.open_gate.set()


def make(device: FakeDevice, **overrides: object) -> CameraSource:
    options = {**QUICK, **overrides}
    return CameraSource(0, RealtimeClock(), capture_factory=device.factory, **options)  # type: ignore[arg-type]


def fresh_frames_after(cam: CameraSource, index: int, count: int = 3) -> list[int]:
    """Wait for `count` new frames past `index` and return their indices, checking they increase."""
    seen = [poll(cam, lambda f: f is not None and f.index > index).index]  # type: ignore[union-attr]
    while len(seen) < count:
        seen.append(poll(cam, lambda f: f is not None and f.index > seen[-1]).index)  # type: ignore[union-attr]
    assert seen == sorted(set(seen))
    return seen


def test_live_frames_are_rgb_read_only_and_increasing(device: FakeDevice) -> None:
    with make(device) as cam:
        assert cam.status() == "camera 0 not started" and cam.latest() is None
        cam.start()
        indices = fresh_frames_after(cam, -1, 5)
        frame = cam.latest()
        assert frame is not None and frame.source == "camera:0"
        assert frame.image[0, 0, 0] == 200  # the fake's blue-first 200 is red once converted to RGB
        assert not frame.image.flags.writeable
        assert cam.live and cam.status() == "camera 0 live"
        assert indices[0] >= 0
    assert cam.status() == "camera 0 closed" and cam.latest() is None


def test_recovers_from_a_read_that_blocks(device: FakeDevice) -> None:
    with make(device, max_stuck=20) as cam:
        cam.start()
        last = fresh_frames_after(cam, -1)[-1]
        device.mode = "block"  # unplugged: read() hangs for good
        status = poll_status(cam, "stalled")
        assert status.startswith("camera 0 stalled (no image for 0.2 s) — retrying")
        assert not cam.live
        poll(cam, lambda f: f is None)  # no frozen visitor: the old image is withdrawn
        device.mode = "ok"  # plugged in again; the old reads are still blocked
        assert fresh_frames_after(cam, last)[0] > last
        assert cam.stuck_readers >= 1
        poll_status(cam, "live")


def test_recovers_from_a_camera_that_dies(device: FakeDevice) -> None:
    with make(device) as cam:
        cam.start()
        last = fresh_frames_after(cam, -1)[-1]
        device.mode = "die"
        assert "lost (read failed)" in poll_status(cam, "lost")
        device.mode = "absent"
        assert poll_status(cam, "not found").startswith("camera 0 not found — retrying in ")
        assert cam.latest() is None and not cam.live
        device.mode = "ok"
        fresh_frames_after(cam, last)
        assert cam.stuck_readers == 0


def test_recovers_from_a_frozen_image(device: FakeDevice) -> None:
    with make(device) as cam:
        cam.start()
        fresh_frames_after(cam, -1)
        device.mode = "repeat"
        assert "no new image for" in poll_status(cam, "no new image")
        frozen = cam.latest()
        assert frozen is not None  # same image, same index: nothing new is published
        assert "frozen (same image for 0.3 s)" in poll_status(cam, "frozen")
        device.mode = "ok"
        fresh_frames_after(cam, frozen.index)


def test_no_camera_at_start_keeps_retrying_with_growing_backoff(device: FakeDevice) -> None:
    device.mode = "absent"
    with make(device, backoff_s=(0.08, 0.32)) as cam:
        cam.start()
        poll(cam, lambda _: len(device.opens) >= 6, timeout=4.0)
        assert cam.latest() is None and not cam.live
        assert poll_status(cam, "retrying in").startswith("camera 0 not found — retrying in ")
        gaps = [b - a for a, b in zip(device.opens, device.opens[1:], strict=False)][:5]
        assert gaps[1] > 1.4 * gaps[0] and gaps[2] > 1.4 * gaps[1]  # 0.08, 0.16, 0.32 …
        assert all(0.3 < g < 0.6 for g in gaps[3:])  # … capped at 0.32
        assert cam.attempts >= 6
        device.mode = "ok"
        fresh_frames_after(cam, -1)


def test_an_open_that_hangs_is_abandoned(device: FakeDevice) -> None:
    device.open_gate = threading.Event()
    with make(device, max_stuck=20) as cam:
        cam.start()
        assert "not responding" in poll_status(cam, "not responding")
        poll(cam, lambda _: len(device.opens) >= 2)  # tried again without waiting for the hung open
        device.open_gate.set()
        fresh_frames_after(cam, -1)


def test_too_many_stuck_reads_stop_new_attempts_until_they_return(device: FakeDevice) -> None:
    device.mode = "block"
    with make(device, max_stuck=2) as cam:
        cam.start()
        assert "stuck in the driver" in poll_status(cam, "stuck")
        attempts = cam.attempts
        time.sleep(0.3)
        assert cam.attempts == attempts  # no thread leak while the driver is wedged
        device.mode = "ok"
        device.unplug_done.set()  # the hung reads finally return
        fresh_frames_after(cam, -1)
        assert cam.stuck_readers == 0


def test_close_is_prompt_even_while_a_read_hangs(device: FakeDevice) -> None:
    cam = make(device)
    cam.start()
    fresh_frames_after(cam, -1)
    device.mode = "block"
    time.sleep(0.05)
    t0 = time.perf_counter()
    cam.close()
    assert time.perf_counter() - t0 < 1.0
    assert cam.latest() is None and not cam.live


def test_camera_settings_are_requested_and_offline_use_is_refused(device: FakeDevice) -> None:
    with make(device) as cam:
        cam.start()
        fresh_frames_after(cam, -1, 1)
        settings = device.captures[0].settings
        assert settings[cv2.CAP_PROP_FRAME_WIDTH] == 640 and settings[cv2.CAP_PROP_FRAME_HEIGHT] == 480
        assert settings[cv2.CAP_PROP_BUFFERSIZE] == 1  # the newest image, not one queued in the driver
        with pytest.raises(NotImplementedError, match="camera:0 is live only"):
            cam.frames()
    with pytest.raises(ValueError, match="backoff_s"):
        CameraSource(0, RealtimeClock(), backoff_s=(2.0, 1.0))
