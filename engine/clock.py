"""Injected clocks: stage code asks these for time, never time.time()."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What a stage may ask: the time. Only the realtime loop waits, on its own `RealtimeClock`."""

    def now(self) -> float: ...


class RealtimeClock:
    """Monotonic seconds since construction."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self._t0

    def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            time.sleep(delay)

    def wait_until(self, t: float, news: threading.Event) -> bool:
        """Sleep until `t` or until `news` is set, whichever is first; True when news woke us."""
        delay = t - self.now()
        return news.wait(delay) if delay > 0 else news.is_set()


class FixedStepClock:
    """Offline time: advances only when told to, by exactly one step per frame."""

    def __init__(self, fps: float = 30.0) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.step = 1.0 / fps
        self._ticks = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._ticks * self.step

    def advance(self, ticks: int = 1) -> float:
        with self._lock:
            self._ticks += ticks
            return self._ticks * self.step
