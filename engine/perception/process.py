"""Perception in a process of its own: MediaPipe gets its own interpreter, and the piece survives it.

In one process, perception's Python work (landmarks into features, the mask, the filters) waits
for the interpreter lock while the render thread, the generator's thread or the source hold it. On
the 2-core machine a busy Python neighbour made perception 1.5× slower than a busy process did
(docs/performance.md). In a child process it never waits for the lock;
and a MediaPipe that crashes or hangs takes down only the child, which is started again while the
picture goes on.

`PerceptionProcess` is a drop-in for the in-process perceiver (`process`, `reset`, `close`): the
perception thread calls it as before and blocks on the pipe, which releases the lock. Frames go
over a local socket pair as raw bytes (a 640×480 frame in well under a millisecond), never through
a file: camera pixels stay in memory, as docs/privacy.md promises. Viewers come back pickled
(features, the small mask, the skeleton, the crowd).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import signal
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from engine.messages import Frame, Viewer

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # importing MediaPipe and loading its models, on a slow machine
REPLY_TIMEOUT_S = 5.0  # one frame, 100× its usual time: longer is a hung child
RESTART_S = (1.0, 30.0)  # wait before restarting a child that died: first, most (doubling)
PR_SET_NAME = 15  # prctl(2): the calling thread's name, as /proc and top show it


class PerceptionProcessError(RuntimeError):
    """The child failed, hung or is (re)starting; the message says which and what it said."""


class PerceptionProcess:
    """The perceiver `build_perceiver(cfg)` would make, run in a spawned child process."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg
        self._proc: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._next_start = 0.0
        self._backoff = RESTART_S[0]
        self.restarts = 0  # children started after the first: for tests and the status page
        self._start()
        self._wait_ready(START_TIMEOUT_S)  # a bad setting fails the start, as in-process it would

    # ------------------------------------------------------------------ the perceiver's interface
    def process(self, frame: Frame) -> Viewer:
        conn = self._usable()
        image = np.ascontiguousarray(frame.image)
        try:
            conn.send(("frame", image.shape, str(image.dtype), frame.capture_time, frame.index, frame.source))
            conn.send_bytes(memoryview(image).cast("B"))
            return self._reply(REPLY_TIMEOUT_S)
        except (OSError, EOFError) as e:
            self._lost(f"the pipe broke ({e})")
            raise PerceptionProcessError("perception process: the pipe broke; restarting it") from None

    def reset(self) -> None:
        conn = self._usable()
        conn.send(("reset",))
        self._reply(REPLY_TIMEOUT_S)

    def status(self) -> dict:
        """For /status and /metrics: a child that keeps dying shows there, not only in the log."""
        proc = self._proc
        alive = proc is not None and proc.is_alive()
        return {"pid": proc.pid if alive else None, "up": alive and self._ready, "restarts": self.restarts}

    def close(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, EOFError):
                conn.send(("close",))
        if proc is not None:
            proc.join(timeout=3.0)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=3.0)
        if conn is not None:
            conn.close()

    # ------------------------------------------------------------------ the child's life
    def _start(self) -> None:
        ctx = mp.get_context("spawn")  # never fork: the parent holds GL, threads and locks
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self._cfg), name="perception", daemon=True)
        self._proc.start()
        child.close()
        self._conn, self._ready = parent, False

    def _wait_ready(self, timeout: float) -> None:
        self._ready = self._reply(timeout) == "ready"

    def _usable(self) -> Connection:
        """The connection to a ready child; starts or restarts one when due, else says why not."""
        if self._proc is None or not self._proc.is_alive():
            if self._proc is not None:
                self._lost(f"it exited with code {self._proc.exitcode}")
            now = time.monotonic()
            if now < self._next_start:
                raise PerceptionProcessError(
                    f"perception process is down; restarting in {self._next_start - now:.0f} s"
                )
            self._start()
            self.restarts += 1
            log.warning("perception process restarted (%d so far)", self.restarts)
        assert self._conn is not None
        if not self._ready:
            if not self._conn.poll(0):
                raise PerceptionProcessError("perception process is starting")
            self._wait_ready(0.0)
        return self._conn

    def _reply(self, timeout: float) -> Any:
        assert self._conn is not None
        if not self._conn.poll(timeout):
            self._lost(f"no answer in {timeout:g} s")
            raise PerceptionProcessError(f"perception process did not answer in {timeout:g} s; restarting it")
        try:
            kind, value = self._conn.recv()
        except (OSError, EOFError):
            self._lost("it closed the pipe")
            raise PerceptionProcessError("perception process closed the pipe; restarting it") from None
        if kind == "error":
            raise PerceptionProcessError(f"perception process: {value}")
        self._backoff = RESTART_S[0]  # it works: a later failure starts the backoff afresh
        return value

    def _lost(self, why: str) -> None:
        """Kill what is left of the child and schedule the next start."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        self._ready = False
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(timeout=3.0)
        if conn is not None:
            conn.close()
        log.error("perception process lost: %s; the picture goes on without a viewer", why)
        self._next_start = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, RESTART_S[1])


def _serve(conn: Connection, cfg: Any) -> None:
    """The child: build the perceiver, say "ready", then answer frame by frame until told to close."""
    # Ctrl-C and systemd's stop reach the whole group: the parent closes us (or its end of the pipe
    # goes away, which ends the loop below), so the child never dies mid-frame under a live parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # its name in top, ps and the bench's CPU table
        ctypes.CDLL(None).prctl(PR_SET_NAME, b"perception", 0, 0, 0)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")  # to the parent's stderr
    try:
        from engine.perception.crowd import build_perceiver

        perceiver = build_perceiver(cfg)
    except Exception as e:  # noqa: BLE001 - the parent reports it as the start's error
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ok", "ready"))
    try:
        while True:
            msg = conn.recv()
            try:
                if msg[0] == "frame":
                    _, shape, dtype, capture_time, index, source = msg
                    image = np.frombuffer(conn.recv_bytes(), dtype=dtype).reshape(shape)
                    conn.send(("ok", perceiver.process(Frame(image, capture_time, index, source))))
                elif msg[0] == "reset":
                    perceiver.reset()
                    conn.send(("ok", None))
                else:  # "close"
                    return
            except Exception as e:  # noqa: BLE001 - one bad frame is the parent's to log, not a crash
                conn.send(("error", f"{type(e).__name__}: {e}"))
    except (EOFError, OSError, KeyboardInterrupt):  # the parent went away: so do we
        return
    finally:
        perceiver.close()
