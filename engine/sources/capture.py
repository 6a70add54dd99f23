"""The seam between the camera logic and the capture device, so that tests can inject devices
that block, die or freeze, and another backend (a camera SDK, a capture card) can slot in."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np


class Capture(Protocol):
    """The part of `cv2.VideoCapture` the camera uses; tests inject fakes that block or die.

    A capture may also have `kill()` (as `ProcessCapture` does): the camera calls it from its
    watchdog to end a read that blocks; one without it is left to return by itself."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...

    def set(self, prop_id: int, value: float) -> bool: ...


CaptureFactory = Callable[[int], Capture]


def opencv_capture(index: int) -> Capture:
    return cv2.VideoCapture(index)


def video_node(index: int) -> Callable[[], object]:
    """Linux's device node for camera `index` as a token (None while unplugged), so that a camera
    plugged back in is opened at once instead of at the end of a backoff that may have grown to 30 s."""
    path = f"/dev/video{index}"

    def token() -> object:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_ino, st.st_rdev, st.st_ctime_ns

    return token
