"""Helpers shared by the render tests."""

from __future__ import annotations

import numpy as np

from engine.messages import RenderInput

SIZE = (320, 180)  # small and 16:9, so cover fit crops a square image top and bottom


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> np.ndarray:
    img = np.empty((size[1], size[0], 3), np.uint8)
    img[:] = rgb
    return img


def draw(renderer, surface, image: np.ndarray, **kw) -> np.ndarray:
    """Render one frame and read it back, RGB uint8, top row first."""
    from engine.render.readback import read_rgb

    uniforms = kw.pop("uniforms", {})
    renderer.render(RenderInput(image=image, uniforms=uniforms, **kw), surface.framebuffer)
    return read_rgb(surface.framebuffer)
