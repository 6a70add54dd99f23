"""One attempt at opening the camera: its reader thread and what the watchdog judges it by.

The camera (engine/sources/camera.py) never waits on the driver. Each attempt gets a `Session`
with its own thread and capture object; the thread reads as fast as the driver delivers and only
records what it saw (when the last image came, when the last different one came, why it stopped).
The watchdog reads those fields and decides, and abandoning a session only sets a flag: a reader
blocked inside the driver is never touched from another thread, because releasing a capture while
`read()` runs can crash the driver.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import cv2
import numpy as np

from engine.clock import Clock
from engine.images import as_rgb
from engine.sources.capture import Capture

log = logging.getLogger(__name__)


class Session:
    """One open attempt, named `label` (also its thread's name).

    The reader writes the fields and the watchdog reads them; single attribute stores are atomic in
    CPython and a value one poll old only delays a decision by one poll.
    """

    def __init__(self, label: str, started: float) -> None:
        self.label = label
        self.started = started
        self.abandoned = threading.Event()
        self.failure: str | None = None  # why the reader stopped by itself
        self.first_fresh: float | None = None
        self.last_read: float | None = None  # any image, repeated or not
        self.last_fresh: float | None = None  # an image that differs from the one before
        self.thread: threading.Thread | None = None
        self.capture: Capture | None = None

    def kill(self) -> bool:
        """End a capture that can be killed (a child process), so its reader returns; False when
        the capture cannot be (in-process), and the reader may stay blocked."""
        kill = getattr(self.capture, "kill", None)
        if kill is None:
            return False
        kill()
        return True

    def read(
        self,
        open_capture: Callable[[], Capture | None],
        mode: tuple[int, int, float],
        clock: Clock,
        publish: Callable[[Session, np.ndarray, float], None],
    ) -> None:
        """The reader thread: open, ask for `mode` (width, height, fps), then read until the
        session is abandoned or the device fails, handing every new image to `publish`."""
        cap: Capture | None = None
        try:
            cap = open_capture()
            self.capture = cap  # before the check below: the watchdog's abandon either sees it or is seen
            if self.abandoned.is_set():
                return
            if cap is None or not cap.isOpened():
                self.failure = "not found"
                return
            request_mode(cap, *mode)
            previous: np.ndarray | None = None
            while not self.abandoned.is_set():
                ok, image = cap.read()
                now = clock.now()
                if self.abandoned.is_set():
                    return
                if not ok or image is None or image.size == 0:
                    self.failure = "lost (read failed)"
                    return
                self.last_read = now
                rgb = as_rgb(image, bgr=True)
                if rgb is None:
                    self.failure = f"error (not an image: shape {image.shape})"
                    return
                if previous is not None and np.array_equal(previous, rgb):
                    continue  # a frozen driver; the watchdog sees last_fresh age
                previous = rgb
                if self.first_fresh is None:
                    self.first_fresh = now
                self.last_fresh = now
                publish(self, rgb, now)
        except Exception as exc:  # noqa: BLE001 - any driver error means: reopen
            log.debug("%s: %r", self.label, exc)
            self.failure = f"error ({exc})"
        finally:
            if cap is not None:
                with contextlib.suppress(Exception):
                    cap.release()


def request_mode(cap: Capture, width: int, height: int, fps: float) -> None:
    # Requests only: a camera picks the nearest mode it has. A one-frame driver buffer keeps
    # the newest image newest (V4L2 otherwise queues four, about 130 ms of lag).
    for prop, value in (
        (cv2.CAP_PROP_FRAME_WIDTH, width),
        (cv2.CAP_PROP_FRAME_HEIGHT, height),
        (cv2.CAP_PROP_FPS, fps),
        (cv2.CAP_PROP_BUFFERSIZE, 1),
    ):
        with contextlib.suppress(Exception):
            cap.set(prop, float(value))
