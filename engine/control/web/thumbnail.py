"""A small picture of the output for the web panel, read back only while someone looks.

Reading the framebuffer back stalls the GPU pipeline for a moment, so the render thread does it
only when a panel asked for a picture in the last few seconds, and then at most `interval_s` apart.
The frame goes into a latest-wins slot (engine.mailbox); shrinking and JPEG encoding happen on the
HTTP thread that asks, once per new frame, never on the render thread. It is the presented frame
(after grade, warp and blackout), never the camera: the staff see what the visitors see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from engine.mailbox import Mailbox

WIDTH = 320  # px: enough to see that the piece is alive, small enough for a phone on gallery Wi-Fi
QUALITY = 75
WANT_FOR_S = 4.0  # a panel that stops asking (closed tab) stops the read-back this long after


class Thumbnail:
    def __init__(
        self, interval_s: float = 0.5, width: int = WIDTH, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval_s = interval_s
        self.width = width
        self.now = now
        self._wanted_until = -1.0
        self._next_at = -1.0
        self._frames: Mailbox[np.ndarray] = Mailbox()
        self._lock = threading.Lock()
        self._jpeg: tuple[int, bytes] = (0, b"")
        self.read_backs = 0  # frames taken from the render thread (tests and the report count them)

    # ------------------------------------------------------------------ the render thread
    def due(self) -> bool:
        """Per presented frame: does a panel want a picture now? Two float compares, no lock."""
        t = self.now()
        return t < self._wanted_until and t >= self._next_at

    def tap(self, inner: Callable[[np.ndarray], None] | None) -> Callable[[np.ndarray], None]:
        """An `Output.present` frame callback that keeps this frame (and still calls `inner`)."""

        def keep(rgb: np.ndarray) -> None:
            self.put(rgb)
            if inner is not None:
                inner(rgb)

        return keep

    def put(self, rgb: np.ndarray) -> None:
        """Keep a presented frame (H×W×3 RGB uint8, a copy the caller no longer writes)."""
        self._next_at = self.now() + self.interval_s
        self.read_backs += 1
        self._frames.put(rgb)

    # ------------------------------------------------------------------ the HTTP threads
    def want(self) -> None:
        """A panel is open (its event stream ticks, or it fetched the picture)."""
        self._wanted_until = self.now() + WANT_FOR_S

    @property
    def seq(self) -> int:
        return self._frames.get()[0]

    def jpeg(self, wait_s: float = 0.0) -> tuple[int, bytes]:
        """(sequence number, JPEG bytes) of the newest frame; waits up to `wait_s` for a first one.
        (0, b"") when there is none yet (the engine has not presented a frame since it was asked)."""
        self.want()
        seq, rgb = self._frames.get()
        if rgb is None and wait_s > 0:
            seq, rgb = self._frames.wait_newer(seq, wait_s)
        if rgb is None:
            return 0, b""
        with self._lock:
            if self._jpeg[0] != seq:
                self._jpeg = (seq, encode_jpeg(rgb, self.width))
            return self._jpeg


def encode_jpeg(rgb: np.ndarray, width: int = WIDTH, quality: int = QUALITY) -> bytes:
    """RGB uint8 → a JPEG at most `width` wide, the aspect kept."""
    import cv2

    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"JPEG encoding of a {w}x{h} frame failed")
    return buf.tobytes()
