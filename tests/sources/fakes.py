"""A pretend camera whose behaviour a test switches at run time, and a poller that acts like
perception: it calls latest() often and insists that every call returns at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from engine.messages import Frame
from engine.sources import Source

FAST_S = 0.05  # the longest any latest()/status() call may take


class FakeDevice:
    """The "camera": `mode` decides what every capture opened on it does from now on.

    ok: a new image every `period_s`; absent: cannot be opened; block: read() hangs until
    `unplug_done` is set (as OpenCV can after an unplug) and then fails; die: read() fails;
    repeat: read() returns the very same image again and again (a frozen driver).
    """

    def __init__(self, mode: str = "ok", period_s: float = 0.01) -> None:
        self.mode = mode
        self.period_s = period_s
        self.opens: list[float] = []  # monotonic time of every open attempt
        self.captures: list[FakeCapture] = []
        self.unplug_done = threading.Event()
        self.open_gate: threading.Event | None = None  # when set to an Event, opening hangs on it
        self._count = 0
        self._lock = threading.Lock()

    def factory(self, index: int) -> FakeCapture:
        self.opens.append(time.monotonic())
        if self.open_gate is not None:
            self.open_gate.wait()
        capture = FakeCapture(self, opened=self.mode != "absent")
        self.captures.append(capture)
        return capture

    def next_image(self) -> np.ndarray:
        with self._lock:
            self._count += 1
            n = self._count
        image = np.zeros((24, 32, 3), np.uint8)
        image[0, 0] = (n % 256, n // 256 % 256, 200)  # BGR: blue is 200, so red in RGB
        return image


class FakeCapture:
    def __init__(self, device: FakeDevice, opened: bool) -> None:
        self.device = device
        self.opened = opened
        self.released = False
        self.settings: dict[int, float] = {}
        self._last: np.ndarray | None = None

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened and not self.released

    def set(self, prop_id: int, value: float) -> bool:
        self.settings[prop_id] = value
        return True

    def release(self) -> None:
        self.released = True

    def read(self) -> tuple[bool, np.ndarray | None]:
        mode = self.device.mode
        if mode == "block":
            self.device.unplug_done.wait()
            return False, None
        if mode in ("die", "absent"):
            return False, None
        time.sleep(self.device.period_s)
        if mode == "repeat" and self._last is not None:
            return True, self._last
        self._last = self.device.next_image()
        return True, self._last


def poll(source: Source, until: Callable[[Frame | None], bool], timeout: float = 3.0) -> Frame | None:
    """Call latest() (and status()) like a stage would until `until` holds; each call must be fast."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        frame = source.latest()
        t1 = time.perf_counter()
        source.status()
        t2 = time.perf_counter()
        assert t1 - t0 < FAST_S, f"latest() took {t1 - t0:.3f} s"
        assert t2 - t1 < FAST_S, f"status() took {t2 - t1:.3f} s"
        if until(frame):
            return frame
        time.sleep(0.003)
    raise AssertionError(f"timed out after {timeout} s; status: {source.status()!r}")


def poll_status(source: Source, words: str, timeout: float = 3.0) -> str:
    """Poll until the status mentions `words`, checking latest() stays fast meanwhile."""
    poll(source, lambda _: words in source.status(), timeout)
    return source.status()


class FrameLog:
    """Every new frame a source hands out, seen the way a stage sees them (polling latest()), to
    measure how long a fault kept new images away and how many frames that cost."""

    def __init__(self, source: Source, every_s: float = 0.002) -> None:
        self.source = source
        self.every_s = every_s
        self.frames: list[Frame] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test frame log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            frame = self.source.latest()
            if frame is not None and (not self.frames or frame.index != self.frames[-1].index):
                self.frames.append(frame)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def outage(self, after: float) -> tuple[Frame, Frame]:
        """(last frame before, first frame after) the longest gap that ends after time `after`."""
        pairs = [(a, b) for a, b in zip(self.frames, self.frames[1:], strict=False) if b.capture_time > after]
        assert pairs, f"no frame after {after:.2f} s"
        return max(pairs, key=lambda p: p[1].capture_time - p[0].capture_time)
