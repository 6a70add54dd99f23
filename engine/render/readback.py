"""Read the presented picture back to the CPU, for the recorder, NDI, the panel and tests.

For a window, read before `present()`: after the buffer swap the back
buffer's contents are undefined.

Two forms, because the render thread pays for them on every frame: `read_rgb` gives the picture
top row first as RGB (4.6 ms at 1280×720 on llvmpipe, 3.6 of them flipping and dropping alpha in
numpy), `read_gl_rgba` gives GL's own bytes, RGBA with the bottom row first (0.1 ms), for a
consumer that flips and converts elsewhere: the recorder has ffmpeg do it, in its own process.
"""

from __future__ import annotations

import moderngl
import numpy as np


def read_rgb(fbo: moderngl.Framebuffer, size: tuple[int, int] | None = None) -> np.ndarray:
    """The framebuffer as RGB uint8 H×W×3, top row first (GL stores the bottom row first)."""
    w, h = size or fbo.size
    data = fbo.read(viewport=(0, 0, w, h), components=3, alignment=1)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()


def read_gl_rgba(fbo: moderngl.Framebuffer, size: tuple[int, int] | None = None) -> bytes:
    """The framebuffer as GL stores it: RGBA uint8, W×H×4 bytes, the bottom row first."""
    w, h = size or fbo.size
    return fbo.read(viewport=(0, 0, w, h), components=4, alignment=1)
