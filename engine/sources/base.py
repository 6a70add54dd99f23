"""What every source shares: the Source contract, the one-slot mailbox and the paced player.

A source is used two ways. Realtime: `start()` and then `latest()` from any thread, which must
never block, because perception polls it between frames and a camera that hangs must not hang the
piece. Offline: `frames()` yields every frame in order with `capture_time = index / fps`, so the
same input always gives the same frames whatever the wall clock does.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import numpy as np

from engine.clock import Clock, RealtimeClock
from engine.messages import Frame

log = logging.getLogger(__name__)

T = TypeVar("T")

Producer = Callable[[int], "np.ndarray | None"]  # frame index -> RGB image, None at the end


class SourceError(ValueError):
    """A source cannot be opened or understood; the message names the file or spec."""


class LatestSlot(Generic[T]):
    """A one-slot "latest wins" mailbox: a put replaces what was there, so a slow reader skips
    frames instead of falling behind through a queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None

    def put(self, value: T) -> None:
        with self._lock:
            self._value = value

    def get(self) -> T | None:
        with self._lock:
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None


class Source(ABC):
    """The contract between a source and the rest of the engine.

    `name` is what goes into `Frame.source` (e.g. "camera:0"); `fps` is the nominal rate, which an
    offline run uses for its FixedStepClock so that source time and render time agree.
    """

    name: str
    fps: float

    @abstractmethod
    def start(self) -> None:
        """Begin realtime delivery in the background; calling it twice is harmless."""

    @abstractmethod
    def latest(self) -> Frame | None:
        """The newest frame, immediately; None while there is no current image (an empty room
        rather than a frozen visitor). A repeated index means nothing new arrived."""

    @abstractmethod
    def status(self) -> str:
        """A short line for the on-screen note, e.g. "camera 0 live"."""

    @property
    @abstractmethod
    def live(self) -> bool:
        """Whether new images are arriving now."""

    @abstractmethod
    def close(self) -> None:
        """Stop background work promptly; calling it twice is harmless."""

    @abstractmethod
    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Every frame in order, capture_time = index / fps; endless sources need `limit`."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PacedSource(Source):
    """A source whose frames are known ahead (a file, a still, the demo): realtime plays them on
    the clock at `fps` in a daemon thread, skipping ahead when it falls behind so time stays true.

    Subclasses provide `_producer()`, returning a function that maps a strictly increasing frame
    index (with gaps when frames are skipped) to an RGB image, and `_describe()` for the status.
    """

    retry_s = 2.0  # how long to wait before reopening after an unexpected error

    def __init__(self, name: str, clock: Clock | None, fps: float) -> None:
        if fps <= 0:
            raise SourceError(f"{name}: fps must be positive, got {fps}")
        self.name = name
        self.fps = float(fps)
        self._clock = clock
        self._slot: LatestSlot[Frame] = LatestSlot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error = ""
        self._ended = False
        self._last_publish: float | None = None

    @abstractmethod
    def _producer(self) -> tuple[Producer, Callable[[], None]]:
        """(produce, close) for one realtime run; produce sees increasing indices, with gaps."""

    @abstractmethod
    def _describe(self) -> str: ...

    def start(self) -> None:
        if self._thread is not None:
            return
        if self._clock is None:
            self._clock = RealtimeClock()
        self._thread = threading.Thread(target=self._run, name=f"source {self.name}", daemon=True)
        self._thread.start()

    def latest(self) -> Frame | None:
        return self._slot.get()

    @property
    def live(self) -> bool:
        if self._thread is None or self._stop.is_set() or self._error or self._ended:
            return False
        if self._last_publish is None:
            return False
        assert self._clock is not None
        return self._clock.now() - self._last_publish <= max(1.0, 3.0 / self.fps)

    def status(self) -> str:
        if self._stop.is_set():
            return f"{self._describe()} closed"
        if self._error:
            return self._error
        if self._ended:
            return f"{self._describe()} ended"
        if self._thread is None:
            return f"{self._describe()} not started"
        return f"{self._describe()} {'playing' if self._last_publish is not None else 'opening…'}"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        # Errors are reported in the status and retried, never raised: an unattended piece keeps
        # going on its own and shows what is wrong in the note.
        while not self._stop.is_set():
            try:
                self._play()
                self._ended = not self._stop.is_set()
                self._slot.clear()
                return
            except Exception as exc:  # noqa: BLE001 - any decoder failure is retried
                log.warning("%s failed: %s", self.name, exc)
                self._error = f"{self._describe()} failed: {exc} — retrying in {self.retry_s:.0f} s"
                self._slot.clear()
                self._stop.wait(self.retry_s)

    def _play(self) -> None:
        clock = self._clock
        assert clock is not None
        produce, close = self._producer()
        try:
            t0 = clock.now()
            index = 0
            while not self._stop.is_set():
                wait = t0 + index / self.fps - clock.now()
                if wait > 0 and self._stop.wait(wait):
                    break
                # Late by more than a frame: jump to the frame that is due now instead of lagging.
                index = max(index, int((clock.now() - t0) * self.fps))
                image = produce(index)
                if image is None:  # a file that does not loop has ended
                    break
                now = clock.now()
                self._slot.put(Frame(image=image, capture_time=now, index=index, source=self.name))
                self._last_publish = now
                self._error = ""
                index += 1
        finally:
            close()


def read_only(image: np.ndarray) -> np.ndarray:
    """Mark an image shared between frames as read-only, so a stage that draws on its input
    fails loudly instead of changing every later frame."""
    image.flags.writeable = False
    return image
