"""Read the presented picture back to the CPU, for the recorder and for tests.

For a window, read before `present()`: after the buffer swap the back
buffer's contents are undefined.
"""

from __future__ import annotations

import moderngl
import numpy as np


def read_rgb(fbo: moderngl.Framebuffer, size: tuple[int, int] | None = None) -> np.ndarray:
    """The framebuffer as RGB uint8 H×W×3, top row first (GL stores the bottom row first)."""
    w, h = size or fbo.size
    data = fbo.read(viewport=(0, 0, w, h), components=3, alignment=1)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()
