"""A capture device that lives in a child process and can be killed: the default for real cameras.

`ProcessCapture` speaks the same `Capture` protocol as `cv2.VideoCapture`, so the camera's logic
(reader thread, freshness watchdog, backoff) does not change; what changes is that every wait on
the device is a wait on a pipe, which `kill()` ends from any thread. An abandoned session then
costs nothing: no thread stays blocked in the driver, no process stays behind.

Children come from the forkserver (spawn where there is none), never from a plain fork: the engine
has threads and GL state that a fork would copy half-way. The forkserver preloads
`engine.sources.capture_child`, so a new child starts in about 10 ms; a first one, or a spawned one,
takes 150 ms or so. The shared-memory block is created and unlinked here, in the parent, so a child
killed at any moment leaves nothing behind in /dev/shm.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from engine.sources import capture_child
from engine.sources.capture import Capture
from engine.sources.capture_child import HEADER, HEADER_BYTES

_CHILD_MODULE = "engine.sources.capture_child"


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([_CHILD_MODULE])  # only used when the server starts
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessCapture:
    """`Capture` with the device in a child process; `kill()` ends a read that blocks.

    `source` is what `cv2.VideoCapture` takes (a camera index or a file); `opener`, a
    "module:callable" the child calls with `source` instead (another backend, or a test device).
    The reader thread calls every method except `kill()`, which is for the watchdog.
    """

    poll_s = 0.05  # how often a wait checks whether the child was killed or died

    def __init__(self, source: int | str, opener: str | None = None) -> None:
        ctx = _context()
        self._conn, child_end = ctx.Pipe(duplex=True)
        self._process = ctx.Process(
            target=capture_child.main,
            args=(child_end, source, opener),
            name=f"capture {source}",
            daemon=True,  # never outlives the engine, even if release() is never reached
        )
        self._lock = threading.Lock()
        self._killed = False
        self._released = False
        self._dead = False
        self._opened: bool | None = None
        self._shm: SharedMemory | None = None
        self._seq = 0
        self.last_read_s = 0.0  # the device's own read time, in the child
        self.last_call_s = 0.0  # the whole read() seen from here: read + transport + copy
        self._process.start()
        child_end.close()  # only the child holds its end now, so its death reads as EOF here
        self.pid: int = self._process.pid  # type: ignore[assignment]

    # -- the Capture protocol ----------------------------------------------------------------------

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        if self._opened is None:
            reply = self._receive()
            self._opened = reply is not None and reply[0] == "opened" and bool(reply[1])
        return self._opened and not self._dead

    def read(self) -> tuple[bool, np.ndarray | None]:
        t0 = time.perf_counter()
        if not self.isOpened():
            return False, None
        reply = self._call(("read",))
        if reply is not None and reply[0] == "grow":
            reply = self._call(("shm", self._grow(int(reply[1]))))
        if reply is None or reply[0] != "frame":
            return False, None
        assert self._shm is not None
        seq, read_ns, ndim, h, w, c, kind = HEADER.unpack_from(self._shm.buf, 0)
        if seq != reply[1]:
            return False, None  # cannot happen with one request in flight; never hand out a torn image
        shape = (h, w, c)[:ndim]
        dtype = np.dtype(kind.rstrip(b"\0").decode())
        view = np.ndarray(shape, dtype, buffer=self._shm.buf, offset=HEADER_BYTES)
        image = view.copy()  # the block is overwritten by the next read
        del view
        self.last_read_s = read_ns / 1e9
        self.last_call_s = time.perf_counter() - t0
        return True, image

    def set(self, prop_id: int, value: float) -> bool:
        if not self.isOpened():
            return False
        reply = self._call(("set", prop_id, value))
        return reply is not None and reply[0] == "set" and bool(reply[1])

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
            killed = self._killed
        if not killed and not self._dead:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("release",))  # let the device close cleanly
            self._process.join(timeout=1.0)
        with self._lock:
            if self._process.exitcode is None:
                self._process.kill()
        self._process.join(timeout=5.0)
        with contextlib.suppress(ValueError):
            self._process.close()
        self._conn.close()
        if self._shm is not None:
            self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None

    # -- for the watchdog --------------------------------------------------------------------------

    def kill(self) -> None:
        """End the child now, whatever it is doing; any wait in the reader thread returns at once
        with a failure. Safe from any thread, and after release()."""
        with self._lock:
            self._killed = True
            if not self._released:
                with contextlib.suppress(Exception):
                    self._process.kill()

    # -- the pipe ----------------------------------------------------------------------------------

    def _call(self, request: tuple) -> tuple | None:
        if self._dead or self._killed:
            return None
        try:
            self._conn.send(request)
        except (OSError, ValueError):
            self._dead = True
            return None
        return self._receive()

    def _receive(self) -> tuple | None:
        """The child's next reply, or None once it is dead or killed; never blocks for longer than
        poll_s without looking at both."""
        try:
            while not self._dead:
                if self._conn.poll(self.poll_s):
                    return self._conn.recv()  # EOFError when the child has died
                if self._killed:
                    break
        except (EOFError, OSError, ValueError):
            pass
        self._dead = True
        return None

    def _grow(self, nbytes: int) -> str:
        old, self._shm = self._shm, SharedMemory(create=True, size=nbytes)
        if old is not None:
            old.close()
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
        return self._shm.name


def process_capture(index: int) -> Capture:
    """The default capture factory for cameras: camera `index` in a child process."""
    return ProcessCapture(index)
