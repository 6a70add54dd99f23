"""What every source shares: the Source contract and the paced player.

A source is used two ways. Realtime: `start()` and then `latest()` from any thread, which must
never block, because perception polls it between frames and a camera that hangs must not hang the
piece. Offline: `frames()` yields every frame in order with `capture_time = index / fps`, so the
same input always gives the same frames whatever the wall clock does.
"""

from __future__ import annotations

import logging
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import numpy as np

from engine.clock import Clock, RealtimeClock
from engine.control.osc.safety import LogThrottle
from engine.mailbox import Mailbox
from engine.messages import Frame

log = logging.getLogger(__name__)

Producer = Callable[[int], "np.ndarray | None"]  # frame index -> RGB image, None at the end


class SourceError(ValueError):
    """A source cannot be opened or understood; the message names the file or spec."""


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

    A failure (a file deleted, a decoder error) is retried for ever with backoff, from `retry_s`
    to `retry_max_s`, and logged once per kind, then at most once a minute with a count. A source
    that reads a file may also say what the file looks like now (`_input_token`): when that
    changes and then holds still for one look (a copy has finished), it is retried at once, so
    a file put back plays again within a second whatever the backoff had reached.
    """

    retry_s = 2.0  # first wait before reopening after a failure; doubles up to retry_max_s
    retry_max_s = 30.0
    watch_s = 0.25  # how often the input is looked at while waiting

    def __init__(self, name: str, clock: Clock | None, fps: float) -> None:
        if fps <= 0:
            raise SourceError(f"{name}: fps must be positive, got {fps}")
        self.name = name
        self.fps = float(fps)
        self._clock = clock
        self._slot: Mailbox[Frame] = Mailbox()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error = ""  # the status' text after _describe() while failing; "" when playing
        self._retry_at: float | None = None  # None: waiting for the input to come back
        self._down_since: float | None = None
        self._ended = False
        self._last_publish: float | None = None
        self.failures = 0  # failed (re)opens since start: for status pages and tests

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
        return self._slot.latest()

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
            if self._retry_at is None:
                return f"{self._describe()} {self._error}"
            assert self._clock is not None
            wait = max(1, math.ceil(self._retry_at - self._clock.now()))
            return f"{self._describe()} {self._error} — retrying in {wait} s"
        if self._ended:
            return f"{self._describe()} ended"
        if self._thread is None:
            return f"{self._describe()} not started"
        return f"{self._describe()} {'playing' if self._last_publish is not None else 'opening…'}"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _explain(self, exc: Exception) -> tuple[str, str, bool]:
        """(the note after `_describe()`, the log line, whether the note counts down to the next
        retry) for a failure. Subclasses say more, e.g. that a file is gone: then the note waits
        for it rather than counting down, though the timer still retries."""
        return f"failed: {exc}", f"{self.name} failed: {exc}", True

    def _input_token(self) -> object:
        """What the input looks like now (e.g. a file's size and time), None when it is absent;
        a change wakes a waiting retry. The default watches nothing."""
        return None

    def _run(self) -> None:
        # Errors are reported in the status and retried, never raised: an unattended piece keeps
        # going on its own and shows what is wrong in the note.
        assert self._clock is not None
        throttle = LogThrottle(log, interval=60.0, now=self._clock.now)
        delay = self.retry_s
        while not self._stop.is_set():
            published = self._last_publish
            try:
                self._play()
                self._ended = not self._stop.is_set()
                self._slot.clear()
                return
            except Exception as exc:  # noqa: BLE001 - any decoder failure is retried
                self.failures += 1
                if self._last_publish != published:  # it played before failing: a new outage
                    delay = self.retry_s
                before = self._input_token()
                note, line, timed = self._explain(exc)
                self._slot.clear()
                now = self._clock.now()
                if self._down_since is None:
                    self._down_since = now
                self._retry_at = now + delay if timed else None
                self._error = note
                throttle(note, "%s", line)
                self._wait_for_retry(delay, before)
                delay = min(delay * 2, self.retry_max_s)

    def _wait_for_retry(self, delay: float, before: object) -> None:
        assert self._clock is not None
        wait_for_retry(self._stop, self._clock, delay, self._input_token, before, self.watch_s)

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
                # the state first, the frame last: whoever sees the frame sees "playing", not the outage
                self._last_publish = now
                if self._down_since is not None:
                    log.info("%s is back after %.1f s", self.name, now - self._down_since)
                    self._down_since = None
                self._error = ""
                self._slot.put(Frame(image=image, capture_time=now, index=index, source=self.name))
                index += 1
        finally:
            close()


def wait_for_retry(
    stop: threading.Event,
    clock: Clock,
    delay: float,
    token: Callable[[], object],
    before: object,
    every_s: float = 0.25,
) -> None:
    """Wait `delay` (a backoff), or less when `token()` (what the input looks like: a file's size
    and time, a device node) differs from `before` and then holds still for one look: a file put
    back or a camera plugged in is tried again at once, however long the backoff has grown, while a
    copy still in progress is left to finish. A token of None means absent and never wakes."""
    deadline = clock.now() + delay
    previous = before
    while not stop.is_set():
        remaining = deadline - clock.now()
        if remaining <= 0 or stop.wait(min(every_s, remaining)):
            return
        now = token()
        if now is not None and now != before and now == previous:
            return
        previous = now


def read_only(image: np.ndarray) -> np.ndarray:
    """Mark an image shared between frames as read-only, so a stage that draws on its input
    fails loudly instead of changing every later frame."""
    image.flags.writeable = False
    return image
