"""A camera that keeps working for months: capture in a thread, a freshness watchdog, reconnects.

After a USB camera is unplugged, OpenCV's `read()` can block for ever or keep returning the last
frame, and a blocked C call cannot be interrupted from Python. So the watchdog never waits on it:
each open attempt gets its own reader thread and its own capture object (a `Session`,
engine/sources/camera_session.py), and a reader that goes quiet is abandoned while a fresh one
opens the camera again, with exponential backoff. By default the device lives in a child process
(`ProcessCapture`): abandoning a session kills that process, which ends the blocked read, so
nothing is left behind. An in-process capture (`opencv_capture`, or a test's fake) cannot be
killed: its reader is left to release the capture if `read()` ever returns (releasing it from
another thread while `read()` runs can crash the driver), and is counted in `stuck_readers`.
Time is read from the injected clock; waits use `Event.wait` so that `close()` interrupts them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator

import numpy as np

from engine.clock import Clock
from engine.control.osc.safety import LogThrottle
from engine.mailbox import Mailbox
from engine.messages import Frame
from engine.sources.base import Source, read_only, wait_for_retry
from engine.sources.camera_session import Session
from engine.sources.capture import CaptureFactory, video_node
from engine.sources.capture_process import process_capture

log = logging.getLogger(__name__)


class CameraSource(Source):
    """A live camera that never stalls its caller and reconnects on its own.

    `stale_after_s`: no image at all for this long (read() blocked or slow) → reopen.
    `repeat_after_s`: the very same image for this long (a frozen driver) → reopen; None disables it,
    e.g. for a camera that legitimately sends identical black frames in a dark room.
    `open_timeout_s`: opening plus the first image may take this long (auto exposure is slow).
    `backoff_s`: first and longest wait between attempts; the wait doubles after each failure and
    starts again from the first once a session has run `healthy_after_s` without trouble.
    `max_stuck`: threads blocked for good inside the driver cannot be freed; past this many, no new
    ones are started (the status asks for a restart) so a broken driver cannot eat the process.
    Only in-process captures get stuck: the default, `process_capture`, is killed instead.
    `capture_factory`: index → `Capture`; `opencv_capture` keeps the device in this process.
    `device_token`: what the device looks like now (default: its /dev/videoN node); a change cuts
    the backoff short.
    """

    def __init__(
        self,
        index: int,
        clock: Clock,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        stale_after_s: float = 2.0,
        *,
        repeat_after_s: float | None = 5.0,
        open_timeout_s: float = 10.0,
        backoff_s: tuple[float, float] = (1.0, 30.0),
        healthy_after_s: float = 10.0,
        max_stuck: int = 3,
        poll_s: float = 0.1,
        capture_factory: CaptureFactory | None = None,
        device_token: Callable[[], object] | None = None,
    ) -> None:
        if not 0 < backoff_s[0] <= backoff_s[1]:
            raise ValueError(f"backoff_s must be (first, longest) with 0 < first <= longest, got {backoff_s}")
        self.index = index
        self.name = f"camera:{index}"
        self.fps = float(fps)
        self.width, self.height = width, height
        self.stale_after_s = stale_after_s
        self.repeat_after_s = repeat_after_s
        self.open_timeout_s = open_timeout_s
        self.backoff_s = backoff_s
        self.healthy_after_s = healthy_after_s
        self.max_stuck = max_stuck
        self.poll_s = poll_s
        self._clock = clock
        self._factory = capture_factory or process_capture
        self._device_token = device_token or video_node(index)
        self._log = LogThrottle(log, interval=60.0, now=clock.now)
        self._slot: Mailbox[Frame] = Mailbox()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._session: Session | None = None
        self._stuck: list[Session] = []
        self._state = "new"  # new | opening | waiting | stuck | closed
        self._problem = ""
        self._retry_at = 0.0
        self._attempts = 0
        self._frame_index = -1

    # -- the caller's side: every method returns at once ------------------------------------------

    def start(self) -> None:
        if self._supervisor is not None or self._closing.is_set():
            return
        self._supervisor = threading.Thread(target=self._supervise, name=f"{self.name} watchdog", daemon=True)
        self._supervisor.start()

    def latest(self) -> Frame | None:
        return self._slot.latest()

    @property
    def live(self) -> bool:
        with self._lock:
            s = self._session
        if s is None or s.last_fresh is None:
            return False
        return self._clock.now() - s.last_fresh <= self.stale_after_s

    @property
    def attempts(self) -> int:
        """How many times the camera was opened; for stats and tests."""
        return self._attempts

    @property
    def stuck_readers(self) -> int:
        """Abandoned reader threads still blocked in the driver."""
        return sum(1 for s in self._stuck if s.thread is not None and s.thread.is_alive())

    def status(self) -> str:
        with self._lock:
            state, s, problem, retry_at = self._state, self._session, self._problem, self._retry_at
        cam = f"camera {self.index}"
        now = self._clock.now()
        if state in ("new", "closed"):
            return f"{cam} {'not started' if state == 'new' else 'closed'}"
        if state == "stuck":
            return f"{cam} stuck in the driver ({self.stuck_readers} reads never returned) — restart the app"
        if state == "waiting" or s is None:
            return f"{cam} {problem} — retrying in {max(1, math.ceil(retry_at - now))} s"
        if s.last_fresh is None:
            return f"{cam} {problem} — retrying now" if problem else f"{cam} opening…"
        quiet = now - s.last_fresh
        if quiet <= min(1.0, self.stale_after_s / 2):
            return f"{cam} live"
        return f"{cam} no new image for {quiet:.1f} s"

    def close(self) -> None:
        with self._lock:
            self._state = "closed"
            s, self._session = self._session, None
            self._slot.clear()
        self._closing.set()
        if s is not None:
            s.abandoned.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=1.0)
        # Give a reader that is not blocked the chance to release the device before we return,
        # so that the same camera can be opened again straight away; one that is blocked in a
        # child process is killed.
        if s is not None and s.thread is not None:
            s.thread.join(timeout=min(0.5, self.stale_after_s))
            if s.thread.is_alive() and s.kill():
                s.thread.join(timeout=2.0)

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        raise NotImplementedError(f"{self.name} is live only; offline runs need a video file or the demo")

    # -- the watchdog ------------------------------------------------------------------------------

    def _supervise(self) -> None:
        backoff = self.backoff_s[0]
        down_since: float | None = None
        while not self._closing.is_set():
            self._stuck = [s for s in self._stuck if s.thread is not None and s.thread.is_alive()]
            if len(self._stuck) >= self.max_stuck:
                with self._lock:
                    self._state = "closed" if self._closing.is_set() else "stuck"
                self._closing.wait(max(self.poll_s, 0.5))
                continue
            session = self._open_session()
            problem = self._watch(session, down_since)
            if problem is None:
                return  # closing
            before = self._device_token()
            self._abandon(session)
            first, last = session.first_fresh, session.last_fresh
            if first is not None and last is not None and last - first >= self.healthy_after_s:
                backoff = self.backoff_s[0]
            if first is not None or down_since is None:  # a new outage, from its last new image
                down_since = last if last is not None else self._clock.now()
            delay, backoff = backoff, min(backoff * 2, self.backoff_s[1])
            # Once per kind of problem, then once a minute with a count: months of "not found"
            # must not fill the log.
            self._log(problem.split(" (")[0], "%s %s; retrying with backoff", self.name, problem)
            with self._lock:
                if self._closing.is_set():
                    return
                self._state, self._problem = "waiting", problem
                self._retry_at = self._clock.now() + delay
            wait_for_retry(self._closing, self._clock, delay, self._device_token, before)

    def _open_session(self) -> Session:
        with self._lock:
            self._attempts += 1
            s = Session(f"{self.name} reader {self._attempts}", self._clock.now())
            self._session, self._state = s, "opening"
        mode = (self.width, self.height, self.fps)
        s.thread = threading.Thread(
            target=s.read,
            args=(lambda: self._factory(self.index), mode, self._clock, self._publish),
            name=s.label,
            daemon=True,
        )
        s.thread.start()
        return s

    def _watch(self, s: Session, down_since: float | None) -> str | None:
        """Wait until the session fails, and say how; None when the source is closing."""
        while not self._closing.wait(self.poll_s):
            if s.failure is not None:
                return s.failure
            now = self._clock.now()
            if down_since is not None and s.first_fresh is not None:
                log.info("%s is back after %.1f s without a new image", self.name, s.first_fresh - down_since)
                down_since = None
            if s.first_fresh is None or s.last_read is None or s.last_fresh is None:
                if now - s.started > self.open_timeout_s:
                    return f"not responding (no image after {self.open_timeout_s:g} s)"
                continue
            if now - s.last_read > self.stale_after_s:
                return f"stalled (no image for {self.stale_after_s:g} s)"
            if self.repeat_after_s is not None and now - s.last_fresh > self.repeat_after_s:
                return f"frozen (same image for {self.repeat_after_s:g} s)"
        return None

    def _abandon(self, s: Session) -> None:
        s.abandoned.set()
        with self._lock:
            if self._session is s:
                self._session = None
            # No image beats an old one: downstream sees an empty room, not a visitor frozen in place.
            self._slot.clear()
        if s.kill() and s.thread is not None:
            s.thread.join(timeout=2.0)  # the killed child's pipe closes: the reader returns at once
        if s.thread is not None and s.thread.is_alive():
            self._stuck.append(s)  # pruned once its read() returns

    def _publish(self, s: Session, rgb: np.ndarray, now: float) -> None:
        with self._lock:
            if self._session is not s or s.abandoned.is_set():
                return  # a reader that woke up after being abandoned must not publish
            self._frame_index += 1
            frame = Frame(image=read_only(rgb), capture_time=now, index=self._frame_index, source=self.name)
            self._slot.put(frame)
