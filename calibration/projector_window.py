"""The projector editor's window and drawing: a test grid through the live warp, the control points on top.

The test grid is drawn through the same pass the engine uses (engine.render.warp), blend included, so
what the artist squares on the wall is what the show will look like. The control points are drawn in
output pixels over it, unwarped; the HUD reuses the engine's overlay. The window is the engine's own
(engine.render.context.WindowSurface); its event loop is read here directly because the engine's
`poll_keys` has no mouse. `snapshot` renders the same view headless (EGL) to a PNG, for the docs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import moderngl
import numpy as np

from calibration.projector import OutputWarp
from calibration.projector_ui import Editor
from engine.render.glutil import StreamTexture, load_program
from engine.render.overlay import Overlay, disc_triangles
from engine.render.warp import Warp

PATTERN_SIZE = (1280, 720)
CORNER_RGB = ((230, 40, 40), (40, 200, 60), (50, 90, 240), (240, 210, 30))  # TL TR BR BL
POINT_RGBA = (1.0, 1.0, 1.0, 0.95)
SELECTED_RGBA = (1.0, 0.55, 0.0, 1.0)
LINE_RGBA = (0.2, 0.9, 1.0, 0.8)


def grid_pattern(size: tuple[int, int] = PATTERN_SIZE) -> np.ndarray:
    """The picture the editor warps (RGB, top row first): a 16×9 grid, quarters brighter, a circle
    (round on the wall when the pin is right) and a coloured patch in each corner (which way is up)."""
    w, h = size
    img = np.full((h, w, 3), 24, np.uint8)
    for k in range(17):
        x = min(w - 1, round(k * (w - 1) / 16))
        y = min(h - 1, round(k * (h - 1) / 16))
        thick, shade = (3, 230) if k % 4 == 0 else (1, 130)
        cv2.line(img, (x, 0), (x, h - 1), (shade,) * 3, thick)
        cv2.line(img, (0, y), (w - 1, y), (shade,) * 3, thick)
    cv2.circle(img, (w // 2, h // 2), round(0.4 * h), (230, 230, 230), 2, cv2.LINE_AA)
    cv2.line(img, (0, 0), (w - 1, h - 1), (90, 90, 90), 1, cv2.LINE_AA)
    cv2.line(img, (w - 1, 0), (0, h - 1), (90, 90, 90), 1, cv2.LINE_AA)
    s = h // 12
    for (x, y), rgb in zip(((0, 0), (w - s, 0), (w - s, h - s), (0, h - s)), CORNER_RGB):
        img[y : y + s, x : x + s] = rgb
    return img


def segment_quads(a: np.ndarray, b: np.ndarray, width: float, size: tuple[int, int]) -> np.ndarray:
    """Line segments (pixels, top-left origin) as thick quads in NDC, 6 vertices each."""
    d = b - a
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n *= (width / 2) / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-6)
    quads = np.stack([a - n, a + n, b + n, a - n, b + n, b - n], axis=1).reshape(-1, 2)
    ndc = quads / np.array(size, np.float64) * 2.0 - 1.0
    ndc[:, 1] *= -1.0
    return ndc.astype(np.float32)


class EditorView:
    """Draws an Editor's state into a framebuffer: warped test grid, control lines and points, HUD."""

    def __init__(self, ctx: moderngl.Context, entry: OutputWarp) -> None:
        self.ctx = ctx
        self.pattern = StreamTexture(ctx)
        self.pattern.upload(np.ascontiguousarray(grid_pattern()[::-1]))  # GL: bottom row first
        self.warp = Warp(ctx, entry)
        self.shapes = load_program(ctx, "bones.vert", "bones.frag")
        self.vbo = ctx.buffer(reserve=4)
        self.vao = ctx.vertex_array(self.shapes, [(self.vbo, "2f", "in_pos")])
        self.overlay: Overlay | None = None
        self._shown: OutputWarp | None = entry

    def draw(self, editor: Editor, target: moderngl.Framebuffer) -> None:
        size = editor.size
        if editor.shown is not self._shown:
            self.warp.set(editor.shown)  # a new vertex buffer only when the calibration changed
            self._shown = editor.shown
        assert self.pattern.texture is not None
        self.warp.draw(self.pattern.texture, target)
        target.viewport = (0, 0, *size)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        try:
            self._points(editor, size)
        finally:
            self.ctx.disable(moderngl.BLEND)
        if self.overlay is None or self.overlay.size != size:
            if self.overlay is not None:
                self.overlay.release()
            self.overlay = Overlay(self.ctx, size)
        self.overlay.draw(editor.lines(), None, "", (1.0, 1.0), False)

    def _points(self, editor: Editor, size: tuple[int, int]) -> None:
        pts = editor.points_px()
        if editor.mode == "corners":
            a, b = pts, np.roll(pts, -1, axis=0)
        else:
            g = pts.reshape(*editor.grid.shape[:2], 2)
            a = np.concatenate([g[:, :-1].reshape(-1, 2), g[:-1, :].reshape(-1, 2)])
            b = np.concatenate([g[:, 1:].reshape(-1, 2), g[1:, :].reshape(-1, 2)])
        lw = max(1.0, size[1] / 540)
        r = max(4.0, size[1] / 120)
        self._fill(segment_quads(a, b, lw, size), LINE_RGBA)
        h = size[1]
        for k, (x, y) in enumerate(pts):
            sel = k == editor.selected
            self._fill(disc_triangles((x, h - y), (1.6 if sel else 1.0) * r + lw, size), (0, 0, 0, 0.7))
            self._fill(
                disc_triangles((x, h - y), (1.6 if sel else 1.0) * r, size),
                SELECTED_RGBA if sel else POINT_RGBA,
            )

    def _fill(self, ndc: np.ndarray, rgba: tuple[float, ...]) -> None:
        if len(ndc) == 0:
            return
        data = np.ascontiguousarray(ndc, np.float32).tobytes()
        if len(data) > self.vbo.size:
            self.vbo.orphan(len(data))
        self.vbo.write(data)
        self.shapes["u_color"].value = rgba
        self.vao.render(moderngl.TRIANGLES, vertices=len(ndc))

    def release(self) -> None:
        if self.overlay is not None:
            self.overlay.release()
        self.warp.release()
        self.pattern.release()
        for obj in (self.vao, self.vbo, self.shapes):
            obj.release()


