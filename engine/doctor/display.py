"""Doctor checks of what shows the picture: a headless EGL context that builds the shader chain, and
the window's display.

Headless runs need EGL (Mesa's libegl), windowed runs a display the config names: each is a FAIL only
for the mode that needs it, since a missing one is otherwise no obstacle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.doctor.base import FAIL, OK, WARN, Check, first_line

if TYPE_CHECKING:
    from engine.config import Config


def check_egl(cfg: Config) -> list[Check]:
    from engine.render.chain import Renderer
    from engine.render.context import HeadlessSurface

    level = FAIL if cfg.run.headless else WARN  # a window does not need EGL; headless does
    try:
        surface = HeadlessSurface((64, 64))
    except Exception as e:  # noqa: BLE001 - moderngl raises plain Exceptions for EGL failures
        return [Check("egl", level, f"no headless EGL context: {first_line(e)} (Mesa: libegl1 libegl-mesa0)")]
    try:
        info = surface.ctx.info
        Renderer(surface.ctx, cfg.run.size_px(), cfg.run.render_scale).release()
    finally:
        surface.close()
    return [Check("egl", OK, f"{info['GL_RENDERER']}, OpenGL {info['GL_VERSION']}; the shader chain builds")]


def check_display(cfg: Config) -> list[Check]:
    if cfg.run.headless:
        return [Check("display", OK, "headless: no window needed")]
    import pygame

    pygame.display.init()
    try:
        driver, n = pygame.display.get_driver(), pygame.display.get_num_displays()
        sizes = pygame.display.get_desktop_sizes()
    finally:
        pygame.display.quit()
    if driver in ("offscreen", "dummy") and os.environ.get("SDL_VIDEODRIVER") != driver:
        return [Check("display", FAIL, "no display (set DISPLAY, or run.headless / --headless)")]
    if not 0 <= cfg.run.display < n:
        return [Check("display", FAIL, f"run.display = {cfg.run.display}: {n} display(s) found (0..{n - 1})")]
    w, h = sizes[cfg.run.display]
    return [Check("display", OK, f"display {cfg.run.display} of {n}: {w}x{h} ({driver})")]
