"""The zone's overlay, drawn with GL: the camera picture dimmed outside the polygon, the polygon,
and each person's box, green inside the zone and red outside, with the point that was tested.

The same drawing serves the window (calibration/zone_ui.py) and the docs' screenshot, rendered
headless through EGL (`render_overlay`), so the picture in the docs is the one the artist sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import moderngl
import numpy as np

from calibration.zone import Point
from engine.perception.people import Box
from engine.render.glutil import StreamTexture, load_program
from engine.render.overlay import TextBox, disc_triangles

INSIDE_RGBA = (0.2, 1.0, 0.35, 1.0)
OUTSIDE_RGBA = (1.0, 0.25, 0.2, 1.0)
EDGE_RGBA = (1.0, 0.85, 0.1, 1.0)
OUTSIDE_DIM = 0.45  # the picture outside the polygon is darkened to this: the zone stands out


def segment_quads(a: np.ndarray, b: np.ndarray, width_px: float, size: tuple[int, int]) -> np.ndarray:
    """Segments a→b (pixels, y down) as thick quads in NDC, 6 vertices each (core GL has no wide lines)."""
    a, b = np.atleast_2d(a).astype(np.float64), np.atleast_2d(b).astype(np.float64)
    d = b - a
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n *= width_px / 2 / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    q = np.stack([a - n, a + n, b + n, a - n, b + n, b - n], axis=1).reshape(-1, 2)
    w, h = size
    return np.stack([q[:, 0] / w * 2 - 1, 1 - q[:, 1] / h * 2], axis=1).astype(np.float32)


class ZoneOverlay:
    """The camera picture (dimmed outside the polygon), the polygon, and each person's box: green
    inside the zone, red outside, with the anchor that was tested. Draws into the bound framebuffer."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx, self.size = ctx, size
        self.quad = load_program(ctx, "overlay.vert", "overlay.frag")
        self.quad_vao = ctx.vertex_array(self.quad, [])
        self.solid = load_program(ctx, "bones.vert", "bones.frag")
        self.vbo = ctx.buffer(reserve=4096 * 8)
        self.vao = ctx.vertex_array(self.solid, [(self.vbo, "2f", "in_pos")])
        self.picture = StreamTexture(ctx)
        self.text = TextBox(ctx, max(14, size[1] // 30), backing_alpha=150)
        self.labels = {k: TextBox(ctx, max(14, size[1] // 26), backing_alpha=170) for k in ("in", "out")}
        self.labels["in"].set(("inside",))
        self.labels["out"].set(("outside",))
        self.line_px = max(2.0, size[1] / 240)

    def _solid(self, verts: np.ndarray, rgba: tuple[float, ...]) -> None:
        if len(verts) == 0:
            return
        if verts.nbytes > self.vbo.size:
            self.vbo.orphan(verts.nbytes)
        self.vbo.write(verts.tobytes())
        self.solid["u_color"].value = rgba
        self.vao.render(moderngl.TRIANGLES, vertices=len(verts))

    def _texture(self, tex: moderngl.Texture, x: float, y: float, w: float, h: float) -> None:
        W, H = self.size  # noqa: N806
        self.quad["u_rect"].value = (x / W * 2 - 1, 1 - (y + h) / H * 2, (x + w) / W * 2 - 1, 1 - y / H * 2)
        self.quad["u_opacity"].value = 1.0
        tex.use(0)
        self.quad_vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def draw(
        self,
        image: np.ndarray,
        points: Sequence[Point],
        people: Sequence[tuple[Box, bool, Point]] = (),
        lines: Sequence[str] = (),
    ) -> None:
        """`people`: (box, inside, anchor) in normalised coordinates."""
        W, H = self.size  # noqa: N806
        pic = cv2.resize(np.ascontiguousarray(image), (W, H), interpolation=cv2.INTER_AREA)
        if len(points) >= 3:
            inside = np.zeros((H, W), np.uint8)
            cv2.fillPoly(inside, [np.round(np.asarray(points) * (W, H)).astype(np.int32)], 1)
            pic = np.where(inside[..., None] > 0, pic, (pic * OUTSIDE_DIM).astype(np.uint8))
        rgba = np.dstack([pic, np.full((H, W), 255, np.uint8)])[::-1]  # GL: bottom row first
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        try:
            self._texture(self.picture.upload(np.ascontiguousarray(rgba)), 0, 0, W, H)
            px = np.asarray(points, np.float64).reshape(-1, 2) * (W, H)
            if len(px) >= 2:
                ends = np.roll(px, -1, axis=0) if len(px) >= 3 else px[1:]
                self._solid(segment_quads(px[: len(ends)], ends, self.line_px, self.size), EDGE_RGBA)
            for p in px:
                self._solid(_disc((p[0], H - p[1]), 2.5 * self.line_px, self.size), EDGE_RGBA)
            for box, inside, anchor in people:
                x0, y0, x1, y1 = np.multiply(box, (W, H, W, H))
                corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
                colour = INSIDE_RGBA if inside else OUTSIDE_RGBA
                quads = segment_quads(corners, np.roll(corners, -1, axis=0), self.line_px, self.size)
                self._solid(quads, colour)
                ax, ay = anchor[0] * W, anchor[1] * H
                self._solid(_disc((ax, H - ay), 3 * self.line_px, self.size), colour)
                label = self.labels["in" if inside else "out"]
                self._texture(label.texture, x0 + self.line_px, y0 + self.line_px, *label.size)
            if lines:
                self.text.set(tuple(lines))
                self._texture(self.text.texture, 8, 8, *self.text.size)
        finally:
            self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        for box in (self.text, *self.labels.values()):
            box.release()
        self.picture.release()
        for obj in (self.quad_vao, self.vao, self.vbo, self.quad, self.solid):
            obj.release()


def _disc(centre: tuple[float, float], radius: float, size: tuple[int, int]) -> np.ndarray:
    return disc_triangles(centre, radius, size)


def render_overlay(
    image: np.ndarray,
    points: Sequence[Point],
    people: Sequence[tuple[Box, bool, Point]],
    lines: Sequence[str],
    size: tuple[int, int],
) -> np.ndarray:
    """The overlay drawn headless (EGL) and read back: RGB, top row first."""
    from engine.render.context import HeadlessSurface
    from engine.render.readback import read_rgb

    surface = HeadlessSurface(size)
    try:
        overlay = ZoneOverlay(surface.ctx, size)
        surface.framebuffer.use()
        surface.framebuffer.clear(0.0, 0.0, 0.0, 1.0)
        overlay.draw(image, points, people, lines)
        out = read_rgb(surface.framebuffer)
        overlay.release()
        return out
    finally:
        surface.close()