def snapshot(entry: OutputWarp, size: tuple[int, int], path: Path, mode: str = "mesh") -> Path:
    """The editor's view of `entry` rendered headless and written as a PNG (nothing is saved)."""
    from engine.render.context import HeadlessSurface
    from engine.render.readback import read_rgb

    surface = HeadlessSurface(size)
    try:
        editor = Editor(entry, size, save=lambda e: "")
        if mode == "mesh":
            editor.key("m")
            cols, rows = entry.size
            editor.selected = (rows // 2) * cols + cols // 2  # a point in the middle, highlighted
        view = EditorView(surface.ctx, entry)
        view.draw(editor, surface.framebuffer)
        rgb = read_rgb(surface.framebuffer)
        view.release()
    finally:
        surface.close()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the PNG")
    return path


def feed(editor: Editor, event, pg) -> None:
    """One pygame event into the editor (closing the window is Esc: nothing saved)."""
    if event.type == pg.QUIT:
        editor.key("escape")
    elif event.type == pg.KEYDOWN:
        editor.key(pg.key.name(event.key), bool(event.mod & pg.KMOD_SHIFT))
    elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
        editor.mouse_down(*event.pos)
    elif event.type == pg.MOUSEMOTION:
        editor.mouse_move(*event.pos)
    elif event.type == pg.MOUSEBUTTONUP and event.button == 1:
        editor.mouse_up(*event.pos)


def edit(
    entry: OutputWarp,
    save: Callable[[OutputWarp], Path],
    size: tuple[int, int],
    display: int,
    fullscreen: bool,
) -> int:
    """The editor in the engine's window on `display` until Esc; returns the exit code."""
    import pygame

    from engine.render.context import WindowSurface

    surface = WindowSurface(size, fullscreen=fullscreen, display=display, title="projector calibration")
    pygame.mouse.set_visible(True)  # the engine hides it in fullscreen; the editor needs it
    editor = Editor(entry, surface.size, save)
    view = EditorView(surface.ctx, entry)
    clock = pygame.time.Clock()
    try:
        while editor.result is None:
            for event in pygame.event.get():
                feed(editor, event, pygame)
            editor.size = surface.size
            view.draw(editor, surface.framebuffer)
            surface.present()
            clock.tick(60)  # without vsync the loop would spin a core
    finally:
        view.release()
        surface.close()
    print(f"projector: {editor.saves} save(s); left with Esc")
    return 0
