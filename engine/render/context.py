"""Where frames go: a pygame window on a projector, or an offscreen EGL framebuffer.

Both kinds share one small interface so the app and the renderer never care
which one they draw into. A GL context is bound to the thread that made it:
open the surface in the thread that renders.
"""

from __future__ import annotations

import os
import warnings
from typing import Protocol

import moderngl

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
GL_REQUIRE = 330  # GL 3.3 core: the lowest version the shader chain is written for


class Surface(Protocol):
    """What the app needs from a display target."""

    ctx: moderngl.Context

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def framebuffer(self) -> moderngl.Framebuffer: ...

    def present(self) -> None: ...

    def poll_keys(self) -> list[str]: ...

    def toggle_fullscreen(self) -> None: ...

    def close(self) -> None: ...


class NoDisplayError(RuntimeError):
    """A window was asked for on a machine with no screen to put it on."""


class HeadlessSurface:
    """An offscreen framebuffer on an EGL context: for offline rendering, tests and servers without X."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.ctx = moderngl.create_standalone_context(backend="egl", require=GL_REQUIRE)
        self._size = (int(size[0]), int(size[1]))
        self._rb = self.ctx.renderbuffer(self._size, components=4)
        self._fbo = self.ctx.framebuffer(color_attachments=[self._rb])

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        return self._fbo

    def present(self) -> None:
        """Nothing to show; the frame stays in the framebuffer for readback."""

    def poll_keys(self) -> list[str]:
        return []

    def toggle_fullscreen(self) -> None:
        """No screen to go fullscreen on."""

    def close(self) -> None:
        self._fbo.release()
        self._rb.release()
        self.ctx.release()
        _egl_release_thread()


def _egl_release_thread() -> None:
    """Leave this thread with no EGL context. Without it, a GLX window opened later in the same
    process fails in glXMakeCurrent with BadAccess, and Xlib's error handler exits the process."""
    try:
        import ctypes

        ctypes.CDLL("libEGL.so.1").eglReleaseThread()
    except OSError:
        pass  # no libEGL by that name: nothing was made current through it either


class WindowSurface:
    """A pygame OpenGL window, windowed or fullscreen on display index `display`.

    Fullscreen always takes the display's desktop size (a projector's native
    mode; asking SDL for another size would switch video modes, and without a
    window manager leaves the GL drawable smaller than the window). `size` is
    the windowed size. The mouse cursor is hidden in fullscreen so it never
    floats over the artwork. `vsync` tells afterwards whether the driver
    accepted a swap interval.
    """

    def __init__(
        self,
        size: tuple[int, int] | None = (1280, 720),
        fullscreen: bool = False,
        display: int = 0,
        vsync: bool = True,
        title: str = "latent mirror",
    ) -> None:
        import pygame

        self._pg = pygame
        pygame.display.init()
        driver = pygame.display.get_driver()
        if driver in ("offscreen", "dummy") and os.environ.get("SDL_VIDEODRIVER") != driver:
            pygame.display.quit()
            raise NoDisplayError(
                f"no display found (SDL fell back to its '{driver}' driver, nothing would be visible): "
                "set DISPLAY or run under X, Wayland or KMS, or use --headless"
            )
        n = pygame.display.get_num_displays()
        if not 0 <= display < n:
            raise ValueError(f"display {display} out of range: {n} display(s) found (0..{n - 1})")
        self._display = display
        self._windowed_size = size or (1280, 720)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)
        pygame.display.gl_set_attribute(pygame.GL_CONTEXT_FORWARD_COMPATIBLE_FLAG, True)
        pygame.display.gl_set_attribute(pygame.GL_DOUBLEBUFFER, 1)
        # No alpha channel: the chain keeps the mask in alpha, and a compositor could show it as holes.
        pygame.display.gl_set_attribute(pygame.GL_ALPHA_SIZE, 0)
        pygame.display.set_caption(title)
        self._fullscreen = fullscreen
        self.vsync = vsync
        self._apply_mode()
        self.ctx = moderngl.create_context(require=GL_REQUIRE)

    @property
    def size(self) -> tuple[int, int]:
        w, h = self._pg.display.get_window_size()
        return (int(w), int(h))

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        fbo = self.ctx.screen
        fbo.viewport = (0, 0, *self.size)  # the default framebuffer does not follow window size changes
        return fbo

    @property
    def fullscreen(self) -> bool:
        return self._fullscreen

    def present(self) -> None:
        """Swap buffers; waits for vblank when vsync took effect."""
        self._pg.display.flip()

    def poll_keys(self) -> list[str]:
        """Drain window events; returns pygame key names ("escape", "f", "d", …) and "quit"."""
        pg = self._pg
        keys: list[str] = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                keys.append("quit")
            elif event.type == pg.KEYDOWN:
                keys.append(pg.key.name(event.key))
        return keys

    def toggle_fullscreen(self) -> None:
        """Switch by setting the mode again: pygame keeps the window and its GL context, so
        textures and shaders survive. `pygame.display.toggle_fullscreen` is not used because
        without a window manager (a bare-X kiosk, Xvfb) it leaves the GL drawable at the old size."""
        self._fullscreen = not self._fullscreen
        self._apply_mode()

    def _apply_mode(self) -> None:
        pg = self._pg
        flags = pg.OPENGL | pg.DOUBLEBUF
        if self._fullscreen:
            flags |= pg.FULLSCREEN
            mode = pg.display.get_desktop_sizes()[self._display]
        else:
            mode = self._windowed_size
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                try:
                    pg.display.set_mode(mode, flags, display=self._display, vsync=int(self.vsync))
                except pg.error:
                    # Some drivers refuse a swap interval; a tearing frame beats no window at all.
                    pg.display.set_mode(mode, flags, display=self._display, vsync=0)
                    self.vsync = False
                if tuple(pg.display.get_window_size()) == tuple(mode):
                    break
                # Leaving fullscreen, SDL first restores the fullscreen size; the second call sizes it.
        if any("vsync" in str(w.message) for w in caught):
            self.vsync = False  # pygame only warns; the app can show this in the HUD or stats
        pg.mouse.set_visible(not self._fullscreen)

    def close(self) -> None:
        self.ctx.release()
        self._pg.display.quit()


def open_surface(
    size: tuple[int, int] | None = (1280, 720),
    headless: bool = False,
    fullscreen: bool = False,
    display: int = 0,
    vsync: bool = True,
) -> Surface:
    """Open the surface the config asks for; never falls back silently, so a dead projector is noticed."""
    if headless:
        return HeadlessSurface(size or (1280, 720))
    return WindowSurface(size, fullscreen=fullscreen, display=display, vsync=vsync)
