"""The window smoke check, run by test_window.py in a child process with DISPLAY set.

A child process, because Xlib answers some X errors by calling exit() itself:
a GL failure here must fail one test, not end the whole pytest run.
"""

from __future__ import annotations

import numpy as np

from engine.messages import RenderInput
from engine.render.chain import Renderer
from engine.render.context import WindowSurface
from engine.render.readback import read_rgb
from tests.render.util import solid


def near(pixel: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel.astype(int) - np.array(rgb)).max() <= 3)


def main() -> None:
    import pygame

    surface = WindowSurface((640, 360), fullscreen=False, display=0, vsync=True)  # Xvfb: no vsync
    renderer = Renderer(surface.ctx, surface.size)
    try:
        assert surface.size == (640, 360), surface.size
        assert surface.ctx.version_code >= 330, surface.ctx.version_code
        img = solid((255, 0, 0))
        img[:, 32:] = (0, 0, 255)
        for i in range(10):
            renderer.render(
                RenderInput(image=img, uniforms={}, hud_lines=(f"frame {i}",)), surface.framebuffer
            )
            out = read_rgb(surface.framebuffer, surface.size)  # before present: the back buffer
            surface.present()
            assert surface.poll_keys() == []
        assert out.shape == (360, 640, 3)
        assert near(out[180, 80], (255, 0, 0)) and near(out[180, 560], (0, 0, 255)), (
            out[180, 80],
            out[180, 560],
        )
        assert np.ptp(out[5:30, 5:60].astype(int)) > 100, "HUD text in the top-left"

        for key in (pygame.K_ESCAPE, pygame.K_f, pygame.K_d):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        keys = surface.poll_keys()
        assert keys == ["escape", "f", "d", "quit"], keys

        surface.toggle_fullscreen()  # in place: the GL context and the renderer survive
        assert surface.fullscreen and surface.size == (1280, 720), surface.size  # the renderer follows
        for _ in range(2):
            renderer.render(RenderInput(image=img, uniforms={"mirror": 1}), surface.framebuffer)
            out = read_rgb(surface.framebuffer, surface.size)
            surface.present()
        for y, x, rgb in ((5, 5, (0, 0, 255)), (714, 5, (0, 0, 255)), (5, 1274, (255, 0, 0))):
            assert near(out[y, x], rgb), (y, x, out[y, x])
        surface.toggle_fullscreen()
        assert not surface.fullscreen and surface.size == (640, 360), surface.size
    finally:
        renderer.release()
        surface.close()
    print("window check ok")


if __name__ == "__main__":
    main()
