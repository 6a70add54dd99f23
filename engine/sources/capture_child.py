"""The capture device's own process: it opens the camera, reads on request and puts each image in
shared memory, so that a read that blocks inside the driver can be ended by killing this process.

Why a process: after a USB camera is unplugged, OpenCV's `read()` can block in the kernel for ever,
and a thread blocked in C cannot be stopped; killing a process always frees what it held. The
protocol is strictly request → reply over one pipe (never more than one message in flight, so
nothing can pile up), and pixels go through one shared-memory block that the parent owns:

    parent → child: ("read",) | ("set", prop, value) | ("shm", name) | ("release",)
    child → parent: ("opened", bool) once, then ("frame", seq) | ("fail", why) | ("grow", nbytes)
                    | ("set", bool)

The block starts with HEADER_BYTES of header (HEADER below) and then the image's bytes. This module
is small and imports only cv2 and numpy, because the forkserver preloads it: every new child then
starts by forking a process that has them loaded already (about 10 ms instead of 150).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import signal
import struct
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import cv2
import numpy as np

# seq, child's read time in ns, ndim, height, width, channels, dtype character (1 byte, padded)
HEADER = struct.Struct("<QQIIII8s")
HEADER_BYTES = 64  # the header padded, so the pixels start cache-line aligned
assert HEADER.size <= HEADER_BYTES


def open_device(source: int | str, opener: str | None) -> Any:
    """`cv2.VideoCapture(source)`, or `module:callable` called with `source` (other backends, tests)."""
    if opener is None:
        return cv2.VideoCapture(source)
    module, _, name = opener.partition(":")
    return getattr(importlib.import_module(module), name)(source)


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so that a crashed engine never leaves a
    process holding the camera. Under the forkserver the parent is the server, which itself exits
    when the engine does."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def write_frame(shm: SharedMemory, seq: int, image: np.ndarray, read_ns: int) -> None:
    shape = image.shape + (1,) * (3 - image.ndim)
    HEADER.pack_into(shm.buf, 0, seq, read_ns, image.ndim, *shape, image.dtype.char.encode())
    target = np.ndarray(image.shape, image.dtype, buffer=shm.buf, offset=HEADER_BYTES)
    target[...] = image
    del target  # no view may outlive this call, or the block could not be closed


def main(conn: Connection, source: int | str, opener: str | None) -> None:
    """The child's whole life: open, answer requests until told to release or the parent is gone."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    cap: Any = None
    shm: SharedMemory | None = None
    try:
        try:
            cap = open_device(source, opener)
            opened = bool(cap is not None and cap.isOpened())
        except Exception:  # noqa: BLE001 - an open that raises is a camera that is not there
            opened = False
        conn.send(("opened", opened))
        seq = 0
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            op = request[0]
            if op == "release":
                return
            if op == "set":
                try:
                    done = bool(cap.set(int(request[1]), float(request[2])))
                except Exception:  # noqa: BLE001 - a setting a backend refuses is only a request
                    done = False
                conn.send(("set", done))
                continue
            if op != "read":
                conn.send(("fail", f"unknown request {op!r}"))
                continue
            t0 = time.perf_counter_ns()
            try:
                ok, image = cap.read()
            except Exception as exc:  # noqa: BLE001 - a driver error is a failed read
                conn.send(("fail", repr(exc)))
                continue
            read_ns = time.perf_counter_ns() - t0
            if not ok or image is None or image.size == 0:
                conn.send(("fail", "read failed"))
                continue
            image = np.ascontiguousarray(image)
            if shm is None or shm.size < HEADER_BYTES + image.nbytes:
                conn.send(("grow", HEADER_BYTES + image.nbytes))
                reply = conn.recv()
                if shm is not None:
                    shm.close()
                shm = SharedMemory(name=reply[1])
            seq += 1
            write_frame(shm, seq, image, read_ns)
            conn.send(("frame", seq))
    finally:
        if cap is not None:
            with contextlib.suppress(Exception):
                cap.release()
        if shm is not None:
            with contextlib.suppress(Exception):
                shm.close()
        conn.close()
