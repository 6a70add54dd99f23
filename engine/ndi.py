"""Presented frames out as an NDI source, for Resolume, TouchDesigner, OBS or vMix on the network.

Only the picture the engine shows goes out, never the camera (as with the recorder). Three things
keep the projector's loop unharmed:
- No receiver, no cost: `wants_frames` is true only while a receiver is connected, and the output
  reads pixels back for NDI only then (engine.output). An idle sender uses no CPU.
- Sending runs in its own thread behind a latest-wins Mailbox: when encoding falls behind, frames
  are dropped (counted), the loop never waits.
- A failing send (the runtime gone) stops NDI, is logged once, and the picture goes on.

Each frame carries as its NDI timecode the wall-clock instant it was presented (UTC, 100 ns units,
what the SDK would synthesize), so a receiver can measure presentation → reception latency.

The NDI runtime comes inside the `ndi-python` wheel (proprietary, licensed by Vizrt NDI AB; see the
README); it is imported only when `[run] ndi` names a source.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import cv2
import numpy as np

from engine.config_meta import ConfigError
from engine.mailbox import Mailbox

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the sender thread asks how many receivers are connected, while idle
NAME_MAX = 64


class NdiError(ConfigError):
    """NDI cannot start (no library, a bad name); the message says what to do."""


def check_ndi_name(name: str, key: str = "run.ndi") -> str:
    """Fail at start, in one line, for a name no receiver could show."""
    stripped = name.strip()
    if not stripped or len(stripped) > NAME_MAX or any(ord(c) < 32 for c in stripped):
        raise NdiError(
            f"{key} = {name!r}: an NDI source name needs 1..{NAME_MAX} printable characters "
            "(receivers list it as 'HOST (NAME)')"
        )
    return stripped


def load_ndi() -> Any:
    """The NDIlib module, initialised; a clear error when the wheel or the runtime is missing."""
    try:
        import NDIlib
    except ImportError as e:
        raise NdiError(
            f"NDI output needs the ndi-python package ({e}): pip install -r requirements.txt"
        ) from None
    if not NDIlib.initialize():
        raise NdiError("the NDI runtime would not start (it needs a CPU with SSE4.2)")
    return NDIlib


class NdiSender:
    """One NDI source: `offer(rgb)` per presented frame while `wants_frames`, `close()` at the end."""

    def __init__(self, name: str, fps: float, poll_s: float = POLL_S) -> None:
        self.name = check_ndi_name(name)
        self.fps = float(fps)
        self.poll_s = poll_s
        self._ndi = load_ndi()
        create = self._ndi.SendCreate()
        create.ndi_name = self.name
        create.clock_video = False  # the engine's loop paces frames; the SDK must not block the thread
        create.clock_audio = False
        self._send = self._ndi.send_create(create)
        if self._send is None:
            raise NdiError(f"run.ndi = {name!r}: the NDI runtime could not create this source")
        self.source_name = self._ndi.send_get_source_name(self._send).ndi_name  # "HOST (NAME)"
        self.connections = 0  # receivers connected, refreshed by the sender thread
        self.offered = 0  # frames handed to offer()
        self.sent = 0
        self.dropped = 0  # offered frames a newer one replaced before they could be sent
        self.send_ms = 0.0  # the last frame's conversion and send, for the status page
        self.failed = ""  # why NDI stopped; "" while it works
        self._frames: Mailbox[tuple[np.ndarray, float]] = Mailbox()
        self._buffer: np.ndarray | None = None  # RGBX, reused while the size stays
        self._video = self._ndi.VideoFrameV2()
        self._video.FourCC = self._ndi.FOURCC_VIDEO_TYPE_RGBX
        self._video.frame_rate_N, self._video.frame_rate_D = int(round(self.fps * 1000)), 1000
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ndi", daemon=True)
        self._thread.start()
        log.info("NDI source '%s' ready (frames go out while a receiver is connected)", self.source_name)

    @property
    def wants_frames(self) -> bool:
        """Whether the output should read pixels back for NDI: a receiver is there, and NDI works."""
        return self.connections > 0 and not self.failed and not self._stop.is_set()

    def offer(self, rgb: np.ndarray, at: float | None = None) -> None:
        """Hand over a presented RGB frame (H×W×3, top row first) shown at `at` (time.time(), UTC
        seconds; now when None); never blocks. The array must not be written to afterwards."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"NDI expects RGB frames H×W×3, got shape {rgb.shape}")
        self.offered += 1
        self._frames.put((rgb, time.time() if at is None else at))

    def _run(self) -> None:
        seq, _ = self._frames.get()
        while not self._stop.is_set():
            try:
                self.connections = self._ndi.send_get_no_connections(self._send, 0)
            except Exception as e:  # noqa: BLE001 - the runtime failed: stop NDI, keep the picture
                self._fail(e)
                return
            newest, item = self._frames.wait_newer(seq, self.poll_s)
            if newest == seq or item is None:
                continue
            self.dropped += newest - seq - 1
            seq = newest
            if self.connections > 0:
                try:
                    self._send_frame(*item)
                except Exception as e:  # noqa: BLE001
                    self._fail(e)
                    return

    def _send_frame(self, rgb: np.ndarray, at: float) -> None:
        t0 = time.perf_counter()
        h, w = rgb.shape[:2]
        if self._buffer is None or self._buffer.shape[:2] != (h, w):  # the first frame, or a new size
            self._buffer = np.empty((h, w, 4), np.uint8)
            self._video.xres, self._video.yres = w, h
            self._video.line_stride_in_bytes = w * 4
        cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA, dst=self._buffer)  # 0.1 ms at 720p; numpy's copy: 8
        self._video.data = self._buffer
        self._video.timecode = int(at * 1e7)
        self._ndi.send_send_video_v2(self._send, self._video)  # synchronous: the buffer is free after
        self.sent += 1
        self.send_ms = (time.perf_counter() - t0) * 1000.0

    def _fail(self, e: BaseException) -> None:
        self.failed = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        log.error(
            "NDI output '%s' stopped after %d frames (%s); the picture goes on",
            self.name,
            self.sent,
            self.failed,
        )

    def status(self) -> dict:
        return {
            "source": self.source_name,
            "receivers": self.connections,
            "sent": self.sent,
            "dropped": self.dropped,
            "send_ms": round(self.send_ms, 2),
            "failed": self.failed,
        }

    def close(self) -> None:
        """Stop the thread, then the source (receivers see it go). NDIlib.destroy() is not called:
        the runtime is shared by every sender and receiver in the process and ends with it."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._frames.clear()  # wakes the thread at once
        self._thread.join(timeout=5)
        if not self._thread.is_alive():  # a send still in progress would use a destroyed source
            self._ndi.send_destroy(self._send)
        log.info(
            "NDI source '%s' closed: %d frames sent, %d dropped", self.source_name, self.sent, self.dropped
        )

    def __enter__(self) -> NdiSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
