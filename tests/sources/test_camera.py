"""The camera must survive what real cameras do in a gallery over months, without ever making
its caller wait: reads that hang, devices that vanish, drivers that freeze on one image.

The first tests drive the camera logic with in-process fakes (the `opencv_capture` option); the last
ones run the default, the device in a child process, with OpenCV's real read path on a video file
standing in for the camera, and measure each fault: how long new images stayed away (time to
recover) and how many frames of a 30 fps camera that cost. Run with -s to see the numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from engine.clock import RealtimeClock
from engine.sources import CameraSource, ProcessCapture
from tests.sources import child_devices
from tests.sources.fakes import FakeDevice, FrameLog, poll, poll_status

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


# -- the default: the device in a child process, OpenCV's real read path ------------------------------

CHILD_QUICK = dict(
    stale_after_s=0.5,
    repeat_after_s=0.6,
    open_timeout_s=3.0,
    backoff_s=(0.1, 0.8),
    healthy_after_s=0.5,
    poll_s=0.02,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return child_devices.write_clip(tmp_path_factory.mktemp("camera") / "camera.mp4")


class ChildCamera:
    """A CameraSource whose captures are ProcessCaptures of a FileCamera; `mode` switches the device."""

    def __init__(self, clip: Path, folder: Path, **options: object) -> None:
        self.folder = folder
        self.spec = child_devices.make_spec(clip, folder)
        self.pids: list[int] = []
        self.opens: list[float] = []
        self.clock = RealtimeClock()
        self.threads = set(threading.enumerate())
        options = {**CHILD_QUICK, "capture_factory": self.factory, "device_token": self.node, **options}
        self.cam = CameraSource(0, self.clock, **options)  # type: ignore[arg-type]
        self.log = FrameLog(self.cam)

    def factory(self, index: int) -> ProcessCapture:
        self.opens.append(self.clock.now())
        cap = ProcessCapture(self.spec, opener="tests.sources.child_devices:FileCamera")
        self.pids.append(cap.pid)
        return cap

    def node(self) -> object:
        """The /dev/video0 this device would have: there unless it is unplugged."""
        return None if (self.folder / "mode").read_text() == "absent" else "video0"

    def mode(self, word: str) -> float:
        (self.folder / "mode").write_text(word)
        return self.clock.now()

    def report(self, fault: str, t_fault: float, t_back: float | None = None) -> tuple[float, int]:
        """Print and return (outage in s, frames lost at 30 fps) around the fault."""
        before, after = self.log.outage(t_fault)
        gap = after.capture_time - before.capture_time
        lost = max(0, round(gap * child_devices.FPS) - 1)
        back = "" if t_back is None else f", device back → first image {after.capture_time - t_back:.2f} s"
        print(f"\nFAULT {fault}: no new image for {gap:.2f} s{back}; {lost} frames lost; pids {self.pids}")
        return gap, lost

    def close_and_check(self) -> None:
        self.cam.close()
        self.log.close()
        assert set(threading.enumerate()) <= self.threads, threading.enumerate()
        assert not multiprocessing.active_children()
        for pid in self.pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@pytest.fixture
def child_camera(clip: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ChildCamera]:
    options = getattr(request, "param", {})
    camera = ChildCamera(clip, tmp_path / "device", **options)
    yield camera
    camera.close_and_check()


def test_child_camera_delivers_the_real_images(child_camera: ChildCamera) -> None:
    cam = child_camera.cam
    cam.start()
    fresh_frames_after(cam, -1, 10)
    frame = cam.latest()
    assert frame is not None and frame.image.shape == (480, 640, 3) and not frame.image.flags.writeable
    assert cam.status() == "camera 0 live" and len(child_camera.pids) == 1


def test_child_camera_read_that_blocks_is_killed_and_replaced(child_camera: ChildCamera) -> None:
    cam = child_camera.cam
    cam.start()
    fresh_frames_after(cam, -1, 5)
    t_fault = child_camera.mode("block-once")  # this process's next read never returns
    assert "stalled" in poll_status(cam, "stalled", timeout=5.0)
    fresh_frames_after(cam, cam.latest().index if cam.latest() else -1)  # a new process, new images
    assert (child_camera.folder / "fault").read_text() == str(child_camera.pids[0])
    with pytest.raises(ProcessLookupError):
        os.kill(child_camera.pids[0], 0)  # the blocked process is gone, not left behind
    assert cam.stuck_readers == 0 and len(child_camera.pids) == 2
    gap, lost = child_camera.report("blocked read (child killed, new child)", t_fault)
    assert gap < CHILD_QUICK["stale_after_s"] + 1.5  # detection + kill + backoff + a new child's first image


@pytest.mark.parametrize("child_camera", [{"backoff_s": (0.2, 10.0)}], indirect=True)
def test_child_camera_unplugged_and_replugged(child_camera: ChildCamera) -> None:
    cam = child_camera.cam
    cam.start()
    fresh_frames_after(cam, -1, 5)
    t_fault = child_camera.mode("absent")  # unplugged: reads fail, the node goes, it cannot be opened
    assert "lost (read failed)" in poll_status(cam, "lost", timeout=3.0)
    assert poll_status(cam, "not found", timeout=3.0).startswith("camera 0 not found — retrying in ")
    assert cam.latest() is None and not cam.live
    # Tries after 0.2, 0.4 and 0.8 s; wait until the last of them has failed too.
    poll(cam, lambda _: len(child_camera.opens) >= 4 and "retrying in" in cam.status(), timeout=5.0)
    waits = [b - a for a, b in zip(child_camera.opens[1:], child_camera.opens[2:], strict=False)]
    assert all(b > 1.5 * a for a, b in zip(waits, waits[1:], strict=False)), waits
    t_back = child_camera.mode("ok")  # plugged in again; the timer's next try is about 1.6 s away
    fresh_frames_after(cam, -1)
    unplugged = t_back - t_fault
    gap, lost = child_camera.report(f"camera unplugged {unplugged:.1f} s and replugged", t_fault, t_back)
    print(f"retry waits while unplugged: {', '.join(f'{w:.2f}' for w in waits)} s")
    assert cam.live and cam.stuck_readers == 0
    before, after = child_camera.log.outage(t_fault)
    assert after.capture_time - t_back < 1.0  # the node came back: tried at once, not after the backoff


def test_child_camera_frozen_on_one_image_is_reopened(child_camera: ChildCamera) -> None:
    cam = child_camera.cam
    cam.start()
    fresh_frames_after(cam, -1, 5)
    t_fault = child_camera.mode("repeat-once")  # the driver hands out the same image from now on
    assert "frozen (same image for 0.6 s)" in poll_status(cam, "frozen", timeout=3.0)
    fresh_frames_after(cam, cam.latest().index if cam.latest() else -1)
    assert len(child_camera.pids) == 2
    gap, lost = child_camera.report("camera frozen on one image (reopened)", t_fault)
    assert gap < CHILD_QUICK["repeat_after_s"] + 1.5
